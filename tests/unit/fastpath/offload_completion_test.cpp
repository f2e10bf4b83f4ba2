// Packets from kernel ports keep their partial checksums and GSO super-frames
// (kernel_port/vnet_header.hpp): a kernel port takes them as they are, any
// other port gets them finished (offload_completion.hpp). Through the whole
// pipeline over ring ports, segments and checksums verified.
#include <gtest/gtest.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "dataplane/fastpath/offload_completion.hpp"
#include "dataplane/fastpath/pipeline.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

constexpr std::size_t kPayload = 4000;
constexpr std::uint16_t kMss = 1000;

class OffloadCompletionTest : public ::testing::Test {
protected:
    void SetUp() override {
        indirect_ = make_test_pool(255, RTE_PKTMBUF_HEADROOM + 1);
        auto& ctx = h_.context();
        ctx.gso.direct_pool = h_.pool();
        ctx.gso.indirect_pool = indirect_.get();
        ctx.gso.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
        ASSERT_TRUE(h_.macs().add_static(net_, kC2Mac, c2_).ok());
    }
    // A TCP super-frame from c1 to c2 as a kernel port hands it over: in 2 KiB
    // segments, the checksum field holding only the pseudo-header sum.
    void receive_super_frame() {
        const Frame f = PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).tcp(40000, 80, 0x18).payload(kPayload).build();
        payload_.assign(f.end() - kPayload, f.end());
        rte_mbuf* m = to_mbuf(h_.pool(), f, 2048);
        ASSERT_NE(m, nullptr);
        m->port = c1_;
        m->l2_len = 14;
        m->l3_len = 20;
        m->l4_len = 20;
        m->tso_segsz = kMss;
        m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, 14);
        rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, 34)->cksum = rte_ipv4_phdr_cksum(ip, 0);
        dataplane::process_burst(h_.context(), h_.snapshot(), &m, 1, 1);
        h_.context().tx.flush_all();
    }
    PipelineHarness h_;
    MempoolPtr indirect_;
    NetworkId net_{};
    PortId c1_{}, c2_{};
    Frame payload_;
};

TEST_F(OffloadCompletionTest, SuperFrameToAPlainPortLeavesAsSegmentsWithChecksums) {
    receive_super_frame();
    const std::vector<Frame> got = h_.sent(c2_);
    ASSERT_EQ(got.size(), kPayload / kMss);
    Frame joined;
    for (const Frame& f : got) {
        ASSERT_EQ(f.size(), 14u + 20 + 20 + kMss);
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f.data() + 14);
        EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), 20u + 20 + kMss);
        EXPECT_EQ(rte_ipv4_cksum(ip), 0) << "IPv4 header checksum";
        EXPECT_EQ(rte_ipv4_udptcp_cksum(ip, f.data() + 34), 0) << "TCP checksum (summed with its field)";
        joined.insert(joined.end(), f.begin() + 54, f.end());
    }
    EXPECT_EQ(joined, payload_);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(OffloadCompletionTest, SuperFrameToAKernelPortLeavesWhole) {
    h_.snapshot().ports[c2_].takes_offloads = true;
    receive_super_frame();
    const std::vector<Frame> got = h_.sent(c2_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].size(), 14u + 20 + 20 + kPayload);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(OffloadCompletionTest, PartialChecksumToAPlainPortIsFinished) {
    const Frame f = PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).udp(5000, 53).payload(100).build();
    rte_mbuf* m = to_mbuf(h_.pool(), f);
    ASSERT_NE(m, nullptr);
    m->port = c1_;
    m->l2_len = 14;
    m->l3_len = 20;
    m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, 14);
    rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, 34)->dgram_cksum = rte_ipv4_phdr_cksum(ip, 0);
    dataplane::process_burst(h_.context(), h_.snapshot(), &m, 1, 1);
    h_.context().tx.flush_all();
    const std::vector<Frame> got = h_.sent(c2_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], f) << "the UDP checksum the sender left to the device";
}

}  // namespace
}  // namespace dpdock::test
