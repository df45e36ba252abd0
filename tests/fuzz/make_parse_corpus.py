#!/usr/bin/env python3
"""Write the seed corpus of fuzz_parse (tests/fuzz/corpus/parse/).

Each seed is one Ethernet frame: valid frames of every shape nf_parse()
knows (tags, ARP, IPv4 with options and fragments, IPv6 extension-header
chains, AH, ESP, ICMP/ICMPv6/UDP/TCP, padding) and one or more frames per
drop reason. Run again after changing it (the files are committed):
    python3 tests/fuzz/make_parse_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_parse.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seedfiles  # noqa: E402

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "parse")
MACS = bytes.fromhex("020000000002" "020000000001")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(etype, *tags):
    """Ethernet header; tags are (tpid, tci) pairs, outermost first."""
    h = MACS
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", etype)


def ip4(proto, payload, opts=b"", frag=0, tot=None, ver_ihl=None):
    ihl = 5 + len(opts) // 4
    if tot is None:
        tot = 20 + len(opts) + len(payload)
    if ver_ihl is None:
        ver_ihl = 0x40 | ihl
    h = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, tot, 0x1234, frag, 64, proto,
                    0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + opts
    if (ver_ihl & 15) * 4 == len(h):
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(nh, payload, plen=None, ver=6):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB16s16s", ver << 28, plen, nh, 64,
                       bytes.fromhex("fe80" + "00" * 13 + "01"),
                       bytes.fromhex("fe80" + "00" * 13 + "02")) + payload


def ext(nh, len8=0):
    return struct.pack("!BB", nh, len8) + b"\1\4" + b"\0" * 4 + b"\0" * (8 * len8)


def frag6(nh, off8=0, m=0):
    return struct.pack("!BBHI", nh, 0, off8 << 3 | m, 0xabcd1234)


def ah(nh, ln=4):
    return struct.pack("!BBH", nh, ln, 0) + b"\0" * ((ln + 2) * 4 - 4)


def udp(n=10):
    return struct.pack("!HHHH", 1234, 53, 8 + n, 0) + bytes(i & 0xff for i in range(n))


def tcp(doff=5, n=0, opts=None):
    if opts is None:
        opts = b"\1" * (doff * 4 - 20)
    return struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, doff << 4, 2, 65535, 0, 0) + \
        opts + b"d" * n


def icmp(t=8, n=8):
    return struct.pack("!BBHHH", t, 0, 0, 1, 2) + b"p" * n


def arp(hrd=1, pro=0x0800, hln=6, pln=4):
    return struct.pack("!HHBBH", hrd, pro, hln, pln, 1) + MACS[:6] + \
        bytes([10, 0, 0, 1]) + b"\0" * 6 + bytes([10, 0, 0, 2])


def pad(f, n=60):
    return f + b"\0" * max(0, n - len(f))


E4, E6 = 0x0800, 0x86dd
RR = bytes([7, 11, 4]) + b"\0" * 8 + b"\1"          # record route + NOP
SEEDS = {
    # link layer
    "lldp": pad(eth(0x88cc) + b"\2\7\4" + MACS[:6]),
    "runt-13": eth(E4)[:13],
    "vlan-truncated": eth(0x8100) + b"\0",
    "vlan-too-deep": pad(eth(E4, (0x88a8, 1), (0x8100, 2), (0x8100, 3))),
    "vlan-priority-tag-arp": pad(eth(0x0806, (0x8100, 0xe000)) + arp()),
    # ARP
    "arp-request": pad(eth(0x0806) + arp()),
    "arp-qinq": pad(eth(0x0806, (0x88a8, 10), (0x8100, 20)) + arp()),
    "arp-truncated": eth(0x0806) + arp()[:27],
    "arp-format-hrd": pad(eth(0x0806) + arp(hrd=6)),
    "arp-format-pln": pad(eth(0x0806) + arp(pln=16)),
    # IPv4
    "ip4-udp-60": pad(eth(E4) + ip4(17, udp(10))),
    "ip4-udp-1514": eth(E4) + ip4(17, udp(1472)),
    "ip4-tcp-syn-opts": eth(E4) + ip4(6, tcp(10, 0, bytes.fromhex(
        "020405b40402080a000000010000000001030307"))),
    "ip4-tcp-data": eth(E4) + ip4(6, tcp(5, 100)),
    "ip4-icmp-echo": eth(E4) + ip4(1, icmp(8, 56)),
    "ip4-icmp-frag-needed": eth(E4) + ip4(1, icmp(3, 28)),
    "ip4-gre": pad(eth(E4) + ip4(47, b"\0\0\x08\0" + b"x" * 20)),
    "ip4-vlan-udp": pad(eth(E4, (0x8100, 100)) + ip4(17, udp(18))),
    "ip4-qinq-tcp": eth(E4, (0x88a8, 10), (0x8100, 20)) + ip4(6, tcp(5, 10)),
    "ip4-opts-nop-eol": pad(eth(E4) + ip4(17, udp(4), opts=b"\1\1\0\x55")),
    "ip4-opts-rr": eth(E4) + ip4(6, tcp(8, 100), opts=RR),
    "ip4-opts-router-alert": pad(eth(E4) + ip4(2, b"\x16" + b"\0" * 7,
                                              opts=b"\x94\x04\0\0")),
    "ip4-frag-first": eth(E4) + ip4(17, udp(1472), frag=0x2000),
    "ip4-frag-middle": eth(E4) + ip4(17, b"m" * 1480, frag=0x2000 | 185),
    "ip4-frag-last": pad(eth(E4) + ip4(6, b"abc", frag=370)),
    "ip4-truncated": eth(E4) + ip4(17, b"")[:19],
    "ip4-version-6": pad(eth(E4) + ip4(17, udp(), ver_ihl=0x65)),
    "ip4-ihl-4": pad(eth(E4) + ip4(17, udp(), ver_ihl=0x44)),
    "ip4-ihl-15": pad(eth(E4) + ip4(17, udp(), ver_ihl=0x4f)),
    "ip4-totlen-short": pad(eth(E4) + ip4(17, udp(), tot=19)),
    "ip4-totlen-long": eth(E4) + ip4(17, udp(), tot=1500),
    "ip4-opts-len-1": eth(E4) + ip4(17, udp(), opts=b"\1\x44\1\0"),
    "ip4-opts-past-area": eth(E4) + ip4(17, udp(), opts=RR[:1] + b"\x0d" + RR[2:]),
    "ip4-opts-no-length": eth(E4) + ip4(17, udp(), opts=b"\1\1\1\x44"),
    "ip4-udp-truncated": pad(eth(E4) + ip4(17, udp(0), tot=27)),
    "ip4-tcp-truncated": pad(eth(E4) + ip4(6, tcp(5), tot=39)),
    "ip4-tcp-doff-4": pad(eth(E4) + ip4(6, tcp(4, 4, b""))),
    "ip4-tcp-doff-past": pad(eth(E4) + ip4(6, tcp(5)[:12] + b"\x60" + tcp(5)[13:])),
    "ip4-icmp-truncated": pad(eth(E4) + ip4(1, icmp(8, 0)[:7])),
    # IPv6
    "ip6-udp": eth(E6) + ip6(17, udp(12)),
    "ip6-udp-padded": eth(E6) + ip6(17, udp(0)) + b"\0" * 10,
    "ip6-tcp": eth(E6) + ip6(6, tcp(10, 7)),
    "ip6-icmp6-echo": eth(E6) + ip6(58, icmp(128, 56)),
    "ip6-icmp6-ns": eth(E6) + ip6(58, icmp(135, 16) + b"\1\1" + MACS[:6]),
    "ip6-chain-first-frag": eth(E6) + ip6(0, ext(43) + ext(60, 2) + ext(44, 1) +
                                          frag6(17, 0, 1) + udp(100)),
    "ip6-chain-later-frag": eth(E6) + ip6(0, ext(43) + ext(60, 2) + ext(44, 1) +
                                          frag6(17, 32, 1) + b"f" * 108),
    "ip6-atomic-frag": eth(E6) + ip6(44, frag6(6) + tcp(5)),
    "ip6-hbh-not-first": eth(E6) + ip6(60, ext(0) + ext(58) + icmp(129, 0)),
    "ip6-ah-tcp": eth(E6) + ip6(51, ah(6) + tcp(5)),
    "ip6-esp": eth(E6) + ip6(0, ext(50) + b"\0\0\1\0" + b"e" * 60),
    "ip6-none": eth(E6) + ip6(59, b""),
    "ip6-mobility": eth(E6) + ip6(135, b"\x3b\1" + b"\0" * 14),
    "ip6-8-ext": eth(E6) + ip6(60, ext(60) * 7 + ext(17) + udp(0)),
    "ip6-qinq-routing-udp": eth(E6, (0x88a8, 4095), (0x8100, 1)) +
        ip6(43, ext(17) + udp(1)),
    "ip6-truncated": eth(E6) + ip6(17, b"")[:39],
    "ip6-version-4": eth(E6) + ip6(17, udp(), ver=4),
    "ip6-plen-long": eth(E6) + ip6(17, udp(), plen=100),
    "ip6-jumbo": eth(E6) + ip6(0, b"\x11\0\xc2\4\0\1\0\0" + udp(), plen=0),
    "ip6-ext-truncated": eth(E6) + ip6(0, ext(17, 4)[:16]),
    "ip6-frag-truncated": eth(E6) + ip6(44, frag6(17)[:7]),
    "ip6-ah-truncated": eth(E6) + ip6(51, ah(6, 10)[:40]),
    "ip6-9-ext": eth(E6) + ip6(60, ext(60) * 8 + ext(17) + udp(0)),
    "ip6-udp-truncated": eth(E6) + ip6(17, udp(0)[:7]),
    "ip6-tcp-doff-past": eth(E6) + ip6(6, tcp(5)[:12] + b"\xc0" + tcp(5)[13:] + b"x" * 20),
}


def main():
    seedfiles.write(D, SEEDS)


if __name__ == "__main__":
    main()
