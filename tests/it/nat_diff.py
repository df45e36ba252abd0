#!/usr/bin/env python3
"""nat_diff.py - differential test of tests/it/nat_linux.sh: nf-nat against
Linux's nft masquerade, the same packet sequences through both.

Two topologies (nat_lib.topology), each three namespaces:

    IN (h1) ---veth--- (r1) R (r2) ---veth--- (h2) OUT
        10.1.0.0/24 inside         10.2.0.0/24 outside, R = 10.2.0.1

  a: R is Linux: it routes (static neighbours, default route via
     10.2.0.2), `table ip nat` has `oifname "r2" masquerade` in a
     postrouting chain, and an input chain drops everything (R is only a
     NAT: what is not translated is not answered by its own stack);
  b: R runs nf-nat (pool 10.2.0.1, inside r1 / outside r2 with the hosts'
     MACs as next hops, the ports with R's MACs: frames out are a router's).

Each step is one crafted frame from IN or OUT into both; what arrives at IN
and OUT within a short window is its outcome. Compared for every step:
  1. Linux's outcome is the one the step expects (the test checks itself);
  2. nf-nat's outcome is Linux's, and the frames are equal byte for byte
     after the normalisations below;
  3. nf-nat counted the drop the step names (or none).

Normalisations:
  * TTL: Linux routes and decrements it, nf-nat is a bump in the wire and
    does not. Every IPv4 header checksum of a frame (outer, quoted) is
    verified first, then the outer TTL and header checksum are zeroed.
  * External ports and ICMP identifiers that Linux picks at random (a
    clash: the inside port is taken; steps marked `learn`): each NAT's
    choice is learned from its own frame and used in later steps of its
    own topology; the frames are compared with the L4 checksum verified,
    then that port and checksum zeroed. Both must have moved off the
    taken port.

Prints "ok - ..." / "not ok - ..." lines; exit status 1 if any failed.
"""
import argparse, subprocess, sys

from nat_lib import *  # noqa: F401,F403

IN_A, IN_B = ip4("10.1.0.2"), ip4("10.1.0.3")
P = ip4("10.2.0.1")
R1, R2, RTR = ip4("198.51.100.7"), ip4("198.51.100.8"), ip4("10.2.0.254")

res = Results()


class Ctx:
    """One topology's learned external ports (key -> port)."""

    def __init__(self, name):
        self.name, self.port = name, {}

    def p(self, key, default):
        return self.port.get(key, default)


# A step: (name, side, builder(ctx) -> IPv4 packet, want, learn, drop)
#   want: "out", "in" or "drop"; learn: a key under which the external
#   port (source port / echo id of what comes out) is stored; drop: the
#   reason nf-nat must count.
def S(name, side, build, want, learn=None, drop=None):
    return (name, side, build, want, learn, drop)


def udp_seq():
    return [
        S("udp out: source rewritten, port kept", "in",
          lambda c: U4(IN_A, R1, 5000, 53), "out"),
        S("udp reply translated back", "out", lambda c: U4(R1, P, 53, 5000), "in"),
        S("udp out again (established)", "in", lambda c: U4(IN_A, R1, 5000, 53, b"2"), "out"),
        S("udp out, zero checksum stays zero", "in",
          lambda c: v4(IN_A, R1, 17, udp(IN_A, R1, b"nocsum", 5002, 53, zero_csum=True)),
          "out"),
        S("udp reply, zero checksum", "out",
          lambda c: v4(R1, P, 17, udp(R1, P, b"back", 53, 5002, zero_csum=True)), "in"),
        S("udp same inside endpoint, other remote: port kept", "in",
          lambda c: U4(IN_A, R2, 5000, 53), "out"),
        S("udp other host, same port and remote: port moves", "in",
          lambda c: U4(IN_B, R1, 5000, 53), "out", learn="b5000"),
        S("udp reply to the moved port reaches the other host", "out",
          lambda c: U4(R1, P, 53, c.p("b5000", 5000)), "in"),
        S("udp unsolicited from outside: dropped", "out",
          lambda c: U4(R1, P, 53, 6000), "drop", drop="no-mapping"),
        S("udp from a remote the endpoint never sent to: dropped", "out",
          lambda c: U4(ip4("203.0.113.5"), P, 53, 5000), "drop", drop="filtered"),
    ]


