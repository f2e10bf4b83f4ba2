# Results of a benchmark invocation: per-scenario summaries (min/median/max
# over repetitions), ratios to the baseline and to OVS paired by repetition
# (run i of dpdock against run i of the other system, which ran right beside
# it, mostly in the same vCPU placement; the _by_placement ratios keep only the
# pairs that did), the verdict against the scenario's
# targets, the terminal table and the JSON document; beside each figure the
# same per vCPU placement (placement.py). Pure functions of the collected data.
import statistics

import placement

SYSTEMS = ("dpdock", "ovs", "baseline")


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def summarize(scenario, runs, tsc_hz=None):
    """Summary of one scenario from its runs: [{"system", "rep", "pps", "cycles_per_packet", ...}].

    With `tsc_hz`, "busy" is the share of the worker's time spent on packets:
    near 1 means the device was the bottleneck, well below 1 the generator was
    (and the pps ratio then understates the slower side's headroom).
    """
    by_system = {s: sorted((r for r in runs if r["system"] == s), key=lambda r: r["rep"]) for s in SYSTEMS}
    summary = {}
    for system, rows in by_system.items():
        if rows:
            summary[system] = {"pps": spread([r["pps"] for r in rows]),
                               "cycles_per_packet": spread([r["cycles_per_packet"] for r in rows]),
                               "gbps": spread([r["pps"] * scenario["mean-frame-bytes"] * 8 / 1e9 for r in rows]),
                               "busy": spread([r["pps"] * r["cycles_per_packet"] / tsc_hz for r in rows])
                               if tsc_hz else None,
                               "by_placement": placement.by_placement(rows)}
    for other, suffix in (("baseline", ""), ("ovs", "_vs_ovs")):
        pairs = [(a, b) for a in by_system["dpdock"] for b in by_system[other] if a["rep"] == b["rep"]]
        if pairs:
            # pps: dpdock / other (> 1: dpdock faster); cycles: other / dpdock (> 1: dpdock cheaper).
            summary["ratio_pps" + suffix] = spread([a["pps"] / b["pps"] for a, b in pairs if b["pps"] > 0])
            summary["ratio_cycles" + suffix] = spread([b["cycles_per_packet"] / a["cycles_per_packet"]
                                                       for a, b in pairs if a["cycles_per_packet"] > 0])
            # The same over pairs that ran in one placement, per placement.
            summary["ratio_pps" + suffix + "_by_placement"] = placement.paired_by_placement(
                pairs, lambda a, b: a["pps"] / b["pps"] if b["pps"] > 0 else None)
            summary["ratio_cycles" + suffix + "_by_placement"] = placement.paired_by_placement(
                pairs, lambda a, b: b["cycles_per_packet"] / a["cycles_per_packet"] if a["cycles_per_packet"] > 0
                else None)
    summary["verdict"] = verdict(scenario.get("targets", {}), summary)
    return summary


def versus_ovs(summary):
    """The per-scenario figures the JSON carries beside the summary: dpdock / OVS
    packets/s (`ratio_vs_ovs`, min/median/max over paired reps) and both
    systems' cycles per packet (medians); empty without both systems."""
    if "ratio_pps_vs_ovs" not in summary:
        return {}
    return {"ratio_vs_ovs": summary["ratio_pps_vs_ovs"],
            "cycles_per_packet": {s: summary[s]["cycles_per_packet"]["median"] for s in ("dpdock", "ovs")},
            "cycle_ratio_ovs_vs_dpdock": summary.get("ratio_cycles_vs_ovs"),
            # The same per vCPU placement, over same-placement pairs / runs (placement.py).
            "ratio_vs_ovs_by_placement": summary.get("ratio_pps_vs_ovs_by_placement", {}),
            "cycles_per_packet_by_placement": {s: {p: g["cycles_per_packet"]["median"]
                                                   for p, g in summary[s]["by_placement"].items()}
                                               for s in ("dpdock", "ovs")},
            "cycle_ratio_ovs_vs_dpdock_by_placement": summary.get("ratio_cycles_vs_ovs_by_placement", {})}


def verdict(targets, summary):
    """"met", "missed (...)" or "n/a" for the medians against the scenario's targets."""
    if "dpdock" not in summary or not targets:
        return "n/a"
    misses = []
    if "min-ratio" in targets:
        ratio = summary.get("ratio_pps")
        if ratio is None:
            return "n/a (no baseline)"
        if ratio["median"] < targets["min-ratio"]:
            misses.append(f"ratio < {targets['min-ratio']:.2f}")
    if "max-cycles" in targets and summary["dpdock"]["cycles_per_packet"]["median"] >= targets["max-cycles"]:
        misses.append(f"cycles >= {targets['max-cycles']}")
    if "min-rate" in targets and summary["dpdock"]["pps"]["median"] < targets["min-rate"]:
        misses.append(f"rate < {targets['min-rate'] / 1e6:g}M/s")
    if "within-of" in targets:
        return "n/a (needs " + targets["within-of"]["scenario"] + ")"  # settled by compare_scenarios()
    return "met" if not misses else "missed (" + ", ".join(misses) + ")"


