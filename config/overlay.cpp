#include "config/overlay.hpp"

#include <map>
#include <set>
#include <string>

#include "config/config_error.hpp"

namespace dpdock::config {
namespace {

Status fail(const SourcePos& pos, std::string path, std::string message) {
    return ConfigError::at(pos, std::move(path), std::move(message)).status();
}

std::string at(const std::string& list, std::size_t i) { return list + "[" + std::to_string(i) + "]"; }

std::string range_text(const VxlanSpec& v) { return std::to_string(v.vni_lo) + "-" + std::to_string(v.vni_hi); }

Status check_vxlan(const VxlanSpec& v) {
    if (v.port == 0) return fail(v.pos, "vxlan.port", "port must be 1..65535");
    if (v.ttl == 0) return fail(v.pos, "vxlan.ttl", "ttl must be 1..255");
    if (v.vni_lo == 0 || v.vni_lo > v.vni_hi || v.vni_hi > kMaxVni) {
        return fail(v.pos, "vxlan.vni-range",
                    range_text(v) + " is empty or outside 1-" + std::to_string(kMaxVni) + ": use LOW-HIGH");
    }
    return Status();
}

// Peers and remote MACs of one overlay network.
Status check_vteps(const Deployment& d, const NetworkSpec& n, const std::string& path) {
    std::set<Ipv4Address> peers;
    for (std::size_t i = 0; i < n.peers.size(); ++i) {
        const Ipv4Address ip = n.peers[i];
        const std::string p = at(path + ".peers", i);
        if (ip.host() == 0 || ip.host() >= 0xe0000000) {  // 0.0.0.0, multicast, reserved, broadcast
            return fail(n.pos, p, ip.to_string() + " is not a unicast address");
        }
        if (d.uplink && ip == d.uplink->address.address()) {
            return fail(n.pos, p, ip.to_string() + " is this host's own uplink address");
        }
        if (!peers.insert(ip).second) return fail(n.pos, p, "peer " + ip.to_string() + " is listed twice");
    }
    std::set<MacAddress> macs;
    for (const auto& sm : n.static_macs) macs.insert(sm.mac);
    for (std::size_t i = 0; i < n.remote_macs.size(); ++i) {
        const auto& rm = n.remote_macs[i];
        const std::string p = at(path + ".fdb", i);
        if (rm.mac.is_multicast() || rm.mac.is_zero()) {
            return fail(rm.pos, p + ".mac", "mac " + rm.mac.to_string() + " is not a unicast address");
        }
        if (!macs.insert(rm.mac).second) {
            return fail(rm.pos, p + ".mac", "mac " + rm.mac.to_string() + " is listed twice (fdb or static-macs)");
        }
        if (rm.ip && !n.subnet.contains(*rm.ip)) {
            return fail(rm.pos, p + ".ip", rm.ip->to_string() + " is outside subnet " + n.subnet.to_string());
        }
        if (!peers.contains(rm.vtep)) {
            return fail(rm.pos, p + ".vtep",
                        rm.vtep.to_string() + " is not a peer of network '" + n.name + "' (add it to peers)");
        }
    }
    return Status();
}

}  // namespace

Status check_overlay(const Deployment& d) {
    if (auto s = check_vxlan(d.vxlan); !s) return s;
    std::map<std::uint32_t, std::string> vnis;
    for (std::size_t i = 0; i < d.networks.size(); ++i) {
        const auto& n = d.networks[i];
        const std::string path = at("networks", i);
        if (!is_overlay(n)) {
            if (n.vni) return fail(n.pos, path + ".vni", "only overlay networks have a VNI");
            if (!n.peers.empty()) return fail(n.pos, path + ".peers", "only overlay networks have peers");
            if (!n.remote_macs.empty()) return fail(n.pos, path + ".fdb", "only overlay networks have remote MACs");
            if (n.arp_suppression) {
                return fail(n.pos, path + ".arp-suppression", "only overlay networks suppress ARP");
            }
            continue;
        }
        if (!d.uplink) {
            return fail(n.pos, path + ".driver",
                        "overlay network '" + n.name + "' needs an uplink (its VTEP address and the way to peers)");
        }
        if (n.vni) {
            if (*n.vni < d.vxlan.vni_lo || *n.vni > d.vxlan.vni_hi) {
                return fail(n.pos, path + ".vni",
                            "vni " + std::to_string(*n.vni) + " is outside vxlan.vni-range " + range_text(d.vxlan));
            }
            auto [it, inserted] = vnis.emplace(*n.vni, n.name);
            if (!inserted) {
                return fail(n.pos, path + ".vni",
                            "vni " + std::to_string(*n.vni) + " is already used by network '" + it->second + "'");
            }
        }
        if (auto s = check_vteps(d, n, path); !s) return s;
    }
    return Status();
}

Status allocate_vnis(Deployment& d) {
    std::set<std::uint32_t> taken;
    for (const auto& n : d.networks) {
        if (n.vni) taken.insert(*n.vni);
    }
    std::uint32_t next = d.vxlan.vni_lo;
    for (std::size_t i = 0; i < d.networks.size(); ++i) {
        auto& n = d.networks[i];
        if (!is_overlay(n) || n.vni) continue;
        while (next <= d.vxlan.vni_hi && taken.contains(next)) ++next;
        if (next > d.vxlan.vni_hi) {
            return fail(n.pos, at("networks", i) + ".vni",
                        "no free VNI left in vxlan.vni-range " + range_text(d.vxlan));
        }
        n.vni = next;
        taken.insert(next);
    }
    return Status();
}

}  // namespace dpdock::config
