// The names the embedded DNS answers, built whole by the control thread from
// its model (control/state.cpp) at every change and handed to the DNS thread
// (DnsService::set_names); immutable once built. Names are lower case and
// without the trailing dot. A container is known by its name, its aliases and
// NAME.NETWORK on each user network it is on; the default `bridge` network
// is not resolved (Docker's rule), so its containers are simply not added.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/packet/net_types.hpp"

namespace dpdock::dns {

struct NameEntry {
    std::string container;     // the container's name (the PTR answer's first label)
    std::string network_name;  // NAME.NETWORK
    NetworkId network = kNoNetwork;
    Ipv4Address ip;
    std::vector<std::string> aliases;
};

class NameTable {
public:
    // Lower-cases names; `network` must be a user network's id.
    void add(const NameEntry& entry);
    void set_internal(NetworkId network, bool internal);
    // The network's gateway with its prefix: where DNS over TCP listens, and
    // the subnet a TCP asker must be in (dns/tcp_server.hpp).
    void set_gateway(NetworkId network, Ipv4Cidr gateway);

    // Addresses of `name` in any network `asker` (an address on `network`)
    // shares, in table order; empty when the name is unknown to it.
    std::vector<Ipv4Address> lookup(NetworkId network, Ipv4Address asker, std::string_view name) const;
    // "container.network" of `ip` when the asker shares the network it is on.
    std::string reverse(NetworkId network, Ipv4Address asker, Ipv4Address ip) const;
    // The network's records as (name, address), for `dpdock dns`.
    std::vector<std::pair<std::string, Ipv4Address>> records(NetworkId network) const;
    bool internal(NetworkId network) const;
    bool serves(NetworkId network) const;  // a user network with at least one name
    bool has(NetworkId network, std::string_view name) const;  // a record of the network itself (not its scopes)
    const std::map<NetworkId, Ipv4Cidr>& gateways() const { return gateways_; }

private:
    // The networks a container at (network, ip) is on: the scopes of its questions.
    std::vector<NetworkId> scopes(NetworkId network, Ipv4Address asker) const;

    std::map<std::pair<NetworkId, std::string>, std::vector<Ipv4Address>> names_;
    std::map<std::pair<NetworkId, std::uint32_t>, std::string> reverse_;  // (network, ip) -> container.network
    std::map<std::pair<NetworkId, std::uint32_t>, std::string> owner_;    // (network, ip) -> container
    std::map<std::string, std::vector<NetworkId>> networks_of_;            // container -> its user networks
    std::map<NetworkId, bool> internal_;
    std::map<NetworkId, Ipv4Cidr> gateways_;
};

std::string lower(std::string_view s);

}  // namespace dpdock::dns
