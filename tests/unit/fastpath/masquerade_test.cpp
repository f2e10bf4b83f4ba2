// MASQUERADE through the whole pipeline: frames from containers leave the
// uplink from the host address, replies come back translated to the right
// container; checksums equal a full recomputation (the builder's); a full
// table, an exhausted port range and expiry behave as configured. Time is
// passed in; the harness's conntrack counts timeouts in ticks = seconds.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <random>

#include <rte_ip.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

class MasqueradeTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto t = h_.containers_behind_uplink();
        net_ = t.net;
        c1_ = t.c1;
        c2_ = t.c2;
        up_ = t.up;
    }

    static PacketBuilder out(MacAddress src_mac, Ipv4Address src, std::uint8_t ttl = 64) {
        PacketBuilder b;
        b.eth(kGatewayMac, src_mac).ipv4(src, kFar, ttl).ipv4_id(7);
        return b;
    }
    static PacketBuilder leaving(std::uint8_t ttl = 63) {
        PacketBuilder b;
        b.eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, ttl).ipv4_id(7);
        return b;
    }
    static PacketBuilder in(std::uint8_t ttl = 50) {
        PacketBuilder b;
        b.eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, ttl).ipv4_id(8);
        return b;
    }
    static PacketBuilder delivered(MacAddress mac, Ipv4Address ip, std::uint8_t ttl = 49) {
        PacketBuilder b;
        b.eth(mac, kGatewayMac).ipv4(kFar, ip, ttl).ipv4_id(8);
        return b;
    }

    // c1 opens three UDP flows, from ports 5001, 5002 and 5003.
    void three_new_udp_flows(std::uint64_t now) {
        h_.receive(c1_, {out(kC1Mac, kC1).udp(5001, 53).build(), out(kC1Mac, kC1).udp(5002, 53).build(),
                         out(kC1Mac, kC1).udp(5003, 53).build()},
                   now);
    }

    nat::CtState state_of(std::uint16_t container_port) {
        for (const auto& f : h_.conntrack().dump(0)) {
            if (f.original.src_port == rte_cpu_to_be_16(container_port)) return f.state;
        }
        ADD_FAILURE() << "no flow from port " << container_port;
        return nat::CtState::Count;
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0, up_ = 0;
};

TEST_F(MasqueradeTest, TcpHandshakeBothWaysWithStates) {
    // The MAC table learns c1 from its first frame; replies go to its port.
    ASSERT_TRUE(h_.forwards(c1_, out(kC1Mac, kC1).tcp(40000, 80, 0x02).payload(0).build(), up_,
                            leaving().tcp(40000, 80, 0x02).payload(0).build(), 10));
    EXPECT_EQ(state_of(40000), nat::CtState::TcpSynSent);

    ASSERT_TRUE(h_.forwards(up_, in().tcp(80, 40000, 0x12).payload(0).build(), c1_,
                            delivered(kC1Mac, kC1).tcp(80, 40000, 0x12).payload(0).build(), 11));
    EXPECT_EQ(state_of(40000), nat::CtState::TcpSynRecv);

    ASSERT_TRUE(h_.forwards(c1_, out(kC1Mac, kC1).tcp(40000, 80, 0x10).payload(100).build(), up_,
                            leaving().tcp(40000, 80, 0x10).payload(100).build(), 12));
    EXPECT_EQ(state_of(40000), nat::CtState::TcpEstablished);

    h_.receive(up_, {in().tcp(80, 40000, 0x11).payload(0).build()}, 13);
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    EXPECT_EQ(state_of(40000), nat::CtState::TcpFinWait);
    h_.receive(c1_, {out(kC1Mac, kC1).tcp(40000, 80, 0x04).payload(0).build()}, 14);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    EXPECT_EQ(state_of(40000), nat::CtState::TcpClose);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.sent(c2_).size(), 0u);
}

TEST_F(MasqueradeTest, SecondFlowOnTheSamePortGetsAnotherAndRepliesFindTheirContainer) {
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5000, 53).payload(12).build()}, 10);
    h_.receive(c2_, {out(kC2Mac, kC2).udp(5000, 53).payload(12).build()}, 10);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(hex_diff(leaving().udp(5000, 53).payload(12).build(), sent[0]), "");
    // The second flow's port is whatever the allocator chose: read it from the table.
    std::uint16_t c2_port = 0;
    for (const auto& f : h_.conntrack().dump(0)) {
        if (f.original.src_ip == kC2.be().raw()) c2_port = rte_be_to_cpu_16(f.reply.dst_port);
    }
    ASSERT_NE(c2_port, 0);
    ASSERT_NE(c2_port, 5000);
    EXPECT_EQ(hex_diff(leaving().udp(c2_port, 53).payload(12).build(), sent[1]), "");

    h_.receive(up_, {in().udp(53, c2_port).payload(30).build(), in().udp(53, 5000).payload(31).build()}, 11);
    auto to_c1 = h_.sent(c1_), to_c2 = h_.sent(c2_);
    ASSERT_EQ(to_c1.size(), 1u);
    ASSERT_EQ(to_c2.size(), 1u);
    EXPECT_EQ(hex_diff(delivered(kC1Mac, kC1).udp(53, 5000).payload(31).build(), to_c1[0]), "");
    EXPECT_EQ(hex_diff(delivered(kC2Mac, kC2).udp(53, 5000).payload(30).build(), to_c2[0]), "");
    EXPECT_EQ(state_of(5000), nat::CtState::UdpAssured);
}

