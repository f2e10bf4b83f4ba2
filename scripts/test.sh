#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, and runs every test
# (unit and integration) in the Release build and again under ASan/UBSan, then
# runs the libFuzzer target for a bounded time (scripts/fuzz.sh).
# Needs root (integration tests create network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: integration tests need root (network namespaces, veth)" >&2
  exit 1
fi

# The folder layering (docs/ARCHITECTURE.md) is checked before anything is built.
python3 scripts/check_layout.py

status=0
for kind in release asan; do
  echo "=== $kind build"
  scripts/build.sh "$kind"
  echo "=== $kind tests"
  # Tests labelled "system" drive whole third-party programs (dockerd, etcd
  # clusters) around dpdockd; they run once, in the Release build, to keep CI
  # within its time budget. Everything else runs in both builds.
  select=()
  [[ $kind == asan ]] && select=(--label-exclude system)
  # LeakSanitizer cannot follow memory DPDK maps itself; ASan and UBSan stay on.
  # The output is kept (build/KIND/ctest.log) for the summary at the end.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "build/$kind" --output-on-failure --timeout 1800 "${select[@]}" 2>&1 |
    tee "build/$kind/ctest.log" || status=1
done
echo "=== fuzz (bounded: FUZZ_SECONDS, default 45 s)"
scripts/fuzz.sh || status=1
# A CI log is often read from its end only: which test cases failed, and
# why, are repeated last, after the fuzzer's output.
if [[ $status -ne 0 ]]; then
  echo "=== failed test cases (from build/*/ctest.log)"
  for kind in release asan; do
    log="build/$kind/ctest.log"
    [[ -f $log ]] || continue
    grep -E '^\[  FAILED  \] [A-Za-z]|\*\*\*(Failed|Timeout|Exception)' "$log" | sed "s/^/$kind: /" | sort -u || true
    grep -E -A4 ': Failure$' "$log" | head -60 | sed "s/^/$kind: /" || true
  done
fi
exit $status
