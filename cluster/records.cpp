#include "cluster/records.hpp"

#include <nlohmann/json.hpp>

#include "config/overlay.hpp"

namespace dpdock::cluster {
namespace {

using nlohmann::json;

std::optional<json> parse_object(const std::string& text) {
    try {
        json j = json::parse(text);
        if (j.is_object()) return j;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

std::optional<std::string> str(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

std::optional<Ipv4Address> ip(const json& j, const char* key) {
    auto s = str(j, key);
    return s ? Ipv4Address::parse(*s) : std::nullopt;
}

std::optional<std::uint32_t> u32(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
    const auto v = it->get<std::uint64_t>();
    if (v > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

bool string_map(const json& j, const char* key, std::map<std::string, std::string>& out) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_object()) return false;
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) return false;
        out[k] = v.get<std::string>();
    }
    return true;
}

}  // namespace

std::string hosts_prefix() { return std::string(kPrefix) + "hosts/"; }
std::string networks_prefix() { return std::string(kPrefix) + "networks/"; }
std::string vnis_prefix() { return std::string(kPrefix) + "vnis/"; }
std::string endpoints_prefix() { return std::string(kPrefix) + "endpoints/"; }
std::string endpoints_prefix(const std::string& network) { return endpoints_prefix() + network + "/"; }
std::string host_key(const std::string& host) { return hosts_prefix() + host; }
std::string network_key(const std::string& network) { return networks_prefix() + network; }
std::string vni_key(std::uint32_t vni) { return vnis_prefix() + std::to_string(vni); }
std::string endpoint_key(const std::string& network, Ipv4Address a) { return endpoints_prefix(network) + a.to_string(); }

std::string to_json(const HostRecord& r) {
    return json{{"name", r.name}, {"vtep", r.vtep.to_string()}, {"started", r.started}}.dump();
}

std::string to_json(const NetworkRecord& r) {
    json j{{"name", r.name},
           {"subnet", r.subnet.to_string()},
           {"gateway", r.gateway.to_string()},
           {"vni", r.vni},
           {"mtu", r.mtu},
           {"internal", r.internal},
           {"arp_suppression", r.arp_suppression},
           {"options", r.options},
           {"labels", r.labels},
           {"created_by", r.created_by}};
    if (r.ip_range) j["ip_range"] = r.ip_range->to_string();
    return j.dump();
}

std::string to_json(const EndpointRecord& r) {
    return json{{"network", r.network}, {"container", r.container}, {"ip", r.ip.to_string()},
                {"mac", r.mac.to_string()}, {"host", r.host}, {"vtep", r.vtep.to_string()}}
        .dump();
}

std::optional<HostRecord> parse_host(const std::string& text) {
    auto j = parse_object(text);
    if (!j) return std::nullopt;
    auto name = str(*j, "name");
    auto vtep = ip(*j, "vtep");
    if (!name || name->empty() || !vtep) return std::nullopt;
    return HostRecord{*name, *vtep, str(*j, "started").value_or("")};
}

std::optional<NetworkRecord> parse_network(const std::string& text) {
    auto j = parse_object(text);
    if (!j) return std::nullopt;
    NetworkRecord r;
    auto name = str(*j, "name");
    auto subnet = str(*j, "subnet");
    auto gateway = ip(*j, "gateway");
    auto vni = u32(*j, "vni");
    auto mtu = u32(*j, "mtu");
    if (!name || name->empty() || !subnet || !gateway || !vni || *vni == 0 || *vni > config::kMaxVni || !mtu) {
        return std::nullopt;
    }
    auto cidr = Ipv4Cidr::parse(*subnet);
    if (!cidr) return std::nullopt;
    r.name = *name;
    r.subnet = *cidr;
    r.gateway = *gateway;
    r.vni = *vni;
    r.mtu = *mtu;
    if (auto range = str(*j, "ip_range")) {
        r.ip_range = Ipv4Cidr::parse(*range);
        if (!r.ip_range) return std::nullopt;
    }
    r.internal = j->value("internal", false);
    r.arp_suppression = j->value("arp_suppression", true);
    if (!string_map(*j, "options", r.options) || !string_map(*j, "labels", r.labels)) return std::nullopt;
    r.created_by = str(*j, "created_by").value_or("");
    return r;
}

std::optional<EndpointRecord> parse_endpoint(const std::string& text) {
    auto j = parse_object(text);
    if (!j) return std::nullopt;
    auto network = str(*j, "network");
    auto container = str(*j, "container");
    auto address = ip(*j, "ip");
    auto mac_text = str(*j, "mac");
    auto host = str(*j, "host");
    auto vtep = ip(*j, "vtep");
    if (!network || !container || !address || !mac_text || !host || !vtep) return std::nullopt;
    auto mac = MacAddress::parse(*mac_text);
    if (!mac) return std::nullopt;
    return EndpointRecord{*network, *container, *address, *mac, *host, *vtep};
}

NetworkRecord record_of(const config::NetworkSpec& n, const std::string& host) {
    return NetworkRecord{.name = n.name,
                         .subnet = n.subnet,
                         .gateway = n.gateway,
                         .ip_range = n.ip_range,
                         .vni = n.vni.value_or(0),
                         .mtu = n.mtu,
                         .internal = n.internal,
                         .arp_suppression = n.arp_suppression,
                         .options = n.options,
                         .labels = n.labels,
                         .created_by = host};
}

config::NetworkSpec spec_of(const NetworkRecord& r) {
    config::NetworkSpec n;
    n.name = r.name;
    n.driver = config::kOverlayDriver;
    n.subnet = r.subnet;
    n.gateway = r.gateway;
    n.ip_range = r.ip_range;
    n.vni = r.vni;
    n.mtu = r.mtu;
    n.internal = r.internal;
    n.arp_suppression = r.arp_suppression;
    n.options = r.options;
    n.labels = r.labels;
    n.global = true;
    return n;
}

}  // namespace dpdock::cluster
