# Where the host ran the run's two vCPUs, and the figures grouped by it.
# On a 2-vCPU guest of a multi-CCD host (AMD Genoa here) the host places the
# two vCPUs on one CCD ("near": a cache line moves between them in tens of
# ns) or on two ("far": ~300 ns through the IO die, which caps memif at
# ~6 Mpps and raises every device's cycles per packet), and moves them every
# 10-40 s. placement_probe (placement_probe.cpp) times one line's round trip
# between the generator's and the worker's CPUs; run.py runs it right before
# and right after every memif run and classifies the run:
#   near / far   both probes on the same side of NEAR_MAX_CYCLES
#   changed      the two probes disagree: the run is discarded and repeated
#                like an interfered one (discard.py)
#   unknown      a probe failed (timed out, or kept reading above
#                PREEMPTED_CYCLES); the run is kept, left out of the
#                per-placement figures
# The rest are pure functions of collected runs (report.py calls them):
# per-placement medians, ratios over same-placement pairs, and a scenario
# compared with another within the placement both have most rounds in.
# These take only runs that count: a run kept with interference after its
# repeats (`interfered`) is in the overall figures, not in these.
import json
import statistics
import subprocess

from procs import ProcessError

# Median round trip, TSC cycles, below which the two vCPUs share an L3. This
# machine's (2.6 GHz TSC) near probes read 162-239 cycles, its far ones
# 788-1,123 (bench/README.md, "vCPU placement"): 400 is 1.7 times the near
# ones' highest and half the far ones' lowest.
NEAR_MAX_CYCLES = 400.0
# A median above this (over twice the far ones) means the other thread was
# preempted for most of the probe: it says nothing, the probe is repeated.
PREEMPTED_CYCLES = 2000.0
PROBE_ATTEMPTS = 3
PLACEMENTS = ("near", "far")
# Fewer same-placement pairs than this give no per-placement ratio.
MIN_PAIRS = 2
PROBE_TIMEOUT_S = 10.0


def probe(binary, cpu_a, cpu_b):
    """The probe's JSON ({"median_cycles", "min_cycles", "max_cycles", ...}),
    repeated while it reads above PREEMPTED_CYCLES (the last one is returned);
    ProcessError when it fails or prints something else."""
    for _ in range(PROBE_ATTEMPTS):
        result = probe_once(binary, cpu_a, cpu_b)
        if result["median_cycles"] <= PREEMPTED_CYCLES:
            break
    return result


