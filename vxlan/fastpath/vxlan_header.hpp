// The VXLAN encapsulation (RFC 7348) as bytes: outer Ethernet, IPv4, UDP and
// VXLAN headers in front of an inner Ethernet frame. Pure functions on
// buffers, header-only (inlined into the encap path), used by the worker's
// encap/decap (dataplane/fastpath/overlay*.cpp), the unit tests and the
// micro-benchmark.
#pragma once

#include <netinet/in.h>

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
    std::uint16_t ip_id = 0;
};

// The outer UDP source port for an inner flow: the same flow always takes the
// same port, so the underlay's ECMP keeps it on one path and in order.
constexpr std::uint16_t source_port(std::uint32_t flow_hash) {
    // Fold the high bits in: flow hashes differ most in their low bits, but
    // some (MAC-based) only in the high ones.
    return static_cast<std::uint16_t>(kSourcePortBase | ((flow_hash ^ (flow_hash >> 16)) & 0x3fff));
}

static_assert(sizeof(rte_ether_hdr) == kOuterEthLen && sizeof(rte_ipv4_hdr) == kOuterIpLen &&
              sizeof(rte_udp_hdr) == kUdpLen && sizeof(rte_vxlan_hdr) == kVxlanLen);

// Writes the 50 header bytes at `out` for an inner frame of inner_len bytes.
// The outer MAC addresses are left zero: the uplink's next hop fills them.
// UDP checksum 0 (allowed for IPv4, RFC 7348 5.); IPv4 checksum computed.
// Inline, and the checksum summed from the values rather than read back from
// the header: both a header read back and an OuterHeader passed through the
// stack to another translation unit were loads wider than the stores just
// made, each a store-forwarding stall (together a fifth of the encap path).
inline void write_outer(std::uint8_t* out, const OuterHeader& h, std::uint16_t inner_len, std::uint16_t src_port) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(out);
    std::memset(eth, 0, 2 * RTE_ETHER_ADDR_LEN);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

    const auto ip_len = static_cast<std::uint16_t>(kOuterIpLen + kUdpLen + kVxlanLen + inner_len);
    const std::uint16_t frag = h.df ? RTE_IPV4_HDR_DF_FLAG : 0;
    const std::uint16_t ttl_proto = static_cast<std::uint16_t>(h.ttl << 8 | IPPROTO_UDP);
    // The header's 16-bit words as numbers: version/IHL/TOS, length, id,
    // flags, TTL/protocol, the addresses' halves (the checksum word is 0).
    const std::uint32_t sum = 0x4500u + ip_len + h.ip_id + frag + ttl_proto + (h.src.host() >> 16) +
                              (h.src.host() & 0xffff) + (h.dst.host() >> 16) + (h.dst.host() & 0xffff);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(ip_len);
    ip->packet_id = rte_cpu_to_be_16(h.ip_id);
    ip->fragment_offset = rte_cpu_to_be_16(frag);
    ip->time_to_live = h.ttl;
    ip->next_proto_id = IPPROTO_UDP;
    ip->hdr_checksum = rte_cpu_to_be_16(static_cast<std::uint16_t>(~csum_fold(sum)));
    ip->src_addr = h.src.be().raw();
    ip->dst_addr = h.dst.be().raw();

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
