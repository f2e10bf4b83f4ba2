// MacTable on one thread with a fake clock: learn/lookup, refresh interval,
// moves, statics, capacity and slot reuse, flushes, ageing and dump.
#include "bridge/mac_table.hpp"
#include "bridge/static_entries.hpp"

#include <vector>

#include <gtest/gtest.h>
#include <rte_hash.h>

#include "tests/unit/bridge/mac_table_test_util.hpp"

namespace dpdock::bridge {
namespace {

using test::mac_n;

constexpr std::uint64_t kRefresh = 100;
constexpr PortId kStaticPort = 9;

class MacTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        rcu_ = test::make_rcu(2);
        ASSERT_NE(rcu_, nullptr);
        reporter_ = std::make_unique<test::QuiescentReporter>(*rcu_, 0);
        table_ = test::make_table(*rcu_, 1024, kRefresh);
        ASSERT_NE(table_, nullptr);
    }

    PortId lookup(MacTable& table, NetworkId network, MacAddress mac) {
        const std::uint64_t key = MacTable::make_key(network, mac);
        PortId port = 0;
        table.lookup_bulk(&key, 1, &port);
        return port;
    }
    PortId lookup(NetworkId network, MacAddress mac) { return lookup(*table_, network, mac); }

    // Declaration order is teardown order in reverse: the table goes first
    // (its defer queue uses the RCU variable), then the reader, then RCU.
    std::unique_ptr<sync::Rcu> rcu_;
    std::unique_ptr<test::QuiescentReporter> reporter_;
    std::unique_ptr<MacTable> table_;
};

TEST_F(MacTableTest, KeyPacksNetworkAboveMac) {
    const MacAddress mac({0x02, 0x42, 0xac, 0x11, 0x00, 0x02});
    EXPECT_EQ(MacTable::make_key(3, mac), 0x0003'0242'ac11'0002ULL);
    const MacKey back = MacKey::unpack(MacTable::make_key(3, mac));
    EXPECT_EQ(back.network, 3);
    EXPECT_EQ(back.mac, mac);
}

TEST_F(MacTableTest, LearnedMacIsFoundOnlyInItsNetwork) {
    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Learned);
    EXPECT_EQ(table_->size(), 1u);

    const std::uint64_t keys[] = {MacTable::make_key(1, mac_n(1)), MacTable::make_key(2, mac_n(1)),
                                  MacTable::make_key(1, mac_n(2))};
    PortId ports[3] = {0, 0, 0};
    table_->lookup_bulk(keys, 3, ports);
    EXPECT_EQ(ports[0], 3);
    EXPECT_EQ(ports[1], kNoPort);
    EXPECT_EQ(ports[2], kNoPort);

    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Unchanged);
    EXPECT_EQ(table_->size(), 1u);
}

// 100 keys: one full rte_hash bulk of 64 and a partial one.
TEST_F(MacTableTest, LookupBulkAnswersEveryPositionBeyondOneHashBulk) {
    constexpr std::uint32_t kKeys = 100;
    for (std::uint32_t i = 0; i < kKeys; i += 3) {
        ASSERT_EQ(table_->learn(1, mac_n(i), static_cast<PortId>(i), 0), LearnResult::Learned);
    }
    std::uint64_t keys[kKeys];
    PortId ports[kKeys];
    for (std::uint32_t i = 0; i < kKeys; ++i) keys[i] = MacTable::make_key(1, mac_n(i));
    table_->lookup_bulk(keys, kKeys, ports);
    for (std::uint32_t i = 0; i < kKeys; ++i) {
        EXPECT_EQ(ports[i], i % 3 == 0 ? static_cast<PortId>(i) : kNoPort) << "key " << i;
    }
}

