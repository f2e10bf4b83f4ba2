#!/usr/bin/env bash
# Idle cost of dpdockd per idle mode: the CPU time an idle daemon with one
# container burns (utime + stime of all its threads from /proc/PID/stat over
# IDLE_SECONDS, default 20), and the ping RTT from the container to its
# gateway after idle (one ping every 2 s: the worker has backed off fully)
# against busy (the same ping while a flood ping keeps the worker polling).
# Medians over the pings. Needs root; uses its own network namespace.
# Usage: [IDLE_MODES="adaptive polling fixed50"] bench/idle_cost.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/release}
seconds=${IDLE_SECONDS:-20}
ns=dpdock-idle-$$
dir=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median_rtt() { grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

run_mode() {
  local name=$1 settings=$2
  printf 'dataplane:\n  socket: %s/sock\n%bcontainers:\n  - name: c1\n    netns: /run/netns/%s\n    networks: [bridge]\n' \
    "$dir" "$settings" "$ns" > "$dir/d.yaml"
  "$build/control/dpdockd" --config "$dir/d.yaml" --socket "$dir/sock" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    "$build/control/dpdock" --socket "$dir/sock" version > /dev/null 2>&1 && break
    sleep 0.1
  done
  ip netns exec "$ns" ping -c 2 -W 2 172.17.0.1 > /dev/null  # ARP settled
  sleep 2
  local t0 t1
  t0=$(cpu_ticks "$pid")
  sleep "$seconds"
  t1=$(cpu_ticks "$pid")
  local idle_rtt busy_rtt
  idle_rtt=$(ip netns exec "$ns" ping -c 10 -i 2 172.17.0.1 | median_rtt)
  ip netns exec "$ns" ping -f -w 12 172.17.0.1 > /dev/null 2>&1 &
  local flood=$!
  sleep 1
  busy_rtt=$(ip netns exec "$ns" ping -c 40 -i 0.2 172.17.0.1 | median_rtt)
  wait "$flood" || true
  kill "$pid"
  wait "$pid" || true
  pid=""
  awk -v n="$name" -v t="$((t1 - t0))" -v hz="$hz" -v s="$seconds" -v i="$idle_rtt" -v b="$busy_rtt" \
    'BEGIN {printf "%-28s idle CPU %6.2f%% of a core (%5.2f CPU-s in %d s)  ping RTT after idle %s ms, busy %s ms\n",
            n, 100 * t / hz / s, t / hz, s, i, b}'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for mode in ${IDLE_MODES:-adaptive polling fixed50}; do
  case $mode in
    adaptive) run_mode "adaptive (default 10..1000)" "" ;;
    polling) run_mode "pure polling (0)" "  idle-sleep-us: 0\n" ;;
    fixed50) run_mode "fixed 50 us" "  idle-sleep-us: 50\n  idle-sleep-max-us: 50\n" ;;
  esac
done
