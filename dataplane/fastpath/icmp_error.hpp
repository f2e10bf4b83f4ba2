// The checks a router makes before it forwards a packet, and the ICMP errors
// it answers with (RFC 792, RFC 1812 4.3.2): time exceeded (11/0) when the TTL
// runs out, fragmentation needed (3/4, RFC 1191 next-hop MTU) when a packet
// with DF is larger than the egress MTU. A packet without DF that is too large
// goes on, to be fragmented on egress (fragment.hpp). The error is a new mbuf
// from the worker's pool quoting the offending IPv4 header and the first 8
// bytes after it; the offending packet itself is dropped by the caller.
// Worker-only code.
#pragma once

#include <cstdint>
#include <optional>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/fastpath/worker_context.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::dataplane {

inline constexpr std::uint8_t kIcmpDestUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragNeeded = 4;  // a code of kIcmpDestUnreachable
inline constexpr std::uint8_t kIcmpHostUnreachable = 1;  // a code of kIcmpDestUnreachable

// Why a packet may not be forwarded, and the ICMP error that says so
// (icmp_type 0: none is sent).
struct ForwardError {
    DropReason reason;
    std::uint8_t icmp_type;
    std::uint8_t icmp_code;
    std::uint16_t mtu;  // next-hop MTU for fragmentation needed, else 0
};

// Checks `ip` (the IPv4 header of `m`) against the egress link's MTU, TTL
// first as Linux does; a TCP super-frame is measured by its segments
// (egress_offload.hpp). nullopt: the TTL has been decremented (checksum
// patched) and the packet may go on (fragmented on egress when too large
// without DF).
std::optional<ForwardError> check_forward(const rte_mbuf* m, rte_ipv4_hdr& ip, std::uint32_t egress_mtu);

// The error about `offending` (its IPv4 header at meta.l3_offset), from
// `from` to the offending packet's source, in a new mbuf whose Ethernet
// addresses the caller fills in. nullptr when none may be sent (RFC 1812
// 4.3.2.7: about an ICMP error, a fragment other than the first, a broadcast
// or multicast destination, a source that is not one host) or when the rate
// limit or an empty pool suppresses it (counted). Fragmentation needed is not
// rate limited: path MTU discovery depends on it (as in Linux).
rte_mbuf* make_icmp_error(WorkerContext& ctx, const rte_mbuf* offending, const PacketMeta& meta,
                          const ForwardError& err, Ipv4Address from, std::uint64_t now);

// Sends the error about a packet that came from a container back to it, from
// the network's gateway (`from`, `from_mac`), out of the port it came in on.
void return_icmp_error(WorkerContext& ctx, const rte_mbuf* offending, const PacketMeta& meta, const ForwardError& err,
                       Ipv4Address from, MacAddress from_mac, std::uint64_t now);

// Sends the error about a packet that came in on the uplink back out of it,
// from the host address, towards the packet's source. `received`: the packet
// was translated to a container, and this was its key as it arrived; the
// quote is translated back to it, so the sender recognises its packet (else nullptr).
void send_icmp_error_out(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, const rte_mbuf* offending,
                         const PacketMeta& meta, const ForwardError& err, const nat::FlowKey* received,
                         std::uint64_t now);

}  // namespace dpdock::dataplane
