// runtime/docker's translations: Docker's CreateNetwork and port bindings as
// dpdock's requests, every refusal naming what Docker asked for.
#include <gtest/gtest.h>

#include "runtime/docker/translate.hpp"

namespace dpdock::docker {
namespace {

using nlohmann::json;

const std::string kId = "3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";

json create_network(json options = json::object()) {
    return {{"NetworkID", kId},
            {"Options", options},
            {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"}, {"Pool", "10.50.0.0/24"}, {"Gateway", "10.50.0.1/24"}}})},
            {"IPv6Data", json::array()}};
}

TEST(DockerTranslate, NetworkGetsPoolGatewayAndAShortName) {
    auto args = network_create_args(create_network({{"com.docker.network.enable_ipv6", false}}));
    ASSERT_TRUE(args) << args.message();
    EXPECT_EQ((*args)["name"], "docker-3f1b2c4d5e6f");
    EXPECT_EQ((*args)["subnet"], "10.50.0.0/24");
    EXPECT_EQ((*args)["gateway"], "10.50.0.1");
    EXPECT_EQ((*args)["labels"]["com.docker.network.id"], kId);
    EXPECT_FALSE(args->contains("internal"));
}

TEST(DockerTranslate, InternalAndOptionsAreMapped) {
    auto args = network_create_args(create_network(
        {{"com.docker.network.internal", true},
         {"com.docker.network.generic",
          {{"com.docker.network.driver.mtu", "1400"}, {"com.docker.network.bridge.enable_icc", "false"},
           {"dpdock.driver", "overlay"}, {"dpdock.vni", "42"}}}}));
    ASSERT_TRUE(args) << args.message();
    EXPECT_EQ((*args)["internal"], true);
    EXPECT_EQ((*args)["mtu"], 1400);
    EXPECT_EQ((*args)["driver"], "overlay");
    EXPECT_EQ((*args)["vni"], 42);
    EXPECT_EQ((*args)["options"]["com.docker.network.bridge.enable_icc"], "false");
    EXPECT_FALSE((*args)["options"].contains("dpdock.driver"));
}

TEST(DockerTranslate, RefusesWhatDpdockLacksByName) {
    auto ipv6 = network_create_args(create_network({{"com.docker.network.enable_ipv6", true}}));
    EXPECT_NE(ipv6.message().find("IPv6"), std::string::npos) << ipv6.message();
    json v6 = create_network();
    v6["IPv6Data"] = json::array({{{"Pool", "fd00::/64"}}});
    EXPECT_NE(network_create_args(v6).message().find("IPv6"), std::string::npos);
    json two = create_network();
    two["IPv4Data"].push_back(two["IPv4Data"][0]);
    EXPECT_NE(network_create_args(two).message().find("exactly one IPv4 subnet"), std::string::npos);
    json aux = create_network();
    aux["IPv4Data"][0]["AuxAddresses"] = {{"router", "10.50.0.5"}};
    EXPECT_NE(network_create_args(aux).message().find("--aux-address"), std::string::npos);
    auto driver = network_create_args(create_network({{"com.docker.network.generic", {{"dpdock.driver", "macvlan"}}}}));
    EXPECT_NE(driver.message().find("'macvlan' is not bridge or overlay"), std::string::npos) << driver.message();
    auto mtu = network_create_args(create_network({{"com.docker.network.generic", {{"com.docker.network.driver.mtu", "x"}}}}));
    EXPECT_NE(mtu.message().find("expected an integer"), std::string::npos) << mtu.message();
}

TEST(DockerTranslate, RefusesIdsThatAreNotDockers) {
    EXPECT_EQ(dpdock_name(json{{"NetworkID", "../x"}}, "NetworkID").message(), "NetworkID '../x' is not a Docker id");
    EXPECT_EQ(dpdock_name(json{{"EndpointID", 5}}, "EndpointID").message(), "missing EndpointID");
    EXPECT_EQ(dpdock_name(json::object(), "EndpointID").message(), "missing EndpointID");
}

TEST(DockerTranslate, PortBindingsBecomeRunDashPStrings) {
    json options = {{"com.docker.network.portmap",
                     json::array({{{"Proto", 6}, {"IP", ""}, {"Port", 80}, {"HostIP", ""}, {"HostPort", 8080}, {"HostPortEnd", 8080}},
                                  {{"Proto", 17}, {"Port", 53}, {"HostIP", "0.0.0.0"}, {"HostPort", 0}, {"HostPortEnd", 0}},
                                  {{"Proto", 6}, {"Port", 22}, {"HostIP", "192.0.2.1"}, {"HostPort", 0}},
                                  {{"Proto", 6}, {"Port", 443}, {"HostIP", ""}, {"HostPort", 9000}, {"HostPortEnd", 9010}}})},
                    {"com.docker.network.endpoint.exposedports", json::array({{{"Proto", 6}, {"Port", 80}}})}};
    auto args = publish_args("docker-abc", options);
    ASSERT_TRUE(args) << args.message();
    EXPECT_EQ((*args)["publish"], json::array({"8080:80/tcp", "53/udp", "192.0.2.1::22/tcp", "9000-9010:443/tcp"}));
    EXPECT_EQ((*args)["expose"], json::array({"80/tcp"}));
    EXPECT_EQ((*args)["name"], "docker-abc");

    auto none = publish_args("docker-abc", json::object());
    ASSERT_TRUE(none);
    EXPECT_EQ((*none)["publish"], json::array());

    json sctp = {{"com.docker.network.portmap", json::array({{{"Proto", 132}, {"Port", 80}}})}};
    EXPECT_NE(publish_args("c", sctp).message().find("sctp is not supported"), std::string::npos);
    json v6 = {{"com.docker.network.portmap", json::array({{{"Proto", 6}, {"Port", 80}, {"HostIP", "::"}, {"HostPort", 80}}})}};
    EXPECT_NE(publish_args("c", v6).message().find("IPv6 host address"), std::string::npos);
}

TEST(DockerTranslate, PublishedPortsGoBackAsDockerBindings) {
    const json ports = json::array({{{"container_port", "80/tcp"}, {"host_ip", "0.0.0.0"}, {"host_port", 8080}},
                                    {{"container_port", "53/udp"}, {"host_ip", "0.0.0.0"}, {"host_port", 40000}}});
    const json b = port_bindings(ports);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0]["Proto"], 6);
    EXPECT_EQ(b[0]["Port"], 80);
    EXPECT_EQ(b[0]["HostPort"], 8080);
    EXPECT_EQ(b[1]["Proto"], 17);
    EXPECT_EQ(b[1]["HostPortEnd"], 40000);
}

}  // namespace
}  // namespace dpdock::docker
