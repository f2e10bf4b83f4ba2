// TrackedBurst: look_up() (masquerade.hpp) for every packet of a burst in one
// go, with the same result per packet. In a table far beyond the caches each
// lookup stalls on its bucket; gathering the burst's keys first and handing
// them to Conntrack::find_bulk overlaps those misses.
//
// Results stay those a per-packet lookup would have given: a stage creates a
// flow only for a packet whose lookup missed, and a creation only adds keys
// that were absent, so every hit stays true for the whole burst, and so does
// the first miss. A later miss may be a flow an earlier packet of the burst
// has created since (its second packet): it is looked up again when the
// stage asks for it. Another worker's changes race with a per-packet lookup
// just the same; so does an early drop (a creation making room by removing
// an unassured flow): a hit on it still names the flow's entry, which stays
// intact until this worker's next quiescent state, like any lookup that
// races with a removal.
// With the worker's FlowCache (flow_cache.hpp), flows found there skip the
// table, and those found in the table go into it; its hits are the table's
// answers, so the results stay the same.
// Worker-only; one instance on the stage's stack per burst.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "nat/conntrack.hpp"
#include "nat/fastpath/flow_cache.hpp"
#include "nat/fastpath/masquerade.hpp"

namespace dpdock::nat {

class TrackedBurst {
public:
    static constexpr std::uint16_t kCapacity = 256;  // packets per burst, at most

    explicit TrackedBurst(const Conntrack& ct, FlowCache* cache = nullptr) : ct_(ct), cache_(cache) {}
    TrackedBurst(const TrackedBurst&) = delete;
    TrackedBurst& operator=(const TrackedBurst&) = delete;

    // The next packet's key (flow_key_of), or nullopt for one the stage does
    // not look up: its result is "no key". At most kCapacity packets.
    void add(std::optional<FlowKey> key);
    // Looks up every key added, in bulk.
    void look_up();
    // Packet i's result, as look_up(ct, m, meta) would give it now.
    const Tracked& operator[](std::uint16_t i) {
        Tracked& t = slots_[i].t;
        if (t.key && t.entry == nullptr && i > first_miss_) look_up_again(t);
        return t;
    }

private:
    // Answers what the cache can of keys_[0, count); returns how many keys
    // are left for the table (compacted to the front, hashes_ with them).
    std::uint16_t look_up_cached(std::uint16_t count);
    // A miss after the burst's first one, in the table now (an earlier
    // packet's flow may have been created since).
    void look_up_again(Tracked& t) const;

    // Left uninitialised until add(): value-initialising kCapacity results
    // for every burst would cost about as much as looking up a burst of 32.
    union Slot {
        Slot() {}
        Tracked t;
    };

    const Conntrack& ct_;
    FlowCache* cache_;
    std::uint16_t n_ = 0;
    std::uint16_t first_miss_ = kCapacity;  // the first packet whose key had no flow
    std::array<Slot, kCapacity> slots_;
    // look_up()'s keys, compacted, and the packet each one is of.
    std::array<const FlowKey*, kCapacity> keys_;
    std::array<std::uint16_t, kCapacity> of_;
    std::array<std::uint32_t, kCapacity> hashes_;  // of keys_, with a cache
};

}  // namespace dpdock::nat
