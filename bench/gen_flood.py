#!/usr/bin/env python3
"""Flood mixes of what learning the network makes the appliance read (bench/flood.sh).

    bench/gen_flood.py KIND OUT.pcap [N]

KIND: arp        ARP requests, every frame from a new sender (address and MAC): a new binding each
      nbns-reg   NBT-NS name registrations (broadcast), every frame a new name and sender
      mdns-probe mDNS probes to the group, every frame a new name and sender
      dhcp       DHCP requests with a host name, every frame a new client MAC and name
      answers    forged LLMNR answers, every frame a new name from a new source (MAC and address)
      answers-one-source  forged LLMNR answers from one source, every frame a new name
      answers-one-name    forged LLMNR answers for one name, every frame from a new source
      answers-qinq        `answers` in two VLAN tags (802.1ad + 802.1Q: a layout the triage
                          does not read, so the dissector does)
      queries    LLMNR queries to the group, every frame a new name from a new source
      malformed  LLMNR answers cut short or with impossible counts, every frame a new source
      fragments  IPv4 fragments of LLMNR answers (first and later fragments), new sources
      first-fragments     first IPv4 fragments of LLMNR answers, every frame a new source (each
                          a possible answer the budget charges: its message is not read)
      first-fragments-v6  the same over IPv6 (a fragment header: a layout the triage does not
                          read)
      vlan-stack `answers` in three VLAN tags (beyond what the dissector reads)
      syn-to-poisoner     TCP SYNs to a learned poisoner's SMB port, every frame from a new
                          source (the first frames: the poisoner's answers for two names, which
                          get it learned): each one a follow-on the rules judge, alert and drop
      syn-to-poisoner-short  the same SYNs unpadded (54 bytes: shorter than the header look
                          reads, as a veth may deliver them)
      tcp-options         TCP segments with an IPv4 option (a layout the header look does not
                          read) between made-up hosts, once a poisoner is learned (the first
                          frames): the follow-on rules want TCP, the address gate does not see them
      canary-answers      forged LLMNR answers sent to the canary identity (bench/flood.sh
                          --canaries: 02:cc:00:00:00:fa, 198.18.1.250), every frame from a new
                          source: each a poisoner caught
      to-canary           UDP datagrams to the canary identity from new sources (not answers)
      arp-canary          ARP requests for the canary identity's address from new senders: each
                          one answered
      ssrp-replies        SQL browser replies (UDP 1434), every frame from a new source, once a
                          poisoner is learned (the first frames): replies the rules want, each
                          charged to the answer budget
Every frame is one an attacker on the segment can send; all are forwarded under the default
policy, and each costs the learning its worst: a table visit and, past the table's size, an
eviction.
"""
import sys
from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, IP, IPOption, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrFragment, Raw, fragment, wrpcap


