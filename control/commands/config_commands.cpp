// config.save and config.reload: the running state to and from YAML.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "config/yaml_writer.hpp"
#include "cluster/derive.hpp"
#include "cluster/restore.hpp"
#include "control/commands/command_context.hpp"

namespace dpdock::control {
namespace {

using nlohmann::json;

Result<std::string> path_arg(const CommandContext& ctx, const json& args) {
    auto path = optional_string(args, "path");
    if (!path) return Result<std::string>::error(path.message());
    if (*path) {
        // Relative to what? The daemon's working directory is nobody's business.
        if (!std::filesystem::path(**path).is_absolute()) {
            return Result<std::string>::error("path \"" + **path +
                                              "\" is relative: give an absolute path (the dpdock CLI makes a "
                                              "relative FILE absolute in its own working directory)");
        }
        return **path;
    }
    if (ctx.config_path.empty()) {
        return Result<std::string>::error("no path given, and dpdockd was started without --config");
    }
    return ctx.config_path;
}

// Settings that shape EAL, the mempool or the workers are fixed at start-up.
Status check_dataplane_unchanged(const config::DataplaneSpec& a, const config::DataplaneSpec& b) {
    auto differs = [](const char* key) { return Status::error(std::string("dataplane.") + key + " cannot change while dpdockd runs; restart it"); };
    if (a.workers != b.workers) return differs("workers");
    if (a.mbufs != b.mbufs) return differs("mbufs");
    if (a.burst != b.burst) return differs("burst");
    if (a.rx_ring != b.rx_ring) return differs("rx-ring");
    if (a.tx_ring != b.tx_ring) return differs("tx-ring");
    if (a.mac_table_size != b.mac_table_size) return differs("mac-table-size");
    if (a.mac_ageing_s != b.mac_ageing_s) return differs("mac-ageing");
    if (a.idle_sleep_us != b.idle_sleep_us) return differs("idle-sleep-us");
    if (a.spread_flows != b.spread_flows) return differs("spread-flows");
    if (a.idle_sleep_max_us != b.idle_sleep_max_us) return differs("idle-sleep-max-us");
    if (a.idle_poll_us != b.idle_poll_us) return differs("idle-poll-us");
    if (a.memory_mb != b.memory_mb) return differs("memory-mb");
    if (a.socket_path != b.socket_path) return differs("socket");
    if (a.eal_args != b.eal_args) return differs("eal-args");
    if (a.icmp_errors_per_s != b.icmp_errors_per_s) return differs("icmp-errors-per-second");
    if (a.icmp_errors_burst != b.icmp_errors_burst) return differs("icmp-errors-burst");
    return {};
}

// A path of the caller's choosing is checked against the access policy; the
// daemon's own --config file is always allowed (root chose it at start-up).
Result<std::string> allowed_path_arg(const CommandContext& ctx, const json& args) {
    auto path = path_arg(ctx, args);
    if (!path) return path;
    if (*path == ctx.config_path) return path;
    if (auto st = check_config_path(ctx.policy, ctx.caller(), *path); !st) return Result<std::string>::error(st.message());
    return path;
}

Result<json> save(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"path"}); !st) return st;
    auto path = allowed_path_arg(ctx, args);
    if (!path) return path.status();
    if (auto st = config::save_atomically(ctx.state.deployment(), *path); !st) return st;
    return json{{"path", *path}};
}

Result<json> reload(CommandContext& ctx, const json& args) {
    if (auto st = reject_unknown_keys(args, {"path"}); !st) return st;
    auto path = allowed_path_arg(ctx, args);
    if (!path) return path.status();
    auto loaded = config::load_file(*path);
    if (!loaded) return loaded.status();
    if (auto st = check_deployment_devargs(ctx.policy, ctx.caller(), *loaded); !st) return st;
    // The socket path may have been overridden on the command line; keep ours.
    loaded->dataplane.socket_path = ctx.state.deployment().dataplane.socket_path;
    if (auto st = check_dataplane_unchanged(ctx.state.deployment().dataplane, loaded->dataplane); !st) return st;
    // Global networks live in the cluster store, not in the file: a saved file's
    // (scope: global) are dropped, the running ones and their endpoints kept.
    if (!cluster::split_global(*loaded).empty() && ctx.state.cluster() == nullptr) {
        return Result<json>::error("the file has endpoints on global networks (scope: global): they need a cluster");
    }
    if (ctx.state.cluster() != nullptr) cluster::keep_global(*loaded, ctx.state.deployment());
    if (auto st = ctx.state.apply(std::move(*loaded)); !st) return st;
    return json{{"path", *path}};
}

}  // namespace

void register_config_commands(CommandRegistry& registry, CommandContext& ctx) {
    registry.add("config.save", "write the running state as YAML (path; default: the --config file)",
                 [&ctx](const json& a) { return save(ctx, a); });
    registry.add("config.reload", "apply a changed YAML file (path; default: the --config file)",
                 [&ctx](const json& a) { return reload(ctx, a); });
}

}  // namespace dpdock::control
