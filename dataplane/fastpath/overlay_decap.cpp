// overlay_decap_stage: VXLAN arriving on the uplink. See overlay.hpp.
#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "dataplane/fastpath/overlay.hpp"
#include "base/packet/headers.hpp"
#include "base/packet/parse.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::dataplane {
namespace {

// UDP to the host address at the VXLAN port: ours to decapsulate or drop.
// Fragments are not reassembled (a VTEP sends them only with DF clear and an
// underlay MTU too small for the overlay's): they take the uplink's path.
bool is_vxlan(rte_mbuf* m, const PacketMeta& meta, Ipv4Address host, std::uint16_t port) {
    if (meta.l3_type != L3Type::Ipv4 || meta.l4_proto != IPPROTO_UDP || (meta.flags & kFlagL4Valid) == 0 ||
        (meta.flags & kFlagFragment) != 0) {
        return false;
    }
    const auto* ip = header_at<const rte_ipv4_hdr>(m, meta.l3_offset);
    const auto* udp = header_at<const rte_udp_hdr>(m, meta.l4_offset);
    return ip->dst_addr == host.be().raw() && udp->dst_port == rte_cpu_to_be_16(port);
}

// Where the IPv4 packet ends: the frame may carry Ethernet padding after it.
std::uint32_t ip_end(const PacketMeta& meta) { return std::uint32_t{meta.l4_offset} + meta.l3_payload; }

// The network and sender VTEP of a VXLAN packet, or why it is refused.
struct Source {
    NetworkId network = kNoNetwork;
    PortId vtep = kNoPort;
    std::optional<DropReason> refused;
};

Source classify(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, const PacketMeta& meta,
                std::uint64_t now) {
    const std::uint32_t vxlan_at = std::uint32_t{meta.l4_offset} + vxlan::kUdpLen;
    const std::uint32_t end = ip_end(meta);
    if (end > rte_pktmbuf_pkt_len(m) || end < vxlan_at + vxlan::kVxlanLen + RTE_ETHER_HDR_LEN ||
        rte_pktmbuf_data_len(m) < vxlan_at + vxlan::kVxlanLen) {
        return {.refused = DropReason::VxlanShort};
    }
    const auto* vx = rte_pktmbuf_mtod_offset(m, const rte_vxlan_hdr*, vxlan_at);  // checked above
    if ((rte_be_to_cpu_32(vx->vx_flags) >> 24 & vxlan::kFlagVniValid) == 0) return {.refused = DropReason::VxlanBadFlags};
    const std::uint32_t vni = rte_be_to_cpu_32(vx->vx_vni) >> 8;
    Source s;
    for (std::size_t id = 0; id < snap.networks.size(); ++id) {
        if (snap.networks[id].vni == vni && vni != 0) s.network = static_cast<NetworkId>(id);
    }
    if (s.network == kNoNetwork) return {.refused = DropReason::VxlanUnknownVni};
    const Ipv4Address sender = Ipv4Address::from_be(
        Be32::from_raw(header_at<const rte_ipv4_hdr>(m, meta.l3_offset)->src_addr));
    for (const dataplane::Vtep& peer : snap.networks[s.network].peers) {
        if (peer.ip == sender) s.vtep = peer.port;
    }
    // Learned peers are bounded and aged (vtep_table.hpp): spoofed sources cannot keep their slots.
    if (s.vtep == kNoPort && snap.vxlan.learn_unknown_peers) s.vtep = ctx.vteps->learn(sender, now);
    if (s.vtep == kNoPort) return {.refused = DropReason::VxlanUnknownPeer};
    return s;
}

}  // namespace

std::uint16_t overlay_decap_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                                  std::uint16_t n, rte_mbuf** inner, std::uint16_t& n_inner, std::uint64_t now) {
    const Ipv4Address host = snap.uplink->address.address();
    std::uint16_t kept = 0;
    n_inner = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const PacketMeta& outer = packet_meta(m);
        if (!is_vxlan(m, outer, host, snap.vxlan.port)) {
            pkts[kept++] = m;
            continue;
        }
        const Source source = classify(ctx, snap, m, outer, now);
        if (source.refused) {
            drop_packet(ctx, m, *source.refused);
            continue;
        }
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - ip_end(outer)));
        rte_pktmbuf_adj(m, static_cast<std::uint16_t>(outer.l4_offset + vxlan::kUdpLen + vxlan::kVxlanLen));
        if (auto reason = parse_packet(m)) {
            drop_packet(ctx, m, *reason);
            continue;
        }
        PacketMeta& meta = packet_meta(m);
        meta.network = source.network;
        meta.ingress_port = source.vtep;
        inner[n_inner++] = m;
    }
    return kept;
}

}  // namespace dpdock::dataplane
