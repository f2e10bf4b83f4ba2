// af_packet ports on a veth pair this test creates in the host namespace
// (unique names, deleted even when the test fails). Frames use a local
// experimental EtherType; IPv6 is off on the pair so the kernel stays quiet.
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dataplane/mempool.hpp"
#include "dataplane/port.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dpdock::dataplane {
namespace {

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

class VethPair {
public:
    VethPair(std::string a, std::string b) : a_(std::move(a)), b_(std::move(b)) {
        created_ = run("ip link add " + a_ + " type veth peer name " + b_);
        if (!created_) return;
        for (const auto& name : {a_, b_}) std::ofstream("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6") << "1";
        up_ = run("ip link set " + a_ + " up") && run("ip link set " + b_ + " up");
    }
    ~VethPair() {
        if (created_) run("ip link del " + a_);
    }
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;

    bool ready() const { return created_ && up_; }
    // Deleting one end deletes both; true when the kernel agreed.
    bool remove() {
        if (!created_) return false;
        created_ = false;
        return run("ip link del " + a_);
    }

private:
    std::string a_;
    std::string b_;
    bool created_ = false;
    bool up_ = false;
};

class AfPacketPorts : public ::testing::Test {
protected:
    void SetUp() override {
        test::ensure_eal();
        auto pool = create_packet_pool("af_pool" + std::to_string(getpid()), 2047, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       static_cast<int>(rte_socket_id()));
        ASSERT_TRUE(pool.ok()) << pool.message();
        pool_.reset(*pool);
    }

    Result<PortId> start(const std::string& iface) {
        auto port = probe_port("net_af_packet_" + iface + ",iface=" + iface);
        if (!port) return port;
        PortOptions options;
        options.pool = pool_.get();
        options.mtu = 1500;
        if (auto st = configure_and_start_port(*port, options); !st) {
            remove_port(*port);
            return st;
        }
        return port;
    }

