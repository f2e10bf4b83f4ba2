// What a host derives from the store: global networks with peers (hosts with
// endpoints on them) and static remote MACs; local networks untouched;
// conflicts skipped, not applied.
#include <gtest/gtest.h>

#include "cluster/derive.hpp"

namespace dpdock::cluster {
namespace {

const Ipv4Address kSelf = *Ipv4Address::parse("192.168.80.2");

config::NetworkSpec network(const char* name, const char* driver = "bridge") {
    config::NetworkSpec n;
    n.name = name;
    n.driver = driver;
    return n;
}

TypedView store_with_prod() {
    TypedView v;
    NetworkRecord& prod = v.networks["prod"];
    prod.name = "prod";
    prod.subnet = *Ipv4Cidr::parse("10.40.0.0/24");
    prod.gateway = *Ipv4Address::parse("10.40.0.1");
    prod.vni = 300;
    prod.created_by = "h2";
    auto ep = [](const char* c, const char* ip, const char* host, const char* vtep) {
        const Ipv4Address a = *Ipv4Address::parse(ip);
        return EndpointRecord{"prod", c, a, docker_mac_for(a), host, *Ipv4Address::parse(vtep)};
    };
    v.endpoints = {ep("mine", "10.40.0.2", "h1", "192.168.80.2"), ep("b", "10.40.0.3", "h2", "192.168.80.3"),
                   ep("c", "10.40.0.4", "h3", "192.168.80.4"), ep("d", "10.40.0.5", "h3", "192.168.80.4")};
    return v;
}

TEST(DeriveTest, GlobalNetworksGetPeersAndRemoteMacs) {
    config::Deployment running;
    running.networks.push_back(network("web"));
    const Derived d = derive(store_with_prod(), running, "h1", kSelf);
    ASSERT_EQ(d.target.networks.size(), 2u);
    EXPECT_EQ(d.target.networks[0], running.networks[0]);  // local: untouched
    const config::NetworkSpec& prod = d.target.networks[1];
    EXPECT_TRUE(prod.global);
    EXPECT_EQ(prod.vni, 300u);
    EXPECT_EQ(prod.peers, (std::vector<Ipv4Address>{*Ipv4Address::parse("192.168.80.3"),
                                                      *Ipv4Address::parse("192.168.80.4")}));
    ASSERT_EQ(prod.remote_macs.size(), 3u);  // not this host's own endpoint
    EXPECT_EQ(prod.remote_macs[0].ip, Ipv4Address::parse("10.40.0.3"));
    EXPECT_EQ(prod.remote_macs[0].vtep, *Ipv4Address::parse("192.168.80.3"));
    EXPECT_TRUE(d.skipped.empty());
}

TEST(DeriveTest, GoneNetworksGoUnlessUsedAndConflictsAreSkipped) {
    config::Deployment running;
    config::NetworkSpec old = network("old", "overlay");
    old.global = true;
    running.networks.push_back(old);
    EXPECT_TRUE(derive(TypedView{}, running, "h1", kSelf).target.networks.empty());
    config::ContainerSpec c;
    c.name = "c";
    c.networks.emplace_back().network = "old";
    running.containers.push_back(c);
    const Derived kept = derive(TypedView{}, running, "h1", kSelf);
    EXPECT_EQ(kept.target.networks.size(), 1u);
    EXPECT_EQ(kept.skipped.size(), 1u);

    // A local network named prod, or a local overlay on VNI 300: the global one is not applied.
    config::Deployment local;
    local.networks.push_back(network("prod"));
    EXPECT_EQ(derive(store_with_prod(), local, "h1", kSelf).target, local);
    config::Deployment vni;
    config::NetworkSpec ov = network("ov", "overlay");
    ov.vni = 300;
    vni.networks.push_back(ov);
    const Derived d = derive(store_with_prod(), vni, "h1", kSelf);
    EXPECT_EQ(d.target, vni);
    EXPECT_EQ(d.skipped.size(), 1u);
}

}  // namespace
}  // namespace dpdock::cluster
