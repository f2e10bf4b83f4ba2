// validate(): one failing deployment per rule, each checked for the object's
// file:line:col, the key path and the message; plus deployments that pass.
#include "config/validate.hpp"

#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

struct RuleCase {
    const char* name;
    std::string yaml;
    const char* location;
    const char* key_path;
    const char* text;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

// One network "a" (10.1.0.0/24) at line 2, followed by `extra` lines of it.
std::string net_a(const std::string& extra) { return "networks:\n  - name: a\n    subnet: 10.1.0.0/24\n" + extra; }

// Network "a" plus container "c" (line 5) with one endpoint on a (line 8).
std::string endpoint_on_a(const std::string& endpoint_fields) {
    return net_a("containers:\n  - name: c\n    netns: /run/netns/c\n    networks:\n      - name: a\n" +
                 endpoint_fields);
}

std::string two_containers_on_a(const std::string& first, const std::string& second) {
    return net_a("containers:\n  - name: c1\n    netns: /n/c1\n    networks:\n      - {name: a, " + first +
                 "}\n  - name: c2\n    netns: /n/c2\n    networks:\n      - {name: a, " + second + "}\n");
}

const RuleCase kRules[] = {
    // names
    {"EmptyName", "networks:\n  - name: ''\n    subnet: 10.1.0.0/24\n", "test.yaml:2:5: ", "networks[0].name",
     "name must not be empty"},
    {"BadNameCharacter", "networks:\n  - name: -a\n    subnet: 10.1.0.0/24\n", "test.yaml:2:5: ", "networks[0].name",
     "invalid name '-a'"},
    {"BadNameSpace", "containers:\n  - name: my box\n    netns: /n\n", "test.yaml:2:5: ", "containers[0].name",
     "invalid name 'my box'"},
    {"NameTooLong", "ports:\n  - name: " + std::string(64, 'p') + "\n    devargs: net_null0\n    network: bridge\n",
     "test.yaml:2:5: ", "ports[0].name", "longer than 63 characters"},
    {"BridgeNameReserved", "networks:\n  - name: bridge\n    subnet: 10.1.0.0/24\n",
     "test.yaml:2:5: ", "networks[0].name", "'bridge' is reserved for the default network"},
    {"DuplicateNetwork", net_a("  - name: a\n    subnet: 10.2.0.0/24\n"), "test.yaml:4:5: ", "networks[1].name",
     "duplicate network name 'a' (also networks[0])"},
    {"DuplicateContainer", "containers:\n  - name: c\n    netns: /n/1\n  - name: c\n    netns: /n/2\n",
     "test.yaml:4:5: ", "containers[1].name", "duplicate name 'c' (also containers[0])"},
    {"PortNameClashesWithContainer",
     "containers:\n  - name: x\n    netns: /n/1\nports:\n  - name: x\n    devargs: net_null0\n    network: bridge\n",
     "test.yaml:5:5: ", "ports[0].name", "duplicate name 'x' (also containers[0])"},
    // networks
    {"OverlayDriverWithoutUplink", net_a("    driver: overlay\n"), "test.yaml:2:5: ", "networks[0].driver",
     "overlay network 'a' needs an uplink"},
    {"UnknownDriver", net_a("    driver: macvlan\n"), "test.yaml:2:5: ", "networks[0].driver",
     "unknown driver 'macvlan'"},
    {"SubnetHostBits", "networks:\n  - name: a\n    subnet: 10.1.0.7/24\n", "test.yaml:2:5: ", "networks[0].subnet",
     "has host bits set (did you mean 10.1.0.0/24?)"},
    {"SubnetTooSmall", "networks:\n  - name: a\n    subnet: 10.1.0.0/31\n", "test.yaml:2:5: ", "networks[0].subnet",
     "leaves no room"},
    {"GatewayOutsideSubnet", net_a("    gateway: 10.2.0.1\n"), "test.yaml:2:5: ", "networks[0].gateway",
     "gateway 10.2.0.1 is outside subnet 10.1.0.0/24"},
    {"GatewayIsNetworkAddress", net_a("    gateway: 10.1.0.0\n"), "test.yaml:2:5: ", "networks[0].gateway",
     "network or broadcast address"},
    {"GatewayIsBroadcast", net_a("    gateway: 10.1.0.255\n"), "test.yaml:2:5: ", "networks[0].gateway",
     "network or broadcast address"},
    {"IpRangeOutsideSubnet", net_a("    ip-range: 10.2.0.0/28\n"), "test.yaml:2:5: ", "networks[0].ip-range",
     "not inside subnet 10.1.0.0/24"},
    {"IpRangeWiderThanSubnet", net_a("    ip-range: 10.0.0.0/8\n"), "test.yaml:2:5: ", "networks[0].ip-range",
     "not inside subnet"},
    {"IpRangeHostBits", net_a("    ip-range: 10.1.0.9/28\n"), "test.yaml:2:5: ", "networks[0].ip-range",
     "has host bits set"},
    {"SubnetsOverlap", net_a("  - name: b\n    subnet: 10.1.0.128/25\n"), "test.yaml:4:5: ", "networks[1].subnet",
     "subnet 10.1.0.128/25 overlaps network 'a' (10.1.0.0/24)"},
    {"SubnetOverlapsDefaultBridge", "networks:\n  - name: a\n    subnet: 172.17.42.0/24\n",
     "test.yaml:2:5: ", "networks[0].subnet", "overlaps network 'bridge' (172.17.0.0/16)"},
    {"NetworkMtuTooSmall", net_a("    mtu: 67\n"), "test.yaml:2:5: ", "networks[0].mtu", "mtu 67 is outside 68..9216"},
    {"NetworkMtuTooLarge", net_a("    mtu: 9217\n"), "test.yaml:2:5: ", "networks[0].mtu", "outside 68..9216"},
    // options
    {"UnknownOption", net_a("    options:\n      com.docker.network.bridge.inhibit_ipv4: 'true'\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.bridge.inhibit_ipv4]", "unknown option"},
    {"IccNotABool", net_a("    options:\n      com.docker.network.bridge.enable_icc: 'off'\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.bridge.enable_icc]",
     "expected true or false, got 'off'"},
    {"MasqueradeNotABool", net_a("    options:\n      com.docker.network.bridge.enable_ip_masquerade: 'no'\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.bridge.enable_ip_masquerade]",
     "expected true or false, got 'no'"},
    {"HostBinding", net_a("    options:\n      com.docker.network.bridge.host_binding_ipv4: localhost\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.bridge.host_binding_ipv4]",
     "expected an IPv4 address, got 'localhost'"},
    {"OptionMtuNotANumber", net_a("    options:\n      com.docker.network.driver.mtu: big\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.driver.mtu]", "expected an integer, got 'big'"},
    {"OptionMtuDisagrees", net_a("    mtu: 1500\n    options:\n      com.docker.network.driver.mtu: 1400\n"),
     "test.yaml:2:5: ", "networks[0].options[com.docker.network.driver.mtu]", "they must agree"},
    {"OptionMtuOutOfRange", net_a("    options:\n      com.docker.network.driver.mtu: 20000\n"),
     "test.yaml:2:5: ", "networks[0].mtu", "mtu 20000 is outside"},
    // default bridge
    {"BipIsNetworkAddress", "bridge:\n  bip: 172.17.0.0/16\n", "test.yaml:2:3: ", "bridge.bip",
     "must be the gateway's address"},
    {"BipTooSmall", "bridge:\n  bip: 172.17.0.1/31\n", "test.yaml:2:3: ", "bridge.bip", "leaves no room"},
    {"FixedCidrOutsideBip", "bridge:\n  bip: 172.17.0.1/16\n  fixed-cidr: 10.0.0.0/24\n",
     "test.yaml:2:3: ", "bridge.fixed-cidr", "is not inside bip 172.17.0.1/16"},
    {"FixedCidrHostBits", "bridge:\n  fixed-cidr: 172.17.1.1/24\n", "test.yaml:2:3: ", "bridge.fixed-cidr",
     "has host bits set"},
    {"BridgeMtu", "bridge:\n  mtu: 10000\n", "test.yaml:2:3: ", "bridge.mtu", "mtu 10000 is outside 68..9216"},
    // dataplane
    {"NoWorkers", "dataplane:\n  workers: 0\n", "test.yaml:2:3: ", "dataplane.workers", "0 is outside 1..16"},
    {"NoIcmpBurst", "dataplane:\n  icmp-errors-burst: 0\n", "test.yaml:2:3: ", "dataplane.icmp-errors-burst",
     "0 is outside 1..1000000"},
    {"TooManyWorkers", "dataplane:\n  workers: 17\n", "test.yaml:2:3: ", "dataplane.workers", "17 is outside 1..16"},
    // A worker asleep for minutes would leave memif and NIC traffic waiting that long.
    {"IdleSleepTooLong", "dataplane:\n  idle-sleep-us: 1000001\n", "test.yaml:2:3: ", "dataplane.idle-sleep-us",
     "1000001 is outside 0..1000000"},
    {"IdleSleepMaxTooLong", "dataplane:\n  idle-sleep-max-us: 4000000000\n", "test.yaml:2:3: ",
     "dataplane.idle-sleep-max-us", "4000000000 is outside 0..1000000"},
    {"IdlePollTooLong", "dataplane:\n  idle-poll-us: 2000000\n", "test.yaml:2:3: ", "dataplane.idle-poll-us",
     "2000000 is outside 0..1000000"},
    {"BurstZero", "dataplane:\n  burst: 0\n", "test.yaml:2:3: ", "dataplane.burst", "0 is outside 1..256"},
    // The dataplane refuses bursts over kMaxBurst: validation must not accept them.
    {"BurstTooLarge", "dataplane:\n  burst: 257\n", "test.yaml:2:3: ", "dataplane.burst", "257 is outside 1..256"},
    {"BurstAboveRxRing", "dataplane:\n  rx-ring: 128\n  burst: 256\n", "test.yaml:2:3: ", "dataplane.burst",
     "burst 256 is larger than rx-ring 128"},
    {"RxRingNotPowerOfTwo", "dataplane:\n  rx-ring: 1000\n", "test.yaml:2:3: ", "dataplane.rx-ring",
     "1000 must be a power of two from 64 to 16384"},
    {"RxRingTooSmall", "dataplane:\n  rx-ring: 32\n  burst: 16\n", "test.yaml:2:3: ", "dataplane.rx-ring",
     "power of two from 64"},
    {"TxRingTooLarge", "dataplane:\n  tx-ring: 32768\n", "test.yaml:2:3: ", "dataplane.tx-ring",
     "32768 must be a power of two"},
    {"TooFewMbufs", "dataplane:\n  mbufs: 1023\n", "test.yaml:2:3: ", "dataplane.mbufs", "below the minimum of 1024"},
    {"MacTableTooSmall", "dataplane:\n  mac-table-size: 15\n", "test.yaml:2:3: ", "dataplane.mac-table-size",
     "below the minimum of 16"},
    {"TooLittleMemory", "dataplane:\n  memory-mb: 63\n", "test.yaml:2:3: ", "dataplane.memory-mb",
     "below the minimum of 64"},
    {"RelativeSocket", "dataplane:\n  socket: dpdock.sock\n", "test.yaml:2:3: ", "dataplane.socket",
     "must be an absolute path"},
    // containers and endpoints
    {"RelativeNetns", "containers:\n  - name: c\n    netns: run/netns/c\n", "test.yaml:2:5: ", "containers[0].netns",
     "netns must be an absolute path"},
    {"UnknownEndpointNetwork", "containers:\n  - name: c\n    netns: /n\n    networks:\n      - bridge\n      - nope\n",
     "test.yaml:6:9: ", "containers[0].networks[1]", "unknown network 'nope'"},
    {"UnknownNetworkInFlowList", "containers:\n  - name: c\n    netns: /n\n    networks: [a]\n",
     "test.yaml:4:16: ", "containers[0].networks[0]", "unknown network 'a'"},
    {"NetworkTwice", endpoint_on_a("      - a\n"), "test.yaml:9:9: ", "containers[0].networks[1]",
     "network 'a' is listed twice"},
    {"StaticIpOutsideSubnet", endpoint_on_a("        ip: 10.2.0.5\n"),
     "test.yaml:8:9: ", "containers[0].networks[0].ip", "ip 10.2.0.5 is outside subnet 10.1.0.0/24 of network 'a'"},
    {"StaticIpIsGateway", endpoint_on_a("        ip: 10.1.0.1\n"), "test.yaml:8:9: ", "containers[0].networks[0].ip",
     "gateway, network or broadcast"},
    {"StaticIpIsBroadcast", endpoint_on_a("        ip: 10.1.0.255\n"),
     "test.yaml:8:9: ", "containers[0].networks[0].ip", "gateway, network or broadcast"},
    {"StaticIpIsNetworkAddress", endpoint_on_a("        ip: 10.1.0.0\n"),
     "test.yaml:8:9: ", "containers[0].networks[0].ip", "gateway, network or broadcast"},
    {"StaticIpTwice", two_containers_on_a("ip: 10.1.0.9", "ip: 10.1.0.9"), "test.yaml:12:9: ",
     "containers[1].networks[0].ip", "ip 10.1.0.9 is already used by container 'c1' on network 'a'"},
    {"MulticastEndpointMac", endpoint_on_a("        mac: 01:00:5e:00:00:01\n"),
     "test.yaml:8:9: ", "containers[0].networks[0].mac", "not a unicast address"},
    {"ZeroEndpointMac", endpoint_on_a("        mac: 00:00:00:00:00:00\n"),
     "test.yaml:8:9: ", "containers[0].networks[0].mac", "not a unicast address"},
    {"MacTwice", two_containers_on_a("mac: 02:00:00:00:00:01", "mac: 02:00:00:00:00:01"),
     "test.yaml:12:9: ", "containers[1].networks[0].mac", "already used by container 'c1'"},
    // ports
    {"EmptyDevargs", "ports:\n  - name: p\n    devargs: ''\n    network: bridge\n",
     "test.yaml:2:5: ", "ports[0].devargs", "devargs must not be empty"},
    {"PortOnUnknownNetwork", "ports:\n  - name: p\n    devargs: net_null0\n    network: nope\n",
     "test.yaml:2:5: ", "ports[0].network", "unknown network 'nope'"},
    // static MACs
    {"StaticMacMulticast", net_a("    static-macs:\n      - {mac: ff:ff:ff:ff:ff:ff, port: p}\n"),
     "test.yaml:5:9: ", "networks[0].static-macs[0].mac", "not a unicast address"},
    {"StaticMacUnknownPort", net_a("    static-macs:\n      - {mac: 02:00:00:00:00:01, port: ghost}\n"),
     "test.yaml:5:9: ", "networks[0].static-macs[0].port",
     "'ghost' is neither a container connected to network 'a' nor a port of it"},
    {"StaticMacContainerOnOtherNetwork",
     net_a("    static-macs:\n      - {mac: 02:00:00:00:00:01, port: c}\ncontainers:\n  - name: c\n    netns: /n\n"),
     "test.yaml:5:9: ", "networks[0].static-macs[0].port", "neither a container connected to network 'a'"},
    {"StaticMacTwice",
     net_a("    static-macs:\n      - {mac: 02:00:00:00:00:01, port: p}\n      - {mac: 02:00:00:00:00:01, port: p}\n"
           "ports:\n  - {name: p, devargs: net_null0, network: a}\n"),
     "test.yaml:6:9: ", "networks[0].static-macs[1].mac", "listed twice"},
    // nat
    {"NatCapacityZero", "nat:\n  capacity: 0\n", "test.yaml:2:3: ", "nat.capacity", "0 is outside 1..16777216"},
    {"NatFlowsPerSourceBeyondCapacity", "nat:\n  capacity: 100\n  flows-per-source: 101\n", "test.yaml:2:3: ",
     "nat.flows-per-source", "101 is more than nat.capacity (100): use 0 for no limit"},
    {"NatPortRangeReversed", "nat:\n  port-range: 2000-1000\n", "test.yaml:2:3: ", "nat.port-range",
     "2000-1000 is empty or starts at 0"},
    {"NatPortRangeMalformed", "nat:\n  port-range: 1000-\n", "test.yaml:2:15: ", "nat.port-range",
     "expected a port range like 1024-65535, got '1000-'"},
    {"NatTimeoutZero", "nat:\n  timeouts:\n    udp-assured: 0\n", "test.yaml:2:3: ", "nat.timeouts.udp-assured",
     "a timeout must be at least 1 second"},
    {"NatUnknownTimeout", "nat:\n  timeouts:\n    sctp: 5\n", "test.yaml:3:5: ", "nat.timeouts.sctp",
     "unknown key 'sctp'"},
    // uplink
    {"UplinkGatewayOffSubnet", "uplink:\n  devargs: d\n  address: 10.9.0.2/24\n  gateway: 10.8.0.1\n",
     "test.yaml:2:3: ", "uplink.gateway", "gateway 10.8.0.1 must be another host address inside 10.9.0.2/24"},
    {"UplinkGatewayIsTheHost", "uplink:\n  devargs: d\n  address: 10.9.0.2/24\n  gateway: 10.9.0.2\n",
     "test.yaml:2:3: ", "uplink.gateway", "must be another host address"},
    {"UplinkAddressIsNetwork", "uplink:\n  devargs: d\n  address: 10.9.0.0/24\n  gateway: 10.9.0.1\n",
     "test.yaml:2:3: ", "uplink.address", "is the subnet's network or broadcast address"},
    {"UplinkPrefixTooLong", "uplink:\n  devargs: d\n  address: 10.9.0.2/32\n  gateway: 10.9.0.1\n",
     "test.yaml:2:3: ", "uplink.address", "prefix of 10.9.0.2/32 must be 1..30"},
    {"UplinkOverlapsANetwork", "uplink:\n  devargs: d\n  address: 172.17.5.2/24\n  gateway: 172.17.5.1\n",
     "test.yaml:2:3: ", "uplink.address", "overlaps network 'bridge' (172.17.0.0/16)"},
    {"UplinkEmptyDevargs", "uplink:\n  devargs: ''\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n",
     "test.yaml:2:3: ", "uplink.devargs", "must not be empty"},
    {"UplinkZeroArpTimeout",
     "uplink:\n  devargs: d\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  arp-timeout: 0\n", "test.yaml:2:3: ",
     "uplink.arp-timeout", "at least 1 second"},
    {"UplinkMulticastGatewayMac",
     "uplink:\n  devargs: d\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  gateway-mac: 01:00:5e:00:00:01\n",
     "test.yaml:2:3: ", "uplink.gateway-mac", "must be a unicast, non-zero MAC"},
    {"UplinkBadMtu", "uplink:\n  devargs: d\n  address: 10.9.0.2/24\n  gateway: 10.9.0.1\n  mtu: 20\n",
     "test.yaml:2:3: ", "uplink.mtu", "outside 68..9216"},
};

class ValidateRule : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ValidateRule, FailsWithPositionAndKeyPath) {
    const RuleCase& c = GetParam();
    expect_error(c.yaml, c.location, c.key_path, c.text);
}

INSTANTIATE_TEST_SUITE_P(Rules, ValidateRule, ::testing::ValuesIn(kRules),
                         [](const ::testing::TestParamInfo<RuleCase>& info) { return std::string(info.param.name); });

TEST(Validate, AcceptsDockerDefaultOptionsAndBridgeName) {
    auto r = load(net_a(R"(    options:
      com.docker.network.bridge.enable_icc: "true"
      com.docker.network.bridge.enable_ip_masquerade: "true"
      com.docker.network.bridge.host_binding_ipv4: 0.0.0.0
      com.docker.network.bridge.name: any text at all
      com.docker.network.driver.mtu: "1500"
)"));
    EXPECT_TRUE(r.ok()) << r.message();
}

TEST(Validate, IccMayBeSwitchedOff) {
    auto r = load(net_a("    options:\n      com.docker.network.bridge.enable_icc: 'false'\n"));
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_FALSE(config::icc_enabled(r->networks.at(0)));
}

TEST(Validate, StaticMacMayNameAPortOrAConnectedContainer) {
    auto r = load(net_a(R"(    static-macs:
      - {mac: 02:00:00:00:00:01, port: gen}
      - {mac: 02:00:00:00:00:02, port: c}
containers:
  - name: c
    netns: /run/netns/c
    networks: [a]
ports:
  - name: gen
    devargs: net_null0
    network: a
)"));
    EXPECT_TRUE(r.ok()) << r.message();
}

TEST(Validate, StaticIpOutsideIpRangeIsAllowed) {
    // Docker allows a static address anywhere in the subnet, ip-range only limits allocation.
    auto r = load(net_a("    ip-range: 10.1.0.128/25\n") +
                  "containers:\n  - name: c\n    netns: /n\n    networks:\n      - {name: a, ip: 10.1.0.5}\n");
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->containers.at(0).networks.at(0).ip->to_string(), "10.1.0.5");
}

TEST(Validate, SameIpOnDifferentNetworksIsFine) {
    auto r = load(net_a("  - name: b\n    subnet: 10.2.0.0/24\n") +
                  "containers:\n  - name: c1\n    netns: /n/1\n    networks: [{name: a, mac: 02:00:00:00:00:01}]\n"
                  "  - name: c2\n    netns: /n/2\n    networks: [{name: b, mac: 02:00:00:00:00:01}]\n");
    EXPECT_TRUE(r.ok()) << r.message();
}

TEST(Validate, ObjectsMadeOutsideAFileHaveNoLineNumbersAndNoKeyPaths) {
    Deployment d;
    NetworkSpec n;
    n.name = "bad name";
    n.subnet = *Ipv4Cidr::parse("10.1.0.0/24");
    n.gateway = *Ipv4Address::parse("10.1.0.1");
    d.networks.push_back(n);
    Status s = validate(d);
    ASSERT_FALSE(s.ok());
    // The CLI user typed the name, not "networks[0].name" (issue 20).
    EXPECT_EQ(s.message(),
              "invalid name 'bad name': use letters, digits, '_', '.' and '-', starting with a letter or digit");
}

// net_tap fills its receive rings from the pool when it starts: each TAP
// endpoint holds a ring per worker of min(rx-ring, 64) mbufs for good (issue
// 14 item 13; base/util/tap_ring.hpp).
TEST(Validate, TapEndpointsRingsCountAgainstMbufs) {
    const std::string tap = "dataplane:\n  workers: 2\n  mbufs: 1300\n  rx-ring: 1024\ncontainers:\n"
                            "  - name: t1\n    netns: /n/1\n    method: tap\n    networks: [bridge]\n";
    EXPECT_TRUE(load(tap).ok()) << load(tap).message();  // 2 x 64 + 1024 for traffic <= 1300
    const std::string two = tap + "  - name: v\n    netns: /n/3\n    networks: [bridge]\n"
                                  "  - name: t2\n    netns: /n/2\n    method: tap\n    networks: [bridge]\n";
    EXPECT_TRUE(load(two).ok()) << load(two).message();  // 4 x 64 + 1024 = 1280
    expect_error(two + "  - name: t3\n    netns: /n/4\n    method: tap\n    networks: [bridge]\n",
                 "test.yaml:17:5: ", "containers[3].method",
                 "container 't3': 3 TAP endpoints hold 384 mbufs in their receive rings (128 each: a ring per "
                 "worker); with 1024 for traffic that is 1408, more than dataplane.mbufs 1300 (raise mbufs or use "
                 "method veth)");
}

TEST(Validate, NameRule) {
    EXPECT_TRUE(is_valid_name("a"));
    EXPECT_TRUE(is_valid_name("9front_net.v2-x"));
    EXPECT_TRUE(is_valid_name(std::string(63, 'n')));
    EXPECT_FALSE(is_valid_name(std::string(64, 'n')));
    EXPECT_FALSE(is_valid_name(""));
    EXPECT_FALSE(is_valid_name("_a"));
    EXPECT_FALSE(is_valid_name(".a"));
    EXPECT_FALSE(is_valid_name("a/b"));
}

}  // namespace
}  // namespace dpdock::config::test

namespace dpdock::config::test {
namespace {

TEST(Validate, AliasesFollowTheNameRule) {
    const std::string base = "networks:\n  - name: app\n    subnet: 10.5.0.0/24\ncontainers:\n"
                             "  - name: db\n    netns: /n/1\n";
    const std::string good = base + "    networks: [{name: app, aliases: [postgres, pg.main]}]\n";
    auto d = load(good);
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(d->containers[0].networks[0].aliases, (std::vector<std::string>{"postgres", "pg.main"}));
    expect_error(base + "    networks: [{name: app, aliases: [\"bad name\"]}]\n", "test.yaml:7:16: ",
                 "containers[0].networks[0].aliases[0]", "invalid name 'bad name'");
}

TEST(Validate, DnsSection) {
    auto d = load("dns:\n  servers: [192.0.2.53]\n  upstream-port: 5353\n  resolv-conf: false\n");
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(d->dns.servers, std::vector<Ipv4Address>{*Ipv4Address::parse("192.0.2.53")});
    EXPECT_EQ(d->dns.upstream_port, 5353);
    EXPECT_FALSE(d->dns.resolv_conf);
    expect_error("dns:\n  server: [192.0.2.53]\n", "test.yaml:2:3: ", "dns.server", "unknown key");
    expect_error("dns:\n  queries-per-second: 0\n", "test.yaml:2:3: ", "dns.queries-per-second", "at least 1");
}

}  // namespace
}  // namespace dpdock::config::test
