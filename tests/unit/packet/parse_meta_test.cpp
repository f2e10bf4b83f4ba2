// parse_packet() beyond the header tables: checksum state from ol_flags, the
// flow hash, jumbo frames in one segment and in a chain.
#include <netinet/in.h>

#include <optional>
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
const MacAddress kMacC({0x02, 0x42, 0xac, 0x11, 0x00, 0x04});
const Ipv4Address kIpA(0xac110002);
const Ipv4Address kIpB(0xac110003);
const Ipv4Address kIpC(0xac110004);

class ParseMeta : public testing::Test {
protected:
    static void SetUpTestSuite() {
        pool_ = test::make_test_pool(64);
        // 9000-byte frames in one segment need a 9 KiB data room plus headroom.
        jumbo_pool_ = test::make_test_pool(8, 9216 + RTE_PKTMBUF_HEADROOM);
    }
    static void TearDownTestSuite() {
        pool_.reset();
        jumbo_pool_.reset();
    }

    struct Result {
        std::optional<DropReason> drop;
        PacketMeta meta;
        std::uint16_t segments;
    };

    static Result parse(const std::vector<std::uint8_t>& frame, std::uint64_t ol_flags = 0,
                        rte_mempool* pool = nullptr, std::size_t max_segment = 0) {
        MbufPtr m(test::to_mbuf(pool != nullptr ? pool : pool_.get(), frame, max_segment));
        EXPECT_TRUE(m);
        if (!m) return {DropReason::Count, {}, 0};
        m->ol_flags = ol_flags;
        const auto drop = parse_packet(m.get());
        return {drop, packet_meta(m.get()), m->nb_segs};
    }

    static std::uint32_t hash_of(const std::vector<std::uint8_t>& frame) {
        const Result r = parse(frame);
        EXPECT_EQ(r.drop, std::nullopt);
        return r.meta.flow_hash;
    }

    static inline test::MempoolPtr pool_;
    static inline test::MempoolPtr jumbo_pool_;
};

TEST_F(ParseMeta, ChecksumStateFollowsRxFlags) {
    const auto frame = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).tcp(1, 2).build();
    ASSERT_TRUE(pool_);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_RX_L4_CKSUM_GOOD).meta.l4_checksum, ChecksumState::Full);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD).meta.l4_checksum,
              ChecksumState::Full);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN).meta.l4_checksum, ChecksumState::Unknown);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_RX_L4_CKSUM_BAD).meta.l4_checksum, ChecksumState::Unknown);
    // NONE shares the GOOD bit; it must not read as a verified full checksum.
    EXPECT_EQ(parse(frame, RTE_MBUF_F_RX_L4_CKSUM_NONE).meta.l4_checksum, ChecksumState::Unknown);
    // Offload metadata from a port with the virtio-net header: the field holds the pseudo-header sum.
    EXPECT_EQ(parse(frame, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM).meta.l4_checksum,
              ChecksumState::PseudoHeaderOnly);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM).meta.l4_checksum,
              ChecksumState::PseudoHeaderOnly);
    EXPECT_EQ(parse(frame, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM).meta.l4_checksum,
              ChecksumState::PseudoHeaderOnly);
}

TEST_F(ParseMeta, FlowHashFollowsTheFiveTuple) {
    ASSERT_TRUE(pool_);
    auto tcp = [](Ipv4Address src, Ipv4Address dst, std::uint16_t sport, std::uint16_t dport) {
        return PacketBuilder().eth(kMacB, kMacA).ipv4(src, dst).tcp(sport, dport).build();
    };
    const std::uint32_t base = hash_of(tcp(kIpA, kIpB, 40000, 80));
    // Same tuple, different MACs, TTL, payload and VLAN tag: same hash.
    EXPECT_EQ(hash_of(PacketBuilder().eth(kMacC, kMacC).vlan(9).ipv4(kIpA, kIpB, 3).tcp(40000, 80, 0x10).payload(99).build()),
              base);
    EXPECT_NE(hash_of(tcp(kIpC, kIpB, 40000, 80)), base);
    EXPECT_NE(hash_of(tcp(kIpA, kIpC, 40000, 80)), base);
    EXPECT_NE(hash_of(tcp(kIpA, kIpB, 40001, 80)), base);
    EXPECT_NE(hash_of(tcp(kIpA, kIpB, 40000, 81)), base);
    EXPECT_NE(hash_of(PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).udp(40000, 80).build()), base);
}

