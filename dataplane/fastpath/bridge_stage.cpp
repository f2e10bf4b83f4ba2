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

}  // namespace

std::uint16_t bridge_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now) {
    bridge::LearnTally tally;
    std::uint16_t to_gateway = 0;
    bridge::decide_burst(*ctx.macs, ctx.mac_cache, snap, pkts, n, now, tally, [&](rte_mbuf* m, const bridge::L2Verdict& v) {
        switch (v.kind) {
        case bridge::L2Verdict::Kind::Port: ctx.tx.send(v.port, m); break;
        case bridge::L2Verdict::Kind::Remote:
            if (parsed_for_vteps(ctx, m)) send_to_vtep(ctx, snap, m, v.port, now);
            break;
        case bridge::L2Verdict::Kind::Gateway: pkts[to_gateway++] = m; break;
        case bridge::L2Verdict::Kind::Drop: drop_packet(ctx, m, v.reason); break;
        case bridge::L2Verdict::Kind::Flood:
            // A broadcast ARP request the network can answer itself is not flooded.
            if ((packet_meta(m).flags & kFlagMulticast) != 0 && answer_suppressed_arp(ctx, snap, m)) break;
            if (!floods_to_vteps(snap, packet_meta(m)) || parsed_for_vteps(ctx, m)) flood_packet(ctx, snap, m, now);
            break;
        }
    });
    count_learning(ctx, tally);
    return to_gateway;
}

}  // namespace dpdock::dataplane
