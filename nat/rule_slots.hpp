// Counter slots of NAT rules. Every rule (a network's MASQUERADE, each
// publication) keeps one slot of the workers' RuleCounters while it exists,
// named by a key that changes when the rule does. A slot its rule lost is
// reused only after one more assignment round, because the snapshot that
// still named it may be counting on it until the next publish (which waits a
// grace period); a reused slot reads from zero through a baseline. Beyond
// kMaxRuleSlots rules, a rule goes uncounted (kNoRuleSlot). Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nat/published_ports.hpp"

namespace dpdock::nat {

class RuleSlots {
public:
    // `read`: what the workers have counted on a slot so far, summed.
    explicit RuleSlots(std::function<RuleCounter(std::uint32_t)> read) : read_(std::move(read)) {}

    // One round per snapshot built: begin(), slot_for() of every rule it
    // has, end(). Rules not named in a round lose their slot.
    void begin();
    std::uint32_t slot_for(const std::string& key);
    void end();

    // The slot `key` holds now, or kNoRuleSlot.
    std::uint32_t find(const std::string& key) const;
    // A slot's packets and bytes since its rule got it.
    RuleCounter counters(std::uint32_t slot) const;

private:
    std::function<RuleCounter(std::uint32_t)> read_;
    std::map<std::string, std::uint32_t> slots_;  // rule key -> slot, as of the last round
    std::map<std::string, std::uint32_t> next_;   // the round being made
    std::vector<RuleCounter> baselines_ = std::vector<RuleCounter>(kMaxRuleSlots);
    std::vector<std::uint32_t> free_;     // slots no rule holds
    std::vector<std::uint32_t> cooling_;  // lost in the last round: an older snapshot may still count on them
    std::uint32_t next_fresh_ = 0;
};

}  // namespace dpdock::nat
