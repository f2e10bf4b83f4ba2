// Pipeline micro-benchmark: whole worker loop iterations (worker_poll: rx
// burst, classify, bridge, tx buffers, flush, quiescent state) of 64-byte
// frames from 1, 1,000 or 100,000 source MACs to a static destination, and
// the same-run baseline: rx burst + tx burst and nothing else (io forward).
// The wire is a loop of rte_rings: what the "sink" port transmits is what the
// "gen" port receives next, so 1,024 mbufs circulate and stay cache-warm the
// way a PMD's mempool cache keeps them. Before each iteration the generator
// step (not timed) writes the next source MACs and the ingress port into the
// burst about to be received, as a memif or NIC rx would. Only worker_poll is
// timed, in TSC ticks: the counter cycles_per_packet is directly comparable
// with the throughput harness's. `dpdock_microbench --benchmark_filter=Pipeline|IoForward`.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "bench/bench_eal.hpp"
#include "dataplane/bridge/mac_table.hpp"
#include "dataplane/fastpath/worker.hpp"
#include "dataplane/mempool.hpp"
#include "dataplane/port.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock::bench {
namespace {

constexpr unsigned kBurst = 32;
constexpr unsigned kCirculating = 1024;  // a multiple of kBurst
constexpr NetworkId kNetwork = 0;
const MacAddress kDestination = MacAddress::from_u64(0x020000000002ULL);

MacAddress source_mac(std::uint32_t n) { return MacAddress::from_u64(0x021000000000ULL | n); }

struct Rig {
    rte_mempool* pool = nullptr;
    rte_ring* loop = nullptr;  // sink's tx = gen's rx
    PortId gen = kNoPort;
    PortId sink = kNoPort;
    std::unique_ptr<sync::Rcu> rcu;
    std::unique_ptr<sync::Snapshot<bridge::ForwardingSnapshot>> snapshot;
    std::unique_ptr<bridge::MacTable> macs;
    std::unique_ptr<sync::WorkerCounters> counters;
    std::atomic<bool> stop{false};
    dataplane::WorkerContext ctx;
    std::vector<rte_mbuf*> order;  // the circulating mbufs in ring order
    std::uint32_t source_macs = 1;
    std::uint32_t next_mac = 0;
    std::size_t cursor = 0;

    // The generator's part: the next burst to be received gets its ingress
    // port and the next source MACs, round robin over source_macs.
    void prepare_burst() {
        for (unsigned i = 0; i < kBurst; ++i) {
            rte_mbuf* m = order[cursor + i];
            m->port = gen;
            auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
            const auto bytes = source_mac(next_mac).bytes();
            std::copy(bytes.begin(), bytes.end(), eth->src_addr.addr_bytes);
            next_mac = next_mac + 1 == source_macs ? 0 : next_mac + 1;
        }
        cursor = (cursor + kBurst) % order.size();
    }
};

Status make_port(const std::string& name, rte_ring* rx, rte_ring* tx, rte_mempool* pool, PortId* port) {
    const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, static_cast<unsigned>(rte_socket_id()));
    if (id < 0) return Status::error("cannot create ring port " + name);
    *port = static_cast<PortId>(id);
    dataplane::PortOptions options;
    options.pool = pool;
    return dataplane::configure_and_start_port(*port, options);
}

rte_ring* make_ring(const std::string& name) {
    return rte_ring_create(name.c_str(), 2 * kCirculating, static_cast<int>(rte_socket_id()),
                           RING_F_SP_ENQ | RING_F_SC_DEQ);
}

