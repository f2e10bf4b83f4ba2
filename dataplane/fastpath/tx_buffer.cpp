#include "dataplane/fastpath/tx_buffer.hpp"

#include <algorithm>

#include <rte_malloc.h>

#include "base/packet/drop_reason.hpp"

namespace dpdock::dataplane {

Status TxBuffers::init(std::uint16_t queue, std::uint16_t burst, sync::WorkerCounters* counters, int socket,
                       OffloadPools pools) {
    queue_ = queue;
    burst_ = burst;
    pools_ = pools;
    counters_ = counters;
    for (std::uint16_t port = 0; port < sync::kMaxPorts; ++port) {
        auto* buffer = static_cast<rte_mbuf**>(rte_zmalloc_socket("dpdock_tx_buffer", burst * sizeof(rte_mbuf*), 0, socket));
        if (buffer == nullptr) return Status::error("cannot allocate tx buffers");
        buffers_[port] = buffer;
    }
    return {};
}

TxBuffers::~TxBuffers() {
    for (auto* buffer : buffers_) rte_free(buffer);
}

void TxBuffers::flush(std::uint16_t port) {
    rte_mbuf** pkts = buffers_[port];
    const std::uint16_t n = lengths_[port];
    lengths_[port] = 0;
    // Summed before the burst: the PMD may free what it sent.
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
    const std::uint16_t sent = rte_eth_tx_burst(port, queue_, pkts, n);
    if (sent != n) [[unlikely]] {
        constexpr auto kTxFull = static_cast<std::size_t>(DropReason::TxFull);
        for (std::uint16_t i = sent; i < n; ++i) {
            bytes -= rte_pktmbuf_pkt_len(pkts[i]);
            if (pkts[i]->port < sync::kMaxPorts) sync::bump(counters_->ports[pkts[i]->port].drops[kTxFull]);
            rte_pktmbuf_free(pkts[i]);
        }
        sync::bump(counters_->drops[kTxFull], n - sent);
    }
    sync::PortCounters& pc = counters_->ports[port];
    sync::bump(pc.tx_packets, sent);
    sync::bump(pc.tx_bytes, bytes);
    sync::bump(counters_->tx_packets, sent);
}

void TxBuffers::send_burst(std::uint16_t port, rte_mbuf* const* pkts, std::uint16_t n) {
    DPDOCK_DCHECK(owns(port));
    while (n != 0) {
        std::uint16_t& length = lengths_[port];
        rte_mbuf** slots = buffers_[port] + length;
        const auto take = static_cast<std::uint16_t>(std::min<unsigned>(n, burst_ - length));
        // Copied and checked in one pass; queued only if none needs its offloads resolved.
        std::uint64_t flags = 0;
        for (std::uint16_t i = 0; i < take; ++i) {
            slots[i] = pkts[i];
            flags |= pkts[i]->ol_flags;
        }
        if ((flags & kTxOffloadFlags) != 0) [[unlikely]] {
            for (std::uint16_t i = 0; i < n; ++i) send(port, pkts[i]);
            return;
        }
        length = static_cast<std::uint16_t>(length + take);
        pending_ |= std::uint64_t{1} << port;
        pkts += take;
        n = static_cast<std::uint16_t>(n - take);
        if (length == burst_) flush(port);
    }
}

void TxBuffers::flush_all() {
    while (pending_ != 0) {
        const auto port = static_cast<std::uint16_t>(__builtin_ctzll(pending_));
        pending_ &= pending_ - 1;
        if (lengths_[port] != 0) flush(port);
    }
}

void TxBuffers::send_offloaded(std::uint16_t port, rte_mbuf* m) {
    if (takes_offloads(port)) {
        if (rte_eth_tx_prepare(port, queue_, &m, 1) != 1) {
            drop_unsendable(m);
            return;
        }
        queue(port, m);
        return;
    }
    rte_mbuf* out[kMaxGsoSegments];
    const unsigned n = resolve_tx_offload(pools_, *counters_, m, out);
    if (n == 0) {
        drop_unsendable(m);
        return;
    }
    for (unsigned i = 0; i < n; ++i) queue(port, out[i]);
}

// As drop_packet() (worker_context.hpp) counts, which this header cannot reach.
void TxBuffers::drop_unsendable(rte_mbuf* m) {
    constexpr auto kReason = static_cast<std::size_t>(DropReason::OffloadFailed);
    sync::bump(counters_->drops[kReason]);
    if (m->port < sync::kMaxPorts) sync::bump(counters_->ports[m->port].drops[kReason]);
    rte_pktmbuf_free(m);
}

}  // namespace dpdock::dataplane
