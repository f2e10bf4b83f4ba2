// dpdock-cni driven exactly as a container runtime drives it: exec'd with the
// CNI environment and the network configuration on stdin, against a real
// dpdockd. Two namespaces ADDed on a dpdock network ping each other, a
// runtimeConfig.portMappings entry is reached from ext behind the uplink
// (bytes compared), CHECK passes, DEL removes and DEL again succeeds, and
// every wrong input gets the CNI error JSON with its code and changes nothing.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

using nlohmann::json;

struct CniRun {
    int rc = -1;
    std::string out;  // stdout: the result or the error JSON
    json parsed() const { return json::parse(out, nullptr, false); }
};

const Ipv4Address kA = *Ipv4Address::parse("10.88.5.2");
const Ipv4Address kB = *Ipv4Address::parse("10.88.5.3");

class CniPluginTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto outside = make_outside("192.168.83", "cni");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        a_.emplace(make_netns("cnia"));
        b_.emplace(make_netns("cnib"));
        auto d = DpdockdInstance::start("dataplane:\n  workers: 1\n  idle-sleep-us: 20\n" + outside_->uplink_yaml() +
                                        "networks:\n  - name: cninet\n    subnet: 10.88.5.0/24\n");
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
    }

    // The netconf a runtime hands the plugin; `extra` adds top-level keys (",\"k\":v").
    std::string netconf(const std::string& extra = "") const {
        return R"({"cniVersion":"1.0.0","name":"cninet","type":"dpdock","socket":")" + daemon_->socket_path() +
               "\"" + extra + "}";
    }

    // Execs dpdock-cni with CNI_COMMAND=command and the given environment and stdin.
    CniRun cni(const std::string& command, const std::string& id, const std::string& netns, const std::string& stdin_text,
               const std::string& ifname = "eth0") const {
        const std::string out_file = daemon_->dir() + "/cni.out";
        std::string env = "CNI_COMMAND=" + command + " CNI_CONTAINERID=" + shell_quote(id) + " CNI_IFNAME=" + ifname +
                          " CNI_PATH=/usr/lib/cni";
        if (!netns.empty()) env += " CNI_NETNS=" + netns;
        CniRun run;
        run.rc = shell("printf '%s' " + shell_quote(stdin_text) + " | env -i " + env + " " DPDOCK_CNI_PATH " > " +
                       out_file);
        run.out = shell_output("cat " + out_file);
        return run;
    }

    // Runs `command` with bad input and checks the error JSON's code and that dpdockd's state did not move.
    void expect_refused(const std::string& what, int code, const CniRun& run, const json& before) const {
        EXPECT_EQ(run.rc, 1) << what << ": " << run.out;
        const json e = run.parsed();
        ASSERT_TRUE(e.is_object()) << what << ": " << run.out;
        EXPECT_EQ(e.value("cniVersion", ""), "1.0.0") << what;
        EXPECT_EQ(e.value("code", -1), code) << what << ": " << run.out;
        EXPECT_FALSE(e.value("msg", "").empty()) << what;
        auto after = daemon_->observable_state();
        ASSERT_TRUE(after.ok()) << after.message();
        EXPECT_EQ(*after, before) << what;
    }

    std::optional<Outside> outside_;
    std::optional<Netns> a_, b_;
    std::optional<DpdockdInstance> daemon_;
};

