// The VXLAN encapsulation (RFC 7348) as bytes: outer Ethernet, IPv4, UDP and
// VXLAN headers in front of an inner Ethernet frame. Pure functions on
// buffers, header-only (inlined into the encap path), used by the worker's
// encap/decap (dataplane/fastpath/overlay*.cpp), the unit tests and the
// micro-benchmark.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "base/packet/checksum.hpp"
#include "base/packet/net_types.hpp"

namespace dpdock::vxlan {

inline constexpr std::uint16_t kOuterEthLen = 14;
inline constexpr std::uint16_t kOuterIpLen = 20;
inline constexpr std::uint16_t kUdpLen = 8;
inline constexpr std::uint16_t kVxlanLen = 8;
// Everything in front of the inner frame: 50 bytes.
inline constexpr std::uint16_t kEncapLen = kOuterEthLen + kOuterIpLen + kUdpLen + kVxlanLen;
inline constexpr std::uint8_t kFlagVniValid = 0x08;  // the I flag, first byte of the VXLAN header
// RFC 7348 5.: source ports from the dynamic range 49152-65535.
inline constexpr std::uint16_t kSourcePortBase = 49152;

struct OuterHeader {
    Ipv4Address src;  // this host's uplink address
    Ipv4Address dst;  // the remote VTEP
    std::uint16_t dst_port = 4789;
    std::uint32_t vni = 0;
    std::uint8_t ttl = 64;
    bool df = false;
};

// The outer headers towards one VTEP with what varies per packet left out:
// built once (build_template), then copied in front of every frame to that
// VTEP with the lengths, IPv4 id and checksum and UDP source port written
// (stamp). One cache line.
struct alignas(64) OuterTemplate {
    std::array<std::uint8_t, kEncapLen> bytes{};
    // The destination MAC is written: the next hop is a permanent neighbour
    // (a configured gateway MAC). Otherwise both MACs are the sender's job.
    bool has_next_hop_mac = false;
    std::uint16_t partial_sum = 0;  // the IPv4 header's constant words, summed and folded
    std::uint64_t serial = 0;       // whose it is (OuterTemplates); 0: none
};
static_assert(sizeof(OuterTemplate) == 64);

// The outer UDP source port for an inner flow: the same flow always takes the
// same port, so the underlay's ECMP keeps it on one path and in order.
constexpr std::uint16_t source_port(std::uint32_t flow_hash) {
    // Fold the high bits in: flow hashes differ most in their low bits, but
    // some (MAC-based) only in the high ones.
    return static_cast<std::uint16_t>(kSourcePortBase | ((flow_hash ^ (flow_hash >> 16)) & 0x3fff));
}

static_assert(sizeof(rte_ether_hdr) == kOuterEthLen && sizeof(rte_ipv4_hdr) == kOuterIpLen &&
              sizeof(rte_udp_hdr) == kUdpLen && sizeof(rte_vxlan_hdr) == kVxlanLen);

// Fills `t` for frames to h.dst: outer Ethernet from `src_mac` to
// `next_hop_mac` (nullptr: left zero, for the sender to fill), IPv4 with the
// addresses, no options, TTL and DF from `h`, UDP to h.dst_port with checksum
// 0 (allowed for IPv4, RFC 7348 5.), VXLAN with the I flag and h.vni. The
// lengths, id, checksum and source port stay zero: stamp() writes them.
inline void build_template(OuterTemplate& t, const OuterHeader& h, MacAddress src_mac, const MacAddress* next_hop_mac) {
    t.bytes.fill(0);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(t.bytes.data());
    if (next_hop_mac != nullptr) {
        std::memcpy(eth->dst_addr.addr_bytes, next_hop_mac->bytes().data(), RTE_ETHER_ADDR_LEN);
    }
    std::memcpy(eth->src_addr.addr_bytes, src_mac.bytes().data(), RTE_ETHER_ADDR_LEN);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

    const std::uint16_t frag = h.df ? RTE_IPV4_HDR_DF_FLAG : 0;
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->fragment_offset = rte_cpu_to_be_16(frag);
    ip->time_to_live = h.ttl;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = h.src.be().raw();
    ip->dst_addr = h.dst.be().raw();

    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->dst_port = rte_cpu_to_be_16(h.dst_port);

    auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);
    vx->vx_flags = rte_cpu_to_be_32(std::uint32_t{kFlagVniValid} << 24);
    vx->vx_vni = rte_cpu_to_be_32(h.vni << 8);

    // The header's constant 16-bit words as numbers: version/IHL/TOS, flags,
    // TTL/protocol, the addresses' halves (length, id and checksum are 0).
    const std::uint16_t ttl_proto = static_cast<std::uint16_t>(h.ttl << 8 | IPPROTO_UDP);
    t.partial_sum = csum_fold(0x4500u + frag + ttl_proto + (h.src.host() >> 16) + (h.src.host() & 0xffff) +
                              (h.dst.host() >> 16) + (h.dst.host() & 0xffff));
    t.has_next_hop_mac = next_hop_mac != nullptr;
}

// Writes the 50 header bytes at `out` for an inner frame of inner_len bytes:
// `t` with the IPv4 and UDP lengths, the IPv4 id and checksum and the UDP
// source port. The checksum is the template's partial sum plus the two
// varying words, not read back from the header: a load wider than the stores
// just made would be a store-forwarding stall.
inline void stamp(std::uint8_t* out, const OuterTemplate& t, std::uint16_t inner_len, std::uint16_t ip_id,
                  std::uint16_t src_port) {
    std::memcpy(out, t.bytes.data(), kEncapLen);
    const auto ip_len = static_cast<std::uint16_t>(kOuterIpLen + kUdpLen + kVxlanLen + inner_len);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(out + kOuterEthLen);
    ip->total_length = rte_cpu_to_be_16(ip_len);
    ip->packet_id = rte_cpu_to_be_16(ip_id);
    const std::uint16_t sum = csum_fold(std::uint32_t{t.partial_sum} + ip_len + ip_id);
    ip->hdr_checksum = rte_cpu_to_be_16(static_cast<std::uint16_t>(~sum));
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(src_port);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(kUdpLen + kVxlanLen + inner_len));
}

// Whether `t` holds the headers towards `vtep` for `vni` (the rest of its
// inputs are the caller's to check: OuterTemplates keys them by snapshot).
inline bool leads_to(const OuterTemplate& t, Ipv4Address vtep, std::uint32_t vni) {
    std::uint32_t dst;
    std::uint32_t vx_vni;
    std::memcpy(&dst, t.bytes.data() + kOuterEthLen + offsetof(rte_ipv4_hdr, dst_addr), sizeof dst);
    std::memcpy(&vx_vni, t.bytes.data() + kOuterEthLen + kOuterIpLen + kUdpLen + offsetof(rte_vxlan_hdr, vx_vni),
                sizeof vx_vni);
    return dst == vtep.be().raw() && vx_vni == rte_cpu_to_be_32(vni << 8);
}

}  // namespace dpdock::vxlan
