# Quick checks of the harness's pure parts, no DPDK or OVS needed (ctest
# bench_parsing, well under a second): OVS's pmd-stats-show and dump-ports
# output as Open vSwitch 3.1 prints it, the /proc accounting of cpu_meter.py
# (both meters), the pairing of dpdock with OVS in report.py, the OpenFlow
# setup of the DNAT and MASQUERADE scenarios, and the container path's parts:
# iperf3's JSON, the round-trip JSON, dpdock / kernel pairing and verdicts.
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import container_measures  # noqa: E402
import container_runs  # noqa: E402
import container_report  # noqa: E402
import cpu_meter  # noqa: E402
import ovs  # noqa: E402
import ovs_config  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
from procs import ProcessError  # noqa: E402

PMD_STATS = """pmd thread numa_id 0 core_id 1:
  packets received: 3007712
  packet recirculations: 0
  avg. datapath passes per packet: 1.00
  emc hits: 3007712
  megaflow hits: 0
  avg. packets per output batch: 32.00
  idle cycles: 2574795974 (48.17%)
  processing cycles: 2770431732 (51.83%)
  avg cycles per packet: 1777.17 (5345227706/3007712)
  avg processing cycles per packet: 921.11 (2770431732/3007712)
main thread:
  packets received: 17
  processing cycles: 99999
"""

DUMP_PORTS = """OFPST_PORT reply (xid=0x4): 1 ports
  port  1: rx pkts=0, bytes=0, drop=0, errs=0, frame=?, over=?, crc=?
           tx pkts=4074624, bytes=0, drop=3, errs=0, coll=?
"""


class OvsOutput(unittest.TestCase):
    def test_pmd_stats_of_the_pmd_thread_only(self):
        threads = ovs.parse_pmd_stats(PMD_STATS)
        self.assertEqual(list(threads), ["core 1"])
        core = threads["core 1"]
        self.assertEqual(core["packets received"], 3007712)
        self.assertEqual(core["processing cycles"], 2770431732)
        self.assertAlmostEqual(ovs.pmd_cycles_per_packet(core), 921.11, places=2)
        self.assertEqual(ovs.pmd_cycles_per_packet({"packets received": 0, "processing cycles": 5}), 0.0)

    def test_dump_ports(self):
        self.assertEqual(ovs.parse_dump_ports(DUMP_PORTS), {"rx": 0, "tx": 4074624, "tx_bytes": 0, "tx_drop": 3})
        with self.assertRaises(Exception):
            ovs.parse_dump_ports("ovs-ofctl: br-int: unknown port `sink'")


class ProcAccounting(unittest.TestCase):
    def test_busy_jiffies_of_chosen_cpus(self):
        text = ("cpu  900 0 900 9000 0 0 0 0 0 0\n"
                "cpu0 100 2 30 5000 7 4 5 11 0 0\n"
                "cpu1 200 0 40 4000 9 0 1 0 0 0\n"
                "cpu2 999 0 999 0 0 0 0 0 0 0\n")
        # user + nice + system + irq + softirq; idle, iowait and steal are not busy
        self.assertEqual(cpu_meter.busy_jiffies(text, [0, 1]), (100 + 2 + 30 + 4 + 5) + (200 + 40 + 1))

    def test_process_jiffies_with_odd_command_name(self):
        fields = ["S", "1", "2", "3", "0", "-1", "0", "0", "0", "0", "0", "150", "50", "7", "3"]
        text = "4242 (a) (b) " + " ".join(fields) + " 20 0 1 0"
        self.assertEqual(cpu_meter.process_jiffies(text), 200)
        self.assertEqual(cpu_meter.process_jiffies(text, children=True), 210)


def pid_stat(pid, ppid, jiffies, flags=0, comm="x"):
    """A /proc/PID/stat line whose utime, stime, cutime, cstime are `jiffies`."""
    fields = ["S", str(ppid), "0", "0", "0", "-1", str(flags), "0", "0", "0", "0", *map(str, jiffies), "20", "0"]
    return f"{pid} ({comm}) " + " ".join(fields)


