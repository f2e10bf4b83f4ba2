#include "dataplane/eal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "tests/support/eal_environment.hpp"

namespace dpdock::dataplane {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The value following `option`, or "" when the option is absent.
std::string value_of(const std::vector<std::string>& v, const std::string& option) {
    auto it = std::find(v.begin(), v.end(), option);
    return it == v.end() || it + 1 == v.end() ? "" : *(it + 1);
}

const std::vector<unsigned> kFourCpus = {0, 1, 2, 3};

EalOptions options(unsigned workers = 2) {
    EalOptions o;
    o.program_name = "dpdockd";
    o.file_prefix = "dpdock-test";
    o.workers = workers;
    o.memory_mb = 256;
    return o;
}

// Hugepages mounted but mostly taken by other processes (issue 14 item 13,
// issue 20's bench_smoke): dpdockd used to start "with hugepages" and fail to
// allocate, or wait; now it compares what it needs with what is free.
constexpr std::uint64_t kMb = 1u << 20;

TEST(EalMemory, HugepagesWhenTheBudgetFits) {
    EalOptions o = options();
    o.budget = estimate_memory(8191, 65536, 65536);
    auto choice = choose_memory(o, o.budget->total() + kMb);
    ASSERT_TRUE(choice) << choice.message();
    EXPECT_TRUE(choice->hugepages);
    EXPECT_NE(choice->note.find("the deployment needs about "), std::string::npos) << choice->note;
}

TEST(EalMemory, TooFewFreeHugepagesFallBackToNoHuge) {
    EalOptions o = options();
    o.memory_mb = 1024;
    o.budget = estimate_memory(8191, 65536, 65536);
    auto choice = choose_memory(o, 16 * kMb);
    ASSERT_TRUE(choice) << choice.message();
    EXPECT_FALSE(choice->hugepages);
    EXPECT_NE(choice->note.find("only 16 MB of hugepages free: running with --no-huge -m 1024"), std::string::npos)
        << choice->note;
    EXPECT_TRUE(contains(build_eal_argv(o, choice->hugepages, kFourCpus), "--no-huge"));
}

TEST(EalMemory, NeitherFitsFailsAtOnceWithTheNumbers) {
    EalOptions o = options();
    o.memory_mb = 128;
    o.budget = estimate_memory(8191, 1u << 20, 65536);  // a million flows: over 100 MB of tables
    EXPECT_GT(o.budget->conntrack, 100 * kMb);
    auto choice = choose_memory(o, 16 * kMb);
    ASSERT_FALSE(choice);
    EXPECT_NE(choice.message().find("the deployment needs about " + std::to_string(o.budget->total_mb()) +
                                    " MB (mbufs "),
              std::string::npos)
        << choice.message();
    EXPECT_NE(choice.message().find("only 16 MB of hugepages free and dataplane.memory-mb (the heap without "
                                    "hugepages) is 128"),
              std::string::npos)
        << choice.message();
    // The user's own -m is theirs to size.
    o.extra_args = {"-m", "4096"};
    EXPECT_TRUE(choose_memory(o, 0));
}

TEST(EalMemory, NoHugeRequestedIsHonoured) {
    EalOptions o = options();
    o.memory_mb = 1024;
    o.force_no_huge = true;
    o.budget = estimate_memory(8191, 65536, 65536);
    auto choice = choose_memory(o, 64ull << 30);
    ASSERT_TRUE(choice);
    EXPECT_FALSE(choice->hugepages);
}

TEST(EalArgv, WithHugepagesRunsInMemory) {
    const auto argv = build_eal_argv(options(), true, kFourCpus);
    EXPECT_EQ(argv.front(), "dpdockd");
    EXPECT_TRUE(contains(argv, "--lcores=0@0,1@1,2@2"));
    EXPECT_EQ(value_of(argv, "--main-lcore"), "0");
    EXPECT_TRUE(contains(argv, "--in-memory"));
    EXPECT_FALSE(contains(argv, "--no-huge"));
    EXPECT_FALSE(contains(argv, "-m"));
    EXPECT_TRUE(contains(argv, "--no-pci"));
    EXPECT_TRUE(contains(argv, "--file-prefix=dpdock-test"));
    EXPECT_FALSE(contains(argv, "--no-telemetry"));
}

TEST(EalArgv, WithoutHugepagesUsesNoHugeAndNoSharedConfig) {
    const auto argv = build_eal_argv(options(), false, kFourCpus);
    EXPECT_TRUE(contains(argv, "--no-huge"));
    EXPECT_EQ(value_of(argv, "-m"), "256");
    EXPECT_TRUE(contains(argv, "--no-shconf"));
    // DPDK 22.11 refuses the two together.
    EXPECT_FALSE(contains(argv, "--in-memory"));
    EXPECT_TRUE(contains(argv, "--no-pci"));
}

TEST(EalArgv, ForceNoHugeIgnoresHugepages) {
    auto o = options();
    o.force_no_huge = true;
    const auto argv = build_eal_argv(o, true, kFourCpus);
    EXPECT_TRUE(contains(argv, "--no-huge"));
    EXPECT_FALSE(contains(argv, "--in-memory"));
}

TEST(EalArgv, LcoresArePinnedToAllowedCpus) {
    EXPECT_TRUE(contains(build_eal_argv(options(0), false, kFourCpus), "--lcores=0@0"));
    EXPECT_TRUE(contains(build_eal_argv(options(2), false, {2, 5, 7}), "--lcores=0@2,1@5,2@7"));
}

TEST(EalArgv, MoreWorkersThanCpusShareThem) {
    EXPECT_TRUE(contains(build_eal_argv(options(4), false, {0, 1}), "--lcores=(0-4)@(0,1)"));
    EXPECT_TRUE(contains(build_eal_argv(options(1), false, {3}), "--lcores=(0-1)@(3)"));
}

TEST(EalArgv, UserAllowOrBlockListKeepsPci) {
    for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
             {"-a", "0000:00:04.0"}, {"-a0000:00:04.0"}, {"--allow=0000:00:04.0"}, {"--allow", "0000:00:04.0"},
             {"-b", "0000:00:04.0"}, {"--block=0000:00:04.0"}}) {
        auto o = options();
        o.extra_args = extra;
        const auto argv = build_eal_argv(o, false, kFourCpus);
        EXPECT_FALSE(contains(argv, "--no-pci")) << extra.front();
        // User arguments come last, verbatim.
        ASSERT_GE(argv.size(), extra.size());
        EXPECT_TRUE(std::equal(extra.begin(), extra.end(), argv.end() - static_cast<long>(extra.size())));
    }
}

