#!/usr/bin/python3
"""Writes the realistic frame mix of the throughput bench.

Mostly TCP/UDP data in IMIX-like sizes (IPv4 and IPv6, some 802.1Q-tagged), plus a few percent of
ARP, DNS, NBT-NS, LLMNR and mDNS — the name-resolution traffic antidote inspects — and a few
follow-on flows (HTTP /wpad.dat, SMB2). Deterministic (seeded). Addresses only in 198.18.0.0/15
and fd00:198:18::/64.

usage: bench/gen_mix.py OUT.pcap [N] [--quiet] [--smb-share F]

--quiet: a network with no poisoner — every name-resolution answer of the mix (all from three
poisoners answering every name, so the default policy learns them at their second name) is
replaced by a query of the same size class; every other frame is the same.

--smb-share F: a file-server network — a fraction F of the data frames are replaced by SMB2
segments between hosts (TCP port 445, an SMB2 header after the NetBIOS session header). Under the default policy, once a poisoner is known, these are what the follow-on rules
look at.
"""
import random
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw, wrpcap)
from scapy.layers.netbios import NBNS_ADD_ENTRY, NBNSHeader, NBNSQueryRequest, NBNSQueryResponse

rnd = random.Random(2544)
MACS = [f"02:ad:00:00:{i >> 8:02x}:{i & 0xff:02x}" for i in range(1, 200)]


def ip4(i):
    return f"198.18.{(i >> 8) & 1}.{i & 0xff or 1}"


def ip6(i):
    return f"fd00:198:18::{i:x}"


def l2(vlan):
    e = Ether(src=rnd.choice(MACS), dst=rnd.choice(MACS))
    return e / Dot1Q(vlan=rnd.choice([10, 20, 30])) if vlan else e


# The mix's poisoners: three hosts answering every name they hear (each from its own MAC and
# addresses), so the default policy learns them at their second name.
P4 = ["198.18.1.201", "198.18.1.202", "198.18.1.203"]
P6 = ["fd00:198:18::1c9", "fd00:198:18::1ca", "fd00:198:18::1cb"]
PMAC = ["02:ad:00:00:01:c9", "02:ad:00:00:01:ca", "02:ad:00:00:01:cb"]


def poisoner(eth, b):
    """`eth` (drawn as every frame's Ethernet header is, so the mix's draws stay the same) sent
    from poisoner b % 3."""
    eth.src = PMAC[b % 3]
    return eth


def pad(n):
    return Raw(bytes(rnd.getrandbits(8) for _ in range(max(0, n))))


def smb_frame(size):
    a, b = rnd.randrange(1, 500), rnd.randrange(1, 500)
    body = bytes([0xfe]) + b"SMB" + bytes([64, 0]) + bytes(58)
    f = l2(False) / IP(src=ip4(a), dst=ip4(b)) / TCP(sport=rnd.randrange(1024, 65535), dport=445, flags="PA")
    f = f / Raw(bytes([0, 0, 0, 64]) + body)
    return f / pad(size - 4 - len(f))


def data_frame():
    size = rnd.choices([64, 594, 1518], weights=[58, 33, 9])[0]
    if SMB_SHARE and smb_rnd.random() < SMB_SHARE:
        return smb_frame(max(size, 150))
    vlan = rnd.random() < 0.1
    v6 = rnd.random() < 0.15
    a, b = rnd.randrange(1, 500), rnd.randrange(1, 500)
    net = IPv6(src=ip6(a), dst=ip6(b)) if v6 else IP(src=ip4(a), dst=ip4(b))
    if rnd.random() < 0.8:
        l4 = TCP(sport=rnd.randrange(1024, 65535), dport=rnd.choice([443, 80, 22, 3389, 8080]), flags="A",
                 seq=rnd.getrandbits(32), ack=rnd.getrandbits(32))
    else:
        l4 = UDP(sport=rnd.randrange(1024, 65535), dport=rnd.choice([443, 4789, 123, 5004]))
    f = l2(vlan) / net / l4
    return f / pad(size - 4 - len(f))  # size includes the 4-byte FCS, which pcaps omit


