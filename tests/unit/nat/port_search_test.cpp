// PortSearch: which host ports a new flow tries, and in what order.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "nat/port_search.hpp"

namespace dpdock::nat {
namespace {

std::vector<std::uint16_t> all_candidates(PortSearch s) {
    std::vector<std::uint16_t> out;
    while (auto p = s.next()) out.push_back(*p);
    return out;
}

TEST(PortSearchTest, ASmallRangeIsSearchedCompletelyAfterThePreferredPort) {
    const auto got = all_candidates(PortSearch(5000, 5099, 5042, 7));  // 100 ports: one run covers them
    ASSERT_EQ(got.size(), 101u);
    EXPECT_EQ(got[0], 5042);
    const std::set<std::uint16_t> distinct(got.begin() + 1, got.end());
    EXPECT_EQ(distinct.size(), 100u);
    EXPECT_EQ(*distinct.begin(), 5000);
    EXPECT_EQ(*distinct.rbegin(), 5099);
}

TEST(PortSearchTest, APortOutsideTheRangeIsNeverProposed) {
    const auto got = all_candidates(PortSearch(2000, 2001, 80, 1));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(std::set<std::uint16_t>(got.begin(), got.end()), (std::set<std::uint16_t>{2000, 2001}));
    EXPECT_EQ(all_candidates(PortSearch(65535, 65535, 65535, 3)), (std::vector<std::uint16_t>{65535, 65535}));
}

TEST(PortSearchTest, ALargeRangeIsSampledInBoundedRuns) {
    for (std::uint64_t seed : {0ULL, 1ULL, 0xdeadbeefULL, ~0ULL}) {
        const auto got = all_candidates(PortSearch(1024, 65535, 40000, seed));
        ASSERT_EQ(got.size(), PortSearch::kMaxTries) << seed;
        EXPECT_EQ(got[0], 40000);
        for (auto p : got) EXPECT_GE(p, 1024);
        // The first run is 128 consecutive ports (wrapping at the range's end).
        for (std::size_t i = 2; i <= PortSearch::kFirstRun; ++i) {
            EXPECT_EQ(got[i], got[i - 1] == 65535 ? 1024 : got[i - 1] + 1) << seed << " at " << i;
        }
    }
    // Different flows start in different places; one flow always in the same one.
    EXPECT_NE(all_candidates(PortSearch(1024, 65535, 1, 1))[0], all_candidates(PortSearch(1024, 65535, 1, 2))[0]);
    EXPECT_EQ(all_candidates(PortSearch(1024, 65535, 1, 9)), all_candidates(PortSearch(1024, 65535, 1, 9)));
}

}  // namespace
}  // namespace dpdock::nat