TEST_F(MacTableTest, RefreshesLastSeenOnlyAfterTheInterval) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Learned);
    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 1050), LearnResult::Unchanged);
    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 1099), LearnResult::Unchanged);
    EXPECT_EQ(table_->dump(1099).at(0).age_ticks, 99u);
    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 1100), LearnResult::Refreshed);
    EXPECT_EQ(table_->dump(1150).at(0).age_ticks, 50u);
    // A clock that reads earlier than last_seen (another core's TSC) is no refresh.
    EXPECT_EQ(table_->learn(1, mac_n(1), 3, 900), LearnResult::Unchanged);
    EXPECT_EQ(table_->dump(900).at(0).age_ticks, 0u);
}

TEST_F(MacTableTest, MoveRepointsTheEntryToTheNewPort) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Learned);
    EXPECT_EQ(table_->learn(1, mac_n(1), 4, 1010), LearnResult::Moved);
    EXPECT_EQ(lookup(1, mac_n(1)), 4);
    EXPECT_EQ(table_->size(), 1u);
    EXPECT_EQ(table_->learn(1, mac_n(1), 4, 1020), LearnResult::Unchanged);
    // The move counts as being seen.
    EXPECT_EQ(table_->dump(1010).at(0).age_ticks, 0u);
}

TEST_F(MacTableTest, StaticEntryNeverMovesNorAges) {
    ASSERT_TRUE(table_->add_static(1, mac_n(1), kStaticPort).ok());
    EXPECT_EQ(table_->learn(1, mac_n(1), 4, 1000), LearnResult::StaticConflict);
    EXPECT_EQ(table_->learn(1, mac_n(1), kStaticPort, 1000), LearnResult::Unchanged);
    EXPECT_EQ(lookup(1, mac_n(1)), kStaticPort);

    EXPECT_EQ(table_->expire(1'000'000'000, 0), 0u);
    EXPECT_EQ(table_->flush_network(1), 0u);
    EXPECT_EQ(lookup(1, mac_n(1)), kStaticPort);
    const auto entries = table_->dump(1'000'000'000);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_TRUE(entries[0].is_static);
    EXPECT_EQ(entries[0].age_ticks, 0u);
}

TEST_F(MacTableTest, AddStaticTakesOverALearnedEntry) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Learned);
    ASSERT_TRUE(table_->add_static(1, mac_n(1), kStaticPort).ok());
    EXPECT_EQ(table_->size(), 1u);
    EXPECT_EQ(lookup(1, mac_n(1)), kStaticPort);
    EXPECT_EQ(table_->expire(1'000'000'000, 0), 0u);
    EXPECT_EQ(lookup(1, mac_n(1)), kStaticPort);
}

TEST_F(MacTableTest, RemoveStaticRemovesOnlyStaticEntries) {
    ASSERT_TRUE(table_->add_static(1, mac_n(1), kStaticPort).ok());
    ASSERT_EQ(table_->learn(1, mac_n(2), 3, 1000), LearnResult::Learned);

    EXPECT_FALSE(table_->remove_static(1, mac_n(2)).ok());  // learned
    EXPECT_FALSE(table_->remove_static(1, mac_n(3)).ok());  // unknown
    EXPECT_FALSE(table_->remove_static(2, mac_n(1)).ok());  // other network
    EXPECT_EQ(table_->size(), 2u);

    EXPECT_TRUE(table_->remove_static(1, mac_n(1)).ok());
    EXPECT_EQ(lookup(1, mac_n(1)), kNoPort);
    EXPECT_EQ(lookup(1, mac_n(2)), 3);
    EXPECT_EQ(table_->size(), 1u);
    // Gone for good: a frame from it is now learned like any other.
    EXPECT_EQ(table_->learn(1, mac_n(1), 4, 1000), LearnResult::Learned);
}

TEST_F(MacTableTest, AddStaticRejectsWhatCannotBeAnEntry) {
    EXPECT_FALSE(table_->add_static(1, MacAddress({0x01, 0x00, 0x5e, 0, 0, 1}), 1).ok());
    EXPECT_FALSE(table_->add_static(1, MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 1).ok());
    EXPECT_FALSE(table_->add_static(1, MacAddress(), 1).ok());
    EXPECT_FALSE(table_->add_static(kNoNetwork, mac_n(1), 1).ok());
    EXPECT_FALSE(table_->add_static(1, mac_n(1), kNoPort).ok());
    EXPECT_EQ(table_->size(), 0u);
}

TEST_F(MacTableTest, FullTableRefusesNewMacsUntilEntriesExpire) {
    auto small = test::make_table(*rcu_, 64, kRefresh);
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(small->capacity(), 64u);
    for (std::uint32_t i = 0; i < 64; ++i) {
        ASSERT_EQ(small->learn(1, mac_n(i), 1, 1000), LearnResult::Learned) << "MAC " << i;
    }
    EXPECT_EQ(small->learn(1, mac_n(64), 1, 1000), LearnResult::Full);
    EXPECT_EQ(small->learn(2, mac_n(0), 1, 1000), LearnResult::Full);
    EXPECT_FALSE(small->add_static(1, mac_n(65), kStaticPort).ok());
    EXPECT_EQ(small->size(), 64u);
    // Known MACs keep working: refresh, move, lookup.
    EXPECT_EQ(small->learn(1, mac_n(0), 1, 2000), LearnResult::Refreshed);
    EXPECT_EQ(small->learn(1, mac_n(1), 2, 2000), LearnResult::Moved);
    EXPECT_EQ(lookup(*small, 1, mac_n(63)), 1);
    EXPECT_EQ(lookup(*small, 1, mac_n(64)), kNoPort);

    EXPECT_EQ(small->expire(2000, 500), 62u);  // all but the two seen at 2000
    EXPECT_EQ(small->size(), 2u);
    EXPECT_EQ(small->learn(1, mac_n(64), 1, 2000), LearnResult::Learned);
    EXPECT_EQ(lookup(*small, 1, mac_n(64)), 1);
}

// learn_bulk: the same results as one learn() per source, counted per frame.
// Helper: one bulk call of (MAC number, port) pairs in network 1.
LearnTally learn_bulk(MacTable& table, const std::vector<std::pair<std::uint32_t, PortId>>& frames,
                      std::uint64_t now) {
    std::vector<std::uint64_t> keys;
    std::vector<PortId> ports;
    for (const auto& [n, port] : frames) {
        keys.push_back(MacTable::make_key(1, mac_n(n)));
        ports.push_back(port);
    }
    LearnTally tally;
    table.learn_bulk(keys.data(), ports.data(), static_cast<unsigned>(keys.size()), now, tally);
    return tally;
}

TEST_F(MacTableTest, LearnBulkLearnsEachNewSourceOnceAndRefreshesAfterTheInterval) {
    const LearnTally first = learn_bulk(*table_, {{1, 3}, {1, 3}, {2, 4}, {1, 3}}, 1000);
    EXPECT_EQ(first.learned, 2u);
    EXPECT_EQ(first.moved + first.full + first.static_conflict, 0u);
    EXPECT_EQ(table_->size(), 2u);
    EXPECT_EQ(lookup(1, mac_n(1)), 3);
    EXPECT_EQ(lookup(1, mac_n(2)), 4);

    const LearnTally again = learn_bulk(*table_, {{1, 3}, {2, 4}}, 1099);
    EXPECT_EQ(again.learned + again.moved + again.full + again.static_conflict, 0u);
    EXPECT_EQ(table_->dump(1099).at(0).age_ticks, 99u);  // within the interval: not rewritten
    learn_bulk(*table_, {{1, 3}, {1, 3}}, 1100);
    const auto entries = table_->dump(1150);
    EXPECT_EQ(entries.at(0).age_ticks, 50u);   // MAC 1 refreshed at 1100
    EXPECT_EQ(entries.at(1).age_ticks, 150u);  // MAC 2 not seen since 1000
}

TEST_F(MacTableTest, LearnBulkMovesOnceAndCountsStaticConflictsPerFrame) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 3, 1000), LearnResult::Learned);
    ASSERT_TRUE(table_->add_static(1, mac_n(2), kStaticPort).ok());
    const LearnTally tally = learn_bulk(*table_, {{1, 4}, {1, 4}, {2, 4}, {2, 4}, {2, kStaticPort}}, 1010);
    EXPECT_EQ(tally.moved, 1u);
    EXPECT_EQ(tally.static_conflict, 2u);
    EXPECT_EQ(tally.learned, 0u);
    EXPECT_EQ(lookup(1, mac_n(1)), 4);
    EXPECT_EQ(lookup(1, mac_n(2)), kStaticPort);
    EXPECT_EQ(table_->dump(1010).at(0).age_ticks, 0u);  // the move counts as being seen
    // Back and forth inside one burst: the last frame's port wins.
    EXPECT_EQ(learn_bulk(*table_, {{1, 3}, {1, 4}, {1, 3}}, 1020).moved, 3u);
    EXPECT_EQ(lookup(1, mac_n(1)), 3);
}

