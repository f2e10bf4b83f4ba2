# Results of the container-path scenarios (kind "container-path", run.py):
# per figure (TCP Gbit/s, UDP pps, round-trip p50/p99) each system's
# min/median/max over repetitions, the ratio dpdock / kernel paired by
# repetition (dpdock's run i against the kernel's run i, which ran right
# beside it), the verdict against the scenario's targets (per figure:
# "min-ratio" for rates, "max-ratio" for latencies), and their terminal
# table. Pure functions of the collected rows:
# {"system", "rep", "figures": {key: value}, "other_cpus", ...}.
from report import spread

SYSTEMS = ("dpdock", "kernel")
COLUMNS = [  # figure key, heading, format
    ("tcp1_gbps", "TCP 1 (Gb/s)", "{:.2f}"), ("tcp4_gbps", "TCP 4 (Gb/s)", "{:.2f}"),
    ("udp64_pps", "UDP 64 B pps", "{:,.0f}"), ("udp64_offered_pps", "offered pps", "{:,.0f}"),
    ("rr_p50_us", "RR p50 us", "{:.0f}"), ("rr_p99_us", "RR p99 us", "{:.0f}"),
    ("paced_p50_us", "2ms p50 us", "{:.0f}"), ("paced_p99_us", "2ms p99 us", "{:.0f}"),
]
HEADINGS = {key: heading for key, heading, _ in COLUMNS}
FORMATS = {key: fmt for key, _, fmt in COLUMNS}


def summarize(scenario, runs):
    """Per system {figure: spread}, "ratio_vs_kernel" {figure: spread of paired
    dpdock / kernel}, the targets and the verdict."""
    by_system = {s: sorted((r for r in runs if r["system"] == s), key=lambda r: r["rep"]) for s in SYSTEMS}
    keys = [k for k, _, _ in COLUMNS if any(k in r["figures"] for r in runs)]
    summary = {}
    for system, rows in by_system.items():
        if rows:
            summary[system] = {k: spread([r["figures"][k] for r in rows if k in r["figures"]]) for k in keys}
    pairs = [(a["figures"], b["figures"]) for a in by_system["dpdock"] for b in by_system["kernel"]
             if a["rep"] == b["rep"]]
    if pairs:
        summary["ratio_vs_kernel"] = {k: spread([a[k] / b[k] for a, b in pairs if k in a and b.get(k)])
                                      for k in keys}
    summary["targets"] = scenario.get("targets", {})
    summary["verdict"] = verdict(summary["targets"], summary)
    return summary


def verdict(targets, summary):
    """"met", "missed (...)" or "n/a (...)" for the median paired ratios."""
    if not targets:
        return "n/a"
    ratios = summary.get("ratio_vs_kernel")
    if "dpdock" not in summary or not ratios:
        return "n/a (needs dpdock and kernel)"
    misses = []
    for key, target in targets.items():
        ratio = (ratios.get(key) or {}).get("median")
        if ratio is None:
            misses.append(f"no {key}")
        elif "min-ratio" in target and ratio < target["min-ratio"]:
            misses.append(f"{HEADINGS[key]} {ratio:.2f}x < {target['min-ratio']:g}x")
        elif "max-ratio" in target and ratio > target["max-ratio"]:
            misses.append(f"{HEADINGS[key]} {ratio:.2f}x > {target['max-ratio']:g}x")
    return "met" if not misses else "missed (" + ", ".join(misses) + ")"


def versus_kernel(summary):
    """What the JSON carries beside the summary: the paired ratios and the targets."""
    return {"ratio_vs_kernel": summary.get("ratio_vs_kernel"), "targets": summary["targets"]}


def _triple(s, fmt):
    return "/".join(fmt.format(s[k]) for k in ("min", "median", "max")) if s else "-"


def _target(target):
    if "min-ratio" in target:
        return f">= {target['min-ratio']:g}x"
    return f"<= {target['max-ratio']:g}x" if "max-ratio" in target else ""


def table(results):
    """One row per scenario and figure: both systems, the paired ratio, the
    target and (on the scenario's first row) the largest other-CPU reading
    and the verdict."""
    header = ["scenario", "figure", "kernel min/med/max", "dpdock min/med/max", "dpdock/kernel min/med/max",
              "target", "other CPU max", "verdict"]
    rows = []
    for entry in results:
        summary, name = entry["summary"], entry["scenario"]["name"]
        keys = [k for k, _, _ in COLUMNS if any(k in (summary.get(s) or {}) for s in SYSTEMS)]
        other = [r["other_cpus"] for r in entry["runs"] if r.get("other_cpus") is not None]
        for index, key in enumerate(keys):
            first = index == 0
            rows.append([name if first else "", HEADINGS[key],
                         _triple((summary.get("kernel") or {}).get(key), FORMATS[key]),
                         _triple((summary.get("dpdock") or {}).get(key), FORMATS[key]),
                         _triple((summary.get("ratio_vs_kernel") or {}).get(key), "{:.2f}"),
                         _target(summary["targets"].get(key, {})),
                         (f"{max(other):.2f}" if other else "-") if first else "",
                         summary["verdict"] if first else ""])
        for system, reason in entry.get("skipped", {}).items():
            rows.append([name, f"{system} skipped: {reason}"] + [""] * (len(header) - 2))
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["container path: dpdock against the kernel (Linux bridge with Docker's iptables rules)",
             "  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    loads = [r["load1"] for entry in results for r in entry["runs"] if "load1" in r]
    if loads:
        lines.append(f"load average (1 min) after each run: {min(loads):.1f}-{max(loads):.1f}")
    return "\n".join(lines)
