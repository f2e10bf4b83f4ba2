// TxBuffers accepts only the ethdev port ids it has buffers for: a VTEP pseudo
// port or kNoPort is a bug upstream, caught by a check in debug builds (the
// ASan configuration) before it indexes counters or buffers out of bounds.
// Packets the tx ring refuses are tx_full drops, never counted as sent; a
// block queued by send_burst leaves in order.
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/ring_ports.hpp"

#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

TEST(TxBuffersTest, OwnsEthdevPortsOnly) {
    PipelineHarness h;
    const PortId port = h.add_port(h.add_network(kGateway));
    EXPECT_TRUE(h.context().tx.owns(port));
    EXPECT_FALSE(h.context().tx.owns(vxlan::kVtepPortBase));
    EXPECT_FALSE(h.context().tx.owns(kNoPort));
    EXPECT_FALSE(h.context().tx.owns(sync::kMaxPorts));
}

TEST(TxBuffersDeathTest, SendToAPortItDoesNotOwnIsCaught) {
#ifdef NDEBUG
    GTEST_SKIP() << "checked in debug builds only";
#else
    // The default "fast" style forks: the check fires before any DPDK call in the child.
    PipelineHarness h;
    rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
    ASSERT_NE(m, nullptr);
    EXPECT_DEATH(h.context().tx.send(vxlan::kVtepPortBase, m), "check failed: owns\\(port\\)");
    rte_pktmbuf_free(m);
#endif
}

// The tx ring holds 16: of 40 packets, the buffer's own flush at 32 sends 16
// and 16 are refused, flush_all finds the ring full and 8 more are refused:
// 24 tx_full, none of them counted as sent.
TEST(TxBuffersTest, RefusedPacketsAreCountedAsTxFullNotAsSent) {
    PipelineHarness h;
    auto ring = RingPort::create("txfull" + std::to_string(getpid()), {.ring_size = 16, .pool = h.pool()});
    ASSERT_TRUE(ring.ok()) << ring.message();
    const PortId port = (*ring)->port();
    for (int i = 0; i < 40; ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
        ASSERT_NE(m, nullptr);
        ASSERT_NE(rte_pktmbuf_append(m, 60), nullptr);
        h.context().tx.send(port, m);
    }
    h.context().tx.flush_all();
    const sync::WorkerCounters& c = h.counters();
    EXPECT_EQ(c.ports[port].tx_packets, 16u);
    EXPECT_EQ(c.ports[port].tx_bytes, 16u * 60);
    EXPECT_EQ(c.tx_packets, 16u);
    EXPECT_EQ(c.drops[static_cast<std::size_t>(DropReason::TxFull)], 24u);
    for (rte_mbuf* m : (*ring)->drain_tx()) rte_pktmbuf_free(m);
    EXPECT_EQ(h.mbufs_in_use(), 0u);
}

// send_burst after a send: the packets leave in the order given, across the
// buffer's own flush at 32 and flush_all, each counted once with its bytes.
TEST(TxBuffersTest, SendBurstKeepsOrderAcrossFlushes) {
    PipelineHarness h;
    auto ring = RingPort::create("txburst" + std::to_string(getpid()), {.ring_size = 64, .pool = h.pool()});
    ASSERT_TRUE(ring.ok()) << ring.message();
    const PortId port = (*ring)->port();
    std::vector<rte_mbuf*> pkts;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < 41; ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
        ASSERT_NE(m, nullptr);
        ASSERT_NE(rte_pktmbuf_append(m, static_cast<std::uint16_t>(60 + i)), nullptr);
        bytes += 60 + i;
        pkts.push_back(m);
    }
    h.context().tx.send(port, pkts[0]);
    h.context().tx.send_burst(port, pkts.data() + 1, 40);
    h.context().tx.flush_all();
    const sync::WorkerCounters& c = h.counters();
    EXPECT_EQ(c.ports[port].tx_packets, 41u);
    EXPECT_EQ(c.ports[port].tx_bytes, bytes);
    EXPECT_EQ(c.tx_packets, 41u);
    const std::vector<rte_mbuf*> sent = (*ring)->drain_tx();
    EXPECT_EQ(sent, pkts);
    for (rte_mbuf* m : sent) rte_pktmbuf_free(m);
    EXPECT_EQ(h.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