TEST_F(MacTableTest, LearnBulkCountsFullPerFrameAndKeepsServingKnownSources) {
    auto small = test::make_table(*rcu_, 8, kRefresh);
    ASSERT_NE(small, nullptr);
    std::vector<std::pair<std::uint32_t, PortId>> fill;
    for (std::uint32_t i = 0; i < 8; ++i) fill.emplace_back(i, 1);
    ASSERT_EQ(learn_bulk(*small, fill, 1000).learned, 8u);
    const LearnTally tally = learn_bulk(*small, {{8, 1}, {8, 1}, {0, 1}, {9, 1}}, 1000);
    EXPECT_EQ(tally.full, 3u);
    EXPECT_EQ(tally.learned, 0u);
    EXPECT_EQ(small->size(), 8u);
    EXPECT_EQ(lookup(*small, 1, mac_n(0)), 1);
    EXPECT_EQ(lookup(*small, 1, mac_n(8)), kNoPort);
}

// 100 sources: one full rte_hash bulk of 64 and a partial one, new and known.
TEST_F(MacTableTest, LearnBulkHandlesMoreSourcesThanOneHashBulk) {
    std::vector<std::pair<std::uint32_t, PortId>> frames;
    for (std::uint32_t i = 0; i < 100; ++i) frames.emplace_back(i, static_cast<PortId>(i % 7));
    EXPECT_EQ(learn_bulk(*table_, frames, 1000).learned, 100u);
    EXPECT_EQ(table_->size(), 100u);
    const LearnTally known = learn_bulk(*table_, frames, 1200);
    EXPECT_EQ(known.learned + known.moved + known.full + known.static_conflict, 0u);
    for (const MacEntry& e : table_->dump(1200)) {
        EXPECT_EQ(e.age_ticks, 0u) << e.mac.to_string();  // all refreshed at 1200
        EXPECT_EQ(e.port, static_cast<PortId>((e.mac.to_u64() & 0xffff) % 7)) << e.mac.to_string();
    }
}

