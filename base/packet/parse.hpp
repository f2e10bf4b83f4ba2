// Header parsing into PacketMeta (mbuf private area), in two depths so that a
// packet is parsed only as deep as its path needs:
// - parse_l3(): Ethernet, VLAN tags, and the L3 header validated as Linux's
//   bridge with br_netfilter validates it (IPv4 version, IHL, total length
//   against the frame; IPv6 version and payload length; Ethernet/IPv4 ARP).
//   Every packet gets it on rx (classify_stage); bridging needs no more.
// - parse_l4(): the L4 header checked against the datagram, the flow hash and
//   the checksum state. The engine runs it before any stage that reads them
//   (meta.depth says how deep a packet was parsed; see docs/ARCHITECTURE.md).
// Malformed frames come back as DropReason::BadHeader. Headers must lie in the
// first segment; the IPv4/IPv6 lengths are checked against the whole frame
// (pkt_len), so chained jumbo frames parse as long as headers come first.
// Runs per packet on the worker that holds the mbuf: no allocation, no
// locks, reads nothing outside the mbuf.
#pragma once

#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/packet_meta.hpp"
#include "base/packet/parse_l3.hpp"

namespace dpdock {

// parse_l3(m) (parse_l3.hpp, inline) fills packet_meta(m) up to L3
// (network = kNoNetwork, classify sets it; depth = ParseDepth::L3) and
// returns nullopt when the frame is fine, else why it must be dropped. Meta
// is only meaningful when nullopt is returned.

// Completes a parse_l3()'d packet: l4_offset, kFlagL4Valid, l4_checksum and
// flow_hash, depth = ParseDepth::L4. Returns why the packet must be dropped
// (an L4 header we know cut short), else nullopt; a packet parsed to L4
// already returns nullopt at once.
std::optional<DropReason> parse_l4(rte_mbuf* m);

// Both: the whole parse, for a packet that needs every field (a decapsulated
// inner frame, tests).
inline std::optional<DropReason> parse_packet(rte_mbuf* m) {
    if (auto reason = parse_l3(m)) return reason;
    return parse_l4(m);
}

}  // namespace dpdock
