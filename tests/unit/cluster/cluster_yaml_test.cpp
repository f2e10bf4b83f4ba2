// The YAML `cluster:` section (read, checked, written back), and global
// networks in a saved file: stubs with this host's endpoints on them, split
// off at start and put back when the store has the network (restore.hpp);
// config reload carries the running ones over (keep_global).
#include <gtest/gtest.h>

#include "cluster/derive.hpp"
#include "cluster/restore.hpp"
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

// A cluster host (overlay networks need its uplink) running global network
// prod with two containers on it.
config::Deployment running_with_global() {
    auto base = config::load_string(
        "uplink: {devargs: net_null0, address: 192.168.81.2/24, gateway: 192.168.81.1}\n", "t");
    EXPECT_TRUE(base.ok()) << base.message();
    config::Deployment running = base.ok() ? *base : config::Deployment{};
    config::NetworkSpec prod;
    prod.name = "prod";
    prod.driver = "overlay";
    prod.global = true;
    prod.vni = 300;
    prod.peers = {*Ipv4Address::parse("192.168.81.3")};
    prod.subnet = *Ipv4Cidr::parse("10.40.0.0/24");
    prod.gateway = *Ipv4Address::parse("10.40.0.1");
    running.networks.push_back(prod);
    config::ContainerSpec c;
    c.name = "api";
    c.netns = "/run/netns/api";
    c.networks.emplace_back().network = "prod";
    c.networks.back().ip = Ipv4Address::parse("10.40.0.2");
    c.networks.back().mac = MacAddress::parse("02:42:0a:28:00:02");
    c.networks.emplace_back().network = "bridge";
    running.containers.push_back(c);
    config::ContainerSpec only = c;
    only.name = "worker";
    only.networks.resize(1);
    only.networks[0].ip = Ipv4Address::parse("10.40.0.3");
    only.networks[0].mac.reset();
    running.containers.push_back(only);
    return running;
}

// config save writes the global network as a stub (no VNI, no peers: the
// store's) and the endpoints on it with their addresses; read back, they are
// split off the deployment a daemon starts with.
TEST(ClusterYamlTest, SavedGlobalEndpointsAreReadBackAndSplitOff) {
    const std::string text = config::to_yaml(running_with_global());
    EXPECT_NE(text.find("scope: global"), std::string::npos) << text;
    EXPECT_EQ(text.find("300"), std::string::npos) << text;
    EXPECT_EQ(text.find("192.168.81.3"), std::string::npos) << text;
    auto loaded = config::load_string(text, "t");
    ASSERT_TRUE(loaded.ok()) << loaded.message() << text;
    ASSERT_EQ(loaded->networks.size(), 1u);
    EXPECT_TRUE(loaded->networks[0].global);

    const std::vector<SavedEndpoint> saved = split_global(*loaded);
    EXPECT_TRUE(loaded->networks.empty());
    ASSERT_EQ(loaded->containers.size(), 1u);  // worker was only on prod
    EXPECT_EQ(loaded->containers[0].name, "api");
    ASSERT_EQ(loaded->containers[0].networks.size(), 1u);
    EXPECT_EQ(loaded->containers[0].networks[0].network, "bridge");
    ASSERT_EQ(saved.size(), 2u);
    EXPECT_EQ(saved[0].endpoint.ip, Ipv4Address::parse("10.40.0.2"));
    EXPECT_EQ(saved[0].endpoint.mac, MacAddress::parse("02:42:0a:28:00:02"));
    EXPECT_EQ(saved[1].container.name, "worker");

    EXPECT_FALSE(config::load_string("networks: [{name: n, subnet: 10.1.0.0/24, scope: global}]\n", "t").ok());
    EXPECT_FALSE(config::load_string("networks: [{name: n, subnet: 10.1.0.0/24, scope: wide}]\n", "t").ok());
}

// add_saved puts an endpoint back once the store's network is in the
// deployment: at its saved place (prod first: the default route), or the
// container made again.
TEST(ClusterYamlTest, SavedEndpointsGoBackInTheirPlace) {
    const config::Deployment running = running_with_global();
    config::Deployment started = running;
    const std::vector<SavedEndpoint> saved = split_global(started);
    ASSERT_EQ(saved.size(), 2u);
    config::Deployment target = started;
    EXPECT_EQ(add_saved(target, saved[0]), SavedOutcome::NotInStore);
    EXPECT_EQ(target, started);
    target.networks.push_back(running.networks[0]);
    ASSERT_EQ(add_saved(target, saved[0]), SavedOutcome::Added);
    ASSERT_EQ(add_saved(target, saved[1]), SavedOutcome::Added);
    EXPECT_EQ(target.containers, running.containers);
    config::Deployment moved = started;
    moved.networks.push_back(running.networks[0]);
    moved.containers[0].netns = "/run/netns/other";
    const config::Deployment before_moved = moved;
    EXPECT_EQ(add_saved(moved, saved[0]), SavedOutcome::OtherNamespace) << "another container by that name now";
    EXPECT_EQ(moved, before_moved);
}

// A container attached to the network again before the store came back keeps
// the endpoint it has now; the saved one (another address) does not replace it.
TEST(ClusterYamlTest, ASavedEndpointNeverReplacesARunningOne) {
    const config::Deployment running = running_with_global();
    config::Deployment started = running;
    const std::vector<SavedEndpoint> saved = split_global(started);
    config::Deployment target = started;
    target.networks.push_back(running.networks[0]);
    config::EndpointSpec now = saved[0].endpoint;
    now.ip = Ipv4Address::parse("10.40.0.77");
    now.mac.reset();
    target.containers[0].networks.push_back(now);
    const config::Deployment before = target;
    EXPECT_EQ(add_saved(target, saved[0]), SavedOutcome::AlreadyAttached);
    EXPECT_EQ(target, before);
}

// config reload: the file's global networks are dropped, the running ones
// and their endpoints carried over (keep_global).
TEST(ClusterYamlTest, ReloadKeepsTheRunningGlobalNetworks) {
    const config::Deployment running = running_with_global();
    auto loaded = config::load_string(config::to_yaml(running), "t");
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    split_global(*loaded);
    keep_global(*loaded, running);
    ASSERT_EQ(loaded->networks.size(), 1u);
    EXPECT_TRUE(loaded->networks[0].global);
    EXPECT_EQ(loaded->networks[0].vni, 300u);
    ASSERT_EQ(loaded->containers.size(), 2u);
    ASSERT_EQ(loaded->containers[0].networks.size(), 2u);
    EXPECT_EQ(loaded->containers[0].networks[1].ip, Ipv4Address::parse("10.40.0.2"));
}

}  // namespace
}  // namespace dpdock::cluster
