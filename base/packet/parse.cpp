#include "base/packet/parse.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>

#include <rte_hash_crc.h>

#include "base/packet/headers.hpp"

namespace dpdock {
namespace {

constexpr rte_be16_t kEtherIpv4 = RTE_BE16(RTE_ETHER_TYPE_IPV4);
constexpr rte_be16_t kEtherIpv6 = RTE_BE16(RTE_ETHER_TYPE_IPV6);
constexpr rte_be16_t kEtherArp = RTE_BE16(RTE_ETHER_TYPE_ARP);
constexpr rte_be16_t kEtherVlan = RTE_BE16(RTE_ETHER_TYPE_VLAN);
constexpr rte_be16_t kEtherQinQ = RTE_BE16(RTE_ETHER_TYPE_QINQ);
constexpr rte_be16_t kFragMask = RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);
constexpr rte_be16_t kFragOffsetMask = RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK);
constexpr std::uint32_t kHashSeed = 0x9e3779b9;
constexpr std::uint32_t kMaxVlanTags = 2;

constexpr std::optional<DropReason> kBad = DropReason::BadHeader;

// CRC over header bytes at any alignment (rte_hash_crc() loads uint64_t
// through a cast, which is undefined on the 2-byte aligned fields we hash).
// len is a multiple of 4.
std::uint32_t crc_bytes(const void* data, std::uint32_t len, std::uint32_t h) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    for (; len >= 8; p += 8, len -= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, sizeof v);
        h = rte_hash_crc_8byte(v, h);
    }
    if (len == 4) {
        std::uint32_t v;
        std::memcpy(&v, p, sizeof v);
        h = rte_hash_crc_4byte(v, h);
    }
    return h;
}

// Checks the TCP/UDP/ICMP header at `l4` against the end of the IP datagram
// and the first segment; other protocols are not ours to validate. Returns
// false when a header we know is cut short.
bool check_l4(const rte_mbuf* m, PacketMeta& meta, std::uint32_t l4, std::uint32_t l3_end) {
    std::uint32_t len;
    switch (meta.l4_proto) {
    case IPPROTO_TCP: {
        const auto* tcp = header_at<const rte_tcp_hdr>(m, l4);
        if (tcp == nullptr) return false;
        len = tcp_header_len(*tcp);
        if (len < sizeof(rte_tcp_hdr)) return false;
        break;
    }
    case IPPROTO_UDP:
        len = sizeof(rte_udp_hdr);
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        len = sizeof(rte_icmp_hdr);
        break;
    default:
        return true;
    }
    if (l4 + len > l3_end || !fits_in_first_segment(m, l4, len)) return false;
    meta.flags |= kFlagL4Valid;
    return true;
}

// Ports of a complete TCP/UDP header as one word (both in wire order), else 0.
std::uint32_t l4_ports(const rte_mbuf* m, const PacketMeta& meta) {
    if ((meta.flags & kFlagL4Valid) == 0 || (meta.l4_proto != IPPROTO_TCP && meta.l4_proto != IPPROTO_UDP)) return 0;
    const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, meta.l4_offset);
    return (std::uint32_t{udp->src_port} << 16) | udp->dst_port;
}

std::optional<DropReason> parse_ipv4(const rte_mbuf* m, PacketMeta& meta) {
    const std::uint32_t l3 = meta.l3_offset;
    const auto* ip = header_at<const rte_ipv4_hdr>(m, l3);
    if (ip == nullptr || (ip->version_ihl >> 4) != 4) return kBad;
    const std::uint32_t ihl = ipv4_header_len(*ip);
    const std::uint32_t total = rte_be_to_cpu_16(ip->total_length);
    // Ethernet pads short frames, so the datagram may end before the frame.
    if (ihl < sizeof(rte_ipv4_hdr) || !fits_in_first_segment(m, l3, ihl) || total < ihl || total > m->pkt_len - l3)
        return kBad;

    meta.l3_payload = static_cast<std::uint16_t>(total - ihl);
    meta.l4_proto = ip->next_proto_id;
    const bool fragment = (ip->fragment_offset & kFragMask) != 0;
    const bool first = (ip->fragment_offset & kFragOffsetMask) == 0;
    if (fragment) meta.flags |= kFlagFragment;

    std::uint32_t ports = 0;
    if (first) {
        meta.l4_offset = static_cast<std::uint16_t>(l3 + ihl);
        if (!check_l4(m, meta, meta.l4_offset, l3 + total)) return kBad;
        // Fragments of one datagram must hash alike, and only the first has ports.
        if (!fragment) ports = l4_ports(m, meta);
    }
    // Source and destination are adjacent: one 8-byte CRC step over both
    // gives the same value as two 4-byte steps, with one instruction less
    // in the dependency chain.
    static_assert(offsetof(rte_ipv4_hdr, dst_addr) == offsetof(rte_ipv4_hdr, src_addr) + 4);
    std::uint64_t addresses;
    std::memcpy(&addresses, &ip->src_addr, sizeof addresses);
    std::uint32_t h = rte_hash_crc_8byte(addresses, kHashSeed);
    h = rte_hash_crc_4byte(ports, h);
    meta.flow_hash = rte_hash_crc_1byte(meta.l4_proto, h);
    return std::nullopt;
}

