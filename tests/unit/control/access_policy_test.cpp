// AccessPolicy (issue 14 item 4): what --group members may do with devargs and
// config paths, refused and allowed; root is never limited.
#include "control/access_policy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/unit/control/control_test_util.hpp"

namespace dpdock::control::test {
namespace {

const Caller kRoot{.privileged = true};
const Caller kMember{.privileged = false};

TEST(AccessPolicy, RootMayUseAnyDriverAndPath) {
    const AccessPolicy none;
    EXPECT_TRUE(check_devargs(none, kRoot, "net_pcap0,tx_pcap=/etc/passwd"));
    EXPECT_TRUE(check_config_path(none, kRoot, "/etc/dpdock.yaml"));
}

TEST(AccessPolicy, MembersGetOnlyTheAllowedDrivers) {
    AccessPolicy policy;
    EXPECT_EQ(check_devargs(policy, kMember, "net_af_packet0,iface=eth1").message(),
              "devargs \"net_af_packet0,iface=eth1\": only root may use this driver (drivers allowed to --group "
              "members: none (dpdockd --allow-driver NAME allows one))");
    policy.devargs_drivers = {"net_af_packet", "net_tap"};
    EXPECT_TRUE(check_devargs(policy, kMember, "net_af_packet0,iface=eth1"));
    EXPECT_TRUE(check_devargs(policy, kMember, "net_af_packet_up,iface=eth1"));
    EXPECT_TRUE(check_devargs(policy, kMember, "net_tap"));
    const Status pcap = check_devargs(policy, kMember, "net_pcap0,tx_pcap=/etc/passwd");
    EXPECT_EQ(pcap.message(), "devargs \"net_pcap0,tx_pcap=/etc/passwd\": only root may use this driver (drivers "
                              "allowed to --group members: net_af_packet, net_tap)");
    EXPECT_FALSE(check_devargs(policy, kMember, "net_tapx0"));           // another driver's name, not a suffix
    EXPECT_FALSE(check_devargs(policy, kMember, "0000:00:1f.6"));        // a PCI device
    EXPECT_FALSE(check_devargs(policy, kMember, ",net_af_packet0"));
}

// dpdock's kernel port (devargs kernel:IFNAME) is allowed by the name "kernel".
TEST(AccessPolicy, KernelPortsAreADriverOfTheirOwn) {
    AccessPolicy policy;
    policy.devargs_drivers = {"net_af_packet"};
    EXPECT_FALSE(check_devargs(policy, kMember, "kernel:eth1"));
    policy.devargs_drivers = {"kernel"};
    EXPECT_TRUE(check_devargs(policy, kMember, "kernel:eth1"));
    EXPECT_FALSE(check_devargs(policy, kMember, "kernelx:eth1"));
    EXPECT_FALSE(check_devargs(policy, kMember, "net_af_packet0,iface=eth1"));
}

TEST(AccessPolicy, DeploymentDevargsAreAllChecked) {
    AccessPolicy policy;
    policy.devargs_drivers = {"net_af_packet"};
    config::Deployment d;
    d.uplink = config::UplinkSpec{};
    d.uplink->devargs = "net_af_packet0,iface=eth1";
    EXPECT_TRUE(check_deployment_devargs(policy, kMember, d));
    d.ports.push_back(config::PortSpec{});
    d.ports.back().devargs = "net_pcap0,rx_pcap=/root/secret.pcap";
    EXPECT_FALSE(check_deployment_devargs(policy, kMember, d));
    EXPECT_TRUE(check_deployment_devargs(policy, kRoot, d));
}

TEST(AccessPolicy, MembersSaveOnlyInsideTheSaveDirectory) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/saves";
    std::filesystem::create_directories(dir);
    AccessPolicy policy;
    EXPECT_EQ(check_config_path(policy, kMember, dir + "/a.yaml").message(),
              "path \"" + dir + "/a.yaml\": only root may choose where the configuration is saved or read (dpdockd "
              "--save-dir DIR allows a directory to --group members)");
    policy.save_dir = dir;
    EXPECT_TRUE(check_config_path(policy, kMember, dir + "/a.yaml"));
    EXPECT_TRUE(check_config_path(policy, kMember, dir + "/sub/../b.yaml"));
    EXPECT_EQ(check_config_path(policy, kMember, "/etc/shadow").message(),
              "path \"/etc/shadow\" is outside " + dir + ", the only directory --group members may save to or "
              "reload from");
    EXPECT_FALSE(check_config_path(policy, kMember, dir + "/../escape.yaml"));
    EXPECT_FALSE(check_config_path(policy, kMember, dir));
    // A symlink inside the directory that points out of it does not count as inside.
    ASSERT_EQ(symlink("/etc", (dir + "/etc").c_str()), 0);
    EXPECT_FALSE(check_config_path(policy, kMember, dir + "/etc/dpdock.yaml"));
}

}  // namespace
}  // namespace dpdock::control::test
