// The pipeline rig's topologies, addressed like the throughput harness's
// scenarios (bench/traffic.py, bench/topology.py): network `bench`
// 10.99.0.0/16, uplink 192.0.2.2/24 with a configured gateway MAC (nothing
// waits for ARP), remote VTEPs 198.19.0.1 + i behind that gateway, remote MACs
// 02:20:..., published ports from 10000, clients 198.18.0.0 + i.
#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "bench/pipeline_rig.hpp"
#include "tests/support/packet_builder.hpp"
#include "vxlan/fastpath/vxlan_header.hpp"

namespace dpdock::bench {
namespace {

using test::PacketBuilder;

constexpr NetworkId kNetwork = 0;
constexpr std::size_t kFrameLen = 60;  // a 64-byte frame without its FCS
constexpr std::size_t kSrcMacAt = 6;
constexpr std::size_t kIpAt = 14;
constexpr std::size_t kUdpAt = kIpAt + 20;
const Ipv4Address kGateway = *Ipv4Address::parse("10.99.0.1");
const Ipv4Address kContainer = *Ipv4Address::parse("10.99.0.2");
const MacAddress kContainerMac = MacAddress::from_u64(0x020000000002ULL);  // static on port `out`
const Ipv4Cidr kHost = *Ipv4Cidr::parse("192.0.2.2/24");
const Ipv4Address kUplinkGateway = *Ipv4Address::parse("192.0.2.1");
const MacAddress kUplinkGatewayMac = MacAddress::from_u64(0x020000000001ULL);
const MacAddress kUplinkMac = MacAddress::from_u64(0x020000000003ULL);
constexpr std::uint32_t kVni = 256;
constexpr std::uint32_t kRemoteMacs = 100;      // the vxlan-encap scenarios' destinations
constexpr std::uint32_t kDnatFlows = 10'000;    // the dnat scenarios' flows, whatever the ports
constexpr std::uint16_t kPublishedBase = 10000;
constexpr std::uint32_t kNatSources = 65000;        // traffic.py's NAT_SOURCES
constexpr std::uint32_t kOutsideAddresses = 65521;  // traffic.py's OUTSIDE_ADDRESSES

MacAddress source_mac(std::uint32_t n) { return MacAddress::from_u64(0x021000000000ULL | n); }
MacAddress remote_mac(std::uint32_t n) { return MacAddress::from_u64(0x022000000000ULL | n); }
Ipv4Address peer_address(std::uint32_t n) { return Ipv4Address(0xc6130001 + n); }  // 198.19.0.1 + n
Ipv4Address client_address(std::uint32_t n) { return Ipv4Address(0xc6120000 + n); }  // 198.18.0.0 + n

void put_mac(std::uint8_t* at, MacAddress mac) {
    const auto b = mac.bytes();
    std::memcpy(at, b.data(), b.size());
}

PortId member(dataplane::ForwardingSnapshot& snap, PortId port) {
    snap.ports[port] = {dataplane::PortRole::Member, kNetwork};
    snap.networks[kNetwork].members.push_back(port);
    return port;
}

void add_bench_network(dataplane::ForwardingSnapshot& snap) {
    dataplane::NetworkInfo net;
    net.gateway_ip = kGateway;
    net.gateway_mac = docker_mac_for(kGateway);
    net.subnet = Ipv4Cidr(*Ipv4Address::parse("10.99.0.0"), 16);
    snap.networks.push_back(std::move(net));
}

void add_uplink(dataplane::ForwardingSnapshot& snap, PortId port) {
    snap.ports[port] = {dataplane::PortRole::Uplink, kNoNetwork};
    const std::uint64_t hz = rte_get_tsc_hz();
    snap.uplink = dataplane::UplinkInfo{port, kUplinkMac, kHost, kUplinkGateway, 60 * hz, hz, kUplinkGatewayMac};
}

// Network `bench` as an overlay with `peers` VTEPs.
Status make_overlay(PipelineRig& rig, dataplane::ForwardingSnapshot& snap, std::uint32_t peers) {
    static unsigned tables = 0;
    auto vteps = vxlan::VtepTable::create("pbv" + std::to_string(tables++), SOCKET_ID_ANY, rig.rcu->qsbr());
    if (!vteps) return Status::error(vteps.message());
    rig.vteps = std::move(*vteps);
    rig.ctx.vteps = rig.vteps.get();
    vxlan::Segment segment{.vni = kVni, .peers = {}};
    for (std::uint32_t p = 0; p < peers; ++p) {
        segment.peers.push_back({peer_address(p), rig.vteps->port_of(peer_address(p))});
    }
    snap.segments.add(kNetwork, std::move(segment));
    return {};
}

std::vector<std::uint8_t> udp_frame(MacAddress dst, MacAddress src, Ipv4Address sip, Ipv4Address dip,
                                    std::uint16_t sport, std::uint16_t dport) {
    return PacketBuilder().eth(dst, src).ipv4(sip, dip).udp(sport, dport).pad_to(kFrameLen).build();
}

// Source MACs round robin to one static destination.
Status l2(PipelineRig& rig, std::uint32_t source_macs, dataplane::ForwardingSnapshot& snap) {
    add_bench_network(snap);
    member(snap, rig.in);
    member(snap, rig.out);
    if (auto st = rig.macs->add_static(kNetwork, kContainerMac, rig.out); !st) return st;
    rig.traffic.frame = udp_frame(kContainerMac, source_mac(0), *Ipv4Address::parse("10.100.0.1"), kContainer, 1024, 9);
    rig.traffic.vary = [](std::uint32_t i, std::uint8_t* f) { put_mac(f + kSrcMacAt, source_mac(i)); };
    rig.traffic.period = source_macs;
    return {};
}

// A member port sends to kRemoteMacs remote MACs, remote MAC d behind peer d % peers.
Status vxlan_encap(PipelineRig& rig, std::uint32_t peers, dataplane::ForwardingSnapshot& snap) {
    add_bench_network(snap);
    member(snap, rig.in);
    add_uplink(snap, rig.out);
    if (auto st = make_overlay(rig, snap, peers); !st) return st;
    const auto& vteps = snap.segments.of(kNetwork).peers;
    for (std::uint32_t d = 0; d < kRemoteMacs; ++d) {
        if (auto st = rig.macs->add_static(kNetwork, remote_mac(d), vteps[d % peers].port); !st) return st;
    }
    rig.traffic.frame = udp_frame(remote_mac(0), source_mac(0), kContainer, *Ipv4Address::parse("10.99.128.0"), 1024, 9);
    rig.traffic.vary = [](std::uint32_t i, std::uint8_t* f) { put_mac(f, remote_mac(i)); };
    rig.traffic.period = kRemoteMacs;
    return {};
}

// Peer 0 sends VXLAN to the host address; the inner frames go to the static MAC on `out`.
// `other_networks` more overlay networks (other VNIs and subnets) after it:
// what VNI -> network costs when a host has many.
Status vxlan_decap(PipelineRig& rig, std::uint32_t other_networks, dataplane::ForwardingSnapshot& snap) {
    add_bench_network(snap);
    for (std::uint32_t i = 0; i < other_networks; ++i) {
        dataplane::NetworkInfo other;
        other.gateway_ip = Ipv4Address(0x0b000001u + ((i & 0xff) << 16));  // 11.<i>.0.1/16
        other.gateway_mac = docker_mac_for(other.gateway_ip);
        other.subnet = Ipv4Cidr(Ipv4Cidr(other.gateway_ip, 16).network(), 16);
        snap.networks.push_back(std::move(other));
        snap.segments.add(static_cast<NetworkId>(snap.networks.size() - 1), {.vni = kVni + 1 + i, .peers = {}});
    }
    add_uplink(snap, rig.in);
    member(snap, rig.out);
    if (auto st = make_overlay(rig, snap, 1); !st) return st;
    if (auto st = rig.macs->add_static(kNetwork, kContainerMac, rig.out); !st) return st;
    const auto inner = udp_frame(kContainerMac, remote_mac(0), *Ipv4Address::parse("10.99.128.0"), kContainer, 1024, 9);
    std::vector<std::uint8_t> payload(vxlan::kVxlanLen, 0);
    payload[0] = vxlan::kFlagVniValid;
    payload[4] = static_cast<std::uint8_t>(kVni >> 16);
    payload[5] = static_cast<std::uint8_t>(kVni >> 8);
    payload[6] = static_cast<std::uint8_t>(kVni);
    payload.insert(payload.end(), inner.begin(), inner.end());
    auto frame = PacketBuilder()
                     .eth(kUplinkMac, kUplinkGatewayMac)
                     .ipv4(peer_address(0), kHost.address())
                     .udp(vxlan::kSourcePortBase, 4789)
                     .payload(payload)
                     .build();
    frame[kUdpAt + 6] = frame[kUdpAt + 7] = 0;  // as VTEPs send it (RFC 7348: UDP checksum 0 for IPv4)
    rig.traffic.frame = std::move(frame);
    return {};
}

// The worker's conntrack table and rule counters, for `capacity` flows.
Status add_conntrack(PipelineRig& rig, std::uint32_t capacity) {
    nat::ConntrackOptions ct;
    static unsigned tables = 0;  // a rig per (topology, arg, exception path on/off)
    ct.name = "pbct" + std::to_string(tables++);
    ct.capacity = capacity;
    // Nothing expires a flow here; a long timeout keeps the warm-up's flows
    // the ones every later packet finds, however long the run.
    ct.timeouts.udp_unreplied = 24 * 3600;
    ct.hz = rte_get_tsc_hz();
    ct.socket = static_cast<int>(rte_socket_id());
    ct.qsbr = rig.rcu->qsbr();
    auto table = nat::Conntrack::create(ct);
    if (!table) return Status::error(table.message());
    rig.conntrack = std::move(*table);
    rig.rule_counters = std::make_unique<nat::RuleCounters>();
    rig.ctx.conntrack = rig.conntrack.get();
    rig.ctx.rule_counters = rig.rule_counters.get();
    return {};
}

// kDnatFlows UDP flows from outside clients to the host address, flow i to
// published port kPublishedBase + i % ports, all of them the container's.
Status dnat(PipelineRig& rig, std::uint32_t ports, dataplane::ForwardingSnapshot& snap) {
    add_bench_network(snap);
    add_uplink(snap, rig.in);
    snap.ports[rig.out] = {dataplane::PortRole::Container, kNetwork};
    snap.networks[kNetwork].members.push_back(rig.out);
    if (auto st = rig.macs->add_static(kNetwork, kContainerMac, rig.out); !st) return st;
    auto map = std::make_shared<nat::PortMap>();
    for (std::uint32_t k = 0; k < ports; ++k) {
        nat::PublishedRule r;  // `-p P:P/udp`
        r.proto = IPPROTO_UDP;
        r.host_lo = r.host_hi = r.container_lo = static_cast<std::uint16_t>(kPublishedBase + k);
        r.one_container_port = true;
        r.container_ip = kContainer;
        r.container_mac = kContainerMac;
        r.network = kNetwork;
        r.gateway = kGateway;
        r.slot = k < nat::kMaxRuleSlots ? k : nat::kNoRuleSlot;  // as control/nat_rules.cpp hands them out
        r.container = "web";
        if (!map->add(r)) return Status::error("published port refused");
    }
    snap.published = std::move(map);
    if (auto st = add_conntrack(rig, std::bit_ceil(kDnatFlows)); !st) return st;  // the daemon rounds up too
    rig.traffic.frame = udp_frame(kUplinkMac, kUplinkGatewayMac, client_address(0), kHost.address(), 1024, kPublishedBase);
    rig.traffic.vary = [ports](std::uint32_t flow, std::uint8_t* f) {
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f + kIpAt);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(f + kUdpAt);
        ip->src_addr = client_address(flow).be().raw();
        udp->dst_port = rte_cpu_to_be_16(static_cast<std::uint16_t>(kPublishedBase + flow % ports));
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        udp->dgram_cksum = 0;
        udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
    };
    rig.traffic.period = kDnatFlows;
    return {};
}

// `flows` UDP flows from one member port (source MAC 0) to the gateway's
// MAC, MASQUERADE'd out of the uplink, as bench/traffic.py's nat scenarios
// send them: flow i from 10.99.0.2 + i % kNatSources, port 1024 + i /
// kNatSources, to client i % kOutsideAddresses port 9, so every flow keeps
// its port (no port search in the steady state).
Status snat(PipelineRig& rig, std::uint32_t flows, dataplane::ForwardingSnapshot& snap) {
    add_bench_network(snap);
    snap.networks[kNetwork].masquerade = true;
    snap.networks[kNetwork].masquerade_slot = 0;
    member(snap, rig.in);
    add_uplink(snap, rig.out);
    // As bench/topology.py sizes it: twice the flows, at least 1,024.
    if (auto st = add_conntrack(rig, std::max<std::uint32_t>(std::bit_ceil(2 * flows), 1024)); !st) return st;
    const MacAddress gateway_mac = snap.networks[kNetwork].gateway_mac;
    rig.traffic.frame = udp_frame(gateway_mac, source_mac(0), kContainer, client_address(0), 1024, 9);
    rig.traffic.vary = [](std::uint32_t flow, std::uint8_t* f) {
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f + kIpAt);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(f + kUdpAt);
        ip->src_addr = Ipv4Address(kContainer.host() + flow % kNatSources).be().raw();
        ip->dst_addr = client_address(flow % kOutsideAddresses).be().raw();
        udp->src_port = rte_cpu_to_be_16(static_cast<std::uint16_t>(1024 + flow / kNatSources));
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        udp->dgram_cksum = 0;
        udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
    };
    rig.traffic.period = flows;
    return {};
}

