"""fw_malformed.py DIR - the frames of tests/it/firewall_malformed.sh.

Writes DIR/in.pcap: valid frames that reach every code path of nf-firewall
(conntrack of TCP/UDP/ICMP/ICMPv6 and of ICMP errors quoting flows, each
kind of reject answer, IPv6 extension headers, fragments, VLAN tags, ARP),
every truncation of each, lying length fields and random corruption of
the headers; then the good frame last. DIR/n: the number of frames;
DIR/good.hex: the good frame (the firewall is transparent: it must come
out unchanged)."""
import os, random, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pkt import *  # noqa: E402,F401,F403

D = sys.argv[1]
rnd = random.Random(4)
C4, S4 = ip4("10.1.0.2"), ip4("10.2.0.2")
C6, S6 = ip6("fd01::2"), ip6("fd02::2")
M1, M2 = mac("02:00:00:00:01:01"), mac("02:00:00:00:01:02")


def e4(l3):
    return eth(l3, 0x0800, M1, M2)


def e6(l3):
    return eth(l3, 0x86dd, M1, M2)


u4 = v4(C4, S4, 17, udp(C4, S4, b"abcdefgh", 5000, 9))
t4 = v4(C4, S4, 6, tcp(C4, S4, 4000, 80, 0x02, 100))
t4a = v4(C4, S4, 6, tcp(C4, S4, 4000, 80, 0x10, 101, 5))
ping4 = v4(C4, S4, 1, icmp4(8, 0, 0x00070001, b"pingping"))
u6 = v6(C6, S6, 17, udp(C6, S6, b"abcdefgh", 5000, 9))
t6 = v6(C6, S6, 6, tcp(C6, S6, 4000, 80, 0x02, 100))
ping6 = v6(C6, S6, 58, icmp6(C6, S6, 128, 0, 0x00070001, b"pingping"))
err4 = v4(S4, C4, 1, icmp4(3, 3, 0, u4[:28]))          # quotes the UDP flow
err6 = v6(S6, C6, 58, icmp6(S6, C6, 1, 4, 0, u6[:48]))
ext6 = v6(C6, S6, 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp(C6, S6, b"xx", 5, 9))
frag6 = v6(C6, S6, 44, bytes([17, 0, 0, 1, 0, 0, 0, 7]) + udp(C6, S6, b"yy", 5, 9))
frag4 = v4(C4, S4, 17, udp(C4, S4, b"abcdefgh", 5000, 9))
frag4 = frag4[:6] + b"\x20\x00" + frag4[8:]               # MF (checksum redone below)
frag4 = frag4[:10] + b"\0\0" + frag4[12:]
frag4 = frag4[:10] + struct.pack("!H", csum(frag4[:20])) + frag4[20:]
vlan = M1 + M2 + b"\x81\x00\x00\x05\x08\x00" + u4
arp = eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1, M2, C4, b"\0" * 6, S4),
          0x0806, b"\xff" * 6, M2)
valid = [e4(u4), e4(t4), e4(t4a), e4(ping4), e6(u6), e6(t6), e6(ping6), e4(err4), e6(err6),
         e6(ext6), e6(frag6), e4(frag4), vlan, arp]
frames = list(valid)                       # first as they are: entries made
for f in valid:                            # every truncation
    for n in range(0, len(f)):
        frames.append(f[:n])
for f in valid:                            # lengths that lie, corruption
    for _ in range(200):
        g = bytearray(f)
        k = rnd.choice(["len", "flip", "flip", "tail", "l4"])
        if k == "len" and g[12:14] == b"\x08\x00":
            g[16:18] = struct.pack("!H", rnd.choice([0, 1, 19, 20, 21, 28, len(g), 0xffff]))
        elif k == "len" and g[12:14] == b"\x86\xdd":
            g[18:20] = struct.pack("!H", rnd.choice([0, 1, 7, 8, 9, 0xffff]))
        elif k == "tail":
            g = g[:rnd.randrange(14, len(g) + 1)] + bytes(rnd.randrange(256)
                                                          for _ in range(rnd.randrange(0, 40)))
        elif k == "l4" and len(g) > 40:
            for _ in range(rnd.randrange(1, 4)):
                g[rnd.randrange(34, len(g))] = rnd.randrange(256)
        else:
            for _ in range(rnd.randrange(1, 6)):
                g[rnd.randrange(12, min(len(g), 80))] = rnd.randrange(256)
        frames.append(bytes(g))
good = e4(v4(C4, S4, 17, udp(C4, S4, b"the good one", 5001, 10)))
frames.append(good)
with open(os.path.join(D, "in.pcap"), "wb") as fp:
    fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for fr in frames:
        fp.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
open(os.path.join(D, "n"), "w").write(str(len(frames)))
open(os.path.join(D, "good.hex"), "w").write(good.hex() + "\n")
