"""Shared by the lab's responders: DNS-style names (LLMNR, mDNS) — encode a dotted name, read
one from a message (the lab's questions never use compression pointers) — and the sockets that
join a multicast group on a port."""
import socket
import struct


def encode(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\x00"


def read(m, off):
    labels = []
    while m[off] != 0:
        n = m[off]
        labels.append(m[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    return ".".join(labels), off + 1


def llmnr_answer(m, names, rdata_of):
    """The LLMNR answer (Windows-shaped: compressed answer name, TTL 30) to query `m` when it asks
    for one of `names` (lower-case) a type that `rdata_of(qtype)` gives data for; else None."""
    if len(m) < 12:
        return None
    tid, flags, qd = struct.unpack(">HHH", m[:6])
    if flags & 0x8000 or qd != 1:
        return None
    name, off = read(m, 12)
    if name.lower() not in names:
        return None
    qtype = struct.unpack(">H", m[off:off + 2])[0]
    rdata = rdata_of(qtype)
    if rdata is None:
        return None
    return struct.pack(">HHHHHH", tid, 0x8000, 1, 1, 0, 0) + m[12:off + 4] + b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 30, len(rdata)) + rdata


def group4(port, group, local_ip):
    """A UDP socket on `port` that receives the IPv4 multicast `group` on the local address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(local_ip))
    return s


def group6(port, group, iface):
    """A UDP socket on `port` that receives the IPv6 multicast `group` on `iface`."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::", port))
    idx = socket.if_nametoindex(iface)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx))
    return s
