#include "base/util/utc_time.hpp"
#include "control/state.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <rte_cycles.h>

#include "config/resolve.hpp"
#include "config/validate.hpp"
#include "control/attach/netlink.hpp"
#include "dataplane/port.hpp"
#include "nat/conntrack_flush.hpp"

namespace dpdock::control {
namespace {

void log_error(const std::string& what, const Status& st) {
    if (!st) std::fprintf(stderr, "dpdockd: %s: %s\n", what.c_str(), st.message().c_str());
}

bool same_request(const EndpointRequest& a, const EndpointRequest& b) {
    // The interface name and which endpoint carries the default route are
    // not compared: they are fixed when an endpoint is attached and stay as
    // they are when other networks of the container come and go (as in Docker;
    // only when the default route's own network goes does another take it
    // over, see move_default_routes).
    return a.container == b.container && a.netns == b.netns && a.method == b.method && a.network == b.network &&
           a.ip == b.ip && a.prefix == b.prefix && a.mac == b.mac && a.gateway == b.gateway && a.mtu == b.mtu;
}

bool same_port(const config::PortSpec& a, const config::PortSpec& b) {
    return a.name == b.name && a.devargs == b.devargs && a.network == b.network;
}

const config::NetworkSpec* find_network(const std::vector<config::NetworkSpec>& networks, const std::string& name) {
    auto it = std::find_if(networks.begin(), networks.end(), [&](const auto& n) { return n.name == name; });
    return it == networks.end() ? nullptr : &*it;
}

}  // namespace

State::~State() { clear(); }

std::optional<NetworkId> State::network_id(const std::string& name) const {
    auto it = network_ids_.find(name);
    if (it == network_ids_.end()) return std::nullopt;
    return it->second;
}

std::string State::network_created(const std::string& name) const {
    auto it = network_created_.find(name);
    return it == network_created_.end() ? std::string() : it->second;
}

std::string State::port_owner(PortId port) const {
    for (const auto& ep : endpoints_) {
        if (ep.port == port) return ep.request.container + "/" + ep.request.network;
    }
    for (const auto& rp : raw_ports_) {
        if (rp.port == port) return rp.spec.name;
    }
    if (uplink_ && uplink_->port == port) return "uplink";
    if (host_.port() == port) return "exception";
    if (vxlan::is_vtep_port(port)) return "vtep " + dp_.vteps().address(port).to_string();
    return "port" + std::to_string(port);
}

Status State::apply(config::Deployment target) {
    if (auto st = config::validate(target); !st) return st;
    // Global networks and their endpoints' addresses are decided by the
    // cluster store first (prepare fills in VNIs and IPs), then resolved here.
    if (cluster_) {
        if (auto st = cluster_->prepare(target, deployment_); !st) return st;
    }
    Status st = config::resolve(target);
    if (st) {
        st = converge(target);
        if (!st) log_error("rolling back", converge(deployment_));
    }
    if (!st) {
        if (cluster_) cluster_->committed(deployment_);  // gives back what prepare claimed
        return st;
    }
    deployment_ = std::move(target);
    publish_names();  // aliases and DNS settings are read from deployment_, set only now
    if (cluster_) cluster_->committed(deployment_);
    return {};
}

void State::clear() {
    stopping_ = true;
    log_error("shutdown", converge(config::Deployment{}));
    // An empty deployment still has the default bridge; drop it too.
    update_networks({});
    publish();
    deployment_ = config::Deployment{};
}

std::vector<EndpointRequest> State::endpoint_requests(const config::Deployment& target,
                                                      const std::vector<config::NetworkSpec>& networks) const {
    std::vector<EndpointRequest> out;
    for (const auto& container : target.containers) {
        for (std::size_t i = 0; i < container.networks.size(); ++i) {
            const auto& endpoint = container.networks[i];
            const config::NetworkSpec& network = *find_network(networks, endpoint.network);
            EndpointRequest r;
            r.container = container.name;
            r.netns = container.netns;
            r.method = container.method;
            r.network = network.name;
            r.ip = *endpoint.ip;
            r.prefix = network.subnet.prefix();
            r.mac = *endpoint.mac;
            r.gateway = network.gateway;
            r.default_route = i == 0;
            r.mtu = network.mtu;
            out.push_back(r);
        }
    }
    return out;
}

Status State::converge(const config::Deployment& target) {
    vxlan_ = target.vxlan;
    const auto networks_before = networks_;
    const auto wanted_networks = config::all_networks(target);
    const auto wanted_endpoints = endpoint_requests(target, wanted_networks);
    nat_rules_.want(target);
    remove_stale(wanted_endpoints, target.ports, wanted_networks);
    update_networks(wanted_networks);
    Status st = add_missing(wanted_endpoints, target.ports);
    if (st) st = move_default_routes(wanted_endpoints);
    if (st) st = converge_uplink(target.uplink);
    if (st) st = host_.open(target.exception);
    publish();
    forget_removed_peers(networks_before);
    if (st) st = converge_host(target);
    // After the host's addresses: a listener may bind the uplink address dpdock0 carries.
    if (st) st = proxies_.converge(target, endpoints_, networks_);
    if (!st) return st;
    return sync_static_macs();
}

void State::remove_stale(const std::vector<EndpointRequest>& wanted_endpoints,
                         const std::vector<config::PortSpec>& wanted_ports,
                         const std::vector<config::NetworkSpec>& wanted_networks) {
    std::vector<Endpoint> gone_endpoints;
    std::erase_if(endpoints_, [&](const Endpoint& ep) {
        const bool wanted = std::any_of(wanted_endpoints.begin(), wanted_endpoints.end(),
                                        [&](const EndpointRequest& r) { return same_request(r, ep.request); });
        if (!wanted) gone_endpoints.push_back(ep);
        return !wanted;
    });
    std::vector<RawPort> gone_ports;
    std::erase_if(raw_ports_, [&](const RawPort& rp) {
        const bool wanted = find_network(wanted_networks, rp.spec.network) != nullptr &&
                            std::any_of(wanted_ports.begin(), wanted_ports.end(),
                                        [&](const config::PortSpec& p) { return same_port(p, rp.spec); });
        if (!wanted) gone_ports.push_back(rp);
        return !wanted;
    });
    if (gone_endpoints.empty() && gone_ports.empty()) return;
    publish();  // workers stop using the ports before they are closed
    for (const auto& ep : gone_endpoints) {
        // Docker's containers keep their interfaces while dpdockd is stopped;
        // the next start adopts them (drop_vanished_docker_endpoints).
        const bool keep = stopping_ && ep.request.method == config::AttachMethod::Docker;
        log_error("detaching " + ep.request.container + " from " + ep.request.network,
                  keep ? dp_.remove_port(ep.port) : detach_endpoint(dp_, ep));
        static_entries_.forget_port(ep.port);
    }
    for (const auto& rp : gone_ports) {
        log_error("removing port " + rp.spec.name, dp_.remove_port(rp.port));
        static_entries_.forget_port(rp.port);
    }
}

void State::update_networks(const std::vector<config::NetworkSpec>& wanted) {
    std::vector<NetworkId> removed;
    for (auto it = network_ids_.begin(); it != network_ids_.end();) {
        if (find_network(wanted, it->first) == nullptr) {
            removed.push_back(it->second);
            network_created_.erase(it->first);
            it = network_ids_.erase(it);
        } else {
            ++it;
        }
    }
    if (!removed.empty()) {
        std::erase_if(networks_, [&](const auto& n) { return !network_ids_.contains(n.name); });
        publish();
        // No worker sees the removed ids any more: forget their MACs (static
        // ones too) and flows before an id can be given to a new network.
        for (NetworkId id : removed) {
            dp_.macs().flush_network(id);
            static_entries_.remove_network(id);
            nat::flush_network(dp_.conntrack(), id);
        }
    }
    for (const auto& network : wanted) {
        if (network_ids_.contains(network.name)) continue;
        NetworkId id = 0;
        while (std::any_of(network_ids_.begin(), network_ids_.end(), [&](const auto& kv) { return kv.second == id; })) {
            ++id;
        }
        network_ids_[network.name] = id;
        network_created_[network.name] = utc_now();
    }
    networks_ = wanted;
}

Status State::move_default_routes(const std::vector<EndpointRequest>& wanted_endpoints) {
    for (const auto& request : wanted_endpoints) {
        if (!request.default_route) continue;
        auto ep = std::find_if(endpoints_.begin(), endpoints_.end(),
                               [&](const Endpoint& e) { return same_request(e.request, request); });
        if (ep == endpoints_.end() || ep->request.default_route) continue;
        if (Status st = attach::set_default_route(request.netns, ep->request.interface_name, request.gateway); !st) {
            return Status::error("container " + request.container + ": " + st.message());
        }
        // The route replaced the container's one default route: whichever
        // endpoint carried it does not any more.
        for (auto& sibling : endpoints_) {
            if (sibling.request.container == request.container) sibling.request.default_route = false;
        }
        ep->request.default_route = true;
    }
    return {};
}

Status State::add_missing(const std::vector<EndpointRequest>& wanted_endpoints,
                          const std::vector<config::PortSpec>& wanted_ports) {
    for (const auto& spec : wanted_ports) {
        const bool present = std::any_of(raw_ports_.begin(), raw_ports_.end(),
                                          [&](const RawPort& rp) { return same_port(rp.spec, spec); });
        if (present) continue;
        auto port = dp_.add_port(spec.devargs, find_network(networks_, spec.network)->mtu);
        if (!port) return Status::error("port " + spec.name + ": " + port.message());
        raw_ports_.push_back({spec, *port});
    }
    for (const auto& request : wanted_endpoints) {
        const bool present = std::any_of(endpoints_.begin(), endpoints_.end(),
                                         [&](const Endpoint& ep) { return same_request(ep.request, request); });
        if (present) continue;
        EndpointRequest named = request;
        named.interface_name = free_interface_name(request.container);
        auto attached = attach_endpoint(dp_, named);
        if (!attached) {
            return Status::error("container " + request.container + ", network " + request.network + ": " +
                                 attached.message());
        }
        endpoints_.push_back(std::move(*attached));
    }
    return {};
}

Status State::converge_uplink(const std::optional<config::UplinkSpec>& wanted) {
    const bool same_port = uplink_ && wanted && uplink_->spec.devargs == wanted->devargs &&
                           uplink_->spec.mtu == wanted->mtu;
    if (uplink_ && !same_port) {
        const PortId port = uplink_->port;
        uplink_.reset();
        publish();  // workers stop using the port before it is closed
        log_error("removing the uplink", dp_.remove_port(port));
    }
    if (!wanted) return {};
    if (uplink_) {
        uplink_->spec = *wanted;  // address, gateway or timeout: the next snapshot carries them
        return {};
    }
    auto port = dp_.add_port(wanted->devargs, wanted->mtu);
    if (!port) return Status::error("uplink: " + port.message());
    uplink_ = RawUplink{*wanted, *port};
    return {};
}

std::string State::free_interface_name(const std::string& container) const {
    for (unsigned i = 0;; ++i) {
        std::string name = "eth" + std::to_string(i);
        const bool used = std::any_of(endpoints_.begin(), endpoints_.end(), [&](const Endpoint& ep) {
            return ep.request.container == container && ep.request.interface_name == name;
        });
        if (!used) return name;
    }
}

Status State::sync_static_macs() {
    std::set<bridge::StaticEntry> wanted;
    for (const auto& network : networks_) {
        const NetworkId id = network_ids_.at(network.name);
        for (const auto& entry : network.static_macs) {
            PortId port = kNoPort;
            for (const auto& ep : endpoints_) {
                if (ep.request.container == entry.port && ep.request.network == network.name) port = ep.port;
            }
            for (const auto& rp : raw_ports_) {
                if (rp.spec.name == entry.port) port = rp.port;
            }
            if (port == kNoPort) return Status::error("static MAC " + entry.mac.to_string() + ": no port " + entry.port);
            wanted.insert({id, entry.mac, port});
        }
    }
    if (auto st = add_remote_macs(wanted); !st) return st;
    return static_entries_.converge(wanted);
}

void State::publish() {
    auto snap = std::make_unique<dataplane::ForwardingSnapshot>();
    NetworkId max_id = 0;
    for (const auto& [name, id] : network_ids_) max_id = std::max(max_id, id);
    snap->networks.resize(network_ids_.empty() ? 0 : max_id + 1u);
    for (const auto& network : networks_) {
        auto& info = snap->networks[network_ids_.at(network.name)];
        info.gateway_ip = network.gateway;
        info.gateway_mac = docker_mac_for(network.gateway);
        info.subnet = network.subnet;
        info.internal = network.internal;
        info.masquerade = config::masquerades(network);
        info.icc = config::icc_enabled(network);
        info.mtu = network.mtu;
    }
    snap->index_subnets();
    if (uplink_) {
        const std::uint64_t hz = rte_get_tsc_hz();
        snap->ports[uplink_->port] = {dataplane::PortRole::Uplink, kNoNetwork};
        snap->uplink = dataplane::UplinkInfo{uplink_->port, dp_.port_mac(uplink_->port), uplink_->spec.address,
                                          uplink_->spec.gateway, uplink_->spec.arp_timeout_s * hz, hz,
                                          uplink_->spec.gateway_mac, uplink_->spec.mtu};
    }
    auto place = [&](PortId port, const std::string& network, dataplane::PortRole role) {
        auto id = network_ids_.find(network);
        if (id == network_ids_.end()) return;  // its network is being removed
        snap->ports[port] = {role, id->second};
        snap->networks[id->second].members.push_back(port);
    };
    for (const auto& ep : endpoints_) place(ep.port, ep.request.network, dataplane::PortRole::Container);
    for (const auto& rp : raw_ports_) place(rp.port, rp.spec.network, dataplane::PortRole::Member);
    // Published ports that go or change take their flows with them (as
    // Docker flushes conntrack): kept, a UDP flow would go on reaching the
    // old container.
    std::vector<nat::PublishedRule> before;
    if (const nat::PortMap* table = nat_rules_.table()) before = table->rules();
    for (PortId port = 0; port < snap->ports.size(); ++port) {
        if (snap->ports[port].role != dataplane::PortRole::Unused && dataplane::takes_tx_offloads(port)) {
            snap->offload_ports |= std::uint64_t{1} << port;
        }
    }
    host_.fill(*snap);
    nat_rules_.fill(*snap, endpoints_, networks_, network_ids_);
    publish_overlay(*snap);
    dp_.publish(std::move(snap));
    publish_names();
    // publish() has waited for a grace period: no worker makes flows by the old rules any more.
    nat::PortMap gone;
    for (const auto& rule : before) {
        const nat::PortMap* now = nat_rules_.table();
        const nat::PublishedRule* kept = now == nullptr ? nullptr : now->find(rule.proto, rule.host_lo);
        if (kept == nullptr || !nat::same_translation(*kept, rule)) gone.add(rule);
    }
    if (!gone.empty()) nat::flush_rules(dp_.conntrack(), gone);
}

Status State::converge_host(const config::Deployment& target) {
    if (host_.close_unwanted() && target.exception.enabled) {
        // Renamed: the old interface is gone, the new one opens now.
        if (auto st = host_.open(target.exception); !st) return st;
        publish();
    }
    std::optional<Ipv4Cidr> uplink;
    if (uplink_) uplink = uplink_->spec.address;
    std::vector<Ipv4Cidr> gateways;
    for (const auto& network : networks_) gateways.emplace_back(network.gateway, network.subnet.prefix());
    return host_.sync_addresses(uplink, gateways);
}

void State::on_link_deleted(int ifindex, const std::string& ifname) {
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](const Endpoint& ep) {
        return ep.request.method != config::AttachMethod::Tap && ep.host_ifindex == ifindex;
    });
    if (it == endpoints_.end()) return;
    std::fprintf(stderr, "dpdockd: %s was deleted: detaching %s from %s\n", ifname.c_str(),
                 it->request.container.c_str(), it->request.network.c_str());
    detach_vanished({it->request});
}

