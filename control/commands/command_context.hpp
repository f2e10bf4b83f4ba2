// What command handlers may touch: the running state, the dataplane, and the
// control-side counter baselines. Handlers run on the control thread, one at
// a time, so they need no locking among themselves.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "control/access_policy.hpp"
#include "control/command_registry.hpp"
#include "control/state.hpp"
#include "dataplane/dataplane.hpp"
#include "base/sync/counters.hpp"

namespace dpdock::control {

struct CommandContext {
    State& state;
    dataplane::Dataplane& dataplane;
    std::string config_path;  // "" when started without --config
    AccessPolicy policy;      // what callers other than root may do
    // Set by register_all_commands: who sent the request being handled.
    const CommandRegistry* registry = nullptr;
    const Caller& caller() const { return registry->caller(); }
    // `stats clear` stores the totals here; `stats show` subtracts them.
    std::vector<sync::WorkerCounters> stats_baseline;
    struct PortBaseline {
        std::uint64_t serial;  // PortRecord::serial: a reused port id starts afresh
        sync::PortCounters counters;
    };
    std::map<PortId, PortBaseline> port_baseline;
};

// One worker's counters since the last stats.clear.
inline sync::WorkerCounters since_baseline(const CommandContext& ctx, std::size_t worker,
                                           const sync::WorkerCounters& now) {
    sync::WorkerCounters c = now;
    if (worker < ctx.stats_baseline.size()) sync::subtract(c, ctx.stats_baseline[worker]);
    return c;
}

void register_stats_commands(CommandRegistry& registry, CommandContext& ctx);
void register_dns_commands(CommandRegistry& registry, CommandContext& ctx);
void register_network_commands(CommandRegistry& registry, CommandContext& ctx);
void register_container_commands(CommandRegistry& registry, CommandContext& ctx);
void register_table_commands(CommandRegistry& registry, CommandContext& ctx);
void register_config_commands(CommandRegistry& registry, CommandContext& ctx);
void register_nat_commands(CommandRegistry& registry, CommandContext& ctx);
void register_uplink_commands(CommandRegistry& registry, CommandContext& ctx);
void register_publish_commands(CommandRegistry& registry, CommandContext& ctx);
void register_overlay_commands(CommandRegistry& registry, CommandContext& ctx);
void register_cluster_commands(CommandRegistry& registry, CommandContext& ctx);
void register_capture_commands(CommandRegistry& registry, CommandContext& ctx);

// All of the above.
inline void register_all_commands(CommandRegistry& registry, CommandContext& ctx) {
    ctx.registry = &registry;
    register_stats_commands(registry, ctx);
    register_dns_commands(registry, ctx);
    register_capture_commands(registry, ctx);
    register_network_commands(registry, ctx);
    register_container_commands(registry, ctx);
    register_table_commands(registry, ctx);
    register_config_commands(registry, ctx);
    register_nat_commands(registry, ctx);
    register_uplink_commands(registry, ctx);
    register_publish_commands(registry, ctx);
    register_overlay_commands(registry, ctx);
    register_cluster_commands(registry, ctx);
}

}  // namespace dpdock::control
