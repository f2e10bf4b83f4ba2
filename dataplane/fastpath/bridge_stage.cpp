// bridge_stage: acts on the bridge's verdicts (bridge/fastpath/l2_forward.hpp).
// See stages.hpp.
#include "base/packet/parse.hpp"
#include "bridge/fastpath/l2_forward.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/stages.hpp"

namespace dpdock::dataplane {
namespace {

static_assert(bridge::BridgeTables<ForwardingSnapshot>);

// A frame leaving for remote VTEPs needs its flow hash (the outer UDP source
// port): parsed to L4 here, the bridge's only L4 reading. False when it was
// dropped instead (an L4 header cut short, as every L4 reader drops it).
bool parsed_for_vteps(WorkerContext& ctx, rte_mbuf* m) {
    if (auto reason = parse_l4(m)) {
        drop_packet(ctx, m, *reason);
        return false;
    }
    return true;
}

bool floods_to_vteps(const dataplane::ForwardingSnapshot& snap, const PacketMeta& meta) {
    return !snap.segments.of(meta.network).peers.empty();
}

void count_learning(WorkerContext& ctx, const bridge::LearnTally& tally) {
    if (tally.learned != 0) sync::bump(ctx.counters->mac_learned, tally.learned);
    if (tally.moved != 0) sync::bump(ctx.counters->mac_moved, tally.moved);
    if (tally.full != 0) sync::bump(ctx.counters->mac_table_full, tally.full);
    if (tally.static_conflict != 0) sync::bump(ctx.counters->mac_static_conflict, tally.static_conflict);
}

// What the bridge's verdicts do: a frame at a time, or the rest of a burst
// of one flow at once (decide_burst), whose frames to one port are queued
// for tx as a block.
class Act {
public:
    Act(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint64_t now)
        : ctx_(ctx), snap_(snap), pkts_(pkts), now_(now) {}

    void operator()(rte_mbuf* m, const bridge::L2Verdict& v) {
        switch (v.kind) {
        case bridge::L2Verdict::Kind::Port: ctx_.tx.send(v.port, m); break;
        case bridge::L2Verdict::Kind::Remote:
            if (parsed_for_vteps(ctx_, m)) send_to_vtep(ctx_, snap_, m, v.port, now_);
            break;
        case bridge::L2Verdict::Kind::Gateway: pkts_[to_gateway_++] = m; break;
        case bridge::L2Verdict::Kind::Drop: drop_packet(ctx_, m, v.reason); break;
        case bridge::L2Verdict::Kind::Flood:
            // A broadcast ARP request the network can answer itself is not flooded.
            if ((packet_meta(m).flags & kFlagMulticast) != 0 && answer_suppressed_arp(ctx_, snap_, m)) break;
            if (!floods_to_vteps(snap_, packet_meta(m)) || parsed_for_vteps(ctx_, m)) flood_packet(ctx_, snap_, m, now_);
            break;
        }
    }

    void operator()(rte_mbuf** ms, std::uint16_t count, const bridge::L2Verdict& v) {
        if (v.kind == bridge::L2Verdict::Kind::Port) {
            ctx_.tx.send_burst(v.port, ms, count);
            return;
        }
        for (std::uint16_t i = 0; i < count; ++i) (*this)(ms[i], v);
    }

    std::uint16_t to_gateway() const { return to_gateway_; }

private:
    WorkerContext& ctx_;
    const dataplane::ForwardingSnapshot& snap_;
    rte_mbuf** pkts_;
    std::uint64_t now_;
    std::uint16_t to_gateway_ = 0;
};

}  // namespace

std::uint16_t bridge_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now) {
    bridge::LearnTally tally;
    Act act(ctx, snap, pkts, now);
    bridge::decide_burst(*ctx.macs, ctx.mac_cache, snap, pkts, n, now, tally, act);
    count_learning(ctx, tally);
    return act.to_gateway();
}

}  // namespace dpdock::dataplane
