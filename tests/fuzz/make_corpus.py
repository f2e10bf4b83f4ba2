#!/usr/bin/env python3
"""Writes the seed corpus of pipeline_fuzz (tests/fuzz/corpus/pipeline/).

Each seed is a short conversation with the deployment pipeline_fuzz.cpp sets
up: records [port selector][time step][length, 2 bytes BE][frame], selector
0 = uplink, 1/2 = containers of the bridge network, 3 = the overlay network's
port, 4 = the port of the network with ICC off. Frames are well formed (valid
checksums) so that the fuzzer starts from the deep paths. Rerun after
changing the deployment: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

UPLINK, C1, C2, OVERLAY, QUIET = range(5)

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

def ip(s):
    return bytes(int(x) for x in s.split("."))

def docker_mac(a):
    return b"\x02\x42" + ip(a)

UP_MAC, ROUTER_MAC, PEER_MAC = mac("02:aa:00:00:00:01"), mac("02:bb:00:00:00:01"), mac("02:bb:00:00:00:09")
HOST, ROUTER, PEER, FAR = "192.168.50.2", "192.168.50.1", "192.168.50.9", "203.0.113.9"
GW, C1_IP, C2_IP = "172.17.0.1", "172.17.0.2", "172.17.0.3"
OGW, LOCAL, REMOTE = "10.10.0.1", "10.10.0.2", "10.10.0.3"
QGW, Q1, Q2 = "172.18.0.1", "172.18.0.2", "172.18.0.3"
BCAST = b"\xff" * 6

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def eth(dst, src, payload, ethertype=0x0800):
    return dst + src + struct.pack("!H", ethertype) + payload

def ipv4(src, dst, proto, payload, ttl=64, df=False, frag=0, options=b""):
    ihl = 5 + len(options) // 4
    flags = (0x4000 if df else 0) | frag
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 7, flags, ttl, proto, 0, ip(src), ip(dst))
    h += options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def l4_csum(src, dst, proto, seg):
    return csum(ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, len(seg)) + seg)

def udp(src, dst, sport, dport, data=b"fuzz" * 4, **kw):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return ipv4(src, dst, 17, seg[:6] + struct.pack("!H", l4_csum(src, dst, 17, seg)) + seg[8:], **kw)

def tcp(src, dst, sport, dport, flags=0x02, **kw):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    return ipv4(src, dst, 6, seg[:16] + struct.pack("!H", l4_csum(src, dst, 6, seg)) + seg[18:], **kw)

def icmp(src, dst, typ, code, rest, data, **kw):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    return ipv4(src, dst, 1, m[:2] + struct.pack("!H", csum(m)) + m[4:], **kw)

def echo(src, dst, ident=1, seq=1, **kw):
    return icmp(src, dst, 8, 0, struct.pack("!HH", ident, seq), b"ping" * 8, **kw)

def arp(op, sha, sip, tha, tip):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip(sip) + tha + ip(tip)

def arp_frame(dst, op, sha, sip, tha, tip):
    return eth(dst, sha, arp(op, sha, sip, tha, tip), 0x0806)

def vxlan(vni, inner, src=PEER, sport=50123):
    return eth(UP_MAC, PEER_MAC, udp(src, HOST, sport, 4789, struct.pack("!II", 0x08000000, vni << 8) + inner))

def record(port, frame, step=0):
    return struct.pack("!BBH", port, step, len(frame)) + frame

C1_MAC, C2_MAC, GW_MAC = docker_mac(C1_IP), docker_mac(C2_IP), docker_mac(GW)
LOCAL_MAC, REMOTE_MAC, OGW_MAC = docker_mac(LOCAL), docker_mac(REMOTE), docker_mac(OGW)
Q1_MAC, Q2_MAC = docker_mac(Q1), docker_mac(Q2)
router_reply = arp_frame(UP_MAC, 2, ROUTER_MAC, ROUTER, UP_MAC, HOST)
peer_reply = arp_frame(UP_MAC, 2, PEER_MAC, PEER, UP_MAC, HOST)
masq_out = eth(GW_MAC, C1_MAC, udp(C1_IP, FAR, 40000, 53))

SEEDS = {
    "c1_arp_and_ping_gateway": [record(C1, arp_frame(BCAST, 1, C1_MAC, C1_IP, b"\0" * 6, GW)),
                                record(C1, eth(GW_MAC, C1_MAC, echo(C1_IP, GW)), 1)],
    "c1_c2_unicast_and_broadcast": [record(C2, eth(BCAST, C2_MAC, udp(C2_IP, "172.17.255.255", 68, 67))),
                                    record(C1, eth(C2_MAC, C1_MAC, udp(C1_IP, C2_IP, 1000, 2000)), 1),
                                    record(C2, eth(C1_MAC, C2_MAC, tcp(C2_IP, C1_IP, 2000, 1000, 0x12)), 1)],
    "masquerade_out_and_reply": [record(C1, masq_out), record(UPLINK, router_reply, 1),
                                 record(UPLINK, eth(UP_MAC, ROUTER_MAC, udp(FAR, HOST, 53, 40000)), 1),
                                 record(C1, eth(GW_MAC, C1_MAC, tcp(C1_IP, FAR, 40001, 80)), 1),
                                 record(UPLINK, eth(UP_MAC, ROUTER_MAC, tcp(FAR, HOST, 80, 40001, 0x12)), 1)],
    "masquerade_ping_and_frag_needed": [
        record(UPLINK, router_reply),
        record(C1, eth(GW_MAC, C1_MAC, echo(C1_IP, FAR, 77)), 1),
        record(UPLINK, eth(UP_MAC, ROUTER_MAC, icmp(ROUTER, HOST, 3, 4, struct.pack("!HH", 0, 1400),
                                                    udp(HOST, FAR, 40000, 53)[:28])), 1)],
    "published_port_syn_and_reply": [
        record(UPLINK, router_reply),
        record(UPLINK, eth(UP_MAC, ROUTER_MAC, tcp(FAR, HOST, 5555, 8080)), 1),
        record(C1, eth(GW_MAC, C1_MAC, tcp(C1_IP, FAR, 80, 5555, 0x12)), 1),
        record(C2, eth(GW_MAC, C2_MAC, udp(C2_IP, HOST, 3333, 8080)), 1)],
    "uplink_host_arp_and_ping": [record(UPLINK, arp_frame(BCAST, 1, ROUTER_MAC, ROUTER, b"\0" * 6, HOST)),
                                 record(UPLINK, eth(UP_MAC, ROUTER_MAC, echo(FAR, HOST)), 1),
                                 record(UPLINK, eth(UP_MAC, ROUTER_MAC, udp(FAR, HOST, 9, 9999)), 1)],
    "router_errors_ttl_and_df": [record(UPLINK, router_reply),
                                 record(C1, eth(GW_MAC, C1_MAC, udp(C1_IP, FAR, 1, 2, ttl=1)), 1),
                                 record(C1, eth(GW_MAC, C1_MAC, tcp(C1_IP, FAR, 5, 6, df=True) + b"y" * 1480), 1)],
    "overlay_decap_learn_and_encap": [
        record(UPLINK, peer_reply),
        record(UPLINK, vxlan(300, arp_frame(BCAST, 1, REMOTE_MAC, REMOTE, b"\0" * 6, LOCAL)), 1),
        record(UPLINK, vxlan(300, eth(LOCAL_MAC, REMOTE_MAC, udp(REMOTE, LOCAL, 1000, 7))), 1),
        record(OVERLAY, eth(REMOTE_MAC, LOCAL_MAC, udp(LOCAL, REMOTE, 7, 1000)), 1),
        record(OVERLAY, arp_frame(BCAST, 1, LOCAL_MAC, LOCAL, b"\0" * 6, REMOTE), 1)],
    "overlay_unknown_peer_and_bad_vni": [
        record(UPLINK, vxlan(300, eth(BCAST, REMOTE_MAC, udp(REMOTE, "10.10.0.255", 1, 2)), src="192.168.50.66")),
        record(UPLINK, vxlan(301, eth(LOCAL_MAC, REMOTE_MAC, udp(REMOTE, LOCAL, 1, 2))), 1),
        record(UPLINK, vxlan(300, eth(OGW_MAC, REMOTE_MAC, echo(REMOTE, OGW))), 1)],
    "quiet_network_icc_off": [record(QUIET, eth(Q2_MAC, Q1_MAC, udp(Q1, Q2, 1, 2))),
                              record(QUIET, eth(docker_mac(QGW), Q1_MAC, echo(Q1, QGW)), 1),
                              record(QUIET, eth(docker_mac(QGW), Q1_MAC, udp(Q1, C1_IP, 1, 2)), 1)],
    "odd_headers": [record(C1, eth(BCAST, C1_MAC, struct.pack("!HH", 5, 0x0800) + udp(C1_IP, C2_IP, 1, 2), 0x8100)),
                    record(C1, eth(C2_MAC, C1_MAC, udp(C1_IP, C2_IP, 1, 2)[:20]), 1),
                    record(C1, eth(GW_MAC, C1_MAC, ipv4(C1_IP, FAR, 17, b"\0" * 16, frag=0x2001)), 1),
                    record(C1, eth(GW_MAC, C1_MAC, ipv4(C1_IP, FAR, 17, b"\0" * 16, options=b"\x01" * 4)), 1),
                    record(UPLINK, eth(UP_MAC, ROUTER_MAC, b"\x45\x00"), 1)],
}

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "pipeline")
    os.makedirs(out, exist_ok=True)
    for name, records in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"".join(records))

if __name__ == "__main__":
    main()
