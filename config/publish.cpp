#include "config/publish.hpp"

#include <netinet/in.h>

#include <charconv>
#include <vector>

namespace dpdock::config {
namespace {

// "N" with 1 <= N <= 65535, decimal digits only.
Result<std::uint16_t> parse_port(std::string_view text, std::string_view what) {
    using R = Result<std::uint16_t>;
    unsigned v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
        return R::error(std::string(what) + " '" + std::string(text) + "' is not a number");
    }
    if (ec != std::errc() || v == 0 || v > 65535) {
        return R::error(std::string(what) + " " + std::string(text) + " is outside 1..65535");
    }
    return static_cast<std::uint16_t>(v);
}

// "N" or "LO-HI" with LO <= HI.
Result<PortRange> parse_range(std::string_view text, std::string_view what) {
    using R = Result<PortRange>;
    const auto dash = text.find('-');
    auto lo = parse_port(text.substr(0, dash), what);
    if (!lo) return lo.status();
    if (dash == std::string_view::npos) return PortRange{*lo, *lo};
    auto hi = parse_port(text.substr(dash + 1), what);
    if (!hi) return hi.status();
    if (*hi < *lo) {
        return R::error(std::string(what) + " range " + std::string(text) + " is reversed (write " +
                        std::to_string(*hi) + "-" + std::to_string(*lo) + ")");
    }
    return PortRange{*lo, *hi};
}

// Splits "SPEC/PROTO" and checks the protocol.
Result<PortProto> split_proto(std::string_view& text) {
    using R = Result<PortProto>;
    const auto slash = text.rfind('/');
    if (slash == std::string_view::npos) return PortProto::Tcp;
    const std::string_view proto = text.substr(slash + 1);
    text = text.substr(0, slash);
    if (proto == "tcp") return PortProto::Tcp;
    if (proto == "udp") return PortProto::Udp;
    if (proto == "sctp") return R::error("protocol sctp is not supported (only tcp and udp)");
    return R::error("unknown protocol '" + std::string(proto) + "' (expected tcp or udp)");
}

std::vector<std::string_view> split_colons(std::string_view text) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto colon = text.find(':');
        parts.push_back(text.substr(0, colon));
        if (colon == std::string_view::npos) return parts;
        text = text.substr(colon + 1);
    }
}

}  // namespace

std::string_view proto_name(PortProto p) { return p == PortProto::Tcp ? "tcp" : "udp"; }

std::uint8_t ip_proto(PortProto p) { return p == PortProto::Tcp ? IPPROTO_TCP : IPPROTO_UDP; }

std::string PortRange::to_string() const {
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

Result<PortRange> parse_port_range(std::string_view text) { return parse_range(text, "port"); }

Result<PublishSpec> parse_publish(std::string_view text) {
    using R = Result<PublishSpec>;
    const std::string quoted = "publish '" + std::string(text) + "': ";
    auto fail = [&](const std::string& why) { return R::error(quoted + why); };
    std::string_view rest = text;
    auto proto = split_proto(rest);
    if (!proto) return fail(proto.message());
    const auto parts = split_colons(rest);
    if (parts.size() > 3) return fail("expected [[IP:][HOSTPORT]:]CPORT[/PROTO]");

    PublishSpec p;
    p.proto = *proto;
    auto container = parse_range(parts.back(), "container port");
    if (!container) return fail(container.message());
    p.container = *container;
    if (parts.size() == 3) {
        auto ip = Ipv4Address::parse(parts[0]);
        if (!ip) return fail("'" + std::string(parts[0]) + "' is not an IPv4 address");
        p.host_ip = *ip;
    }
    if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
        auto host = parse_range(parts[parts.size() - 2], "host port");
        if (!host) return fail(host.message());
        p.host = *host;
    } else if (parts.size() == 2) {
        return fail("host port is empty (write CPORT alone for a dynamic host port)");
    }
    if (p.host && p.host->size() != p.container.size() && p.container.size() != 1) {
        return fail("host range " + p.host->to_string() + " and container range " + p.container.to_string() +
                    " have different lengths");
    }
    return p;
}

Result<ExposeSpec> parse_expose(std::string_view text) {
    using R = Result<ExposeSpec>;
    const std::string quoted = "expose '" + std::string(text) + "': ";
    std::string_view rest = text;
    auto proto = split_proto(rest);
    if (!proto) return R::error(quoted + proto.message());
    auto ports = parse_range(rest, "port");
    if (!ports) return R::error(quoted + ports.message());
    return ExposeSpec{*ports, *proto};
}

std::string to_string(const PublishSpec& p) {
    std::string out;
    if (p.host_ip) out = p.host_ip->to_string() + ":";
    if (p.host) out += p.host->to_string() + ":";
    else if (p.host_ip) out += ":";
    return out + p.container.to_string() + "/" + std::string(proto_name(p.proto));
}

std::string to_string(const ExposeSpec& e) { return e.ports.to_string() + "/" + std::string(proto_name(e.proto)); }

}  // namespace dpdock::config
