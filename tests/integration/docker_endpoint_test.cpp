// Endpoints of method docker (the Docker plugin's, docs/docker.md): the
// container end is made unconfigured in the named namespace and survives
// being moved out of it, as Docker moves it into a sandbox; the namespace it
// was made in may go away (the plugin restarts) without detaching it; the
// veth's deletion does detach it. container.publish replaces a running
// container's published ports; bad requests change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "runtime/docker/driver.hpp"
#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

const Ipv4Address kC2 = *Ipv4Address::parse("172.17.0.2");

// c2 on the bridge (from the YAML), and d1 attached as the Docker plugin
// does it, into plugin_ns.
class DockerEndpoint : public ::testing::Test {
protected:
    void SetUp() override {
        auto started = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                              container_yaml("c2", c2.path(), "[bridge]"));
        ASSERT_TRUE(started.ok()) << started.message();
        d.emplace(std::move(*started));
        auto attached = d->call("container.attach", {{"name", "d1"}, {"netns", plugin_ns.path()}, {"method", "docker"},
                                                     {"ip", "172.17.0.5"}});
        ASSERT_TRUE(attached.ok()) << attached.message();
        d1 = (*attached)["networks"][0];
    }

    // What Docker does after Join: move the interface into the sandbox and configure it there.
    void move_into_sandbox() {
        const std::string ifname = d1["interface"];
        ASSERT_EQ(plugin_ns.exec("ip link set " + ifname + " netns " + sandbox.name()), 0);
        ASSERT_EQ(sandbox.exec("ip link set " + ifname + " name eth0 && ip addr add 172.17.0.5/16 dev eth0 && ip link "
                               "set eth0 up && ip link set lo up"),
                  0);
    }

    Netns plugin_ns = make_netns("dplug");
    Netns sandbox = make_netns("dsbx");
    Netns c2 = make_netns("c2");
    std::optional<DpdockdInstance> d;
    json d1;  // d1's endpoint as container.attach answered
};

// The plugin with --save against a dpdockd that cannot save (its --config
// path became a directory): every change is still answered done, since it was made;
// an error would have Docker forget a network and endpoint dpdockd keeps
// (before, both answers were errors and both stayed in dpdockd for good).
TEST_F(DockerEndpoint, AChangeDpdockdCannotSaveIsStillDone) {
    ASSERT_EQ(shell("rm -f " + d->config_path() + " && mkdir " + d->config_path()), 0);
    ASSERT_FALSE(d->call("config.save").ok()) << "the save this test is about must fail";
    docker::Driver driver(d->socket_path(), plugin_ns.path(), true);
    const std::string network = "5a0e0000000000000000000000000000000000000000000000000000000000aa";
    const std::string endpoint = "e1d00000000000000000000000000000000000000000000000000000000000bb";
    auto created = driver.handle("NetworkDriver.CreateNetwork",
                                 {{"NetworkID", network}, {"IPv4Data", json::array({{{"Pool", "10.57.0.0/24"}}})}});
    ASSERT_TRUE(created.has_value());
    EXPECT_FALSE(created->contains("Err")) << created->dump();
    auto attached = driver.handle("NetworkDriver.CreateEndpoint",
                                  {{"NetworkID", network}, {"EndpointID", endpoint}, {"Interface", json::object()}});
    ASSERT_TRUE(attached.has_value());
    EXPECT_FALSE(attached->contains("Err")) << attached->dump();
    EXPECT_TRUE(d->port_stats("docker-e1d000000000/docker-5a0e00000000").has_value()) << d->log();

    auto detached = driver.handle("NetworkDriver.DeleteEndpoint", {{"NetworkID", network}, {"EndpointID", endpoint}});
    ASSERT_TRUE(detached.has_value());
    EXPECT_FALSE(detached->contains("Err")) << detached->dump();
    auto deleted = driver.handle("NetworkDriver.DeleteNetwork", {{"NetworkID", network}});
    ASSERT_TRUE(deleted.has_value());
    EXPECT_FALSE(deleted->contains("Err")) << deleted->dump();
    auto networks = d->call("network.ls");
    ASSERT_TRUE(networks.ok()) << networks.message();
    EXPECT_EQ(networks->dump().find("docker-5a0e"), std::string::npos) << networks->dump();
}

TEST_F(DockerEndpoint, HandedOverUnconfiguredAndKeptAfterTheMove) {
    auto ps = d->call("container.ps");
    ASSERT_TRUE(ps.ok());
    EXPECT_EQ((*ps)[1]["method"], "docker") << ps->dump();
    const std::string ifname = d1["interface"];
    ASSERT_EQ(ifname.rfind("dd", 0), 0u) << d1.dump();

    // Unconfigured: down, no address; only dpdock's MAC and MTU.
    const std::string link = plugin_ns.exec_output("ip -o link show " + ifname);
    EXPECT_NE(link.find("state DOWN"), std::string::npos) << link;
    EXPECT_NE(link.find("02:42:ac:11:00:05"), std::string::npos) << link;
    EXPECT_EQ(plugin_ns.exec_output("ip -o -4 addr show " + ifname), "");

    move_into_sandbox();
    // The namespace it was made in is replaced (a restarted plugin): the 1 s
    // namespace check must leave it alone.
    ASSERT_EQ(shell("ip netns del " + plugin_ns.name() + " && ip netns add " + plugin_ns.name()), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_TRUE(d->port_stats("d1/bridge").has_value()) << d->log();
    EXPECT_TRUE(ping(sandbox, kC2, 2)) << d->log();

    // The sandbox goes without Docker moving the interface back: the veth goes
    // with it, and the link watcher detaches the endpoint.
    const std::string name = sandbox.name();
    ASSERT_EQ(shell("ip netns del " + name + " && ip netns add " + name), 0);
    EXPECT_TRUE(wait_until([&] { return !d->port_stats("d1/bridge").has_value(); }, std::chrono::seconds(10)))
        << d->log();
    auto after = d->call("container.ps");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->size(), 1u) << after->dump();
}

