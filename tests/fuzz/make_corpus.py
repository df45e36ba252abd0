#!/usr/bin/env python3
"""Write the seed corpus of fuzz_memif_ctl (tests/fuzz/corpus/memif_ctl/).

Each record: 1 byte attachment kind, 128 bytes message (see the harness).
Seeds: a correct handshake, the same with ring contents to exercise the
data path, and one seed per kind of mistake. Run again after changing it:
    python3 tests/fuzz/make_corpus.py
"""
import os, struct

D = os.path.join(os.path.dirname(__file__), "corpus", "memif_ctl")
LOG2 = 4
RING = 128 + 16 * (1 << LOG2)

def msg(mtype, payload=b""):
    m = struct.pack("<H", mtype) + payload
    return m + b"\0" * (128 - len(m))

def rec(kind, m):
    return bytes([kind]) + m

def init(version=0x0200, ident=0, mode=0, secret=b""):
    return msg(3, struct.pack("<HIB24s32s", version, ident, mode, secret, b"seed"))

def region(index=0, size=65536):
    return msg(4, struct.pack("<HQ", index, size))

def ring(c2s, index=0, reg=0, offset=None, log2=LOG2, priv=0):
    if offset is None:
        offset = 0 if c2s else RING
    return msg(5, struct.pack("<HHHIBH", 1 if c2s else 0, index, reg, offset, log2, priv))

def connect():
    return msg(6, b"seed-if".ljust(32, b"\0"))

def disconnect():
    return msg(8, struct.pack("<I96s", 7, b"bye"))

GOOD = [rec(0, init()), rec(1, region()), rec(2, ring(True)), rec(2, ring(False)),
        rec(0, connect())]

def rings_blob(head, descs):
    """Bytes laid over the region: C2S ring with head and descriptors."""
    hdr = struct.pack("<IHH", 0x3E31F20, 1, head) + b"\0" * 56
    hdr += struct.pack("<H", 0) + b"\0" * 62
    d = b"".join(struct.pack("<HHIII", f, r, l, o, 0) for (f, r, l, o) in descs)
    d += b"\0" * (16 * (1 << LOG2) - len(d))
    return hdr + d

seeds = {
    "handshake": GOOD,
    "handshake-data": GOOD + [rings_blob(4, [(0, 0, 60, 4096), (0, 0, 1514, 6144),
                                             (1, 0, 2048, 8192), (0, 0, 100, 10240)])],
    "handshake-baddesc": GOOD + [rings_blob(2, [(0, 0, 60, 65530), (0, 7, 60, 0)])],
    "handshake-headjump": GOOD + [rings_blob(9000, [])],
    "handshake-disconnect": GOOD + [rec(0, disconnect())],
    "bad-version": [rec(0, init(version=0x0100))],
    "bad-id": [rec(0, init(ident=99))],
    "bad-mode": [rec(0, init(mode=2))],
    "region-first": [rec(1, region())],
    "region-unsealed": [rec(0, init()), rec(3, region())],
    "region-small-file": [rec(0, init()), rec(5, region())],
    "region-nofd": [rec(0, init()), rec(0, region())],
    "region-twofds": [rec(0, init()), rec(6, region())],
    "region-index": [rec(0, init()), rec(1, region(index=3))],
    "ring-pipe": [rec(0, init()), rec(1, region()), rec(4, ring(True))],
    "ring-outside": GOOD[:3] + [rec(2, ring(False, offset=65000))] + GOOD[4:],
    "ring-log2": GOOD[:3] + [rec(2, ring(False, log2=15))] + GOOD[4:],
    "ring-twice": GOOD[:3] + [rec(2, ring(True))] + GOOD[4:],
    "connect-early": [rec(0, init()), rec(0, connect())],
    "short": [rec(8 | (64 << 4) & 0xf0, init())],
    "unknown-type": [rec(0, msg(0x4444, b"\xff" * 40))],
}

os.makedirs(D, exist_ok=True)
for name, parts in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(b"".join(parts))
print(f"{len(seeds)} seeds in {D}")
