// Answers one DNS query from the name table, with ldns for the wire format
// (compression pointers, label bounds and counts in untrusted packets are
// ldns's job, not ours). Pure function of its inputs: the DNS thread calls it,
// and so does the fuzz test. Never throws; malformed input gives Malformed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/packet/net_types.hpp"
#include "dns/name_table.hpp"

namespace dpdock::dns {

inline constexpr std::uint32_t kTtl = 600;           // Docker's TTL for container names
inline constexpr std::size_t kMaxUdpAnswer = 512;    // without EDNS0 (RFC 1035)
inline constexpr std::size_t kMaxTcpAnswer = 65535;  // the 2-byte length prefix (RFC 1035 4.2.2)
inline constexpr std::size_t kMaxAnswers = 32;       // bounded answer for a name shared by many containers

enum class Outcome : std::uint8_t {
    Answered,   // A or PTR records
    NoData,     // a known name, a type we hold nothing of (AAAA): NOERROR, no answer
    NotLocal,   // not ours: forward upstream (wire is empty)
    Malformed,  // not a query we can read: dropped, no answer
    Refused,    // an opcode or class we do not serve: NOTIMP / REFUSED
};

struct Response {
    Outcome outcome = Outcome::Malformed;
    std::vector<std::uint8_t> wire;
    std::string name;  // the question's name, lower case (hit counters)
};

// `rotation` rotates the order of several addresses of one name (round robin).
// An answer larger than `max_size` is sent as header and question with TC
// set, which sends the resolver to TCP (where max_size is kMaxTcpAnswer).
Response respond(const NameTable& names, NetworkId network, Ipv4Address asker, std::span<const std::uint8_t> query,
                 std::uint64_t rotation, std::size_t max_size = kMaxUdpAnswer);

// The query with QR set and `rcode` (SERVFAIL, REFUSED...): for forwarding
// failures. Empty when the query cannot be read.
std::vector<std::uint8_t> error_response(std::span<const std::uint8_t> query, std::uint8_t rcode);

}  // namespace dpdock::dns
