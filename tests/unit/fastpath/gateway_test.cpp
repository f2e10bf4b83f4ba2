// The gateway answers ARP and ping for its own address, byte for byte as
// Linux would, and drops malformed or unserved requests with a counted reason.
#include <gtest/gtest.h>

#include <rte_arp.h>
#include <rte_icmp.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {


class GatewayTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
    }

    // A ping from c1 to the gateway: ident 0x1234, sequence `seq`, 56 bytes of payload.
    PacketBuilder ping(std::uint16_t seq) {
        PacketBuilder b;
        b.eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway, 64).ipv4_id(7).icmp_echo(0x1234, seq).payload(56);
        return b;
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0;
};

TEST_F(GatewayTest, BroadcastArpRequestForTheGatewayIsAnsweredNotFlooded) {
    const Frame request = PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, kGateway).build();
    const Frame expected = PacketBuilder().eth(kC1Mac, kGatewayMac).arp_reply(kGatewayMac, kGateway, kC1Mac, kC1).build();
    EXPECT_TRUE(h_.forwards(c1_, request, c1_, expected));
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(GatewayTest, UnicastArpRefreshIsAnswered) {
    // Linux re-probes a stale neighbour with a unicast request to the cached MAC.
    const Frame request = PacketBuilder().eth(kGatewayMac, kC1Mac).arp_request(kC1Mac, kC1, kGateway).build();
    const Frame reply = PacketBuilder().eth(kC1Mac, kGatewayMac).arp_reply(kGatewayMac, kGateway, kC1Mac, kC1).build();
    EXPECT_TRUE(h_.forwards(c1_, request, c1_, reply));
}

TEST_F(GatewayTest, ArpForOtherAddressesIsFloodedAndNotAnswered) {
    const Ipv4Address other = *Ipv4Address::parse("172.17.0.3");
    const Frame request = PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, other).build();
    h_.receive(c1_, {request});
    EXPECT_TRUE(h_.sent(c1_).empty());
    auto flooded = h_.sent(c2_);
    ASSERT_EQ(flooded.size(), 1u);
    EXPECT_EQ(flooded[0], request);
}

TEST_F(GatewayTest, ArpNotForUsOrMalformedIsDroppedAndCounted) {
    const Ipv4Address other = *Ipv4Address::parse("172.17.0.3");
    h_.receive(c1_, {
                        // Unicast to the gateway MAC, asking for someone else.
                        PacketBuilder().eth(kGatewayMac, kC1Mac).arp_request(kC1Mac, kC1, other).build(),
                        // A reply nobody asked for.
                        PacketBuilder().eth(kGatewayMac, kC1Mac).arp_reply(kC1Mac, kC1, kGatewayMac, kGateway).build(),
                    });
    EXPECT_EQ(h_.drops(DropReason::ArpIgnored), 2u);
    h_.receive(c1_, {
                        // Opcode 9 is neither request nor reply (broadcast, it would just be flooded).
                        PacketBuilder().eth(kGatewayMac, kC1Mac).arp_request(kC1Mac, kC1, kGateway).arp_op(9).build(),
                        // A group address as sender: answering it would multicast the reply.
                        PacketBuilder()
                            .eth(kBroadcast, kC1Mac)
                            .arp_request(MacAddress::from_u64(0x01005e000001ULL), kC1, kGateway)
                            .build(),
                        // Cut inside the ARP body: rejected by parse.
                        PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, kGateway).truncate(30).build(),
                    });
    EXPECT_EQ(h_.drops(DropReason::BadHeader), 3u);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(GatewayTest, PingToTheGatewayGetsAnEchoReply) {
    h_.receive(c1_, {ping(1).build(), ping(2).build()});
    auto sent = h_.sent(c1_);
    ASSERT_EQ(sent.size(), 2u);
    for (std::uint16_t seq = 1; seq <= 2; ++seq) {
        // Same id, sequence and payload, addresses swapped, TTL 64, both checksums valid.
        const Frame expected = PacketBuilder()
                                   .eth(kC1Mac, kGatewayMac)
                                   .ipv4(kGateway, kC1, 64)
                                   .ipv4_id(7)
                                   .icmp_echo(0x1234, seq)
                                   .icmp_type(RTE_IP_ICMP_ECHO_REPLY)
                                   .payload(56)
                                   .build();
        EXPECT_EQ(hex_diff(expected, sent[seq - 1u]), "") << "seq " << seq;
    }
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(GatewayTest, ReplyTtlIsResetWhateverTheRequestCarried) {
    PacketBuilder request;
    request.eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway, 3).ipv4_id(7).icmp_echo(1, 1).payload(8);
    PacketBuilder reply;
    reply.eth(kC1Mac, kGatewayMac).ipv4(kGateway, kC1, 64).ipv4_id(7);
    reply.icmp_echo(1, 1).icmp_type(RTE_IP_ICMP_ECHO_REPLY).payload(8);
    EXPECT_TRUE(h_.forwards(c1_, request.build(), c1_, reply.build()));
}

TEST_F(GatewayTest, EchoSpanningSegmentsIsAnswered) {
    // A large ping chained over several mbufs: the checksum covers every segment.
    PacketBuilder request = ping(5);
    request.payload(3000);
    rte_mbuf* m = to_mbuf(h_.pool(), request.build(), 1024);
    ASSERT_NE(m, nullptr);
    ASSERT_GT(m->nb_segs, 1);
    m->port = c1_;
    dataplane::process_burst(h_.context(), h_.snapshot(), &m, 1, 1);
    h_.context().tx.flush_all();
    auto sent = h_.sent(c1_);
    ASSERT_EQ(sent.size(), 1u);
    PacketBuilder expected;
    expected.eth(kC1Mac, kGatewayMac).ipv4(kGateway, kC1, 64).ipv4_id(7).icmp_echo(0x1234, 5).icmp_type(0).payload(3000);
    EXPECT_EQ(hex_diff(expected.build(), sent[0]), "");
}

TEST_F(GatewayTest, MalformedOrUnservedIcmpIsDroppedAndCounted) {
    h_.receive(c1_, {
                        ping(1).flip_ipv4_checksum().build(),
                        ping(2).flip_l4_checksum().build(),
                    });
    EXPECT_EQ(h_.drops(DropReason::BadHeader), 2u);
    h_.receive(c1_, {
                        // An echo reply, a UDP datagram and a fragment addressed to the gateway.
                        ping(3).icmp_type(RTE_IP_ICMP_ECHO_REPLY).build(),
                        PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).udp(1000, 53).payload(8).build(),
                        ping(4).ipv4_fragment(0, true).build(),
                    });
    EXPECT_EQ(h_.drops(DropReason::NotServed), 3u);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(GatewayTest, OtherDestinationsAreNotAnsweredByTheGateway) {
    // Without a route out, a packet through the gateway is dropped as no_route.
    h_.receive(c1_, {PacketBuilder()
                         .eth(kGatewayMac, kC1Mac)
                         .ipv4(kC1, *Ipv4Address::parse("8.8.8.8"))
                         .icmp_echo(1, 1)
                         .build()});
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::NoRoute), 1u);
}

}  // namespace
}  // namespace dpdock::test
