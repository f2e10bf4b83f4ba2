// The `dpdock` CLI end to end against a real dpdockd: Docker's network verbs
// on namespaces the test makes, with traffic checked between each step.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "config/loader.hpp"
#include "config/yaml_writer.hpp"
#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n");
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
        a_.emplace(make_netns("clia"));
        b_.emplace(make_netns("clib"));
    }
    std::optional<DpdockdInstance> daemon_;
    std::optional<Netns> a_, b_;
};

TEST_F(CliTest, NetworkLifecycleLikeDocker) {
    // A user network without --subnet takes the next free /16 after docker0's.
    EXPECT_EQ(daemon_->cli_expect("network create front"), "front\n");
    const std::string ls = daemon_->cli_expect("network ls");
    EXPECT_TRUE(contains(ls, "NETWORK ID")) << ls;
    EXPECT_TRUE(contains(ls, "172.18.0.0/16")) << ls;
    EXPECT_TRUE(contains(ls, "172.18.0.1")) << ls;

    daemon_->cli_expect("attach --name a --netns " + a_->path() + " --network front");
    daemon_->cli_expect("attach --name b --netns " + b_->path() + " --network front --ip 172.18.0.50");
    EXPECT_TRUE(ping(*a_, ip("172.18.0.50"), 3)) << daemon_->log();
    auto st = tcp_transfer(*b_, ip("172.18.0.50"), 5201, *a_, 1u << 20);
    EXPECT_TRUE(st.ok()) << st.message();

    // inspect: the fields `docker network inspect` shows for the same objects.
    auto inspect = nlohmann::json::parse(daemon_->cli_expect("network inspect front"));
    ASSERT_EQ(inspect.size(), 1u);
    EXPECT_EQ(inspect[0]["Name"], "front");
    EXPECT_EQ(inspect[0]["Driver"], "bridge");
    EXPECT_EQ(inspect[0]["IPAM"]["Config"][0]["Subnet"], "172.18.0.0/16");
    EXPECT_EQ(inspect[0]["IPAM"]["Config"][0]["Gateway"], "172.18.0.1");
    EXPECT_EQ(inspect[0]["Containers"]["a"]["IPv4Address"], "172.18.0.2/16");
    EXPECT_EQ(inspect[0]["Containers"]["a"]["MacAddress"], "02:42:ac:12:00:02");
    EXPECT_EQ(inspect[0]["Containers"]["b"]["IPv4Address"], "172.18.0.50/16");
    EXPECT_EQ(inspect[0]["Containers"]["b"]["MacAddress"], "02:42:ac:12:00:32");

    // A second network: b gets eth1 there; the first network keeps the default route.
    daemon_->cli_expect("network create --subnet 10.77.0.0/24 --gateway 10.77.0.254 back");
    daemon_->cli_expect("network connect --ip 10.77.0.9 back b");
    const std::string ps = daemon_->cli_expect("ps");
    EXPECT_TRUE(contains(ps, "back")) << ps;
    EXPECT_TRUE(contains(ps, "10.77.0.9/24")) << ps;
    EXPECT_TRUE(contains(b_->exec_output("ip -o -4 addr show dev eth1"), "10.77.0.9/24"));
    EXPECT_TRUE(contains(b_->exec_output("ip route show default"), "via 172.18.0.1 dev eth0"));

    // The MAC table shows both containers on their ports after the traffic.
    const std::string macs = daemon_->cli_expect("mac front");
    EXPECT_TRUE(contains(macs, "02:42:ac:12:00:02")) << macs;
    EXPECT_TRUE(contains(macs, "02:42:ac:12:00:32")) << macs;

    // rm is refused while containers are connected, and changes nothing.
    EXPECT_TRUE(contains(daemon_->cli_expect("network rm back", 1), "active endpoints"));
    daemon_->cli_expect("network disconnect back b");
    EXPECT_FALSE(contains(daemon_->cli_expect("ps"), "10.77.0.9")) << "address not released";
    EXPECT_EQ(b_->exec("ip link show dev eth1 >/dev/null 2>&1"), 1) << "eth1 left behind in the container";
    EXPECT_EQ(daemon_->cli_expect("network rm back"), "back\n");

    // Detach b; a keeps working with a fresh container reusing b's address.
    EXPECT_EQ(daemon_->cli_expect("detach b"), "b\n");
    EXPECT_FALSE(ping(*a_, ip("172.18.0.50"), 1));
    daemon_->cli_expect("attach --name b2 --netns " + b_->path() + " --network front --ip 172.18.0.50");
    EXPECT_TRUE(ping(*a_, ip("172.18.0.50"), 3)) << daemon_->log();
    daemon_->cli_expect("detach b2");
    daemon_->cli_expect("detach a");
    EXPECT_EQ(daemon_->cli_expect("network rm front"), "front\n");
    EXPECT_FALSE(contains(daemon_->cli_expect("network ls"), "front"));
}

