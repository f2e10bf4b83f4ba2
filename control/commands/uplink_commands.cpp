// uplink.show|set|rm: the port to the outside world at run time, the same
// thing the YAML `uplink:` section describes. set/rm edit a copy of the
// running model and hand it to State::apply(), which validates (same checks
// and messages as the YAML), replaces the port only when its devargs or MTU
// changed, and rolls back on failure.
#include <rte_cycles.h>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

json uplink_json(const CommandContext& ctx) {
    const auto& spec = ctx.state.deployment().uplink;
    if (!spec) return nullptr;
    json out = {{"devargs", spec->devargs},
                {"address", spec->address.to_string()},
                {"gateway", spec->gateway.to_string()},
                {"mtu", spec->mtu},
                {"arp_timeout_s", spec->arp_timeout_s},
                {"gateway_mac", spec->gateway_mac ? json(spec->gateway_mac->to_string()) : json(nullptr)}};
    if (const auto& running = ctx.dataplane.current().uplink) {
        out["port_id"] = running->port;
        out["mac"] = running->mac.to_string();
    }
    return out;
}

// The ARP cache, like `ip neigh`: an entry older than the uplink's
// arp-timeout is STALE and is asked for again on its next use.
json neighbours_json(const CommandContext& ctx) {
    json out = json::array();
    const auto& spec = ctx.state.deployment().uplink;
    if (!spec) return out;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    for (const auto& n : ctx.dataplane.neighbours().dump(rte_rdtsc())) {
        const double age_s = static_cast<double>(n.age_ticks) / hz;
        out.push_back({{"ip", n.ip.to_string()},
                       {"mac", n.mac.to_string()},
                       {"age_s", age_s},
                       {"state", age_s < spec->arp_timeout_s ? "REACHABLE" : "STALE"}});
    }
    return out;
}

Result<json> uplink_show(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    return json{{"uplink", uplink_json(ctx)}, {"neighbours", neighbours_json(ctx)}};
}

Result<std::uint32_t> positive_u32(const json& args, std::string_view key, std::uint32_t current) {
    auto value = optional_int(args, key);
    if (!value) return value.status();
    if (!*value) return current;
    if (**value <= 0 || **value > 0xffffffffLL) {
        return Result<std::uint32_t>::error(std::string(key) + ": " + std::to_string(**value) + " is out of range");
    }
    return static_cast<std::uint32_t>(**value);
}

// Fields given replace the running uplink's; without a running uplink,
// devargs, address and gateway must all be given. A new gateway drops the
// permanent gateway MAC unless one is given with it: the MAC was the old
// gateway's. An empty gateway_mac removes it (the gateway is resolved by ARP).
Result<json> uplink_set(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"devargs", "address", "gateway", "mtu", "arp_timeout_s", "gateway_mac"}); !st) return st;
    config::Deployment target = ctx.state.deployment();
    const bool creating = !target.uplink;
    config::UplinkSpec spec = target.uplink.value_or(config::UplinkSpec{});
    for (const char* key : {"devargs", "address", "gateway"}) {
        if (creating && !args.contains(key)) {
            return Result<json>::error(std::string("missing argument \"") + key +
                                       "\" (there is no uplink yet: devargs, address and gateway are needed)");
        }
    }
    auto devargs = optional_string(args, "devargs");
    if (!devargs) return devargs.status();
    if (*devargs) {
        if (auto st = check_devargs(ctx.policy, ctx.caller(), **devargs); !st) return st;
        spec.devargs = **devargs;
    }
    auto address = optional_string(args, "address");
    if (!address) return address.status();
    if (*address) {
        auto cidr = Ipv4Cidr::parse(**address);
        if (!cidr) return Result<json>::error("address: \"" + **address + "\" is not an address/prefix like 192.0.2.10/24");
        spec.address = *cidr;
    }
    auto gateway = optional_string(args, "gateway");
    if (!gateway) return gateway.status();
    if (*gateway) {
        auto ip = Ipv4Address::parse(**gateway);
        if (!ip) return Result<json>::error("gateway: \"" + **gateway + "\" is not an IPv4 address");
        if (*ip != spec.gateway) spec.gateway_mac.reset();
        spec.gateway = *ip;
    }
    auto gateway_mac = optional_string(args, "gateway_mac");
    if (!gateway_mac) return gateway_mac.status();
    if (*gateway_mac && (*gateway_mac)->empty()) {
        spec.gateway_mac.reset();
    } else if (*gateway_mac) {
        auto mac = MacAddress::parse(**gateway_mac);
        if (!mac) return Result<json>::error("gateway_mac: \"" + **gateway_mac + "\" is not a MAC address like 02:00:00:00:00:01");
        spec.gateway_mac = *mac;
    }
    auto mtu = positive_u32(args, "mtu", spec.mtu);
    if (!mtu) return mtu.status();
    spec.mtu = *mtu;
    auto arp_timeout = positive_u32(args, "arp_timeout_s", spec.arp_timeout_s);
    if (!arp_timeout) return arp_timeout.status();
    spec.arp_timeout_s = *arp_timeout;
    spec.pos = {};  // from the control socket, not from a file
    target.uplink = spec;
    if (auto st = ctx.state.apply(std::move(target)); !st) return st;
    return json{{"uplink", uplink_json(ctx)}};
}

Result<json> uplink_rm(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    config::Deployment target = ctx.state.deployment();
    if (!target.uplink) return Result<json>::error("there is no uplink to remove");
    target.uplink.reset();
    // A copy, not a move: GCC 12 warns (falsely, -Wmaybe-uninitialized) about moving the empty optional.
    if (auto st = ctx.state.apply(target); !st) return st;
    return json::object();
}

}  // namespace

void register_uplink_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("uplink.show", "the uplink (devargs, host address, gateway, MTU) and its ARP cache",
                 [&ctx](const json& a) { return uplink_show(ctx, a); });
    registry.add("uplink.set", "create or change the uplink (devargs, address, gateway, mtu, arp_timeout_s)",
                 [&ctx](const json& a) { return uplink_set(ctx, a); });
    registry.add("uplink.rm", "remove the uplink", [&ctx](const json& a) { return uplink_rm(ctx, a); });
}

}  // namespace dpdock::control
