#include "dataplane/fastpath/tx_buffer.hpp"

#include <rte_malloc.h>

#include "base/packet/drop_reason.hpp"

namespace dpdock::dataplane {

Status TxBuffers::init(std::uint16_t queue, std::uint16_t burst, sync::WorkerCounters* counters, int socket,
                       OffloadPools pools) {
    queue_ = queue;
    pools_ = pools;
    counters_ = counters;
    for (std::uint16_t port = 0; port < sync::kMaxPorts; ++port) {
        auto* buffer = static_cast<rte_eth_dev_tx_buffer*>(
            rte_zmalloc_socket("dpdock_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(burst), 0, socket));
        if (buffer == nullptr) return Status::error("cannot allocate tx buffers");
        buffers_[port] = buffer;
        rte_eth_tx_buffer_init(buffer, burst);
        error_contexts_[port] = {this, port};
        rte_eth_tx_buffer_set_err_callback(buffer, &TxBuffers::on_unsent, &error_contexts_[port]);
    }
    return {};
}

TxBuffers::~TxBuffers() {
    for (auto* buffer : buffers_) rte_free(buffer);
}

void TxBuffers::flush_all() {
    while (pending_ != 0) {
        const auto port = static_cast<std::uint16_t>(__builtin_ctzll(pending_));
        pending_ &= pending_ - 1;
        rte_eth_tx_buffer_flush(port, queue_, buffers_[port]);
        Unpublished& u = unpublished_[port];
        sync::PortCounters& pc = counters_->ports[port];
        sync::bump(pc.tx_packets, u.packets);
        sync::bump(pc.tx_bytes, u.bytes);
        sync::bump(counters_->tx_packets, u.packets);
        u = {};
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

void TxBuffers::on_unsent(rte_mbuf** pkts, std::uint16_t count, void* userdata) {
    auto* ctx = static_cast<ErrorContext*>(userdata);
    sync::WorkerCounters& c = *ctx->self->counters_;
    constexpr auto kTxFull = static_cast<std::size_t>(DropReason::TxFull);
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < count; ++i) {
        bytes += rte_pktmbuf_pkt_len(pkts[i]);
        if (pkts[i]->port < sync::kMaxPorts) sync::bump(c.ports[pkts[i]->port].drops[kTxFull]);
        rte_pktmbuf_free(pkts[i]);
    }
    // Queued since the last flush_all, so not yet in the tx counters: they never will be.
    Unpublished& u = ctx->self->unpublished_[ctx->port];
    u.packets -= count;
    u.bytes -= bytes;
    sync::bump(c.drops[kTxFull], count);
}

}  // namespace dpdock::dataplane
