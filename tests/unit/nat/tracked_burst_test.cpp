// TrackedBurst: one bulk conntrack lookup per burst gives every packet the
// result a per-packet nat::look_up() gives: tracked flows in both directions,
// untracked flows, packets without a key (ARP, IPv6, fragments, skipped),
// bursts longer than one rte_hash bulk call, and a flow created by an earlier
// packet of the same burst. With a worker's FlowCache in front of the table
// the results stay the same, and the cache answers only for flows the table
// still has.
#include <gtest/gtest.h>

#include <netinet/in.h>

#include <string>
#include <vector>

#include "base/packet/parse.hpp"
#include "base/sync/rcu.hpp"
#include "nat/conntrack.hpp"
#include "nat/fastpath/flow_cache.hpp"
#include "nat/fastpath/masquerade.hpp"
#include "nat/fastpath/tracked_burst.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/support/packet_builder.hpp"

namespace dpdock::test {
namespace {

using Frame = std::vector<std::uint8_t>;

const Ipv4Address kContainer = *Ipv4Address::parse("172.17.0.2");
const Ipv4Address kHostIp = *Ipv4Address::parse("192.168.50.2");
const Ipv4Address kFar = *Ipv4Address::parse("203.0.113.9");
const MacAddress kContainerMac = MacAddress::from_u64(0x0242ac110002ULL);
const MacAddress kGatewayMac = MacAddress::from_u64(0x0242ac110001ULL);

Frame udp_out(std::uint16_t sport) {
    return PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kContainer, kFar).udp(sport, 53).payload(8).build();
}
Frame udp_reply(std::uint16_t host_port) {
    return PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kFar, kHostIp).udp(53, host_port).payload(8).build();
}

class TrackedBurstTest : public ::testing::Test {
protected:
    void SetUp() override {
        ensure_eal();
        pool_ = make_test_pool(512);
        auto rcu = sync::Rcu::create(1);
        ASSERT_TRUE(rcu.ok()) << rcu.message();
        rcu_ = std::move(*rcu);
        static unsigned tables = 0;
        nat::ConntrackOptions o;
        o.name = "tbt" + std::to_string(tables++);
        o.capacity = 1024;
        o.hz = 1;
        o.qsbr = rcu_->qsbr();
        auto ct = nat::Conntrack::create(o);
        ASSERT_TRUE(ct.ok()) << ct.message();
        ct_ = std::move(*ct);
    }

    // `frame` parsed into an mbuf the fixture owns.
    rte_mbuf* packet(const Frame& frame) {
        rte_mbuf* m = to_mbuf(pool_.get(), frame);
        EXPECT_NE(m, nullptr);
        EXPECT_FALSE(parse_packet(m).has_value());
        mbufs_.emplace_back(m);
        return m;
    }

    // A flow opened by the first packet of `frame`, as MASQUERADE opens it.
    nat::Entry* open(const Frame& frame) {
        rte_mbuf* m = packet(frame);
        const auto key = nat::flow_key_of(m, packet_meta(m));
        EXPECT_TRUE(key.has_value());
        DropReason why{};
        nat::Entry* e = ct_->create(*key, kHostIp.be().raw(), kContainerMac, 0, 0, 100, why);
        EXPECT_NE(e, nullptr);
        return e;
    }

    // Every packet's key added, looked up in bulk.
    void add_all(nat::TrackedBurst& burst, const std::vector<rte_mbuf*>& pkts) {
        for (rte_mbuf* m : pkts) burst.add(nat::flow_key_of(m, packet_meta(m)));
        burst.look_up();
    }

    // Packet i's bulk result equals a per-packet lookup now.
    void expect_as_per_packet(nat::TrackedBurst& burst, const std::vector<rte_mbuf*>& pkts) {
        for (std::uint16_t i = 0; i < pkts.size(); ++i) {
            const nat::Tracked one = nat::look_up(*ct_, pkts[i], packet_meta(pkts[i]));
            const nat::Tracked& bulk = burst[i];
            EXPECT_EQ(bulk.key, one.key) << "packet " << i;
            EXPECT_EQ(bulk.entry, one.entry) << "packet " << i;
            if (one.entry != nullptr) {
                EXPECT_EQ(bulk.dir, one.dir) << "packet " << i;
            }
        }
    }

