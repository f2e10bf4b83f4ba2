#include "base/packet/net_types.hpp"

#include <charconv>
#include <cstdio>

namespace dpdock {
namespace {

std::optional<unsigned> parse_uint(std::string_view text, int base, unsigned max) {
    if (text.empty()) return std::nullopt;
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (ec != std::errc() || ptr != end || value > max) return std::nullopt;
    return value;
}

}  // namespace

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::array<std::uint8_t, 6> bytes{};
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0) {
            const char sep = text[i * 3 - 1];
            if (sep != ':' && sep != '-') return std::nullopt;
        }
        auto octet = parse_uint(text.substr(i * 3, 2), 16, 0xff);
        if (!octet) return std::nullopt;
        bytes[i] = static_cast<std::uint8_t>(*octet);
    }
    return MacAddress(bytes);
}

std::string MacAddress::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2], bytes_[3],
                  bytes_[4], bytes_[5]);
    return buf;
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        const auto dot = text.find('.');
        const bool last = i == 3;
        if (last != (dot == std::string_view::npos)) return std::nullopt;
        const auto part = last ? text : text.substr(0, dot);
        if (part.size() > 1 && part[0] == '0') return std::nullopt;  // no octal-looking octets
        auto octet = parse_uint(part, 10, 255);
        if (!octet) return std::nullopt;
        value = (value << 8) | *octet;
        if (!last) text.remove_prefix(dot + 1);
    }
    return Ipv4Address(value);
}

std::string Ipv4Address::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value_ >> 24, (value_ >> 16) & 0xff, (value_ >> 8) & 0xff,
                  value_ & 0xff);
    return buf;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto address = Ipv4Address::parse(text.substr(0, slash));
    auto prefix = parse_uint(text.substr(slash + 1), 10, 32);
    if (!address || !prefix) return std::nullopt;
    return Ipv4Cidr(*address, static_cast<std::uint8_t>(*prefix));
}

std::string Ipv4Cidr::to_string() const { return address_.to_string() + "/" + std::to_string(prefix_); }

}  // namespace dpdock
