#include "dataplane/kernel_port/vnet_header.hpp"

#include <rte_ether.h>
#include <rte_tcp.h>
#include <rte_udp.h>

namespace dpdock::dataplane {
namespace {

constexpr std::uint16_t kTcpCsumOffset = 16;  // offsetof(rte_tcp_hdr, cksum)
constexpr std::uint16_t kUdpCsumOffset = 6;   // offsetof(rte_udp_hdr, dgram_cksum)
static_assert(offsetof(rte_tcp_hdr, cksum) == kTcpCsumOffset);
static_assert(offsetof(rte_udp_hdr, dgram_cksum) == kUdpCsumOffset);

// Length of the Ethernet header (one VLAN tag at most, as the kernel's own
// veth frames have) and the ethertype after it; 0 when the frame is too short.
std::uint16_t l2_header(const rte_mbuf* m, std::uint16_t& ethertype) {
    if (m->data_len < sizeof(rte_ether_hdr)) return 0;
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    ethertype = rte_be_to_cpu_16(eth->ether_type);
    if (ethertype != RTE_ETHER_TYPE_VLAN) return sizeof(rte_ether_hdr);
    if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr)) return 0;
    const auto* vlan = rte_pktmbuf_mtod_offset(m, const rte_vlan_hdr*, sizeof(rte_ether_hdr));
    ethertype = rte_be_to_cpu_16(vlan->eth_proto);
    return sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr);
}

}  // namespace

bool vnet_header_to_mbuf(const VnetHeader& h, rte_mbuf* m) {
    if ((h.flags & kVnetDataValid) != 0) m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    const std::uint8_t gso = h.gso_type & static_cast<std::uint8_t>(~kVnetGsoEcn);
    if ((h.flags & kVnetNeedsCsum) == 0) return gso == kVnetGsoNone;

    std::uint16_t ethertype = 0;
    const std::uint16_t l2 = l2_header(m, ethertype);
    const bool ipv4 = ethertype == RTE_ETHER_TYPE_IPV4;
    if (l2 == 0 || (!ipv4 && ethertype != RTE_ETHER_TYPE_IPV6)) return false;
    const std::uint32_t start = h.csum_start;
    const bool tcp = h.csum_offset == kTcpCsumOffset;
    if (!tcp && h.csum_offset != kUdpCsumOffset) return false;
    const std::uint32_t l4_len = tcp ? sizeof(rte_tcp_hdr) : sizeof(rte_udp_hdr);
    if (start <= l2 || start + l4_len > m->data_len) return false;

    m->l2_len = l2;
    m->l3_len = start - l2;
    m->ol_flags |= (ipv4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
                   (tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
    switch (gso) {
    case kVnetGsoNone:
        return true;
    case kVnetGsoTcpv4:
    case kVnetGsoTcpv6: {
        if (!tcp || ipv4 != (gso == kVnetGsoTcpv4) || h.gso_size == 0) return false;
        const auto* th = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, start);
        const std::uint32_t tcp_len = (th->data_off >> 4) * 4u;
        if (tcp_len < sizeof(rte_tcp_hdr) || start + tcp_len > m->data_len) return false;
        m->l4_len = tcp_len;
        m->tso_segsz = h.gso_size;
        m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
        return true;
    }
    case kVnetGsoUdpL4:
        if (tcp || h.gso_size == 0) return false;
        m->l4_len = sizeof(rte_udp_hdr);
        m->tso_segsz = h.gso_size;
        m->ol_flags |= RTE_MBUF_F_TX_UDP_SEG;
        return true;
    default:  // UFO (kVnetGsoUdp): IP fragmentation by the device, not offered by dpdock
        return false;
    }
}

VnetHeader vnet_header_from_mbuf(const rte_mbuf* m) {
    VnetHeader h{};
    const std::uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
    const bool tcp_seg = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
    const bool udp_seg = (m->ol_flags & RTE_MBUF_F_TX_UDP_SEG) != 0;
    const bool tcp = tcp_seg || l4 == RTE_MBUF_F_TX_TCP_CKSUM;
    if (!tcp && !udp_seg && l4 != RTE_MBUF_F_TX_UDP_CKSUM) return h;
    h.flags = kVnetNeedsCsum;
    h.csum_start = static_cast<std::uint16_t>(m->l2_len + m->l3_len);
    h.csum_offset = tcp ? kTcpCsumOffset : kUdpCsumOffset;
    if (tcp_seg || udp_seg) {
        h.gso_type = udp_seg                                     ? kVnetGsoUdpL4
                     : (m->ol_flags & RTE_MBUF_F_TX_IPV6) != 0 ? kVnetGsoTcpv6
                                                                 : kVnetGsoTcpv4;
        h.gso_size = m->tso_segsz;
        h.hdr_len = static_cast<std::uint16_t>(m->l2_len + m->l3_len + m->l4_len);
    }
    return h;
}

}  // namespace dpdock::dataplane
