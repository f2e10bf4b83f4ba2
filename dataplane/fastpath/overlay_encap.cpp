// send_to_vtep / replicate_to_peers: VXLAN encapsulation. See overlay.hpp.
#include <rte_mbuf.h>

#include "dataplane/fastpath/icmp_error.hpp"
#include "dataplane/fastpath/offload_completion.hpp"
#include "dataplane/fastpath/overlay.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::dataplane {
namespace {

// Prepends the outer headers to `m` (its own mbuf: not shared) and sends it to
// `vtep` through the uplink's next hop. The flow hash is passed in because a
// copy's private area (PacketMeta) is not copied with it.
void encapsulate_one(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                 Ipv4Address vtep, std::uint32_t flow_hash, std::uint64_t now) {
    const bridge::UplinkInfo& uplink = *snap.uplink;
    const auto inner_len = static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m));
    auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, vxlan::kEncapLen));
    if (out == nullptr) {
        drop_packet(ctx, m, DropReason::VxlanNoBuffer);
        return;
    }
    vxlan::OuterHeader h;
    h.src = uplink.address.address();
    h.dst = vtep;
    h.dst_port = snap.vxlan.port;
    h.vni = vni;
    h.ttl = snap.vxlan.ttl;
    h.df = snap.vxlan.df;
    h.ip_id = ctx.vxlan_ip_id++;
    vxlan::write_outer(out, h, inner_len, vxlan::source_port(flow_hash));
    const Ipv4Address next_hop = uplink.address.contains(vtep) ? vtep : uplink.gateway;
    send_via_uplink(ctx, uplink, m, next_hop, now);
}

// An inner IPv4 packet that would make the outer one larger than the uplink
// MTU: with DF, fragmentation needed goes back to the container from its
// gateway, with the inner MTU (uplink MTU - 50); without DF it is dropped
// (dpdock does not fragment). True when `m` was consumed.
bool too_big_for_the_underlay(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m,
                              std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    if (meta.l3_type != L3Type::Ipv4) return false;
    const auto& ip = *rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_offset);
    const std::uint32_t mtu = snap.uplink->mtu > vxlan::kEncapLen ? snap.uplink->mtu - vxlan::kEncapLen : 0;
    if (ipv4_wire_length(*m, ip) <= mtu) return false;
    if ((ip.fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) == 0) {
        drop_packet(ctx, m, DropReason::MtuExceeded);
        return true;
    }
    const ForwardError err{DropReason::FragNeeded, kIcmpDestUnreachable, kIcmpFragNeeded, static_cast<std::uint16_t>(mtu)};
    const bridge::NetworkInfo& net = snap.networks[meta.network];
    return_icmp_error(ctx, m, meta, err, net.gateway_ip, net.gateway_mac, now);
    drop_packet(ctx, m, err.reason);
    return true;
}

// A container's super-frame is segmented, partial checksums finished, before
// the outer headers go on: the tunnel carries plain packets.
void encapsulate(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m, std::uint32_t vni,
                 Ipv4Address vtep, std::uint32_t flow_hash, std::uint64_t now) {
    if ((m->ol_flags & kOffloadRequests) == 0) {
        encapsulate_one(ctx, snap, m, vni, vtep, flow_hash, now);
        return;
    }
    rte_mbuf* out[kMaxFinishedSegments];
    const unsigned n = finish_offloads(ctx, m, out);
    for (unsigned i = 0; i < n; ++i) encapsulate_one(ctx, snap, out[i], vni, vtep, flow_hash, now);
}

}  // namespace

void send_to_vtep(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m, PortId vtep,
                  std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    const std::uint32_t vni = snap.networks[meta.network].vni;
    const Ipv4Address ip = ctx.vteps->address(vtep);
    if (vni == 0 || !snap.uplink || ip.host() == 0) {
        drop_packet(ctx, m, DropReason::NoRoute);
        return;
    }
    if (too_big_for_the_underlay(ctx, snap, m, now)) return;
    encapsulate(ctx, snap, m, vni, ip, meta.flow_hash, now);
}

unsigned replicate_to_peers(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m,
                            std::uint64_t now) {
    const PacketMeta& meta = packet_meta(m);
    const bridge::NetworkInfo& network = snap.networks[meta.network];
    if (network.vni == 0 || network.peers.empty() || !snap.uplink ||
        !snap.port_in_network(meta.ingress_port, meta.network)) {
        return 0;
    }
    unsigned sent = 0;
    for (const bridge::Vtep& peer : network.peers) {
        // A deep copy, since every peer needs its own outer header; flooded
        // frames are the rare case, unicast is encapsulated in place.
        rte_mbuf* copy = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
        if (copy == nullptr) {
            sync::bump(ctx.counters->drops[static_cast<std::size_t>(DropReason::VxlanNoBuffer)]);
            continue;
        }
        encapsulate(ctx, snap, copy, network.vni, peer.ip, meta.flow_hash, now);
        ++sent;
    }
    return sent;
}

}  // namespace dpdock::dataplane
