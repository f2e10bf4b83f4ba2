// MASQUERADE end to end: a container behind the dataplane reaches servers in
// an `ext` namespace on the uplink's subnet; ext sees the host address as
// the client, bytes are compared both ways. Two workers: the container's
// port and the uplink are polled by different ones, so the flow's two
// directions meet in the shared conntrack table.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kExt = *Ipv4Address::parse("192.168.78.1");
const Ipv4Address kHostIp = *Ipv4Address::parse("192.168.78.2");

TEST(MasqueradeTest, ContainerReachesExtFromTheHostAddress) {
    auto ext = Netns::create("ext");
    ASSERT_TRUE(ext.ok()) << ext.message();
    auto c1 = Netns::create("c1");
    ASSERT_TRUE(c1.ok()) << c1.message();
    auto veth = VethPair::create(nullptr, &*ext, "up");
    ASSERT_TRUE(veth.ok()) << veth.message();
    ASSERT_TRUE(veth->up_with_address(VethPair::Side::B, Ipv4Cidr(kExt, 24)).ok());
    // ext's replies must carry complete checksums: NAT patches them, it does not finish them.
    ASSERT_EQ(ext->exec("ethtool -K " + veth->b_name() + " tx off >/dev/null"), 0);
    ASSERT_EQ(shell("ip link set " + veth->a_name() + " up"), 0);
    auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\nnat:\n  capacity: 4096\n"
                                    "uplink:\n  devargs: net_af_packet_" + veth->a_name() + ",iface=" + veth->a_name() +
                                    ",qpairs=2\n  address: 192.168.78.2/24\n  gateway: 192.168.78.1\ncontainers:\n" +
                                    container_yaml("c1", c1->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();

    auto tcp = tcp_transfer(direct_flow(*ext, kExt, 8080, *c1), 300 * 1024);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << d->log();
    EXPECT_EQ(tcp->client_ip, kHostIp);

    auto udp = udp_exchange(direct_flow(*ext, kExt, 5353, *c1), 50, 700);
    ASSERT_TRUE(udp.ok()) << udp.message() << "\n" << d->log();
    EXPECT_EQ(udp->client_ip, kHostIp);

    EXPECT_TRUE(ping(*c1, kExt, 3)) << d->log();

    // The flows as `dpdock conntrack` lists them: c1's tuples, translated to the host address.
    auto ct = d->call("nat.conntrack");
    ASSERT_TRUE(ct.ok()) << ct.message();
    std::set<std::string> protos;
    for (const auto& f : (*ct)["flows"]) {
        protos.insert(f["proto"].get<std::string>());
        EXPECT_EQ(f["original"]["src"], "172.17.0.2") << f.dump();
        EXPECT_EQ(f["translated"]["src"], kHostIp.to_string()) << f.dump();
        EXPECT_EQ(f["translated"]["dst"], kExt.to_string()) << f.dump();
    }
    EXPECT_EQ(protos, (std::set<std::string>{"tcp", "udp", "icmp"})) << ct->dump();
    EXPECT_EQ((*ct)["ct_full"], 0);
    const auto [rc, out] = d->cli("conntrack --proto udp");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("172.17.0.2:"), std::string::npos) << out;
    EXPECT_NE(out.find(kHostIp.to_string() + ":"), std::string::npos) << out;
    EXPECT_NE(out.find("ASSURED"), std::string::npos) << out;
    EXPECT_EQ(out.find("ESTABLISHED"), std::string::npos) << out;  // only UDP
    const auto [bad_rc, bad_out] = d->cli("conntrack --proto sctp");
    EXPECT_EQ(bad_rc, 1) << bad_out;
    EXPECT_NE(bad_out.find("unknown protocol 'sctp' (expected tcp, udp or icmp)"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace dpdock::test
