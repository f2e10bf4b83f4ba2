// DNS over TCP at the gateways (issue 17): dpdockd runs inside a `host`
// namespace with the exception path on, so TCP to a gateway reaches its
// kernel through dpdock0 and the DNS thread's listener there answers. Real
// `dig +tcp` in container namespaces: names, several queries on one
// connection, forwarding upstream, isolation between networks; a UDP answer
// too large for 512 bytes comes back truncated and dig and glibc's resolver
// retry over TCP. Without the exception path a TCP query goes unanswered.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>


#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/dig.hpp"
#include "tests/support/dns_upstream.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::test {
namespace {

// A 63-character alias (the longest label) shared by 28 containers: 12 + 65 +
// 4 bytes of header and question and 16 per address make more than 512.
const std::string kLongAlias = std::string(63, 'a');
constexpr int kCrowd = 28;

class DnsTcpTest : public ::testing::Test {
protected:
    void start(bool exception, int crowd = 0) {
        static int serial = 0;
        upstream_port_ = 20000 + static_cast<int>((getpid() * 16 + serial++) % 20000);
        std::string yaml = "dataplane:\n  idle-sleep-us: 20\n" +
                           std::string(exception ? "exception:\n  enabled: true\n" : "") +
                           "dns:\n  servers: [127.0.0.1]\n  upstream-port: " + std::to_string(upstream_port_) + "\n"
                           "networks:\n"
                           "  - name: app\n    subnet: 10.64.0.0/24\n"
                           "  - name: other\n    subnet: 10.65.0.0/24\n"
                           "containers:\n"
                           "  - name: db\n    netns: " + db_.path() + "\n"
                           "    networks: [{name: app, ip: 10.64.0.10, aliases: [postgres]}]\n"
                           "  - name: web\n    netns: " + web_.path() + "\n"
                           "    networks: [{name: app, ip: 10.64.0.20}]\n"
                           "  - name: lone\n    netns: " + lone_.path() + "\n"
                           "    networks: [{name: other, ip: 10.65.0.10}]\n";
        for (int i = 0; i < crowd; ++i) {
            crowd_.push_back(make_netns("dnscrowd"));
            yaml += "  - name: crowd" + std::to_string(i) + "\n    netns: " + crowd_.back().path() +
                    "\n    networks: [{name: app, ip: 10.64.0." + std::to_string(100 + i) + ", aliases: [" +
                    kLongAlias + "]}]\n";
        }
        auto d = DpdockdInstance::start_in(host_, yaml);
        ASSERT_TRUE(d.ok()) << d.message();
        d_.emplace(std::move(*d));
    }
    // dnsmasq on the host namespace's loopback: where the DNS thread forwards.
    void start_upstream() {
        ASSERT_EQ(host_.exec("ip link set lo up"), 0);
        auto p = start_dns_upstream(host_.name(), upstream_port_, d_->dir() + "/dnsmasq.log");
        ASSERT_TRUE(p.ok()) << p.message();
        upstream_.emplace(std::move(*p));
    }
    std::uint64_t dns_counter(const std::string& name) {
        auto stats = d_->call("stats.show");
        EXPECT_TRUE(stats.ok()) << stats.message();
        return stats.ok() ? (*stats)["dns"][name].get<std::uint64_t>() : 0;
    }

    Netns host_ = make_netns("dnsh");
    Netns db_ = make_netns("dnstdb");
    Netns web_ = make_netns("dnstweb");
    Netns lone_ = make_netns("dnstlone");
    std::vector<Netns> crowd_;
    int upstream_port_ = 0;
    std::optional<DpdockdInstance> d_;
    std::optional<ChildProcess> upstream_;
};

TEST_F(DnsTcpTest, TcpQueriesAreAnsweredAtTheGateway) {
    start(true);
    start_upstream();
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "+tcp db"), std::multiset<std::string>{"10.64.0.10"}) << d_->log();
    const std::string full = dig(web_, "10.64.0.1", "+tcp +noall +answer postgres");
    EXPECT_NE(full.find("600\tIN\tA\t10.64.0.10"), std::string::npos) << full;
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "+tcp -x 10.64.0.10"), std::multiset<std::string>{"db.app."});
    // Three questions on one connection (+keepopen), then forwarded upstream over TCP.
    const std::uint64_t connections = dns_counter("tcp_connections");
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "+tcp +keepopen db postgres web.app"),
              (std::multiset<std::string>{"10.64.0.10", "10.64.0.10", "10.64.0.20"}));
    EXPECT_EQ(dns_counter("tcp_connections"), connections + 1);
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "+tcp www.example.test"), std::multiset<std::string>{"192.0.2.7"});
    // Isolation: lone, on `other`, asks its own gateway for db (unknown to it: upstream says no).
    EXPECT_TRUE(short_answer(lone_, "10.65.0.1", "+tcp db").empty());
    EXPECT_EQ(short_answer(lone_, "10.65.0.1", "+tcp lone"), std::multiset<std::string>{"10.65.0.10"});
    // ... nor learns it through app's gateway: routed there, it is not in app's subnet.
    EXPECT_TRUE(short_answer(lone_, "10.64.0.1", "+time=1 +tcp db").empty());
    EXPECT_GE(dns_counter("tcp_queries"), 8u);
    EXPECT_EQ(dns_counter("malformed"), 0u);
}

