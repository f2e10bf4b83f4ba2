// The uplink end to end: an `ext` namespace behind a veth whose other end is
// the dataplane's uplink (af_packet) resolves and pings the host address.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dpdock::test
