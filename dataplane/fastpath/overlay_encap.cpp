// send_to_vtep / replicate_to_peers: VXLAN encapsulation driven by the worker:
// ICMP errors, fitting to the inner MTU and sending via the uplink. See
// overlay.hpp; the encapsulation itself is vxlan/fastpath/encap.hpp.
#include <rte_mbuf.h>

#include "dataplane/fastpath/fragment.hpp"
#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "vxlan/fastpath/encap.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::dataplane {
namespace {

// Encapsulates `m` (its own mbuf: not shared) towards `vtep` and sends it
// through the uplink's next hop.
void encapsulate_one(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                     Ipv4Address vtep, std::uint32_t flow_hash, std::uint64_t now) {
    const dataplane::UplinkInfo& uplink = *snap.uplink;
    if (!vxlan::encapsulate(m, vxlan::outer_header(snap.vxlan, uplink.address.address(), vtep, vni, ctx.vxlan_ip_id++),
                            flow_hash)) {
        drop_packet(ctx, m, DropReason::VxlanNoBuffer);
        return;
    }
    const Ipv4Address next_hop = uplink.address.contains(vtep) ? vtep : uplink.gateway;
    send_via_uplink(ctx, uplink, m, next_hop, now);
}

// A tunnel takes no offload metadata and no inner packet above the inner
// MTU: super-frames are segmented, partial checksums completed and large
// datagrams without DF fragmented before encapsulation (`l3_offset`: the
// inner IPv4 header's), each piece encapsulated on its own.
[[gnu::cold, gnu::noinline]] void encapsulate_pieces(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap,
                                                     rte_mbuf* m, std::uint32_t vni, Ipv4Address vtep,
                                                     std::uint32_t flow_hash, std::uint32_t l3_offset,
                                                     std::uint64_t now) {
    rte_mbuf* pieces[kMaxEgressPieces];
    const unsigned n = fit_to_mtu(ctx, m, l3_offset, vxlan::inner_mtu(snap.uplink->mtu), false, pieces);
    for (unsigned i = 0; i < n; ++i) encapsulate_one(ctx, snap, pieces[i], vni, vtep, flow_hash, now);
}

void encapsulate(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                 Ipv4Address vtep, std::uint32_t flow_hash, std::uint32_t l3_offset, std::uint64_t now) {
    if (needs_fitting(m, l3_offset, vxlan::inner_mtu(snap.uplink->mtu))) [[unlikely]] {
        encapsulate_pieces(ctx, snap, m, vni, vtep, flow_hash, l3_offset, now);
        return;
    }
    encapsulate_one(ctx, snap, m, vni, vtep, flow_hash, now);
}

// An inner IPv4 packet with DF that would make the outer one larger than the
// uplink MTU: fragmentation needed goes back to the container from its
// gateway, with the inner MTU (uplink MTU - 50). True when `m` was consumed.
// Without DF it is fragmented by encapsulate().
bool too_big_for_the_underlay(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m,
                              std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    if (meta.l3_type != L3Type::Ipv4) return false;
    const auto& ip = *rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_offset);
    const std::uint32_t mtu = vxlan::inner_mtu(snap.uplink->mtu);
    if ((ip.fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) == 0 ||
        egress_ipv4_length(m, rte_be_to_cpu_16(ip.total_length)) <= mtu) {
        return false;
    }
    const ForwardError err{DropReason::FragNeeded, kIcmpDestUnreachable, kIcmpFragNeeded, static_cast<std::uint16_t>(mtu)};
    const dataplane::NetworkInfo& net = snap.networks[meta.network];
    return_icmp_error(ctx, m, meta, err, net.gateway_ip, net.gateway_mac, now);
    drop_packet(ctx, m, err.reason);
    return true;
}

}  // namespace

void send_to_vtep(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, PortId vtep,
                  std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    DPDOCK_DCHECK(parsed_to_l4(meta));  // the flow hash
    const std::uint32_t vni = snap.segments.of(meta.network).vni;
    const Ipv4Address ip = ctx.vteps->address(vtep);
    if (vni == 0 || !snap.uplink || ip.host() == 0) {
        drop_packet(ctx, m, DropReason::NoRoute);
        return;
    }
    if (too_big_for_the_underlay(ctx, snap, m, now)) return;
    encapsulate(ctx, snap, m, vni, ip, meta.flow_hash, meta.l3_offset, now);
}

unsigned replicate_to_peers(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m,
                            std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    const vxlan::Segment& segment = snap.segments.of(meta.network);
    if (segment.vni == 0 || segment.peers.empty() || !snap.uplink ||
        !snap.port_in_network(meta.ingress_port, meta.network)) {
        return 0;
    }
    DPDOCK_DCHECK(parsed_to_l4(meta));  // the flow hash
    unsigned sent = 0;
    for (const vxlan::Peer& peer : segment.peers) {
        // A deep copy, since every peer needs its own outer header; flooded
        // frames are the rare case, unicast is encapsulated in place.
        rte_mbuf* copy = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
        if (copy == nullptr) {
            sync::bump(ctx.counters->drops[static_cast<std::size_t>(DropReason::VxlanNoBuffer)]);
            continue;
        }
        encapsulate(ctx, snap, copy, segment.vni, peer.ip, meta.flow_hash, meta.l3_offset, now);
        ++sent;
    }
    return sent;
}

}  // namespace dpdock::dataplane
