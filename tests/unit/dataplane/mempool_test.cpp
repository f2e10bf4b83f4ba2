#include "dataplane/mempool.hpp"

#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "base/packet/packet_meta.hpp"
#include "tests/support/eal_environment.hpp"
#include "tests/unit/dataplane/frames.hpp"

namespace dpdock::dataplane {
namespace {

std::string unique_name(const char* what) { return std::string(what) + std::to_string(getpid()); }

class PacketPool : public ::testing::Test {
protected:
    void SetUp() override { test::ensure_eal(); }
    const int socket_ = static_cast<int>(rte_socket_id());
};

TEST_F(PacketPool, PrivateAreaHoldsPacketMetaBeforeTheBuffer) {
    auto pool = create_packet_pool(unique_name("mp_priv"), 1023, RTE_MBUF_DEFAULT_BUF_SIZE, socket_);
    ASSERT_TRUE(pool.ok()) << pool.message();
    test::PoolPtr owner(*pool);
    EXPECT_EQ(rte_pktmbuf_priv_size(*pool), kMbufPrivSize);
    EXPECT_EQ(rte_pktmbuf_data_room_size(*pool), RTE_MBUF_DEFAULT_BUF_SIZE);
    EXPECT_EQ((*pool)->size, 1023u);
    EXPECT_EQ((*pool)->cache_size, 256u);

    rte_mbuf* m = rte_pktmbuf_alloc(*pool);
    ASSERT_NE(m, nullptr);
    auto* priv = static_cast<std::uint8_t*>(rte_mbuf_to_priv(m));
    // The private area sits right after rte_mbuf and is exactly 64 bytes long.
    EXPECT_EQ(static_cast<std::uint8_t*>(m->buf_addr) - priv, kMbufPrivSize);
    EXPECT_EQ(priv - reinterpret_cast<std::uint8_t*>(m), static_cast<long>(sizeof(rte_mbuf)));

    // Writing the whole private area leaves the frame intact.
    const auto frame = test::test_frame(7);
    char* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    ASSERT_NE(data, nullptr);
    std::memcpy(data, frame.data(), frame.size());
    std::memset(priv, 0xa5, kMbufPrivSize);
    packet_meta(m).ingress_port = 42;
    EXPECT_EQ(test::to_bytes(m), frame);
    EXPECT_EQ(packet_meta(m).ingress_port, 42);
    rte_pktmbuf_free(m);
}

TEST_F(PacketPool, SmallPoolGetsASmallerCache) {
    // A 256-mbuf cache needs at least 384 mbufs; DPDK refuses a bigger cache.
    auto pool = create_packet_pool(unique_name("mp_small"), 63, RTE_MBUF_DEFAULT_BUF_SIZE, socket_);
    ASSERT_TRUE(pool.ok()) << pool.message();
    test::PoolPtr owner(*pool);
    EXPECT_LE((*pool)->cache_size * 3 / 2, 63u);
    EXPECT_GT((*pool)->cache_size, 0u);
    // Every mbuf is usable even with the cache.
    std::vector<rte_mbuf*> all(63);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(*pool, all.data(), 63), 0);
    test::free_all(all);
}

TEST_F(PacketPool, JumboFramesFitOneSegment) {
    const std::uint16_t room = 9216 + RTE_PKTMBUF_HEADROOM;
    auto pool = create_packet_pool(unique_name("mp_jumbo"), 127, room, socket_);
    ASSERT_TRUE(pool.ok()) << pool.message();
    test::PoolPtr owner(*pool);
    EXPECT_EQ(rte_pktmbuf_data_room_size(*pool), room);
    rte_mbuf* m = rte_pktmbuf_alloc(*pool);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(rte_pktmbuf_tailroom(m), 9216);
    EXPECT_NE(rte_pktmbuf_append(m, 9216), nullptr);
    rte_pktmbuf_free(m);
}

TEST_F(PacketPool, ErrorsNameThePool) {
    const std::string name = unique_name("mp_dup");
    auto first = create_packet_pool(name, 127, RTE_MBUF_DEFAULT_BUF_SIZE, socket_);
    ASSERT_TRUE(first.ok()) << first.message();
    test::PoolPtr owner(*first);

    auto dup = create_packet_pool(name, 127, RTE_MBUF_DEFAULT_BUF_SIZE, socket_);
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.message().find(name), std::string::npos) << dup.message();

    EXPECT_FALSE(create_packet_pool(unique_name("mp_zero"), 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket_).ok());
    EXPECT_FALSE(create_packet_pool(unique_name("mp_room"), 127, RTE_PKTMBUF_HEADROOM, socket_).ok());
    EXPECT_FALSE(create_packet_pool(std::string(64, 'x'), 127, RTE_MBUF_DEFAULT_BUF_SIZE, socket_).ok());
}

}  // namespace
}  // namespace dpdock::dataplane
