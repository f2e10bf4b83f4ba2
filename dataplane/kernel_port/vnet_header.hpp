// The kernel's virtio-net header (PACKET_VNET_HDR) <-> DPDK's mbuf offload
// fields. This is the convention every stage relies on for packets of kernel
// ports: a NEEDS_CSUM header becomes l2_len/l3_len and RTE_MBUF_F_TX_IPV4|6
// plus RTE_MBUF_F_TX_TCP_CKSUM or _UDP_CKSUM (the L4 checksum field holds the
// pseudo-header sum, as Linux's CHECKSUM_PARTIAL leaves it); a GSO header adds
// RTE_MBUF_F_TX_TCP_SEG or _UDP_SEG, tso_segsz = gso_size and l4_len; DATA_VALID
// becomes RTE_MBUF_F_RX_L4_CKSUM_GOOD. For GSO frames the checksum field keeps
// Linux's value (pseudo-header over the whole super-frame's L4 length; DPDK's
// TSO convention leaves the length out): a kernel receiver expects exactly that.
// Pure functions on the first segment; used by workers.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace dpdock::dataplane {

// struct virtio_net_hdr of <linux/virtio_net.h> (which does not compile as
// C++: it has a member named `class`), in host byte order as packet sockets
// use it on little-endian hosts.
struct VnetHeader {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;
    std::uint16_t gso_size;
    std::uint16_t csum_start;
    std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);

inline constexpr std::uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVnetDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t kVnetGsoNone = 0;
inline constexpr std::uint8_t kVnetGsoTcpv4 = 1;
inline constexpr std::uint8_t kVnetGsoUdp = 3;  // UFO
inline constexpr std::uint8_t kVnetGsoTcpv6 = 4;
inline constexpr std::uint8_t kVnetGsoUdpL4 = 5;
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;

// Sets m's offload fields from the header `h` received with it. False when the
// header does not describe the frame (offsets outside the first segment, an
// L4 protocol other than TCP/UDP, UFO): the caller drops it as bad_header.
bool vnet_header_to_mbuf(const VnetHeader& h, rte_mbuf* m);

// The header to send with m, from its offload fields (all zero without any).
VnetHeader vnet_header_from_mbuf(const rte_mbuf* m);

}  // namespace dpdock::dataplane
