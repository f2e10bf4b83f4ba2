// Routing to the uplink: next hops resolved by ARP (with a bounded queue of
// waiting packets), TTL decremented with the checksum patched, the host
// address answering ARP and ping on the uplink. Time is passed in, not read.
#include <gtest/gtest.h>

#include <rte_arp.h>
#include <rte_icmp.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kOnLink = *Ipv4Address::parse("192.168.50.7");
constexpr std::uint64_t kTimeout = 1000;
constexpr std::uint64_t kRetry = 100;

class RouteTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        up_ = h_.add_port(kNoNetwork, dataplane::PortRole::Uplink);
        h_.set_uplink(up_, kHost, kRouter, kUplinkMac, kTimeout, kRetry);
    }

    // c1 -> dst through its gateway: UDP with a payload.
    PacketBuilder from_c1(Ipv4Address dst, std::uint8_t ttl = 64) {
        PacketBuilder b;
        b.eth(kGatewayMac, kC1Mac).ipv4(kC1, dst, ttl).ipv4_id(9).udp(40000, 53).payload(20);
        return b;
    }
    // The same packet as it must leave the uplink towards `next_hop_mac`:
    // masqueraded to the host address, its source port kept (it is free).
    Frame routed(Ipv4Address dst, MacAddress next_hop_mac, std::uint8_t ttl = 63) {
        return PacketBuilder().eth(next_hop_mac, kUplinkMac).ipv4(kHost.address(), dst, ttl).ipv4_id(9).udp(40000, 53).payload(20).build();
    }
    Frame arp_request_for(Ipv4Address ip) {
        return PacketBuilder().eth(kBroadcast, kUplinkMac).arp_request(kUplinkMac, kHost.address(), ip).build();
    }
    Frame arp_reply_from(Ipv4Address ip, MacAddress mac) {
        return PacketBuilder().eth(kUplinkMac, mac).arp_reply(mac, ip, kUplinkMac, kHost.address()).build();
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0;
};

TEST_F(RouteTest, FirstPacketWaitsForArpThenLeavesWithTtlDecremented) {
    h_.receive(c1_, {from_c1(kFar).build(), from_c1(kFar).build()}, 10);
    // One request for the uplink's gateway however many packets wait.
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(arp_request_for(kRouter), sent[0]), "");
    EXPECT_EQ(h_.context().pending.count, 2u);

    h_.receive(up_, {arp_reply_from(kRouter, kRouterMac)}, 20);
    h_.idle(21);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 2u);
    // TTL 63 and a header checksum equal to a full recomputation (the builder's).
    for (const Frame& f : sent) EXPECT_EQ(hex_diff(routed(kFar, kRouterMac), f), "");
    EXPECT_EQ(h_.context().pending.count, 0u);
    EXPECT_EQ(h_.total_drops(), 0u);

    // Resolved: the next packet leaves at once, without a request.
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 30));
}

TEST_F(RouteTest, OnLinkDestinationIsItsOwnNextHop) {
    h_.receive(c1_, {from_c1(kOnLink).build()}, 10);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(arp_request_for(kOnLink), sent[0]), "");
    const MacAddress on_link_mac = MacAddress::from_u64(0x02cc00000007ULL);
    h_.receive(up_, {arp_reply_from(kOnLink, on_link_mac)}, 20);
    h_.idle(21);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(routed(kOnLink, on_link_mac), sent[0]), "");
}

