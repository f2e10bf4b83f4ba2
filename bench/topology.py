# Where each scenario kind puts the generator and the sink in dpdockd's
# deployment, and the deployment itself. Network `bench` (10.99.0.0/16) holds
# whatever sits inside the host; the generator's memif is either a member port
# of it ("gen": l2, nat, vxlan-encap) or, when the traffic comes from outside,
# the uplink (dnat, vxlan-decap). Forwarded packets leave by the sink port
# (net_null, the static MAC traffic.SINK_MAC) or, when they are routed or
# encapsulated out, by a net_null uplink. The uplink's gateway has a fixed MAC
# and every local destination a static MAC entry, so no packet waits for ARP.
# The deployment is written as JSON, which YAML 1.2 (yaml-cpp) reads as is.
import json

import traffic

SINK_DEVARGS = "net_null0,no-rx=1"  # a sink must not invent rx traffic of its own

GENERATOR_OUTSIDE = ("dnat", "vxlan-decap")  # the memif is the uplink
ROUTED_OUT = ("nat", "vxlan-encap")          # forwarded packets leave by the uplink
KINDS = ("l2", "nat") + GENERATOR_OUTSIDE + ("vxlan-encap",)

# The container the published ports lead to (dnat): attached by dpdockd to a
# namespace run.py makes, its MAC pointed at the sink by a static entry, so
# translated packets go to the sink instead of its veth.
CONTAINER = "web"
CONTAINER_IP = "10.99.0.2"


def ingress_port(kind):
    """dpdockd's name (stats.show) of the port the generator feeds."""
    return "uplink" if kind in GENERATOR_OUTSIDE else "gen"


def egress_port(kind):
    """dpdockd's name of the port forwarded packets leave by."""
    return "uplink" if kind in ROUTED_OUT else "sink"


def tracked_flows(scenario):
    """Conntrack entries the scenario's traffic creates (None: it tracks nothing)."""
    return scenario["flows"] if scenario["kind"] in ("nat", "dnat") else None


def needs_namespace(scenario):
    return scenario["kind"] == "dnat"


def memif_devargs(sock_path, role, mac=None):
    # socket-abstract=no: the socket is a file in our temp dir (removed with it),
    # and its appearance tells us the server side is listening.
    return f"net_memif0,role={role},socket={sock_path},socket-abstract=no,id=0" + (f",mac={mac}" if mac else "")


def overlay(scenario):
    """Network `bench` as a VXLAN overlay: its peers and, for encapsulation,
    static fdb entries spreading the destination MACs over them."""
    peers = [".".join(map(str, traffic.peer_address(i))) for i in range(scenario.get("peers", 1))]
    fdb = [{"mac": ":".join(f"{b:02x}" for b in traffic.remote_mac(d)), "vtep": peers[d % len(peers)]}
           for d in range(scenario.get("destination-macs", 0))]
    return {"driver": "overlay", "vni": traffic.VXLAN_VNI, "peers": peers, "fdb": fdb}


def deployment(scenario, socket_path, memif_sock, cpus, mbufs, burst, netns=None):
    """dpdockd's deployment for `scenario` (a dict; json.dumps it). `netns`:
    the namespace path of the dnat container."""
    kind = scenario["kind"]
    if kind not in KINDS:
        raise ValueError(f"scenario {scenario['name']}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    outside = kind in GENERATOR_OUTSIDE
    gen = memif_devargs(memif_sock, "server", traffic.UPLINK_MAC if outside else None)
    network = {"name": "bench", "subnet": "10.99.0.0/16"}
    if kind.startswith("vxlan-"):
        network.update(overlay(scenario))
    ports = [] if outside else [{"name": "gen", "devargs": gen, "network": "bench"}]
    if kind not in ROUTED_OUT:
        ports.append({"name": "sink", "devargs": SINK_DEVARGS, "network": "bench"})
        network["static-macs"] = [{"mac": traffic.SINK_MAC, "port": "sink"}]
    macs = scenario.get("source-macs", 1) + scenario.get("destination-macs", 0)
    doc = {"dataplane": {"workers": 1, "mbufs": mbufs, "burst": burst, "idle-sleep-us": 0, "memory-mb": 1024,
                         "mac-table-size": 1 << max(16, (macs * 2 - 1).bit_length()), "socket": socket_path,
                         "eal-args": [f"--lcores=0@{cpus.control},1@{cpus.worker}"]},
           "networks": [network], "ports": ports}
    if kind != "l2":
        doc["uplink"] = {"devargs": gen if outside else SINK_DEVARGS, "address": f"{traffic.HOST_ADDRESS}/24",
                         "gateway": traffic.UPLINK_GATEWAY, "gateway-mac": traffic.UPLINK_GATEWAY_MAC}
    if tracked_flows(scenario):
        # Twice the flows: the generator's flows are never answered, and early
        # drop (nat/conntrack.cpp) recycles unanswered flows once less than an
        # eighth of the table is free; the bench measures tracked flows, not churn.
        doc["nat"] = {"capacity": 1 << max(10, (2 * tracked_flows(scenario) - 1).bit_length())}
    if kind == "dnat":
        ports_published = range(traffic.PUBLISHED_PORT_BASE, traffic.PUBLISHED_PORT_BASE + scenario["published-ports"])
        doc["containers"] = [{"name": CONTAINER, "netns": netns,
                              "networks": [{"name": "bench", "ip": CONTAINER_IP, "mac": traffic.SINK_MAC}],
                              # One publication per port, as `-p P:P/udp` each: N rules, not one range.
                              "publish": [f"{p}:{p}/udp" for p in ports_published]}]
    return doc


def deployment_text(*args, **kwargs):
    text = json.dumps(deployment(*args, **kwargs), indent=2)
    return "# generated by bench/run.py (JSON, which is YAML)\n" + text + "\n"
