// Offload metadata through the pipeline, as a container port with the
// kernel's virtio-net header delivers it (mbuf tx-offload fields set by hand
// here): a TCP super-frame leaves the uplink (after MASQUERADE) and a VXLAN
// tunnel as segments of its MSS with valid checksums and contiguous
// sequence numbers, compared byte for byte with what Linux's segmentation
// sends; partial checksums are completed after NAT in both directions, or
// passed on with the flags (pseudo-header patched) to a port that takes them.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <cstring>

#include <rte_ip.h>

#include "nat/published_ports.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint64_t kTso = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
constexpr std::uint64_t kUdpPartial = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
constexpr std::uint64_t kTso6 = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
constexpr std::uint64_t kUso = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_UDP_SEG;
constexpr std::uint64_t kUso6 = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_UDP_SEG;
constexpr Ipv6Bytes kC1v6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr Ipv6Bytes kC2v6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
constexpr std::uint8_t kAck = 0x10, kPshAck = 0x18;

// A payload without a period that segment boundaries could hide.
std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(i * 131 + i / 251);
    return p;
}

// Every frame of `out` against want(k), byte for byte.
template <class Want>
void expect_each(const std::vector<Frame>& out, Want&& want) {
    for (std::size_t k = 0; k < out.size(); ++k) EXPECT_EQ(hex_diff(want(k), out[k]), "") << "frame " << k;
}

std::span<const std::uint8_t> slice(const std::vector<std::uint8_t>& p, std::size_t at, std::size_t len) {
    return std::span<const std::uint8_t>(p).subspan(at, std::min(len, p.size() - at));
}

// What Linux's CHECKSUM_PARTIAL leaves in the L4 checksum field: the
// pseudo-header sum, not complemented (IPv4 header at `l3`).
void make_partial(Frame& f, std::size_t l3 = 14) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + l3);
    const std::size_t field = ip->next_proto_id == IPPROTO_TCP ? 16 : 6;
    const std::uint16_t sum = rte_ipv4_phdr_cksum(ip, 0);
    std::memcpy(f.data() + l3 + rte_ipv4_hdr_len(ip) + field, &sum, sizeof sum);
}

// `f` in an mbuf chain of `segment`-byte pieces with the offload fields a
// port reading the virtio-net header sets.
rte_mbuf* offloaded(PipelineHarness& h, PortId port, const Frame& f, std::uint64_t flags, std::uint16_t mss = 0,
                    std::size_t segment = 2000) {
    rte_mbuf* m = to_mbuf(h.pool(), f, segment);
    if (m == nullptr) return nullptr;
    m->port = port;
    m->ol_flags = flags;
    m->l2_len = 14;
    m->l3_len = (flags & RTE_MBUF_F_TX_IPV6) != 0 ? 40 : 20;
    m->l4_len = (flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM ? 20 : 8;
    m->tso_segsz = mss;
    return m;
}

class EgressOffloadTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto t = h_.containers_behind_uplink();
        net_ = t.net;
        c1_ = t.c1;
        c2_ = t.c2;
        up_ = t.up;
    }
    // Everything sent went out (drained) or back to the pools.
    void expect_no_leak() {
        EXPECT_EQ(h_.mbufs_in_use(), 0u);
        EXPECT_EQ(h_.indirect_mbufs_in_use(), 0u);
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, c2_ = 0, up_ = 0;
};

// 20,000 bytes from c1 in one super-frame (MSS 1460), masqueraded: 14
// segments leave the uplink as Linux would have sent them, from the host address.
TEST_F(EgressOffloadTest, MasqueradedSuperFrameLeavesTheUplinkAsSegments) {
    const auto data = pattern(20000);
    constexpr std::uint16_t kMss = 1460;
    Frame super = PacketBuilder()
                      .eth(kGatewayMac, kC1Mac)
                      .ipv4(kC1, kFar)
                      .ipv4_id(7)
                      .ipv4_dont_fragment()
                      .tcp(40000, 80, kPshAck)
                      .tcp_seq(5000)
                      .payload(data)
                      .build();
    make_partial(super);
    h_.receive({offloaded(h_, c1_, super, kTso, kMss)});

    const auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 14u);
    expect_each(out, [&](std::size_t k) {
        return PacketBuilder()
                   .eth(kRouterMac, kUplinkMac)
                   .ipv4(kHostIp, kFar, 63)
                   .ipv4_id(static_cast<std::uint16_t>(7 + k))
                   .ipv4_dont_fragment()
                   .tcp(40000, 80, k + 1 == out.size() ? kPshAck : kAck)
                   .tcp_seq(static_cast<std::uint32_t>(5000 + k * kMss))
                   .payload(slice(data, k * kMss, kMss))
                   .build();
    });
    EXPECT_EQ(h_.counters().gso_frames, 1u);
    EXPECT_EQ(h_.counters().gso_segments, 14u);
    EXPECT_EQ(h_.counters().ports[up_].tx_packets, 14u);
    EXPECT_EQ(h_.total_drops(), 0u);
    expect_no_leak();
}

