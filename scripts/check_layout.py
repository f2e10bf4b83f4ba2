#!/usr/bin/env python3
"""Fails when an #include crosses the folder layering of docs/ARCHITECTURE.md.

base/ is the ground and includes nothing of ours outside itself; each feature
folder (bridge, l3, nat, vxlan, exception) stands on base/ only; the engine (dataplane/)
stands on base/ and every feature; config/ on base/ and nat's timeouts;
cluster/ on base/ and config/; host_proxy/ on base/; control/ on everything; the runtime plugins (runtime/) on base/ and the
control protocol's client only (control/cli/client.hpp). Worker code (any fastpath/ folder) never includes
control/ or config/. Tests and benchmarks may include anything.
Usage: scripts/check_layout.py [REPO_ROOT]; prints each offending line.
"""
import pathlib
import re
import sys

FEATURES = {"bridge", "l3", "nat", "vxlan", "exception", "dns", "capture"}
ALLOWED = {
    "base": {"base"},
    **{f: {"base", f} for f in FEATURES},
    "dataplane": {"base", "dataplane"} | FEATURES,
    "config": {"base", "config", "nat/timeouts.hpp"},
    # The cluster store (etcd client, key layout, the agent's threads, what a
    # host derives) stands on the model; control/ drives State with it.
    "cluster": {"base", "config", "cluster"},
    # The userland proxy for published ports (no fast-path part) stands on base/ only.
    "host_proxy": {"base", "host_proxy"},
    "control": {"base", "dataplane", "config", "cluster", "control", "host_proxy"} | FEATURES,
    "runtime": {"base", "runtime", "control/cli/client.hpp"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def allowed(folder: str, target: str) -> bool:
    return any(target == rule or target.startswith(rule + "/") for rule in ALLOWED[folder])


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    bad = []
    for folder in ALLOWED:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h", ".c"):
                continue
            rel = path.relative_to(root)
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = match.group(1)
                if "/" not in target:
                    continue  # a header beside the file
                worker_code = "fastpath" in rel.parts
                if not allowed(folder, target) or (worker_code and target.split("/")[0] in ("control", "config")):
                    bad.append(f"{rel}:{number}: {folder}/ may not include {target}")
    for line in bad:
        print(line)
    if bad:
        print(f"check_layout: {len(bad)} include(s) break the layering (docs/ARCHITECTURE.md, 'Folders')")
        return 1
    print("check_layout: every include respects the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main())
