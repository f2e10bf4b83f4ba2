// MAC table micro-benchmarks: what the bridge stage pays per frame for the
// destination lookup (bulk of 32, as in one rx burst) and for learning
// sources that are already known (the common case; in bulk of 32 as the bridge
// stage does, and one by one), at 1k, 100k and 1M entries.
// Keys are visited in random order so that large tables miss the caches as
// real traffic would. Not run by the tests: `dpdock_microbench --benchmark_filter=Mac`.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/bench_eal.hpp"
#include "bridge/mac_table.hpp"
#include "base/sync/rcu.hpp"

namespace dpdock::bridge {
namespace {

constexpr unsigned kBurst = 32;
constexpr NetworkId kNetwork = 1;
constexpr PortId kPort = 1;

MacAddress mac_n(std::uint32_t n) { return MacAddress::from_u64(0x020000000000ULL | n); }

// A filled table and its keys in random order. Built once per size and kept
// for the whole run: filling 1M entries costs far more than measuring.
struct Fixture {
    std::unique_ptr<sync::Rcu> rcu;
    std::unique_ptr<MacTable> table;
    std::vector<std::uint32_t> order;  // MAC numbers, shuffled
};

Fixture* fixture(std::uint32_t entries) {
    static std::map<std::uint32_t, Fixture> fixtures;
    auto it = fixtures.find(entries);
    if (it != fixtures.end()) return &it->second;
    bench::ensure_bench_eal();
    Fixture f;
    auto rcu = sync::Rcu::create(1);  // no reader registered: grace periods end at once
    if (!rcu) return nullptr;
    f.rcu = std::move(*rcu);
    auto table = MacTable::create({.name = "bench" + std::to_string(entries),
                                   .capacity = entries,
                                   .refresh_ticks = ~std::uint64_t{0},
                                   .socket_id = SOCKET_ID_ANY,
                                   .qsbr = f.rcu->qsbr()});
    if (!table) {
        std::fprintf(stderr, "%s\n", table.message().c_str());
        return nullptr;
    }
    f.table = std::move(*table);
    f.order.resize(entries);
    for (std::uint32_t i = 0; i < entries; ++i) {
        f.order[i] = i;
        if (f.table->learn(kNetwork, mac_n(i), kPort, 1) != LearnResult::Learned) return nullptr;
    }
    std::shuffle(f.order.begin(), f.order.end(), std::mt19937(42));
    return &fixtures.emplace(entries, std::move(f)).first->second;
}

// Runs op(table, keys) on one burst of the fixture's keys per iteration,
// walking them in their random order.
template <typename Op>
void over_bursts(benchmark::State& state, Op&& op) {
    Fixture* f = fixture(static_cast<std::uint32_t>(state.range(0)));
    if (f == nullptr) {
        state.SkipWithError("cannot build the MAC table");
        return;
    }
    std::vector<std::uint64_t> keys(f->order.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = MacTable::make_key(kNetwork, mac_n(f->order[i]));
    const std::size_t bursts = keys.size() / kBurst;
    std::size_t b = 0;
    for (auto _ : state) {
        op(*f->table, &keys[b * kBurst]);
        b = b + 1 == bursts ? 0 : b + 1;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBurst);
}

void BM_MacLookupBulk32(benchmark::State& state) {
    PortId ports[kBurst];
    over_bursts(state, [&ports](MacTable& table, const std::uint64_t* keys) {
        table.lookup_bulk(keys, kBurst, ports);
        benchmark::DoNotOptimize(ports);
    });
}

void BM_MacLearnBulk32(benchmark::State& state) {
    const std::vector<PortId> ports(kBurst, kPort);
    over_bursts(state, [&ports](MacTable& table, const std::uint64_t* keys) {
        LearnTally tally;
        table.learn_bulk(keys, ports.data(), kBurst, 2, tally);
        benchmark::DoNotOptimize(tally);
    });
}

void BM_MacLearnExisting(benchmark::State& state) {
    Fixture* f = fixture(static_cast<std::uint32_t>(state.range(0)));
    if (f == nullptr) {
        state.SkipWithError("cannot build the MAC table");
        return;
    }
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(f->table->learn(kNetwork, mac_n(f->order[i]), kPort, 2));
        i = i + 1 == f->order.size() ? 0 : i + 1;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_MacLookupBulk32)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_MacLearnBulk32)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_MacLearnExisting)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
}  // namespace dpdock::bridge