// A container's UDP with a partial checksum, masqueraded: it leaves with
// the checksum a full computation gives; the reply (partial too, as a
// neighbour with offload on sends it) reaches c1 complete.
TEST_F(EgressOffloadTest, PartialUdpChecksumsAreCompletedAfterNatBothWays) {
    Frame request = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).udp(5001, 53).payload(1000).build();
    make_partial(request);
    h_.receive({offloaded(h_, c1_, request, kUdpPartial)});
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(hex_diff(PacketBuilder().eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 63).udp(5001, 53).payload(1000).build(),
                       out[0]),
              "");

    Frame reply = PacketBuilder().eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 50).udp(53, 5001).payload(700).build();
    make_partial(reply);
    h_.receive({offloaded(h_, up_, reply, kUdpPartial)});
    out = h_.sent(c1_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(hex_diff(PacketBuilder().eth(kC1Mac, kGatewayMac).ipv4(kFar, kC1, 49).udp(53, 5001).payload(700).build(),
                       out[0]),
              "");
    EXPECT_EQ(h_.counters().checksum_completed, 2u);
    EXPECT_EQ(h_.total_drops(), 0u);
    expect_no_leak();
}

// A port that takes the offloads gets the super-frame whole, flags kept,
// its pseudo-header sum patched for the new source address only.
TEST_F(EgressOffloadTest, PortThatTakesOffloadsGetsTheSuperFrameWholeWithItsPseudoHeaderPatched) {
    h_.snapshot().offload_ports |= std::uint64_t{1} << up_;
    Frame super = PacketBuilder()
                      .eth(kGatewayMac, kC1Mac)
                      .ipv4(kC1, kFar)
                      .ipv4_dont_fragment()
                      .tcp(40000, 80, kPshAck)
                      .payload(pattern(9000))
                      .build();
    make_partial(super);
    h_.receive({offloaded(h_, c1_, super, kTso, 1460)});

    Frame want = PacketBuilder()
                     .eth(kRouterMac, kUplinkMac)
                     .ipv4(kHostIp, kFar, 63)
                     .ipv4_dont_fragment()
                     .tcp(40000, 80, kPshAck)
                     .payload(pattern(9000))
                     .build();
    make_partial(want);
    std::vector<MbufPtr> out;
    for (auto* m : h_.sent_mbufs(up_)) out.emplace_back(m);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(hex_diff(want, from_mbuf(out[0].get())), "");
    EXPECT_EQ(out[0]->ol_flags & kTso, kTso);
    EXPECT_EQ(out[0]->tso_segsz, 1460u);
    EXPECT_EQ(h_.counters().gso_frames, 0u);
    EXPECT_EQ(h_.counters().checksum_completed, 0u);
}

// Hairpin (c2 -> host:8080 published by c1) to a port that takes the
// offloads: both rewrites (MASQUERADE to the gateway, DNAT to c1) patch the
// partial checksum as a pseudo-header sum, so the kernel completes it right.
TEST_F(EgressOffloadTest, HairpinKeepsAPartialChecksumAPseudoHeaderSum) {
    h_.snapshot().offload_ports |= std::uint64_t{1} << c1_;
    auto map = std::make_shared<nat::PortMap>();
    nat::PublishedRule r;
    r.proto = IPPROTO_TCP;
    r.host_lo = r.host_hi = 8080;
    r.container_lo = 80;
    r.container_ip = kC1;
    r.container_mac = kC1Mac;
    r.network = net_;
    r.gateway = kGateway;
    r.container = "c1";
    ASSERT_TRUE(map->add(r));
    h_.snapshot().published = map;
    ASSERT_TRUE(h_.context().macs->add_static(net_, kC1Mac, c1_).ok());
    ASSERT_TRUE(h_.context().macs->add_static(net_, kC2Mac, c2_).ok());

    Frame request = PacketBuilder().eth(kGatewayMac, kC2Mac).ipv4(kC2, kHostIp).tcp(33000, 8080, kAck).payload(900).build();
    make_partial(request);
    h_.receive({offloaded(h_, c2_, request, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM)});
    Frame want = PacketBuilder().eth(kC1Mac, kGatewayMac).ipv4(kGateway, kC1, 63).tcp(33000, 80, kAck).payload(900).build();
    make_partial(want);
    std::vector<MbufPtr> out;
    for (auto* m : h_.sent_mbufs(c1_)) out.emplace_back(m);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(hex_diff(want, from_mbuf(out[0].get())), "");
    EXPECT_EQ(out[0]->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
}

// Bridged between two containers, the super-frame is segmented only for the
// port that cannot take it.
TEST_F(EgressOffloadTest, BridgedSuperFrameIsSegmentedForAPortWithoutOffloads) {
    h_.receive(c2_, {PacketBuilder().eth(kBroadcast, kC2Mac).arp_request(kC2Mac, kC2, kC1).build()});
    h_.sent(c1_);
    const auto data = pattern(4000);
    Frame super = PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).tcp(40000, 80, kAck).payload(data).build();
    make_partial(super);
    h_.receive({offloaded(h_, c1_, super, kTso, 1448)});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 3u);
    expect_each(out, [&](std::size_t k) {
        return PacketBuilder()
                   .eth(kC2Mac, kC1Mac)
                   .ipv4(kC1, kC2)
                   .ipv4_id(static_cast<std::uint16_t>(1 + k))
                   .tcp(40000, 80, kAck)
                   .tcp_seq(static_cast<std::uint32_t>(1000 + k * 1448))
                   .payload(slice(data, k * 1448, 1448))
                   .build();
    });
    expect_no_leak();
}