def mac(i):
    return "02:%02x:%02x:%02x:%02x:%02x" % (0xf0 | (i >> 32) & 0xf, (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)


def ip(i):
    return "198.%d.%d.%d" % (18 + (i >> 16) % 2, (i >> 8) & 0xff, i & 0xff or 1)


def nb_encode(name):
    n = name.upper().ljust(15)[:15].encode() + b"\x00"
    return b"\x20" + bytes(c for b in n for c in (0x41 + (b >> 4), 0x41 + (b & 0xf))) + b"\x00"


def frame(kind, i):
    m, a, name = mac(i), ip(i), "h%06x" % i
    if kind == "arp":
        return Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=m, psrc=a, pdst="198.18.0.1")
    if kind == "nbns-reg":
        q = nb_encode(name)
        msg = bytes([i >> 8 & 0xff, i & 0xff, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1]) + q + b"\x00\x20\x00\x01"
        msg += b"\xc0\x0c\x00\x20\x00\x01\x00\x04\x93\xe0\x00\x06\x00\x00" + bytes(int(x) for x in a.split("."))
        return Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / IP(src=a, dst="198.18.255.255") / UDP(sport=137, dport=137) / Raw(msg)
    if kind == "mdns-probe":
        return (Ether(src=m, dst="01:00:5e:00:00:fb") / IP(src=a, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353)
                / DNS(id=0, rd=0, qd=DNSQR(qname=name + ".local", qtype="ALL", qclass=0x8001), ns=DNSRR(rrname=name + ".local", type="A", ttl=120, rdata=a)))
    if kind == "dhcp":
        return (Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                / BOOTP(op=1, chaddr=bytes.fromhex(m.replace(":", "")) + b"\x00" * 10, xid=i)
                / DHCP(options=[("message-type", "request"), ("requested_addr", a), ("hostname", name.encode()), "end"]))
    if kind == "answers":
        # Forged LLMNR answers, each for a new name from a new source (what one attacker can
        # send): every one reaches the rules about answers and what learning reads of them.
        return (Ether(src=m, dst="02:ad:00:00:00:10") / IP(src=a, dst="198.18.0.10") / UDP(sport=5355, dport=50000)
                / DNS(id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=30, rdata=a)))
    victim = "02:ad:00:00:00:10"

    def answer(src_mac, src_ip, qname):
        return (IP(src=src_ip, dst="198.18.0.10") / UDP(sport=5355, dport=50000)
                / DNS(id=i & 0xffff, qr=1, qd=DNSQR(qname=qname), an=DNSRR(rrname=qname, ttl=30, rdata=src_ip)))
    if kind == "answers-one-source":
        return Ether(src="02:ad:00:00:00:66", dst=victim) / answer(None, "198.18.0.66", name)
    if kind == "answers-one-name":
        return Ether(src=m, dst=victim) / answer(m, a, "fileserver")
    if kind == "answers-qinq":
        return Ether(src=m, dst=victim, type=0x88a8) / Dot1Q(vlan=100, type=0x8100) / Dot1Q(vlan=10) / answer(m, a, name)
    if kind == "vlan-stack":
        return Ether(src=m, dst=victim) / Dot1Q(vlan=100) / Dot1Q(vlan=10) / Dot1Q(vlan=20) / answer(m, a, name)
    if kind == "queries":
        return (Ether(src=m, dst="01:00:5e:00:00:fc") / IP(src=a, dst="224.0.0.252", ttl=1) / UDP(sport=50000 + i % 10000, dport=5355)
                / DNS(id=i & 0xffff, qd=DNSQR(qname=name)))
    if kind == "malformed":
        whole = bytes(Ether(src=m, dst=victim) / answer(m, a, name))
        if i % 2:
            # Cut short inside the DNS message (the IP and UDP lengths still say whole).
            return Ether(whole[: 42 + 12 + (i % 20)])
        # Whole, but with an answer count of 40,000 and a question name pointing at itself.
        b = bytearray(whole)
        b[42 + 6:42 + 8] = (40000).to_bytes(2, "big")
        b[42 + 12:42 + 14] = b"\xc0\x0c"
        return Ether(bytes(b))
    if kind == "fragments":
        pkt = IP(src=a, dst="198.18.0.10", id=i & 0xffff) / UDP(sport=5355, dport=50000) / DNS(
            id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=[DNSRR(rrname=name, ttl=30, rdata=a)] * 4)
        frags = fragment(pkt, fragsize=48)
        return Ether(src=m, dst=victim) / frags[i % len(frags)]
    if kind == "first-fragments":
        pkt = IP(src=a, dst="198.18.0.10", id=i & 0xffff) / UDP(sport=5355, dport=50000) / DNS(
            id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=[DNSRR(rrname=name, ttl=30, rdata=a)] * 4)
        return Ether(src=m, dst=victim) / fragment(pkt, fragsize=48)[0]
    if kind == "first-fragments-v6":
        a6 = "fd00:198:18::%x:%x" % (i >> 16, i & 0xffff)
        dgram = bytes(IPv6(src=a6, dst="fd00:198:18::10") / UDP(sport=5355, dport=50000) / DNS(
            id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=[DNSRR(rrname=name, type="AAAA", ttl=30, rdata=a6)] * 4))[40:]
        return Ether(src=m, dst=victim) / IPv6(src=a6, dst="fd00:198:18::10") / IPv6ExtHdrFragment(id=i, m=1, offset=0, nh=17) / Raw(dgram[:48])
    if kind in ("syn-to-poisoner", "syn-to-poisoner-short"):
        if i <= 4:
            return Ether(src="02:ad:00:00:00:66", dst=victim) / answer(None, "198.18.0.66", "name%d" % i)
        syn = (Ether(src=m, dst="02:ad:00:00:00:66") / IP(src=a, dst="198.18.0.66")
               / TCP(sport=40000 + i % 20000, dport=445, flags="S", seq=i))
        # As a NIC delivers it (padded to 60 bytes), or as a veth may (54 bytes).
        return syn if kind.endswith("-short") else Ether(bytes(syn).ljust(60, b"\0"))
    if kind == "tcp-options":
        if i <= 4:
            return Ether(src="02:ad:00:00:00:66", dst=victim) / answer(None, "198.18.0.66", "name%d" % i)
        return (Ether(src=m, dst="02:ad:00:00:00:20") / IP(src=a, dst="198.18.0.20", options=[IPOption(b"\x01\x01\x01\x01")])
                / TCP(sport=40000 + i % 20000, dport=445, flags="PA", seq=i) / Raw(b"x" * 16))
    if kind == "canary-answers":
        return (Ether(src=m, dst="02:cc:00:00:00:fa") / IP(src=a, dst="198.18.1.250") / UDP(sport=5355, dport=50000 + i % 10000)
                / DNS(id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=30, rdata=a)))
    if kind == "to-canary":
        return Ether(bytes(Ether(src=m, dst="02:cc:00:00:00:fa") / IP(src=a, dst="198.18.1.250") / UDP(sport=40000, dport=40000 + i % 20000)).ljust(60, b"\0"))
    if kind == "arp-canary":
        return Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=m, psrc=a, pdst="198.18.1.250")
    if kind == "ssrp-replies":
        if i <= 4:
            # A poisoner learned first: the rule about SQL browser replies then wants them all.
            return Ether(src="02:ad:00:00:00:66", dst=victim) / answer(None, "198.18.0.66", "name%d" % i)
        data = b"ServerName;SQL%05d;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;" % (i % 100000)
        return (Ether(src=m, dst=victim) / IP(src=a, dst="198.18.0.10") / UDP(sport=1434, dport=50000 + i % 10000)
                / Raw(b"\x05" + len(data).to_bytes(2, "little") + data))
    raise SystemExit(f"gen_flood: unknown kind {kind}")


def main():
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    frames = [frame(kind, i + 1) for i in range(n)]
    for i, f in enumerate(frames):
        f.time = 1_796_400_000 + i // 1000 + (i % 1000) / 1e6
    wrpcap(out, frames)
    print(f"gen_flood: {n} {kind} frames -> {out}")


if __name__ == "__main__":
    main()
