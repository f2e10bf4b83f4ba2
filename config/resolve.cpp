#include "config/resolve.hpp"

#include <map>
#include <string>

#include "config/config_error.hpp"
#include "config/publish_rules.hpp"
#include "config/overlay.hpp"

namespace dpdock::config {

NetworkSpec default_network(const BridgeSpec& bridge) {
    NetworkSpec n;
    n.name = kDefaultNetworkName;
    n.subnet = Ipv4Cidr(bridge.bip.network(), bridge.bip.prefix());
    n.gateway = bridge.bip.address();
    n.ip_range = bridge.fixed_cidr;
    n.mtu = bridge.mtu;
    n.pos = bridge.pos;
    return n;
}

std::vector<NetworkSpec> all_networks(const Deployment& d) {
    std::vector<NetworkSpec> out;
    out.reserve(d.networks.size() + 1);
    out.push_back(default_network(d.bridge));
    out.insert(out.end(), d.networks.begin(), d.networks.end());
    return out;
}

Result<Ipv4Address> allocate_ip(const NetworkSpec& network, const std::set<Ipv4Address>& taken) {
    const Ipv4Cidr range = network.ip_range.value_or(network.subnet);
    // 64-bit counter: a range ending at 255.255.255.255 must not wrap.
    const std::uint64_t first = range.network().host();
    const std::uint64_t last = range.broadcast().host();
    for (std::uint64_t a = first; a <= last; ++a) {
        const Ipv4Address ip(static_cast<std::uint32_t>(a));
        if (!network.subnet.contains(ip) || ip == network.subnet.network() || ip == network.subnet.broadcast() ||
            ip == network.gateway || taken.count(ip) != 0) {
            continue;
        }
        return ip;
    }
    return Result<Ipv4Address>::error("network '" + network.name + "' has no free address left in " +
                                      range.to_string());
}

Status resolve(Deployment& d) {
    if (auto st = allocate_vnis(d); !st) return st;
    std::map<std::string, NetworkSpec> networks;
    for (auto& n : all_networks(d)) networks.emplace(n.name, std::move(n));

    auto path = [](std::size_t c, std::size_t e) {
        return "containers[" + std::to_string(c) + "].networks[" + std::to_string(e) + "]";
    };

    // Static addresses are reserved before anything is allocated, so a
    // container early in the file never takes the address of a later one.
    std::map<std::string, std::set<Ipv4Address>> taken;
    for (const auto& c : d.containers) {
        for (const auto& e : c.networks) {
            if (e.ip) taken[e.network].insert(*e.ip);
        }
    }

    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        auto& c = d.containers[ci];
        for (std::size_t ei = 0; ei < c.networks.size(); ++ei) {
            auto& e = c.networks[ei];
            auto net = networks.find(e.network);
            if (net == networks.end()) {
                return ConfigError::at(e.pos, path(ci, ei), "unknown network '" + e.network + "'").status();
            }
            if (e.ip) continue;
            auto ip = allocate_ip(net->second, taken[e.network]);
            if (!ip) return ConfigError::at(e.pos, path(ci, ei), ip.message()).status();
            e.ip = *ip;
            taken[e.network].insert(*ip);
        }
    }

    // Derived MACs can collide with explicit ones (02:42:... given by hand).
    std::map<std::string, std::map<MacAddress, std::string>> macs;
    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        auto& c = d.containers[ci];
        for (std::size_t ei = 0; ei < c.networks.size(); ++ei) {
            auto& e = c.networks[ei];
            if (!e.mac) e.mac = docker_mac_for(*e.ip);
            auto [it, inserted] = macs[e.network].emplace(*e.mac, c.name);
            if (!inserted) {
                return ConfigError::at(e.pos, path(ci, ei),
                                       "mac " + e.mac->to_string() + " is already used by container '" + it->second +
                                           "' on network '" + e.network + "'")
                    .status();
            }
        }
    }
    return resolve_publications(d);
}

}  // namespace dpdock::config
