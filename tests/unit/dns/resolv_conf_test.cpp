// control/resolv_conf: the file `ip netns exec` reads, written and removed
// only when it is dpdock's own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/resolv_conf.hpp"
#include "dns/dns_service.hpp"

namespace dpdock::control {
namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class ResolvConfTest : public ::testing::Test {
protected:
    void SetUp() override {
        etc_ = std::filesystem::temp_directory_path() / ("dpdock-resolv-" + std::to_string(getpid()));
        std::filesystem::create_directories(etc_);
        std::ofstream(etc_ / "resolv.conf") << "search corp.example lab.example\nnameserver 127.0.0.53\n"
                                               "nameserver 192.0.2.53\nnameserver 10.9.9.9\n";
    }
    void TearDown() override { std::filesystem::remove_all(etc_); }
    std::filesystem::path etc_;
};

TEST_F(ResolvConfTest, WritesDockersShapeAndRemovesIt) {
    ASSERT_TRUE(write_resolv_conf("web", *Ipv4Address::parse("10.30.0.1"), etc_));
    const std::string text = read(etc_ / "netns/web/resolv.conf");
    EXPECT_EQ(text, std::string(kResolvConfMarker) +
                        "\nnameserver 10.30.0.1\nsearch corp.example lab.example\noptions ndots:0\n");
    remove_resolv_conf("web", etc_);
    EXPECT_FALSE(std::filesystem::exists(etc_ / "netns/web"));
}

TEST_F(ResolvConfTest, AFileNotWrittenByDpdockIsLeftAlone) {
    std::filesystem::create_directories(etc_ / "netns/mine");
    std::ofstream(etc_ / "netns/mine/resolv.conf") << "nameserver 1.1.1.1\n";
    EXPECT_FALSE(write_resolv_conf("mine", *Ipv4Address::parse("10.30.0.1"), etc_));
    remove_resolv_conf("mine", etc_);
    EXPECT_EQ(read(etc_ / "netns/mine/resolv.conf"), "nameserver 1.1.1.1\n");
}

TEST(NamedNetnsTest, OnlyRunNetnsPaths) {
    EXPECT_EQ(named_netns("/run/netns/web"), "web");
    EXPECT_EQ(named_netns("/proc/42/ns/net"), std::nullopt);
    EXPECT_EQ(named_netns("/run/netns/../etc"), std::nullopt);
    EXPECT_EQ(named_netns("/run/netns/"), std::nullopt);
}

TEST_F(ResolvConfTest, UpstreamServersSkipLoopback) {
    EXPECT_EQ(dns::upstream_from_resolv_conf(etc_ / "resolv.conf"),
              (std::vector<Ipv4Address>{*Ipv4Address::parse("192.0.2.53"), *Ipv4Address::parse("10.9.9.9")}));
}

}  // namespace
}  // namespace dpdock::control
