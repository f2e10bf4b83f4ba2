// parse_packet() over frames from PacketBuilder: one table of well-formed
// frames with the metadata they must produce, one table of malformed frames
// that must come back as BadHeader. Both tables also go through the two
// depths: parse_l3() fills the L3 fields alone and refuses what is wrong up
// to L3; parse_l4() completes the rest and refuses a cut-short L4 header.
#include <netinet/in.h>

#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/packet/parse.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock {
namespace {

using test::MbufPtr;
using test::PacketBuilder;

const MacAddress kMacA({0x02, 0x42, 0xac, 0x11, 0x00, 0x02});
const MacAddress kMacB({0x02, 0x42, 0xac, 0x11, 0x00, 0x03});
const MacAddress kBroadcast({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
const MacAddress kMulticast({0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb});
const Ipv4Address kIpA(0xac110002);  // 172.17.0.2
const Ipv4Address kIpB(0xac110003);
const test::Ipv6Bytes kIp6A{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const test::Ipv6Bytes kIp6B{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};

PacketBuilder ab() { return PacketBuilder().eth(kMacB, kMacA); }
PacketBuilder ab_ip() { return ab().ipv4(kIpA, kIpB); }

std::vector<std::uint8_t> patched(std::vector<std::uint8_t> frame, std::size_t offset, std::uint8_t value) {
    frame.at(offset) = value;
    return frame;
}

rte_mempool* shared_pool() {
    static test::MempoolPtr pool = test::make_test_pool(64);
    return pool.get();
}

// Parses `frame` in an mbuf whose private area starts out as garbage, so
// every field parse leaves stale would show up.
struct Parsed {
    MbufPtr mbuf;
    std::optional<DropReason> drop;
    PacketMeta meta;
};

enum class Depth { Full, L3 };

Parsed parse_frame(const std::vector<std::uint8_t>& frame, std::size_t max_segment = 0, rte_mempool* pool = nullptr,
                   std::uint64_t ol_flags = 0, Depth depth = Depth::Full) {
    Parsed p;
    p.mbuf.reset(test::to_mbuf(pool != nullptr ? pool : shared_pool(), frame, max_segment));
    if (!p.mbuf) return p;
    p.mbuf->port = 3;
    p.mbuf->ol_flags = ol_flags;
    std::memset(rte_mbuf_to_priv(p.mbuf.get()), 0xab, sizeof(PacketMeta));
    p.drop = depth == Depth::Full ? parse_packet(p.mbuf.get()) : parse_l3(p.mbuf.get());
    p.meta = packet_meta(p.mbuf.get());
    return p;
}

struct GoodCase {
    std::string name;
    std::vector<std::uint8_t> frame;
    L3Type l3_type;
    std::uint16_t ethertype;
    std::uint16_t l3_offset;
    std::uint16_t l4_offset;
    std::uint8_t l4_proto;
    std::uint16_t l3_payload;
    std::uint8_t flags;
    std::uint16_t vlan_tci = 0;
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name << " (" << c.frame.size() << " bytes)"; }

constexpr std::uint8_t kL4 = kFlagL4Valid;
constexpr std::uint8_t kMcast = kFlagMulticast;
constexpr std::uint8_t kBcast = kFlagBroadcast | kFlagMulticast;

std::vector<GoodCase> good_cases() {
    return {
        {"ipv4_tcp", ab_ip().tcp(40000, 80).payload(10).build(), L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_TCP, 30, kL4},
        {"ipv4_tcp_with_options", ab_ip().ipv4_options(2).tcp(40000, 80).tcp_options(3).payload(5).build(),
         L3Type::Ipv4, 0x0800, 14, 42, IPPROTO_TCP, 32 + 5, kL4},
        {"ipv4_udp", ab_ip().udp(5353, 53).payload(100).build(), L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_UDP, 108, kL4},
        {"ipv4_udp_padded_to_60", ab_ip().udp(1, 2).pad_to(60).build(), L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_UDP, 8,
         kL4},
        {"ipv4_icmp_echo", ab_ip().icmp_echo(7, 1).payload(56).build(), L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_ICMP,
         64, kL4},
        {"ipv4_unknown_protocol", ab_ip().payload(12).build(), L3Type::Ipv4, 0x0800, 14, 34, 253, 12, 0},
        {"ipv4_multicast_udp", PacketBuilder().eth(kMulticast, kMacA).ipv4(kIpA, Ipv4Address(0xe00000fb)).udp(5353, 5353).build(),
         L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_UDP, 8, kL4 | kMcast},
        {"ipv4_broadcast_udp", PacketBuilder().eth(kBroadcast, kMacA).ipv4(Ipv4Address(0), Ipv4Address(0xffffffff)).udp(68, 67).payload(300).build(),
         L3Type::Ipv4, 0x0800, 14, 34, IPPROTO_UDP, 308, kL4 | kBcast},
        {"ipv4_first_fragment", ab_ip().udp(1000, 2000).payload(32).ipv4_fragment(0, true).build(), L3Type::Ipv4,
         0x0800, 14, 34, IPPROTO_UDP, 40, kL4 | kFlagFragment},
        // Bytes after the header of a non-first fragment are data, never an L4 header.
        {"ipv4_middle_fragment", ab_ip().udp(1000, 2000).payload(32).ipv4_fragment(5, true).build(), L3Type::Ipv4,
         0x0800, 14, 0, IPPROTO_UDP, 40, kFlagFragment},
        {"ipv4_last_fragment_shorter_than_tcp_header", ab_ip().tcp(1, 2).ipv4_fragment(9, false).set_total_length(24).truncate(38).build(),
         L3Type::Ipv4, 0x0800, 14, 0, IPPROTO_TCP, 4, kFlagFragment},
        {"arp_request_broadcast", PacketBuilder().eth(kBroadcast, kMacA).arp_request(kMacA, kIpA, kIpB).build(),
         L3Type::Arp, 0x0806, 14, 0, 0, 0, kBcast},
        {"arp_reply_unicast", ab().arp_reply(kMacA, kIpA, kMacB, kIpB).pad_to(60).build(), L3Type::Arp, 0x0806, 14, 0,
         0, 0, 0},
        {"vlan_ipv4_udp", ab().vlan(0x2064).ipv4(kIpA, kIpB).udp(1, 2).build(), L3Type::Ipv4, 0x0800, 18, 38,
         IPPROTO_UDP, 8, kL4 | kFlagVlan, 0x2064},
        {"vlan_arp", PacketBuilder().eth(kBroadcast, kMacA).vlan(7).arp_request(kMacA, kIpA, kIpB).build(),
         L3Type::Arp, 0x0806, 18, 0, 0, 0, kBcast | kFlagVlan, 7},
        {"qinq_ipv4_tcp", ab().vlan(100, 0x88a8).vlan(200).ipv4(kIpA, kIpB).tcp(1, 2).build(), L3Type::Ipv4, 0x0800,
         22, 42, IPPROTO_TCP, 20, kL4 | kFlagVlan, 100},
        {"double_8021q_ipv6_udp", ab().vlan(10).vlan(20).ipv6(kIp6A, kIp6B).udp(1, 2).build(), L3Type::Ipv6, 0x86dd,
         22, 62, IPPROTO_UDP, 8, kL4 | kFlagVlan, 10},
        // A third tag is not looked into: the frame is opaque L2 (Other).
        {"three_tags_stay_opaque", ab().vlan(1, 0x88a8).vlan(2).vlan(3).ipv4(kIpA, kIpB).build(), L3Type::Other,
         0x8100, 22, 0, 0, 0, kFlagVlan, 1},
        {"ipv6_udp", ab().ipv6(kIp6A, kIp6B).udp(546, 547).payload(32).build(), L3Type::Ipv6, 0x86dd, 14, 54,
         IPPROTO_UDP, 40, kL4},
        {"ipv6_tcp", ab().ipv6(kIp6A, kIp6B).tcp(40000, 443).build(), L3Type::Ipv6, 0x86dd, 14, 54, IPPROTO_TCP, 20,
         kL4},
        {"ipv6_icmp_echo_multicast", PacketBuilder().eth(MacAddress({0x33, 0x33, 0, 0, 0, 1}), kMacA).ipv6(kIp6A, kIp6B).icmp_echo(1, 1).build(),
         L3Type::Ipv6, 0x86dd, 14, 54, IPPROTO_ICMPV6, 8, kL4 | kMcast},
        {"ipv6_padded", ab().ipv6(kIp6A, kIp6B).payload(2).pad_to(64).build(), L3Type::Ipv6, 0x86dd, 14, 54, 253, 2,
         0},
        {"other_ethertype", ab().ethertype(0x88b5).payload(46).build(), L3Type::Other, 0x88b5, 14, 0, 0, 0, 0},
        {"header_only_ethernet", ab().ethertype(0x88b5).build(), L3Type::Other, 0x88b5, 14, 0, 0, 0, 0},
    };
}

class ParseGood : public testing::TestWithParam<GoodCase> {};

TEST_P(ParseGood, FillsMeta) {
    const GoodCase& c = GetParam();
    Parsed p = parse_frame(c.frame);
    ASSERT_TRUE(p.mbuf);
    EXPECT_EQ(p.drop, std::nullopt);
    EXPECT_EQ(p.meta.l3_type, c.l3_type);
    EXPECT_EQ(p.meta.ethertype.host(), c.ethertype);
    EXPECT_EQ(p.meta.l3_offset, c.l3_offset);
    EXPECT_EQ(p.meta.l4_offset, c.l4_offset);
    EXPECT_EQ(p.meta.l4_proto, c.l4_proto);
    EXPECT_EQ(p.meta.l3_payload, c.l3_payload);
    EXPECT_EQ(p.meta.flags, c.flags);
    if (c.flags & kFlagVlan) {
        EXPECT_EQ(p.meta.vlan_tci, c.vlan_tci);
    }
    EXPECT_EQ(p.meta.ingress_port, 3);
    EXPECT_EQ(p.meta.network, kNoNetwork);
    EXPECT_EQ(p.meta.l4_checksum, ChecksumState::Unknown);
    EXPECT_EQ(p.meta.depth, ParseDepth::L4);
}

// parse_l3() alone: the same L3 fields, the L4 ones still zero; parse_l4()
// then completes the metadata exactly as the whole parse does.
TEST_P(ParseGood, InTwoDepths) {
    const GoodCase& c = GetParam();
    Parsed p = parse_frame(c.frame, 0, nullptr, 0, Depth::L3);
    ASSERT_TRUE(p.mbuf);
    EXPECT_EQ(p.drop, std::nullopt);
    EXPECT_EQ(p.meta.depth, ParseDepth::L3);
    EXPECT_EQ(p.meta.l3_type, c.l3_type);
    EXPECT_EQ(p.meta.ethertype.host(), c.ethertype);
    EXPECT_EQ(p.meta.l3_offset, c.l3_offset);
    EXPECT_EQ(p.meta.l4_proto, c.l4_proto);
    EXPECT_EQ(p.meta.l3_payload, c.l3_payload);
    EXPECT_EQ(p.meta.flags, c.flags & ~kFlagL4Valid);
    EXPECT_EQ(p.meta.l4_offset, 0);
    EXPECT_EQ(p.meta.flow_hash, 0u);
    EXPECT_EQ(p.meta.network, kNoNetwork);

    EXPECT_EQ(parse_l4(p.mbuf.get()), std::nullopt);
    const PacketMeta completed = packet_meta(p.mbuf.get());
    const Parsed whole = parse_frame(c.frame);
    EXPECT_EQ(std::memcmp(&completed, &whole.meta, sizeof completed), 0);
    // A second parse_l4() changes nothing.
    EXPECT_EQ(parse_l4(p.mbuf.get()), std::nullopt);
    EXPECT_EQ(std::memcmp(&completed, &packet_meta(p.mbuf.get()), sizeof completed), 0);
}

INSTANTIATE_TEST_SUITE_P(Frames, ParseGood, testing::ValuesIn(good_cases()),
                         [](const auto& info) { return info.param.name; });

struct BadCase {
    std::string name;
    std::vector<std::uint8_t> frame;
    std::size_t max_segment = 0;
    bool l4 = false;  // only the L4 header is wrong: parse_l3() accepts it, parse_l4() refuses it
};

std::vector<BadCase> bad_cases() {
    const auto udp = ab_ip().udp(1, 2).payload(20).build();
    const auto ip6 = ab().ipv6(kIp6A, kIp6B).udp(1, 2).build();
    const auto arp = ab().arp_request(kMacA, kIpA, kIpB).build();
    return {
        {"empty", {}},
        {"runt_13_bytes", ab_ip().udp(1, 2).truncate(13).build()},
        {"vlan_tag_cut", ab().vlan(5).ipv4(kIpA, kIpB).udp(1, 2).truncate(16).build()},
        {"qinq_inner_tag_cut", ab().vlan(5, 0x88a8).vlan(6).ipv4(kIpA, kIpB).truncate(20).build()},
        {"ipv4_header_cut", ab_ip().udp(1, 2).truncate(14 + 19).build()},
        {"ipv4_version_not_4", patched(udp, 14, 0x65)},
        {"ipv4_ihl_0", ab_ip().udp(1, 2).set_ihl(0).build()},
        {"ipv4_ihl_4", ab_ip().udp(1, 2).set_ihl(4).build()},
        {"ipv4_options_past_frame", ab_ip().udp(1, 2).set_ihl(15).build()},
        {"ipv4_total_length_below_ihl", ab_ip().udp(1, 2).set_total_length(19).build()},
        {"ipv4_total_length_past_frame", ab_ip().udp(1, 2).payload(20).set_total_length(20 + 8 + 21).build()},
        {"ipv4_total_length_past_truncated_frame", ab_ip().tcp(1, 2).payload(40).truncate(60).build()},
        {"tcp_header_cut_by_total_length", ab_ip().tcp(1, 2).set_total_length(30).truncate(44).build(), 0, true},
        {"tcp_header_cut_by_frame", ab_ip().tcp(1, 2).set_total_length(20 + 19).truncate(14 + 39).build(), 0, true},
        {"tcp_data_offset_4", ab_ip().tcp(1, 2).payload(8).set_tcp_data_offset(4).build(), 0, true},
        {"tcp_options_past_datagram", ab_ip().tcp(1, 2).payload(8).set_tcp_data_offset(8).build(), 0, true},
        {"tcp_cut_in_first_fragment", ab_ip().tcp(1, 2).ipv4_fragment(0, true).set_total_length(28).truncate(42).build(), 0, true},
        {"udp_header_cut", ab_ip().udp(1, 2).set_total_length(24).truncate(38).build(), 0, true},
        {"icmp_header_cut", ab_ip().icmp_echo(1, 1).set_total_length(24).truncate(38).build(), 0, true},
        {"arp_body_cut", ab().arp_request(kMacA, kIpA, kIpB).truncate(14 + 27).build()},
        {"arp_not_ethernet_ipv4", patched(arp, 14 + 4, 16)},
        {"ipv6_header_cut", ab().ipv6(kIp6A, kIp6B).udp(1, 2).truncate(14 + 39).build()},
        {"ipv6_version_not_6", patched(ip6, 14, 0x45)},
        {"ipv6_payload_past_frame", ab().ipv6(kIp6A, kIp6B).udp(1, 2).set_ipv6_payload_length(9).build()},
        {"ipv6_udp_header_cut", ab().ipv6(kIp6A, kIp6B).udp(1, 2).set_ipv6_payload_length(4).truncate(58).build(), 0, true},
        // Headers must sit in the first segment: a chain split inside the IPv4 header.
        {"ipv4_header_in_second_segment", udp, 24},
        {"tcp_header_in_second_segment", ab_ip().tcp(1, 2).payload(100).build(), 40, true},
    };
}

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name << " (" << c.frame.size() << " bytes)"; }

class ParseBad : public testing::TestWithParam<BadCase> {};

TEST_P(ParseBad, IsBadHeader) {
    const BadCase& c = GetParam();
    Parsed p = parse_frame(c.frame, c.max_segment);
    ASSERT_TRUE(p.mbuf);
    EXPECT_EQ(p.drop, DropReason::BadHeader);
}

TEST_P(ParseBad, IsRefusedAtItsDepth) {
    const BadCase& c = GetParam();
    Parsed p = parse_frame(c.frame, c.max_segment, nullptr, 0, Depth::L3);
    ASSERT_TRUE(p.mbuf);
    if (!c.l4) {
        EXPECT_EQ(p.drop, DropReason::BadHeader);
        return;
    }
    EXPECT_EQ(p.drop, std::nullopt);
    EXPECT_EQ(parse_l4(p.mbuf.get()), DropReason::BadHeader);
    EXPECT_EQ(packet_meta(p.mbuf.get()).depth, ParseDepth::L3);
}

INSTANTIATE_TEST_SUITE_P(Frames, ParseBad, testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dpdock
