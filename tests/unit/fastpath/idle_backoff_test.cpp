// The idle worker's sleep schedule: none while packets arrive, none for the
// first run of empty polls, then doubling from the first sleep to the cap,
// back to polling at the first packet; 0 means pure polling. No clock.
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/fastpath/idle_backoff.hpp"

namespace dpdock::test {
namespace {

using dataplane::IdleBackoff;

std::vector<std::uint32_t> sleeps_after_empty_polls(IdleBackoff& b, unsigned polls) {
    std::vector<std::uint32_t> out;
    for (unsigned i = 0; i < polls; ++i) {
        if (const auto s = b.after_poll(0); s != 0) out.push_back(s);
    }
    return out;
}

TEST(IdleBackoffTest, SleepsDoubleUpToTheCapAfterARunOfEmptyPolls) {
    IdleBackoff b(10, 100);
    EXPECT_TRUE(sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep).empty());
    EXPECT_EQ(sleeps_after_empty_polls(b, 6), (std::vector<std::uint32_t>{10, 20, 40, 80, 100, 100}));
}

TEST(IdleBackoffTest, APacketResetsTheBackoff) {
    IdleBackoff b(10, 1000);
    sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep + 5);
    EXPECT_EQ(b.after_poll(3), 0u);
    EXPECT_TRUE(sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep).empty());
    EXPECT_EQ(b.after_poll(0), 10u);
}

TEST(IdleBackoffTest, ZeroIsPurePollingAndAFixedSleepStaysFixed) {
    IdleBackoff polling(0, 1000);
    EXPECT_TRUE(sleeps_after_empty_polls(polling, 10 * IdleBackoff::kIdlePollsBeforeSleep).empty());
    IdleBackoff fixed(50, 50);
    EXPECT_EQ(sleeps_after_empty_polls(fixed, IdleBackoff::kIdlePollsBeforeSleep + 3),
              (std::vector<std::uint32_t>{50, 50, 50}));
    IdleBackoff cap_below_first(50, 20);  // the cap is never below the first sleep
    EXPECT_EQ(sleeps_after_empty_polls(cap_below_first, IdleBackoff::kIdlePollsBeforeSleep + 2),
              (std::vector<std::uint32_t>{50, 50}));
}

}  // namespace
}  // namespace dpdock::test
