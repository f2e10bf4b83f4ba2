#include "dataplane/eal.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <list>
#include <sstream>
#include <string_view>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

namespace dpdock::dataplane {
namespace {

// True when `args` holds the option in any spelling EAL accepts: "-a X",
// "-aX", "--allow X", "--allow=X". `short_name` is empty for long-only options.
bool has_option(const std::vector<std::string>& args, std::string_view short_name, std::string_view long_name) {
    for (std::string_view arg : args) {
        if (arg.starts_with("--")) {
            if (arg == long_name || (arg.starts_with(long_name) && arg.size() > long_name.size() &&
                                     arg[long_name.size()] == '=')) {
                return true;
            }
        } else if (!short_name.empty() && arg.starts_with(short_name)) {
            return true;
        }
    }
    return false;
}

std::string join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) {
        if (!out.empty()) out += ' ';
        out += a;
    }
    return out;
}

// Lcores 0..workers. With a CPU each, lcore i is pinned to the i-th allowed
// CPU; with fewer CPUs (CI, small VMs) all lcores float over all of them,
// since EAL refuses "-l 0-N" naming CPUs the process cannot run on.
std::string lcore_map(unsigned workers, const std::vector<unsigned>& cpus) {
    std::string map = "--lcores=";
    if (cpus.size() > workers) {
        for (unsigned lcore = 0; lcore <= workers; ++lcore) {
            if (lcore != 0) map += ',';
            map += std::to_string(lcore) + '@' + std::to_string(cpus[lcore]);
        }
        return map;
    }
    map += "(0-" + std::to_string(workers) + ")@(";
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        if (i != 0) map += ',';
        map += std::to_string(cpus[i]);
    }
    return map + ')';
}

// EAL leaves its per-prefix runtime directory behind, holding the telemetry
// sockets nobody unlinks: one litter directory per daemon instance. rmdir
// still refuses when anything unexpected is left in it.
void remove_runtime_dir(const std::string& runtime_dir) {
    for (const char* socket : {"/dpdk_telemetry.v2", "/telemetry"}) unlink((runtime_dir + socket).c_str());
    rmdir(runtime_dir.c_str());
}

constexpr std::string_view kDefaultPrefix = "dpdock-";

// A daemon killed by SIGKILL cannot remove its runtime directory; the next
// start does, for every default-prefix ("dpdock-<pid>") directory whose
// process is gone.
void remove_runtime_dirs_of_dead_daemons() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/var/run/dpdk", ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(kDefaultPrefix)) continue;
        const std::string digits = name.substr(kDefaultPrefix.size());
        if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (kill(pid, 0) != 0 && errno == ESRCH) remove_runtime_dir(entry.path().string());
    }
}

}  // namespace

std::vector<unsigned> allowed_cpus() {
    std::vector<unsigned> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
        }
    }
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

std::uint64_t hugepage_free_bytes() {
    std::uint64_t free_pages = 0;
    std::uint64_t page_kb = 0;
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);) {
        std::istringstream in(line);
        std::string key;
        in >> key;
        if (key == "HugePages_Free:") in >> free_pages;
        if (key == "Hugepagesize:") in >> page_kb;
    }
    if (free_pages == 0) return 0;
    // EAL needs a hugetlbfs mount to map the pages; free pages alone do not do.
    std::ifstream mounts("/proc/mounts");
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream in(line);
        std::string device, mount_point, fs_type;
        if ((in >> device >> mount_point >> fs_type) && fs_type == "hugetlbfs") return free_pages * page_kb * 1024;
    }
    return 0;
}

