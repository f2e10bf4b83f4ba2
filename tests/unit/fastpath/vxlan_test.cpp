// The VTEP in the pipeline: encapsulation of frames for MACs behind a remote
// VTEP (outer headers checked field by field and as bytes), head-end
// replication of flooded frames, decapsulation into the overlay network with
// learning of the inner source, refusal of bad outer headers (each counted),
// and the FDB's learning, moves and ageing. Crafted frames, ring ports.
#include <gtest/gtest.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "tests/unit/fastpath/pipeline_harness.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kPeerA = *Ipv4Address::parse("192.168.50.9");
const Ipv4Address kPeerB = *Ipv4Address::parse("10.99.0.5");  // off-link: reached through the router
const Ipv4Address kStranger = *Ipv4Address::parse("192.168.50.66");
const MacAddress kPeerAMac = MacAddress::from_u64(0x02bb00000009ULL);
const Ipv4Address kOverlayGw = *Ipv4Address::parse("10.10.0.1");
const Ipv4Address kLocal = *Ipv4Address::parse("10.10.0.2");
const Ipv4Address kRemote = *Ipv4Address::parse("10.10.0.3");
const MacAddress kLocalMac = docker_mac_for(kLocal);
const MacAddress kRemoteMac = docker_mac_for(kRemote);
constexpr std::uint32_t kVni = 300;
constexpr std::size_t kUdpAt = 14 + 20;  // outer UDP header in an encapsulated frame

class VxlanTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kOverlayGw, 24);
        c1_ = h_.add_port(net_);
        up_ = h_.add_port(kNoNetwork, dataplane::PortRole::Uplink);
        h_.set_uplink(up_, kHost, kRouter, kUplinkMac, 1000, 100);
        vtep_a_ = h_.vteps().port_of(kPeerA);
        h_.snapshot().segments.add(net_, {.vni = kVni, .peers = {{kPeerA, vtep_a_}}});
        // Both next hops are resolved before traffic: encapsulated frames leave at once.
        h_.neighbours().solicit(kPeerA);
        h_.receive(up_, {arp_reply(kPeerA, kPeerAMac), arp_reply(kRouter, kRouterMac)});
    }

    // Another peer VTEP of the overlay network.
    void add_peer(Ipv4Address ip, PortId port) {
        vxlan::Segment segment = h_.snapshot().segments.of(net_);
        segment.peers.push_back({ip, port});
        h_.snapshot().segments.add(net_, std::move(segment));
    }

    static Frame arp_reply(Ipv4Address ip, MacAddress mac) {
        return PacketBuilder().eth(kUplinkMac, mac).arp_reply(mac, ip, kUplinkMac, kHost.address()).build();
    }
    static Frame inner_udp(MacAddress dst, MacAddress src, Ipv4Address sip, Ipv4Address dip, std::uint16_t sport) {
        return PacketBuilder().eth(dst, src).ipv4(sip, dip).udp(sport, 7).payload(64).build();
    }
    static std::vector<std::uint8_t> vxlan_payload(std::uint32_t vni, const Frame& inner, std::uint8_t flags = 0x08) {
        // Sized once and filled: GCC 12 -O2 warns falsely (array-bounds) on insert after a short init list.
        std::vector<std::uint8_t> p(vxlan::kVxlanLen + inner.size(), 0);
        p[0] = flags;
        p[4] = static_cast<std::uint8_t>(vni >> 16);
        p[5] = static_cast<std::uint8_t>(vni >> 8);
        p[6] = static_cast<std::uint8_t>(vni);
        std::copy(inner.begin(), inner.end(), p.begin() + vxlan::kVxlanLen);
        return p;
    }
    // A VXLAN packet as a remote VTEP sends it to this host.
    static Frame from_vtep(Ipv4Address vtep, const std::vector<std::uint8_t>& udp_payload,
                           std::uint16_t dport = 4789) {
        return PacketBuilder()
            .eth(kUplinkMac, kPeerAMac)
            .ipv4(vtep, kHost.address())
            .udp(50123, dport)
            .payload(udp_payload)
            .build();
    }
    // What this host must send: outer headers before `inner`, UDP checksum 0.
    static Frame encapsulated(MacAddress next_hop, Ipv4Address vtep, const Frame& inner, std::uint16_t sport,
                              std::uint16_t ip_id) {
        Frame f = PacketBuilder()
                      .eth(next_hop, kUplinkMac)
                      .ipv4(kHost.address(), vtep, 64)
                      .ipv4_id(ip_id)
                      .udp(sport, 4789)
                      .payload(vxlan_payload(kVni, inner))
                      .build();
        f[kUdpAt + 6] = 0;
        f[kUdpAt + 7] = 0;
        return f;
    }
    static std::uint16_t be16_at(const Frame& f, std::size_t at) {
        return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]);
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0, up_ = 0, vtep_a_ = kNoPort;
};