// Docker moves the default route to a remaining network when the network
// that carried it is disconnected; the container keeps a way out.
TEST_F(CliTest, DisconnectingTheDefaultRouteNetworkMovesTheRoute) {
    daemon_->cli_expect("network create --subnet 10.78.0.0/24 side");
    daemon_->cli_expect("attach --name a --netns " + a_->path());
    daemon_->cli_expect("network connect side a");
    EXPECT_TRUE(contains(a_->exec_output("ip route show default"), "via 172.17.0.1 dev eth0"));
    daemon_->cli_expect("network disconnect bridge a");
    std::string route = a_->exec_output("ip route show default");
    EXPECT_TRUE(contains(route, "via 10.78.0.1 dev eth1")) << route;
    EXPECT_TRUE(ping(*a_, ip("10.78.0.1"), 2)) << daemon_->log();
    // Connecting the old network again adds an interface, the route stays.
    daemon_->cli_expect("network connect bridge a");
    EXPECT_TRUE(contains(a_->exec_output("ip route show default"), "via 10.78.0.1 dev eth1"));
    // A reload that puts bridge first gives it the route; side gives it up, so
    // disconnecting bridge again moves the route back to side.
    const std::string saved = daemon_->dir() + "/reordered.yaml";
    daemon_->cli_expect("config save " + saved);
    auto model = config::load_file(saved);
    ASSERT_TRUE(model.ok()) << model.message();
    auto& endpoints = model->containers.at(0).networks;
    ASSERT_EQ(endpoints.size(), 2u);
    std::swap(endpoints[0], endpoints[1]);
    ASSERT_TRUE(config::save_atomically(*model, saved).ok());
    daemon_->cli_expect("config reload " + saved);
    route = a_->exec_output("ip route show default");
    EXPECT_TRUE(contains(route, "via 172.17.0.1 dev eth0")) << route;
    daemon_->cli_expect("network disconnect bridge a");
    route = a_->exec_output("ip route show default");
    EXPECT_TRUE(contains(route, "via 10.78.0.1 dev eth1")) << route;
    daemon_->cli_expect("detach a");
}

TEST_F(CliTest, JsonFormatIsTheDaemonsResult) {
    daemon_->cli_expect("attach --name a --netns " + a_->path());
    auto ps = nlohmann::json::parse(daemon_->cli_expect("--format json ps"));
    ASSERT_EQ(ps.size(), 1u);
    EXPECT_EQ(ps[0]["name"], "a");
    EXPECT_EQ(ps[0]["networks"][0]["network"], "bridge");
    EXPECT_EQ(ps[0]["networks"][0]["ip"], "172.17.0.2/16");
    auto ls = nlohmann::json::parse(daemon_->cli_expect("network ls --format json"));
    ASSERT_EQ(ls.size(), 1u);
    EXPECT_EQ(ls[0]["name"], "bridge");
    EXPECT_EQ(ls[0]["containers"], 1);
}

