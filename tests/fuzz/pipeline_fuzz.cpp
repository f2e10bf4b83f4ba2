// libFuzzer target for the whole worker packet path: parse, classify and every
// stage (bridge, gateway, route with MASQUERADE, uplink with published ports,
// VXLAN decap/encap, ARP resolution) fed with arbitrary frames through ring
// ports, on the uplink and on container ports of a small deployment (a
// bridge network, an overlay network with a peer, learning from unknown
// peers and ARP suppression, a network with ICC off). Each input is a
// sequence of records [port selector][time step][length, 2 bytes BE][frame];
// consecutive records for one port form a burst. After each input every mbuf
// must be back in the pool: a leak aborts, as do crashes, sanitizer reports
// and the debug checks (DPDOCK_DCHECK). Tables persist between inputs but
// age out, since time jumps ahead at the start of each one.
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <rte_mbuf.h>

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

namespace dpdock::fuzz {
namespace {

constexpr std::uint64_t kArpTimeout = 60;  // ticks: the tables count in seconds here (hz = 1)
constexpr std::uint64_t kArpRetry = 1;
constexpr std::uint16_t kBurst = 32;
constexpr std::size_t kMaxFrame = 2048;  // an mbuf's data room in the test pool

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "pipeline_fuzz: %s\n", what);
    std::abort();
}

template <typename T>
T must(Result<T> r, const char* what) {
    if (!r) fail(what);
    return std::move(*r);
}

Ipv4Address ip(const char* s) { return *Ipv4Address::parse(s); }

struct Rig {
    test::MempoolPtr pool;
    test::MempoolPtr indirect;  // payload references of segments and fragments
    std::unique_ptr<sync::Rcu> rcu;
    std::unique_ptr<bridge::MacTable> macs;
    std::unique_ptr<l3::NeighbourTable> neighbours;
    std::unique_ptr<vxlan::VtepTable> vteps;
    std::unique_ptr<nat::Conntrack> conntrack;
    std::unique_ptr<sync::WorkerCounters> counters = std::make_unique<sync::WorkerCounters>();
    std::unique_ptr<nat::RuleCounters> rule_counters = std::make_unique<nat::RuleCounters>();
    std::unique_ptr<dataplane::WorkerContext> ctx = std::make_unique<dataplane::WorkerContext>();
    std::vector<std::unique_ptr<test::RingPort>> rings;
    std::vector<PortId> inputs;  // what a record's port selector picks
    dataplane::ForwardingSnapshot snap;
    std::uint64_t now = 1;

    PortId add_port(NetworkId network, dataplane::PortRole role) {
        auto ring = must(test::RingPort::create("fz" + std::to_string(rings.size()), {.pool = pool.get()}), "ring port");
        const PortId id = ring->port();
        rings.push_back(std::move(ring));
        snap.ports[id] = {role, network};
        if (network != kNoNetwork) snap.networks[network].members.push_back(id);
        return id;
    }

    NetworkId add_network(const char* gateway, std::uint8_t prefix) {
        dataplane::NetworkInfo net;
        net.gateway_ip = ip(gateway);
        net.gateway_mac = docker_mac_for(net.gateway_ip);
        net.subnet = Ipv4Cidr(Ipv4Cidr(net.gateway_ip, prefix).network(), prefix);
        snap.networks.push_back(net);
        return static_cast<NetworkId>(snap.networks.size() - 1);
    }
};

