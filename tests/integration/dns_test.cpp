// The embedded DNS end to end: real resolvers (dig, getent) in container
// namespaces ask the gateway of their network; dpdockd answers container
// names, aliases, NAME.NETWORK and PTR from its model, forwards the rest to an
// upstream server (dnsmasq on the host's loopback, where the DNS thread's
// kernel socket reaches it), and answers SERVFAIL when the upstream is down.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/dig.hpp"
#include "tests/support/dns_upstream.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

class DnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        static int serial = 0;
        upstream_port_ = 20000 + static_cast<int>((getpid() * 16 + serial++) % 20000);
        const std::string yaml =
            "dataplane:\n  idle-sleep-us: 20\n"
            "dns:\n  servers: [127.0.0.1]\n  upstream-port: " + std::to_string(upstream_port_) + "\n"
            "networks:\n"
            "  - name: app\n    subnet: 10.61.0.0/24\n"
            "  - name: other\n    subnet: 10.62.0.0/24\n"
            "  - name: priv\n    subnet: 10.63.0.0/24\n    internal: true\n"
            "containers:\n"
            "  - name: db\n    netns: " + db_.path() + "\n"
            "    networks: [{name: app, ip: 10.61.0.10, aliases: [postgres, pg]}]\n"
            "  - name: db2\n    netns: " + db2_.path() + "\n"
            "    networks: [{name: app, ip: 10.61.0.11, aliases: [pg]}]\n"
            "  - name: web\n    netns: " + web_.path() + "\n"
            "    networks: [{name: app, ip: 10.61.0.20}]\n"
            "  - name: lone\n    netns: " + lone_.path() + "\n"
            "    networks: [{name: other, ip: 10.62.0.10}]\n"
            "  - name: sec\n    netns: " + sec_.path() + "\n"
            "    networks: [{name: priv, ip: 10.63.0.10}]\n"
            "  - name: old\n    netns: " + old_.path() + "\n    networks: [bridge]\n";
        auto d = DpdockdInstance::start(yaml);
        ASSERT_TRUE(d.ok()) << d.message();
        d_.emplace(std::move(*d));
    }
    void start_upstream() {
        auto p = start_dns_upstream("", upstream_port_, d_->dir() + "/dnsmasq.log");
        ASSERT_TRUE(p.ok()) << p.message();
        upstream_.emplace(std::move(*p));
    }

    Netns db_ = make_netns("dnsdb");
    Netns db2_ = make_netns("dnsdb2");
    Netns web_ = make_netns("dnsweb");
    Netns lone_ = make_netns("dnslone");
    Netns sec_ = make_netns("dnssec");
    Netns old_ = make_netns("dnsold");
    int upstream_port_ = 0;
    std::optional<DpdockdInstance> d_;
    std::optional<ChildProcess> upstream_;
};

TEST_F(DnsTest, ContainerNamesAliasesAndNetworkQualifiedNames) {
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "db"), std::multiset<std::string>{"10.61.0.10"}) << d_->log();
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "DB.App"), std::multiset<std::string>{"10.61.0.10"});
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "postgres"), std::multiset<std::string>{"10.61.0.10"});
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "pg"), (std::multiset<std::string>{"10.61.0.10", "10.61.0.11"}));
    // TTL 600, authoritative.
    const std::string full = dig(web_, "10.61.0.1", "+noall +answer db");
    EXPECT_NE(full.find("600\tIN\tA\t10.61.0.10"), std::string::npos) << full;
    // A shared alias: both addresses, the first one rotates between queries.
    std::set<std::string> firsts;
    for (int i = 0; i < 4; ++i) {
        const std::string a = web_.exec_output("dig +time=2 +tries=1 +short @10.61.0.1 pg | head -1");
        firsts.insert(a);
    }
    EXPECT_EQ(firsts.size(), 2u);
    // AAAA of a known name: NOERROR without an answer (not NXDOMAIN).
    const std::string aaaa = dig(web_, "10.61.0.1", "AAAA db");
    EXPECT_NE(aaaa.find("status: NOERROR"), std::string::npos) << aaaa;
    EXPECT_NE(aaaa.find("ANSWER: 0"), std::string::npos) << aaaa;
    // The system resolver through the resolv.conf dpdock wrote for the namespace.
    EXPECT_NE(web_.exec_output("getent hosts db"), "") << web_.exec_output("cat /etc/resolv.conf");
    EXPECT_EQ(web_.exec_output("getent hosts postgres | cut -d' ' -f1"), "10.61.0.10\n");
    const std::string conf = web_.exec_output("cat /etc/resolv.conf");
    EXPECT_NE(conf.find("nameserver 10.61.0.1"), std::string::npos) << conf;
    EXPECT_NE(conf.find("options ndots:0"), std::string::npos) << conf;
}

TEST_F(DnsTest, PtrForContainerAddresses) {
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "-x 10.61.0.10"), std::multiset<std::string>{"db.app."}) << d_->log();
}