TEST_F(CliTest, ErrorsCarryTheDaemonsMessageAndChangeNothing) {
    const std::string before = daemon_->cli_expect("--format json network ls");
    const std::string a_netns = " --netns " + a_->path();
    // args, exit code (1: the daemon refused, 2: usage), what the output says
    const struct {
        std::string args;
        int rc;
        std::string says;
    } refused[] = {
        {"network create --subnet 10.0.0.0/33 bad", 1, "not a CIDR"},
        {"network create --opt com.docker.network.bridge.enable_icc=maybe noicc", 1, "enable_icc"},
        {"network create --opt novalue x", 2, "KEY=VALUE"},
        {"network rm bridge", 1, "pre-defined"},
        {"network inspect nosuch", 1, "nosuch not found"},
        {"attach --name a --netns /run/netns/dpdock-no-such-ns", 1, "dpdock-no-such-ns"},
        {"attach --name a" + a_netns + " --ip 10.9.9.9", 1, "10.9.9.9"},
        {"attach --name a" + a_netns + " -p 8080:80", 1, "publish"},
        {"detach nosuch", 1, "not found"},
        {"attach" + a_netns, 2, "--name is required"},
        {"network frobnicate", 2, "dpdock network create"},
    };
    for (const auto& r : refused) {
        const std::string out = daemon_->cli_expect(r.args, r.rc);
        EXPECT_TRUE(contains(out, r.says)) << "dpdock " << r.args << "\n" << out;
    }
    EXPECT_EQ(daemon_->cli_expect("--format json network ls"), before);
    EXPECT_EQ(daemon_->cli_expect("--format json ps"), "[]\n");
}

// docker network inspect's Scope, EnableIPv6, Labels and Created; ls's SCOPE
// and DRIVER columns; --label kept by config save and reload (issue 20).
TEST_F(CliTest, NetworkLabelsScopeAndCreatedLikeDocker) {
    EXPECT_EQ(daemon_->cli_expect("network create --subnet 10.79.0.0/24 --label team=web --label tier labelled"),
              "labelled\n");
    auto inspect = nlohmann::json::parse(daemon_->cli_expect("network inspect labelled"));
    ASSERT_EQ(inspect.size(), 1u);
    EXPECT_EQ(inspect[0]["Labels"], nlohmann::json({{"team", "web"}, {"tier", ""}})) << inspect.dump();
    EXPECT_EQ(inspect[0]["Scope"], "local");
    EXPECT_EQ(inspect[0]["EnableIPv6"], false);
    const std::string created = inspect[0].value("Created", "");
    EXPECT_EQ(created.size(), 20u) << created;  // 2026-12-02T15:49:14Z
    EXPECT_EQ(created.find('T'), 10u) << created;
    EXPECT_EQ(created.back(), 'Z') << created;

    const std::string ls = daemon_->cli_expect("network ls");
    EXPECT_EQ(ls.rfind("NETWORK ID  NAME      DRIVER  SCOPE  ", 0), 0u) << ls;
    EXPECT_TRUE(contains(ls, "labelled  bridge  local")) << ls;

    // Saved with the network, gone with it, back with a reload.
    const std::string saved = daemon_->dir() + "/labels.yaml";
    daemon_->cli_expect("config save " + saved);
    EXPECT_TRUE(contains(shell_output("cat " + saved), "labels:")) << shell_output("cat " + saved);
    auto model = config::load_file(saved);
    ASSERT_TRUE(model.ok()) << model.message();
    ASSERT_EQ(model->networks.size(), 1u);
    EXPECT_EQ(model->networks[0].labels, (std::map<std::string, std::string>{{"team", "web"}, {"tier", ""}}));
    daemon_->cli_expect("network rm labelled");
    daemon_->cli_expect("config reload " + saved);
    inspect = nlohmann::json::parse(daemon_->cli_expect("network inspect labelled"));
    EXPECT_EQ(inspect[0]["Labels"], nlohmann::json({{"team", "web"}, {"tier", ""}})) << inspect.dump();
    EXPECT_TRUE(contains(daemon_->cli_expect("network create --label =x nokey", 2), "KEY=VALUE"));
}