std::optional<DropReason> parse_ipv6(const rte_mbuf* m, PacketMeta& meta) {
    const std::uint32_t l3 = meta.l3_offset;
    const auto* ip = header_at<const rte_ipv6_hdr>(m, l3);
    if (ip == nullptr || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) return kBad;
    const std::uint32_t payload = rte_be_to_cpu_16(ip->payload_len);
    const std::uint32_t l3_end = l3 + sizeof(rte_ipv6_hdr) + payload;
    if (l3_end > m->pkt_len) return kBad;

    meta.l3_payload = static_cast<std::uint16_t>(payload);
    meta.l4_proto = ip->proto;
    meta.l4_offset = static_cast<std::uint16_t>(l3 + sizeof(rte_ipv6_hdr));
    if (!check_l4(m, meta, meta.l4_offset, l3_end)) return kBad;
    std::uint32_t h = crc_bytes(ip->src_addr, sizeof ip->src_addr + sizeof ip->dst_addr, kHashSeed);
    h = rte_hash_crc_4byte(l4_ports(m, meta), h);
    meta.flow_hash = rte_hash_crc_1byte(meta.l4_proto, h);
    return std::nullopt;
}

std::uint32_t hash_macs(const rte_ether_hdr& eth) { return crc_bytes(&eth, 2 * RTE_ETHER_ADDR_LEN, kHashSeed); }

// Only Ethernet/IPv4 ARP is accepted, so the ARP responder can trust arp_data.
std::optional<DropReason> parse_arp(const rte_mbuf* m, const PacketMeta& meta) {
    const auto* arp = header_at<const rte_arp_hdr>(m, meta.l3_offset);
    if (arp == nullptr || arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || arp->arp_protocol != kEtherIpv4 ||
        arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(std::uint32_t))
        return kBad;
    return std::nullopt;
}

}  // namespace

std::optional<DropReason> parse_packet(rte_mbuf* m) {
    PacketMeta& meta = packet_meta(m);
    meta = PacketMeta{};
    meta.ingress_port = m->port;
    meta.network = kNoNetwork;
    // A kernel port's partial checksum arrives as a tx checksum request
    // (dataplane/kernel_port/vnet_header.hpp): the field holds the
    // pseudo-header sum only.
    if ((m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) != 0) {
        meta.l4_checksum = ChecksumState::PseudoHeaderOnly;
    } else if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
        meta.l4_checksum = ChecksumState::Full;
    } else {
        meta.l4_checksum = ChecksumState::Unknown;
    }

    const auto* eth = header_at<const rte_ether_hdr>(m, 0);
    if (eth == nullptr) return kBad;
    if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
        meta.flags |= kFlagMulticast;
        if (rte_is_broadcast_ether_addr(&eth->dst_addr)) meta.flags |= kFlagBroadcast;
    }

    std::uint32_t offset = sizeof(rte_ether_hdr);
    rte_be16_t type = eth->ether_type;
    for (std::uint32_t tags = 0; tags < kMaxVlanTags && (type == kEtherVlan || type == kEtherQinQ); ++tags) {
        const auto* vlan = header_at<const rte_vlan_hdr>(m, offset);
        if (vlan == nullptr) return kBad;
        if (tags == 0) meta.vlan_tci = rte_be_to_cpu_16(vlan->vlan_tci);
        type = vlan->eth_proto;
        offset += sizeof(rte_vlan_hdr);
    }
    if (offset != sizeof(rte_ether_hdr)) meta.flags |= kFlagVlan;
    meta.l3_offset = static_cast<std::uint16_t>(offset);
    meta.ethertype = Be16::from_raw(type);

    switch (type) {
    case kEtherIpv4:
        meta.l3_type = L3Type::Ipv4;
        return parse_ipv4(m, meta);
    case kEtherIpv6:
        meta.l3_type = L3Type::Ipv6;
        return parse_ipv6(m, meta);
    case kEtherArp:
        meta.l3_type = L3Type::Arp;
        meta.flow_hash = hash_macs(*eth);
        return parse_arp(m, meta);
    default:
        meta.l3_type = L3Type::Other;
        meta.flow_hash = hash_macs(*eth);
        return std::nullopt;
    }
}

}  // namespace dpdock
