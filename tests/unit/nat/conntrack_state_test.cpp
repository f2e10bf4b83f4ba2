// The conntrack state machine (pure).
#include <gtest/gtest.h>

#include <netinet/in.h>

#include "nat/conntrack.hpp"

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
    EXPECT_EQ(next_state(CtState::TcpSynSent, kOrig, kTcpAck), CtState::TcpSynSent);
    EXPECT_EQ(next_state(CtState::TcpSynRecv, kReply, kTcpAck), CtState::TcpSynRecv);
    // A FIN before the handshake completed leaves SYN_SENT (and its shorter timer) alone.
    EXPECT_EQ(next_state(CtState::TcpSynSent, kReply, kTcpFin), CtState::TcpSynSent);
}

// Anyone can send a mid-stream ACK (a spoofed one to a published port
// included): the flow is picked up, as with nf_conntrack_tcp_loose, but
// stays in SYN_SENT, with its short timeout, until the other side answers.
TEST(CtStateTest, MidStreamPickupIsEstablishedOnlyAfterAReply) {
    CtState s = initial_state(IPPROTO_TCP, kTcpAck);
    EXPECT_EQ(s, CtState::TcpSynSent);
    EXPECT_EQ(initial_state(IPPROTO_TCP, kTcpAck | kTcpFin), CtState::TcpSynSent);
    EXPECT_EQ(initial_state(IPPROTO_TCP, kSynAck), CtState::TcpSynSent);
    s = next_state(s, kOrig, kTcpAck);
    EXPECT_EQ(s, CtState::TcpSynSent);
    EXPECT_EQ(next_state(s, kReply, kTcpAck), CtState::TcpEstablished);
    // A reset from the other side (nothing listens) closes it.
    EXPECT_EQ(next_state(s, kReply, kTcpRst), CtState::TcpClose);
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

}  // namespace
}  // namespace dpdock::nat
