#include "dataplane/port.hpp"

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dataplane/mempool.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/support/ring_ports.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dpdock::dataplane {
namespace {

// Removes the port at scope end if it is still the device the test probed.
class PortGuard {
public:
    PortGuard(PortId port, std::string name) : port_(port), name_(std::move(name)) {}
    ~PortGuard() {
        if (port_name(port_) == name_) remove_port(port_);
    }
    PortGuard(const PortGuard&) = delete;
    PortGuard& operator=(const PortGuard&) = delete;

private:
    PortId port_;
    std::string name_;
};

class Ports : public ::testing::Test {
protected:
    void SetUp() override {
        test::ensure_eal();
        auto pool = create_packet_pool("pt_pool" + std::to_string(getpid()), 2047, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       static_cast<int>(rte_socket_id()));
        ASSERT_TRUE(pool.ok()) << pool.message();
        pool_.reset(*pool);
    }

    std::vector<rte_mbuf*> frames(unsigned count, std::uint8_t seed = 0) {
        std::vector<rte_mbuf*> out;
        for (unsigned i = 0; i < count; ++i) {
            out.push_back(test::to_mbuf(pool_.get(), test::test_frame(static_cast<std::uint8_t>(seed + i))));
            EXPECT_NE(out.back(), nullptr);
        }
        return out;
    }

    test::PoolPtr pool_;
};

TEST_F(Ports, NullPortLifecycle) {
    const std::string name = "net_null_dpt" + std::to_string(getpid());
    auto port = probe_port(name);
    ASSERT_TRUE(port.ok()) << port.message();
    PortGuard guard(*port, name);
    EXPECT_EQ(port_name(*port), name);

    PortOptions options;
    options.tx_queues = 2;
    options.pool = pool_.get();
    options.mtu = 9000;  // net_null has no MTU operation: accepted as is
    auto st = configure_and_start_port(*port, options);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(link_up(*port));

    // net_null swallows what is sent (on either tx queue) and invents what is received.
    auto tx = frames(3);
    EXPECT_EQ(rte_eth_tx_burst(*port, 1, tx.data(), 3), 3);
    rte_mbuf* rx[8];
    const std::uint16_t received = rte_eth_rx_burst(*port, 0, rx, 8);
    EXPECT_GT(received, 0);
    for (std::uint16_t i = 0; i < received; ++i) rte_pktmbuf_free(rx[i]);

    auto stats = read_port_stats(*port);
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_EQ(stats->tx_packets, 3u);
    EXPECT_EQ(stats->rx_packets, received);
    EXPECT_EQ(stats->tx_errors, 0u);

    // DPDK itself would answer 0 without probing anything.
    auto again = probe_port(name);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.message().find("device " + name + " already exists"), std::string::npos) << again.message();

    ASSERT_TRUE(remove_port(*port).ok());
    EXPECT_FALSE(rte_eth_dev_is_valid_port(*port));
    EXPECT_EQ(port_name(*port), "");
    auto gone = remove_port(*port);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.message(), "no port " + std::to_string(*port));
    EXPECT_FALSE(read_port_stats(*port).ok());

    // The device is really gone: the same devargs probe again, into the freed id.
    auto reprobed = probe_port(name);
    ASSERT_TRUE(reprobed.ok()) << reprobed.message();
    PortGuard guard2(*reprobed, name);
    EXPECT_EQ(*reprobed, *port);
    EXPECT_TRUE(remove_port(*reprobed).ok());
}

TEST_F(Ports, RemovingANeverStartedPortWorks) {
    const std::string name = "net_null_dpu" + std::to_string(getpid());
    auto port = probe_port(name);
    ASSERT_TRUE(port.ok()) << port.message();
    PortGuard guard(*port, name);
    EXPECT_TRUE(remove_port(*port).ok());
    EXPECT_FALSE(rte_eth_dev_is_valid_port(*port));
}

TEST_F(Ports, ProbeErrors) {
    EXPECT_FALSE(probe_port("").ok());
    auto unknown = probe_port("net_nosuchdriver0");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.message().find("net_nosuchdriver0"), std::string::npos) << unknown.message();
    // A known driver with arguments it rejects: nothing is left behind.
    const std::string name = "net_null_dpv" + std::to_string(getpid());
    EXPECT_FALSE(probe_port(name + ",size=notanumber,nosuchkey=1").ok());
    auto port = probe_port(name);
    ASSERT_TRUE(port.ok()) << port.message();
    PortGuard guard(*port, name);
    EXPECT_TRUE(remove_port(*port).ok());
}