class OthersAccounting(unittest.TestCase):
    def test_only_user_processes_outside_the_tree_count(self):
        stats = {1: pid_stat(1, 0, (1, 1, 0, 0)),
                 2: pid_stat(2, 0, (0, 5, 0, 0), flags=cpu_meter.PF_KTHREAD, comm="kthreadd"),
                 30: pid_stat(30, 2, (0, 70, 0, 0), flags=cpu_meter.PF_KTHREAD | 0x40, comm="ksoftirqd/0"),
                 100: pid_stat(100, 1, (0, 0, 0, 0), comm="bash"),
                 200: pid_stat(200, 100, (10, 1, 5, 5), comm="run.py"),  # the root: not counted
                 201: pid_stat(201, 200, (50, 50, 0, 0), comm="dpdockd"),
                 202: pid_stat(202, 201, (7, 0, 0, 0)),  # a grandchild of the root
                 300: pid_stat(300, 100, (3, 4, 20, 0), comm="make"),
                 301: pid_stat(301, 300, (40, 2, 0, 0), comm="cc1plus (x)")}
        # init 2 + bash 0 + make 3 + 4 + its reaped children 20 + cc1plus 42
        self.assertEqual(cpu_meter.others_jiffies(stats, 200), 2 + 27 + 42)

    def test_a_reaped_process_moves_into_its_parents_children_time(self):
        before = {300: pid_stat(300, 1, (0, 0, 0, 0)), 301: pid_stat(301, 300, (30, 0, 0, 0))}
        after = {300: pid_stat(300, 1, (0, 0, 50, 0))}  # 301 ran 20 more jiffies, then was reaped
        self.assertEqual(cpu_meter.others_jiffies(after, 200) - cpu_meter.others_jiffies(before, 200), 20)


IPERF3_CLIENT = """{"start": {"connected": [{"socket": 5}]}, "intervals": [],
 "end": {"sum_sent": {"bits_per_second": 9.9e9}, "sum_received": {"bits_per_second": 9.5e9}}}"""
IPERF3_ERROR = """{
	"start":	{
		"connected":	[],
		"version":	"iperf 3.12"
	},
	"intervals":	[],
	"end":	{
	},
	"error":	"unable to connect to server: Connection refused"
}"""


