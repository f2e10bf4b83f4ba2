// IPAM: the default network, address allocation order and exhaustion, and
// Docker-style MAC derivation.
#include "config/resolve.hpp"

#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }
Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }

NetworkSpec network(const char* subnet, const char* gateway) {
    NetworkSpec n;
    n.name = "n";
    n.subnet = cidr(subnet);
    n.gateway = ip(gateway);
    return n;
}

TEST(Resolve, DefaultNetworkComesFromBridgeSection) {
    BridgeSpec b;
    b.bip = cidr("192.168.7.9/24");
    b.fixed_cidr = cidr("192.168.7.128/25");
    b.mtu = 1400;
    const NetworkSpec n = default_network(b);
    EXPECT_EQ(n.name, "bridge");
    EXPECT_EQ(n.driver, "bridge");
    EXPECT_EQ(n.subnet.to_string(), "192.168.7.0/24");
    EXPECT_EQ(n.gateway.to_string(), "192.168.7.9");
    EXPECT_EQ(n.ip_range, cidr("192.168.7.128/25"));
    EXPECT_EQ(n.mtu, 1400u);
}

TEST(Resolve, AllNetworksPutsTheDefaultFirst) {
    Deployment d;
    d.networks.push_back(network("10.1.0.0/24", "10.1.0.1"));
    const auto all = all_networks(d);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "bridge");
    EXPECT_EQ(all[0].subnet.to_string(), "172.17.0.0/16");
    EXPECT_EQ(all[1].name, "n");
}

TEST(Resolve, AllocatesFirstFreeHostSkippingGatewayAndTaken) {
    const NetworkSpec n = network("10.1.0.0/24", "10.1.0.1");
    EXPECT_EQ(allocate_ip(n, {}).value(), ip("10.1.0.2"));
    EXPECT_EQ(allocate_ip(n, {ip("10.1.0.2"), ip("10.1.0.3"), ip("10.1.0.5")}).value(), ip("10.1.0.4"));
    // A gateway in the middle of the subnet is skipped as well.
    const NetworkSpec mid = network("10.2.0.0/24", "10.2.0.2");
    EXPECT_EQ(allocate_ip(mid, {ip("10.2.0.1")}).value(), ip("10.2.0.3"));
}

TEST(Resolve, AllocatesInsideIpRangeOnly) {
    NetworkSpec n = network("10.1.0.0/24", "10.1.0.1");
    n.ip_range = cidr("10.1.0.16/30");
    EXPECT_EQ(allocate_ip(n, {}).value(), ip("10.1.0.16"));
    EXPECT_EQ(allocate_ip(n, {ip("10.1.0.16"), ip("10.1.0.17"), ip("10.1.0.18")}).value(), ip("10.1.0.19"));
    auto full = allocate_ip(n, {ip("10.1.0.16"), ip("10.1.0.17"), ip("10.1.0.18"), ip("10.1.0.19")});
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.message(), "network 'n' has no free address left in 10.1.0.16/30");
}

TEST(Resolve, NeverHandsOutNetworkOrBroadcast) {
    NetworkSpec n = network("10.1.0.0/30", "10.1.0.1");
    EXPECT_EQ(allocate_ip(n, {}).value(), ip("10.1.0.2"));
    EXPECT_FALSE(allocate_ip(n, {ip("10.1.0.2")}).ok());
    // A range that covers the top of the address space must not wrap around.
    NetworkSpec top = network("255.255.255.0/24", "255.255.255.1");
    std::set<Ipv4Address> taken;
    for (unsigned i = 2; i < 255; ++i) taken.insert(Ipv4Address(0xffffff00u + i));
    EXPECT_FALSE(allocate_ip(top, taken).ok());
}

TEST(Resolve, FillsEndpointsInContainerOrderAroundStaticAddresses) {
    auto r = load(R"(networks:
  - name: a
    subnet: 10.1.0.0/24
containers:
  - name: first
    netns: /n/1
    networks: [a, bridge]
  - name: pinned
    netns: /n/2
    networks: [{name: a, ip: 10.1.0.2}]
  - name: third
    netns: /n/3
    networks: [a]
  - name: custom-mac
    netns: /n/4
    networks: [{name: a, mac: 02:00:00:00:aa:bb}]
)");
    ASSERT_TRUE(r.ok()) << r.message();
    const auto& c = r->containers;
    // "pinned" keeps 10.1.0.2 although "first" comes earlier in the file.
    EXPECT_EQ(c[0].networks[0].ip, ip("10.1.0.3"));
    EXPECT_EQ(c[0].networks[0].mac, MacAddress::parse("02:42:0a:01:00:03"));
    EXPECT_EQ(c[0].networks[1].ip, ip("172.17.0.2"));
    EXPECT_EQ(c[0].networks[1].mac, MacAddress::parse("02:42:ac:11:00:02"));
    EXPECT_EQ(c[1].networks[0].ip, ip("10.1.0.2"));
    EXPECT_EQ(c[1].networks[0].mac, MacAddress::parse("02:42:0a:01:00:02"));
    EXPECT_EQ(c[2].networks[0].ip, ip("10.1.0.4"));
    EXPECT_EQ(c[3].networks[0].ip, ip("10.1.0.5"));
    EXPECT_EQ(c[3].networks[0].mac, MacAddress::parse("02:00:00:00:aa:bb"));
}

TEST(Resolve, FixedCidrLimitsTheDefaultBridge) {
    auto r =
        load("bridge:\n  bip: 172.17.0.1/16\n  fixed-cidr: 172.17.8.0/24\ncontainers:\n  - {name: c, netns: /n}\n");
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->containers.at(0).networks.at(0).ip, ip("172.17.8.0"));
}

TEST(Resolve, ExhaustedNetworkNamesTheEndpoint) {
    expect_error(R"(networks:
  - name: tiny
    subnet: 10.1.0.0/30
containers:
  - name: c1
    netns: /n/1
    networks: [tiny]
  - name: c2
    netns: /n/2
    networks:
      - tiny
)",
                 "test.yaml:11:9: ", "containers[1].networks[0]",
                 "network 'tiny' has no free address left in 10.1.0.0/30");
}

TEST(Resolve, DerivedMacCollidingWithExplicitMacIsAnError) {
    expect_error(R"(containers:
  - name: c1
    netns: /n/1
    networks: [{name: bridge, mac: "02:42:ac:11:00:03"}]
  - name: c2
    netns: /n/2
)",
                 "test.yaml:5:5: ", "containers[1].networks[0]",
                 "mac 02:42:ac:11:00:03 is already used by container 'c1' on network 'bridge'");
}

TEST(Resolve, ResolvedModelIsStable) {
    auto r = load("containers:\n  - {name: c, netns: /n}\n");
    ASSERT_TRUE(r.ok()) << r.message();
    Deployment again = *r;
    ASSERT_TRUE(resolve(again).ok());
    EXPECT_EQ(again, *r);
}

}  // namespace
}  // namespace dpdock::config::test