// Snat with 1,000 flows on a host with `others` more networks (172.16.0.0/24
// and up, after the bench network): every routed packet asks which network
// its destination is on.
Status snat_networks(PipelineRig& rig, std::uint32_t others, dataplane::ForwardingSnapshot& snap) {
    if (auto st = snat(rig, 1'000, snap); !st) return st;
    for (std::uint32_t i = 0; i < others; ++i) {
        dataplane::NetworkInfo other;
        other.gateway_ip = Ipv4Address(0xac100001 + (i << 8));  // 172.16.0.1 + i * 256
        other.gateway_mac = docker_mac_for(other.gateway_ip);
        other.subnet = Ipv4Cidr(Ipv4Cidr(other.gateway_ip, 24).network(), 24);
        snap.networks.push_back(std::move(other));
    }
    return {};
}

}  // namespace

std::uint32_t mac_capacity(Topology topology, std::uint32_t arg) {
    return topology == Topology::L2 ? std::max<std::uint32_t>(2 * arg, 1024) : 1024;
}

Status setup_topology(PipelineRig& rig, Topology topology, std::uint32_t arg, dataplane::ForwardingSnapshot& snap) {
    switch (topology) {
        case Topology::L2:
            return l2(rig, arg, snap);
        case Topology::VxlanEncap:
            return vxlan_encap(rig, arg, snap);
        case Topology::VxlanDecap:
            return vxlan_decap(rig, arg, snap);
        case Topology::Dnat:
            return dnat(rig, arg, snap);
        case Topology::Snat:
            return snat(rig, arg, snap);
        case Topology::SnatNetworks:
            return snat_networks(rig, arg, snap);
    }
    return Status::error("unknown topology");
}

}  // namespace dpdock::bench