def probe_once(binary, cpu_a, cpu_b):
    try:
        done = subprocess.run([binary, str(cpu_a), str(cpu_b)], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ProcessError(f"placement_probe: {e}") from e
    if done.returncode != 0:
        raise ProcessError(f"placement_probe exited with {done.returncode}: {done.stderr.strip()}")
    try:
        result = json.loads(done.stdout)
        result["median_cycles"] = float(result["median_cycles"])
    except (ValueError, KeyError, TypeError) as e:
        raise ProcessError(f"placement_probe printed {done.stdout.strip()!r}") from e
    return result


def side(cycles, near_max=NEAR_MAX_CYCLES):
    """near, far, or None for a failed (None) or preempted probe."""
    if cycles is None or cycles > PREEMPTED_CYCLES:
        return None
    return "near" if cycles < near_max else "far"


def classify(before, after, near_max=NEAR_MAX_CYCLES):
    """A run's placement from its two probes' median cycles (None: failed)."""
    first, last = side(before, near_max), side(after, near_max)
    if first is None or last is None:
        return "unknown"
    return first if first == last else "changed"


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def placed(rows, p):
    """The rows that ran in placement `p`, undisturbed by other processes."""
    return [r for r in rows if r.get("placement") == p and not r.get("interfered")]


def by_placement(rows):
    """{placement: {"runs", "pps", "cycles_per_packet"}} over one system's rows,
    for the placements it has runs in."""
    groups = {}
    for p in PLACEMENTS:
        chosen = placed(rows, p)
        if chosen:
            groups[p] = {"runs": len(chosen), "pps": spread([r["pps"] for r in chosen]),
                         "cycles_per_packet": spread([r["cycles_per_packet"] for r in chosen])}
    return groups


def paired_by_placement(pairs, ratio):
    """Per placement, the spread of ratio(a, b) over the pairs (a, b) whose
    two runs share it; placements with fewer than MIN_PAIRS pairs left out."""
    groups = {}
    for p in PLACEMENTS:
        values = [ratio(a, b) for a, b in pairs if placed([a, b], p) == [a, b]]
        values = [v for v in values if v is not None]
        if len(values) >= MIN_PAIRS:
            groups[p] = spread(values)
    return groups


def common_placement(rows, other_rows):
    """The placement both sets have most rounds in (the larger smaller count,
    then the larger total; near first on a tie), or None if they share none."""
    best = None
    for p in PLACEMENTS:
        n, m = (len(placed(rs, p)) for rs in (rows, other_rows))
        if n and m and (best is None or (min(n, m), n + m) > best[0]):
            best = ((min(n, m), n + m), p)
    return best[1] if best else None


def compare_within(rows, other_rows):
    """One system's rows of a scenario against its rows of another, within
    their common placement: the ratio of medians (pps: this / other, cycles:
    this / other; 1.03 = 3% dearer) and every round's figures. None without
    a common placement."""
    p = common_placement(rows, other_rows)
    if p is None:
        return None
    mine, theirs = placed(rows, p), placed(other_rows, p)

    def median(rs, key):
        return statistics.median(r[key] for r in rs)

    return {"placement": p, "rounds": len(mine), "other_rounds": len(theirs),
            "ratio_pps": median(mine, "pps") / median(theirs, "pps") if median(theirs, "pps") else None,
            "ratio_cycles": median(mine, "cycles_per_packet") / median(theirs, "cycles_per_packet")
            if median(theirs, "cycles_per_packet") else None,
            "cycles_per_packet": [r["cycles_per_packet"] for r in mine],
            "other_cycles_per_packet": [r["cycles_per_packet"] for r in theirs],
            "pps": [r["pps"] for r in mine], "other_pps": [r["pps"] for r in theirs]}


def _median(s, scale=1.0, digits=1):
    return f"{s['median'] / scale:.{digits}f}" if s else "-"


def table(results, systems):
    """Per scenario and system: runs, median Mpps and cycles per placement;
    the dpdock row also has the same-placement paired ratios; then the
    within-placement comparisons. Empty when no run has a placement."""
    header = ["scenario", "system"]
    for p in PLACEMENTS:
        header += [f"{p} runs", f"{p} Mpps med", f"{p} cycles med"]
    header += ["pps ratio near/far", "dpdock/OVS pps near/far", "changed/unknown"]
    rows = []
    for entry in results:
        summary = entry["summary"]
        for system in systems:
            if system not in summary:
                continue
            groups = summary[system].get("by_placement", {})
            row = [entry["scenario"]["name"], system]
            for p in PLACEMENTS:
                g = groups.get(p)
                row += [str(g["runs"]) if g else "0", _median(g and g["pps"], 1e6, 2),
                        _median(g and g["cycles_per_packet"])]
            is_dut = system == "dpdock"
            for key in ("ratio_pps_by_placement", "ratio_pps_vs_ovs_by_placement"):
                ratios = summary.get(key, {})
                row.append("/".join(_median(ratios.get(p), 1.0, 2) for p in PLACEMENTS) if is_dut and ratios else "")
            odd = [r["placement"] for r in entry["runs"] if r["system"] == system
                   and r.get("placement") in ("changed", "unknown")]
            row.append(f"{odd.count('changed')}/{odd.count('unknown')}" if odd else "")
            rows.append(row)
    if not any(r[2] != "0" or r[5] != "0" for r in rows):
        return ""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = [f"memif by vCPU placement (probe round trip < {NEAR_MAX_CYCLES:g} cycles: near; runs whose "
             "placement changed or is unknown, or kept with interference, left out; paired ratios need "
             f"{MIN_PAIRS} same-placement pairs)",
             "  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    for entry in results:
        summary = entry["summary"]
        if within := summary.get("relative_within_placement"):
            lines.append(comparison_line(entry["scenario"]["name"], summary["relative_to"]["scenario"], within))
        elif "relative_to" in summary:
            lines.append(f"{entry['scenario']['name']} against {summary['relative_to']['scenario']}: dpdock ran in "
                         "no placement common to both; compared by the pps ratios to the baseline")
    return "\n".join(lines)


def comparison_line(name, other, within):
    rounds = ", ".join(f"{c:.1f}" for c in within["cycles_per_packet"])
    other_rounds = ", ".join(f"{c:.1f}" for c in within["other_cycles_per_packet"])
    return (f"{name} against {other}, dpdock, {within['placement']} placement "
            f"({within['rounds']} and {within['other_rounds']} rounds): cycles/pkt {rounds} against "
            f"{other_rounds}; ratio of medians: cycles {within['ratio_cycles']:.3f}, pps {within['ratio_pps']:.3f}")
