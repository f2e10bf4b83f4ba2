// The YAML reader on its own: shape errors (unknown keys, wrong types, bad
// syntax) with file:line:col and key paths, positions of list items, defaults.
#include "config/yaml_reader.hpp"

#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

Deployment read_ok(const std::string& yaml) {
    auto r = read_yaml_string(yaml, kFile);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : Deployment{};
}

TEST(YamlReader, UnknownTopLevelKeyIsNamed) {
    expect_error("dataplane:\n  workers: 2\nbridges:\n  mtu: 1500\n", "test.yaml:3:1: ", "bridges",
                 "unknown key 'bridges' (expected one of: dataplane, bridge, networks, containers, ports, uplink, nat, vxlan, exception, dns, cluster)");
}

TEST(YamlReader, UnknownKeyInListItemIsNamedWithIndex) {
    expect_error(R"(networks:
  - name: a
    subnet: 10.1.0.0/24
  - name: b
    subnet: 10.2.0.0/24
    colour: blue
)",
                 "test.yaml:6:5: ", "networks[1].colour", "unknown key 'colour'");
}

TEST(YamlReader, UnknownKeyInEndpoint) {
    expect_error(R"(containers:
  - name: c1
    netns: /run/netns/c1
    networks:
      - name: bridge
        address: 172.17.0.9
)",
                 "test.yaml:6:9: ", "containers[0].networks[0].address", "unknown key 'address'");
}

TEST(YamlReader, UplinkFieldsAndErrors) {
    const Deployment d = read_ok("uplink:\n  devargs: net_null0\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n");
    ASSERT_TRUE(d.uplink.has_value());
    EXPECT_EQ(d.uplink->devargs, "net_null0");
    EXPECT_EQ(d.uplink->address, *Ipv4Cidr::parse("10.9.0.2/24"));
    EXPECT_EQ(d.uplink->gateway, *Ipv4Address::parse("10.9.0.1"));
    EXPECT_EQ(d.uplink->mtu, 1500u);
    EXPECT_EQ(d.uplink->arp_timeout_s, 60u);
    EXPECT_FALSE(d.uplink->gateway_mac.has_value());
    EXPECT_EQ(read_ok("uplink:\n  devargs: x\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  gateway-mac: 02:bb:00:00:00:01\n")
                  .uplink->gateway_mac,
              MacAddress::from_u64(0x02bb00000001ULL));
    expect_error("uplink:\n  devargs: x\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  gateway-mac: 02:bb:00\n",
                 "test.yaml:5:16: ", "uplink.gateway-mac", "expected a MAC address like");
    EXPECT_FALSE(read_ok("dataplane:\n  workers: 1\n").uplink.has_value());
    expect_error("uplink:\n  devargs: net_null0\n  gateway: 10.9.0.1\n", "test.yaml:2:3: ", "uplink.address",
                 "required key is missing");
    expect_error("uplink:\n  devargs: net_null0\n  address: 10.9.0.2\n  gateway: 10.9.0.1\n", "test.yaml:3:12: ",
                 "uplink.address", "expected a CIDR");
    expect_error("uplink:\n  devargs: x\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  vlan: 3\n",
                 "test.yaml:5:3: ", "uplink.vlan", "unknown key 'vlan'");
}

TEST(YamlReader, DuplicateKeyIsAnError) {
    expect_error("dataplane:\n  workers: 2\n  workers: 3\n", "test.yaml:3:3: ", "dataplane.workers",
                 "duplicate key 'workers'");
}

TEST(YamlReader, IntegerExpected) {
    expect_error("dataplane:\n  workers: two\n", "test.yaml:2:12: ", "dataplane.workers",
                 "expected an integer, got 'two'");
    expect_error("dataplane:\n  mbufs: -5\n", "test.yaml:2:10: ", "dataplane.mbufs", "expected an integer, got '-5'");
    expect_error("dataplane:\n  burst: 1.5\n", "test.yaml:2:10: ", "dataplane.burst", "expected an integer");
    expect_error("dataplane:\n  rx-ring: [1]\n", "test.yaml:2:12: ", "dataplane.rx-ring",
                 "expected an integer, got a list");
}

TEST(YamlReader, IntegerOutOfRangeForItsField) {
    expect_error("dataplane:\n  burst: 70000\n", "test.yaml:2:10: ", "dataplane.burst",
                 "expected an integer from 0 to 65535, got 70000");
    expect_error("bridge:\n  mtu: 99999999999999999999999\n", "test.yaml:2:8: ", "bridge.mtu",
                 "expected an integer from 0 to 4294967295");
}

TEST(YamlReader, NullValueIsReportedAtItsKey) {
    expect_error("networks:\n  - name:\n    subnet: 10.1.0.0/24\n", "test.yaml:2:5: ", "networks[0].name",
                 "expected a string, got nothing");
}

