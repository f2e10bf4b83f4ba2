#!/usr/bin/env python3
"""Answered DNS queries per second of dpdock's embedded DNS, for local names.

Starts dpdockd with one user network and two containers (network namespaces
made here, removed at the end), then a generator inside one of them keeps
--window queries for the other's name outstanding at the gateway for
--duration seconds and counts answers (ids matched). Prints queries/s and the
daemon's DNS counters. The generator is Python (one thread): on a 2-vCPU
machine it may itself be the limit; its own ceiling is printed too (the same
generator against a local kernel UDP echo of its queries).

Usage: sudo python3 bench/dns_qps.py [--dpdockd PATH] [--duration 5] [--window 64]
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

GENERATOR = r'''
import random, socket, struct, sys, time
server, port, name, duration, window = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
def query(qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((server, port))
s.settimeout(0.2)
outstanding = set()
next_id = 0
answered = 0
lost = 0
end = time.monotonic() + duration
while time.monotonic() < end:
    while len(outstanding) < window:
        next_id = (next_id + 1) & 0xffff
        outstanding.add(next_id)
        s.send(query(next_id))
    try:
        reply = s.recv(512)
    except socket.timeout:
        lost += len(outstanding)   # lost or dropped: start a new window
        outstanding.clear()
        continue
    qid = struct.unpack(">H", reply[:2])[0]
    if qid in outstanding:
        outstanding.discard(qid)
        answered += 1
print(answered / duration, lost)
'''

ECHO = r'''
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 15353))
while True:
    data, peer = s.recvfrom(512)
    s.sendto(data, peer)
'''


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True).stdout


def find_dpdockd(root):
    for p in [root / "build/release/control/dpdockd", *sorted(root.glob("build*/control/dpdockd"))]:
        if p.exists():
            return str(p)
    sys.exit("no dpdockd: build it (scripts/build.sh release) or pass --dpdockd")


def request(sock_path, cmd, args=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
    data = b""
    while not data.endswith(b"\n"):
        data += s.recv(65536)
    return json.loads(data)


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpdockd")
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--window", type=int, default=64)
    a = ap.parse_args()
    dpdockd = a.dpdockd or find_dpdockd(root)
    tag = f"dnsq{os.getpid()}"
    tmp = pathlib.Path(tempfile.mkdtemp())
    nss = [f"{tag}a", f"{tag}b"]
    daemon = echo = None
    try:
        for ns in nss:
            sh(f"ip netns add {ns}")
        (tmp / "c.yaml").write_text(
            "dataplane:\n  idle-sleep-us: 20\n  eal-args: ['--lcores=0@(0-1),1@(0-1)']\n"
            "dns:\n  queries-per-second: 10000000\n  resolv-conf: false\n"
            "networks:\n  - name: bench\n    subnet: 10.88.0.0/24\n"
            f"containers:\n  - name: asker\n    netns: /run/netns/{nss[0]}\n    networks: [bench]\n"
            f"  - name: target\n    netns: /run/netns/{nss[1]}\n    networks: [bench]\n")
        sock = str(tmp / "s.sock")
        daemon = subprocess.Popen([dpdockd, "--socket", sock, "--config", str(tmp / "c.yaml")],
                                  stdout=open(tmp / "log", "w"), stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(sock):
                try:
                    if request(sock, "version").get("ok"):
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            sys.exit("dpdockd did not come up:\n" + (tmp / "log").read_text())
        (tmp / "gen.py").write_text(GENERATOR)
        sh(f"ip netns exec {nss[0]} ping -c 1 -W 2 10.88.0.1", check=False)
        out = sh(f"ip netns exec {nss[0]} python3 {tmp}/gen.py 10.88.0.1 53 target {a.duration} {a.window}")
        qps, lost = out.split()
        stats = request(sock, "stats.show")["result"]["dns"]
        (tmp / "echo.py").write_text(ECHO)
        echo = subprocess.Popen([sys.executable, str(tmp / "echo.py")])
        time.sleep(0.3)
        ceiling = sh(f"python3 {tmp}/gen.py 127.0.0.1 15353 target {a.duration} {a.window}").split()[0]
        print(f"embedded DNS, local name, window {a.window}: {float(qps):,.0f} answered queries/s "
              f"(lost windows' queries: {lost})")
        print(f"generator ceiling (kernel UDP echo on loopback): {float(ceiling):,.0f} replies/s")
        print("dns counters:", json.dumps(stats))
    finally:
        for p in (echo, daemon):
            if p is not None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for ns in nss:
            sh(f"ip netns del {ns}", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
