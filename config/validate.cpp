#include "config/validate.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/util/tap_ring.hpp"
#include "config/config_error.hpp"
#include "config/publish_rules.hpp"
#include "config/overlay.hpp"
#include "config/resolve.hpp"

namespace dpdock::config {
namespace {

constexpr std::size_t kMaxNameLength = 63;
constexpr std::uint32_t kMinMtu = 68;    // RFC 791's minimum
constexpr std::uint32_t kMaxMtu = 9216;  // the largest jumbo frame common NICs accept
constexpr std::uint8_t kMaxSubnetPrefix = 30;

constexpr std::string_view kOptMtu = "com.docker.network.driver.mtu";
constexpr std::string_view kOptBridgeName = "com.docker.network.bridge.name";

Status fail(const SourcePos& pos, std::string path, std::string message) {
    return ConfigError::at(pos, std::move(path), std::move(message)).status();
}

std::string at(const std::string& list, std::size_t i) { return list + "[" + std::to_string(i) + "]"; }

bool is_power_of_two(unsigned v) { return v != 0 && (v & (v - 1)) == 0; }

bool has_host_bits(const Ipv4Cidr& c) { return c.address() != c.network(); }

bool is_inside(const Ipv4Cidr& inner, const Ipv4Cidr& outer) {
    return inner.prefix() >= outer.prefix() && outer.contains(inner.network());
}

Status check_name(const std::string& name, const SourcePos& pos, const std::string& path) {
    if (is_valid_name(name)) return Status();
    if (name.empty()) return fail(pos, path, "name must not be empty");
    if (name.size() > kMaxNameLength) {
        return fail(pos, path, "name '" + name + "' is longer than " + std::to_string(kMaxNameLength) + " characters");
    }
    return fail(pos, path,
                "invalid name '" + name + "': use letters, digits, '_', '.' and '-', starting with a letter or digit");
}

Status check_mtu(std::uint32_t mtu, const SourcePos& pos, const std::string& path) {
    if (mtu >= kMinMtu && mtu <= kMaxMtu) return Status();
    return fail(
        pos, path,
        "mtu " + std::to_string(mtu) + " is outside " + std::to_string(kMinMtu) + ".." + std::to_string(kMaxMtu));
}

constexpr std::uint64_t kMaxIdleUs = 1'000'000;

Status check_dataplane(const DataplaneSpec& dp) {
    const auto& pos = dp.pos;
    auto range = [&](const char* key, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
        if (v >= lo && v <= hi) return Status();
        return fail(pos, std::string("dataplane.") + key,
                    std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    };
    auto ring = [&](const char* key, unsigned v) {
        if (is_power_of_two(v) && v >= 64 && v <= 16384) return Status();
        return fail(pos, std::string("dataplane.") + key,
                    std::to_string(v) + " must be a power of two from 64 to 16384");
    };
    if (auto s = range("workers", dp.workers, 1, 16); !s) return s;
    if (auto s = ring("rx-ring", dp.rx_ring); !s) return s;
    if (auto s = ring("tx-ring", dp.tx_ring); !s) return s;
    if (auto s = range("burst", dp.burst, 1, kMaxBurst); !s) return s;
    if (auto s = range("icmp-errors-burst", dp.icmp_errors_burst, 1, 1000000); !s) return s;
    // Idle waits up to a second: a packet on a port without a wake descriptor
    // (memif, an uplink NIC) waits for the end of the sleep.
    if (auto s = range("idle-sleep-us", dp.idle_sleep_us, 0, kMaxIdleUs); !s) return s;
    if (auto s = range("idle-sleep-max-us", dp.idle_sleep_max_us, 0, kMaxIdleUs); !s) return s;
    if (auto s = range("idle-poll-us", dp.idle_poll_us, 0, kMaxIdleUs); !s) return s;
    if (dp.burst > dp.rx_ring) {
        return fail(pos, "dataplane.burst",
                    "burst " + std::to_string(dp.burst) + " is larger than rx-ring " + std::to_string(dp.rx_ring));
    }
    if (dp.mbufs < kMinTrafficMbufs) {
        return fail(pos, "dataplane.mbufs",
                    std::to_string(dp.mbufs) + " is below the minimum of " + std::to_string(kMinTrafficMbufs));
    }
    if (dp.mac_table_size < 16) {
        return fail(pos, "dataplane.mac-table-size", std::to_string(dp.mac_table_size) + " is below the minimum of 16");
    }
    if (dp.memory_mb < 64) {
        return fail(pos, "dataplane.memory-mb", std::to_string(dp.memory_mb) + " is below the minimum of 64");
    }
    if (dp.socket_path.empty() || dp.socket_path.front() != '/') {
        return fail(pos, "dataplane.socket", "socket must be an absolute path, got '" + dp.socket_path + "'");
    }
    return Status();
}

Status check_bridge(const BridgeSpec& b) {
    const Ipv4Cidr& bip = b.bip;
    if (bip.prefix() > kMaxSubnetPrefix) {
        return fail(b.pos, "bridge.bip", "bip " + bip.to_string() + " leaves no room for containers (at most /30)");
    }
    if (bip.address() == bip.network() || bip.address() == bip.broadcast()) {
        return fail(b.pos, "bridge.bip",
                    "bip " + bip.to_string() + " must be the gateway's address with its prefix, like 172.17.0.1/16");
    }
    if (b.fixed_cidr) {
        if (has_host_bits(*b.fixed_cidr)) {
            return fail(b.pos, "bridge.fixed-cidr", "fixed-cidr " + b.fixed_cidr->to_string() + " has host bits set");
        }
        if (!is_inside(*b.fixed_cidr, Ipv4Cidr(bip.network(), bip.prefix()))) {
            return fail(b.pos, "bridge.fixed-cidr",
                        "fixed-cidr " + b.fixed_cidr->to_string() + " is not inside bip " + bip.to_string());
        }
    }
    return check_mtu(b.mtu, b.pos, "bridge.mtu");
}

Status check_options(const NetworkSpec& n, const std::string& path) {
    for (const auto& [key, value] : n.options) {
        const std::string p = path + ".options[" + key + "]";
        if (key == kOptBridgeName) continue;
        if (key == kOptMasquerade || key == kOptIcc) {
            if (value != "true" && value != "false") {
                return fail(n.pos, p, "option " + key + ": expected true or false, got '" + value + "'");
            }
            continue;
        }
        if (key == kOptMtu) {
            std::uint32_t mtu = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
            if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
                return fail(n.pos, p, "option " + key + ": expected an integer, got '" + value + "'");
            }
            if (mtu != n.mtu) {
                return fail(n.pos, p,
                            std::string(kOptMtu) + " is " + value + " but mtu is " + std::to_string(n.mtu) +
                                "; they must agree");
            }
            continue;
        }
        if (key == kOptHostBinding) {
            // Which addresses dpdock owns is checked with the publications (check_publications).
            if (!Ipv4Address::parse(value)) {
                return fail(n.pos, p, "option " + key + ": expected an IPv4 address, got '" + value + "'");
            }
            continue;
        }
        const std::string known = std::string(kOptBridgeName) + ", " + std::string(kOptMtu) + ", " + kOptMasquerade +
                                  ", " + kOptIcc + ", " + kOptHostBinding;
        return fail(n.pos, p, "unknown option '" + key + "' (known: " + known + ")");
    }
    return Status();
}

// One user network on its own: name, driver, address plan, options.
Status check_network(const NetworkSpec& n, const std::string& path) {
    if (auto s = check_name(n.name, n.pos, path + ".name"); !s) return s;
    if (n.name == kDefaultNetworkName) {
        return fail(n.pos, path + ".name",
                    "'bridge' is reserved for the default network; configure it under 'bridge:'");
    }
    if (n.driver != "bridge" && !is_overlay(n)) {
        return fail(n.pos, path + ".driver", "unknown driver '" + n.driver + "' (expected bridge or overlay)");
    }
    const Ipv4Cidr& subnet = n.subnet;
    if (has_host_bits(subnet)) {
        return fail(n.pos, path + ".subnet",
                    "subnet " + subnet.to_string() + " has host bits set (did you mean " +
                        Ipv4Cidr(subnet.network(), subnet.prefix()).to_string() + "?)");
    }
    if (subnet.prefix() > kMaxSubnetPrefix) {
        return fail(n.pos, path + ".subnet",
                    "subnet " + subnet.to_string() + " leaves no room for a gateway and containers (at most /30)");
    }
    const std::string gw = n.gateway.to_string();
    if (!subnet.contains(n.gateway)) {
        return fail(n.pos, path + ".gateway", "gateway " + gw + " is outside subnet " + subnet.to_string());
    }
    if (n.gateway == subnet.network() || n.gateway == subnet.broadcast()) {
        return fail(n.pos, path + ".gateway",
                    "gateway " + gw + " is the network or broadcast address of " + subnet.to_string());
    }
    if (n.ip_range) {
        if (has_host_bits(*n.ip_range)) {
            return fail(n.pos, path + ".ip-range", "ip-range " + n.ip_range->to_string() + " has host bits set");
        }
        if (!is_inside(*n.ip_range, subnet)) {
            return fail(n.pos, path + ".ip-range",
                        "ip-range " + n.ip_range->to_string() + " is not inside subnet " + subnet.to_string());
        }
    }
    if (auto s = check_mtu(n.mtu, n.pos, path + ".mtu"); !s) return s;
    return check_options(n, path);
}

Status check_networks(const Deployment& d) {
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < d.networks.size(); ++i) {
        const auto& n = d.networks[i];
        const std::string path = at("networks", i);
        if (auto s = check_network(n, path); !s) return s;
        auto [it, inserted] = seen.emplace(n.name, i);
        if (!inserted) {
            return fail(n.pos, path + ".name",
                        "duplicate network name '" + n.name + "' (also " + at("networks", it->second) + ")");
        }
    }
    // Overlaps are reported on the later network; the default bridge is index 0.
    const auto all = all_networks(d);
    for (std::size_t i = 1; i < all.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (all[i].subnet.overlaps(all[j].subnet)) {
                return fail(all[i].pos, at("networks", i - 1) + ".subnet",
                            "subnet " + all[i].subnet.to_string() + " overlaps network '" + all[j].name + "' (" +
                                Ipv4Cidr(all[j].subnet.network(), all[j].subnet.prefix()).to_string() + ")");
            }
        }
    }
    return Status();
}

