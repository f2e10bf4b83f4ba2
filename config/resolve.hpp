// IPAM and defaults that depend on the whole model: the default network derived
// from the daemon-level `bridge` section, address allocation and Docker-style
// MAC derivation. resolve() expects a model that passed validate(); afterwards
// every endpoint has an ip and a mac, so the control side never allocates.
// Pure functions on the model; the caller serialises access (control thread).
#pragma once

#include <set>
#include <vector>

#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

// The network "bridge": subnet = bip's network, gateway = bip's address,
// ip_range = fixed-cidr, mtu = bridge mtu; positioned at the `bridge` section.
NetworkSpec default_network(const BridgeSpec& bridge);

// The default network first, then the user networks in file order.
std::vector<NetworkSpec> all_networks(const Deployment& d);

// First free host address of ip_range (or the subnet when there is none),
// skipping the subnet's network and broadcast addresses, the gateway and `taken`.
Result<Ipv4Address> allocate_ip(const NetworkSpec& network, const std::set<Ipv4Address>& taken);

// Fills every endpoint without an ip (containers in file order, so the same
// file always yields the same addresses) and then every endpoint without a mac
// (02:42 + the IPv4 address, as Docker does). Fails, naming the endpoint, when
// a network is exhausted or a derived MAC collides with another in its network.
Status resolve(Deployment& d);

}  // namespace dpdock::config