TEST_F(CniPluginTest, AddCheckDelAsARuntimeDoes) {
    const auto version = cni("VERSION", "", "", R"({"cniVersion":"1.0.0"})");
    ASSERT_EQ(version.rc, 0) << version.out;
    EXPECT_EQ(version.parsed()["supportedVersions"], json::array({"1.0.0"}));

    const std::string ports = R"(,"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})";
    const auto add_a = cni("ADD", "ctr-a", "/var/run/netns/" + a_->name(), netconf(ports));
    ASSERT_EQ(add_a.rc, 0) << add_a.out << "\n" << daemon_->log();
    const json result = add_a.parsed();
    EXPECT_EQ(result["cniVersion"], "1.0.0");
    EXPECT_EQ(result["interfaces"][0]["name"], "eth0");
    EXPECT_EQ(result["interfaces"][0]["sandbox"], a_->path());
    EXPECT_EQ(result["interfaces"][0]["mac"], "02:42:0a:58:05:02");
    EXPECT_EQ(result["ips"], json::parse(R"([{"address":"10.88.5.2/24","gateway":"10.88.5.1","interface":0}])"));
    EXPECT_EQ(result["routes"], json::parse(R"([{"dst":"0.0.0.0/0","gw":"10.88.5.1"}])"));
    // dpdock's embedded DNS answers on cninet: its gateway is the nameserver (before: the netconf's, empty).
    EXPECT_EQ(result["dns"]["nameservers"], json::array({"10.88.5.1"})) << result.dump();
    EXPECT_EQ(result["dns"]["options"], json::array({"ndots:0"}));
    // The interface the result names is really there, with that address.
    EXPECT_NE(a_->exec_output("ip -4 addr show eth0").find("10.88.5.2/24"), std::string::npos);

    const auto add_b = cni("ADD", "ctr-b", b_->path(),
                           netconf(R"(,"dns":{"nameservers":["192.0.2.53"],"search":["corp.test"],"options":["ndots:2"]})"));
    ASSERT_EQ(add_b.rc, 0) << add_b.out;
    EXPECT_EQ(add_b.parsed()["ips"][0]["address"], "10.88.5.3/24");
    EXPECT_EQ(add_b.parsed()["dns"], json::parse(R"({"nameservers":["10.88.5.1"],"search":["corp.test"],"options":["ndots:2"]})"));

    EXPECT_TRUE(ping(*a_, kB)) << daemon_->log();
    EXPECT_TRUE(ping(*b_, kA));
    FlowSpec published = direct_flow(*a_, kA, 80, outside_->ns);
    published.connect_ip = outside_->host_ip;
    published.connect_port = 8080;
    auto tcp = tcp_transfer(published, 256 * 1024);
    EXPECT_TRUE(tcp.ok()) << tcp.message() << "\n" << daemon_->log();

    const auto check_a = cni("CHECK", "ctr-a", a_->path(), netconf());
    EXPECT_EQ(check_a.rc, 0) << check_a.out;
    EXPECT_EQ(check_a.out, "");

    auto before = daemon_->observable_state();
    ASSERT_TRUE(before.ok()) << before.message();
    expect_refused("ADD twice", 100, cni("ADD", "ctr-a", a_->path(), netconf()), *before);
    expect_refused("no CNI_NETNS", 4, cni("ADD", "ctr-c", "", netconf()), *before);
    expect_refused("old cniVersion", 1,
                   cni("ADD", "ctr-c", a_->path(), R"({"cniVersion":"0.2.0","name":"cninet","type":"dpdock"})"), *before);
    expect_refused("not JSON", 6, cni("ADD", "ctr-c", a_->path(), "{\"cniVersion\":"), *before);
    expect_refused("sctp port", 7,
                   cni("ADD", "ctr-c", a_->path(),
                       netconf(R"(,"runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":1,"protocol":"sctp"}]})")),
                   *before);
    expect_refused("taken host port", 100, cni("ADD", "ctr-c", outside_->ns.path(), netconf(ports)), *before);
    expect_refused("unknown network", 100,
                   cni("ADD", "ctr-c", outside_->ns.path(), netconf(R"(,"network":"nosuchnet")")), *before);
    expect_refused("interface name", 100, cni("ADD", "ctr-c", outside_->ns.path(), netconf(), "net1"), *before);
    expect_refused("CHECK wrong namespace", 100, cni("CHECK", "ctr-a", b_->path(), netconf()), *before);
    expect_refused("CHECK unknown container", 3, cni("CHECK", "ctr-c", b_->path(), netconf()), *before);

    // DEL removes the endpoint, its interface and its DNAT rule; DEL again (no netns either) succeeds.
    const auto del_a = cni("DEL", "ctr-a", a_->path(), netconf(ports));
    EXPECT_EQ(del_a.rc, 0) << del_a.out;
    EXPECT_EQ(a_->exec("ip link show eth0 >/dev/null 2>&1"), 1);
    auto rules = daemon_->call("nat.rules");
    ASSERT_TRUE(rules.ok()) << rules.message();
    EXPECT_EQ(rules->dump().find("DNAT"), std::string::npos) << rules->dump();
    const auto del_again = cni("DEL", "ctr-a", "", netconf(ports));
    EXPECT_EQ(del_again.rc, 0) << del_again.out;
    EXPECT_EQ(cni("CHECK", "ctr-a", a_->path(), netconf()).parsed().value("code", -1), 3);
    EXPECT_EQ(cni("DEL", "ctr-b", b_->path(), netconf()).rc, 0);
    auto ps = daemon_->call("container.ps");
    ASSERT_TRUE(ps.ok()) << ps.message();
    EXPECT_EQ(*ps, json::array());
}

}  // namespace
}  // namespace dpdock::test
