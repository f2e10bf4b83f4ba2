#include "bench/bench_eal.hpp"

#include "tests/support/eal_environment.hpp"

namespace dpdock::bench {

namespace {
constexpr unsigned kBenchMemoryMb = 1024;  // 100k-entry MAC tables and their mbufs
}  // namespace

void ensure_bench_eal() { test::ensure_eal(kBenchMemoryMb); }

double cycles_per_packet(std::uint64_t ticks, std::uint64_t packets) {
    return packets == 0 ? 0.0 : static_cast<double>(ticks) / static_cast<double>(packets);
}

}  // namespace dpdock::bench
