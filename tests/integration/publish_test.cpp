// Published ports end to end: an `ext` namespace on the uplink's subnet is
// the outside world; containers publish ports at the host address. TCP and
// UDP from ext reach the container's ports (bytes compared both ways, the
// server sees ext as its client), a range maps port by port, a dynamic port
// is read back with the real `dpdock port` and used, containers reach the
// published port at the host address (hairpin, the publisher included), a
// 10,000-port range carries traffic, a conflicting publication is refused
// with the state unchanged, and `dpdock nat` counts per rule.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kGateway = *Ipv4Address::parse("172.17.0.1");

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// ext behind the uplink, containers c1 and c2 on the default bridge; c1's
// publications are given by the test.
class PublishTest : public ::testing::Test {
protected:
    void start(const std::string& c1_fields) {
        auto outside = make_outside("192.168.79");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        c1_.emplace(make_netns("c1"));
        c2_.emplace(make_netns("c2"));
        auto d = DpdockdInstance::start(
            "dataplane:\n  workers: 2\n  idle-sleep-us: 20\nnat:\n  capacity: 4096\n  dynamic-port-range: "
            "40000-40100\n" +
            outside_->uplink_yaml(2) + "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") + c1_fields +
            container_yaml("c2", c2_->path(), "[bridge]"));
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
    }

    // A flow from `client` to the host address at `host_port`, served by c1 at `port`.
    FlowSpec published(const Netns& client, std::uint16_t host_port, std::uint16_t port) const {
        FlowSpec f = direct_flow(*c1_, kC1, port, client);
        f.connect_ip = outside_->host_ip;
        f.connect_port = host_port;
        return f;
    }

    // The DNAT rule of `dport` in nat.rules.
    nlohmann::json dnat_rule(const std::string& dport) const {
        auto rules = daemon_->call("nat.rules");
        EXPECT_TRUE(rules.ok()) << rules.message();
        for (const auto& chain : (*rules)["chains"]) {
            for (const auto& r : chain["rules"]) {
                if (r.value("dport", "") == dport) return r;
            }
        }
        ADD_FAILURE() << "no DNAT rule for " << dport << ": " << rules->dump();
        return {};
    }

    std::optional<Outside> outside_;
    std::optional<Netns> c1_, c2_;
    std::optional<DpdockdInstance> daemon_;
};

