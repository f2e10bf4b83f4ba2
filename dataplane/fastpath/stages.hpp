// The stages of the packet path, each working on a burst. pipeline.cpp calls
// them in order; every stage either hands a packet on (compacted into the
// burst it returns), transmits it, or drops it with a reason. Worker-only code.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/forwarding_snapshot.hpp"
#include "base/util/check.hpp"
#include "dataplane/fastpath/worker_context.hpp"
#include "l3/neighbour_table.hpp"

namespace dpdock::dataplane {

// Parses every packet into its PacketMeta, to L3 (parse_l3: what bridging
// reads) for a network's member port, whole for the uplink and the host
// interface (their stages read L4), and assigns the ingress port's network.
// Returns how many survived (compacted to the front).
std::uint16_t classify_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                             std::uint16_t n);

// Completes the parse to L4 (parse_l4: L4 header, flow hash, checksum
// state) for the stages that read it; a cut-short L4 header is dropped as
// bad_header. Returns how many survived (compacted to the front). The
// pipeline runs it on what the bridge hands on; the stages after the bridge
// DPDOCK_DCHECK parsed_to_l4().
std::uint16_t parse_l4_stage(WorkerContext& ctx, rte_mbuf** pkts, std::uint16_t n);

// Debug builds: every packet of the burst was parsed to L4 (parse_l4_stage),
// as the stages after the bridge require.
inline void dcheck_parsed_to_l4([[maybe_unused]] rte_mbuf* const* pkts, [[maybe_unused]] std::uint16_t n) {
#ifndef NDEBUG
    for (std::uint16_t i = 0; i < n; ++i) DPDOCK_DCHECK(parsed_to_l4(packet_meta(pkts[i])));
#endif
}

// Layer 2 inside each packet's network: learns source MACs, forwards to the
// learned port or floods. Packets addressed to the network's gateway MAC, and
// ARP requests for its gateway IP, are the gateway's business: they are
// returned compacted to the front.
std::uint16_t bridge_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now);

// The network's gateway address: answers ARP requests for it and ICMP echo
// requests to it (back out of the ingress port), and hands replies of hairpin
// flows (published ports reached from a container) back to their client. IPv4
// packets for other destinations are returned compacted to the front, to be
// routed; anything else is dropped with a reason.
std::uint16_t gateway_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts,
                            std::uint16_t n, std::uint64_t now);

// Routes what the gateway handed on: packets for off-host destinations leave
// through the uplink (TTL decremented, checksum patched) towards the uplink
// gateway or an on-link host, replies of published flows translated back to
// host address:port; packets to a published port at the host address go to
// the publishing container (hairpin). An expiring TTL or a DF packet above
// the uplink MTU is answered with an ICMP error (icmp_error.hpp). Everything
// else is dropped with a reason.
void route_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                 std::uint64_t now);

// Everything received on the uplink: ARP for the host address is answered
// (and its sender remembered as a neighbour), ARP replies to the host fill
// the neighbour table, ICMP echo to the host address is answered; replies of
// masqueraded flows and packets to published ports go to their container.
void uplink_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                  std::uint64_t now);

// What the host's kernel sends on the exception interface (dpdock0): its ARP
// for a container is relayed into the network (exception/fastpath/kernel_arp),
// for anything else answered with the uplink's MAC; IPv4 to a container is
// delivered into its network from the gateway, anything else leaves through
// the uplink's next hop. No NAT: the kernel sends from its own addresses.
void host_stage(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf** pkts, std::uint16_t n,
                std::uint64_t now);

// A packet for the host's kernel: addressed to the kernel interface's MAC and
// put on this worker's punt ring (over exception.punt-rate it is dropped as
// punt_rate_limited, a full ring drops it as punt_full). False,
// the packet untouched, when there is no exception interface (or the frame
// is VLAN-tagged): the caller drops it as before. The stages call it for
// what the dataplane does not serve at the host's own addresses.
bool punt_to_host(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m);

// The worker that polls the exception interface sends every worker's punt
// ring to it (a burst per ring per loop iteration); others return at once.
// Returns how many packets it took.
unsigned drain_punts(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap);

// True when this worker drains the punt rings and one holds packets (its last
// look before an idle wait, doorbells.hpp).
bool punts_waiting(const WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap);

// The uplink's ARP timing as the neighbour table takes it.
inline l3::NeighbourTiming arp_timing(const dataplane::UplinkInfo& uplink) {
    return {uplink.arp_timeout_ticks, uplink.arp_retry_ticks};
}

// Sends `m` (an IPv4 packet with its Ethernet header) out of the uplink to
// `next_hop`: at once when its MAC is known (REACHABLE or STALE; a STALE one
// is re-probed meanwhile, as Linux does), else queued while ARP resolves it.
void send_via_uplink(WorkerContext& ctx, const dataplane::UplinkInfo& uplink, rte_mbuf* m, Ipv4Address next_hop,
                     std::uint64_t now);

// Sends the queued packets whose next hop resolved, repeats ARP requests that
// went unanswered, and gives up on a next hop after kArpAttempts requests.
// Called by the worker loop every iteration while packets wait.
void service_pending(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, std::uint64_t now);

// dns_replies.cpp: the DNS thread's answers, each sent to the port its query
// came in on (a port gone meanwhile: dropped as port_gone). Once per loop.
void send_dns_replies(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap);

// True when the DNS thread's replies ring holds answers (an idle worker's last
// look before its wait: the DNS thread rings worker 0's doorbell, doorbells.hpp).
bool dns_replies_waiting(const WorkerContext& ctx);

// A translated packet (NAT reply, published port) routed into `network`:
// TTL decremented, MACs gateway -> `mac`, out of the port the MAC table knows
// for `mac`, or flooded in the network when it has aged out, as a bridge would.
// An expiring TTL or a DF packet above the network's MTU gets an ICMP error
// back to where it came from (out of the uplink, its quote's destination put
// back to `received`'s, the packet's key as it arrived, when one is given; or
// to a hairpinning container from its gateway).
void deliver_to_container(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, MacAddress mac,
                          NetworkId network, const nat::FlowKey* received, std::uint64_t now);

// Sends one packet to every port of its network except the one it came from,
// and, in an overlay network, when it came from a local port, to every peer
// VTEP (`now` dates their ARP resolution; callers whose packets never come
// from a local port may leave it 0).
void flood_packet(WorkerContext& ctx, const dataplane::ForwardingSnapshot& snap, rte_mbuf* m, std::uint64_t now = 0);

}  // namespace dpdock::dataplane
