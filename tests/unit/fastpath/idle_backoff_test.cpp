// The idle worker's sleep schedule: none while packets arrive, none for the
// poll window after the last packet (in time, however many polls it takes),
// then doubling from the first sleep to the cap every kSleepsPerStep sleeps,
// back to polling at the first packet; 0 means pure polling. The test is the
// clock: times are TSC cycles it passes in.
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/fastpath/idle_backoff.hpp"

namespace dpdock::test {
namespace {

using dataplane::IdleBackoff;

constexpr std::uint64_t kWindow = 1000;  // cycles
constexpr std::uint64_t kStart = 1'000'000;

// `polls` empty polls, `step` cycles apart from `now` on; the sleeps they return.
std::vector<std::uint32_t> sleeps_after_empty_polls(IdleBackoff& b, unsigned polls, std::uint64_t& now,
                                                    std::uint64_t step = kWindow) {
    std::vector<std::uint32_t> out;
    for (unsigned i = 0; i < polls; ++i) {
        now += step;
        if (const auto s = b.after_poll(0, now); s != 0) out.push_back(s);
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

TEST(IdleBackoffTest, SleepsDoubleUpToTheCapOnceThePollWindowPassed) {
    IdleBackoff b(10, 100, kWindow);
    std::uint64_t now = kStart;
    EXPECT_EQ(b.after_poll(1, now), 0u);
    constexpr unsigned n = IdleBackoff::kSleepsPerStep;
    const auto got = steps(sleeps_after_empty_polls(b, 5 * n, now));
    EXPECT_EQ(got, (std::vector<std::pair<std::uint32_t, unsigned>>{{10, n}, {20, n}, {40, n}, {80, n}, {100, n}}));
}

TEST(IdleBackoffTest, ThePollWindowIsTimeNotPolls) {
    IdleBackoff b(10, 1000, kWindow);
    std::uint64_t now = kStart;
    EXPECT_EQ(b.after_poll(2, now), 0u);
    // However many polls fit in the window, none sleeps...
    EXPECT_TRUE(sleeps_after_empty_polls(b, 999, now, 1).empty());
    // ...and the first one after it does, however few came before.
    EXPECT_EQ(b.after_poll(0, now + 1), 10u);
    IdleBackoff slow(10, 1000, kWindow);
    now = kStart;
    EXPECT_EQ(slow.after_poll(2, now), 0u);
    EXPECT_EQ(slow.after_poll(0, now + kWindow), 10u);  // one slow poll ends the window
}

TEST(IdleBackoffTest, APacketResetsTheBackoffAndOpensTheWindow) {
    IdleBackoff b(10, 1000, kWindow);
    std::uint64_t now = kStart;
    sleeps_after_empty_polls(b, 3 * IdleBackoff::kSleepsPerStep, now);
    EXPECT_EQ(b.after_poll(3, now), 0u);
    EXPECT_TRUE(sleeps_after_empty_polls(b, 9, now, kWindow / 10).empty());
    EXPECT_EQ(b.after_poll(0, now + kWindow / 10), 10u);
    // Without a window, the first empty poll after a packet sleeps.
    IdleBackoff no_window(10, 1000, 0);
    EXPECT_EQ(no_window.after_poll(1, now), 0u);
    EXPECT_EQ(no_window.after_poll(0, now), 10u);
}

TEST(IdleBackoffTest, ZeroIsPurePollingAndAFixedSleepStaysFixed) {
    IdleBackoff polling(0, 1000, kWindow);
    std::uint64_t now = kStart;
    EXPECT_TRUE(sleeps_after_empty_polls(polling, 1000, now).empty());
    IdleBackoff fixed(50, 50, kWindow);
    EXPECT_EQ(steps(sleeps_after_empty_polls(fixed, 3 * IdleBackoff::kSleepsPerStep, now)),
              (std::vector<std::pair<std::uint32_t, unsigned>>{{50, 3 * IdleBackoff::kSleepsPerStep}}));
    IdleBackoff cap_below_first(50, 20, kWindow);  // the cap is never below the first sleep
    EXPECT_EQ(steps(sleeps_after_empty_polls(cap_below_first, 2 * IdleBackoff::kSleepsPerStep, now)),
              (std::vector<std::pair<std::uint32_t, unsigned>>{{50, 2 * IdleBackoff::kSleepsPerStep}}));
}

}  // namespace
}  // namespace dpdock::test
