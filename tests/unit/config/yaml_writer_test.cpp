// The writer: load(to_yaml(d)) == d for rich and hand-built models,
// save_atomically on a real file system, and the embedded demo.
#include "config/yaml_writer.hpp"

#include <gtest/gtest.h>

#include <map>

#include <filesystem>
#include <fstream>

#include "config/defaults.hpp"
#include "config/resolve.hpp"
#include "config/validate.hpp"
#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

const char* kRich = R"(uplink:
  devargs: net_af_packet9,iface=up0
  address: 192.168.50.2/24
  gateway: 192.168.50.1
  mtu: 9000
  arp-timeout: 30
  gateway-mac: 02:bb:00:00:00:01
nat:
  capacity: 5000
  port-range: 20000-30000
  flows-per-source: 64
  timeouts:
    tcp-established: 7200
    icmp: 5
dataplane:
  workers: 4
  mbufs: 32767
  burst: 64
  rx-ring: 4096
  tx-ring: 2048
  mac-table-size: 1024
  mac-ageing: 30
  idle-sleep-us: 100
  spread-flows: true
  memory-mb: 1024
  socket: /tmp/dpdock-test.sock
  icmp-errors-per-second: 0
  icmp-errors-burst: 10
  eal-args: ["--log-level=8", "- odd: value", "true", "~", "#not-a-comment", "with 'quotes' and \"more\""]
bridge:
  bip: 192.168.100.1/22
  fixed-cidr: 192.168.101.0/24
  mtu: 9000
networks:
  - name: front
    subnet: 10.10.0.0/16
    gateway: 10.10.255.254
    ip-range: 10.10.4.0/22
    internal: true
    mtu: 1450
    options:
      com.docker.network.bridge.name: "br front: #1"
      com.docker.network.driver.mtu: "1450"
      com.docker.network.bridge.enable_icc: "false"
    labels:
      team: "web: front"
      tier: ""
    static-macs:
      - {mac: 02:00:00:00:00:10, port: gen}
      - {mac: 02:00:00:00:00:11, port: web}
  - name: back.v2
    subnet: 10.20.0.0/24
containers:
  - name: web
    netns: /run/netns/web
    method: tap
    networks:
      - front
      - {name: back.v2, ip: 10.20.0.50, mac: 02:00:00:00:00:50}
      - bridge
  - name: db
    netns: /proc/4242/ns/net
    networks: [back.v2]
  - name: island
    netns: /run/netns/island
    networks: []
ports:
  - name: gen
    devargs: net_memif0,role=server,socket=/run/dpdock/gen.sock
    network: front
)";

Deployment load_ok(const std::string& yaml, const char* name = kFile) {
    auto r = load_string(yaml, name);
    EXPECT_TRUE(r.ok()) << r.message() << "\n" << yaml;
    return r.ok() ? *r : Deployment{};
}

TEST(YamlWriter, RichDeploymentRoundTrips) {
    const Deployment first = load_ok(kRich);
    ASSERT_EQ(first.containers.size(), 3u);
    const std::string text = to_yaml(first);
    const Deployment second = load_ok(text, "saved.yaml");
    EXPECT_EQ(without_positions(second), without_positions(first)) << text;
    // Writing is deterministic, so a second save changes nothing.
    EXPECT_EQ(to_yaml(second), text);
    // The text carries the resolved addresses, not just the request.
    EXPECT_NE(text.find("10.10.4.0"), std::string::npos) << text;
    EXPECT_NE(text.find("02:42:0a:0a:04:00"), std::string::npos) << text;
    EXPECT_NE(text.find("networks: []"), std::string::npos) << text;
    EXPECT_EQ(first.networks.at(0).labels,
              (std::map<std::string, std::string>{{"team", "web: front"}, {"tier", ""}}));  // Docker's --label
    EXPECT_EQ(first.nat.port_lo, 20000);
    EXPECT_EQ(first.nat.flows_per_source, 64u);
    EXPECT_EQ(first.nat.timeouts.tcp_established, 7200u);
    EXPECT_EQ(first.nat.timeouts.udp_assured, 180u);  // not given: Linux's default
}