def tcp_seq():
    A, B = IN_A, R1
    return [
        S("tcp SYN out", "in", lambda c: T4(A, B, 40000, 80, TCP_SYN, seq=7), "out"),
        S("tcp SYN/ACK back", "out",
          lambda c: T4(B, P, 80, 40000, TCP_SYN | TCP_ACK, seq=900, ack=8), "in"),
        S("tcp ACK out", "in", lambda c: T4(A, B, 40000, 80, TCP_ACK, seq=8, ack=901), "out"),
        S("tcp data out", "in",
          lambda c: T4(A, B, 40000, 80, TCP_ACK | TCP_PSH, seq=8, ack=901, data=b"GET /\r\n"),
          "out"),
        S("tcp data back", "out",
          lambda c: T4(B, P, 80, 40000, TCP_ACK | TCP_PSH, seq=901, ack=15, data=b"200"),
          "in"),
        S("tcp FIN out", "in", lambda c: T4(A, B, 40000, 80, TCP_FIN | TCP_ACK, seq=15,
                                            ack=904), "out"),
        S("tcp FIN back", "out", lambda c: T4(B, P, 80, 40000, TCP_FIN | TCP_ACK, seq=904,
                                              ack=16), "in"),
        S("tcp last ACK out", "in", lambda c: T4(A, B, 40000, 80, TCP_ACK, seq=16, ack=905),
          "out"),
        S("tcp SYN from outside to the pool: dropped", "out",
          lambda c: T4(B, P, 80, 40001, TCP_SYN), "drop", drop="no-mapping"),
    ]


def icmp_seq():
    return [
        S("echo out: identifier kept", "in", lambda c: ECHO(IN_A, R1, 0x1234, 1), "out"),
        S("echo reply translated back", "out",
          lambda c: ECHO(R1, P, 0x1234, 1, reply=True), "in"),
        S("echo from another host, same identifier and remote: identifier moves", "in",
          lambda c: ECHO(IN_B, R1, 0x1234, 1), "out", learn="echo_b"),
        S("echo reply to the moved identifier reaches that host", "out",
          lambda c: ECHO(R1, P, c.p("echo_b", 0x1234), 1, reply=True), "in"),
        S("echo reply nobody asked for: dropped (conntrack: invalid, as Linux)", "out",
          lambda c: ECHO(R1, P, 0x7777, 1, reply=True), "drop", drop="invalid-state"),
        S("echo request from outside to the pool: dropped", "out",
          lambda c: ECHO(R1, P, 0x7778, 1), "drop", drop="no-mapping"),
    ]


def error_seq():
    """ICMP errors from outside quoting what the NAT sent (after udp_seq,
    tcp_seq, icmp_seq): translated back to the inside host."""
    return [
        S("port unreachable from the remote, quoting the whole udp packet", "out",
          lambda c: ICMPERR(R1, P, 3, 3, U4(P, R1, 5000, 53)), "in"),
        S("port unreachable quoting the other host's moved port", "out",
          lambda c: ICMPERR(R1, P, 3, 3, U4(P, R1, c.p("b5000", 5000), 53)), "in"),
        S("time exceeded from a router, quoting IP + 8 bytes of udp", "out",
          lambda c: ICMPERR(RTR, P, 11, 0, U4(P, R2, 5000, 53)[:28]), "in"),
        S("fragmentation needed from a router, quoting a tcp segment", "out",
          lambda c: ICMPERR(RTR, P, 3, 4, T4(P, R1, 40000, 80, TCP_ACK, seq=8, ack=901)[:40],
                            rest=1400), "in"),
        S("host unreachable quoting an echo request (identifier restored)", "out",
          lambda c: ICMPERR(RTR, P, 3, 1, ECHO(P, R1, 0x1234, 5)), "in"),
        S("host unreachable quoting the moved echo identifier", "out",
          lambda c: ICMPERR(RTR, P, 3, 1, ECHO(P, R1, c.p("echo_b", 0x1234), 5)), "in"),
        S("error quoting no session: dropped", "out",
          lambda c: ICMPERR(R1, P, 3, 3, U4(P, R1, 9999, 53)), "drop",
          drop="icmp-error-no-session"),
        S("port unreachable from the inside host about a reply", "in",
          lambda c: ICMPERR(IN_A, R1, 3, 3, U4(R1, IN_A, 53, 5000)), "out"),
    ]


# ------------------------------------------------------------ normalising

def ip_ok(b):
    hl = (b[0] & 15) * 4
    return csum(b[:hl]) == 0


def l4_ok(ipb):
    """The L4 checksum of a whole IPv4 packet @ipb verifies."""
    hl = (ipb[0] & 15) * 4
    n = struct.unpack("!H", ipb[2:4])[0]
    l4 = ipb[hl:n]
    proto = ipb[9]
    if proto == 1:
        return csum(l4) == 0
    if proto == 17 and l4[6:8] == b"\0\0":
        return True
    return csum(pseudo(ipb[12:16], ipb[16:20], proto, len(l4)) + l4) == 0


