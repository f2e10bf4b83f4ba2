// How much DPDK memory the dataplane will allocate for a deployment, estimated
// before EAL starts: the mbuf pool, the conntrack and MAC tables (rte_hash with
// its key store, buckets and free-slot rings) and a fixed allowance for EAL,
// rings and per-port buffers. dpdockd uses it to choose hugepages or --no-huge
// (eal.hpp choose_memory) instead of starting "with hugepages" and failing to
// allocate later. An estimate from the structures' sizes, rounded up, not a
// measurement. Pure functions; any thread, no EAL needed.
#pragma once

#include <cstdint>
#include <string>

namespace dpdock::dataplane {

struct MemoryBudget {
    std::uint64_t mbuf_pool = 0;  // bytes
    std::uint64_t conntrack = 0;
    std::uint64_t mac_table = 0;
    std::uint64_t other = 0;      // EAL itself, neighbour table, rings, tx buffers

    std::uint64_t total() const { return mbuf_pool + conntrack + mac_table + other; }
    std::uint64_t total_mb() const { return (total() + (1u << 20) - 1) >> 20; }
    // "about 230 MB (mbufs 21 MB, conntrack 150 MB, MAC table 6 MB, EAL and the rest 48 MB)"
    std::string describe() const;
};

MemoryBudget estimate_memory(std::uint32_t mbufs, std::uint32_t conntrack_capacity, std::uint32_t mac_table_size);

}  // namespace dpdock::dataplane
