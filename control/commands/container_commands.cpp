// attach, detach, ps: containers (network namespaces) joining and leaving.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"
#include "control/commands/json_views.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

Result<json> attach(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"name", "netns", "network", "ip", "mac", "method", "publish", "expose",
                                             "publish_all"});
        !st) {
        return st;
    }
    for (const char* nat_arg : {"publish", "expose", "publish_all"}) {
        if (args.contains(nat_arg) && !args[nat_arg].empty() && args[nat_arg] != false) {
            return Result<json>::error(std::string(nat_arg) +
                                       ": published ports need the NAT dataplane, which is not available yet");
        }
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
        else return Result<json>::error("method: \"" + **method + "\" is not veth or tap");
    }
    auto endpoint = endpoint_from_args(network->value_or(config::kDefaultNetworkName), args);
    if (!endpoint) return endpoint.status();
    c.networks.push_back(*endpoint);

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

Result<json> ps(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    json out = json::array();
    for (const auto& c : ctx.state.deployment().containers) out.push_back(container_json(ctx.state, c.name));
    return out;
}

}  // namespace

void register_container_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("container.attach", "attach a container (name, netns, network, ip, mac, method)",
                 [&ctx](const json& a) { return attach(ctx, a); });
    registry.add("container.detach", "detach a container (name)", [&ctx](const json& a) { return detach(ctx, a); });
    registry.add("container.ps", "list attached containers", [&ctx](const json& a) { return ps(ctx, a); });
}

}  // namespace dpdock::control