TEST_F(MasqueradeTest, EchoIdIsTranslatedAndTheReplyReturns) {
    h_.receive(c1_, {out(kC1Mac, kC1).icmp_echo(77, 1).payload(16).build()}, 10);
    auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 1u);
    // Id 77 is outside the port range 1024-65535: the flow got an id from the range.
    const auto flows = h_.conntrack().dump(0);
    ASSERT_EQ(flows.size(), 1u);
    const std::uint16_t id = rte_be_to_cpu_16(flows[0].reply.dst_port);
    EXPECT_GE(id, 1024);
    EXPECT_EQ(hex_diff(leaving().icmp_echo(id, 1).payload(16).build(), sent[0]), "");
    ASSERT_TRUE(h_.forwards(up_, in().icmp_echo(id, 1).icmp_type(0).payload(16).build(), c1_,
                            delivered(kC1Mac, kC1).icmp_echo(77, 1).icmp_type(0).payload(16).build(), 11));
}

TEST_F(MasqueradeTest, ReplyForAnAgedOutMacIsFloodedInTheNetwork) {
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5000, 53).build()}, 10);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    EXPECT_EQ(h_.context().macs->expire(1000, 1), 1u);
    h_.receive(up_, {in().udp(53, 5000).payload(8).build()}, 11);
    const Frame want = delivered(kC1Mac, kC1).udp(53, 5000).payload(8).build();
    for (PortId p : {c1_, c2_}) {
        auto sent = h_.sent(p);
        ASSERT_EQ(sent.size(), 1u) << p;
        EXPECT_EQ(hex_diff(want, sent[0]), "");
    }
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(MasqueradeTest, UntrackedTrafficToTheHostIsNotServed) {
    h_.receive(up_, {in().udp(53, 5000).payload(4).build()}, 10);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(MasqueradeTest, NetworkWithMasqueradeOffKeepsTheContainerSource) {
    h_.snapshot().networks[net_].masquerade = false;
    const Frame unchanged_source =
        PacketBuilder().eth(kRouterMac, kUplinkMac).ipv4(kC1, kFar, 63).ipv4_id(7).udp(5000, 53).payload(4).build();
    ASSERT_TRUE(h_.forwards(c1_, out(kC1Mac, kC1).udp(5000, 53).payload(4).build(), up_, unchanged_source, 10));
    EXPECT_EQ(h_.conntrack().entries(), 0u);
}

TEST_F(MasqueradeTest, PacketsOfANewFlowInOneBurstShareOneEntry) {
    // route_stage looks the burst up before translating any of it: the
    // flow the first packet creates must still be the one the others use.
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5001, 53).build(), out(kC1Mac, kC1).udp(5002, 53).build(),
                     out(kC1Mac, kC1).udp(5001, 53).build(), out(kC1Mac, kC1).udp(5002, 53).build()},
               10);
    const auto sent = h_.sent(up_);
    ASSERT_EQ(sent.size(), 4u);
    EXPECT_EQ(hex_diff(leaving().udp(5001, 53).build(), sent[0]), "");
    EXPECT_EQ(hex_diff(leaving().udp(5002, 53).build(), sent[1]), "");
    EXPECT_EQ(hex_diff(leaving().udp(5001, 53).build(), sent[2]), "");
    EXPECT_EQ(hex_diff(leaving().udp(5002, 53).build(), sent[3]), "");
    EXPECT_EQ(h_.conntrack().entries(), 2u);
    EXPECT_EQ(h_.total_drops(), 0u);
}

