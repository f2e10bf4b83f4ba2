// route_stage: from a network's gateway to the outside. See stages.hpp.
#include "dataplane/fastpath/icmp_error.hpp"
#include "l3/fastpath/local_reply.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"
#include "nat/fastpath/dnat.hpp"
#include "nat/fastpath/masquerade.hpp"
#include "nat/fastpath/tracked_burst.hpp"

namespace dpdock::dataplane {
namespace {

// A container reaching a published port at the host address: DNAT to the
// publishing container and SNAT to its network's gateway (so the reply comes
// back through us), like Docker's hairpin rules. false: not a published port.
bool hairpin(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, const nat::Tracked& t,
             std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    const auto dnat = nat::dnat_original(*ctx.conntrack, *snap.published, m, meta, t, true, now);
    if (dnat.drop) {
        drop_packet(ctx, m, *dnat.drop);
        return true;
    }
    if (dnat.rule == nullptr) return false;
    count_rule(ctx, dnat.rule->slot, m);
    deliver_to_container(ctx, snap, m, dnat.rule->container_mac, dnat.rule->network, nullptr, now);
    return true;
}

// Whether any port is published (the snapshot always has a table, often empty).
bool any_published(const dataplane::ForwardingSnapshot& snap) { return snap.published && !snap.published->empty(); }

// Whether a packet of `network` may need its conntrack entry here: a hairpin
// or a published flow's reply (any network), or MASQUERADE. (Flows of a
// published port leave the table with its rule: see nat/conntrack_flush.hpp.)
bool may_translate(const dataplane::ForwardingSnapshot& snap, NetworkId network) {
    return snap.uplink && (any_published(snap) || snap.networks[network].masquerade);
}

}  // namespace

// Here and in uplink_stage, a whole burst goes into one TrackedBurst.
static_assert(nat::TrackedBurst::kCapacity >= kMaxBurst);

void route_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                 std::uint64_t now) {
    dcheck_parsed_to_l4(pkts, n);
    // The conntrack lookups of the whole burst first, so their cache misses overlap.
    nat::TrackedBurst tracked(*ctx.conntrack, &ctx.flow_cache);
    for (std::uint16_t i = 0; i < n; ++i) {
        const PacketMeta& meta = packet_meta(pkts[i]);
        tracked.add(may_translate(snap, meta.network) ? ctx.fragments.key_of(pkts[i], meta, now, ctx.fragment_ticks)
                                                      : std::nullopt);
    }
    tracked.look_up();
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PacketMeta& meta = packet_meta(m);
        auto* ip = header_at<rte_ipv4_hdr>(m, meta.l3_offset);
        const Ipv4Address dst = Ipv4Address::from_be(Be32::from_raw(ip->dst_addr));
        const dataplane::NetworkInfo& net = snap.networks[meta.network];
        // Docker's isolation: no network reaches another one's containers through its gateway.
        const NetworkId to = snap.network_of(dst);
        const bool other_gateway = to != kNoNetwork && dst == snap.networks[to].gateway_ip;
        if (to != kNoNetwork && to != meta.network && !other_gateway) {
            drop_packet(ctx, m, DropReason::Isolated);
            continue;
        }
        const bool host_address = snap.uplink && dst == snap.uplink->address.address();
        if (any_published(snap) && host_address && !net.internal && (meta.flags & kFlagVlan) == 0) {
            if (hairpin(ctx, snap, m, tracked[i], now)) continue;
        }
        // The host's own addresses answer ping from every network, as Linux's
        // INPUT chain does (isolation filters forwarding only); nothing else
        // listens on them. An internal network reaches only its own gateway.
        if ((other_gateway || host_address) && !net.internal) {
            if (auto why = l3::answer_echo(m, meta, net.gateway_mac)) {
                if (why == DropReason::NotServed && punt_to_host(ctx, snap, m)) continue;  // the host's services
                drop_packet(ctx, m, *why);
            } else {
                ctx.tx.send(meta.ingress_port, m);
            }
            continue;
        }
        // Tagged frames would leave with the container's tag on the uplink;
        // the network's own subnet and the host address are not out there.
        if (!snap.uplink || net.internal || (meta.flags & kFlagVlan) != 0 || to != kNoNetwork || host_address) {
            drop_packet(ctx, m, DropReason::NoRoute);
            continue;
        }
        if (auto err = check_forward(m, *ip, snap.uplink->mtu)) {
            return_icmp_error(ctx, m, meta, *err, net.gateway_ip, net.gateway_mac, now);
            drop_packet(ctx, m, err->reason);
            continue;
        }
        const dataplane::UplinkInfo& uplink = *snap.uplink;
        const Ipv4Address next_hop = uplink.address.contains(dst) ? dst : uplink.gateway;
        const bool published = any_published(snap);
        if (published || net.masquerade) {
            const nat::Tracked& t = tracked[i];
            // Replies of published flows are translated whatever the network's MASQUERADE setting.
            if (published && nat::dnat_reply(*ctx.conntrack, m, meta, t, now) != nullptr) {
                send_via_uplink(ctx, uplink, m, next_hop, now);
                continue;
            }
            if (net.masquerade) {
                if (auto why = nat::masquerade_outbound(*ctx.conntrack, m, meta, t, uplink.address.address().be().raw(),
                                                        now)) {
                    drop_packet(ctx, m, *why);
                    continue;
                }
                count_rule(ctx, net.masquerade_slot, m);
            }
        }
        send_via_uplink(ctx, uplink, m, next_hop, now);
    }
}

}  // namespace dpdock::dataplane
