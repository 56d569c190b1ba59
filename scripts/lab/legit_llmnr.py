#!/usr/bin/python3
"""A Windows-like LLMNR responder for the lab (run inside ad-win): it answers only queries for
its own names, with a compressed answer name, as Windows does — over IPv4 and IPv6, or (--only6)
over IPv6 only, with its link-local address (a host with NetBIOS off, which registers nothing)."""
import argparse
import socket

import labnet
import threading




def serve(sock, a):
    rdata = {28: socket.inet_pton(socket.AF_INET6, a.ip6), 1: socket.inet_aton(a.ip4)}
    while True:
        m, src = sock.recvfrom(2048)
        ans = labnet.llmnr_answer(m, a.names, rdata.get)
        if ans:
            sock.sendto(ans, src)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ip4", default="198.18.0.20")
    p.add_argument("--ip6", default="fd00:198:18::20")
    p.add_argument("--iface", default="eth0")
    p.add_argument("--names", default="winhost")
    p.add_argument("--only6", action="store_true", help="IPv6 only")
    a = p.parse_args()
    a.names = [n.lower() for n in a.names.split(",")]
    s6 = labnet.group6(5355, "ff02::1:3", a.iface)
    if a.only6:
        serve(s6, a)
        return
    s4 = labnet.group4(5355, "224.0.0.252", a.ip4)
    t = threading.Thread(target=serve, args=(s6, a), daemon=True)
    t.start()
    serve(s4, a)


if __name__ == "__main__":
    main()
