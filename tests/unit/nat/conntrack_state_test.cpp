// The conntrack state machine (pure) and the host port allocator.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <set>

#include "nat/conntrack.hpp"
#include "nat/port_allocator.hpp"

namespace dpdock::nat {
namespace {

constexpr auto kOrig = Direction::Original;
constexpr auto kReply = Direction::Reply;
constexpr std::uint8_t kSynAck = kTcpSyn | kTcpAck;

TEST(CtStateTest, TcpHandshakeThenCloseWithFin) {
    CtState s = initial_state(IPPROTO_TCP, kTcpSyn);
    EXPECT_EQ(s, CtState::TcpSynSent);
    s = next_state(s, kOrig, kTcpSyn);  // retransmitted SYN
    EXPECT_EQ(s, CtState::TcpSynSent);
    s = next_state(s, kReply, kSynAck);
    EXPECT_EQ(s, CtState::TcpSynRecv);
    s = next_state(s, kOrig, kTcpAck);
    EXPECT_EQ(s, CtState::TcpEstablished);
    s = next_state(s, kReply, kTcpAck);
    EXPECT_EQ(s, CtState::TcpEstablished);
    s = next_state(s, kOrig, kTcpFin | kTcpAck);
    EXPECT_EQ(s, CtState::TcpFinWait);
    s = next_state(s, kReply, kTcpFin | kTcpAck);
    EXPECT_EQ(s, CtState::TcpFinWait);
    // A new SYN on the same tuple reopens it.
    EXPECT_EQ(next_state(s, kOrig, kTcpSyn), CtState::TcpSynSent);
}

TEST(CtStateTest, ResetClosesFromAnyTcpState) {
    for (CtState s : {CtState::TcpSynSent, CtState::TcpSynRecv, CtState::TcpEstablished, CtState::TcpFinWait}) {
        EXPECT_EQ(next_state(s, kReply, kTcpRst), CtState::TcpClose);
        EXPECT_EQ(next_state(s, kOrig, kTcpRst | kTcpAck), CtState::TcpClose);
    }
    EXPECT_EQ(initial_state(IPPROTO_TCP, kTcpRst), CtState::TcpClose);
}

TEST(CtStateTest, OutOfOrderPacketsDoNotAdvance) {
    // A SYN-ACK from the container's side, or an ACK from outside, is not the handshake's next step.
    EXPECT_EQ(next_state(CtState::TcpSynSent, kOrig, kSynAck), CtState::TcpSynSent);
    EXPECT_EQ(next_state(CtState::TcpSynSent, kReply, kTcpAck), CtState::TcpSynSent);
    EXPECT_EQ(next_state(CtState::TcpSynRecv, kReply, kTcpAck), CtState::TcpSynRecv);
    // A FIN before the handshake completed leaves SYN_SENT (and its shorter timer) alone.
    EXPECT_EQ(next_state(CtState::TcpSynSent, kReply, kTcpFin), CtState::TcpSynSent);
    // Picked up mid-stream (like nf_conntrack_tcp_loose): established.
    EXPECT_EQ(initial_state(IPPROTO_TCP, kTcpAck), CtState::TcpEstablished);
}

TEST(CtStateTest, UdpIsAssuredByAReplyAndIcmpStaysIcmp) {
    CtState s = initial_state(IPPROTO_UDP, 0);
    EXPECT_EQ(s, CtState::UdpUnreplied);
    EXPECT_EQ(next_state(s, kOrig, 0), CtState::UdpUnreplied);
    s = next_state(s, kReply, 0);
    EXPECT_EQ(s, CtState::UdpAssured);
    EXPECT_EQ(next_state(s, kOrig, 0), CtState::UdpAssured);
    EXPECT_EQ(initial_state(IPPROTO_ICMP, 0), CtState::Icmp);
    EXPECT_EQ(next_state(CtState::Icmp, kReply, 0), CtState::Icmp);
}

TEST(PortAllocatorTest, KeepsThePreferredPortWhenFree) {
    PortAllocator a(1024, 65535);
    EXPECT_EQ(a.claim(40000), 40000);
    const auto second = a.claim(40000);
    ASSERT_TRUE(second.has_value());
    EXPECT_NE(*second, 40000);
    EXPECT_GE(*second, 1024);
    a.release(40000);
    EXPECT_EQ(a.claim(40000), 40000);
    EXPECT_EQ(a.in_use(), 2u);
}

TEST(PortAllocatorTest, ExhaustionAndReuseOverAnOddSizedRange) {
    // 100 ports: not a multiple of 64, so the bitmap's tail must never be handed out.
    PortAllocator a(5000, 5099);
    std::set<std::uint16_t> got;
    for (int i = 0; i < 100; ++i) {
        const auto p = a.claim(1);  // never in range: always searched
        ASSERT_TRUE(p.has_value()) << i;
        EXPECT_GE(*p, 5000);
        EXPECT_LE(*p, 5099);
        got.insert(*p);
    }
    EXPECT_EQ(got.size(), 100u);
    EXPECT_EQ(a.in_use(), 100u);
    EXPECT_FALSE(a.claim(5050).has_value());
    EXPECT_FALSE(a.claim(1).has_value());
    a.release(5077);
    EXPECT_EQ(a.claim(1), 5077);
    EXPECT_FALSE(a.claim(1).has_value());
}

}  // namespace
}  // namespace dpdock::nat