TEST(YamlWriter, DefaultsAreNotWritten) {
    const std::string text = to_yaml(load_ok("containers:\n  - {name: c, netns: /n}\n"));
    EXPECT_EQ(text.find("dataplane"), std::string::npos) << text;
    EXPECT_EQ(text.find("nat"), std::string::npos) << text;
    EXPECT_EQ(text.find("mtu"), std::string::npos) << text;
    EXPECT_EQ(text.find("method"), std::string::npos) << text;
    EXPECT_NE(text.find("bip: 172.17.0.1/16"), std::string::npos) << text;
    EXPECT_NE(text.find("ip: 172.17.0.2"), std::string::npos) << text;
}

TEST(YamlWriter, HandBuiltModelRoundTrips) {
    Deployment d;
    d.dataplane.eal_args = {"-a", "0000:00:08.0"};
    NetworkSpec n;
    n.name = "lab";
    n.subnet = *Ipv4Cidr::parse("10.50.0.0/24");
    n.gateway = *Ipv4Address::parse("10.50.0.1");
    d.networks.push_back(n);
    ContainerSpec c;
    c.name = "probe";
    c.netns = "/run/netns/probe";
    c.networks.push_back(EndpointSpec{"lab", std::nullopt, std::nullopt, {"probe-alias", "shared"}, {}});
    d.containers.push_back(c);
    d.dns.servers = {*Ipv4Address::parse("192.0.2.53"), *Ipv4Address::parse("198.51.100.53")};
    d.dns.upstream_port = 5353;
    d.dns.queries_per_second = 100000;
    d.dns.resolv_conf = false;
    ASSERT_TRUE(validate(d).ok());
    ASSERT_TRUE(resolve(d).ok());
    const Deployment back = load_ok(to_yaml(d));
    EXPECT_EQ(without_positions(back), without_positions(d));
}

TEST(YamlWriter, EmbeddedDemoLoads) {
    auto r = load_string(embedded_demo_yaml(), "<embedded demo>");
    ASSERT_TRUE(r.ok()) << r.message();
    const Deployment& d = *r;
    EXPECT_EQ(d.dataplane.idle_sleep_us, DataplaneSpec{}.idle_sleep_us);  // idle workers back off
    EXPECT_EQ(d.dataplane.socket_path, "/run/dpdock/dpdock.sock");
    EXPECT_EQ(d.bridge.bip.to_string(), "172.17.0.1/16");
    ASSERT_EQ(d.containers.size(), 2u);
    EXPECT_EQ(d.containers[0].name, "demo1");
    EXPECT_EQ(d.containers[0].netns, "/run/netns/dpdock-demo1");
    EXPECT_EQ(d.containers[0].method, AttachMethod::Veth);
    EXPECT_EQ(d.containers[0].networks.at(0).ip, Ipv4Address::parse("172.17.0.2"));
    EXPECT_EQ(d.containers[1].name, "demo2");
    EXPECT_EQ(d.containers[1].netns, "/run/netns/dpdock-demo2");
    EXPECT_EQ(d.containers[1].networks.at(0).ip, Ipv4Address::parse("172.17.0.3"));
    EXPECT_EQ(d.containers[1].networks.at(0).mac, MacAddress::parse("02:42:ac:11:00:03"));
    EXPECT_TRUE(d.networks.empty());
    EXPECT_TRUE(d.ports.empty());
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    return names;
}

TEST(YamlWriter, SaveAtomicallyWritesAFileThatLoadsBack) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    const std::string path = dir.path() + "/dpdock.yaml";
    {
        std::ofstream old(path);
        old << "this: is the old file\n";
    }
    const Deployment d = load_ok(kRich);
    ASSERT_TRUE(save_atomically(d, path).ok());

    auto back = load_file(path);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(without_positions(*back), without_positions(d));
    EXPECT_EQ(back->source_file, path);
    EXPECT_EQ(back->networks.at(0).pos.file, path);
    // Only the target is left: the temp file was renamed, not copied.
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"dpdock.yaml"});
    const auto perms = std::filesystem::status(path).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                  std::filesystem::perms::group_read | std::filesystem::perms::others_read);
}

TEST(YamlWriter, SaveIntoMissingDirectoryFailsAndLeavesNothing) {
    TempDir dir;
    const std::string path = dir.path() + "/no/such/dir/dpdock.yaml";
    Status s = save_atomically(Deployment{}, path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("cannot create a temporary file: No such file or directory"), std::string::npos)
        << s.message();
    EXPECT_TRUE(entries(dir.path()).empty());
}

}  // namespace
}  // namespace dpdock::config::test