Status check_nat(const NatSpec& n) {
    constexpr std::uint32_t kMaxFlows = 1u << 24;  // 16M flows: about 2 GB of tables
    if (n.capacity == 0 || n.capacity > kMaxFlows) {
        return fail(n.pos, "nat.capacity",
                    std::to_string(n.capacity) + " is outside 1.." + std::to_string(kMaxFlows));
    }
    if (n.port_lo == 0 || n.port_lo > n.port_hi) {
        return fail(n.pos, "nat.port-range",
                    std::to_string(n.port_lo) + "-" + std::to_string(n.port_hi) +
                        " is empty or starts at 0: use LOW-HIGH with 1 <= LOW <= HIGH <= 65535");
    }
    if (n.dynamic_ports.lo == 0 || n.dynamic_ports.lo > n.dynamic_ports.hi) {
        return fail(n.pos, "nat.dynamic-port-range",
                    std::to_string(n.dynamic_ports.lo) + "-" + std::to_string(n.dynamic_ports.hi) +
                        " is empty or starts at 0: use LOW-HIGH with 1 <= LOW <= HIGH <= 65535");
    }
    if (n.flows_per_source > n.capacity) {
        return fail(n.pos, "nat.flows-per-source",
                    std::to_string(n.flows_per_source) + " is more than nat.capacity (" + std::to_string(n.capacity) +
                        "): use 0 for no limit");
    }
    for (const auto& k : kTimeoutKeys) {
        if (n.timeouts.*k.field == 0) {
            return fail(n.pos, std::string("nat.timeouts.") + k.key, "a timeout must be at least 1 second");
        }
    }
    return Status();
}

