// MAC table micro-benchmarks: what the bridge stage pays per frame for the
// destination lookup (bulk of 32, as in one rx burst) and for learning a
// source that is already known (the common case), at 1k, 100k and 1M entries.
// Keys are visited in random order so that large tables miss the caches as
// real traffic would. Not run by the tests: `dpdock_microbench --benchmark_filter=Mac`.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "dataplane/bridge/mac_table.hpp"
#include "dataplane/sync/rcu.hpp"

namespace dpdock::bridge {
namespace {

constexpr unsigned kBurst = 32;
constexpr NetworkId kNetwork = 1;
constexpr PortId kPort = 1;

// The bench binary owns its EAL: no hugepages, no shared files, one lcore.
bool ensure_bench_eal() {
    static bool ok = false;
    static std::once_flag once;
    std::call_once(once, [] {
        std::vector<std::string> args = {"dpdock-bench", "-l", "0", "--no-huge", "-m", "1024", "--no-shconf",
                                         "--no-pci", "--no-telemetry", "--log-level=lib.eal:warning",
                                         "--file-prefix", "bench-" + std::to_string(getpid())};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        ok = rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
        if (!ok) std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    });
    return ok;
}

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
    if (!ensure_bench_eal()) return nullptr;
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

void BM_MacLookupBulk32(benchmark::State& state) {
    Fixture* f = fixture(static_cast<std::uint32_t>(state.range(0)));
    if (f == nullptr) {
        state.SkipWithError("cannot build the MAC table");
        return;
    }
    std::vector<std::uint64_t> keys(f->order.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = MacTable::make_key(kNetwork, mac_n(f->order[i]));
    const std::size_t bursts = keys.size() / kBurst;
    PortId ports[kBurst];
    std::size_t b = 0;
    for (auto _ : state) {
        f->table->lookup_bulk(&keys[b * kBurst], kBurst, ports);
        benchmark::DoNotOptimize(ports);
        b = b + 1 == bursts ? 0 : b + 1;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBurst);
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
BENCHMARK(BM_MacLearnExisting)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
}  // namespace dpdock::bridge
