// cluster.hosts|status: the hosts of the cluster store as this host sees
// them, and this host's membership (connection, lease, revision, counters).
#include <nlohmann/json.hpp>

#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

Result<json> cluster_hosts(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    cluster::Agent* agent = ctx.state.cluster();
    if (agent == nullptr) return Result<json>::error("no cluster: dpdockd runs without --etcd");
    const cluster::TypedView view = agent->view();
    json out = json::array();
    for (const auto& [name, host] : view.hosts) {
        std::size_t endpoints = 0;
        for (const auto& ep : view.endpoints) endpoints += ep.host == name ? 1 : 0;
        out.push_back({{"name", name},
                       {"vtep", host.vtep.to_string()},
                       {"since", host.started},
                       {"endpoints", endpoints},
                       {"self", name == agent->host()}});
    }
    return out;
}

Result<json> cluster_status(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {}); !st) return st;
    cluster::Agent* agent = ctx.state.cluster();
    if (agent == nullptr) return json{{"enabled", false}};
    const cluster::AgentStatus s = agent->status();
    const cluster::TypedView view = agent->view();
    const cluster::AgentCounters& c = agent->counters();
    return json{{"enabled", true},
                {"host", s.host},
                {"vtep", s.vtep.to_string()},
                {"connected", s.connected},
                {"etcd", s.endpoint},
                {"lease", s.lease},
                {"revision", s.revision},
                {"hosts", view.hosts.size()},
                {"networks", view.networks.size()},
                {"endpoints", view.endpoints.size()},
                {"counters",
                 {{"store_ops", c.store_ops.load()},
                  {"store_errors", c.store_errors.load()},
                  {"txn_conflicts", c.txn_conflicts.load()},
                  {"watch_events", c.watch_events.load()},
                  {"reconnects", c.reconnects.load()},
                  {"resyncs", c.resyncs.load()},
                  {"malformed_records", view.malformed}}}};
}

}  // namespace

void register_cluster_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("cluster.hosts", "the hosts of the cluster (name, VTEP, since, endpoints)",
                 [&ctx](const json& a) { return cluster_hosts(ctx, a); });
    registry.add("cluster.status", "this host's membership: connection, lease, store revision, counters",
                 [&ctx](const json& a) { return cluster_status(ctx, a); });
}

}  // namespace dpdock::control
