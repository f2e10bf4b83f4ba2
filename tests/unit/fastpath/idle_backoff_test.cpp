// The idle worker's sleep schedule: none while packets arrive, none for the
// first run of empty polls, then doubling from the first sleep to the cap
// every kSleepsPerStep sleeps, back to polling at the first packet; 0 means
// pure polling. No clock.
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

// Every distinct sleep length in order, and how many sleeps each lasted.
std::vector<std::pair<std::uint32_t, unsigned>> steps(const std::vector<std::uint32_t>& sleeps) {
    std::vector<std::pair<std::uint32_t, unsigned>> out;
    for (auto s : sleeps) {
        if (out.empty() || out.back().first != s) out.emplace_back(s, 0);
        ++out.back().second;
    }
    return out;
}

TEST(IdleBackoffTest, SleepsDoubleUpToTheCapAfterARunOfEmptyPolls) {
    IdleBackoff b(10, 100);
    EXPECT_TRUE(sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep).empty());
    constexpr unsigned n = IdleBackoff::kSleepsPerStep;
    const auto got = steps(sleeps_after_empty_polls(b, 5 * n));
    EXPECT_EQ(got, (std::vector<std::pair<std::uint32_t, unsigned>>{{10, n}, {20, n}, {40, n}, {80, n}, {100, n}}));
}

TEST(IdleBackoffTest, APacketResetsTheBackoff) {
    IdleBackoff b(10, 1000);
    sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep + 3 * IdleBackoff::kSleepsPerStep);
    EXPECT_EQ(b.after_poll(3), 0u);
    EXPECT_TRUE(sleeps_after_empty_polls(b, IdleBackoff::kIdlePollsBeforeSleep).empty());
    EXPECT_EQ(b.after_poll(0), 10u);
}

TEST(IdleBackoffTest, ZeroIsPurePollingAndAFixedSleepStaysFixed) {
    IdleBackoff polling(0, 1000);
    EXPECT_TRUE(sleeps_after_empty_polls(polling, 10 * IdleBackoff::kIdlePollsBeforeSleep).empty());
    IdleBackoff fixed(50, 50);
    EXPECT_EQ(steps(sleeps_after_empty_polls(fixed, IdleBackoff::kIdlePollsBeforeSleep + 3 * IdleBackoff::kSleepsPerStep)),
              (std::vector<std::pair<std::uint32_t, unsigned>>{{50, 3 * IdleBackoff::kSleepsPerStep}}));
    IdleBackoff cap_below_first(50, 20);  // the cap is never below the first sleep
    EXPECT_EQ(steps(sleeps_after_empty_polls(cap_below_first, IdleBackoff::kIdlePollsBeforeSleep + 2 * IdleBackoff::kSleepsPerStep)),
              (std::vector<std::pair<std::uint32_t, unsigned>>{{50, 2 * IdleBackoff::kSleepsPerStep}}));
}

}  // namespace
}  // namespace dpdock::test
