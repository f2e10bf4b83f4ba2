// Header rewriting shared by NAT's translations (MASQUERADE, published
// ports): one side's address and port with incremental checksum updates.
// Inline: every translated packet runs it, and the side is mostly a constant
// at the call. Worker-only code.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

#include <rte_mbuf.h>

#include "base/packet/checksum.hpp"
#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"
#include "nat/fastpath/field_rewrite.hpp"

namespace dpdock::nat {

// The TCP flags of a TCP packet, 0 for anything else.
inline std::uint8_t tcp_flags_of(rte_mbuf* m, const PacketMeta& meta) {
    if (meta.l4_proto != IPPROTO_TCP || (meta.flags & kFlagL4Valid) == 0) return 0;
    return header_at<const rte_tcp_hdr>(m, meta.l4_offset)->tcp_flags;
}

// Sets one side's address and port (echo id for ICMP), in wire order,
// patching the IPv4 header checksum and the L4 checksum (TCP/UDP cover the
// address through their pseudo-header, ICMP does not). A partial checksum
// (PseudoHeaderOnly) gets the address change only, uncomplemented.
// DPDK's header structs are packed, so fields are reached through byte offsets.
inline void rewrite(rte_mbuf* m, const PacketMeta& meta, Side side, std::uint32_t ip, std::uint16_t port) {
    auto* l3 = rte_pktmbuf_mtod_offset(m, std::uint8_t*, meta.l3_offset);
    auto* l4 = rte_pktmbuf_mtod_offset(m, std::uint8_t*, meta.l4_offset);
    const std::uint16_t ip_delta = set_ipv4_address(l3, side, ip);
    // A later fragment: its L4 bytes are payload, the first fragment's checksum covers it.
    if ((meta.flags & kFlagL4Valid) == 0) return;

    std::uint8_t* p = nullptr;
    std::uint8_t* l4_csum = nullptr;
    std::uint16_t delta = 0;
    if (meta.l4_proto == IPPROTO_ICMP) {
        p = l4 + offsetof(rte_icmp_hdr, icmp_ident);
        l4_csum = l4 + offsetof(rte_icmp_hdr, icmp_cksum);
    } else {
        // TCP and UDP: the two ports first, each checksum covering the pseudo-header's addresses.
        p = l4 + (side == Side::Source ? offsetof(rte_udp_hdr, src_port) : offsetof(rte_udp_hdr, dst_port));
        l4_csum = l4 + (meta.l4_proto == IPPROTO_TCP ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum));
        delta = ip_delta;
    }
    const std::uint16_t old_csum = load<std::uint16_t>(l4_csum);
    if (meta.l4_checksum == ChecksumState::PseudoHeaderOnly && meta.l4_proto != IPPROTO_ICMP) {
        // Only the pseudo-header's address is in the field; the port is
        // covered when the checksum is completed over the segment.
        store(l4_csum, csum_partial_apply(old_csum, delta));
    } else {
        delta = csum_delta_add(delta, csum_delta16(load<std::uint16_t>(p), port));
        store(l4_csum, meta.l4_proto == IPPROTO_UDP ? udp_csum_apply(old_csum, delta) : csum_apply(old_csum, delta));
    }
    store(p, port);
}

}  // namespace dpdock::nat
