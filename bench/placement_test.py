# Checks of the harness's vCPU placement handling on synthetic run results,
# no DPDK or probe binary needed (ctest bench_placement, well under a second):
# the near/far/changed classification of a run from its two probes, the
# discard-and-repeat rule for a run whose placement changed (discard.py),
# per-placement medians and same-placement paired ratios (report.py), the
# within-placement comparison of dnat-64b-10kports with dnat-64b-1port, and
# which tools a choice of scenarios and systems requires (tools.py).
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import discard  # noqa: E402
import placement  # noqa: E402
import report  # noqa: E402
import tools  # noqa: E402

NEAR, FAR = 180.0, 820.0  # median round trips as this machine's probe reads them


def probed(row, before, after):
    """`row` with two probe results and the placement run.py derives from them."""
    row.update(probe_before={"median_cycles": before}, probe_after={"median_cycles": after},
               placement=placement.classify(before, after))
    return row


def dnat_runs(rounds):
    """dpdock and baseline rows, one pair per (placement, dpdock cycles, pps)."""
    runs = []
    for rep, (where, cycles, pps) in enumerate(rounds):
        cycles_probe = NEAR if where == "near" else FAR
        runs.append(probed({"system": "dpdock", "rep": rep, "pps": pps, "cycles_per_packet": cycles},
                           cycles_probe, cycles_probe))
        runs.append(probed({"system": "baseline", "rep": rep, "pps": 19e6, "cycles_per_packet": 70.0},
                           cycles_probe, cycles_probe))
    return runs


def result(name, runs, targets=None):
    scenario = {"name": name, "mean-frame-bytes": 64, "targets": targets or {}}
    return {"scenario": scenario, "runs": runs, "summary": report.summarize(scenario, runs)}


class Classification(unittest.TestCase):
    def test_near_far_changed_unknown(self):
        self.assertEqual(placement.classify(NEAR, 205.0), "near")
        self.assertEqual(placement.classify(FAR, 770.0), "far")
        self.assertEqual(placement.classify(NEAR, FAR), "changed")
        self.assertEqual(placement.classify(FAR, NEAR), "changed")
        self.assertEqual(placement.classify(None, NEAR), "unknown")  # a probe failed
        self.assertEqual(placement.classify(NEAR, 25000.0), "unknown")  # preempted: says nothing

    def test_threshold_is_between_the_two_placements(self):
        self.assertEqual(placement.side(placement.NEAR_MAX_CYCLES - 1), "near")
        self.assertEqual(placement.side(placement.NEAR_MAX_CYCLES), "far")


class DiscardOnPlacementChange(unittest.TestCase):
    def attempts(self, *rows):
        said, queue = [], list(rows)
        row = discard.run_until_counted(lambda: queue.pop(0), "dnat dpdock #0", 0.05, 2, said.append)
        return row, said, len(rows) - len(queue)

    def test_a_run_whose_placement_changed_is_repeated(self):
        moved = probed({"other_cpus": 0.01}, NEAR, FAR)
        steady = probed({"other_cpus": 0.01}, FAR, FAR)
        row, said, used = self.attempts(moved, steady)
        self.assertIs(row, steady)
        self.assertEqual((used, row["discarded"], row["placement"]), (2, 1, "far"))
        self.assertIn("placement changed (180 -> 820 cycles", said[0])
        self.assertNotIn("interfered", row)

    def test_repeats_are_bounded_and_the_last_is_kept_marked(self):
        rows = [probed({"other_cpus": 0.0}, NEAR, FAR) for _ in range(4)]
        row, said, used = self.attempts(*rows)
        self.assertEqual((used, row["discarded"], row["placement"]), (3, 2, "changed"))
        self.assertNotIn("interfered", row)  # other processes were not the reason
        self.assertIn("kept after 2 repeat(s)", said[-1])

    def test_interference_and_unknown_placement(self):
        busy = probed({"other_cpus": 0.4}, NEAR, NEAR)
        unknown = probed({"other_cpus": 0.0}, None, NEAR)
        row, said, used = self.attempts(busy, unknown)
        self.assertIs(row, unknown)  # a failed probe does not discard the run
        self.assertIn("other processes used 0.40 CPUs", said[0])
        self.assertIsNone(discard.reason({"other_cpus": 0.0}, 0.05))  # container path: no probes


class PerPlacementFigures(unittest.TestCase):
    def test_medians_and_same_placement_pairs(self):
        runs = dnat_runs([("near", 340.0, 7.6e6), ("far", 400.0, 6.4e6), ("near", 344.0, 7.5e6),
                          ("far", 396.0, 6.5e6)])
        runs[0]["placement"] = "changed"  # kept after its repeats: in no placement's figures
        runs.append(probed({"system": "dpdock", "rep": 4, "pps": 1e6, "cycles_per_packet": 2000.0,
                            "interfered": True}, FAR, FAR))  # kept disturbed: the same
        summary = report.summarize({"mean-frame-bytes": 64, "targets": {}}, runs)
        groups = summary["dpdock"]["by_placement"]
        self.assertEqual(groups["far"]["runs"], 2)
        self.assertEqual(groups["far"]["cycles_per_packet"]["median"], 398.0)
        self.assertEqual(groups["near"]["runs"], 1)
        self.assertEqual(summary["dpdock"]["cycles_per_packet"]["median"], 396.0)  # overall, all 5 as before
        # pairs: one near pair (rep 2) is too few; two far pairs (reps 1, 3)
        self.assertEqual(list(summary["ratio_cycles_by_placement"]), ["far"])
        self.assertAlmostEqual(summary["ratio_cycles_by_placement"]["far"]["median"], (70 / 400 + 70 / 396) / 2)
        self.assertEqual(summary["ratio_cycles_by_placement"]["far"]["n"], 2)

    def test_versus_ovs_keeps_its_keys_and_adds_placement_ones(self):
        runs = []
        for rep, probe in enumerate((NEAR, NEAR, FAR)):
            runs.append(probed({"system": "dpdock", "rep": rep, "pps": 8e6, "cycles_per_packet": 100.0}, probe, probe))
            runs.append(probed({"system": "ovs", "rep": rep, "pps": 4e6, "cycles_per_packet": 300.0}, probe, probe))
        figures = report.versus_ovs(report.summarize({"mean-frame-bytes": 64, "targets": {}}, runs))
        self.assertEqual(figures["ratio_vs_ovs"]["median"], 2.0)
        self.assertEqual(figures["ratio_vs_ovs_by_placement"]["near"]["n"], 2)
        self.assertNotIn("far", figures["ratio_vs_ovs_by_placement"])  # one pair only
        self.assertEqual(figures["cycles_per_packet_by_placement"]["ovs"], {"near": 300.0, "far": 300.0})
        self.assertEqual(figures["cycle_ratio_ovs_vs_dpdock_by_placement"]["near"]["median"], 3.0)


