#!/usr/bin/env bash
# Builds dpdock. Usage: scripts/build.sh [release|debug|asan]  (default release)
# Output goes to build/<kind>/.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  debug) args=(-DCMAKE_BUILD_TYPE=Debug) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DDPDOCK_SANITIZE=ON) ;;
  # libFuzzer targets only (tests/fuzz): clang, instrumented, debug checks on, -O1 for speed.
  fuzz) args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DCMAKE_C_COMPILER=clang
              -DCMAKE_CXX_COMPILER=clang++ -DDPDOCK_FUZZ=ON -DDPDOCK_BUILD_TESTS=OFF -DDPDOCK_BUILD_BENCH=OFF) ;;
  *) echo "usage: $0 [release|debug|asan|fuzz]" >&2; exit 2 ;;
esac
# ccache, when installed, lets several work trees of the same sources share objects.
if command -v ccache >/dev/null; then args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "build/$kind" "${args[@]}" >/dev/null
if [[ $kind == fuzz ]]; then
  cmake --build "build/$kind" -j"$(nproc)" --target pipeline_fuzz dns_fuzz
else
  cmake --build "build/$kind" -j"$(nproc)"
fi