// Bridged to a port without offloads, an IPv6 TCP super-frame (which
// rte_gso cannot cut) leaves as Linux's segments: sequence advanced by the
// MSS, PSH only on the last, payload lengths and checksums complete. The
// super-frame's checksum field is garbage: it is computed, not patched.
TEST_F(EgressOffloadTest, BridgedIpv6TcpSuperFrameIsSegmented) {
    h_.receive(c2_, {PacketBuilder().eth(kBroadcast, kC2Mac).arp_request(kC2Mac, kC2, kC1).build()});
    h_.sent(c1_);
    const auto data = pattern(5000);
    constexpr std::uint16_t kMss = 1428;
    Frame super =
        PacketBuilder().eth(kC2Mac, kC1Mac).ipv6(kC1v6, kC2v6).tcp(40000, 80, kPshAck).payload(data).flip_l4_checksum().build();
    h_.receive({offloaded(h_, c1_, super, kTso6, kMss, 1000)});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 4u);
    expect_each(out, [&](std::size_t k) {
        return PacketBuilder()
                   .eth(kC2Mac, kC1Mac)
                   .ipv6(kC1v6, kC2v6)
                   .tcp(40000, 80, k + 1 == out.size() ? kPshAck : kAck)
                   .tcp_seq(static_cast<std::uint32_t>(1000 + k * kMss))
                   .payload(slice(data, k * kMss, kMss))
                   .build();
    });
    EXPECT_EQ(h_.counters().gso_frames, 1u);
    EXPECT_EQ(h_.counters().gso_segments, 4u);
    EXPECT_EQ(h_.total_drops(), 0u);
    expect_no_leak();
}

// A UDP super-frame (the sender's UDP_SEGMENT), masqueraded out of the
// uplink: whole datagrams of the segment size, each with its own UDP header
// and checksum and the next IPv4 id, as Linux's __udp_gso_segment sends them
// (rte_gso would have sent IP fragments of one datagram).
TEST_F(EgressOffloadTest, MasqueradedUdpSuperFrameLeavesAsDatagrams) {
    const auto data = pattern(4500);
    constexpr std::uint16_t kSegment = 1200;
    Frame super = PacketBuilder()
                      .eth(kGatewayMac, kC1Mac)
                      .ipv4(kC1, kFar)
                      .ipv4_id(40)
                      .ipv4_dont_fragment()
                      .udp(5001, 4433)
                      .payload(data)
                      .build();
    make_partial(super);
    h_.receive({offloaded(h_, c1_, super, kUso, kSegment)});
    const auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 4u);
    expect_each(out, [&](std::size_t k) {
        return PacketBuilder()
                   .eth(kRouterMac, kUplinkMac)
                   .ipv4(kHostIp, kFar, 63)
                   .ipv4_id(static_cast<std::uint16_t>(40 + k))
                   .ipv4_dont_fragment()
                   .udp(5001, 4433)
                   .payload(slice(data, k * kSegment, kSegment))
                   .build();
    });
    EXPECT_EQ(h_.counters().gso_segments, 4u);
    EXPECT_EQ(h_.total_drops(), 0u);
    expect_no_leak();
}

