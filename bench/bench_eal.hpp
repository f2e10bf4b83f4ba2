// The micro-benchmark binary's one EAL: no hugepages, no shared files, one
// lcore (the benchmark thread is lcore 0, so rte_hash writes are allowed).
// Started on first use by whichever benchmark needs it.
#pragma once

#include <cstdint>

namespace dpdock::bench {

bool ensure_bench_eal();

// TSC ticks of one packet: what the throughput harness calls cycles/packet.
double cycles_per_packet(std::uint64_t ticks, std::uint64_t packets);

}  // namespace dpdock::bench