TEST_F(DnsTcpTest, ATruncatedUdpAnswerIsRetriedOverTcp) {
    start(true, kCrowd);
    // The container's very first packet: before, with the exception path on,
    // the kernel answered its ARP for the gateway on the veth's host end (the
    // address is on dpdock0) and this query went to the kernel: refused.
    const std::string out = dig(web_, "10.64.0.1", kLongAlias);  // UDP first
    EXPECT_NE(out.find("Truncated, retrying in TCP mode"), std::string::npos) << out << d_->log();
    EXPECT_NE(out.find("ANSWER: " + std::to_string(kCrowd)), std::string::npos) << out;
    // glibc's resolver (no EDNS0: 512 bytes) through the resolv.conf dpdock wrote.
    const std::string all = web_.exec_output("getent ahostsv4 " + kLongAlias + " | cut -d' ' -f1 | sort -u | wc -l");
    EXPECT_EQ(all, std::to_string(kCrowd) + "\n") << web_.exec_output("getent ahostsv4 " + kLongAlias);
    EXPECT_GE(dns_counter("tcp_queries"), 2u);
}

// Without the exception path no TCP reaches a listener: the SYN is dropped
// (not_served), dig +tcp times out, and dns.show says tcp: false.
TEST_F(DnsTcpTest, WithoutTheExceptionPathTcpQueriesGoUnanswered) {
    start(false);
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "db"), std::multiset<std::string>{"10.64.0.10"}) << d_->log();
    const std::string out = dig(web_, "10.64.0.1", "+time=1 +tcp db");
    EXPECT_EQ(out.find("10.64.0.10"), std::string::npos) << out;
    auto shown = d_->call("dns.show", {{"network", "app"}});
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_EQ((*shown)["tcp"], false);
    EXPECT_EQ(dns_counter("tcp_queries"), 0u);
}

// A gateway's TCP port held by another socket when dpdockd starts: the DNS
// thread logs it and binds once the port is free, within seconds (before, only
// at the next change of the name table, so TCP queries went unanswered).
TEST_F(DnsTcpTest, AListenerWhosePortWasTakenBindsWhenItIsFreed) {
    auto blocker = ChildProcess::spawn(
        {"ip", "netns", "exec", host_.name(), "python3", "-c",
         "import socket, time\n"
         "s = socket.socket()\n"
         "s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: the address is not there yet\n"
         "s.bind(('10.64.0.1', 53)); s.listen(); print('held', flush=True); time.sleep(60)\n"},
        "/tmp/dnstcp-blocker-" + std::to_string(getpid()) + ".log");
    ASSERT_TRUE(blocker.ok()) << blocker.message();
    const auto held = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (host_.exec("ss -Hltn 'sport = :53' | grep -q 10.64.0.1") != 0 && std::chrono::steady_clock::now() < held) {
        usleep(50000);
    }
    start(true);
    start_upstream();
    const auto logged = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (d_->log().find("cannot listen on tcp 10.64.0.1:53") == std::string::npos &&
           std::chrono::steady_clock::now() < logged) {
        usleep(50000);
    }
    ASSERT_NE(d_->log().find("cannot listen on tcp 10.64.0.1:53"), std::string::npos) << d_->log();
    ASSERT_TRUE(blocker->send_signal(SIGKILL).ok());
    ASSERT_TRUE(blocker->wait_for_exit(std::chrono::seconds(5)).ok());
    usleep(2500000);  // two retry periods
    EXPECT_EQ(short_answer(web_, "10.64.0.1", "+tcp db"), std::multiset<std::string>{"10.64.0.10"}) << d_->log();
}

}  // namespace
}  // namespace dpdock::test
