// Per (worker, port) transmit buffers: packets queue up per egress port and
// leave in one rte_eth_tx_burst when a buffer fills or when the worker flushes
// at the end of each loop iteration. Owned by one worker, which is the only
// user of its tx queue on every port (queue id = worker index), so no locks.
// Queueing a packet is a store and a compare; counting is done per burst sent
// (packets, and bytes summed over the burst), never per packet queued; packets
// the tx ring refuses are dropped as tx_full and never counted as sent. A packet with transmit offload metadata goes as it
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

    // send() for pkts[0..n) in order, all to `port`: queued as a block when
    // none carries offload metadata.
    void send_burst(std::uint16_t port, rte_mbuf* const* pkts, std::uint16_t n);

    // Sends everything queued. Called once per loop iteration, before the
    // worker reports a quiescent state, so nothing is ever left buffered for a
    // port that the control thread is about to remove.
    void flush_all();

    // True for the port ids send() accepts.
    bool owns(std::uint16_t port) const { return port < sync::kMaxPorts && buffers_[port] != nullptr; }

private:
    void queue(std::uint16_t port, rte_mbuf* m) {
        DPDOCK_DCHECK(owns(port));
        std::uint16_t& length = lengths_[port];
        buffers_[port][length++] = m;
        pending_ |= std::uint64_t{1} << port;
        if (length == burst_) [[unlikely]] flush(port);
    }
    // Sends what `port`'s buffer holds, counts it, and drops what the tx ring refused.
    void flush(std::uint16_t port);
    // Passes the offloads on (the port's tx_prepare adjusts the checksum
    // fields as its hardware wants them) or resolves them in software.
    void send_offloaded(std::uint16_t port, rte_mbuf* m);
    void drop_unsendable(rte_mbuf* m);

    std::uint16_t queue_ = 0;
    std::uint16_t burst_ = 0;  // a buffer's capacity
    std::uint64_t offload_ports_ = 0;
    OffloadPools pools_;
    std::uint64_t pending_ = 0;  // bit per port that queued packets since the last flush_all
    sync::WorkerCounters* counters_ = nullptr;
    std::uint16_t lengths_[sync::kMaxPorts] = {};
    rte_mbuf** buffers_[sync::kMaxPorts] = {};  // `burst_` slots each
    static_assert(sync::kMaxPorts <= 64, "pending_ is a 64-bit mask");
};

}  // namespace dpdock::dataplane