void State::check_namespaces() {
    std::vector<EndpointRequest> gone;
    for (const auto& ep : endpoints_) {
        // Docker moved the container end out of the namespace it was made in
        // (the plugin's, which may restart): the veth's deletion is what tells.
        if (ep.request.method == config::AttachMethod::Docker) continue;
        const auto now = netns_identity(ep.request.netns);
        if (now && *now == ep.netns) continue;
        std::fprintf(stderr, "dpdockd: the network namespace %s of %s %s: detaching it from %s\n",
                     ep.request.netns.c_str(), ep.request.container.c_str(), now ? "was replaced" : "went away",
                     ep.request.network.c_str());
        gone.push_back(ep.request);
    }
    if (!gone.empty()) detach_vanished(gone);
}

void State::detach_vanished(const std::vector<EndpointRequest>& gone) {
    config::Deployment target = deployment_;
    for (const auto& g : gone) {
        for (auto& c : target.containers) {
            if (c.name == g.container) {
                std::erase_if(c.networks, [&](const config::EndpointSpec& e) { return e.network == g.network; });
            }
        }
        // Static MACs that named the vanished container on that network go too.
        for (auto& n : target.networks) {
            if (n.name == g.network) {
                std::erase_if(n.static_macs, [&](const config::StaticMacSpec& s) { return s.port == g.container; });
            }
        }
    }
    std::erase_if(target.containers, [](const config::ContainerSpec& c) { return c.networks.empty(); });
    log_error("detaching a vanished container", apply(std::move(target)));
}

}  // namespace dpdock::control
