// Published ports through the whole pipeline: a packet from outside to the
// host address at a published port reaches the container's port, its reply
// leaves from host:port again, other host ports stay unserved; a UDP range
// maps port by port; a container reaching host:port (hairpin) is delivered to
// the publishing container from its gateway and gets the answer from
// host:port; checksums equal a full recomputation (the builder's); rule
// counters move. The port map alone: a 10,000-port range is one rule serving
// each of its ports, and a range overlapping it is refused. An ICMP error
// about a translated packet quotes it as the sender sent it; one about a
// published flow's reply (path MTU discovery) reaches the container. A
// flood of spoofed clients into a small table harms no established flow and
// no new flow out.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <random>

#include <rte_byteorder.h>

#include "nat/fastpath/dnat.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint32_t kSlot = 7;

class DnatTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto t = h_.containers_behind_uplink();
        net_ = t.net;
        c1_ = t.c1;
        c2_ = t.c2;
        up_ = t.up;
        // c1 publishes tcp 8080 -> 80 and udp 5000-5009 -> 6000-6009; the MAC table knows both containers.
        auto map = std::make_shared<nat::PortMap>();
        ASSERT_TRUE(map->add(rule(IPPROTO_TCP, 8080, 8080, 80)));
        ASSERT_TRUE(map->add(rule(IPPROTO_UDP, 5000, 5009, 6000)));
        h_.snapshot().published = map;
        ASSERT_TRUE(h_.context().macs->add_static(net_, kC1Mac, c1_).ok());
        ASSERT_TRUE(h_.context().macs->add_static(net_, kC2Mac, c2_).ok());
    }

    nat::PublishedRule rule(std::uint8_t proto, std::uint16_t lo, std::uint16_t hi, std::uint16_t cport) {
        nat::PublishedRule r;
        r.proto = proto;
        r.host_lo = lo;
        r.host_hi = hi;
        r.container_lo = cport;
        r.container_ip = kC1;
        r.container_mac = kC1Mac;
        r.network = net_;
        r.gateway = kGateway;
        r.slot = kSlot;
        r.container = "c1";
        return r;
    }

    static PacketBuilder from_far(std::uint8_t ttl = 50) {
        PacketBuilder b;
        b.eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, ttl).ipv4_id(8);
        return b;
    }
    static PacketBuilder at_c1(Ipv4Address from, std::uint8_t ttl = 49) {
        PacketBuilder b;
        b.eth(kC1Mac, kGatewayMac).ipv4(from, kC1, ttl).ipv4_id(8);
        return b;
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0, up_ = 0;
};

TEST_F(DnatTest, OutsideReachesThePublishedPortAndTheReplyLeavesFromIt) {
    ASSERT_TRUE(h_.forwards(up_, from_far().tcp(40000, 8080, 0x02).payload(0).build(), c1_,
                            at_c1(kFar).tcp(40000, 80, 0x02).payload(0).build(), 10));

    PacketBuilder reply;
    reply.eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 64).ipv4_id(9).tcp(80, 40000, 0x12).payload(20);
    PacketBuilder leaving;
    leaving.eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 63).ipv4_id(9).tcp(8080, 40000, 0x12).payload(20);
    ASSERT_TRUE(h_.forwards(c1_, reply.build(), up_, leaving.build(), 11));

    // The flow's later packets follow conntrack; the rule counts every packet it translates inbound.
    ASSERT_TRUE(h_.forwards(up_, from_far().tcp(40000, 8080, 0x10).payload(100).build(), c1_,
                            at_c1(kFar).tcp(40000, 80, 0x10).payload(100).build(), 12));
    EXPECT_EQ(h_.rule_counter(kSlot).packets, 2u);
    EXPECT_EQ(h_.total_drops(), 0u);
    const auto flows = h_.conntrack().dump(0);
    ASSERT_EQ(flows.size(), 1u);
    EXPECT_EQ(flows[0].state, nat::CtState::TcpEstablished);
    EXPECT_EQ(h_.conntrack().ports_in_use(IPPROTO_TCP), 0u);  // a published flow takes no host port

    // Other ports of the host address are still not served.
    h_.receive(up_, {from_far().tcp(40000, 8081, 0x02).payload(0).build()}, 13);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// As for a MASQUERADE reply, the error is about the packet the sender sent:
// its quote names host:port, not the container it was translated to, or the
// sender could not match it (path MTU discovery into an overlay network).
TEST_F(DnatTest, TooBigForTheContainersNetworkGetsFragmentationNeededQuotingThePublishedPort) {
    h_.snapshot().networks[net_].mtu = 1000;
    const Frame offending = from_far().ipv4_dont_fragment().udp(40000, 5003).payload(1000).build();
    h_.receive(up_, {offending}, 10);
    EXPECT_TRUE(h_.sent(c1_).empty());
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    PacketBuilder expected;
    expected.eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 64).ipv4_id(0).ipv4_tos(0xc0);
    expected.icmp_error(kIcmpUnreachable, kIcmpFragNeeded, 1000, quote_of(offending));
    EXPECT_EQ(hex_diff(expected.build(), out[0]), "");
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 1u);
}

