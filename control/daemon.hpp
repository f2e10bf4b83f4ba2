// The daemon's life: load the deployment, start EAL and the dataplane,
// realise the deployment, then serve the control socket, watch links and age
// MAC entries on the control thread until SIGINT/SIGTERM; then undo all of it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "control/access_policy.hpp"

namespace dpdock::control {

struct DaemonOptions {
    std::string config_path;                 // "" = start empty (the default bridge only), like dockerd
    bool demo = false;                       // without config_path: run the embedded demo deployment
    std::optional<std::string> socket_path;  // overrides dataplane.socket
    std::vector<std::string> eal_args;       // after "--" on the command line
    std::optional<gid_t> socket_group;       // owns the socket and may use it, like dockerd's --group
    // A control client that sends and reads nothing for this long is dropped
    // (tests use a short value to see a silent client go).
    std::chrono::milliseconds client_idle_timeout = std::chrono::seconds(30);
    AccessPolicy policy;  // --allow-driver, --save-dir: limits for --group members
    // Cluster (global overlay networks on etcd): off when etcd is empty.
    std::vector<std::string> etcd;  // --etcd URL, repeatable: the etcd members
    std::string host_name;          // --host-name: this host in the cluster (default: gethostname)
    std::int64_t cluster_lease_ttl_s = 5;
};

// Returns the process exit code: 0 after a clean shutdown, 1 when start-up failed.
int run_daemon(const DaemonOptions& options);

}  // namespace dpdock::control
