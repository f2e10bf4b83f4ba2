// The uplink's neighbour table under hostile ARP: a flood of requests and
// unsolicited replies from random on-link, off-subnet and 0.0.0.0 senders
// takes no slot, so a next hop that appears later still resolves; only
// addresses this host asked for (and the uplink gateway) are added; entries
// expire and free their slots. Crafted frames through ring ports, injected time.
#include <gtest/gtest.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kNextHop = *Ipv4Address::parse("192.168.50.77");
const MacAddress kNextHopMac = MacAddress::from_u64(0x02cc00000077ULL);
constexpr std::uint64_t kTimeout = 1000;
constexpr std::uint64_t kRetry = 100;

class NeighbourTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        up_ = h_.add_port(kNoNetwork, dataplane::PortRole::Uplink);
        h_.set_uplink(up_, kHost, kRouter, kUplinkMac, kTimeout, kRetry);
    }

    static Frame reply_from(Ipv4Address ip, MacAddress mac) {
        return PacketBuilder().eth(kUplinkMac, mac).arp_reply(mac, ip, kUplinkMac, kHostIp).build();
    }
    static Frame request_from(Ipv4Address ip, MacAddress mac) {
        return PacketBuilder().eth(kBroadcast, mac).arp_request(mac, ip, kHostIp).build();
    }
    Frame udp_to(Ipv4Address dst) {
        return PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, dst).udp(40000, 53).payload(20).build();
    }

    // ARP from `count` pseudo-random senders: on-link (the whole /24 but the
    // next hop, the router and the host), off-subnet, and 0.0.0.0; requests and replies.
    void flood(unsigned count, std::uint64_t now) {
        std::uint32_t x = 12345;
        for (unsigned i = 0; i < count; ++i) {
            x = x * 1103515245u + 12345u;
            Ipv4Address ip;
            switch (i % 3) {
                case 0: ip = Ipv4Address(0xc0a83200u | (3 + (x >> 8) % 250)); break;  // 192.168.50.3-252
                case 1: ip = Ipv4Address(0x0a000000u | (x >> 8)); break;             // 10.0.0.0/8
                default: ip = Ipv4Address(); break;                                  // 0.0.0.0
            }
            if (ip == kNextHop) continue;
            const MacAddress mac = MacAddress::from_u64(0x020000000000ULL | (x & 0xffffffffULL));
            h_.receive(up_, {reply_from(ip, mac), request_from(ip, mac)}, now);
            h_.sent(up_);  // the answers to the on-link requests
        }
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0;
};

TEST_F(NeighbourTest, ArpFloodTakesNoSlotAndANewNextHopStillResolves) {
    flood(1500, 10);
    EXPECT_TRUE(h_.neighbours().dump(10).empty());
    // A container now talks to an on-link address nobody cached: asked, answered, sent.
    h_.receive(c1_, {udp_to(kNextHop)}, 20);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(PacketBuilder().eth(kBroadcast, kUplinkMac).arp_request(kUplinkMac, kHostIp, kNextHop).build(),
                       sent[0]),
              "");
    h_.receive(up_, {reply_from(kNextHop, kNextHopMac)}, 21);
    h_.idle(22);
    sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(MacAddress({sent[0][0], sent[0][1], sent[0][2], sent[0][3], sent[0][4], sent[0][5]}), kNextHopMac);
    const auto cached = h_.neighbours().dump(22);
    ASSERT_EQ(cached.size(), 1u);
    EXPECT_EQ(cached[0].ip, kNextHop);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(NeighbourTest, UnsolicitedAnswersOnlyRefreshWhatIsCached) {
    h_.receive(up_, {reply_from(kNextHop, kNextHopMac)}, 5);
    EXPECT_TRUE(h_.neighbours().dump(5).empty());
    // The uplink gateway is a next hop by configuration: its request teaches us.
    h_.receive(up_, {request_from(kRouter, kRouterMac)}, 6);
    h_.sent(up_);
    ASSERT_EQ(h_.neighbours().dump(6).size(), 1u);
    // Once cached, a request refreshes (here: moves) the entry.
    h_.neighbours().solicit(kNextHop);
    h_.receive(up_, {reply_from(kNextHop, kNextHopMac)}, 7);
    const MacAddress moved = MacAddress::from_u64(0x02cc00000099ULL);
    h_.receive(up_, {request_from(kNextHop, moved)}, 8);
    h_.sent(up_);
    const auto cached = h_.neighbours().dump(8);
    ASSERT_EQ(cached.size(), 2u);
    EXPECT_EQ(cached[1].ip, kNextHop);
    EXPECT_EQ(cached[1].mac, moved);
}

// Expired entries give their slots back: a full table of neighbours no
// longer used makes room for a new one.
TEST_F(NeighbourTest, ExpiredEntriesFreeTheirSlots) {
    l3::NeighbourTable& table = h_.neighbours();
    const l3::NeighbourTiming timing = h_.timing();
    unsigned added = 0;
    for (std::uint32_t i = 0; i < 1024 && table.confirm(Ipv4Address(0xc0a80000u + i), kNextHopMac, 1, timing); ++i) {
        ++added;
    }
    ASSERT_GE(added, 64u);
    ASSERT_LT(added, 1024u) << "the table is bounded";
    EXPECT_FALSE(table.confirm(kNextHop, kNextHopMac, 2, timing));
    EXPECT_TRUE(table.confirm(kNextHop, kNextHopMac, 1 + timing.expiry(), timing));
    const auto mac = table.lookup(kNextHop, 2 + timing.expiry(), timing);
    ASSERT_TRUE(mac.has_value());
    EXPECT_EQ(mac->mac, kNextHopMac);
    EXPECT_FALSE(table.lookup(Ipv4Address(0xc0a80000u), 2 + timing.expiry(), timing).has_value());
}

}  // namespace
}  // namespace dpdock::test
