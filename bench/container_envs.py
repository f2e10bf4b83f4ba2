# The container path's systems: two containers (network namespaces c1, c2 with
# eth0 at 172.17.0.2 and .3) joined by the kernel's bridge, bare or with the
# iptables rules dockerd installs for docker0, or by dpdockd (veth kernel
# ports on its default bridge). `containers()` makes the namespaces and the
# system, yields them, and removes everything on the way out (dpdockd ended by
# PID, namespaces deleted), also on error. Used by container_path.py and by
# run.py's container-path scenarios (container_runs.py), from one thread.
import contextlib
import os
import subprocess
import time

from netns import Namespace
from procs import ProcessError

C1, C2, GATEWAY = "172.17.0.2", "172.17.0.3", "172.17.0.1"
MACS = {C1: "02:42:ac:11:00:02", C2: "02:42:ac:11:00:03"}


def sh(*args, check=True, timeout=60):
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise ProcessError(f"{' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


def in_ns(ns, *args, timeout=60):
    return sh("ip", "netns", "exec", ns.name, *args, timeout=timeout)


class KernelBridge:
    """docker0's twin inside its own namespace: a Linux bridge and one veth per container."""
    name = "kernel-bridge"

    def __init__(self, tag, c1, c2):
        self.host = Namespace(f"cpbh{tag}")
        self.c = [(c1, C1, "a"), (c2, C2, "b")]

    def __enter__(self):
        self.host.__enter__()
        try:
            self._set_up(self.host.name)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _set_up(self, h):
        sh("ip", "-n", h, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", h, "addr", "add", f"{GATEWAY}/16", "dev", "br0")
        sh("ip", "-n", h, "link", "set", "br0", "up")
        for ns, ip, end in self.c:
            sh("ip", "-n", h, "link", "add", f"v{end}", "type", "veth", "peer", "name", "eth0", "netns", ns.name)
            sh("ip", "-n", h, "link", "set", f"v{end}", "master", "br0", "up")
            sh("ip", "-n", ns.name, "link", "set", "eth0", "address", MACS[ip])
            sh("ip", "-n", ns.name, "addr", "add", f"{ip}/16", "dev", "eth0")
            sh("ip", "-n", ns.name, "link", "set", "eth0", "up")
            sh("ip", "-n", ns.name, "link", "set", "lo", "up")

    def __exit__(self, *exc):
        for ns, _, _ in self.c:
            sh("ip", "-n", ns.name, "link", "del", "eth0", check=False)
        return self.host.__exit__(*exc)


class DockerBridge(KernelBridge):
    """The kernel bridge with the rules dockerd 20.10 installs for docker0
    (iptables-save of a fresh dockerd): conntrack on every bridged packet
    (br_netfilter's bridge-nf-call-iptables, on by default in a namespace),
    MASQUERADE for what leaves, FORWARD through DOCKER-USER and the isolation
    chains, forwarding on with policy DROP."""
    name = "docker"
    RULES = [
        ("nat", "-N DOCKER"),
        ("nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"),
        ("nat", "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"),
        ("nat", "-A POSTROUTING -s 172.17.0.0/16 ! -o br0 -j MASQUERADE"),
        ("nat", "-A DOCKER -i br0 -j RETURN"),
        ("filter", "-P FORWARD DROP"),
        ("filter", "-N DOCKER"),
        ("filter", "-N DOCKER-ISOLATION-STAGE-1"),
        ("filter", "-N DOCKER-ISOLATION-STAGE-2"),
        ("filter", "-N DOCKER-USER"),
        ("filter", "-A FORWARD -j DOCKER-USER"),
        ("filter", "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"),
        ("filter", "-A FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        ("filter", "-A FORWARD -o br0 -j DOCKER"),
        ("filter", "-A FORWARD -i br0 ! -o br0 -j ACCEPT"),
        ("filter", "-A FORWARD -i br0 -o br0 -j ACCEPT"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-1 -i br0 ! -o br0 -j DOCKER-ISOLATION-STAGE-2"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-1 -j RETURN"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-2 -o br0 -j DROP"),
        ("filter", "-A DOCKER-ISOLATION-STAGE-2 -j RETURN"),
        ("filter", "-A DOCKER-USER -j RETURN"),
    ]

    def _set_up(self, h):
        super()._set_up(h)
        sh("ip", "netns", "exec", h, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        for table, rule in self.RULES:
            sh("ip", "netns", "exec", h, "iptables", "-t", table, *rule.split())
        # Docker's rules see bridged packets only through br_netfilter.
        if sh("ip", "netns", "exec", h, "cat", "/proc/sys/net/bridge/bridge-nf-call-iptables").strip() != "1":
            raise ProcessError("br_netfilter is off: bridged packets would skip Docker's rules")


class Dpdock:
    name = "dpdock"

    def __init__(self, binary, c1, c2, workdir, idle_sleep_us, workers=1, spread=True, idle_poll_us=None):
        self.binary, self.c1, self.c2, self.workdir = binary, c1, c2, workdir
        self.idle, self.idle_poll = idle_sleep_us, idle_poll_us
        self.workers, self.spread = workers, spread
        self.proc = None

    def __enter__(self):
        sock = os.path.join(self.workdir, "dpdock.sock")
        config = os.path.join(self.workdir, "dpdock.yaml")
        with open(config, "w") as out:
            out.write(f"dataplane:\n  workers: {self.workers}\n")
            if self.workers > 1:  # (an --other-dpdockd from before spreading knows no such key)
                out.write(f"  spread-flows: {'true' if self.spread else 'false'}\n")
            if self.idle is not None:
                out.write(f"  idle-sleep-us: {self.idle}\n")
            if self.idle_poll is not None:  # (a build before 0810e59 knows no such key)
                out.write(f"  idle-poll-us: {self.idle_poll}\n")
            out.write("containers:\n")
            for name, ns in (("c1", self.c1), ("c2", self.c2)):
                out.write(f"  - name: {name}\n    netns: {ns.path}\n    networks: [bridge]\n")
        self.log = open(os.path.join(self.workdir, "dpdockd.log"), "w")
        self.proc = subprocess.Popen([self.binary, "--config", config, "--socket", sock], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(sock):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise ProcessError(f"dpdockd did not start; see {self.log.name}")
                time.sleep(0.1)
            # First packets flood until MACs are learned; a ping settles that.
            sh("ip", "netns", "exec", self.c1.name, "ping", "-c", "2", "-i", "0.2", "-W", "2", C2, check=False)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            self.proc = None
        return False


def dpdock_variant(system):
    """'dpdock-w2-nospread' -> (2, False); 'dpdock' and 'dpdock-other' -> (1, True)."""
    workers, spread = 1, True
    for part in system.split("-")[1:]:
        if part.startswith("w") and part[1:].isdigit():
            workers = int(part[1:])
        elif part == "nospread":
            spread = False
    return workers, spread


@contextlib.contextmanager
def containers(system, tag, workdir, dpdockd=None, idle_sleep_us=None, idle_poll_us=None):
    """Namespaces c1, c2 joined by `system` ("docker": Docker's rules on the
    kernel bridge, "kernel-bridge": without rules, "dpdock[-wN][-nospread]":
    dpdockd at `dpdockd`, its config and log in `workdir`); yields (c1, c2).
    `tag` keeps the namespace names apart from other invocations'."""
    with Namespace(f"cpa{tag}") as c1, Namespace(f"cpb{tag}") as c2:
        env = (DockerBridge(tag, c1, c2) if system == "docker" else
               KernelBridge(tag, c1, c2) if system == "kernel-bridge" else
               Dpdock(dpdockd, c1, c2, workdir, idle_sleep_us, *dpdock_variant(system), idle_poll_us=idle_poll_us))
        with env:
            yield c1, c2
