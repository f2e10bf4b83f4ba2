// Published ports in the model: every `docker run -p` / `--expose` form and the
// error of each malformed one; the rules across containers (uplink needed,
// binding address, conflicts naming both sides); dynamic host ports chosen
// from the configured range and kept across config save and reload.
#include "config/publish.hpp"

#include <gtest/gtest.h>

#include "config/yaml_writer.hpp"
#include "config_test_util.hpp"

namespace dpdock::config::test {
namespace {

struct Form {
    const char* text;
    std::optional<const char*> host_ip;
    std::optional<PortRange> host;
    PortRange container;
    PortProto proto;
    const char* canonical;
};

const Form kForms[] = {
    {"8080:80", std::nullopt, PortRange{8080, 8080}, {80, 80}, PortProto::Tcp, "8080:80/tcp"},
    {"192.168.1.2:8080:80", "192.168.1.2", PortRange{8080, 8080}, {80, 80}, PortProto::Tcp,
     "192.168.1.2:8080:80/tcp"},
    {"0.0.0.0::80", "0.0.0.0", std::nullopt, {80, 80}, PortProto::Tcp, "0.0.0.0::80/tcp"},
    {"80", std::nullopt, std::nullopt, {80, 80}, PortProto::Tcp, "80/tcp"},
    {"53/udp", std::nullopt, std::nullopt, {53, 53}, PortProto::Udp, "53/udp"},
    {"5353:53/udp", std::nullopt, PortRange{5353, 5353}, {53, 53}, PortProto::Udp, "5353:53/udp"},
    {"8000-8100:8000-8100", std::nullopt, PortRange{8000, 8100}, {8000, 8100}, PortProto::Tcp,
     "8000-8100:8000-8100/tcp"},
    {"9000-9010:80/tcp", std::nullopt, PortRange{9000, 9010}, {80, 80}, PortProto::Tcp, "9000-9010:80/tcp"},
    {"80-90", std::nullopt, std::nullopt, {80, 90}, PortProto::Tcp, "80-90/tcp"},
    {"10.0.0.1:7000-7001:70-71/udp", "10.0.0.1", PortRange{7000, 7001}, {70, 71}, PortProto::Udp,
     "10.0.0.1:7000-7001:70-71/udp"},
    {"65535:1", std::nullopt, PortRange{65535, 65535}, {1, 1}, PortProto::Tcp, "65535:1/tcp"},
};

TEST(PublishParse, EveryDockerForm) {
    for (const Form& f : kForms) {
        SCOPED_TRACE(f.text);
        auto p = parse_publish(f.text);
        ASSERT_TRUE(p.ok()) << p.message();
        EXPECT_EQ(p->host_ip, f.host_ip ? Ipv4Address::parse(*f.host_ip) : std::nullopt);
        EXPECT_EQ(p->host, f.host);
        EXPECT_EQ(p->container, f.container);
        EXPECT_EQ(p->proto, f.proto);
        EXPECT_EQ(to_string(*p), f.canonical);
        auto again = parse_publish(to_string(*p));
        ASSERT_TRUE(again.ok()) << again.message();
        EXPECT_EQ(*again, *p);
    }
}

struct Malformed {
    const char* text;
    const char* error;
};

const Malformed kMalformed[] = {
    {"", "container port '' is not a number"},
    {"http", "container port 'http' is not a number"},
    {"8080:x", "container port 'x' is not a number"},
    {"0", "container port 0 is outside 1..65535"},
    {"8080:0", "container port 0 is outside 1..65535"},
    {"0:80", "host port 0 is outside 1..65535"},
    {"65536:80", "host port 65536 is outside 1..65535"},
    {"80:99999", "container port 99999 is outside 1..65535"},
    {"-1:80", "host port '' is not a number"},
    {"8100-8000:80", "host port range 8100-8000 is reversed (write 8000-8100)"},
    {"8000-8100:90-80", "container port range 90-80 is reversed"},
    {"8000-8100:8000-8050", "host range 8000-8100 and container range 8000-8050 have different lengths"},
    {"8080:80-81", "host range 8080 and container range 80-81 have different lengths"},
    {"8080:80/sctp", "protocol sctp is not supported (only tcp and udp)"},
    {"8080:80/icmp", "unknown protocol 'icmp' (expected tcp or udp)"},
    {"8080:80/", "unknown protocol '' (expected tcp or udp)"},
    {"1.2.3:8080:80", "'1.2.3' is not an IPv4 address"},
    {"localhost:8080:80", "'localhost' is not an IPv4 address"},
    {":8080:80", "'' is not an IPv4 address"},
    {":80", "host port is empty"},
    {"1.2.3.4:1:2:3", "expected [[IP:][HOSTPORT]:]CPORT[/PROTO]"},
    {"80 ", "container port '80 ' is not a number"},
};

TEST(PublishParse, EachMalformedFormSaysWhatIsWrong) {
    for (const Malformed& m : kMalformed) {
        SCOPED_TRACE(m.text);
        auto p = parse_publish(m.text);
        ASSERT_FALSE(p.ok());
        EXPECT_EQ(p.message().rfind("publish '" + std::string(m.text) + "': ", 0), 0u) << p.message();
        EXPECT_NE(p.message().find(m.error), std::string::npos) << p.message();
    }
}

TEST(PublishParse, Expose) {
    auto e = parse_expose("80");
    ASSERT_TRUE(e.ok()) << e.message();
    EXPECT_EQ(*e, (ExposeSpec{{80, 80}, PortProto::Tcp}));
    e = parse_expose("7000-7002/udp");
    ASSERT_TRUE(e.ok()) << e.message();
    EXPECT_EQ(*e, (ExposeSpec{{7000, 7002}, PortProto::Udp}));
    EXPECT_EQ(to_string(*e), "7000-7002/udp");
    EXPECT_NE(parse_expose("8080:80").message().find("port '8080:80' is not a number"), std::string::npos);
    EXPECT_NE(parse_expose("0").message().find("port 0 is outside 1..65535"), std::string::npos);
    EXPECT_NE(parse_expose("80/sctp").message().find("sctp is not supported"), std::string::npos);
}

// An uplink at 192.168.9.2 and containers given as YAML list items.
std::string with_uplink(const std::string& containers, const std::string& extra = "") {
    return "uplink:\n  devargs: net_null0\n  address: 192.168.9.2/24\n  gateway: 192.168.9.1\n" + extra +
           "containers:\n" + containers;
}

std::string container(const std::string& name, const std::string& fields) {
    return "  - name: " + name + "\n    netns: /run/netns/" + name + "\n" + fields;
}

TEST(PublishRules, ConflictsNameBothPublications) {
    expect_error(with_uplink(container("a", "    publish: ['8080:80']\n") + container("b", "    publish: ['8080:81']\n")),
                 "test.yaml:", "containers[1].publish[0]",
                 "Bind for 0.0.0.0:8080 failed: port is already allocated (by container 'a' (8080:80/tcp))");
    // Overlapping ranges, also inside one container.
    expect_error(with_uplink(container("a", "    publish: ['8000-8100:8000-8100', '8100-8101:1-2']\n")),
                 "test.yaml:", "containers[0].publish[1]",
                 "Bind for 0.0.0.0:8100 failed: port is already allocated (by container 'a' "
                 "(8000-8100:8000-8100/tcp))");
    // UDP says so; a binding address is named as given.
    expect_error(with_uplink(container("a", "    publish: ['5353:53/udp']\n") +
                             container("b", "    publish: ['192.168.9.2:5353:54/udp']\n")),
                 "test.yaml:", "containers[1].publish[0]",
                 "Bind for 192.168.9.2:5353/udp failed: port is already allocated (by container 'a' (5353:53/udp))");
    // The same port for TCP and UDP is no conflict.
    EXPECT_TRUE(load(with_uplink(container("a", "    publish: ['53:53/udp', '53:53']\n"))).ok());
}

TEST(PublishRules, UplinkBindingAndNetwork) {
    expect_error("containers:\n" + container("a", "    publish: ['8080:80']\n"), "test.yaml:", "containers[0].publish",
                 "container 'a' publishes 8080:80/tcp but there is no uplink");
    expect_error(with_uplink(container("a", "    publish: ['10.9.9.9:8080:80']\n")), "test.yaml:",
                 "containers[0].publish[0]",
                 "host address 10.9.9.9 is not this host's: dpdock owns only the uplink address 192.168.9.2");
    EXPECT_TRUE(load(with_uplink(container("a", "    publish: ['192.168.9.2:8080:80', '0.0.0.0:8081:80']\n"))).ok());
    // host_binding_ipv4 is the default binding of the network's containers.
    const std::string net = "networks:\n  - name: n\n    subnet: 10.5.0.0/24\n    options:\n"
                            "      com.docker.network.bridge.host_binding_ipv4: ";
    expect_error(with_uplink(container("a", "    networks: [n]\n    publish: ['8080:80']\n"), net + "10.1.1.1\n"),
                 "test.yaml:", "containers[0].publish[0]", "host address 10.1.1.1 is not this host's");
    EXPECT_TRUE(load(with_uplink(container("a", "    networks: [n]\n    publish: ['8080:80']\n"), net + "192.168.9.2\n")).ok());
    expect_error(with_uplink("", net + "nope\n"), "test.yaml:",
                 "networks[0].options[com.docker.network.bridge.host_binding_ipv4]", "expected an IPv4 address");
    expect_error(with_uplink(container("a", "    networks: [n]\n    publish: ['8080:80']\n"),
                             "networks:\n  - name: n\n    subnet: 10.5.0.0/24\n    internal: true\n"),
                 "test.yaml:", "containers[0].publish", "its first network 'n' is internal");
}

TEST(PublishRules, DynamicPortsComeFromTheRangeAndSurviveSaveAndReload) {
    const std::string yaml = with_uplink(container("a", "    publish: ['32770:1', '80', '53/udp', '5000-5002:22']\n"
                                                        "    expose: [443, 80, 7-8/udp]\n    publish-all: true\n") +
                                             container("b", "    publish: ['0.0.0.0::80', '90-91']\n"),
                                         "nat:\n  dynamic-port-range: 32768-32780\n");
    auto d = load(yaml);
    ASSERT_TRUE(d.ok()) << d.message();
    std::vector<std::string> a, b;
    for (const auto& p : d->containers[0].publish) a.push_back(to_string(p));
    for (const auto& p : d->containers[1].publish) b.push_back(to_string(p));
    // Lowest free ports first, in file order; 32770 is taken by a fixed one; 80 is
    // published already, so -P adds only 443 and 7-8/udp.
    EXPECT_EQ(a, (std::vector<std::string>{"32770:1/tcp", "32768:80/tcp", "32768:53/udp", "5000:22/tcp",
                                           "32769:443/tcp", "32769-32770:7-8/udp"}));
    EXPECT_EQ(b, (std::vector<std::string>{"0.0.0.0:32771:80/tcp", "32772-32773:90-91/tcp"}));

    auto again = load(to_yaml(*d));
    ASSERT_TRUE(again.ok()) << again.message() << "\n" << to_yaml(*d);
    EXPECT_EQ(without_positions(*again), without_positions(*d));
}

TEST(PublishRules, TheVxlanPortIsNotPublishedWhileOverlaysExist) {
    const std::string overlay = "vxlan:\n  port: 4790\nnetworks:\n  - {name: ov, driver: overlay, subnet: 10.8.0.0/24}\n";
    expect_error(with_uplink(container("a", "    publish: ['53/udp', '4780-4799:4780-4799/udp']\n"), overlay),
                 "test.yaml:", "containers[0].publish[1]",
                 "host port 4790/udp of container 'a' (4780-4799:4780-4799/udp) is vxlan.port");
    // TCP on that port, or UDP without an overlay network, is fine; dynamic ports skip it.
    EXPECT_TRUE(load(with_uplink(container("a", "    publish: ['4790:1']\n"), overlay)).ok());
    EXPECT_TRUE(load(with_uplink(container("a", "    publish: ['4790:1/udp']\n"), "vxlan:\n  port: 4790\n")).ok());
    auto d = load(with_uplink(container("a", "    publish: ['1/udp']\n"),
                              overlay + "nat:\n  dynamic-port-range: 4790-4791\n"));
    ASSERT_TRUE(d.ok()) << d.message();
    EXPECT_EQ(to_string(d->containers[0].publish[0]), "4791:1/udp");
}

TEST(PublishRules, ExhaustedRangeIsAnError) {
    expect_error(with_uplink(container("a", "    publish: ['80', '81', '82']\n"),
                             "nat:\n  dynamic-port-range: 40000-40001\n"),
                 "test.yaml:", "containers[0].publish[2]", "no free host port for 82/tcp in 40000-40001");
    expect_error(with_uplink(container("a", "    publish: ['40000:1', '40000-40000:2']\n")), "test.yaml:",
                 "containers[0].publish[1]", "port is already allocated");
    expect_error("nat:\n  dynamic-port-range: 9-8\n", "test.yaml:", "nat.dynamic-port-range", "reversed");
}

}  // namespace
}  // namespace dpdock::config::test