TEST_F(DnsTest, NamesAreIsolatedBetweenNetworks) {
    start_upstream();  // knows none of these names: a quick REFUSED, not a timeout
    // lone is on `other`: db is not its to know; without an upstream answer it gets no address.
    EXPECT_TRUE(short_answer(lone_, "10.62.0.1", "db").empty());
    EXPECT_TRUE(short_answer(web_, "10.61.0.1", "lone").empty());
    EXPECT_TRUE(short_answer(lone_, "10.62.0.1", "-x 10.61.0.10").empty());
    EXPECT_EQ(short_answer(lone_, "10.62.0.1", "lone"), std::multiset<std::string>{"10.62.0.10"});
}

TEST_F(DnsTest, DefaultBridgeNamesAreNotResolved) {
    start_upstream();
    EXPECT_TRUE(short_answer(web_, "10.61.0.1", "old").empty());
    // Nor does the default bridge's gateway answer DNS at all (Docker's rule), and no resolv.conf was written.
    EXPECT_NE(old_.exec_output("dig +time=1 +tries=1 @172.17.0.1 web 2>&1").find("timed out"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + old_.name() + "/resolv.conf"));
}

TEST_F(DnsTest, DetachRemovesTheNameAtOnce) {
    start_upstream();  // the name, gone, is then asked upstream: a quick REFUSED, not a timeout
    ASSERT_EQ(short_answer(web_, "10.61.0.1", "db"), std::multiset<std::string>{"10.61.0.10"}) << d_->log();
    d_->cli_expect("detach db");
    const std::string after = dig(web_, "10.61.0.1", "db");
    EXPECT_EQ(after.find("10.61.0.10"), std::string::npos) << after;
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "pg"), std::multiset<std::string>{"10.61.0.11"});
    EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + db_.name() + "/resolv.conf"));
    EXPECT_TRUE(std::filesystem::exists("/etc/netns/" + web_.name() + "/resolv.conf"));
}

TEST_F(DnsTest, AttachWithAliasFromTheCli) {
    auto extra = make_netns("dnsextra");
    d_->cli_expect("attach --name cache --netns " + extra.path() + " --network app --ip 10.61.0.30 --alias redis");
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "redis"), std::multiset<std::string>{"10.61.0.30"}) << d_->log();
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "cache.app"), std::multiset<std::string>{"10.61.0.30"});
    d_->cli_expect("detach cache");
}

TEST_F(DnsTest, OtherNamesAreForwardedUpstream) {
    start_upstream();
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "www.example.test"), std::multiset<std::string>{"192.0.2.7"})
        << d_->log();
    EXPECT_NE(web_.exec_output("getent hosts www.example.test"), "");
}

TEST_F(DnsTest, ServfailWhenTheUpstreamIsDown) {
    const std::string out = web_.exec_output("dig +time=8 +tries=1 @10.61.0.1 www.example.test 2>&1");
    EXPECT_NE(out.find("status: SERVFAIL"), std::string::npos) << out;
}

TEST_F(DnsTest, InternalNetworkAnswersNamesButForwardsNothing) {
    start_upstream();
    EXPECT_EQ(short_answer(sec_, "10.63.0.1", "sec"), std::multiset<std::string>{"10.63.0.10"}) << d_->log();
    const std::string out = dig(sec_, "10.63.0.1", "www.example.test");
    EXPECT_NE(out.find("status: REFUSED"), std::string::npos) << out;
}

TEST_F(DnsTest, MalformedQueriesAreCountedAndDropped) {
    // Garbage to port 53, then a query still gets its answer.
    web_.exec("printf 'not a dns message at all' | timeout 1 socat - UDP:10.61.0.1:53 >/dev/null 2>&1");
    web_.exec("head -c 3 /dev/zero | timeout 1 socat - UDP:10.61.0.1:53 >/dev/null 2>&1");
    EXPECT_EQ(short_answer(web_, "10.61.0.1", "db"), std::multiset<std::string>{"10.61.0.10"}) << d_->log();
    auto stats = d_->call("stats.show");
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_EQ((*stats)["dns"]["malformed"].get<std::uint64_t>(), 2u) << stats->dump();
    EXPECT_NE(d_->cli_expect("stats").find("malformed 2"), std::string::npos);
}

TEST_F(DnsTest, DnsCommandListsRecordsWithHits) {
    ASSERT_EQ(short_answer(web_, "10.61.0.1", "postgres"), std::multiset<std::string>{"10.61.0.10"}) << d_->log();
    short_answer(web_, "10.61.0.1", "postgres");
    const std::string out = d_->cli_expect("dns app");
    EXPECT_NE(out.find("postgres"), std::string::npos) << out;
    auto shown = d_->call("dns.show", {{"network", "app"}});
    ASSERT_TRUE(shown.ok()) << shown.message();
    bool found = false;
    for (const auto& r : (*shown)["records"]) {
        if (r["name"] == "postgres") {
            found = true;
            EXPECT_EQ(r["ip"], "10.61.0.10");
            EXPECT_EQ(r["hits"], 2);
        }
    }
    EXPECT_TRUE(found) << shown->dump();
    EXPECT_FALSE(d_->call("dns.show", {{"network", "nope"}}).ok());
}

}  // namespace
}  // namespace dpdock::test
