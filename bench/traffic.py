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


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, frame_size):
    """One Ethernet/IPv4/UDP frame of `frame_size` bytes on the wire (FCS included)."""
    if not MIN_FRAME <= frame_size <= MAX_FRAME:
        raise ValueError(f"frame size {frame_size} outside {MIN_FRAME}..{MAX_FRAME}")
    length = frame_size - FCS_LEN
    ip_len = length - ETH_HDR_LEN
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0, src_ip, dst_ip)
    header = header[:10] + struct.pack(">H", ipv4_checksum(header)) + header[12:]
    udp = struct.pack(">HHHH", src_port, dst_port, ip_len - IPV4_HDR_LEN, 0)
    frame = dst_mac + src_mac + b"\x08\x00" + header + udp
    return frame + bytes(length - len(frame))


def write_pcap(path, frames):
    """Write `frames` (an iterable of bytes) as a microsecond pcap; returns the count."""
    count = 0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for frame in frames:
            out.write(struct.pack("<IIII", count // 1000000, count % 1000000, len(frame), len(frame)))
            out.write(frame)
            count += 1
    return count


def size_pattern(spec):
    """Sizes of a scenario's `frame-sizes`: a list of integers or the word "imix"."""
    if spec == "imix":
        return list(IMIX_PATTERN)
    sizes = [int(s) for s in spec]
    if not sizes:
        raise ValueError("frame-sizes is empty")
    return sizes


def l2_frames(source_macs, sizes, dst_mac=SINK_MAC):
    """Frames for an L2 scenario: every source MAC appears at least once, sizes cycle.

    Frame i comes from source MAC i % source_macs with size sizes[i % len(sizes)].
    The frame count is a multiple of both, at least MIN_PCAP_FRAMES, so every
    lap of the replayed file has exactly the same MAC and size mix.
    """
    if source_macs < 1:
        raise ValueError("source-macs must be at least 1")
    dst = mac_bytes(dst_mac)
    period = math.lcm(source_macs, len(sizes))
    count = period * -(-MIN_PCAP_FRAMES // period)
    dst_ip = bytes((10, 99, 0, 2))
    for i in range(count):
        host = i % source_macs
        src_ip = bytes((10, 100 + (host >> 16), (host >> 8) & 0xFF, host & 0xFF))
        yield udp_frame(dst, source_mac(host), src_ip, dst_ip, 1024 + (i & 0x3FF), 9, sizes[i % len(sizes)])


# MASQUERADE scenarios: one container port (the generator) behind network
# `bench` (10.99.0.0/16, gateway 10.99.0.1), every frame addressed to the
# gateway's MAC (Docker's 02:42 + gateway IP) and routed out of the uplink.
NAT_GATEWAY_MAC = "02:42:0a:63:00:01"
NAT_SOURCE_MAC = "02:10:00:00:00:00"
NAT_SOURCES = 65000          # source addresses 10.99.0.2 .. 10.99.253.233
NAT_DESTINATIONS = 65521     # a prime > NAT_SOURCES: destinations 198.18.0.0 + (i % 65521)


def nat_flow(i):
    """(src_ip, src_port, dst_ip) of flow number i; every flow is distinct.

    Flows with the same source port (a block of NAT_SOURCES consecutive
    numbers) go to distinct destinations, so every flow keeps its source port
    through MASQUERADE and no port search is needed: the steady-state numbers
    measure translation, not collisions.
    """
    src = 0x0A630002 + i % NAT_SOURCES
    dst = 0xC6120000 + i % NAT_DESTINATIONS
    return struct.pack(">I", src), 1024 + i // NAT_SOURCES, struct.pack(">I", dst)


def nat_frames(flows, sizes):
    """Frames of `flows` distinct UDP flows, each appearing equally often (at
    least MIN_PCAP_FRAMES frames in all), frame i belonging to flow i % flows."""
    if not 1 <= flows <= NAT_SOURCES * (65535 - 1024):
        raise ValueError(f"flows must be 1..{NAT_SOURCES * (65535 - 1024)}")
    dst_mac, src_mac = mac_bytes(NAT_GATEWAY_MAC), mac_bytes(NAT_SOURCE_MAC)
    period = math.lcm(flows, len(sizes))
    count = period * -(-MIN_PCAP_FRAMES // period)
    for i in range(count):
        src_ip, src_port, dst_ip = nat_flow(i % flows)
        yield udp_frame(dst_mac, src_mac, src_ip, dst_ip, src_port, 9, sizes[i % len(sizes)])
