// MASQUERADE at scale and at its limits, end to end: 10,000 concurrent UDP
// flows from one container all carry data; a small table refuses new flows
// (counted) while the tracked ones keep working; timeouts reclaim entries
// and their ports, after which new flows are tracked again.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/udp_flows.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint16_t kEchoPort = 7000;

// ext (the outside, with a UDP echo server) behind the uplink, c1 on the default bridge.
class MasqueradeScaleTest : public ::testing::Test {
protected:
    void start(const std::string& nat_yaml) {
        auto outside = make_outside("192.168.81");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        auto c = Netns::create("c1");
        ASSERT_TRUE(c.ok()) << c.message();
        c1_.emplace(std::move(*c));
        auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + nat_yaml + outside_->uplink_yaml() +
                                        "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]"));
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        auto server = UdpEchoServer::start(outside_->ns, outside_->ext_ip, kEchoPort);
        ASSERT_TRUE(server.ok()) << server.message();
        server_ = std::move(*server);
    }

    UdpFlows open_flows(std::size_t count) {
        auto flows = UdpFlows::open(*c1_, outside_->ext_ip, kEchoPort, count);
        EXPECT_TRUE(flows.ok()) << flows.message();
        return flows.ok() ? std::move(*flows) : UdpFlows{};
    }

    nlohmann::json conntrack() {
        auto ct = daemon_->call("nat.conntrack");
        EXPECT_TRUE(ct.ok()) << ct.message();
        return ct.ok() ? *ct : nlohmann::json::object();
    }

    std::optional<Outside> outside_;
    std::optional<Netns> c1_;
    std::optional<DpdockdInstance> daemon_;
    std::unique_ptr<UdpEchoServer> server_;  // declared last: stops before the namespaces go
};

TEST_F(MasqueradeScaleTest, TenThousandConcurrentFlowsAllCarryData) {
    ASSERT_NO_FATAL_FAILURE(start("nat:\n  capacity: 32768\n"));
    constexpr std::size_t kFlows = 10000;
    UdpFlows flows = open_flows(kFlows);
    ASSERT_EQ(flows.size(), kFlows);

    EXPECT_EQ(count_answered(flows.exchange_round(1)), kFlows) << daemon_->log();
    // ext saw 10,000 distinct clients, every one of them the host address.
    const auto peers = server_->peers();
    EXPECT_EQ(peers.size(), kFlows);
    for (const auto& [ip, port] : peers) ASSERT_EQ(ip, outside_->host_ip) << port;
    EXPECT_EQ(conntrack()["entries"], kFlows);

    // All 10,000 tracked at once, and a second round rides on the same entries.
    EXPECT_EQ(count_answered(flows.exchange_round(2)), kFlows) << daemon_->log();
    const auto ct = conntrack();
    EXPECT_EQ(ct["entries"], kFlows);
    EXPECT_EQ(ct["ct_full"], 0);
    EXPECT_EQ(ct["nat_no_port"], 0);
    EXPECT_EQ(server_->peers().size(), kFlows);
}

// A table full of answered flows: nothing to drop early (only unanswered
// flows are, as in Linux), so new flows are refused and the tracked ones
// carry on. The flows are opened a few at a time and answered before the
// next ones, one at a time once the table nears full (its last eighth), so
// that early drop never finds one of them still unanswered.
TEST_F(MasqueradeScaleTest, FullTableRefusesNewFlowsAndKeepsTrackedOnes) {
    ASSERT_NO_FATAL_FAILURE(start("nat:\n  capacity: 64\n"));
    std::vector<UdpFlows> tracked;
    for (std::size_t opened = 0; opened < 64;) {
        const std::size_t batch = opened < 56 ? 8 : 1;
        tracked.push_back(open_flows(batch));
        EXPECT_EQ(count_answered(tracked.back().exchange_round(1)), batch) << opened << "\n" << daemon_->log();
        opened += batch;
    }
    EXPECT_EQ(conntrack()["entries"], 64);

    UdpFlows refused = open_flows(16);
    EXPECT_EQ(count_answered(refused.exchange_round(1)), 0u);
    const auto ct = conntrack();
    EXPECT_EQ(ct["entries"], 64);
    EXPECT_GE(ct["ct_full"].get<std::uint64_t>(), 16u) << ct.dump();
    // The tracked flows did not notice.
    for (UdpFlows& batch : tracked) EXPECT_EQ(count_answered(batch.exchange_round(2)), batch.size()) << daemon_->log();
}

TEST_F(MasqueradeScaleTest, TimeoutsReclaimEntriesForNewFlows) {
    ASSERT_NO_FATAL_FAILURE(start("nat:\n  capacity: 64\n  timeouts:\n    udp-unreplied: 1\n    udp-assured: 1\n"));
    UdpFlows first = open_flows(64);
    EXPECT_EQ(count_answered(first.exchange_round(1)), 64u) << daemon_->log();

    // Silence: after udp-assured and the next sweep every entry is gone.
    first.close();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (conntrack()["entries"] != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_EQ(conntrack()["entries"], 0) << "entries were not reclaimed";

    // Reclaimed slots serve a full table of new flows again.
    UdpFlows fresh = open_flows(64);
    EXPECT_EQ(count_answered(fresh.exchange_round(1)), 64u) << daemon_->log();
    EXPECT_EQ(conntrack()["ct_full"], 0);
}

}  // namespace
}  // namespace dpdock::test
