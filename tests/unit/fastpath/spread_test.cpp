// Flow spreading (dataplane/fastpath/spread.hpp) on one harness worker that
// plays both workers: as worker 0 it receives a container port's bursts and
// keeps the flows it owns; as worker 1 it takes the rest from the ring 0 -> 1
// and forwards them. Every flow must come out whole, in order, from exactly
// one of the two; the fragments of a datagram together; ARP from the home
// worker; a full ring drops with spread_full; a packet whose port left its
// network while it waited is not forwarded.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dataplane/fastpath/spread.hpp"
#include "dataplane/spread_rings.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

constexpr std::uint16_t kFlows = 32;
constexpr std::uint8_t kRounds = 3;
constexpr std::size_t kL4 = 14 + 20;  // UDP header in an untagged frame without IPv4 options

Frame datagram(std::uint16_t flow, std::uint8_t round) {
    std::vector<std::uint8_t> payload(16, round);
    return PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).udp(static_cast<std::uint16_t>(1000 + flow), 7).payload(payload).build();
}

class SpreadStageTest : public ::testing::Test {
protected:
    void SetUp() override {
        net_ = h_.add_network(kGateway);
        c1_ = h_.add_port(net_);
        c2_ = h_.add_port(net_);
        h_.snapshot().spread[c1_] = {dataplane::SpreadMode::Flows, 0};
    }
    void use_rings(unsigned size) {
        static int serial = 0;
        auto rings = dataplane::SpreadRings::create("t_spread" + std::to_string(serial++) + "_", 2, SOCKET_ID_ANY, size);
        ASSERT_TRUE(rings.ok()) << rings.message();
        rings_ = std::move(*rings);
        h_.context().spread = rings_.get();
    }
    // Worker 1's turn: what worker 0 handed it, forwarded (a burst per loop).
    unsigned as_worker_1() {
        h_.context().index = 1;
        unsigned taken = 0;
        while (const unsigned n = dataplane::take_spread(h_.context(), h_.snapshot(), 1)) {
            taken += n;
            h_.context().tx.flush_all();
        }
        h_.context().index = 0;
        return taken;
    }
    std::uint64_t counter(std::uint64_t sync::WorkerCounters::*field) const { return h_.counters().*field; }

    PipelineHarness h_;
    NetworkId net_{};
    PortId c1_{}, c2_{};
    std::unique_ptr<dataplane::SpreadRings> rings_;
};

TEST_F(SpreadStageTest, EveryFlowIsForwardedWholeAndInOrderByOneWorker) {
    use_rings(dataplane::kSpreadRingSize);
    for (std::uint8_t r = 0; r < kRounds; ++r) {
        std::vector<Frame> burst;
        for (std::uint16_t f = 0; f < kFlows; ++f) burst.push_back(datagram(f, r));
        h_.receive(c1_, burst);
    }
    // The fragments of four datagrams (different ids) and an ARP request.
    for (std::uint16_t id = 1; id <= 4; ++id) {
        h_.receive(c1_, {PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).ipv4_id(id).ipv4_fragment(0, true)
                             .udp(2000, 7).payload(16).build(),
                         // A later fragment's bytes are payload; built as UDP only for its protocol field.
                         PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).ipv4_id(id).ipv4_fragment(3, false)
                             .udp(0, 0).payload(16).build()});
    }
    h_.receive(c1_, {PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, kC2).build()});
    const std::vector<Frame> by_0 = h_.sent(c2_);
    EXPECT_EQ(as_worker_1(), counter(&sync::WorkerCounters::spread_out));
    const std::vector<Frame> by_1 = h_.sent(c2_);

    // Per flow (UDP source port): which worker sent it, and its rounds in order.
    std::map<std::uint16_t, std::set<int>> workers;
    std::map<std::uint16_t, std::vector<std::uint8_t>> rounds;
    std::map<std::uint16_t, std::set<int>> fragment_workers;  // by IPv4 id
    int arp_worker = -1;
    for (int w = 0; w < 2; ++w) {
        for (const Frame& f : w == 0 ? by_0 : by_1) {
            if (f[12] == 0x08 && f[13] == 0x06) {
                arp_worker = w;
                continue;
            }
            if ((f[14 + 6] & 0x3f) != 0 || f[14 + 7] != 0) {  // MF or an offset: a fragment
                fragment_workers[static_cast<std::uint16_t>(f[14 + 4] << 8 | f[14 + 5])].insert(w);
                continue;
            }
            const auto sport = static_cast<std::uint16_t>(f[kL4] << 8 | f[kL4 + 1]);
            workers[sport].insert(w);
            rounds[sport].push_back(f[kL4 + 8]);
        }
    }
    ASSERT_EQ(workers.size(), kFlows);
    std::set<int> used;
    for (const auto& [sport, ws] : workers) {
        EXPECT_EQ(ws.size(), 1u) << "flow " << sport << " was forwarded by both workers";
        used.insert(*ws.begin());
        EXPECT_EQ(rounds[sport], (std::vector<std::uint8_t>{0, 1, 2})) << "flow " << sport;
    }
    EXPECT_EQ(used, (std::set<int>{0, 1})) << "32 flows, all on one worker";
    ASSERT_EQ(fragment_workers.size(), 4u);
    for (const auto& [id, ws] : fragment_workers) EXPECT_EQ(ws.size(), 1u) << "datagram " << id;
    EXPECT_EQ(arp_worker, 0);  // not IP: the home worker
    EXPECT_EQ(counter(&sync::WorkerCounters::spread_in), counter(&sync::WorkerCounters::spread_out));
    EXPECT_EQ(by_0.size() + by_1.size(), kFlows * kRounds + 8u + 1u);
}