Status check_uplink(const Deployment& d) {
    if (!d.uplink) return Status();
    const UplinkSpec& u = *d.uplink;
    const Ipv4Cidr& a = u.address;
    if (u.devargs.empty()) return fail(u.pos, "uplink.devargs", "devargs must not be empty");
    if (a.prefix() == 0 || a.prefix() > kMaxSubnetPrefix) {
        return fail(u.pos, "uplink.address",
                    "prefix of " + a.to_string() + " must be 1.." + std::to_string(kMaxSubnetPrefix));
    }
    if (a.address() == a.network() || a.address() == a.broadcast()) {
        return fail(u.pos, "uplink.address", a.to_string() + " is the subnet's network or broadcast address");
    }
    if (!a.contains(u.gateway) || u.gateway == a.address() || u.gateway == a.broadcast() ||
        u.gateway == a.network()) {
        return fail(u.pos, "uplink.gateway",
                    "gateway " + u.gateway.to_string() + " must be another host address inside " + a.to_string());
    }
    if (auto s = check_mtu(u.mtu, u.pos, "uplink.mtu"); !s) return s;
    if (u.arp_timeout_s == 0) return fail(u.pos, "uplink.arp-timeout", "arp-timeout must be at least 1 second");
    if (u.gateway_mac && (u.gateway_mac->is_multicast() || u.gateway_mac->is_zero())) {
        return fail(u.pos, "uplink.gateway-mac",
                    "gateway-mac " + u.gateway_mac->to_string() + " must be a unicast, non-zero MAC");
    }
    for (const auto& n : all_networks(d)) {
        if (a.overlaps(n.subnet)) {
            return fail(u.pos, "uplink.address",
                        a.to_string() + " overlaps network '" + n.name + "' (" + n.subnet.to_string() + ")");
        }
    }
    return Status();
}

