#include "dataplane/mempool.hpp"

#include <algorithm>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "base/packet/packet_meta.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint32_t kCacheSize = 256;

// DPDK refuses a cache whose flush threshold (1.5 x size) exceeds the pool.
std::uint32_t cache_size_for(std::uint32_t mbufs) {
    return std::min({kCacheSize, mbufs * 2 / 3, std::uint32_t{RTE_MEMPOOL_CACHE_MAX_SIZE}});
}

}  // namespace

Result<rte_mempool*> create_packet_pool(const std::string& name, std::uint32_t mbufs, std::uint16_t data_room,
                                        int socket) {
    using R = Result<rte_mempool*>;
    if (name.empty() || name.size() >= RTE_MEMPOOL_NAMESIZE) {
        return R::error("mbuf pool name '" + name + "' must have 1.." + std::to_string(RTE_MEMPOOL_NAMESIZE - 1) +
                        " characters");
    }
    if (mbufs == 0) return R::error("mbuf pool '" + name + "' needs at least one mbuf");
    if (data_room <= RTE_PKTMBUF_HEADROOM) {
        return R::error("mbuf data room " + std::to_string(data_room) + " leaves no space after the " +
                        std::to_string(RTE_PKTMBUF_HEADROOM) + "-byte headroom");
    }
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache_size_for(mbufs), kMbufPrivSize,
                                                data_room, socket);
    if (pool == nullptr) {
        return R::error("cannot create mbuf pool '" + name + "' (" + std::to_string(mbufs) + " mbufs of " +
                        std::to_string(data_room) + " bytes): " + rte_strerror(rte_errno));
    }
    return pool;
}

Result<rte_mempool*> create_indirect_pool(const std::string& name, std::uint32_t mbufs, int socket) {
    using R = Result<rte_mempool*>;
    if (name.empty() || name.size() >= RTE_MEMPOOL_NAMESIZE || mbufs == 0) {
        return R::error("invalid indirect mbuf pool '" + name + "'");
    }
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache_size_for(mbufs), 0, 0, socket);
    if (pool == nullptr) {
        return R::error("cannot create indirect mbuf pool '" + name + "' (" + std::to_string(mbufs) +
                        " mbufs): " + rte_strerror(rte_errno));
    }
    return pool;
}

}  // namespace dpdock::dataplane
