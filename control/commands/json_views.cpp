#include "control/commands/json_views.hpp"

#include <algorithm>

#include "config/overlay.hpp"
#include "config/validate.hpp"
#include "control/command_registry.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

const config::NetworkSpec& network_spec(const State& state, const std::string& name) {
    return *std::find_if(state.networks().begin(), state.networks().end(),
                         [&](const auto& n) { return n.name == name; });
}

// Docker's words: "local" for a network of this host (an overlay configured on
// each host included); "global" for one shared through the cluster store.
const char* scope(const config::NetworkSpec& n) { return n.global ? "global" : "local"; }

}  // namespace

json network_json(const State& state, const std::string& network) {
    const auto& n = network_spec(state, network);
    const auto containers = std::count_if(state.endpoints().begin(), state.endpoints().end(),
                                          [&](const Endpoint& ep) { return ep.request.network == network; });
    json out = {{"name", n.name},
                {"id", *state.network_id(n.name)},
                {"driver", n.driver},
                {"scope", scope(n)},
                {"subnet", Ipv4Cidr(n.subnet.network(), n.subnet.prefix()).to_string()},
                {"gateway", n.gateway.to_string()},
                {"internal", n.internal},
                {"mtu", n.mtu},
                {"containers", containers}};
    if (n.vni) out["vni"] = *n.vni;  // overlay networks
    return out;
}

json network_inspect_json(const State& state, const std::string& network) {
    const auto& n = network_spec(state, network);
    json ipam_config = {{"Subnet", Ipv4Cidr(n.subnet.network(), n.subnet.prefix()).to_string()},
                        {"Gateway", n.gateway.to_string()}};
    if (n.ip_range) ipam_config["IPRange"] = n.ip_range->to_string();
    json containers = json::object();
    for (const auto& ep : state.endpoints()) {
        if (ep.request.network != network) continue;
        containers[ep.request.container] = {{"Name", ep.request.container},
                                            {"MacAddress", ep.request.mac.to_string()},
                                            {"IPv4Address", Ipv4Cidr(ep.request.ip, ep.request.prefix).to_string()},
                                            {"Interface", ep.request.interface_name},
                                            {"HostInterface", ep.host_ifname},
                                            {"PortId", ep.port}};
    }
    json options = json::object();
    for (const auto& [k, v] : n.options) options[k] = v;
    json labels = json::object();
    for (const auto& [k, v] : n.labels) labels[k] = v;
    return {{"Name", n.name},
            {"Id", *state.network_id(n.name)},
            {"Created", state.network_created(n.name)},
            {"Scope", scope(n)},
            {"Driver", n.driver},
            {"EnableIPv6", false},
            {"Internal", n.internal},
            {"MTU", n.mtu},
            {"IPAM", {{"Driver", "default"}, {"Config", json::array({ipam_config})}}},
            {"Options", options},
            {"Labels", labels},
            {"Containers", containers}};
}

json container_json(const State& state, const std::string& container) {
    const auto& containers = state.deployment().containers;
    auto c = std::find_if(containers.begin(), containers.end(), [&](const auto& x) { return x.name == container; });
    json endpoints = json::array();
    for (const auto& ep : state.endpoints()) {
        if (ep.request.container != container) continue;
        endpoints.push_back({{"network", ep.request.network},
                             {"interface", ep.request.interface_name},
                             {"ip", Ipv4Cidr(ep.request.ip, ep.request.prefix).to_string()},
                             {"mac", ep.request.mac.to_string()},
                             {"gateway", ep.request.gateway.to_string()},
                             {"host_interface", ep.host_ifname},
                             {"port_id", ep.port}});
    }
    json out = {{"name", container}, {"networks", endpoints}};
    if (c != containers.end()) {
        out["netns"] = c->netns;
        out["method"] = config::method_name(c->method);
    }
    return out;
}

json dns_counters_json(const dns::DnsCounters& c) {
    auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
    return {{"queries", get(c.queries)},          {"answered", get(c.answered)},
            {"nodata", get(c.nodata)},            {"forwarded", get(c.forwarded)},
            {"upstream_answers", get(c.upstream_answers)}, {"servfail", get(c.servfail)},
            {"refused", get(c.refused)},          {"malformed", get(c.malformed)},
            {"rate_limited", get(c.rate_limited)}, {"not_served", get(c.not_served)},
            {"forward_full", get(c.forward_full)}, {"reply_full", get(c.reply_full)},
            {"tcp_queries", get(c.tcp_queries)},  {"tcp_connections", get(c.tcp_connections)},
            {"tcp_rejected", get(c.tcp_rejected)}, {"tcp_dropped", get(c.tcp_dropped)}};
}

Result<config::EndpointSpec> endpoint_from_args(const std::string& network, const json& args) {
    using R = Result<config::EndpointSpec>;
    config::EndpointSpec e;
    e.network = network;
    auto ip = optional_string(args, "ip");
    if (!ip) return R::error(ip.message());
    if (*ip) {
        auto parsed = Ipv4Address::parse(**ip);
        if (!parsed) return R::error("ip: \"" + **ip + "\" is not an IPv4 address");
        e.ip = *parsed;
    }
    auto mac = optional_string(args, "mac");
    if (!mac) return R::error(mac.message());
    if (*mac) {
        auto parsed = MacAddress::parse(**mac);
        if (!parsed) return R::error("mac: \"" + **mac + "\" is not a MAC address like 02:42:ac:11:00:02");
        e.mac = *parsed;
    }
    if (args.contains("aliases")) {
        const json& aliases = args["aliases"];
        if (!aliases.is_array()) return R::error("aliases: expected a list of names");
        for (const auto& a : aliases) {
            if (!a.is_string() || !config::is_valid_name(a.get<std::string>())) {
                return R::error("aliases: " + a.dump() + " is not a DNS name (letters, digits, '-', '_' and '.')");
            }
            e.aliases.push_back(a.get<std::string>());
        }
    }
    return e;
}

}  // namespace dpdock::control
