// The addresses dpdock0 carries: the uplink's and every gateway, changed by
// the difference only (a network created adds its gateway, one removed
// deletes it, a new uplink prefix replaces the old one).
#include <gtest/gtest.h>

#include "exception/host_addresses.hpp"

namespace dpdock::test {
namespace {

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }

TEST(HostAddressesTest, UplinkFirstThenGatewaysWithoutDuplicates) {
    const auto wanted = exception::wanted_addresses(cidr("192.168.1.2/24"),
                                                    {cidr("172.17.0.1/16"), cidr("192.168.1.2/24"), cidr("10.1.0.1/24")});
    EXPECT_EQ(wanted, (std::vector<Ipv4Cidr>{cidr("192.168.1.2/24"), cidr("172.17.0.1/16"), cidr("10.1.0.1/24")}));
    EXPECT_EQ(exception::wanted_addresses(std::nullopt, {cidr("172.17.0.1/16")}),
              std::vector<Ipv4Cidr>{cidr("172.17.0.1/16")});
}

TEST(HostAddressesTest, PlanChangesOnlyTheDifference) {
    const std::vector<Ipv4Cidr> installed = {cidr("192.168.1.2/24"), cidr("172.17.0.1/16"), cidr("10.1.0.1/24")};
    const std::vector<Ipv4Cidr> wanted = {cidr("192.168.1.2/25"), cidr("172.17.0.1/16"), cidr("10.2.0.1/24")};
    const auto p = exception::plan(installed, wanted);
    EXPECT_EQ(p.remove, (std::vector<Ipv4Cidr>{cidr("192.168.1.2/24"), cidr("10.1.0.1/24")}));
    EXPECT_EQ(p.add, (std::vector<Ipv4Cidr>{cidr("192.168.1.2/25"), cidr("10.2.0.1/24")}));
    const auto same = exception::plan(wanted, wanted);
    EXPECT_TRUE(same.add.empty());
    EXPECT_TRUE(same.remove.empty());
}

}  // namespace
}  // namespace dpdock::test
