// Helpers shared by the MAC table tests: an RCU domain with a stand-in worker
// that reports quiescent states, unique table names, and distinct MACs.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "bridge/mac_table.hpp"
#include "base/sync/rcu.hpp"
#include "tests/support/eal_environment.hpp"

namespace dpdock::bridge::test {

// Locally administered unicast addresses 02:00:..., one per n.
inline MacAddress mac_n(std::uint32_t n) { return MacAddress::from_u64(0x020000000000ULL | n); }

// rte_hash names are process-wide; each table in a test binary gets its own.
inline std::string unique_table_name() {
    static std::atomic<unsigned> counter{0};
    return "mt" + std::to_string(counter.fetch_add(1));
}

// A registered, online RCU reader that reports a quiescent state every
// ~50 us, as an idle worker loop would, so grace periods end and the
// hash's defer queue can hand deleted slots back.
class QuiescentReporter {
public:
    QuiescentReporter(sync::Rcu& rcu, unsigned reader) : thread_([&rcu, reader, this] {
        rcu.register_reader(reader);
        rcu.online(reader);
        while (!stop_.load(std::memory_order_relaxed)) {
            rcu.quiescent(reader);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        rcu.offline(reader);
        rcu.unregister_reader(reader);
    }) {}
    ~QuiescentReporter() {
        stop_.store(true, std::memory_order_relaxed);
        thread_.join();
    }
    QuiescentReporter(const QuiescentReporter&) = delete;
    QuiescentReporter& operator=(const QuiescentReporter&) = delete;

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

inline std::unique_ptr<sync::Rcu> make_rcu(unsigned readers) {
    dpdock::test::ensure_eal();
    auto rcu = sync::Rcu::create(readers);
    EXPECT_TRUE(rcu.ok()) << rcu.message();
    return rcu.ok() ? std::move(*rcu) : nullptr;
}

inline std::unique_ptr<MacTable> make_table(sync::Rcu& rcu, std::uint32_t capacity, std::uint64_t refresh_ticks) {
    auto table = MacTable::create({.name = unique_table_name(),
                                   .capacity = capacity,
                                   .refresh_ticks = refresh_ticks,
                                   .socket_id = SOCKET_ID_ANY,
                                   .qsbr = rcu.qsbr()});
    EXPECT_TRUE(table.ok()) << table.message();
    return table.ok() ? std::move(*table) : nullptr;
}

}  // namespace dpdock::bridge::test
