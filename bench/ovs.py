# Open vSwitch's DPDK datapath (Debian's openvswitch-switch-dpdk) as a device
# under test: its own ovsdb-server and ovs-vswitchd (own database, run dir,
# log dir, pid files and unixctl sockets in the run's dir), ovs-vswitchd in a
# network namespace of its own (its bridges' internal ports are kernel taps:
# nothing lands in the host's namespace, and deleting the namespace removes
# them), DPDK with the same EAL memory options as dpdockd, one PMD thread on
# the worker CPU, everything else on the generator's CPU, the same memif
# server and net_null sink, and the scenario's setup from ovs_config.py.
# Both daemons are children of the run's Supervisor: ended by PID, also on
# failure. Counters: the egress port's tx packets (ovs-ofctl dump-ports,
# which reads the port live) and the PMD's processing cycles per packet
# (dpif-netdev/pmd-stats-*), both over the window after the warm-up.
import os
import re
import subprocess
import tempfile
import time

import ovs_config
import topology
from dut import LINK_TIMEOUT_S, Sample, metered_sleep, wait_for_path, with_other_cpus
from procs import ProcessError

DPDK_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
MEMORY_MB = 1024  # dpdockd's memory-mb in the bench deployment
CTL_TIMEOUT_S = 60


def parse_pmd_stats(text):
    """The PMD threads of `ovs-appctl dpif-netdev/pmd-stats-show`:
    {"core 1": {"packets received": 123.0, "processing cycles": ..., ...}}.
    The main thread's block (non-PMD ports) is left out."""
    threads = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"pmd thread numa_id (\d+) core_id (\d+):", line):
            current = threads.setdefault(f"core {m.group(2)}", {})
        elif not line.startswith((" ", "\t")):
            current = None
        elif current is not None and (m := re.match(r"\s+([^:]+):\s*(-?[\d.]+)", line)):
            current[m.group(1).strip()] = float(m.group(2))
    return threads


def pmd_cycles_per_packet(stats):
    """Processing cycles per received packet: cycles of the iterations that
    received packets, over those packets (dpdockd's and testpmd's measure)."""
    packets = stats.get("packets received", 0)
    return stats.get("processing cycles", 0) / packets if packets else 0.0


def parse_dump_ports(text):
    """{"rx": packets, "tx": packets, "tx_bytes": bytes, "tx_drop": n} of the one
    port in `ovs-ofctl dump-ports BRIDGE PORT` output."""
    rx = re.search(r"rx pkts=(\d+)", text)
    tx = re.search(r"tx pkts=(\d+), bytes=(\d+), drop=(\d+)", text)
    if not rx or not tx:
        raise ProcessError(f"unexpected ovs-ofctl dump-ports output: {text.strip()[:200]}")
    return {"rx": int(rx.group(1)), "tx": int(tx.group(1)), "tx_bytes": int(tx.group(2)), "tx_drop": int(tx.group(3))}


def available():
    """None if OVS-DPDK can run here, else why not."""
    for path in (DPDK_VSWITCHD, SCHEMA):
        if not os.path.exists(path):
            return f"{path} missing (scripts/install-deps.sh --bench installs openvswitch-switch-dpdk)"
    if os.geteuid() != 0:
        return "OVS runs in a network namespace of its own: needs root"
    return None


