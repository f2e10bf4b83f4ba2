#!/usr/bin/env python3
"""The load generators of container_path.py, run inside a container's
namespace (`ip netns exec NS python3 container_load.py ...`):

  udp-send DST PORT SECONDS   64-byte UDP datagrams as fast as one core sends
                              them: sendmmsg (through ctypes) of 64 datagrams
                              per call on a connected socket, so Python's cost
                              is paid once per 64 packets and the sender is
                              about as fast as the kernel's own send path (a
                              pktgen-like sender, without the pktgen module).
                              Prints the datagrams sent.
  rr-server PORT              a TCP echo server for one connection (TCP_NODELAY).
  rr-client DST PORT SECONDS GAP_US
                              64-byte request/response round trips over one
                              TCP connection, one at a time, GAP_US apart (0:
                              back to back); prints JSON {count, p50_us, p99_us}.
Standard library only. The Python time per round trip (a few us) is in every
system's figure alike.
"""
import ctypes
import json
import socket
import sys
import time

MSG = b"\x5a" * 64
BATCH = 64


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(IoVec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]


def udp_send(dst, port, seconds):
    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect((dst, port))
    payload = ctypes.create_string_buffer(MSG, len(MSG))
    iov = IoVec(ctypes.cast(payload, ctypes.c_void_p), len(MSG))
    msgs = (MMsgHdr * BATCH)()
    for m in msgs:
        m.hdr.iov = ctypes.pointer(iov)
        m.hdr.iovlen = 1
    fd, sent = s.fileno(), 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(16):
            n = libc.sendmmsg(fd, msgs, BATCH, 0)
            if n > 0:
                sent += n
    print(sent)


def rr_server(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("listening", flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        data = conn.recv(len(MSG))
        if not data:
            return
        conn.sendall(data)


def rr_client(dst, port, seconds, gap_us):
    conn = socket.create_connection((dst, port), timeout=10)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter_ns()
        conn.sendall(MSG)
        got = 0
        while got < len(MSG):
            got += len(conn.recv(len(MSG) - got))
        samples.append((time.perf_counter_ns() - start) / 1000)
        if gap_us:
            time.sleep(gap_us / 1e6)
    conn.close()
    samples.sort()
    print(json.dumps({"count": len(samples), "p50_us": samples[len(samples) // 2],
                      "p99_us": samples[min(len(samples) - 1, len(samples) * 99 // 100)]}))


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "udp-send":
        udp_send(args[0], int(args[1]), float(args[2]))
    elif mode == "rr-server":
        rr_server(int(args[0]))
    elif mode == "rr-client":
        rr_client(args[0], int(args[1]), float(args[2]), int(args[3]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
