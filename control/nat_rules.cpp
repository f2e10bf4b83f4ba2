#include "control/nat_rules.hpp"

#include <algorithm>

#include "config/publish_rules.hpp"

namespace dpdock::control {

std::uint32_t NatRules::slot_for(const std::string& key, std::map<std::string, std::uint32_t>& next) {
    if (auto it = slots_.find(key); it != slots_.end()) return next[key] = it->second;
    std::uint32_t slot = nat::kNoRuleSlot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else if (next_fresh_ < nat::kMaxRuleSlots) {
        slot = next_fresh_++;
    } else {
        return nat::kNoRuleSlot;  // more rules than slots: this one goes uncounted
    }
    baselines_[slot] = dp_.rule_counter(slot);
    return next[key] = slot;
}

void NatRules::fill(dataplane::ForwardingSnapshot& snap, const std::vector<Endpoint>& endpoints,
                    const std::vector<config::NetworkSpec>& networks, const std::map<std::string, NetworkId>& ids) {
    // Slots released by the previous fill: that snapshot is gone (publish waits a grace period).
    free_.insert(free_.end(), cooling_.begin(), cooling_.end());
    cooling_.clear();
    std::map<std::string, std::uint32_t> next;

    for (const auto& network : networks) {
        auto id = ids.find(network.name);
        if (id == ids.end() || network.internal || !config::masquerades(network)) continue;
        snap.networks[id->second].masquerade_slot = slot_for("masquerade|" + network.name, next);
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
            r.slot = slot_for(key, next);
            rules.push_back(std::move(r));
            keys.push_back(key);
        }
    }
    for (const auto& [key, slot] : slots_) {
        if (!next.contains(key)) cooling_.push_back(slot);
    }
    slots_ = std::move(next);

    if (!table_ || keys != table_keys_) {
        auto table = std::make_shared<nat::PortMap>();
        // validate() refused overlapping host ports, so every add succeeds.
        for (const auto& r : rules) table->add(r);
        table_ = std::move(table);
        table_keys_ = std::move(keys);
    }
    snap.published = table_;
}

std::uint32_t NatRules::masquerade_slot(const std::string& network) const {
    auto it = slots_.find("masquerade|" + network);
    return it == slots_.end() ? nat::kNoRuleSlot : it->second;
}

nat::RuleCounter NatRules::counters(std::uint32_t slot) const {
    nat::RuleCounter c = dp_.rule_counter(slot);
    if (slot >= nat::kMaxRuleSlots) return c;
    c.packets -= baselines_[slot].packets;
    c.bytes -= baselines_[slot].bytes;
    return c;
}

}  // namespace dpdock::control
