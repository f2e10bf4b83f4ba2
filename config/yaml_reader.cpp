#include "config/yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/config_error.hpp"
#include "config/overlay.hpp"

namespace dpdock::config {
namespace {

struct Field {
    YAML::Node key;
    YAML::Node value;
};
using Fields = std::map<std::string, Field, std::less<>>;
using Keys = std::vector<std::string_view>;

// Integer fields of the model; bool is unsigned too but is read as true/false.
template <typename T>
concept UnsignedNumber = std::is_unsigned_v<T> && !std::is_same_v<T, bool>;

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
        default: return "nothing";
    }
}

// Walks one YAML document. Internal steps return false after recording the
// first error, which keeps each section reader a flat chain of `&&`.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    Result<Deployment> read(const YAML::Node& root) {
        Deployment d;
        d.source_file = file_;
        d.bridge.pos = SourcePos{file_, 0, 0};
        d.dataplane.pos = SourcePos{file_, 0, 0};
        if (!read_root(root, d)) return error_->status();
        return d;
    }

    // yaml-cpp marks are 0-based; SourcePos is 1-based with 0 for "unknown".
    static SourcePos position(const std::string& file, const YAML::Mark& m) {
        if (m.is_null()) return SourcePos{file, 0, 0};
        return SourcePos{file, m.line + 1, m.column + 1};
    }

