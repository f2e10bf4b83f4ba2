// The exception path in the packet path (issue 15): what the dataplane does
// not serve at the host's addresses goes to the kernel through the worker's
// punt ring (bounded: a full ring is counted, never waited on), and what the
// kernel sends on dpdock0 reaches containers (its ARP relayed through the
// gateway) or leaves through the uplink. Without an exception interface the
// same packets were dropped as not_served (see gateway_test.cpp).
#include <rte_cycles.h>

#include <gtest/gtest.h>

#include "exception/punt_rings.hpp"
#include "tests/unit/fastpath/pipeline_harness.hpp"

namespace dpdock::test {
namespace {

const MacAddress kKernelMac = MacAddress::from_u64(0x02dd00000001ULL);

class ExceptionPathTest : public ::testing::Test {
protected:
    void SetUp() override {
        t_ = h_.containers_behind_uplink();
        host_ = h_.add_port(kNoNetwork, dataplane::PortRole::Host);
        h_.snapshot().host = dataplane::HostInfo{host_, kKernelMac, 0};
        static unsigned n = 0;
        auto rings = exception::PuntRings::create("utpunt" + std::to_string(n++) + "_", 1, SOCKET_ID_ANY, kRing);
        ASSERT_TRUE(rings.ok()) << rings.message();
        rings_ = std::move(*rings);
        h_.context().punt = rings_->of(0);
        h_.context().punt_rings = &rings_->all();
    }
    void TearDown() override {
        h_.context().punt_rings = nullptr;
        rings_.reset();
    }

    // The drain of the worker that polls dpdock0, then its tx flush.
    unsigned drain() {
        const unsigned n = dataplane::drain_punts(h_.context(), h_.snapshot());
        h_.context().tx.flush_all();
        return n;
    }

    static Frame syn(MacAddress dst_mac, Ipv4Address dst, std::uint16_t sport = 40000) {
        return PacketBuilder().eth(dst_mac, kC1Mac).ipv4(kC1, dst, 64).tcp(sport, 22).build();
    }

