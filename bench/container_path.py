#!/usr/bin/env python3
"""The container path: two containers (network namespaces) on one host,
through the kernel's bridge with Docker's iptables rules (the baseline: what
docker0 does) and through dpdockd (veth kernel ports, one worker, its default
idle setting), interleaved in one invocation (A B A B).

Reports, per system, the median over the repetitions of: TCP with 1 and 4
streams (iperf3, Gbit/s received); 64-byte UDP packets per second (sendmmsg
senders in the first container, counted where they arrive: the second
container's eth0, dropped there by a raw-table rule, so no receiving socket
limits it) with what the senders offered; TCP request/response latency p50/p99
(64 bytes, back to back and paced 2 ms apart). The load average is printed
with every repetition. Needs root, iperf3, iptables and a Release build of
dpdockd. `--quick`: 2 repetitions of 2 s; `--measure paced,udp`: only those.
A dpdock system may name its workers and flow spreading: `dpdock-w2` runs 2
workers sharing each port's flows (`spread-flows: true`), `dpdock-w2-nospread`
2 workers with `spread-flows: false` (each port on one worker); `dpdock` is
one worker.

    python3 bench/container_path.py [--quick] [--reps 3] [--duration 5] [--measure LIST] [--json out.json]
    python3 bench/container_path.py --quick --systems dpdock,dpdock-w2,dpdock-w2-nospread
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import Namespace  # noqa: E402
from procs import ProcessError  # noqa: E402

C1, C2, GATEWAY = "172.17.0.2", "172.17.0.3", "172.17.0.1"
MACS = {C1: "02:42:ac:11:00:02", C2: "02:42:ac:11:00:03"}


def sh(*args, check=True, timeout=60):
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise ProcessError(f"{' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


def iperf3(server, client, extra, duration, port):
    srv = subprocess.Popen(["ip", "netns", "exec", server.name, "iperf3", "-s", "-1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        out = sh("ip", "netns", "exec", client.name, "iperf3", "-c", C2, "-p", str(port), "-t", str(duration),
                 "--json", *extra, timeout=duration + 60)
        return json.loads(out)
    finally:
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "container_load.py")
SINK_PORT = 9
PACED_GAP_US = 2000


def in_ns(ns, *args, timeout=60):
    return sh("ip", "netns", "exec", ns.name, *args, timeout=timeout)


def eth0_rx_packets(ns):
    return int(in_ns(ns, "cat", "/sys/class/net/eth0/statistics/rx_packets"))


def udp_pps(c1, c2, duration, senders):
    """64-byte datagrams from `senders` processes in c1, counted at c2's eth0."""
    in_ns(c2, "iptables", "-t", "raw", "-A", "PREROUTING", "-p", "udp", "--dport", str(SINK_PORT), "-j", "DROP")
    before = eth0_rx_packets(c2)
    procs = [subprocess.Popen(["ip", "netns", "exec", c1.name, sys.executable, LOAD, "udp-send", C2, str(SINK_PORT),
                               str(duration)], stdout=subprocess.PIPE, text=True) for _ in range(senders)]
    sent = sum(int(p.communicate(timeout=duration + 30)[0]) for p in procs)
    time.sleep(0.2)  # what is still queued in dpdock or the socket buffers arrives
    received = eth0_rx_packets(c2) - before
    in_ns(c2, "iptables", "-t", "raw", "-F", "PREROUTING")
    return sent / duration, received / duration


