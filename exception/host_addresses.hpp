// The addresses the exception interface (dpdock0) carries: the uplink's
// address and every network's gateway, each with its prefix, so the kernel's
// connected routes send the container subnets and the uplink's subnet through
// it. plan() is the difference between what is installed and what is wanted,
// so the control thread changes only what changed. Pure: no I/O.
#pragma once

#include <optional>
#include <vector>

#include "base/packet/net_types.hpp"

namespace dpdock::exception {

struct AddressPlan {
    std::vector<Ipv4Cidr> remove;  // installed, no longer wanted (first, so a changed prefix can be re-added)
    std::vector<Ipv4Cidr> add;     // wanted, not installed
};

// The wanted set: the uplink address (when there is an uplink) and the
// gateways, without duplicates (two networks never share a gateway, but a
// gateway may equal the uplink address in a hand-written file).
std::vector<Ipv4Cidr> wanted_addresses(const std::optional<Ipv4Cidr>& uplink, const std::vector<Ipv4Cidr>& gateways);

AddressPlan plan(const std::vector<Ipv4Cidr>& installed, const std::vector<Ipv4Cidr>& wanted);

}  // namespace dpdock::exception
