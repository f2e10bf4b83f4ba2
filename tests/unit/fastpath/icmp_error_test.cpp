// ICMP errors the dataplane sends as a router: time exceeded and
// fragmentation needed, from the gateway back into a network and from the
// host address back out of the uplink (the quote then as the sender sent it),
// the packets it never answers, and the per-worker rate limit.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint8_t kInternetControl = 0xc0;

class IcmpErrorTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        up_ = h_.add_port(kNoNetwork, dataplane::PortRole::Uplink);
        h_.set_uplink(up_, kHost, kRouter, kUplinkMac, 1000000, 100);
        // The router is known: routed packets and errors leave at once.
        h_.receive(up_, {PacketBuilder().eth(kUplinkMac, kRouterMac).arp_reply(kRouterMac, kRouter, kUplinkMac, kHost.address()).build()});
    }

    PacketBuilder from_c1(std::uint8_t ttl, std::size_t payload = 20) {
        PacketBuilder b;
        b.eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, ttl).ipv4_id(9).udp(40000, 53).payload(payload);
        return b;
    }
    // The answer of kFar to c1's flow as it arrives on the uplink (c1's port is kept by MASQUERADE).
    PacketBuilder reply(std::uint8_t ttl, std::size_t payload = 20) {
        PacketBuilder b;
        b.eth(kUplinkMac, kRouterMac).ipv4(kFar, kHost.address(), ttl).ipv4_id(5).udp(53, 40000).payload(payload);
        return b;
    }
    // An error this dataplane originates: TTL 64, precedence "internet control", ids from 0.
    PacketBuilder error(MacAddress dst_mac, MacAddress src_mac, Ipv4Address from, Ipv4Address to, std::uint16_t id) {
        PacketBuilder b;
        b.eth(dst_mac, src_mac).ipv4(from, to, 64).ipv4_id(id).ipv4_tos(kInternetControl);
        return b;
    }
    std::uint64_t sent_errors() { return h_.context().counters->icmp_errors_sent; }
    std::uint64_t suppressed() { return h_.context().counters->icmp_errors_suppressed; }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0;
};

TEST_F(IcmpErrorTest, ExpiringTtlFromAContainerIsAnsweredByItsGateway) {
    const Frame offending = from_c1(1).build();
    const Frame expected =
        error(kC1Mac, kGatewayMac, kGateway, kC1, 0).icmp_error(kIcmpTimeExceeded, 0, 0, quote_of(offending)).build();
    EXPECT_TRUE(h_.forwards(c1_, offending, c1_, expected));
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::TtlExceeded), 1u);
    EXPECT_EQ(sent_errors(), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(IcmpErrorTest, DfPacketLargerThanTheUplinkMtuGetsFragmentationNeeded) {
    h_.snapshot().uplink->mtu = 1400;
    const std::size_t fits = 1400 - sizeof(rte_ipv4_hdr) - sizeof(rte_udp_hdr);
    h_.receive(c1_, {from_c1(64, fits).ipv4_dont_fragment().build()});
    EXPECT_EQ(h_.sent(up_).size(), 1u);  // exactly the MTU passes

    const Frame offending = from_c1(64, fits + 1).ipv4_dont_fragment().build();
    const Frame expected =
        error(kC1Mac, kGatewayMac, kGateway, kC1, 0).icmp_error(kIcmpUnreachable, kIcmpFragNeeded, 1400, quote_of(offending)).build();
    EXPECT_TRUE(h_.forwards(c1_, offending, c1_, expected));
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 1u);

    // Without DF it is fragmented, as Linux does: no error (fragment_test.cpp checks the bytes).
    h_.receive(c1_, {from_c1(64, fits + 1).build()});
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.sent(up_).size(), 2u);
    EXPECT_EQ(h_.drops(DropReason::MtuExceeded), 0u);
    EXPECT_EQ(sent_errors(), 1u);
}