// More inserts than the hash has key slots: only possible if deleted slots
// come back from the defer queue after their grace period.
TEST_F(MacTableTest, DeletedSlotsAreReusedAfterAGracePeriod) {
    auto small = test::make_table(*rcu_, 64, kRefresh);
    ASSERT_NE(small, nullptr);
    std::uint32_t next_mac = 0;
    for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 64; ++i) {
            ASSERT_EQ(small->learn(1, mac_n(next_mac++), 1, 1000), LearnResult::Learned)
                << "round " << round << " MAC " << i;
        }
        ASSERT_EQ(small->expire(100'000, 10), 64u);
        rte_rcu_qsbr_synchronize(rcu_->qsbr(), RTE_QSBR_THRID_INVALID);
    }
    EXPECT_EQ(small->size(), 0u);
}

TEST_F(MacTableTest, FlushPortRemovesLearnedAndStaticEntriesOfThatPort) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 1, 1000), LearnResult::Learned);
    ASSERT_EQ(table_->learn(2, mac_n(2), 1, 1000), LearnResult::Learned);
    ASSERT_EQ(table_->learn(1, mac_n(3), 2, 1000), LearnResult::Learned);
    ASSERT_TRUE(table_->add_static(1, mac_n(4), 1).ok());
    ASSERT_TRUE(table_->add_static(1, mac_n(5), 2).ok());

    EXPECT_EQ(table_->flush_port(1), 3u);
    EXPECT_EQ(table_->size(), 2u);
    EXPECT_EQ(lookup(1, mac_n(1)), kNoPort);
    EXPECT_EQ(lookup(2, mac_n(2)), kNoPort);
    EXPECT_EQ(lookup(1, mac_n(4)), kNoPort);
    EXPECT_EQ(lookup(1, mac_n(3)), 2);
    EXPECT_EQ(lookup(1, mac_n(5)), 2);
    EXPECT_EQ(table_->flush_port(1), 0u);
}

