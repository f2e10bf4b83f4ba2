// nat::RuleSlots: a rule keeps its counter slot while it exists; a lost slot
// cools for one round before reuse and reads from zero when reused.
#include <gtest/gtest.h>

#include "nat/rule_slots.hpp"

namespace dpdock::nat {
namespace {

class RuleSlotsTest : public ::testing::Test {
protected:
    std::vector<RuleCounter> workers_ = std::vector<RuleCounter>(kMaxRuleSlots);  // what "workers" counted
    RuleSlots slots_{[this](std::uint32_t slot) { return slot < kMaxRuleSlots ? workers_[slot] : RuleCounter{}; }};

    std::uint32_t round_with(std::initializer_list<std::string> keys) {
        slots_.begin();
        std::uint32_t last = kNoRuleSlot;
        for (const auto& k : keys) last = slots_.slot_for(k);
        slots_.end();
        return last;
    }
};

TEST_F(RuleSlotsTest, ARuleKeepsItsSlotWhileItIsNamed) {
    const std::uint32_t a = round_with({"a"});
    EXPECT_EQ(round_with({"b", "a"}), a);
    EXPECT_EQ(slots_.find("a"), a);
    EXPECT_NE(slots_.find("b"), a);
    EXPECT_EQ(slots_.find("gone"), kNoRuleSlot);
}

TEST_F(RuleSlotsTest, ALostSlotCoolsOneRoundThenStartsFromZero) {
    const std::uint32_t a = round_with({"a"});
    workers_[a] = {5, 500};
    EXPECT_EQ(slots_.counters(a).packets, 5u);
    // "a" is gone: its slot is not reused in the round that dropped it (the
    // snapshot still naming it is live until this round's is published)...
    EXPECT_NE(round_with({"b"}), a);
    const std::uint32_t c = round_with({"b", "c"});
    EXPECT_EQ(c, a);  // ...but in the next one
    EXPECT_EQ(slots_.counters(c).packets, 0u);  // from its baseline
    workers_[c].packets += 2;
    EXPECT_EQ(slots_.counters(c).packets, 2u);
}

TEST_F(RuleSlotsTest, RulesBeyondTheSlotsGoUncounted) {
    slots_.begin();
    for (std::uint32_t i = 0; i < kMaxRuleSlots; ++i) ASSERT_NE(slots_.slot_for("r" + std::to_string(i)), kNoRuleSlot);
    EXPECT_EQ(slots_.slot_for("one too many"), kNoRuleSlot);
    slots_.end();
}

}  // namespace
}  // namespace dpdock::nat
