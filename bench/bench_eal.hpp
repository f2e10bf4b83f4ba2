// Shared by the micro-benchmarks: the binary's one EAL (the tests' private,
// no-hugepage EAL with room for 100k-entry tables; the benchmark thread is
// lcore 0, so rte_hash writes are allowed) and the cycles/packet arithmetic.
#pragma once

#include <cstdint>

namespace dpdock::bench {

// Starts the EAL on first use; aborts the binary when it cannot start.
void ensure_bench_eal();

// TSC ticks of one packet: what the throughput harness calls cycles/packet.
double cycles_per_packet(std::uint64_t ticks, std::uint64_t packets);

}  // namespace dpdock::bench
