// PacketBuilder: test frames as bytes, layer by layer, with correct lengths and
// checksums unless a corruption knob says otherwise. Plus the glue between
// byte vectors and mbufs (to_mbuf/from_mbuf), a byte diff for failure
// messages, and RAII holders for test mempools and mbufs.
// Test-only; single-threaded use. Call ensure_eal() before any mbuf helper.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/packet/net_types.hpp"

namespace dpdock::test {

using Ipv6Bytes = std::array<std::uint8_t, 16>;

class PacketBuilder {
public:
    PacketBuilder& eth(MacAddress dst, MacAddress src);
    // Appends a tag; call twice for QinQ (outer first, tpid 0x88a8).
    PacketBuilder& vlan(std::uint16_t tci, std::uint16_t tpid = 0x8100);
    // Ethertype after the tags for frames without a known L3 (the payload follows).
    PacketBuilder& ethertype(std::uint16_t type);

    PacketBuilder& ipv4(Ipv4Address src, Ipv4Address dst, std::uint8_t ttl = 64);
    PacketBuilder& ipv6(const Ipv6Bytes& src, const Ipv6Bytes& dst, std::uint8_t hop_limit = 64);
    PacketBuilder& tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags = 0x02 /* SYN */);
    PacketBuilder& udp(std::uint16_t sport, std::uint16_t dport);
    PacketBuilder& icmp_echo(std::uint16_t id, std::uint16_t seq);
    PacketBuilder& icmp_type(std::uint8_t type);  // after icmp_echo: 0 = echo reply, others for negative tests
    // An ICMP error (RFC 792): type, code, next-hop MTU (RFC 1191; 0 for "unused") and the quoted packet.
    PacketBuilder& icmp_error(std::uint8_t type, std::uint8_t code, std::uint16_t mtu, std::span<const std::uint8_t> quote);
    PacketBuilder& arp_request(MacAddress sha, Ipv4Address spa, Ipv4Address tpa);
    PacketBuilder& arp_reply(MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa);
    PacketBuilder& payload(std::span<const std::uint8_t> bytes);
    PacketBuilder& payload(std::size_t size);  // a recognisable pattern: byte i = i & 0xff

    // Valid variations (lengths and checksums still correct).
    PacketBuilder& ipv4_options(std::size_t words);  // NOP options, IHL = 5 + words (<= 10)
    PacketBuilder& ipv4_fragment(std::uint16_t offset_units, bool more_fragments);
    PacketBuilder& ipv4_id(std::uint16_t id);
    PacketBuilder& ipv4_tos(std::uint8_t tos);
    PacketBuilder& ipv4_dont_fragment();  // sets DF
    PacketBuilder& arp_op(std::uint16_t op);  // after arp_request/arp_reply
    PacketBuilder& tcp_options(std::size_t words);  // NOP options, data offset = 5 + words (<= 10)
    PacketBuilder& tcp_seq(std::uint32_t seq);      // sequence number (default 1000)
    PacketBuilder& pad_to(std::size_t frame_len);   // Ethernet padding after the datagram

    // Corruption knobs, applied after lengths and checksums are computed.
    PacketBuilder& set_ihl(std::uint8_t ihl);
    PacketBuilder& set_total_length(std::uint16_t total_length);
    PacketBuilder& set_ipv6_payload_length(std::uint16_t payload_length);
    PacketBuilder& set_tcp_data_offset(std::uint8_t words);
    PacketBuilder& flip_ipv4_checksum();  // invert the IPv4 header checksum
    PacketBuilder& flip_l4_checksum();    // invert the TCP/UDP/ICMP checksum
    PacketBuilder& truncate(std::size_t frame_len);  // keep only the first frame_len bytes

    std::vector<std::uint8_t> build() const;

private:
    enum class L3 { None, Ipv4, Ipv6, Arp };
    enum class L4 { None, Tcp, Udp, IcmpEcho };

    void put_l3(std::vector<std::uint8_t>& out, std::size_t l4_len) const;
    void put_l4(std::vector<std::uint8_t>& out) const;
    std::size_t l4_checksum_offset() const;
    void fix_l4_checksum(std::vector<std::uint8_t>& out, std::size_t l3, std::size_t l4) const;
    void corrupt(std::vector<std::uint8_t>& out, std::size_t l3, std::size_t l4) const;

    MacAddress dst_ = MacAddress({0x02, 0, 0, 0, 0, 0x02});
    MacAddress src_ = MacAddress({0x02, 0, 0, 0, 0, 0x01});
    std::vector<std::pair<std::uint16_t, std::uint16_t>> vlans_;  // (tpid, tci)
    std::uint16_t ethertype_ = 0x88b5;                            // IEEE local experimental

    L3 l3_ = L3::None;
    Ipv4Address ip_src_, ip_dst_;
    Ipv6Bytes ip6_src_{}, ip6_dst_{};
    std::uint8_t ttl_ = 64;
    std::uint16_t ip_id_ = 1;
    std::uint8_t tos_ = 0;
    std::uint16_t frag_ = 0;  // flags + offset, host order
    std::size_t ip_option_words_ = 0;
    std::uint16_t arp_op_ = 0;
    MacAddress arp_sha_, arp_tha_;
    Ipv4Address arp_spa_, arp_tpa_;

    L4 l4_ = L4::None;
    std::uint16_t sport_ = 0, dport_ = 0;
    std::uint8_t tcp_flags_ = 0;
    std::uint32_t tcp_seq_ = 1000;
    std::uint8_t icmp_type_ = 8;  // RTE_IP_ICMP_ECHO_REQUEST
    std::uint8_t icmp_code_ = 0;
    std::size_t tcp_option_words_ = 0;
    std::vector<std::uint8_t> payload_;
    std::size_t pad_to_ = 0;

    std::optional<std::uint8_t> ihl_;
    std::optional<std::uint16_t> total_length_;
    std::optional<std::uint16_t> ipv6_payload_length_;
    std::optional<std::uint8_t> tcp_data_offset_;
    std::optional<std::size_t> truncate_;
    bool flip_ipv4_checksum_ = false;
    bool flip_l4_checksum_ = false;
};

struct MempoolDeleter {
    void operator()(rte_mempool* mp) const { rte_mempool_free(mp); }
};
using MempoolPtr = std::unique_ptr<rte_mempool, MempoolDeleter>;

struct MbufDeleter {
    void operator()(rte_mbuf* m) const { rte_pktmbuf_free(m); }
};
using MbufPtr = std::unique_ptr<rte_mbuf, MbufDeleter>;

// A pktmbuf pool with the PacketMeta private area (kMbufPrivSize), under a
// name unique to this process. Calls ensure_eal(). nullptr when DPDK refuses.
MempoolPtr make_test_pool(unsigned mbufs = 256, std::uint16_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE);

// Copies `bytes` into a new mbuf (chained when it does not fit one segment,
// or when max_segment > 0 caps each segment's length). nullptr when the pool
// runs dry.
rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<std::uint8_t>& bytes, std::size_t max_segment = 0);

// All segments' bytes, in order.
std::vector<std::uint8_t> from_mbuf(const rte_mbuf* m);

// Empty when equal; otherwise the lengths and each differing 16-byte row of
// both sides, differing bytes in brackets. Use: EXPECT_EQ(hex_diff(a, b), "").
std::string hex_diff(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> actual);

}  // namespace dpdock::test
