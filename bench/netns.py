# A network namespace for a scenario's container (`ip netns add`, needs root):
# dpdockd attaches the container there, as it would a Docker container's.
# IPv6 is off in it, so the container's kernel sends nothing (router
# solicitations, DAD) that dpdockd would flood into the measured network.
# Deleting the namespace also deletes a veth a killed dpdockd left behind.
import os
import subprocess

from procs import ProcessError


def _ip(*args):
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise ProcessError(f"ip {' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")


class Namespace:
    def __init__(self, name):
        self.name = name
        self.path = f"/run/netns/{name}"

    def __enter__(self):
        if os.geteuid() != 0:
            raise ProcessError(f"a scenario with a container needs root for its network namespace ({self.name})")
        _ip("netns", "add", self.name)
        try:
            for scope in ("all", "default"):
                _ip("netns", "exec", self.name, "sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.disable_ipv6=1")
        except ProcessError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
        return False
