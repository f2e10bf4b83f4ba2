// The control socket end to end, each test against a dpdockd it starts:
// protocol robustness (bad requests, oversize, silent and concurrent
// clients), the `docker network` lifecycle with real traffic between
// namespaces, IPAM rules, reconfiguration under a live TCP stream, and
// config save -> restart / config reload.
#include <gtest/gtest.h>

#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "config/yaml_writer.hpp"
#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/line_client.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

const std::string kBaseYaml = "dataplane:\n  idle-sleep-us: 20\n";
constexpr std::size_t kRequestLimit = std::size_t{1} << 20;  // the daemon's default

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

// The daemon's message for a refused request; "" (and a test failure) when it was accepted.
std::string refusal(const Result<json>& answer) {
    EXPECT_TRUE(answer.ok()) << answer.message();
    if (!answer) return "";
    EXPECT_EQ((*answer)["ok"], false) << answer->dump();
    return answer->value("error", "");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The endpoint of `container` on `network` in a container.ps result.
json endpoint_of(const json& ps, const std::string& container, const std::string& network) {
    for (const auto& c : ps) {
        if (c["name"] != container) continue;
        for (const auto& ep : c["networks"]) {
            if (ep["network"] == network) return ep;
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------------------
// Protocol robustness

struct BadRequest {
    std::string line;
    std::string error;  // expected part of the daemon's message
};

class ControlProtocolTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = DpdockdInstance::start(kBaseYaml + "networks:\n  - name: web\n    subnet: 10.50.0.0/24\n" +
                                            "containers:\n" + container_yaml("c1", c1_.path(), "[bridge, web]"),
                                        {"--client-idle-timeout-ms", "2000"});
        ASSERT_TRUE(d.ok()) << d.message();
        d_.emplace(std::move(*d));
        auto state = d_->observable_state();
        ASSERT_TRUE(state.ok()) << state.message();
        before_ = *state;
    }
    void expect_state_unchanged() {
        auto state = d_->observable_state();
        ASSERT_TRUE(state.ok()) << state.message();
        EXPECT_EQ(*state, before_);
    }

    Netns c1_ = make_netns("c1");
    std::optional<DpdockdInstance> d_;
    json before_;
};

TEST_F(ControlProtocolTest, BadRequestsGetClearErrorsAndChangeNothing) {
    const std::vector<BadRequest> cases = {
        {R"({"cmd":"network.ls")", "malformed JSON at byte "},
        {R"(network.ls)", "malformed JSON at byte "},
        {R"([1,2])", "request must be an object"},
        {R"({"args":{}})", "missing \"cmd\""},
        {R"({"cmd":7})", "\"cmd\" must be a string"},
        {R"({"cmd":"version","verbose":true})", "unknown request field \"verbose\""},
        {R"({"cmd":"network.ls","args":[]})", "\"args\" must be an object"},
        {R"({"cmd":"network.frobnicate"})", "unknown command \"network.frobnicate\""},
        {R"({"cmd":"network.ls","args":{"all":true}})", "unknown argument \"all\" (this command takes no arguments)"},
        {R"({"cmd":"network.create","args":{"name":"x","colour":"red"}})", "unknown argument \"colour\" (allowed: name,"},
        {R"({"cmd":"network.create","args":{}})", "missing argument \"name\""},
        {R"({"cmd":"container.attach","args":{"name":"c9"}})", "missing argument \"netns\""},
        {R"({"cmd":"network.connect","args":{"network":"web"}})", "missing argument \"container\""},
        {R"({"cmd":"network.create","args":{"name":7}})", "argument \"name\" must be a string"},
        {R"({"cmd":"network.create","args":{"name":"x","mtu":"big"}})", "argument \"mtu\" must be an integer"},
        {R"({"cmd":"network.create","args":{"name":"x","internal":"yes"}})", "argument \"internal\" must be true or false"},
        {R"({"cmd":"network.rm","args":{"names":"web"}})", "\"names\" must be a non-empty array of network names"},
        {R"({"cmd":"network.create","args":{"name":"x","subnet":"10.0.0.0/33"}})", "subnet: \"10.0.0.0/33\" is not a CIDR"},
        {R"({"cmd":"network.create","args":{"name":"x","mtu":-5}})", "mtu -5 "},
        {R"({"cmd":"network.create","args":{"name":"web"}})", "network with name web already exists"},
        {R"({"cmd":"network.create","args":{"name":"x","subnet":"10.50.0.0/16"}})", "overlaps network 'web'"},
        {R"({"cmd":"network.rm","args":{"names":["nope"]}})", "network nope not found"},
        {R"({"cmd":"network.rm","args":{"names":["bridge"]}})", "bridge is a pre-defined network"},
        {R"({"cmd":"network.rm","args":{"names":["web"]}})", "network web has active endpoints (container c1)"},
        {R"({"cmd":"container.detach","args":{"name":"nope"}})", "container nope not found"},
        {R"({"cmd":"container.attach","args":{"name":"c1","netns":"/run/netns/x"}})", "container c1 is already attached"},
        {R"({"cmd":"network.connect","args":{"network":"web","container":"c1","ip":"300.1.1.1"}})",
         "ip: \"300.1.1.1\" is not an IPv4 address"},
        {R"({"cmd":"network.disconnect","args":{"network":"web","container":"c9"}})", "container c9 not found"},
        {R"({"cmd":"network.disconnect","args":{"network":"nope","container":"c1"}})",
         "container c1 is not connected to network nope"},
        // Valid, then refused while converging (the namespace is opened before
        // any link is created): the error names the cause, the apply is rolled back.
        {R"({"cmd":"container.attach","args":{"name":"c9","netns":"/run/netns/dpdock-no-such-ns"}})",
         "open netns /run/netns/dpdock-no-such-ns: No such file or directory"},
    };
    // All on one connection: an error never closes it.
    LineClient client(d_->socket_path());
    ASSERT_TRUE(client.connected());
    for (const auto& c : cases) {
        ASSERT_TRUE(client.send_raw(c.line + "\n")) << c.line;
        auto answer = client.read_json();
        ASSERT_TRUE(answer.has_value()) << "no answer to " << c.line << "\n" << d_->log();
        EXPECT_EQ((*answer)["ok"], false) << c.line << " -> " << answer->dump();
        const std::string error = answer->value("error", "");
        EXPECT_TRUE(contains(error, c.error)) << c.line << " -> " << error;
        EXPECT_FALSE(contains(error, "json.exception")) << c.line << " -> " << error;
        expect_state_unchanged();
    }
    auto version = client.call({{"cmd", "version"}});
    ASSERT_TRUE(version.has_value());
    EXPECT_EQ((*version)["ok"], true);
}

TEST_F(ControlProtocolTest, OversizedRequestIsRefusedAndItsClientDisconnected) {
    LineClient big(d_->socket_path());
    ASSERT_TRUE(big.connected());
    // The daemon refuses the line once it passes the limit and closes, so the
    // tail of this write may find the socket gone: only the answer counts.
    big.send_raw(R"({"cmd":"version","args":{"pad":")" + std::string(kRequestLimit, 'a') + "\"}}\n");
    auto answer = big.read_json();
    ASSERT_TRUE(answer.has_value()) << d_->log();
    EXPECT_EQ(*answer, (json{{"ok", false}, {"error", "request exceeds the limit of 1048576 bytes"}}));
    EXPECT_TRUE(big.closed_by_server());
    expect_state_unchanged();
}

TEST_F(ControlProtocolTest, SilentClientsDoNotBlockOthersAndAreDroppedWhenIdle) {
    LineClient silent(d_->socket_path());
    LineClient half(d_->socket_path());
    ASSERT_TRUE(silent.connected() && half.connected());
    ASSERT_TRUE(half.send_raw(R"({"cmd":"network.create","args":{"name":"half")"));  // and never the rest
    LineClient other(d_->socket_path());
    for (int i = 0; i < 3; ++i) {
        auto ls = other.call({{"cmd", "network.ls"}});
        ASSERT_TRUE(ls.has_value());
        EXPECT_EQ(*ls, (json{{"ok", true}, {"result", before_["networks"]}}));
    }
    EXPECT_TRUE(silent.closed_by_server());
    EXPECT_TRUE(half.closed_by_server());
    expect_state_unchanged();
}

// Clients at once, each pipelining good and bad requests and creating and
// removing a network of its own; the answers come back in order on each.
TEST_F(ControlProtocolTest, ManyClientsAtOnceAreEachAnsweredInOrder) {
    constexpr int kClients = 16;
    constexpr int kRounds = 10;
    std::mutex mutex;
    std::vector<std::string> failures;
    auto fail = [&](const std::string& what) {
        std::lock_guard lock(mutex);
        failures.push_back(what);
    };
    LineClient silent(d_->socket_path());  // connected throughout, never speaks
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
        threads.emplace_back([&, t] {
            LineClient client(d_->socket_path(), std::chrono::seconds(60));
            if (!client.connected()) return fail("client " + std::to_string(t) + " could not connect");
            const std::string name = "t" + std::to_string(t);
            const std::string subnet = "10.60." + std::to_string(t) + ".0/24";
            for (int r = 0; r < kRounds; ++r) {
                const std::string batch =
                    json{{"cmd", "network.create"}, {"args", {{"name", name}, {"subnet", subnet}}}}.dump() + "\n" +
                    "{oops\n" + json{{"cmd", "network.inspect"}, {"args", {{"names", {name}}}}}.dump() + "\n" +
                    json{{"cmd", "no.such"}}.dump() + "\n" +
                    json{{"cmd", "network.rm"}, {"args", {{"names", {name}}}}}.dump() + "\n";
                if (!client.send_raw(batch)) return fail(name + ": send failed");
                std::vector<json> answers;
                for (int i = 0; i < 5; ++i) {
                    auto a = client.read_json();
                    if (!a) return fail(name + ": answer " + std::to_string(i) + " missing");
                    answers.push_back(*a);
                }
                const std::string where = name + " round " + std::to_string(r) + ": ";
                if (answers[0]["ok"] != true || answers[0]["result"]["subnet"] != subnet) fail(where + answers[0].dump());
                if (answers[1]["ok"] != false || !contains(answers[1].value("error", ""), "malformed JSON")) {
                    fail(where + answers[1].dump());
                }
                if (answers[2]["ok"] != true || answers[2]["result"][0]["Name"] != name) fail(where + answers[2].dump());
                if (answers[3] != json{{"ok", false}, {"error", "unknown command \"no.such\""}}) fail(where + answers[3].dump());
                if (answers[4] != json{{"ok", true}, {"result", {name}}}) fail(where + answers[4].dump());
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
    expect_state_unchanged();
    EXPECT_TRUE(silent.closed_by_server());
}

// ---------------------------------------------------------------------------
// Networks and containers over the socket, with real traffic

class ControlNetworkTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = DpdockdInstance::start(kBaseYaml);
        ASSERT_TRUE(d.ok()) << d.message();
        d_.emplace(std::move(*d));
    }
    // container.attach's result, or the daemon's error.
    Result<json> attach(const std::string& name, const Netns& ns, json extra = json::object()) {
        return d_->call("container.attach", attach_args(name, ns, std::move(extra)));
    }
    static json attach_args(const std::string& name, const Netns& ns, json extra) {
        extra["name"] = name;
        extra["netns"] = ns.path();
        return extra;
    }
    // container.ps as text, for failure messages.
    std::string ps_text() {
        auto ps = d_->call("container.ps");
        return ps ? ps->dump() : ps.message();
    }

    // Declared before d_: the daemon stops before the namespaces go.
    Netns c1_ = make_netns("c1");
    Netns c2_ = make_netns("c2");
    Netns c3_ = make_netns("c3");
    std::optional<DpdockdInstance> d_;
};

TEST_F(ControlNetworkTest, NetworkLifecycleLikeDocker) {
    // No subnet: the next free /16 of Docker's pool (172.17/16 is the default bridge).
    auto front = d_->call("network.create", {{"name", "front"}});
    ASSERT_TRUE(front.ok()) << front.message();
    EXPECT_EQ((*front)["subnet"], "172.18.0.0/16");
    EXPECT_EQ((*front)["gateway"], "172.18.0.1");

    auto a1 = attach("c1", c1_, {{"network", "front"}});
    ASSERT_TRUE(a1.ok()) << a1.message();
    auto a2 = attach("c2", c2_, {{"network", "front"}});
    ASSERT_TRUE(a2.ok()) << a2.message();
    EXPECT_EQ((*a1)["networks"][0]["ip"], "172.18.0.2/16");
    EXPECT_EQ((*a2)["networks"][0]["ip"], "172.18.0.3/16");
    EXPECT_TRUE(contains(c1_.exec_output("ip -o -4 addr show dev eth0"), "172.18.0.2/16"));
    EXPECT_TRUE(ping(c1_, ip("172.18.0.3"), 3)) << d_->log();
    auto transfer = tcp_transfer(c2_, ip("172.18.0.3"), 5201, c1_, 1u << 20);
    EXPECT_TRUE(transfer.ok()) << transfer.message();

    // What `docker network inspect front` shows (Containers keyed by name: we have no container ids).
    auto inspect = d_->call("network.inspect", {{"names", {"front"}}});
    ASSERT_TRUE(inspect.ok()) << inspect.message();
    ASSERT_EQ(inspect->size(), 1u);
    const json& n = (*inspect)[0];
    EXPECT_EQ(n["Name"], "front");
    EXPECT_EQ(n["Driver"], "bridge");
    EXPECT_EQ(n["Internal"], false);
    EXPECT_EQ(n["IPAM"]["Driver"], "default");
    EXPECT_EQ(n["IPAM"]["Config"], (json::array({{{"Subnet", "172.18.0.0/16"}, {"Gateway", "172.18.0.1"}}})));
    ASSERT_EQ(n["Containers"].size(), 2u);
    EXPECT_EQ(n["Containers"]["c1"]["Name"], "c1");
    EXPECT_EQ(n["Containers"]["c1"]["IPv4Address"], "172.18.0.2/16");
    EXPECT_EQ(n["Containers"]["c1"]["MacAddress"], "02:42:ac:12:00:02");
    EXPECT_EQ(n["Containers"]["c2"]["IPv4Address"], "172.18.0.3/16");
    EXPECT_EQ(n["Containers"]["c2"]["MacAddress"], "02:42:ac:12:00:03");
    auto ls = d_->call("network.ls");
    ASSERT_TRUE(ls.ok());
    ASSERT_EQ(ls->size(), 2u);
    EXPECT_EQ((*ls)[1]["name"], "front");
    EXPECT_EQ((*ls)[1]["containers"], 2);

    // A second network for c1 only: eth1, no default route through it.
    auto back = d_->call("network.create", {{"name", "back"}, {"subnet", "10.99.0.0/24"}});
    ASSERT_TRUE(back.ok()) << back.message();
    auto connected = d_->call("network.connect", {{"network", "back"}, {"container", "c1"}});
    ASSERT_TRUE(connected.ok()) << connected.message();
    EXPECT_EQ(endpoint_of(json::array({*connected}), "c1", "back")["ip"], "10.99.0.2/24");
    EXPECT_EQ(endpoint_of(json::array({*connected}), "c1", "back")["interface"], "eth1");
    EXPECT_TRUE(contains(c1_.exec_output("ip -o -4 addr show dev eth1"), "10.99.0.2/24"));
    EXPECT_TRUE(contains(c1_.exec_output("ip route show default"), "via 172.18.0.1 dev eth0"));
    EXPECT_EQ(refusal(d_->request("network.rm", {{"names", {"back"}}})),
              "network back has active endpoints (container c1)");
    EXPECT_TRUE(ping(c2_, ip("172.18.0.2"), 2)) << "front still carries c1 after connect";

    auto disconnected = d_->call("network.disconnect", {{"network", "back"}, {"container", "c1"}});
    ASSERT_TRUE(disconnected.ok()) << disconnected.message();
    EXPECT_NE(c1_.exec("ip link show eth1 >/dev/null 2>&1"), 0);
    auto back_inspect = d_->call("network.inspect", {{"names", {"back"}}});
    ASSERT_TRUE(back_inspect.ok());
    EXPECT_TRUE((*back_inspect)[0]["Containers"].empty());
    EXPECT_TRUE(ping(c2_, ip("172.18.0.2"), 2)) << "front still carries c1 after disconnect";

    EXPECT_EQ(refusal(d_->request("network.rm", {{"names", {"front"}}})),
              "network front has active endpoints (container c1)");
    ASSERT_TRUE(d_->call("container.detach", {{"name", "c1"}}).ok());
    EXPECT_NE(c1_.exec("ip link show eth0 >/dev/null 2>&1"), 0);
    EXPECT_EQ(refusal(d_->request("network.rm", {{"names", {"front"}}})),
              "network front has active endpoints (container c2)");
    ASSERT_TRUE(d_->call("container.detach", {{"name", "c2"}}).ok());
    auto removed = d_->call("network.rm", {{"names", {"front", "back"}}});
    ASSERT_TRUE(removed.ok()) << removed.message();
    EXPECT_EQ(*removed, (json{"front", "back"}));
    auto ls_after = d_->call("network.ls");
    ASSERT_TRUE(ls_after.ok());
    ASSERT_EQ(ls_after->size(), 1u);
    EXPECT_EQ((*ls_after)[0]["name"], "bridge");
    EXPECT_TRUE(d_->call("container.ps")->empty());
    // The pool's first /16 is free again.
    auto again = d_->call("network.create", {{"name", "again"}});
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ((*again)["subnet"], "172.18.0.0/16");
}

TEST_F(ControlNetworkTest, IpamRangesStaticAddressesAndRelease) {
    // Bad network definitions are refused.
    EXPECT_TRUE(contains(refusal(d_->request("network.create", {{"name", "x"}, {"subnet", "10.98.0.0/24"},
                                                                {"gateway", "10.97.0.1"}})),
                         "gateway 10.97.0.1"));
    EXPECT_TRUE(contains(refusal(d_->request("network.create", {{"name", "x"}, {"subnet", "10.98.0.0/24"},
                                                                {"ip_range", "10.97.0.0/28"}})),
                         "is not inside subnet 10.98.0.0/24"));
    EXPECT_EQ(refusal(d_->request("network.create", {{"name", "x"}, {"ip_range", "10.98.0.8/31"}})),
              "--gateway and --ip-range need --subnet");

    // Two addresses to hand out: 10.98.0.8 and .9.
    auto net = d_->call("network.create", {{"name", "ipam"}, {"subnet", "10.98.0.0/24"}, {"ip_range", "10.98.0.8/31"}});
    ASSERT_TRUE(net.ok()) << net.message();
    auto inspect = d_->call("network.inspect", {{"names", {"ipam"}}});
    ASSERT_TRUE(inspect.ok());
    EXPECT_EQ((*inspect)[0]["IPAM"]["Config"][0]["IPRange"], "10.98.0.8/31");
    auto a1 = attach("c1", c1_, {{"network", "ipam"}});
    ASSERT_TRUE(a1.ok()) << a1.message();
    EXPECT_EQ((*a1)["networks"][0]["ip"], "10.98.0.8/24");
    auto a2 = attach("c2", c2_, {{"network", "ipam"}});
    ASSERT_TRUE(a2.ok()) << a2.message();
    EXPECT_EQ((*a2)["networks"][0]["ip"], "10.98.0.9/24");

    auto before = d_->observable_state();
    ASSERT_TRUE(before.ok());
    const std::vector<std::pair<json, std::string>> refused = {
        {{{"network", "ipam"}}, "has no free address left in 10.98.0.8/31"},
        {{{"network", "ipam"}, {"ip", "10.97.0.5"}}, "ip 10.97.0.5 is outside subnet 10.98.0.0/24"},
        {{{"network", "ipam"}, {"ip", "10.98.0.9"}}, "ip 10.98.0.9 is already used by container 'c2'"},
        {{{"network", "ipam"}, {"ip", "10.98.0.1"}}, "is the gateway, network or broadcast address"},
        {{{"network", "ipam"}, {"ip", "10.98.0.255"}}, "is the gateway, network or broadcast address"},
        {{{"network", "ipam"}, {"mac", "02:42:0a:62:00:08"}}, "already used by container 'c1'"},
    };
    for (const auto& [args, error] : refused) {
        const std::string message = refusal(d_->request("container.attach", attach_args("c3", c3_, args)));
        EXPECT_TRUE(contains(message, error)) << args.dump() << " -> " << message;
        EXPECT_EQ(*d_->observable_state(), *before) << args.dump();
        EXPECT_NE(c3_.exec("ip link show eth0 >/dev/null 2>&1"), 0) << "eth0 left behind by " << args.dump();
    }

    // A static address outside ip_range but inside the subnet is fine (as in Docker).
    auto a3 = attach("c3", c3_, {{"network", "ipam"}, {"ip", "10.98.0.50"}});
    ASSERT_TRUE(a3.ok()) << a3.message();
    EXPECT_TRUE(ping(c3_, ip("10.98.0.8"), 2)) << d_->log();

    // Detach releases the address: the next container gets it.
    ASSERT_TRUE(d_->call("container.detach", {{"name", "c1"}}).ok());
    auto a4 = attach("c4", c1_, {{"network", "ipam"}});
    ASSERT_TRUE(a4.ok()) << a4.message() << "\n" << ps_text();
    EXPECT_EQ((*a4)["networks"][0]["ip"], "10.98.0.8/24");
    EXPECT_EQ((*a4)["networks"][0]["mac"], "02:42:0a:62:00:08");
    EXPECT_TRUE(ping(c2_, ip("10.98.0.8"), 2)) << d_->log();
}

// 200 control operations while two other containers keep a TCP stream going.
TEST_F(ControlNetworkTest, TwoHundredOperationsUnderTrafficKeepTheStreamIntact) {
    ASSERT_TRUE(attach("c1", c1_).ok());
    ASSERT_TRUE(attach("c2", c2_).ok());
    auto before = d_->observable_state();
    ASSERT_TRUE(before.ok());
    auto stream = ContinuousTcpStream::start(direct_flow(c2_, ip("172.17.0.3"), 5202, c1_));
    ASSERT_TRUE(stream.ok()) << stream.message();

    // 50 rounds of 4 operations.
    for (int round = 0; round < 50; ++round) {
        const std::string where = "round " + std::to_string(round);
        auto created = d_->call("network.create", {{"name", "churn"}});
        ASSERT_TRUE(created.ok()) << where << ": " << created.message();
        auto attached = attach("c3", c3_, {{"network", (round % 2 == 0) ? "churn" : "bridge"}});
        ASSERT_TRUE(attached.ok()) << where << ": " << attached.message();
        ASSERT_TRUE(d_->call("container.detach", {{"name", "c3"}}).ok()) << where;
        ASSERT_TRUE(d_->call("network.rm", {{"names", {"churn"}}}).ok()) << where;
    }
    const std::uint64_t verified_during = stream->bytes_verified();
    auto verdict = stream->stop();
    EXPECT_TRUE(verdict.ok()) << verdict.message();
    EXPECT_GT(verified_during, 0u);
    // c1 and c2 were never touched: same ports, same addresses.
    EXPECT_EQ(*d_->observable_state(), *before);
}

// Host-side veth names live in the host's namespace, shared by every daemon
// (and every parallel test run): two daemons with a container "c1" on
// "bridge" must not take each other's interfaces.
TEST_F(ControlNetworkTest, TwoDaemonsWithTheSameContainerNamesKeepTheirOwnInterfaces) {
    Netns other1 = make_netns("o1");
    Netns other2 = make_netns("o2");
    ASSERT_TRUE(attach("c1", c1_).ok());
    ASSERT_TRUE(attach("c2", c2_).ok());
    auto before = d_->observable_state();
    ASSERT_TRUE(before.ok());
    auto other = DpdockdInstance::start(kBaseYaml + "containers:\n" + container_yaml("c1", other1.path(), "[bridge]") +
                                        container_yaml("c2", other2.path(), "[bridge]"));
    ASSERT_TRUE(other.ok()) << other.message();

    EXPECT_EQ(*d_->observable_state(), *before) << d_->log();
    EXPECT_TRUE(ping(c1_, ip("172.17.0.3"), 2)) << d_->log();
    EXPECT_TRUE(ping(other1, ip("172.17.0.3"), 2)) << other->log();
    auto theirs = other->call("container.ps");
    ASSERT_TRUE(theirs.ok());
    EXPECT_NE(endpoint_of(*theirs, "c1", "bridge")["host_interface"],
              endpoint_of((*before)["containers"], "c1", "bridge")["host_interface"]);

    ASSERT_TRUE(other->stop(SIGTERM).ok());
    EXPECT_EQ(*d_->observable_state(), *before) << d_->log();
    EXPECT_TRUE(ping(c1_, ip("172.17.0.3"), 2)) << d_->log();
}

// ---------------------------------------------------------------------------
// config.save -> restart, config.reload

config::ContainerSpec container_spec(const std::string& name, const std::string& netns, const std::string& network) {
    config::ContainerSpec c;
    c.name = name;
    c.netns = netns;
    c.networks.push_back(config::EndpointSpec{});
    c.networks.back().network = network;
    return c;
}

class ControlConfigTest : public ControlNetworkTest {
protected:
    // bridge: c1; app (172.18/16): c1 .2, c2 .3, c3 .4; db (10.96.0.0/24): c2
    // at a static address with a static MAC; spare: empty.
    void build_state() {
        ASSERT_TRUE(d_->call("network.create", {{"name", "app"}}).ok());
        ASSERT_TRUE(d_->call("network.create", {{"name", "db"}, {"subnet", "10.96.0.0/24"}, {"ip_range", "10.96.0.64/26"}})
                        .ok());
        ASSERT_TRUE(d_->call("network.create", {{"name", "spare"}, {"subnet", "10.95.0.0/24"}}).ok());
        ASSERT_TRUE(attach("c1", c1_).ok());
        ASSERT_TRUE(d_->call("network.connect", {{"network", "app"}, {"container", "c1"}}).ok());
        ASSERT_TRUE(attach("c2", c2_, {{"network", "app"}}).ok());
        ASSERT_TRUE(attach("c3", c3_, {{"network", "app"}}).ok());
        auto c2_db = d_->call("network.connect",
                              {{"network", "db"}, {"container", "c2"}, {"ip", "10.96.0.7"}, {"mac", "02:00:00:00:00:07"}});
        ASSERT_TRUE(c2_db.ok()) << c2_db.message();
    }
    // network.ls, network.inspect of every network, container.ps; port ids
    // left out, since DPDK hands them out in attach order, and Created, the
    // time the running daemon made the network.
    json described() {
        auto state = d_->observable_state();
        if (!state) return state.message();
        json names = json::array();
        for (const auto& n : (*state)["networks"]) names.push_back(n["name"]);
        auto inspect = d_->call("network.inspect", {{"names", names}});
        if (!inspect) return inspect.message();
        json out = {{"state", *state}, {"inspect", *inspect}};
        for (auto& c : out["state"]["containers"]) {
            for (auto& ep : c["networks"]) ep.erase("port_id");
        }
        for (auto& n : out["inspect"]) {
            n.erase("Created");  // when this daemon process created it
            for (auto& [name, c] : n["Containers"].items()) c.erase("PortId");
        }
        return out;
    }
};

TEST_F(ControlConfigTest, SavedStateComesBackAfterRestart) {
    build_state();
    const json before = described();
    auto saved = d_->call("config.save");
    ASSERT_TRUE(saved.ok()) << saved.message();
    EXPECT_EQ((*saved)["path"], d_->config_path());

    auto stopped = d_->stop(SIGTERM);
    ASSERT_TRUE(stopped.ok()) << stopped.message();
    EXPECT_NE(c1_.exec("ip link show eth0 >/dev/null 2>&1"), 0);
    auto restarted = d_->restart();
    ASSERT_TRUE(restarted.ok()) << restarted.message();

    EXPECT_EQ(described(), before);
    EXPECT_TRUE(contains(c2_.exec_output("ip -o link show dev eth1"), "02:00:00:00:00:07"));
    EXPECT_TRUE(ping(c1_, ip("172.18.0.3"), 2)) << d_->log();  // c1 -> c2 on app
    auto transfer = tcp_transfer(c3_, ip("172.18.0.4"), 5203, c1_, 1u << 20);
    EXPECT_TRUE(transfer.ok()) << transfer.message();
}

TEST_F(ControlConfigTest, ReloadRefusesBrokenFilesAndAppliesOnlyTheDifference) {
    build_state();
    const std::string saved = d_->dir() + "/saved.yaml";
    ASSERT_TRUE(d_->call("config.save", {{"path", saved}}).ok());
    auto before = d_->observable_state();
    ASSERT_TRUE(before.ok());

    // A syntax error, a key the schema does not know, a rule broken: each named by file:line.
    const std::string broken = d_->dir() + "/broken.yaml";
    const std::vector<std::pair<std::string, std::string>> broken_files = {
        {"networks:\n  - name: a\n    subnet: [\n", "broken.yaml:"},
        {"networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    colour: red\n", "broken.yaml:4"},
        {"networks:\n  - name: a\n    subnet: 10.1.0.0/24\n  - name: b\n    subnet: 10.1.0.0/16\n", "broken.yaml:4"},
    };
    for (const auto& [text, where] : broken_files) {
        std::ofstream(broken) << text;
        const std::string error = refusal(d_->request("config.reload", {{"path", broken}}));
        EXPECT_TRUE(contains(error, where)) << error;
        EXPECT_EQ(*d_->observable_state(), *before);
    }
    EXPECT_TRUE(contains(refusal(d_->request("config.reload", {{"path", d_->dir() + "/missing.yaml"}})),
                         "missing.yaml"));

    // A file whose new container cannot be attached: refused, and rolled back whole.
    auto model = config::load_file(saved);
    ASSERT_TRUE(model.ok()) << model.message();
    config::Deployment failing = *model;
    std::erase_if(failing.networks, [](const auto& n) { return n.name == "spare"; });
    failing.containers.push_back(container_spec("ghost", "/run/netns/dpdock-no-such-ns", "app"));
    ASSERT_TRUE(config::save_atomically(failing, broken).ok());
    EXPECT_TRUE(contains(refusal(d_->request("config.reload", {{"path", broken}})), "ghost"));
    EXPECT_EQ(*d_->observable_state(), *before);

    // Settings the workers were started with cannot change at run time: refused by name.
    using Change = void (*)(config::DataplaneSpec&);
    for (auto [change, key] : {std::pair<Change, const char*>{[](auto& dp) { dp.icmp_errors_per_s += 1; },
                                                              "dataplane.icmp-errors-per-second"},
                               std::pair<Change, const char*>{[](auto& dp) { dp.icmp_errors_burst += 1; },
                                                              "dataplane.icmp-errors-burst"},
                               std::pair<Change, const char*>{[](auto& dp) { dp.spread_flows = !dp.spread_flows; },
                                                              "dataplane.spread-flows"}}) {
        config::Deployment restarting = *model;
        change(restarting.dataplane);
        ASSERT_TRUE(config::save_atomically(restarting, broken).ok());
        const std::string error = refusal(d_->request("config.reload", {{"path", broken}}));
        EXPECT_TRUE(contains(error, key) && contains(error, "cannot change")) << error;
        EXPECT_EQ(*d_->observable_state(), *before);
    }

    // The valid change: c4 joins app, spare goes. The stream c3 -> c1 over app
    // runs throughout; nothing else is touched.
    Netns c4 = make_netns("c4");
    config::Deployment changed = *model;
    std::erase_if(changed.networks, [](const auto& n) { return n.name == "spare"; });
    changed.containers.push_back(container_spec("c4", c4.path(), "app"));
    const std::string changed_path = d_->dir() + "/changed.yaml";
    ASSERT_TRUE(config::save_atomically(changed, changed_path).ok());
    auto stream = ContinuousTcpStream::start(direct_flow(c3_, ip("172.18.0.4"), 5204, c1_));
    ASSERT_TRUE(stream.ok()) << stream.message();
    auto reloaded = d_->call("config.reload", {{"path", changed_path}});
    ASSERT_TRUE(reloaded.ok()) << reloaded.message();
    EXPECT_TRUE(ping(c4, ip("172.18.0.2"), 2)) << d_->log();
    auto verdict = stream->stop();
    EXPECT_TRUE(verdict.ok()) << verdict.message();

    auto after = d_->observable_state();
    ASSERT_TRUE(after.ok());
    json expected = {{"networks", json::array()}, {"containers", (*before)["containers"]}};
    for (json n : (*before)["networks"]) {
        if (n["name"] == "app") n["containers"] = 4;
        if (n["name"] != "spare") expected["networks"].push_back(n);
    }
    ASSERT_EQ((*after)["containers"].size(), 4u);
    const json c4_entry = (*after)["containers"][3];
    EXPECT_EQ(c4_entry["name"], "c4");
    EXPECT_EQ(c4_entry["networks"][0]["ip"], "172.18.0.5/16");
    expected["containers"].push_back(c4_entry);
    EXPECT_EQ(*after, expected);  // c1..c3 keep their ports (port ids): not re-attached
}

// Members of --group are held to --allow-driver and --save-dir; root is not
// (issue 14 item 4). The member is a forked child as uid 65534 in the group.
std::string request_as_group_member(const std::string& socket_path, gid_t group, const json& request) {
    const std::string line = request.dump() + "\n";
    int fds[2];
    if (pipe(fds) != 0) return "pipe failed";
    const pid_t pid = fork();
    if (pid == 0) {
        // Only async-signal-safe calls: the test process has other threads.
        close(fds[0]);
        if (setgroups(0, nullptr) != 0 || setgid(group) != 0 || setuid(65534) != 0) _exit(10);
        const int fd = connect_unix(socket_path);
        if (fd < 0) _exit(11);
        if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) _exit(12);
        char buffer[4096];
        ssize_t n;
        while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
            if (write(fds[1], buffer, static_cast<std::size_t>(n)) != n) _exit(13);
            if (std::memchr(buffer, '\n', static_cast<std::size_t>(n)) != nullptr) break;
        }
        _exit(0);
    }
    close(fds[1]);
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0) answer.append(buffer, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed: " + std::to_string(status);
    return answer;
}

