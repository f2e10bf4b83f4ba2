// create_veth / move_and_configure / delete_link against the real kernel, in
// scratch namespaces; results are read back with `ip` and `ethtool`. Root only.
#include "control/attach/netlink.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"

namespace dpdock::attach {
namespace {

using test::Netns;
using test::shell;
using test::shell_output;
using test::unique_ifname;

// Removes a link of the test's netns at scope exit, whatever the test did.
struct HostLinkGuard {
    std::string name;
    ~HostLinkGuard() { shell("ip link del " + name + " 2>/dev/null"); }
};

InterfaceConfig eth0_config(int subnet) {
    const std::string net = "172.30." + std::to_string(subnet) + ".";
    InterfaceConfig config;
    config.name = "eth0";
    config.address = *Ipv4Cidr::parse(net + "2/24");
    config.mac = docker_mac_for(config.address.address());
    config.default_gateway = Ipv4Address::parse(net + "1");
    config.mtu = 1400;
    return config;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class NetlinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<Netns> ns = Netns::create("dpatt");
        ASSERT_TRUE(ns.ok()) << ns.message();
        ns_.emplace(std::move(*ns));
    }
    const Netns& ns() const { return *ns_; }

    std::optional<Netns> ns_;
};

TEST_F(NetlinkTest, CreateVethConfiguresBothEnds) {
    HostLinkGuard host{unique_ifname("dph")};
    const InterfaceConfig config = eth0_config(7);

    Result<int> ifindex = create_veth(host.name, ns().path(), config);
    ASSERT_TRUE(ifindex.ok()) << ifindex.message();

    EXPECT_EQ(ifindex_of(host.name), std::optional<int>(*ifindex));
    const std::string host_link = shell_output("ip -o link show " + host.name);
    EXPECT_TRUE(contains(host_link, "mtu 1400")) << host_link;
    EXPECT_TRUE(contains(host_link, ",UP")) << host_link;

    const std::string link = ns().exec_output("ip -o link show eth0");
    EXPECT_TRUE(contains(link, ": eth0@")) << link;
    EXPECT_TRUE(contains(link, "mtu 1400")) << link;
    EXPECT_TRUE(contains(link, "state UP")) << link;
    EXPECT_TRUE(contains(link, "link/ether 02:42:ac:1e:07:02")) << link;

    const std::string addr = ns().exec_output("ip -o -4 addr show dev eth0");
    EXPECT_TRUE(contains(addr, "inet 172.30.7.2/24 brd 172.30.7.255")) << addr;
    const std::string route = ns().exec_output("ip route show default");
    EXPECT_TRUE(contains(route, "default via 172.30.7.1 dev eth0")) << route;
    const std::string lo = ns().exec_output("ip -o link show lo");
    EXPECT_TRUE(contains(lo, ",UP")) << lo;

    // The kernel's default offloads are left alone (kernel ports carry them).
    const std::string offload = ns().exec_output("ethtool -k eth0 | grep '^tx-checksumming:'");
    EXPECT_TRUE(contains(offload, "tx-checksumming: on")) << offload;
}

TEST_F(NetlinkTest, NoGatewayMeansNoDefaultRoute) {
    HostLinkGuard host{unique_ifname("dph")};
    InterfaceConfig config = eth0_config(9);
    config.default_gateway.reset();

    Result<int> ifindex = create_veth(host.name, ns().path(), config);
    ASSERT_TRUE(ifindex.ok()) << ifindex.message();

    EXPECT_EQ(ns().exec_output("ip route show default"), "");
    EXPECT_TRUE(contains(ns().exec_output("ip route"), "172.30.9.0/24 dev eth0"));
}

TEST_F(NetlinkTest, DeleteLinkRemovesBothEndsAndIsIdempotent) {
    HostLinkGuard host{unique_ifname("dph")};
    Result<int> ifindex = create_veth(host.name, ns().path(), eth0_config(7));
    ASSERT_TRUE(ifindex.ok()) << ifindex.message();

    Status deleted = delete_link(host.name);
    ASSERT_TRUE(deleted.ok()) << deleted.message();
    EXPECT_FALSE(ifindex_of(host.name).has_value());
    EXPECT_NE(ns().exec("ip link show eth0 2>/dev/null"), 0);

    Status again = delete_link(host.name);
    EXPECT_TRUE(again.ok()) << again.message();
}

TEST_F(NetlinkTest, MissingNetnsFailsWithoutLeftovers) {
    HostLinkGuard host{unique_ifname("dph")};
    Result<int> ifindex = create_veth(host.name, ns().path() + "-missing", eth0_config(7));

    ASSERT_FALSE(ifindex.ok());
    EXPECT_TRUE(contains(ifindex.message(), "No such file or directory")) << ifindex.message();
    EXPECT_FALSE(ifindex_of(host.name).has_value());
}

TEST_F(NetlinkTest, FailedConfigurationRemovesThePair) {
    HostLinkGuard host{unique_ifname("dph")};
    InterfaceConfig config = eth0_config(7);
    config.default_gateway = Ipv4Address::parse("10.99.0.1");  // not on the link: the kernel refuses the route

    Result<int> ifindex = create_veth(host.name, ns().path(), config);

    ASSERT_FALSE(ifindex.ok());
    EXPECT_TRUE(contains(ifindex.message(), "default route via 10.99.0.1")) << ifindex.message();
    EXPECT_FALSE(ifindex_of(host.name).has_value());
    EXPECT_NE(ns().exec("ip link show eth0 2>/dev/null"), 0);
}

TEST_F(NetlinkTest, NameTakenInsideFailsWithoutLeftovers) {
    HostLinkGuard host{unique_ifname("dph")};
    ASSERT_EQ(ns().exec("ip tuntap add dev eth0 mode tap"), 0);

    Result<int> ifindex = create_veth(host.name, ns().path(), eth0_config(7));

    ASSERT_FALSE(ifindex.ok());
    EXPECT_TRUE(contains(ifindex.message(), "create veth pair: File exists")) << ifindex.message();
    EXPECT_FALSE(ifindex_of(host.name).has_value());
}

TEST_F(NetlinkTest, RejectsInvalidNames) {
    Result<int> ifindex = create_veth("this-name-is-far-too-long", ns().path(), eth0_config(7));
    ASSERT_FALSE(ifindex.ok());
    EXPECT_TRUE(contains(ifindex.message(), "must have 1..15 characters")) << ifindex.message();
}

TEST_F(NetlinkTest, MoveAndConfigureTap) {
    HostLinkGuard tap{unique_ifname("dpt")};
    ASSERT_EQ(shell("ip tuntap add dev " + tap.name + " mode tap"), 0);
    const InterfaceConfig config = eth0_config(8);

    Status moved = move_and_configure(tap.name, ns().path(), config);
    ASSERT_TRUE(moved.ok()) << moved.message();

    EXPECT_FALSE(ifindex_of(tap.name).has_value());
    const std::string link = ns().exec_output("ip -o link show eth0");
    EXPECT_TRUE(contains(link, "mtu 1400")) << link;
    EXPECT_TRUE(contains(link, ",UP")) << link;  // no carrier: nobody holds the tap open
    EXPECT_TRUE(contains(link, "link/ether 02:42:ac:1e:08:02")) << link;
    const std::string addr = ns().exec_output("ip -o -4 addr show dev eth0");
    EXPECT_TRUE(contains(addr, "inet 172.30.8.2/24")) << addr;
    const std::string route = ns().exec_output("ip route show default");
    EXPECT_TRUE(contains(route, "default via 172.30.8.1 dev eth0")) << route;
}

TEST_F(NetlinkTest, MoveAndConfigureRollsBackOnFailure) {
    HostLinkGuard tap{unique_ifname("dpt")};
    ASSERT_EQ(shell("ip tuntap add dev " + tap.name + " mode tap"), 0);
    const std::string before = shell_output("ip -o link show " + tap.name + " | grep -o 'link/ether [0-9a-f:]*'");
    InterfaceConfig config = eth0_config(8);
    config.default_gateway = Ipv4Address::parse("10.99.0.1");

    Status moved = move_and_configure(tap.name, ns().path(), config);

    ASSERT_FALSE(moved.ok());
    EXPECT_TRUE(contains(moved.message(), "default route via 10.99.0.1")) << moved.message();
    EXPECT_FALSE(contains(moved.message(), "rollback failed")) << moved.message();
    ASSERT_TRUE(ifindex_of(tap.name).has_value());
    EXPECT_EQ(shell_output("ip -o link show " + tap.name + " | grep -o 'link/ether [0-9a-f:]*'"), before);
    EXPECT_NE(ns().exec("ip link show eth0 2>/dev/null"), 0);
}

TEST_F(NetlinkTest, MoveOfMissingLinkFails) {
    Status moved = move_and_configure(unique_ifname("dpx"), ns().path(), eth0_config(8));
    ASSERT_FALSE(moved.ok());
    EXPECT_TRUE(contains(moved.message(), "No such device")) << moved.message();
}

}  // namespace
}  // namespace dpdock::attach
