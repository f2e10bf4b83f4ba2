// The userspace bridge end to end: dpdockd attaches containers (namespaces
// made by the test) and forwards real traffic between them.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <optional>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.3");

std::string base_yaml() { return "dataplane:\n  idle-sleep-us: 20\n"; }

std::uint64_t counter(const std::optional<nlohmann::json>& port, const char* key) {
    return port ? (*port)[key].get<std::uint64_t>() : 0;
}

class BridgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        c1_.emplace(make_netns("c1"));
        c2_.emplace(make_netns("c2"));
    }
    Result<DpdockdInstance> start_two(const std::string& extra = "") {
        return DpdockdInstance::start(base_yaml() + "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") +
                                      container_yaml("c2", c2_->path(), "[bridge]") + extra);
    }
    std::optional<Netns> c1_, c2_;
};

TEST_F(BridgeTest, TwoContainersPingAndTransferTcpBytes) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    EXPECT_TRUE(ping(*c2_, kC1, 3)) << d->log();
    auto st = tcp_transfer(*c2_, kC2, 5001, *c1_, 4u << 20);
    EXPECT_TRUE(st.ok()) << st.message();

    // Both directions went through the dataplane: rx and tx on both ports.
    auto p1 = d->port_stats("c1/bridge");
    auto p2 = d->port_stats("c2/bridge");
    ASSERT_TRUE(p1 && p2);
    EXPECT_GT(counter(p1, "rx_bytes"), 4u << 20);
    EXPECT_GT(counter(p2, "tx_bytes"), 4u << 20);
    EXPECT_GT(counter(p2, "rx_packets"), 100u);
    EXPECT_GT(counter(p1, "tx_packets"), 100u);
    // The device's own per-queue counters saw the same traffic.
    std::uint64_t device_rx = 0;
    for (const auto& q : (*p1)["device"]["rx_queue_packets"]) device_rx += q.get<std::uint64_t>();
    EXPECT_GE(device_rx, counter(p1, "rx_packets")) << p1->dump();

    // Each container's MAC was learned on its own port, derived from its IP.
    auto macs = d->call("mac.show", {{"network", "bridge"}});
    ASSERT_TRUE(macs.ok()) << macs.message();
    std::map<std::string, std::string> learned;
    for (const auto& e : *macs) learned[e["mac"]] = e["port"];
    EXPECT_EQ(learned["02:42:ac:11:00:02"], "c1/bridge");
    EXPECT_EQ(learned["02:42:ac:11:00:03"], "c2/bridge");
}

TEST_F(BridgeTest, TwoWorkersCarryEveryFlow) {
    // One worker polls a kernel port's socket while every worker sends
    // through its own tx ring of it: every flow must arrive, in both directions.
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    for (std::uint16_t port = 5101; port < 5109; ++port) {
        auto st = tcp_transfer(*c2_, kC2, port, *c1_, 256u << 10);
        EXPECT_TRUE(st.ok()) << "flow to port " << port << ": " << st.message();
    }
}

TEST_F(BridgeTest, ContainerInterfacesAreConfiguredLikeDocker) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_NE(c1_->exec_output("ip -o -4 addr show dev eth0").find("172.17.0.2/16"), std::string::npos);
    EXPECT_NE(c1_->exec_output("ip -o link show dev eth0").find("02:42:ac:11:00:02"), std::string::npos);
    EXPECT_NE(c1_->exec_output("ip route show default").find("via 172.17.0.1 dev eth0"), std::string::npos);
    // The kernel's default offloads stay on: kernel ports carry partial checksums.
    EXPECT_NE(c1_->exec_output("ethtool -k eth0").find("tx-checksumming: on"), std::string::npos);
}