TEST_F(VxlanTest, DecapsulatedFrameReachesTheContainerAndTeachesTheRemoteMac) {
    const Frame inner = inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000);
    ASSERT_TRUE(h_.forwards(up_, from_vtep(kPeerA, vxlan_payload(kVni, inner)), c1_, inner, 5));
    EXPECT_EQ(h_.total_drops(), 0u);
    const auto fdb = h_.macs().dump(5);
    ASSERT_EQ(fdb.size(), 1u);
    EXPECT_EQ(fdb[0].mac, kRemoteMac);
    EXPECT_EQ(fdb[0].network, net_);
    EXPECT_EQ(fdb[0].port, vtep_a_);
    EXPECT_FALSE(fdb[0].is_static);
}

TEST_F(VxlanTest, ReplyToARemoteMacIsEncapsulatedFieldByField) {
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000)))});
    h_.sent(c1_);
    const Frame reply = inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000);
    h_.receive(c1_, {reply, reply}, 6);
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 2u);
    const Frame& f = out[0];
    ASSERT_EQ(f.size(), reply.size() + vxlan::kEncapLen);
    // Outer Ethernet: to the peer's MAC (on-link), from the uplink, IPv4.
    EXPECT_EQ(MacAddress({f[0], f[1], f[2], f[3], f[4], f[5]}), kPeerAMac);
    EXPECT_EQ(MacAddress({f[6], f[7], f[8], f[9], f[10], f[11]}), kUplinkMac);
    EXPECT_EQ(be16_at(f, 12), 0x0800);
    // Outer IPv4: 20-byte header, length, no DF, TTL 64, UDP, host -> peer.
    EXPECT_EQ(f[14], 0x45);
    EXPECT_EQ(be16_at(f, 16), 20 + 8 + 8 + reply.size());
    EXPECT_EQ(be16_at(f, 20), 0);
    EXPECT_EQ(f[22], 64);
    EXPECT_EQ(f[23], 17);
    EXPECT_EQ(Ipv4Address(static_cast<std::uint32_t>(be16_at(f, 26)) << 16 | be16_at(f, 28)), kHost.address());
    EXPECT_EQ(Ipv4Address(static_cast<std::uint32_t>(be16_at(f, 30)) << 16 | be16_at(f, 32)), kPeerA);
    // Outer UDP: source from the flow hash in 49152-65535, port 4789, length, checksum 0.
    const std::uint16_t sport = be16_at(f, kUdpAt);
    EXPECT_GE(sport, 49152);
    EXPECT_EQ(be16_at(f, kUdpAt + 2), 4789);
    EXPECT_EQ(be16_at(f, kUdpAt + 4), 8 + 8 + reply.size());
    EXPECT_EQ(be16_at(f, kUdpAt + 6), 0);
    // VXLAN: I flag, reserved zero, the VNI in the top 24 bits.
    EXPECT_EQ(f[kUdpAt + 8], 0x08);
    EXPECT_EQ((f[kUdpAt + 12] << 16 | f[kUdpAt + 13] << 8 | f[kUdpAt + 14]), static_cast<int>(kVni));
    EXPECT_EQ(f[kUdpAt + 15], 0);
    // The whole frame, IPv4 checksum included; the same flow keeps its source port.
    EXPECT_EQ(hex_diff(encapsulated(kPeerAMac, kPeerA, reply, sport, 0), out[0]), "");
    EXPECT_EQ(hex_diff(encapsulated(kPeerAMac, kPeerA, reply, sport, 1), out[1]), "");
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(VxlanTest, TtlDfAndPortFollowTheSettings) {
    h_.snapshot().vxlan = vxlan::Settings{8472, 5, true, false};
    ASSERT_TRUE(h_.macs().add_static(net_, kRemoteMac, vtep_a_).ok());
    h_.receive(c1_, {inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000)});
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(be16_at(out[0], 20), 0x4000);  // DF
    EXPECT_EQ(out[0][22], 5);
    EXPECT_EQ(be16_at(out[0], kUdpAt + 2), 8472);
    // The outer IPv4 checksum (summed from the fields, not the bytes) holds with DF and this TTL too.
    EXPECT_EQ(rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(out[0].data() + 14)), 0);
}

