// What bounds the conntrack table against traffic from outside: unassured
// flows are dropped early for new ones when the table is full (assured ones
// never), a client's flows to published ports can be limited, flows age out
// in bounded slices, and flushes take exactly the flows of a network or a
// published port. Timeouts count in ticks with hz = 1, so `now` is in seconds.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include <rte_byteorder.h>

#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"
#include "nat/conntrack_flush.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/unit/nat/rcu_fixture.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kHost = 0xc0a83202;       // 192.168.50.2
constexpr std::uint32_t kContainer = 0xac110002;  // 172.17.0.2
constexpr std::uint32_t kServer = 0xcb007109;     // 203.0.113.9
constexpr std::uint16_t kPublished = 8080;

FlowKey tuple(std::uint8_t proto, std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport) {
    return {rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), rte_cpu_to_be_16(sport), rte_cpu_to_be_16(dport), proto, {}};
}

class ConntrackLimitsTest : public RcuFixture {
protected:

    void make(std::uint32_t capacity, std::uint32_t per_source = 0) {
        static unsigned tables = 0;
        ConntrackOptions o;
        o.name = "ctl" + std::to_string(tables++);
        o.capacity = capacity;
        o.flows_per_source = per_source;
        o.hz = 1;
        o.qsbr = rcu_->qsbr();
        auto ct = Conntrack::create(o);
        ASSERT_TRUE(ct.ok()) << ct.message();
        ct_ = std::move(*ct);
    }

    // A container's flow out (MASQUERADE) in `network`.
    Entry* outbound(const FlowKey& k, std::uint8_t flags, NetworkId network = 0, std::uint64_t now = 0) {
        why_ = DropReason::Count;
        return ct_->create(k, rte_cpu_to_be_32(kHost), MacAddress::from_u64(0x02420a000002ULL), network, flags, now,
                           why_);
    }
    // A client's flow to the published port, to the container's port 80.
    Entry* inbound(std::uint32_t client, std::uint16_t sport, std::uint8_t flags, std::uint64_t now = 0,
                   std::uint16_t host_port = kPublished) {
        why_ = DropReason::Count;
        return ct_->create_published(tuple(IPPROTO_TCP, client, sport, kHost, host_port), rte_cpu_to_be_32(kContainer),
                                     rte_cpu_to_be_16(80), 0, MacAddress(), kNoNetwork, flags, now, why_);
    }
    // A TCP handshake through `e`, opened by its original direction.
    void handshake(Entry& e) {
        ct_->track(e, Direction::Reply, kTcpSyn | kTcpAck, 0);
        ct_->track(e, Direction::Original, kTcpAck, 0);
        ASSERT_EQ(e.state.load(), CtState::TcpEstablished);
    }
    bool alive(const Entry& e) {
        Direction dir;
        return ct_->find(e.original, dir) == &e && ct_->find(e.reply, dir) == &e;
    }

    std::unique_ptr<Conntrack> ct_;
    DropReason why_ = DropReason::Count;
};

// A remote peer sends spoofed ACKs and SYNs to a published port from 2,000
// random sources into a table of 32. Established flows in and out stay, new
// flows out are still made, and no spoofed flow is ESTABLISHED or gets more
// than the SYN_SENT timeout.
TEST_F(ConntrackLimitsTest, FloodFromRandomSourcesLeavesEstablishedAndOutboundFlows) {
    make(32);
    std::vector<Entry*> established;
    for (std::uint16_t i = 0; i < 4; ++i) {
        Entry* out = outbound(tuple(IPPROTO_TCP, kContainer, 40000 + i, kServer, 443), kTcpSyn);
        ASSERT_NE(out, nullptr);
        handshake(*out);
        Entry* in = inbound(0x0a000001 + i, 50000, kTcpSyn);
        ASSERT_NE(in, nullptr);
        handshake(*in);
        established.push_back(out);
        established.push_back(in);
    }
    std::mt19937 rng(14);
    for (int i = 0; i < 2000; ++i) {
        const std::uint8_t flags = i % 2 == 0 ? kTcpAck : kTcpSyn;
        Entry* spoofed = inbound(static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()), flags);
        ASSERT_NE(spoofed, nullptr) << "flood packet " << i << ": " << drop_reason_name(why_);
        EXPECT_EQ(spoofed->state.load(), CtState::TcpSynSent);
    }
    // Early drop keeps capacity / 8 slots free for the flows to come.
    EXPECT_GE(ct_->entries(), 32u - 4u - 1u);
    EXPECT_LE(ct_->entries(), 32u);
    EXPECT_GE(ct_->early_drops(), 2000u - (32u - 8u));
    for (Entry* e : established) EXPECT_TRUE(alive(*e));
    int established_now = 0;
    for (const FlowView& f : ct_->dump(0)) {
        if (f.state == CtState::TcpEstablished) {
            ++established_now;
        } else {
            EXPECT_LE(f.seconds_left, Timeouts{}.tcp_syn_sent);
        }
    }
    EXPECT_EQ(established_now, 8);
    // New flows out, UDP and TCP, are made in the full table.
    Entry* udp = outbound(tuple(IPPROTO_UDP, kContainer, 5353, kServer, 53), 0);
    ASSERT_NE(udp, nullptr) << drop_reason_name(why_);
    Entry* tcp = outbound(tuple(IPPROTO_TCP, kContainer, 41000, kServer, 443), kTcpSyn);
    ASSERT_NE(tcp, nullptr) << drop_reason_name(why_);
    ct_->track(*udp, Direction::Reply, 0, 0);
    EXPECT_TRUE(alive(*udp));
    EXPECT_TRUE(alive(*tcp));
    // The control tick frees the early-dropped slots that still wait; nothing expired.
    const std::uint32_t live = ct_->entries();
    EXPECT_EQ(ct_->expire(0), 0u);
    EXPECT_EQ(ct_->entries(), live);
}

