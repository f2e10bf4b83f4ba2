// network.create|ls|inspect|rm|connect|disconnect: Docker's `docker network`
// verbs. Each mutation edits a copy of the running model and hands it to
// State::apply(), which validates, applies, and rolls back on failure.
#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "config/overlay.hpp"
#include "config/validate.hpp"
#include "control/commands/command_context.hpp"
#include "control/commands/json_views.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

// Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
std::optional<Ipv4Cidr> next_free_subnet(const std::vector<config::NetworkSpec>& networks) {
    std::vector<Ipv4Cidr> pool;
    for (std::uint32_t b = 17; b <= 31; ++b) pool.emplace_back(Ipv4Address((172u << 24) | (b << 16)), 16);
    for (std::uint32_t c = 0; c < 256; c += 16) pool.emplace_back(Ipv4Address((192u << 24) | (168u << 16) | (c << 8)), 20);
    for (const auto& candidate : pool) {
        const bool taken = std::any_of(networks.begin(), networks.end(),
                                       [&](const auto& n) { return n.subnet.overlaps(candidate); });
        if (!taken) return candidate;
    }
    return std::nullopt;
}

Result<Ipv4Cidr> parse_cidr_arg(const std::string& key, const std::string& text) {
    auto cidr = Ipv4Cidr::parse(text);
    if (!cidr) return Result<Ipv4Cidr>::error(key + ": \"" + text + "\" is not a CIDR like 10.1.0.0/24");
    return *cidr;
}

// An overlay network's VNI (allocated by resolve() when absent) and its MTU
// when none is given (the uplink's minus the VXLAN overhead).
Status overlay_fields(const config::Deployment& d, std::optional<std::int64_t> vni, bool mtu_given,
                      config::NetworkSpec& network) {
    if (!config::is_overlay(network)) return vni ? Status::error("--vni needs --driver overlay") : Status();
    if (vni) {
        if (*vni < 1 || *vni > config::kMaxVni) {
            return Status::error("vni " + std::to_string(*vni) + " is outside 1.." + std::to_string(config::kMaxVni));
        }
        network.vni = static_cast<std::uint32_t>(*vni);
    }
    if (!mtu_given) network.mtu = config::default_overlay_mtu(d);
    return Status();
}

// An optional argument {"KEY": "VALUE", ...} (Docker's --opt and --label).
Status string_map_arg(const json& args, const char* key, const char* what, std::map<std::string, std::string>& out) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) return {};
    if (!it->is_object()) return Status::error(std::string("\"") + key + "\" must be an object of strings");
    for (const auto& [name, value] : it->items()) {
        if (!value.is_string()) return Status::error(std::string(what) + " " + name + " must be a string");
        out[name] = value.get<std::string>();
    }
    return {};
}

#define DPDOCK_TRY(var, expr)                              \
    auto var = (expr);                                     \
    if (!var) return Result<json>::error(var.message())

Result<json> network_create(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name", "driver", "subnet", "gateway", "ip_range", "internal", "mtu",
                                             "options", "labels", "vni", "arp_suppression", "scope"});
        !st) {
        return st;
    }
    DPDOCK_TRY(name, require_string(args, "name"));
    DPDOCK_TRY(driver, optional_string(args, "driver"));
    DPDOCK_TRY(subnet, optional_string(args, "subnet"));
    DPDOCK_TRY(gateway, optional_string(args, "gateway"));
    DPDOCK_TRY(ip_range, optional_string(args, "ip_range"));
    DPDOCK_TRY(internal, optional_bool(args, "internal"));
    DPDOCK_TRY(mtu, optional_int(args, "mtu"));
    DPDOCK_TRY(vni, optional_int(args, "vni"));
    DPDOCK_TRY(arp_suppression, optional_bool(args, "arp_suppression"));
    DPDOCK_TRY(scope, optional_string(args, "scope"));

    // Docker's words; validation would say "duplicate network name" with a key path.
    if (ctx.state.network_id(*name)) return Result<json>::error("network with name " + *name + " already exists");
    config::Deployment target = ctx.state.deployment();
    config::NetworkSpec network;
    network.name = *name;
    if (*driver) network.driver = **driver;
    if (*subnet) {
        DPDOCK_TRY(cidr, parse_cidr_arg("subnet", **subnet));
        network.subnet = *cidr;
    } else if (*gateway || *ip_range) {
        return Result<json>::error("--gateway and --ip-range need --subnet");
    } else {
        auto free = next_free_subnet(ctx.state.networks());
        if (!free) return Result<json>::error("no free subnet left in the default address pools");
        network.subnet = *free;
    }
    network.gateway = Ipv4Address(network.subnet.network().host() + 1);
    if (*gateway) {
        auto ip = Ipv4Address::parse(**gateway);
        if (!ip) return Result<json>::error("gateway: \"" + **gateway + "\" is not an IPv4 address");
        network.gateway = *ip;
    }
    if (*ip_range) {
        DPDOCK_TRY(cidr, parse_cidr_arg("ip_range", **ip_range));
        network.ip_range = *cidr;
    }
    if (*internal) network.internal = **internal;
    if (*arp_suppression) network.arp_suppression = **arp_suppression;
    if (*scope && **scope != "local") {
        // Global: shared through the cluster store (State::apply has the agent create it).
        if (**scope != "global") return Result<json>::error("scope must be \"local\" or \"global\"");
        if (network.driver != config::kOverlayDriver) return Result<json>::error("--scope global needs --driver overlay");
        if (ctx.state.cluster() == nullptr) {
            return Result<json>::error("--scope global needs a cluster: start dpdockd with --etcd");
        }
        network.global = true;
        if (!*arp_suppression) network.arp_suppression = true;  // remote addresses are known from the store
    }
    if (*mtu) {
        // Checked before the cast: -5 would otherwise wrap and be reported as "mtu 4294967291".
        if (**mtu < 0 || **mtu > std::numeric_limits<std::uint32_t>::max()) {
            return Result<json>::error("mtu " + std::to_string(**mtu) + " is not a valid MTU");
        }
        network.mtu = static_cast<std::uint32_t>(**mtu);
    }
    if (auto st = string_map_arg(args, "options", "option", network.options); !st) return st;
    if (auto st = string_map_arg(args, "labels", "label", network.labels); !st) return st;
    if (auto st = overlay_fields(target, *vni, *mtu || network.options.contains("com.docker.network.driver.mtu"),
                                 network);
        !st) {
        return st;
    }
    target.networks.push_back(network);
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return network_json(ctx.state, network.name);
}