    MempoolPtr pool_;
    std::unique_ptr<sync::Rcu> rcu_;
    std::unique_ptr<nat::Conntrack> ct_;
    std::vector<MbufPtr> mbufs_;
};

TEST_F(TrackedBurstTest, MixedBurstGetsThePerPacketResults) {
    nat::Entry* udp = open(udp_out(5001));
    nat::Entry* echo = open(PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kContainer, kFar).icmp_echo(77, 1).build());
    const std::uint16_t udp_host_port = rte_be_to_cpu_16(udp->reply.dst_port);
    const std::vector<rte_mbuf*> pkts = {
        packet(udp_out(5001)),                                 // tracked, original direction
        packet(udp_out(6000)),                                 // untracked
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).arp_request(kContainerMac, kContainer, kFar).build()),
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).ipv6(Ipv6Bytes{0xfd}, Ipv6Bytes{0xfe}).udp(5001, 53).payload(8).build()),
        packet(udp_reply(udp_host_port)),                      // tracked, reply direction
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kContainer, kFar).ipv4_fragment(0, true)
                   .udp(5001, 53).payload(8).build()),         // fragment: no key
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kContainer, kFar).icmp_echo(77, 2).build()),
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).ipv4(kContainer, kFar).tcp(5001, 80).build()),
    };
    nat::TrackedBurst burst(*ct_);
    add_all(burst, pkts);
    expect_as_per_packet(burst, pkts);
    // Not vacuous: the hits, the misses and the keyless packets are where they should be.
    EXPECT_EQ(burst[0].entry, udp);
    EXPECT_EQ(burst[0].dir, nat::Direction::Original);
    EXPECT_EQ(burst[1].entry, nullptr);
    EXPECT_TRUE(burst[1].key.has_value());
    EXPECT_FALSE(burst[2].key.has_value());
    EXPECT_FALSE(burst[3].key.has_value());
    EXPECT_EQ(burst[4].entry, udp);
    EXPECT_EQ(burst[4].dir, nat::Direction::Reply);
    EXPECT_FALSE(burst[5].key.has_value());
    EXPECT_EQ(burst[6].entry, echo);
    EXPECT_EQ(burst[7].entry, nullptr);
}

TEST_F(TrackedBurstTest, PacketsTheStageSkipsHaveNoKey) {
    open(udp_out(5001));
    rte_mbuf* m = packet(udp_out(5001));
    nat::TrackedBurst burst(*ct_);
    burst.add(std::nullopt);
    burst.add(nat::flow_key_of(m, packet_meta(m)));
    burst.look_up();
    EXPECT_FALSE(burst[0].key.has_value());
    EXPECT_EQ(burst[0].entry, nullptr);
    EXPECT_NE(burst[1].entry, nullptr);
}

TEST_F(TrackedBurstTest, BurstLongerThanOneBulkCall) {
    // 200 packets (rte_hash looks up at most 64 keys per call), every third one untracked.
    std::vector<rte_mbuf*> pkts;
    for (std::uint16_t i = 0; i < 200; ++i) {
        const Frame f = udp_out(static_cast<std::uint16_t>(10000 + i));
        if (i % 3 != 0) open(f);
        pkts.push_back(packet(f));
    }
    nat::TrackedBurst burst(*ct_);
    add_all(burst, pkts);
    expect_as_per_packet(burst, pkts);
    for (std::uint16_t i = 0; i < pkts.size(); ++i) {
        EXPECT_EQ(burst[i].entry != nullptr, i % 3 != 0) << "packet " << i;
    }
}