// On a host, dockerd, the plugin and dpdockd share one namespace: the
// container end is made next to the host end, leaves it for the sandbox (a
// move, not a deletion, for the link watcher), and goes with DeleteEndpoint.
TEST_F(DockerEndpoint, MadeInDpdockdsOwnNamespace) {
    const std::string own = "/proc/" + std::to_string(d->process().pid()) + "/ns/net";
    auto attached = d->call("container.attach", {{"name", "d2"}, {"netns", own}, {"method", "docker"}, {"ip", "172.17.0.6"}});
    ASSERT_TRUE(attached.ok()) << attached.message();
    const std::string ifname = (*attached)["networks"][0]["interface"];
    const std::string host_if = (*attached)["networks"][0]["host_interface"];
    ASSERT_EQ(shell("ip link set " + ifname + " netns " + sandbox.name()), 0);
    ASSERT_EQ(sandbox.exec("ip link set " + ifname + " name eth0 && ip addr add 172.17.0.6/16 dev eth0 && ip link set "
                           "eth0 up && ip link set lo up"),
              0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_TRUE(d->port_stats("d2/bridge").has_value()) << d->log();
    EXPECT_TRUE(ping(sandbox, kC2, 2)) << d->log();
    ASSERT_TRUE(d->call("container.detach", {{"name", "d2"}}).ok());
    EXPECT_NE(shell("ip link show " + host_if + " >/dev/null 2>&1"), 0);
    EXPECT_NE(sandbox.exec("ip link show eth0 >/dev/null 2>&1"), 0);
}

TEST_F(DockerEndpoint, BadRequestsChangeNothing) {
    ASSERT_TRUE(d->call("network.create", {{"name", "back"}, {"subnet", "10.61.0.0/24"}}).ok());
    auto before = d->observable_state();
    ASSERT_TRUE(before.ok()) << before.message();
    auto expect_error = [&](const std::string& cmd, const json& args, const std::string& text) {
        auto r = d->request(cmd, args);
        ASSERT_TRUE(r.ok()) << r.message();
        EXPECT_EQ((*r)["ok"], false) << r->dump();
        EXPECT_NE((*r).value("error", "").find(text), std::string::npos) << cmd << ": " << r->dump();
    };
    expect_error("container.attach", {{"name", "d2"}, {"netns", plugin_ns.path()}, {"method", "dockr"}},
                 "\"dockr\" is not veth, tap or docker");
    expect_error("network.connect", {{"network", "back"}, {"container", "d1"}},
                 "(method docker) has 2 networks; Docker makes one endpoint per network");
    expect_error("container.publish", {{"name", "nope"}, {"publish", json::array({"8080:80"})}}, "container nope not found");
    expect_error("container.publish", {{"name", "d1"}, {"publish", json::array({"80:abc"})}}, "80:abc");
    expect_error("container.publish", {{"name", "d1"}, {"publish", "8080:80"}}, "must be an array of strings");
    expect_error("container.publish", {{"name", "d1"}, {"publish", json::array({"8080:80"})}}, "there is no uplink");
    expect_error("container.publish", {{"name", "d1"}, {"ports", json::array({"8080:80"})}}, "unknown argument \"ports\"");
    auto after = d->observable_state();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, *before);
    // Empty lists revoke (nothing to revoke here): accepted.
    EXPECT_TRUE(d->call("container.publish", {{"name", "d1"}, {"publish", json::array()}}).ok());
}

// dpdockd stopped and started again on its saved state: the container keeps
// its interface meanwhile and forwards again once the veth is adopted; a
// container gone while dpdockd was down is dropped when it returns.
TEST_F(DockerEndpoint, KeptAcrossADpdockdRestart) {
    const std::string host_if = d1["host_interface"];
    move_into_sandbox();
    ASSERT_TRUE(ping(sandbox, kC2, 2)) << d->log();
    ASSERT_TRUE(d->call("config.save").ok());

    ASSERT_TRUE(d->stop().ok()) << d->log();
    EXPECT_EQ(sandbox.exec("ip link show eth0 >/dev/null"), 0) << "the container lost its interface";
    ASSERT_TRUE(d->restart().ok()) << d->log();
    auto ps = d->call("container.ps");
    ASSERT_TRUE(ps.ok());
    ASSERT_EQ(ps->size(), 2u) << ps->dump();
    EXPECT_TRUE(ping(sandbox, kC2, 3)) << d->log();

    ASSERT_TRUE(d->stop().ok()) << d->log();
    const std::string name = sandbox.name();
    ASSERT_EQ(shell("ip netns del " + name + " && ip netns add " + name), 0);  // the container is removed
    ASSERT_TRUE(wait_until([&] { return shell("ip link show " + host_if + " >/dev/null 2>&1") != 0; },
                           std::chrono::seconds(5)));
    ASSERT_TRUE(d->restart().ok()) << d->log();
    auto after = d->call("container.ps");
    ASSERT_TRUE(after.ok());
    ASSERT_EQ(after->size(), 1u) << after->dump();
    EXPECT_EQ((*after)[0]["name"], "c2");
    EXPECT_NE(d->log().find("Docker endpoint d1 went while dpdockd was down: dropped"), std::string::npos) << d->log();
}

}  // namespace
}  // namespace dpdock::test
