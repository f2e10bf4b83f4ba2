# What `run.py --smoke` (ctest bench_smoke) asserts about each scenario's
# dpdockd run: no speed, only that the scenario's path was taken. Packets came
# in on the generator's port, left by the scenario's egress port, none went
# back out of the ingress; flows were tracked and translated (nat, dnat: every
# flow of the pcap has its conntrack entry, none refused, the DNAT rules
# counted packets, on many ports where many are published); VXLAN refused
# nothing (no vxlan_* drop) and what left had the outer headers added
# (encap) or removed (decap).
import topology
import traffic

SMOKE_MAX_FLOWS = 10000  # a smoke run needs no million-frame pcap
RULE_COUNTER_SLOTS = 4096  # nat::kMaxRuleSlots: rules past it (and MASQUERADE's) count nothing


def variant(scenario):
    """The scenario as --smoke runs it: at most SMOKE_MAX_FLOWS flows,
    measured like a steady-state run (a setup-rate run of a small table is
    over before it can be sampled)."""
    if "flows" not in scenario:
        return scenario
    small = {k: v for k, v in scenario.items() if k != "measure"}
    small["flows"] = min(scenario["flows"], SMOKE_MAX_FLOWS)
    return small


def failures(result):
    """Why a smoke run failed, one sentence each; empty when it passed."""
    scenario = result["scenario"]
    kind = scenario["kind"]
    found = []
    for run in result["runs"]:
        name = f"{scenario['name']} ({run['system']})"
        ingress, egress = topology.ingress_port(kind), topology.egress_port(kind)
        if run["received"] <= 0:
            found.append(f"{name}: no rx on port {ingress}")
        if run["forwarded"] <= 0:
            found.append(f"{name}: no tx on port {egress}")
        if run.get("ingress_tx_packets", 0) != 0:
            found.append(f"{name}: {run['ingress_tx_packets']} packets sent back out of port {ingress}")
        drops = run.get("drops", {})
        if flows := topology.tracked_flows(scenario):
            tracked = run.get("conntrack", {}).get("entries", 0)
            if tracked != flows:
                found.append(f"{name}: {tracked} flows tracked, expected {flows}")
            refused = {k: v for k, v in drops.items() if k.startswith(("ct_", "nat_"))}
            if refused:
                found.append(f"{name}: NAT drops {refused}")
        if kind == "dnat":
            dnat = run.get("dnat", {})
            if dnat.get("packets", 0) <= 0:
                found.append(f"{name}: the DNAT rules counted no packets ({dnat})")
            if dnat.get("rules") != scenario["published-ports"]:
                found.append(f"{name}: {dnat.get('rules')} DNAT rules, expected {scenario['published-ports']}")
            # Traffic goes to every published port; at least half of those
            # with a counter slot must show it.
            want = max(1, min(scenario["published-ports"], RULE_COUNTER_SLOTS) // 2)
            if dnat.get("rules_hit", 0) < want:
                found.append(f"{name}: {dnat.get('rules_hit', 0)} published ports counted packets, "
                             f"expected at least {want}")
        if kind.startswith("vxlan-"):
            refused = {k: v for k, v in drops.items() if k.startswith("vxlan_")}
            if refused:
                found.append(f"{name}: VXLAN drops {refused}")
            # What left was encapsulated (inner frame + outer headers) or decapsulated (the inner frame alone).
            sizes = traffic.size_pattern(scenario["frame-sizes"])
            want = sum(sizes) / len(sizes) - traffic.FCS_LEN + (traffic.VXLAN_OVERHEAD if kind == "vxlan-encap" else 0)
            got = run.get("egress_tx_bytes", 0) / run["forwarded"] if run["forwarded"] > 0 else 0
            if abs(got - want) > 1:
                found.append(f"{name}: {got:.1f} bytes per packet left port {egress}, expected {want:g}")
    return found
