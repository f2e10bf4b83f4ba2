// SubnetIndex: the network holding an address, by binary search over the
// networks' subnets (dataplane/subnet_index.hpp), as the walk it replaced
// answered: every address of a subnet (first and last included) is its
// network's, addresses between and around subnets are no network's, and a
// network without a subnet (prefix 0) holds nothing.
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/forwarding_snapshot.hpp"

namespace dpdock::dataplane {
namespace {

Ipv4Address ip(const char* text) { return *Ipv4Address::parse(text); }

NetworkInfo network(const char* cidr) {
    NetworkInfo n;
    if (cidr != nullptr) n.subnet = *Ipv4Cidr::parse(cidr);
    return n;
}

TEST(SubnetIndexTest, FindsTheOneSubnetHoldingAnAddress) {
    ForwardingSnapshot snap;
    // Not in address order, of different sizes, one without a subnet.
    snap.networks = {network("172.17.0.0/16"), network("10.0.0.0/8"), network(nullptr),
                     network("192.168.5.0/24"), network("172.18.0.0/30")};
    snap.index_subnets();
    EXPECT_EQ(snap.network_of(ip("172.17.0.0")), 0);
    EXPECT_EQ(snap.network_of(ip("172.17.255.255")), 0);
    EXPECT_EQ(snap.network_of(ip("10.200.3.4")), 1);
    EXPECT_EQ(snap.network_of(ip("192.168.5.77")), 3);
    EXPECT_EQ(snap.network_of(ip("172.18.0.3")), 4);
    EXPECT_EQ(snap.network_of(ip("172.18.0.4")), kNoNetwork);  // just past a /30
    EXPECT_EQ(snap.network_of(ip("172.16.255.255")), kNoNetwork);  // just before 172.17/16
    EXPECT_EQ(snap.network_of(ip("9.255.255.255")), kNoNetwork);   // below every subnet
    EXPECT_EQ(snap.network_of(ip("255.255.255.255")), kNoNetwork);  // above every subnet
    EXPECT_EQ(snap.network_of(ip("0.0.0.0")), kNoNetwork);  // the network without a subnet holds nothing
}

TEST(SubnetIndexTest, AgreesWithAWalkOverManyNetworks) {
    ForwardingSnapshot snap;
    for (std::uint32_t i = 0; i < 300; ++i) {
        NetworkInfo n;
        n.subnet = Ipv4Cidr(Ipv4Address(0xac100000 + ((299 - i) << 8)), 24);  // 172.16.x.0/24, descending
        snap.networks.push_back(n);
    }
    snap.index_subnets();
    for (std::uint32_t a = 0xac0fff00; a < 0xac100000 + (301u << 8); a += 37) {
        NetworkId walked = kNoNetwork;
        for (std::size_t i = 0; i < snap.networks.size() && walked == kNoNetwork; ++i) {
            if (snap.networks[i].subnet.contains(Ipv4Address(a))) walked = static_cast<NetworkId>(i);
        }
        ASSERT_EQ(snap.network_of(Ipv4Address(a)), walked) << Ipv4Address(a).to_string();
    }
}

TEST(SubnetIndexTest, AnEmptySnapshotHoldsNothing) {
    ForwardingSnapshot snap;
    snap.index_subnets();
    EXPECT_EQ(snap.network_of(ip("10.0.0.1")), kNoNetwork);
}

}  // namespace
}  // namespace dpdock::dataplane
