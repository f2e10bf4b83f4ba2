// Agents of three hosts against one real etcd: a global network created by
// one is seen by all; 300 endpoint claims made concurrently from the three
// never share an address; a host whose agent ends (lease revoked) leaves no
// record behind; a claim refused on one host names the owner.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "cluster/agent.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/cluster/etcd_fixture.hpp"

namespace dpdock::cluster {
namespace {

using AgentTest = EtcdFixture;
using namespace std::chrono_literals;

std::unique_ptr<Agent> start_agent(const std::string& host, const char* vtep, std::int64_t lease_ttl_s = 5) {
    auto agent = std::make_unique<Agent>(
        AgentOptions{.etcd = {.endpoints = {EtcdFixture::kUrl}}, .host = host, .lease_ttl_s = lease_ttl_s}, [] {});
    agent->start(*Ipv4Address::parse(vtep));
    return agent;
}

config::Deployment with_global_network() {
    config::Deployment d;
    config::NetworkSpec n;
    n.name = "prod";
    n.driver = "overlay";
    n.global = true;
    n.subnet = *Ipv4Cidr::parse("10.50.0.0/22");
    n.gateway = *Ipv4Address::parse("10.50.0.1");
    d.networks.push_back(n);
    return d;
}

TEST_F(AgentTest, ConcurrentClaimsFromThreeHostsNeverShareAnAddress) {
    in_store_ns([&] {
        std::vector<std::unique_ptr<Agent>> agents;
        agents.push_back(start_agent("h1", "192.168.90.1"));
        agents.push_back(start_agent("h2", "192.168.90.2"));
        agents.push_back(start_agent("h3", "192.168.90.3"));
        ASSERT_TRUE(test::wait_until([&] {
            return std::all_of(agents.begin(), agents.end(), [](auto& a) { return a->connected(); });
        }, 5s));
        config::Deployment created = with_global_network();
        ASSERT_TRUE(agents[0]->prepare(created, config::Deployment{}).ok());
        agents[0]->committed(created);
        ASSERT_TRUE(created.networks[0].vni.has_value());
        ASSERT_TRUE(test::wait_until([&] {
            return std::all_of(agents.begin(), agents.end(), [](auto& a) {
                auto v = a->view();
                return v.networks.contains("prod") && v.hosts.size() == 3;
            });
        }, 5s));
        // The same name again, from another host: refused, naming the creator.
        config::Deployment again = with_global_network();
        config::Deployment h2_running;
        auto refused = agents[1]->prepare(again, h2_running);
        ASSERT_FALSE(refused.ok());
        EXPECT_NE(refused.message().find("already exists in the cluster (created by host h1)"), std::string::npos)
            << refused.message();

        constexpr int kPerHost = 100;
        std::vector<config::Deployment> results(3);
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        for (int h = 0; h < 3; ++h) {
            threads.emplace_back([&, h] {
                config::Deployment running = created;
                for (int i = 0; i < kPerHost; ++i) {
                    config::Deployment target = running;
                    config::ContainerSpec c;
                    c.name = "c" + std::to_string(h) + "-" + std::to_string(i);
                    c.networks.emplace_back().network = "prod";
                    target.containers.push_back(c);
                    if (auto st = agents[h]->prepare(target, running); !st) {
                        ADD_FAILURE() << st.message();
                        ++failures;
                        continue;
                    }
                    agents[h]->committed(target);
                    running = std::move(target);
                }
                results[h] = running;
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(failures, 0);
        std::set<std::uint32_t> ips;
        for (const auto& d : results) {
            for (const auto& c : d.containers) ips.insert(c.networks.at(0).ip->host());
        }
        EXPECT_EQ(ips.size(), 3u * kPerHost);
        EXPECT_FALSE(ips.contains(Ipv4Address::parse("10.50.0.1")->host()));  // the gateway
        EtcdClient c(EtcdOptions{.endpoints = {kUrl}});
        auto stored = c.range(endpoints_prefix("prod"), prefix_end(endpoints_prefix("prod")));
        ASSERT_TRUE(stored.ok());
        EXPECT_EQ(stored->kvs.size(), 3u * kPerHost);
        std::uint64_t conflicts = 0;
        for (auto& a : agents) conflicts += a->counters().txn_conflicts;
        std::printf("300 concurrent claims from 3 hosts: %llu lost races retried\n",
                    static_cast<unsigned long long>(conflicts));

        // A claim of a given address someone holds names the holder.
        config::Deployment running = results[1];
        config::Deployment target = running;
        config::ContainerSpec dup;
        dup.name = "dup";
        dup.networks.emplace_back().network = "prod";
        dup.networks[0].ip = results[0].containers.at(0).networks.at(0).ip;
        target.containers.push_back(dup);
        auto taken = agents[1]->prepare(target, running);
        ASSERT_FALSE(taken.ok());
        EXPECT_NE(taken.message().find("is used by container c0-0 on host h1"), std::string::npos) << taken.message();

        // h3 leaves: its lease is revoked, its host record and endpoints go with it.
        agents[2].reset();
        auto left = c.range(kPrefix, prefix_end(kPrefix));
        ASSERT_TRUE(left.ok());
        std::size_t endpoints = 0;
        for (const auto& kv : left->kvs) {
            EXPECT_EQ(kv.key.find("h3"), std::string::npos) << kv.key;
            endpoints += kv.key.starts_with(endpoints_prefix()) ? 1 : 0;
        }
        EXPECT_EQ(endpoints, 2u * kPerHost);
    });
}

}  // namespace
}  // namespace dpdock::cluster

namespace dpdock::cluster {
namespace {

// A claim is in the store before the control thread commits it. If etcd
// stalls meanwhile, the host re-synchronises its records when etcd is back:
// that must not take the in-flight claim away (another host could then be
// given the same address; seen as 299 distinct addresses out of 300 above).
TEST_F(AgentTest, AClaimInFlightSurvivesEtcdComingBack) {
    in_store_ns([&] {
        // A lease that outlives the stall: only the host's re-synchronisation may remove the claim.
        auto agent = start_agent("h1", "192.168.90.1", 12);
        ASSERT_TRUE(test::wait_until([&] { return agent->connected(); }, 5s));
        config::Deployment created = with_global_network();
        ASSERT_TRUE(agent->prepare(created, config::Deployment{}).ok());
        agent->committed(created);
        config::Deployment target = created;
        config::ContainerSpec c;
        c.name = "c1";
        c.networks.emplace_back().network = "prod";
        target.containers.push_back(c);
        ASSERT_TRUE(agent->prepare(target, created).ok());  // claimed, not committed yet
        const std::string key = endpoint_key("prod", *target.containers[0].networks[0].ip);

        // etcd stalls for longer than a keep-alive round, then comes back.
        ASSERT_TRUE(etcd_->send_signal(SIGSTOP).ok());
        ASSERT_TRUE(test::wait_until([&] { return !agent->connected(); }, 15s));
        ASSERT_TRUE(etcd_->send_signal(SIGCONT).ok());
        ASSERT_TRUE(test::wait_until([&] { return agent->connected(); }, 15s));
        std::this_thread::sleep_for(500ms);  // the re-synchronisation after "etcd back"

        EtcdClient client(EtcdOptions{.endpoints = {kUrl}});
        auto stored = client.range(key, prefix_end(key));
        ASSERT_TRUE(stored.ok());
        EXPECT_EQ(stored->kvs.size(), 1u) << key << " was taken from the host that claimed it";
        agent->committed(target);
    });
}

}  // namespace
}  // namespace dpdock::cluster
