// Host port choice in the conntrack table: a translated tuple (host address,
// host port, destination address, destination port, protocol) is unique, not
// a host port, so flows to different destinations share ports as on Linux.
// Timeouts count in ticks with hz = 1, so `now` is in seconds.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <cstring>
#include <set>
#include <string>
#include <utility>

#include <rte_byteorder.h>

#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/unit/nat/rcu_fixture.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kHostIp = 0xc0a83202;  // 192.168.50.2
constexpr std::uint32_t kDestA = 0xcb007109;   // 203.0.113.9
constexpr std::uint32_t kDestB = 0xcb00710a;   // 203.0.113.10

FlowKey udp(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport) {
    return {rte_cpu_to_be_32(src), rte_cpu_to_be_32(dst), rte_cpu_to_be_16(sport), rte_cpu_to_be_16(dport),
            IPPROTO_UDP, {}};
}

std::uint16_t host_port(const Entry& e) { return rte_be_to_cpu_16(e.reply.dst_port); }

class ConntrackPortsTest : public RcuFixture {
protected:

    void make(std::uint32_t capacity, std::uint16_t lo, std::uint16_t hi) {
        static unsigned tables = 0;
        ConntrackOptions o;
        o.name = "ctp" + std::to_string(tables++);
        o.capacity = capacity;
        o.port_lo = lo;
        o.port_hi = hi;
        o.hz = 1;
        o.qsbr = rcu_->qsbr();
        auto ct = Conntrack::create(o);
        ASSERT_TRUE(ct.ok()) << ct.message();
        ct_ = std::move(*ct);
    }

    // The new flow's entry; nullptr with `why_` set when it was refused.
    Entry* open(const FlowKey& k, std::uint64_t now = 0) {
        why_ = DropReason::Count;
        return ct_->create(k, rte_cpu_to_be_32(kHostIp), MacAddress::from_u64(0x02420a000002ULL), 0, 0, now, why_);
    }

    std::unique_ptr<Conntrack> ct_;
    DropReason why_ = DropReason::Count;
};

// 200,000 flows in 2,000 host ports: one port per flow (the old per-protocol
// bitmap) would have stopped at 2,000. Two destination hosts, 100 ports each:
// 1,000 flows per destination, half of the range.
TEST_F(ConntrackPortsTest, TwoHundredThousandFlowsShareASmallRange) {
    constexpr std::uint32_t kFlows = 200'000;
    make(kFlows + 2048, 20000, 21999);  // room beyond the flows: early drop (conntrack.hpp) stays out of it
    std::set<std::pair<std::uint64_t, std::uint16_t>> tuples;  // (destination, host port)
    std::set<std::uint16_t> ports;
    for (std::uint32_t i = 0; i < kFlows; ++i) {
        // Distinct sources: 0xac110000 + i (172.17/16 and beyond), source port outside the range.
        const FlowKey k = udp(0xac110000 + i, 30000 + i % 1000, i % 2 == 0 ? kDestA : kDestB,
                              static_cast<std::uint16_t>(1000 + i / 2 % 100));
        Entry* e = open(k);
        ASSERT_NE(e, nullptr) << "flow " << i << " refused: " << kDropReasonNames[static_cast<std::size_t>(why_)];
        ASSERT_EQ(e->original, k);
        ASSERT_GE(host_port(*e), 20000);
        ASSERT_LE(host_port(*e), 21999);
        ASSERT_EQ(e->reply.dst_ip, rte_cpu_to_be_32(kHostIp));
        ASSERT_EQ(e->reply, FlowKey({k.dst_ip, rte_cpu_to_be_32(kHostIp), k.dst_port, e->reply.dst_port, IPPROTO_UDP}));
        const std::uint64_t dest = std::uint64_t{k.dst_ip} << 16 | k.dst_port;
        ASSERT_TRUE(tuples.insert({dest, host_port(*e)}).second) << "flow " << i << " reuses a translated tuple";
        ports.insert(host_port(*e));
    }
    EXPECT_EQ(ct_->entries(), kFlows);
    EXPECT_EQ(ct_->ports_in_use(IPPROTO_UDP), ports.size());
    EXPECT_EQ(ct_->ports_in_use(IPPROTO_TCP), 0u);
    // Both keys of every flow lead to it, in the right direction.
    for (std::uint32_t i = 0; i < kFlows; i += 997) {
        const FlowKey k = udp(0xac110000 + i, 30000 + i % 1000, i % 2 == 0 ? kDestA : kDestB,
                              static_cast<std::uint16_t>(1000 + i / 2 % 100));
        Direction dir = Direction::Reply;
        Entry* e = ct_->find(k, dir);
        ASSERT_NE(e, nullptr) << i;
        EXPECT_EQ(dir, Direction::Original);
        EXPECT_EQ(ct_->find(e->reply, dir), e);
        EXPECT_EQ(dir, Direction::Reply);
    }
}

