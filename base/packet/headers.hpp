// Bounds-checked views of DPDK header structs inside an mbuf. A view is a
// pointer into the first segment, or nullptr when the header would run past
// that segment's data_len: headers split across segments count as malformed,
// which keeps every later stage a plain pointer access.
// Header-only and allocation-free; called per packet on worker lcores.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

namespace dpdock {

template <typename T>
concept WireHeader =
    std::same_as<std::remove_const_t<T>, rte_ether_hdr> || std::same_as<std::remove_const_t<T>, rte_vlan_hdr> ||
    std::same_as<std::remove_const_t<T>, rte_ipv4_hdr> || std::same_as<std::remove_const_t<T>, rte_ipv6_hdr> ||
    std::same_as<std::remove_const_t<T>, rte_udp_hdr> || std::same_as<std::remove_const_t<T>, rte_tcp_hdr> ||
    std::same_as<std::remove_const_t<T>, rte_icmp_hdr> || std::same_as<std::remove_const_t<T>, rte_arp_hdr>;

// True when [offset, offset + len) lies inside the first segment.
inline bool fits_in_first_segment(const rte_mbuf* m, std::uint32_t offset, std::uint32_t len) {
    return offset + len <= m->data_len;
}

// Header of type H at byte `offset` from the frame start, or nullptr. Use
// `header_at<const rte_ipv4_hdr>` for a read-only view.
template <WireHeader H>
inline H* header_at(rte_mbuf* m, std::uint32_t offset) {
    if (!fits_in_first_segment(m, offset, sizeof(H))) return nullptr;
    return rte_pktmbuf_mtod_offset(m, H*, offset);
}

template <WireHeader H>
inline const H* header_at(const rte_mbuf* m, std::uint32_t offset) {
    if (!fits_in_first_segment(m, offset, sizeof(H))) return nullptr;
    return rte_pktmbuf_mtod_offset(m, const H*, offset);
}

// `len` raw bytes at `offset` (options, variable-length headers), or nullptr.
inline std::uint8_t* bytes_at(rte_mbuf* m, std::uint32_t offset, std::uint32_t len) {
    if (!fits_in_first_segment(m, offset, len)) return nullptr;
    return rte_pktmbuf_mtod_offset(m, std::uint8_t*, offset);
}

// Header lengths as the headers declare them (not validated here).
constexpr std::uint32_t ipv4_header_len(const rte_ipv4_hdr& ip) { return (ip.version_ihl & 0x0fu) * 4u; }
constexpr std::uint32_t tcp_header_len(const rte_tcp_hdr& tcp) { return (tcp.data_off >> 4) * 4u; }

}  // namespace dpdock