Status build(Rig& rig, std::uint32_t source_macs) {
    const std::string tag = std::to_string(source_macs);
    rig.source_macs = source_macs;
    auto pool = dataplane::create_packet_pool("pb" + tag, kCirculating + 512, RTE_PKTMBUF_HEADROOM + 256,
                                              static_cast<int>(rte_socket_id()));
    if (!pool) return Status::error(pool.message());
    rig.pool = *pool;
    rig.loop = make_ring("pbl" + tag);
    rte_ring* gen_tx = make_ring("pbg" + tag);
    rte_ring* sink_rx = make_ring("pbs" + tag);
    if (rig.loop == nullptr || gen_tx == nullptr || sink_rx == nullptr) return Status::error("cannot create rings");
    if (auto st = make_port("pbgen" + tag, rig.loop, gen_tx, rig.pool, &rig.gen); !st) return st;
    if (auto st = make_port("pbsink" + tag, sink_rx, rig.loop, rig.pool, &rig.sink); !st) return st;

    auto rcu = sync::Rcu::create(1);
    if (!rcu) return Status::error(rcu.message());
    rig.rcu = std::move(*rcu);
    auto macs = bridge::MacTable::create({.name = "pbmac" + tag,
                                          .capacity = std::max<std::uint32_t>(2 * source_macs, 1024),
                                          .refresh_ticks = rte_get_tsc_hz(),
                                          .socket_id = static_cast<int>(rte_socket_id()),
                                          .qsbr = rig.rcu->qsbr()});
    if (!macs) return Status::error(macs.message());
    rig.macs = std::move(*macs);
    if (auto st = rig.macs->add_static(kNetwork, kDestination, rig.sink); !st) return st;

    auto snap = std::make_unique<bridge::ForwardingSnapshot>();
    snap->ports[rig.gen] = {bridge::PortRole::Member, kNetwork};
    snap->ports[rig.sink] = {bridge::PortRole::Member, kNetwork};
    bridge::NetworkInfo network;
    network.gateway_mac = MacAddress::from_u64(0x020000000001ULL);
    network.members = {rig.gen, rig.sink};
    snap->networks.push_back(std::move(network));
    snap->rx_queues = {{{rig.gen, 0}}};
    rig.snapshot = std::make_unique<sync::Snapshot<bridge::ForwardingSnapshot>>(*rig.rcu);
    rig.snapshot->publish(std::move(snap));

    rig.counters = std::make_unique<sync::WorkerCounters>();
    rig.ctx.burst = kBurst;
    rig.ctx.snapshot = rig.snapshot.get();
    rig.ctx.macs = rig.macs.get();
    rig.ctx.rcu = rig.rcu.get();
    rig.ctx.counters = rig.counters.get();
    rig.ctx.stop = &rig.stop;
    if (auto st = rig.ctx.tx.init(0, kBurst, rig.counters.get(), static_cast<int>(rte_socket_id())); !st) return st;

    const auto frame = test::PacketBuilder()
                           .eth(kDestination, source_mac(0))
                           .ipv4(Ipv4Address::parse("10.100.0.1").value(), Ipv4Address::parse("10.99.0.2").value())
                           .udp(1024, 9)
                           .pad_to(60)
                           .build();
    for (unsigned i = 0; i < kCirculating; ++i) {
        rte_mbuf* m = test::to_mbuf(rig.pool, frame);
        if (m == nullptr) return Status::error("mbuf pool too small");
        rig.order.push_back(m);
    }
    if (rte_ring_enqueue_bulk(rig.loop, reinterpret_cast<void* const*>(rig.order.data()), kCirculating, nullptr) !=
        kCirculating)
        return Status::error("loop ring too small");
    // The worker reads the snapshot as RCU reader 0, from now on this thread.
    rig.rcu->register_reader(0);
    rig.rcu->online(0);
    // Learn every source once before anything is measured.
    for (std::uint32_t i = 0; i < source_macs / kBurst + 2 * kCirculating / kBurst; ++i) {
        rig.prepare_burst();
        dataplane::worker_poll(rig.ctx);
    }
    return {};
}

Rig* rig_for(std::uint32_t source_macs, std::string* error) {
    static std::map<std::uint32_t, std::unique_ptr<Rig>> rigs;  // built once, kept for the run
    if (auto it = rigs.find(source_macs); it != rigs.end()) return it->second.get();
    ensure_bench_eal();
    auto rig = std::make_unique<Rig>();
    if (auto st = build(*rig, source_macs); !st) {
        *error = st.message();
        return nullptr;
    }
    return rigs.emplace(source_macs, std::move(rig)).first->second.get();
}

template <typename Poll>
void run_loop(benchmark::State& state, Rig& rig, Poll&& poll) {
    const double hz = static_cast<double>(rte_get_tsc_hz());
    std::uint64_t ticks = 0;
    std::uint64_t packets = 0;
    for (auto _ : state) {
        rig.prepare_burst();
        const std::uint64_t start = rte_rdtsc_precise();
        const std::uint64_t n = poll();
        const std::uint64_t spent = rte_rdtsc_precise() - start;
        if (n != kBurst) {
            state.SkipWithError("the loop lost packets");
            break;
        }
        ticks += spent;
        packets += n;
        state.SetIterationTime(static_cast<double>(spent) / hz);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["cycles_per_packet"] = cycles_per_packet(ticks, packets);
}

void BM_PipelineL2(benchmark::State& state) {
    std::string error;
    Rig* rig = rig_for(static_cast<std::uint32_t>(state.range(0)), &error);
    if (rig == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    run_loop(state, *rig, [rig] { return dataplane::worker_poll(rig->ctx); });
}

// testpmd's io forward on the same rig: the cost of the wire alone.
void BM_IoForward(benchmark::State& state) {
    std::string error;
    Rig* rig = rig_for(1, &error);
    if (rig == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    run_loop(state, *rig, [rig] {
        rte_mbuf* pkts[kBurst];
        const std::uint16_t n = rte_eth_rx_burst(rig->gen, 0, pkts, kBurst);
        const std::uint16_t sent = rte_eth_tx_burst(rig->sink, 0, pkts, n);
        for (std::uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
        rig->rcu->quiescent(0);
        return std::uint64_t{sent};
    });
}

BENCHMARK(BM_IoForward)->UseManualTime();
BENCHMARK(BM_PipelineL2)->Arg(1)->Arg(1'000)->Arg(100'000)->UseManualTime();

}  // namespace
}  // namespace dpdock::bench
