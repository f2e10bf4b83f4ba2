// AccessPolicy: what a caller who is not root may ask of the daemon. The
// control socket is root-equivalent by nature (devargs such as
// net_pcap,tx_pcap=FILE write files, af_packet on the host NIC reads its
// traffic, `config save` writes any path, --netns /proc/1/ns/net configures
// the host; docs/control-protocol.md#security), so members of --group are
// held to what the operator allowed at start-up: devargs drivers by name
// (--allow-driver) and one directory for config save/reload (--save-dir).
// Root and the daemon's own user are never restricted. Pure functions over
// the policy; control thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/command_registry.hpp"
#include "config/model.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

struct AccessPolicy {
    // Driver names ("net_af_packet", "net_tap"): devargs whose device name is
    // the driver's, or the driver's followed by a digit or '_' (DPDK's vdev naming).
    std::vector<std::string> devargs_drivers;
    // Absolute; config save/reload paths must lie inside it (symlinks resolved).
    std::optional<std::string> save_dir;
};

// The devargs' driver: the name before the first ',' ("net_af_packet0,iface=x" -> device "net_af_packet0").
Status check_devargs(const AccessPolicy& policy, const Caller& caller, const std::string& devargs);
// Every devargs of a deployment a caller wants applied: the uplink's and the raw ports'.
Status check_deployment_devargs(const AccessPolicy& policy, const Caller& caller, const config::Deployment& d);
// A path given to config.save or config.reload (already known to be absolute).
Status check_config_path(const AccessPolicy& policy, const Caller& caller, const std::string& path);

}  // namespace dpdock::control
