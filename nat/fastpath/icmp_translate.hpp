// ICMP errors about masqueraded flows (Linux's RELATED): the error quotes the
// packet as it was on the other side of the translation, so the quoted
// ("inner") header is translated along with the outer one:
// - arriving on the uplink (port unreachable from a server, time exceeded or
//   fragmentation needed from a router): it quotes what left the host (source
//   host:port), a MASQUERADE flow's packet or a published port's reply.
//   Outer destination -> the container; inner source -> the container's
//   address and port.
// - leaving through the uplink (a container's port unreachable about a reply
//   it got): it quotes what the container received. Outer source -> the host
//   address; inner destination -> host:port.
// The inner IPv4 checksum, the inner L4 checksum when the quote holds it (UDP
// and ICMP always: it is in the first 8 bytes; TCP's only in longer quotes),
// the outer IPv4 and the ICMP checksum are updated incrementally (RFC 1624):
// every quoted field sits at an even offset from the ICMP header, so a
// field's delta is also the ICMP checksum's. The flow's state and deadline
// are left alone, as in Linux. Worker-only code, allocation-free.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/headers.hpp"
#include "base/packet/packet_meta.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::nat {

// True for an unfragmented ICMP error that carries a quote: destination
// unreachable, source quench, redirect, time exceeded, parameter problem.
inline bool is_icmp_error(const rte_mbuf* m, const PacketMeta& meta) {
    if (meta.l3_type != L3Type::Ipv4 || meta.l4_proto != IPPROTO_ICMP || (meta.flags & kFlagFragment) != 0 ||
        (meta.flags & kFlagL4Valid) == 0) {
        return false;
    }
    switch (header_at<const rte_icmp_hdr>(m, meta.l4_offset)->icmp_type) {
    case 3: case 4: case 5: case 11: case 12: return true;
    default: return false;
    }
}

// An error that arrived on the uplink about a flow's outbound packet (a
// MASQUERADE flow's, or a published port's reply), translated towards the
// container; returns its flow, or nullptr (untouched) when it quotes no
// tracked flow. For a Published flow the container is the rule's, not the
// entry's mac/network (those say where replies go).
const Entry* icmp_error_inbound(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta);

// An error a container sends about a reply of a flow, translated to leave
// from the host address. nullopt when translated; nat_unsupported when it
// quotes no tracked flow.
std::optional<DropReason> icmp_error_outbound(const Conntrack& ct, rte_mbuf* m, const PacketMeta& meta);

// For an error the dataplane itself makes about a packet it had translated
// towards a container (a MASQUERADE reply, a published port's DNAT): the
// quote goes back to what the sender sent, its inner destination that of
// `received` (host address and port), the packet's key as it arrived. `m`
// is the error as make_icmp_error() built it.
void quote_as_received(rte_mbuf* m, const PacketMeta& meta, const FlowKey& received);

}  // namespace dpdock::nat
