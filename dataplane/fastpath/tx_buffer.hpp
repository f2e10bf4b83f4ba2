// Per (worker, port) transmit buffers on DPDK's rte_eth_dev_tx_buffer: packets
// queue up per egress port and leave in bursts when a buffer fills or when the
// worker flushes at the end of each loop iteration. Owned by one worker, which
// is the only user of its tx queue on every port (queue id = worker index), so
// no locks. Packets the tx ring refuses are dropped as tx_full and taken back
// out of the tx counters.
#pragma once

#include <cstdint>

#include <rte_ethdev.h>

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

    Status init(std::uint16_t queue, std::uint16_t burst, sync::WorkerCounters* counters, int socket);

    // `port` must be an ethdev port id (< sync::kMaxPorts): never a VTEP
    // pseudo port or kNoPort. Callers guarantee it (the bridge stage keeps
    // overlay frames out of the overlay, replies go out of ethdev ports only).
    void send(std::uint16_t port, rte_mbuf* m) {
        DPDOCK_DCHECK(owns(port));
        sync::PortCounters& pc = counters_->ports[port];
        sync::bump(pc.tx_packets);
        sync::bump(pc.tx_bytes, rte_pktmbuf_pkt_len(m));
        sync::bump(counters_->tx_packets);
        pending_ |= std::uint64_t{1} << port;
        rte_eth_tx_buffer(port, queue_, buffers_[port], m);
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

    std::uint16_t queue_ = 0;
    std::uint64_t pending_ = 0;  // bit per port with queued packets
    sync::WorkerCounters* counters_ = nullptr;
    rte_eth_dev_tx_buffer* buffers_[sync::kMaxPorts] = {};
    ErrorContext error_contexts_[sync::kMaxPorts] = {};
    static_assert(sync::kMaxPorts <= 64, "pending_ is a 64-bit mask");
};

}  // namespace dpdock::dataplane
