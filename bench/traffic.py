# Crafted benchmark traffic: Ethernet/IPv4/UDP frames written to a classic pcap
# file that a generator replays forever (net_pcap, infinite_rx=1).
# Frame sizes follow RFC 2544: a "64-byte frame" includes the 4-byte FCS the
# NIC would append, so its DPDK packet length (what the pcap holds) is 60.
# Every frame is valid (IPv4 header checksum set, UDP checksum 0 = none), so a
# dataplane that parses L3 does not drop it as bad_header.
# Standard library only; called once per scenario by run.py before any run.
import math
import struct

FCS_LEN = 4
ETH_HDR_LEN = 14
IPV4_HDR_LEN = 20
UDP_HDR_LEN = 8
MIN_FRAME = 64
MAX_FRAME = 1518

# The static MAC every L2 scenario sends to; the deployment points it at the sink.
SINK_MAC = "02:00:00:00:00:02"

# Simple IMIX (the 7:4:1 mix traffic generators call "simple IMIX").
IMIX_PATTERN = (64,) * 7 + (594,) * 4 + (1518,)

# The smallest replay file: a few very short pcaps make net_pcap's replay ring
# wrap on every burst, which measures the generator instead of the dataplane.
MIN_PCAP_FRAMES = 1024


def mac_bytes(text):
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC {text!r}")
    return bytes(int(p, 16) for p in parts)


def source_mac(index):
    """Locally administered unicast MAC number `index` (02:10:xx:xx:xx:xx)."""
    return bytes((0x02, 0x10)) + struct.pack(">I", index)


def ipv4_checksum(header):
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def udp_packet(dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, payload):
    """Ethernet/IPv4/UDP around `payload`, exactly as long as it needs to be."""
    ip_len = IPV4_HDR_LEN + UDP_HDR_LEN + len(payload)
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0, src_ip, dst_ip)
    header = header[:10] + struct.pack(">H", ipv4_checksum(header)) + header[12:]
    udp = struct.pack(">HHHH", src_port, dst_port, UDP_HDR_LEN + len(payload), 0)
    return dst_mac + src_mac + b"\x08\x00" + header + udp + payload


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, frame_size):
    """One Ethernet/IPv4/UDP frame of `frame_size` bytes on the wire (FCS included)."""
    if not MIN_FRAME <= frame_size <= MAX_FRAME:
        raise ValueError(f"frame size {frame_size} outside {MIN_FRAME}..{MAX_FRAME}")
    payload = frame_size - FCS_LEN - ETH_HDR_LEN - IPV4_HDR_LEN - UDP_HDR_LEN
    return udp_packet(dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, bytes(payload))


