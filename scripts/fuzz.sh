#!/usr/bin/env bash
# Builds the libFuzzer targets (scripts/build.sh fuzz: clang, ASan/UBSan) and
# runs pipeline_fuzz for a bounded time (FUZZ_SECONDS, default 45) from the
# checked-in seed corpus, then dns_fuzz (the embedded DNS's parse path,
# DNS_FUZZ_SECONDS, default 15). New inputs go to a temporary directory, crashes to
# build/fuzz/artifacts/. Exit status 1 when the fuzzer found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-45}
scripts/build.sh fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build/fuzz/artifacts
# LeakSanitizer cannot follow memory DPDK maps itself (as in test.sh).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build/fuzz/tests/fuzz/pipeline_fuzz -max_total_time="$seconds" -timeout=10 -detect_leaks=0 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 "$work" tests/fuzz/corpus/pipeline
dns_seconds=${DNS_FUZZ_SECONDS:-15}
dns_work=$(mktemp -d)
trap 'rm -rf "$work" "$dns_work"' EXIT
# No DPDK memory here: leak detection stays on (ldns allocates with malloc).
ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build/fuzz/tests/fuzz/dns_fuzz -max_total_time="$dns_seconds" -timeout=10 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 "$dns_work" tests/fuzz/corpus/dns