class OvsForwarder:
    name = "ovs"

    def __init__(self, sup, cpus, rundir, memif_sock, scenario, prefix, netns_name):
        self.cpus, self.scenario, self.netns = cpus, scenario, netns_name
        self.kind = scenario["kind"]
        self.dir = os.path.join(rundir, "ovs")
        os.mkdir(self.dir)
        self.db_sock = os.path.join(self.dir, "db.sock")
        self.env = {**os.environ, "OVS_RUNDIR": self.dir, "OVS_DBDIR": self.dir, "OVS_LOGDIR": self.dir}
        db = os.path.join(self.dir, "conf.db")
        self._run(["ovsdb-tool", "create", db, SCHEMA])
        pin = ["taskset", "-c", str(cpus.generator)]
        self.ovsdb = sup.spawn("ovsdb-server", pin + [
            "ovsdb-server", db, f"--remote=punix:{self.db_sock}", *self._files("ovsdb-server")], env=self.env)
        wait_for_path(self.db_sock, self.ovsdb, LINK_TIMEOUT_S)
        # EAL as dpdockd's; --legacy-mem keeps OVS from adding --in-memory (which
        # EAL refuses with --no-huge; --no-huge implies legacy memory anyway).
        # The main lcore is the CPU OVS is started on (the generator's). No
        # telemetry: its socket would stay behind in EAL's runtime dir.
        self.eal_args = ["--no-huge", "-m", str(MEMORY_MB), "--no-shconf", "--no-pci", "--legacy-mem",
                         "--no-telemetry", f"--file-prefix={prefix}"]
        self.vsctl("--no-wait", "init", "--", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   f"other_config:dpdk-extra={' '.join(self.eal_args)}",
                   f"other_config:pmd-cpu-mask={1 << cpus.worker:#x}",
                   # Pools sized per port (about 20,000 mbufs each, dpdockd has 16,383)
                   # instead of one shared pool of 262,144.
                   "other_config:per-port-memory=true")
        self.vswitchd = sup.spawn("ovs-vswitchd", ["ip", "netns", "exec", netns_name] + pin + [
            DPDK_VSWITCHD, f"unix:{self.db_sock}", *self._files("ovs-vswitchd")], env=self.env)
        self.appctl_target = os.path.join(self.dir, "ovs-vswitchd.ctl")
        wait_for_path(self.appctl_target, self.vswitchd, LINK_TIMEOUT_S)
        # Without --no-wait, ovs-vsctl returns once ovs-vswitchd applied it: ports up, memif listening.
        self.vsctl(*ovs_config.vsctl_commands(scenario, memif_sock))
        wait_for_path(memif_sock, self.vswitchd, LINK_TIMEOUT_S)
        self._configure()

    def _files(self, daemon):
        return [f"--pidfile={os.path.join(self.dir, daemon + '.pid')}",
                f"--unixctl={os.path.join(self.dir, daemon + '.ctl')}",
                f"--log-file={os.path.join(self.dir, daemon + '.log')}"]

    def _run(self, argv, timeout=CTL_TIMEOUT_S):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            raise ProcessError(f"{' '.join(argv[:4])}...: no answer within {timeout} s") from None
        if done.returncode != 0:
            raise ProcessError(f"{' '.join(argv[:6])}...: exit {done.returncode}: {done.stderr.strip()[:500]}")
        return done.stdout

    def vsctl(self, *args):
        return self._run(["ovs-vsctl", f"--db=unix:{self.db_sock}", f"--timeout={CTL_TIMEOUT_S}", *args])

    def appctl(self, *args):
        return self._run(["ovs-appctl", "-t", self.appctl_target, *args])

    def ofctl(self, *args):
        return self._run(["ovs-ofctl", *args])

    def mgmt(self, bridge):
        return f"unix:{os.path.join(self.dir, bridge + '.mgmt')}"

    def _configure(self):
        ip_cmds, appctl_cmds = ovs_config.underlay(self.kind)
        for cmd in ip_cmds:
            self._run(["ip", "-n", self.netns, *cmd])
        for cmd in appctl_cmds:
            self._appctl_retrying(cmd)
        for bridge, lines in ovs_config.flows(self.scenario).items():
            # add-flows from a file: 10,000 DNAT rules in one OpenFlow bundle of messages.
            with tempfile.NamedTemporaryFile("w", dir=self.dir, suffix=".flows", delete=False) as f:
                f.write("\n".join(lines) + "\n")
            self.ofctl("del-flows", self.mgmt(bridge))
            self.ofctl("add-flows", self.mgmt(bridge), f.name)
        for bridge, port, mac in ovs_config.fdb_entries(self.scenario):
            self.appctl("fdb/add", bridge, port, "0", mac)

    def _appctl_retrying(self, cmd, timeout=LINK_TIMEOUT_S):
        # ovs/route/add is refused until ovs-vswitchd has seen br-phy's new
        # address (netlink, asynchronous): try again for a while.
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.appctl(*cmd)
            except ProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def versions(self):
        return {"ovs-vswitchd": self._run([DPDK_VSWITCHD, "--version"]).splitlines()[0],
                "dpdk": self.vsctl("get", "Open_vSwitch", ".", "dpdk_version").strip().strip('"')}

    def pids(self):
        return [self.ovsdb.pid, self.vswitchd.pid]

    def pmd_stats(self):
        threads = parse_pmd_stats(self.appctl("dpif-netdev/pmd-stats-show"))
        core = f"core {self.cpus.worker}"
        if core not in threads:
            raise ProcessError(f"ovs-vswitchd has no PMD thread on CPU {self.cpus.worker}: {sorted(threads)}")
        return threads[core]

    def port(self, where):
        bridge, port = where
        return parse_dump_ports(self.ofctl("dump-ports", self.mgmt(bridge), port))

    def wait_until(self, what, done, timeout=LINK_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while not done():
            if not self.vswitchd.alive() or time.monotonic() > deadline:
                raise ProcessError(f"ovs-vswitchd: {what} within {timeout} s; see {self.vswitchd.log_path}")
            time.sleep(0.1)

    def _save_datapath_flows(self, lines=200):
        """The datapath's flows (megaflows and their actions) into the run dir
        (kept with --keep-temp): what OVS made of the OpenFlow setup."""
        with open(os.path.join(self.dir, "datapath-flows.txt"), "w") as out:
            out.write("\n".join(self.appctl("dpctl/dump-flows", "-m").splitlines()[:lines]) + "\n")

    def _fast_path_only(self, window=0.5, max_share=0.01):
        """Steady state for OVS: under 1% of the packets of a half-second window
        missed the datapath's flow caches. Many distinct megaflows (100,000
        source MACs: one each) take a while: the datapath's flow limit starts
        at 10,000 and grows by 1,000 with each revalidator round; at 100,000
        MACs about 30 s on this machine (`ovs-appctl upcall/show`)."""
        self.appctl("dpif-netdev/pmd-stats-clear")
        time.sleep(window)
        pmd = self.pmd_stats()
        misses = pmd.get("miss with success upcall", 0) + pmd.get("miss with failed upcall", 0)
        return pmd.get("packets received", 0) > 0 and misses <= max_share * pmd["packets received"]

    def connections(self):
        return int(self.appctl("dpctl/ct-get-nconns").split()[-1])

    def measure(self, warmup, duration, meter=None):
        out = ovs_config.egress(self.kind)
        self.wait_until("forwarded nothing", lambda: self.port(out)["tx"] > 0)
        if flows := topology.tracked_flows(self.scenario):
            want = flows * 99 // 100  # as for dpdockd: steady once (nearly) every flow is tracked
            self.wait_until(f"fewer than {want} connections tracked", lambda: self.connections() >= want, 180.0)
        # Three quiet windows in a row: the datapath's flows can also collapse
        # (a revalidator round over the limit removes them) and come back.
        quiet = []
        self.wait_until("packets still going to the slow path (upcalls)",
                        lambda: quiet.append(self._fast_path_only()) or quiet[-3:] == [True] * 3, 180.0)
        time.sleep(warmup)
        self.appctl("dpif-netdev/pmd-stats-clear")
        before = time.monotonic()
        start = self.port(out)
        t0 = (before + time.monotonic()) / 2
        other_cpus = metered_sleep(duration, meter)
        before = time.monotonic()
        end = self.port(out)
        t1 = (before + time.monotonic()) / 2
        pmd = self.pmd_stats()
        self._save_datapath_flows()
        forwarded = end["tx"] - start["tx"]
        seconds = t1 - t0
        # (No byte count: net_null counts packets only.)
        extra = {"tx_drop": end["tx_drop"] - start["tx_drop"], "pmd": {k: v for k, v in pmd.items() if v}}
        if topology.tracked_flows(self.scenario):
            extra["conntrack"] = {"entries": self.connections()}
        return Sample(pps=forwarded / seconds, cycles_per_packet=pmd_cycles_per_packet(pmd), forwarded=forwarded,
                      received=int(pmd.get("packets received", 0)), seconds=seconds,
                      extra={**extra, **with_other_cpus(other_cpus)})