// A table of assured flows only has nothing to drop early: new flows are refused.
TEST_F(ConntrackLimitsTest, AFullTableOfAssuredFlowsRefusesNewOnes) {
    make(8);
    for (std::uint16_t i = 0; i < 8; ++i) {
        Entry* e = outbound(tuple(IPPROTO_UDP, kContainer, 1000 + i, kServer, 53), 0);
        ASSERT_NE(e, nullptr);
        ct_->track(*e, Direction::Reply, 0, 0);
    }
    EXPECT_EQ(inbound(0x0a000001, 1, kTcpSyn), nullptr);
    EXPECT_EQ(why_, DropReason::CtFull);
    EXPECT_EQ(ct_->early_drops(), 0u);
}

TEST_F(ConntrackLimitsTest, FlowsPerSourceLimitsClientsOutsideOnly) {
    make(64, 3);
    for (std::uint16_t p = 1; p <= 3; ++p) ASSERT_NE(inbound(0x0a000001, p, kTcpSyn, 0), nullptr);
    EXPECT_EQ(inbound(0x0a000001, 4, kTcpSyn, 0), nullptr);
    EXPECT_EQ(why_, DropReason::CtSourceLimit);
    // Another client, and the same client's existing flow, are not affected.
    EXPECT_NE(inbound(0x0a000002, 1, kTcpSyn, 0), nullptr);
    EXPECT_NE(inbound(0x0a000001, 1, kTcpSyn, 0), nullptr);
    // Containers' own flows are not counted.
    for (std::uint16_t p = 1; p <= 5; ++p) {
        EXPECT_NE(outbound(tuple(IPPROTO_UDP, 0x0a000001, p, kServer, 53), 0), nullptr);
    }
    // When one of the client's flows ends, it may open another.
    EXPECT_EQ(ct_->expire(Timeouts{}.tcp_syn_sent), 9u);
    EXPECT_NE(inbound(0x0a000001, 5, kTcpSyn, 200), nullptr);
}

TEST_F(ConntrackLimitsTest, ExpiryWalksBoundedSlicesAndStillReachesEveryFlow) {
    make(100);
    for (std::uint16_t i = 0; i < 50; ++i) {
        ASSERT_NE(outbound(tuple(IPPROTO_UDP, kContainer, 1000 + i, kServer, 53), 0, 0, i < 25 ? 0 : 1000), nullptr);
    }
    const std::uint32_t slots = ct_->slots();
    std::uint32_t reaped = 0, calls = 0;
    for (std::uint32_t walked = 0; walked < slots; walked += 10, ++calls) {
        const std::uint32_t n = ct_->expire(100, 10);
        EXPECT_LE(n, 10u);
        reaped += n;
    }
    EXPECT_EQ(reaped, 25u) << "the 25 flows past their deadline, over " << calls << " slices";
    EXPECT_EQ(ct_->entries(), 25u);
    EXPECT_EQ(ct_->expire(100), 0u);
}

TEST_F(ConntrackLimitsTest, FlushesTakeANetworksOrAPublishedPortsFlowsOnly) {
    make(64);
    Entry* net1 = outbound(tuple(IPPROTO_UDP, kContainer, 1000, kServer, 53), 0, 1);
    Entry* net2 = outbound(tuple(IPPROTO_UDP, kContainer + 1, 1000, kServer, 53), 0, 2);
    Entry* to_8080 = inbound(0x0a000001, 1000, kTcpSyn);
    Entry* to_9090 = inbound(0x0a000001, 1001, kTcpSyn, 0, 9090);
    ASSERT_TRUE(net1 && net2 && to_8080 && to_9090);
    EXPECT_EQ(flush_network(*ct_, 1), 1u);
    EXPECT_FALSE(alive(*net1));
    EXPECT_TRUE(alive(*net2));
    PublishedRule rule;
    rule.proto = IPPROTO_TCP;
    rule.host_lo = rule.host_hi = 8080;
    PortMap gone;
    ASSERT_TRUE(gone.add(rule));
    EXPECT_EQ(flush_rules(*ct_, gone), 1u);
    EXPECT_TRUE(alive(*to_9090));
    EXPECT_EQ(ct_->entries(), 2u);
}

}  // namespace
}  // namespace dpdock::nat
