// PipelineHarness: one worker's packet path driven by a test, without worker
// lcores. Frames built with PacketBuilder enter process_burst() as if received
// on a ring port; what the pipeline transmits is read back from the ring
// ports' tx rings and compared byte for byte. The forwarding snapshot is
// assembled by hand, the way control/state.cpp would. Test thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bridge/mac_table.hpp"
#include "dataplane/forwarding_snapshot.hpp"
#include "dataplane/fastpath/pipeline.hpp"
#include "dataplane/fastpath/stages.hpp"
#include "l3/neighbour_table.hpp"
#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/support/packet_builder.hpp"
#include "tests/support/ring_ports.hpp"
#include "vxlan/vtep_table.hpp"

namespace dpdock::test {

using Frame = std::vector<std::uint8_t>;

// The default bridge's gateway and its first container, as Docker numbers them.
inline const Ipv4Address kGateway = *Ipv4Address::parse("172.17.0.1");
inline const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
inline const MacAddress kGatewayMac = docker_mac_for(kGateway);
inline const MacAddress kC1Mac = docker_mac_for(kC1);
inline const MacAddress kBroadcast = MacAddress::from_u64(0xffffffffffffULL);
// The uplink: the host address, its router, a far destination, and their MACs.
inline const Ipv4Cidr kHost = *Ipv4Cidr::parse("192.168.50.2/24");
inline const Ipv4Address kHostIp = kHost.address();
inline const Ipv4Address kRouter = *Ipv4Address::parse("192.168.50.1");
inline const Ipv4Address kFar = *Ipv4Address::parse("203.0.113.9");
inline const MacAddress kUplinkMac = MacAddress::from_u64(0x02aa00000001ULL);
inline const MacAddress kRouterMac = MacAddress::from_u64(0x02bb00000001ULL);
// A second container on the default bridge.
inline const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");
inline const MacAddress kC2Mac = docker_mac_for(kC2);

// ICMP error types and codes (RFC 792).
inline constexpr std::uint8_t kIcmpUnreachable = 3;
inline constexpr std::uint8_t kIcmpPortUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragNeeded = 4;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;

// What an ICMP error quotes of `f` (an untagged frame without IPv4 options):
// the IPv4 header and `l4_bytes` after it.
inline std::vector<std::uint8_t> quote_of(const std::vector<std::uint8_t>& f, std::size_t l4_bytes = 8) {
    const std::size_t l3 = 14;  // Ethernet header
    return {f.begin() + l3, f.begin() + l3 + 20 + l4_bytes};
}

class PipelineHarness {
public:
    PipelineHarness() {
        ensure_eal();
        pool_ = make_test_pool(1023);
        indirect_pool_ = make_test_pool(1023, 0);
        auto rcu = sync::Rcu::create(1);
        EXPECT_TRUE(rcu.ok()) << rcu.message();
        rcu_ = std::move(*rcu);
        static unsigned tables = 0;
        auto macs = bridge::MacTable::create({.name = "ph" + std::to_string(tables++),
                                              .capacity = 1024,
                                              .refresh_ticks = 1,
                                              .socket_id = SOCKET_ID_ANY,
                                              .qsbr = rcu_->qsbr()});
        EXPECT_TRUE(macs.ok()) << macs.message();
        macs_ = std::move(*macs);
        counters_ = std::make_unique<sync::WorkerCounters>();
        ctx_ = std::make_unique<dataplane::WorkerContext>();
        ctx_->macs = macs_.get();
        auto neighbours = l3::NeighbourTable::create("phn" + std::to_string(tables - 1), 64, SOCKET_ID_ANY, rcu_->qsbr());
        EXPECT_TRUE(neighbours.ok()) << neighbours.message();
        neighbours_ = std::move(*neighbours);
        ctx_->neighbours = neighbours_.get();
        nat::ConntrackOptions ct;
        ct.capacity = 1024;
        use_conntrack(ct);
        ctx_->pool = pool_.get();
        auto vteps = vxlan::VtepTable::create("phv" + std::to_string(tables - 1), SOCKET_ID_ANY, rcu_->qsbr());
        EXPECT_TRUE(vteps.ok()) << vteps.message();
        vteps_ = std::move(*vteps);
        ctx_->vteps = vteps_.get();
        ctx_->indirect_pool = indirect_pool_.get();
        ctx_->fragment_ticks = 1;  // `now` counts seconds here
        ctx_->rcu = rcu_.get();
        ctx_->counters = counters_.get();
        ctx_->rule_counters = rule_counters_.get();
        EXPECT_TRUE(ctx_->tx.init(0, 32, counters_.get(), SOCKET_ID_ANY, {pool_.get(), indirect_pool_.get()}).ok());
    }