def norm(f, learned):
    """Checksums verified, TTL and header checksum zeroed; with @learned,
    the source port / echo id and the L4 checksum zeroed too. None if a
    checksum is wrong."""
    b = bytearray(f)
    ipb = b[14:]
    if not ip_ok(ipb):
        return None
    hl = (ipb[0] & 15) * 4
    if ipb[9] == 1 and ipb[hl] in (3, 11) and len(ipb) >= hl + 28 and not ip_ok(ipb[hl + 8:]):
        return None
    if not (ipb[9] == 1 and ipb[hl] in (3, 11)) and not l4_ok(bytes(ipb)):
        return None
    if ipb[9] == 1 and ipb[hl] in (3, 11) and csum(bytes(ipb[hl:])) != 0:
        return None
    b[14 + 8] = 0
    b[14 + 10:14 + 12] = b"\0\0"
    if learned:
        o = 14 + hl
        if ipb[9] == 1:
            b[o + 2:o + 6] = b"\0" * 4
        else:
            b[o:o + 2] = b"\0\0"
            c = o + (16 if ipb[9] == 6 else 6)
            b[c:c + 2] = b"\0\0"
    return bytes(b)


def outcome(got):
    if not got:
        return "drop"
    if len(got) > 1:
        return "several: " + describe(got)
    return got[0][0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--ns", required=True, help="h1a,ra,h2a,h1b,rb,h2b")
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()
    h1a, ra, h2a, h1b, rb, h2b = a.ns.split(",")
    topology(h1a, ra, h2a)
    topology(h1b, rb, h2b)
    batch = ["addr add 10.1.0.1/24 dev r1", "addr add 10.2.0.1/24 dev r2",
             "neigh replace 10.2.0.2 lladdr 02:00:00:00:02:02 dev r2 nud permanent",
             "route add default via 10.2.0.2"]
    batch += ["neigh replace 10.1.0.%d lladdr 02:00:00:00:01:02 dev r1 nud permanent" % i
              for i in range(2, 10)]
    subprocess.run(["ip", "-n", ra, "-batch", "-"], input="\n".join(batch) + "\n",
                   text=True, check=True)
    run("ip", "netns", "exec", ra, "sysctl", "-qw", "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
    nft = ('table ip nat {\n'
           ' chain post { type nat hook postrouting priority srcnat; oifname "r2" masquerade; }\n'
           '}\n'
           'table ip filter {\n'
           ' chain in { type filter hook input priority 0; policy drop; }\n'
           '}\n')
    subprocess.run(["ip", "netns", "exec", ra, "nft", "-f", "-"], input=nft, text=True,
                   check=True)
    nat = Nat(a.bin, rb, a.tmp).start("pool 10.2.0.1\nset sessions 4096\n")
    wa, wb = Wire(h1a, h2a), Wire(h1b, h2b)
    ca, cb = Ctx("linux"), Ctx("nf-nat")
    try:
        for seqname, seq in (("udp", udp_seq()), ("tcp", tcp_seq()), ("icmp", icmp_seq()),
                             ("icmp-error", error_seq())):
            for name, side, build, want, learn, drop in seq:
                fa = (from_in if side == "in" else from_out)(build(ca))
                fb = (from_in if side == "in" else from_out)(build(cb))
                ga, gb = wa.send(side, fa), wb.send(side, fb)
                oa, ob = outcome(ga), outcome(gb)
                drops = nat.new_drops()
                what = "%s: %s" % (seqname, name)
                if oa != want:
                    res.check(False, "%s: Linux did %s, the step expects %s (%s)" %
                              (what, oa, want, describe(ga)))
                    continue
                if learn and want != "drop":
                    for ctx, g in ((ca, ga), (cb, gb)):
                        if len(g) == 1:
                            hl = (g[0][1][14] & 15) * 4
                            l4 = g[0][1][14 + hl:]
                            off = 4 if g[0][1][23] == 1 else 0
                            ctx.port[learn] = struct.unpack("!H", l4[off:off + 2])[0]
                good = ob == oa
                if good and want != "drop":
                    na, nb = norm(ga[0][1], learn), norm(gb[0][1], learn)
                    good = na is not None and na == nb
                    if learn:
                        taken = 5000 if learn == "b5000" else 0x1234
                        good &= ca.port.get(learn) != taken and cb.port.get(learn) != taken
                    if not good:
                        print("# linux:  %s\n#   %s" % (summary(ga[0][1]), ga[0][1].hex()))
                        print("# nf-nat: %s\n#   %s" % (summary(gb[0][1]), gb[0][1].hex()))
                good &= drops == ({drop: 1} if drop else {})
                res.check(good, "%s: %s%s (Linux: %s; nf-nat: %s%s)" % (
                    what, want, " [port learned: linux %s, nf-nat %s]" % (
                        ca.port.get(learn), cb.port.get(learn)) if learn else "",
                    describe(ga), describe(gb),
                    ", drops %s" % drops if drops else ""))
    finally:
        rc = nat.stop()
        wa.close()
        wb.close()
    res.eq(0, rc, "nf-nat exits cleanly on SIGTERM")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
