"""DNS-style names for the lab scripts (LLMNR, mDNS): encode a dotted name, read one from a
message (no compression pointers: the lab's queries never use them in the question)."""


def encode(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\x00"


def read(m, off):
    labels = []
    while m[off] != 0:
        n = m[off]
        labels.append(m[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    return ".".join(labels), off + 1