class ContainerPath(unittest.TestCase):
    def test_iperf3_json(self):
        self.assertAlmostEqual(container_measures.iperf3_gbps(IPERF3_CLIENT), 9.5)
        with self.assertRaisesRegex(ProcessError, "Connection refused"):
            container_measures.iperf3_gbps(IPERF3_ERROR)
        with self.assertRaisesRegex(ProcessError, "no JSON"):
            container_measures.iperf3_gbps("iperf3: parameter error\n")

    def test_round_trips(self):
        self.assertEqual(container_measures.round_trips('{"count": 900, "p50_us": 45.5, "p99_us": 120.0}\n'),
                         (45.5, 120.0))
        with self.assertRaises(ProcessError):
            container_measures.round_trips('{"count": 0, "p50_us": 0, "p99_us": 0}')

    def rows(self, system, figures_per_rep):
        return [{"system": system, "rep": rep, "figures": figures} for rep, figures in enumerate(figures_per_rep)]

    def test_paired_ratios_and_targets(self):
        scenario = {"kind": "container-path", "targets": {"rr_p50_us": {"max-ratio": 1.0},
                                                          "rr_p99_us": {"max-ratio": 1.0}}}
        runs = (self.rows("kernel", [{"rr_p50_us": 50, "rr_p99_us": 200}, {"rr_p50_us": 100, "rr_p99_us": 100}]) +
                self.rows("dpdock", [{"rr_p50_us": 40, "rr_p99_us": 100}, {"rr_p50_us": 60, "rr_p99_us": 150}]))
        summary = container_report.summarize(scenario, runs)
        self.assertEqual(summary["ratio_vs_kernel"]["rr_p50_us"], {"min": 0.6, "median": 0.7, "max": 0.8})
        self.assertEqual(summary["ratio_vs_kernel"]["rr_p99_us"]["median"], 1.0)  # 0.5 and 1.5
        self.assertEqual(summary["kernel"]["rr_p99_us"]["median"], 150)
        self.assertEqual(summary["verdict"], "met")
        rates = {"kind": "container-path", "targets": {"udp64_pps": {"min-ratio": 2.0}}}
        runs = self.rows("kernel", [{"udp64_pps": 100.0}]) + self.rows("dpdock", [{"udp64_pps": 150.0}])
        self.assertEqual(container_report.summarize(rates, runs)["verdict"], "missed (UDP 64 B pps 1.50x < 2x)")
        self.assertTrue(container_report.summarize(rates, runs[1:])["verdict"].startswith("n/a"))
        self.assertIn("container-udp", container_report.table([{"scenario": {"name": "container-udp"}, "runs": runs,
                                                              "summary": container_report.summarize(rates, runs)}]))

    def test_smoke_fails_on_a_run_that_moved_nothing_or_none(self):
        scenario = {"name": "container-udp-64b"}
        moved = {"scenario": scenario, "runs": self.rows("dpdock", [{"udp64_offered_pps": 9.0, "udp64_pps": 5.0}])}
        self.assertEqual(container_runs.smoke_failures(moved), [])
        stuck = {"scenario": scenario, "runs": self.rows("dpdock", [{"udp64_offered_pps": 9.0, "udp64_pps": 0.0}])}
        self.assertEqual(container_runs.smoke_failures(stuck), ["container-udp-64b (dpdock): udp64_pps is 0.0"])
        skipped = {"scenario": scenario, "runs": [], "skipped": {"dpdock": "needs iperf3"}}
        self.assertEqual(container_runs.smoke_failures(skipped), ["container-udp-64b: dpdock not run: needs iperf3"])

    def test_systems_per_kind(self):
        container, memif = {"kind": "container-path"}, {"kind": "l2"}
        self.assertEqual(run.systems_for(container, ["dpdock", "ovs", "baseline", "kernel"]), ["dpdock", "kernel"])
        self.assertEqual(run.systems_for(memif, ["kernel", "baseline", "dpdock"]), ["baseline", "dpdock"])
        self.assertEqual(run.systems_for(container, ["ovs", "baseline"]), [])


class VersusOvs(unittest.TestCase):
    def test_pairs_by_rep(self):
        scenario = {"mean-frame-bytes": 64, "targets": {}}
        runs = [{"system": "dpdock", "rep": 0, "pps": 6e6, "cycles_per_packet": 200},
                {"system": "ovs", "rep": 0, "pps": 4e6, "cycles_per_packet": 300},
                {"system": "dpdock", "rep": 1, "pps": 8e6, "cycles_per_packet": 100},
                {"system": "ovs", "rep": 1, "pps": 4e6, "cycles_per_packet": 400}]
        figures = report.versus_ovs(report.summarize(scenario, runs))
        self.assertEqual(figures["ratio_vs_ovs"], {"min": 1.5, "median": 1.75, "max": 2.0})
        self.assertEqual(figures["cycles_per_packet"], {"dpdock": 150, "ovs": 350})
        self.assertEqual(figures["cycle_ratio_ovs_vs_dpdock"]["median"], 2.75)  # 300/200 and 400/100
        self.assertEqual(report.versus_ovs(report.summarize(scenario, runs[::2])), {})


class OpenFlowSetup(unittest.TestCase):
    def test_one_dnat_rule_per_published_port(self):
        one, many = ovs_config.published_port_flows(1), ovs_config.published_port_flows(10000)
        self.assertEqual(len(many) - len(one), 9999)
        self.assertIn("nat(dst=10.99.0.2:19999)", many[-1])

    def test_masquerade_commits_and_translates_in_one_pass(self):
        out = [f for f in ovs_config.masquerade_flows() if "in_port=gen" in f and "table=0" in f]
        self.assertEqual(len(out), 1)
        self.assertIn("ct(commit,zone=1,nat(src=192.0.2.2),table=1)", out[0])

    def test_setup_rate_is_skipped_with_a_reason(self):
        self.assertIsNone(ovs_config.unsupported({"kind": "nat"}))
        self.assertIn("steady state", ovs_config.unsupported({"kind": "nat", "measure": "setup"}))


if __name__ == "__main__":
    unittest.main()
