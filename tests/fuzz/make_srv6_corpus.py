#!/usr/bin/env python3
"""Write the seed corpus of fuzz_srv6 (tests/fuzz/corpus/srv6/).

Each seed is one Ethernet frame: SRv6 frames of every shape nf_srv6 knows
(1, 2, 3, 16 segments; every SL; reduced SRH; no SRH; hop-by-hop before
the SRH; TLVs; VLAN tags; IPv4, IPv6 and Ethernet inner packets) and
malformed ones (hdr ext len against last entry, SL beyond the list, bad
TLVs, wrong routing type, inner lengths that lie, hop limits 0/1, inner
TTL 1, outer fragments), plus plain IPv4/IPv6/ARP frames for the head end
and the proxy's way back. Run again after changing it (files committed):
    python3 tests/fuzz/make_srv6_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_srv6.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seedfiles  # noqa: E402

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "srv6")
MACS = bytes.fromhex("020000000002" "020000000001")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(etype, vid=0):
    return MACS + (struct.pack("!HH", 0x8100, vid) if vid else b"") + struct.pack("!H", etype)


def sid(i):
    return bytes([0xfc] + [0] * 14 + [i])


def ip4udp(ttl=64, data=b"x" * 10, tot=None):
    udp = struct.pack("!HHHH", 1000, 9, 8 + len(data), 0) + data
    tot = 20 + len(udp) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 1, 0x4000, ttl, 17, 0,
                    bytes([10, 0, 0, 1]), bytes([10, 9, 0, 2]))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + udp


def ip6(nh, payload, hl=64, da=sid(1), plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 6 << 28, plen, nh, hl) + bytes([0xfd] + [0] * 15) + da + payload


def ip6udp(hl=64):
    return ip6(17, struct.pack("!HHHH", 1000, 53, 12, 0) + b"abcd", hl=hl,
               da=bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [2]))


def srh(nh, sl, last, n, tlv=b"", hdr_len=None, typ=4):
    segs = b"".join(sid(n - i) for i in range(n))
    body = segs + tlv
    hdr_len = len(body) // 8 if hdr_len is None else hdr_len
    return struct.pack("!BBBBBBH", nh, hdr_len, typ, sl, last, 0, 0) + body


def srv6(n, sl, inner=None, nh=4, hl=64, vid=0, **kw):
    inner = ip4udp() if inner is None else inner
    s = srh(nh, sl, n - 1, n, **kw)
    return eth(0x86dd, vid) + ip6(43, s + inner, hl=hl)


def make():
    out = {}
    for n in (1, 2, 3, 16):
        for sl in sorted({0, 1, n - 1, n}):
            out["srv6-%dseg-sl%d" % (n, sl)] = srv6(n, sl)
    out["srv6-vlan"] = srv6(3, 1, vid=7)
    out["srv6-ipv6-inner"] = srv6(2, 1, inner=ip6udp(), nh=41)
    out["srv6-ipv6-inner-sl0"] = srv6(2, 0, inner=ip6udp(), nh=41)
    out["srv6-eth-inner"] = srv6(2, 1, inner=eth(0x800) + ip4udp(), nh=143)
    out["srv6-tlvs"] = srv6(2, 1, tlv=bytes([0, 4, 5, 0, 0, 0, 0, 0, 0x80, 3, 1, 2, 3, 0, 0, 0]))
    out["srv6-hbh"] = eth(0x86dd) + ip6(0, struct.pack("!BB6x", 43, 0) + srh(4, 1, 1, 2) + ip4udp())
    out["srv6-no-srh"] = eth(0x86dd) + ip6(4, ip4udp())
    out["srv6-no-srh-ipv6"] = eth(0x86dd) + ip6(41, ip6udp())
    out["srv6-padding"] = srv6(2, 0) + b"\0" * 6
    # malformed
    out["bad-hdrlen-short"] = srv6(3, 1, hdr_len=4)
    out["bad-hdrlen-zero"] = eth(0x86dd) + ip6(43, struct.pack("!BBBBBBH", 4, 0, 4, 0, 0, 0, 0) + ip4udp())
    out["bad-sl-beyond"] = srv6(3, 5)
    out["bad-sl-255"] = srv6(3, 255)
    out["bad-tlv-padn6"] = srv6(2, 1, tlv=bytes([4, 6] + [0] * 6))
    out["bad-tlv-overrun"] = srv6(2, 1, tlv=bytes([0x80, 9] + [0] * 6))
    out["bad-type0"] = srv6(2, 1, typ=0)
    out["bad-hl1"] = srv6(3, 1, hl=1)
    out["bad-hl0"] = srv6(3, 1, hl=0)
    out["bad-inner-ttl1"] = srv6(2, 0, inner=ip4udp(ttl=1))
    out["bad-inner-totlen"] = srv6(2, 0, inner=ip4udp(tot=200))
    out["bad-inner-ihl"] = srv6(2, 0, inner=b"\x44" + ip4udp()[1:])
    out["bad-frag"] = eth(0x86dd) + ip6(44, struct.pack("!BBHI", 4, 0, 1, 7) + ip4udp())
    out["bad-truncated"] = srv6(3, 1)[:14 + 40 + 30]
    # plain frames: head end, proxy's way back
    out["plain-ipv4"] = eth(0x800) + ip4udp()
    out["plain-ipv4-vlan"] = eth(0x800, 9) + ip4udp()
    out["plain-ipv6"] = eth(0x86dd) + ip6udp()
    out["plain-arp"] = eth(0x806) + struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) + b"\0" * 20
    return out


def main():
    seedfiles.write(D, make())


if __name__ == "__main__":
    main()
