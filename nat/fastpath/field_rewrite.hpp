// Field access shared by the NAT rewrites (masquerade.cpp, icmp_translate.cpp).
// DPDK's header structs are packed, so fields are reached through byte
// offsets and copied with memcpy. Worker-only, header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <rte_ip.h>

#include "base/packet/checksum.hpp"

namespace dpdock::nat {

enum class Side { Source, Destination };

template <typename T>
T load(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename T>
void store(std::uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

// Sets one side's address (wire order) of the IPv4 header at `l3`, patching
// its checksum. Returns the change of any sum over the address, for the
// checksums that cover it too (TCP/UDP pseudo-headers, an enclosing ICMP).
inline std::uint16_t set_ipv4_address(std::uint8_t* l3, Side side, std::uint32_t ip) {
    std::uint8_t* addr = l3 + (side == Side::Source ? offsetof(rte_ipv4_hdr, src_addr) : offsetof(rte_ipv4_hdr, dst_addr));
    std::uint8_t* csum = l3 + offsetof(rte_ipv4_hdr, hdr_checksum);
    const std::uint16_t delta = csum_delta32(load<std::uint32_t>(addr), ip);
    store(csum, csum_apply(load<std::uint16_t>(csum), delta));
    store(addr, ip);
    return delta;
}

}  // namespace dpdock::nat
