// The uplink end to end: an `ext` namespace behind a veth whose other end is
// the dataplane's uplink (af_packet) resolves and pings the host address.
#include <gtest/gtest.h>

#include <tuple>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

TEST(UplinkTest, OutsideHostPingsTheHostAddressAndLearnsTheUplinkMac) {
    auto ext = Netns::create("ext");
    ASSERT_TRUE(ext.ok()) << ext.message();
    auto veth = VethPair::create(nullptr, &*ext, "up");
    ASSERT_TRUE(veth.ok()) << veth.message();
    ASSERT_TRUE(veth->up_with_address(VethPair::Side::B, *Ipv4Cidr::parse("192.168.77.1/24")).ok());
    ASSERT_EQ(shell("ip link set " + veth->a_name() + " up"), 0);
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\nuplink:\n  devargs: net_af_packet_" +
                                    veth->a_name() + ",iface=" + veth->a_name() +
                                    "\n  address: 192.168.77.2/24\n  gateway: 192.168.77.1\n");
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(*ext, *Ipv4Address::parse("192.168.77.2"), 3)) << d->log();
    const std::string mac = shell_output("cat /sys/class/net/" + veth->a_name() + "/address");
    const std::string neigh = ext->exec_output("ip neigh show 192.168.77.2");
    EXPECT_NE(neigh.find("lladdr " + mac.substr(0, 17)), std::string::npos) << neigh << " vs " << mac;
}

// The uplink set, changed and removed at run time through the CLI, with the
// bad requests in between refused and leaving it as it was.
TEST(UplinkTest, SetChangeAndRemoveAtRunTime) {
    auto ext = Netns::create("ext");
    ASSERT_TRUE(ext.ok()) << ext.message();
    auto c1 = Netns::create("c1");
    ASSERT_TRUE(c1.ok()) << c1.message();
    auto veth = VethPair::create(nullptr, &*ext, "up");
    ASSERT_TRUE(veth.ok()) << veth.message();
    const Ipv4Address ext_ip = *Ipv4Address::parse("192.168.79.1");
    ASSERT_TRUE(veth->up_with_address(VethPair::Side::B, Ipv4Cidr(ext_ip, 24)).ok());
    ASSERT_EQ(shell("ip link set " + veth->a_name() + " up"), 0);
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();

    auto [rc, out] = d->cli("uplink show");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("no uplink"), std::string::npos) << out;
    const std::string devargs = "net_af_packet_" + veth->a_name() + ",iface=" + veth->a_name();
    std::tie(rc, out) = d->cli("uplink set --address 192.168.79.2/24 --gateway 192.168.79.1");
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("missing argument \"devargs\""), std::string::npos) << out;
    std::tie(rc, out) = d->cli("uplink set --devargs " + devargs + " --address 192.168.79.2/24 --gateway 10.0.0.1");
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("uplink.gateway"), std::string::npos) << out;
    auto shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"].is_null()) << shown->dump();
    EXPECT_FALSE(ping(*c1, ext_ip, 1, 1));

    std::tie(rc, out) = d->cli("uplink set --devargs " + devargs + " --address 192.168.79.2/24 --gateway 192.168.79.1");
    ASSERT_EQ(rc, 0) << out << d->log();
    EXPECT_TRUE(ping(*ext, *Ipv4Address::parse("192.168.79.2"), 3)) << d->log();
    EXPECT_TRUE(ping(*c1, ext_ip, 3)) << d->log();  // routed and masqueraded

    // ext asked for the host address, so the uplink learned ext's MAC (as Linux does).
    const std::string ext_mac = ext->exec_output("cat /sys/class/net/" + veth->b_name() + "/address").substr(0, 17);
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    const auto port_id = (*shown)["uplink"]["port_id"];
    ASSERT_EQ((*shown)["neighbours"].size(), 1u) << shown->dump();
    EXPECT_EQ((*shown)["neighbours"][0]["ip"], ext_ip.to_string());
    EXPECT_EQ((*shown)["neighbours"][0]["mac"], ext_mac);
    EXPECT_EQ((*shown)["neighbours"][0]["state"], "REACHABLE");
    std::tie(rc, out) = d->cli("uplink show");
    EXPECT_NE(out.find(ext_mac), std::string::npos) << out;

    // A new ARP timeout keeps the port (and the traffic on it).
    std::tie(rc, out) = d->cli("uplink set --arp-timeout 120");
    ASSERT_EQ(rc, 0) << out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_EQ((*shown)["uplink"]["port_id"], port_id);
    EXPECT_EQ((*shown)["uplink"]["arp_timeout_s"], 120);
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();

    // A permanent gateway MAC replaces ARP for the gateway: a wrong one breaks
    // the route out, the right one mends it; a new gateway drops it.
    std::tie(rc, out) = d->cli("uplink set --gateway-mac 02:00:00:00:00:99");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_FALSE(ping(*c1, ext_ip, 1, 1));
    std::tie(rc, out) = d->cli("uplink set --gateway-mac " + ext_mac);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();
    std::tie(rc, out) = d->cli("uplink show");
    EXPECT_NE(out.find("192.168.79.1 (permanent " + ext_mac + ")"), std::string::npos) << out;
    std::tie(rc, out) = d->cli("uplink set --gateway-mac banana");
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("\"banana\" is not a MAC address"), std::string::npos) << out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_EQ((*shown)["uplink"]["gateway_mac"], ext_mac);
    std::tie(rc, out) = d->cli("uplink set --gateway 192.168.79.3");
    ASSERT_EQ(rc, 0) << out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"]["gateway_mac"].is_null()) << shown->dump();
    std::tie(rc, out) = d->cli("uplink set --gateway 192.168.79.1 --gateway-mac " + ext_mac);
    ASSERT_EQ(rc, 0) << out;
    std::tie(rc, out) = d->cli("uplink set --gateway-mac ''");
    ASSERT_EQ(rc, 0) << out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"]["gateway_mac"].is_null()) << shown->dump();
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();  // by ARP again

    std::tie(rc, out) = d->cli("uplink rm");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_FALSE(ping(*ext, *Ipv4Address::parse("192.168.79.2"), 1, 1));
    std::tie(rc, out) = d->cli("uplink rm");
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("there is no uplink to remove"), std::string::npos) << out;
}

}  // namespace
}  // namespace dpdock::test