TEST_F(MacTableTest, FlushNetworkRemovesOnlyLearnedEntriesOfThatNetwork) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 1, 1000), LearnResult::Learned);
    ASSERT_EQ(table_->learn(1, mac_n(2), 2, 1000), LearnResult::Learned);
    ASSERT_EQ(table_->learn(2, mac_n(1), 1, 1000), LearnResult::Learned);
    ASSERT_TRUE(table_->add_static(1, mac_n(3), kStaticPort).ok());

    EXPECT_EQ(table_->flush_network(1), 2u);
    EXPECT_EQ(table_->size(), 2u);
    EXPECT_EQ(lookup(1, mac_n(1)), kNoPort);
    EXPECT_EQ(lookup(1, mac_n(2)), kNoPort);
    EXPECT_EQ(lookup(2, mac_n(1)), 1);
    EXPECT_EQ(lookup(1, mac_n(3)), kStaticPort);
}

TEST_F(MacTableTest, ExpireRemovesEntriesOlderThanMaxAge) {
    ASSERT_EQ(table_->learn(1, mac_n(1), 1, 0), LearnResult::Learned);
    ASSERT_EQ(table_->learn(1, mac_n(2), 1, 600), LearnResult::Learned);

    EXPECT_EQ(table_->expire(1000, 500), 1u);  // ages 1000 and 400
    EXPECT_EQ(lookup(1, mac_n(1)), kNoPort);
    EXPECT_EQ(lookup(1, mac_n(2)), 1);

    EXPECT_EQ(table_->learn(1, mac_n(2), 1, 1200), LearnResult::Refreshed);
    EXPECT_EQ(table_->expire(1700, 500), 0u);  // age exactly 500 is not older
    EXPECT_EQ(table_->expire(1701, 500), 1u);
    EXPECT_EQ(table_->size(), 0u);
    EXPECT_TRUE(table_->dump(1701).empty());
}

TEST_F(MacTableTest, DumpListsEveryEntrySortedWithItsAge) {
    ASSERT_EQ(table_->learn(2, mac_n(7), 4, 1000), LearnResult::Learned);
    ASSERT_EQ(table_->learn(1, mac_n(9), 3, 1500), LearnResult::Learned);
    ASSERT_EQ(table_->learn(1, mac_n(8), 5, 1200), LearnResult::Learned);
    ASSERT_TRUE(table_->add_static(1, mac_n(1), kStaticPort).ok());

    const auto entries = table_->dump(2000);
    ASSERT_EQ(entries.size(), 4u);
    struct Expected {
        NetworkId network;
        MacAddress mac;
        PortId port;
        bool is_static;
        std::uint64_t age;
    };
    const Expected expected[] = {{1, mac_n(1), kStaticPort, true, 0},
                                 {1, mac_n(8), 5, false, 800},
                                 {1, mac_n(9), 3, false, 500},
                                 {2, mac_n(7), 4, false, 1000}};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ(entries[i].network, expected[i].network) << i;
        EXPECT_EQ(entries[i].mac, expected[i].mac) << i;
        EXPECT_EQ(entries[i].port, expected[i].port) << i;
        EXPECT_EQ(entries[i].is_static, expected[i].is_static) << i;
        EXPECT_EQ(entries[i].age_ticks, expected[i].age) << i;
    }
}