class WithinPlacementComparison(unittest.TestCase):
    TARGET = {"within-of": {"scenario": "dnat-64b-1port", "max-drop": 0.03}}

    def test_last_quiet_runs_rounds(self):
        # 2026-12-03 16:26: the overall medians (387.5 against 342.6) compared
        # a far round with a near one; within the far placement (3 rounds each)
        # 10,000 ports are not dearer than one.
        one = result("dnat-64b-1port", dnat_runs([("near", 340.9, 7.6e6), ("far", 396.0, 6.6e6),
                                                  ("near", 342.6, 7.5e6), ("far", 422.3, 6.2e6),
                                                  ("near", 341.5, 7.6e6)]))
        many = result("dnat-64b-10kports", dnat_runs([("far", 387.5, 6.7e6), ("near", 330.7, 7.8e6),
                                                      ("far", 394.6, 6.5e6), ("near", 332.5, 7.8e6),
                                                      ("far", 390.0, 6.6e6)]), self.TARGET)
        report.compare_scenarios([one, many])
        within = many["summary"]["relative_within_placement"]
        # near: 2 and 3 rounds, far: 3 and 2: a tie of the smaller count and the total; near comes first
        self.assertEqual(within["placement"], "near")
        self.assertEqual((within["rounds"], within["other_rounds"]), (2, 3))
        self.assertEqual(within["cycles_per_packet"], [330.7, 332.5])
        self.assertAlmostEqual(within["ratio_cycles"], 331.6 / 341.5)
        self.assertAlmostEqual(within["ratio_pps"], 7.8 / 7.6)
        self.assertTrue(many["summary"]["verdict"].startswith("met (near: pps 1.026, cycles 0.971"))
        self.assertIn("relative_to", many["summary"])  # the baseline-relative figure stays
        line = placement.table([one, many], report.SYSTEMS).splitlines()[-1]
        self.assertIn("near placement (2 and 3 rounds): cycles/pkt 330.7, 332.5 against 340.9, 342.6, 341.5", line)

    def test_the_placement_with_most_rounds_of_both_and_a_miss(self):
        one = result("dnat-64b-1port", dnat_runs([("far", 396.0, 6.6e6), ("far", 400.0, 6.5e6),
                                                  ("near", 340.0, 7.6e6)]))
        many = result("dnat-64b-10kports", dnat_runs([("far", 420.0, 6.2e6), ("far", 424.0, 6.1e6),
                                                      ("far", 422.0, 6.2e6), ("near", 330.0, 7.9e6)]),
                      self.TARGET)
        report.compare_scenarios([one, many])
        within = many["summary"]["relative_within_placement"]
        self.assertEqual((within["placement"], within["rounds"], within["other_rounds"]), ("far", 3, 2))
        self.assertTrue(many["summary"]["verdict"].startswith("missed (far:"))

    def test_no_common_placement_keeps_the_baseline_relative_verdict(self):
        one = result("dnat-64b-1port", dnat_runs([("near", 340.0, 7.6e6)]))
        many = result("dnat-64b-10kports", dnat_runs([("far", 390.0, 6.6e6)]), self.TARGET)
        report.compare_scenarios([one, many])
        self.assertNotIn("relative_within_placement", many["summary"])
        # a far round against a near one: the kind of comparison the placement one replaces
        self.assertEqual(many["summary"]["verdict"], "missed (0.87 of dnat-64b-1port)")


class RequiredTools(unittest.TestCase):
    MEMIF, CONTAINER = {"kind": "l2"}, {"kind": "container-path"}
    SETUP = {"kind": "nat", "measure": "setup"}  # OVS has no setup-rate run

    def test_only_what_the_chosen_scenarios_and_systems_use(self):
        everything = ["dpdock", "ovs", "baseline", "kernel"]
        self.assertEqual(tools.required_tools([self.CONTAINER], everything, False), {"dpdockd"})
        self.assertEqual(tools.required_tools([self.MEMIF], ["dpdock", "baseline"], False),
                         {"dpdockd", "testpmd", "probe"})
        self.assertEqual(tools.required_tools([self.MEMIF], everything, False), {"dpdockd", "testpmd", "probe", "ovs"})
        self.assertEqual(tools.required_tools([self.SETUP], everything, False), {"dpdockd", "testpmd", "probe"})
        self.assertEqual(tools.required_tools([self.MEMIF], ["baseline"], False), {"testpmd", "probe"})
        self.assertEqual(tools.required_tools([self.MEMIF], ["dpdock"], True), {"dpdockd", "testpmd"})  # smoke


if __name__ == "__main__":
    unittest.main()
