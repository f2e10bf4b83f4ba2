// State's overlay part: what the snapshot and the MAC table need to know about
// overlay networks. See state.hpp.
#include <algorithm>
#include <cstdio>

#include "config/overlay.hpp"
#include "control/state.hpp"

namespace dpdock::control {

void State::publish_overlay(dataplane::ForwardingSnapshot& snap) {
    snap.vxlan = vxlan::Settings{vxlan_.port, vxlan_.ttl, vxlan_.df, vxlan_.learn_unknown_peers};
    for (const auto& network : networks_) {
        if (!config::is_overlay(network) || !network.vni) continue;
        const NetworkId id = network_ids_.at(network.name);
        vxlan::Segment segment{.vni = *network.vni, .peers = {}};
        for (const Ipv4Address ip : network.peers) {
            const PortId port = dp_.vteps().port_of(ip);
            if (port == kNoPort) {
                // Only after kMaxVteps distinct VTEPs in one daemon run.
                std::fprintf(stderr, "dpdockd: network %s: no VTEP slot left for peer %s\n", network.name.c_str(),
                             ip.to_string().c_str());
                continue;
            }
            segment.peers.push_back({ip, port});
        }
        snap.segments.add(id, std::move(segment));
        auto& info = snap.networks[id];
        info.arp_suppression = network.arp_suppression;
        if (!network.arp_suppression) continue;
        for (const auto& ep : endpoints_) {
            if (ep.request.network == network.name) info.arp_entries.push_back({ep.request.ip, ep.request.mac});
        }
        for (const auto& rm : network.remote_macs) {
            if (rm.ip) info.arp_entries.push_back({*rm.ip, rm.mac});
        }
        std::sort(info.arp_entries.begin(), info.arp_entries.end(),
                  [](const dataplane::ArpEntry& a, const dataplane::ArpEntry& b) { return a.ip < b.ip; });
    }
}

Status State::add_remote_macs(std::set<bridge::StaticEntry>& wanted) {
    for (const auto& network : networks_) {
        const NetworkId id = network_ids_.at(network.name);
        for (const auto& entry : network.remote_macs) {
            const PortId port = dp_.vteps().port_of(entry.vtep);
            if (port == kNoPort) {
                return Status::error("remote MAC " + entry.mac.to_string() + ": no VTEP slot left for " +
                                     entry.vtep.to_string());
            }
            wanted.insert({id, entry.mac, port});
        }
    }
    return {};
}

void State::forget_removed_peers(const std::vector<config::NetworkSpec>& before) {
    for (const auto& old : before) {
        auto id = network_ids_.find(old.name);
        auto now = std::find_if(networks_.begin(), networks_.end(), [&](const auto& n) { return n.name == old.name; });
        if (id == network_ids_.end() || now == networks_.end()) continue;  // the whole network went
        for (const Ipv4Address ip : old.peers) {
            if (std::find(now->peers.begin(), now->peers.end(), ip) != now->peers.end()) continue;
            const PortId port = dp_.vteps().find(ip);
            if (port != kNoPort) dp_.macs().flush_port_in_network(port, id->second);
        }
    }
}

}  // namespace dpdock::control
