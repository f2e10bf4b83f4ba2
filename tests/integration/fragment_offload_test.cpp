// Datagrams above the MTU and offloaded checksums end to end, through real
// namespaces and dpdockd. A container's UDP datagrams larger than the link
// MTU reach an echo server in `ext` through MASQUERADE and come back: the
// dataplane fragments them towards the uplink and towards the container
// (stats count it). What today's container and uplink ports can carry:
// DPDK 22.11's net_af_packet joins its fanout with DEFRAG (the kernel
// reassembles what arrives) and copies frames into one 2 KiB mbuf, so a
// datagram is limited to about 1,950 bytes on its way in. The larger sizes
// (3000, 8000) and an uplink neighbour with tx checksum offload on need
// dpdock's own kernel port (virtio-net header, no DEFRAG) on the uplink too:
// `devargs: kernel:IFNAME`. A container's UDP super-frames (UDP_SEGMENT)
// leave as whole datagrams.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/integration/dpdockd_instance.hpp"
#include "tests/integration/outside.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/traffic.hpp"

namespace dpdock::test {
namespace {

const Ipv4Address kC1 = *Ipv4Address::parse("172.17.0.2");

class FragmentOffloadTest : public ::testing::Test {
protected:
    // `kernel_uplink`: the uplink veth opened as a kernel port instead of net_af_packet.
    void start(const std::string& c1_fields = "", bool kernel_uplink = false) {
        auto outside = make_outside("192.168.83");
        ASSERT_TRUE(outside.ok()) << outside.message();
        outside_.emplace(std::move(*outside));
        c1_.emplace(make_netns("c1"));
        std::string uplink = outside_->uplink_yaml(2);
        const std::string af_packet = outside_->devargs(2);
        if (kernel_uplink) uplink.replace(uplink.find(af_packet), af_packet.size(), "kernel:" + outside_->link.a_name());
        auto d = DpdockdInstance::start("dataplane:\n  workers: 2\n  idle-sleep-us: 20\n" + uplink +
                                        "containers:\n" + container_yaml("c1", c1_->path(), "[bridge]") + c1_fields);
        ASSERT_TRUE(d.ok()) << d.message();
        daemon_.emplace(std::move(*d));
    }

    // Echoes `size`-byte datagrams between c1 and ext through MASQUERADE.
    void echo(std::size_t size, std::uint16_t port) {
        auto udp = udp_exchange(direct_flow(outside_->ns, outside_->ext_ip, port, *c1_), 5, size);
        ASSERT_TRUE(udp.ok()) << size << " bytes: " << udp.message() << "\n" << daemon_->log();
        EXPECT_EQ(udp->client_ip, outside_->host_ip);
    }

    std::uint64_t stat(const char* group, const char* field) const {
        auto stats = daemon_->call("stats.show");
        EXPECT_TRUE(stats.ok()) << stats.message();
        return stats.ok() ? (*stats)[group][field].get<std::uint64_t>() : 0;
    }

    std::optional<Outside> outside_;
    std::optional<Netns> c1_;
    std::optional<DpdockdInstance> daemon_;
};

// c1 (a kernel port, default offloads) sends 1472-byte datagrams with partial
// checksums, completed for the net_af_packet uplink, which cannot take them;
// 1800 bytes leave c1 in two fragments that follow their first through
// MASQUERADE; the echo arrives reassembled by af_packet's DEFRAG and is
// fragmented by dpdockd towards c1. Before, that direction was dropped
// (mtu_exceeded).
TEST_F(FragmentOffloadTest, UdpAboveTheMtuCrossesMasqueradeBothWays) {
    start();
    echo(1472, 5501);  // exactly the MTU: nothing to cut
    echo(1800, 5502);
    EXPECT_GE(stat("fragmentation", "datagrams"), 5u) << "the 5 echoes, reassembled by the uplink's af_packet";
    EXPECT_GE(stat("offload", "checksum_completed"), 5u) << "c1's 1472-byte datagrams leave with partial checksums";
    EXPECT_EQ(daemon_->drops("mtu_exceeded"), 0u);
    EXPECT_EQ(daemon_->drops("fragment_unmatched"), 0u);
    const std::string out = daemon_->cli_expect("stats");
    EXPECT_NE(out.find("datagrams fragmented "), std::string::npos) << out;
    EXPECT_NE(out.find("checksums completed "), std::string::npos) << out;
}

// Kernel ports on both sides: no DEFRAG, frames up to 64 KiB; dpdockd
// fragments what exceeds the MTU (out of the uplink, and back into c1).
TEST_F(FragmentOffloadTest, LargeUdpCrossesMasqueradeBothWays) {
    start("", true);
    std::uint16_t port = 5600;
    for (std::size_t size : {1472u, 3000u, 8000u}) echo(size, port++);
    EXPECT_EQ(daemon_->drops("mtu_exceeded"), 0u);
    EXPECT_EQ(daemon_->drops("bad_header"), 0u);
}

// c1 sends with UDP_SEGMENT (as QUIC stacks do): its veth hands the kernel
// port UDP super-frames (GSO_UDP_L4), which leave the uplink as whole
// datagrams through MASQUERADE and come back. Before, every super-frame was
// dropped as offload_failed (rte_gso cuts UDP into IP fragments, not datagrams).
TEST_F(FragmentOffloadTest, SegmentedUdpFromAContainerCrossesMasquerade) {
    start();
    auto udp = udp_exchange(direct_flow(outside_->ns, outside_->ext_ip, 5700, *c1_), 16, 1200, UdpSend::Segmented);
    ASSERT_TRUE(udp.ok()) << udp.message() << "\n" << daemon_->log();
    EXPECT_EQ(udp->client_ip, outside_->host_ip);
    EXPECT_GE(stat("kernel_ports", "gso_rx"), 1u) << "the datagrams left c1 as a super-frame";
    EXPECT_GE(stat("offload", "gso_segments"), 16u);
    EXPECT_EQ(daemon_->drops("offload_failed"), 0u);
}

// ext keeps the kernel's default tx checksum offload: its packets arrive with
// partial checksums (and TCP super-frames), which the kernel-port uplink
// reads from the virtio-net header (net_af_packet hands them over as if
// complete, and the published container drops every segment as corrupt).
TEST_F(FragmentOffloadTest, UplinkNeighbourWithOffloadOnReachesAPublishedPort) {
    start("    publish: [\"8080:80\"]\n", true);
    ASSERT_EQ(outside_->ns.exec("ethtool -K " + outside_->link.b_name() + " tx on >/dev/null"), 0);
    FlowSpec f = direct_flow(*c1_, kC1, 80, outside_->ns);
    f.connect_ip = outside_->host_ip;
    f.connect_port = 8080;
    auto tcp = tcp_transfer(f, 1 << 20);
    ASSERT_TRUE(tcp.ok()) << tcp.message() << "\n" << daemon_->log();
    // Read from the virtio-net header, handed on whole to c1's kernel port.
    EXPECT_GT(stat("kernel_ports", "partial_csum_rx"), 0u);
    // The uplink answers ARP with its interface's MAC (its ring ethdev has none).
    auto shown = daemon_->call("uplink.show");
    ASSERT_TRUE(shown.ok()) << shown.message();
    std::ifstream address("/sys/class/net/" + outside_->link.a_name() + "/address");
    std::string kernel_mac;
    std::getline(address, kernel_mac);
    EXPECT_EQ((*shown)["uplink"]["mac"].get<std::string>(), kernel_mac);
}

}  // namespace
}  // namespace dpdock::test