def compare_scenarios(results):
    """Targets relative to another scenario of the same invocation ("within-of":
    {"scenario", "max-drop"}). Where dpdock's runs of both share a vCPU
    placement, they are compared within the one both have most rounds in
    (`relative_within_placement`): the median packets/s may be at most
    max-drop below the other's, and the median cycles per packet at most
    max-drop above. Else (no probe, or no common placement) the pps ratio to
    the baseline (median) may be at most max-drop below the other scenario's:
    ratios, not packets/s, since each scenario's baseline ran under its own
    load (`relative_to`, always computed). Updates the verdicts in place."""
    by_name = {r["scenario"]["name"]: r for r in results}
    for entry in results:
        target = entry["scenario"].get("targets", {}).get("within-of")
        if not target or target["scenario"] not in by_name:
            continue
        summary, other = entry["summary"], by_name[target["scenario"]]["summary"]
        if not summary.get("ratio_pps") or not other.get("ratio_pps"):
            continue
        relative = summary["ratio_pps"]["median"] / other["ratio_pps"]["median"]
        summary["relative_to"] = {"scenario": target["scenario"], "ratio_pps": relative}
        summary["verdict"] = ("met" if relative >= 1 - target["max-drop"] else "missed") + \
            f" ({relative:.2f} of {target['scenario']})"
        within = placement.compare_within(*([r for r in e["runs"] if r["system"] == "dpdock"]
                                            for e in (entry, by_name[target["scenario"]])))
        if within is None or within["ratio_pps"] is None or within["ratio_cycles"] is None:
            continue
        summary["relative_within_placement"] = within
        drop = target["max-drop"]
        met = within["ratio_pps"] >= 1 - drop and within["ratio_cycles"] <= 1 + drop
        summary["verdict"] = ("met" if met else "missed") + \
            f" ({within['placement']}: pps {within['ratio_pps']:.3f}, cycles {within['ratio_cycles']:.3f} " \
            f"of {target['scenario']})"


def _triple(s, scale=1.0, digits=1):
    if s is None:
        return "-"
    return "/".join(f"{s[k] / scale:.{digits}f}" for k in ("min", "median", "max"))


def _median(s, key):
    return f"{s[key]['median']:.2f}" if s.get(key) else ""


def table(results):
    """The terminal table: one row per scenario and system, ratios on the dpdock
    row (to the baseline, then to OVS), a skipped system's reason on its row."""
    header = ["scenario", "system", "Mpps min/med/max", "cycles/pkt min/med/max", "busy med", "Gbit/s med",
              "other CPU max", "pps ratio min/med/max", "cycle ratio med", "dpdock/OVS pps min/med/max",
              "OVS/dpdock cycles med", "target"]
    rows = []
    notes = []
    for entry in results:
        summary = entry["summary"]
        for system in SYSTEMS:
            if reason := entry.get("skipped", {}).get(system):
                rows.append([entry["scenario"]["name"], system, "skipped (below)"] + [""] * (len(header) - 3))
                notes.append(f"{entry['scenario']['name']}: {system} skipped: {reason}")
            if system not in summary:
                continue
            s = summary[system]
            is_dut = system == "dpdock"
            other = [r["other_cpus"] for r in entry["runs"] if r["system"] == system and "other_cpus" in r]
            rows.append([entry["scenario"]["name"], system, _triple(s["pps"], 1e6, 2),
                         _triple(s["cycles_per_packet"], 1.0, 1),
                         f"{s['busy']['median']:.0%}" if s.get("busy") else "-", f"{s['gbps']['median']:.2f}",
                         f"{max(other):.2f}" if other else "-",
                         _triple(summary.get("ratio_pps"), 1.0, 2) if is_dut else "",
                         _median(summary, "ratio_cycles") if is_dut else "",
                         _triple(summary.get("ratio_pps_vs_ovs"), 1.0, 2) if is_dut else "",
                         _median(summary, "ratio_cycles_vs_ovs") if is_dut else "",
                         summary["verdict"] if is_dut else ""])
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["memif: dpdock against the testpmd io-forward baseline and OVS-DPDK",
             "  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines + notes)


def interference_note(results):
    """How many runs of `results` (any kind) were discarded for interference
    and how many were kept with it; empty when none."""
    interfered = sum(1 for entry in results for r in entry["runs"] if r.get("interfered"))
    moved = sum(1 for entry in results for r in entry["runs"] if r.get("placement") == "changed")
    discarded = sum(r.get("discarded", 0) for entry in results for r in entry["runs"])
    if not discarded and not interfered and not moved:
        return ""
    return (f"{discarded} run(s) discarded for interference or a vCPU placement change and repeated; "
            f"{interfered} kept with interference, {moved} with a changed placement after the last repeat")
