// The worker's half of the embedded DNS: the gateway stage hands UDP to port
// 53 of the gateway to the DNS thread's ring (full: dns_ring_full), and
// send_dns_replies sends what the DNS thread queued back out of the asker's
// port (gone meanwhile: port_gone). The DNS thread itself is not running here.
#include <gtest/gtest.h>

#include <rte_ring.h>

#include "dataplane/fastpath/stages.hpp"
#include "dns/fastpath/dns_punt.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

class DnsPuntTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        static int serial = 0;
        const std::string id = std::to_string(serial++);
        // Capacity 3: the fourth query finds the ring full.
        rings_.queries = rte_ring_create(("t_dns_q" + id).c_str(), 4, SOCKET_ID_ANY, RING_F_SC_DEQ);
        rings_.replies = rte_ring_create(("t_dns_r" + id).c_str(), 4, SOCKET_ID_ANY, RING_F_SP_ENQ);
        ASSERT_NE(rings_.queries, nullptr);
        ASSERT_NE(rings_.replies, nullptr);
        h_.context().dns = &rings_;
    }
    void TearDown() override {
        h_.context().dns = nullptr;
        rte_mbuf* m = nullptr;
        for (rte_ring* r : {rings_.queries, rings_.replies}) {
            while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
            rte_ring_free(r);
        }
    }
    Frame query(std::uint16_t dport = 53) {
        return PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).udp(40000, dport).payload(20).build();
    }

    PipelineHarness h_;
    NetworkId net_ = 0;
    PortId c1_ = 0;
    dns::DnsRings rings_;
};

TEST_F(DnsPuntTest, QueriesToTheGatewayGoToTheRing) {
    h_.receive(c1_, {query(), query(54),
                     PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway).ipv4_fragment(0, true).udp(40000, 53)
                         .payload(20).build()});
    EXPECT_EQ(rte_ring_count(rings_.queries), 1u);
    EXPECT_EQ(h_.drops(DropReason::NotServed), 2u);  // another port, and a fragment
    EXPECT_TRUE(h_.sent(c1_).empty());
}

TEST_F(DnsPuntTest, AFullRingIsACountedDrop) {
    h_.receive(c1_, {query(), query(), query(), query(), query()});
    EXPECT_EQ(rte_ring_count(rings_.queries), 3u);
    EXPECT_EQ(h_.drops(DropReason::DnsRingFull), 2u);
}

TEST_F(DnsPuntTest, RepliesLeaveThroughTheAskersPort) {
    h_.receive(c1_, {query()});
    rte_mbuf* m = nullptr;
    ASSERT_EQ(rte_ring_dequeue(rings_.queries, reinterpret_cast<void**>(&m)), 0);
    const Frame as_queued = from_mbuf(m);
    ASSERT_EQ(rte_ring_enqueue(rings_.replies, m), 0);  // the DNS thread would rewrite it first
    dataplane::send_dns_replies(h_.context(), h_.snapshot());
    h_.context().tx.flush_all();
    const auto sent = h_.sent(c1_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(hex_diff(as_queued, sent[0]), "");
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(DnsPuntTest, AReplyForAPortGoneIsDropped) {
    h_.receive(c1_, {query()});
    rte_mbuf* m = nullptr;
    ASSERT_EQ(rte_ring_dequeue(rings_.queries, reinterpret_cast<void**>(&m)), 0);
    ASSERT_EQ(rte_ring_enqueue(rings_.replies, m), 0);
    h_.snapshot().ports[c1_].role = dataplane::PortRole::Unused;
    dataplane::send_dns_replies(h_.context(), h_.snapshot());
    EXPECT_EQ(h_.drops(DropReason::PortGone), 1u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
