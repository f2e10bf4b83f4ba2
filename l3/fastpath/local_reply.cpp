#include "l3/fastpath/local_reply.hpp"

#include <netinet/in.h>

#include <cstring>

#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"

namespace dpdock::l3 {
namespace {

constexpr std::uint8_t kReplyTtl = 64;  // Linux's default for packets it originates
constexpr rte_be16_t kFragMask = RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);

// Pointers, not references: ARP and IPv4 header fields are packed.
void put_mac(rte_ether_addr* to, MacAddress mac) { std::memcpy(to->addr_bytes, mac.bytes().data(), 6); }

MacAddress mac_of(const rte_ether_addr& a) {
    std::array<std::uint8_t, 6> b;
    std::memcpy(b.data(), a.addr_bytes, 6);
    return MacAddress(b);
}

// The 16-bit word holding ICMP type and code, as it sits on the wire.
std::uint16_t type_code_word(const rte_icmp_hdr& icmp) {
    std::uint16_t w;
    std::memcpy(&w, &icmp.icmp_type, sizeof w);
    return w;
}

}  // namespace

std::optional<DropReason> answer_arp(rte_mbuf* m, const PacketMeta& meta, MacAddress own_mac, Ipv4Address own_ip) {
    // parse_packet() accepted only Ethernet/IPv4 ARP that fits the first segment.
    auto* arp = header_at<rte_arp_hdr>(m, meta.l3_offset);
    const std::uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
    const MacAddress sender = mac_of(arp->arp_data.arp_sha);
    if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) || sender.is_multicast() || sender.is_zero()) {
        return DropReason::BadHeader;
    }
    if (op != RTE_ARP_OP_REQUEST || arp->arp_data.arp_tip != own_ip.be().raw()) return DropReason::ArpIgnored;

    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    put_mac(&eth->dst_addr, sender);
    put_mac(&eth->src_addr, own_mac);
    arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
    arp->arp_data.arp_tha = arp->arp_data.arp_sha;
    arp->arp_data.arp_tip = arp->arp_data.arp_sip;
    put_mac(&arp->arp_data.arp_sha, own_mac);
    arp->arp_data.arp_sip = own_ip.be().raw();
    return std::nullopt;
}

std::optional<DropReason> answer_echo(rte_mbuf* m, const PacketMeta& meta, MacAddress own_mac) {
    auto* ip = header_at<rte_ipv4_hdr>(m, meta.l3_offset);
    // A header that sums to anything but 0xffff was damaged on the way.
    if (rte_raw_cksum(ip, ipv4_header_len(*ip)) != 0xffff) return DropReason::BadHeader;
    if ((ip->fragment_offset & kFragMask) != 0 || ip->next_proto_id != IPPROTO_ICMP) return DropReason::NotServed;
    std::uint16_t sum = 0;
    if (rte_raw_cksum_mbuf(m, meta.l4_offset, meta.l3_payload, &sum) != 0 || sum != 0xffff) {
        return DropReason::BadHeader;
    }
    auto* icmp = header_at<rte_icmp_hdr>(m, meta.l4_offset);
    if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST) return DropReason::NotServed;

    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    eth->dst_addr = eth->src_addr;
    put_mac(&eth->src_addr, own_mac);
    const rte_be32_t requester = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = requester;
    ip->time_to_live = kReplyTtl;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    const std::uint16_t old_word = type_code_word(*icmp);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    icmp->icmp_cksum = csum_update16(icmp->icmp_cksum, old_word, type_code_word(*icmp));
    return std::nullopt;
}

}  // namespace dpdock::l3
