// The YAML `cluster:` section (read, checked, written back), and what the
// YAML leaves out: global networks and their endpoints belong to the store,
// and config reload carries the running ones over (keep_global).
#include <gtest/gtest.h>

#include "cluster/derive.hpp"
#include "config/loader.hpp"
#include "config/yaml_writer.hpp"

namespace dpdock::cluster {
namespace {

TEST(ClusterYamlTest, SectionRoundTripsAndBadValuesNameTheKey) {
    auto d = config::load_string(
        "cluster: {etcd: [\"http://10.0.0.5:2379\", \"http://10.0.0.6:2379\"], host-name: h1, lease-ttl: 3}\n", "t");
    ASSERT_TRUE(d.ok()) << d.message();
    ASSERT_TRUE(d->cluster);
    EXPECT_EQ(d->cluster->etcd.size(), 2u);
    EXPECT_EQ(d->cluster->host_name, "h1");
    EXPECT_EQ(d->cluster->lease_ttl_s, 3u);
    auto again = config::load_string(config::to_yaml(*d), "t");
    ASSERT_TRUE(again.ok()) << again.message() << config::to_yaml(*d);
    EXPECT_EQ(again->cluster->etcd, d->cluster->etcd);
    EXPECT_EQ(again->cluster->lease_ttl_s, 3u);
    for (const char* bad : {"cluster: {host-name: h1}\n", "cluster: {etcd: []}\n", "cluster: {etcd: [\"10.0.0.5\"]}\n",
                            "cluster: {etcd: [\"http://a:1\"], host-name: a/b}\n",
                            "cluster: {etcd: [\"http://a:1\"], lease-ttl: 1}\n",
                            "cluster: {etcd: [\"http://a:1\"], colour: red}\n"}) {
        auto r = config::load_string(bad, "t");
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.message().find("cluster"), std::string::npos) << r.message();
    }
}

TEST(ClusterYamlTest, GlobalNetworksStayOutOfTheFileAndReloadKeepsThem) {
    config::Deployment running;
    config::NetworkSpec prod;
    prod.name = "prod";
    prod.driver = "overlay";
    prod.global = true;
    prod.vni = 300;
    prod.subnet = *Ipv4Cidr::parse("10.40.0.0/24");
    prod.gateway = *Ipv4Address::parse("10.40.0.1");
    running.networks.push_back(prod);
    config::ContainerSpec c;
    c.name = "api";
    c.netns = "/run/netns/api";
    c.networks.emplace_back().network = "bridge";
    c.networks.emplace_back().network = "prod";
    c.networks.back().ip = Ipv4Address::parse("10.40.0.2");
    running.containers.push_back(c);
    const std::string text = config::to_yaml(running);
    EXPECT_EQ(text.find("prod"), std::string::npos) << text;

    auto loaded = config::load_string(text, "t");
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    keep_global(*loaded, running);
    ASSERT_EQ(loaded->networks.size(), 1u);
    EXPECT_TRUE(loaded->networks[0].global);
    ASSERT_EQ(loaded->containers.size(), 1u);
    ASSERT_EQ(loaded->containers[0].networks.size(), 2u);
    EXPECT_EQ(loaded->containers[0].networks[1].ip, Ipv4Address::parse("10.40.0.2"));
}

}  // namespace
}  // namespace dpdock::cluster
