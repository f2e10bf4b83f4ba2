#include "dataplane/fastpath/spread.hpp"

#include "base/packet/parse.hpp"

#include "dataplane/doorbells.hpp"
#include "dataplane/fastpath/pipeline.hpp"
#include "dataplane/spread_rings.hpp"

namespace dpdock::dataplane {
namespace {

unsigned owner_of(const PacketMeta& meta, PortSpread spread, unsigned self, unsigned workers) {
    if (meta.l3_type != L3Type::Ipv4 && meta.l3_type != L3Type::Ipv6) return spread.home;
    if (spread.mode == SpreadMode::Queues) return self;  // the device spread the flows
    // Multiply-shift maps the 32-bit hash onto [0, workers) evenly, without a division.
    return static_cast<unsigned>((std::uint64_t{meta.flow_hash} * workers) >> 32);
}

}  // namespace

std::uint16_t spread_stage(WorkerContext& ctx, const ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n) {
    if (n == 0 || ctx.spread == nullptr) return n;
    const PortSpread spread = snap.spread[pkts[0]->port];
    if (spread.mode == SpreadMode::Off) return n;
    const unsigned workers = ctx.spread->workers();
    std::uint8_t owner[kMaxBurst];
    std::uint16_t kept = 0;
    bool others = false;
    for (std::uint16_t i = 0; i < n; ++i) {
        // The owner follows the flow hash, which the parse to L4 computes. A
        // frame whose L4 header is cut short has none: its home worker takes
        // it and the stages decide, as without spreading (the bridge passes
        // it, what reads L4 drops it).
        const bool hashed = spread.mode != SpreadMode::Flows || !parse_l4(pkts[i]);
        owner[i] = static_cast<std::uint8_t>(hashed ? owner_of(packet_meta(pkts[i]), spread, ctx.index, workers)
                                                    : spread.home);
        others |= owner[i] != ctx.index;
    }
    if (!others) return n;
    // One enqueue per owner, packets in arrival order; ours are compacted in place.
    rte_mbuf* out[kMaxBurst];
    for (unsigned w = 0; w < workers; ++w) {
        if (w == ctx.index) continue;
        unsigned count = 0;
        for (std::uint16_t i = 0; i < n; ++i) {
            if (owner[i] == w) out[count++] = pkts[i];
        }
        if (count == 0) continue;
        const unsigned sent = rte_ring_sp_enqueue_burst(ctx.spread->ring(ctx.index, w),
                                                        reinterpret_cast<void* const*>(out), count, nullptr);
        sync::bump(ctx.counters->spread_out, sent);
        if (sent != 0 && ctx.doorbells != nullptr) ctx.doorbells->ring(w);
        for (unsigned i = sent; i < count; ++i) drop_packet(ctx, out[i], DropReason::SpreadFull);
    }
    for (std::uint16_t i = 0; i < n; ++i) {
        if (owner[i] == ctx.index) pkts[kept++] = pkts[i];
    }
    return kept;
}

bool spread_waiting(const WorkerContext& ctx) {
    if (ctx.spread == nullptr) return false;
    for (unsigned from = 0; from < ctx.spread->workers(); ++from) {
        if (from != ctx.index && rte_ring_empty(ctx.spread->ring(from, ctx.index)) == 0) return true;
    }
    return false;
}

unsigned take_spread(WorkerContext& ctx, const ForwardingSnapshot& snap, std::uint64_t now) {
    if (ctx.spread == nullptr) return 0;
    unsigned taken = 0;
    rte_mbuf* pkts[kMaxBurst];
    for (unsigned from = 0; from < ctx.spread->workers(); ++from) {
        if (from == ctx.index) continue;
        const unsigned n =
            rte_ring_sc_dequeue_burst(ctx.spread->ring(from, ctx.index), reinterpret_cast<void**>(pkts), ctx.burst,
                                      nullptr);
        if (n == 0) continue;
        taken += n;
        sync::bump(ctx.counters->spread_in, n);
        // The sender classified them under an older snapshot: a port that left
        // its network since (being removed) must not forward any more.
        std::uint16_t valid = 0;
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            const PortInfo& port = snap.ports[m->port];
            if (port.role == PortRole::Unused || port.network != packet_meta(m).network) {
                drop_packet(ctx, m, DropReason::NoNetwork);
                continue;
            }
            pkts[valid++] = m;
        }
        // The pipeline takes a burst of one port at a time: runs of equal ports.
        for (std::uint16_t start = 0; start < valid;) {
            std::uint16_t end = start + 1;
            while (end < valid && pkts[end]->port == pkts[start]->port) ++end;
            process_classified(ctx, snap, pkts + start, static_cast<std::uint16_t>(end - start), now);
            start = end;
        }
    }
    return taken;
}

}  // namespace dpdock::dataplane