private:
    SourcePos pos(const YAML::Mark& m) const { return position(file_, m); }

    // A null value ("key:" with nothing after it) has no useful mark of its own.
    static YAML::Mark mark(const Field& f) { return f.value.IsNull() ? f.key.Mark() : f.value.Mark(); }

    bool fail(const YAML::Mark& m, std::string path, std::string message) {
        error_ = ConfigError::at(pos(m), std::move(path), std::move(message));
        return false;
    }

    // Splits a mapping into its fields, refusing unknown and repeated keys.
    // A null node counts as an empty mapping ("dataplane:" alone is fine).
    bool fields(const YAML::Node& node, const YAML::Mark& at, const std::string& path, const Keys& allowed, Fields& out) {
        if (node.IsNull()) return true;
        if (!node.IsMap()) return fail(at, path, "expected a mapping, got " + describe(node));
        for (const auto& kv : node) {
            if (!kv.first.IsScalar()) {
                return fail(kv.first.Mark(), path, "expected a plain key, got " + describe(kv.first));
            }
            const std::string& key = kv.first.Scalar();
            bool known = false;
            std::string expected;
            for (auto k : allowed) {
                known = known || k == key;
                expected += (expected.empty() ? "" : ", ") + std::string(k);
            }
            if (!known) {
                return fail(kv.first.Mark(), join(path, key),
                            "unknown key '" + key + "' (expected one of: " + expected + ")");
            }
            if (out.count(key) != 0) return fail(kv.first.Mark(), join(path, key), "duplicate key '" + key + "'");
            out.emplace(key, Field{kv.first, kv.second});
        }
        return true;
    }

    // Calls fn(item_node, item_path) for each element of a list; null is an empty list.
    template <typename Fn>
    bool items(const Field& f, const std::string& path, Fn&& fn) {
        if (f.value.IsNull()) return true;
        if (!f.value.IsSequence()) return fail(mark(f), path, "expected a list, got " + describe(f.value));
        for (std::size_t i = 0; i < f.value.size(); ++i) {
            if (!fn(f.value[i], indexed(path, i))) return false;
        }
        return true;
    }

    bool scalar(const Field& f, const std::string& path, const char* what, std::string& out) {
        if (!f.value.IsScalar()) {
            return fail(mark(f), path, std::string("expected ") + what + ", got " + describe(f.value));
        }
        out = f.value.Scalar();
        return true;
    }

    template <UnsignedNumber T>
    bool convert(const Field& f, const std::string& path, T& out) {
        std::string text;
        if (!scalar(f, path, "an integer", text)) return false;
        std::uint64_t v = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ec == std::errc::invalid_argument || (ec == std::errc() && ptr != end)) {
            return fail(mark(f), path, "expected an integer, got '" + text + "'");
        }
        if (ec != std::errc() || v > std::numeric_limits<T>::max()) {
            return fail(
                mark(f), path,
                "expected an integer from 0 to " + std::to_string(std::numeric_limits<T>::max()) + ", got " + text);
        }
        out = static_cast<T>(v);
        return true;
    }

    bool convert(const Field& f, const std::string& path, bool& out) {
        std::string text;
        if (!scalar(f, path, "true or false", text)) return false;
        if (text == "true" || text == "True" || text == "TRUE") {
            out = true;
        } else if (text == "false" || text == "False" || text == "FALSE") {
            out = false;
        } else {
            return fail(mark(f), path, "expected true or false, got '" + text + "'");
        }
        return true;
    }

    bool convert(const Field& f, const std::string& path, std::string& out) { return scalar(f, path, "a string", out); }

    bool convert(const Field& f, const std::string& path, Ipv4Cidr& out) {
        std::string text;
        if (!scalar(f, path, "a CIDR like 10.0.0.0/24", text)) return false;
        auto v = Ipv4Cidr::parse(text);
        if (!v) return fail(mark(f), path, "expected a CIDR like 10.0.0.0/24, got '" + text + "'");
        out = *v;
        return true;
    }

    bool convert(const Field& f, const std::string& path, Ipv4Address& out) {
        std::string text;
        if (!scalar(f, path, "an IPv4 address like 10.0.0.2", text)) return false;
        auto v = Ipv4Address::parse(text);
        if (!v) return fail(mark(f), path, "expected an IPv4 address like 10.0.0.2, got '" + text + "'");
        out = *v;
        return true;
    }

    bool convert(const Field& f, const std::string& path, MacAddress& out) {
        std::string text;
        if (!scalar(f, path, "a MAC address like 02:42:0a:00:00:02", text)) return false;
        auto v = MacAddress::parse(text);
        if (!v) return fail(mark(f), path, "expected a MAC address like 02:42:0a:00:00:02, got '" + text + "'");
        out = *v;
        return true;
    }

    // A scalar read by one of config/publish.hpp's parsers, whose error is kept.
    template <typename T, typename Parse>
    bool parsed(const Field& f, const std::string& path, const char* what, Parse parse, T& out) {
        std::string text;
        if (!scalar(f, path, what, text)) return false;
        auto v = parse(text);
        if (!v) return fail(mark(f), path, v.message());
        out = *v;
        return true;
    }
    bool convert(const Field& f, const std::string& path, PortRange& out) {
        return parsed(f, path, "a port range like 32768-60999", parse_port_range, out);
    }
    bool convert(const Field& f, const std::string& path, PublishSpec& out) {
        return parsed(f, path, "a port like 8080:80/tcp", parse_publish, out);
    }
    bool convert(const Field& f, const std::string& path, ExposeSpec& out) {
        return parsed(f, path, "a port like 80/tcp", parse_expose, out);
    }

    template <typename T>
    bool convert(const Field& f, const std::string& path, std::vector<T>& out) {
        out.clear();
        return items(f, path, [&](const YAML::Node& item, const std::string& item_path) {
            return convert(Field{f.key, item}, item_path, out.emplace_back());
        });
    }

    template <typename T>
    bool convert(const Field& f, const std::string& path, std::optional<T>& out) {
        T v{};
        if (!convert(f, path, v)) return false;
        out = v;
        return true;
    }

    bool convert(const Field& f, const std::string& path, std::map<std::string, std::string>& out) {
        if (f.value.IsNull()) return true;
        if (!f.value.IsMap()) return fail(mark(f), path, "expected a mapping, got " + describe(f.value));
        for (const auto& kv : f.value) {
            std::string key;
            if (!convert(Field{f.key, kv.first}, path, key)) return false;
            const std::string item_path = path + "[" + key + "]";
            if (out.count(key) != 0) return fail(kv.first.Mark(), item_path, "duplicate key '" + key + "'");
            if (!convert(Field{kv.first, kv.second}, item_path, out[key])) return false;
        }
        return true;
    }

    // Reads m[key] into out when present; leaves the default otherwise.
    template <typename T>
    bool optional(const Fields& m, std::string_view key, const std::string& path, T& out) {
        auto it = m.find(key);
        return it == m.end() || convert(it->second, join(path, key), out);
    }

    template <typename T>
    bool required(const Fields& m, const YAML::Mark& at, std::string_view key, const std::string& path, T& out) {
        if (m.find(key) == m.end()) return fail(at, join(path, key), "required key is missing");
        return optional(m, key, path, out);
    }

    bool read_root(const YAML::Node& root, Deployment& d) {
        Fields m;
        if (!fields(root, root.Mark(), "", {"dataplane", "bridge", "networks", "containers", "ports", "uplink", "nat", "vxlan", "exception",
                                          "dns", "cluster"},
                    m)) {
            return false;
        }
        if (auto it = m.find("uplink"); it != m.end() && !read_uplink(it->second, d.uplink.emplace())) return false;
        if (auto it = m.find("dataplane"); it != m.end() && !read_dataplane(it->second, d.dataplane)) return false;
        if (auto it = m.find("nat"); it != m.end() && !read_nat(it->second, d.nat)) return false;
        if (auto it = m.find("vxlan"); it != m.end() && !read_vxlan(it->second, d.vxlan)) return false;
        if (auto it = m.find("exception"); it != m.end() && !read_exception(it->second, d.exception)) return false;
        if (auto it = m.find("dns"); it != m.end() && !read_dns(it->second, d.dns)) return false;
        if (auto it = m.find("cluster"); it != m.end() && !read_cluster(it->second, d.cluster.emplace())) return false;
        if (auto it = m.find("bridge"); it != m.end() && !read_bridge(it->second, d.bridge)) return false;
        if (auto it = m.find("networks"); it != m.end()) {
            if (!items(it->second, "networks", [&](const YAML::Node& n, const std::string& p) {
                    return read_network(n, p, default_overlay_mtu(d), d.networks.emplace_back());
                })) {
                return false;
            }
        }
        if (auto it = m.find("containers"); it != m.end()) {
            if (!items(it->second, "containers", [&](const YAML::Node& n, const std::string& p) {
                    return read_container(n, p, d.containers.emplace_back());
                })) {
                return false;
            }
        }
        if (auto it = m.find("ports"); it != m.end()) {
            return items(it->second, "ports", [&](const YAML::Node& n, const std::string& p) {
                return read_port(n, p, d.ports.emplace_back());
            });
        }
        return true;
    }

    bool read_dataplane(const Field& f, DataplaneSpec& dp) {
        const std::string p = "dataplane";
        dp.pos = pos(mark(f));
        Fields m;
        return fields(f.value, mark(f), p,
                      {"workers", "mbufs", "burst", "rx-ring", "tx-ring", "mac-table-size", "mac-ageing",
                       "idle-sleep-us", "idle-sleep-max-us", "idle-poll-us", "spread-flows", "memory-mb", "socket", "eal-args", "icmp-errors-per-second",
                       "icmp-errors-burst"},
                      m) &&
               optional(m, "workers", p, dp.workers) && optional(m, "mbufs", p, dp.mbufs) &&
               optional(m, "burst", p, dp.burst) && optional(m, "rx-ring", p, dp.rx_ring) &&
               optional(m, "tx-ring", p, dp.tx_ring) && optional(m, "mac-table-size", p, dp.mac_table_size) &&
               optional(m, "mac-ageing", p, dp.mac_ageing_s) && optional(m, "idle-sleep-us", p, dp.idle_sleep_us) &&
               optional(m, "idle-sleep-max-us", p, dp.idle_sleep_max_us) &&
               optional(m, "idle-poll-us", p, dp.idle_poll_us) &&
               optional(m, "spread-flows", p, dp.spread_flows) &&
               optional(m, "memory-mb", p, dp.memory_mb) && optional(m, "socket", p, dp.socket_path) &&
               optional(m, "eal-args", p, dp.eal_args) &&
               optional(m, "icmp-errors-per-second", p, dp.icmp_errors_per_s) &&
               optional(m, "icmp-errors-burst", p, dp.icmp_errors_burst);
    }

    bool read_bridge(const Field& f, BridgeSpec& b) {
        const std::string p = "bridge";
        b.pos = pos(mark(f));
        Fields m;
        return fields(f.value, mark(f), p, {"bip", "fixed-cidr", "mtu"}, m) && optional(m, "bip", p, b.bip) &&
               optional(m, "fixed-cidr", p, b.fixed_cidr) && optional(m, "mtu", p, b.mtu);
    }

    bool read_uplink(const Field& f, UplinkSpec& u) {
        const std::string p = "uplink";
        u.pos = pos(mark(f));
        Fields m;
        return fields(f.value, mark(f), p, {"devargs", "address", "gateway", "mtu", "arp-timeout", "gateway-mac"}, m) &&
               required(m, mark(f), "devargs", p, u.devargs) && required(m, mark(f), "address", p, u.address) &&
               required(m, mark(f), "gateway", p, u.gateway) && optional(m, "mtu", p, u.mtu) &&
               optional(m, "arp-timeout", p, u.arp_timeout_s) && optional(m, "gateway-mac", p, u.gateway_mac);
    }

    bool read_nat(const Field& f, NatSpec& n) {
        const std::string p = "nat";
        n.pos = pos(mark(f));
        Fields m;
        std::optional<std::string> range;
        if (!fields(f.value, mark(f), p, {"capacity", "port-range", "timeouts", "dynamic-port-range", "flows-per-source"}, m) ||
            !optional(m, "capacity", p, n.capacity) || !optional(m, "port-range", p, range) ||
            !optional(m, "flows-per-source", p, n.flows_per_source) ||
            !optional(m, "dynamic-port-range", p, n.dynamic_ports)) {
            return false;
        }
        if (range) {
            // "LOW-HIGH", both inclusive, like Linux's ip_local_port_range.
            unsigned lo = 0, hi = 0;
            const auto dash = range->find('-');
            const char* b = range->data();
            const char* e = b + range->size();
            bool ok = dash != std::string::npos;
            if (ok) {
                auto r1 = std::from_chars(b, b + dash, lo);
                auto r2 = std::from_chars(b + dash + 1, e, hi);
                ok = r1.ec == std::errc() && r1.ptr == b + dash && r2.ec == std::errc() && r2.ptr == e && lo <= 65535 &&
                     hi <= 65535;
            }
            if (!ok) return fail(mark(m.find("port-range")->second), join(p, "port-range"),
                                 "expected a port range like 1024-65535, got '" + *range + "'");
            n.port_lo = static_cast<std::uint16_t>(lo);
            n.port_hi = static_cast<std::uint16_t>(hi);
        }
        auto it = m.find("timeouts");
        if (it == m.end()) return true;
        const std::string tp = join(p, "timeouts");
        Keys names;
        for (const auto& k : kTimeoutKeys) names.push_back(k.key);
        Fields t;
        if (!fields(it->second.value, mark(it->second), tp, names, t)) return false;
        for (const auto& k : kTimeoutKeys) {
            if (!optional(t, k.key, tp, n.timeouts.*k.field)) return false;
        }
        return true;
    }

    bool read_network(const YAML::Node& node, const std::string& p, std::uint32_t overlay_mtu, NetworkSpec& n) {
        n.pos = pos(node.Mark());
        Fields m;
        bool ok =
            fields(node, node.Mark(), p,
                   {"name", "driver", "subnet", "gateway", "ip-range", "internal", "mtu", "options", "labels",
                    "static-macs", "vni", "peers", "fdb", "arp-suppression", "scope"},
                   m) &&
            required(m, node.Mark(), "name", p, n.name) && optional(m, "driver", p, n.driver) &&
            required(m, node.Mark(), "subnet", p, n.subnet) && optional(m, "ip-range", p, n.ip_range) &&
            optional(m, "internal", p, n.internal) && optional(m, "mtu", p, n.mtu) &&
            optional(m, "options", p, n.options) && optional(m, "labels", p, n.labels);
        if (!ok) return false;
        // scope: global marks a network of the cluster store as `config save`
        // wrote it, with this host's endpoints on it (cluster/restore.hpp).
        std::string scope = "local";
        if (!optional(m, "scope", p, scope)) return false;
        if (scope != "local" && scope != "global") {
            return fail(mark(m.at("scope")), join(p, "scope"), "expected local or global, got '" + scope + "'");
        }
        n.global = scope == "global";
        if (n.global && n.driver != kOverlayDriver) {
            return fail(mark(m.at("scope")), join(p, "scope"), "scope global needs driver overlay");
        }
        // Docker's default gateway: the first host address of the subnet.
        n.gateway = Ipv4Address(n.subnet.network().host() + 1);
        if (!optional(m, "gateway", p, n.gateway)) return false;
        // Docker lets --opt com.docker.network.driver.mtu stand in for the MTU;
        // when both are given, validate() insists that they agree.
        if (m.find("mtu") == m.end()) {
            if (auto it = n.options.find("com.docker.network.driver.mtu"); it != n.options.end()) {
                std::uint32_t mtu = 0;
                const auto& t = it->second;
                auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), mtu);
                if (ec == std::errc() && ptr == t.data() + t.size()) n.mtu = mtu;
            }
        }
        auto it = m.find("static-macs");
        return (it == m.end() ||
                items(it->second, join(p, "static-macs"), [&](const YAML::Node& s, const std::string& sp) {
                    auto& sm = n.static_macs.emplace_back();
                    sm.pos = pos(s.Mark());
                    Fields sf;
                    return fields(s, s.Mark(), sp, {"mac", "port"}, sf) && required(sf, s.Mark(), "mac", sp, sm.mac) &&
                           required(sf, s.Mark(), "port", sp, sm.port);
                })) &&
               read_overlay(m, p, overlay_mtu, n);
    }

    // The overlay keys of a network whose fields read_network() split.
    bool read_overlay(const Fields& m, const std::string& p, std::uint32_t default_mtu, NetworkSpec& n) {
        if (is_overlay(n) && !m.contains("mtu") && !n.options.contains("com.docker.network.driver.mtu")) {
            n.mtu = default_mtu;
        }
        if (!optional(m, "vni", p, n.vni) || !optional(m, "peers", p, n.peers) ||
            !optional(m, "arp-suppression", p, n.arp_suppression)) {
            return false;
        }
        auto it = m.find("fdb");
        return it == m.end() || items(it->second, join(p, "fdb"), [&](const YAML::Node& s, const std::string& sp) {
                   auto& rm = n.remote_macs.emplace_back();
                   rm.pos = pos(s.Mark());
                   Fields sf;
                   return fields(s, s.Mark(), sp, {"mac", "vtep", "ip"}, sf) &&
                          required(sf, s.Mark(), "mac", sp, rm.mac) && required(sf, s.Mark(), "vtep", sp, rm.vtep) &&
                          optional(sf, "ip", sp, rm.ip);
               });
    }

    bool read_exception(const Field& f, ExceptionSpec& e) {
        const std::string p = "exception";
        e.pos = pos(mark(f));
        Fields m;
        return fields(f.value, mark(f), p, {"enabled", "interface", "punt-rate", "punt-burst"}, m) &&
               optional(m, "enabled", p, e.enabled) && optional(m, "interface", p, e.interface) &&
               optional(m, "punt-rate", p, e.punt_rate) && optional(m, "punt-burst", p, e.punt_burst);
    }

    bool read_dns(const Field& f, DnsSpec& d) {
        const std::string p = "dns";
        d.pos = pos(mark(f));
        Fields m;
        return fields(f.value, mark(f), p, {"servers", "upstream-port", "queries-per-second", "resolv-conf"}, m) &&
               optional(m, "servers", p, d.servers) && optional(m, "upstream-port", p, d.upstream_port) &&
               optional(m, "queries-per-second", p, d.queries_per_second) &&
               optional(m, "resolv-conf", p, d.resolv_conf);
    }

    bool read_cluster(const Field& f, ClusterSpec& c) {
        const std::string p = "cluster";
        c.pos = pos(mark(f));
        Fields m;
        if (!fields(f.value, mark(f), p, {"etcd", "host-name", "lease-ttl"}, m) ||
            !required(m, mark(f), "etcd", p, c.etcd) || !optional(m, "host-name", p, c.host_name) ||
            !optional(m, "lease-ttl", p, c.lease_ttl_s)) {
            return false;
        }
        if (c.etcd.empty()) return fail(mark(m.find("etcd")->second), join(p, "etcd"), "needs at least one URL");
        for (const auto& url : c.etcd) {
            if (!url.starts_with("http://")) {
                return fail(mark(m.find("etcd")->second), join(p, "etcd"), "'" + url + "' is not http://HOST:PORT");
            }
        }
        if (c.host_name.find('/') != std::string::npos) {
            return fail(mark(m.find("host-name")->second), join(p, "host-name"), "a host name has no '/'");
        }
        if (c.lease_ttl_s < 2) return fail(mark(m.find("lease-ttl")->second), join(p, "lease-ttl"), "at least 2 seconds");
        return true;
    }

    bool read_vxlan(const Field& f, VxlanSpec& v) {
        const std::string p = "vxlan";
        v.pos = pos(mark(f));
        Fields m;
        std::optional<std::string> range;
        if (!fields(f.value, mark(f), p, {"port", "ttl", "df", "learn-unknown-peers", "vni-range"}, m) ||
            !optional(m, "port", p, v.port) || !optional(m, "ttl", p, v.ttl) || !optional(m, "df", p, v.df) ||
            !optional(m, "learn-unknown-peers", p, v.learn_unknown_peers) || !optional(m, "vni-range", p, range)) {
            return false;
        }
        if (!range) return true;
        const auto dash = range->find('-');
        const char* b = range->data();
        const char* e = b + range->size();
        bool ok = dash != std::string::npos;
        if (ok) {
            auto r1 = std::from_chars(b, b + dash, v.vni_lo);
            auto r2 = std::from_chars(b + dash + 1, e, v.vni_hi);
            ok = r1.ec == std::errc() && r1.ptr == b + dash && r2.ec == std::errc() && r2.ptr == e;
        }
        if (ok) return true;
        return fail(mark(m.find("vni-range")->second), join(p, "vni-range"),
                    "expected a VNI range like 256-1000, got '" + *range + "'");
    }

    bool read_container(const YAML::Node& node, const std::string& p, ContainerSpec& c) {
        c.pos = pos(node.Mark());
        Fields m;
        std::string method = "veth";
        bool ok = fields(node, node.Mark(), p,
                         {"name", "netns", "method", "networks", "publish", "expose", "publish-all"}, m) &&
                  required(m, node.Mark(), "name", p, c.name) && required(m, node.Mark(), "netns", p, c.netns) &&
                  optional(m, "method", p, method) && optional(m, "publish", p, c.publish) &&
                  optional(m, "expose", p, c.expose) && optional(m, "publish-all", p, c.publish_all);
        if (!ok) return false;
        if (method == "veth") {
            c.method = AttachMethod::Veth;
        } else if (method == "tap") {
            c.method = AttachMethod::Tap;
        } else if (method == "docker") {
            c.method = AttachMethod::Docker;
        } else {
            return fail(mark(m.find("method")->second), join(p, "method"),
                        "expected veth, tap or docker, got '" + method + "'");
        }
        auto it = m.find("networks");
        if (it == m.end()) {
            c.networks.push_back(EndpointSpec{kDefaultNetworkName, std::nullopt, std::nullopt, {}, c.pos});
            return true;
        }
        return items(it->second, join(p, "networks"), [&](const YAML::Node& e, const std::string& ep) {
            auto& endpoint = c.networks.emplace_back();
            endpoint.pos = pos(e.Mark());
            if (e.IsScalar()) {
                endpoint.network = e.Scalar();
                return true;
            }
            if (!e.IsMap()) return fail(e.Mark(), ep, "expected a network name or a mapping, got " + describe(e));
            Fields ef;
            return fields(e, e.Mark(), ep, {"name", "ip", "mac", "aliases"}, ef) &&
                   required(ef, e.Mark(), "name", ep, endpoint.network) && optional(ef, "ip", ep, endpoint.ip) &&
                   optional(ef, "mac", ep, endpoint.mac) && optional(ef, "aliases", ep, endpoint.aliases);
        });
    }

    bool read_port(const YAML::Node& node, const std::string& p, PortSpec& port) {
        port.pos = pos(node.Mark());
        Fields m;
        return fields(node, node.Mark(), p, {"name", "devargs", "network"}, m) &&
               required(m, node.Mark(), "name", p, port.name) && required(m, node.Mark(), "devargs", p, port.devargs) &&
               required(m, node.Mark(), "network", p, port.network);
    }

    std::string file_;
    std::optional<ConfigError> error_;
};

}  // namespace

Result<Deployment> read_yaml_string(const std::string& text, const std::string& source_name) {
    // yaml-cpp reports syntax errors by exception; they stop here.
    try {
        const std::vector<YAML::Node> docs = YAML::LoadAll(text);
        if (docs.size() > 1) {
            return ConfigError::at(Reader::position(source_name, docs[1].Mark()), "",
                                   "expected one YAML document, found " + std::to_string(docs.size()))
                .status();
        }
        return Reader(source_name).read(docs.empty() ? YAML::Node() : docs[0]);
    } catch (const YAML::Exception& e) {
        return ConfigError::at(Reader::position(source_name, e.mark), "", "invalid YAML: " + e.msg).status();
    }
}

Result<Deployment> read_yaml_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ConfigError{path, 0, 0, "", std::string("cannot open: ") + std::strerror(errno)}.status();
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return ConfigError{path, 0, 0, "", std::string("cannot read: ") + std::strerror(err)}.status();
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return read_yaml_string(text, path);
}

}  // namespace dpdock::config