    ~PipelineHarness() {
        for (unsigned i = 0; i < ctx_->pending.count; ++i) rte_pktmbuf_free(ctx_->pending.slots[i].m);
    }
    PipelineHarness(const PipelineHarness&) = delete;
    PipelineHarness& operator=(const PipelineHarness&) = delete;

    // Replaces the conntrack table. Timeouts count in ticks: hz is 1, so a
    // test's `now` is in seconds.
    void use_conntrack(nat::ConntrackOptions options) {
        static unsigned tables = 0;
        options.name = "phc" + std::to_string(tables++);
        options.hz = 1;
        options.socket = SOCKET_ID_ANY;
        options.qsbr = rcu_->qsbr();
        ctx_->conntrack = nullptr;
        conntrack_.reset();
        auto ct = nat::Conntrack::create(options);
        ASSERT_TRUE(ct.ok()) << ct.message();
        conntrack_ = std::move(*ct);
        ctx_->conntrack = conntrack_.get();
    }
    nat::Conntrack& conntrack() { return *conntrack_; }

    NetworkId add_network(Ipv4Address gateway_ip, std::uint8_t prefix = 16) {
        dataplane::NetworkInfo net;
        net.gateway_mac = docker_mac_for(gateway_ip);
        net.gateway_ip = gateway_ip;
        net.subnet = Ipv4Cidr(Ipv4Cidr(gateway_ip, prefix).network(), prefix);
        snap_.networks.push_back(net);
        snap_.index_subnets();
        return static_cast<NetworkId>(snap_.networks.size() - 1);
    }

    PortId add_port(NetworkId network, dataplane::PortRole role = dataplane::PortRole::Container) {
        static unsigned ports = 0;
        auto ring = RingPort::create("ph" + std::to_string(getpid()) + "_" + std::to_string(ports++),
                                     {.pool = pool_.get()});
        EXPECT_TRUE(ring.ok()) << ring.message();
        const PortId id = (*ring)->port();
        rings_.push_back(std::move(*ring));
        snap_.ports[id] = {role, network};
        if (network != kNoNetwork) snap_.networks[network].members.push_back(id);
        return id;
    }

    // Makes `port` the uplink with this address, gateway and MAC; ARP answers
    // are trusted for `timeout` ticks and requests repeated after `retry`.
    void set_uplink(PortId port, Ipv4Cidr address, Ipv4Address gateway, MacAddress mac, std::uint64_t timeout,
                    std::uint64_t retry, std::optional<MacAddress> gateway_mac = std::nullopt) {
        snap_.ports[port] = {dataplane::PortRole::Uplink, kNoNetwork};
        snap_.uplink = dataplane::UplinkInfo{port, mac, address, gateway, timeout, retry, gateway_mac};
    }

    // The default bridge with two container ports, and an uplink at kHost
    // whose router kRouter is resolved.
    struct UplinkTopology {
        NetworkId net;
        PortId c1, c2, up;
    };
    UplinkTopology containers_behind_uplink() {
        UplinkTopology t{};
        t.net = add_network(kGateway);
        t.c1 = add_port(t.net);
        t.c2 = add_port(t.net);
        t.up = add_port(kNoNetwork, dataplane::PortRole::Uplink);
        set_uplink(t.up, kHost, kRouter, kUplinkMac, 1'000'000, 100);
        EXPECT_TRUE(ctx_->neighbours->confirm(kRouter, kRouterMac, 1, timing()));
        return t;
    }

    // The uplink's ARP timing, as the stages read it from the snapshot.
    l3::NeighbourTiming timing() const {
        return snap_.uplink ? l3::NeighbourTiming{snap_.uplink->arp_timeout_ticks, snap_.uplink->arp_retry_ticks}
                            : l3::NeighbourTiming{};
    }
    l3::NeighbourTable& neighbours() { return *neighbours_; }

    // One worker loop iteration without traffic: waiting packets are looked at.
    void idle(std::uint64_t now) {
        snap_.serial.renew();  // tests change snap_ in place between bursts
        snap_.index_subnets();
        ctx_->tx.set_offload_ports(snap_.offload_ports);
        if (ctx_->pending.count != 0) dataplane::service_pending(*ctx_, snap_, now);
        ctx_->tx.flush_all();
    }