    static constexpr unsigned kRing = 4;
    PipelineHarness h_;
    PipelineHarness::UplinkTopology t_{};
    PortId host_ = kNoPort;
    std::unique_ptr<exception::PuntRings> rings_;
};

TEST_F(ExceptionPathTest, TcpToTheGatewayGoesToTheKernelReaddressed) {
    h_.receive(t_.c1, {syn(kGatewayMac, kGateway)});
    EXPECT_TRUE(h_.sent(host_).empty()) << "only the dpdock0 worker's drain writes to the kernel";
    EXPECT_EQ(drain(), 1u);
    EXPECT_EQ(h_.sent(host_), std::vector<Frame>{syn(kKernelMac, kGateway)});
    EXPECT_EQ(h_.counters().punted, 1u);
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(ExceptionPathTest, TcpToTheUplinkAddressFromOutsideGoesToTheKernel) {
    const Frame in = PacketBuilder().eth(kUplinkMac, kRouterMac).ipv4(kFar, kHostIp, 60).tcp(5555, 22).build();
    const Frame out = PacketBuilder().eth(kKernelMac, kRouterMac).ipv4(kFar, kHostIp, 60).tcp(5555, 22).build();
    h_.receive(t_.up, {in});
    EXPECT_EQ(drain(), 1u);
    EXPECT_EQ(h_.sent(host_), std::vector<Frame>{out});
    EXPECT_EQ(h_.total_drops(), 0u);
}

TEST_F(ExceptionPathTest, AFullPuntRingIsCountedAndTheRestGoesOn) {
    std::vector<Frame> burst;
    for (std::uint16_t i = 0; i < kRing + 2; ++i) burst.push_back(syn(kGatewayMac, kGateway, 40000 + i));
    h_.receive(t_.c1, burst);
    EXPECT_EQ(h_.counters().punted, kRing);
    EXPECT_EQ(h_.drops(DropReason::PuntFull), 2u);
    EXPECT_EQ(h_.mbufs_in_use(), kRing);  // waiting in the ring, nothing else held
    EXPECT_EQ(drain(), kRing);
    EXPECT_EQ(h_.sent(host_).size(), kRing);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

// exception.punt-rate: a burst beyond the worker's tokens is dropped as
// punt_rate_limited before it takes a ring slot; the tokens come back with time.
TEST_F(ExceptionPathTest, PuntsBeyondTheRateAreDroppedAndNamed) {
    h_.snapshot().host->punt_rate = 1000;  // a token a millisecond
    h_.snapshot().host->punt_burst = 2;
    h_.receive(t_.c1, {syn(kGatewayMac, kGateway, 40000), syn(kGatewayMac, kGateway, 40001),
                       syn(kGatewayMac, kGateway, 40002)});
    EXPECT_EQ(h_.counters().punted, 2u);
    EXPECT_EQ(h_.drops(DropReason::PuntRateLimited), 1u);
    EXPECT_EQ(h_.drops(DropReason::PuntFull), 0u);
    EXPECT_EQ(drain(), 2u);
    EXPECT_EQ(h_.sent(host_).size(), 2u);
    rte_delay_ms(3);  // two tokens again
    h_.receive(t_.c1, {syn(kGatewayMac, kGateway, 40003), syn(kGatewayMac, kGateway, 40004)});
    EXPECT_EQ(h_.counters().punted, 4u);
    EXPECT_EQ(h_.drops(DropReason::PuntRateLimited), 1u);
    EXPECT_EQ(drain(), 2u);
    EXPECT_EQ(h_.sent(host_).size(), 2u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(ExceptionPathTest, PingStaysTheDataplanes) {
    const Frame ping = PacketBuilder().eth(kGatewayMac, kC1Mac).ipv4(kC1, kGateway, 64).icmp_echo(1, 1).payload(8).build();
    h_.receive(t_.c1, {ping});
    EXPECT_EQ(h_.sent(t_.c1).size(), 1u);
    EXPECT_EQ(drain(), 0u);
}

TEST_F(ExceptionPathTest, KernelArpForAContainerIsRelayedAndTheReplyComesBack) {
    const Frame ask = PacketBuilder().eth(kBroadcast, kKernelMac).arp_request(kKernelMac, kGateway, kC1).build();
    const Frame relayed = PacketBuilder().eth(kBroadcast, kGatewayMac).arp_request(kGatewayMac, kGateway, kC1).build();
    h_.receive(host_, {ask});
    EXPECT_EQ(h_.sent(t_.c1), std::vector<Frame>{relayed});
    EXPECT_EQ(h_.sent(t_.c2), std::vector<Frame>{relayed});
    const Frame answer = PacketBuilder().eth(kGatewayMac, kC1Mac).arp_reply(kC1Mac, kC1, kGatewayMac, kGateway).build();
    const Frame to_kernel = PacketBuilder().eth(kKernelMac, kC1Mac).arp_reply(kC1Mac, kC1, kKernelMac, kGateway).build();
    h_.receive(t_.c1, {answer});
    EXPECT_EQ(drain(), 1u);
    EXPECT_EQ(h_.sent(host_), std::vector<Frame>{to_kernel});
    EXPECT_EQ(h_.total_drops(), 0u);
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

TEST_F(ExceptionPathTest, KernelTrafficReachesAContainerFromTheGateway) {
    h_.receive(t_.c1, {syn(kGatewayMac, kGateway)});  // c1's MAC is learned on its port
    drain();
    (void)h_.sent(host_);
    const Frame in = PacketBuilder().eth(kC1Mac, kKernelMac).ipv4(kGateway, kC1, 64).tcp(22, 40000, 0x12).build();
    const Frame out = PacketBuilder().eth(kC1Mac, kGatewayMac).ipv4(kGateway, kC1, 63).tcp(22, 40000, 0x12).build();
    h_.receive(host_, {in});
    EXPECT_EQ(h_.sent(t_.c1), std::vector<Frame>{out});
    EXPECT_TRUE(h_.sent(t_.c2).empty());
    EXPECT_EQ(h_.counters().from_host, 1u);
}

TEST_F(ExceptionPathTest, KernelArpForTheOutsideIsAnsweredAndItsTrafficLeavesThroughTheNextHop) {
    const Frame ask = PacketBuilder().eth(kBroadcast, kKernelMac).arp_request(kKernelMac, kHostIp, kRouter).build();
    const Frame answer = PacketBuilder().eth(kKernelMac, kUplinkMac).arp_reply(kUplinkMac, kRouter, kKernelMac, kHostIp).build();
    h_.receive(host_, {ask});
    EXPECT_EQ(h_.sent(host_), std::vector<Frame>{answer});
    const Frame in = PacketBuilder().eth(kUplinkMac, kKernelMac).ipv4(kHostIp, kFar, 64).tcp(40000, 80).build();
    const Frame out = PacketBuilder().eth(kRouterMac, kUplinkMac).ipv4(kHostIp, kFar, 64).tcp(40000, 80).build();
    h_.receive(host_, {in});
    EXPECT_EQ(h_.sent(t_.up), std::vector<Frame>{out});
    EXPECT_EQ(h_.total_drops(), 0u);
}

// Issue 15 item 2: Linux's neighbour layer fails the host's connect at once
// when ARP for an on-link address goes unanswered; before, the packet was
// dropped (arp_unresolved) and the kernel waited for its own timeout.
TEST_F(ExceptionPathTest, AnUnresolvedNextHopIsReportedToTheKernelAsHostUnreachable) {
    const Ipv4Address absent = *Ipv4Address::parse("192.168.50.77");
    const Frame in = PacketBuilder().eth(kUplinkMac, kKernelMac).ipv4(kHostIp, absent, 64).tcp(40000, 80).build();
    h_.receive(host_, {in}, 1);
    EXPECT_EQ(h_.sent(t_.up).size(), 1u);  // the ARP request
    for (std::uint64_t now = 101; now <= 1001; now += 100) h_.idle(now);
    EXPECT_EQ(h_.drops(DropReason::ArpUnresolved), 1u);
    const auto got = h_.sent(host_);
    ASSERT_EQ(got.size(), 1u);
    const Frame& e = got[0];
    ASSERT_GE(e.size(), 14u + 20 + 8 + 28);
    EXPECT_EQ(MacAddress({e[0], e[1], e[2], e[3], e[4], e[5]}), kKernelMac);
    EXPECT_EQ(MacAddress({e[6], e[7], e[8], e[9], e[10], e[11]}), kUplinkMac);
    EXPECT_EQ(e[14 + 9], 1);  // ICMP
    EXPECT_EQ(std::vector<std::uint8_t>(e.begin() + 26, e.begin() + 30), std::vector<std::uint8_t>({192, 168, 50, 77}));
    EXPECT_EQ(std::vector<std::uint8_t>(e.begin() + 30, e.begin() + 34), std::vector<std::uint8_t>({192, 168, 50, 2}));
    EXPECT_EQ(e[34], kIcmpUnreachable);
    EXPECT_EQ(e[35], 1);  // host unreachable
    EXPECT_EQ(std::vector<std::uint8_t>(e.begin() + 42, e.begin() + 42 + 28), quote_of(in));
    EXPECT_EQ(h_.sent(t_.up).size(), 2u);  // the ARP retries
    EXPECT_EQ(h_.mbufs_in_use(), 0u);
}

}  // namespace
}  // namespace dpdock::test
