// Overlay networks in YAML: the vxlan section, VNIs (given, allocated, taken,
// out of range), peers and fdb entries, the uplink they need, the default MTU,
// and the round trip through config save. Errors carry file:line:col and key.
#include <gtest/gtest.h>

#include "config/overlay.hpp"
#include "config/yaml_writer.hpp"
#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

const std::string kUplink =
    "uplink:\n  devargs: net_ring0\n  address: 192.168.50.2/24\n  gateway: 192.168.50.1\n  mtu: 9000\n";

// An overlay network "ov" at line 7 (after the uplink), with `extra` lines.
std::string overlay(const std::string& extra) {
    return kUplink + "networks:\n  - name: ov\n    driver: overlay\n    subnet: 10.10.0.0/24\n" + extra;
}

TEST(Overlay, FullSectionLoadsAndRoundTrips) {
    const std::string yaml = "vxlan:\n  port: 8472\n  ttl: 16\n  df: true\n  learn-unknown-peers: true\n"
                             "  vni-range: 5000-5010\n" +
                             overlay("    vni: 5003\n    peers: [192.168.50.9, 10.99.0.5]\n    arp-suppression: true\n"
                                     "    fdb:\n      - {mac: 02:42:0a:0a:00:09, vtep: 10.99.0.5, ip: 10.10.0.9}\n") +
                             "  - name: ov2\n    driver: overlay\n    subnet: 10.11.0.0/24\n    mtu: 1400\n"
                             // 1500 is the bridge default but not the overlay one (9000 - 50): it must be saved.
                             "  - name: ov3\n    driver: overlay\n    subnet: 10.12.0.0/24\n    mtu: 1500\n";
    auto d = load(yaml);
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(d->vxlan.port, 8472);
    EXPECT_EQ(d->vxlan.ttl, 16);
    EXPECT_TRUE(d->vxlan.df);
    EXPECT_TRUE(d->vxlan.learn_unknown_peers);
    EXPECT_EQ(d->networks[0].vni, 5003u);
    EXPECT_EQ(d->networks[1].vni, 5000u);  // the lowest free of the range
    EXPECT_EQ(d->networks[0].mtu, 9000u - 50);
    EXPECT_EQ(d->networks[1].mtu, 1400u);
    EXPECT_EQ(d->networks[2].mtu, 1500u);
    ASSERT_EQ(d->networks[0].peers.size(), 2u);
    ASSERT_EQ(d->networks[0].remote_macs.size(), 1u);
    EXPECT_EQ(d->networks[0].remote_macs[0].vtep, *Ipv4Address::parse("10.99.0.5"));
    EXPECT_EQ(d->networks[0].remote_macs[0].ip, *Ipv4Address::parse("10.10.0.9"));
    EXPECT_TRUE(d->networks[0].arp_suppression);
    EXPECT_FALSE(d->networks[1].arp_suppression);
    const std::string text = to_yaml(*d);
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again.ok()) << again.message() << "\n" << text;
    EXPECT_EQ(without_positions(*again), without_positions(*d)) << text;
    EXPECT_EQ(to_yaml(*again), text);
}

TEST(Overlay, DefaultsNeedNoVxlanSection) {
    auto d = load(overlay(""));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(d->vxlan, VxlanSpec{});
    EXPECT_EQ(d->networks[0].vni, 256u);
    EXPECT_EQ(to_yaml(*d).find("vxlan:"), std::string::npos);
}

TEST(Overlay, ErrorsNameFileLineAndKey) {
    expect_error("networks:\n  - name: ov\n    driver: overlay\n    subnet: 10.10.0.0/24\n", "test.yaml:2:5: ",
                 "networks[0].driver", "needs an uplink");
    expect_error(overlay("    vni: 1001\n"), "test.yaml:7:5: ", "networks[0].vni", "outside vxlan.vni-range 256-1000");
    expect_error(overlay("    vni: 300\n") + "  - name: ov2\n    driver: overlay\n    subnet: 10.11.0.0/24\n    vni: 300\n",
                 "test.yaml:11:5: ", "networks[1].vni", "already used by network 'ov'");
    expect_error(overlay("    peers: [10.1.1.1, 10.1.1.1]\n"), "test.yaml:7:5: ", "networks[0].peers[1]",
                 "listed twice");
    expect_error(overlay("    peers: [192.168.50.2]\n"), "test.yaml:7:5: ", "networks[0].peers[0]",
                 "this host's own uplink address");
    expect_error(overlay("    peers: [224.0.0.1]\n"), "test.yaml:7:5: ", "networks[0].peers[0]", "not a unicast");
    expect_error(overlay("    fdb:\n      - {mac: 02:42:0a:0a:00:09, vtep: 10.1.1.1}\n"), "test.yaml:11:9: ",
                 "networks[0].fdb[0].vtep", "not a peer of network 'ov'");
    expect_error(overlay("    peers: [10.1.1.1]\n    fdb:\n      - {mac: 02:42:0a:0a:00:09, vtep: 10.1.1.1, ip: 10.9.0.1}\n"),
                 "test.yaml:12:9: ", "networks[0].fdb[0].ip", "outside subnet 10.10.0.0/24");
    expect_error(kUplink + "networks:\n  - name: br\n    subnet: 10.10.0.0/24\n    arp-suppression: true\n",
                 "test.yaml:7:5: ", "networks[0].arp-suppression", "only overlay networks");
    expect_error(overlay("    peers: [banana]\n"), "test.yaml:10:13: ", "networks[0].peers[0]", "expected an IPv4 address");
    expect_error(kUplink + "vxlan:\n  vni-range: 9-3\n", "test.yaml:7:3: ", "vxlan.vni-range", "is empty");
    expect_error(kUplink + "vxlan:\n  ttl: 0\n", "test.yaml:7:3: ", "vxlan.ttl", "ttl must be 1..255");
    expect_error(kUplink + "vxlan:\n  colour: red\n", "test.yaml:7:3: ", "vxlan.colour", "unknown key");
    expect_error(kUplink + "networks:\n  - name: br\n    subnet: 10.10.0.0/24\n    vni: 5\n", "test.yaml:7:5: ",
                 "networks[0].vni", "only overlay networks");
    expect_error(kUplink + "vxlan:\n  vni-range: 256-257\n" + "networks:\n" +
                     "  - {name: a, driver: overlay, subnet: 10.1.0.0/24}\n" +
                     "  - {name: b, driver: overlay, subnet: 10.2.0.0/24}\n" +
                     "  - {name: c, driver: overlay, subnet: 10.3.0.0/24}\n",
                 "test.yaml:11:5: ", "networks[2].vni", "no free VNI left");
}

}  // namespace
}  // namespace dpdock::config::test
