// EAL bootstrap: turns daemon options into an EAL argument vector and starts
// the EAL once per process. The argv rules (hugepages or not, PCI or not, a
// per-instance file prefix) live in build_eal_argv(), a pure function, so they
// are tested without starting DPDK. Called from the daemon's main thread only,
// before anything else touches DPDK; stop_eal() is the last DPDK call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/memory_budget.hpp"
#include "base/util/status.hpp"

namespace dpdock::dataplane {

struct EalOptions {
    std::string program_name;             // argv[0]; "dpdockd" when empty
    std::string file_prefix;              // unique per running instance; "dpdock-<pid>" when empty
    unsigned workers = 1;                 // worker lcores 1..workers; lcore 0 is the control thread
    std::uint32_t memory_mb = 512;        // heap size without hugepages (--no-huge -m)
    std::vector<std::string> extra_args;  // appended last, so the user's choice wins
    bool force_no_huge = false;           // ignore mounted hugepages
    // What the dataplane will allocate; hugepages are used only when that
    // much is free, and without them memory_mb must hold it.
    std::optional<MemoryBudget> budget;
};

struct EalInfo {
    bool hugepages = false;
    std::string memory_note;  // why hugepages were or were not used, with the numbers
    unsigned main_lcore = 0;
    std::vector<unsigned> worker_lcores;
    std::vector<std::string> argv;  // what rte_eal_init was given, for logs
};

// HugePages_Free x Hugepagesize from /proc/meminfo when a hugetlbfs is
// mounted, else 0.
std::uint64_t hugepage_free_bytes();

struct MemoryChoice {
    bool hugepages = false;
    std::string note;  // for the start-up log
};
// Hugepages when the budget fits in the free ones (or there is no budget and
// some are free), --no-huge otherwise; an error naming the numbers when
// neither can hold the budget. The user's own --no-huge or -m are respected.
Result<MemoryChoice> choose_memory(const EalOptions& options, std::uint64_t huge_free_bytes);

// The CPUs this process may run on (its affinity mask), ascending.
std::vector<unsigned> allowed_cpus();

// `cpus`: what allowed_cpus() returns; more workers than CPUs is allowed (the
// lcores then share the CPUs as ordinary threads).
std::vector<std::string> build_eal_argv(const EalOptions& options, bool hugepages_available,
                                        const std::vector<unsigned>& cpus);

// Starts the EAL; only one call per process can succeed (DPDK's rule).
Result<EalInfo> start_eal(const EalOptions& options);
void stop_eal();

}  // namespace dpdock::dataplane