Result<MemoryChoice> choose_memory(const EalOptions& options, std::uint64_t huge_free_bytes) {
    using R = Result<MemoryChoice>;
    const auto& user = options.extra_args;
    const std::uint64_t free_mb = huge_free_bytes >> 20;
    const bool no_huge_wanted = options.force_no_huge || has_option(user, "", "--no-huge");
    if (!options.budget) {
        if (!no_huge_wanted && huge_free_bytes > 0) return MemoryChoice{true, std::to_string(free_mb) + " MB of hugepages free"};
        return MemoryChoice{false, no_huge_wanted ? "--no-huge requested" : "no free hugepages"};
    }
    const MemoryBudget& budget = *options.budget;
    const std::string needs = "the deployment needs " + budget.describe();
    if (!no_huge_wanted && huge_free_bytes >= budget.total()) {
        return MemoryChoice{true, needs + "; " + std::to_string(free_mb) + " MB of hugepages free"};
    }
    const std::string why = no_huge_wanted       ? "--no-huge requested"
                            : huge_free_bytes > 0 ? "only " + std::to_string(free_mb) + " MB of hugepages free"
                                                  : "no free hugepages";
    // A -m of the user's own wins over memory-mb (it comes last on the EAL command line).
    if (!has_option(user, "-m", "--socket-mem") && budget.total_mb() > options.memory_mb) {
        return R::error(needs + ", but " + why + " and dataplane.memory-mb (the heap without hugepages) is " +
                        std::to_string(options.memory_mb) + ": raise memory-mb, lower nat.capacity, mbufs or "
                        "mac-table-size, or free hugepages");
    }
    return MemoryChoice{false, needs + "; " + why + ": running with --no-huge -m " + std::to_string(options.memory_mb)};
}

std::vector<std::string> build_eal_argv(const EalOptions& options, bool hugepages,
                                        const std::vector<unsigned>& cpus) {
    const auto& user = options.extra_args;
    std::vector<std::string> argv;
    argv.push_back(options.program_name.empty() ? "dpdockd" : options.program_name);

    // EAL rejects a second core list instead of letting the later one win, so
    // ours is left out when the user gives one.
    if (!has_option(user, "-l", "--lcores") && !has_option(user, "-c", "")) {
        argv.push_back(lcore_map(options.workers, cpus));
    }
    if (!has_option(user, "", "--main-lcore")) {
        argv.push_back("--main-lcore");
        argv.push_back("0");
    }

    if (hugepages && !options.force_no_huge && !has_option(user, "", "--no-huge")) {
        // A crashed process leaves no hugepage files behind with --in-memory.
        // No -m: it would preallocate and fail when fewer pages are free.
        argv.push_back("--in-memory");
    } else {
        // DPDK 22.11 refuses --no-huge together with --in-memory; --no-shconf
        // gives the same "nothing shared, nothing left behind".
        argv.push_back("--no-huge");
        argv.push_back("-m");
        argv.push_back(std::to_string(options.memory_mb));
        argv.push_back("--no-shconf");
    }

    // Without an explicit allow/block list EAL would claim the host's own NIC.
    if (!has_option(user, "-a", "--allow") && !has_option(user, "-b", "--block")) argv.push_back("--no-pci");

    argv.push_back("--file-prefix=" +
                   (options.file_prefix.empty() ? std::string(kDefaultPrefix) + std::to_string(getpid())
                                                : options.file_prefix));
    argv.insert(argv.end(), user.begin(), user.end());
    return argv;
}

Result<EalInfo> start_eal(const EalOptions& options) {
    if (options.file_prefix.empty()) remove_runtime_dirs_of_dead_daemons();
    EalInfo info;
    auto memory = choose_memory(options, hugepage_free_bytes());
    if (!memory) return Result<EalInfo>::error(memory.message());
    info.memory_note = memory->note;
    info.argv = build_eal_argv(options, memory->hugepages, allowed_cpus());

    // EAL keeps pointers into argv (and permutes it), so the strings must
    // outlive it: the EAL lives as long as the process. A list keeps earlier
    // calls' strings where they are.
    static std::list<std::vector<std::string>> storage;
    auto& args = storage.emplace_back(info.argv);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        return Result<EalInfo>::error("cannot start the DPDK EAL (" + join(info.argv) +
                                      "): " + rte_strerror(rte_errno));
    }
    info.hugepages = rte_eal_has_hugepages() != 0;
    info.main_lcore = rte_get_main_lcore();
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) { info.worker_lcores.push_back(lcore); }
    return info;
}

void stop_eal() {
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    remove_runtime_dir(runtime_dir);
}

}  // namespace dpdock::dataplane
