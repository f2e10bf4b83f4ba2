#!/usr/bin/env bash
# The README's first command (as root): installs, builds, and runs dpdockd on
# its embedded demo deployment (dpdockd --demo): two containers (network namespaces dpdock-demo1
# and dpdock-demo2) on the default bridge 172.17.0.0/16. Shows them pinging
# each other and moving 8 MB over TCP (bytes compared), then the dataplane's
# counters. With --keep, leaves dpdockd running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run it as root (it creates network namespaces and veth pairs)" >&2
  exit 1
fi

keep=0
[[ ${1:-} == --keep ]] && keep=1

scripts/install-deps.sh
scripts/build.sh release
BIN=build/release
SOCK=/run/dpdock/dpdock-demo.sock
WORK=$(mktemp -d /tmp/dpdock-demo.XXXXXX)
DAEMON_PID=

cleanup() {
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -INT "$DAEMON_PID"; wait "$DAEMON_PID" || true
  fi
  ip netns del dpdock-demo1 2>/dev/null || true
  ip netns del dpdock-demo2 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for ns in dpdock-demo1 dpdock-demo2; do
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
done

echo "--- starting dpdockd (embedded demo deployment)"
"$BIN/control/dpdockd" --demo --socket "$SOCK" >"$WORK/dpdockd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
  grep -q "ready" "$WORK/dpdockd.log" && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/dpdockd.log"; exit 1; }
  sleep 0.1
done
cat "$WORK/dpdockd.log"

ip1=$(ip netns exec dpdock-demo1 ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
ip2=$(ip netns exec dpdock-demo2 ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
echo "--- demo1 is $ip1, demo2 is $ip2"

echo "--- ping demo1 -> demo2"
ip netns exec dpdock-demo1 ping -c 3 -i 0.2 "$ip2"
echo "--- ping demo2 -> demo1"
ip netns exec dpdock-demo2 ping -c 3 -i 0.2 "$ip1"

echo "--- TCP: 8 MB from demo1 to demo2, bytes compared"
head -c 8M /dev/urandom >"$WORK/sent"
ip netns exec dpdock-demo2 socat -u TCP-LISTEN:5001,reuseaddr OPEN:"$WORK/received",creat,trunc &
listener=$!
sleep 0.5
ip netns exec dpdock-demo1 socat -u OPEN:"$WORK/sent" TCP:"$ip2":5001
wait "$listener"
cmp "$WORK/sent" "$WORK/received" && echo "TCP transfer OK: $(stat -c %s "$WORK/received") bytes identical"

echo "--- dataplane counters"
"$BIN/control/dpdock" --socket "$SOCK" stats

if ((keep)); then
  echo "--- dpdockd keeps running (socket $SOCK); Ctrl-C to stop"
  wait "$DAEMON_PID"
fi