TEST_F(TrackedBurstTest, FlowCreatedByAnEarlierPacketOfTheBurstIsFound) {
    // Two packets of a new flow and one of another new flow in one burst; the
    // stage creates the first one's flow after the bulk lookup.
    const std::vector<rte_mbuf*> pkts = {packet(udp_out(7000)), packet(udp_out(7001)), packet(udp_out(7000))};
    nat::TrackedBurst burst(*ct_);
    add_all(burst, pkts);
    EXPECT_EQ(burst[0].entry, nullptr);
    nat::Entry* created = open(udp_out(7000));
    EXPECT_EQ(burst[1].entry, nullptr);
    EXPECT_EQ(burst[2].entry, created);
    EXPECT_EQ(burst[2].dir, nat::Direction::Original);
}

TEST_F(TrackedBurstTest, WithAFlowCacheTheResultsStayThePerPacketOnes) {
    nat::Entry* udp = open(udp_out(5001));
    const std::uint16_t udp_host_port = rte_be_to_cpu_16(udp->reply.dst_port);
    const std::vector<rte_mbuf*> pkts = {
        packet(udp_out(5001)),                                                    // original direction
        packet(udp_out(6000)),                                                    // untracked
        packet(PacketBuilder().eth(kGatewayMac, kContainerMac).arp_request(kContainerMac, kContainer, kFar).build()),
        packet(udp_reply(udp_host_port)),                                         // reply direction
        packet(udp_out(5001)),
    };
    auto cache = std::make_unique<nat::FlowCache>();
    // The first burst fills the cache from the table, the second is answered by it.
    for (int round = 0; round < 2; ++round) {
        nat::TrackedBurst burst(*ct_, cache.get());
        add_all(burst, pkts);
        expect_as_per_packet(burst, pkts);
        EXPECT_EQ(burst[0].entry, udp);
        EXPECT_EQ(burst[0].dir, nat::Direction::Original);
        EXPECT_EQ(burst[1].entry, nullptr);
        EXPECT_EQ(burst[3].entry, udp);
        EXPECT_EQ(burst[3].dir, nat::Direction::Reply);
        EXPECT_EQ(burst[4].entry, udp);
    }
    nat::Direction dir = nat::Direction::Reply;
    EXPECT_EQ(cache->find(udp->original, nat::Conntrack::hash(udp->original), dir), udp);
    EXPECT_EQ(dir, nat::Direction::Original);
    EXPECT_EQ(cache->find(udp->reply, nat::Conntrack::hash(udp->reply), dir), udp);
    EXPECT_EQ(dir, nat::Direction::Reply);
}

TEST_F(TrackedBurstTest, FlowCacheDoesNotAnswerForAFlowTheTableNoLongerHas) {
    nat::Entry* old = open(udp_out(5001));
    const nat::FlowKey key = old->original;
    const std::uint32_t hash = nat::Conntrack::hash(key);
    auto cache = std::make_unique<nat::FlowCache>();
    cache->put(key, hash, old);
    nat::Direction dir{};
    ASSERT_EQ(cache->find(key, hash, dir), old);
    // Expired (every flow's deadline is long past at this `now`): no longer Live.
    EXPECT_EQ(ct_->expire(~std::uint64_t{0} / 2), 1u);
    EXPECT_EQ(cache->find(key, hash, dir), nullptr);
    // Its slot taken by other flows (the free list hands every slot out in
    // turn): Live again, but with other tuples.
    for (std::uint32_t i = 0; i < ct_->capacity() && old->life.load() != nat::Life::Live; ++i) {
        nat::FlowKey other = key;
        other.src_port = rte_cpu_to_be_16(static_cast<std::uint16_t>(20000 + i));
        DropReason why{};
        ASSERT_NE(ct_->create(other, kHostIp.be().raw(), kContainerMac, 0, 0, 100, why), nullptr);
    }
    ASSERT_EQ(old->life.load(), nat::Life::Live);
    ASSERT_FALSE(old->original == key);
    EXPECT_EQ(cache->find(key, hash, dir), nullptr);
    // And a burst with the cache goes to the table, which has no such flow.
    rte_mbuf* m = packet(udp_out(5001));
    nat::TrackedBurst burst(*ct_, cache.get());
    burst.add(nat::flow_key_of(m, packet_meta(m)));
    burst.look_up();
    EXPECT_EQ(burst[0].entry, nullptr);
}

}  // namespace
}  // namespace dpdock::test