// A frame whose TCP header is cut short has no flow hash: with spreading it
// is still bridged by its home worker, as without (bridge_depth_test.cpp),
// not dropped while its owner is chosen.
TEST_F(SpreadStageTest, ACutShortL4HeaderIsBridgedByTheHomeWorker) {
    use_rings(dataplane::kSpreadRingSize);
    const Frame frame = PacketBuilder().eth(kC2Mac, kC1Mac).ipv4(kC1, kC2).tcp(1, 2).set_total_length(30).truncate(44).build();
    h_.receive(c1_, {frame});
    const auto out = h_.sent(c2_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], frame);
    EXPECT_EQ(counter(&sync::WorkerCounters::spread_out), 0u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(SpreadStageTest, AFullRingDropsWithItsReason) {
    use_rings(4);
    std::vector<Frame> burst;
    for (std::uint16_t f = 0; f < 64; ++f) burst.push_back(datagram(f, 0));
    h_.receive(c1_, burst);
    const std::size_t by_0 = h_.sent(c2_).size();
    EXPECT_EQ(counter(&sync::WorkerCounters::spread_out), 4u);
    EXPECT_EQ(h_.drops(DropReason::SpreadFull), 64u - by_0 - 4u);
    EXPECT_GT(h_.drops(DropReason::SpreadFull), 0u);
    EXPECT_EQ(as_worker_1(), 4u);
    EXPECT_EQ(h_.sent(c2_).size(), 4u);
}

TEST_F(SpreadStageTest, APortThatLeftItsNetworkMeanwhileIsNotForwarded) {
    use_rings(dataplane::kSpreadRingSize);
    std::vector<Frame> burst;
    for (std::uint16_t f = 0; f < kFlows; ++f) burst.push_back(datagram(f, 0));
    h_.receive(c1_, burst);
    h_.sent(c2_);
    const std::uint64_t handed = counter(&sync::WorkerCounters::spread_out);
    ASSERT_GT(handed, 0u);
    h_.snapshot().ports[c1_].role = dataplane::PortRole::Unused;  // a snapshot without c1 was published
    EXPECT_EQ(as_worker_1(), handed);
    EXPECT_TRUE(h_.sent(c2_).empty());
    EXPECT_EQ(h_.drops(DropReason::NoNetwork), handed);
}

TEST_F(SpreadStageTest, SeveralQueuesKeepIpWhereItArrivedAndSendArpHome) {
    use_rings(dataplane::kSpreadRingSize);
    // c1's second queue is polled by worker 1; its home is worker 0.
    h_.snapshot().spread[c1_] = {dataplane::SpreadMode::Queues, 0};
    h_.context().index = 1;
    h_.receive(c1_, {datagram(0, 0), datagram(1, 0), PacketBuilder().eth(kBroadcast, kC1Mac).arp_request(kC1Mac, kC1, kC2).build()});
    h_.context().index = 0;
    EXPECT_EQ(h_.sent(c2_).size(), 2u);  // both datagrams, by worker 1
    EXPECT_EQ(counter(&sync::WorkerCounters::spread_out), 1u);
    rte_mbuf* arp = nullptr;
    ASSERT_EQ(rte_ring_sc_dequeue(rings_->ring(1, 0), reinterpret_cast<void**>(&arp)), 0);
    EXPECT_EQ(packet_meta(arp).l3_type, L3Type::Arp);
    rte_pktmbuf_free(arp);
}

}  // namespace
}  // namespace dpdock::test
