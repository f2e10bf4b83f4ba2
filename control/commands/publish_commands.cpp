// container.port and nat.rules: published ports as `docker port` shows them,
// and the NAT rules with their counters, as `iptables -t nat -nvL` shows
// Docker's POSTROUTING (MASQUERADE) and DOCKER (DNAT) chains.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/publish_rules.hpp"
#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

const config::NetworkSpec* find_network(const State& state, const std::string& name) {
    auto it = std::find_if(state.networks().begin(), state.networks().end(),
                           [&](const auto& n) { return n.name == name; });
    return it == state.networks().end() ? nullptr : &*it;
}

// "80", "80/udp": the optional filter of `docker port NAME [CPORT[/PROTO]]`.
Result<std::optional<config::ExposeSpec>> port_filter(const json& args) {
    auto text = optional_string(args, "port");
    if (!text) return text.status();
    if (!*text) return std::optional<config::ExposeSpec>();
    auto spec = config::parse_expose(**text);
    if (!spec) return spec.status();
    if (spec->ports.size() != 1) return Status::error("port: give one container port, not a range");
    return std::optional<config::ExposeSpec>(*spec);
}

Result<json> container_port(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name", "port"}); !st) return st;
    auto name = require_string(args, "name");
    if (!name) return name.status();
    auto filter = port_filter(args);
    if (!filter) return filter.status();
    const auto& containers = ctx.state.deployment().containers;
    auto c = std::find_if(containers.begin(), containers.end(), [&](const auto& x) { return x.name == *name; });
    if (c == containers.end()) return Result<json>::error("container " + *name + " not found");
    const config::NetworkSpec* network = c->networks.empty() ? nullptr : find_network(ctx.state, c->networks[0].network);
    json out = json::array();
    for (const auto& p : c->publish) {
        if (!p.host || network == nullptr) continue;
        const std::string bind = config::binding_of(p, *network).to_string();
        for (std::uint32_t i = 0; i < p.container.size(); ++i) {
            const auto cport = static_cast<std::uint16_t>(p.container.lo + i);
            if (*filter && ((*filter)->proto != p.proto || (*filter)->ports.lo != cport)) continue;
            out.push_back({{"container_port", std::to_string(cport) + "/" + std::string(config::proto_name(p.proto))},
                           {"host_ip", bind},
                           {"host_port", p.host->lo + i}});
        }
    }
    if (*filter && out.empty()) {
        return Result<json>::error("no public port '" + config::to_string(**filter) + "' published for " + *name);
    }
    return out;
}

json counters(const NatRules& rules, std::uint32_t slot) {
    const nat::RuleCounter c = rules.counters(slot);
    return {{"packets", c.packets}, {"bytes", c.bytes}};
}

Result<json> nat_rules(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    const NatRules& rules = ctx.state.nat_rules();
    json masquerade = json::array();
    for (const auto& n : ctx.state.networks()) {
        const std::uint32_t slot = rules.masquerade_slot(n.name);
        if (slot == nat::kNoRuleSlot) continue;
        json r = {{"target", "MASQUERADE"},
                  {"prot", "all"},
                  {"source", Ipv4Cidr(n.subnet.network(), n.subnet.prefix()).to_string()},
                  {"destination", "0.0.0.0/0"},
                  {"network", n.name}};
        r.update(counters(rules, slot));
        masquerade.push_back(r);
    }
    json dnat = json::array();
    const auto& uplink = ctx.state.deployment().uplink;
    const std::string host = uplink ? uplink->address.address().to_string() : "-";
    if (const nat::PortMap* table = rules.table()) {
        for (const auto& rule : table->rules()) {
            const config::PortRange hosts{rule.host_lo, rule.host_hi};
            const std::uint16_t last = rule.container_port(rule.host_hi);
            const config::PortRange to{rule.container_lo, last};
            json r = {{"target", "DNAT"},
                      {"prot", rule.proto == IPPROTO_UDP ? "udp" : "tcp"},
                      {"source", "0.0.0.0/0"},
                      {"destination", host},
                      {"dport", hosts.to_string()},
                      {"to", rule.container_ip.to_string() + ":" + to.to_string()},
                      {"container", rule.container}};
            r.update(counters(rules, rule.slot));
            dnat.push_back(r);
        }
    }
    return json{{"chains", json::array({{{"name", "POSTROUTING"}, {"rules", masquerade}},
                                        {{"name", "DOCKER"}, {"rules", dnat}}})}};
}

}  // namespace

void register_publish_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("container.port", "a container's published ports, as docker port (name, port)",
                 [&ctx](const json& a) { return container_port(ctx, a); });
    registry.add("nat.rules", "NAT rules with packet and byte counters: MASQUERADE per network, DNAT per published port",
                 [&ctx](const json& a) { return nat_rules(ctx, a); });
}

}  // namespace dpdock::control
