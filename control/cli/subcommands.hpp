// The subcommand table. Adding a subcommand = one file under control/cli/
// with its run function, its declaration here, and one row in subcommands.cpp.
// A subcommand parses its own arguments with parse_args() and returns an exit code.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "control/cli/command_line.hpp"

namespace dpdock::cli {

// Sorted by name; the order of `dpdock --help`.
std::span<const Subcommand> subcommands();

int run_attach(Context& ctx, const std::vector<std::string>& args);  // container_command.cpp
int run_detach(Context& ctx, const std::vector<std::string>& args);  // container_command.cpp
int run_ps(Context& ctx, const std::vector<std::string>& args);      // container_command.cpp
int run_capture(Context& ctx, const std::vector<std::string>& args);  // capture_command.cpp
int run_cluster_hosts(Context& ctx, const std::vector<std::string>& args);   // cluster_command.cpp
int run_cluster_status(Context& ctx, const std::vector<std::string>& args);  // cluster_command.cpp
int run_config_save(Context& ctx, const std::vector<std::string>& args);    // config_command.cpp
int run_config_reload(Context& ctx, const std::vector<std::string>& args);  // config_command.cpp
int run_dns(Context& ctx, const std::vector<std::string>& args);  // dns_command.cpp
int run_mac(Context& ctx, const std::vector<std::string>& args);  // mac_command.cpp
int run_conntrack(Context& ctx, const std::vector<std::string>& args);  // conntrack_command.cpp
int run_network_create(Context& ctx, const std::vector<std::string>& args);      // network_command.cpp
int run_network_ls(Context& ctx, const std::vector<std::string>& args);          // network_command.cpp
int run_network_inspect(Context& ctx, const std::vector<std::string>& args);     // network_command.cpp
int run_network_rm(Context& ctx, const std::vector<std::string>& args);          // network_command.cpp
int run_network_connect(Context& ctx, const std::vector<std::string>& args);     // network_command.cpp
int run_network_disconnect(Context& ctx, const std::vector<std::string>& args);  // network_command.cpp
int run_nat(Context& ctx, const std::vector<std::string>& args);   // publish_command.cpp
int run_port(Context& ctx, const std::vector<std::string>& args);  // publish_command.cpp
int run_overlay_fdb(Context& ctx, const std::vector<std::string>& args);   // overlay_command.cpp
int run_overlay_peer(Context& ctx, const std::vector<std::string>& args);  // overlay_command.cpp
int run_raw(Context& ctx, const std::vector<std::string>& args);      // raw_command.cpp
int run_uplink_show(Context& ctx, const std::vector<std::string>& args);  // uplink_command.cpp
int run_uplink_set(Context& ctx, const std::vector<std::string>& args);   // uplink_command.cpp
int run_uplink_rm(Context& ctx, const std::vector<std::string>& args);    // uplink_command.cpp
int run_stats(Context& ctx, const std::vector<std::string>& args);        // stats_command.cpp
int run_stats_clear(Context& ctx, const std::vector<std::string>& args);  // stats_command.cpp
int run_version(Context& ctx, const std::vector<std::string>& args);  // version_command.cpp

}  // namespace dpdock::cli
