# When a run does not count and is repeated (bench/README.md, "Interference:
# discarded runs"): other processes used the CPUs during its window
# (cpu_meter.py's `other_cpus` above --max-interference), or the host moved
# its vCPUs between the placement probes before and after it
# (placement.py's "changed"). A discarded run is repeated at most
# --interference-retries times; the last one is kept, marked
# (`interfered`, or its `placement` stays "changed"). Runs on run.py's
# main thread.


def reason(row, max_interference):
    """Why `row` (a finished run) is discarded, or None if it counts."""
    why = []
    other = row.get("other_cpus")
    if other is not None and other > max_interference:
        why.append(f"other processes used {other:.2f} CPUs (> {max_interference:g})")
    if row.get("placement") == "changed":
        before, after = (row[k]["median_cycles"] for k in ("probe_before", "probe_after"))
        why.append(f"vCPU placement changed ({before:.0f} -> {after:.0f} cycles a line round trip)")
    return "; ".join(why) or None


def run_until_counted(run, label, max_interference, retries, say=print):
    """Calls run() until it returns a row that counts, at most retries + 1
    times; the row gets `discarded` (how many were repeated), and the last one,
    kept although it does not count, `interfered` when other processes were
    the reason (a changed placement is its own mark)."""
    for attempt in range(retries + 1):
        row = run()
        row["discarded"] = attempt
        why = reason(row, max_interference)
        if why is None:
            return row
        if attempt < retries:
            say(f"  {label}: {why}; run discarded, repeating ({attempt + 1}/{retries})")
    say(f"  {label}: {why}; kept after {retries} repeat(s), marked")
    other = row.get("other_cpus")
    if other is not None and other > max_interference:
        row["interfered"] = True
    return row
