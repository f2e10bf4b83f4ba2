#include "nat/fastpath/tracked_burst.hpp"

#include <memory>

#include <rte_prefetch.h>

namespace dpdock::nat {

void TrackedBurst::add(std::optional<FlowKey> key) {
    std::construct_at(&slots_[n_++].t, Tracked{key, nullptr, Direction::Original});
}

void TrackedBurst::look_up() {
    // The packets with a key, compacted for the bulk lookup.
    std::uint16_t count = 0;
    for (std::uint16_t i = 0; i < n_; ++i) {
        if (!slots_[i].t.key) continue;
        keys_[count] = &*slots_[i].t.key;
        of_[count++] = i;
    }
    if (cache_ != nullptr) count = look_up_cached(count);
    Entry* entries[kCapacity];
    Direction dirs[kCapacity];
    ct_.find_bulk(keys_.data(), count, entries, dirs, cache_ != nullptr ? hashes_.data() : nullptr);
    for (std::uint16_t k = 0; k < count; ++k) {
        Tracked& t = slots_[of_[k]].t;
        t.entry = entries[k];
        if (t.entry != nullptr) {
            t.dir = dirs[k];
            if (cache_ != nullptr) cache_->put(*keys_[k], hashes_[k], t.entry);
        } else if (first_miss_ == kCapacity) {
            first_miss_ = of_[k];
        }
    }
}

std::uint16_t TrackedBurst::look_up_cached(std::uint16_t count) {
    // All slots prefetched before any is read, so their misses overlap.
    for (std::uint16_t k = 0; k < count; ++k) {
        hashes_[k] = Conntrack::hash(*keys_[k]);
        rte_prefetch0(cache_->slot_of(hashes_[k]));
    }
    // The keys the cache does not answer stay, compacted, for the table.
    std::uint16_t left = 0;
    for (std::uint16_t k = 0; k < count; ++k) {
        Tracked& t = slots_[of_[k]].t;
        t.entry = cache_->find(*keys_[k], hashes_[k], t.dir);
        if (t.entry != nullptr) continue;
        keys_[left] = keys_[k];
        of_[left] = of_[k];
        hashes_[left++] = hashes_[k];
    }
    return left;
}

void TrackedBurst::look_up_again(Tracked& t) const { t.entry = ct_.find(*t.key, t.dir); }

}  // namespace dpdock::nat
