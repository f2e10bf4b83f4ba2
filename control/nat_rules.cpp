#include "control/nat_rules.hpp"

#include <algorithm>

#include "config/publish_rules.hpp"

namespace dpdock::control {

void NatRules::fill(dataplane::ForwardingSnapshot& snap, const std::vector<Endpoint>& endpoints,
                    const std::vector<config::NetworkSpec>& networks, const std::map<std::string, NetworkId>& ids) {
    slots_.begin();

    for (const auto& network : networks) {
        auto id = ids.find(network.name);
        if (id == ids.end() || network.internal || !config::masquerades(network)) continue;
        snap.networks[id->second].masquerade_slot = slots_.slot_for("masquerade|" + network.name);
    }

    std::vector<nat::PublishedRule> rules;
    std::vector<std::string> keys;
    for (const auto& c : containers_) {
        if (c.publish.empty() || c.networks.empty()) continue;
        const std::string& first = c.networks.front().network;
        auto ep = std::find_if(endpoints.begin(), endpoints.end(), [&](const Endpoint& e) {
            return e.request.container == c.name && e.request.network == first;
        });
        auto id = ids.find(first);
        auto net = std::find_if(networks.begin(), networks.end(),
                                [&](const config::NetworkSpec& n) { return n.name == first; });
        if (ep == endpoints.end() || id == ids.end() || net == networks.end()) continue;  // not attached (yet)
        for (const auto& p : c.publish) {
            if (!p.host) continue;  // resolve() fixed every host port
            // A loopback binding is the host proxy's alone: uplink traffic must never match it.
            if (config::is_loopback(config::binding_of(p, *net))) continue;
            nat::PublishedRule r;
            r.proto = config::ip_proto(p.proto);
            r.host_lo = p.host->lo;
            r.host_hi = p.host->hi;
            r.container_lo = p.container.lo;
            r.one_container_port = p.container.size() == 1;
            r.container_ip = ep->request.ip;
            r.container_mac = ep->request.mac;
            r.network = id->second;
            r.gateway = ep->request.gateway;
            r.container = c.name;
            const std::string key = "dnat|" + c.name + "|" + config::to_string(p) + "|" + r.container_ip.to_string() +
                                    "|" + r.container_mac.to_string() + "|" + std::to_string(r.network);
            r.slot = slots_.slot_for(key);
            rules.push_back(std::move(r));
            keys.push_back(key);
        }
    }
    slots_.end();

    if (!table_ || keys != table_keys_) {
        auto table = std::make_shared<nat::PortMap>();
        // validate() refused overlapping host ports, so every add succeeds.
        for (const auto& r : rules) table->add(r);
        table_ = std::move(table);
        table_keys_ = std::move(keys);
    }
    snap.published = table_;
}

}  // namespace dpdock::control
