// Per (worker, port) transmit buffers on DPDK's rte_eth_dev_tx_buffer: packets
// queue up per egress port and leave in bursts when a buffer fills or when the
// worker flushes at the end of each loop iteration. Owned by one worker, which
// is the only user of its tx queue on every port (queue id = worker index), so
// no locks. Packets are counted per port in the buffers themselves and added
// to the worker's tx counters once per flush (not per packet); packets the tx
// ring refuses are dropped as tx_full and never counted as sent. A packet with transmit offload metadata goes as it
// is only to a port that takes the offloads; for any other port it is made
// whole first (egress_offload.hpp).
#pragma once

#include <cstdint>

#include <rte_ethdev.h>

#include "dataplane/fastpath/egress_offload.hpp"
#include "base/sync/counters.hpp"
#include "base/util/check.hpp"
#include "base/util/status.hpp"

namespace dpdock::dataplane {

class TxBuffers {
public:
    TxBuffers() = default;
    ~TxBuffers();
    TxBuffers(const TxBuffers&) = delete;
    TxBuffers& operator=(const TxBuffers&) = delete;

    // `pools` supply the segments of super-frames (egress_offload.hpp).
    Status init(std::uint16_t queue, std::uint16_t burst, sync::WorkerCounters* counters, int socket,
                OffloadPools pools);

    // The ports that take offload metadata as it is (bit per port id), from
    // the worker's current snapshot (ForwardingSnapshot::offload_ports).
    void set_offload_ports(std::uint64_t ports) { offload_ports_ = ports; }
    bool takes_offloads(std::uint16_t port) const { return port < 64 && ((offload_ports_ >> port) & 1) != 0; }

    // `port` must be an ethdev port id (< sync::kMaxPorts): never a VTEP
    // pseudo port or kNoPort. Callers guarantee it (the bridge stage keeps
    // overlay frames out of the overlay, replies go out of ethdev ports only).
    void send(std::uint16_t port, rte_mbuf* m) {
        if (has_tx_offload(m)) [[unlikely]] {
            send_offloaded(port, m);
            return;
        }
        queue(port, m);
    }

    // Sends everything queued. Called once per loop iteration, before the
    // worker reports a quiescent state, so nothing is ever left buffered for a
    // port that the control thread is about to remove.
    void flush_all();

    // True for the port ids send() accepts.
    bool owns(std::uint16_t port) const { return port < sync::kMaxPorts && buffers_[port] != nullptr; }

private:
    struct ErrorContext {
        TxBuffers* self;
        std::uint16_t port;
    };
    static void on_unsent(rte_mbuf** pkts, std::uint16_t count, void* userdata);

    void queue(std::uint16_t port, rte_mbuf* m) {
        DPDOCK_DCHECK(owns(port));
        Unpublished& u = unpublished_[port];
        ++u.packets;
        u.bytes += rte_pktmbuf_pkt_len(m);
        pending_ |= std::uint64_t{1} << port;
        rte_eth_tx_buffer(port, queue_, buffers_[port], m);
    }
    // Passes the offloads on (the port's tx_prepare adjusts the checksum
    // fields as its hardware wants them) or resolves them in software.
    void send_offloaded(std::uint16_t port, rte_mbuf* m);
    void drop_unsendable(rte_mbuf* m);

    std::uint16_t queue_ = 0;
    std::uint64_t offload_ports_ = 0;
    OffloadPools pools_;
    std::uint64_t pending_ = 0;  // bit per port with queued packets
    // Queued since the last flush_all, less what the tx ring refused: added
    // to the worker's counters by flush_all.
    struct Unpublished {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
    };
    Unpublished unpublished_[sync::kMaxPorts] = {};
    sync::WorkerCounters* counters_ = nullptr;
    rte_eth_dev_tx_buffer* buffers_[sync::kMaxPorts] = {};
    ErrorContext error_contexts_[sync::kMaxPorts] = {};
    static_assert(sync::kMaxPorts <= 64, "pending_ is a 64-bit mask");
};

}  // namespace dpdock::dataplane
