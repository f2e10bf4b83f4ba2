#include "dataplane/kernel_port/fastpath/kernel_port_io.hpp"

#include <cerrno>
#include <cstring>

#include "dataplane/fastpath/worker_context.hpp"
#include "dataplane/kernel_port/vnet_header.hpp"

namespace dpdock::dataplane {

KernelPortScratch::~KernelPortScratch() {
    if (stashed != 0) rte_pktmbuf_free_bulk(stash.data(), stashed);
}

namespace {

// Copies the part of a frame beyond its first mbuf into new chained segments.
bool append_spill(rte_mempool* pool, rte_mbuf* m, const std::uint8_t* src, std::uint32_t len) {
    const std::uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
    const unsigned count = (len + room - 1) / room;
    rte_mbuf* segs[kKernelMaxTxSegs];
    if (count > kKernelMaxTxSegs || rte_pktmbuf_alloc_bulk(pool, segs, count) != 0) return false;
    rte_mbuf* tail = m;
    for (unsigned i = 0; i < count; ++i) {
        rte_mbuf* seg = segs[i];
        const std::uint32_t n = len < room ? len : room;
        std::memcpy(rte_pktmbuf_mtod(seg, void*), src, n);
        seg->data_len = static_cast<std::uint16_t>(n);
        src += n;
        len -= n;
        tail->next = seg;
        tail = seg;
    }
    m->nb_segs = static_cast<std::uint16_t>(1 + count);
    return true;
}

}  // namespace

void kernel_port_receive(WorkerContext& ctx, const KernelPortIo& io) {
    KernelPortScratch& s = *ctx.kernel;
    unsigned want = rte_ring_free_count(io.rx_ring);
    if (want > kKernelBatch) want = kKernelBatch;
    if (s.stashed < want) {
        // All or nothing from the pool; keep what is stashed when it is short.
        if (rte_pktmbuf_alloc_bulk(ctx.pool, s.stash.data() + s.stashed, want - s.stashed) == 0) s.stashed = want;
    }
    if (want > s.stashed) want = s.stashed;
    if (want == 0) return;

    for (unsigned i = 0; i < want; ++i) {
        rte_mbuf* m = s.stash[i];
        auto& iov = s.iov[i];
        iov[0] = {&s.hdrs[i], sizeof(VnetHeader)};
        iov[1] = {rte_pktmbuf_mtod(m, void*), rte_pktmbuf_tailroom(m)};
        iov[2] = {s.spill.get() + std::size_t{i} * kKernelMaxFrame, kKernelMaxFrame};
        msghdr& h = s.msgs[i].msg_hdr;
        h = msghdr{};
        h.msg_iov = iov.data();
        h.msg_iovlen = 3;
    }
    const int got = recvmmsg(io.fd, s.msgs.data(), want, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;

    unsigned out = 0;
    for (int i = 0; i < got; ++i) {
        rte_mbuf* m = s.stash[i];
        m->port = io.port;
        const std::uint32_t total = s.msgs[i].msg_len;
        if ((s.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || total < sizeof(VnetHeader)) {
            drop_packet(ctx, m, DropReason::KernelRxTruncated);
            continue;
        }
        const std::uint32_t len = total - sizeof(VnetHeader);
        const std::uint32_t first = len < s.iov[i][1].iov_len ? len : static_cast<std::uint32_t>(s.iov[i][1].iov_len);
        m->data_len = static_cast<std::uint16_t>(first);
        m->pkt_len = len;
        if (len > first &&
            !append_spill(ctx.pool, m, static_cast<const std::uint8_t*>(s.iov[i][2].iov_base), len - first)) {
            drop_packet(ctx, m, DropReason::KernelRxNoBuffer);
            continue;
        }
        const VnetHeader& vh = s.hdrs[i];
        if (!vnet_header_to_mbuf(vh, m)) {
            drop_packet(ctx, m, DropReason::BadHeader);
            continue;
        }
        if ((vh.flags & kVnetNeedsCsum) != 0) sync::bump(ctx.counters->kernel_partial_csum_rx);
        if (vh.gso_type != kVnetGsoNone) sync::bump(ctx.counters->kernel_gso_rx);
        s.pkts[out++] = m;
    }
    // The stash is a stack of fresh mbufs: move the unused ones to its bottom.
    s.stashed -= static_cast<unsigned>(got);
    std::memmove(s.stash.data(), s.stash.data() + got, s.stashed * sizeof(rte_mbuf*));
    // The ring had room for `want`; this worker is its only producer.
    rte_ring_enqueue_bulk(io.rx_ring, reinterpret_cast<void* const*>(s.pkts.data()), out, nullptr);
}

namespace {

void drop_unsent(WorkerContext& ctx, PortId port, rte_mbuf* m, DropReason reason) {
    // Counted as sent when queued (TxBuffers::send); taken back out.
    sync::PortCounters& pc = ctx.counters->ports[port];
    sync::bump(pc.tx_packets, -std::uint64_t{1});
    sync::bump(pc.tx_bytes, -std::uint64_t{rte_pktmbuf_pkt_len(m)});
    sync::bump(ctx.counters->tx_packets, -std::uint64_t{1});
    drop_packet(ctx, m, reason);
}

}  // namespace

void kernel_port_transmit(WorkerContext& ctx, const KernelPortIo& io) {
    KernelPortScratch& s = *ctx.kernel;
    rte_mbuf* queued[kKernelBatch];
    const unsigned n = rte_ring_dequeue_burst(io.tx_rings[ctx.index], reinterpret_cast<void**>(queued), kKernelBatch,
                                              nullptr);
    if (n == 0) return;
    unsigned count = 0;
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = queued[i];
        if (m->nb_segs > kKernelMaxTxSegs) {
            drop_unsent(ctx, io.port, m, DropReason::KernelTxError);
            continue;
        }
        s.hdrs[count] = vnet_header_from_mbuf(m);
        auto& iov = s.iov[count];
        iov[0] = {&s.hdrs[count], sizeof(VnetHeader)};
        unsigned k = 1;
        for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next) iov[k++] = {rte_pktmbuf_mtod(seg, void*), seg->data_len};
        msghdr& h = s.msgs[count].msg_hdr;
        h = msghdr{};
        h.msg_iov = iov.data();
        h.msg_iovlen = k;
        s.pkts[count++] = m;
    }
    unsigned done = 0;
    while (done < count) {
        const int sent = sendmmsg(io.fd, s.msgs.data() + done, count - done, MSG_DONTWAIT);
        if (sent > 0) {
            for (unsigned i = done; i < done + static_cast<unsigned>(sent); ++i) {
                if (s.hdrs[i].gso_type != kVnetGsoNone) sync::bump(ctx.counters->kernel_gso_tx);
            }
            rte_pktmbuf_free_bulk(s.pkts.data() + done, static_cast<unsigned>(sent));
            done += static_cast<unsigned>(sent);
            continue;
        }
        // The first frame left was refused. Without buffer space the rest
        // would be refused as well; any other error belongs to that frame.
        if (errno == EAGAIN || errno == ENOBUFS) {
            for (; done < count; ++done) drop_unsent(ctx, io.port, s.pkts[done], DropReason::KernelTxFull);
        } else {
            drop_unsent(ctx, io.port, s.pkts[done++], DropReason::KernelTxError);
        }
    }
}

}  // namespace dpdock::dataplane