def request_response(c1, c2, duration, gap_us, port):
    srv = subprocess.Popen(["ip", "netns", "exec", c2.name, sys.executable, LOAD, "rr-server", str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        srv.stdout.readline()  # "listening"
        return json.loads(in_ns(c1, sys.executable, LOAD, "rr-client", C2, str(port), str(duration), str(gap_us),
                                timeout=duration + 60))
    finally:
        srv.kill()
        srv.wait()


MEASURES = ("tcp1", "tcp4", "udp", "rr", "paced")


def measure(c1, c2, duration, port, senders, which, paced_seconds):
    out = {}
    if "tcp1" in which:
        out["tcp1_gbps"] = iperf3(c2, c1, [], duration, port)["end"]["sum_received"]["bits_per_second"] / 1e9
    if "tcp4" in which:
        out["tcp4_gbps"] = iperf3(c2, c1, ["-P", "4"], duration, port + 1)["end"]["sum_received"]["bits_per_second"] / 1e9
    if "udp" in which:
        out["udp64_offered_pps"], out["udp64_pps"] = udp_pps(c1, c2, duration, senders)
    if "rr" in which:
        rr = request_response(c1, c2, duration, 0, port + 2)
        out["rr_p50_us"], out["rr_p99_us"] = rr["p50_us"], rr["p99_us"]
    if "paced" in which:
        paced = request_response(c1, c2, paced_seconds, PACED_GAP_US, port + 3)
        out["paced_p50_us"], out["paced_p99_us"] = paced["p50_us"], paced["p99_us"]
    return out


class KernelBridge:
    """docker0's twin inside its own namespace: a Linux bridge and one veth per container."""
    name = "kernel-bridge"

    def __init__(self, tag, c1, c2):
        self.host = Namespace(f"cpbh{tag}")
        self.c = [(c1, C1, "a"), (c2, C2, "b")]

    def __enter__(self):
        self.host.__enter__()
        h = self.host.name
        sh("ip", "-n", h, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", h, "addr", "add", f"{GATEWAY}/16", "dev", "br0")
        sh("ip", "-n", h, "link", "set", "br0", "up")
        for ns, ip, end in self.c:
            sh("ip", "-n", h, "link", "add", f"v{end}", "type", "veth", "peer", "name", "eth0", "netns", ns.name)
            sh("ip", "-n", h, "link", "set", f"v{end}", "master", "br0", "up")
            sh("ip", "-n", ns.name, "link", "set", "eth0", "address", MACS[ip])
            sh("ip", "-n", ns.name, "addr", "add", f"{ip}/16", "dev", "eth0")
            sh("ip", "-n", ns.name, "link", "set", "eth0", "up")
            sh("ip", "-n", ns.name, "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        for ns, _, _ in self.c:
            sh("ip", "-n", ns.name, "link", "del", "eth0", check=False)
        return self.host.__exit__(*exc)


class DockerBridge(KernelBridge):
    """The kernel bridge with the rules dockerd 20.10 installs for docker0
    (iptables-save of a fresh dockerd): conntrack on every bridged packet
    (br_netfilter's bridge-nf-call-iptables, on by default in a namespace),
    MASQUERADE for what leaves, FORWARD through DOCKER-USER and the isolation
    chains, forwarding on with policy DROP."""
    name = "docker"
    RULES = [
        ("nat", "-N DOCKER"),
        ("nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"),
        ("nat", "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"),
        ("nat", "-A POSTROUTING -s 172.17.0.0/16 ! -o br0 -j MASQUERADE"),
        ("nat", "-A DOCKER -i br0 -j RETURN"),
        ("filter", "-P FORWARD DROP"),
        ("filter", "-N DOCKER"),
        ("filter", "-N DOCKER-ISOLATION-STAGE-1"),
        ("filter", "-N DOCKER-ISOLATION-STAGE-2"),
        ("filter", "-N DOCKER-USER"),
        ("filter", "-A FORWARD -j DOCKER-USER"),
        ("filter", "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"),
        ("filter", "-A FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        ("filter", "-A FORWARD -o br0 -j DOCKER"),
        ("filter", "-A FORWARD -i br0 ! -o br0 -j ACCEPT"),
        ("filter", "-A FORWARD -i br0 -o br0 -j ACCEPT"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-1 -i br0 ! -o br0 -j DOCKER-ISOLATION-STAGE-2"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-1 -j RETURN"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-2 -o br0 -j DROP"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-2 -j RETURN"),
        ("filter", "-A DOCKER-USER -j RETURN"),
    ]

    def __enter__(self):
        super().__enter__()
        h = self.host.name
        sh("ip", "netns", "exec", h, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        for table, rule in self.RULES:
            sh("ip", "netns", "exec", h, "iptables", "-t", table, *rule.split())
        # Docker's rules see bridged packets only through br_netfilter.
        if sh("ip", "netns", "exec", h, "cat", "/proc/sys/net/bridge/bridge-nf-call-iptables").strip() != "1":
            raise ProcessError("br_netfilter is off: bridged packets would skip Docker's rules")
        return self


class Dpdock:
    name = "dpdock"

    def __init__(self, binary, c1, c2, workdir, idle_sleep_us, workers=1, spread=True):
        self.binary, self.c1, self.c2, self.workdir = binary, c1, c2, workdir
        self.idle = idle_sleep_us
        self.workers, self.spread = workers, spread
        self.proc = None

    def __enter__(self):
        sock = os.path.join(self.workdir, "dpdock.sock")
        config = os.path.join(self.workdir, "dpdock.yaml")
        with open(config, "w") as out:
            out.write(f"dataplane:\n  workers: {self.workers}\n")
            if self.workers > 1:  # (an --other-dpdockd from before spreading knows no such key)
                out.write(f"  spread-flows: {'true' if self.spread else 'false'}\n")
            if self.idle is not None:
                out.write(f"  idle-sleep-us: {self.idle}\n")
            out.write("containers:\n")
            for name, ns in (("c1", self.c1), ("c2", self.c2)):
                out.write(f"  - name: {name}\n    netns: {ns.path}\n    networks: [bridge]\n")
        self.log = open(os.path.join(self.workdir, "dpdockd.log"), "w")
        self.proc = subprocess.Popen([self.binary, "--config", config, "--socket", sock], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ProcessError(f"dpdockd did not start; see {self.log.name}")
            time.sleep(0.1)
        # First packets flood until MACs are learned; a ping settles that.
        sh("ip", "netns", "exec", self.c1.name, "ping", "-c", "2", "-W", "2", C2, check=False)
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        return False


def dpdock_variant(system):
    """'dpdock-w2-nospread' -> (2, False); 'dpdock' and 'dpdock-other' -> (1, True)."""
    workers, spread = 1, True
    for part in system.split("-")[1:]:
        if part.startswith("w") and part[1:].isdigit():
            workers = int(part[1:])
        elif part == "nospread":
            spread = False
    return workers, spread


def default_dpdockd():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "build", "release", "control", "dpdockd")


COLUMNS = [  # key, heading, format
    ("tcp1_gbps", "TCP 1 (Gb/s)", "{:.2f}"), ("tcp4_gbps", "TCP 4 (Gb/s)", "{:.2f}"),
    ("udp64_pps", "UDP 64 B pps", "{:,.0f}"), ("udp64_offered_pps", "offered pps", "{:,.0f}"),
    ("rr_p50_us", "RR p50 us", "{:.0f}"), ("rr_p99_us", "RR p99 us", "{:.0f}"),
    ("paced_p50_us", "2ms p50 us", "{:.0f}"), ("paced_p99_us", "2ms p99 us", "{:.0f}"),
]


def print_table(systems, runs, reps, duration):
    print(f"\nmedians over {reps} repetitions of {duration} s (RR: request/response round trip; "
          f"2ms: paced {PACED_GAP_US} us apart):")
    columns = [c for c in COLUMNS if c[0] in runs[systems[0]][0]]
    print(f"{'system':14}" + "".join(f"{heading:>14}" for _, heading, _ in columns))
    med = {s: {k: statistics.median(r[k] for r in runs[s]) for k, _, _ in columns} for s in systems}
    for system in systems:
        print(f"{system:14}" + "".join(f"{fmt.format(med[system][k]):>14}" for k, _, fmt in columns))
    base = systems[0]
    for system in systems[1:]:
        print(f"{system + '/' + base:14}" + "".join(
            f"{med[system][k] / med[base][k]:>13.2f}x" if med[base][k] else f"{'-':>14}" for k, _, _ in columns))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dpdockd", default=default_dpdockd())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    ap.add_argument("--quick", action="store_true", help="2 repetitions of 2 s")
    ap.add_argument("--senders", type=int, default=2, help="UDP sender processes (default 2)")
    ap.add_argument("--idle-sleep-us", type=int, default=None, help="dpdockd's idle sleep (default: its own)")
    ap.add_argument("--other-dpdockd", help="also measure this dpdockd (system 'dpdock-other'), e.g. an older build")
    ap.add_argument("--systems", default="docker,dpdock", help="from docker, kernel-bridge (no rules), dpdock "
                    "(dpdock-wN: N workers; -nospread: spread-flows off); "
                    "the first is the ratios' base")
    ap.add_argument("--measure", default=",".join(MEASURES),
                    help="which measurements, from " + ",".join(MEASURES) + " (default: all)")
    ap.add_argument("--paced-seconds", type=int, help="length of the paced run (default: --duration, at most 2)")
    ap.add_argument("--json", help="write every run here")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.duration = 2, 2
    if os.geteuid() != 0 or not shutil.which("iperf3") or not shutil.which("iptables"):
        sys.exit("container_path.py needs root, iperf3 and iptables")
    which = args.measure.split(",")
    if not which or any(m not in MEASURES for m in which):
        sys.exit(f"--measure takes a comma-separated list from {','.join(MEASURES)}")
    systems = args.systems.split(",") + (["dpdock-other"] if args.other_dpdockd else [])
    runs = {s: [] for s in systems}
    tag = f"{os.getpid() % 100000}"
    workdir = tempfile.mkdtemp(prefix="dpdock-cpath-")
    print(f"{os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}", flush=True)
    for rep in range(args.reps):
        for system in systems:  # interleaved: A B A B
            with Namespace(f"cpa{tag}") as c1, Namespace(f"cpb{tag}") as c2:
                binary = args.other_dpdockd if system == "dpdock-other" else args.dpdockd
                env = (DockerBridge(tag, c1, c2) if system == "docker" else
                       KernelBridge(tag, c1, c2) if system == "kernel-bridge" else
                       Dpdock(binary, c1, c2, workdir, args.idle_sleep_us, *dpdock_variant(system)))
                with env:
                    result = measure(c1, c2, args.duration, 5201, args.senders, which,
                                     args.paced_seconds or min(args.duration, 2))
            result["load1"] = os.getloadavg()[0]
            runs[system].append(result)
            print(f"rep {rep} {system:14} " + "  ".join(f"{k} {v:,.2f}" for k, v in result.items()), flush=True)
    print_table(systems, runs, args.reps, args.duration)
    loads = [r["load1"] for s in systems for r in runs[s]]
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(runs, out, indent=2)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
