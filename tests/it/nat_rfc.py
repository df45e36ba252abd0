#!/usr/bin/env python3
"""nat_rfc.py - nf-nat against the requirements of RFC 4787 (UDP), RFC 5382
(TCP) and RFC 5508 (ICMP) that Linux's NAT does not guarantee, one check
per requirement, named by it. Run by tests/it/nat_rfc.sh (topology in
nat_lib.py). Every frame that comes out is compared byte for byte with the
frame the requirement calls for (built here with every checksum computed
from scratch: a wrong incremental update shows as a byte difference);
every refusal is checked as "nothing came out" plus its drop counter.

Addresses: inside hosts 10.1.0.x, remote hosts 10.2.0.x / 198.51.100.x
(all reached through the outside host's link), pool 10.2.0.10-10.2.0.13 (10.2.0.1 in the other configurations).
"""
import sys, time

from nat_lib import *  # noqa: F401,F403

IN_A, IN_B = ip4("10.1.0.2"), ip4("10.1.0.3")
R1, R2 = ip4("10.2.0.2"), ip4("198.51.100.7")
POOL4 = [ip4("10.2.0.%d" % i) for i in range(10, 14)]
P1 = ip4("10.2.0.1")

res = Results()


# ------------------------------------------------------------ config 1

def pool_tests(c):
    """Pool 10.2.0.10-10.2.0.13, address-dependent filtering (the default)."""
    nat = c.nat

    # RFC 4787 REQ-1: endpoint-independent mapping. One inside endpoint,
    # two remote hosts, two remote ports: the same external address and
    # port each time (and each frame exactly the inside one, translated).
    f = c.one("in", from_in(U4(IN_A, R1, 4000, 53)), "out")
    ext, port = src_of(f) if f else (None, None)
    ok = f == to_out(U4(ext, R1, port, 53)) and ext in POOL4
    for dst, dport in ((R2, 53), (R2, 123), (R1, 9999)):
        ok &= c.exact("", "in", from_in(U4(IN_A, dst, 4000, dport)), "out",
                      to_out(U4(ext, dst, port, dport)))
    # TCP too (RFC 5382 REQ-1)
    f = c.one("in", from_in(T4(IN_A, R1, 4100, 80, TCP_SYN)), "out")
    text, tport = src_of(f) if f else (None, None)
    ok &= f == to_out(T4(text, R1, tport, 80, TCP_SYN))
    ok &= c.exact("", "in", from_in(T4(IN_A, R2, 4100, 443, TCP_SYN)), "out",
                  to_out(T4(text, R2, tport, 443, TCP_SYN)))
    res.check(ok, "RFC 4787 REQ-1 / RFC 5382 REQ-1: endpoint-independent mapping: "
              "10.1.0.2:4000 -> %s:%s for 3 remote endpoints (UDP), TCP likewise" %
              (astr(ext) if ext else "?", port))
    eim = (ext, port)

    # RFC 4787 REQ-2: paired pooling. 16 inside hosts, each with a UDP,
    # a TCP and an ICMP echo flow: each host's flows share one external
    # address; the pool is used (more than one address appears).
    per_host, ok = {}, True
    for i in range(16):
        h = ip4("10.1.0.%d" % (20 + i))
        addrs = set()
        for fr in (U4(h, R1, 7000 + i, 53), T4(h, R2, 7100 + i, 80, TCP_SYN),
                   ECHO(h, R1, 300 + i)):
            f = c.one("in", from_in(fr), "out")
            addrs.add(src_of(f)[0] if f else None)
        ok &= len(addrs) == 1 and None not in addrs and addrs <= set(POOL4)
        per_host[astr(h)] = [astr(a) if a else None for a in addrs]
    used = {a[0] for a in per_host.values() if a}
    res.check(ok and len(used) > 1, "RFC 4787 REQ-2: paired pooling: every inside host's "
              "UDP, TCP and ICMP flows leave from one pool address; %d pool addresses used "
              "by 16 hosts" % len(used))

    # RFC 4787 REQ-8, address-dependent filtering (the default): from the
    # remote IN_A sent to (any port) it passes; from another address it is
    # dropped ("filtered").
    ext, port = eim
    ok = c.exact("", "out", from_out(U4(R1, ext, 53, port)), "in",
                 to_in(U4(R1, IN_A, 53, 4000)))
    ok &= c.exact("", "out", from_out(U4(R1, ext, 5353, port)), "in",
                  to_in(U4(R1, IN_A, 5353, 4000)))
    R3 = ip4("203.0.113.9")
    ok &= c.dropped("out", from_out(U4(R3, ext, 53, port)), "filtered")
    res.check(ok, "RFC 4787 REQ-8: address-dependent filtering: a remote address the "
              "endpoint sent to gets in from any of its ports; another is dropped "
              "(filtered)")

    # REQ-8, endpoint-independent filtering (runtime key): anyone gets in.
    nat.set("filtering", "endpoint-independent")
    ok = c.exact("", "out", from_out(U4(R3, ext, 1234, port)), "in",
                 to_in(U4(R3, IN_A, 1234, 4000)))
    # the inbound session that made: its reply leaves by the mapping
    ok &= c.exact("", "in", from_in(U4(IN_A, R3, 4000, 1234)), "out",
                  to_out(U4(ext, R3, port, 1234)))
    # no mapping for the port: still dropped
    ok &= c.dropped("out", from_out(U4(R3, ext, 1234, 60001)), "no-mapping")
    sess = [s for s in nat.sessions() if s["remote"] == "203.0.113.9:1234"]
    ok &= len(sess) == 1 and sess[0]["direction"] == "inbound"
    nat.set("filtering", "address-dependent")
    res.check(ok, "RFC 4787 REQ-8: endpoint-independent filtering (set filtering "
              "endpoint-independent): any remote gets in through an existing mapping; "
              "its session is inbound; no mapping: dropped")

    # RFC 4787 REQ-9: hairpinning. IN_B sends to IN_A's external endpoint:
    # it reaches IN_A from IN_B's own external endpoint (source translated).
    f = c.one("in", from_in(U4(IN_B, R1, 4500, 53)), "out")
    bext, bport = src_of(f) if f else (None, None)
    ok = f is not None
    ok &= c.exact("", "in", from_in(U4(IN_B, ext, 4500, port)), "in",
                  to_in(U4(bext, IN_A, bport, 4000)))
    ok &= c.exact("", "in", from_in(U4(IN_A, bext, 4000, bport)), "in",
                  to_in(U4(ext, IN_B, port, 4500)))
    st = nat.nat_stats()
    ok &= st["hairpinned"] == 1
    res.check(ok, "RFC 4787 REQ-9: hairpinning: 10.1.0.3 -> 10.1.0.2's mapping arrives "
              "from 10.1.0.3's external endpoint %s:%s; the answer likewise" %
              (astr(bext) if bext else "?", bport))
    nat.set("hairpin", "off")
    ok = c.dropped("in", from_in(U4(IN_B, ext, 4501, port)), "hairpin-off")
    nat.set("hairpin", "on")
    res.check(ok, "RFC 4787 REQ-9: with hairpin off, a new hairpin flow is dropped "
              "(hairpin-off)")

    # RFC 4787 REQ-5: UDP mapping timer at least 2 minutes (default 300).
    s = session(nat, "udp", "10.1.0.2:4000")
    res.check(s is not None and 290 <= s["seconds"] <= 300,
              "RFC 4787 REQ-5: UDP session timeout >= 120 s: ttl %s s in the session dump "
              "(udp 300)" % (s and s["seconds"]))

    # RFC 4787 REQ-6: outbound refresh always; inbound refresh with
    # inbound-refresh on (default), not with it off.
    f = c.one("in", from_in(U4(IN_A, R2, 4700, 53)), "out")
    x, xp = src_of(f) if f else (None, None)
    time.sleep(2.3)
    before = session(nat, "udp", "10.1.0.2:4700")["seconds"]
    c.one("out", from_out(U4(R2, x, 53, xp)), "in")
    after_in = session(nat, "udp", "10.1.0.2:4700")["seconds"]
    nat.set("inbound-refresh", "off")
    time.sleep(2.3)
    before2 = session(nat, "udp", "10.1.0.2:4700")["seconds"]
    c.one("out", from_out(U4(R2, x, 53, xp)), "in")
    after_in2 = session(nat, "udp", "10.1.0.2:4700")["seconds"]
    c.one("in", from_in(U4(IN_A, R2, 4700, 53)), "out")
    after_out2 = session(nat, "udp", "10.1.0.2:4700")["seconds"]
    nat.set("inbound-refresh", "on")
    res.check(before <= 298 and after_in >= 299 and before2 <= 298 and
              after_in2 == before2 and after_out2 >= 299,
              "RFC 4787 REQ-6: refresh: ttl %s -> %s after an inbound packet (on); with "
              "inbound-refresh off %s -> %s after inbound, -> %s after outbound" %
              (before, after_in, before2, after_in2, after_out2))

    # RFC 5382 REQ-5: TCP timeouts follow the state: transitory >= 4 min
    # (SYN_SENT), established >= 2 h 4 min, closing transitory again.
    A, B = IN_A, R1
    f = c.one("in", from_in(T4(A, B, 4800, 80, TCP_SYN, seq=100)), "out")
    te, tp = src_of(f) if f else (None, None)
    s1 = session(nat, "tcp", "10.1.0.2:4800")
    c.one("out", from_out(T4(B, te, 80, tp, TCP_SYN | TCP_ACK, seq=500, ack=101)), "in")
    c.one("in", from_in(T4(A, B, 4800, 80, TCP_ACK, seq=101, ack=501)), "out")
    s2 = session(nat, "tcp", "10.1.0.2:4800")
    c.one("in", from_in(T4(A, B, 4800, 80, TCP_FIN | TCP_ACK, seq=101, ack=501)), "out")
    c.one("out", from_out(T4(B, te, 80, tp, TCP_FIN | TCP_ACK, seq=501, ack=102)), "in")
    c.one("in", from_in(T4(A, B, 4800, 80, TCP_ACK, seq=102, ack=502)), "out")
    s3 = session(nat, "tcp", "10.1.0.2:4800")
    got = [(s and s["state"], s and s["seconds"]) for s in (s1, s2, s3)]
    res.check(got[0][0] == "SYN_SENT" and 238 <= got[0][1] <= 240 and
              got[1][0] == "ESTABLISHED" and 7438 <= got[1][1] <= 7440 and
              got[2][0] == "TIME_WAIT" and 238 <= got[2][1] <= 240,
              "RFC 5382 REQ-5: TCP idle timeouts by state: %s" % got)

    # RFC 5508 REQ-1..2 (ICMP query): the echo identifier is mapped like a
    # port; the reply comes back with the inside identifier; a second host
    # with the same identifier on the same external address gets another.
    # (Checksums: the frames are compared whole.)
    f = c.one("in", from_in(ECHO(IN_A, R1, 0x4242, 1)), "out")
    ie, iid = src_of(f) if f else (None, None)
    ok = f == to_out(ECHO(ie, R1, iid, 1))
    ok &= c.exact("", "out", from_out(ECHO(R1, ie, iid, 1, reply=True)), "in",
                  to_in(ECHO(R1, IN_A, 0x4242, 1, reply=True)))
    # find a host paired with the same address, same identifier
    other = None
    for i in range(40, 80):
        h = ip4("10.1.0.%d" % i)
        f = c.one("in", from_in(ECHO(h, R1, 0x4242, 1)), "out")
        if f and src_of(f)[0] == ie:
            other = (h, src_of(f)[1])
            ok &= f == to_out(ECHO(ie, R1, other[1], 1))
            break
    ok &= other is not None and other[1] != iid
    if other:
        ok &= c.exact("", "out", from_out(ECHO(R1, ie, other[1], 1, reply=True)), "in",
                      to_in(ECHO(R1, other[0], 0x4242, 1, reply=True)))
    res.check(ok, "RFC 5508 REQ-1/2: ICMP echo identifier translated (0x4242 -> %s), "
              "replies back to the right host; a second host's 0x4242 on the same address "
              "-> %s" % (iid, other and other[1]))

    # RFC 5508 REQ-3/4 (ICMP errors): translated in both directions, the
    # quoted packet restored with its IP and L4 checksums, the outer header
    # and ICMP checksum right.
    ext, port = eim
    q_out = U4(ext, R1, port, 53)			# what R sent out
    q_in = U4(IN_A, R1, 4000, 53)			# what IN_A had sent
    ok = c.exact("", "out", from_out(ICMPERR(R1, ext, 3, 3, q_out)), "in",
                 to_in(ICMPERR(R1, IN_A, 3, 3, q_in)))
    res.check(ok, "RFC 5508 REQ-4: ICMP error from the remote host (port unreachable) "
              "quoting a whole UDP packet: outer destination, quoted source address and "
              "port, quoted IP and UDP checksums, ICMP checksum")
    RTR = ip4("10.2.0.254")
    tq_out = T4(te, B, tp, 80, TCP_ACK, seq=102, ack=502)
    tq_in = T4(A, B, 4800, 80, TCP_ACK, seq=102, ack=502)
    ok = c.exact("", "out", from_out(ICMPERR(RTR, te, 11, 0, tq_out[:28])), "in",
                 to_in(ICMPERR(RTR, A, 11, 0, tq_in[:28])))
    res.check(ok, "RFC 5508 REQ-4: ICMP time exceeded from a router (outer source kept) "
              "quoting IP + 8 bytes of TCP: restored (no TCP checksum in the quote)")
    eq_out = ECHO(ie, R1, iid, 7)
    eq_in = ECHO(IN_A, R1, 0x4242, 7)
    ok = c.exact("", "out", from_out(ICMPERR(RTR, ie, 3, 1, eq_out)), "in",
                 to_in(ICMPERR(RTR, IN_A, 3, 1, eq_in)))
    res.check(ok, "RFC 5508 REQ-4: ICMP host unreachable quoting an echo request: the "
              "quoted identifier and ICMP checksum restored")
    # from inside about an inbound packet (R1 -> ext:port reached IN_A)
    inb_in = U4(R1, IN_A, 53, 4000)
    inb_out = U4(R1, ext, 53, port)
    ok = c.exact("", "in", from_in(ICMPERR(IN_A, R1, 3, 3, inb_in)), "out",
                 to_out(ICMPERR(ext, R1, 3, 3, inb_out)))
    res.check(ok, "RFC 5508 REQ-3: ICMP error from inside about an inbound packet: outer "
              "source and the quoted destination become the external endpoint")
    ok = c.dropped("out", from_out(ICMPERR(R1, ext, 3, 3, U4(ext, R1, 31000, 53))),
                   "icmp-error-no-session")
    res.check(ok, "RFC 5508 REQ-3: an ICMP error quoting no session is dropped "
              "(icmp-error-no-session)")

    # RFC 4787 REQ-12: receiving ICMP destination unreachable does not
    # delete the mapping (the errors above): the flow still works.
    ok = c.exact("", "out", from_out(U4(R1, ext, 53, port)), "in",
                 to_in(U4(R1, IN_A, 53, 4000)))
    ok &= session(nat, "udp", "10.1.0.2:4000") is not None
    res.check(ok, "RFC 4787 REQ-12: the mapping survives ICMP errors about it")

    # RFC 5508 REQ-2: ICMP query session timeout >= 60 s (default 60).
    c.one("in", from_in(ECHO(IN_A, R1, 0x5151, 1)), "out")
    s = session(nat, "icmp", "10.1.0.2:20817")
    res.check(s is not None and 58 <= s["seconds"] <= 60,
              "RFC 5508 REQ-2: ICMP query session timeout >= 60 s: ttl %s in the session "
              "dump" % (s and s["seconds"]))

    # RFC 4787 REQ-14: fragments. The first one (ports) is translated
    # through the session, the later one gets the same addresses; the UDP
    # checksum (in the first) covers the whole datagram.
    data = bytes(range(48))
    u = udp(IN_A, R1, data, 4000, 53)
    u2 = udp(ext, R1, data, port, 53)
    ok = c.exact("", "in", from_in(v4(IN_A, R1, 17, u[:24], ident=0x7777, mf=True)), "out",
                 to_out(v4(ext, R1, 17, u2[:24], ident=0x7777, mf=True)))
    ok &= c.exact("", "in", from_in(v4(IN_A, R1, 17, u[24:], ident=0x7777, off=3)), "out",
                  to_out(v4(ext, R1, 17, u[24:], ident=0x7777, off=3)))
    ok &= c.dropped("in", from_in(v4(IN_A, R1, 17, u[24:], ident=0x7778, off=3)),
                    "fragment-no-state")
    res.check(ok, "RFC 4787 REQ-14: a fragmented datagram is translated (first fragment "
              "by its session, the next by the first's translation); a later fragment "
              "without its first is dropped (fragment-no-state)")


