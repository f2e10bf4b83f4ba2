// MacAddress, Ipv4Address, Ipv4Cidr parse/format and the strong wire types.
#include <string>

#include <gtest/gtest.h>

#include "base/packet/net_types.hpp"

namespace dpdock {
namespace {

TEST(MacAddress, ParsesColonsDashesAndUpperCase) {
    const MacAddress expected({0x02, 0x42, 0xac, 0x11, 0x00, 0x0f});
    EXPECT_EQ(MacAddress::parse("02:42:ac:11:00:0f"), expected);
    EXPECT_EQ(MacAddress::parse("02-42-AC-11-00-0F"), expected);
    EXPECT_EQ(MacAddress::parse("02:42:Ac:11:00:0F"), expected);
}

TEST(MacAddress, RejectsMalformedText) {
    for (const char* text : {"", "02:42:ac:11:00", "02:42:ac:11:00:0f:01", "02:42:ac:11:00:0g", "02.42.ac.11.00.0f",
                             "0242.ac11.000f", "2:42:ac:11:00:0ff", " 2:42:ac:11:00:0f", "02:42:ac:11:00:0f ",
                             "+2:42:ac:11:00:0f", "02::2:ac:11:00:0f", "0x:42:ac:11:00:0f"}) {
        EXPECT_EQ(MacAddress::parse(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(MacAddress, FormatsLowerCaseAndRoundTrips) {
    const MacAddress mac({0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01});
    EXPECT_EQ(mac.to_string(), "de:ad:be:ef:00:01");
    EXPECT_EQ(MacAddress::parse(mac.to_string()), mac);
    EXPECT_EQ(MacAddress::from_u64(mac.to_u64()), mac);
    EXPECT_EQ(mac.to_u64(), 0xdeadbeef0001u);
}

TEST(MacAddress, ClassifiesBroadcastMulticastZero) {
    EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
    EXPECT_TRUE(MacAddress::parse("ff:ff:ff:ff:ff:ff")->is_multicast());
    EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
    EXPECT_FALSE(MacAddress::parse("01:00:5e:00:00:01")->is_broadcast());
    EXPECT_FALSE(MacAddress::parse("02:42:ac:11:00:02")->is_multicast());
    EXPECT_TRUE(MacAddress().is_zero());
    EXPECT_FALSE(MacAddress::parse("00:00:00:00:00:01")->is_zero());
}

TEST(Ipv4Address, ParsesDottedQuad) {
    EXPECT_EQ(Ipv4Address::parse("172.17.0.1"), Ipv4Address(0xac110001));
    EXPECT_EQ(Ipv4Address::parse("0.0.0.0"), Ipv4Address(0));
    EXPECT_EQ(Ipv4Address::parse("255.255.255.255"), Ipv4Address(0xffffffff));
    EXPECT_EQ(Ipv4Address::parse("10.0.0.10")->host(), 0x0a00000au);
}

TEST(Ipv4Address, RejectsMalformedText) {
    for (const char* text : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..2.3",
                             ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "-1.2.3.4", "+1.2.3.4",
                             "1.2.3.4/8", "0x1.2.3.4", "1.2.3.4294967297"}) {
        EXPECT_EQ(Ipv4Address::parse(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(Ipv4Address, FormatsAndRoundTrips) {
    EXPECT_EQ(Ipv4Address(0xc0a80101).to_string(), "192.168.1.1");
    EXPECT_EQ(Ipv4Address(0).to_string(), "0.0.0.0");
    EXPECT_EQ(Ipv4Address(0xffffffff).to_string(), "255.255.255.255");
    for (std::uint32_t v : {0x01020304u, 0x7f000001u, 0xe00000fbu}) {
        EXPECT_EQ(Ipv4Address::parse(Ipv4Address(v).to_string()), Ipv4Address(v));
    }
    EXPECT_LT(Ipv4Address(0x0a000001), Ipv4Address(0x0a000002));
}

TEST(Ipv4Address, WireOrder) {
    const Ipv4Address a(0x0a000001);
    EXPECT_EQ(a.be().host(), 0x0a000001u);
    EXPECT_EQ(a.be().raw(), 0x0100000au);  // little-endian host
    EXPECT_EQ(Ipv4Address::from_be(a.be()), a);
}

TEST(Ipv4Cidr, ParsesAndKeepsHostBits) {
    const auto cidr = Ipv4Cidr::parse("172.17.0.1/16");
    ASSERT_TRUE(cidr);
    EXPECT_EQ(cidr->address(), Ipv4Address(0xac110001));
    EXPECT_EQ(cidr->prefix(), 16);
    EXPECT_EQ(cidr->mask(), 0xffff0000u);
    EXPECT_EQ(cidr->network(), Ipv4Address(0xac110000));
    EXPECT_EQ(cidr->broadcast(), Ipv4Address(0xac11ffff));
    EXPECT_TRUE(cidr->contains(Ipv4Address(0xac11fffe)));
    EXPECT_FALSE(cidr->contains(Ipv4Address(0xac120001)));
    EXPECT_EQ(cidr->to_string(), "172.17.0.1/16");
}

TEST(Ipv4Cidr, EdgePrefixes) {
    const auto all = Ipv4Cidr::parse("0.0.0.0/0");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->mask(), 0u);
    EXPECT_TRUE(all->contains(Ipv4Address(0xdeadbeef)));
    const auto host = Ipv4Cidr::parse("10.1.2.3/32");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->mask(), 0xffffffffu);
    EXPECT_TRUE(host->contains(Ipv4Address(0x0a010203)));
    EXPECT_FALSE(host->contains(Ipv4Address(0x0a010204)));
}

TEST(Ipv4Cidr, RejectsMalformedText) {
    for (const char* text : {"", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8",
                             "10.0.0/8", "10.0.0.0 /8", "10.0.0.0/ 8", "10.0.0.0/x", "300.0.0.0/8"}) {
        EXPECT_EQ(Ipv4Cidr::parse(text), std::nullopt) << '"' << text << '"';
    }
}

TEST(Ipv4Cidr, Overlaps) {
    const auto a = *Ipv4Cidr::parse("172.17.0.0/16");
    EXPECT_TRUE(a.overlaps(*Ipv4Cidr::parse("172.17.5.0/24")));
    EXPECT_TRUE(Ipv4Cidr::parse("172.17.5.0/24")->overlaps(a));
    EXPECT_TRUE(a.overlaps(*Ipv4Cidr::parse("172.0.0.0/8")));
    EXPECT_FALSE(a.overlaps(*Ipv4Cidr::parse("172.18.0.0/16")));
    EXPECT_TRUE(a.overlaps(*Ipv4Cidr::parse("0.0.0.0/0")));
}

TEST(BigEndian, ExplicitConversions) {
    const Be16 port = Be16::from_host(0x1234);
    EXPECT_EQ(port.raw(), 0x3412);
    EXPECT_EQ(port.host(), 0x1234);
    EXPECT_EQ(Be16::from_raw(0x3412), port);
    EXPECT_EQ(Be32::from_host(0x01020304).raw(), 0x04030201u);
}

TEST(DockerMac, FollowsTheAddress) {
    EXPECT_EQ(docker_mac_for(Ipv4Address(0xac110002)).to_string(), "02:42:ac:11:00:02");
}

}  // namespace
}  // namespace dpdock
