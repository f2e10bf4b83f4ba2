# The three DPDK processes of a run: the generator, and one of two devices under
# test (dpdockd, or the baseline dpdk-testpmd io-forward) between the same
# net_memif (server side, ingress) and net_null (no-rx, egress) ports.
# Every process gets --no-huge --no-shconf and its own --file-prefix, so several
# run side by side; the empty runtime dir EAL still creates per prefix is
# removed by remove_runtime_dirs() once they are gone. CPU placement comes from Cpus:
# the generator's forwarding lcore and the device's worker lcore each own a CPU;
# the idle control/main lcores share the generator's CPU.
# A forwarder's measure() returns a Sample for the measured window only
# (after warm-up). Everything here runs on run.py's main thread.
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import topology
from procs import ProcessError
from topology import SINK_DEVARGS, memif_devargs

MBUFS = 16383  # dpdockd's deployment and the baseline use the same pool size
BURST = 32
LINK_TIMEOUT_S = 15.0
# net_pcap copies the whole pcap into mbufs while the port is configured: a
# million frames take tens of seconds on a loaded machine.
GENERATOR_READY_TIMEOUT_S = 300.0


@dataclass
class Cpus:
    """Which CPU runs what. With one CPU everything shares it (correct, not fast)."""
    generator: int
    worker: int
    control: int

    @staticmethod
    def choose():
        cpus = sorted(os.sched_getaffinity(0))
        worker = cpus[-1]
        generator = cpus[0]
        control = cpus[1] if len(cpus) > 2 else generator
        return Cpus(generator=generator, worker=worker, control=control)


@dataclass
class Sample:
    pps: float
    cycles_per_packet: float
    forwarded: int
    received: int
    seconds: float
    extra: dict = field(default_factory=dict)


def eal_common(prefix, memory_mb):
    return ["--no-huge", "-m", str(memory_mb), "--no-shconf", "--no-pci", f"--file-prefix={prefix}"]


def runtime_dir(prefix):
    """EAL's per-prefix runtime dir; created even with --no-shconf and left behind, empty."""
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(base, prefix)


def remove_runtime_dirs(prefixes):
    for prefix in prefixes:
        try:
            os.rmdir(runtime_dir(prefix))  # only if empty: never anything a process still uses
        except OSError:
            pass