TEST_F(RouteTest, UnansweredArpIsRepeatedThenThePacketIsDropped) {
    h_.receive(c1_, {from_c1(kFar).build()}, 0);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    h_.idle(kRetry - 1);  // too early to ask again
    EXPECT_TRUE(h_.sent(up_).empty());
    h_.idle(kRetry);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    h_.idle(2 * kRetry);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    EXPECT_EQ(h_.drops(DropReason::ArpUnresolved), 0u);
    h_.idle(3 * kRetry);
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::ArpUnresolved), 1u);
    EXPECT_EQ(h_.context().pending.count, 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(RouteTest, WaitingQueueIsBoundedAndOverflowIsCounted) {
    const unsigned extra = 5;
    for (unsigned i = 0; i < dataplane::PendingPackets::kCapacity + extra; ++i) {
        h_.receive(c1_, {from_c1(kFar).build()}, 1);
    }
    EXPECT_EQ(h_.context().pending.count, dataplane::PendingPackets::kCapacity);
    EXPECT_EQ(h_.drops(DropReason::ArpQueueFull), extra);
    EXPECT_EQ(h_.sent(up_).size(), 1u);  // still one request
}

// Past arp-timeout a neighbour is STALE, as in Linux: traffic keeps using its
// MAC (nothing waits in the ARP queue) while one re-probe per retry interval
// asks again; an answer with another MAC is picked up; a neighbour that never
// answers expires after kStaleProbes retry intervals and is asked for anew.
TEST_F(RouteTest, StaleNeighbourKeepsForwardingWhileItIsReprobed) {
    h_.receive(up_, {arp_reply_from(kRouter, kRouterMac)}, 100);
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 100 + kTimeout - 1));
    // STALE: the packet leaves at once, and the router is asked again.
    h_.receive(c1_, {from_c1(kFar).build(), from_c1(kFar).build()}, 100 + kTimeout);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(hex_diff(arp_request_for(kRouter), sent[0]), "");  // one probe for the burst
    EXPECT_EQ(hex_diff(routed(kFar, kRouterMac), sent[1]), "");
    EXPECT_EQ(hex_diff(routed(kFar, kRouterMac), sent[2]), "");
    EXPECT_EQ(h_.context().pending.count, 0u);
    // Within the retry interval no second probe; after it, one more.
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 100 + kTimeout + kRetry - 1));
    h_.receive(c1_, {from_c1(kFar).build()}, 100 + kTimeout + kRetry);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(hex_diff(arp_request_for(kRouter), sent[0]), "");
    // The router answers from a new MAC: traffic follows it, REACHABLE again.
    const MacAddress moved = MacAddress::from_u64(0x02cc00000042ULL);
    const std::uint64_t answered = 100 + kTimeout + kRetry + 5;
    h_.receive(up_, {arp_reply_from(kRouter, moved)}, answered);
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, moved), answered + 1));
    // Never answering again: usable until kStaleProbes retries past the timeout, then asked for anew.
    const std::uint64_t expiry = answered + kTimeout + l3::kStaleProbes * kRetry;
    h_.receive(c1_, {from_c1(kFar).build()}, expiry - 1);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 2u);  // probe + packet
    EXPECT_EQ(hex_diff(routed(kFar, moved), sent[1]), "");
    h_.receive(c1_, {from_c1(kFar).build()}, expiry);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(arp_request_for(kRouter), sent[0]), "");
    EXPECT_EQ(h_.context().pending.count, 1u);
    EXPECT_EQ(h_.total_drops(), 0u);
}

// uplink.gateway-mac: the gateway is never asked for and its entry never
// ages or changes; other next hops on the subnet still go through ARP.
TEST_F(RouteTest, ConfiguredGatewayMacNeedsNoArpAndNeverAges) {
    h_.set_uplink(up_, kHost, kRouter, kUplinkMac, kTimeout, kRetry, kRouterMac);
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 10));
    // An ARP reply claiming another MAC does not override it; nor does time.
    h_.receive(up_, {arp_reply_from(kRouter, MacAddress::from_u64(0x02cc00000001ULL))}, 20);
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 20 + 10 * kTimeout));
    EXPECT_EQ(h_.context().pending.count, 0u);
    h_.receive(c1_, {from_c1(kOnLink).build()}, 30 + 10 * kTimeout);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(arp_request_for(kOnLink), sent[0]), "");
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(RouteTest, ExpiringTtlAndHostSideDestinationsAreNotRouted) {
    h_.receive(c1_, {from_c1(kFar, 1).build(), from_c1(kFar, 0).build()}, 1);
    EXPECT_EQ(h_.drops(DropReason::TtlExceeded), 2u);
    h_.sent(c1_);  // the time-exceeded errors (IcmpErrorTest checks them)
    // Another network's containers and the host's own addresses are not reached through the uplink.
    const Ipv4Address other_gateway = *Ipv4Address::parse("10.77.0.1");
    h_.add_network(other_gateway, 24);
    h_.receive(c1_,
               {from_c1(*Ipv4Address::parse("10.77.0.2")).build(), from_c1(kHost.address()).build(),
                from_c1(other_gateway).build()},
               1);
    EXPECT_EQ(h_.drops(DropReason::Isolated), 1u);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 2u);  // UDP to the host: nothing listens
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_TRUE(h_.sent(c1_).empty());
}

