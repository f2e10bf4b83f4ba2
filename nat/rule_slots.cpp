#include "nat/rule_slots.hpp"

namespace dpdock::nat {

void RuleSlots::begin() {
    // Slots lost in the previous round: the snapshot that used them is gone.
    free_.insert(free_.end(), cooling_.begin(), cooling_.end());
    cooling_.clear();
    next_.clear();
}

std::uint32_t RuleSlots::slot_for(const std::string& key) {
    if (auto it = next_.find(key); it != next_.end()) return it->second;
    if (auto it = slots_.find(key); it != slots_.end()) return next_[key] = it->second;
    std::uint32_t slot = kNoRuleSlot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else if (next_fresh_ < kMaxRuleSlots) {
        slot = next_fresh_++;
    } else {
        return kNoRuleSlot;  // more rules than slots: this one goes uncounted
    }
    baselines_[slot] = read_(slot);
    return next_[key] = slot;
}

void RuleSlots::end() {
    for (const auto& [key, slot] : slots_) {
        if (!next_.contains(key)) cooling_.push_back(slot);
    }
    slots_ = std::move(next_);
    next_.clear();
}

std::uint32_t RuleSlots::find(const std::string& key) const {
    auto it = slots_.find(key);
    return it == slots_.end() ? kNoRuleSlot : it->second;
}

RuleCounter RuleSlots::counters(std::uint32_t slot) const {
    RuleCounter c = read_(slot);
    if (slot >= kMaxRuleSlots) return c;
    c.packets -= baselines_[slot].packets;
    c.bytes -= baselines_[slot].bytes;
    return c;
}

}  // namespace dpdock::nat
