#!/usr/bin/python3
"""Many Windows-like hosts in one namespace (run inside ad-win), for measuring what holding a
first answer costs: `many_hosts.py --prefix4 198.18.0 --first 100 --count 16`. Each host is a
macvlan interface of eth0 (its own MAC, its own IPv4 address PREFIX.FIRST+k) answering LLMNR over
IPv4 for its own name only (`ws-NN`), from its own interface, as a Windows host with NetBIOS off
does: it registers nothing, so its first answer for its name is one nobody can judge from what
was learned. Prints `ready` when every host answers. Removes its interfaces on SIGTERM/SIGINT."""
import argparse
import signal
import socket
import subprocess
import sys
import threading

import labnet

SO_BINDTODEVICE = 25


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def serve(sock, name, ip4):
    rdata = {1: socket.inet_aton(ip4)}
    while True:
        m, src = sock.recvfrom(2048)
        ans = labnet.llmnr_answer(m, [name], rdata.get)
        if ans:
            sock.sendto(ans, src)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prefix4", required=True)
    p.add_argument("--first", type=int, default=100)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--iface", default="eth0")
    a = p.parse_args()
    hosts = []
    # Each host answers ARP for its own address only, from its own MAC.
    for k, v in (("arp_ignore", "1"), ("arp_announce", "2")):
        sh("sysctl", "-qw", f"net.ipv4.conf.all.{k}={v}")
    for k in range(a.count):
        dev, ip4, name = f"ws{k}", f"{a.prefix4}.{a.first + k}", f"ws-{k:02d}"
        subprocess.run(["ip", "link", "del", dev], capture_output=True)
        sh("ip", "link", "add", "link", a.iface, "name", dev, "address", f"02:77:00:00:00:{k + 1:02x}", "type", "macvlan", "mode", "bridge")
        sh("ip", "addr", "add", f"{ip4}/24", "dev", dev)
        sh("ip", "link", "set", dev, "up")
        hosts.append((dev, ip4, name))

    def cleanup(*_):
        for dev, _, _ in hosts:
            subprocess.run(["ip", "link", "del", dev], capture_output=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)
    for dev, ip4, name in hosts:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev.encode())
        s.bind(("", 5355))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("224.0.0.252") + socket.inet_aton(ip4))
        threading.Thread(target=serve, args=(s, name, ip4), daemon=True).start()
    print("ready", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
