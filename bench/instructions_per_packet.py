#!/usr/bin/env python3
"""Instructions per packet of the worker loop, for comparing two builds.

Cycles on this 2-vCPU machine move by up to 2x with the other vCPU's load and
cache placement; instruction counts do not. This runs `dpdock_microbench`
under `valgrind --tool=callgrind` for each pipeline benchmark, reads the
inclusive instruction count of every `worker_poll` call (one burst of
kPipelineBurst packets each, B for `BM_...Burst/B`) from callgrind's output, and prints
instructions per packet, for one binary or, with two, both side by side
(A B A B in one invocation) and their ratio.

  bench/instructions_per_packet.py build/release/bench/dpdock_microbench
  bench/instructions_per_packet.py OLD_BINARY NEW_BINARY --filter 'BM_PipelineL2/1000/'

Needs valgrind. A benchmark run under callgrind is about 50x slower, so each
takes a few seconds with the default --min-time.
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

BENCHMARKS = [  # the pipeline benchmarks run on manual time: their names end so
    "BM_PipelineL2/1/",
    "BM_PipelineL2/1000/",
    "BM_PipelineL2Burst/8/",
    "BM_PipelineVxlanEncap/1/",
    "BM_PipelineVxlanDecap/0/",
    "BM_PipelineDnat/1/",
    "BM_PipelineDnat/10000/",
    "BM_PipelineSnat/1000/",
]
RIG = pathlib.Path(__file__).resolve().parent / "pipeline_rig.hpp"


def pipeline_burst() -> int:
    match = re.search(r"kPipelineBurst\s*=\s*(\d+)", RIG.read_text())
    if not match:
        sys.exit(f"instructions_per_packet: no kPipelineBurst in {RIG}")
    return int(match.group(1))


def worker_poll_cost(out_file: pathlib.Path) -> tuple[int, int]:
    """(calls, inclusive Ir) of the timed worker_poll calls in a callgrind output.

    Only calls made by the benchmark's timed loop (run_loop) count: building
    a rig also runs worker_poll, to warm its tables.
    """
    caller = ""
    calls = cost = 0
    target = False
    pending_calls = None  # the count of a calls= line whose cost line follows
    for line in out_file.read_text(errors="replace").splitlines():
        if line.startswith("fn="):
            caller = line
        elif line.startswith("cfn="):
            target = "worker_poll" in line and "run_loop" in caller
        elif line.startswith("calls="):
            pending_calls = int(line.split("=", 1)[1].split()[0]) if target else None
        elif pending_calls is not None:
            fields = line.split()
            calls += pending_calls
            cost += int(fields[1]) if len(fields) > 1 else 0
            pending_calls = None
    return calls, cost


def packets_per_call(benchmark: str, burst: int) -> int:
    """kPipelineBurst, or B for the partial-burst benchmarks (BM_...Burst/B)."""
    match = re.search(r"Burst/(\d+)", benchmark)
    return int(match.group(1)) if match else burst


def measure(binary: str, benchmark: str, min_time: float, burst: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--compress-strings=no",
               binary, f"--benchmark_filter={benchmark}", f"--benchmark_min_time={min_time}"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0 or not out.exists():
            sys.exit(f"instructions_per_packet: {' '.join(cmd)} failed:\n{run.stderr[-2000:]}")
        calls, cost = worker_poll_cost(out)
        if calls == 0:
            sys.exit(f"instructions_per_packet: no worker_poll calls for {benchmark} (filter matched nothing?)")
        return cost / (calls * packets_per_call(benchmark, burst))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", help="one dpdock_microbench, or two to compare (old new)")
    parser.add_argument("--filter", action="append", help="benchmark name regex (repeatable); default: the pipeline set")
    parser.add_argument("--min-time", type=float, default=0.05, help="Google Benchmark min time per benchmark (s)")
    parser.add_argument("--reps", type=int, default=1, help="alternating repetitions per binary")
    args = parser.parse_args()
    if len(args.binaries) > 2:
        parser.error("one or two binaries")
    burst = pipeline_burst()
    header = "benchmark".ljust(28) + "".join(f"{'instr/pkt ' + chr(65 + i):>16}" for i in range(len(args.binaries)))
    print(header + ("         B/A" if len(args.binaries) == 2 else ""))
    for benchmark in args.filter or BENCHMARKS:
        results = [[] for _ in args.binaries]
        for _ in range(args.reps):
            for i, binary in enumerate(args.binaries):
                results[i].append(measure(binary, benchmark, args.min_time, burst))
        medians = [sorted(r)[len(r) // 2] for r in results]
        line = benchmark.rstrip("/").ljust(28) + "".join(f"{m:16.1f}" for m in medians)
        if len(medians) == 2:
            line += f"{medians[1] / medians[0]:12.3f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
