#include "dataplane/memory_budget.hpp"

#include <algorithm>
#include <bit>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/packet/packet_meta.hpp"
#include "nat/conntrack.hpp"

namespace dpdock::dataplane {
namespace {

constexpr std::uint64_t kMb = 1u << 20;

// EAL's own memzones, telemetry, per-lcore data, the neighbour and VTEP
// tables, port rings and tx buffers: measured well under this on 22.11.
constexpr std::uint64_t kOtherBytes = 48 * kMb;

// rte_hash (22.11) with extendable buckets and lock-free readers: buckets of
// 8 entries in one cache line for the table and as many extendable ones, one
// key-store slot (data pointer + key, 16-byte aligned) per entry plus the
// per-lcore caches' share, and free-slot rings of 4-byte indexes.
std::uint64_t hash_bytes(std::uint64_t entries, std::uint64_t key_len) {
    const std::uint64_t slots = std::bit_ceil(std::max<std::uint64_t>(entries, 8));
    const std::uint64_t buckets = slots / 8 * RTE_CACHE_LINE_SIZE * 2;
    const std::uint64_t key_slot = (sizeof(void*) + key_len + 15) / 16 * 16;
    const std::uint64_t lcore_caches = std::uint64_t{RTE_MAX_LCORE} * 64;
    const std::uint64_t keys = (entries + lcore_caches) * key_slot;
    const std::uint64_t free_rings = 2 * std::bit_ceil(entries + lcore_caches) * sizeof(std::uint32_t);
    return buckets + keys + free_rings;
}

std::string mb(std::uint64_t bytes) { return std::to_string((bytes + kMb - 1) / kMb) + " MB"; }

}  // namespace

std::string MemoryBudget::describe() const {
    return "about " + std::to_string(total_mb()) + " MB (mbufs " + mb(mbuf_pool) + ", conntrack " + mb(conntrack) +
           ", MAC table " + mb(mac_table) + ", EAL and the rest " + mb(other) + ")";
}

MemoryBudget estimate_memory(std::uint32_t mbufs, std::uint32_t conntrack_capacity, std::uint32_t mac_table_size) {
    MemoryBudget b;
    rte_mempool_objsz size{};
    const std::uint32_t element = sizeof(rte_mbuf) + kMbufPrivSize + RTE_MBUF_DEFAULT_BUF_SIZE;
    const std::uint64_t object = rte_mempool_calc_obj_size(element, 0, &size);
    b.mbuf_pool = std::uint64_t{mbufs} * object;
    // Two keys per connection (original and reply direction), its free-index ring.
    b.conntrack = hash_bytes(std::uint64_t{conntrack_capacity} * 2, sizeof(nat::FlowKey)) +
                  std::bit_ceil(std::uint64_t{conntrack_capacity} + 1) * sizeof(std::uint32_t);
    // The MAC key is a packed u64; each position has a 16-byte slot beside the hash.
    b.mac_table = hash_bytes(mac_table_size, sizeof(std::uint64_t)) + std::uint64_t{mac_table_size} * 16;
    b.other = kOtherBytes;
    return b;
}

}  // namespace dpdock::dataplane
