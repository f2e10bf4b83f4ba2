// The resolver configuration of containers in named namespaces: `ip netns
// exec NAME` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf,
// so dpdock writes one pointing at the gateway of the container's network
// (Docker's shape: nameserver, the host's search domains, options ndots:0).
// Files carry a marker line; only marked files are ever replaced or removed.
// Control thread only.
#pragma once

#include <optional>
#include <string>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

inline constexpr const char* kResolvConfMarker = "# written by dpdockd (embedded DNS); removed on detach";

// "NAME" of "/run/netns/NAME", else nullopt (a /proc/PID/ns/net path has no such file).
std::optional<std::string> named_netns(const std::string& netns_path);
// Writes /etc/netns/NAME/resolv.conf (`etc` is the directory for tests) unless
// a file not written by dpdock is there.
Status write_resolv_conf(const std::string& name, Ipv4Address nameserver, const std::string& etc = "/etc");
// Removes the file and its directory when dpdock wrote them.
void remove_resolv_conf(const std::string& name, const std::string& etc = "/etc");

}  // namespace dpdock::control
