// The VXLAN encapsulation (RFC 7348) as bytes: outer Ethernet, IPv4, UDP and
// VXLAN headers in front of an inner Ethernet frame. Pure functions on
// buffers, used by the worker's encap/decap (dataplane/fastpath/overlay*.cpp),
// the unit tests and the micro-benchmark.
#pragma once

#include <cstdint>

#include "dataplane/packet/net_types.hpp"

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

// Writes the 50 header bytes at `out` for an inner frame of inner_len bytes.
// The outer MAC addresses are left zero: the uplink's next hop fills them.
// UDP checksum 0 (allowed for IPv4, RFC 7348 5.); IPv4 checksum computed.
void write_outer(std::uint8_t* out, const OuterHeader& h, std::uint16_t inner_len, std::uint16_t src_port);

}  // namespace dpdock::vxlan
