# What run.py's JSON says about the machine: the TSC rate both devices count
# cycles in, the CPU model, a binary's Debian package version. Read from
# /proc/cpuinfo and dpkg; nothing is written.
import os
import platform
import subprocess


def package_version(binary):
    """Debian package version of the package owning `binary`, or "unknown"."""
    try:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(binary)], capture_output=True, text=True, timeout=10)
        package = owner.stdout.split(":")[0].strip()
        version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True,
                                 text=True, timeout=10)
        return f"{package} {version.stdout.strip()}" if owner.returncode == 0 and version.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def tsc_hz():
    """The TSC rate, which both devices count cycles in. Linux's "cpu MHz" is it
    on machines with a constant, known-frequency TSC (as here); else None."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    if "constant_tsc" not in flags or "nonstop_tsc" not in flags:
        return None
    for line in text.splitlines():
        if line.startswith("cpu MHz"):
            return float(line.split(":", 1)[1]) * 1e6
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