def name_frame():
    kind = rnd.choices(["arp", "dns", "nbns", "llmnr", "mdns", "wpad", "smb"], weights=[30, 25, 15, 12, 8, 5, 5])[0]
    a, b = rnd.randrange(1, 500), rnd.randrange(1, 500)
    name = rnd.choice(["fileserver", "printer", "wpad", "sharepoint", "fileservr", "dc01", "nas"])
    if kind == "arp":
        return Ether(src=MACS[a % 199], dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=ip4(a), pdst=ip4(b), hwsrc=MACS[a % 199])
    if kind == "dns":
        return l2(False) / IP(src=ip4(a), dst=ip4(b)) / UDP(sport=rnd.randrange(1024, 65535), dport=53) / DNS(
            rd=1, qd=DNSQR(qname=name + ".corp.example"))
    if kind == "nbns":
        if rnd.random() < 0.7:
            return Ether(src=MACS[a % 199], dst="ff:ff:ff:ff:ff:ff") / IP(src=ip4(a), dst="198.18.1.255") / UDP(
                sport=137, dport=137) / NBNSHeader(NAME_TRN_ID=rnd.getrandbits(16), NM_FLAGS=0x11, QDCOUNT=1) / \
                NBNSQueryRequest(QUESTION_NAME=name.upper())
        answer = poisoner(l2(False), b) / IP(src=P4[b % 3], dst=ip4(a)) / UDP(sport=137, dport=137) / NBNSHeader(
            NAME_TRN_ID=rnd.getrandbits(16), RESPONSE=1, NM_FLAGS=0x50, ANCOUNT=1) / NBNSQueryResponse(
            RR_NAME=name.upper(), TTL=165, ADDR_ENTRY=[NBNS_ADD_ENTRY(NB_ADDRESS=P4[b % 3])])
        if QUIET:  # the same draws from the generator, so the rest of the mix is unchanged
            return Ether(src=MACS[a % 199], dst="ff:ff:ff:ff:ff:ff") / IP(src=ip4(a), dst="198.18.1.255") / UDP(
                sport=137, dport=137) / NBNSHeader(NAME_TRN_ID=1, NM_FLAGS=0x11, QDCOUNT=1) / \
                NBNSQueryRequest(QUESTION_NAME=name.upper())
        return answer
    if kind == "llmnr":
        v6 = rnd.random() < 0.3
        if rnd.random() < 0.7:
            net = IPv6(src=ip6(a), dst="ff02::1:3") if v6 else IP(src=ip4(a), dst="224.0.0.252", ttl=1)
            return Ether(src=MACS[a % 199], dst="33:33:00:01:00:03" if v6 else "01:00:5e:00:00:fc") / net / UDP(
                sport=rnd.randrange(49152, 65535), dport=5355) / DNS(id=rnd.getrandbits(16), qd=DNSQR(qname=name))
        net = IPv6(src=P6[b % 3], dst=ip6(a)) if v6 else IP(src=P4[b % 3], dst=ip4(a))
        answer = poisoner(l2(False), b) / net / UDP(sport=5355, dport=rnd.randrange(49152, 65535)) / DNS(
            id=rnd.getrandbits(16), qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=30, rdata=P4[b % 3]))
        if QUIET:
            net = IPv6(src=ip6(a), dst="ff02::1:3") if v6 else IP(src=ip4(a), dst="224.0.0.252", ttl=1)
            return Ether(src=MACS[a % 199], dst="33:33:00:01:00:03" if v6 else "01:00:5e:00:00:fc") / net / UDP(
                sport=55000, dport=5355) / DNS(id=1, qd=DNSQR(qname=name))
        return answer
    if kind == "mdns":
        return Ether(src=MACS[a % 199], dst="01:00:5e:00:00:fb") / IP(src=ip4(a), dst="224.0.0.251", ttl=255) / UDP(
            sport=5353, dport=5353) / DNS(id=0, qd=DNSQR(qname=name + ".local"))
    if kind == "wpad":
        return l2(False) / IP(src=ip4(a), dst=ip4(b)) / TCP(sport=rnd.randrange(1024, 65535), dport=80, flags="PA") / Raw(
            b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\nUser-Agent: WinHttp-Autoproxy-Service/5.1\r\n\r\n")
    # SMB2 NEGOTIATE request head (NetBIOS session header + SMB2 header)
    smb = bytes([0, 0, 0, 0x44]) + b"\xfeSMB" + bytes([64, 0]) + bytes(58)
    return l2(False) / IP(src=ip4(a), dst=ip4(b)) / TCP(sport=rnd.randrange(1024, 65535), dport=445, flags="PA") / Raw(smb)


QUIET = False
SMB_SHARE = 0.0
smb_rnd = random.Random(445)


def main():
    global QUIET, SMB_SHARE
    argv = sys.argv[1:]
    if "--smb-share" in argv:
        i = argv.index("--smb-share")
        SMB_SHARE = float(argv[i + 1])
        del argv[i:i + 2]
    args = [a for a in argv if a != "--quiet"]
    QUIET = len(args) < len(argv)
    out = args[0]
    n = int(args[1]) if len(args) > 1 else 4096
    frames = [name_frame() if rnd.random() < 0.05 else data_frame() for _ in range(n)]
    # Timestamps a microsecond apart from a fixed second: scapy rounds a frame's own creation
    # time to microseconds and can write 1,000,000 of them, which pcap readers reject.
    for i, f in enumerate(frames):
        f.time = 1_796_400_000 + i // 1000 + (i % 1000) / 1e6
    wrpcap(out, frames)
    print(f"gen_mix: {n} frames{' (quiet: no answers)' if QUIET else ''} -> {out}")


if __name__ == "__main__":
    main()
