#!/usr/bin/python3
"""Writes the fuzzers' seed corpora from the crafted capture (scripts/gen_wire_corpus.py):
whole frames for `frame` and `l2l3l4`, and the payloads of each protocol for its own target.

usage: scripts/fuzz_seeds.py CORPUS.pcap OUT_DIR
"""
import hashlib
import os
import sys

from scapy.all import IP, TCP, UDP, IPv6, Raw, rdpcap


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def main():
    pcap, out = sys.argv[1], sys.argv[2]
    for p in rdpcap(pcap):
        raw = bytes(p)
        put(out, "frame", raw)
        put(out, "l2l3l4", raw)
        if IP in p:
            put(out, "l2l3l4", bytes(p[IP]))
        if IPv6 in p:
            put(out, "l2l3l4", bytes(p[IPv6]))
        if UDP in p:
            u = p[UDP]
            pay = bytes(u.payload)
            ports = {u.sport, u.dport}
            if ports & {5353, 5355}:
                put(out, "dns", pay)
            if 137 in ports:
                put(out, "nbns", pay)
            if 1434 in ports:
                put(out, "ssrp", pay)
        if TCP in p and Raw in p:
            pay = bytes(p[Raw])
            if {p[TCP].sport, p[TCP].dport} & {445, 139}:
                put(out, "smb2", pay)
            else:
                put(out, "http_ntlm", pay)


if __name__ == "__main__":
    main()
