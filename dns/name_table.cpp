#include "dns/name_table.hpp"

#include <algorithm>
#include <cctype>

namespace dpdock::dns {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

void NameTable::add(const NameEntry& e) {
    auto push = [&](const std::string& name) {
        auto& list = names_[{e.network, lower(name)}];
        if (std::find(list.begin(), list.end(), e.ip) == list.end()) list.push_back(e.ip);
    };
    push(e.container);
    push(e.container + "." + e.network_name);
    for (const auto& alias : e.aliases) push(alias);
    reverse_[{e.network, e.ip.host()}] = lower(e.container + "." + e.network_name);
    owner_[{e.network, e.ip.host()}] = e.container;
    auto& nets = networks_of_[e.container];
    if (std::find(nets.begin(), nets.end(), e.network) == nets.end()) nets.push_back(e.network);
    internal_.try_emplace(e.network, false);
}

void NameTable::set_internal(NetworkId network, bool internal) { internal_[network] = internal; }

void NameTable::set_gateway(NetworkId network, Ipv4Cidr gateway) { gateways_[network] = gateway; }

std::vector<NetworkId> NameTable::scopes(NetworkId network, Ipv4Address asker) const {
    auto owner = owner_.find({network, asker.host()});
    if (owner == owner_.end()) return {network};  // a raw port's host, not a container: its own network only
    return networks_of_.at(owner->second);
}

std::vector<Ipv4Address> NameTable::lookup(NetworkId network, Ipv4Address asker, std::string_view name) const {
    std::vector<Ipv4Address> out;
    const std::string key = lower(name);
    for (NetworkId scope : scopes(network, asker)) {
        auto it = names_.find({scope, key});
        if (it == names_.end()) continue;
        for (Ipv4Address ip : it->second) {
            if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
        }
    }
    return out;
}

std::string NameTable::reverse(NetworkId network, Ipv4Address asker, Ipv4Address ip) const {
    for (NetworkId scope : scopes(network, asker)) {
        if (auto it = reverse_.find({scope, ip.host()}); it != reverse_.end()) return it->second;
    }
    return {};
}

std::vector<std::pair<std::string, Ipv4Address>> NameTable::records(NetworkId network) const {
    std::vector<std::pair<std::string, Ipv4Address>> out;
    for (const auto& [key, ips] : names_) {
        if (key.first != network) continue;
        for (Ipv4Address ip : ips) out.emplace_back(key.second, ip);
    }
    return out;
}

bool NameTable::internal(NetworkId network) const {
    auto it = internal_.find(network);
    return it != internal_.end() && it->second;
}

bool NameTable::serves(NetworkId network) const { return internal_.contains(network); }

bool NameTable::has(NetworkId network, std::string_view name) const {
    return names_.contains({network, lower(name)});
}

}  // namespace dpdock::dns
