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
(64 bytes, back to back and paced 2 ms apart). The load average and the CPUs
that processes outside this one's tree used (`other_cpus`, cpu_meter.py's
OthersMeter) are printed with every repetition; nothing is discarded here
(`run.py`'s container-path scenarios run the same measurements, one per
scenario, and discard disturbed runs). Needs root, iperf3, iptables and a Release build of
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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_envs import containers  # noqa: E402
from container_measures import MEASURES, PACED_GAP_US, measure  # noqa: E402
from container_report import COLUMNS  # noqa: E402
from cpu_meter import OthersMeter  # noqa: E402


def default_dpdockd():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "build", "release", "control", "dpdockd")


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
            binary = args.other_dpdockd if system == "dpdock-other" else args.dpdockd
            with containers(system, tag, workdir, binary, args.idle_sleep_us) as (c1, c2):
                meter = OthersMeter()
                meter.start()
                result = measure(c1, c2, args.duration, 5201, args.senders, which,
                                 args.paced_seconds or min(args.duration, 2))
                result["other_cpus"] = meter.stop()
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
