# Quick checks of the harness's pure parts, no DPDK or OVS needed (ctest
# bench_parsing, well under a second): OVS's pmd-stats-show and dump-ports
# output as Open vSwitch 3.1 prints it, the /proc accounting of cpu_meter.py,
# the pairing of dpdock with OVS in report.py, and the OpenFlow setup of the
# DNAT and MASQUERADE scenarios.
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cpu_meter  # noqa: E402
import ovs  # noqa: E402
import ovs_config  # noqa: E402
import report  # noqa: E402

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
