// mac.show: the learned and static MAC entries, like `brctl showmacs`.
#include <rte_cycles.h>

#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

Result<json> mac_show(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network"}); !st) return st;
    auto network = optional_string(args, "network");
    if (!network) return network.status();
    std::optional<NetworkId> only;
    if (*network) {
        only = ctx.state.network_id(**network);
        if (!only) return Result<json>::error("network " + **network + " not found");
    }
    std::map<NetworkId, std::string> names;
    for (const auto& n : ctx.state.networks()) names[*ctx.state.network_id(n.name)] = n.name;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    json out = json::array();
    for (const auto& e : ctx.dataplane.macs().dump(rte_rdtsc())) {
        if (only && e.network != *only) continue;
        auto name = names.find(e.network);
        out.push_back({{"network", name == names.end() ? std::to_string(e.network) : name->second},
                       {"mac", e.mac.to_string()},
                       {"port", ctx.state.port_owner(e.port)},
                       {"port_id", e.port},
                       {"static", e.is_static},
                       {"age_s", e.is_static ? 0.0 : static_cast<double>(e.age_ticks) / hz}});
    }
    return out;
}

}  // namespace

void register_table_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("mac.show", "MAC table entries (network)", [&ctx](const json& a) { return mac_show(ctx, a); });
}

}  // namespace dpdock::control
