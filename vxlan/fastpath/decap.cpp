// VXLAN decapsulation. See decap.hpp.
#include "vxlan/fastpath/decap.hpp"

#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "base/packet/headers.hpp"
#include "base/packet/parse.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::vxlan {
namespace {

// Where the IPv4 packet ends: the frame may carry Ethernet padding after it.
std::uint32_t ip_end(const PacketMeta& meta) { return std::uint32_t{meta.l4_offset} + meta.l3_payload; }

// The network and sender VTEP of a VXLAN packet, or why it is refused.
Decapsulated identify(rte_mbuf* m, const PacketMeta& meta, const Segments& segments, const Settings& settings,
                      VtepTable& vteps, std::uint64_t now) {
    const std::uint32_t vxlan_at = std::uint32_t{meta.l4_offset} + kUdpLen;
    const std::uint32_t end = ip_end(meta);
    if (end > rte_pktmbuf_pkt_len(m) || end < vxlan_at + kVxlanLen + RTE_ETHER_HDR_LEN ||
        rte_pktmbuf_data_len(m) < vxlan_at + kVxlanLen) {
        return {.refused = DropReason::VxlanShort};
    }
    const auto* vx = rte_pktmbuf_mtod_offset(m, const rte_vxlan_hdr*, vxlan_at);  // checked above
    if ((rte_be_to_cpu_32(vx->vx_flags) >> 24 & kFlagVniValid) == 0) return {.refused = DropReason::VxlanBadFlags};
    Decapsulated d;
    d.network = segments.network_of(rte_be_to_cpu_32(vx->vx_vni) >> 8);
    if (d.network == kNoNetwork) return {.refused = DropReason::VxlanUnknownVni};
    const Ipv4Address sender =
        Ipv4Address::from_be(Be32::from_raw(header_at<const rte_ipv4_hdr>(m, meta.l3_offset)->src_addr));
    for (const Peer& peer : segments.of(d.network).peers) {
        if (peer.ip == sender) d.vtep = peer.port;
    }
    if (d.vtep == kNoPort && settings.learn_unknown_peers) d.vtep = vteps.learn(sender, now);
    if (d.vtep == kNoPort) return {.refused = DropReason::VxlanUnknownPeer};
    return d;
}

}  // namespace

bool is_for_this_vtep(const rte_mbuf* m, const PacketMeta& meta, Ipv4Address host, const Settings& settings) {
    if (meta.l3_type != L3Type::Ipv4 || meta.l4_proto != IPPROTO_UDP || (meta.flags & kFlagL4Valid) == 0 ||
        (meta.flags & kFlagFragment) != 0) {
        return false;
    }
    const auto* ip = header_at<const rte_ipv4_hdr>(m, meta.l3_offset);
    const auto* udp = header_at<const rte_udp_hdr>(m, meta.l4_offset);
    return ip->dst_addr == host.be().raw() && udp->dst_port == rte_cpu_to_be_16(settings.port);
}

Decapsulated decapsulate(rte_mbuf* m, const Segments& segments, const Settings& settings, VtepTable& vteps,
                         std::uint64_t now) {
    const PacketMeta outer = packet_meta(m);
    Decapsulated d = identify(m, outer, segments, settings, vteps, now);
    if (!d.accepted()) return d;
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - ip_end(outer)));
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(outer.l4_offset + kUdpLen + kVxlanLen));
    if (auto reason = parse_packet(m)) return {.refused = *reason};
    PacketMeta& meta = packet_meta(m);
    meta.network = d.network;
    meta.ingress_port = d.vtep;
    return d;
}

}  // namespace dpdock::vxlan