TEST_F(Ports, ConfigureErrorsAreClear) {
    EXPECT_EQ(configure_and_start_port(kNoPort - 1, PortOptions{.pool = pool_.get()}).message(),
              "no port " + std::to_string(kNoPort - 1));

    auto ring = test::RingPort::create("dpq" + std::to_string(getpid()));
    ASSERT_TRUE(ring.ok()) << ring.message();
    const PortId port = (*ring)->port();

    PortOptions options;
    options.pool = pool_.get();
    options.tx_queues = 2;  // the ring port has one tx ring
    auto st = configure_and_start_port(port, options);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("supports at most 1 tx queues, 2 requested"), std::string::npos) << st.message();

    options.tx_queues = 1;
    options.rx_queues = 3;
    st = configure_and_start_port(port, options);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("supports at most 1 rx queues, 3 requested"), std::string::npos) << st.message();

    options.rx_queues = 1;
    options.pool = nullptr;
    EXPECT_FALSE(configure_and_start_port(port, options).ok());
}

TEST_F(Ports, RingPortCarriesFramesBothWays) {
    const std::string name = "dpr" + std::to_string(getpid());
    auto ring = test::RingPort::create(name, {.rx_queues = 1, .tx_queues = 2, .pool = pool_.get()});
    ASSERT_TRUE(ring.ok()) << ring.message();
    const PortId port = (*ring)->port();
    EXPECT_EQ(port_name(port), "net_ring_" + name);
    EXPECT_EQ((*ring)->device_name(), "net_ring_" + name);

    EXPECT_EQ((*ring)->inject(frames(5, 10)), 5u);
    rte_mbuf* rx[32];
    const std::uint16_t received = rte_eth_rx_burst(port, 0, rx, 32);
    ASSERT_EQ(received, 5);
    for (unsigned i = 0; i < received; ++i) {
        EXPECT_EQ(test::to_bytes(rx[i]), test::test_frame(static_cast<std::uint8_t>(10 + i))) << i;
        rte_pktmbuf_free(rx[i]);
    }

    auto tx = frames(3, 40);
    EXPECT_EQ(rte_eth_tx_burst(port, 0, tx.data(), 2), 2);
    EXPECT_EQ(rte_eth_tx_burst(port, 1, tx.data() + 2, 1), 1);
    auto sent0 = (*ring)->drain_tx(0);
    auto sent1 = (*ring)->drain_tx(1);
    ASSERT_EQ(sent0.size(), 2u);
    ASSERT_EQ(sent1.size(), 1u);
    EXPECT_EQ(test::to_bytes(sent0[0]), test::test_frame(40));
    EXPECT_EQ(test::to_bytes(sent0[1]), test::test_frame(41));
    EXPECT_EQ(test::to_bytes(sent1[0]), test::test_frame(42));
    test::free_all(sent0);
    test::free_all(sent1);
    EXPECT_TRUE((*ring)->drain_tx().empty());

    auto stats = read_port_stats(port);
    ASSERT_TRUE(stats.ok()) << stats.message();
    EXPECT_EQ(stats->rx_packets, 5u);
    EXPECT_EQ(stats->tx_packets, 3u);

    // A second port of that name is refused while the first lives.
    EXPECT_FALSE(test::RingPort::create(name).ok());

    // Frames still in the rings go back to the pool with the port, and the name is free again.
    EXPECT_EQ((*ring)->inject(frames(2)), 2u);
    EXPECT_EQ(rte_mempool_in_use_count(pool_.get()), 2u);
    std::unique_ptr<test::RingPort> owner = std::move(*ring);
    owner.reset();
    EXPECT_FALSE(rte_eth_dev_is_valid_port(port));
    EXPECT_EQ(rte_mempool_in_use_count(pool_.get()), 0u);
    EXPECT_TRUE(test::RingPort::create(name).ok());
}

}  // namespace
}  // namespace dpdock::dataplane