// A router on the way to the client cannot take the container's large reply:
// its fragmentation needed, about host:8080 -> client, must reach the
// container about c1:80 -> client, or the connection stalls (PMTU black hole).
TEST_F(DnatTest, FragmentationNeededAboutAPublishedReplyReachesTheContainer) {
    ASSERT_TRUE(h_.forwards(up_, from_far().tcp(40000, 8080, 0x02).payload(0).build(), c1_,
                            at_c1(kFar).tcp(40000, 80, 0x02).payload(0).build(), 10));
    PacketBuilder big;
    big.eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 64).ipv4_id(9).ipv4_dont_fragment().tcp(80, 40000, 0x10).payload(1400);
    h_.receive(c1_, {big.build()}, 11);
    const auto left = h_.sent(up_);
    ASSERT_EQ(left.size(), 1u);

    const Ipv4Address router = *Ipv4Address::parse("198.51.100.1");
    PacketBuilder error;
    error.eth(kUplinkMac, kRouterMac).ipv4(router, kHostIp, 50).ipv4_id(8).icmp_error(kIcmpUnreachable,
                                                                                    kIcmpFragNeeded, 1280,
                                                                                    quote_of(left[0]));
    PacketBuilder as_sent;  // c1's packet as it left our hop
    as_sent.eth(kRouterMac, kUplinkMac).ipv4(kC1, kFar, 63).ipv4_id(9).ipv4_dont_fragment().tcp(80, 40000, 0x10)
        .payload(1400);
    PacketBuilder delivered;
    delivered.eth(kC1Mac, kGatewayMac).ipv4(router, kC1, 49).ipv4_id(8).icmp_error(kIcmpUnreachable, kIcmpFragNeeded,
                                                                                   1280, quote_of(as_sent.build()));
    EXPECT_TRUE(h_.forwards(up_, error.build(), c1_, delivered.build(), 12));
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// 2,000 TCP packets from random spoofed clients (ACKs and SYNs, as a remote
// peer can send without seeing an answer) to the published port, into a
// table of 16 flows. Like Linux, none of them is ESTABLISHED without a reply
// and each new one takes the place of an unanswered one (early drop): the
// established flow in, the answered flow out and new flows out all pass.
TEST_F(DnatTest, FloodOfSpoofedClientsLeavesEstablishedAndNewOutboundFlows) {
    nat::ConntrackOptions o;
    o.capacity = 16;
    h_.use_conntrack(o);
    // An established flow to the published port, and c2's answered DNS flow out.
    ASSERT_TRUE(h_.forwards(up_, from_far().tcp(40000, 8080, 0x02).payload(0).build(), c1_,
                            at_c1(kFar).tcp(40000, 80, 0x02).payload(0).build(), 10));
    PacketBuilder synack;
    synack.eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar, 64).ipv4_id(9).tcp(80, 40000, 0x12).payload(0);
    h_.receive(c1_, {synack.build()}, 10);
    h_.receive(up_, {from_far().tcp(40000, 8080, 0x10).payload(0).build()}, 10);
    PacketBuilder dns;
    dns.eth(kGatewayMac, kC2Mac).ipv4(kC2, kFar, 64).ipv4_id(1).udp(5353, 53).payload(20);
    h_.receive(c2_, {dns.build()}, 10);
    h_.receive(up_, {from_far().udp(53, 5353).payload(30).build()}, 10);
    ASSERT_EQ(h_.sent(up_).size(), 2u);
    ASSERT_EQ(h_.sent(c2_).size(), 1u);
    h_.sent(c1_);

    std::mt19937 rng(14);
    for (int burst = 0; burst < 2000 / 32; ++burst) {
        std::vector<Frame> frames;
        for (int i = 0; i < 32; ++i) {
            PacketBuilder b;
            b.eth(kUplinkMac, kRouterMac).ipv4(Ipv4Address(static_cast<std::uint32_t>(rng())), kHostIp, 50);
            b.tcp(static_cast<std::uint16_t>(1024 + rng() % 60000), 8080, i % 2 == 0 ? 0x10 : 0x02).payload(0);
            frames.push_back(b.build());
        }
        h_.receive(up_, frames, 11);
        EXPECT_EQ(h_.sent(c1_).size(), frames.size()) << "burst " << burst;  // translated and delivered
    }
    EXPECT_EQ(h_.drops(DropReason::CtFull), 0u);
    EXPECT_GE(h_.conntrack().entries(), 16u - 2u - 1u);  // capacity / 8 kept free by early drop
    EXPECT_LE(h_.conntrack().entries(), 16u);
    std::size_t established = 0;
    for (const auto& f : h_.conntrack().dump(11)) {
        if (f.state == nat::CtState::TcpEstablished) ++established;
        if (f.state == nat::CtState::TcpEstablished || f.state == nat::CtState::UdpAssured) continue;
        EXPECT_EQ(f.state, nat::CtState::TcpSynSent);
        EXPECT_LE(f.seconds_left, nat::Timeouts{}.tcp_syn_sent);
    }
    EXPECT_EQ(established, 1u);

    // The established flow in and the DNS flow's reply still pass.
    EXPECT_TRUE(h_.forwards(up_, from_far().tcp(40000, 8080, 0x10).payload(100).build(), c1_,
                            at_c1(kFar).tcp(40000, 80, 0x10).payload(100).build(), 12));
    PacketBuilder dns_reply;
    dns_reply.eth(kC2Mac, kGatewayMac).ipv4(kFar, kC2, 49).ipv4_id(8).udp(53, 5353).payload(31);
    EXPECT_TRUE(h_.forwards(up_, from_far().udp(53, 5353).payload(31).build(), c2_, dns_reply.build(), 12));
    // A new flow out is made and answered.
    PacketBuilder https;
    https.eth(kGatewayMac, kC2Mac).ipv4(kC2, kFar, 64).ipv4_id(2).tcp(41000, 443, 0x02).payload(0);
    PacketBuilder https_out;
    https_out.eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 63).ipv4_id(2).tcp(41000, 443, 0x02).payload(0);
    EXPECT_TRUE(h_.forwards(c2_, https.build(), up_, https_out.build(), 12));
    EXPECT_EQ(h_.drops(DropReason::CtFull), 0u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(DnatTest, UdpRangeMapsPortByPort) {
    h_.receive(up_, {from_far().udp(999, 5000).payload(5).build(), from_far().udp(999, 5009).payload(6).build()}, 10);
    auto sent = h_.sent(c1_);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(hex_diff(at_c1(kFar).udp(999, 6000).payload(5).build(), sent[0]), "");
    EXPECT_EQ(hex_diff(at_c1(kFar).udp(999, 6009).payload(6).build(), sent[1]), "");
    h_.receive(up_, {from_far().udp(999, 5010).payload(6).build()}, 10);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
}

TEST_F(DnatTest, HairpinFromAnotherContainerAndFromItself) {
    // c2 -> host:8080 arrives at c1:80 from the gateway, on a host port of MASQUERADE's range.
    PacketBuilder out;
    out.eth(kGatewayMac, kC2Mac).ipv4(kC2, kHostIp, 64).ipv4_id(3).tcp(33000, 8080, 0x02).payload(10);
    // 33000 is free in the range, so it is kept (as Linux does).
    const Frame arrives = at_c1(kGateway, 63).ipv4_id(3).tcp(33000, 80, 0x02).payload(10).build();
    ASSERT_TRUE(h_.forwards(c2_, out.build(), c1_, arrives, 10));

    PacketBuilder answer;
    answer.eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway, 64).ipv4_id(4).tcp(80, 33000, 0x12).payload(7);
    PacketBuilder back;
    back.eth(kC2Mac, kGatewayMac).ipv4(kHostIp, kC2, 63).ipv4_id(4).tcp(8080, 33000, 0x12).payload(7);
    ASSERT_TRUE(h_.forwards(c1_, answer.build(), c2_, back.build(), 11));

    // c1 reaching its own published port: same path, it sees the gateway as its peer.
    PacketBuilder self;
    self.eth(kGatewayMac, kC1Mac).ipv4(kC1, kHostIp, 64).ipv4_id(5).tcp(34000, 8080, 0x02).payload(1);
    const Frame to_itself = at_c1(kGateway, 63).ipv4_id(5).tcp(34000, 80, 0x02).payload(1).build();
    ASSERT_TRUE(h_.forwards(c1_, self.build(), c1_, to_itself, 12));
    EXPECT_EQ(h_.rule_counter(kSlot).packets, 2u);
    EXPECT_EQ(h_.conntrack().ports_in_use(IPPROTO_TCP), 2u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(DnatTest, TenThousandPortRangeIsOneRuleServingEachPort) {
    nat::PortMap map;
    ASSERT_TRUE(map.add(rule(IPPROTO_TCP, 20000, 29999, 20000)));
    EXPECT_FALSE(map.add(rule(IPPROTO_TCP, 29999, 30000, 1)));  // overlaps: refused, nothing added
    ASSERT_EQ(map.rules().size(), 1u);
    EXPECT_EQ(map.find(IPPROTO_TCP, 19999), nullptr);
    EXPECT_EQ(map.find(IPPROTO_TCP, 30000), nullptr);
    EXPECT_EQ(map.find(IPPROTO_UDP, 25000), nullptr);
    EXPECT_EQ(map.find(IPPROTO_ICMP, 25000), nullptr);
    for (std::uint32_t port = 20000; port <= 29999; ++port) {
        const auto p = static_cast<std::uint16_t>(port);
        const nat::PublishedRule* r = map.find(IPPROTO_TCP, p);
        ASSERT_EQ(r, &map.rules().front()) << p;
        ASSERT_EQ(r->container_port(p), p);
    }
}

}  // namespace
}  // namespace dpdock::test
