#include "control/endpoint.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>

#include "control/attach/netlink.hpp"

namespace dpdock::control {

std::string host_ifname_for(const std::string& container, const std::string& network, const std::string& netns,
                            config::AttachMethod method) {
    // FNV-1a: stable across runs and builds, unlike std::hash. The netns is
    // part of the key because host-side names share the host's namespace:
    // with container and network alone, two daemons (parallel test runs, or
    // two deployments) naming a container alike got the same name, and each
    // deleted the other's veth as a "leftover" on attach.
    std::uint32_t h = 2166136261u;
    for (char c : container + "/" + network + "@" + netns) h = (h ^ static_cast<std::uint8_t>(c)) * 16777619u;
    char name[16];
    std::snprintf(name, sizeof name, "%s%08x", method == config::AttachMethod::Tap ? "dt" : "dk", h);
    return name;
}

namespace {

attach::InterfaceConfig interface_config(const EndpointRequest& r) {
    attach::InterfaceConfig cfg;
    cfg.name = r.interface_name;
    cfg.mac = r.mac;
    cfg.address = Ipv4Cidr(r.ip, r.prefix);
    if (r.default_route) cfg.default_gateway = r.gateway;
    cfg.mtu = r.mtu;
    cfg.handover = r.method == config::AttachMethod::Docker;
    return cfg;
}

// Said plainly, instead of netlink's "File exists" from deep inside the
// attach. Called once our own leftovers are gone (a veth left by a killed
// daemon takes its eth0 with it when its host end is deleted).
Status interface_name_free(const EndpointRequest& r) {
    if (!attach::has_link_in(r.netns, r.interface_name)) return {};
    return Status::error("the network namespace " + r.netns + " already has an interface named " + r.interface_name +
                         "; dpdock names a container's interfaces eth0, eth1, ... in the order of its networks: "
                         "delete that one (nsenter --net=" + r.netns + " ip link del " + r.interface_name +
                         ") or attach a namespace without it");
}

// A Docker endpoint's veth left by a dpdockd that stopped: its other end is
// in a running container, where Docker put it. Opened again as it is.
Result<Endpoint> adopt_docker_veth(dataplane::Dataplane& dp, const EndpointRequest& r, Endpoint ep, int ifindex) {
    auto port = dp.add_kernel_port(ep.host_ifname, r.mtu);
    if (!port) return Result<Endpoint>::error("cannot open " + ep.host_ifname + " as a dpdock port: " + port.message());
    ep.port = *port;
    ep.host_ifindex = ifindex;
    return ep;
}

// The host end of a container's veth is dpdock's port, not the kernel's: with
// the exception path on, dpdockd's namespace holds every gateway address (on
// dpdock0), and Linux answers ARP for a local address on any interface
// (arp_ignore 0). The container would then learn the veth's MAC for its
// gateway and send its first packets into the kernel instead of the
// dataplane. arp_ignore 8: this interface answers no ARP at all.
void never_answer_arp(const std::string& ifname) {
    std::ofstream("/proc/sys/net/ipv4/conf/" + ifname + "/arp_ignore") << "8\n";
}

Result<Endpoint> attach_veth(dataplane::Dataplane& dp, const EndpointRequest& r, Endpoint ep) {
    const auto existing = attach::ifindex_of(ep.host_ifname);
    if (existing && r.method == config::AttachMethod::Docker) return adopt_docker_veth(dp, r, std::move(ep), *existing);
    // A link of this name can only be a leftover of a crashed run of ours:
    // deleting it also deletes its peer.
    if (existing) attach::delete_link(ep.host_ifname);
    if (auto st = interface_name_free(r); !st) return Result<Endpoint>::error(st.message());
    auto created = attach::create_veth(ep.host_ifname, r.netns, interface_config(r));
    if (!created) return Result<Endpoint>::error(created.message());
    never_answer_arp(ep.host_ifname);
    auto port = dp.add_kernel_port(ep.host_ifname, r.mtu);
    if (!port) {
        attach::delete_link(ep.host_ifname);
        return Result<Endpoint>::error("cannot open " + ep.host_ifname + " as a dpdock port: " + port.message());
    }
    ep.port = *port;
    ep.host_ifindex = *created;
    return ep;
}

Result<Endpoint> attach_tap(dataplane::Dataplane& dp, const EndpointRequest& r, Endpoint ep) {
    // net_tap creates the TAP in our namespace and brings it up; only then is
    // it moved into the container (link ioctls fail after the move).
    if (auto st = interface_name_free(r); !st) return Result<Endpoint>::error(st.message());
    auto port = dp.add_port("net_tap_" + ep.host_ifname + ",iface=" + ep.host_ifname, r.mtu);
    if (!port) return Result<Endpoint>::error("cannot create TAP " + ep.host_ifname + ": " + port.message());
    if (auto st = attach::move_and_configure(ep.host_ifname, r.netns, interface_config(r)); !st) {
        dp.remove_port(*port);
        return Result<Endpoint>::error(st.message());
    }
    ep.port = *port;
    return ep;
}

}  // namespace

std::optional<NetnsIdentity> netns_identity(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return NetnsIdentity{st.st_dev, st.st_ino};
}

Result<Endpoint> attach_endpoint(dataplane::Dataplane& dp, const EndpointRequest& request) {
    Endpoint ep;
    ep.request = request;
    // Read before the interface goes in: if the path is replaced meanwhile,
    // the next check_namespaces() notices.
    const auto identity = netns_identity(request.netns);
    // A Docker endpoint's namespace only says where a new veth's container
    // end goes (an adopted one needs none; creating one fails without it).
    if (!identity && request.method != config::AttachMethod::Docker) {
        return Result<Endpoint>::error("open netns " + request.netns + ": " + std::strerror(errno));
    }
    if (identity) ep.netns = *identity;
    ep.host_ifname = host_ifname_for(request.container, request.network, request.netns, request.method);
    if (request.method == config::AttachMethod::Tap) return attach_tap(dp, request, std::move(ep));
    if (request.method == config::AttachMethod::Docker) {
        // Docker finds the container end by this name in its own namespace,
        // next to other drivers' interfaces: dpdock's prefix and the host end's hash.
        ep.request.interface_name = "dd" + ep.host_ifname.substr(2);
    }
    const EndpointRequest named = ep.request;  // ep is moved below
    return attach_veth(dp, named, std::move(ep));
}

std::vector<std::string> drop_vanished_docker_endpoints(config::Deployment& d) {
    std::vector<std::string> dropped;
    std::erase_if(d.containers, [&](const config::ContainerSpec& c) {
        if (c.method != config::AttachMethod::Docker || c.networks.size() != 1) return false;
        const std::string host = host_ifname_for(c.name, c.networks[0].network, c.netns, c.method);
        if (attach::ifindex_of(host)) return false;
        dropped.push_back(c.name);
        return true;
    });
    return dropped;
}

Status detach_endpoint(dataplane::Dataplane& dp, const Endpoint& endpoint) {
    Status first = dp.remove_port(endpoint.port);
    // A TAP disappears with its DPDK port (its only file descriptor closes);
    // a veth must be deleted, which also removes the container's end.
    if (endpoint.request.method != config::AttachMethod::Tap) {
        Status st = attach::delete_link(endpoint.host_ifname);
        if (first && !st) first = st;
    }
    return first;
}

}  // namespace dpdock::control