# ------------------------------------------------------------ config 2

def port_tests(c):
    """One pool address, ports 1-65535: port preservation, ranges, parity."""
    a = {}
    for i, (h, sp) in enumerate(((IN_A, 5000), (IN_B, 5000), (ip4("10.1.0.4"), 5000),
                                 (IN_A, 5001), (IN_B, 5001), (IN_A, 500), (IN_B, 500),
                                 (IN_A, 501), (IN_B, 501))):
        f = c.one("in", from_in(U4(h, R1, sp, 53)), "out")
        a[(astr(h), sp)] = src_of(f)[1] if f and src_of(f)[0] == P1 else None
    res.check(a[("10.1.0.2", 5000)] == 5000 and a[("10.1.0.2", 5001)] == 5001 and
              a[("10.1.0.2", 500)] == 500,
              "RFC 4787 REQ-3: port preservation: a free port is kept (5000, 5001, 500)")
    taken = [a[k] for k in (("10.1.0.3", 5000), ("10.1.0.4", 5000), ("10.1.0.3", 5001))]
    res.check(all(p is not None and 1024 <= p <= 65535 for p in taken) and
              len(set(taken + [5000, 5001])) == 5 and
              all(p is not None and 0 < p < 1024 for p in (a[("10.1.0.3", 500)],
                                                           a[("10.1.0.3", 501)])) and
              a[("10.1.0.3", 500)] != 500 and a[("10.1.0.3", 501)] != 501,
              "RFC 4787 REQ-3: no port overloading; a taken port >= 1024 is replaced from "
              "1024-65535, one < 1024 from 1-1023: %s" % a)
    res.check(all(p is not None for p in taken) and taken[0] % 2 == 0 and
              taken[1] % 2 == 0 and taken[2] % 2 == 1 and a[("10.1.0.3", 500)] % 2 == 0
              and a[("10.1.0.3", 501)] % 2 == 1,
              "RFC 4787 REQ-4: port parity kept when the port is replaced")
    # TCP: independent port space (RFC 5382 REQ-1 has no parity)
    f = c.one("in", from_in(T4(IN_B, R1, 5000, 80, TCP_SYN)), "out")
    res.check(f == to_out(T4(P1, R1, 5000, 80, TCP_SYN)),
              "RFC 4787 REQ-3: TCP ports are allocated apart from UDP ports (5000 kept)")


