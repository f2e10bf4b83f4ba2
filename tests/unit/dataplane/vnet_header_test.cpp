// The virtio-net header <-> mbuf offload fields convention
// (dataplane/kernel_port/vnet_header.hpp), on frames as the kernel hands them.
#include "dataplane/kernel_port/vnet_header.hpp"

#include <gtest/gtest.h>

#include "tests/support/eal_environment.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock::dataplane {
namespace {

const Ipv4Address kA = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kB = *Ipv4Address::parse("172.17.0.3");
const MacAddress kMacA({0x02, 0x42, 0xac, 0x11, 0, 2});
const MacAddress kMacB({0x02, 0x42, 0xac, 0x11, 0, 3});

class VnetHeaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        test::ensure_eal();
        pool_ = test::make_test_pool(64);
    }
    rte_mbuf* mbuf(const std::vector<std::uint8_t>& bytes) {
        rte_mbuf* m = test::to_mbuf(pool_.get(), bytes);
        held_.emplace_back(m);
        return m;
    }
    test::MempoolPtr pool_;
    std::vector<test::MbufPtr> held_;
};

VnetHeader needs_csum(std::uint16_t start, std::uint16_t offset) {
    return VnetHeader{.flags = kVnetNeedsCsum, .gso_type = kVnetGsoNone, .hdr_len = 0, .gso_size = 0,
                      .csum_start = start, .csum_offset = offset};
}

TEST_F(VnetHeaderTest, PartialTcpChecksumBecomesATxChecksumRequestAndBack) {
    rte_mbuf* m = mbuf(test::PacketBuilder().eth(kMacB, kMacA).ipv4(kA, kB).tcp(1000, 80, 0x10).payload(100).build());
    const VnetHeader in = needs_csum(34, 16);
    ASSERT_TRUE(vnet_header_to_mbuf(in, m));
    EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
    EXPECT_EQ(m->l2_len, 14u);
    EXPECT_EQ(m->l3_len, 20u);
    const VnetHeader out = vnet_header_from_mbuf(m);
    EXPECT_EQ(out.flags, kVnetNeedsCsum);
    EXPECT_EQ(out.gso_type, kVnetGsoNone);
    EXPECT_EQ(out.csum_start, 34u);
    EXPECT_EQ(out.csum_offset, 16u);
}

TEST_F(VnetHeaderTest, TcpSuperFrameKeepsItsSegmentSizeAndHeaderLengths) {
    rte_mbuf* m = mbuf(
        test::PacketBuilder().eth(kMacB, kMacA).ipv4(kA, kB).tcp(1000, 80, 0x10).tcp_options(3).payload(1800).build());
    VnetHeader in = needs_csum(34, 16);
    in.gso_type = kVnetGsoTcpv4;
    in.gso_size = 1448;
    in.hdr_len = 66;
    ASSERT_TRUE(vnet_header_to_mbuf(in, m));
    EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
    EXPECT_EQ(m->tso_segsz, 1448u);
    EXPECT_EQ(m->l4_len, 32u);  // 20 + 3 option words
    const VnetHeader out = vnet_header_from_mbuf(m);
    EXPECT_EQ(out.gso_type, kVnetGsoTcpv4);
    EXPECT_EQ(out.gso_size, 1448u);
    EXPECT_EQ(out.hdr_len, 14u + 20u + 32u);
    EXPECT_EQ(out.csum_start, 34u);
    EXPECT_EQ(out.csum_offset, 16u);
}

TEST_F(VnetHeaderTest, UdpBehindAVlanTag) {
    rte_mbuf* m = mbuf(test::PacketBuilder().eth(kMacB, kMacA).vlan(7).ipv4(kA, kB).udp(53, 53).payload(20).build());
    ASSERT_TRUE(vnet_header_to_mbuf(needs_csum(38, 6), m));
    EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
    EXPECT_EQ(m->l2_len, 18u);
    EXPECT_EQ(m->l3_len, 20u);
    EXPECT_EQ(vnet_header_from_mbuf(m).csum_offset, 6u);
}

TEST_F(VnetHeaderTest, DataValidMeansAVerifiedChecksum) {
    rte_mbuf* m = mbuf(test::PacketBuilder().eth(kMacB, kMacA).ipv4(kA, kB).udp(53, 53).payload(20).build());
    VnetHeader in{};
    in.flags = kVnetDataValid;
    ASSERT_TRUE(vnet_header_to_mbuf(in, m));
    EXPECT_EQ(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
    EXPECT_EQ(vnet_header_from_mbuf(m).flags, 0u);  // nothing for the receiver to do
}

TEST_F(VnetHeaderTest, HeadersThatDoNotDescribeTheFrameAreRefused) {
    const auto frame = test::PacketBuilder().eth(kMacB, kMacA).ipv4(kA, kB).tcp(1000, 80, 0x10).payload(10).build();
    EXPECT_FALSE(vnet_header_to_mbuf(needs_csum(500, 16), mbuf(frame)));  // past the frame
    EXPECT_FALSE(vnet_header_to_mbuf(needs_csum(10, 16), mbuf(frame)));   // inside the Ethernet header
    EXPECT_FALSE(vnet_header_to_mbuf(needs_csum(34, 8), mbuf(frame)));    // neither TCP nor UDP (SCTP)
    VnetHeader ufo = needs_csum(34, 6);
    ufo.gso_type = kVnetGsoUdp;
    ufo.gso_size = 1472;
    EXPECT_FALSE(vnet_header_to_mbuf(ufo, mbuf(frame)));
    VnetHeader no_size = needs_csum(34, 16);
    no_size.gso_type = kVnetGsoTcpv4;
    EXPECT_FALSE(vnet_header_to_mbuf(no_size, mbuf(frame)));
    VnetHeader gso_without_csum{};
    gso_without_csum.gso_type = kVnetGsoTcpv4;
    gso_without_csum.gso_size = 1448;
    EXPECT_FALSE(vnet_header_to_mbuf(gso_without_csum, mbuf(frame)));
    const auto arp = test::PacketBuilder().eth(kMacB, kMacA).arp_request(kMacA, kA, kB).build();
    EXPECT_FALSE(vnet_header_to_mbuf(needs_csum(34, 16), mbuf(arp)));
}

}  // namespace
}  // namespace dpdock::dataplane