// Containers, their endpoints, and ports: names share one namespace because
// both become dataplane ports and both may be named by static-macs.
Status check_members(const Deployment& d) {
    std::map<std::string, NetworkSpec> networks;
    for (auto& n : all_networks(d)) networks.emplace(n.name, std::move(n));
    std::map<std::string, std::string> members;                     // name -> key path
    std::map<std::string, std::map<Ipv4Address, std::string>> ips;  // network -> ip -> container
    std::map<std::string, std::map<MacAddress, std::string>> macs;  // network -> mac -> container
    auto claim = [&](const std::string& name, const SourcePos& pos, const std::string& path) {
        auto [it, inserted] = members.emplace(name, path);
        if (inserted) return Status();
        return fail(pos, path + ".name", "duplicate name '" + name + "' (also " + it->second + ")");
    };

    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        const auto& c = d.containers[ci];
        const std::string cpath = at("containers", ci);
        if (auto s = check_name(c.name, c.pos, cpath + ".name"); !s) return s;
        if (auto s = claim(c.name, c.pos, cpath); !s) return s;
        if (c.netns.empty() || c.netns.front() != '/') {
            return fail(c.pos, cpath + ".netns",
                        "netns must be an absolute path like /run/netns/NAME, got '" + c.netns + "'");
        }
        if (c.method == AttachMethod::Docker && c.networks.size() != 1) {
            return fail(c.pos, cpath + ".networks",
                        "container '" + c.name + "' (method docker) has " + std::to_string(c.networks.size()) +
                            " networks; Docker makes one endpoint per network, so it has exactly one");
        }
        std::set<std::string> joined;
        for (std::size_t ei = 0; ei < c.networks.size(); ++ei) {
            const auto& e = c.networks[ei];
            const std::string epath = at(cpath + ".networks", ei);
            auto net = networks.find(e.network);
            if (net == networks.end()) return fail(e.pos, epath, "unknown network '" + e.network + "'");
            if (!joined.insert(e.network).second) {
                return fail(e.pos, epath, "network '" + e.network + "' is listed twice for this container");
            }
            for (std::size_t ai = 0; ai < e.aliases.size(); ++ai) {
                if (auto s = check_name(e.aliases[ai], e.pos, at(epath + ".aliases", ai)); !s) return s;
            }
            const NetworkSpec& n = net->second;
            if (e.ip) {
                const std::string ip = e.ip->to_string();
                if (!n.subnet.contains(*e.ip)) {
                    return fail(
                        e.pos, epath + ".ip",
                        "ip " + ip + " is outside subnet " + n.subnet.to_string() + " of network '" + n.name + "'");
                }
                if (*e.ip == n.gateway || *e.ip == n.subnet.network() || *e.ip == n.subnet.broadcast()) {
                    return fail(
                        e.pos, epath + ".ip",
                        "ip " + ip + " is the gateway, network or broadcast address of network '" + n.name + "'");
                }
                auto [it, inserted] = ips[n.name].emplace(*e.ip, c.name);
                if (!inserted) {
                    return fail(
                        e.pos, epath + ".ip",
                        "ip " + ip + " is already used by container '" + it->second + "' on network '" + n.name + "'");
                }
            }
            if (e.mac) {
                const std::string mac = e.mac->to_string();
                if (e.mac->is_multicast() || e.mac->is_zero()) {
                    return fail(e.pos, epath + ".mac", "mac " + mac + " is not a unicast address");
                }
                auto [it, inserted] = macs[n.name].emplace(*e.mac, c.name);
                if (!inserted) {
                    return fail(e.pos, epath + ".mac",
                                "mac " + mac + " is already used by container '" + it->second + "' on network '" +
                                    n.name + "'");
                }
            }
        }
    }

    for (std::size_t pi = 0; pi < d.ports.size(); ++pi) {
        const auto& p = d.ports[pi];
        const std::string ppath = at("ports", pi);
        if (auto s = check_name(p.name, p.pos, ppath + ".name"); !s) return s;
        if (auto s = claim(p.name, p.pos, ppath); !s) return s;
        if (p.devargs.empty()) return fail(p.pos, ppath + ".devargs", "devargs must not be empty");
        if (networks.count(p.network) == 0) {
            return fail(p.pos, ppath + ".network", "unknown network '" + p.network + "'");
        }
    }
    return Status();
}