TEST(EalArgv, OtherUserArgsKeepNoPciAndComeLast) {
    auto o = options();
    o.extra_args = {"--log-level=lib.eal:debug", "--vdev", "net_null0"};
    const auto argv = build_eal_argv(o, false, kFourCpus);
    EXPECT_TRUE(contains(argv, "--no-pci"));
    EXPECT_EQ(std::vector<std::string>(argv.end() - 3, argv.end()), o.extra_args);
}

TEST(EalArgv, UserCoreListReplacesOurs) {
    // EAL refuses a second core list, so the user's must be the only one.
    auto o = options();
    o.extra_args = {"--lcores=0@0,1@1", "--main-lcore", "1"};
    const auto argv = build_eal_argv(o, false, kFourCpus);
    EXPECT_EQ(std::count_if(argv.begin(), argv.end(), [](const std::string& a) { return a.starts_with("--lcores"); }),
              1);
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "--main-lcore"), 1);
    o.extra_args = {"-l", "1-3"};
    const auto short_form = build_eal_argv(o, false, kFourCpus);
    EXPECT_EQ(value_of(short_form, "-l"), "1-3");
    EXPECT_FALSE(contains(short_form, "--lcores=0@0,1@1,2@2"));
}

TEST(EalArgv, EmptyNamesGetDefaults) {
    EalOptions o;
    const auto argv = build_eal_argv(o, false, kFourCpus);
    EXPECT_EQ(argv.front(), "dpdockd");
    EXPECT_TRUE(contains(argv, "--file-prefix=dpdock-" + std::to_string(getpid())));
}

// rte_eal_init runs once per process, so the real start runs in a fresh
// process: the "threadsafe" death-test style re-executes this binary.
TEST(StartEal, StartsWithMoreWorkersThanCpus) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // The child re-runs this body with another pid; the prefix travels in the environment.
    const char* kPrefixVar = "DPDOCK_EAL_TEST_PREFIX";
    if (std::getenv(kPrefixVar) == nullptr) {
        setenv(kPrefixVar, ("dpdock-ealtest-" + std::to_string(getpid())).c_str(), 1);
    }
    const std::string prefix = std::getenv(kPrefixVar);
    EXPECT_EXIT(
        {
            EalOptions o;
            o.program_name = "dpdock-ealtest";
            o.file_prefix = prefix;
            o.workers = static_cast<unsigned>(allowed_cpus().size()) + 1;  // more lcores than CPUs
            o.memory_mb = 128;
            o.force_no_huge = true;
            o.extra_args = {"--log-level=lib.eal:warning"};
            auto info = start_eal(o);
            if (!info) {
                std::fprintf(stderr, "%s\n", info.message().c_str());
                std::_Exit(1);
            }
            if (info->hugepages || rte_eal_has_hugepages()) std::_Exit(2);
            std::vector<unsigned> expected;
            for (unsigned lcore = 1; lcore <= o.workers; ++lcore) expected.push_back(lcore);
            if (info->main_lcore != 0 || info->worker_lcores != expected) std::_Exit(3);
            if (rte_lcore_count() != o.workers + 1) std::_Exit(4);
            if (rte_eth_dev_count_avail() != 0) std::_Exit(5);  // --no-pci: the host NIC stays the host's
            // A second start is refused with the EAL's reason.
            auto again = start_eal(o);
            if (again || again.message().find("already") == std::string::npos) std::_Exit(6);
            const std::string runtime_dir = rte_eal_get_runtime_dir();
            stop_eal();
            if (std::filesystem::exists(runtime_dir)) {
                for (const auto& entry : std::filesystem::directory_iterator(runtime_dir)) {
                    std::fprintf(stderr, "left behind: %s\n", entry.path().c_str());
                }
                std::_Exit(7);
            }
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
    std::filesystem::remove_all("/var/run/dpdk/" + prefix);
}

TEST(StartEal, SecondStartInThisProcessFails) {
    test::ensure_eal();
    auto o = options();
    o.force_no_huge = true;
    auto info = start_eal(o);
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.message().find("cannot start the DPDK EAL"), std::string::npos) << info.message();
}

}  // namespace
}  // namespace dpdock::dataplane
