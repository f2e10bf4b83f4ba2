// Header rewriting shared by NAT's translations (MASQUERADE, published
// ports): one side's address and port with incremental checksum updates.
// Worker-only code.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "base/packet/packet_meta.hpp"
#include "nat/fastpath/field_rewrite.hpp"

namespace dpdock::nat {

// The TCP flags of a TCP packet, 0 for anything else.
std::uint8_t tcp_flags_of(rte_mbuf* m, const PacketMeta& meta);

// Sets one side's address and port (echo id for ICMP), in wire order,
// patching the IPv4 header checksum and the L4 checksum (TCP/UDP cover the
// address through their pseudo-header, ICMP does not). A partial checksum
// (PseudoHeaderOnly) gets the address change only, uncomplemented.
void rewrite(rte_mbuf* m, const PacketMeta& meta, Side side, std::uint32_t ip, std::uint16_t port);

}  // namespace dpdock::nat
