// Conntrack micro-benchmarks: what MASQUERADE pays per packet for the flow
// lookup of a tracked flow (hit; one at a time, and 32 at a time as
// route_stage looks up a burst) and per new flow for the insert (port
// search, both keys), in tables holding 1k, 100k and 1M flows. Lookups visit
// the flows in random order, so large tables miss the caches as real traffic
// would. Read the CPU time column: on a shared machine wall-clock time (and
// TSC ticks) include the time the thread was preempted.
// Not run by the tests: `dpdock_microbench --benchmark_filter=Conntrack`.
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_byteorder.h>

#include "bench/bench_eal.hpp"
#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::nat {
namespace {

constexpr std::uint32_t kHostIp = 0xc0000202;        // 192.0.2.2
constexpr std::uint32_t kBatch = 16384;              // new flows between two clean-ups
constexpr std::uint64_t kForever = 1ULL << 40;       // the fixture's flows never expire (hz = 1)

// Flow i as bench/traffic.py numbers them: every flow keeps its source port.
// `dport` tells the fixture's flows (9) from the inserted ones (10).
FlowKey flow(std::uint32_t i, std::uint16_t dport) {
    return {rte_cpu_to_be_32(0x0a630002 + i % 65000), rte_cpu_to_be_32(0xc6120000 + i % 65521),
            rte_cpu_to_be_16(static_cast<std::uint16_t>(1024 + i / 65000)), rte_cpu_to_be_16(dport), IPPROTO_UDP,
            {}};
}

struct Fixture {
    std::unique_ptr<sync::Rcu> rcu;
    std::unique_ptr<Conntrack> table;
    std::vector<FlowKey> order;  // the tracked flows' original keys, shuffled
};

// A table holding `flows` flows, with room for kBatch more. Built once per size.
Fixture* fixture(std::uint32_t flows) {
    static std::map<std::uint32_t, Fixture> fixtures;
    if (auto it = fixtures.find(flows); it != fixtures.end()) return &it->second;
    bench::ensure_bench_eal();
    Fixture f;
    auto rcu = sync::Rcu::create(1);  // no reader registered: grace periods end at once
    if (!rcu) return nullptr;
    f.rcu = std::move(*rcu);
    ConntrackOptions o;
    o.name = "bct" + std::to_string(flows);
    o.capacity = flows + 2 * kBatch;  // free slots stay above the early-drop reserve (at most 1024)
    o.hz = 1;
    o.qsbr = f.rcu->qsbr();
    auto table = Conntrack::create(o);
    if (!table) {
        std::fprintf(stderr, "%s\n", table.message().c_str());
        return nullptr;
    }
    f.table = std::move(*table);
    DropReason why{};
    for (std::uint32_t i = 0; i < flows; ++i) {
        f.order.push_back(flow(i, 9));
        if (f.table->create(f.order.back(), rte_cpu_to_be_32(kHostIp), MacAddress(), 0, 0, kForever, why) == nullptr) {
            return nullptr;
        }
    }
    std::shuffle(f.order.begin(), f.order.end(), std::mt19937(42));
    return &fixtures.emplace(flows, std::move(f)).first->second;
}

// The fixture of the benchmark's size, or nullptr with the benchmark marked skipped.
Fixture* fixture_for(benchmark::State& state) {
    Fixture* f = fixture(static_cast<std::uint32_t>(state.range(0)));
    if (f == nullptr) state.SkipWithError("cannot build the conntrack table");
    return f;
}

void BM_ConntrackLookupHit(benchmark::State& state) {
    Fixture* f = fixture_for(state);
    if (f == nullptr) return;
    std::size_t i = 0;
    for (auto _ : state) {
        Direction dir;
        benchmark::DoNotOptimize(f->table->find(f->order[i], dir));
        i = i + 1 == f->order.size() ? 0 : i + 1;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The same lookups 32 at a time, as route_stage does them for a burst
// (Conntrack::find_bulk); items are keys, comparable with the one above.
void BM_ConntrackLookupBulk32(benchmark::State& state) {
    Fixture* f = fixture_for(state);
    if (f == nullptr) return;
    constexpr std::size_t kBurst = 32;
    std::size_t i = 0;
    const FlowKey* keys[kBurst];
    Entry* entries[kBurst];
    Direction dirs[kBurst];
    for (auto _ : state) {
        for (std::size_t k = 0; k < kBurst; ++k) {
            keys[k] = &f->order[i];
            i = i + 1 == f->order.size() ? 0 : i + 1;
        }
        f->table->find_bulk(keys, kBurst, entries, dirs);
        benchmark::DoNotOptimize(entries);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
}

// New flows into a table that holds range(0) flows; every kBatch inserts the
// new ones are expired again (untimed), so the fill stays put.
void BM_ConntrackInsert(benchmark::State& state) {
    Fixture* f = fixture_for(state);
    if (f == nullptr) return;
    std::uint32_t n = 0;
    for (auto _ : state) {
        if (n == kBatch) {
            state.PauseTiming();
            f->table->expire(kForever - 1);  // the new flows expire at 30: the fixture's stay
            n = 0;
            state.ResumeTiming();
        }
        DropReason why{};
        Entry* e = f->table->create(flow(n++, 10), rte_cpu_to_be_32(kHostIp), MacAddress(), 0, 0, 0, why);
        if (e == nullptr) {
            state.SkipWithError("insert refused");
            break;
        }
    }
    f->table->expire(kForever - 1);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_ConntrackLookupHit)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_ConntrackLookupBulk32)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_ConntrackInsert)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
}  // namespace dpdock::nat
