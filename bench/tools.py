# Which systems run which scenario, which programs an invocation of run.py
# needs for its scenarios and systems, and where they are: dpdockd, the
# generator's dpdk-testpmd, the placement probe, Open vSwitch's DPDK
# datapath. Only what the chosen scenarios and systems use is required (a
# container-path-only run needs no testpmd, probe or OVS). A missing one ends
# the invocation with a message (exit 2; 77, ctest's skip, for --smoke
# without testpmd).
import glob
import os
import shutil
import sys

import container_runs
import ovs
import ovs_config
import report

EXIT_SKIP = 77  # ctest's SKIP_RETURN_CODE for bench_smoke


def is_container_path(scenario):
    return scenario["kind"] == container_runs.KIND


def systems_for(scenario, systems):
    """The systems of `systems` (in their order) that apply to the scenario:
    dpdock and the kernel for the container path, the memif devices else."""
    own = container_runs.SYSTEMS if is_container_path(scenario) else report.SYSTEMS
    return [s for s in systems if s in own]


def required_tools(scenarios, systems, smoke):
    """What the chosen scenarios and systems need: dpdockd, testpmd (every
    memif scenario's generator), ovs, probe (the placement probe; not for
    --smoke, which measures nothing)."""
    need = set()
    for s in scenarios:
        chosen = systems_for(s, systems)
        if "dpdock" in chosen:
            need.add("dpdockd")
        if not is_container_path(s):
            need.add("testpmd")
            if not smoke:
                need.add("probe")
            if "ovs" in chosen and not ovs_config.unsupported(s):
                need.add("ovs")
    return need


def find_binary(given, candidates, what, missing_code=2):
    for path in ([given] if given else candidates):
        found = shutil.which(path) if path and not os.path.isabs(path) else path
        if found and os.access(found, os.X_OK):
            return found
    tried = ", ".join(c for c in ([given] if given else candidates) if c) or "nothing"
    print(f"run.py: {what} not found (tried {tried})", file=sys.stderr)
    sys.exit(missing_code)


def locate(args, scenarios, root):
    """Sets args.dpdockd, .cli, .testpmd, .probe to the binaries the scenarios
    need (None for the others); returns an exit code if OVS is needed and
    cannot run, else None. `root`: the source tree, whose build dirs hold
    dpdockd and the probe."""
    need = required_tools(scenarios, args.systems, args.smoke)
    if "dpdockd" in need:
        # scripts/build.sh's Release build first: Debug figures mean nothing.
        candidates = [os.path.join(root, "build", "release", "control", "dpdockd")]
        candidates += sorted(glob.glob(os.path.join(root, "build*", "control", "dpdockd")))
        args.dpdockd = find_binary(args.dpdockd, candidates, "dpdockd")
    args.cli = find_binary(args.cli, [], "dpdock CLI") if args.cli else None
    if "ovs" in need and (reason := ovs.available()):
        print(f"run.py: Open vSwitch DPDK cannot run: {reason}", file=sys.stderr)
        return 2
    # Without testpmd there is no generator: a CI machine without DPDK's tools skips the smoke run.
    if "testpmd" in need:
        args.testpmd = find_binary(args.testpmd, ["dpdk-testpmd"], "dpdk-testpmd", EXIT_SKIP if args.smoke else 2)
    args.probe = find_probe(args.probe, args.dpdockd, root) if "probe" in need else None
    return None


def find_probe(given, dpdockd, root):
    # Built with dpdockd (bench/CMakeLists.txt): the same build dir first.
    candidates = [os.path.join(os.path.dirname(os.path.dirname(dpdockd)), "bench", "placement_probe")] \
        if dpdockd else []
    candidates += [os.path.join(root, "build", "release", "bench", "placement_probe")]
    candidates += sorted(glob.glob(os.path.join(root, "build*", "bench", "placement_probe")))
    return find_binary(given, candidates, "placement_probe (cmake --build BUILD --target placement_probe)")