TEST(YamlReader, CidrAddressMacBoolAndMethodTypes) {
    expect_error("networks:\n  - name: a\n    subnet: 10.1.0.0\n", "test.yaml:3:13: ", "networks[0].subnet",
                 "expected a CIDR like 10.0.0.0/24, got '10.1.0.0'");
    expect_error("bridge:\n  bip: 172.17.0.1/33\n", "test.yaml:2:8: ", "bridge.bip",
                 "expected a CIDR like 10.0.0.0/24");
    expect_error("networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    gateway: 10.1.0.300\n",
                 "test.yaml:4:14: ", "networks[0].gateway", "expected an IPv4 address like 10.0.0.2, got '10.1.0.300'");
    expect_error("networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    internal: maybe\n",
                 "test.yaml:4:15: ", "networks[0].internal", "expected true or false, got 'maybe'");
    expect_error("dataplane:\n  workers: 2\n  spread-flows: 2\n", "test.yaml:3:17: ", "dataplane.spread-flows",
                 "expected true or false, got '2'");
    expect_error(R"(networks:
  - name: a
    subnet: 10.1.0.0/24
    static-macs:
      - {mac: 02:42:zz:00:00:01, port: c1}
)",
                 "test.yaml:5:15: ", "networks[0].static-macs[0].mac", "expected a MAC address like");
    expect_error("containers:\n  - name: c\n    netns: /run/netns/c\n    method: macvtap\n",
                 "test.yaml:4:13: ", "containers[0].method", "expected veth, tap or docker, got 'macvtap'");
}

TEST(YamlReader, ListsAndMappingsExpected) {
    expect_error("networks:\n  name: a\n", "test.yaml:2:3: ", "networks", "expected a list, got a mapping");
    expect_error("dataplane: 5\n", "test.yaml:1:12: ", "dataplane", "expected a mapping, got '5'");
    expect_error("dataplane:\n  eal-args: --log-level=8\n", "test.yaml:2:13: ", "dataplane.eal-args",
                 "expected a list");
    expect_error("networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    options: [x]\n",
                 "test.yaml:4:14: ", "networks[0].options", "expected a mapping, got a list");
    expect_error("containers:\n  - name: c\n    netns: /n\n    networks:\n      - [a]\n",
                 "test.yaml:5:9: ", "containers[0].networks[0]", "expected a network name or a mapping");
}

TEST(YamlReader, RequiredKeysAreReportedAtTheirObject) {
    expect_error("networks:\n  - name: a\n    mtu: 1400\n", "test.yaml:2:5: ", "networks[0].subnet",
                 "required key is missing");
    expect_error("containers:\n  - name: c\n", "test.yaml:2:5: ", "containers[0].netns", "required key is missing");
    expect_error("ports:\n  - name: p\n    network: bridge\n", "test.yaml:2:5: ", "ports[0].devargs",
                 "required key is missing");
    expect_error("containers:\n  - name: c\n    netns: /n\n    networks:\n      - ip: 172.17.0.5\n",
                 "test.yaml:5:9: ", "containers[0].networks[0].name", "required key is missing");
}

TEST(YamlReader, InvalidYamlGivesLineAndColumn) {
    auto r = read_yaml_string("networks:\n  - name: a\n   subnet: [10.1.0.0/24\n", kFile);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("test.yaml:3:", 0), 0u) << r.message();
    EXPECT_NE(r.message().find("invalid YAML"), std::string::npos) << r.message();
}

TEST(YamlReader, OnlyOneDocument) {
    auto r = read_yaml_string("dataplane:\n  workers: 2\n---\ndataplane:\n  workers: 3\n", kFile);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), "test.yaml:4:1: expected one YAML document, found 2");
}

TEST(YamlReader, TopLevelMustBeAMapping) {
    auto r = read_yaml_string("- a\n- b\n", kFile);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), "test.yaml:1:1: expected a mapping, got a list");
}

TEST(YamlReader, MissingFileNamesThePath) {
    TempDir dir;
    const std::string path = dir.path() + "/absent.yaml";
    auto r = read_yaml_file(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), path + ": cannot open: No such file or directory");
}

TEST(YamlReader, DirectoryIsNotAFile) {
    TempDir dir;
    auto r = read_yaml_file(dir.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message(), dir.path() + ": cannot read: Is a directory");
}

TEST(YamlReader, EmptyDocumentGivesDefaults) {
    Deployment d = read_ok("# nothing here\n");
    EXPECT_EQ(without_positions(d), without_positions(Deployment{}));
    EXPECT_EQ(d.source_file, kFile);
}

