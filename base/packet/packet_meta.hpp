// PacketMeta: what parsing (base/packet/parse.hpp) learned about a packet,
// stored in the mbuf private area so later stages never re-parse. Written by the worker that
// received the mbuf, read only by the worker that forwards it: the same one,
// or the one it handed the packet to (dataplane/fastpath/spread.hpp: the
// ring's release/acquire hands the metadata over with the mbuf).
#pragma once

#include <cstdint>
#include <type_traits>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/net_types.hpp"

namespace dpdock {

enum class L3Type : std::uint8_t { None, Ipv4, Ipv6, Arp, Other };

// What we know about the L4 checksum of a received packet. A container port
// with the kernel's offload metadata hands us packets whose checksum field
// holds only the pseudo-header sum (RTE_MBUF_F_TX_TCP_CKSUM/_UDP_CKSUM or
// TX_TCP_SEG in ol_flags): PseudoHeaderOnly. NAT then patches addresses
// only (checksum.hpp); the checksum is completed where the packet leaves
// for a port without offloads (dataplane/fastpath/egress_offload.hpp).
enum class ChecksumState : std::uint8_t { Unknown, Full, PseudoHeaderOnly };

// How deep a packet was parsed. L3: Ethernet, VLAN and the L3 header (every
// field below except l4_offset, kFlagL4Valid, l4_checksum and flow_hash,
// which hold zero); L4: all of them. Bridging needs only L3; a stage that
// reads an L4 field takes packets the engine parsed to L4 (parse_l4()).
enum class ParseDepth : std::uint8_t { L3, L4 };

enum PacketFlags : std::uint8_t {
    kFlagBroadcast = 1 << 0,
    kFlagMulticast = 1 << 1,  // group bit set, broadcast included
    kFlagVlan = 1 << 2,       // at least one 802.1Q/802.1ad tag
    kFlagFragment = 1 << 3,   // IPv4 fragment (MF set or offset != 0)
    kFlagL4Valid = 1 << 4,    // the L4 header is fully inside the frame
};

struct PacketMeta {
    std::uint16_t l3_offset;   // bytes from frame start to the L3 header (after VLAN tags)
    std::uint16_t l4_offset;   // bytes from frame start to the L4 header; 0 when none (L4 depth)
    std::uint16_t l3_payload;  // IPv4 total length minus header, as the header declares
    std::uint16_t vlan_tci;    // outermost tag's TCI in host order, when kFlagVlan
    Be16 ethertype;            // innermost ethertype (after tags)
    L3Type l3_type;
    std::uint8_t l4_proto;     // IPPROTO_* for IPv4/IPv6, else 0
    std::uint8_t flags;        // PacketFlags
    ChecksumState l4_checksum;  // L4 depth
    ParseDepth depth;
    PortId ingress_port;
    NetworkId network;
    std::uint32_t flow_hash;   // hash of the L3/L4 5-tuple (or MACs), for spreading and VXLAN sport (L4 depth)
};

// The largest burst any stage takes (the size of its per-burst arrays); the
// `burst` setting is validated against it (config/validate.cpp).
inline constexpr std::uint16_t kMaxBurst = 256;

inline constexpr std::uint16_t kMbufPrivSize = 64;  // mempool private area; a multiple of RTE_MBUF_PRIV_ALIGN
static_assert(sizeof(PacketMeta) <= kMbufPrivSize);
static_assert(kMbufPrivSize % RTE_MBUF_PRIV_ALIGN == 0);
static_assert(std::is_trivially_copyable_v<PacketMeta>);

inline PacketMeta& packet_meta(rte_mbuf* m) { return *static_cast<PacketMeta*>(rte_mbuf_to_priv(m)); }

// True when every field of `meta` is filled (parse_l4() ran): what a stage
// reading an L4 field checks with DPDOCK_DCHECK.
inline bool parsed_to_l4(const PacketMeta& meta) { return meta.depth == ParseDepth::L4; }

}  // namespace dpdock
