#!/usr/bin/python3
"""Writes the project's own capture of crafted frames, one or more for every protocol the
dissectors read: Ethernet with 802.1Q and QinQ tags, ARP, IPv4 (options, fragments), IPv6
(extension headers), UDP, TCP, NBT-NS (queries, positive/negative responses, registration),
LLMNR and mDNS over IPv4 and IPv6 (compressed and uncompressed names, QU, cache-flush), SSRP,
HTTP heads (WPAD, proxy 407 NTLM), SMB2 (NEGOTIATE dialect 2.1, SESSION_SETUP with an NTLM
CHALLENGE and STATUS_ACCESS_DENIED). Addresses only in 198.18.0.0/15 and fd00:198:18::/64.

usage: scripts/gen_wire_corpus.py OUT.pcap
       scripts/gen_wire_corpus.py OUT.pcap --fragments   (poisoned answers sent in IP fragments)
"""
import base64
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPOption_RR, Raw, fragment, fragment6, wrpcap)

V = "02:ad:00:00:00:10"   # victim
L = "02:ad:00:00:00:20"   # legit
P = "02:ad:00:00:00:66"   # poisoner
V4, L4, P4 = "198.18.0.10", "198.18.0.20", "198.18.0.66"
V6, L6, P6 = "fd00:198:18::10", "fd00:198:18::20", "fd00:198:18::66"


def nb_encode(name, suffix=0x00):
    raw = name.upper().ljust(15)[:15].encode() + bytes([suffix])
    return b"\x20" + bytes(b for c in raw for b in (ord("A") + (c >> 4), ord("A") + (c & 0xF))) + b"\x00"


def nbns(tid, flags, qd=b"", an=b"", counts=(0, 0, 0, 0)):
    return struct.pack(">HHHHHH", tid, flags, *counts) + qd + an


def nb_query(name, suffix=0, tid=0x812A, flags=0x0110, qtype=0x20):
    return nbns(tid, flags, nb_encode(name, suffix) + struct.pack(">HH", qtype, 1), counts=(1, 0, 0, 0))


def nb_positive(name, addr, ttl, tid=0x812A, nb_flags=0):
    rr = nb_encode(name) + struct.pack(">HHIH", 0x20, 1, ttl, 6) + struct.pack(">H", nb_flags) + bytes(map(int, addr.split(".")))
    return nbns(tid, 0x8500, an=rr, counts=(0, 1, 0, 0))


def nb_negative(name, tid=0x812A):
    rr = nb_encode(name) + struct.pack(">HHIH", 0x0A, 1, 0, 0)
    return nbns(tid, 0x8503, an=rr, counts=(0, 1, 0, 0))


def nb_registration(name, addr):
    qd = nb_encode(name) + struct.pack(">HH", 0x20, 1)
    ar = b"\xc0\x0c" + struct.pack(">HHIHH", 0x20, 1, 300000, 6, 0x6000) + bytes(map(int, addr.split(".")))
    return nbns(0x0009, 0x2910, qd, ar, counts=(1, 0, 0, 1))


def dns_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\x00"


def llmnr_answer_full(name, addr, tid=0xBEEF, ttl=30):
    """Responder's LLMNR answer: the answer name written in full, no compression pointer."""
    q = dns_name(name) + struct.pack(">HH", 1, 1)
    a = dns_name(name) + struct.pack(">HHIH", 1, 1, ttl, 4) + bytes(map(int, addr.split(".")))
    return struct.pack(">HHHHHH", tid, 0x8000, 1, 1, 0, 0) + q + a


def ntlm_challenge(target="WIN-ABCDEFGHIJK"):
    t = target.encode("utf-16-le")
    hdr = b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", len(t), len(t), 56) + struct.pack("<I", 0xE2898215)
    hdr += bytes([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]) + bytes(8) + struct.pack("<HHI", 0, 0, 56 + len(t))
    hdr += bytes([6, 1, 0xB1, 0x1D, 0, 0, 0, 15])
    return hdr + t


def smb2_header(cmd, status, response, sesid=0x1122334455667788, mid=1):
    flags = 1 if response else 0
    return (b"\xfeSMB" + struct.pack("<HHIHHIIQ", 64, 0, status, cmd, 1, flags, 0, mid) + struct.pack("<I", 0xFEFF)
            + struct.pack("<I", 0) + struct.pack("<Q", sesid) + bytes(16))


