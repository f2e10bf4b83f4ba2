// ARP between the host's kernel (dpdock0) and a network, relayed in place. The
// kernel resolves container addresses itself, so its neighbour table holds
// their real MACs and the dataplane needs no IP -> MAC table of its own:
// - its request goes into the network as the gateway's (sender MAC = the
//   gateway MAC, which the containers already hold for the gateway address),
//   so no container learns the kernel interface's MAC;
// - the container's reply, addressed to the gateway MAC, goes back to the
//   kernel readdressed to the kernel interface's MAC.
// Worker code: works on one unshared mbuf, returns nothing to free.
#pragma once

#include <rte_mbuf.h>

#include "base/packet/net_types.hpp"
#include "base/packet/packet_meta.hpp"

namespace dpdock::exception {

// The kernel's ARP request made the gateway's: Ethernet source and sender MAC.
void relay_request_into_network(rte_mbuf* m, const PacketMeta& meta, MacAddress gateway_mac);

// A reply to the gateway (a container answering a relayed request) made the
// kernel's: Ethernet destination and target MAC. False (unchanged) for
// anything but a reply.
bool relay_reply_to_kernel(rte_mbuf* m, const PacketMeta& meta, MacAddress kernel_mac);

}  // namespace dpdock::exception
