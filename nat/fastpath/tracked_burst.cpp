#include "nat/fastpath/tracked_burst.hpp"

#include <memory>

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
    Entry* entries[kCapacity];
    Direction dirs[kCapacity];
    ct_.find_bulk(keys_.data(), count, entries, dirs);
    for (std::uint16_t k = 0; k < count; ++k) {
        Tracked& t = slots_[of_[k]].t;
        t.entry = entries[k];
        if (t.entry != nullptr) {
            t.dir = dirs[k];
        } else if (first_miss_ == kCapacity) {
            first_miss_ = of_[k];
        }
    }
}

const Tracked& TrackedBurst::operator[](std::uint16_t i) {
    Tracked& t = slots_[i].t;
    if (t.key && t.entry == nullptr && i > first_miss_) t.entry = ct_.find(*t.key, t.dir);
    return t;
}

}  // namespace dpdock::nat
