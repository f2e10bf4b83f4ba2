// Answers to packets addressed to the dataplane itself (a network's gateway,
// the host address on the uplink): ARP requests and ICMP echo requests.
// Each answer is built in place in the received mbuf, which the caller then
// sends back out of the port it came in on: no allocation, and the payload of
// an echo is never copied. The mbuf must not be shared (not a flooded copy).
// Worker-only code.
#pragma once

#include <optional>

#include <rte_mbuf.h>

#include "base/packet/drop_reason.hpp"
#include "base/packet/net_types.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock::l3 {

// Turns an ARP request for `own_ip` into the reply from `own_mac`. nullopt:
// `m` is now the reply; otherwise why it must be dropped (malformed ARP ->
// bad_header; a reply or a request for another address -> arp_ignored).
std::optional<DropReason> answer_arp(rte_mbuf* m, const PacketMeta& meta, MacAddress own_mac, Ipv4Address own_ip);

// Turns an ICMP echo request addressed to us (its destination IP is ours)
// into the echo reply from `own_mac`. Bad IPv4 or ICMP checksums ->
// bad_header; fragments, other protocols and other ICMP types -> not_served.
std::optional<DropReason> answer_echo(rte_mbuf* m, const PacketMeta& meta, MacAddress own_mac);

}  // namespace dpdock::l3
