#include "vxlan/fastpath/vxlan_header.hpp"

#include <netinet/in.h>

#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

namespace dpdock::vxlan {

static_assert(sizeof(rte_ether_hdr) == kOuterEthLen && sizeof(rte_ipv4_hdr) == kOuterIpLen &&
              sizeof(rte_udp_hdr) == kUdpLen && sizeof(rte_vxlan_hdr) == kVxlanLen);

void write_outer(std::uint8_t* out, const OuterHeader& h, std::uint16_t inner_len, std::uint16_t src_port) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
    std::memset(eth, 0, 2 * RTE_ETHER_ADDR_LEN);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(kOuterIpLen + kUdpLen + kVxlanLen + inner_len));
    ip->packet_id = rte_cpu_to_be_16(h.ip_id);
    ip->fragment_offset = h.df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
    ip->time_to_live = h.ttl;
    ip->next_proto_id = IPPROTO_UDP;
    ip->hdr_checksum = 0;
    ip->src_addr = h.src.be().raw();
    ip->dst_addr = h.dst.be().raw();
    ip->hdr_checksum = rte_ipv4_cksum(ip);

    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(src_port);
    udp->dst_port = rte_cpu_to_be_16(h.dst_port);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(kUdpLen + kVxlanLen + inner_len));
    udp->dgram_cksum = 0;

    auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);
    vx->vx_flags = rte_cpu_to_be_32(std::uint32_t{kFlagVniValid} << 24);
    vx->vx_vni = rte_cpu_to_be_32(h.vni << 8);
}

}  // namespace dpdock::vxlan
