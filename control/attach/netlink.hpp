// Netlink half of attaching a container: the veth pair or TAP that links the
// dataplane to a container's network namespace, configured like Docker's eth0.
// All work goes through rtnetlink (libmnl); no program is run.
// Every call either completes or removes what it created (a failed attach leaves
// no half-made interface) and names the failing step with strerror.
// Threading: called from the control thread; never changes the caller's netns
// (sockets of the container's netns are made on a short-lived thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::attach {

// The container side of an attachment, as the container sees it.
struct InterfaceConfig {
    std::string name = "eth0";
    MacAddress mac;
    Ipv4Cidr address;
    std::optional<Ipv4Address> default_gateway;
    std::uint32_t mtu = 1500;
    // Handed over to the namespace's owner (Docker), who moves the interface
    // into its sandbox and configures it: only MAC and MTU are set, the link
    // stays down, no address, no route.
    bool handover = false;
};

// Creates a veth pair: host_ifname stays in the daemon's netns (up, MTU =
// inside.mtu); the peer is created directly in the netns at netns_path as
// inside.name with the kernel's default offloads (dpdock's kernel port carries
// partial checksums and GSO frames), then configured (MAC, MTU, address, lo
// and link up, default route; only MAC and MTU when inside.handover).
// Returns the host end's ifindex.
Result<int> create_veth(const std::string& host_ifname, const std::string& netns_path, const InterfaceConfig& inside);

// Moves ifname (e.g. a TAP made by DPDK's net_tap) from the daemon's netns into
// netns_path as inside.name and configures it like create_veth does. On
// failure the link is moved back under its old name, MAC and MTU.
Status move_and_configure(const std::string& ifname, const std::string& netns_path, const InterfaceConfig& inside);

// Points the default route of the netns at netns_path to `gateway` through
// `ifname` there, replacing any default route it has (Docker moves the
// default route this way when the network that carried it is disconnected).
Status set_default_route(const std::string& netns_path, const std::string& ifname, Ipv4Address gateway);

// Deletes a link of the daemon's netns (a veth takes its peer with it).
// A link that does not exist counts as deleted.
Status delete_link(const std::string& ifname);

// True when the netns at netns_path has a link named ifname (false also
// when the netns cannot be entered: the attach that follows reports that).
bool has_link_in(const std::string& netns_path, const std::string& ifname);

// The exception interface (dpdock0) in the daemon's netns: up, and an IPv4
// address added (with its connected route) or deleted. Deleting an address
// that is not there counts as done.
Status set_link_up(const std::string& ifname);
Status add_interface_address(const std::string& ifname, const Ipv4Cidr& cidr);
Status delete_interface_address(const std::string& ifname, const Ipv4Cidr& cidr);

// ifindex of a link in the daemon's netns.
std::optional<int> ifindex_of(const std::string& ifname);

}  // namespace dpdock::attach