TEST_F(VxlanTest, SourcePortSpreadsFlowsOverTheDynamicRange) {
    EXPECT_EQ(vxlan::source_port(0), 49152);
    EXPECT_EQ(vxlan::source_port(0xffffffff) & 0xc000, 0xc000);
    EXPECT_NE(vxlan::source_port(0x00010000), vxlan::source_port(0x00020000));  // high bits count too
    EXPECT_NE(vxlan::source_port(1), vxlan::source_port(2));
}

TEST_F(VxlanTest, OffLinkPeerIsReachedThroughTheUplinkGateway) {
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    ASSERT_TRUE(h_.macs().add_static(net_, kRemoteMac, vtep_b).ok());
    const Frame frame = inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000);
    h_.receive(c1_, {frame});
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(hex_diff(encapsulated(kRouterMac, kPeerB, frame, be16_at(out[0], kUdpAt), 0), out[0]), "");
}

// A configured gateway MAC is a permanent neighbour: the worker's outer
// header template for an off-link peer carries it, and frames after the
// first (the template's) leave with it too, without ARP.
TEST_F(VxlanTest, ConfiguredGatewayMacAddressesOffLinkPeersWithoutArp) {
    const MacAddress gateway_mac = MacAddress::from_u64(0x02cc00000001ULL);
    h_.set_uplink(up_, kHost, kRouter, kUplinkMac, 1000, 100, gateway_mac);
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    ASSERT_TRUE(h_.macs().add_static(net_, kRemoteMac, vtep_b).ok());
    const Frame first = inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000);
    const Frame second = inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2001);
    h_.receive(c1_, {first, second, first});
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 3u);  // and no ARP request
    EXPECT_EQ(hex_diff(encapsulated(gateway_mac, kPeerB, first, be16_at(out[0], kUdpAt), 0), out[0]), "");
    EXPECT_EQ(hex_diff(encapsulated(gateway_mac, kPeerB, second, be16_at(out[1], kUdpAt), 1), out[1]), "");
    EXPECT_EQ(hex_diff(encapsulated(gateway_mac, kPeerB, first, be16_at(out[0], kUdpAt), 2), out[2]), "");
    EXPECT_EQ(h_.total_drops(), 0u);
}

