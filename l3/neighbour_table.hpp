// The ARP cache of the uplink: next-hop IPv4 address -> MAC, on one rte_hash.
// Inserts and updates: only the worker that polls the uplink (every ARP
//   reply arrives there, since all rx queues of a port belong to one worker),
//   so the hash has a single writer and needs no writer lock.
// Reads: every worker, lock-free (RW_CONCURRENCY_LF).
// Deletes: none. An entry is trusted for the uplink's arp-timeout after its
//   last confirmation and then reads as a miss, which makes the next packet
//   ask again; the reply refreshes the same slot. Capacity bounds the number
//   of distinct next hops (one uplink subnet); a full table refuses new ones.
// Entry contents are two atomics per slot, indexed by the key's position in
// the hash, so a reader never sees a torn MAC.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/packet/net_types.hpp"
#include "base/util/status.hpp"

struct rte_hash;

namespace dpdock::l3 {

// One entry as `dpdock uplink show` lists it, like `ip neigh`.
struct NeighbourView {
    Ipv4Address ip;
    MacAddress mac;
    std::uint64_t age_ticks = 0;  // since the last confirmation
};

class NeighbourTable {
public:
    static Result<std::unique_ptr<NeighbourTable>> create(const std::string& name, std::uint32_t capacity, int socket);
    ~NeighbourTable();
    NeighbourTable(const NeighbourTable&) = delete;
    NeighbourTable& operator=(const NeighbourTable&) = delete;

    // The MAC of `ip` if it was confirmed less than `timeout_ticks` before `now`.
    std::optional<MacAddress> lookup(Ipv4Address ip, std::uint64_t now, std::uint64_t timeout_ticks) const;
    // Records that `ip` is at `mac` as of `now`. False when the table is full. Uplink worker only.
    bool confirm(Ipv4Address ip, MacAddress mac, std::uint64_t now);
    // Control thread: every entry ever confirmed, stale ones included (their
    // age says so), sorted by address. Walks the slots, not the hash, which
    // rte_hash_iterate would not allow next to a writer.
    std::vector<NeighbourView> dump(std::uint64_t now) const;

private:
    struct Slot {
        std::atomic<std::uint64_t> mac{0};
        std::atomic<std::uint64_t> confirmed{0};
        std::atomic<std::uint32_t> ip{0};  // the key (host order), for dump()
    };
    NeighbourTable(rte_hash* hash, std::size_t slots);

    rte_hash* hash_;
    std::unique_ptr<Slot[]> slots_;
    std::size_t slot_count_;
};

}  // namespace dpdock::l3