TEST(YamlReader, ListItemsKeepTheirLines) {
    Deployment d = read_ok(R"(dataplane:
  workers: 2
networks:
  - name: front
    subnet: 10.1.0.0/24
    static-macs:
      - mac: 02:00:00:00:00:01
        port: web
  - name: back
    subnet: 10.2.0.0/24
containers:
  - name: web
    netns: /run/netns/web
    networks:
      - front
      - name: back
        ip: 10.2.0.9
  - name: db
    netns: /run/netns/db
ports:
  - name: gen
    devargs: net_null0
    network: back
)");
    EXPECT_EQ(d.dataplane.pos.line, 2);
    ASSERT_EQ(d.networks.size(), 2u);
    EXPECT_EQ(d.networks[0].pos.line, 4);
    EXPECT_EQ(d.networks[0].pos.column, 5);
    EXPECT_EQ(d.networks[0].static_macs.at(0).pos.line, 7);
    EXPECT_EQ(d.networks[1].pos.line, 9);
    ASSERT_EQ(d.containers.size(), 2u);
    EXPECT_EQ(d.containers[0].pos.line, 12);
    ASSERT_EQ(d.containers[0].networks.size(), 2u);
    EXPECT_EQ(d.containers[0].networks[0].pos.line, 15);
    EXPECT_EQ(d.containers[0].networks[1].pos.line, 16);
    EXPECT_EQ(d.containers[1].pos.line, 18);
    // The implicit [bridge] endpoint points at its container.
    EXPECT_EQ(d.containers[1].networks.at(0).pos.line, 18);
    EXPECT_EQ(d.ports.at(0).pos.line, 21);
    EXPECT_EQ(d.ports[0].pos.file, kFile);
}

TEST(YamlReader, ReadsEveryField) {
    Deployment d = read_ok(R"(dataplane:
  workers: 3
  mbufs: 16383
  burst: 64
  rx-ring: 2048
  tx-ring: 512
  mac-table-size: 4096
  mac-ageing: 60
  idle-sleep-us: 10
  idle-sleep-max-us: 500
  idle-poll-us: 2500
  spread-flows: true
  memory-mb: 256
  socket: /tmp/x.sock
  eal-args: [--log-level=8, -a, "0000:00:01.0"]
bridge:
  bip: 192.168.5.1/24
  fixed-cidr: 192.168.5.128/25
  mtu: 9000
networks:
  - name: n1
    driver: bridge
    subnet: 10.9.0.0/16
    gateway: 10.9.255.254
    ip-range: 10.9.1.0/24
    internal: true
    mtu: 1400
    options:
      com.docker.network.bridge.name: br-n1
containers:
  - name: c1
    netns: /proc/1/ns/net
    method: tap
    networks:
      - {name: n1, ip: 10.9.1.7, mac: 02:00:00:00:00:07}
)");
    const auto& dp = d.dataplane;
    EXPECT_EQ(dp.workers, 3u);
    EXPECT_EQ(dp.mbufs, 16383u);
    EXPECT_EQ(dp.burst, 64);
    EXPECT_EQ(dp.rx_ring, 2048);
    EXPECT_EQ(dp.tx_ring, 512);
    EXPECT_EQ(dp.mac_table_size, 4096u);
    EXPECT_EQ(dp.mac_ageing_s, 60u);
    EXPECT_EQ(dp.idle_sleep_us, 10u);
    EXPECT_EQ(dp.idle_sleep_max_us, 500u);
    EXPECT_EQ(dp.idle_poll_us, 2500u);
    EXPECT_TRUE(dp.spread_flows);
    EXPECT_EQ(dp.memory_mb, 256u);
    EXPECT_EQ(dp.socket_path, "/tmp/x.sock");
    EXPECT_EQ(dp.eal_args, (std::vector<std::string>{"--log-level=8", "-a", "0000:00:01.0"}));
    EXPECT_EQ(d.bridge.bip.to_string(), "192.168.5.1/24");
    EXPECT_EQ(d.bridge.fixed_cidr->to_string(), "192.168.5.128/25");
    EXPECT_EQ(d.bridge.mtu, 9000u);
    const auto& n = d.networks.at(0);
    EXPECT_EQ(n.gateway.to_string(), "10.9.255.254");
    EXPECT_EQ(n.ip_range->to_string(), "10.9.1.0/24");
    EXPECT_TRUE(n.internal);
    EXPECT_EQ(n.mtu, 1400u);
    EXPECT_EQ(n.options.at("com.docker.network.bridge.name"), "br-n1");
    const auto& c = d.containers.at(0);
    EXPECT_EQ(c.method, AttachMethod::Tap);
    EXPECT_EQ(c.networks.at(0).ip->to_string(), "10.9.1.7");
    EXPECT_EQ(c.networks.at(0).mac->to_string(), "02:00:00:00:00:07");
}

TEST(YamlReader, DefaultsForGatewayEndpointsAndMtuOption) {
    Deployment d = read_ok(R"(networks:
  - name: a
    subnet: 10.1.0.0/24
    options: {com.docker.network.driver.mtu: "1450"}
containers:
  - name: c
    netns: /run/netns/c
  - name: lonely
    netns: /run/netns/lonely
    networks: []
)");
    EXPECT_EQ(d.networks.at(0).gateway.to_string(), "10.1.0.1");
    EXPECT_EQ(d.networks.at(0).mtu, 1450u);
    EXPECT_EQ(d.containers.at(0).method, AttachMethod::Veth);
    ASSERT_EQ(d.containers.at(0).networks.size(), 1u);
    EXPECT_EQ(d.containers[0].networks[0].network, "bridge");
    EXPECT_FALSE(d.containers[0].networks[0].ip.has_value());
    EXPECT_TRUE(d.containers.at(1).networks.empty());
}

}  // namespace
}  // namespace dpdock::config::test
