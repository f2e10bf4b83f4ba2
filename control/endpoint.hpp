// Attaching one container interface (an endpoint: one container on one
// network) to the dataplane, and detaching it. Attach = netlink steps that
// create and configure the interface inside the container's namespace, then a
// hot-plugged port on its host side. Each step is undone if a later one
// fails, so a failed attach leaves nothing behind. Control thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dataplane/dataplane.hpp"
#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

struct EndpointRequest {
    std::string container;
    std::string netns;
    config::AttachMethod method = config::AttachMethod::Veth;
    std::string network;
    std::string interface_name;  // inside the container: eth0, eth1, ...
    Ipv4Address ip;
    std::uint8_t prefix = 16;
    MacAddress mac;
    Ipv4Address gateway;
    bool default_route = false;  // the container's first network gives its default route
    std::uint32_t mtu = 1500;
};

// Which namespace a path named when it was read: a namespace is known by the
// inode of its nsfs file, which a new namespace at the same path does not share.
struct NetnsIdentity {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    bool operator==(const NetnsIdentity&) const = default;
};
// nullopt when nothing is at `path` any more.
std::optional<NetnsIdentity> netns_identity(const std::string& path);

struct Endpoint {
    EndpointRequest request;
    NetnsIdentity netns;  // the namespace it was attached in
    std::string host_ifname;  // host-side veth end, or the TAP's original name
    int host_ifindex = 0;     // of the host-side veth end (0 for a TAP): names are reused, ifindexes are not
    PortId port = kNoPort;
};

// Host-side interface name for an endpoint: short (IFNAMSIZ), stable for the
// same container, network and netns, so a leftover from a crashed run is
// recognised, while another daemon's container of the same name is not.
std::string host_ifname_for(const std::string& container, const std::string& network, const std::string& netns,
                            config::AttachMethod method);

// Creates the interface and its port (a kernel port for a veth, DPDK's
// net_tap for a TAP). The port is not in any network until the caller
// publishes a snapshot that includes it.
Result<Endpoint> attach_endpoint(dataplane::Dataplane& dp, const EndpointRequest& request);

// Docker endpoints (method docker) of a deployment read at start-up whose
// veth is gone: their container went while dpdockd was down, and Docker will
// not say so again. Removed from `d`; their names are returned. The others'
// veths are adopted by attach_endpoint, as Docker left them.
std::vector<std::string> drop_vanished_docker_endpoints(config::Deployment& d);

// Removes the DPDK port (the caller has already published a snapshot without
// it) and the interface. Best effort: reports the first error but always
// tries every step.
Status detach_endpoint(dataplane::Dataplane& dp, const Endpoint& endpoint);

}  // namespace dpdock::control
