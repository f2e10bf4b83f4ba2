# What the container path measures between two containers (container_envs.py):
# TCP with 1 and 4 streams (iperf3, Gbit/s received), 64-byte UDP packets per
# second counted at the receiving container's eth0 (container_load.py's
# sendmmsg senders; a raw-table DROP there, so no receiving socket limits it),
# and TCP request/response round trips p50/p99 back to back and paced
# PACED_GAP_US apart. `measure()` returns the figures under the keys
# container_report.COLUMNS names. Used by container_path.py and run.py.
import json
import os
import subprocess
import sys
import time

from container_envs import C2, in_ns
from procs import ProcessError

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "container_load.py")
SINK_PORT = 9
PACED_GAP_US = 2000
MEASURES = ("tcp1", "tcp4", "udp", "rr", "paced")


def iperf3_gbps(output):
    """Gbit/s received from `iperf3 --json` client output; a ProcessError with
    iperf3's own message when it reports an error (it prints that as JSON too)."""
    try:
        doc = json.loads(output)
    except ValueError:
        raise ProcessError(f"iperf3 printed no JSON: {output.strip()[:200]!r}") from None
    if "error" in doc:
        raise ProcessError(f"iperf3: {doc['error']}")
    return doc["end"]["sum_received"]["bits_per_second"] / 1e9


def iperf3(server, client, extra, duration, port, omit=0):
    """Gbit/s from `client` to `server`'s C2 over `duration` s (whole seconds,
    at least 1) after `omit` s left out of the figure (slow start)."""
    srv = subprocess.Popen(["ip", "netns", "exec", server.name, "iperf3", "-s", "-1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        seconds = max(1, round(duration))
        done = subprocess.run(["ip", "netns", "exec", client.name, "iperf3", "-c", C2, "-p", str(port),
                               "-t", str(seconds), "-O", str(round(omit)), "--json", *extra],
                              capture_output=True, text=True, timeout=seconds + omit + 60)
        return iperf3_gbps(done.stdout)
    finally:
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def eth0_rx_packets(ns):
    return int(in_ns(ns, "cat", "/sys/class/net/eth0/statistics/rx_packets"))


def udp_pps(c1, c2, duration, senders):
    """64-byte datagrams from `senders` processes in c1, counted at c2's eth0:
    (offered pps, received pps)."""
    in_ns(c2, "iptables", "-t", "raw", "-A", "PREROUTING", "-p", "udp", "--dport", str(SINK_PORT), "-j", "DROP")
    before = eth0_rx_packets(c2)
    procs = [subprocess.Popen(["ip", "netns", "exec", c1.name, sys.executable, LOAD, "udp-send", C2, str(SINK_PORT),
                               str(duration)], stdout=subprocess.PIPE, text=True) for _ in range(senders)]
    sent = sum(int(p.communicate(timeout=duration + 30)[0]) for p in procs)
    time.sleep(0.2)  # what is still queued in dpdock or the socket buffers arrives
    received = eth0_rx_packets(c2) - before
    in_ns(c2, "iptables", "-t", "raw", "-F", "PREROUTING")
    return sent / duration, received / duration


def round_trips(output):
    """(p50, p99) in us from container_load.py rr-client's JSON line; a
    ProcessError when no round trip completed."""
    doc = json.loads(output)
    if doc.get("count", 0) <= 0:
        raise ProcessError(f"request/response: no round trip completed ({output.strip()})")
    return doc["p50_us"], doc["p99_us"]


def request_response(c1, c2, duration, gap_us, port):
    srv = subprocess.Popen(["ip", "netns", "exec", c2.name, sys.executable, LOAD, "rr-server", str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        srv.stdout.readline()  # "listening"
        return round_trips(in_ns(c1, sys.executable, LOAD, "rr-client", C2, str(port), str(duration), str(gap_us),
                                 timeout=duration + 60))
    finally:
        srv.kill()
        srv.wait()


def measure(c1, c2, duration, port, senders, which, paced_seconds, omit=0):
    """The figures of the measurements in `which` (from MEASURES) from c1 to c2.
    `omit`: seconds of TCP traffic before iperf3's figure starts."""
    out = {}
    if "tcp1" in which:
        out["tcp1_gbps"] = iperf3(c2, c1, [], duration, port, omit)
    if "tcp4" in which:
        out["tcp4_gbps"] = iperf3(c2, c1, ["-P", "4"], duration, port + 1, omit)
    if "udp" in which:
        out["udp64_offered_pps"], out["udp64_pps"] = udp_pps(c1, c2, duration, senders)
    if "rr" in which:
        out["rr_p50_us"], out["rr_p99_us"] = request_response(c1, c2, duration, 0, port + 2)
    if "paced" in which:
        out["paced_p50_us"], out["paced_p99_us"] = request_response(c1, c2, paced_seconds, PACED_GAP_US, port + 3)
    return out