// Two overlay networks with their own VNIs share a peer VTEP: frames of both,
// interleaved in one burst, each leave with their network's VNI (the
// worker's template for the VTEP is rebuilt, never reused for the other VNI).
TEST_F(VxlanTest, NetworksSharingAPeerKeepTheirOwnVni) {
    constexpr std::uint32_t kOtherVni = 301;
    const NetworkId net2 = h_.add_network(*Ipv4Address::parse("10.20.0.1"), 24);
    const PortId c2 = h_.add_port(net2);
    h_.snapshot().segments.add(net2, {.vni = kOtherVni, .peers = {{kPeerA, vtep_a_}}});
    ASSERT_TRUE(h_.macs().add_static(net_, kRemoteMac, vtep_a_).ok());
    ASSERT_TRUE(h_.macs().add_static(net2, kRemoteMac, vtep_a_).ok());
    const Frame frame = inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000);
    std::vector<rte_mbuf*> burst;
    for (PortId port : {c1_, c2, c2, c1_}) {
        rte_mbuf* m = to_mbuf(h_.pool(), frame);
        ASSERT_NE(m, nullptr);
        m->port = port;
        burst.push_back(m);
    }
    h_.receive(burst);
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 4u);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::uint32_t want = i == 1 || i == 2 ? kOtherVni : kVni;
        const Frame& f = out[i];
        EXPECT_EQ(static_cast<std::uint32_t>(f[kUdpAt + 12] << 16 | f[kUdpAt + 13] << 8 | f[kUdpAt + 14]), want)
            << "frame " << i;
        EXPECT_EQ(rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(out[i].data() + 14)), 0) << "frame " << i;
    }
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(VxlanTest, BroadcastIsFloodedLocallyAndReplicatedToEveryPeer) {
    const PortId c2 = h_.add_port(net_);
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    const Frame arp = PacketBuilder().eth(kBroadcast, kLocalMac).arp_request(kLocalMac, kLocal, kRemote).build();
    h_.receive(c1_, {arp});
    auto local = h_.sent(c2);
    ASSERT_EQ(local.size(), 1u);
    EXPECT_EQ(hex_diff(arp, local[0]), "");
    auto out = h_.sent(up_);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(hex_diff(encapsulated(kPeerAMac, kPeerA, arp, be16_at(out[0], kUdpAt), 0), out[0]), "");
    EXPECT_EQ(hex_diff(encapsulated(kRouterMac, kPeerB, arp, be16_at(out[1], kUdpAt), 1), out[1]), "");
    // The only local port: the copies to peers are all there is, not a drop.
    h_.snapshot().networks[net_].members = {c1_};
    h_.receive(c1_, {arp});
    EXPECT_EQ(h_.sent(up_).size(), 2u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(VxlanTest, FloodFromTheOverlayIsNotSentBackToPeers) {
    const Frame arp = PacketBuilder().eth(kBroadcast, kRemoteMac).arp_request(kRemoteMac, kRemote, kLocal).build();
    ASSERT_TRUE(h_.forwards(up_, from_vtep(kPeerA, vxlan_payload(kVni, arp)), c1_, arp));
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// Split horizon: with three hosts, a frame from peer A for a MAC behind peer
// B is not this host's to forward (A sends to B itself); sending it on would
// duplicate it, and with B's frames learned here, ping-pong between hosts.
TEST_F(VxlanTest, FrameFromTheOverlayToAMacBehindAnotherVtepIsNotSentBack) {
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    const MacAddress third = docker_mac_for(*Ipv4Address::parse("10.10.0.4"));
    // kRemoteMac is learned behind B from one of its frames.
    h_.receive(up_, {from_vtep(kPeerB, vxlan_payload(kVni, inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1)))});
    h_.sent(c1_);
    ASSERT_EQ(h_.macs().dump(1).at(0).port, vtep_b);
    const Frame from_a = inner_udp(kRemoteMac, third, *Ipv4Address::parse("10.10.0.4"), kRemote, 1000);
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, from_a))});
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::SplitHorizon), 1u);
    EXPECT_EQ(h_.total_drops(), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// The same with a DF packet too big for the underlay: no fragmentation needed
// goes "back to the ingress port", which is a VTEP pseudo port, not an ethdev
// port (before the fix: counters and tx buffers indexed out of bounds).
TEST_F(VxlanTest, OversizedFrameFromTheOverlayGetsNoIcmpErrorTowardsAVtep) {
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    h_.receive(up_, {from_vtep(kPeerB, vxlan_payload(kVni, inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1)))});
    h_.sent(c1_);
    const std::size_t too_big = 1500 - vxlan::kEncapLen - 20 - 8 + 1;
    const Frame inner = PacketBuilder()
                            .eth(kRemoteMac, kLocalMac)
                            .ipv4(*Ipv4Address::parse("10.10.0.4"), kRemote)
                            .ipv4_dont_fragment()
                            .udp(2000, 7)
                            .payload(too_big)
                            .build();
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner))});
    EXPECT_TRUE(h_.sent(up_).empty());
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::SplitHorizon), 1u);
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// A remote host cannot claim the overlay network's gateway MAC either.
TEST_F(VxlanTest, ForgedGatewaySourceFromTheOverlayIsNotLearned) {
    const MacAddress gateway_mac = h_.snapshot().networks[net_].gateway_mac;
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner_udp(kLocalMac, gateway_mac, kOverlayGw, kLocal, 1)))});
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.drops(DropReason::SourceMacGateway), 1u);
    EXPECT_TRUE(h_.macs().dump(1).empty());
}

TEST_F(VxlanTest, BadOuterHeadersAreDroppedAndCounted) {
    const Frame inner = inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000);
    // Short: a VXLAN header but no whole inner Ethernet header.
    h_.receive(up_, {from_vtep(kPeerA, {0x08, 0, 0, 0, 0, 0x01, 0x2c, 0, 1, 2, 3})});
    EXPECT_EQ(h_.drops(DropReason::VxlanShort), 1u);
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner, 0x00))});
    EXPECT_EQ(h_.drops(DropReason::VxlanBadFlags), 1u);
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni + 1, inner))});
    EXPECT_EQ(h_.drops(DropReason::VxlanUnknownVni), 1u);
    h_.receive(up_, {from_vtep(kStranger, vxlan_payload(kVni, inner))});
    EXPECT_EQ(h_.drops(DropReason::VxlanUnknownPeer), 1u);
    // Another UDP port is not VXLAN: the uplink's ordinary path does not serve it.
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner), 4790)});
    EXPECT_EQ(h_.drops(DropReason::NotServed), 1u);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_TRUE(h_.macs().dump(1).empty());
    EXPECT_EQ(h_.total_drops(), 5u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(VxlanTest, UnknownPeersAreAcceptedWhenLearningIsOn) {
    h_.snapshot().vxlan.learn_unknown_peers = true;
    const Frame inner = inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000);
    h_.receive(up_, {from_vtep(kStranger, vxlan_payload(kVni, inner))});
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    const auto fdb = h_.macs().dump(1);
    ASSERT_EQ(fdb.size(), 1u);
    EXPECT_EQ(fdb[0].port, h_.vteps().find(kStranger));
    EXPECT_EQ(h_.vteps().address(fdb[0].port), kStranger);
}

