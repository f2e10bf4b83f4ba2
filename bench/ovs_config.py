# The Open vSwitch setup equivalent to dpdockd's deployment for each scenario
# kind (bench/topology.py): bridges and ports (ovs-vsctl), OpenFlow rules
# (ovs-ofctl add-flows), static MAC entries (ovs-appctl fdb/add) and, for the
# tunnels, the underlay (the br-phy address, route and neighbour).
# Pure functions of the scenario: bench/ovs.py carries them out. The same
# memif server and net_null sink as dpdockd's; port names as dpdockd's where
# they exist ("gen", "sink"), so the counters read the same ports.
import traffic
from topology import GENERATOR_OUTSIDE, SINK_DEVARGS, memif_devargs

INT = "br-int"   # the network `bench` (dpdockd's bridge)
PHY = "br-phy"   # the underlay of the tunnel kinds: holds the uplink and the host address
ZONE = 1         # conntrack zone of the NAT rules
NAT_GATEWAY_MAC = traffic.NAT_GATEWAY_MAC  # the network's gateway, as dpdockd answers for it


def unsupported(scenario):
    """Why OVS does not run `scenario` (printed, the run skipped), or None."""
    if scenario.get("measure") == "setup":
        return ("the new-flow setup rate is sampled from dpdockd's conntrack counters during the first lap; "
                "the OVS runner measures steady state only")
    return None


def bridges(kind):
    """The bridges of a kind, in creation order."""
    return [INT, PHY] if kind.startswith("vxlan-") else [INT]


def egress(kind):
    """(bridge, port) whose tx counter is the forwarded packets."""
    return (PHY, "sink") if kind == "vxlan-encap" else (INT, "sink")


def mac_table_size(scenario):
    # Sized as dpdockd's MAC table (topology.deployment): twice the scenario's MACs.
    macs = scenario.get("source-macs", 1) + scenario.get("destination-macs", 0)
    return 1 << max(16, (macs * 2 - 1).bit_length())


def _dpdk_port(bridge, name, devargs):
    return ["--", "add-port", bridge, name, "--", "set", "Interface", name, "type=dpdk",
            f"options:dpdk-devargs={devargs}"]


def vsctl_commands(scenario, memif_sock):
    """One ovs-vsctl transaction (its argv after the options) building the bridges and ports."""
    kind = scenario["kind"]
    gen = memif_devargs(memif_sock, "server")
    args = []
    for bridge in bridges(kind):
        args += ["--", "add-br", bridge, "--", "set", "Bridge", bridge, "datapath_type=netdev",
                 f"other_config:mac-table-size={mac_table_size(scenario)}"]
    if kind == "vxlan-encap":
        args += _dpdk_port(INT, "gen", gen) + _dpdk_port(PHY, "sink", SINK_DEVARGS)
        args += ["--", "set", "Bridge", PHY, f"other_config:hwaddr={traffic.UPLINK_MAC}"]
        for i in range(scenario.get("peers", 1)):
            args += _vxlan_port(i)
    elif kind == "vxlan-decap":
        args += _dpdk_port(PHY, "gen", gen) + _dpdk_port(INT, "sink", SINK_DEVARGS)
        args += ["--", "set", "Bridge", PHY, f"other_config:hwaddr={traffic.UPLINK_MAC}"]
        args += _vxlan_port(0)
    else:
        args += _dpdk_port(INT, "gen", gen) + _dpdk_port(INT, "sink", SINK_DEVARGS)
    return args


def vxlan_port_name(i):
    return f"vx{i}"


def peer(i):
    return ".".join(map(str, traffic.peer_address(i)))


def _vxlan_port(i):
    name = vxlan_port_name(i)
    return ["--", "add-port", INT, name, "--", "set", "Interface", name, "type=vxlan",
            f"options:remote_ip={peer(i)}", f"options:key={traffic.VXLAN_VNI}",
            f"options:dst_port={traffic.VXLAN_PORT}"]


def fdb_entries(scenario):
    """Static MAC entries (bridge, port, mac) as dpdockd's static-macs / overlay fdb:
    `ovs-appctl fdb/add` entries do not age and win over learning."""
    kind = scenario["kind"]
    if kind == "l2":
        return [(INT, "sink", traffic.SINK_MAC)]
    if kind == "vxlan-encap":
        peers = scenario.get("peers", 1)
        entries = [(INT, vxlan_port_name(d % peers), ":".join(f"{b:02x}" for b in traffic.remote_mac(d)))
                   for d in range(scenario.get("destination-macs", 0))]
        # The underlay gateway on the uplink: the encapsulated frames go to it, never flooded to br-phy's tap.
        return entries + [(PHY, "sink", traffic.UPLINK_GATEWAY_MAC)]
    if kind == "vxlan-decap":
        return [(INT, "sink", traffic.SINK_MAC)]
    return []