// A static MAC points at a port of its own network: a connected container or a raw port.
Status check_static_macs(const Deployment& d) {
    for (std::size_t ni = 0; ni < d.networks.size(); ++ni) {
        const auto& n = d.networks[ni];
        std::set<std::string> members;
        for (const auto& c : d.containers) {
            for (const auto& e : c.networks) {
                if (e.network == n.name) members.insert(c.name);
            }
        }
        for (const auto& p : d.ports) {
            if (p.network == n.name) members.insert(p.name);
        }
        std::set<MacAddress> seen;
        for (std::size_t si = 0; si < n.static_macs.size(); ++si) {
            const auto& sm = n.static_macs[si];
            const std::string spath = at(at("networks", ni) + ".static-macs", si);
            if (sm.mac.is_multicast() || sm.mac.is_zero()) {
                return fail(sm.pos, spath + ".mac", "mac " + sm.mac.to_string() + " is not a unicast address");
            }
            if (!seen.insert(sm.mac).second) {
                return fail(sm.pos, spath + ".mac", "mac " + sm.mac.to_string() + " is listed twice");
            }
            if (members.count(sm.port) == 0) {
                return fail(
                    sm.pos, spath + ".port",
                    "'" + sm.port + "' is neither a container connected to network '" + n.name + "' nor a port of it");
            }
        }
    }
    return Status();
}

}  // namespace