Rig& rig() {
    static Rig* r = [] {
        test::ensure_eal(256);
        auto* rg = new Rig;
        rg->pool = test::make_test_pool(2047);
        rg->indirect = test::make_test_pool(1023, 0);
        rg->rcu = must(sync::Rcu::create(1), "rcu");
        rg->macs = must(bridge::MacTable::create({.name = "fzm",
                                                  .capacity = 256,
                                                  .refresh_ticks = 1,
                                                  .socket_id = SOCKET_ID_ANY,
                                                  .qsbr = rg->rcu->qsbr()}),
                        "mac table");
        rg->neighbours = must(l3::NeighbourTable::create("fzn", 64, SOCKET_ID_ANY, rg->rcu->qsbr()), "neighbours");
        rg->vteps = must(vxlan::VtepTable::create("fzv", SOCKET_ID_ANY, rg->rcu->qsbr()), "vteps");
        nat::ConntrackOptions ct;
        ct.name = "fzc";
        ct.capacity = 256;
        ct.hz = 1;
        ct.socket = SOCKET_ID_ANY;
        ct.qsbr = rg->rcu->qsbr();
        rg->conntrack = must(nat::Conntrack::create(ct), "conntrack");

        // bridge (172.17.0.0/16, two ports), overlay (10.10.0.0/24, VNI 300,
        // one local port, a peer), isolated (172.18.0.0/16, ICC off, no NAT).
        const NetworkId bridge = rg->add_network("172.17.0.1", 16);
        const NetworkId overlay = rg->add_network("10.10.0.1", 24);
        const NetworkId quiet = rg->add_network("172.18.0.1", 16);
        const PortId up = rg->add_port(kNoNetwork, dataplane::PortRole::Uplink);
        rg->inputs = {up, rg->add_port(bridge, dataplane::PortRole::Container),
                      rg->add_port(bridge, dataplane::PortRole::Container),
                      rg->add_port(overlay, dataplane::PortRole::Container),
                      rg->add_port(quiet, dataplane::PortRole::Member)};
        rg->snap.uplink = dataplane::UplinkInfo{up,         MacAddress::from_u64(0x02aa00000001ULL),
                                             *Ipv4Cidr::parse("192.168.50.2/24"), ip("192.168.50.1"),
                                             kArpTimeout, kArpRetry, std::nullopt, 1500};
        auto& o = rg->snap.networks[overlay];
        rg->snap.segments.add(overlay, {.vni = 300, .peers = {{ip("192.168.50.9"), rg->vteps->port_of(ip("192.168.50.9"))}}});
        o.arp_suppression = true;
        o.arp_entries = {{ip("10.10.0.3"), MacAddress::from_u64(0x02420a0a0003ULL)}};
        rg->snap.vxlan.learn_unknown_peers = true;
        auto& q = rg->snap.networks[quiet];
        q.icc = false;
        q.masquerade = false;
        q.mtu = 1400;
        // A published port: tcp and udp 8080 -> 172.17.0.2:80.
        auto map = std::make_shared<nat::PortMap>();
        for (std::uint8_t proto : {std::uint8_t{IPPROTO_TCP}, std::uint8_t{IPPROTO_UDP}}) {
            nat::PublishedRule rule;
            rule.proto = proto;
            rule.host_lo = rule.host_hi = 8080;
            rule.container_lo = 80;
            rule.container_ip = ip("172.17.0.2");
            rule.container_mac = docker_mac_for(rule.container_ip);
            rule.network = bridge;
            rule.gateway = ip("172.17.0.1");
            rule.slot = proto;
            rule.container = "c1";
            if (!map->add(rule)) fail("published port");
        }
        rg->snap.published = map;
        rg->snap.index_subnets();

        dataplane::WorkerContext& c = *rg->ctx;
        c.macs = rg->macs.get();
        c.neighbours = rg->neighbours.get();
        c.vteps = rg->vteps.get();
        c.conntrack = rg->conntrack.get();
        c.pool = rg->pool.get();
        c.rcu = rg->rcu.get();
        c.counters = rg->counters.get();
        c.rule_counters = rg->rule_counters.get();
        c.icmp.limit.configure(1, 1000, 50);
        c.indirect_pool = rg->indirect.get();
        c.fragment_ticks = 1;
        if (!c.tx.init(0, kBurst, rg->counters.get(), SOCKET_ID_ANY, {rg->pool.get(), rg->indirect.get()})) {
            fail("tx buffers");
        }
        return rg;
    }();
    return *r;
}

void drain(Rig& r) {
    r.ctx->tx.flush_all();
    for (auto& ring : r.rings) {
        for (rte_mbuf* m : ring->drain_tx()) rte_pktmbuf_free(m);
    }
}

void run_burst(Rig& r, std::vector<rte_mbuf*>& burst) {
    if (burst.empty()) return;
    dataplane::process_burst(*r.ctx, r.snap, burst.data(), static_cast<std::uint16_t>(burst.size()), r.now);
    burst.clear();
    if (r.ctx->pending.count != 0) dataplane::service_pending(*r.ctx, r.snap, r.now);
    drain(r);
}

}  // namespace
}  // namespace dpdock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dpdock;
    fuzz::Rig& r = fuzz::rig();
    // A fresh start for the tables: everything learned by earlier inputs ages out.
    r.now += 100'000;
    r.macs->expire(r.now, 1000);
    r.conntrack->expire(r.now);
    r.vteps->expire(r.now, 1000, [&](PortId p) { r.macs->flush_port(p); });

    std::vector<rte_mbuf*> burst;
    PortId burst_port = kNoPort;
    std::size_t at = 0;
    while (at + 4 <= size) {
        const PortId port = r.inputs[data[at] % r.inputs.size()];
        const std::uint64_t step = data[at + 1];
        const std::size_t len = std::size_t{data[at + 2]} << 8 | data[at + 3];
        at += 4;
        const std::size_t take = std::min(len, size - at);
        // One segment, as the ports deliver frames (no scatter): longer ones are cut.
        const std::size_t keep = std::min<std::size_t>(take, fuzz::kMaxFrame);
        if (port != burst_port || step != 0 || burst.size() == fuzz::kBurst) {
            fuzz::run_burst(r, burst);
            burst_port = port;
            r.now += step;
        }
        rte_mbuf* m = test::to_mbuf(r.pool.get(), std::vector<std::uint8_t>(data + at, data + at + keep));
        at += take;
        if (m == nullptr) fuzz::fail("no mbuf for an input frame");
        m->port = port;
        burst.push_back(m);
    }
    fuzz::run_burst(r, burst);
    // Time passes with nothing received: waiting packets are asked for again, then given up.
    for (int i = 0; i < 4 && r.ctx->pending.count != 0; ++i) {
        r.now += fuzz::kArpRetry;
        dataplane::service_pending(*r.ctx, r.snap, r.now);
        fuzz::drain(r);
    }
    if (r.ctx->pending.count != 0) fuzz::fail("packets still wait for ARP after every attempt");
    if (rte_mempool_in_use_count(r.pool.get()) != 0) fuzz::fail("mbuf leak: the pool is not whole after an input");
    if (rte_mempool_in_use_count(r.indirect.get()) != 0) fuzz::fail("mbuf leak: the indirect pool is not whole");
    return 0;
}