TEST_F(ConntrackPortsTest, ExhaustionOfOneDestinationLeavesOthersWorking) {
    make(64, 40000, 40009);
    for (std::uint32_t i = 0; i < 10; ++i) ASSERT_NE(open(udp(0xac110002 + i, 5000, kDestA, 53)), nullptr) << i;
    EXPECT_EQ(open(udp(0xac110020, 5000, kDestA, 53)), nullptr);
    EXPECT_EQ(why_, DropReason::NatNoPort);
    EXPECT_EQ(ct_->entries(), 10u);  // the refused flow's slot went back
    // Another destination host, or another port of the same host, is another tuple space.
    Entry* b = open(udp(0xac110020, 5000, kDestB, 53));
    ASSERT_NE(b, nullptr);
    EXPECT_GE(host_port(*b), 40000);
    EXPECT_LE(host_port(*b), 40009);
    EXPECT_NE(open(udp(0xac110020, 5000, kDestA, 54)), nullptr);
    EXPECT_EQ(ct_->entries(), 12u);
    EXPECT_EQ(ct_->ports_in_use(IPPROTO_UDP), 10u);
    // Other protocols never competed for A's ports.
    FlowKey tcp = udp(0xac110020, 5000, kDestA, 53);
    tcp.proto = IPPROTO_TCP;
    EXPECT_NE(open(tcp), nullptr);
}

TEST_F(ConntrackPortsTest, TheOriginalPortIsKeptWhenItsTupleIsFree) {
    make(64, 1024, 65535);
    // The host port each flow gets; 0 when refused (never a port of the range).
    auto port_of = [this](const FlowKey& k) -> int {
        const Entry* e = open(k);
        return e == nullptr ? 0 : host_port(*e);
    };
    EXPECT_EQ(port_of(udp(0xac110002, 40000, kDestA, 53)), 40000);
    // A second container with the same source port to the same destination cannot keep it...
    const int second = port_of(udp(0xac110003, 40000, kDestA, 53));
    EXPECT_NE(second, 40000);
    EXPECT_GE(second, 1024);
    // ... but it can towards another destination.
    EXPECT_EQ(port_of(udp(0xac110003, 40000, kDestB, 53)), 40000);
    // A source port below the range gets one from it.
    EXPECT_GE(port_of(udp(0xac110004, 80, kDestA, 53)), 1024);
    EXPECT_EQ(ct_->entries(), 4u);
    EXPECT_EQ(ct_->ports_in_use(IPPROTO_UDP), 3u);
}

TEST_F(ConntrackPortsTest, ExpiredFlowsGiveTheirTuplesBack) {
    make(64, 40000, 40001);
    Entry* a = open(udp(0xac110002, 40000, kDestA, 53), 0);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(open(udp(0xac110003, 40000, kDestA, 53), 5), nullptr);
    const FlowKey old_reply = a->reply;
    EXPECT_EQ(open(udp(0xac110004, 40000, kDestA, 53), 10), nullptr);
    EXPECT_EQ(why_, DropReason::NatNoPort);
    // Unreplied UDP lives 30 s: the first flow goes at 30, the second at 35.
    EXPECT_EQ(ct_->expire(29), 0u);
    EXPECT_EQ(ct_->expire(30), 1u);
    Direction dir = Direction::Original;
    EXPECT_EQ(ct_->find(old_reply, dir), nullptr);
    Entry* reused = open(udp(0xac110004, 40000, kDestA, 53), 31);
    ASSERT_NE(reused, nullptr);
    EXPECT_EQ(reused->reply, old_reply);  // the same port: the freed tuple
    EXPECT_EQ(ct_->find(old_reply, dir), reused);
    EXPECT_EQ(dir, Direction::Reply);
    EXPECT_EQ(ct_->expire(66), 2u);
    EXPECT_EQ(ct_->entries(), 0u);
    EXPECT_EQ(ct_->ports_in_use(IPPROTO_UDP), 0u);
}

}  // namespace
}  // namespace dpdock::nat