TEST_F(BridgeTest, NetworksAreIsolatedAtLayerTwo) {
    // c1 on the default bridge, c2 on "other". c1 is told c2's MAC and a
    // route on its link, so it sends unicast frames to c2's MAC: they must be
    // flooded inside "bridge" only, never reach c2.
    auto d = DpdockdInstance::start(base_yaml() +
                                    "networks:\n  - name: other\n    subnet: 10.77.0.0/24\n"
                                    "containers:\n" +
                                    container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[other]"));
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_EQ(c1_->exec("ip route add 10.77.0.0/24 dev eth0 && ip neigh replace 10.77.0.2 lladdr 02:42:0a:4d:00:02 dev eth0"), 0);
    const auto c2_rx_before = counter(d->port_stats("c2/other"), "tx_packets");
    EXPECT_FALSE(ping(*c1_, *Ipv4Address::parse("10.77.0.2"), 3, 3));
    EXPECT_EQ(counter(d->port_stats("c2/other"), "tx_packets"), c2_rx_before);
    const auto c1 = d->port_stats("c1/bridge");
    ASSERT_TRUE(c1);
    EXPECT_GE(counter(c1, "rx_packets"), 3u);
    // Nobody else is on "bridge": the frames were dropped, counted on c1's port.
    EXPECT_GE((*c1)["drops_by_reason"]["flood_empty"].get<std::uint64_t>(), 3u) << c1->dump();
}

TEST_F(BridgeTest, AttachAndDetachWhileOthersTalk) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    auto stream = ContinuousTcpStream::start(direct_flow(*c2_, kC2, 5002, *c1_));
    ASSERT_TRUE(stream.ok()) << stream.message();
    Netns c3 = make_netns("c3");
    for (int i = 0; i < 5; ++i) {
        auto attached = d->call("container.attach", {{"name", "c3"}, {"netns", c3.path()}});
        ASSERT_TRUE(attached.ok()) << attached.message();
        EXPECT_TRUE(ping(c3, kC1, 1, 3)) << "round " << i;
        auto detached = d->call("container.detach", {{"name", "c3"}});
        ASSERT_TRUE(detached.ok()) << detached.message();
        EXPECT_NE(c3.exec("ip link show eth0 2>/dev/null"), 0) << "eth0 left behind in round " << i;
    }
    auto verdict = stream->stop();
    EXPECT_TRUE(verdict.ok()) << verdict.message();
    EXPECT_GT(stream->bytes_verified(), 0u);
}

TEST_F(BridgeTest, TapAttachmentForwards) {
    auto d = DpdockdInstance::start(base_yaml() + "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") +
                                    container_yaml("c2", c2_->path(), "[bridge]", "tap"));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    auto st = tcp_transfer(*c2_, kC2, 5003, *c1_, 1u << 20);
    EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(BridgeTest, VethDeletedFromOutsideIsDetached) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_EQ(c1_->exec("ip link del eth0"), 0);
    const bool gone = wait_until([&] { return !d->port_stats("c1/bridge").has_value(); }, std::chrono::seconds(10));
    EXPECT_TRUE(gone) << d->log();
    auto ps = d->call("container.ps");
    ASSERT_TRUE(ps.ok());
    ASSERT_EQ(ps->size(), 1u);
    EXPECT_EQ((*ps)[0]["name"], "c2");
}

TEST_F(BridgeTest, SigtermRemovesEverythingAndExitsZero) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    auto ps = d->call("container.ps");
    ASSERT_TRUE(ps.ok());
    const std::string host_if = (*ps)[0]["networks"][0]["host_interface"];
    EXPECT_EQ(shell("ip link show " + host_if + " >/dev/null 2>&1"), 0);
    auto st = d->stop(SIGTERM);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_NE(shell("ip link show " + host_if + " >/dev/null 2>&1"), 0);
    EXPECT_NE(c1_->exec("ip link show eth0 >/dev/null 2>&1"), 0);
}

TEST_F(BridgeTest, RestartAfterSigkillComesUpClean) {
    auto d = start_two();
    ASSERT_TRUE(d.ok()) << d.message();
    const std::string killed_runtime_dir = "/var/run/dpdk/dpdock-" + std::to_string(d->process().pid());
    ASSERT_TRUE(d->stop(SIGKILL).ok());
    EXPECT_TRUE(std::filesystem::exists(killed_runtime_dir));
    auto st = d->restart();
    ASSERT_TRUE(st.ok()) << st.message();
    // The new instance swept the dead one's EAL runtime directory.
    EXPECT_FALSE(std::filesystem::exists(killed_runtime_dir));
    EXPECT_TRUE(ping(*c1_, kC2, 3)) << d->log();
    auto transfer = tcp_transfer(*c2_, kC2, 5004, *c1_, 1u << 20);
    EXPECT_TRUE(transfer.ok()) << transfer.message();
}

TEST(DaemonStartup, BadConfigFailsWithFileLineAndKey) {
    auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  bogus: 3\n");
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.message().find("deployment.yaml:3"), std::string::npos) << d.message();
    EXPECT_NE(d.message().find("bogus"), std::string::npos) << d.message();
}

}  // namespace
}  // namespace dpdock::test
