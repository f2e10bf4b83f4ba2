#include "tests/support/eal_environment.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>

namespace dpdock::test {

void ensure_eal(unsigned memory_mb) {
    static std::once_flag once;
    std::call_once(once, [memory_mb] {
        const std::string prefix = "--file-prefix=dpdock-unit-" + std::to_string(getpid());
        std::vector<std::string> args = {"dpdock-tests", "-l", "0", "--no-huge", "-m", std::to_string(memory_mb),
                                         "--no-shconf",
                                         "--no-pci", "--no-telemetry", "--log-level=lib.eal:warning", prefix};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
            std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
            std::abort();
        }
        // EAL creates /var/run/dpdk/<prefix> and never removes it; tests leave nothing behind.
        static const std::string runtime_dir = rte_eal_get_runtime_dir();
        std::atexit([] { rmdir(runtime_dir.c_str()); });
    });
}

}  // namespace dpdock::test
