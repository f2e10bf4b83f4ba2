#!/usr/bin/env python3
# dpdock throughput harness: runs one or all scenarios of bench/scenarios/ with
# dpdockd, Open vSwitch's DPDK datapath (ovs.py) and the baseline (dpdk-testpmd
# io-forward) between the same generator -> net_memif -> device -> net_null,
# interleaved (A B C A B C), and prints packets/s, worker cycles per packet and
# the ratios to the baseline and to OVS. The container-path scenarios
# (container_runs.py: TCP, UDP and request/response between two network
# namespaces) run dpdockd beside the kernel's bridge with Docker's rules
# (system "kernel") in the same invocation and report dpdock / kernel.
# Every memif run is framed by two vCPU placement probes (placement.py); a
# run during which other processes used the CPUs (cpu_meter.py) or the
# placement changed is discarded and repeated, a bounded number of times
# (discard.py).
# --smoke runs every scenario once, briefly, dpdockd only, and fails unless
# dpdockd took the scenario's path (smoke.py, container_runs.py; ctest bench_smoke).
# Everything it starts is ended by PID and its temp dir removed, also on error,
# Ctrl-C or SIGTERM. Python 3 standard library only.
import argparse
import contextlib
import datetime
import glob
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import container_report  # noqa: E402
import container_runs  # noqa: E402
import discard  # noqa: E402
import placement  # noqa: E402
import report  # noqa: E402
import smoke  # noqa: E402
import tools  # noqa: E402
import topology  # noqa: E402
import traffic  # noqa: E402
import ovs  # noqa: E402
import ovs_config  # noqa: E402
from cpu_meter import CpuMeter  # noqa: E402
from dut import BURST, MBUFS, BaselineForwarder, Cpus, DpdockdForwarder, Generator, remove_runtime_dirs  # noqa: E402
from host_info import cpu_model, package_version, tsc_hz  # noqa: E402
from netns import Namespace  # noqa: E402
from procs import ProcessError, Supervisor  # noqa: E402
from tools import is_container_path, systems_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_SYSTEMS = report.SYSTEMS + ("kernel",)


def summarize(scenario, runs, hz):
    if is_container_path(scenario):
        return container_report.summarize(scenario, runs)
    return report.summarize(scenario, runs, hz)


