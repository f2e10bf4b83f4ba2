// TxBuffers accepts only the ethdev port ids it has buffers for: a VTEP pseudo
// port or kNoPort is a bug upstream, caught by a check in debug builds (the
// ASan configuration) before it indexes counters or buffers out of bounds.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dpdock::test