def flows(scenario):
    """{bridge: [flow lines for ovs-ofctl add-flows]}. Bridges not listed keep
    their default rule (priority 0, NORMAL: learning switch)."""
    kind = scenario["kind"]
    if kind == "nat":
        return {INT: masquerade_flows()}
    if kind == "dnat":
        return {INT: published_port_flows(scenario["published-ports"])}
    return {}


def _routed(src_mac, dst_mac, out):
    # What dpdockd does to a routed packet: next hop's MAC, ours as source, TTL - 1.
    return f"mod_dl_src:{src_mac},mod_dl_dst:{dst_mac},dec_ttl,output:{out}"


def masquerade_flows():
    """MASQUERADE of network `bench` (10.99.0.0/16) out of the uplink ("sink"),
    as iptables' `-s 10.99.0.0/16 ! -o bridge -j MASQUERADE` with the reply
    direction. One conntrack pass per packet out: ct(commit,nat(src=192.0.2.2))
    commits a new flow (keeping its source port when free, as MASQUERADE does)
    and applies an existing flow's translation. (OVS's conntrack keeps a UDP
    flow that saw no reply in state "new", so the lookup-then-commit-if-new
    pattern would cost three datapath passes per packet here, not two.)
    Replies to 192.0.2.2 are un-NATed and routed back to the container (the
    generator's one MAC). Everything else is a NORMAL bridge."""
    host, gw_mac = traffic.HOST_ADDRESS, traffic.UPLINK_GATEWAY_MAC
    return [
        f"table=0,priority=100,in_port=gen,ip,dl_dst={NAT_GATEWAY_MAC},nw_src=10.99.0.0/16,"
        f"actions=ct(commit,zone={ZONE},nat(src={host}),table=1)",
        f"table=0,priority=100,in_port=sink,ip,nw_dst={host},actions=ct(zone={ZONE},nat,table=1)",
        "table=0,priority=0,actions=NORMAL",
        f"table=1,priority=100,ip,in_port=gen,actions={_routed(traffic.UPLINK_MAC, gw_mac, 'sink')}",
        "table=1,priority=100,ct_state=+trk+est,ip,in_port=sink,"
        f"actions={_routed(NAT_GATEWAY_MAC, traffic.NAT_SOURCE_MAC, 'gen')}",
        "table=1,priority=0,actions=drop",
    ]


def published_port_flows(count):
    """DNAT of `count` published ports, one rule per port as `-p P:P/udp` each
    (Docker's DOCKER chain): a packet to 192.0.2.2:P goes through
    ct(commit,nat(dst=10.99.0.2:P)) (one pass: commits a new flow, applies an
    existing flow's translation, as for MASQUERADE) and is routed to the
    container's MAC, which dpdockd's deployment puts on the sink. Replies
    from the container go back out of the uplink un-NATed."""
    host, web = traffic.HOST_ADDRESS, "10.99.0.2"
    lines = [
        f"table=0,priority=100,in_port=sink,ip,nw_src={web},actions=ct(zone={ZONE},nat,table=1)",
        "table=0,priority=0,actions=drop",
        f"table=1,priority=100,in_port=gen,ip,nw_dst={web},"
        f"actions={_routed(NAT_GATEWAY_MAC, traffic.SINK_MAC, 'sink')}",
        "table=1,priority=100,ct_state=+trk+est,ip,in_port=sink,"
        f"actions={_routed(traffic.UPLINK_MAC, traffic.UPLINK_GATEWAY_MAC, 'gen')}",
        "table=1,priority=0,actions=drop",
    ]
    for p in range(traffic.PUBLISHED_PORT_BASE, traffic.PUBLISHED_PORT_BASE + count):
        lines.append(f"table=0,priority=100,in_port=gen,udp,dl_dst={traffic.UPLINK_MAC},nw_dst={host},tp_dst={p},"
                     f"actions=ct(commit,zone={ZONE},nat(dst={web}:{p}),table=1)")
    return lines


def underlay(kind):
    """For the tunnel kinds: br-phy's kernel side (the tap in OVS's namespace) gets
    the host address, which OVS's tunnel code takes as the outer source (encap)
    and as the local VTEP address (decap); the peers are routed via the
    uplink's gateway, whose MAC is set (no ARP), as dpdockd's uplink has it.
    Returns (ip commands inside the namespace, ovs-appctl commands)."""
    if not kind.startswith("vxlan-"):
        return [], []
    ip = [["addr", "add", f"{traffic.HOST_ADDRESS}/24", "dev", PHY], ["link", "set", PHY, "up"]]
    appctl = [["ovs/route/add", "198.19.0.0/16", PHY, traffic.UPLINK_GATEWAY],
              ["tnl/arp/set", PHY, traffic.UPLINK_GATEWAY, traffic.UPLINK_GATEWAY_MAC]]
    return ip, appctl


def ingress(kind):
    """(bridge, port) the generator feeds."""
    return (PHY, "gen") if kind in GENERATOR_OUTSIDE and kind.startswith("vxlan-") else (INT, "gen")
