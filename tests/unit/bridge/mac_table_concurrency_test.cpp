// Two worker threads learn and look up the same MACs from different ports
// (so entries move between them all the time) while the main thread, as the
// control thread, ages, flushes and adds/removes statics. Checks: no crash,
// static entries are never lost or moved, and the table ends consistent.
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "bridge/mac_table.hpp"
#include "tests/unit/bridge/mac_table_test_util.hpp"

namespace dpdock::bridge {
namespace {

using test::mac_n;

constexpr unsigned kWorkers = 2;
constexpr std::uint32_t kLearnedMacs = 512;  // 256 per network, networks 1 and 2
constexpr std::uint32_t kStaticMacs = 8;     // network 1, MACs 1000.., never removed
constexpr std::uint32_t kChurnMac = 7;       // learned by workers, made static now and then
constexpr PortId kStaticPort = 100;
constexpr std::uint64_t kRefresh = 100;
constexpr auto kRunTime = std::chrono::milliseconds(300);

NetworkId network_of(std::uint32_t i) { return static_cast<NetworkId>(1 + i % 2); }

struct WorkerStats {
    std::atomic<std::uint64_t> iterations{0};
    std::atomic<std::uint64_t> static_misses{0};  // a static key looked up with a wrong port
    std::atomic<std::uint64_t> static_learns{0};  // learning moved or inserted over a static key
    std::atomic<std::uint64_t> full{0};
};

// One worker: registered lcore and RCU reader, reporting a quiescent state
// after each burst, as worker.cpp does.
void worker_loop(MacTable& table, sync::Rcu& rcu, unsigned index, const std::atomic<std::uint64_t>& clock,
                 const std::atomic<bool>& stop, WorkerStats& stats) {
    ASSERT_EQ(rte_thread_register(), 0);
    rcu.register_reader(index);
    rcu.online(index);
    const PortId port = static_cast<PortId>(1 + index);
    std::uint32_t cursor = index * 97;
    while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t now = clock.load(std::memory_order_relaxed);
        // Sources in bulk, as the bridge stage learns them.
        std::uint64_t sources[32];
        PortId source_ports[32];
        std::uint64_t keys[32];
        for (unsigned i = 0; i < 32; ++i) {
            const std::uint32_t n = (cursor + i * 13) % kLearnedMacs;
            sources[i] = MacTable::make_key(network_of(n), mac_n(n));
            source_ports[i] = port;
            keys[i] = MacTable::make_key(network_of(n + 1), mac_n(n + 1));
        }
        LearnTally learned;
        table.learn_bulk(sources, source_ports, 32, now, learned);
        stats.full.fetch_add(learned.full, std::memory_order_relaxed);
        // Statics: learning them from a worker port must never take them over.
        for (std::uint32_t s = 0; s < kStaticMacs; ++s) {
            sources[s] = MacTable::make_key(1, mac_n(1000 + s));
            keys[s] = sources[s];
        }
        LearnTally statics;
        table.learn_bulk(sources, source_ports, kStaticMacs, now, statics);
        stats.static_learns.fetch_add(kStaticMacs - statics.static_conflict, std::memory_order_relaxed);
        PortId ports[32];
        table.lookup_bulk(keys, 32, ports);
        for (std::uint32_t s = 0; s < kStaticMacs; ++s) {
            if (ports[s] != kStaticPort) stats.static_misses.fetch_add(1, std::memory_order_relaxed);
        }
        cursor += 7;
        stats.iterations.fetch_add(1, std::memory_order_relaxed);
        rcu.quiescent(index);
    }
    rcu.offline(index);
    rcu.unregister_reader(index);
    rte_thread_unregister();
}

PortId lookup(const MacTable& table, NetworkId network, MacAddress mac) {
    const std::uint64_t key = MacTable::make_key(network, mac);
    PortId port = kNoPort;
    table.lookup_bulk(&key, 1, &port);
    return port;
}

// Every dumped entry is unique; once the workers are stopped (`quiet`) it
// also agrees with a lookup (while they run, a MAC may move in between).
void expect_dump_consistent(const MacTable& table, std::uint64_t now, bool quiet) {
    const auto entries = table.dump(now);
    std::set<std::tuple<NetworkId, MacAddress>> seen;
    for (const auto& e : entries) {
        EXPECT_TRUE(seen.emplace(e.network, e.mac).second) << "duplicate " << e.mac.to_string();
        if (quiet) {
            EXPECT_EQ(lookup(table, e.network, e.mac), e.port) << e.mac.to_string();
        }
    }
}

class MacTableConcurrencyTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(MacTableConcurrencyTest, WorkersLearnWhileControlAgesAndFlushes) {
    const std::uint32_t capacity = GetParam();
    auto rcu = test::make_rcu(kWorkers);
    ASSERT_NE(rcu, nullptr);
    auto table = test::make_table(*rcu, capacity, kRefresh);
    ASSERT_NE(table, nullptr);
    for (std::uint32_t s = 0; s < kStaticMacs; ++s) {
        ASSERT_TRUE(table->add_static(1, mac_n(1000 + s), kStaticPort).ok());
    }

