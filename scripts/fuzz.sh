#!/usr/bin/env bash
# Builds the libFuzzer targets (scripts/build.sh fuzz: clang, ASan/UBSan) and
# runs pipeline_fuzz for a bounded time (FUZZ_SECONDS, default 45) from the
# checked-in seed corpus. New inputs go to a temporary directory, crashes to
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