TEST(ControlAccessPolicy, GroupMembersGetOnlyWhatTheOperatorAllowed) {
    constexpr gid_t kGroup = 4242;
    const std::string saves = "/tmp/dpdock-it-saves-" + std::to_string(getpid());
    std::filesystem::create_directories(saves);
    auto d = DpdockdInstance::start(kBaseYaml, {"--group", std::to_string(kGroup), "--allow-driver", "net_null",
                                                "--save-dir", saves});
    ASSERT_TRUE(d.ok()) << d.message();
    auto member = [&](const std::string& cmd, const json& args) {
        const std::string answer = request_as_group_member(d->socket_path(), kGroup, {{"cmd", cmd}, {"args", args}});
        return json::parse(answer, nullptr, false);
    };
    // Refused: a driver the operator did not allow, a path outside the save directory.
    const json pcap = member("uplink.set", {{"devargs", "net_pcap0,tx_pcap=" + saves + "/x.pcap"},
                                            {"address", "192.0.2.2/24"},
                                            {"gateway", "192.0.2.1"}});
    EXPECT_EQ(pcap["ok"], false) << pcap.dump();
    EXPECT_TRUE(contains(pcap.value("error", ""), "only root may use this driver")) << pcap.dump();
    const json outside = member("config.save", {{"path", d->dir() + "/outside.yaml"}});
    EXPECT_EQ(outside["ok"], false) << outside.dump();
    EXPECT_TRUE(contains(outside.value("error", ""), "is outside " + saves)) << outside.dump();
    EXPECT_FALSE(std::filesystem::exists(d->dir() + "/outside.yaml"));
    // Allowed: the save directory; and root anywhere.
    const json inside = member("config.save", {{"path", saves + "/mine.yaml"}});
    EXPECT_EQ(inside["ok"], true) << inside.dump();
    EXPECT_TRUE(std::filesystem::exists(saves + "/mine.yaml"));
    const json reload = member("config.reload", {{"path", saves + "/mine.yaml"}});
    EXPECT_EQ(reload["ok"], true) << reload.dump();
    EXPECT_TRUE(d->call("config.save", {{"path", d->dir() + "/root.yaml"}}).ok());
    std::filesystem::remove_all(saves);
}

