#include "dataplane/kernel_port/fastpath/kernel_port_io.hpp"

#include <cerrno>
#include <cstring>

#include "dataplane/fastpath/worker_context.hpp"
#include "dataplane/kernel_port/vnet_header.hpp"

namespace dpdock::dataplane {

KernelPortScratch::~KernelPortScratch() {
    for (unsigned i = 0; i < kKernelBatch; ++i) {
        if (taken[i] < count[i]) rte_pktmbuf_free_bulk(bufs[i].data() + taken[i], count[i] - taken[i]);
    }
}

namespace {

std::uint32_t data_room(rte_mempool* pool) { return rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM; }

// Puts fresh mbufs in the places of receive slot i that frames took (all or
// nothing from the pool) and points their iovec entries at them; sets the
// slot up on first use. False: the pool is short.
bool refill_slot(KernelPortScratch& s, rte_mempool* pool, unsigned i, unsigned frame_segs) {
    auto& iov = s.rx_iov[i];
    if (s.count[i] == 0) {
        const bool scatter = i < kKernelScatterSlots;
        s.count[i] = scatter ? frame_segs : 1;
        s.taken[i] = s.count[i];
        iov[0] = {&s.rx_hdrs[i], sizeof(VnetHeader)};
        if (!scatter) iov[2] = {s.spill.get() + std::size_t{i - kKernelScatterSlots} * kKernelMaxFrame, kKernelMaxFrame};
        msghdr& h = s.rx_msgs[i].msg_hdr;
        h = msghdr{};
        h.msg_iov = iov.data();
        h.msg_iovlen = scatter ? 1 + s.count[i] : 3;
    }
    const unsigned missing = s.taken[i];
    if (missing == 0) return true;
    if (rte_pktmbuf_alloc_bulk(pool, s.bufs[i].data(), missing) != 0) return false;
    for (unsigned k = 0; k < missing; ++k) iov[1 + k] = {rte_pktmbuf_mtod(s.bufs[i][k], void*), data_room(pool)};
    s.taken[i] = 0;
    return true;
}

// Copies the part of a frame beyond its first mbuf into new chained segments.
bool append_spill(rte_mempool* pool, rte_mbuf* m, const std::uint8_t* src, std::uint32_t len) {
    const std::uint32_t room = data_room(pool);
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

// Takes the mbufs a frame of `len` bytes filled out of slot i as one chain
// (a scatter slot: as many as it spans; else the one mbuf, the spill copied
// behind it). nullptr: no mbufs for the spill, the head already dropped.
rte_mbuf* take_frame(WorkerContext& ctx, KernelPortScratch& s, unsigned i, std::uint32_t len, PortId port) {
    const std::uint32_t room = data_room(ctx.pool);
    rte_mbuf* m = s.bufs[i][0];
    m->port = port;
    m->pkt_len = len;
    m->data_len = static_cast<std::uint16_t>(len < room ? len : room);
    if (i >= kKernelScatterSlots) {
        s.taken[i] = 1;
        if (len > room && !append_spill(ctx.pool, m, s.spill.get() + std::size_t{i - kKernelScatterSlots} * kKernelMaxFrame,
                                        len - room)) {
            drop_packet(ctx, m, DropReason::KernelRxNoBuffer);
            return nullptr;
        }
        return m;
    }
    const unsigned used = len <= room ? 1 : (len + room - 1) / room;
    rte_mbuf* tail = m;
    for (unsigned k = 1; k < used; ++k) {
        rte_mbuf* seg = s.bufs[i][k];
        const std::uint32_t left = len - k * room;
        seg->data_len = static_cast<std::uint16_t>(left < room ? left : room);
        tail->next = seg;
        tail = seg;
    }
    m->nb_segs = static_cast<std::uint16_t>(used);
    s.taken[i] = used;
    return m;
}

}  // namespace

void kernel_port_receive(WorkerContext& ctx, const KernelPortIo& io) {
    KernelPortScratch& s = *ctx.kernel;
    unsigned want = rte_ring_free_count(io.rx_ring);
    if (want > kKernelBatch) want = kKernelBatch;
    const std::uint32_t room = data_room(ctx.pool);
    const unsigned frame_segs = (kKernelMaxFrame + room - 1) / room;
    for (unsigned i = 0; i < want; ++i) {
        if (!refill_slot(s, ctx.pool, i, frame_segs < kKernelMaxTxSegs ? frame_segs : kKernelMaxTxSegs)) {
            want = i;  // a short pool ends the batch at the first slot it cannot fill
            break;
        }
    }
    if (want == 0) return;
    const int got = recvmmsg(io.fd, s.rx_msgs.data(), want, MSG_DONTWAIT, nullptr);
    sync::bump(ctx.counters->kernel_rx_calls);
    if (got <= 0) {
        sync::bump(ctx.counters->kernel_rx_empty_calls);
        return;
    }
    sync::bump(ctx.counters->kernel_rx_frames, static_cast<unsigned>(got));

    unsigned out = 0;
    for (unsigned i = 0; i < static_cast<unsigned>(got); ++i) {
        const std::uint32_t total = s.rx_msgs[i].msg_len;
        const bool truncated = (s.rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || total < sizeof(VnetHeader);
        rte_mbuf* m = take_frame(ctx, s, i, truncated ? 0 : total - sizeof(VnetHeader), io.port);
        if (m == nullptr) continue;
        if (truncated) {
            drop_packet(ctx, m, DropReason::KernelRxTruncated);
            continue;
        }
        const VnetHeader& vh = s.rx_hdrs[i];
        if (!vnet_header_to_mbuf(vh, m)) {
            drop_packet(ctx, m, DropReason::BadHeader);
            continue;
        }
        if ((vh.flags & kVnetNeedsCsum) != 0) sync::bump(ctx.counters->kernel_partial_csum_rx);
        if (vh.gso_type != kVnetGsoNone) sync::bump(ctx.counters->kernel_gso_rx);
        s.pkts[out++] = m;
    }
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
        sync::bump(ctx.counters->kernel_tx_calls);
        if (sent > 0) {
            sync::bump(ctx.counters->kernel_tx_frames, static_cast<unsigned>(sent));
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
