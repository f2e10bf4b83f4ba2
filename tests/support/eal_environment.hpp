// One EAL per test binary, started before the first test that needs DPDK.
// Runs without hugepages and without shared files, so any number of test
// binaries can run side by side and nothing is left behind.
#pragma once

namespace dpdock::test {

// Idempotent; aborts the test binary when the EAL cannot start (nothing else can run then).
void ensure_eal();

}  // namespace dpdock::test
