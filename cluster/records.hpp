// What dpdock keeps in etcd: the key layout under one prefix and the JSON of
// each record. Pure functions, no I/O. Layout (docs/ARCHITECTURE.md, "Cluster"):
//   /dpdock/hosts/<host>                 HostRecord, under the host's lease
//   /dpdock/networks/<name>              NetworkRecord (global networks), no lease
//   /dpdock/vnis/<vni>                   the network name: one network per VNI
//   /dpdock/endpoints/<network>/<ip>     EndpointRecord, under its host's lease:
//                                        one endpoint per address (the key is the claim)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/packet/net_types.hpp"
#include "config/model.hpp"

namespace dpdock::cluster {

inline constexpr const char* kPrefix = "/dpdock/";

std::string host_key(const std::string& host);
std::string network_key(const std::string& network);
std::string vni_key(std::uint32_t vni);
std::string endpoint_key(const std::string& network, Ipv4Address ip);
std::string hosts_prefix();
std::string networks_prefix();
std::string vnis_prefix();
std::string endpoints_prefix();
std::string endpoints_prefix(const std::string& network);

struct HostRecord {
    std::string name;
    Ipv4Address vtep;     // the host's uplink address
    std::string started;  // RFC 3339 UTC, when it registered
    friend bool operator==(const HostRecord&, const HostRecord&) = default;
};

struct NetworkRecord {
    std::string name;
    Ipv4Cidr subnet;
    Ipv4Address gateway;
    std::optional<Ipv4Cidr> ip_range;
    std::uint32_t vni = 0;
    std::uint32_t mtu = 1450;
    bool internal = false;
    bool arp_suppression = true;
    std::map<std::string, std::string> options;
    std::map<std::string, std::string> labels;
    std::string created_by;  // host name
    friend bool operator==(const NetworkRecord&, const NetworkRecord&) = default;
};

struct EndpointRecord {
    std::string network;
    std::string container;
    Ipv4Address ip;
    MacAddress mac;
    std::string host;
    Ipv4Address vtep;
    friend bool operator==(const EndpointRecord&, const EndpointRecord&) = default;
};

std::string to_json(const HostRecord& r);
std::string to_json(const NetworkRecord& r);
std::string to_json(const EndpointRecord& r);
// nullopt: not JSON, a field missing or malformed (counted and ignored by the reader).
std::optional<HostRecord> parse_host(const std::string& text);
std::optional<NetworkRecord> parse_network(const std::string& text);
std::optional<EndpointRecord> parse_endpoint(const std::string& text);

// A global network's record from its model and back (the model gains
// global=true, driver overlay).
NetworkRecord record_of(const config::NetworkSpec& n, const std::string& host);
config::NetworkSpec spec_of(const NetworkRecord& r);

}  // namespace dpdock::cluster