    std::atomic<std::uint64_t> clock{1000};
    std::atomic<bool> stop{false};
    WorkerStats stats[kWorkers];
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < kWorkers; ++w) {
        workers.emplace_back(worker_loop, std::ref(*table), std::ref(*rcu), w, std::cref(clock), std::cref(stop),
                             std::ref(stats[w]));
    }

    std::uint64_t rounds = 0;
    std::uint64_t removed = 0;
    const auto deadline = std::chrono::steady_clock::now() + kRunTime;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::uint64_t now = clock.fetch_add(1000) + 1000;
        removed += table->expire(now, 3000);
        if (rounds % 7 == 0) removed += table->flush_port(static_cast<PortId>(1 + rounds % 2));
        if (rounds % 11 == 0) removed += table->flush_network(2);
        if (rounds % 5 == 0) {
            // Races the workers learning the same MAC; once add_static returns
            // the entry must be static on our port.
            const auto st = table->add_static(network_of(kChurnMac), mac_n(kChurnMac), kStaticPort);
            if (st.ok()) {
                EXPECT_EQ(lookup(*table, network_of(kChurnMac), mac_n(kChurnMac)), kStaticPort);
                EXPECT_TRUE(table->remove_static(network_of(kChurnMac), mac_n(kChurnMac)).ok());
            } else {
                EXPECT_LT(capacity, kLearnedMacs) << st.message();  // only a small table can be full
            }
        }
        if (rounds % 13 == 0) expect_dump_consistent(*table, now, false);
        ++rounds;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    stop.store(true);
    for (auto& t : workers) t.join();

    for (unsigned w = 0; w < kWorkers; ++w) {
        EXPECT_GT(stats[w].iterations.load(), 0u) << "worker " << w;
        EXPECT_EQ(stats[w].static_misses.load(), 0u) << "worker " << w;
        EXPECT_EQ(stats[w].static_learns.load(), 0u) << "worker " << w;
    }
    EXPECT_GT(removed, 0u);
    if (capacity < kLearnedMacs) {
        EXPECT_GT(stats[0].full.load() + stats[1].full.load(), 0u);
    }

    // Quiet now: the table must be exactly consistent.
    const std::uint64_t now = clock.load();
    expect_dump_consistent(*table, now, true);
    for (std::uint32_t s = 0; s < kStaticMacs; ++s) EXPECT_EQ(lookup(*table, 1, mac_n(1000 + s)), kStaticPort);
    table->expire(now + 1'000'000, 0);
    const auto left = table->dump(now + 1'000'000);
    EXPECT_EQ(left.size(), kStaticMacs);
    EXPECT_TRUE(std::all_of(left.begin(), left.end(), [](const MacEntry& e) { return e.is_static; }));
    EXPECT_EQ(table->size(), kStaticMacs);
    EXPECT_EQ(table->learn(1, mac_n(1), 1, now), LearnResult::Learned);
    EXPECT_EQ(table->size(), kStaticMacs + 1);
}

// 4096: plenty of room. 64: the workers hit Full constantly and live off
// the slots that ageing and flushes free.
INSTANTIATE_TEST_SUITE_P(Capacity, MacTableConcurrencyTest, ::testing::Values(4096u, 64u));

}  // namespace
}  // namespace dpdock::bridge