def wait_for_path(path, proc, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if not proc.alive():
            # The reason is in its last words (dpdockd refusing a memory budget it cannot get, say).
            last = "\n  ".join(proc.lines()[-3:])
            raise ProcessError(f"{proc.name} exited with {proc.popen.returncode}; see {proc.log_path}:\n  {last}")
        if time.monotonic() > deadline:
            raise ProcessError(f"{proc.name}: {path} did not appear within {timeout} s; see {proc.log_path}")
        time.sleep(0.05)


def parse_testpmd_stop(lines):
    """Per-port forward statistics and busy cycles from the output of testpmd's `stop`."""
    ports = {}
    current = None
    cycles = None
    for line in lines:
        if m := re.search(r"Forward statistics for port (\d+)", line):
            current = ports.setdefault(int(m.group(1)), {})
        elif "Accumulated forward statistics" in line:
            current = None
        elif current is not None and (m := re.search(r"RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)", line)):
            current["rx"], current["rx_dropped"] = int(m.group(1)), int(m.group(2))
        elif current is not None and (m := re.search(r"TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)", line)):
            current["tx"], current["tx_dropped"] = int(m.group(1)), int(m.group(2))
        elif m := re.search(r"total cycles=(\d+)", line):
            cycles = int(m.group(1))
    return ports, cycles


class Testpmd:
    """An interactive dpdk-testpmd driven through its stdin."""

    def __init__(self, sup, name, binary, lcores, prefix, memory_mb, vdevs, app_args):
        argv = [binary, f"--lcores={lcores}", *eal_common(prefix, memory_mb)]
        # testpmd's stdout is a pipe here, fully buffered by stdio: without
        # stdbuf the output of `stop` would arrive only at exit.
        launcher = ["stdbuf", "-oL"] if shutil.which("stdbuf") else []
        for vdev in vdevs:
            argv += ["--vdev", vdev]
        argv += ["--", "-i", "--disable-link-check", "--nb-cores=1", f"--burst={BURST}", *app_args]
        self.eal_args = argv[1:argv.index("--")]
        self.prefix = prefix
        self.proc = sup.spawn(name, launcher + argv, quit_command="quit")

    def start(self):
        self.proc.send("start")

    def stop(self, timeout=10.0):
        """Stop forwarding; returns (per-port stats, busy cycles) since the last start."""
        mark = self.proc.mark()
        self.proc.send("stop")
        self.proc.wait_for(r"^Done\.$", timeout, since=mark)
        return parse_testpmd_stop(self.proc.lines(mark))


class Generator:
    """testpmd replaying a pcap forever (net_pcap infinite_rx) into the memif client side."""

    def __init__(self, sup, binary, cpus, prefix, pcap_path, pcap_frames, max_frame, memif_sock):
        # net_pcap keeps the whole file in mbufs of the rx pool, plus the working set.
        # Mbufs just big enough for the largest frame: a million default 2 KB
        # mbufs do not fit one pool without hugepages.
        mbufs = pcap_frames + 32768
        mbuf_size = 128 + max_frame  # RTE_PKTMBUF_HEADROOM + the frame
        memory_mb = max(512, mbufs * (mbuf_size + 384) // (1 << 20) + 512)  # + mbuf header and pool overhead
        self.testpmd = Testpmd(sup, "generator", binary, f"0@{cpus.generator},1@{cpus.generator}", prefix,
                               memory_mb,
                               [f"net_pcap0,rx_pcap={pcap_path},infinite_rx=1", memif_devargs(memif_sock, "client")],
                               ["--forward-mode=io", f"--total-num-mbufs={mbufs}", f"--mbuf-size={mbuf_size}"])
        # testpmd prints "Done" once its ports are configured (the pcap loaded).
        self.testpmd.proc.wait_for(r"^Done$", GENERATOR_READY_TIMEOUT_S)

    def start(self):
        self.testpmd.start()


class BaselineForwarder:
    """dpdk-testpmd io-forward: memif server -> net_null, nothing else."""
    name = "baseline"

    def __init__(self, sup, binary, cpus, prefix, memif_sock):
        self.testpmd = Testpmd(sup, "testpmd-iofwd", binary, f"0@{cpus.control},1@{cpus.worker}", prefix, 1024,
                               [memif_devargs(memif_sock, "server"), SINK_DEVARGS],
                               ["--forward-mode=io", "--record-core-cycles", f"--total-num-mbufs={MBUFS}"])
        self.eal_args = self.testpmd.eal_args
        # memif's listener socket appears at probe, but a client that connects
        # before the port is configured is refused ("ID not found") and never
        # retries: the generator starts only once testpmd's ports are up.
        wait_for_path(memif_sock, self.testpmd.proc, LINK_TIMEOUT_S)
        self.testpmd.proc.wait_for(r"^Done$", LINK_TIMEOUT_S)

    def versions(self):
        return {}

    def pids(self):
        return [self.testpmd.proc.pid]

    def measure(self, warmup, duration, meter=None):
        # The memif link comes up a moment after the generator connects, and
        # the generator may trickle for a while: first wait until packets flow,
        # then warm up. testpmd restarts its stats and cycles with each `start`.
        deadline = time.monotonic() + LINK_TIMEOUT_S
        while True:
            self.testpmd.start()
            time.sleep(0.2)
            ports, _ = self.testpmd.stop()
            if sum(p.get("tx", 0) for p in ports.values()) > 0:
                break
            if time.monotonic() > deadline:
                raise ProcessError(f"baseline forwarded nothing within {LINK_TIMEOUT_S} s; "
                                   f"see {self.testpmd.proc.log_path}")
        if warmup > 0:
            self.testpmd.start()
            time.sleep(warmup)
            self.testpmd.stop()
        self.testpmd.start()
        t0 = time.monotonic()
        other_cpus = metered_sleep(duration, meter)
        t1 = time.monotonic()
        ports, cycles = self.testpmd.stop()
        # memif's server-side rx statistics are unreliable in DPDK 22.11 (0 when
        # the port started before the client connected), so what went out to the
        # sink is the forwarded count, and cycles are per forwarded packet.
        forwarded = sum(p.get("tx", 0) for p in ports.values())
        received = sum(p.get("rx", 0) for p in ports.values())
        seconds = t1 - t0
        return Sample(pps=forwarded / seconds, cycles_per_packet=(cycles or 0) / forwarded if forwarded else 0.0,
                      forwarded=forwarded, received=received, seconds=seconds,
                      extra={"tx_dropped": sum(p.get("tx_dropped", 0) for p in ports.values()),
                             **with_other_cpus(other_cpus)})


class Control:
    """dpdockd's control socket: through the `dpdock` CLI when given, else directly."""

    def __init__(self, socket_path, cli=None):
        self.socket_path = socket_path
        self.cli = cli

    def call(self, cmd, timeout=5.0):
        if self.cli:
            done = subprocess.run([self.cli, "--socket", self.socket_path, "raw", cmd], capture_output=True,
                                  text=True, timeout=timeout)
            if done.returncode != 0:
                raise ProcessError(f"dpdock raw {cmd}: exit {done.returncode}: {done.stderr.strip()}")
            return json.loads(done.stdout)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(self.socket_path)
            conn.sendall((json.dumps({"cmd": cmd}) + "\n").encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                reply += chunk
        response = json.loads(reply)
        if not response.get("ok"):
            raise ProcessError(f"dpdockd {cmd}: {response.get('error')}")
        return response["result"]


class DpdockdForwarder:
    name = "dpdock"

    def __init__(self, sup, binary, cli, cpus, workdir, memif_sock, scenario, prefixes, netns=None):
        """`prefixes` gets dpdockd's EAL file prefix as soon as it is known, for clean-up;
        `netns` is the namespace of the scenario's container, if it has one."""
        self.socket_path = os.path.join(workdir, "dpdock.sock")
        config_path = os.path.join(workdir, "dpdock.yaml")
        with open(config_path, "w") as out:
            out.write(topology.deployment_text(scenario, self.socket_path, memif_sock, cpus, MBUFS, BURST, netns))
        self.cpus = cpus
        self.scenario = scenario
        self.source = topology.ingress_port(scenario["kind"])
        self.sink = topology.egress_port(scenario["kind"])
        self.proc = sup.spawn("dpdockd", [binary, "--config", config_path, "--socket", self.socket_path])
        prefixes.append(f"dpdock-{self.proc.pid}")  # dataplane/eal.cpp's default prefix
        self.control = Control(self.socket_path, cli)
        wait_for_path(self.socket_path, self.proc, LINK_TIMEOUT_S)
        wait_for_path(memif_sock, self.proc, LINK_TIMEOUT_S)
        self.eal_args = self._eal_args()

    def _eal_args(self):
        # dpdockd does not print its EAL argv; this is what dataplane/eal.cpp
        # composes for this deployment (our eal-args carry the lcore map).
        hugepages = any("EAL started with hugepages" in line for line in self.proc.lines())
        memory = ["--in-memory"] if hugepages else ["--no-huge", "-m", "1024", "--no-shconf"]
        return ["--main-lcore", "0", *memory, "--no-pci", f"--file-prefix=dpdock-{self.proc.pid}",
                f"--lcores=0@{self.cpus.control},1@{self.cpus.worker}"]

    def versions(self):
        return self.control.call("version")

    def pids(self):
        return [self.proc.pid]

    def stats(self):
        return self.control.call("stats.show")

    def wait_until(self, what, done, timeout=LINK_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while not done(self.stats()):
            if not self.proc.alive() or time.monotonic() > deadline:
                raise ProcessError(f"dpdockd: {what} within {timeout} s; see {self.proc.log_path}")
            time.sleep(0.1)

    def measure(self, warmup, duration, meter=None):
        if self.scenario.get("measure") == "setup":
            return self.measure_setup()
        self.wait_until(f"received nothing on port {self.source}",
                        lambda s: port_counter(s, self.source, "rx_packets") > 0)
        if flows := topology.tracked_flows(self.scenario):
            # Steady state: (nearly) every flow of the pcap tracked before the
            # warm-up starts. When the generator outruns the device, memif drops
            # what does not fit, so each lap delivers a random part of the flows
            # and the last ones take long to appear: 99% is steady enough.
            want = flows * 99 // 100
            self.wait_until(f"fewer than {want} flows tracked", lambda s: conntrack_entries(s) >= want, 180.0)
        time.sleep(warmup)
        # The window runs from the middle of the clear call to the middle of
        # the show call: the daemon acts somewhere inside each round trip.
        before = time.monotonic()
        self.control.call("stats.clear")
        t0 = (before + time.monotonic()) / 2
        other_cpus = metered_sleep(duration, meter)
        before = time.monotonic()
        stats = self.stats()
        t1 = (before + time.monotonic()) / 2
        seconds = t1 - t0
        forwarded = port_counter(stats, self.sink, "tx_packets")
        worker = stats["workers"][0] if stats.get("workers") else {}
        return Sample(pps=forwarded / seconds, cycles_per_packet=float(worker.get("cycles_per_packet", 0.0)),
                      forwarded=forwarded, received=port_counter(stats, self.source, "rx_packets"),
                      seconds=seconds, extra={**self.extra(stats), **with_other_cpus(other_cpus)})

    def extra(self, stats):
        extra = {"ingress_tx_packets": port_counter(stats, self.source, "tx_packets"),
                 "egress_tx_bytes": port_counter(stats, self.sink, "tx_bytes"),
                 "flooded": stats.get("flooded", 0), "drops": {k: v for k, v in stats.get("drops", {}).items() if v},
                 "mac": stats.get("mac", {}), "conntrack": stats.get("conntrack", {})}
        if self.scenario["kind"] == "dnat":
            extra["dnat"] = dnat_counters(self.control.call("nat.rules", timeout=30.0))
        return extra

    def measure_setup(self):
        """New-flow setup rate. Polls the counters from the first packet on.
        While every packet received so far opened a flow (received = entries:
        the generator's first lap, or the part of it memif delivered; after
        it, a slow device sees a random sample of the flows, more and more of
        them known), the stretch from the first 1,000 flows (past the start)
        to the last such sample gives flows/s = new entries / time and cycles
        per flow = the worker's busy cycles / packets received."""
        flows = self.scenario["flows"]
        samples = []
        deadline = time.monotonic() + 60.0
        # Until the packets received run 2% ahead of the flows created: hits began.
        while not samples or samples[-1][3] <= samples[-1][1] * 1.02 + 64:
            if not self.proc.alive() or time.monotonic() > deadline:
                raise ProcessError(f"dpdockd: {samples[-1][1] if samples else 0} of {flows} flows created "
                                   f"within 60 s; see {self.proc.log_path}")
            before = time.monotonic()
            stats = self.stats()
            t = (before + time.monotonic()) / 2
            worker = stats["workers"][0] if stats.get("workers") else {}
            samples.append((t, conntrack_entries(stats), int(worker.get("busy_cycles", 0)),
                            int(worker.get("rx_packets", 0)), port_counter(stats, self.sink, "tx_packets")))
            time.sleep(0.01)
        first = next((s for s in samples if s[1] >= 1000), samples[-1])
        last = [s for s in samples if s[3] <= s[1] * 1.02 + 64][-1]
        if last[0] <= first[0]:
            raise ProcessError(f"dpdockd: flows were created too fast to sample ({len(samples)} samples)")
        seconds = last[0] - first[0]
        created, cycles, received, forwarded = (last[i] - first[i] for i in (1, 2, 3, 4))
        return Sample(pps=created / seconds, cycles_per_packet=cycles / received if received else 0.0,
                      forwarded=forwarded, received=received, seconds=seconds,
                      extra={**self.extra(stats), "flows_created": created, "samples": len(samples)})


def metered_sleep(duration, meter):
    """The measured window: `duration` seconds, with the CpuMeter (cpu_meter.py)
    around it if given; returns its reading (other processes' CPUs) or None."""
    if meter is None:
        time.sleep(duration)
        return None
    meter.start()
    time.sleep(duration)
    return meter.stop()


def with_other_cpus(other_cpus):
    """The CpuMeter's reading for a Sample's extra (nothing when not metered)."""
    return {} if other_cpus is None else {"other_cpus": other_cpus}


def conntrack_entries(stats):
    return int(stats.get("conntrack", {}).get("entries", 0))


def port_counter(stats, name, key):
    for port in stats.get("ports", []):
        if port.get("name") == name:
            return int(port.get(key, 0))
    return 0


def dnat_counters(rules):
    """The DNAT chain of nat.rules (`dpdock nat rules`) in short: how many
    published ports, how many of them counted packets, and their packets.
    Rules past the daemon's counter slots (nat::kMaxRuleSlots) count nothing."""
    chain = next((c["rules"] for c in rules["chains"] if c["name"] == "DOCKER"), [])
    return {"rules": len(chain), "rules_hit": sum(1 for r in chain if r["packets"] > 0),
            "packets": sum(r["packets"] for r in chain)}