TEST_F(ParseMeta, FragmentsOfOneDatagramHashAlike) {
    ASSERT_TRUE(pool_);
    const auto first = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).udp(5000, 6000).payload(64).ipv4_fragment(0, true);
    const auto last = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).udp(5000, 6000).payload(16).ipv4_fragment(9, false);
    EXPECT_EQ(hash_of(PacketBuilder(first).build()), hash_of(PacketBuilder(last).build()));
}

TEST_F(ParseMeta, NonIpFramesHashByMacPair) {
    ASSERT_TRUE(pool_);
    const std::uint32_t ab = hash_of(PacketBuilder().eth(kMacB, kMacA).arp_request(kMacA, kIpA, kIpB).build());
    EXPECT_EQ(hash_of(PacketBuilder().eth(kMacB, kMacA).ethertype(0x88b5).payload(50).build()), ab);
    EXPECT_NE(hash_of(PacketBuilder().eth(kMacC, kMacA).arp_request(kMacA, kIpA, kIpB).build()), ab);
    EXPECT_NE(hash_of(PacketBuilder().eth(kMacB, kMacC).arp_request(kMacA, kIpA, kIpB).build()), ab);
}

TEST_F(ParseMeta, Ipv6HashFollowsAddressesAndPorts) {
    ASSERT_TRUE(pool_);
    const test::Ipv6Bytes a{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const test::Ipv6Bytes b{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
    const std::uint32_t base = hash_of(PacketBuilder().eth(kMacB, kMacA).ipv6(a, b).udp(1, 2).build());
    EXPECT_EQ(hash_of(PacketBuilder().eth(kMacC, kMacC).ipv6(a, b).udp(1, 2).payload(7).build()), base);
    EXPECT_NE(hash_of(PacketBuilder().eth(kMacB, kMacA).ipv6(b, a).udp(1, 2).build()), base);
    EXPECT_NE(hash_of(PacketBuilder().eth(kMacB, kMacA).ipv6(a, b).udp(1, 3).build()), base);
}

TEST_F(ParseMeta, JumboFrameInOneSegment) {
    ASSERT_TRUE(jumbo_pool_);
    const auto frame = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).udp(1, 2).payload(9000 - 14 - 28).build();
    ASSERT_EQ(frame.size(), 9000u);
    const Result r = parse(frame, 0, jumbo_pool_.get());
    EXPECT_EQ(r.segments, 1);
    EXPECT_EQ(r.drop, std::nullopt);
    EXPECT_EQ(r.meta.l3_payload, 9000 - 14 - 20);
    EXPECT_EQ(r.meta.flags, kFlagL4Valid);
}

TEST_F(ParseMeta, JumboFrameChainedWithHeadersInFirstSegment) {
    ASSERT_TRUE(pool_);
    const auto frame = PacketBuilder().eth(kMacB, kMacA).vlan(5).ipv4(kIpA, kIpB).tcp(1, 2).payload(9000 - 18 - 40).build();
    const Result r = parse(frame);
    EXPECT_GT(r.segments, 1);
    EXPECT_EQ(r.drop, std::nullopt);
    EXPECT_EQ(r.meta.l3_payload, 9000 - 18 - 20);
    EXPECT_EQ(r.meta.l4_offset, 38);
    EXPECT_EQ(r.meta.flags, kFlagL4Valid | kFlagVlan);
}

TEST_F(ParseMeta, ChainedFrameStillChecksTotalLength) {
    ASSERT_TRUE(pool_);
    const auto frame = PacketBuilder().eth(kMacB, kMacA).ipv4(kIpA, kIpB).udp(1, 2).payload(3000).truncate(2999).build();
    const Result r = parse(frame);
    EXPECT_GT(r.segments, 1);
    EXPECT_EQ(r.drop, DropReason::BadHeader);
}

}  // namespace
}  // namespace dpdock
