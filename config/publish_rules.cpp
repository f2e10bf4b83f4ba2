#include "config/publish_rules.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "config/config_error.hpp"
#include "config/overlay.hpp"
#include "config/resolve.hpp"

namespace dpdock::config {
namespace {

std::string at(const std::string& list, std::size_t i) { return list + "[" + std::to_string(i) + "]"; }

// A fixed publication claims exactly its host range; a dynamic one (or a host
// range for one container port) claims nothing until resolve picks its ports.
bool is_fixed(const PublishSpec& p) { return p.host && p.host->size() == p.container.size(); }

// The container's publications with -P applied: each exposed port that no
// publication covers yet becomes a dynamic one.
std::vector<PublishSpec> with_publish_all(const ContainerSpec& c) {
    std::vector<PublishSpec> out = c.publish;
    if (!c.publish_all) return out;
    for (const auto& e : c.expose) {
        bool covered = false;
        for (const auto& p : c.publish) covered = covered || (p.proto == e.proto && p.container.overlaps(e.ports));
        if (!covered) out.push_back(PublishSpec{std::nullopt, std::nullopt, e.ports, e.proto});
    }
    return out;
}

// While an overlay network exists, UDP to vxlan.port at the uplink address
// is VXLAN and is decapsulated: it cannot be published as well.
std::optional<std::uint16_t> vxlan_port_in_use(const Deployment& d) {
    if (std::none_of(d.networks.begin(), d.networks.end(), is_overlay)) return std::nullopt;
    return d.vxlan.port;
}

// Host ports taken per protocol (bit per port).
using Taken = std::array<std::vector<bool>, 2>;

Taken fixed_ports(const Deployment& d) {
    Taken taken{std::vector<bool>(65536), std::vector<bool>(65536)};
    if (auto vxlan = vxlan_port_in_use(d)) taken[static_cast<std::size_t>(PortProto::Udp)][*vxlan] = true;
    for (const auto& c : d.containers) {
        for (const auto& p : c.publish) {
            if (!is_fixed(p)) continue;
            for (std::uint32_t port = p.host->lo; port <= p.host->hi; ++port) {
                taken[static_cast<std::size_t>(p.proto)][port] = true;
            }
        }
    }
    return taken;
}

// The lowest run of `n` free ports inside `range`.
std::optional<PortRange> first_free(const std::vector<bool>& taken, PortRange range, std::uint32_t n) {
    std::uint32_t run = 0;
    for (std::uint32_t port = range.lo; port <= range.hi; ++port) {
        run = taken[port] ? 0 : run + 1;
        if (run == n) return PortRange{static_cast<std::uint16_t>(port - n + 1), static_cast<std::uint16_t>(port)};
    }
    return std::nullopt;
}

}  // namespace

bool is_loopback(Ipv4Address a) { return (a.host() >> 24) == 127; }

Ipv4Address binding_of(const PublishSpec& p, const NetworkSpec& network) {
    if (p.host_ip) return *p.host_ip;
    auto it = network.options.find(kOptHostBinding);
    if (it == network.options.end()) return Ipv4Address();
    return Ipv4Address::parse(it->second).value_or(Ipv4Address());
}

Status check_publications(const Deployment& d) {
    std::map<std::string, NetworkSpec> networks;
    for (auto& n : all_networks(d)) networks.emplace(n.name, std::move(n));
    struct Claim {
        PortProto proto;
        PortRange host;
        std::string owner;  // "container 'web' (8080:80/tcp)"
    };
    std::vector<Claim> claims;
    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        const ContainerSpec& c = d.containers[ci];
        const auto wanted = with_publish_all(c);
        if (wanted.empty()) continue;
        const std::string path = at("containers", ci) + ".publish";
        auto fail = [&](const std::string& message) { return ConfigError::at(c.pos, path, message).status(); };
        const std::string who = "container '" + c.name + "'";
        if (!d.uplink) {
            return fail(who + " publishes " + to_string(wanted.front()) +
                        " but there is no uplink: published ports are reached at the uplink's address; configure an "
                        "uplink first");
        }
        if (c.networks.empty()) return fail(who + " publishes ports but is on no network to receive them");
        auto net = networks.find(c.networks.front().network);
        if (net == networks.end()) continue;  // check_members reports the unknown network
        if (net->second.internal) {
            return fail(who + " publishes ports but its first network '" + net->first +
                        "' is internal: nothing from outside reaches it");
        }
        const Ipv4Address host = d.uplink->address.address();
        const auto vxlan_port = vxlan_port_in_use(d);
        for (std::size_t pi = 0; pi < wanted.size(); ++pi) {
            const PublishSpec& p = wanted[pi];
            // Publications added by -P have no index of their own in the file.
            auto fail = [&](const std::string& message) {
                return ConfigError::at(c.pos, pi < c.publish.size() ? at(path, pi) : path, message).status();
            };
            const Ipv4Address bind = binding_of(p, net->second);
            if (is_loopback(bind)) {
                // Served by the host proxy alone (control/host_proxies): it reaches the container through dpdock0.
                if (!d.exception.enabled) {
                    return fail(who + ", " + to_string(p) + ": host address " + bind.to_string() +
                                " is the host's loopback, reached only through dpdockd's host proxy, which needs the "
                                "exception path: enable it (exception: {enabled: true}) or bind to 0.0.0.0 or " +
                                host.to_string());
                }
                if (p.proto != PortProto::Tcp) {
                    return fail(who + ", " + to_string(p) + ": the host proxy serves TCP only: a UDP port on the "
                                "host's loopback is not supported (bind to 0.0.0.0 or " + host.to_string() + ")");
                }
            } else if (bind != Ipv4Address() && bind != host) {
                return fail(who + ", " + to_string(p) + ": host address " + bind.to_string() +
                            " is not this host's: dpdock owns only the uplink address " + host.to_string() +
                            " (bind to 0.0.0.0 or " + host.to_string() + ")");
            }
            if (!is_fixed(p)) continue;
            const std::string owner = who + " (" + to_string(p) + ")";
            if (vxlan_port && p.proto == PortProto::Udp && p.host->lo <= *vxlan_port && *vxlan_port <= p.host->hi) {
                return fail("host port " + std::to_string(*vxlan_port) + "/udp of " + owner +
                            " is vxlan.port, where this host receives its overlay networks' VXLAN traffic");
            }
            for (const auto& other : claims) {
                if (other.proto == p.proto && other.host.overlaps(*p.host)) {
                    // Docker's words, with the first port both claim and who has it.
                    const std::uint16_t port = std::max(p.host->lo, other.host.lo);
                    return fail("Bind for " + bind.to_string() + ":" + std::to_string(port) +
                                (p.proto == PortProto::Udp ? "/udp" : "") + " failed: port is already allocated (by " +
                                other.owner + ")");
                }
            }
            claims.push_back({p.proto, *p.host, owner});
        }
    }
    return Status();
}

Status resolve_publications(Deployment& d) {
    Taken taken = fixed_ports(d);
    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        ContainerSpec& c = d.containers[ci];
        c.publish = with_publish_all(c);
        for (std::size_t pi = 0; pi < c.publish.size(); ++pi) {
            PublishSpec& p = c.publish[pi];
            if (is_fixed(p)) continue;
            auto& bits = taken[static_cast<std::size_t>(p.proto)];
            const PortRange from = p.host.value_or(d.nat.dynamic_ports);
            auto ports = first_free(bits, from, p.container.size());
            if (!ports) {
                return ConfigError::at(c.pos, at(at("containers", ci) + ".publish", pi),
                                       "no free host port for " + to_string(p) + " in " + from.to_string())
                    .status();
            }
            p.host = *ports;
            for (std::uint32_t port = ports->lo; port <= ports->hi; ++port) bits[port] = true;
        }
    }
    return Status();
}

}  // namespace dpdock::config
