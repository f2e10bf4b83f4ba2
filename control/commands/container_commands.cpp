// attach, detach, ps: containers (network namespaces) joining and leaving.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"
#include "control/commands/json_views.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

// The strings of an optional array argument, each parsed by `parse`.
template <typename T, typename Parse>
Status parse_list(const json& args, const char* key, Parse parse, std::vector<T>& out) {
    if (!args.contains(key) || args[key].is_null()) return {};
    if (!args[key].is_array()) return Status::error(std::string("argument \"") + key + "\" must be an array of strings");
    for (const auto& item : args[key]) {
        if (!item.is_string()) return Status::error(std::string("argument \"") + key + "\" must be an array of strings");
        auto v = parse(item.get<std::string>());
        if (!v) return v.status();
        out.push_back(*v);
    }
    return {};
}

// publish (docker run -p strings), expose (--expose strings), publish_all (-P).
Status publications_from_args(const json& args, config::ContainerSpec& c) {
    if (auto st = parse_list(args, "publish", config::parse_publish, c.publish); !st) return st;
    if (auto st = parse_list(args, "expose", config::parse_expose, c.expose); !st) return st;
    auto all = optional_bool(args, "publish_all");
    if (!all) return all.status();
    c.publish_all = all->value_or(false);
    return {};
}

Result<json> attach(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name", "netns", "network", "ip", "mac", "aliases", "method", "publish",
                                             "expose", "publish_all"});
        !st) {
        return st;
    }
    auto name = require_string(args, "name");
    if (!name) return name.status();
    auto netns = require_string(args, "netns");
    if (!netns) return netns.status();
    auto network = optional_string(args, "network");
    if (!network) return network.status();
    auto method = optional_string(args, "method");
    if (!method) return method.status();

    config::ContainerSpec c;
    c.name = *name;
    c.netns = *netns;
    if (*method) {
        if (**method == "veth") c.method = config::AttachMethod::Veth;
        else if (**method == "tap") c.method = config::AttachMethod::Tap;
        else if (**method == "docker") c.method = config::AttachMethod::Docker;
        else return Result<json>::error("method: \"" + **method + "\" is not veth, tap or docker");
    }
    auto endpoint = endpoint_from_args(network->value_or(config::kDefaultNetworkName), args);
    if (!endpoint) return endpoint.status();
    c.networks.push_back(*endpoint);
    if (auto st = publications_from_args(args, c); !st) return st;

    config::Deployment target = ctx.state.deployment();
    const bool exists = std::any_of(target.containers.begin(), target.containers.end(),
                                    [&](const auto& x) { return x.name == c.name; });
    if (exists) return Result<json>::error("container " + c.name + " is already attached");
    target.containers.push_back(c);
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return container_json(ctx.state, c.name);
}

Result<json> detach(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name"}); !st) return st;
    auto name = require_string(args, "name");
    if (!name) return name.status();
    config::Deployment target = ctx.state.deployment();
    const auto before = target.containers.size();
    std::erase_if(target.containers, [&](const auto& c) { return c.name == *name; });
    if (target.containers.size() == before) return Result<json>::error("container " + *name + " not found");
    for (auto& n : target.networks) std::erase_if(n.static_macs, [&](const auto& s) { return s.port == *name; });
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return json{{"name", *name}};
}

// Replaces a running container's published and exposed ports (the Docker
// plugin's ProgramExternalConnectivity; empty lists revoke them).
Result<json> publish(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name", "publish", "expose", "publish_all"}); !st) return st;
    auto name = require_string(args, "name");
    if (!name) return name.status();
    config::ContainerSpec wanted;
    if (auto st = publications_from_args(args, wanted); !st) return st;
    config::Deployment target = ctx.state.deployment();
    auto c = std::find_if(target.containers.begin(), target.containers.end(),
                          [&](const auto& x) { return x.name == *name; });
    if (c == target.containers.end()) return Result<json>::error("container " + *name + " not found");
    c->publish = std::move(wanted.publish);
    c->expose = std::move(wanted.expose);
    c->publish_all = wanted.publish_all;
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return container_json(ctx.state, *name);
}

Result<json> ps(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    json out = json::array();
    for (const auto& c : ctx.state.deployment().containers) out.push_back(container_json(ctx.state, c.name));
    return out;
}

}  // namespace

void register_container_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("container.attach",
                 "attach a container (name, netns, network, ip, mac, method, publish, expose, publish_all)",
                 [&ctx](const json& a) { return attach(ctx, a); });
    registry.add("container.detach", "detach a container (name)", [&ctx](const json& a) { return detach(ctx, a); });
    registry.add("container.publish", "replace a container's published ports (name, publish, expose, publish_all)",
                 [&ctx](const json& a) { return publish(ctx, a); });
    registry.add("container.ps", "list attached containers", [&ctx](const json& a) { return ps(ctx, a); });
}

}  // namespace dpdock::control
