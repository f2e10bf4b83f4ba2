// What the bridge reads of a frame and how it decides runs of one flow:
// - Parsing depth (base/packet/parse.hpp): the bridge validates L2 and L3 as
//   Linux's bridge with br_netfilter does and never reads L4, so a frame
//   whose TCP header is cut short is bridged between containers, as Docker's
//   bridge forwards it, while the same frame to the gateway (NAT, routing) is
//   parsed to L4 and dropped as bad_header. A malformed IPv4 header is
//   dropped on both paths.
// - Bursts of one flow (bridge/fastpath/l2_forward.hpp) are decided once and
//   every frame takes the first one's verdict; a burst where addresses or L3
//   type change is decided frame by frame, and learning still counts every
//   frame.
// Crafted frames, ring ports.
#include <gtest/gtest.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC3 = *Ipv4Address::parse("172.17.0.4");
const MacAddress kC3Mac = docker_mac_for(kC3);

class BridgeDepthTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
        c3_ = h_.add_port(net_);
        // c2 and c3 are known: frames to them are unicast, not flooded.
        h_.receive(c2_, {PacketBuilder().eth(kBroadcast, kC2Mac).arp_request(kC2Mac, kC2, kC1).build()});
        h_.receive(c3_, {PacketBuilder().eth(kBroadcast, kC3Mac).arp_request(kC3Mac, kC3, kC1).build()});
        h_.sent(c1_);
        h_.sent(c2_);
        h_.sent(c3_);
    }

    static Frame udp_to(MacAddress dst_mac, Ipv4Address dst) {
        return PacketBuilder().eth(dst_mac, kC1Mac).ipv4(kC1, dst).udp(1000, 2000).payload(8).build();
    }
    // A TCP header cut short by the IPv4 total length (10 of its 20 bytes).
    static Frame cut_tcp_to(MacAddress dst_mac, Ipv4Address dst) {
        return PacketBuilder().eth(dst_mac, kC1Mac).ipv4(kC1, dst).tcp(1, 2).set_total_length(30).truncate(44).build();
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0, c3_ = 0;
};

TEST_F(BridgeDepthTest, ACutShortL4HeaderIsBridgedAsLinuxBridgesIt) {
    const Frame frame = cut_tcp_to(kC2Mac, kC2);
    h_.receive(c1_, {frame});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], frame);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(BridgeDepthTest, ACutShortL4HeaderToTheGatewayIsDropped) {
    h_.receive(c1_, {cut_tcp_to(kGatewayMac, kFar)});
    EXPECT_EQ(h_.drops(DropReason::BadHeader), 1u);
    EXPECT_EQ(h_.total_drops(), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(BridgeDepthTest, AMalformedIpv4HeaderIsDroppedBetweenContainers) {
    h_.receive(c1_, {PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).udp(1, 2).set_ihl(4).build(),
                     PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).udp(1, 2).payload(20).set_total_length(60).build()});
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::BadHeader), 2u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// Frames to c2, broken by a frame to c3, one to the gateway and an unknown
// destination: each frame goes where it alone would go.
TEST_F(BridgeDepthTest, AFlowAndTheFramesBetweenItsFramesEachGoTheirOwnWay) {
    const MacAddress unknown = MacAddress::from_u64(0x020000000099ULL);
    const Frame to_c2 = udp_to(kC2Mac, kC2);
    const Frame ping_gateway =
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).icmp_echo(1, 1).payload(8).build();
    h_.receive(c1_, {to_c2, to_c2, udp_to(kC3Mac, kC3), to_c2, ping_gateway, ping_gateway, to_c2, udp_to(unknown, kC2),
                     udp_to(unknown, kC2), to_c2});
    EXPECT_EQ(h_.sent(c2_).size(), 5u + 2u);  // the run frames, and the unknown destination flooded twice
    EXPECT_EQ(h_.sent(c3_).size(), 1u + 2u);
    EXPECT_EQ(h_.sent(c1_).size(), 2u);  // the gateway's echo replies
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// Same addresses, another L3 type: with ICC off, IPv4 between containers is
// dropped while ARP is not, so the ARP frames among IPv4 ones are not of its flow.
TEST_F(BridgeDepthTest, AFrameOfAnotherL3TypeIsNotOfTheFlow) {
    h_.snapshot().networks[net_].icc = false;
    const Frame ip = udp_to(kC2Mac, kC2);
    const Frame arp = PacketBuilder().eth(kC2Mac, kC1Mac).arp_reply(kC1Mac, kC1, kC2Mac, kC2).build();
    h_.receive(c1_, {ip, ip, arp, arp, ip});
    EXPECT_EQ(h_.sent(c2_).size(), 2u);
    EXPECT_EQ(h_.drops(DropReason::IccBlocked), 3u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// Bursts of one flow: to a known port, to the gateway (each echo answered),
// blocked by ICC (each counted), and broadcast ARP for the gateway (each
// answered: a broadcast is never decided for the burst, its body matters).
TEST_F(BridgeDepthTest, EveryFrameOfABurstOfOneFlowGoesWhereTheFirstGoes) {
    const Frame to_c2 = udp_to(kC2Mac, kC2);
    h_.receive(c1_, {to_c2, to_c2, to_c2, to_c2});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 4u);
    for (const Frame& f : out) EXPECT_EQ(f, to_c2);

    const Frame ping = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).icmp_echo(1, 1).payload(8).build();
    h_.receive(c1_, {ping, ping, ping});
    EXPECT_EQ(h_.sent(c1_).size(), 3u);

    const Frame who_has = PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, kGateway).build();
    h_.receive(c1_, {who_has, who_has});
    EXPECT_EQ(h_.sent(c1_).size(), 2u);
    EXPECT_TRUE(h_.sent(c2_).empty());

    h_.snapshot().networks[net_].icc = false;
    h_.receive(c1_, {to_c2, to_c2, to_c2});
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::IccBlocked), 3u);
    EXPECT_EQ(h_.total_drops(), 3u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// c3's MAC is static on c3; c1 sends a burst from it: each frame is a
// refused move, counted once per frame as for frames decided one by one.
TEST_F(BridgeDepthTest, LearningCountsEveryFrameOfABurstOfOneFlow) {
    ASSERT_TRUE(h_.macs().add_static(net_, kC3Mac, c3_).ok());
    const Frame spoofed = PacketBuilder().eth(kC2Mac, kC3Mac).ipv4(kC3, kC2).udp(1, 2).payload(8).build();
    h_.receive(c1_, {spoofed, spoofed, spoofed});
    EXPECT_EQ(h_.counters().mac_static_conflict, 3u);
    EXPECT_EQ(h_.sent(c2_).size(), 3u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