def load_scenarios(names):
    scenarios = []
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "*.json"))):
        with open(path) as f:
            scenario = json.load(f)
        if "frame-sizes" in scenario:
            sizes = traffic.size_pattern(scenario["frame-sizes"])
            scenario["mean-frame-bytes"] = sum(sizes) / len(sizes)
        scenarios.append(scenario)
    if names:
        known = {s["name"] for s in scenarios}
        unknown = [n for n in names if n not in known]
        if unknown:
            sys.exit(f"run.py: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        scenarios = [s for s in scenarios if s["name"] in names]
    return scenarios


SMOKE_CONTAINER_SECONDS = 1.0


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.cpus = Cpus.choose()
        self.run_index = 0
        self.versions = {}
        self.eal_args = {}
        self.tsc_hz = tsc_hz()

    def prefix(self, role):
        return f"dpdock-bench-{os.getpid()}-{self.run_index}-{role}"

    def run_one(self, scenario, system, rep, pcap, netns):
        self.run_index += 1
        rundir = os.path.join(self.workdir, f"run{self.run_index:03d}")
        os.mkdir(rundir)
        if is_container_path(scenario):
            return self.run_container(scenario, system, rep, rundir)
        memif_sock = os.path.join(rundir, "memif.sock")
        prefixes = []
        probe_before = self.probe()  # both CPUs idle: nothing of the run is started yet
        try:
            with contextlib.ExitStack() as stack:
                if system == "ovs":  # entered first, left last: after every process is gone
                    ovs_ns = stack.enter_context(Namespace(f"dpdock-bench-ovs-{os.getpid()}"))
                sup = stack.enter_context(Supervisor(rundir))
                prefixes.append(self.prefix("gen"))
                if system == "dpdock":
                    dut = DpdockdForwarder(sup, self.args.dpdockd, self.args.cli, self.cpus, rundir, memif_sock,
                                           scenario, prefixes, netns)
                elif system == "ovs":
                    prefixes.append(self.prefix("ovs"))
                    dut = ovs.OvsForwarder(sup, self.cpus, rundir, memif_sock, scenario, self.prefix("ovs"),
                                           ovs_ns.name)
                else:
                    prefixes.append(self.prefix("iofwd"))
                    dut = BaselineForwarder(sup, self.args.testpmd, self.cpus, self.prefix("iofwd"), memif_sock)
                gen = Generator(sup, self.args.testpmd, self.cpus, self.prefix("gen"), *pcap, memif_sock)
                gen.start()
                meter = CpuMeter(vars(self.cpus).values(), [gen.testpmd.proc.pid, *dut.pids()])
                sample = dut.measure(self.args.warmup, self.args.duration, meter)
                if system not in self.versions:
                    self.versions[system] = dut.versions()
                self.eal_args.setdefault(system, dut.eal_args)
                self.eal_args.setdefault("generator", gen.testpmd.eal_args)
        except ProcessError:
            dump_logs(rundir)
            raise
        finally:
            remove_runtime_dirs(prefixes)
        probe_after = self.probe()  # every process of the run has exited
        row = {"system": system, "rep": rep, "pps": sample.pps, "cycles_per_packet": sample.cycles_per_packet,
               "forwarded": sample.forwarded, "received": sample.received, "seconds": sample.seconds,
               **sample.extra}
        where = ""
        if self.args.probe:
            row.update(probe_before=probe_before, probe_after=probe_after,
                       placement=placement.classify(*(p and p["median_cycles"] for p in (probe_before, probe_after))))
            where = f", placement {row['placement']} ({placement_cycles(probe_before)} -> " \
                    f"{placement_cycles(probe_after)} cycles)"
        if self.args.verbose:
            print(f"  {scenario['name']} {system} #{rep}: {sample.pps / 1e6:.2f} Mpps, "
                  f"{sample.cycles_per_packet:.1f} cycles/pkt{where}, {json.dumps(sample.extra)}", flush=True)
        return row

    def probe(self):
        """The placement probe's result between the generator's and the worker's
        CPUs, None without a probe (--smoke) or when it failed (said why)."""
        if not self.args.probe:
            return None
        try:
            return placement.probe(self.args.probe, self.cpus.generator, self.cpus.worker)
        except ProcessError as e:
            print(f"run.py: {e}; this run's placement is unknown", file=sys.stderr, flush=True)
            return None

    def run_container(self, scenario, system, rep, rundir):
        # Smoke: a second shows the path works; the setup costs more than that.
        duration = min(self.args.duration, SMOKE_CONTAINER_SECONDS) if self.args.smoke else self.args.duration
        try:
            row = container_runs.run_one(scenario, system, rep, rundir, self.args.dpdockd, duration,
                                         self.args.warmup)
        except ProcessError:
            dump_logs(rundir)
            raise
        except (subprocess.SubprocessError, ValueError, KeyError) as e:
            # A tool that timed out or printed something unexpected ends this
            # scenario like a process that failed, not the whole invocation.
            dump_logs(rundir)
            raise ProcessError(f"{type(e).__name__}: {e}") from e
        if self.args.verbose:
            print(f"  {scenario['name']} {system} #{rep}: {json.dumps(row['figures'])}, "
                  f"other CPUs {row['other_cpus']:.2f}, load {row['load1']:.1f}", flush=True)
        return row

    def run_restarting(self, scenario, system, rep, pcap, netns):
        try:
            return self.run_one(scenario, system, rep, pcap, netns)
        except ProcessError as e:
            # A memif link now and then never comes up; one fresh start is
            # allowed, a second failure ends the invocation.
            print(f"run.py: {scenario['name']} {system} #{rep} failed ({e}); retrying once",
                  file=sys.stderr, flush=True)
            row = self.run_one(scenario, system, rep, pcap, netns)
            row["retried"] = True
            return row

    def run_quiet(self, scenario, system, rep, pcap, netns):
        """One run that counts: neither disturbed by other processes nor moved
        to another vCPU placement (discard.py), repeated a bounded number of times."""
        return discard.run_until_counted(lambda: self.run_restarting(scenario, system, rep, pcap, netns),
                                         f"{scenario['name']} {system} #{rep}", self.args.max_interference,
                                         self.args.interference_retries, lambda line: print(line, flush=True))

    def run_scenario(self, scenario):
        runs = []
        skipped = {}
        systems = systems_for(scenario, self.args.systems)
        if is_container_path(scenario):
            if reason := container_runs.unavailable():
                skipped = {s: reason for s in systems}
        elif "ovs" in systems and (reason := ovs_config.unsupported(scenario)):
            skipped["ovs"] = reason
        for system, reason in skipped.items():
            print(f"  {system} skipped: {reason}", flush=True)
        systems = [s for s in systems if s not in skipped]
        if is_container_path(scenario) or not systems:
            for rep in range(self.args.reps):
                for system in systems:  # A B A B
                    runs.append(self.run_quiet(scenario, system, rep, None, None))
            return {"scenario": scenario, "pcap_frames": 0, "runs": runs, "skipped": skipped,
                    "summary": summarize(scenario, runs, self.tsc_hz)}
        pcap_path = os.path.join(self.workdir, f"{scenario['name']}.pcap")
        pcap_frames, longest = traffic.write_pcap(pcap_path, traffic.scenario_frames(scenario))
        pcap = (pcap_path, pcap_frames, longest)
        namespace = Namespace(f"dpdock-bench-{os.getpid()}") if topology.needs_namespace(scenario) else None
        with namespace or contextlib.nullcontext():
            netns = namespace.path if namespace else None
            for rep in range(self.args.reps):
                for system in systems:  # A B C A B C: all see the same cache placement in turn
                    runs.append(self.run_quiet(scenario, system, rep, pcap, netns))
        os.unlink(pcap_path)
        return {"scenario": scenario, "pcap_frames": pcap_frames, "runs": runs, "skipped": skipped,
                "summary": report.summarize(scenario, runs, self.tsc_hz)}


def placement_cycles(probe):
    return f"{probe['median_cycles']:.0f}" if probe else "?"


def dump_logs(rundir, tail=25):
    for path in sorted(glob.glob(os.path.join(rundir, "*.log"))):
        with open(path, errors="replace") as f:
            lines = f.readlines()
        sys.stderr.write(f"---- last lines of {os.path.basename(path)} ----\n" + "".join(lines[-tail:]))


def parse_args(argv):
    parser = argparse.ArgumentParser(description="dpdock throughput harness (see bench/README.md)")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable; default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each A/B pair (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of traffic before measuring (default 2)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: every scenario once for ~2 s, dpdockd only, fail unless it forwarded")
    parser.add_argument("--systems", default="dpdock,baseline,kernel",
                        help="comma-separated devices to run, in this order per rep: dpdock, ovs (Open vSwitch "
                             "DPDK), baseline (testpmd io-forward), kernel (the container-path scenarios' peer: "
                             "Linux bridge with Docker's rules); each scenario runs those of them that apply "
                             "to it (default dpdock,baseline,kernel)")
    parser.add_argument("--max-interference", type=float, default=0.05, metavar="CPUS",
                        help="discard a run during which other processes used more than this many CPUs "
                             "(default 0.05: 5%% of one CPU; container path: user-space processes outside "
                             "the harness's process tree)")
    parser.add_argument("--interference-retries", type=int, default=2, metavar="N",
                        help="repeat a discarded run at most N times, then keep it marked (default 2)")
    parser.add_argument("--dpdockd", help="dpdockd binary (default: build/release/control/dpdockd, else build*/control/dpdockd)")
    parser.add_argument("--cli", help="dpdock CLI binary for the counters (default: speak the socket directly)")
    parser.add_argument("--testpmd", help="dpdk-testpmd binary (default: from PATH)")
    parser.add_argument("--probe", help="placement_probe binary (default: bench/placement_probe of dpdockd's "
                                        "build dir, else build/release/bench, else build*/bench)")
    parser.add_argument("--write-pcaps", metavar="DIR",
                        help="write each scenario's pcap (e.g. for pktgen -s) into DIR and exit")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temp dir (configs, pcaps, logs)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run as it finishes")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reps, args.duration, args.warmup, args.systems = 1, 2.0, 0.5, "dpdock"
        args.max_interference = float("inf")  # CI's machine is busy; the smoke run asserts no speed
    args.systems = [s for s in args.systems.split(",") if s]
    if not args.systems or any(s not in ALL_SYSTEMS for s in args.systems):
        parser.error(f"--systems takes a comma-separated subset of {','.join(ALL_SYSTEMS)}")
    if args.reps < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--reps must be >= 1, --duration > 0, --warmup >= 0")
    if args.max_interference < 0 or args.interference_retries < 0:
        parser.error("--max-interference and --interference-retries must be >= 0")
    return args


def on_sigterm(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv):
    args = parse_args(argv)
    scenarios = load_scenarios(args.scenario)
    if args.smoke:
        scenarios = [smoke.variant(s) for s in scenarios]
    if args.list:
        for s in scenarios:
            print(f"{s['name']:<26} {s['description']}")
        return 0
    if args.write_pcaps:
        os.makedirs(args.write_pcaps, exist_ok=True)
        for s in scenarios:
            if is_container_path(s):
                continue
            path = os.path.join(args.write_pcaps, f"{s['name']}.pcap")
            count, _ = traffic.write_pcap(path, traffic.scenario_frames(s))
            print(f"{path}: {count} frames")
        return 0
    if left_out := [s["name"] for s in scenarios if not systems_for(s, args.systems)]:
        print(f"run.py: left out, no system of --systems applies: {', '.join(left_out)}", file=sys.stderr)
        scenarios = [s for s in scenarios if systems_for(s, args.systems)]
    if (code := tools.locate(args, scenarios, os.path.dirname(HERE))) is not None:
        return code
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sigterm)

    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_at_start = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="dpdock-bench-")
    results = []
    failed = []
    try:
        bench = Bench(args, workdir)
        print(f"dpdock bench: {len(scenarios)} scenario(s), {args.reps} rep(s) x {args.duration:g} s "
              f"(+{args.warmup:g} s warm-up); CPUs: generator {bench.cpus.generator}, worker {bench.cpus.worker}, "
              f"control {bench.cpus.control}", flush=True)
        print(f"dpdockd: {args.dpdockd}; testpmd: {args.testpmd}", flush=True)
        for scenario in scenarios:
            print(f"- {scenario['name']}: {scenario['description']}", flush=True)
            try:
                results.append(bench.run_scenario(scenario))
            except ProcessError as e:
                # The other scenarios' results still count; the exit code says one failed.
                print(f"run.py: {scenario['name']} failed: {e}", file=sys.stderr, flush=True)
                failed.append(scenario["name"])
    except KeyboardInterrupt:
        print("run.py: interrupted; every process stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep_temp:
            print(f"run.py: temp dir kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    report.compare_scenarios(results)
    load_at_end = os.getloadavg()[0]
    memif = [r for r in results if not is_container_path(r["scenario"])]
    container = [r for r in results if is_container_path(r["scenario"])]
    for part in ((report.table(memif) if memif else ""), placement.table(memif, report.SYSTEMS),
                 (container_report.table(container) if container else ""), report.interference_note(results)):
        if part:
            print()
            print(part)
    print(f"load average (1 min): {load_at_start:.1f} at the start, {load_at_end:.1f} at the end, "
          f"{os.cpu_count()} CPUs")
    if args.json:
        document = {
            "tool": "dpdock bench/run.py",
            "started": started,
            "host": {"kernel": platform.release(), "machine": platform.machine(), "cpu": cpu_model(),
                     "cpus": sorted(os.sched_getaffinity(0)),
                     "load_average": {"start": load_at_start, "end": load_at_end}},
            "versions": {"dpdockd": bench.versions.get("dpdock", {}), "ovs": bench.versions.get("ovs", {}),
                         "testpmd": package_version(args.testpmd) if args.testpmd else None, "python": platform.python_version(),
                         **({"iperf3": package_version(p) if (p := shutil.which("iperf3")) else None}
                            if any(is_container_path(r["scenario"]) for r in results) else {})},
            "binaries": {"dpdockd": args.dpdockd, "cli": args.cli, "testpmd": args.testpmd, "probe": args.probe},
            "settings": {"tsc_hz": bench.tsc_hz, "reps": args.reps, "duration_s": args.duration, "warmup_s": args.warmup, "burst": BURST,
                         "mbufs": MBUFS, "cpus": vars(bench.cpus),
                         "order": ", ".join(args.systems) + " per rep", "max_interference_cpus": args.max_interference,
                         "interference_retries": args.interference_retries,
                         "placement_near_max_cycles": placement.NEAR_MAX_CYCLES if args.probe else None},
            "eal_args": bench.eal_args,
            "scenarios": [{"name": r["scenario"]["name"], "description": r["scenario"]["description"],
                           "definition": r["scenario"], "pcap_frames": r["pcap_frames"], "runs": r["runs"],
                           "skipped": r["skipped"], **versus_peer(r), "summary": r["summary"]}
                          for r in results],
        }
        with open(args.json, "w") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
    if failed:
        print(f"run.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if args.smoke:
        failures = [f for r in results
                    for f in (container_runs.smoke_failures(r) if is_container_path(r["scenario"]) else smoke.failures(r))]
        for failure in failures:
            print(f"FAIL {failure}", file=sys.stderr)
        if failures:
            return 1
        print(f"smoke: all {len(results)} scenario(s) forwarded ingress -> egress")
    return 0


def versus_peer(result):
    """The JSON's per-scenario comparison: dpdock / OVS for the memif
    scenarios, dpdock / kernel (and the targets) for the container path."""
    if is_container_path(result["scenario"]):
        return container_report.versus_kernel(result["summary"])
    return report.versus_ovs(result["summary"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