def nbss(msg):
    return struct.pack(">I", len(msg)) + msg


def smb2_negotiate_response(dialect=0x0210):
    body = struct.pack("<HHHH", 65, 1, dialect, 0) + bytes(16) + struct.pack("<IIII", 0x7, 65536, 65536, 65536)
    body += struct.pack("<QQ", 0, 0) + struct.pack("<HHI", 128, 0, 0)
    return nbss(smb2_header(0, 0, True, sesid=0) + body)


def smb2_session_setup_response(status, blob):
    body = struct.pack("<HHHH", 9, 0, 72, len(blob)) + blob
    return nbss(smb2_header(1, status, True) + body)


def tcp(src, dst, smac, dmac, sport, dport, payload, v6=False):
    net = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    return Ether(src=smac, dst=dmac) / net / TCP(sport=sport, dport=dport, flags="PA", seq=1000, ack=2000) / Raw(payload)


def frames():
    f = []
    # L2/L3 variety
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=V, psrc=V4, pdst=L4))
    f.append(Ether(src=L, dst=V) / ARP(op=2, hwsrc=L, psrc=L4, hwdst=V, pdst=V4))
    f.append(Ether(src=V, dst=L) / Dot1Q(vlan=42, prio=3) / IP(src=V4, dst=L4) / UDP(sport=40000, dport=9) / Raw(b"tagged"))
    f.append(Ether(src=V, dst=L) / Dot1AD(vlan=100) / Dot1Q(vlan=10) / IP(src=V4, dst=L4) / UDP(sport=40001, dport=9) / Raw(b"qinq"))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4, options=[IPOption_RR(routers=["198.18.0.1"])]) / UDP(sport=40002, dport=9) / Raw(b"opts"))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4, flags="MF", frag=0, id=7) / UDP(sport=40003, dport=9, len=200) / Raw(b"A" * 32))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4, frag=5, id=7, proto=17) / Raw(b"B" * 24))
    f.append(Ether(src=V, dst=L) / IPv6(src=V6, dst=L6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=40004, dport=9) / Raw(b"ext"))
    f.append(Ether(src=V, dst=L) / IPv6(src=V6, dst=L6) / IPv6ExtHdrFragment(offset=0, m=1, id=9) / UDP(sport=40005, dport=9) / Raw(b"frag6"))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4) / TCP(sport=50000, dport=443, flags="S", seq=1))
    # NBT-NS: the file server registers its name; the victim asks for it; the poisoner answers
    # too (a forged answer for a name another host owns), then for WPAD.
    f.append(Ether(src=L, dst="ff:ff:ff:ff:ff:ff") / IP(src=L4, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(nb_registration("LEGIT", L4)))
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / IP(src=V4, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(nb_query("LEGIT", tid=0x7001)))
    f.append(Ether(src=P, dst=V) / IP(src=P4, dst=V4) / UDP(sport=137, dport=137) / Raw(nb_positive("LEGIT", P4, 165, tid=0x7001)))
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / IP(src=V4, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(nb_query("WPAD")))
    f.append(Ether(src=P, dst=V) / IP(src=P4, dst=V4) / UDP(sport=137, dport=137) / Raw(nb_positive("WPAD", P4, 165)))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4) / UDP(sport=51137, dport=137) / Raw(nb_query("FILESRV", 0x20, tid=0x0101, flags=0x0100)))
    f.append(Ether(src=L, dst=V) / IP(src=L4, dst=V4) / UDP(sport=137, dport=51137) / Raw(nb_negative("FILESRV", tid=0x0101)))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4) / UDP(sport=137, dport=137) / Raw(nb_query("*", qtype=0x21, flags=0x0000, tid=0x0202)))
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=42) / IP(src=V4, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(nb_query("PRINTER7", tid=0x0303)))
    # LLMNR, IPv4 and IPv6
    f.append(Ether(src=V, dst="01:00:5e:00:00:fc") / IP(src=V4, dst="224.0.0.252", ttl=1) / UDP(sport=55001, dport=5355) / DNS(id=0xBEEF, rd=0, qd=DNSQR(qname="wpad")))
    f.append(Ether(src=P, dst=V) / IP(src=P4, dst=V4) / UDP(sport=5355, dport=55001) / Raw(llmnr_answer_full("wpad", P4)))
    f.append(Ether(src=L, dst=V) / IP(src=L4, dst=V4) / UDP(sport=5355, dport=55002) / DNS(id=0x0042, qr=1, aa=0, rd=0, qd=DNSQR(qname="legit"), an=DNSRR(rrname="legit", ttl=30, rdata=L4)))
    f.append(Ether(src=V, dst="33:33:00:01:00:03") / IPv6(src=V6, dst="ff02::1:3", hlim=1) / UDP(sport=55003, dport=5355) / DNS(id=0x6666, rd=0, qd=DNSQR(qname="fileservr", qtype="AAAA")))
    f.append(Ether(src=P, dst=V) / IPv6(src=P6, dst=V6) / UDP(sport=5355, dport=55003) / DNS(id=0x6666, qr=1, rd=0, qd=DNSQR(qname="fileservr", qtype="AAAA"), an=DNSRR(rrname="fileservr", type="AAAA", ttl=30, rdata=P6)))
    # mDNS
    f.append(Ether(src=V, dst="01:00:5e:00:00:fb") / IP(src=V4, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353) / DNS(id=0, rd=0, qd=DNSQR(qname="printer.local", qclass=0x8001)))
    f.append(Ether(src=L, dst="01:00:5e:00:00:fb") / IP(src=L4, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353) / DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="legit.local", rclass=0x8001, ttl=120, rdata=L4)))
    f.append(Ether(src=P, dst=V) / IP(src=P4, dst=V4) / UDP(sport=5353, dport=5353) / DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="printer.local", ttl=120, rdata=P4)))
    f.append(Ether(src=V, dst="33:33:00:00:00:fb") / IPv6(src=V6, dst="ff02::fb", hlim=255) / UDP(sport=5353, dport=5353) / DNS(id=0, rd=0, qd=DNSQR(qname="nas.local", qtype="AAAA")))
    # mDNS as avahi-daemon speaks it: a probe (the name it wants, ANY, QU; the A record it proposes
    # in the authority section), then announcements whose reverse-mapping PTR comes first.
    f.append(Ether(src=L, dst="01:00:5e:00:00:fb") / IP(src=L4, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353)
             / DNS(id=0, rd=0, qd=DNSQR(qname="corpfs01.local", qtype="ALL", qclass=0x8001), ns=DNSRR(rrname="corpfs01.local", type="A", ttl=120, rdata=L4)))
    f.append(Ether(src=L, dst="01:00:5e:00:00:fb") / IP(src=L4, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353)
             / DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="20.0.18.198.in-addr.arpa", type="PTR", rclass=0x8001, ttl=120, rdata="corpfs01.local")
                   / DNSRR(rrname="corpfs01.local", type="A", rclass=0x8001, ttl=120, rdata=L4)))
    f.append(Ether(src=L, dst="33:33:00:00:00:fb") / IPv6(src=L6, dst="ff02::fb", hlim=255) / UDP(sport=5353, dport=5353)
             / DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.1.0.0.8.9.1.0.0.0.d.f.ip6.arpa", type="PTR", rclass=0x8001, ttl=120, rdata="corpfs01.local")
                   / DNSRR(rrname="corpfs01.local", type="AAAA", rclass=0x8001, ttl=120, rdata=L6)))
    # SQL Server Resolution Protocol
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / IP(src=V4, dst="198.18.0.255") / UDP(sport=55004, dport=1434) / Raw(b"\x02"))
    resp = b"ServerName;RSPNDR;InstanceName;MSSQLSERVER;IsClustered;No;Version;12.00.4100.00;tcp;1433;;"
    f.append(Ether(src=P, dst=V) / IP(src=P4, dst=V4) / UDP(sport=1434, dport=55004) / Raw(b"\x05" + struct.pack("<H", len(resp)) + resp))
    f.append(Ether(src=V, dst=L) / IP(src=V4, dst=L4) / UDP(sport=55005, dport=1434) / Raw(b"\x04SQLEXPRESS\x00"))
    # HTTP
    f.append(tcp(V4, P4, V, P, 50001, 80, b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\nUser-Agent: WinHttp-Autoproxy-Service/5.1\r\n\r\n"))
    f.append(tcp(P4, V4, P, V, 80, 50001, b"HTTP/1.1 200 OK\r\nServer: BigIP\r\nContent-Type: application/x-ns-proxy-autoconfig\r\nContent-Length: 73\r\n\r\nfunction FindProxyForURL(url, host){return \"PROXY 198.18.0.66:3128; DIRECT\";}"))
    f.append(tcp(V4, P4, V, P, 50002, 3128, b"GET http://intranet.corp/ HTTP/1.1\r\nHost: intranet.corp\r\nProxy-Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\r\n\r\n"))
    b64 = base64.b64encode(ntlm_challenge()).decode()
    f.append(tcp(P4, V4, P, V, 3128, 50002, f"HTTP/1.1 407 Unauthorized\r\nServer: BigIP\r\nProxy-Authenticate: NTLM {b64}\r\nContent-Length: 0\r\n\r\n".encode()))
    f.append(tcp(V6, L6, V, L, 50003, 80, b"GET /index.html HTTP/1.1\r\nHost: legit.corp:8080\r\n\r\n", v6=True))
    # SMB2
    f.append(tcp(P4, V4, P, V, 445, 50010, smb2_negotiate_response(0x0210)))
    blob = b"\xa1\x81\xc0\x30\x81\xbd\xa0\x03\x0a\x01\x01\xa1\x0c\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a\xa2\x81\xa7\x04\x81\xa4" + ntlm_challenge()
    f.append(tcp(P4, V4, P, V, 445, 50010, smb2_session_setup_response(0xC0000016, blob)))
    f.append(tcp(P4, V4, P, V, 445, 50010, smb2_session_setup_response(0xC0000022, b"")))
    return f


def fragmented_answers():
    """Poisoned answers cut into IP fragments, as a poisoner evading the rules about answers would
    send them (the victim's kernel reassembles them): LLMNR over IPv4 in 16-byte fragments (the
    first holds the UDP header and the message's first 8 bytes, flags 0x8000 among them), NBT-NS
    in 8-byte fragments (the first holds the UDP header alone), mDNS over IPv6 in two fragments;
    each after the victim's query, and one whole legitimate answer."""
    f = []
    f.append(Ether(src=V, dst="01:00:5e:00:00:fc") / IP(src=V4, dst="224.0.0.252", ttl=1) / UDP(sport=55101, dport=5355) / DNS(id=0x5101, rd=0, qd=DNSQR(qname="fileserver2")))
    for x in fragment(IP(src=P4, dst=V4, id=0x101) / UDP(sport=5355, dport=55101) / Raw(llmnr_answer_full("fileserver2", P4, tid=0x5101)), fragsize=16):
        f.append(Ether(src=P, dst=V) / x)
    f.append(Ether(src=V, dst="ff:ff:ff:ff:ff:ff") / IP(src=V4, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(nb_query("FILESERVER2", tid=0x5102)))
    for x in fragment(IP(src=P4, dst=V4, id=0x102) / UDP(sport=137, dport=137) / Raw(nb_positive("FILESERVER2", P4, 165, tid=0x5102)), fragsize=8):
        f.append(Ether(src=P, dst=V) / x)
    f.append(Ether(src=V, dst="33:33:00:00:00:fb") / IPv6(src=V6, dst="ff02::fb", hlim=255) / UDP(sport=5353, dport=5353) / DNS(id=0, rd=0, qd=DNSQR(qname="fileserver2.local", qtype="AAAA")))
    answer6 = IPv6(src=P6, dst=V6) / IPv6ExtHdrFragment(id=0x103) / UDP(sport=5353, dport=5353) / DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="fileserver2.local", type="AAAA", ttl=120, rdata=P6))
    for x in fragment6(answer6, 80):
        f.append(Ether(src=P, dst=V) / x)
    f.append(Ether(src=L, dst=V) / IP(src=L4, dst=V4) / UDP(sport=5355, dport=55102) / DNS(id=0x0043, qr=1, aa=0, rd=0, qd=DNSQR(qname="legit"), an=DNSRR(rrname="legit", ttl=30, rdata=L4)))
    return f


def main():
    fragments = "--fragments" in sys.argv[1:]
    out = next(a for a in sys.argv[1:] if a != "--fragments")
    fr = fragmented_answers() if fragments else frames()
    # Fixed timestamps a microsecond apart (scapy's own, rounded, can reach 1,000,000 µs,
    # which pcap readers reject).
    for i, f in enumerate(fr):
        f.time = 1_796_400_000 + i / 1e6
    wrpcap(out, fr)
    print(f"gen_wire_corpus: {len(fr)} frames -> {out}")


if __name__ == "__main__":
    main()
