// send_to_vtep / replicate_to_peers: VXLAN encapsulation driven by the worker:
// ICMP errors, fitting to the inner MTU, the outer header from the worker's
// template for the VTEP, and sending via the uplink. See overlay.hpp; the
// encapsulation itself is vxlan/fastpath/encap.hpp.
#include <rte_mbuf.h>

#include "dataplane/fastpath/fragment.hpp"
#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "vxlan/fastpath/encap.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::dataplane {
namespace {

// The outer headers towards `vtep` (pseudo port `port`) for `vni`, built
// when this worker has none from this snapshot. The outer frame goes to the
// VTEP when it is on the uplink's subnet, else to the gateway; a configured
// gateway MAC is a permanent neighbour and goes into the template.
[[gnu::cold, gnu::noinline]] const vxlan::OuterTemplate& build_template(
    vxlan::OuterTemplate& t, const dataplane::ForwardingSnapshot& snap, std::uint32_t vni, Ipv4Address vtep) {
    const dataplane::UplinkInfo& uplink = *snap.uplink;
    const bool via_gateway = !uplink.address.contains(vtep);
    const MacAddress* next_hop_mac = via_gateway && uplink.gateway_mac ? &*uplink.gateway_mac : nullptr;
    const vxlan::OuterHeader h = vxlan::outer_header(snap.vxlan, uplink.address.address(), vtep, vni);
    vxlan::OuterTemplates::build(t, snap.serial.value(), h, uplink.mac, next_hop_mac);
    return t;
}

const vxlan::OuterTemplate& outer_template(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap,
                                           std::uint32_t vni, Ipv4Address vtep, PortId port) {
    vxlan::OuterTemplate& t = ctx.vxlan_templates.slot(port);
    if (vxlan::OuterTemplates::holds(t, snap.serial.value(), vtep, vni)) [[likely]] return t;
    return build_template(t, snap, vni, vtep);
}

// Encapsulates `m` (its own mbuf: not shared) towards `vtep` (pseudo port
// `port`) and sends it through the uplink's next hop.
void encapsulate_one(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                     Ipv4Address vtep, PortId port, std::uint32_t flow_hash, std::uint64_t now) {
    const dataplane::UplinkInfo& uplink = *snap.uplink;
    const vxlan::OuterTemplate& t = outer_template(ctx, snap, vni, vtep, port);
    if (!vxlan::encapsulate(m, t, ctx.vxlan_ip_id++, flow_hash)) {
        drop_packet(ctx, m, DropReason::VxlanNoBuffer);
        return;
    }
    // A permanent next hop is already addressed: what send_via_uplink would
    // do for it, without its resolution and MAC writes.
    if (t.has_next_hop_mac && !needs_fitting(m, vxlan::kOuterEthLen, uplink.mtu)) [[likely]] {
        ctx.tx.send(uplink.port, m);
        return;
    }
    send_via_uplink(ctx, uplink, m, uplink.address.contains(vtep) ? vtep : uplink.gateway, now);
}

// A tunnel takes no offload metadata and no inner packet above the inner
// MTU: super-frames are segmented, partial checksums completed and large
// datagrams without DF fragmented before encapsulation (`l3_offset`: the
// inner IPv4 header's), each piece encapsulated on its own.
[[gnu::cold, gnu::noinline]] void encapsulate_pieces(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap,
                                                     rte_mbuf* m, std::uint32_t vni, Ipv4Address vtep, PortId port,
                                                     std::uint32_t flow_hash, std::uint32_t l3_offset,
                                                     std::uint64_t now) {
    rte_mbuf* pieces[kMaxEgressPieces];
    const unsigned n = fit_to_mtu(ctx, m, l3_offset, vxlan::inner_mtu(snap.uplink->mtu), false, pieces);
    for (unsigned i = 0; i < n; ++i) encapsulate_one(ctx, snap, pieces[i], vni, vtep, port, flow_hash, now);
}

void encapsulate(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                 Ipv4Address vtep, PortId port, std::uint32_t flow_hash, std::uint32_t l3_offset, std::uint64_t now) {
    if (needs_fitting(m, l3_offset, vxlan::inner_mtu(snap.uplink->mtu))) [[unlikely]] {
        encapsulate_pieces(ctx, snap, m, vni, vtep, port, flow_hash, l3_offset, now);
        return;
    }
    encapsulate_one(ctx, snap, m, vni, vtep, port, flow_hash, now);
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
    // A frame within the inner MTU without offload metadata needs neither an
    // ICMP error nor fitting (parsing made sure an IPv4 header's length is
    // within the frame): the common case skips reading the inner header.
    if (needs_fitting(m, meta.l3_offset, vxlan::inner_mtu(snap.uplink->mtu))) [[unlikely]] {
        if (too_big_for_the_underlay(ctx, snap, m, now)) return;
        encapsulate_pieces(ctx, snap, m, vni, ip, vtep, meta.flow_hash, meta.l3_offset, now);
        return;
    }
    encapsulate_one(ctx, snap, m, vni, ip, vtep, meta.flow_hash, now);
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
        encapsulate(ctx, snap, copy, segment.vni, peer.ip, peer.port, meta.flow_hash, meta.l3_offset, now);
        ++sent;
    }
    return sent;
}

}  // namespace dpdock::dataplane
