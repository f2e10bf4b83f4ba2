// Fragments and NAT, as Linux's router does them. Datagrams above the egress
// MTU without DF are fragmented (RFC 791): out of the uplink after
// MASQUERADE, and into a container's network after the reverse translation.
// Fragments a sender made are translated like their first fragment (virtual
// reassembly, nat/fastpath/fragments.hpp), both ways; a later fragment whose
// first was not seen is dropped and counted. Fragments are compared byte for
// byte with ones cut here by hand (8-byte aligned payloads, MF on all but
// the last, the original id, a fresh header checksum).
#include <gtest/gtest.h>

#include <rte_ip.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

std::uint16_t header_checksum(const std::uint8_t* h, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < len; i += 2) sum += static_cast<std::uint32_t>(h[i] << 8 | h[i + 1]);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// `f` (Ethernet + a 20-byte IPv4 header) cut into fragments of at most `mtu` bytes.
std::vector<Frame> fragments_of(const Frame& f, std::size_t mtu) {
    constexpr std::size_t kL3 = 14, kIp = 20;
    const std::size_t data = f.size() - kL3 - kIp;
    const std::size_t unit = (mtu - kIp) & ~std::size_t{7};
    std::vector<Frame> out;
    for (std::size_t off = 0; off < data; off += unit) {
        const std::size_t len = std::min(unit, data - off);
        Frame g(f.begin(), f.begin() + kL3 + kIp);
        g.insert(g.end(), f.begin() + kL3 + kIp + off, f.begin() + kL3 + kIp + off + len);
        const std::size_t total = kIp + len;
        const std::uint16_t frag = static_cast<std::uint16_t>(off / 8 | (off + len < data ? 0x2000 : 0));
        g[kL3 + 2] = static_cast<std::uint8_t>(total >> 8);
        g[kL3 + 3] = static_cast<std::uint8_t>(total);
        g[kL3 + 6] = static_cast<std::uint8_t>(frag >> 8);
        g[kL3 + 7] = static_cast<std::uint8_t>(frag);
        g[kL3 + 10] = g[kL3 + 11] = 0;
        const std::uint16_t sum = header_checksum(g.data() + kL3, kIp);
        g[kL3 + 10] = static_cast<std::uint8_t>(sum >> 8);
        g[kL3 + 11] = static_cast<std::uint8_t>(sum);
        out.push_back(std::move(g));
    }
    return out;
}

::testing::AssertionResult same_frames(const std::vector<Frame>& want, const std::vector<Frame>& got) {
    if (want.size() != got.size()) {
        return ::testing::AssertionFailure() << got.size() << " frames, expected " << want.size();
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
        const std::string diff = hex_diff(want[i], got[i]);
        if (!diff.empty()) return ::testing::AssertionFailure() << "frame " << i << ":\n" << diff;
    }
    return ::testing::AssertionSuccess();
}

class FragmentTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto t = h_.containers_behind_uplink();
        net_ = t.net;
        c1_ = t.c1;
        up_ = t.up;
    }
    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0;
};

TEST_F(FragmentTest, LargeDatagramWithoutDfLeavesTheUplinkInFragmentsAfterMasquerade) {
    h_.receive(c1_, {PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).ipv4_id(77).udp(5001, 53).payload(3000).build()});
    const Frame whole = PacketBuilder().eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 63).ipv4_id(77).udp(5001, 53).payload(3000).build();
    EXPECT_TRUE(same_frames(fragments_of(whole, 1500), h_.sent(up_)));
    EXPECT_EQ(h_.counters().fragmented, 1u);
    EXPECT_EQ(h_.counters().fragments_made, 3u);
    EXPECT_EQ(h_.counters().ports[up_].tx_packets, 3u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(FragmentTest, LargeReplyIsFragmentedToTheNetworkMtu) {
    h_.snapshot().networks[net_].mtu = 1000;
    h_.receive(c1_, {PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).udp(5001, 53).payload(10).build()});
    ASSERT_EQ(h_.sent(up_).size(), 1u);
    h_.receive(up_, {PacketBuilder().eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 50).ipv4_id(9).udp(53, 5001).payload(2500).build()});
    const Frame whole = PacketBuilder().eth(kC1Mac, kGatewayMac).ipv4(kFar, kC1, 49).ipv4_id(9).udp(53, 5001).payload(2500).build();
    EXPECT_TRUE(same_frames(fragments_of(whole, 1000), h_.sent(c1_)));
    EXPECT_EQ(h_.counters().fragments_made, 3u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// A container's own fragments (a 3000-byte datagram its kernel cut at 1500)
// leave masqueraded, all from the first fragment's flow; the reply's
// fragments come back to it.
TEST_F(FragmentTest, FragmentsFollowTheirFirstFragmentThroughMasqueradeBothWays) {
    const Frame sent = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).ipv4_id(5).udp(5001, 53).payload(3000).build();
    h_.receive(c1_, fragments_of(sent, 1500));
    const Frame out = PacketBuilder().eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 63).ipv4_id(5).udp(5001, 53).payload(3000).build();
    EXPECT_TRUE(same_frames(fragments_of(out, 1500), h_.sent(up_)));
    EXPECT_EQ(h_.conntrack().entries(), 1u);

    const Frame reply = PacketBuilder().eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 50).ipv4_id(6).udp(53, 5001).payload(4000).build();
    auto pieces = fragments_of(reply, 1500);
    h_.receive(up_, {pieces[0]});  // the rest in a later burst
    h_.receive(up_, {pieces.begin() + 1, pieces.end()});
    const Frame in = PacketBuilder().eth(kC1Mac, kGatewayMac).ipv4(kFar, kC1, 49).ipv4_id(6).udp(53, 5001).payload(4000).build();
    EXPECT_TRUE(same_frames(fragments_of(in, 1500), h_.sent(c1_)));
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(FragmentTest, LaterFragmentWithoutItsFirstIsDroppedAndCounted) {
    const Frame sent = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).ipv4_id(5).udp(5001, 53).payload(3000).build();
    auto pieces = fragments_of(sent, 1500);
    h_.receive(c1_, {pieces[1]});
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::FragmentUnmatched), 1u);
    // Another datagram's id does not match either.
    h_.receive(c1_, {pieces[0]});
    const Frame other = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).ipv4_id(6).udp(5001, 53).payload(3000).build();
    h_.receive(c1_, {fragments_of(other, 1500)[2]});
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    EXPECT_EQ(h_.drops(DropReason::FragmentUnmatched), 2u);
    // Nor one that comes after the datagram's lifetime.
    h_.receive(c1_, {pieces[2]}, 5);
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::FragmentUnmatched), 3u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
