#!/usr/bin/python3
"""Asks a name the way a Windows client does and prints every answer as a JSON line:
`resolve.py llmnr4|llmnr6|mdns NAME [--timeout S]`. LLMNR: flags 0 to 224.0.0.252 or
ff02::1:3 from a random port; mDNS: a QM question to 224.0.0.251 from port 5353."""
import argparse
import json
import random
import socket
import struct
import time


def qname(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\x00"


def skip_name(m, off):
    while True:
        n = m[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def answers(m):
    _, flags, qd, an = struct.unpack(">HHHH", m[:8])
    off = 12
    for _ in range(qd):
        off = skip_name(m, off) + 4
    out = []
    for _ in range(an):
        off = skip_name(m, off)
        t, _, ttl, ln = struct.unpack(">HHIH", m[off:off + 10])
        rd = m[off + 10:off + 10 + ln]
        off += 10 + ln
        if t == 1 and ln == 4:
            out.append(socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28 and ln == 16:
            out.append(socket.inet_ntop(socket.AF_INET6, rd))
    return flags, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("proto", choices=["llmnr4", "llmnr6", "mdns"])
    p.add_argument("name")
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--iface", default="eth0")
    a = p.parse_args()
    tid = random.randrange(65536)
    if a.proto == "llmnr6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::", 0))
        dst = ("ff02::1:3", 5355, 0, socket.if_nametoindex(a.iface))
        msg = struct.pack(">HHHHHH", tid, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 28, 1)
    elif a.proto == "llmnr4":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", 0))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        dst = ("224.0.0.252", 5355)
        msg = struct.pack(">HHHHHH", tid, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 1, 1)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", 5353))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        dst = ("224.0.0.251", 5353)
        msg = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 1, 1)
    start = time.time()
    s.sendto(msg, dst)
    deadline = start + a.timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            m, src = s.recvfrom(2048)
        except socket.timeout:
            break
        if len(m) < 12 or not struct.unpack(">H", m[2:4])[0] & 0x8000:
            continue
        flags, addrs = answers(m)
        print(json.dumps({"from": src[0], "answers": addrs, "flags": flags, "after_ms": round((time.time() - start) * 1000)}), flush=True)


if __name__ == "__main__":
    main()