TEST_F(MacTableTest, CreateRejectsInvalidOptions) {
    const MacTableOptions good{.name = test::unique_table_name(),
                               .capacity = 64,
                               .refresh_ticks = kRefresh,
                               .socket_id = SOCKET_ID_ANY,
                               .qsbr = rcu_->qsbr()};
    auto first = MacTable::create(good);
    ASSERT_TRUE(first.ok()) << first.message();
    EXPECT_FALSE(MacTable::create(good).ok());  // name taken

    MacTableOptions bad = good;
    bad.name = std::string(MacTable::kMaxNameLength + 1, 'x');
    EXPECT_FALSE(MacTable::create(bad).ok());
    bad = good;
    bad.name = test::unique_table_name();
    bad.capacity = MacTable::kMinCapacity - 1;
    EXPECT_FALSE(MacTable::create(bad).ok());
    bad.capacity = 64;
    bad.qsbr = nullptr;
    EXPECT_FALSE(MacTable::create(bad).ok());
}

// StaticEntries: the control thread's wanted set of static entries, kept installed.
TEST_F(MacTableTest, StaticEntriesConvergeToTheWantedSetOnly) {
    StaticEntries statics(*table_);
    ASSERT_TRUE(statics.converge({{1, mac_n(1), 5}, {1, mac_n(2), 6}, {2, mac_n(1), 7}}).ok());
    EXPECT_EQ(lookup(1, mac_n(1)), 5);
    EXPECT_EQ(lookup(1, mac_n(2)), 6);
    EXPECT_EQ(lookup(2, mac_n(1)), 7);
    // One entry moves to another port, one goes, one stays.
    ASSERT_TRUE(statics.converge({{1, mac_n(1), 8}, {2, mac_n(1), 7}}).ok());
    EXPECT_EQ(lookup(1, mac_n(1)), 8);
    EXPECT_EQ(lookup(1, mac_n(2)), kNoPort);
    EXPECT_EQ(lookup(2, mac_n(1)), 7);
    EXPECT_EQ(table_->size(), 2u);
    for (const auto& e : table_->dump(0)) EXPECT_TRUE(e.is_static);
}

TEST_F(MacTableTest, StaticEntriesOfARemovedNetworkLeaveTheTable) {
    StaticEntries statics(*table_);
    ASSERT_TRUE(statics.converge({{1, mac_n(1), 5}, {2, mac_n(2), 6}}).ok());
    statics.remove_network(1);
    EXPECT_EQ(lookup(1, mac_n(1)), kNoPort);
    EXPECT_EQ(lookup(2, mac_n(2)), 6);
    // Network 2's entry is still known as installed: converging to it changes nothing.
    ASSERT_TRUE(statics.converge({{2, mac_n(2), 6}}).ok());
    EXPECT_EQ(table_->size(), 1u);
}

TEST_F(MacTableTest, StaticEntriesOfAClosedPortAreInstalledAgainWhenWanted) {
    StaticEntries statics(*table_);
    ASSERT_TRUE(statics.converge({{1, mac_n(1), 5}}).ok());
    table_->flush_port(5);  // what closing a port does to the table
    statics.forget_port(5);
    ASSERT_TRUE(statics.converge({{1, mac_n(1), 5}}).ok());  // the port is back (re-attached)
    EXPECT_EQ(lookup(1, mac_n(1)), 5);
}

}  // namespace
}  // namespace dpdock::bridge
