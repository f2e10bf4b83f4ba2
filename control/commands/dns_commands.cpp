// dns.show: the records a network's embedded DNS answers, with hit counters.
#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"
#include "control/commands/json_views.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

Result<json> dns_show(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"network"}); !st) return st;
    auto network = require_string(args, "network");
    if (!network) return network.status();
    auto id = ctx.state.network_id(*network);
    if (!id) return Result<json>::error("network " + *network + " not found");
    const auto names = ctx.dataplane.dns().names();
    json records = json::array();
    for (const auto& [name, ip] : names->records(*id)) {
        records.push_back({{"name", name}, {"ip", ip.to_string()}, {"hits", ctx.dataplane.dns().hits(*id, name)}});
    }
    // TCP 53 needs the exception path (dns/tcp_server.hpp): without it a TCP query goes unanswered.
    const bool tcp = names->serves(*id) && ctx.state.deployment().exception.enabled;
    return json{{"network", *network}, {"served", names->serves(*id)}, {"tcp", tcp},
                {"internal", names->internal(*id)}, {"records", records}};
}

}  // namespace

void register_dns_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("dns.show", "the names a network's embedded DNS answers, with hit counters",
                 [&ctx](const json& args) { return dns_show(ctx, args); });
}

}  // namespace dpdock::control
