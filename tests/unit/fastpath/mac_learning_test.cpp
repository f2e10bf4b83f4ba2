// Sources the bridge refuses to learn, as a Linux bridge does: the all-zero
// MAC and the network's own gateway MAC (a container forging it) are dropped
// with their own reason, not learned, not forwarded; the gateway keeps
// answering. Crafted frames, ring ports. The worker's MAC cache
// (bridge/fastpath/mac_cache.hpp) answers only what the table still says:
// moves, removals and refreshes by anyone are seen at the next burst.
#include <gtest/gtest.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

class MacLearningTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
        c3_ = h_.add_port(net_);
    }

    static Frame udp_from(MacAddress src, MacAddress dst) {
        return PacketBuilder().eth(dst, src).ipv4(kC1, kC2).udp(1000, 2000).payload(8).build();
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0, c3_ = 0;
};

TEST_F(MacLearningTest, ZeroSourceIsDroppedAndNotLearned) {
    h_.receive(c1_, {udp_from(MacAddress(), kC2Mac), udp_from(MacAddress(), kBroadcast)});
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::SourceMacZero), 2u);
    EXPECT_EQ(h_.total_drops(), 2u);
    EXPECT_TRUE(h_.macs().dump(1).empty());
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(MacLearningTest, ForgedGatewaySourceIsDroppedAndTheGatewayStillAnswers) {
    // c1 claims the gateway's MAC, unicast to c2 and broadcast.
    h_.receive(c1_, {udp_from(kGatewayMac, kC2Mac), udp_from(kGatewayMac, kBroadcast)});
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::SourceMacGateway), 2u);
    EXPECT_TRUE(h_.macs().dump(1).empty());
    // c2 still reaches the gateway itself: its ping is answered on c2.
    const Frame ping = PacketBuilder().eth(kGatewayMac, kC2Mac).ipv4(kC2, kGateway).icmp_echo(1, 1).payload(8).build();
    h_.receive(c2_, {ping});
    EXPECT_EQ(h_.sent(c2_).size(), 1u);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.total_drops(), 2u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(MacLearningTest, OrdinarySourcesAreStillLearned) {
    h_.receive(c1_, {udp_from(kC1Mac, kBroadcast)});
    EXPECT_EQ(h_.sent(c2_).size(), 1u);
    const auto fdb = h_.macs().dump(1);
    ASSERT_EQ(fdb.size(), 1u);
    EXPECT_EQ(fdb[0].mac, kC1Mac);
    EXPECT_EQ(h_.total_drops(), 0u);
}

// Another worker (here: the table itself) moves c1's MAC to c3: this
// worker's next frame to it goes to c3, not where its cache had it.
TEST_F(MacLearningTest, AMacMovedElsewhereIsFollowedAtTheNextBurst) {
    h_.receive(c1_, {udp_from(kC1Mac, kBroadcast)});
    h_.receive(c2_, {udp_from(kC2Mac, kC1Mac), udp_from(kC2Mac, kC1Mac)});
    EXPECT_EQ(h_.sent(c1_).size(), 2u);
    h_.sent(c3_);
    EXPECT_EQ(h_.macs().learn(net_, kC1Mac, c3_, 2), bridge::LearnResult::Moved);
    h_.receive(c2_, {udp_from(kC2Mac, kC1Mac)}, 2);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.sent(c3_).size(), 1u);
    EXPECT_EQ(h_.total_drops(), 0u);
}

// A MAC removed from the table (aged out, its port flushed) is flooded again.
TEST_F(MacLearningTest, ARemovedMacIsFloodedAtTheNextBurst) {
    h_.receive(c1_, {udp_from(kC1Mac, kBroadcast)});
    h_.receive(c2_, {udp_from(kC2Mac, kC1Mac)});
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    h_.sent(c3_);
    EXPECT_EQ(h_.macs().flush_port(c1_), 1u);
    h_.receive(c2_, {udp_from(kC2Mac, kC1Mac)});
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    EXPECT_EQ(h_.sent(c3_).size(), 1u);  // flooded
}

// A frame moving its source within one burst: the frames after it in the
// same burst see the move (to the ingress port itself: same_port).
TEST_F(MacLearningTest, AMoveInsideABurstIsSeenByTheRestOfTheBurst) {
    h_.receive(c1_, {udp_from(kC1Mac, kBroadcast)});
    h_.receive(c2_, {udp_from(kC2Mac, kC1Mac)});
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    h_.receive(c3_, {udp_from(kC1Mac, kBroadcast), udp_from(kC2Mac, kC1Mac)}, 2);
    EXPECT_EQ(h_.drops(DropReason::SamePort), 1u);
    EXPECT_EQ(h_.sent(c1_).size(), 1u);  // only the broadcast
}

// Sources the cache knows still refresh the table's last-seen once per
// refresh interval (1 tick here), so a talking container never ages out.
TEST_F(MacLearningTest, CachedSourcesStillRefreshTheirEntry) {
    for (std::uint64_t now = 1; now <= 5; ++now) h_.receive(c1_, {udp_from(kC1Mac, kC2Mac)}, now);
    const auto fdb = h_.macs().dump(5);
    ASSERT_EQ(fdb.size(), 1u);
    EXPECT_EQ(fdb[0].age_ticks, 0u);
    EXPECT_EQ(h_.macs().expire(5, 0), 0u);
}

}  // namespace
}  // namespace dpdock::test