// A full table of answered flows has none to drop early for a new one.
TEST_F(MasqueradeTest, FullTableDropsNewFlowsAndKeepsOldOnes) {
    nat::ConntrackOptions o;
    o.capacity = 2;
    h_.use_conntrack(o);
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5001, 53).build(), out(kC1Mac, kC1).udp(5002, 53).build()}, 10);
    h_.receive(up_, {in().udp(53, 5001).build(), in().udp(53, 5002).build()}, 10);
    EXPECT_EQ(h_.sent(c1_).size(), 2u);
    three_new_udp_flows(10);
    EXPECT_EQ(h_.sent(up_).size(), 4u);  // the first two, then 5001 and 5002 again
    EXPECT_EQ(h_.drops(DropReason::CtFull), 1u);
    // Both tracked flows still pass, both ways.
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5001, 53).build(), out(kC1Mac, kC1).udp(5002, 53).build()}, 11);
    EXPECT_EQ(h_.sent(up_).size(), 2u);
    h_.receive(up_, {in().udp(53, 5001).build(), in().udp(53, 5002).build()}, 11);
    EXPECT_EQ(h_.sent(c1_).size(), 2u);
    EXPECT_EQ(h_.drops(DropReason::CtFull), 1u);
    EXPECT_EQ(h_.total_drops(), 1u);
}

TEST_F(MasqueradeTest, ExhaustedPortRangeDropsAndCounts) {
    nat::ConntrackOptions o;
    o.port_lo = 2000;
    o.port_hi = 2001;
    h_.use_conntrack(o);
    three_new_udp_flows(10);
    EXPECT_EQ(h_.sent(up_).size(), 2u);
    EXPECT_EQ(h_.drops(DropReason::NatNoPort), 1u);
    EXPECT_EQ(h_.conntrack().entries(), 2u);
    EXPECT_EQ(h_.conntrack().ports_in_use(IPPROTO_UDP), 2u);
    // Another protocol has its own ports.
    h_.receive(c1_, {out(kC1Mac, kC1).tcp(5001, 80).build()}, 10);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
}

TEST_F(MasqueradeTest, ExpiryReclaimsEntriesAndPorts) {
    nat::ConntrackOptions o;
    o.port_lo = 2000;
    o.port_hi = 2000;  // one port: the second flow needs the first one's
    h_.use_conntrack(o);
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5001, 53).build()}, 10);
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    h_.receive(c1_, {out(kC1Mac, kC1).udp(5002, 53).build()}, 20);
    EXPECT_EQ(h_.drops(DropReason::NatNoPort), 1u);
    // Unreplied UDP lives 30 s after its last packet.
    EXPECT_EQ(h_.conntrack().expire(39), 0u);
    EXPECT_EQ(h_.conntrack().expire(40), 1u);
    EXPECT_EQ(h_.conntrack().entries(), 0u);
    EXPECT_EQ(h_.conntrack().ports_in_use(IPPROTO_UDP), 0u);
    // The old flow's reply is no longer recognised; the port serves a new flow.
    h_.receive(up_, {in().udp(53, 2000).build()}, 42);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
    ASSERT_TRUE(h_.forwards(c1_, out(kC1Mac, kC1).udp(5002, 53).build(), up_, leaving().udp(2000, 53).build(), 42));
}

// Incremental updates against a full recomputation, over random addresses,
// ports, payloads and TTLs, for TCP and UDP.
TEST_F(MasqueradeTest, ChecksumsMatchFullRecomputation) {
    std::mt19937 rng(4);
    for (int i = 0; i < 300; ++i) {
        const auto src = Ipv4Address(0xac110000 | (rng() % 0xfffe + 1));
        const auto sport = static_cast<std::uint16_t>(rng());
        const auto dport = static_cast<std::uint16_t>(rng() % 65535 + 1);
        const std::size_t len = rng() % 200;
        const bool tcp = (i % 2) == 0;
        PacketBuilder b;
        b.eth(kGatewayMac, kC1Mac).ipv4(src, kFar, static_cast<std::uint8_t>(rng() % 200 + 2));
        if (tcp) {
            b.tcp(sport, dport, 0x10);
        } else {
            b.udp(sport, dport);
        }
        h_.receive(c1_, {b.payload(len).build()}, 10);
        auto sent = h_.sent(up_);
        ASSERT_EQ(sent.size(), 1u) << i;
        rte_mbuf* m = to_mbuf(h_.pool(), sent[0]);
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
        EXPECT_EQ(ip->src_addr, kHostIp.be().raw());
        const std::uint16_t patched = ip->hdr_checksum;
        ip->hdr_checksum = 0;
        EXPECT_EQ(rte_ipv4_cksum(ip), patched) << i;
        ip->hdr_checksum = patched;
        auto* l4 = reinterpret_cast<std::uint8_t*>(ip + 1);
        auto* field = reinterpret_cast<unaligned_uint16_t*>(l4 + (tcp ? 16 : 6));
        const std::uint16_t l4_patched = *field;
        *field = 0;
        EXPECT_EQ(rte_ipv4_udptcp_cksum(ip, l4), l4_patched) << i;
        rte_pktmbuf_free(m);
    }
}

}  // namespace
}  // namespace dpdock::test
