// The stages of the packet path, each working on a burst. pipeline.cpp calls
// them in order; every stage either hands a packet on (compacted into the
// burst it returns), transmits it, or drops it with a reason. Worker-only code.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "dataplane/bridge/network.hpp"
#include "dataplane/fastpath/worker_context.hpp"

namespace dpdock::dataplane {

// Parses every packet once into its PacketMeta and assigns the ingress
// port's network. Returns how many survived (compacted to the front).
std::uint16_t classify_stage(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts,
                             std::uint16_t n);

// Layer 2 inside each packet's network: learns source MACs, forwards to the
// learned port or floods. Packets addressed to the network's gateway MAC, and
// ARP requests for its gateway IP, are the gateway's business: they are
// returned compacted to the front.
std::uint16_t bridge_stage(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts,
                           std::uint16_t n, std::uint64_t now);

// The network's gateway address: answers ARP requests for it and ICMP echo
// requests to it (back out of the ingress port). IPv4 packets for other
// destinations are returned compacted to the front, to be routed; anything
// else is dropped with a reason.
std::uint16_t gateway_stage(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf** pkts,
                            std::uint16_t n);

// Sends one packet to every port of its network except the one it came from.
void flood_packet(WorkerContext& ctx, const bridge::ForwardingSnapshot& snap, rte_mbuf* m);

}  // namespace dpdock::dataplane
