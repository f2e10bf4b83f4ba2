// The uplink end to end: an `ext` namespace behind a veth whose other end is
// the dataplane's uplink (af_packet) resolves and pings the host address.
#include <gtest/gtest.h>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

TEST(UplinkTest, OutsideHostPingsTheHostAddressAndLearnsTheUplinkMac) {
    auto outside = make_outside("192.168.77");
    ASSERT_TRUE(outside.ok()) << outside.message();
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\n" + outside->uplink_yaml());
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(outside->ns, outside->host_ip, 3)) << d->log();
    const std::string mac = shell_output("cat /sys/class/net/" + outside->link.a_name() + "/address");
    const std::string neigh = outside->ns.exec_output("ip neigh show " + outside->host_ip.to_string());
    EXPECT_NE(neigh.find("lladdr " + mac.substr(0, 17)), std::string::npos) << neigh << " vs " << mac;
}

// The uplink set, changed and removed at run time through the CLI, with the
// bad requests in between refused and leaving it as it was.
TEST(UplinkTest, SetChangeAndRemoveAtRunTime) {
    auto outside = make_outside("192.168.79");
    ASSERT_TRUE(outside.ok()) << outside.message();
    auto c1 = Netns::create("c1");
    ASSERT_TRUE(c1.ok()) << c1.message();
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    const Ipv4Address ext_ip = outside->ext_ip;
    const std::string devargs = outside->devargs();

    std::string out = d->cli_expect("uplink show");
    EXPECT_NE(out.find("no uplink"), std::string::npos) << out;
    out = d->cli_expect("uplink set --address 192.168.79.2/24 --gateway 192.168.79.1", 1);
    EXPECT_NE(out.find("missing argument \"devargs\""), std::string::npos) << out;
    out = d->cli_expect("uplink set --devargs " + devargs + " --address 192.168.79.2/24 --gateway 10.0.0.1", 1);
    EXPECT_EQ(out, "Error: gateway 10.0.0.1 must be another host address inside 192.168.79.2/24\n");
    auto shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"].is_null()) << shown->dump();

    const auto [set_rc, set_out] =
        d->cli("uplink set --devargs " + devargs + " --address 192.168.79.2/24 --gateway 192.168.79.1");
    ASSERT_EQ(set_rc, 0) << set_out << d->log();
    EXPECT_TRUE(ping(outside->ns, outside->host_ip, 3)) << d->log();
    EXPECT_TRUE(ping(*c1, ext_ip, 3)) << d->log();  // routed and masqueraded

    // ext is the uplink gateway (a next hop): the uplink learned its MAC.
    const std::string ext_mac =
        outside->ns.exec_output("cat /sys/class/net/" + outside->link.b_name() + "/address").substr(0, 17);
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    const auto port_id = (*shown)["uplink"]["port_id"];
    ASSERT_EQ((*shown)["neighbours"].size(), 1u) << shown->dump();
    EXPECT_EQ((*shown)["neighbours"][0]["ip"], ext_ip.to_string());
    EXPECT_EQ((*shown)["neighbours"][0]["mac"], ext_mac);
    EXPECT_EQ((*shown)["neighbours"][0]["state"], "REACHABLE");
    out = d->cli_expect("uplink show");
    EXPECT_NE(out.find(ext_mac), std::string::npos) << out;

    // Changes that need no new port keep it: the same port id, and counters
    // that went on from where they were (a re-created port could get the same
    // id back, but its counters would start from zero).
    auto set_keeps_the_port = [&](const std::string& args) {
        const auto counted = d->port_stats("uplink");
        ASSERT_TRUE(counted.has_value()) << "no uplink port in stats.show";
        ASSERT_GT((*counted)["rx_packets"].get<std::uint64_t>(), 0u) << counted->dump();
        ASSERT_GT((*counted)["tx_packets"].get<std::uint64_t>(), 0u) << counted->dump();
        d->cli_expect("uplink set " + args);
        const auto kept = d->port_stats("uplink");
        ASSERT_TRUE(kept.has_value()) << "no uplink port in stats.show after " << args;
        for (const char* counter : {"rx_packets", "tx_packets"}) {
            EXPECT_GE((*kept)[counter].get<std::uint64_t>(), (*counted)[counter].get<std::uint64_t>())
                << args << ": " << counter << " " << counted->dump() << " -> " << kept->dump();
        }
        shown = d->call("uplink.show");
        ASSERT_TRUE(shown.ok()) << shown.message();
        EXPECT_EQ((*shown)["uplink"]["port_id"], port_id) << args;
    };
    set_keeps_the_port("--arp-timeout 120");
    EXPECT_EQ((*shown)["uplink"]["arp_timeout_s"], 120);
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();

    // A permanent gateway MAC replaces ARP for the gateway: a wrong one breaks
    // the route out, the right one mends it; '' removes it.
    d->cli_expect("uplink set --gateway-mac 02:00:00:00:00:99");
    EXPECT_FALSE(ping(*c1, ext_ip, 1, 1));
    d->cli_expect("uplink set --gateway-mac " + ext_mac);
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();
    out = d->cli_expect("uplink show");
    EXPECT_NE(out.find("192.168.79.1 (permanent " + ext_mac + ")"), std::string::npos) << out;
    out = d->cli_expect("uplink set --gateway-mac banana", 1);
    EXPECT_NE(out.find("\"banana\" is not a MAC address"), std::string::npos) << out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_EQ((*shown)["uplink"]["gateway_mac"], ext_mac);
    d->cli_expect("uplink set --gateway-mac ''");
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"]["gateway_mac"].is_null()) << shown->dump();
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();  // by ARP again
    d->cli_expect("uplink set --gateway-mac " + ext_mac);

    // A new address and gateway: the host answers at the new address only, and
    // c1 still gets out (ext is on the link: the gateway is not its next hop).
    const Ipv4Address moved = *Ipv4Address::parse("192.168.79.3");
    set_keeps_the_port("--address 192.168.79.3/24 --gateway 192.168.79.254");
    EXPECT_EQ((*shown)["uplink"]["address"], "192.168.79.3/24") << shown->dump();
    EXPECT_EQ((*shown)["uplink"]["gateway"], "192.168.79.254") << shown->dump();
    EXPECT_TRUE((*shown)["uplink"]["gateway_mac"].is_null()) << shown->dump();  // the old gateway's
    EXPECT_TRUE(ping(outside->ns, moved, 3)) << d->log();
    EXPECT_FALSE(ping(outside->ns, outside->host_ip, 1, 1));
    EXPECT_TRUE(ping(*c1, ext_ip, 2)) << d->log();

    const auto [rm_rc, rm_out] = d->cli("uplink rm");
    ASSERT_EQ(rm_rc, 0) << rm_out;
    shown = d->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    EXPECT_TRUE((*shown)["uplink"].is_null()) << shown->dump();
    EXPECT_FALSE(ping(outside->ns, moved, 1, 1));
    out = d->cli_expect("uplink rm", 1);
    EXPECT_NE(out.find("there is no uplink to remove"), std::string::npos) << out;
}

}  // namespace
}  // namespace dpdock::test