def write_pcap(path, frames):
    """Write `frames` (an iterable of bytes) as a microsecond pcap; returns the
    count and the longest frame (the generator's mbufs must hold it)."""
    count = longest = 0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for frame in frames:
            out.write(struct.pack("<IIII", count // 1000000, count % 1000000, len(frame), len(frame)))
            out.write(frame)
            count += 1
            longest = max(longest, len(frame))
    return count, longest


def size_pattern(spec):
    """Sizes of a scenario's `frame-sizes`: a list of integers or the word "imix"."""
    if spec == "imix":
        return list(IMIX_PATTERN)
    sizes = [int(s) for s in spec]
    if not sizes:
        raise ValueError("frame-sizes is empty")
    return sizes


def frame_count(distinct, sizes):
    """Frames in a pcap that holds `distinct` things (MACs, flows) equally
    often: a multiple of both it and the size pattern, at least MIN_PCAP_FRAMES,
    so every lap of the replayed file has exactly the same mix."""
    period = math.lcm(distinct, len(sizes))
    return period * -(-MIN_PCAP_FRAMES // period)


def l2_frames(source_macs, sizes, dst_mac=SINK_MAC):
    """Frames for an L2 scenario: every source MAC appears at least once, sizes cycle.

    Frame i comes from source MAC i % source_macs with size sizes[i % len(sizes)].
    """
    if source_macs < 1:
        raise ValueError("source-macs must be at least 1")
    dst = mac_bytes(dst_mac)
    dst_ip = bytes((10, 99, 0, 2))
    for i in range(frame_count(source_macs, sizes)):
        host = i % source_macs
        src_ip = bytes((10, 100 + (host >> 16), (host >> 8) & 0xFF, host & 0xFF))
        yield udp_frame(dst, source_mac(host), src_ip, dst_ip, 1024 + (i & 0x3FF), 9, sizes[i % len(sizes)])


# MASQUERADE scenarios: one container port (the generator) behind network
# `bench` (10.99.0.0/16, gateway 10.99.0.1), every frame addressed to the
# gateway's MAC (Docker's 02:42 + gateway IP) and routed out of the uplink.
NAT_GATEWAY_MAC = "02:42:0a:63:00:01"
NAT_SOURCE_MAC = "02:10:00:00:00:00"
NAT_SOURCES = 65000          # source addresses 10.99.0.2 .. 10.99.253.233
OUTSIDE_ADDRESSES = 65521    # a prime > NAT_SOURCES: outside hosts 198.18.0.0 + (i % 65521)


def outside_address(i):
    return struct.pack(">I", 0xC6120000 + i % OUTSIDE_ADDRESSES)


def nat_flow(i):
    """(src_ip, src_port, dst_ip) of flow number i; every flow is distinct.

    Flows with the same source port (a block of NAT_SOURCES consecutive
    numbers) go to distinct destinations, so every flow keeps its source port
    through MASQUERADE and no port search is needed: the steady-state numbers
    measure translation, not collisions.
    """
    src = 0x0A630002 + i % NAT_SOURCES
    return struct.pack(">I", src), 1024 + i // NAT_SOURCES, outside_address(i)


def nat_frames(flows, sizes):
    """Frames of `flows` distinct UDP flows, each appearing equally often (at
    least MIN_PCAP_FRAMES frames in all), frame i belonging to flow i % flows."""
    if not 1 <= flows <= NAT_SOURCES * (65535 - 1024):
        raise ValueError(f"flows must be 1..{NAT_SOURCES * (65535 - 1024)}")
    dst_mac, src_mac = mac_bytes(NAT_GATEWAY_MAC), mac_bytes(NAT_SOURCE_MAC)
    for i in range(frame_count(flows, sizes)):
        src_ip, src_port, dst_ip = nat_flow(i % flows)
        yield udp_frame(dst_mac, src_mac, src_ip, dst_ip, src_port, 9, sizes[i % len(sizes)])


# The outside as the scenarios with an uplink see it (bench/topology.py builds
# the matching deployment): the host address 192.0.2.2/24, its gateway
# 192.0.2.1 with a fixed MAC (uplink.gateway-mac), so nothing ever waits for
# ARP. Outside hosts (198.18.0.0/15) sit behind that gateway. When the
# generator is outside, the memif is the uplink and gets UPLINK_MAC.
HOST_ADDRESS = "192.0.2.2"
UPLINK_GATEWAY = "192.0.2.1"
UPLINK_GATEWAY_MAC = "02:00:00:00:00:01"
UPLINK_MAC = "02:00:00:00:00:03"


def ipv4_bytes(text):
    return bytes(int(p) for p in text.split("."))


# Published ports (DNAT): host port PUBLISHED_PORT_BASE + k goes to the same
# port of the container, whose MAC is SINK_MAC (the deployment points it at
# the sink). Clients are outside hosts.
PUBLISHED_PORT_BASE = 10000


def dnat_frames(flows, published_ports, sizes):
    """Frames of `flows` distinct UDP flows from outside clients to the host
    address, flow i to published port PUBLISHED_PORT_BASE + i % published_ports
    (every port equally often); frame i belongs to flow i % flows. A client
    (address, source port) is distinct per flow, so the number of flows, and
    with it the conntrack table, is the same whatever the number of ports."""
    if not 1 <= published_ports <= 65535 - PUBLISHED_PORT_BASE:
        raise ValueError(f"published-ports must be 1..{65535 - PUBLISHED_PORT_BASE}")
    if not 1 <= flows <= OUTSIDE_ADDRESSES * (65535 - 1024):
        raise ValueError(f"flows must be 1..{OUTSIDE_ADDRESSES * (65535 - 1024)}")
    dst_mac, src_mac = mac_bytes(UPLINK_MAC), mac_bytes(UPLINK_GATEWAY_MAC)
    host = ipv4_bytes(HOST_ADDRESS)
    for i in range(frame_count(flows, sizes)):
        flow = i % flows
        yield udp_frame(dst_mac, src_mac, outside_address(flow), host, 1024 + flow // OUTSIDE_ADDRESSES,
                        PUBLISHED_PORT_BASE + flow % published_ports, sizes[i % len(sizes)])


# VXLAN: network `bench` is an overlay network with VNI VXLAN_VNI; remote
# VTEP i is 198.19.0.1 + i (outside, behind the uplink gateway); remote
# container MAC i is 02:20:xx:xx:xx:xx. Frame sizes are those of the inner
# frame: the outer headers add VXLAN_OVERHEAD bytes.
VXLAN_VNI = 256
VXLAN_PORT = 4789
VXLAN_OVERHEAD = ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN + 8


def peer_address(i):
    return struct.pack(">I", 0xC6130001 + i)


def remote_mac(i):
    return bytes((0x02, 0x20)) + struct.pack(">I", i)


def remote_ip(i):
    return struct.pack(">I", 0x0A638000 + i)  # 10.99.128.0 + i


def vxlan_encap_frames(destinations, sizes):
    """Frames from one local container (NAT_SOURCE_MAC, 10.99.0.2) to
    `destinations` remote MACs, frame i to remote MAC i % destinations."""
    if destinations < 1:
        raise ValueError("destination-macs must be at least 1")
    src_mac, src_ip = mac_bytes(NAT_SOURCE_MAC), bytes((10, 99, 0, 2))
    for i in range(frame_count(destinations, sizes)):
        d = i % destinations
        yield udp_frame(remote_mac(d), src_mac, src_ip, remote_ip(d), 1024 + (i & 0x3FF), 9, sizes[i % len(sizes)])


def vxlan_decap_frames(source_macs, sizes):
    """VXLAN from remote VTEP 0 to the host address: inner frames from
    `source_macs` remote MACs to SINK_MAC (10.99.0.2), frame i from remote MAC
    i % source_macs; outer UDP source ports vary as a VTEP's flow hash would."""
    if source_macs < 1:
        raise ValueError("source-macs must be at least 1")
    outer_dst, outer_src = mac_bytes(UPLINK_MAC), mac_bytes(UPLINK_GATEWAY_MAC)
    sink, host = mac_bytes(SINK_MAC), ipv4_bytes(HOST_ADDRESS)
    vxlan = struct.pack(">II", 0x08000000, VXLAN_VNI << 8)  # I flag, VNI
    for i in range(frame_count(source_macs, sizes)):
        s = i % source_macs
        inner = udp_frame(sink, remote_mac(s), remote_ip(s), bytes((10, 99, 0, 2)), 1024 + (i & 0x3FF), 9,
                          sizes[i % len(sizes)])
        yield udp_packet(outer_dst, outer_src, peer_address(0), host, 49152 + (i & 0x3FFF), VXLAN_PORT,
                         vxlan + inner)


def scenario_frames(scenario):
    """The frames a scenario's generator replays, by its `kind`."""
    sizes = size_pattern(scenario["frame-sizes"])
    kind = scenario["kind"]
    if kind == "l2" and scenario.get("destination", "known") == "known":
        return l2_frames(scenario["source-macs"], sizes)
    if kind == "nat":
        return nat_frames(scenario["flows"], sizes)
    if kind == "dnat":
        return dnat_frames(scenario["flows"], scenario["published-ports"], sizes)
    if kind == "vxlan-encap":
        return vxlan_encap_frames(scenario["destination-macs"], sizes)
    if kind == "vxlan-decap":
        return vxlan_decap_frames(scenario["source-macs"], sizes)
    raise ValueError(f"scenario {scenario['name']}: kinds are l2 (destination known), nat, dnat, "
                     "vxlan-encap and vxlan-decap")