Result<json> network_ls(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    json out = json::array();
    for (const auto& n : ctx.state.networks()) out.push_back(network_json(ctx.state, n.name));
    return out;
}

Result<std::vector<std::string>> names_arg(const json& args) {
    if (!args.contains("names") || !args["names"].is_array() || args["names"].empty()) {
        return Result<std::vector<std::string>>::error("\"names\" must be a non-empty array of network names");
    }
    std::vector<std::string> names;
    for (const auto& n : args["names"]) {
        if (!n.is_string()) return Result<std::vector<std::string>>::error("\"names\" must contain strings");
        names.push_back(n.get<std::string>());
    }
    return names;
}

Result<json> network_inspect(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"names"}); !st) return st;
    DPDOCK_TRY(names, names_arg(args));
    json out = json::array();
    for (const auto& name : *names) {
        if (!ctx.state.network_id(name)) return Result<json>::error("network " + name + " not found");
        out.push_back(network_inspect_json(ctx.state, name));
    }
    return out;
}

Result<json> network_rm(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"names"}); !st) return st;
    DPDOCK_TRY(names, names_arg(args));
    config::Deployment target = ctx.state.deployment();
    for (const auto& name : *names) {
        if (name == config::kDefaultNetworkName) return Result<json>::error("bridge is a pre-defined network and cannot be removed");
        auto it = std::find_if(target.networks.begin(), target.networks.end(), [&](const auto& n) { return n.name == name; });
        if (it == target.networks.end()) return Result<json>::error("network " + name + " not found");
        for (const auto& c : target.containers) {
            for (const auto& e : c.networks) {
                if (e.network == name) {
                    return Result<json>::error("network " + name + " has active endpoints (container " + c.name + ")");
                }
            }
        }
        for (const auto& p : target.ports) {
            if (p.network == name) return Result<json>::error("network " + name + " has active endpoints (port " + p.name + ")");
        }
        target.networks.erase(it);
    }
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return json(*names);
}

config::ContainerSpec* find_container(config::Deployment& d, const std::string& name) {
    auto it = std::find_if(d.containers.begin(), d.containers.end(), [&](const auto& c) { return c.name == name; });
    return it == d.containers.end() ? nullptr : &*it;
}

Result<json> network_connect(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network", "container", "ip", "mac", "aliases"}); !st) return st;
    DPDOCK_TRY(network, require_string(args, "network"));
    DPDOCK_TRY(container, require_string(args, "container"));
    DPDOCK_TRY(endpoint, endpoint_from_args(*network, args));
    config::Deployment target = ctx.state.deployment();
    config::ContainerSpec* c = find_container(target, *container);
    if (c == nullptr) return Result<json>::error("container " + *container + " not found");
    if (!ctx.state.network_id(*network)) return Result<json>::error("network " + *network + " not found");
    for (const auto& e : c->networks) {
        if (e.network == *network) return Result<json>::error("container " + *container + " is already connected to network " + *network);
    }
    c->networks.push_back(*endpoint);
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return container_json(ctx.state, *container);
}

Result<json> network_disconnect(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network", "container"}); !st) return st;
    DPDOCK_TRY(network, require_string(args, "network"));
    DPDOCK_TRY(container, require_string(args, "container"));
    config::Deployment target = ctx.state.deployment();
    config::ContainerSpec* c = find_container(target, *container);
    if (c == nullptr) return Result<json>::error("container " + *container + " not found");
    const auto before = c->networks.size();
    std::erase_if(c->networks, [&](const auto& e) { return e.network == *network; });
    if (c->networks.size() == before) {
        return Result<json>::error("container " + *container + " is not connected to network " + *network);
    }
    if (c->networks.empty()) {
        return Result<json>::error("network " + *network + " is the last network of container " + *container +
                                   "; use `dpdock detach " + *container + "` to remove it");
    }
    for (auto& n : target.networks) {
        if (n.name == *network) std::erase_if(n.static_macs, [&](const auto& s) { return s.port == *container; });
    }
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return container_json(ctx.state, *container);
}

#undef DPDOCK_TRY

}  // namespace

void register_network_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("network.create",
                 "create a network (name, driver, subnet, gateway, ip_range, internal, mtu, options, labels, vni, "
                 "arp_suppression)",
                 [&ctx](const json& a) { return network_create(ctx, a); });
    registry.add("network.ls", "list networks", [&ctx](const json& a) { return network_ls(ctx, a); });
    registry.add("network.inspect", "show networks in detail (names)", [&ctx](const json& a) { return network_inspect(ctx, a); });
    registry.add("network.rm", "remove networks without containers (names)", [&ctx](const json& a) { return network_rm(ctx, a); });
    registry.add("network.connect", "connect a container to a network (network, container, ip, mac)",
                 [&ctx](const json& a) { return network_connect(ctx, a); });
    registry.add("network.disconnect", "disconnect a container from a network (network, container)",
                 [&ctx](const json& a) { return network_disconnect(ctx, a); });
}

}  // namespace dpdock::control