// learn-unknown-peers with spoofed sources: at most kMaxLearnedVteps are
// learned at a time (configured peers still get slots), and learned VTEPs
// unseen for the ageing time leave with their MAC entries, so new senders
// are accepted again; configured and recently seen ones stay.
TEST_F(VxlanTest, SpoofedSourcesCannotExhaustTheVtepTableForGood) {
    h_.snapshot().vxlan.learn_unknown_peers = true;
    const Frame inner = inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000);
    for (std::uint32_t i = 0; i < 2 * vxlan::kMaxLearnedVteps; ++i) {
        h_.receive(up_, {from_vtep(Ipv4Address(0x0b000001u + i), vxlan_payload(kVni, inner))}, 10);
        h_.sent(c1_);
    }
    EXPECT_EQ(h_.vteps().learned(), vxlan::kMaxLearnedVteps);
    EXPECT_EQ(h_.drops(DropReason::VxlanUnknownPeer), vxlan::kMaxLearnedVteps);
    EXPECT_NE(h_.vteps().port_of(kPeerB), kNoPort);  // configuration is never starved
    // One learned sender keeps talking; the others fall silent for the ageing time.
    const Ipv4Address active(0x0b000001u);
    const PortId active_port = h_.vteps().find(active);
    h_.receive(up_, {from_vtep(active, vxlan_payload(kVni, inner))}, 200);
    h_.sent(c1_);
    ASSERT_EQ(h_.macs().dump(200).at(0).port, active_port);
    std::size_t forgotten = 0;
    EXPECT_EQ(h_.vteps().expire(310, 300, [&](PortId p) { forgotten += h_.macs().flush_port(p); }),
              vxlan::kMaxLearnedVteps - 1);
    EXPECT_EQ(forgotten, 0u);  // kRemoteMac sits behind the active one
    EXPECT_EQ(h_.vteps().learned(), 1u);
    EXPECT_EQ(h_.vteps().find(active), active_port);
    EXPECT_EQ(h_.vteps().find(kPeerA), vtep_a_);
    // A new sender is accepted again.
    h_.receive(up_, {from_vtep(kStranger, vxlan_payload(kVni, inner))}, 320);
    EXPECT_EQ(h_.sent(c1_).size(), 1u);
    EXPECT_EQ(h_.vteps().learned(), 2u);
    // The active one falls silent too: it goes with the MAC learned behind it.
    EXPECT_EQ(h_.vteps().expire(600, 300, [&](PortId p) { forgotten += h_.macs().flush_port(p); }), 1u);
    EXPECT_EQ(forgotten, 0u);  // kRemoteMac moved to kStranger at 320
    EXPECT_EQ(h_.vteps().expire(700, 300, [&](PortId p) { forgotten += h_.macs().flush_port(p); }), 1u);
    EXPECT_EQ(forgotten, 1u);
    EXPECT_TRUE(h_.macs().dump(700).empty());
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(VxlanTest, RemoteMacMovesAndAgesLikeAnyOther) {
    const PortId vtep_b = h_.vteps().port_of(kPeerB);
    add_peer(kPeerB, vtep_b);
    const Frame inner = inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000);
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner))}, 10);
    // The MAC shows up behind another VTEP: moved.
    h_.receive(up_, {from_vtep(kPeerB, vxlan_payload(kVni, inner))}, 20);
    EXPECT_EQ(h_.counters().mac_moved, 1u);
    EXPECT_EQ(h_.macs().dump(20).at(0).port, vtep_b);
    // And to a local port: moved again, traffic to it stays local.
    const PortId c2 = h_.add_port(net_);
    h_.receive(c2, {inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000)}, 30);
    EXPECT_EQ(h_.counters().mac_moved, 2u);
    h_.sent(c1_);
    h_.sent(up_);  // kLocalMac was still unknown: that frame was flooded, to the peers too
    h_.receive(c1_, {inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000)}, 31);
    EXPECT_EQ(h_.sent(c2).size(), 1u);
    EXPECT_TRUE(h_.sent(up_).empty());
    // Back behind A, then aged out: unicast to it is flooded to the peers again.
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner))}, 40);
    EXPECT_EQ(h_.macs().expire(100, 50), 2u);  // the remote MAC and kLocalMac
    h_.receive(c1_, {inner_udp(kRemoteMac, kLocalMac, kLocal, kRemote, 2000)}, 101);
    EXPECT_EQ(h_.sent(up_).size(), 2u);  // one copy per peer
    EXPECT_EQ(h_.sent(c2).size(), 1u);   // and the local flood
}