    // Runs `frames` through the pipeline as one burst received on `port`, then flushes tx.
    void receive(PortId port, const std::vector<Frame>& frames, std::uint64_t now = 1) {
        std::vector<rte_mbuf*> burst;
        for (const Frame& f : frames) {
            rte_mbuf* m = to_mbuf(pool_.get(), f);
            ASSERT_NE(m, nullptr);
            m->port = port;
            burst.push_back(m);
        }
        receive(burst, now);
    }

    // Runs mbufs the test prepared (chained, offload metadata set: their
    // `port` says where they arrived) through the pipeline as one burst.
    void receive(std::vector<rte_mbuf*> burst, std::uint64_t now = 1) {
        snap_.serial.renew();  // tests change snap_ in place between bursts
        snap_.index_subnets();
        ctx_->tx.set_offload_ports(snap_.offload_ports);
        dataplane::process_burst(*ctx_, snap_, burst.data(), static_cast<std::uint16_t>(burst.size()), now);
        ctx_->tx.flush_all();
    }

    // Receives `f` on `in` at `now`; success when the pipeline then sent
    // exactly one frame on `out` and it equals `want` byte for byte (the hex
    // diff otherwise). Other ports are not looked at.
    ::testing::AssertionResult forwards(PortId in, const Frame& f, PortId out, const Frame& want,
                                        std::uint64_t now = 1) {
        receive(in, {f}, now);
        const std::vector<Frame> got = sent(out);
        if (got.size() != 1) {
            return ::testing::AssertionFailure() << got.size() << " frames sent on port " << out << ", expected 1";
        }
        const std::string diff = hex_diff(want, got[0]);
        if (!diff.empty()) return ::testing::AssertionFailure() << "the frame sent on port " << out << ":\n" << diff;
        return ::testing::AssertionSuccess();
    }

    // What the pipeline transmitted on `port` since the last call, oldest first.
    std::vector<Frame> sent(PortId port) {
        std::vector<Frame> out;
        for (auto& ring : rings_) {
            if (ring->port() != port) continue;
            for (rte_mbuf* m : ring->drain_tx()) {
                out.push_back(from_mbuf(m));
                rte_pktmbuf_free(m);
            }
        }
        return out;
    }

    // The mbufs themselves (offload flags, lengths): the caller frees them.
    std::vector<rte_mbuf*> sent_mbufs(PortId port) {
        for (auto& ring : rings_) {
            if (ring->port() == port) return ring->drain_tx();
        }
        return {};
    }

    const nat::RuleCounter& rule_counter(std::uint32_t slot) const { return rule_counters_->slots[slot]; }
    std::uint64_t drops(DropReason reason) const { return counters_->drops[static_cast<std::size_t>(reason)]; }
    std::uint64_t total_drops() const {
        std::uint64_t sum = 0;
        for (auto d : counters_->drops) sum += d;
        return sum;
    }
    // Every mbuf went somewhere: sent (and drained) or freed.
    unsigned mbufs_in_use() const { return rte_mempool_in_use_count(pool_.get()); }
    unsigned indirect_mbufs_in_use() const { return rte_mempool_in_use_count(indirect_pool_.get()); }

    dataplane::ForwardingSnapshot& snapshot() { return snap_; }
    bridge::MacTable& macs() { return *macs_; }
    vxlan::VtepTable& vteps() { return *vteps_; }
    const sync::WorkerCounters& counters() const { return *counters_; }
    dataplane::WorkerContext& context() { return *ctx_; }
    rte_mempool* pool() { return pool_.get(); }

private:
    MempoolPtr pool_;
    MempoolPtr indirect_pool_;
    std::unique_ptr<sync::Rcu> rcu_;
    std::unique_ptr<bridge::MacTable> macs_;
    std::unique_ptr<l3::NeighbourTable> neighbours_;
    std::unique_ptr<vxlan::VtepTable> vteps_;
    std::unique_ptr<nat::Conntrack> conntrack_;
    std::unique_ptr<sync::WorkerCounters> counters_;
    std::unique_ptr<nat::RuleCounters> rule_counters_ = std::make_unique<nat::RuleCounters>();
    std::unique_ptr<dataplane::WorkerContext> ctx_;
    std::vector<std::unique_ptr<RingPort>> rings_;
    dataplane::ForwardingSnapshot snap_;
};

}  // namespace dpdock::test
