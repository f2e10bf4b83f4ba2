// Published ports as `docker run -p` / `--expose` write them, parsed once for
// YAML, the control socket and the CLI:
//
//   CPORT                  80            dynamic host port
//   HOSTPORT:CPORT         8080:80
//   IP:HOSTPORT:CPORT      0.0.0.0:8080:80
//   IP::CPORT              0.0.0.0::80   dynamic host port
//   ranges                 8000-8100:8000-8100 (equal lengths), 8000-8100:80
//                          (one host port picked from the range), 80-90 (dynamic each)
//   /tcp (default) /udp    8080:80/udp; /sctp is refused
//
// to_string() writes the canonical form, which parse() reads back unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

namespace dpdock::config {

enum class PortProto : std::uint8_t { Tcp, Udp };

std::string_view proto_name(PortProto p);
// IPPROTO_TCP / IPPROTO_UDP.
std::uint8_t ip_proto(PortProto p);

struct PortRange {
    std::uint16_t lo = 0;
    std::uint16_t hi = 0;
    std::uint32_t size() const { return std::uint32_t{hi} - lo + 1; }
    bool overlaps(const PortRange& o) const { return lo <= o.hi && o.lo <= hi; }
    std::string to_string() const;  // "80" or "8000-8100"
    friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct PublishSpec {
    std::optional<Ipv4Address> host_ip;  // absent: the network's host_binding_ipv4 (0.0.0.0 by default)
    // Absent: dynamic (a port per container port from nat.dynamic-port-range).
    // Larger than `container` when it is one port: one host port picked from the range.
    std::optional<PortRange> host;
    PortRange container;
    PortProto proto = PortProto::Tcp;
    friend bool operator==(const PublishSpec&, const PublishSpec&) = default;
};

// --expose PORT[-PORT][/PROTO]
struct ExposeSpec {
    PortRange ports;
    PortProto proto = PortProto::Tcp;
    friend bool operator==(const ExposeSpec&, const ExposeSpec&) = default;
};

// Errors quote the text and say which part is wrong.
Result<PortRange> parse_port_range(std::string_view text);  // "N" or "LO-HI"
Result<PublishSpec> parse_publish(std::string_view text);
Result<ExposeSpec> parse_expose(std::string_view text);

std::string to_string(const PublishSpec& p);
std::string to_string(const ExposeSpec& e);

}  // namespace dpdock::config
