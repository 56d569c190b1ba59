#!/usr/bin/python3
"""An 802.1Q VLAN interface in user space, for kernels built without 8021q (this machine's):
`vlan_tap.py --iface eth0 --vlan 42 --tap eth0.42 [--ready FILE]`, run in a namespace.

It makes the TAP device `--tap` (with `--iface`'s MAC, as a VLAN subinterface has) and moves
frames between the two: what the stack sends on the TAP leaves `--iface` with the VLAN's tag;
what arrives on `--iface` tagged with the VLAN (in the frame, or in the packet socket's auxiliary
data when the driver took the tag out) reaches the stack untagged, on the TAP. Addresses go on
the TAP as on any interface. Stops on SIGTERM/SIGINT; the TAP goes with it."""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_AUXDATA = 263, 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", default="eth0")
    p.add_argument("--vlan", type=int, required=True)
    p.add_argument("--tap", required=True)
    p.add_argument("--ready", default="")
    a = p.parse_args()
    if not 1 <= a.vlan <= 4094:
        sys.exit("vlan_tap: --vlan must be 1 to 4094")
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", a.tap.encode(), IFF_TAP | IFF_NO_PI))
    mac = open(f"/sys/class/net/{a.iface}/address").read().strip()
    os.system(f"ip link set {a.tap} address {mac} && ip link set {a.tap} up")
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    raw.bind((a.iface, 0))
    tag = struct.pack(">HH", 0x8100, a.vlan)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if a.ready:
        open(a.ready, "w").write("ready\n")
    while True:
        r, _, _ = select.select([tap, raw], [], [])
        if tap in r:
            f = os.read(tap, 65536)
            if len(f) >= 14:
                raw.send(f[:12] + tag + f[12:])
        if raw in r:
            f, anc, _, addr = raw.recvmsg(65536, socket.CMSG_SPACE(20))
            if addr[2] == PACKET_OUTGOING or len(f) < 14:
                continue
            vlan = None
            for level, kind, data in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= 20:
                    status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", data[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        vlan = tci & 0x0FFF
            if vlan is None and f[12:14] == b"\x81\x00":
                vlan, f = struct.unpack(">H", f[14:16])[0] & 0x0FFF, f[:12] + f[16:]
            if vlan == a.vlan:
                os.write(tap, f)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
