#include "config/yaml_writer.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>

#include "config/config_error.hpp"
#include "config/overlay.hpp"

namespace dpdock::config {
namespace {

template <typename T>
void put(YAML::Emitter& out, const char* key, const T& value) {
    out << YAML::Key << key << YAML::Value << value;
}

// Only the fields that differ from DataplaneSpec{}; the section is left out when none do.
void write_dataplane(YAML::Emitter& out, const DataplaneSpec& dp) {
    DataplaneSpec def;
    def.pos = dp.pos;
    if (dp == def) return;
    out << YAML::Key << "dataplane" << YAML::Value << YAML::BeginMap;
    if (dp.workers != def.workers) put(out, "workers", dp.workers);
    if (dp.mbufs != def.mbufs) put(out, "mbufs", dp.mbufs);
    if (dp.burst != def.burst) put(out, "burst", dp.burst);
    if (dp.rx_ring != def.rx_ring) put(out, "rx-ring", dp.rx_ring);
    if (dp.tx_ring != def.tx_ring) put(out, "tx-ring", dp.tx_ring);
    if (dp.mac_table_size != def.mac_table_size) put(out, "mac-table-size", dp.mac_table_size);
    if (dp.mac_ageing_s != def.mac_ageing_s) put(out, "mac-ageing", dp.mac_ageing_s);
    if (dp.idle_sleep_us != def.idle_sleep_us) put(out, "idle-sleep-us", dp.idle_sleep_us);
    if (dp.idle_sleep_max_us != def.idle_sleep_max_us) put(out, "idle-sleep-max-us", dp.idle_sleep_max_us);
    if (dp.idle_poll_us != def.idle_poll_us) put(out, "idle-poll-us", dp.idle_poll_us);
    if (dp.spread_flows != def.spread_flows) put(out, "spread-flows", dp.spread_flows);
    if (dp.memory_mb != def.memory_mb) put(out, "memory-mb", dp.memory_mb);
    if (dp.socket_path != def.socket_path) put(out, "socket", dp.socket_path);
    if (dp.eal_args != def.eal_args) put(out, "eal-args", dp.eal_args);
    if (dp.icmp_errors_per_s != def.icmp_errors_per_s) put(out, "icmp-errors-per-second", dp.icmp_errors_per_s);
    if (dp.icmp_errors_burst != def.icmp_errors_burst) put(out, "icmp-errors-burst", dp.icmp_errors_burst);
    out << YAML::EndMap;
}

// An overlay network's VNI, peers and remote MACs (absent on bridge networks).
void write_overlay(YAML::Emitter& out, const NetworkSpec& n) {
    if (n.vni) put(out, "vni", *n.vni);
    if (n.arp_suppression) put(out, "arp-suppression", true);
    if (!n.peers.empty()) {
        out << YAML::Key << "peers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& ip : n.peers) out << ip.to_string();
        out << YAML::EndSeq;
    }
    if (n.remote_macs.empty()) return;
    out << YAML::Key << "fdb" << YAML::Value << YAML::BeginSeq;
    for (const auto& rm : n.remote_macs) {
        out << YAML::Flow << YAML::BeginMap;
        put(out, "mac", rm.mac.to_string());
        put(out, "vtep", rm.vtep.to_string());
        if (rm.ip) put(out, "ip", rm.ip->to_string());
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
}

// Only the fields that differ from DnsSpec{}; the section is left out when none do.
void write_dns(YAML::Emitter& out, const DnsSpec& d) {
    DnsSpec def;
    def.pos = d.pos;
    if (d == def) return;
    out << YAML::Key << "dns" << YAML::Value << YAML::BeginMap;
    if (!d.servers.empty()) {
        out << YAML::Key << "servers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& s : d.servers) out << s.to_string();
        out << YAML::EndSeq;
    }
    if (d.upstream_port != def.upstream_port) put(out, "upstream-port", d.upstream_port);
    if (d.queries_per_second != def.queries_per_second) put(out, "queries-per-second", d.queries_per_second);
    if (d.resolv_conf != def.resolv_conf) put(out, "resolv-conf", d.resolv_conf);
    out << YAML::EndMap;
}

// Only the fields that differ from VxlanSpec{}; the section is left out when none do.
void write_vxlan(YAML::Emitter& out, const VxlanSpec& v) {
    VxlanSpec def;
    def.pos = v.pos;
    if (v == def) return;
    out << YAML::Key << "vxlan" << YAML::Value << YAML::BeginMap;
    if (v.port != def.port) put(out, "port", v.port);
    if (v.ttl != def.ttl) put(out, "ttl", unsigned{v.ttl});  // a uint8_t would be written as a character
    if (v.df != def.df) put(out, "df", v.df);
    if (v.learn_unknown_peers != def.learn_unknown_peers) put(out, "learn-unknown-peers", v.learn_unknown_peers);
    if (v.vni_lo != def.vni_lo || v.vni_hi != def.vni_hi) {
        put(out, "vni-range", std::to_string(v.vni_lo) + "-" + std::to_string(v.vni_hi));
    }
    out << YAML::EndMap;
}

// Only the fields that differ from ExceptionSpec{}; left out when none do.
void write_exception(YAML::Emitter& out, const ExceptionSpec& e) {
    ExceptionSpec def;
    def.pos = e.pos;
    if (e == def) return;
    out << YAML::Key << "exception" << YAML::Value << YAML::BeginMap;
    if (e.enabled != def.enabled) put(out, "enabled", e.enabled);
    if (e.interface != def.interface) put(out, "interface", e.interface);
    if (e.punt_rate != def.punt_rate) put(out, "punt-rate", e.punt_rate);
    if (e.punt_burst != def.punt_burst) put(out, "punt-burst", e.punt_burst);
    out << YAML::EndMap;
}

// default_mtu: what the reader assumes when the key is missing (1500, or the
// uplink's minus the VXLAN overhead for overlay networks).
void write_network(YAML::Emitter& out, const NetworkSpec& n, std::uint32_t default_mtu) {
    out << YAML::BeginMap;
    put(out, "name", n.name);
    if (n.driver != "bridge") put(out, "driver", n.driver);
    put(out, "subnet", n.subnet.to_string());
    put(out, "gateway", n.gateway.to_string());
    if (n.ip_range) put(out, "ip-range", n.ip_range->to_string());
    if (n.internal) put(out, "internal", true);
    if (n.mtu != default_mtu) put(out, "mtu", n.mtu);
    if (!n.options.empty()) put(out, "options", n.options);
    if (!n.labels.empty()) put(out, "labels", n.labels);
    if (!n.static_macs.empty()) {
        out << YAML::Key << "static-macs" << YAML::Value << YAML::BeginSeq;
        for (const auto& sm : n.static_macs) {
            out << YAML::Flow << YAML::BeginMap;
            put(out, "mac", sm.mac.to_string());
            put(out, "port", sm.port);
            out << YAML::EndMap;
        }
        out << YAML::EndSeq;
    }
    write_overlay(out, n);
    out << YAML::EndMap;
}

// A global network belongs to the cluster store, which gives it back at
// start (VNI, peers, remote MACs): only what names it and lets this host's
// endpoints on it be read back.
void write_global_network(YAML::Emitter& out, const NetworkSpec& n) {
    out << YAML::BeginMap;
    put(out, "name", n.name);
    put(out, "driver", n.driver);
    put(out, "scope", "global");
    put(out, "subnet", n.subnet.to_string());
    put(out, "gateway", n.gateway.to_string());
    out << YAML::EndMap;
}

// Canonical -p/--expose strings; resolved host ports are written, so dynamic ones stay put.
void write_publications(YAML::Emitter& out, const ContainerSpec& c) {
    auto list = [&](const char* key, const auto& specs) {
        if (specs.empty()) return;
        out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& s : specs) out << to_string(s);
        out << YAML::EndSeq;
    };
    list("publish", c.publish);
    list("expose", c.expose);
    if (c.publish_all) put(out, "publish-all", true);
}

// Endpoints on global networks are written like any other: a restarted
// host claims their addresses again (cluster/restore.hpp).
void write_container(YAML::Emitter& out, const ContainerSpec& c) {
    out << YAML::BeginMap;
    put(out, "name", c.name);
    put(out, "netns", c.netns);
    if (c.method != AttachMethod::Veth) put(out, "method", method_name(c.method));
    out << YAML::Key << "networks" << YAML::Value;
    // Always written: an absent list would mean [bridge], not "no networks".
    if (c.networks.empty()) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& e : c.networks) {
        if (!e.ip && !e.mac && e.aliases.empty()) {
            out << e.network;
            continue;
        }
        out << YAML::Flow << YAML::BeginMap;
        put(out, "name", e.network);
        if (e.ip) put(out, "ip", e.ip->to_string());
        if (e.mac) put(out, "mac", e.mac->to_string());
        if (!e.aliases.empty()) {
            out << YAML::Key << "aliases" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const auto& a : e.aliases) out << a;
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    write_publications(out, c);
    out << YAML::EndMap;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

Status io_error(const std::string& path, const std::string& message) {
    return ConfigError{path, 0, 0, "", message}.status();
}

// Closes the descriptor and removes the temp file unless the rename happened.
class TempFile {
public:
    explicit TempFile(std::string name) : name_(std::move(name)) {}
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!renamed_) ::unlink(name_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    bool create() { return (fd_ = ::mkostemp(name_.data(), O_CLOEXEC)) >= 0; }
    int fd() const { return fd_; }
    const std::string& name() const { return name_; }
    bool close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }
    void mark_renamed() { renamed_ = true; }

private:
    std::string name_;
    int fd_ = -1;
    bool renamed_ = false;
};

}  // namespace

std::string to_yaml(const Deployment& d) {
    YAML::Emitter out;
    out << YAML::Comment("dpdock deployment, written by dpdock (config save)") << YAML::Newline;
    out << YAML::BeginMap;
    write_dataplane(out, d.dataplane);

    out << YAML::Key << "bridge" << YAML::Value << YAML::BeginMap;
    put(out, "bip", d.bridge.bip.to_string());
    if (d.bridge.fixed_cidr) put(out, "fixed-cidr", d.bridge.fixed_cidr->to_string());
    if (d.bridge.mtu != 1500) put(out, "mtu", d.bridge.mtu);
    out << YAML::EndMap;

    if (d.uplink) {
        out << YAML::Key << "uplink" << YAML::Value << YAML::BeginMap;
        put(out, "devargs", d.uplink->devargs);
        put(out, "address", d.uplink->address.to_string());
        put(out, "gateway", d.uplink->gateway.to_string());
        if (d.uplink->mtu != 1500) put(out, "mtu", d.uplink->mtu);
        if (d.uplink->arp_timeout_s != 60) put(out, "arp-timeout", d.uplink->arp_timeout_s);
        if (d.uplink->gateway_mac) put(out, "gateway-mac", d.uplink->gateway_mac->to_string());
        out << YAML::EndMap;
    }
    NatSpec defaults;
    defaults.pos = d.nat.pos;
    if (d.nat != defaults) {
        out << YAML::Key << "nat" << YAML::Value << YAML::BeginMap;
        if (d.nat.capacity != defaults.capacity) put(out, "capacity", d.nat.capacity);
        if (d.nat.port_lo != defaults.port_lo || d.nat.port_hi != defaults.port_hi) {
            put(out, "port-range", std::to_string(d.nat.port_lo) + "-" + std::to_string(d.nat.port_hi));
        }
        if (d.nat.dynamic_ports != defaults.dynamic_ports) put(out, "dynamic-port-range", d.nat.dynamic_ports.to_string());
        if (d.nat.flows_per_source != defaults.flows_per_source) put(out, "flows-per-source", d.nat.flows_per_source);
        if (d.nat.timeouts != defaults.timeouts) {
            out << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
            for (const auto& k : kTimeoutKeys) {
                if (d.nat.timeouts.*k.field != defaults.timeouts.*k.field) put(out, k.key, d.nat.timeouts.*k.field);
            }
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    write_vxlan(out, d.vxlan);
    write_exception(out, d.exception);
    write_dns(out, d.dns);
    if (d.cluster) {
        out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "etcd" << YAML::Value << YAML::Flow << d.cluster->etcd;
        if (!d.cluster->host_name.empty()) put(out, "host-name", d.cluster->host_name);
        if (d.cluster->lease_ttl_s != ClusterSpec{}.lease_ttl_s) put(out, "lease-ttl", d.cluster->lease_ttl_s);
        out << YAML::EndMap;
    }
    if (!d.networks.empty()) {
        out << YAML::Key << "networks" << YAML::Value << YAML::BeginSeq;
        for (const auto& n : d.networks) {
            if (n.global) {
                write_global_network(out, n);
            } else {
                write_network(out, n, is_overlay(n) ? default_overlay_mtu(d) : 1500);
            }
        }
        out << YAML::EndSeq;
    }
    if (!d.containers.empty()) {
        out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
        for (const auto& c : d.containers) write_container(out, c);
        out << YAML::EndSeq;
    }
    if (!d.ports.empty()) {
        out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
        for (const auto& p : d.ports) {
            out << YAML::BeginMap;
            put(out, "name", p.name);
            put(out, "devargs", p.devargs);
            put(out, "network", p.network);
            out << YAML::EndMap;
        }
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

Status save_atomically(const Deployment& d, const std::string& path) {
    const std::string text = to_yaml(d);
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty()) return io_error(path, "not a file name");

    TempFile tmp(dir + "/." + base + ".tmp.XXXXXX");
    if (!tmp.create()) return io_error(path, errno_text("cannot create a temporary file"));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(tmp.fd(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error(tmp.name(), errno_text("cannot write"));
        done += static_cast<std::size_t>(n);
    }
    // mkostemp makes the file 0600; a config file is not a secret.
    if (::fchmod(tmp.fd(), 0644) != 0) return io_error(tmp.name(), errno_text("cannot chmod"));
    if (::fsync(tmp.fd()) != 0) return io_error(tmp.name(), errno_text("cannot fsync"));
    if (!tmp.close()) return io_error(tmp.name(), errno_text("cannot close"));
    if (::rename(tmp.name().c_str(), path.c_str()) != 0) return io_error(path, errno_text("cannot rename into place"));
    tmp.mark_renamed();

    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return io_error(dir, errno_text("cannot open directory"));
    const bool synced = ::fsync(dfd) == 0;
    const std::string sync_error = synced ? "" : errno_text("cannot fsync directory");
    ::close(dfd);
    if (!synced) return io_error(dir, sync_error);
    return Status();
}

}  // namespace dpdock::config