// Like Linux, the host answers ping on all its addresses from every network:
// the uplink address and other networks' gateways (isolation is for
// forwarding); the answer comes from the container's own gateway MAC.
TEST_F(RouteTest, ContainersPingTheHostAddressAndOtherNetworksGateways) {
    const Ipv4Address other_gateway = *Ipv4Address::parse("10.77.0.1");
    h_.add_network(other_gateway, 24);
    for (const Ipv4Address dst : {kHost.address(), other_gateway}) {
        PacketBuilder ping;
        ping.eth(kGatewayMac, kC1Mac).ipv4(kC1, dst).ipv4_id(4).icmp_echo(9, 2).payload(24);
        h_.receive(c1_, {ping.build()}, 1);
        const auto sent = h_.sent(c1_);
        ASSERT_EQ(sent.size(), 1u) << dst.to_string();
        PacketBuilder reply;
        reply.eth(kC1Mac, kGatewayMac).ipv4(dst, kC1).ipv4_id(4).icmp_echo(9, 2).icmp_type(0).payload(24);
        EXPECT_EQ(hex_diff(reply.build(), sent[0]), "") << dst.to_string();
    }
    // An internal network reaches only its own gateway.
    h_.snapshot().networks[net_].internal = true;
    PacketBuilder ping;
    ping.eth(kGatewayMac, kC1Mac).ipv4(kC1, kHost.address()).icmp_echo(9, 3);
    h_.receive(c1_, {ping.build()}, 2);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::NoRoute), 1u);
    EXPECT_TRUE(h_.sent(up_).empty());
}

TEST_F(RouteTest, InternalNetworkOrNoUplinkHasNoRouteOut) {
    h_.snapshot().networks[net_].internal = true;
    h_.receive(c1_, {from_c1(kFar).build()}, 1);
    h_.snapshot().networks[net_].internal = false;
    h_.snapshot().uplink.reset();
    h_.receive(c1_, {from_c1(kFar).build()}, 1);
    EXPECT_EQ(h_.drops(DropReason::NoRoute), 2u);
    EXPECT_TRUE(h_.sent(up_).empty());
}

TEST_F(RouteTest, UplinkAnswersArpAndPingForTheHostAddress) {
    const Frame request =
        PacketBuilder().eth(kBroadcast, kRouterMac).arp_request(kRouterMac, kRouter, kHost.address()).build();
    PacketBuilder ping;
    ping.eth(kUplinkMac, kRouterMac).ipv4(kRouter, kHost.address()).ipv4_id(3).icmp_echo(7, 1).payload(32);
    h_.receive(up_, {request, ping.build()}, 5);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(hex_diff(PacketBuilder()
                           .eth(kRouterMac, kUplinkMac)
                           .arp_reply(kUplinkMac, kHost.address(), kRouterMac, kRouter)
                           .build(),
                       sent[0]),
              "");
    PacketBuilder reply;
    reply.eth(kRouterMac, kUplinkMac).ipv4(kHost.address(), kRouter).ipv4_id(3).icmp_echo(7, 1).icmp_type(0).payload(32);
    EXPECT_EQ(hex_diff(reply.build(), sent[1]), "");
    // The request taught us the router: a routed packet leaves without asking.
    ASSERT_TRUE(h_.forwards(c1_, from_c1(kFar).build(), up_, routed(kFar, kRouterMac), 6));
    // Traffic from outside for anything else is not routed in (no NAT yet).
    h_.receive(up_, {PacketBuilder().eth(kUplinkMac, kRouterMac).ipv4(kFar, kC1).udp(53, 40000).build()}, 7);
    EXPECT_EQ(h_.drops(DropReason::NoRoute), 1u);
}

}  // namespace
}  // namespace dpdock::test
