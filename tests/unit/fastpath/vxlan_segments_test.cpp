// vxlan::Segments: the snapshot's overlay networks found by network and by VNI.
#include <gtest/gtest.h>

#include "vxlan/segments.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kPeer = Ipv4Address(0xc0a83209u);  // 192.168.50.9

TEST(VxlanSegmentsTest, FindsTheNetworkOfEachVniAndNoneForOthers) {
    vxlan::Segments segments;
    segments.add(3, {.vni = 5000, .peers = {{kPeer, 0x8000}}});
    segments.add(1, {.vni = 300, .peers = {}});
    segments.add(7, {.vni = 16777215, .peers = {}});
    EXPECT_EQ(segments.network_of(300), 1);
    EXPECT_EQ(segments.network_of(5000), 3);
    EXPECT_EQ(segments.network_of(16777215), 7);
    EXPECT_EQ(segments.network_of(301), kNoNetwork);
    EXPECT_EQ(segments.network_of(0), kNoNetwork);  // VNI 0 is never an overlay's
    ASSERT_EQ(segments.of(3).peers.size(), 1u);
    EXPECT_EQ(segments.of(3).peers[0].ip, kPeer);
    // Networks without a segment (and ids past the last) read as "not an overlay".
    EXPECT_EQ(segments.of(2).vni, 0u);
    EXPECT_EQ(segments.of(9000).vni, 0u);
    EXPECT_TRUE(segments.of(9000).peers.empty());
}

TEST(VxlanSegmentsTest, AddingANetworkAgainReplacesItsSegmentAndVni) {
    vxlan::Segments segments;
    segments.add(2, {.vni = 300, .peers = {}});
    segments.add(2, {.vni = 400, .peers = {{kPeer, 0x8001}}});
    EXPECT_EQ(segments.network_of(300), kNoNetwork);
    EXPECT_EQ(segments.network_of(400), 2);
    EXPECT_EQ(segments.of(2).peers.size(), 1u);
}

}  // namespace
}  // namespace dpdock::test