TEST_F(IcmpErrorTest, ReplyExpiringOnTheWayInIsAnsweredFromTheHostQuotingWhatWasSent) {
    h_.receive(c1_, {from_c1(64).build()});
    ASSERT_EQ(h_.sent(up_).size(), 1u);
    const Frame offending = reply(1).build();
    h_.receive(up_, {offending});
    EXPECT_TRUE(h_.sent(c1_).empty());
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    // The quote names the host address and port, not the container the reply was translated to.
    const Frame expected = error(kRouterMac, kUplinkMac, kHost.address(), kFar, 0)
                               .icmp_error(kIcmpTimeExceeded, 0, 0, quote_of(offending))
                               .build();
    EXPECT_EQ(hex_diff(expected, out[0]), "");
    EXPECT_EQ(h_.drops(DropReason::TtlExceeded), 1u);
}

TEST_F(IcmpErrorTest, ReplyLargerThanTheNetworkMtuGetsFragmentationNeededFromTheHost) {
    h_.snapshot().networks[net_].mtu = 1000;
    h_.receive(c1_, {from_c1(64).build()});
    ASSERT_EQ(h_.sent(up_).size(), 1u);
    const Frame offending = reply(64, 1000).ipv4_dont_fragment().build();
    h_.receive(up_, {offending});
    EXPECT_TRUE(h_.sent(c1_).empty());
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    const Frame expected = error(kRouterMac, kUplinkMac, kHost.address(), kFar, 0)
                               .icmp_error(kIcmpUnreachable, kIcmpFragNeeded, 1000, quote_of(offending))
                               .build();
    EXPECT_EQ(hex_diff(expected, out[0]), "");
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 1u);
}

TEST_F(IcmpErrorTest, NoErrorAboutErrorsLaterFragmentsGroupAddressesOrBadSources) {
    const Frame quoted = reply(64).build();
    const std::vector<Frame> silent = {
        // an ICMP error (port unreachable) the container sends out
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 1).icmp_error(kIcmpUnreachable, 3, 0, quote_of(quoted)).build(),
        // an unknown ICMP type counts as an error, as in Linux
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 1).icmp_echo(1, 1).icmp_type(42).build(),
        // a fragment other than the first
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 1).ipv4_fragment(10, false).payload(16).build(),
        // multicast and limited broadcast destinations
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, *Ipv4Address::parse("239.1.2.3"), 1).udp(1, 2).build(),
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, *Ipv4Address::parse("255.255.255.255"), 1).udp(1, 2).build(),
        // sources that are no single host
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(Ipv4Address(0), kFar, 1).udp(1, 2).build(),
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(*Ipv4Address::parse("127.0.0.1"), kFar, 1).udp(1, 2).build(),
    };
    h_.receive(c1_, silent);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::TtlExceeded), silent.size());
    EXPECT_EQ(sent_errors(), 0u);
    EXPECT_EQ(suppressed(), 0u);
    // An echo request is no error: it is answered.
    h_.receive(c1_, {PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 1).icmp_echo(1, 1).build()});
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(IcmpErrorTest, RateLimitAllowsABurstThenOnePerTokenButNeverHoldsBackFragmentationNeeded) {
    // 10 a second at 1000 ticks a second: one token per 100 ticks, 3 saved up.
    h_.context().icmp.limit.configure(1000, 10, 3);
    const std::vector<Frame> five(5, from_c1(1).build());
    h_.receive(c1_, five, 1000);
    EXPECT_EQ(h_.sent(c1_).size(), 3u);
    EXPECT_EQ(suppressed(), 2u);
    h_.receive(c1_, five, 1099);
    EXPECT_TRUE(h_.sent(c1_).empty());
    h_.receive(c1_, five, 1100);
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    EXPECT_EQ(sent_errors(), 4u);
    EXPECT_EQ(suppressed(), 11u);

    // Path MTU discovery must not stall behind the limit (Linux exempts it too).
    h_.snapshot().uplink->mtu = 576;
    h_.receive(c1_, std::vector<Frame>(5, from_c1(64, 1000).ipv4_dont_fragment().build()), 1100);
    EXPECT_EQ(h_.sent(c1_).size(), 5u);
    EXPECT_EQ(h_.drops(DropReason::TtlExceeded), 15u);
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 5u);
}

}  // namespace
}  // namespace dpdock::test
