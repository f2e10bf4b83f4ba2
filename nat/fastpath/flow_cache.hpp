// A worker's exact-match cache in front of the conntrack table (as OVS's EMC
// in front of its classifier): FlowKey -> entry for the flows it saw lately,
// so a packet of a known flow costs one probe instead of an rte_hash lookup.
//
// Nothing is ever stale: an answer counts only when the entry still says it,
// that is when the entry is Live and the key is its original or its reply
// tuple (which then tells the direction). A Live entry's keys are in the
// table and name it (conntrack.hpp: keys are added once, deleted only after
// Live -> Dying), so a hit here is what the table would answer. An entry
// seen Live stays intact until this worker's next quiescent state (its slot
// is reused only after a grace period), and the acquire load of Live makes
// its tuples those of the incarnation that went Live. Anything else (Dying,
// Free, reused for another flow) is a miss, and the table decides.
// Worker-only: one per worker, never shared; no allocation.
#pragma once

#include <cstdint>
#include <cstring>

#include "nat/conntrack.hpp"

namespace dpdock::nat {

class FlowCache {
public:
    static constexpr unsigned kEntries = 4096;  // direct-mapped; 128 KiB

    // The slot `hash` (Conntrack::hash()) maps to, to prefetch before find().
    const void* slot_of(std::uint32_t hash) const { return &slots_[hash % kEntries]; }

    // The entry `key` belongs to and its direction, or nullptr.
    Entry* find(const FlowKey& key, std::uint32_t hash, Direction& dir) const {
        const Slot& s = slots_[hash % kEntries];
        Entry* e = s.entry;
        if (e == nullptr || !same(s.key, key) || e->life.load(std::memory_order_acquire) != Life::Live) return nullptr;
        if (same(e->original, key)) {
            dir = Direction::Original;
        } else if (same(e->reply, key)) {
            dir = Direction::Reply;
        } else {
            return nullptr;  // the slot went to another flow since
        }
        return e;
    }

    // `key` found in the table as `e`'s.
    void put(const FlowKey& key, std::uint32_t hash, Entry* e) { slots_[hash % kEntries] = {key, e}; }

private:
    struct alignas(32) Slot {
        FlowKey key;
        Entry* entry = nullptr;
    };

    static bool same(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

    Slot slots_[kEntries];
};

}  // namespace dpdock::nat
