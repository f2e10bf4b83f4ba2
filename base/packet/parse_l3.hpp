// parse_l3() (see parse.hpp), inline: it runs on every received packet inside
// classify_stage's loop, where a call and its spilled result cost a tenth of
// the bridge's whole path. Ethernet and IPv4 are parsed here; VLAN tags,
// IPv6 and ARP out of line (parse.cpp). Worker-safe: no allocation, no locks,
// reads nothing outside the mbuf.
#pragma once

#include <cstdint>
#include <optional>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock {
namespace parse_detail {

inline constexpr rte_be16_t kEtherIpv4 = RTE_BE16(RTE_ETHER_TYPE_IPV4);
inline constexpr rte_be16_t kEtherIpv6 = RTE_BE16(RTE_ETHER_TYPE_IPV6);
inline constexpr rte_be16_t kEtherArp = RTE_BE16(RTE_ETHER_TYPE_ARP);
inline constexpr rte_be16_t kEtherVlan = RTE_BE16(RTE_ETHER_TYPE_VLAN);
inline constexpr rte_be16_t kEtherQinQ = RTE_BE16(RTE_ETHER_TYPE_QINQ);
inline constexpr rte_be16_t kFragMask = RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK);
inline constexpr std::optional<DropReason> kBad = DropReason::BadHeader;

// The first segment of a frame: the mbuf's fields loaded once, before the
// metadata stores (which the compiler must assume alias them).
struct Frame {
    const std::uint8_t* data;
    std::uint32_t data_len;  // first segment
    std::uint32_t pkt_len;   // whole frame

    bool fits(std::uint32_t offset, std::uint32_t len) const { return offset + len <= data_len; }
    template <class H>
    const H* at(std::uint32_t offset) const {
        return reinterpret_cast<const H*>(data + offset);
    }
};

// Out of line (parse.cpp), taking the Frame by value so that it stays in
// registers. Tags after the Ethernet header (at most two, the outermost TCI
// kept): where L3 starts and its ethertype, or !ok when a tag is cut short.
struct L3Start {
    std::uint32_t offset;
    rte_be16_t type;
    bool ok;
};
L3Start skip_vlan_tags(Frame f, PacketMeta& meta, rte_be16_t type);
std::optional<DropReason> parse_ipv6(Frame f, PacketMeta& meta, std::uint32_t l3);
std::optional<DropReason> parse_arp(Frame f, std::uint32_t l3);

// The checks of Linux's br_validate_ipv4 that concern the header's shape:
// version 4, IHL >= 5 and inside the first segment, total length between
// the header and the frame's end.
inline std::optional<DropReason> parse_ipv4(const Frame& f, PacketMeta& meta, std::uint32_t l3) {
    if (!f.fits(l3, sizeof(rte_ipv4_hdr))) return kBad;
    const auto* ip = f.at<rte_ipv4_hdr>(l3);
    const std::uint32_t version_ihl = ip->version_ihl;
    const std::uint32_t ihl = ipv4_header_len(*ip);
    const std::uint32_t total = rte_be_to_cpu_16(ip->total_length);
    // Version 4 with IHL 5..15 is version_ihl 0x45..0x4f: one unsigned compare.
    // Ethernet pads short frames, so the datagram may end before the frame.
    if (version_ihl - 0x45u > 0x0au || !f.fits(l3, ihl) || total < ihl || total > f.pkt_len - l3) return kBad;
    meta.l3_payload = static_cast<std::uint16_t>(total - ihl);
    meta.l4_proto = ip->next_proto_id;
    if ((ip->fragment_offset & kFragMask) != 0) meta.flags |= kFlagFragment;
    return std::nullopt;
}

}  // namespace parse_detail

inline std::optional<DropReason> parse_l3(rte_mbuf* m) {
    using namespace parse_detail;
    const Frame f{rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, m->pkt_len};
    const PortId port = m->port;
    PacketMeta& meta = packet_meta(m);
    meta = PacketMeta{};
    meta.ingress_port = port;
    meta.network = kNoNetwork;
    if (!f.fits(0, sizeof(rte_ether_hdr))) return kBad;
    const auto* eth = f.at<rte_ether_hdr>(0);
    if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
        meta.flags |= kFlagMulticast;
        if (rte_is_broadcast_ether_addr(&eth->dst_addr)) meta.flags |= kFlagBroadcast;
    }
    std::uint32_t offset = sizeof(rte_ether_hdr);
    rte_be16_t type = eth->ether_type;
    if (type == kEtherVlan || type == kEtherQinQ) [[unlikely]] {
        const L3Start start = skip_vlan_tags(f, meta, type);
        if (!start.ok) return kBad;
        offset = start.offset;
        type = start.type;
    }
    meta.l3_offset = static_cast<std::uint16_t>(offset);
    meta.ethertype = Be16::from_raw(type);
    if (type == kEtherIpv4) [[likely]] {
        meta.l3_type = L3Type::Ipv4;
        return parse_ipv4(f, meta, offset);
    }
    if (type == kEtherIpv6) {
        meta.l3_type = L3Type::Ipv6;
        return parse_ipv6(f, meta, offset);
    }
    if (type == kEtherArp) {
        meta.l3_type = L3Type::Arp;
        return parse_arp(f, offset);
    }
    meta.l3_type = L3Type::Other;
    return std::nullopt;
}

}  // namespace dpdock