// A reload that re-creates an endpoint under the same veth name (its address
// changed; the host-side name depends only on container, network and netns):
// the old veth's RTM_DELLINK is read after the new veth exists and must not
// detach it (issue 14 item 7: the link watcher matched names).
TEST(ControlLinkWatch, ReloadThatRecreatesAnEndpointKeepsIt) {
    Netns c1 = make_netns("c1");
    const auto yaml = [&](const char* address) {
        return kBaseYaml + "containers:\n  - name: c1\n    netns: " + c1.path() +
               "\n    networks: [{name: bridge, ip: " + address + "}]\n";
    };
    auto d = DpdockdInstance::start(yaml("172.17.0.5"));
    ASSERT_TRUE(d.ok()) << d.message();
    const std::string changed = d->dir() + "/changed.yaml";
    std::ofstream(changed) << yaml("172.17.0.6");
    auto reloaded = d->call("config.reload", {{"path", changed}});
    ASSERT_TRUE(reloaded.ok()) << reloaded.message();
    // The deletion is read on a later turn of the daemon's loop: give it a second.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < deadline) {
        auto ps = d->call("container.ps");
        ASSERT_TRUE(ps.ok()) << ps.message();
        const json ep = endpoint_of(*ps, "c1", "bridge");
        ASSERT_TRUE(ep.is_object()) << "c1 was detached: " << ps->dump() << "\n" << d->log();
        ASSERT_EQ(ep.value("ip", ""), "172.17.0.6/16") << ps->dump();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(ping(c1, ip("172.17.0.1"), 2)) << d->log();
    EXPECT_FALSE(contains(d->log(), "was deleted")) << d->log();
}

}  // namespace
}  // namespace dpdock::test
