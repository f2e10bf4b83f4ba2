// MASQUERADE end to end: a container behind the dataplane reaches servers in
// an `ext` namespace on the uplink's subnet; ext sees the host address as
// the client, bytes are compared both ways. Two workers: the container's
// port and the uplink are polled by different ones, so the flow's two
// directions meet in the shared conntrack table.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

TEST(MasqueradeTest, ContainerReachesExtFromTheHostAddress) {
    auto outside = make_outside("192.168.78");
    ASSERT_TRUE(outside.ok()) << outside.message();
    auto c1 = Netns::create("c1");
    ASSERT_TRUE(c1.ok()) << c1.message();
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\nnat:\n  capacity: 4096\n" +
                                    outside->uplink_yaml(2) + "containers:\n" +
                                    container_yaml("c1", c1->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();

    auto tcp = tcp_transfer(direct_flow(outside->ns, outside->ext_ip, 8080, *c1), 300 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << d->log();
    EXPECT_EQ(tcp->client_ip, outside->host_ip);

    auto udp = udp_exchange(direct_flow(outside->ns, outside->ext_ip, 5353, *c1), 50, 700);
    ASSERT_TRUE(udp.ok()) << udp.message() << "\n" << d->log();
    EXPECT_EQ(udp->client_ip, outside->host_ip);

    EXPECT_TRUE(ping(*c1, outside->ext_ip, 3)) << d->log();

    // The flows as `dpdock conntrack` lists them: c1's tuples, translated to the host address.
    auto ct = d->call("nat.conntrack");
    ASSERT_TRUE(ct.ok()) << ct.message();
    std::set<std::string> protos;
    for (const auto& f : (*ct)["flows"]) {
        protos.insert(f["proto"].get<std::string>());
        EXPECT_EQ(f["original"]["src"], "172.17.0.2") << f.dump();
        EXPECT_EQ(f["translated"]["src"], outside->host_ip.to_string()) << f.dump();
        EXPECT_EQ(f["translated"]["dst"], outside->ext_ip.to_string()) << f.dump();
    }
    EXPECT_EQ(protos, (std::set<std::string>{"tcp", "udp", "icmp"})) << ct->dump();
    EXPECT_EQ((*ct)["ct_full"], 0);
    const std::string out = d->cli_expect("conntrack --proto udp");
    EXPECT_NE(out.find("172.17.0.2:"), std::string::npos) << out;
    EXPECT_NE(out.find(outside->host_ip.to_string() + ":"), std::string::npos) << out;
    EXPECT_NE(out.find("ASSURED"), std::string::npos) << out;
    EXPECT_EQ(out.find("ESTABLISHED"), std::string::npos) << out;  // only UDP
    const std::string bad_out = d->cli_expect("conntrack --proto sctp", 1);
    EXPECT_NE(bad_out.find("unknown protocol 'sctp' (expected tcp, udp or icmp)"), std::string::npos) << bad_out;

    // The listing is bounded: --limit (default 1000) and whether more flows match.
    EXPECT_EQ((*ct)["truncated"], false);
    auto one = d->call("nat.conntrack", {{"limit", 1}});
    ASSERT_TRUE(one.ok()) << one.message();
    EXPECT_EQ((*one)["flows"].size(), 1u);
    EXPECT_EQ((*one)["truncated"], true);
    EXPECT_EQ((*one)["entries"], (*ct)["entries"]);
    const std::string limited = d->cli_expect("conntrack --limit 2");
    EXPECT_NE(limited.find("more flows match"), std::string::npos) << limited;
    EXPECT_FALSE(d->call("nat.conntrack", {{"limit", 0}}).ok());
    EXPECT_FALSE(d->call("nat.conntrack", {{"limit", 100001}}).ok());
}

}  // namespace
}  // namespace dpdock::test
