// Strong types for wire fields and identifiers, each owning its parse/format so
// that YAML, the CLI and error messages all spell addresses the same way.
// Header-only on purpose: config/ depends on this file and nothing else here.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dpdock {

using PortId = std::uint16_t;     // DPDK ethdev port id
using NetworkId = std::uint16_t;  // index of a network in the running snapshot
using Vni = std::uint32_t;        // 24-bit VXLAN network identifier

inline constexpr NetworkId kNoNetwork = 0xffff;
inline constexpr PortId kNoPort = 0xffff;
// Port ids from kRemotePortBase up name tunnel endpoints, not ethdev ports:
// the MAC table maps a MAC behind a remote VTEP to one (vxlan/vtep_table.hpp),
// so the bridge learns and forwards to remote MACs as to local ones.
inline constexpr PortId kRemotePortBase = 0x8000;
constexpr bool is_remote_port(PortId port) { return port >= kRemotePortBase && port != kNoPort; }

// A 16/32-bit value in network byte order. Construction from host order is
// explicit so a forgotten conversion is a compile error, not a wrong packet.
template <typename T>
class BigEndian {
public:
    constexpr BigEndian() = default;
    static constexpr BigEndian from_host(T host) { return BigEndian(swap(host)); }
    static constexpr BigEndian from_raw(T raw) { return BigEndian(raw); }
    constexpr T host() const { return swap(raw_); }
    constexpr T raw() const { return raw_; }
    friend constexpr bool operator==(BigEndian, BigEndian) = default;

private:
    constexpr explicit BigEndian(T raw) : raw_(raw) {}
    static constexpr T swap(T v) {
        if constexpr (sizeof(T) == 2) {
            return static_cast<T>((v >> 8) | (v << 8));
        } else {
            return __builtin_bswap32(v);
        }
    }
    T raw_ = 0;
};
using Be16 = BigEndian<std::uint16_t>;
using Be32 = BigEndian<std::uint32_t>;

class MacAddress {
public:
    constexpr MacAddress() = default;
    constexpr explicit MacAddress(std::array<std::uint8_t, 6> bytes) : bytes_(bytes) {}

    // Accepts "aa:bb:cc:dd:ee:ff" (also with '-'), case-insensitive.
    static std::optional<MacAddress> parse(std::string_view text);
    std::string to_string() const;

    constexpr const std::array<std::uint8_t, 6>& bytes() const { return bytes_; }
    constexpr bool is_multicast() const { return (bytes_[0] & 0x01) != 0; }  // includes broadcast
    constexpr bool is_broadcast() const {
        for (auto b : bytes_) {
            if (b != 0xff) return false;
        }
        return true;
    }
    constexpr bool is_zero() const {
        for (auto b : bytes_) {
            if (b != 0) return false;
        }
        return true;
    }
    // The 48 bits as an integer, first octet most significant.
    constexpr std::uint64_t to_u64() const {
        std::uint64_t v = 0;
        for (auto b : bytes_) v = (v << 8) | b;
        return v;
    }
    static constexpr MacAddress from_u64(std::uint64_t v) {
        std::array<std::uint8_t, 6> b{};
        for (int i = 5; i >= 0; --i) {
            b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
            v >>= 8;
        }
        return MacAddress(b);
    }
    friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

private:
    std::array<std::uint8_t, 6> bytes_{};
};

class Ipv4Address {
public:
    constexpr Ipv4Address() = default;
    constexpr explicit Ipv4Address(std::uint32_t host_order) : value_(host_order) {}
    static constexpr Ipv4Address from_be(Be32 be) { return Ipv4Address(be.host()); }

    // Dotted quad only ("10.0.0.1"); no shorthand forms.
    static std::optional<Ipv4Address> parse(std::string_view text);
    std::string to_string() const;

    constexpr std::uint32_t host() const { return value_; }
    constexpr Be32 be() const { return Be32::from_host(value_); }
    friend constexpr auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;

private:
    std::uint32_t value_ = 0;
};

// An address with a prefix length: "172.17.0.1/16" keeps the host bits, so
// it can describe both a subnet and an interface address.
class Ipv4Cidr {
public:
    constexpr Ipv4Cidr() = default;
    constexpr Ipv4Cidr(Ipv4Address address, std::uint8_t prefix) : address_(address), prefix_(prefix) {}

    static std::optional<Ipv4Cidr> parse(std::string_view text);
    std::string to_string() const;

    constexpr Ipv4Address address() const { return address_; }
    constexpr std::uint8_t prefix() const { return prefix_; }
    constexpr std::uint32_t mask() const { return prefix_ == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_); }
    constexpr Ipv4Address network() const { return Ipv4Address(address_.host() & mask()); }
    constexpr Ipv4Address broadcast() const { return Ipv4Address(address_.host() | ~mask()); }
    constexpr bool contains(Ipv4Address a) const { return (a.host() & mask()) == network().host(); }
    constexpr bool overlaps(const Ipv4Cidr& o) const {
        const std::uint8_t p = prefix_ < o.prefix_ ? prefix_ : o.prefix_;
        const std::uint32_t m = p == 0 ? 0 : ~std::uint32_t{0} << (32 - p);
        return (address_.host() & m) == (o.address_.host() & m);
    }
    friend constexpr bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;

private:
    Ipv4Address address_;
    std::uint8_t prefix_ = 0;
};

// Docker's rule: a container MAC is 02:42 followed by the four IPv4 octets.
constexpr MacAddress docker_mac_for(Ipv4Address ip) {
    const std::uint32_t v = ip.host();
    return MacAddress({0x02, 0x42, static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                       static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

}  // namespace dpdock

template <>
struct std::hash<dpdock::MacAddress> {
    std::size_t operator()(const dpdock::MacAddress& m) const noexcept { return std::hash<std::uint64_t>{}(m.to_u64()); }
};
