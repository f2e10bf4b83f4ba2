// ICMP errors about masqueraded flows through the whole pipeline: an error
// from the outside quoting what left the host reaches the container quoting
// what the container sent; an error a container sends about a reply leaves
// quoting what the outside sent. Expected frames are built whole by the
// builder (full checksums), so every incremental update is checked against a
// full recomputation: TCP, UDP and ICMP echo inner packets, short and long
// quotes, and many random flows.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <random>

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint16_t kPortLo = 20000;  // c1's ports lie outside: every flow is really translated

struct Flow {
    std::uint8_t proto = IPPROTO_UDP;
    std::uint16_t port = 40000;  // source port, or echo id
    Ipv4Address far = kFar;
    std::size_t payload = 20;
};

class IcmpTranslateTest : public ::testing::Test {
protected:
    void SetUp() override {
        nat::ConntrackOptions ct;
        ct.capacity = 1024;
        ct.port_lo = kPortLo;
        ct.port_hi = kPortLo + 999;
        h_.use_conntrack(ct);
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        up_ = h_.add_port(kNoNetwork, dataplane::PortRole::Uplink);
        h_.set_uplink(up_, kHost, kRouter, kUplinkMac, 1'000'000, 100);
        ASSERT_TRUE(h_.context().neighbours->confirm(kRouter, kRouterMac, 1, h_.timing()));
    }

    // c1's packet of `f` with this TTL, as c1 sends it.
    static Frame from_c1(const Flow& f, std::uint8_t ttl = 64) {
        PacketBuilder b;
        b.eth(kGatewayMac, kC1Mac).ipv4(kC1, f.far, ttl).ipv4_id(7);
        add_l4(b, f, false).payload(f.payload);
        return b.build();
    }
    static PacketBuilder& add_l4(PacketBuilder& b, const Flow& f, bool reply, std::uint16_t port = 0) {
        const std::uint16_t p = port != 0 ? port : f.port;
        if (f.proto == IPPROTO_TCP) return reply ? b.tcp(80, p, 0x12) : b.tcp(p, 80, 0x02);
        if (f.proto == IPPROTO_UDP) return reply ? b.udp(53, p) : b.udp(p, 53);
        b.icmp_echo(p, 1);
        return reply ? b.icmp_type(0) : b;
    }

    // Sends c1's first packet of `f` out; returns it as it left the uplink.
    Frame open(const Flow& f) {
        h_.receive(c1_, {from_c1(f)});
        auto out = h_.sent(up_);
        EXPECT_EQ(out.size(), 1u);
        return out.empty() ? Frame{} : out[0];
    }

    // `from` answers the packet `quoted` with an error carrying `l4_bytes` of its L4 header.
    static Frame error_from(Ipv4Address from, const Frame& quoted, std::uint8_t type, std::uint8_t code,
                            std::uint16_t mtu, std::size_t l4_bytes) {
        return PacketBuilder()
            .eth(kUplinkMac, kRouterMac)
            .ipv4(from, kHostIp, 50)
            .ipv4_id(8)
            .icmp_error(type, code, mtu, quote_of(quoted, l4_bytes))
            .build();
    }
    // The same error as c1 must get it: to c1, quoting c1's own packet (TTL 63 after our hop).
    static Frame error_to_c1(Ipv4Address from, const Flow& f, std::uint8_t type, std::uint8_t code, std::uint16_t mtu,
                             std::size_t l4_bytes) {
        return PacketBuilder()
            .eth(kC1Mac, kGatewayMac)
            .ipv4(from, kC1, 49)
            .ipv4_id(8)
            .icmp_error(type, code, mtu, quote_of(from_c1(f, 63), l4_bytes))
            .build();
    }

