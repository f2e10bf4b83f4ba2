// enable_icc=false: IPv4 between two containers of the network is dropped
// (icc_blocked), unicast and flooded alike; ARP between them, their traffic
// to the gateway and their sources' learning go on. ICC on: unchanged.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

class IccTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
        h_.snapshot().networks[net_].icc = false;
        // c2 is known: frames to it are unicast, not flooded.
        h_.receive(c2_, {PacketBuilder().eth(kBroadcast, kC2Mac).arp_request(kC2Mac, kC2, kC1).build()});
        EXPECT_EQ(h_.sent(c1_).size(), 1u);
    }

    static Frame udp(MacAddress dst_mac, Ipv4Address dst) {
        return PacketBuilder().eth(dst_mac, kC1Mac).ipv4(kC1, dst).udp(1000, 2000).payload(8).build();
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0;
};

TEST_F(IccTest, Ipv4BetweenContainersIsDroppedUnicastAndFlooded) {
    h_.receive(c1_, {udp(kC2Mac, kC2), udp(kBroadcast, *Ipv4Address::parse("172.17.255.255")),
                     udp(MacAddress::from_u64(0x020000000099ULL), kC2)});
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::IccBlocked), 3u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
    // Dropped, yet their source was learned: c1 is known on its port.
    const auto fdb = h_.macs().dump(1);
    EXPECT_TRUE(std::any_of(fdb.begin(), fdb.end(), [&](const bridge::MacEntry& e) {
        return e.network == net_ && e.mac == kC1Mac && e.port == c1_ && !e.is_static;
    })) << fdb.size() << " entries";
}

TEST_F(IccTest, ArpAndTheGatewayStillWork) {
    const Frame arp_reply = PacketBuilder().eth(kC2Mac, kC1Mac).arp_reply(kC1Mac, kC1, kC2Mac, kC2).build();
    const Frame ping_gateway =
        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).icmp_echo(1, 1).payload(8).build();
    h_.receive(c1_, {arp_reply, ping_gateway});
    auto to_c2 = h_.sent(c2_);
    ASSERT_EQ(to_c2.size(), 1u);
    EXPECT_EQ(hex_diff(arp_reply, to_c2[0]), "");
    EXPECT_EQ(h_.sent(c1_).size(), 1u);  // the echo reply
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(IccTest, IccOnForwards) {
    h_.snapshot().networks[net_].icc = true;
    const Frame f = udp(kC2Mac, kC2);
    EXPECT_TRUE(h_.forwards(c1_, f, c2_, f));
}

}  // namespace
}  // namespace dpdock::test