bool is_valid_name(const std::string& name) {
    if (name.empty() || name.size() > kMaxNameLength) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    for (char c : name) {
        if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
    }
    return true;
}

// A TAP port fills its receive rings with mbufs from the pool when it starts
// (net_tap): one ring per worker of min(rx-ring, kTapRxDescriptors) each
// (base/util/tap_ring.hpp), held for good; the pool must hold those and still
// leave kMinTrafficMbufs for traffic.
namespace {

std::uint64_t tap_mbufs(const DataplaneSpec& dp) {
    return std::uint64_t{dp.workers} * std::min<std::uint64_t>(dp.rx_ring, kTapRxDescriptors);
}

}  // namespace

// Reported on the container whose endpoint does not fit.
Status check_mbufs(const Deployment& d) {
    const DataplaneSpec& dp = d.dataplane;
    const std::uint64_t each = tap_mbufs(dp);
    std::uint64_t taps = 0;
    for (std::size_t ci = 0; ci < d.containers.size(); ++ci) {
        const auto& c = d.containers[ci];
        if (c.method != AttachMethod::Tap) continue;
        taps += c.networks.size();
        const std::uint64_t needed = taps * each + kMinTrafficMbufs;
        if (needed > dp.mbufs) {
            return fail(c.pos, at("containers", ci) + ".method",
                        "container '" + c.name + "': " + std::to_string(taps) + " TAP endpoints hold " +
                            std::to_string(taps * each) + " mbufs in their receive rings (" + std::to_string(each) +
                            " each: a ring per worker); with " + std::to_string(kMinTrafficMbufs) +
                            " for traffic that is " + std::to_string(needed) + ", more than dataplane.mbufs " +
                            std::to_string(dp.mbufs) + " (raise mbufs or use method veth)");
        }
    }
    return Status();
}

namespace {

// The exception interface: a kernel interface name (IFNAMSIZ - 1, no
// character that would end its devargs), and the receive ring its TAP holds.
Status check_exception(const Deployment& d) {
    const ExceptionSpec& e = d.exception;
    if (e.punt_rate != 0 && e.punt_burst == 0) {
        return fail(e.pos, "exception.punt-burst", "must be at least 1 while punt-rate limits (0 there: no limit)");
    }
    if (!e.enabled) return Status();
    constexpr std::size_t kMaxIfname = 15;
    if (e.interface.size() > kMaxIfname || !is_valid_name(e.interface)) {
        return fail(e.pos, "exception.interface",
                    "'" + e.interface + "' is not an interface name (1-15 letters, digits, '_', '.', '-')");
    }
    if (tap_mbufs(d.dataplane) + kMinTrafficMbufs > d.dataplane.mbufs) {
        return fail(e.pos, "exception.enabled",
                    "its TAP holds " + std::to_string(tap_mbufs(d.dataplane)) + " mbufs (a ring per worker); with " +
                        std::to_string(kMinTrafficMbufs) + " for traffic that is more than dataplane.mbufs " +
                        std::to_string(d.dataplane.mbufs));
    }
    return Status();
}

}  // namespace

Status validate(const Deployment& d) {
    if (auto s = check_dataplane(d.dataplane); !s) return s;
    if (auto s = check_bridge(d.bridge); !s) return s;
    if (auto s = check_networks(d); !s) return s;
    if (auto s = check_members(d); !s) return s;
    if (auto s = check_mbufs(d); !s) return s;
    if (auto s = check_uplink(d); !s) return s;
    if (auto s = check_nat(d.nat); !s) return s;
    if (auto s = check_publications(d); !s) return s;
    if (auto s = check_overlay(d); !s) return s;
    if (auto s = check_exception(d); !s) return s;
    if (d.dns.queries_per_second == 0) return fail(d.dns.pos, "dns.queries-per-second", "must be at least 1");
    if (d.dns.upstream_port == 0) return fail(d.dns.pos, "dns.upstream-port", "must be 1..65535");
    return check_static_macs(d);
}

}  // namespace dpdock::config
