#include "cluster/derive.hpp"

#include <algorithm>
#include <set>

#include "config/overlay.hpp"

namespace dpdock::cluster {
namespace {

bool has_endpoints(const config::Deployment& d, const std::string& network) {
    return std::any_of(d.containers.begin(), d.containers.end(), [&](const config::ContainerSpec& c) {
        return std::any_of(c.networks.begin(), c.networks.end(),
                           [&](const config::EndpointSpec& e) { return e.network == network; });
    });
}

void add_remote_endpoints(config::NetworkSpec& n, const TypedView& view, const std::string& host,
                          Ipv4Address own_vtep) {
    std::set<Ipv4Address> peers;
    std::set<std::uint64_t> macs;
    for (const auto& ep : view.endpoints) {
        if (ep.network != n.name || ep.host == host || ep.vtep == own_vtep) continue;
        if (!macs.insert(ep.mac.to_u64()).second) continue;  // one MAC, one place
        peers.insert(ep.vtep);
        n.remote_macs.push_back(config::RemoteMacSpec{.mac = ep.mac, .vtep = ep.vtep, .ip = ep.ip, .pos = {}});
    }
    n.peers.assign(peers.begin(), peers.end());
}

}  // namespace

Derived derive(const TypedView& view, const config::Deployment& running, const std::string& host,
               Ipv4Address own_vtep) {
    Derived out{running, {}};
    auto& networks = out.target.networks;
    // Global networks the store no longer has go, unless containers here still use them.
    std::erase_if(networks, [&](const config::NetworkSpec& n) {
        if (!n.global || view.networks.contains(n.name)) return false;
        if (has_endpoints(running, n.name)) {
            out.skipped.push_back(n.name + ": removed from the cluster, kept while local containers use it");
            return false;
        }
        return true;
    });
    for (const auto& [name, record] : view.networks) {
        auto it = std::find_if(networks.begin(), networks.end(), [&](const auto& n) { return n.name == name; });
        if (it != networks.end() && !it->global) {
            out.skipped.push_back(name + ": a local network of this host has the name");
            continue;
        }
        const bool vni_taken = std::any_of(networks.begin(), networks.end(), [&](const config::NetworkSpec& n) {
            return !n.global && config::is_overlay(n) && n.vni == record.vni;
        });
        if (vni_taken) {
            out.skipped.push_back(name + ": a local overlay network of this host uses VNI " +
                                  std::to_string(record.vni));
            continue;
        }
        config::NetworkSpec spec = spec_of(record);
        add_remote_endpoints(spec, view, host, own_vtep);
        if (it != networks.end()) {
            *it = std::move(spec);
        } else {
            networks.push_back(std::move(spec));
        }
    }
    return out;
}

void keep_global(config::Deployment& target, const config::Deployment& running) {
    for (const auto& n : running.networks) {
        if (!n.global) continue;
        const bool named = std::any_of(target.networks.begin(), target.networks.end(),
                                       [&](const config::NetworkSpec& t) { return t.name == n.name; });
        if (named) continue;  // the file's own network wins; derive() reports the conflict
        target.networks.push_back(n);
        for (const auto& rc : running.containers) {
            auto tc = std::find_if(target.containers.begin(), target.containers.end(),
                                   [&](const config::ContainerSpec& c) { return c.name == rc.name; });
            for (const auto& e : rc.networks) {
                if (e.network != n.name) continue;
                if (tc == target.containers.end()) {
                    config::ContainerSpec only = rc;
                    std::erase_if(only.networks, [&](const config::EndpointSpec& x) { return x.network != n.name; });
                    target.containers.push_back(only);
                    tc = std::prev(target.containers.end());
                } else if (std::none_of(tc->networks.begin(), tc->networks.end(),
                                        [&](const config::EndpointSpec& x) { return x.network == n.name; })) {
                    tc->networks.push_back(e);
                }
            }
        }
    }
}

}  // namespace dpdock::cluster
