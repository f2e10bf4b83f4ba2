// The only vocabulary the fast path has for freeing a packet. Every drop has a
// name and a per-worker counter; the CLI, telemetry and tests read this table.
// Add a reason: append the enumerator and its name, the static_assert keeps
// them in step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpdock {

enum class DropReason : std::uint8_t {
    BadHeader,   // truncated or malformed L2/L3 header
    NoNetwork,   // received on a port that is not (or no longer) in a network
    SamePort,    // destination MAC sits on the ingress port (a bridge never hairpins)
    NoRoute,     // addressed to the gateway, but nothing routes it (L3 not enabled for it)
    TxFull,      // the egress port's tx ring stayed full
    PortGone,    // the egress port was removed while the packet was in flight
    FloodEmpty,  // broadcast/unknown destination in a network with no other port
    ArpIgnored,  // well-formed ARP that asks for none of our addresses (or a reply nobody awaited)
    NotServed,   // addressed to a dataplane address, but not something it answers (only ARP and ICMP echo)
    TtlExceeded,     // routed with TTL 0 or 1
    ArpQueueFull,    // next hop unresolved and this worker's queue of waiting packets is full
    ArpUnresolved,   // next hop never answered ARP; the waiting packet is given up
    CtFull,          // a new flow to masquerade, but the conntrack table is full
    NatNoPort,       // a new flow to masquerade, but every host port of the range is taken
    NatUnsupported,  // must be masqueraded but cannot be: not TCP/UDP/ICMP echo, or a fragment
    FragNeeded,      // larger than the egress MTU with DF set (answered with ICMP fragmentation needed)
    MtuExceeded,     // larger than the egress MTU without DF, and could not be fragmented (no mbufs, too many pieces)
    IccBlocked,      // IPv4 between two containers of a network with enable_icc=false
    Isolated,        // routed towards another network's subnet (Docker's isolation between networks)
    VxlanShort,        // UDP to the VXLAN port too short for a VXLAN header and an inner frame
    VxlanBadFlags,     // VXLAN header without the I flag (no valid VNI)
    VxlanUnknownVni,   // no overlay network has this VNI
    VxlanUnknownPeer,  // from a VTEP that is not a peer of the network (and learning from unknown peers is off)
    VxlanNoBuffer,     // no headroom for the outer headers, or no mbuf for a copy to a peer
    CtKeyTaken,        // a new flow whose tuple is already another flow's reply tuple
    CtSourceLimit,     // a new flow to a published port from a client with nat.flows-per-source flows already
    SplitHorizon,      // from a remote VTEP to a MAC behind a remote VTEP: the overlay never forwards back into itself
    SourceMacZero,     // all-zero source MAC (never learned: a Linux bridge refuses it too)
    SourceMacGateway,  // a frame claiming to come from the network's own gateway MAC (a forgery: never learned)
    OffloadFailed,     // offload metadata (TSO, partial checksum) that cannot be honoured: bad lengths, no mbufs
    FragmentUnmatched,  // a later fragment to translate whose first fragment was not seen (nat/fastpath/fragments.hpp)
    KernelRxTruncated,  // a kernel port's frame larger than the largest frame it receives (64 KiB)
    KernelRxNoBuffer,   // no mbufs to hold a large frame from a kernel port
    KernelTxFull,       // a kernel port's socket refused the frame for want of buffer space
    KernelTxError,      // a kernel port's socket refused the frame (too many segments, or an error)
    PuntFull,           // for the host's kernel (exception path), but this worker's punt ring was full
    PuntRateLimited,    // for the host's kernel, over this worker's exception.punt-rate (exception/fastpath/punt_limit.hpp)
    DnsRingFull,        // a DNS query to a gateway, but the DNS thread's ring is full (dns/fastpath/dns_punt.hpp)
    SpreadFull,         // its flow belongs to another worker, whose ring from this worker was full (dataplane/fastpath/spread.hpp)
    Count,
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(DropReason::Count)> kDropReasonNames = {
    "bad_header", "no_network", "same_port", "no_route", "tx_full", "port_gone", "flood_empty", "arp_ignored",
    "not_served",  "ttl_exceeded", "arp_queue_full", "arp_unresolved",
    "ct_full",     "nat_no_port",  "nat_unsupported",
    "frag_needed", "mtu_exceeded", "icc_blocked", "isolated",
    "vxlan_short", "vxlan_bad_flags", "vxlan_unknown_vni", "vxlan_unknown_peer", "vxlan_no_buffer",
    "ct_key_taken", "ct_source_limit",
    "split_horizon", "source_mac_zero", "source_mac_gateway",
    "offload_failed", "fragment_unmatched",
    "kernel_rx_truncated", "kernel_rx_no_buffer", "kernel_tx_full", "kernel_tx_error",
    "punt_full", "punt_rate_limited",
    "dns_ring_full",
    "spread_full",
};
static_assert(kDropReasonNames.size() == static_cast<std::size_t>(DropReason::Count));
static_assert(kDropReasonNames.back() != std::string_view{}, "every DropReason needs a name");

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::Count);

constexpr std::string_view drop_reason_name(DropReason r) { return kDropReasonNames[static_cast<std::size_t>(r)]; }

}  // namespace dpdock
