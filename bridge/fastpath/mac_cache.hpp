// A worker's exact-match cache in front of the MAC table: (network, MAC) ->
// port for the sources and destinations it saw recently, so a known frame
// costs one probe per address instead of rte_hash lookups and a refresh.
// Each entry carries the table's generation (MacTable::generation(), bumped
// by every insert, move and delete by any thread) from before the table read
// that filled it; an entry of another generation is a miss, so a moved,
// learned or removed MAC is never answered from here after the change. A
// source entry also keeps until when its table entry needs no refresh of
// last-seen, so ageing sees the same refreshes as without the cache. Only the
// MAC table's answers are cached: membership, the gateway and ICC are still
// decided per frame from the worker's snapshot.
// Worker-only: one per worker, never shared; no allocation after construction.
#pragma once

#include <cstdint>

#include "base/packet/net_types.hpp"

namespace dpdock::bridge {

class MacCache {
public:
    static constexpr unsigned kEntries = 4096;  // direct-mapped; 96 KiB

    struct Entry {
        std::uint64_t key = 0;
        std::uint64_t due = 0;  // source use: no refresh needed before this TSC (0: always go to the table)
        std::uint64_t tag = 0;  // generation << 16 | port; generation 0 never exists

        PortId port() const { return static_cast<PortId>(tag & 0xffff); }
    };

    // The entry for `key` valid in `generation`, or nullptr.
    const Entry* find(std::uint64_t key, std::uint64_t generation) const {
        const Entry& e = entries_[slot(key)];
        return e.key == key && (e.tag >> 16) == (generation & kGenerationMask) ? &e : nullptr;
    }

    // A source learned (or refreshed) on `port`, fresh until `due` (0: do not keep).
    void put_source(std::uint64_t key, PortId port, std::uint64_t due, std::uint64_t generation) {
        if (due == 0) return;
        entries_[slot(key)] = Entry{key, due, tag(generation, port)};
    }

    // A destination looked up (kNoPort: unknown). An entry already valid for
    // the key keeps its refresh time.
    void put_destination(std::uint64_t key, PortId port, std::uint64_t generation) {
        Entry& e = entries_[slot(key)];
        const std::uint64_t t = tag(generation, port);
        if (e.key == key && e.tag == t) return;
        e = Entry{key, 0, t};
    }

private:
    static constexpr std::uint64_t kGenerationMask = (std::uint64_t{1} << 48) - 1;  // wraps after 2^48 changes

    static std::uint64_t tag(std::uint64_t generation, PortId port) {
        return (generation & kGenerationMask) << 16 | port;
    }
    // Fibonacci hashing: the key's bits spread over the index.
    static unsigned slot(std::uint64_t key) {
        return static_cast<unsigned>((key * 0x9e3779b97f4a7c15ULL) >> 52);
    }
    static_assert(kEntries == 1u << 12, "slot() takes the top 12 bits");

    Entry entries_[kEntries];
};

}  // namespace dpdock::bridge
