#include "base/packet/parse.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>

#include <rte_hash_crc.h>

#include "base/packet/headers.hpp"

namespace dpdock {
namespace {

using namespace parse_detail;

constexpr rte_be16_t kFragOffsetMask = RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK);
constexpr std::uint32_t kHashSeed = 0x9e3779b9;

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

std::optional<DropReason> l4_of_ipv4(const rte_mbuf* m, PacketMeta& meta) {
    const std::uint32_t l3 = meta.l3_offset;
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, l3);
    std::uint32_t ports = 0;
    if ((ip->fragment_offset & kFragOffsetMask) == 0) {  // only the first fragment carries the L4 header
        const std::uint32_t ihl = ipv4_header_len(*ip);
        meta.l4_offset = static_cast<std::uint16_t>(l3 + ihl);
        if (!check_l4(m, meta, meta.l4_offset, l3 + ihl + meta.l3_payload)) return kBad;
        // Fragments of one datagram must hash alike, and only the first has ports.
        if ((meta.flags & kFlagFragment) == 0) ports = l4_ports(m, meta);
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

std::optional<DropReason> l4_of_ipv6(const rte_mbuf* m, PacketMeta& meta) {
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, meta.l3_offset);
    meta.l4_offset = static_cast<std::uint16_t>(meta.l3_offset + sizeof(rte_ipv6_hdr));
    if (!check_l4(m, meta, meta.l4_offset, meta.l4_offset + meta.l3_payload)) return kBad;
    std::uint32_t h = crc_bytes(ip->src_addr, sizeof ip->src_addr + sizeof ip->dst_addr, kHashSeed);
    h = rte_hash_crc_4byte(l4_ports(m, meta), h);
    meta.flow_hash = rte_hash_crc_1byte(meta.l4_proto, h);
    return std::nullopt;
}

std::uint32_t hash_macs(const rte_mbuf* m) {
    return crc_bytes(rte_pktmbuf_mtod(m, const rte_ether_hdr*), 2 * RTE_ETHER_ADDR_LEN, kHashSeed);
}

}  // namespace

namespace parse_detail {

namespace {
constexpr std::uint32_t kMaxVlanTags = 2;
}  // namespace

// Tags after the Ethernet header (at most kMaxVlanTags), see parse_l3.hpp.
L3Start skip_vlan_tags(Frame f, PacketMeta& meta, rte_be16_t type) {
    std::uint32_t offset = sizeof(rte_ether_hdr);
    for (std::uint32_t tags = 0; tags < kMaxVlanTags && (type == kEtherVlan || type == kEtherQinQ); ++tags) {
        if (!f.fits(offset, sizeof(rte_vlan_hdr))) return {offset, type, false};
        const auto* vlan = f.at<rte_vlan_hdr>(offset);
        if (tags == 0) meta.vlan_tci = rte_be_to_cpu_16(vlan->vlan_tci);
        type = vlan->eth_proto;
        offset += sizeof(rte_vlan_hdr);
    }
    meta.flags |= kFlagVlan;
    return {offset, type, true};
}

std::optional<DropReason> parse_ipv6(Frame f, PacketMeta& meta, std::uint32_t l3) {
    if (!f.fits(l3, sizeof(rte_ipv6_hdr))) return kBad;
    const auto* ip = f.at<rte_ipv6_hdr>(l3);
    if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) return kBad;
    const std::uint32_t payload = rte_be_to_cpu_16(ip->payload_len);
    if (l3 + sizeof(rte_ipv6_hdr) + payload > f.pkt_len) return kBad;
    meta.l3_payload = static_cast<std::uint16_t>(payload);
    meta.l4_proto = ip->proto;
    return std::nullopt;
}

// Only Ethernet/IPv4 ARP is accepted, so the ARP responder can trust arp_data.
std::optional<DropReason> parse_arp(Frame f, std::uint32_t l3) {
    if (!f.fits(l3, sizeof(rte_arp_hdr))) return kBad;
    const auto* arp = f.at<rte_arp_hdr>(l3);
    if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || arp->arp_protocol != kEtherIpv4 ||
        arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(std::uint32_t))
        return kBad;
    return std::nullopt;
}

}  // namespace parse_detail

std::optional<DropReason> parse_l4(rte_mbuf* m) {
    PacketMeta& meta = packet_meta(m);
    if (meta.depth == ParseDepth::L4) return std::nullopt;
    // A kernel port's partial checksum arrives as a tx checksum request
    // (dataplane/kernel_port/vnet_header.hpp): the field holds the
    // pseudo-header sum only.
    if ((m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) != 0) {
        meta.l4_checksum = ChecksumState::PseudoHeaderOnly;
    } else if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
        meta.l4_checksum = ChecksumState::Full;
    }
    std::optional<DropReason> refused;
    switch (meta.l3_type) {
    case L3Type::Ipv4: refused = l4_of_ipv4(m, meta); break;
    case L3Type::Ipv6: refused = l4_of_ipv6(m, meta); break;
    default: meta.flow_hash = hash_macs(m); break;
    }
    if (!refused) meta.depth = ParseDepth::L4;
    return refused;
}

}  // namespace dpdock
