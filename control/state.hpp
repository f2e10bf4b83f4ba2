// State: the deployment dpdock runs (the desired model) together with what
// realises it (network ids, attached endpoints, raw ports, static MACs).
//
// Every change, from YAML at start-up, a CLI command or `config reload`, is
// the same operation: build a candidate model, validate and resolve it
// (config/), then apply() it. apply() converges the running objects to the
// candidate (detach what went away or changed, attach what is new, publish
// one snapshot); if any step fails it converges back to the previous model,
// so the running state is always a valid model. Control thread only.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/static_entries.hpp"
#include "cluster/agent.hpp"
#include "config/model.hpp"
#include "control/endpoint.hpp"
#include "control/host_interface.hpp"
#include "control/host_proxies.hpp"
#include "control/nat_rules.hpp"
#include "dataplane/dataplane.hpp"
#include "base/util/status.hpp"

namespace dpdock::control {

struct RawPort {
    config::PortSpec spec;
    PortId port = kNoPort;
};

struct RawUplink {
    config::UplinkSpec spec;
    PortId port = kNoPort;
};

class State {
public:
    explicit State(dataplane::Dataplane& dp) : dp_(dp), static_entries_(dp.macs()), nat_rules_(dp), host_(dp) {}
    ~State();  // detaches everything it attached
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // Validates and resolves `target` (IPs, MACs), then converges to it. On
    // failure nothing changed: the previous model is running again.
    Status apply(config::Deployment target);
    // Converges to an empty deployment (shutdown); Docker endpoints' veths stay.
    void clear();
    // Global networks (cluster/): apply() has the agent create them, claim
    // their endpoints' addresses and release what goes. nullptr: no cluster.
    void set_cluster(cluster::Agent* agent) { cluster_ = agent; }
    cluster::Agent* cluster() const { return cluster_; }

    // A link we own was deleted outside our control (container gone): detach
    // the endpoint and drop it from the model. Matched by ifindex: the name
    // may already be a new endpoint's (a reload re-created it).
    void on_link_deleted(int ifindex, const std::string& ifname);
    // Detaches every endpoint whose namespace went away or was replaced
    // (another namespace at its path: `docker restart`, `ip netns del` + add);
    // not method docker, whose container end Docker has moved elsewhere.
    // Called periodically; a stat() per endpoint.
    void check_namespaces();

    const config::Deployment& deployment() const { return deployment_; }
    const std::vector<config::NetworkSpec>& networks() const { return networks_; }
    const std::vector<Endpoint>& endpoints() const { return endpoints_; }
    const std::vector<RawPort>& raw_ports() const { return raw_ports_; }
    std::optional<NetworkId> network_id(const std::string& name) const;
    // When this daemon created the network (RFC 3339, UTC), as Docker's "Created".
    std::string network_created(const std::string& name) const;
    // Who owns a port: "container/network" or a raw port's name.
    std::string port_owner(PortId port) const;
    // The exception interface (dpdock0) while it is open.
    std::optional<PortId> host_port() const { return host_.port(); }
    // Published ports and NAT rule counters as the workers see them.
    const NatRules& nat_rules() const { return nat_rules_; }
    // The userland proxy of published ports for the host itself.
    const host_proxy::TcpProxy& host_proxy() const { return proxies_.proxy(); }

private:
    // Detaches the endpoints `gone` and drops them from the model.
    void detach_vanished(const std::vector<EndpointRequest>& gone);

    Status converge(const config::Deployment& target);
    std::vector<EndpointRequest> endpoint_requests(const config::Deployment& target,
                                                   const std::vector<config::NetworkSpec>& networks) const;
    void remove_stale(const std::vector<EndpointRequest>& wanted_endpoints,
                      const std::vector<config::PortSpec>& wanted_ports,
                      const std::vector<config::NetworkSpec>& wanted_networks);
    void update_networks(const std::vector<config::NetworkSpec>& wanted);
    Status add_missing(const std::vector<EndpointRequest>& wanted_endpoints,
                       const std::vector<config::PortSpec>& wanted_ports);
    Status sync_static_macs();
    // A container whose default-route network was disconnected gets its
    // default route through the first of its remaining networks.
    Status move_default_routes(const std::vector<EndpointRequest>& wanted_endpoints);
    // The exception interface as `target` wants it, published, with its addresses.
    Status converge_host(const config::Deployment& target);
    // Adds, replaces (new devargs or MTU) or removes the uplink port.
    Status converge_uplink(const std::optional<config::UplinkSpec>& wanted);
    // Lowest ethN not used by the container's attached endpoints.
    std::string free_interface_name(const std::string& container) const;
    void publish();
    // Overlay networks (state_overlay.cpp): their VNI, peers and VTEP settings
    // in the snapshot, their static remote MACs, and the learned entries of
    // peers that were removed.
    void publish_overlay(dataplane::ForwardingSnapshot& snap);
    Status add_remote_macs(std::set<bridge::StaticEntry>& wanted);
    // state_dns.cpp: the embedded DNS's names and upstream servers from the model.
    void publish_names();
    void sync_resolv_confs();
    void forget_removed_peers(const std::vector<config::NetworkSpec>& before);

    dataplane::Dataplane& dp_;
    config::Deployment deployment_;
    std::vector<config::NetworkSpec> networks_;  // default bridge first, then user networks
    std::map<std::string, NetworkId> network_ids_;
    std::map<std::string, std::string> network_created_;  // same keys as network_ids_
    std::vector<Endpoint> endpoints_;
    std::vector<RawPort> raw_ports_;
    std::optional<RawUplink> uplink_;
    bridge::StaticEntries static_entries_;  // fdb entries and remote MACs, as installed in the MAC table
    std::set<std::string> resolv_confs_;  // namespaces whose /etc/netns/NAME/resolv.conf dpdock wrote
    NatRules nat_rules_;
    HostInterface host_;
    HostProxies proxies_;
    config::VxlanSpec vxlan_;          // of the deployment being converged to
    cluster::Agent* cluster_ = nullptr;
    bool stopping_ = false;  // clear() has begun: Docker endpoints' veths stay
};

}  // namespace dpdock::control
