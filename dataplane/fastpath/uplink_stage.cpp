// uplink_stage: traffic arriving from the outside. See stages.hpp.
#include <cstring>

#include "l3/fastpath/local_reply.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "bridge/mac_table.hpp"
#include "l3/neighbour_table.hpp"
#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"
#include "nat/fastpath/dnat.hpp"
#include "nat/fastpath/masquerade.hpp"
#include "nat/fastpath/tracked_burst.hpp"

namespace dpdock::dataplane {
namespace {

// An address that can be a next hop: on the uplink's subnet, not its network
// or broadcast address, not the host itself (0.0.0.0 is never on-link).
bool on_link(const dataplane::UplinkInfo& uplink, Ipv4Address ip) {
    const Ipv4Cidr& net = uplink.address;
    if (!net.contains(ip) || ip == net.address()) return false;
    if (net.prefix() >= 31) return true;  // RFC 3021: both addresses are hosts
    const std::uint32_t host_bits = ~std::uint32_t{0} >> net.prefix();
    return (ip.host() & host_bits) != 0 && (ip.host() & host_bits) != host_bits;
}

// ARP aimed at the host address updates the neighbour table. Only addresses
// used as next hops take a slot: the on-link sender of a reply we asked for
// (Linux with arp_accept=0 ignores unsolicited replies too), or the uplink
// gateway, whose request teaches us its MAC before we need it. Anything else
// (requests, unsolicited replies) only refreshes an address already cached,
// so a flood of spoofed senders cannot fill the table.
void learn_sender(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, const rte_arp_hdr& arp, std::uint64_t now) {
    if (arp.arp_data.arp_tip != uplink.address.address().be().raw()) return;
    std::array<std::uint8_t, 6> b;
    std::memcpy(b.data(), arp.arp_data.arp_sha.addr_bytes, b.size());
    const MacAddress sender(b);
    if (sender.is_multicast() || sender.is_zero()) return;
    const Ipv4Address ip = Ipv4Address::from_be(Be32::from_raw(arp.arp_data.arp_sip));
    if (!on_link(uplink, ip)) return;
    const bool reply = arp.arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY);
    if (ip == uplink.gateway || (reply && ctx.neighbours->solicited(ip))) {
        ctx.neighbours->confirm(ip, sender, now, arp_timing(uplink));
    } else {
        ctx.neighbours->refresh(ip, sender, now);
    }
}

}  // namespace

void uplink_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                  std::uint64_t now) {
    dcheck_parsed_to_l4(pkts, n);
    const dataplane::UplinkInfo& uplink = *snap.uplink;
    const Ipv4Address host = uplink.address.address();
    // The conntrack lookups of the whole burst first (replies and published
    // ports: IPv4 to the host address), so their cache misses overlap.
    auto to_host = [&](const rte_mbuf* m, const PacketMeta& meta) {
        return meta.l3_type == L3Type::Ipv4 &&
               header_at<const rte_ipv4_hdr>(m, meta.l3_offset)->dst_addr == host.be().raw();
    };
    nat::TrackedBurst tracked(*ctx.conntrack, &ctx.flow_cache);
    for (std::uint16_t i = 0; i < n; ++i) {
        const PacketMeta& meta = packet_meta(pkts[i]);
        tracked.add(to_host(pkts[i], meta) ? ctx.fragments.key_of(pkts[i], meta, now, ctx.fragment_ticks)
                                           : std::nullopt);
    }
    tracked.look_up();
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PacketMeta& meta = packet_meta(m);
        std::optional<DropReason> verdict;
        if (meta.l3_type == L3Type::Arp) {
            const auto* arp = header_at<const rte_arp_hdr>(m, meta.l3_offset);
            learn_sender(ctx, uplink, *arp, now);
            if (arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) && arp->arp_data.arp_tip == host.be().raw()) {
                // The answer to one of our requests: it has done its job.
                consume_packet(ctx, m);
                continue;
            }
            verdict = l3::answer_arp(m, meta, uplink.mac, host);
        } else if (to_host(m, meta)) {
            const nat::Tracked& t = tracked[i];
            if (const nat::Entry* flow = nat::masquerade_inbound(*ctx.conntrack, m, meta, t, now)) {
                if (flow->kind == nat::EntryKind::Masquerade) {
                    deliver_to_container(ctx, snap, m, flow->mac, flow->network, &flow->reply, now);
                    continue;
                }
                // An ICMP error about a published port's reply (fragmentation
                // needed on the way to the client): to the publishing container.
                const nat::PublishedRule* rule =
                    snap.published ? snap.published->find(flow->original.proto, rte_be_to_cpu_16(flow->original.dst_port))
                                   : nullptr;
                if (rule == nullptr) {
                    drop_packet(ctx, m, DropReason::NotServed);
                } else {
                    deliver_to_container(ctx, snap, m, rule->container_mac, rule->network, nullptr, now);
                }
                continue;
            }
            if (snap.published) {
                const auto dnat = nat::dnat_original(*ctx.conntrack, *snap.published, m, meta, t, false, now);
                if (dnat.rule != nullptr) {
                    count_rule(ctx, dnat.rule->slot, m);
                    deliver_to_container(ctx, snap, m, dnat.rule->container_mac, dnat.rule->network, &*t.key, now);
                    continue;
                }
                if (dnat.drop) {
                    drop_packet(ctx, m, *dnat.drop);
                    continue;
                }
            }
            verdict = (meta.flags & kFlagFragment) != 0 && !t.key ? DropReason::FragmentUnmatched
                                                                   : l3::answer_echo(m, meta, uplink.mac);
            // Neither a tracked reply, a published port nor ping: the host's
            // kernel (its services, its own flows' replies, its fragments).
            if ((verdict == DropReason::NotServed || verdict == DropReason::FragmentUnmatched) &&
                punt_to_host(ctx, snap, m)) {
                continue;
            }
        } else {
            verdict = DropReason::NoRoute;
        }
        if (verdict) {
            drop_packet(ctx, m, *verdict);
        } else {
            ctx.tx.send(uplink.port, m);
        }
    }
}

}  // namespace dpdock::dataplane
