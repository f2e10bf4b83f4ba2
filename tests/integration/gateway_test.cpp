// The network gateway end to end: a container resolves and pings its gateway,
// which the dataplane answers (no kernel bridge holds the address).
#include <gtest/gtest.h>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

TEST(GatewayTest, ContainerPingsItsGatewayAndLearnsItsMac) {
    auto c1 = Netns::create("c1");
    ASSERT_TRUE(c1.ok()) << c1.message();
    auto d = DpdockdInstance::start("dataplane:\n  idle-sleep-us: 20\ncontainers:\n" +
                                    container_yaml("c1", c1->path(), "[bridge]"));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_TRUE(ping(*c1, *Ipv4Address::parse("172.17.0.1"), 3)) << d->log();
    const std::string neigh = c1->exec_output("ip neigh show 172.17.0.1 dev eth0");
    EXPECT_NE(neigh.find("lladdr 02:42:ac:11:00:01"), std::string::npos) << neigh;
    // The kernel's own ping tool agrees (its checksum and id checks are not ours).
    EXPECT_EQ(c1->exec("ping -c 2 -W 2 -q 172.17.0.1 >/dev/null"), 0);
}

}  // namespace
}  // namespace dpdock::test
