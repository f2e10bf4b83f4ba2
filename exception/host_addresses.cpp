#include "exception/host_addresses.hpp"

#include <algorithm>

namespace dpdock::exception {
namespace {

bool holds(const std::vector<Ipv4Cidr>& set, const Ipv4Cidr& c) { return std::find(set.begin(), set.end(), c) != set.end(); }

}  // namespace

std::vector<Ipv4Cidr> wanted_addresses(const std::optional<Ipv4Cidr>& uplink, const std::vector<Ipv4Cidr>& gateways) {
    std::vector<Ipv4Cidr> out;
    if (uplink) out.push_back(*uplink);
    for (const Ipv4Cidr& g : gateways) {
        const bool taken = std::any_of(out.begin(), out.end(), [&](const Ipv4Cidr& c) { return c.address() == g.address(); });
        if (!taken) out.push_back(g);
    }
    return out;
}

AddressPlan plan(const std::vector<Ipv4Cidr>& installed, const std::vector<Ipv4Cidr>& wanted) {
    AddressPlan p;
    for (const Ipv4Cidr& c : installed) {
        if (!holds(wanted, c)) p.remove.push_back(c);
    }
    for (const Ipv4Cidr& c : wanted) {
        if (!holds(installed, c)) p.add.push_back(c);
    }
    return p;
}

}  // namespace dpdock::exception
