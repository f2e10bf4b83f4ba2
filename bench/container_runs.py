# run.py's container-path scenarios (kind "container-path"): one run is one
# measurement (the scenario's "measure": tcp1, tcp4, udp, rr or paced, see
# container_measures.py) between two fresh containers joined by the kernel
# (system "kernel": a Linux bridge with Docker's iptables rules) or by dpdockd
# (system "dpdock": veth kernel ports, one worker, its default idle setting).
# The run uses every CPU by design, so its window is metered by
# cpu_meter.OthersMeter: user-space processes outside the harness's process
# tree. Everything a run starts is gone when it returns (container_envs.py).
import os
import shutil

import container_envs
import container_measures
from cpu_meter import OthersMeter

KIND = "container-path"
SYSTEMS = ("dpdock", "kernel")
ENVIRONMENT = {"dpdock": "dpdock", "kernel": "docker"}  # run.py's system -> container_envs' system
UDP_SENDERS = 2
FIRST_PORT = 5201


def unavailable():
    """Why the container path cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [tool for tool in ("iperf3", "iptables") if not shutil.which(tool)]
    return f"needs {' and '.join(missing)}" if missing else None


def run_one(scenario, system, rep, rundir, dpdockd, duration, warmup):
    """One measurement as a run.py row: {"system", "rep", "figures", "other_cpus", "load1"}.
    `warmup` seconds of TCP go before iperf3's figure (the other measurements
    have nothing to warm); the paced round trips last `duration` too."""
    tag = f"{os.getpid() % 100000}"
    with container_envs.containers(ENVIRONMENT[system], tag, rundir, dpdockd) as (c1, c2):
        meter = OthersMeter()
        meter.start()
        figures = container_measures.measure(c1, c2, duration, FIRST_PORT, UDP_SENDERS, [scenario["measure"]],
                                             duration, omit=warmup)
        other = meter.stop()
    return {"system": system, "rep": rep, "figures": figures, "other_cpus": other, "load1": os.getloadavg()[0]}


def smoke_failures(result):
    """Why a container-path scenario failed `run.py --smoke`: not run, or a
    dpdock run that moved nothing. No speed is asserted."""
    name = result["scenario"]["name"]
    found = [f"{name}: {system} not run: {reason}" for system, reason in result.get("skipped", {}).items()]
    for run in result["runs"]:
        for key, value in run["figures"].items():
            if not value > 0:
                found.append(f"{name} ({run['system']}): {key} is {value}")
    if not result["runs"] and not found:
        found.append(f"{name}: no run")
    return found