TEST_F(VxlanTest, ArpSuppressionAnswersKnownAddressesAndFloodsTheRest) {
    auto& net = h_.snapshot().networks[net_];
    net.arp_suppression = true;
    net.arp_entries = {{kRemote, kRemoteMac}};
    const Frame request = PacketBuilder().eth(kBroadcast, kLocalMac).arp_request(kLocalMac, kLocal, kRemote).build();
    h_.receive(c1_, {request});
    auto got = h_.sent(c1_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(hex_diff(PacketBuilder().eth(kLocalMac, kRemoteMac).arp_reply(kRemoteMac, kRemote, kLocalMac, kLocal).build(),
                       got[0]),
              "");
    EXPECT_TRUE(h_.sent(up_).empty());  // nothing flooded to the peers
    // An address it does not know is flooded (and replicated) as usual.
    const Ipv4Address unknown = *Ipv4Address::parse("10.10.0.77");
    h_.receive(c1_, {PacketBuilder().eth(kBroadcast, kLocalMac).arp_request(kLocalMac, kLocal, unknown).build()});
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    // Suppression off: the known address is flooded too.
    net.arp_suppression = false;
    h_.receive(c1_, {request});
    EXPECT_EQ(h_.sent(up_).size(), 1u);
    EXPECT_TRUE(h_.sent(c1_).empty());
    EXPECT_EQ(h_.total_drops(), 0u);
}

// The outer headers must fit the uplink MTU: an inner DF packet above
// uplink MTU - 50 gets fragmentation needed from the gateway, one without DF
// is fragmented before encapsulation; one at exactly that size is encapsulated.
TEST_F(VxlanTest, InnerPacketsTooBigForTheUnderlayGetFragmentationNeeded) {
    h_.receive(up_, {from_vtep(kPeerA, vxlan_payload(kVni, inner_udp(kLocalMac, kRemoteMac, kRemote, kLocal, 1000)))});
    h_.sent(c1_);
    const std::size_t inner_mtu = 1500 - vxlan::kEncapLen;
    const std::size_t fits = inner_mtu - 20 - 8;
    auto big = [&](std::size_t payload) {
        PacketBuilder b;
        b.eth(kRemoteMac, kLocalMac).ipv4(kLocal, kRemote).udp(2000, 7).payload(payload);
        return b;
    };
    h_.receive(c1_, {big(fits).ipv4_dont_fragment().build()}, 6);
    EXPECT_EQ(h_.sent(up_).size(), 1u);

    const Frame offending = big(fits + 1).ipv4_dont_fragment().build();
    h_.receive(c1_, {offending, big(fits + 1).build()}, 7);
    EXPECT_EQ(h_.sent(up_).size(), 2u);  // the fragments of the one without DF
    auto back = h_.sent(c1_);
    ASSERT_EQ(back.size(), 1u);
    const Frame expected = PacketBuilder()
                               .eth(kLocalMac, h_.snapshot().networks[net_].gateway_mac)
                               .ipv4(kOverlayGw, kLocal, 64)
                               .ipv4_id(0)
                               .ipv4_tos(0xc0)
                               .icmp_error(kIcmpUnreachable, kIcmpFragNeeded, inner_mtu, quote_of(offending))
                               .build();
    EXPECT_EQ(hex_diff(expected, back[0]), "");
    EXPECT_EQ(h_.drops(DropReason::FragNeeded), 1u);
    EXPECT_EQ(h_.drops(DropReason::MtuExceeded), 0u);
    EXPECT_EQ(h_.counters().fragments_made, 2u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
