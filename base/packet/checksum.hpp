// Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
// A rewrite (NAT, TTL) patches the stored checksum instead of re-summing the
// packet. Deltas are plain values, so NAT can compute one per connection and
// apply it to every packet. All 16/32-bit values must share one byte order;
// raw wire values work as they are, since one's complement sums commute with
// byte swapping. Header-only, pure functions; safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <rte_ip.h>

namespace dpdock {

// Folds a 32-bit accumulator into 16 bits with end-around carry. Non-zero
// input gives a non-zero result, so sums stay in [1, 0xffff] like a full
// recomputation over data that is not all zeros.
constexpr std::uint16_t csum_fold(std::uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// The change of a one's complement sum when `old_v` becomes `new_v` (~m + m').
constexpr std::uint16_t csum_delta16(std::uint16_t old_v, std::uint16_t new_v) {
    return csum_fold(static_cast<std::uint16_t>(~old_v) + std::uint32_t{new_v});
}

constexpr std::uint16_t csum_delta32(std::uint32_t old_v, std::uint32_t new_v) {
    const std::uint32_t not_old = ~old_v;
    return csum_fold((not_old & 0xffff) + (not_old >> 16) + (new_v & 0xffff) + (new_v >> 16));
}

// Combines the deltas of several rewritten fields into one.
constexpr std::uint16_t csum_delta_add(std::uint16_t a, std::uint16_t b) {
    return csum_fold(std::uint32_t{a} + std::uint32_t{b});
}

// Full checksum, stored complemented as on the wire (IPv4 header, TCP, ICMP).
constexpr std::uint16_t csum_apply(std::uint16_t csum, std::uint16_t delta) {
    return static_cast<std::uint16_t>(~csum_fold(static_cast<std::uint16_t>(~csum) + std::uint32_t{delta}));
}

constexpr std::uint16_t csum_update16(std::uint16_t csum, std::uint16_t old_v, std::uint16_t new_v) {
    return csum_apply(csum, csum_delta16(old_v, new_v));
}

constexpr std::uint16_t csum_update32(std::uint16_t csum, std::uint32_t old_v, std::uint32_t new_v) {
    return csum_apply(csum, csum_delta32(old_v, new_v));
}

// UDP over IPv4: 0 means "no checksum" and stays 0; a computed 0 is sent as
// 0xffff (RFC 768), matching rte_ipv4_udptcp_cksum.
constexpr std::uint16_t udp_csum_apply(std::uint16_t csum, std::uint16_t delta) {
    if (csum == 0) return 0;
    const std::uint16_t r = csum_apply(csum, delta);
    return r == 0 ? 0xffff : r;
}

// Pseudo-header-only checksum (Linux CHECKSUM_PARTIAL, DPDK tx L4 offload):
// the field holds the *un-complemented* pseudo-header sum and the sender (or
// NIC) completes it over the L4 data later. So only pseudo-header fields
// (addresses, L4 length) are patched, without complementing; a rewritten port
// needs no patch at all because the final sum will cover it. This is what
// Linux inet_proto_csum_replace4() does for CHECKSUM_PARTIAL.
constexpr std::uint16_t csum_partial_apply(std::uint16_t pseudo_sum, std::uint16_t delta) {
    return csum_fold(std::uint32_t{pseudo_sum} + std::uint32_t{delta});
}

constexpr std::uint16_t csum_partial_update16(std::uint16_t pseudo_sum, std::uint16_t old_v, std::uint16_t new_v) {
    return csum_partial_apply(pseudo_sum, csum_delta16(old_v, new_v));
}

constexpr std::uint16_t csum_partial_update32(std::uint16_t pseudo_sum, std::uint32_t old_v, std::uint32_t new_v) {
    return csum_partial_apply(pseudo_sum, csum_delta32(old_v, new_v));
}

// Decrements the TTL and patches the header checksum. Returns false and
// leaves the header untouched when the TTL is 0 or 1: the packet must not be
// forwarded (the caller answers with ICMP time exceeded or drops it).
inline bool ipv4_decrement_ttl(rte_ipv4_hdr& ip) {
    if (ip.time_to_live <= 1) return false;
    // TTL and protocol form one 16-bit word of the checksummed header.
    auto* word = reinterpret_cast<std::uint8_t*>(&ip) + offsetof(rte_ipv4_hdr, time_to_live);
    std::uint16_t old_word;
    std::memcpy(&old_word, word, sizeof old_word);
    --ip.time_to_live;
    std::uint16_t new_word;
    std::memcpy(&new_word, word, sizeof new_word);
    ip.hdr_checksum = csum_update16(ip.hdr_checksum, old_word, new_word);
    return true;
}

}  // namespace dpdock
