// EtcdClient against a real etcd 3.4 through its JSON gateway: key-value
// calls, transactions (both branches, ranges in the failure branch), leases
// (a key under a revoked lease goes; keep-alive of an unknown lease says 0),
// and a streamed watch (puts and deletes in order, resumed from a revision,
// stopped from another thread).
#include <gtest/gtest.h>

#include <thread>

#include "cluster/etcd_client.hpp"
#include "tests/unit/cluster/etcd_fixture.hpp"

namespace dpdock::cluster {
namespace {

using EtcdClientTest = EtcdFixture;

EtcdOptions options() { return EtcdOptions{.endpoints = {EtcdFixture::kUrl}}; }

TEST_F(EtcdClientTest, KeysTransactionsAndLeases) {
    in_store_ns([&] {
        EtcdClient c(options());
        ASSERT_TRUE(c.put("/t/a", std::string("1\0x", 3)).ok());
        ASSERT_TRUE(c.put("/t/b", "2").ok());
        ASSERT_TRUE(c.put("/u", "3").ok());
        auto r = c.range("/t/", prefix_end("/t/"));
        ASSERT_TRUE(r.ok()) << r.message();
        ASSERT_EQ(r->kvs.size(), 2u);
        EXPECT_EQ(r->kvs[0].value, std::string("1\0x", 3));  // bytes, not text
        EXPECT_GT(r->revision, 0);

        // Create-if-absent: the second one fails and its failure branch reads the key.
        auto first = c.txn({key_absent("/t/c")}, {put_op("/t/c", "mine")}, {range_op("/t/c")});
        ASSERT_TRUE(first.ok()) << first.message();
        EXPECT_TRUE(first->succeeded);
        auto second = c.txn({key_absent("/t/c")}, {put_op("/t/c", "theirs")}, {range_op("/t/c")});
        ASSERT_TRUE(second.ok());
        EXPECT_FALSE(second->succeeded);
        ASSERT_EQ(second->ranges.size(), 1u);
        EXPECT_EQ(second->ranges[0].kvs.at(0).value, "mine");
        // A guard over a range: no key under /t/ may exist.
        auto empty = c.txn({key_absent("/t/", prefix_end("/t/"))}, {});
        ASSERT_TRUE(empty.ok());
        EXPECT_FALSE(empty->succeeded);
        auto none = c.txn({key_absent("/v/", prefix_end("/v/"))}, {});
        ASSERT_TRUE(none.ok());
        EXPECT_TRUE(none->succeeded);
        // Delete only what is still ours.
        auto del = c.txn({value_is("/t/c", "theirs")}, {delete_op("/t/c")});
        ASSERT_TRUE(del.ok());
        EXPECT_FALSE(del->succeeded);
        ASSERT_TRUE(c.delete_range("/t/", prefix_end("/t/")).ok());
        EXPECT_TRUE(c.range("/t/", prefix_end("/t/"))->kvs.empty());

        auto lease = c.lease_grant(30);
        ASSERT_TRUE(lease.ok()) << lease.message();
        ASSERT_TRUE(c.put("/leased", "x", *lease).ok());
        EXPECT_EQ(c.range("/leased")->kvs.at(0).lease, *lease);
        auto ttl = c.lease_keepalive(*lease);
        ASSERT_TRUE(ttl.ok()) << ttl.message();
        EXPECT_EQ(*ttl, 30);
        ASSERT_TRUE(c.lease_revoke(*lease).ok());
        EXPECT_TRUE(c.range("/leased")->kvs.empty());
        EXPECT_EQ(*c.lease_keepalive(*lease), 0);  // gone
    });
}

TEST_F(EtcdClientTest, WatchStreamsChangesFromARevisionAndStops) {
    in_store_ns([&] {
        EtcdClient c(options());
        const std::int64_t start = *c.put("/w/a", "1");
        ASSERT_TRUE(c.put("/w/b", "2").ok());
        ASSERT_TRUE(c.delete_range("/w/a").ok());
        ASSERT_TRUE(c.put("/x", "not watched").ok());
        // Everything since `start`, as it happened.
        EtcdClient w(options());
        std::vector<WatchEvent> seen;
        auto st = w.watch("/w/", prefix_end("/w/"), start, [&](const WatchBatch& b) {
            seen.insert(seen.end(), b.events.begin(), b.events.end());
            return seen.size() < 3;
        });
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_EQ(seen.size(), 3u);
        EXPECT_EQ(seen[0].kv.key, "/w/a");
        EXPECT_EQ(seen[0].kv.mod_revision, start);
        EXPECT_FALSE(seen[1].deleted);
        EXPECT_EQ(seen[1].kv.value, "2");
        EXPECT_TRUE(seen[2].deleted);
        EXPECT_EQ(seen[2].kv.key, "/w/a");

        // A quiet watch returns when stopped from another thread.
        EtcdClient quiet(options());
        std::thread stopper([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            quiet.stop();
        });
        auto stopped = quiet.watch("/none/", prefix_end("/none/"), 0, [](const WatchBatch&) { return true; });
        stopper.join();
        EXPECT_FALSE(stopped.ok());
    });
}

TEST(EtcdClientNoServerTest, UnreachableIsAnErrorNamingTheEndpoint) {
    EtcdClient c(EtcdOptions{.endpoints = {"http://127.0.0.1:1", "http://127.0.0.1:2"},
                             .connect_timeout = std::chrono::milliseconds(200),
                             .request_timeout = std::chrono::milliseconds(200)});
    auto r = c.range("/x");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("127.0.0.1"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace dpdock::cluster
