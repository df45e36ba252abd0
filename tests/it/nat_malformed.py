#!/usr/bin/env python3
"""nat_malformed.py - hostile and malformed input to nf-nat
(tests/it/nat_malformed.sh): truncated headers, bad checksums, ICMP errors
quoting garbage, fragments, hostile lengths, protocols it does not
translate. Each frame must be dropped with its named reason and counted
exactly once (or, where the frame is legal, translated exactly as stated),
and nf-nat must still translate a good flow afterwards. tests/run runs this
against the ASan + UBSan build too: any out-of-bounds read is a failure
there.
"""
import random, sys

from nat_lib import *  # noqa: F401,F403

IN_A = ip4("10.1.0.2")
R1 = ip4("198.51.100.7")
P = ip4("10.2.0.1")
res = Results()


def raw_v4(src, dst, proto, payload, total=None, ihl=5, csum_ok=True, ident=0x1234, frag=0):
    """An IPv4 header with any total length / IHL (the checksum made right
    unless told), then @payload."""
    tl = total if total is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, ident, frag, 64, proto, 0, src, dst)
    h += b"\x01" * (ihl * 4 - 20)
    c = csum(h) ^ (0 if csum_ok else 0x5555)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def malformed(c):
    nat = c.nat
    # an established flow, so that some garbage looks like it belongs to it
    c.one("in", from_in(U4(IN_A, R1, 5000, 53)), "out")
    c.one("in", from_in(T4(IN_A, R1, 40000, 80, TCP_SYN)), "out")
    c.nat.new_drops()
    udp_ok = udp(IN_A, R1, b"x" * 8, 5000, 53)
    q_udp = U4(P, R1, 5000, 53)

    cases = [
        # (name, side, frame, drop reason)
        ("IPv4 header cut short (10 bytes)", "in",
         eth(raw_v4(IN_A, R1, 17, b"")[:10], 0x0800, MAC_R1, MAC_H1), "ipv4-truncated"),
        ("IPv4 total length beyond the frame", "in",
         from_in(raw_v4(IN_A, R1, 17, udp_ok, total=1400)), "ipv4-bad-length"),
        ("IPv4 total length below the header", "in",
         from_in(raw_v4(IN_A, R1, 17, udp_ok, total=12)), "ipv4-bad-length"),
        ("IPv4 IHL 4", "in", from_in(raw_v4(IN_A, R1, 17, udp_ok, ihl=4)), "ipv4-bad-ihl"),
        ("IPv4 IHL 15 on a 40-byte packet", "in",
         from_in(raw_v4(IN_A, R1, 17, b"", ihl=15)[:40]), "ipv4-bad-ihl"),
        ("IPv4 header checksum wrong", "in",
         from_in(raw_v4(IN_A, R1, 17, udp_ok, csum_ok=False)), "ipv4-bad-checksum"),
        ("UDP header cut short (4 bytes)", "in",
         from_in(raw_v4(IN_A, R1, 17, udp_ok[:4])), "l4-truncated"),
        ("TCP header cut short (12 bytes)", "in",
         from_in(raw_v4(IN_A, R1, 6, tcp(IN_A, R1, 40001, 80, TCP_SYN)[:12])),
         "l4-truncated"),
        ("TCP data offset 15 beyond the packet", "in",
         from_in(raw_v4(IN_A, R1, 6, tcp(IN_A, R1, 40002, 80, TCP_SYN)[:12] + b"\xf0" +
                        tcp(IN_A, R1, 40002, 80, TCP_SYN)[13:])), "tcp-bad-offset"),
        ("TCP SYN+FIN (invalid flags)", "in",
         from_in(T4(IN_A, R1, 40003, 80, TCP_SYN | TCP_FIN)), "invalid-state"),
        ("ICMP header cut short (4 bytes)", "out",
         from_out(raw_v4(R1, P, 1, icmp4(3, 3, 0)[:4])), "l4-truncated"),
        ("GRE from inside", "in", from_in(raw_v4(IN_A, R1, 47, b"\0" * 8)),
         "unsupported-protocol"),
        ("ICMP error with a bad ICMP checksum", "out",
         from_out(raw_v4(R1, P, 1, icmp4(3, 3, 0, q_udp)[:2] + b"\0\0" +
                         icmp4(3, 3, 0, q_udp)[4:])), "icmp-error-bad-checksum"),
        ("ICMP error quoting 10 bytes", "out",
         from_out(ICMPERR(R1, P, 3, 3, q_udp[:10])), "icmp-error-malformed"),
        ("ICMP error quoting IPv4 header + 4 bytes", "out",
         from_out(ICMPERR(R1, P, 3, 3, q_udp[:24])), "icmp-error-malformed"),
        ("ICMP error quoting an IHL-15 header in 40 bytes", "out",
         from_out(ICMPERR(R1, P, 3, 3, bytes([0x4f]) + q_udp[1:40])), "icmp-error-malformed"),
        ("ICMP error quoting IPv6", "out",
         from_out(ICMPERR(R1, P, 3, 3, bytes([0x60]) + q_udp[1:])), "icmp-error-malformed"),
        ("ICMP error quoting an ICMP error", "out",
         from_out(ICMPERR(R1, P, 3, 3, ICMPERR(P, R1, 3, 3, U4(R1, P, 53, 5000)))),
         "icmp-error-malformed"),
        ("ICMP error quoting a later fragment", "out",
         from_out(ICMPERR(R1, P, 3, 3, v4(P, R1, 17, udp_ok, off=10))), "icmp-error-malformed"),
        ("ICMP error quoting random bytes", "out",
         from_out(ICMPERR(R1, P, 11, 0, bytes((i * 37 + 11) & 0xff for i in range(64)))),
         "icmp-error-malformed"),
        ("ICMP error, itself a fragment", "out",
         from_out(v4(R1, P, 1, icmp4(3, 3, 0, q_udp), mf=True)), "icmp-error-malformed"),
        ("later fragment with no first fragment", "in",
         from_in(v4(IN_A, R1, 17, b"y" * 16, off=100, ident=0x4444)), "fragment-no-state"),
        ("first fragment too short for the UDP header", "in",
         from_in(v4(IN_A, R1, 17, udp_ok[:4], mf=True, ident=0x4445)), "l4-truncated"),
        ("VLAN-tagged IPv4", "in",
         MAC_R1 + MAC_H1 + struct.pack("!HH", 0x8100, 5) + b"\x08\x00" + U4(IN_A, R1, 5000, 53),
         "vlan-tagged"),
        ("UDP to the pool from outside, no mapping", "out",
         from_out(U4(R1, P, 53, 7777)), "no-mapping"),
        ("UDP from outside to an address not in the pool", "out",
         from_out(U4(R1, ip4("10.2.0.99"), 53, 5000)), "not-for-pool"),
        ("Ethernet frame of 14 bytes", "in", MAC_R1 + MAC_H1 + b"\x08\x00", "ipv4-truncated"),
    ]
    for name, side, frame, reason in cases:
        got = c.wire.send(side, frame)
        drops = nat.new_drops()
        res.check(not got and drops == {reason: 1}, "%s: dropped (%s)%s" % (
            name, reason, "" if not got and drops == {reason: 1} else
            " -- got %s, drops %s" % (describe(got), drops)))

    # legal but unusual: translated exactly
    ok = c.exact("", "in", from_in(v4(IN_A, R1, 17, udp(IN_A, R1, b"o" * 8, 5000, 53),
                                      opts=b"\x01\x01\x01\x00")), "out",
                 to_out(v4(P, R1, 17, udp(P, R1, b"o" * 8, 5000, 53), opts=b"\x01\x01\x01\x00")))
    res.check(ok, "IPv4 with options: translated (options kept)")
    bad = bytearray(udp(IN_A, R1, b"badsum!!", 5000, 53))
    bad[6] ^= 0x0f
    want = bytearray(udp(P, R1, b"badsum!!", 5000, 53))
    want[6] ^= 0x0f
    ok = c.exact("", "in", from_in(v4(IN_A, R1, 17, bytes(bad))), "out",
                 to_out(v4(P, R1, 17, bytes(want))))
    res.check(ok, "UDP with a wrong checksum: translated incrementally, the error kept "
              "(the receiver drops it; nf-nat does not read payloads)")
    frame = from_in(U4(IN_A, R1, 5000, 53)) + b"\0" * 20
    ok = c.exact("", "in", frame, "out", to_out(U4(P, R1, 5000, 53)) + b"\0" * 20)
    res.check(ok, "Ethernet padding after the IPv4 packet: translated, padding kept")
    big = b"B" * 1472
    ok = c.exact("", "in", from_in(U4(IN_A, R1, 5000, 53, big)), "out",
                 to_out(U4(P, R1, 5000, 53, big)))
    res.check(ok, "1514-byte frame: translated")
    ip6 = v6(ip6_("fd01::2"), ip6_("fd02::2"), 17, b"\0" * 8)
    ok = c.exact("", "in", eth(ip6, 0x86dd, MAC_R1, MAC_H1), "out",
                 eth(ip6, 0x86dd, MAC_R1, MAC_H1))
    res.check(ok and nat.nat_stats()["passed_ipv6"] == 1,
              "IPv6 passes unchanged (passed_ipv6 1)")
    arp_req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_H2, R1, b"\0" * 6, P)
    got = c.wire.send("out", eth(arp_req, 0x0806, b"\xff" * 6, MAC_H2))
    want = eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, MAC_R2, P, MAC_H2, R1) +
               b"\0" * 18, 0x0806, MAC_H2, MAC_R2)
    res.check(got == [("out", want)] and nat.nat_stats()["arp_replies"] == 1,
              "ARP request for the pool address on the outside: answered (proxy ARP): %s" %
              describe(got))
    # mutations: 3000 frames, each a good one (UDP, TCP, echo, ICMP errors
    # quoting the flows) with 1-4 random bytes changed or cut short; every
    # one is accounted for (forwarded, handled or a counted drop)
    rnd = random.Random(4787)
    tmpl = [("in", from_in(U4(IN_A, R1, 5000, 53))),
            ("in", from_in(T4(IN_A, R1, 40000, 80, TCP_ACK))),
            ("in", from_in(ECHO(IN_A, R1, 0x99))),
            ("out", from_out(U4(R1, P, 53, 5000))),
            ("out", from_out(ICMPERR(R1, P, 3, 3, q_udp))),
            ("out", from_out(ICMPERR(R1, P, 11, 0, T4(P, R1, 40000, 80, TCP_ACK)[:28]))),
            ("in", from_in(ICMPERR(IN_A, R1, 3, 3, U4(R1, IN_A, 53, 5000))))]
    before = nat.ctl("stats")
    for k in range(3000):
        side, f = tmpl[k % len(tmpl)]
        b = bytearray(f)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(12, len(b))] = rnd.randrange(256)
        if rnd.random() < 0.2:
            b = b[:rnd.randrange(14, len(b))]
        c.wire.socks[side].send(bytes(b))
        if k % 50 == 49:
            drain(c.wire.socks, 0.02)
    drain(c.wire.socks, 0.3)
    after = nat.ctl("stats")
    rx = (sum(p["rx_packets"] for p in after["ports"]) -
          sum(p["rx_packets"] for p in before["ports"]))
    acc = (after["stages"]["post"]["out"] - before["stages"]["post"]["out"] +
           after["handled"] - before["handled"] +
           sum(after["drops"].values()) - sum(before["drops"].values()))
    nat.new_drops()
    res.check(nat.p.poll() is None and rx == acc == 3000,
              "3000 mutated frames: nf-nat alive, every frame accounted for (%d received, "
              "%d forwarded + handled + dropped)" % (rx, acc))
    # and still working
    ok = c.exact("", "out", from_out(U4(R1, P, 53, 5000)), "in", to_in(U4(R1, IN_A, 53, 5000)))
    res.check(ok, "after all that, the flow still translates")


def ip6_(s):
    return socket.inet_pton(socket.AF_INET6, s)


def main():
    return run_configs(res, (("pool 10.2.0.1\nset sessions 1024\n", malformed),))


if __name__ == "__main__":
    sys.exit(main())