// A namespace that already has eth0: say which interface, where, and what to do (issue 20).
TEST_F(CliTest, AttachIntoANamespaceThatHasEth0SaysWhatToDo) {
    ASSERT_EQ(a_->exec("ip link add eth0 type veth peer name other0"), 0);  // no dummy module everywhere
    const std::string out = daemon_->cli_expect("attach --name a --netns " + a_->path(), 1);
    EXPECT_EQ(out, "Error: container a, network bridge: the network namespace " + a_->path() +
                       " already has an interface named eth0; dpdock names a container's interfaces eth0, eth1, ... "
                       "in the order of its networks: delete that one (nsenter --net=" + a_->path() +
                       " ip link del eth0) or attach a namespace without it\n");
    EXPECT_EQ(daemon_->cli_expect("--format json ps"), "[]\n");
    EXPECT_TRUE(contains(a_->exec_output("ip -o link show dev eth0"), "eth0@other0")) << "the user's eth0 was touched";
}

// The control socket refuses a relative path: it would land in the daemon's
// working directory. The CLI sends FILE absolute (issue 20).
TEST_F(CliTest, ConfigSaveRefusesARelativePathOverTheSocket) {
    for (const char* cmd : {"config.save", "config.reload"}) {
        auto r = daemon_->call(cmd, {{"path", "relative.yaml"}});
        ASSERT_FALSE(r.ok()) << cmd;
        EXPECT_EQ(r.message(), "path \"relative.yaml\" is relative: give an absolute path (the dpdock CLI makes a "
                               "relative FILE absolute in its own working directory)");
    }
    const std::string out = shell_output("cd " + daemon_->dir() + " && " + DPDOCK_CLI_PATH + " --socket " +
                                         daemon_->socket_path() + " config save relative.yaml 2>&1");
    EXPECT_EQ(out, "saved to " + daemon_->dir() + "/relative.yaml\n");
}

// Without --config dpdockd starts empty, as dockerd does (issue 14 item 13);
// the demo is `dpdockd --demo`.
TEST(EmptyDaemon, WithoutConfigOnlyTheDefaultBridge) {
    auto d = DpdockdInstance::start_without_config();
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(d->cli_expect("--format json ps"), "[]\n");
    auto ls = nlohmann::json::parse(d->cli_expect("--format json network ls"));
    ASSERT_EQ(ls.size(), 1u) << ls.dump();
    EXPECT_EQ(ls[0]["name"], "bridge");
    EXPECT_TRUE(contains(d->log(), "EAL started ")) << d->log();
    EXPECT_TRUE(contains(d->log(), "the deployment needs about ")) << d->log();
    // Nothing to save to by default, and saving needs a path.
    EXPECT_TRUE(contains(d->cli_expect("config save", 1), "started without --config"));
}

TEST(DaemonSocket, GroupOptionOwnsTheSocketLikeDockerd) {
    // gid 1 ("daemon" on Debian) stands in for a "dpdock" group an operator would create.
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n", {"--group", "1"});
    ASSERT_TRUE(d.ok()) << d.message();
    struct stat st {};
    ASSERT_EQ(stat(d->socket_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 1u);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    auto bad = DpdockdInstance::start("", {"--group", "dpdock-no-such-group"});
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(contains(bad.message(), "no group named")) << bad.message();
}

TEST(CliWithoutDaemon, SaysTheDaemonIsNotRunning) {
    const std::string out = shell_output(std::string(DPDOCK_CLI_PATH) +
                                         " --socket /run/dpdock-test-no-such.sock network ls 2>&1; echo rc=$?");
    EXPECT_TRUE(contains(out, "/run/dpdock-test-no-such.sock")) << out;
    EXPECT_TRUE(contains(out, "rc=1")) << out;
}

}  // namespace
}  // namespace dpdock::test
