#!/usr/bin/python3
"""Asks a name the way a Windows client does and prints every answer as a JSON line:
`resolve.py llmnr4|llmnr6|mdns|mdns6 NAME [--timeout S]`. LLMNR: flags 0 to 224.0.0.252 or
ff02::1:3 from a random port; mDNS: a QM question (A, or AAAA for mdns6) to 224.0.0.251 or
ff02::fb from port 5353, listening on the group too (answers to QM questions are multicast)."""
import argparse
import json
import random
import socket
import struct
import time


def qname(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\x00"


def read_name(m, off):
    """The name at `off` (following compression pointers) and the offset after it."""
    labels, end, hops = [], None, 0
    while hops < 64:
        n = m[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | m[off + 1]
            hops += 1
            continue
        labels.append(m[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    return ".".join(labels).lower(), end if end is not None else off


def answers(m, name):
    """The flags and the A/AAAA addresses the message gives for `name` (any section)."""
    _, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", m[:12])
    off = 12
    for _ in range(qd):
        off = read_name(m, off)[1] + 4
    out = []
    for _ in range(an + ns + ar):
        rname, off = read_name(m, off)
        t, _, ttl, ln = struct.unpack(">HHIH", m[off:off + 10])
        rd = m[off + 10:off + 10 + ln]
        off += 10 + ln
        if rname != name.lower().rstrip("."):
            continue
        if t == 1 and ln == 4:
            out.append(socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28 and ln == 16:
            out.append(socket.inet_ntop(socket.AF_INET6, rd))
    return flags, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("proto", choices=["llmnr4", "llmnr6", "mdns", "mdns6"])
    p.add_argument("name")
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--iface", default="eth0", help="the interface asked on (a VLAN's: eth0.42)")
    p.add_argument("--windows", action="store_true", help="Windows 8+ timers: resend the query after 410 ms, twice, while nothing answers")
    a = p.parse_args()
    tid = random.randrange(65536)
    if a.proto == "llmnr6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::", 0))
        dst = ("ff02::1:3", 5355, 0, socket.if_nametoindex(a.iface))
        msg = struct.pack(">HHHHHH", tid, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 28, 1)
    elif a.proto == "llmnr4":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
        s.bind(("", 0))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        dst = ("224.0.0.252", 5355)
        msg = struct.pack(">HHHHHH", tid, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 1, 1)
    elif a.proto == "mdns6":
        idx = socket.if_nametoindex(a.iface)
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", 5353))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::fb") + struct.pack("@I", idx))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
        dst = ("ff02::fb", 5353, 0, idx)
        msg = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 28, 1)
    else:
        idx = socket.if_nametoindex(a.iface)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
        s.bind(("", 5353))
        # (struct ip_mreqn: the group, any address, the interface.)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.251") + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        dst = ("224.0.0.251", 5353)
        msg = struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 1, 1)
    start = time.time()
    s.sendto(msg, dst)
    deadline = start + a.timeout
    resends = [start + 0.41, start + 0.82] if a.windows else []
    answered = False
    while True:
        now = time.time()
        if resends and not answered and now >= resends[0]:
            resends.pop(0)
            s.sendto(msg, dst)
            continue
        left = deadline - now
        if left <= 0:
            break
        if resends and not answered:
            left = min(left, max(0.0, resends[0] - now))
        s.settimeout(max(left, 0.001))
        try:
            m, src = s.recvfrom(2048)
        except socket.timeout:
            if resends and not answered and time.time() < deadline:
                continue
            break
        if len(m) < 12 or not struct.unpack(">H", m[2:4])[0] & 0x8000:
            continue
        try:
            flags, addrs = answers(m, a.name)
        except (IndexError, struct.error):
            continue
        if not addrs:
            continue
        answered = True
        print(json.dumps({"from": src[0], "answers": addrs, "flags": flags, "after_ms": round((time.time() - start) * 1000)}), flush=True)


if __name__ == "__main__":
    main()