    // Polls `port` until a frame of ours arrives; the kernel may add its own.
    std::vector<std::uint8_t> receive_test_frame(PortId port) {
        for (int attempt = 0; attempt < 500; ++attempt) {
            rte_mbuf* rx[32];
            const std::uint16_t n = rte_eth_rx_burst(port, 0, rx, 32);
            std::vector<std::uint8_t> found;
            for (std::uint16_t i = 0; i < n; ++i) {
                auto bytes = test::to_bytes(rx[i]);
                if (found.empty() && bytes.size() >= 14 && bytes[12] == (test::kTestEtherType >> 8) &&
                    bytes[13] == (test::kTestEtherType & 0xff)) {
                    found = std::move(bytes);
                }
                rte_pktmbuf_free(rx[i]);
            }
            if (!found.empty()) return found;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return {};
    }

    test::PoolPtr pool_;
};

TEST_F(AfPacketPorts, FrameCrossesAVethAndPortsAreRemovedCleanly) {
    const std::string a = "dpt" + std::to_string(getpid()) + "a";
    const std::string b = "dpt" + std::to_string(getpid()) + "b";
    VethPair veth(a, b);
    ASSERT_TRUE(veth.ready()) << "cannot create veth pair " << a << "/" << b;

    auto port_a = start(a);
    ASSERT_TRUE(port_a.ok()) << port_a.message();
    auto port_b = start(b);
    if (!port_b.ok()) remove_port(*port_a);
    ASSERT_TRUE(port_b.ok()) << port_b.message();
    const PortId first_id = std::min(*port_a, *port_b);

    // The port takes the kernel interface's MAC.
    std::ifstream mac_file("/sys/class/net/" + a + "/address");
    std::string kernel_mac;
    mac_file >> kernel_mac;
    EXPECT_EQ(port_mac(*port_a).to_string(), kernel_mac);

    const auto frame_ab = test::test_frame(1, 100);
    rte_mbuf* m = test::to_mbuf(pool_.get(), frame_ab);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(rte_eth_tx_burst(*port_a, 0, &m, 1), 1);
    EXPECT_EQ(receive_test_frame(*port_b), frame_ab);

    const auto frame_ba = test::test_frame(2, 1000);
    m = test::to_mbuf(pool_.get(), frame_ba);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(rte_eth_tx_burst(*port_b, 0, &m, 1), 1);
    EXPECT_EQ(receive_test_frame(*port_a), frame_ba);

    auto stats_a = read_port_stats(*port_a);
    ASSERT_TRUE(stats_a.ok()) << stats_a.message();
    EXPECT_EQ(stats_a->tx_packets, 1u);
    EXPECT_EQ(stats_a->tx_bytes, frame_ab.size());
    EXPECT_GE(stats_a->rx_packets, 1u);

    EXPECT_TRUE(remove_port(*port_a).ok());
    EXPECT_TRUE(remove_port(*port_b).ok());
    EXPECT_FALSE(rte_eth_dev_is_valid_port(*port_a));
    EXPECT_FALSE(rte_eth_dev_is_valid_port(*port_b));
    EXPECT_EQ(rte_mempool_in_use_count(pool_.get()), 0u);

    // Nothing of the old port lingers: the same devargs probe again, into the freed id.
    auto again = start(a);
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ(*again, first_id);
    EXPECT_TRUE(remove_port(*again).ok());

    // No socket keeps the interfaces busy.
    EXPECT_TRUE(veth.remove());
    EXPECT_EQ(if_nametoindex(a.c_str()), 0u);
    EXPECT_EQ(if_nametoindex(b.c_str()), 0u);
}

// af_packet spreads flows over its qpairs sockets at probe time; a queue
// that nobody polls would swallow its flows, so all must be configured.
TEST_F(AfPacketPorts, QueuePairsNeedEveryRxQueue) {
    const std::string a = "dpt" + std::to_string(getpid()) + "c";
    const std::string b = "dpt" + std::to_string(getpid()) + "d";
    VethPair veth(a, b);
    ASSERT_TRUE(veth.ready()) << "cannot create veth pair " << a << "/" << b;

    auto sender = start(a);
    ASSERT_TRUE(sender.ok()) << sender.message();
    const std::string name = "net_af_packet_" + b;
    auto port = probe_port(name + ",iface=" + b + ",qpairs=2");
    if (!port.ok()) remove_port(*sender);
    ASSERT_TRUE(port.ok()) << port.message();
    const PortId receiver = *port;
    struct Cleanup {
        PortId a, b;
        ~Cleanup() {
            remove_port(a);
            remove_port(b);
        }
    } cleanup{*sender, receiver};

    PortOptions options;
    options.pool = pool_.get();
    options.tx_queues = 2;
    auto st = configure_and_start_port(receiver, options);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("all 2 rx queues must be configured and polled, 1 requested"), std::string::npos)
        << st.message();

    options.rx_queues = 2;
    st = configure_and_start_port(receiver, options);
    ASSERT_TRUE(st.ok()) << st.message();

    constexpr unsigned kFlows = 32;
    for (std::uint16_t i = 0; i < kFlows; ++i) {
        rte_mbuf* m = test::to_mbuf(pool_.get(), test::udp_test_frame(static_cast<std::uint16_t>(40000 + i)));
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_eth_tx_burst(*sender, 0, &m, 1), 1);
    }
    unsigned per_queue[2] = {0, 0};
    for (int attempt = 0; attempt < 500 && per_queue[0] + per_queue[1] < kFlows; ++attempt) {
        for (std::uint16_t q = 0; q < 2; ++q) {
            rte_mbuf* rx[32];
            const std::uint16_t n = rte_eth_rx_burst(receiver, q, rx, 32);
            for (std::uint16_t i = 0; i < n; ++i) {
                if (test::to_bytes(rx[i]).size() == 52 && rte_pktmbuf_mtod(rx[i], std::uint8_t*)[12] == 0x08) {
                    ++per_queue[q];
                }
                rte_pktmbuf_free(rx[i]);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(per_queue[0] + per_queue[1], kFlows);
    // Both queues carry flows: polling only queue 0 would have lost these.
    EXPECT_GT(per_queue[1], 0u);
}

TEST_F(AfPacketPorts, ProbeOfAMissingInterfaceFailsAndLeavesNothing) {
    const std::string iface = "dpt" + std::to_string(getpid()) + "x";
    const std::string name = "net_af_packet_" + iface;
    EXPECT_FALSE(probe_port(name + ",iface=" + iface).ok());
    PortId unused = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &unused), 0);
}

}  // namespace
}  // namespace dpdock::dataplane
