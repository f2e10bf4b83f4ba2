#!/usr/bin/env python3
"""Request/response latency through dpdockd against the kernel bridge with
Docker's rules, with the worker's own view: per run, the paced round trips'
p50/p99 (and back to back with --rr), the worker's idle counters (`dpdock
stats`: fd_wakes, rx_after_timeout...) and the worker thread's CPU share
during the paced run (/proc). Systems interleaved per repetition (kernel
first), a fresh setup per run; medians and the median of the per-repetition
ratios against the kernel. bench/README.md, "Paced request/response".

    python3 bench/paced_rr.py [--reps 5] [--seconds 3] [--rr] \\
        [--dpdockd PATH ...] [--idle-poll-us N ...]

Each --dpdockd build (default build/release) runs with its default window;
each --idle-poll-us N adds a run of the build named before it with that
window (a build older than the key refuses it). Needs root and iptables.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_envs import containers  # noqa: E402
from container_measures import PACED_GAP_US, request_response  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DPDOCKD = os.path.join(HERE, "build", "release", "control", "dpdockd")
IDLE_KEYS = ("fd_wakes", "rx_after_fd_wake", "rx_after_timeout", "waits")


def worker_ticks(pid):
    """CPU ticks of dpdockd's (pid's child's) worker threads so far."""
    ticks = 0
    for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
        try:
            for tid in os.listdir(f"/proc/{child}/task"):
                stat = open(f"/proc/{child}/task/{tid}/stat").read()
                name, rest = stat.split("(", 1)[1].rsplit(")", 1)
                if name.startswith("rte-worker"):
                    fields = rest.split()
                    ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except FileNotFoundError:
            pass
    return ticks


def one_run(system, args, tag):
    """Figures of one run of `system`: ("kernel", None, None) or ("dpdock", path, idle_poll_us)."""
    kind, binary, idle_poll = system
    workdir = tempfile.mkdtemp(prefix="paced_rr")
    out = {}
    with containers("docker" if kind == "kernel" else "dpdock", tag, workdir, binary,
                    idle_poll_us=idle_poll) as (c1, c2):
        sock = os.path.join(workdir, "dpdock.sock")
        cli = [args.cli, "--socket", sock]
        if kind != "kernel":
            subprocess.run(cli + ["stats", "clear"], check=True, capture_output=True)
        if args.rr:
            out["rr"] = request_response(c1, c2, args.seconds, 0, 5301)
        ticks, start = worker_ticks(os.getpid()), time.monotonic()
        out["paced"] = request_response(c1, c2, args.seconds, PACED_GAP_US, 5302)
        if kind != "kernel":
            out["cpu"] = (worker_ticks(os.getpid()) - ticks) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - start)
            stats = json.loads(subprocess.run(cli + ["--format", "json", "stats"], check=True, capture_output=True,
                                              text=True).stdout)
            out["idle"] = {k: stats["workers"][0]["idle"][k] for k in IDLE_KEYS}
    out["load1"] = os.getloadavg()[0]
    return out


class AddVariant(argparse.Action):
    """--dpdockd PATH and --idle-poll-us N, in order, into one list of (path, window)."""

    def __call__(self, parser, namespace, value, option_string=None):
        variants = namespace.variants
        if option_string == "--dpdockd":
            variants.append((value, None))
        elif not variants:
            variants.append((DEFAULT_DPDOCKD, value))
        else:
            variants.append((variants[-1][0], value))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.set_defaults(variants=[])
    ap.add_argument("--dpdockd", action=AddVariant, dest="variants", help="a dpdockd build (repeatable)")
    ap.add_argument("--idle-poll-us", action=AddVariant, dest="variants", type=int,
                    help="also run the build named before it with this window (repeatable)")
    ap.add_argument("--cli", default=os.path.join(HERE, "build", "release", "control", "dpdock"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--rr", action="store_true", help="back to back round trips too")
    args = ap.parse_args()
    variants = args.variants or [(DEFAULT_DPDOCKD, None)]
    builds = list(dict.fromkeys(b for b, _ in variants))
    systems = [("kernel", None, None)] + [("dpdock", b, w) for b, w in variants]
    names = ["kernel"] + [f"dpdock{builds.index(b)}" + (f" poll {w}" if w is not None else "") for b, w in variants]
    runs = {n: [] for n in names}
    for rep in range(args.reps):
        for i, (name, system) in enumerate(zip(names, systems)):
            run = one_run(system, args, f"pr{os.getpid() % 1000}{i}")
            runs[name].append(run)
            print(rep, name, json.dumps(run), flush=True)
    for i, b in enumerate(builds):
        print(f"dpdock{i}: {b}")
    figures = ["rr", "paced"] if args.rr else ["paced"]
    for name in names:
        line = [f"{name:16}"]
        for fig in figures:
            p50, p99 = (statistics.median(r[fig][k] for r in runs[name]) for k in (0, 1))
            line.append(f"{fig} {p50:.0f}/{p99:.0f} us")
            if name != "kernel":
                ratio = [statistics.median(r[fig][k] / base[fig][k] for r, base in zip(runs[name], runs["kernel"]))
                         for k in (0, 1)]
                line.append(f"(x{ratio[0]:.2f}/x{ratio[1]:.2f})")
        if name != "kernel":
            line.append(f"fd_wakes {statistics.median(r['idle']['fd_wakes'] for r in runs[name]):.0f}")
            line.append(f"worker CPU {statistics.median(r['cpu'] for r in runs[name]):.2f}")
        print(" ".join(line))
    loads = [r["load1"] for rs in runs.values() for r in rs]
    print(f"load average (1 min): {min(loads):.1f}-{max(loads):.1f}")


if __name__ == "__main__":
    main()