def range_tests(c):
    """pool 10.2.0.1 ports 20000-20003: ports from the range, parity kept."""
    got = []
    for sp in (5000, 5001, 5002, 5003):
        f = c.one("in", from_in(U4(IN_A, R1, sp, 53)), "out")
        got.append(src_of(f) if f else None)
    res.check(got == [(P1, 20000), (P1, 20001), (P1, 20002), (P1, 20003)],
              "RFC 4787 REQ-3: ports come from the pool's range 20000-20003 with parity: %s"
              % [g and g[1] for g in got])


def static_tests(c):
    """static 10.1.0.50 10.2.0.50 beside the pool: stateless 1:1."""
    S_IN, S_EXT = ip4("10.1.0.50"), ip4("10.2.0.50")
    ok = c.exact("", "in", from_in(U4(S_IN, R1, 1111, 53)), "out",
                 to_out(U4(S_EXT, R1, 1111, 53)))
    ok &= c.exact("", "out", from_out(T4(R2, S_EXT, 2222, 22, TCP_SYN)), "in",
                  to_in(T4(R2, S_IN, 2222, 22, TCP_SYN)))
    ok &= c.exact("", "in", from_in(ECHO(S_IN, R1, 99)), "out", to_out(ECHO(S_EXT, R1, 99)))
    ok &= c.exact("", "out", from_out(ICMPERR(R1, S_EXT, 3, 3, U4(S_EXT, R1, 1111, 53))),
                  "in", to_in(ICMPERR(R1, S_IN, 3, 3, U4(S_IN, R1, 1111, 53))))
    st = c.nat.nat_stats()
    ok &= st["sessions"] == 0 and st["static_out"] == 2 and st["static_in"] == 2
    res.check(ok, "static 1:1 NAT: addresses only, ports and identifiers kept, both "
              "directions, ICMP errors, no sessions (static_out 2, static_in 2)")


def main():
    return run_configs(res, (("pool 10.2.0.10-10.2.0.13\nset sessions 4096\n", pool_tests),
                           ("pool 10.2.0.1 ports 1-65535\nset sessions 4096\n", port_tests),
                           ("pool 10.2.0.1 ports 20000-20003\nset sessions 4096\n", range_tests),
                           ("pool 10.2.0.1\nstatic 10.1.0.50 10.2.0.50\nset sessions 4096\n",
                            static_tests)))


if __name__ == "__main__":
    sys.exit(main())
