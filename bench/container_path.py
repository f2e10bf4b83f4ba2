#!/usr/bin/env python3
"""Container-to-container throughput: iperf3 between two network namespaces,
through the kernel's bridge (the baseline: what Docker's docker0 does) and
through dpdockd (veth kernel ports), interleaved in one invocation (A B A B).

Reports, per system, the median over the repetitions of: TCP with 1 and 4
streams (Gbit/s received) and small UDP datagrams (packets per second
received, iperf3 -u -b 0). Needs root, iperf3 and a Release build of dpdockd.

    sudo python3 bench/container_path.py [--reps 3] [--duration 5] [--json out.json]
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


def measure(c1, c2, duration, port):
    tcp1 = iperf3(c2, c1, [], duration, port)["end"]["sum_received"]["bits_per_second"] / 1e9
    tcp4 = iperf3(c2, c1, ["-P", "4"], duration, port + 1)["end"]["sum_received"]["bits_per_second"] / 1e9
    udp = iperf3(c2, c1, ["-u", "-b", "0", "-l", "64"], duration, port + 2)["end"]["sum"]
    seconds = udp["seconds"] or duration
    pps = (udp["packets"] - udp["lost_packets"]) / seconds
    return {"tcp1_gbps": tcp1, "tcp4_gbps": tcp4, "udp64_pps": pps}


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


class Dpdock:
    name = "dpdock"

    def __init__(self, binary, c1, c2, workdir, idle_sleep_us):
        self.binary, self.c1, self.c2, self.workdir = binary, c1, c2, workdir
        self.idle = idle_sleep_us
        self.proc = None

    def __enter__(self):
        sock = os.path.join(self.workdir, "dpdock.sock")
        config = os.path.join(self.workdir, "dpdock.yaml")
        with open(config, "w") as out:
            out.write("dataplane:\n  workers: 1\n")
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


def default_dpdockd():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "build", "release", "control", "dpdockd")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dpdockd", default=default_dpdockd())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per iperf3 run")
    ap.add_argument("--idle-sleep-us", type=int, default=None, help="dpdockd's idle sleep (default: its own)")
    ap.add_argument("--other-dpdockd", help="also measure this dpdockd (system 'dpdock-other'), e.g. an older build")
    ap.add_argument("--systems", default="kernel-bridge,dpdock")
    ap.add_argument("--json", help="write every run here")
    args = ap.parse_args()
    if os.geteuid() != 0 or shutil.which("iperf3") is None:
        sys.exit("container_path.py needs root and iperf3")
    systems = args.systems.split(",") + (["dpdock-other"] if args.other_dpdockd else [])
    runs = {s: [] for s in systems}
    tag = f"{os.getpid() % 100000}"
    workdir = tempfile.mkdtemp(prefix="dpdock-cpath-")
    for rep in range(args.reps):
        for system in systems:  # interleaved: A B A B
            with Namespace(f"cpa{tag}") as c1, Namespace(f"cpb{tag}") as c2:
                binary = args.other_dpdockd if system == "dpdock-other" else args.dpdockd
                env = (KernelBridge(tag, c1, c2) if system == "kernel-bridge" else
                       Dpdock(binary, c1, c2, workdir, args.idle_sleep_us))
                with env:
                    result = measure(c1, c2, args.duration, 5201)
            runs[system].append(result)
            print(f"rep {rep} {system:14} " + "  ".join(f"{k} {v:,.2f}" for k, v in result.items()), flush=True)
    print(f"\nmedians over {args.reps} repetitions of {args.duration} s:")
    print(f"{'system':14} {'TCP 1 stream':>14} {'TCP 4 streams':>14} {'UDP 64 B pps':>14}")
    for system in systems:
        med = {k: statistics.median(r[k] for r in runs[system]) for k in runs[system][0]}
        print(f"{system:14} {med['tcp1_gbps']:>9.2f} Gb/s {med['tcp4_gbps']:>9.2f} Gb/s {med['udp64_pps']:>14,.0f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(runs, out, indent=2)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