// The same over IPv6, bridged.
TEST_F(EgressOffloadTest, BridgedIpv6UdpSuperFrameLeavesAsDatagrams) {
    h_.receive(c2_, {PacketBuilder().eth(kBroadcast, kC2Mac).arp_request(kC2Mac, kC2, kC1).build()});
    h_.sent(c1_);
    const auto data = pattern(3000);
    constexpr std::uint16_t kSegment = 1000;
    Frame super = PacketBuilder().eth(kC2Mac, kC1Mac).ipv6(kC1v6, kC2v6).udp(6000, 443).payload(data).flip_l4_checksum().build();
    h_.receive({offloaded(h_, c1_, super, kUso6, kSegment)});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 3u);
    expect_each(out, [&](std::size_t k) {
        return PacketBuilder()
                   .eth(kC2Mac, kC1Mac)
                   .ipv6(kC1v6, kC2v6)
                   .udp(6000, 443)
                   .payload(slice(data, k * kSegment, kSegment))
                   .build();
    });
    EXPECT_EQ(h_.total_drops(), 0u);
    expect_no_leak();
}

// Metadata that cannot be honoured (no MSS) is dropped and counted, never sent broken.
TEST_F(EgressOffloadTest, UnusableOffloadMetadataIsDroppedAndCounted) {
    Frame super = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kFar).tcp(40000, 80, kAck).payload(3000).build();
    make_partial(super);
    h_.receive({offloaded(h_, c1_, super, kTso, 0)});
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.drops(DropReason::OffloadFailed), 1u);
    expect_no_leak();
}

// Into a VXLAN tunnel: segments of the inner MSS, each encapsulated.
TEST_F(EgressOffloadTest, SuperFrameIntoAVxlanPeerIsSegmentedBeforeEncapsulation) {
    const Ipv4Address peer = *Ipv4Address::parse("192.168.50.9");
    const MacAddress peer_mac = MacAddress::from_u64(0x02bb00000009ULL);
    const Ipv4Address gw = *Ipv4Address::parse("10.10.0.1");
    const Ipv4Address local = *Ipv4Address::parse("10.10.0.2");
    const Ipv4Address remote = *Ipv4Address::parse("10.10.0.3");
    const NetworkId overlay = h_.add_network(gw, 24);
    const PortId c3 = h_.add_port(overlay);
    const PortId vtep = h_.vteps().port_of(peer);
    h_.snapshot().segments.add(overlay, {.vni = 300, .peers = {{peer, vtep}}});
    ASSERT_TRUE(h_.macs().add_static(overlay, docker_mac_for(remote), vtep).ok());
    ASSERT_TRUE(h_.context().neighbours->confirm(peer, peer_mac, 1, h_.timing()));

    const auto data = pattern(20000);
    constexpr std::uint16_t kMss = 1500 - 50 - 40;
    auto inner = [&](std::size_t k, std::size_t count) {
        return PacketBuilder()
            .eth(docker_mac_for(remote), docker_mac_for(local))
            .ipv4(local, remote)
            .ipv4_id(static_cast<std::uint16_t>(3 + k))
            .ipv4_dont_fragment()
            .tcp(40000, 80, k + 1 == count ? kPshAck : kAck)
            .tcp_seq(static_cast<std::uint32_t>(1000 + k * kMss))
            .payload(slice(data, k * kMss, count == 1 ? data.size() : kMss))
            .build();
    };
    Frame super = inner(0, 1);
    make_partial(super);
    const std::uint16_t first_id = h_.context().vxlan_ip_id;
    h_.receive({offloaded(h_, c3, super, kTso, kMss)});

    const auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 15u);
    for (std::size_t k = 0; k < out.size(); ++k) {
        const Frame want_inner = inner(k, out.size());
        const std::size_t at = vxlan::kEncapLen;  // outer Ethernet, IPv4, UDP, VXLAN
        ASSERT_EQ(out[k].size(), at + want_inner.size()) << "segment " << k;
        EXPECT_EQ(hex_diff(want_inner, std::span<const std::uint8_t>(out[k]).subspan(at)), "") << "segment " << k;
        // The outer IPv4 header: length, its own id, valid checksum.
        const auto* outer = reinterpret_cast<const rte_ipv4_hdr*>(out[k].data() + 14);
        EXPECT_EQ(rte_be_to_cpu_16(outer->total_length), out[k].size() - 14);
        EXPECT_EQ(rte_be_to_cpu_16(outer->packet_id), static_cast<std::uint16_t>(first_id + k));
        EXPECT_EQ(rte_ipv4_cksum(outer), 0u) << "segment " << k;
        EXPECT_LE(out[k].size() - 14, 1500u);
    }
    EXPECT_EQ(h_.counters().gso_segments, 15u);
    expect_no_leak();
}

}  // namespace
}  // namespace dpdock::test