TEST_F(PublishTest, OutsideHairpinRangeDynamicAndCounters) {
    start("    publish: ['8080:80', '5353:53/udp', '9000-9001:9100-9101', '7000']\n");
    ASSERT_FALSE(HasFailure());

    auto tcp = tcp_transfer(published(outside_->ns, 8080, 80), 300 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << daemon_->log();
    EXPECT_EQ(tcp->client_ip, outside_->ext_ip);  // DNAT only: the container sees the real client

    auto udp = udp_exchange(published(outside_->ns, 5353, 53), 40, 600);
    ASSERT_TRUE(udp.ok()) << udp.message() << "\n" << daemon_->log();
    EXPECT_EQ(udp->client_ip, outside_->ext_ip);

    for (std::uint16_t i : {0, 1}) {
        const auto host_port = static_cast<std::uint16_t>(9000 + i);
        auto r = tcp_transfer(published(outside_->ns, host_port, static_cast<std::uint16_t>(9100 + i)), 64 * 1024);
        EXPECT_TRUE(r.ok()) << "range port " << 9000 + i << ": " << r.message();
    }

    // The dynamic port, as `dpdock port` reports it, from nat.dynamic-port-range.
    const auto [rc, out] = daemon_->cli("port c1 7000/tcp");
    ASSERT_EQ(rc, 0) << out;
    ASSERT_EQ(out.rfind("0.0.0.0:", 0), 0u) << out;
    const int dynamic = std::stoi(out.substr(8));
    EXPECT_GE(dynamic, 40000);
    EXPECT_LE(dynamic, 40100);
    auto dyn = tcp_transfer(published(outside_->ns, static_cast<std::uint16_t>(dynamic), 7000), 64 * 1024);
    EXPECT_TRUE(dyn.ok()) << dyn.message();
    const std::string all = daemon_->cli_expect("port c1");
    EXPECT_TRUE(contains(all, "80/tcp -> 0.0.0.0:8080\n")) << all;
    EXPECT_TRUE(contains(all, "53/udp -> 0.0.0.0:5353\n")) << all;
    EXPECT_TRUE(contains(all, "9101/tcp -> 0.0.0.0:9001\n")) << all;

    // The rules' counters so far: ext's transfers alone.
    const std::uint64_t tcp_bytes_from_ext = dnat_rule("8080")["bytes"].get<std::uint64_t>();
    EXPECT_GT(tcp_bytes_from_ext, 300u * 1024);
    const std::uint64_t udp_packets_from_ext = dnat_rule("5353")["packets"].get<std::uint64_t>();
    EXPECT_GE(udp_packets_from_ext, 40u);

    // Hairpin: another container, then the publisher itself, at the host address.
    auto from_c2 = tcp_transfer(published(*c2_, 8080, 80), 128 * 1024);
    ASSERT_TRUE(from_c2.ok()) << from_c2.message() << "\n" << daemon_->log();
    EXPECT_EQ(from_c2->client_ip, kGateway);
    auto from_self = tcp_transfer(published(*c1_, 8080, 80), 128 * 1024);
    ASSERT_TRUE(from_self.ok()) << from_self.message() << "\n" << daemon_->log();
    EXPECT_EQ(from_self->client_ip, kGateway);
    auto udp_hairpin = udp_exchange(published(*c2_, 5353, 53), 10, 200);
    EXPECT_TRUE(udp_hairpin.ok()) << udp_hairpin.message();

    // Counters per rule: the TCP 8080 rule also translated both hairpins (the
    // 128 KiB each client sent), the UDP rule the 10 hairpin datagrams.
    const auto rule = dnat_rule("8080");
    EXPECT_EQ(rule["to"], "172.17.0.2:80");
    EXPECT_EQ(rule["destination"], outside_->host_ip.to_string());
    EXPECT_GT(rule["packets"].get<std::uint64_t>(), 100u) << rule.dump();
    EXPECT_GE(rule["bytes"].get<std::uint64_t>(), tcp_bytes_from_ext + 2u * 128 * 1024)
        << tcp_bytes_from_ext << " before the hairpins: " << rule.dump();
    EXPECT_GE(dnat_rule("5353")["packets"].get<std::uint64_t>(), udp_packets_from_ext + 10u);
    // MASQUERADE's rule of the bridge counts c2's flow out to ext.
    auto masqueraded = udp_exchange(direct_flow(outside_->ns, outside_->ext_ip, 6000, *c2_), 5, 100);
    ASSERT_TRUE(masqueraded.ok()) << masqueraded.message();
    auto rules = daemon_->call("nat.rules");
    ASSERT_TRUE(rules.ok()) << rules.message();
    const auto& masquerade = (*rules)["chains"][0]["rules"][0];
    EXPECT_EQ(masquerade["network"], "bridge");
    EXPECT_GE(masquerade["packets"].get<std::uint64_t>(), 5u) << masquerade.dump();
    const std::string nat = daemon_->cli_expect("nat");
    EXPECT_TRUE(contains(nat, "Chain POSTROUTING")) << nat;
    EXPECT_TRUE(contains(nat, "MASQUERADE")) << nat;
    EXPECT_TRUE(contains(nat, "tcp dpt:8080 to:172.17.0.2:80 container c1")) << nat;
    EXPECT_TRUE(contains(nat, "tcp dpt:9000-9001 to:172.17.0.2:9100-9101")) << nat;

    // conntrack --src/--dst: the flows ext opened, and the hairpin flows.
    const std::string ct = daemon_->cli_expect("conntrack --src " + outside_->ext_ip.to_string() + " --proto udp");
    EXPECT_TRUE(contains(ct, outside_->host_ip.to_string() + ":5353")) << ct;
    EXPECT_TRUE(contains(ct, kC1.to_string() + ":53")) << ct;
    EXPECT_FALSE(contains(ct, "172.17.0.3")) << ct;
    const std::string hp = daemon_->cli_expect("conntrack --src 172.17.0.3 --dst " + outside_->host_ip.to_string());
    EXPECT_TRUE(contains(hp, "172.17.0.1:")) << hp;  // translated source: the gateway
    EXPECT_FALSE(contains(hp, outside_->ext_ip.to_string())) << hp;
}

TEST_F(PublishTest, TenThousandPublishedPortsAndConflicts) {
    start("    publish: ['20000-29999:20000-29999/tcp']\n");
    ASSERT_FALSE(HasFailure());
    for (std::uint16_t port : {20000, 29999}) {
        auto r = tcp_transfer(published(outside_->ns, port, port), 128 * 1024);
        EXPECT_TRUE(r.ok()) << port << ": " << r.message() << "\n" << daemon_->log();
    }
    const std::string out = daemon_->cli_expect("port c1 24567");
    EXPECT_EQ(out, "0.0.0.0:24567\n");

    // A conflicting publication is refused, naming both, and changes nothing.
    auto before = daemon_->observable_state();
    ASSERT_TRUE(before.ok()) << before.message();
    auto c3 = make_netns("c3");
    const std::string bad = daemon_->cli_expect("attach --name c3 --netns " + c3.path() + " -p 25000:80", 1);
    // Docker's words for a CLI request, no YAML key path (issue 20).
    EXPECT_EQ(bad, "Error: Bind for 0.0.0.0:25000 failed: port is already allocated (by container 'c1' "
                   "(20000-29999:20000-29999/tcp))\n");
    auto after = daemon_->observable_state();
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, *before);
    const std::string bind = daemon_->cli_expect("attach --name c3 --netns " + c3.path() + " -p 10.1.1.1:80:80", 1);
    EXPECT_TRUE(contains(bind, "is not this host's")) << bind;
    const std::string sctp = daemon_->cli_expect("attach --name c3 --netns " + c3.path() + " -p 80:80/sctp", 1);
    EXPECT_TRUE(contains(sctp, "sctp is not supported")) << sctp;

    auto not_a_list = daemon_->call("container.attach", {{"name", "c3"}, {"netns", c3.path()}, {"publish", "80"}});
    EXPECT_EQ(not_a_list.message(), "argument \"publish\" must be an array of strings");
    auto bad_expose = daemon_->call("container.attach", {{"name", "c3"}, {"netns", c3.path()}, {"expose", {"0"}}});
    EXPECT_EQ(bad_expose.message(), "expose '0': port 0 is outside 1..65535");
    auto still = daemon_->observable_state();
    ASSERT_TRUE(still.ok()) << still.message();
    EXPECT_EQ(*still, *before);

    // --expose with -P: a dynamic port, which config save writes down.
    const auto [ok_rc, ok] = daemon_->cli("attach --name c3 --netns " + c3.path() + " --expose 81 -P");
    ASSERT_EQ(ok_rc, 0) << ok;
    const std::string p = daemon_->cli_expect("port c3");
    EXPECT_EQ(p, "81/tcp -> 0.0.0.0:40000\n");
    ASSERT_TRUE(daemon_->call("config.save").ok());
    std::ifstream saved(daemon_->config_path());
    const std::string yaml((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(contains(yaml, "40000:81/tcp")) << yaml;
    FlowSpec f = direct_flow(c3, *Ipv4Address::parse("172.17.0.4"), 81, outside_->ns);
    f.connect_ip = outside_->host_ip;
    f.connect_port = 40000;
    auto via = tcp_transfer(f, 64 * 1024);
    EXPECT_TRUE(via.ok()) << via.message();
}

}  // namespace
}  // namespace dpdock::test
