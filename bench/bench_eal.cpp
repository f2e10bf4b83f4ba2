#include "bench/bench_eal.hpp"

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>

namespace dpdock::bench {

bool ensure_bench_eal() {
    static bool ok = false;
    static std::once_flag once;
    std::call_once(once, [] {
        std::vector<std::string> args = {"dpdock-bench", "-l", "0", "--no-huge", "-m", "1024", "--no-shconf",
                                         "--no-pci", "--no-telemetry", "--log-level=lib.eal:warning",
                                         "--file-prefix", "bench-" + std::to_string(getpid())};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        ok = rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
        if (!ok) std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    });
    return ok;
}

double cycles_per_packet(std::uint64_t ticks, std::uint64_t packets) {
    return packets == 0 ? 0.0 : static_cast<double>(ticks) / static_cast<double>(packets);
}

}  // namespace dpdock::bench
