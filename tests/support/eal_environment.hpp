// One EAL per test binary, started before the first test that needs DPDK.
// Runs without hugepages and without shared files, so any number of test
// binaries can run side by side and nothing is left behind.
#pragma once

namespace dpdock::test {

// Idempotent (the first call's `memory_mb` wins); aborts the binary when the
// EAL cannot start (nothing else can run then). Benchmarks share it.
void ensure_eal(unsigned memory_mb = 512);

}  // namespace dpdock::test