    // Opens `f`, lets `from` answer with the error, and compares what c1 receives.
    void expect_translated(const Flow& f, Ipv4Address from, std::uint8_t type, std::uint8_t code, std::uint16_t mtu,
                           std::size_t l4_bytes) {
        const Frame left = open(f);
        ASSERT_FALSE(left.empty());
        EXPECT_TRUE(h_.forwards(up_, error_from(from, left, type, code, mtu, l4_bytes), c1_,
                                error_to_c1(from, f, type, code, mtu, l4_bytes)))
            << "proto " << int(f.proto) << " port " << f.port << " quote " << l4_bytes;
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0;
};

TEST_F(IcmpTranslateTest, UdpPortUnreachableFromTheServerReachesTheContainer) {
    expect_translated({.proto = IPPROTO_UDP}, kFar, kIcmpUnreachable, kIcmpPortUnreachable, 0, 8);
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(IcmpTranslateTest, TcpTimeExceededWithShortAndFullQuotes) {
    // 8 bytes: ports and sequence number; 20: the whole header, checksum included.
    expect_translated({.proto = IPPROTO_TCP, .port = 40001}, kRouter, kIcmpTimeExceeded, 0, 0, 8);
    expect_translated({.proto = IPPROTO_TCP, .port = 40002}, kRouter, kIcmpTimeExceeded, 0, 0, 20);
}

TEST_F(IcmpTranslateTest, EchoFragmentationNeededCarriesTheContainersIdAndMtu) {
    expect_translated({.proto = IPPROTO_ICMP, .port = 777, .payload = 56}, kRouter, kIcmpUnreachable, kIcmpFragNeeded, 1400, 8);
}

TEST_F(IcmpTranslateTest, ErrorsQuotingNoTrackedFlowAreNotDelivered) {
    const Flow f;
    const Frame left = open(f);
    Frame stranger = left;
    stranger[sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 1] ^= 0x01;  // another source port
    const Frame error = error_from(kFar, stranger, kIcmpUnreachable, kIcmpPortUnreachable, 0, 8);
    h_.receive(up_, {error});
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
}

TEST_F(IcmpTranslateTest, ContainersErrorAboutAReplyLeavesFromTheHostQuotingWhatWasSent) {
    const Flow f;
    const Frame left = open(f);
    const std::uint16_t host_port = rte_be_to_cpu_16(
        *reinterpret_cast<const rte_be16_t*>(left.data() + sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)));
    PacketBuilder reply;
    reply.eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 50).ipv4_id(8);
    add_l4(reply, f, true, host_port).payload(10);
    h_.receive(up_, {reply.build()});
    auto delivered = h_.sent(c1_);
    ASSERT_EQ(delivered.size(), 1u);

    // c1's socket is gone: port unreachable about the reply, as c1 received it.
    const Frame c1_error = PacketBuilder()
                               .eth(kGatewayMac, kC1Mac)
                               .ipv4(kC1, kFar, 64)
                               .ipv4_id(3)
                               .icmp_error(kIcmpUnreachable, kIcmpPortUnreachable, 0, quote_of(delivered[0]))
                               .build();
    h_.receive(c1_, {c1_error});
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    PacketBuilder as_sent;
    as_sent.eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 49).ipv4_id(8);
    add_l4(as_sent, f, true, host_port).payload(10);
    const Frame expected = PacketBuilder()
                               .eth(kRouterMac, kUplinkMac)
                               .ipv4(kHostIp, kFar, 63)
                               .ipv4_id(3)
                               .icmp_error(kIcmpUnreachable, kIcmpPortUnreachable, 0, quote_of(as_sent.build()))
                               .build();
    EXPECT_EQ(hex_diff(expected, out[0]), "");
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(IcmpTranslateTest, RandomFlowsAndQuotesMatchAFullRecomputation) {
    std::mt19937 rng(4242);
    const std::uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP};
    for (int i = 0; i < 300; ++i) {
        Flow f;
        f.proto = protos[rng() % 3];
        f.port = static_cast<std::uint16_t>(1 + rng() % (kPortLo - 1));
        f.far = Ipv4Address(0x0a000000u | (rng() & 0x00ffffffu));  // 10/8: off the uplink's subnet
        f.payload = rng() % 200;
        const std::size_t header = f.proto == IPPROTO_TCP ? 20 : 8;
        // Even lengths: a quote that cuts a checksum field in half cannot be patched (nor is it by Linux).
        const std::size_t l4_bytes = std::min(header + f.payload, 8 + 2 * (rng() % 20));
        const std::uint8_t type = rng() % 2 ? kIcmpTimeExceeded : kIcmpUnreachable;
        expect_translated(f, kRouter, type, type == kIcmpUnreachable ? kIcmpFragNeeded : 0,
                          static_cast<std::uint16_t>(rng()), l4_bytes);
        if (HasFailure()) break;
    }
    EXPECT_EQ(h_.total_drops(), 0u);
}

}  // namespace
}  // namespace dpdock::test
