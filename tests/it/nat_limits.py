#!/usr/bin/env python3
"""nat_limits.py - nf-nat when its tables run out (tests/it/nat_limits.sh):

  session table: `set sessions 16`: 16 flows are made; the 17th is refused
      and counted (session-table-full), whether it needs a new mapping or
      reuses one; the 16 keep working both ways; when they expire (udp 2 s,
      set at run time) new flows are accepted again: the table recovers;
  ports: `pool 10.2.0.1 ports 20000-20003`: four flows get the four ports
      (parity first, then any), the fifth is refused (no-free-port), the
      four keep working; when one mapping expires its port is reused.
The counters (`stats`: nat_refused, sessions, mappings) and the dumps
(`sessions`, `mappings`, with their MAX argument) are checked along.
"""
import sys, time

from nat_lib import *  # noqa: F401,F403

IN_A = ip4("10.1.0.2")
R1, R2 = ip4("198.51.100.7"), ip4("198.51.100.8")
P = ip4("10.2.0.1")
res = Results()


def session_table(c):
    nat = c.nat
    ok = True
    for i in range(16):		# 16 inside endpoints, 16 mappings, 16 sessions
        ok &= c.exact("", "in", from_in(U4(IN_A, R1, 6000 + i, 53)), "out",
                      to_out(U4(P, R1, 6000 + i, 53)))
    st = nat.nat_stats()
    res.check(ok and st["sessions"] == 16 and st["mappings"] == 16,
              "16 flows fill a 16-session table (sessions %d, mappings %d)" %
              (st["sessions"], st["mappings"]))
    ok = c.dropped("in", from_in(U4(IN_A, R1, 7000, 53)), "session-table-full")
    ok &= c.dropped("in", from_in(U4(IN_A, R2, 6000, 53)), "session-table-full")
    ok &= c.dropped("in", from_in(T4(IN_A, R1, 7001, 80, TCP_SYN)), "session-table-full")
    ok &= c.dropped("in", from_in(ECHO(IN_A, R1, 7002)), "session-table-full")
    refused = nat.ctl("stats")["nat_refused"]
    res.check(ok and refused["session-table-full"] == 4,
              "full table: new flows refused and counted, with a new mapping (UDP, TCP, "
              "ICMP) or an existing one (session-table-full %d)" %
              refused["session-table-full"])
    ok = True
    for i in range(16):
        ok &= c.exact("", "out", from_out(U4(R1, P, 53, 6000 + i)), "in",
                      to_in(U4(R1, IN_A, 53, 6000 + i)))
        ok &= c.exact("", "in", from_in(U4(IN_A, R1, 6000 + i, 53, b"again")), "out",
                      to_out(U4(P, R1, 6000 + i, 53, b"again")))
    res.check(ok, "full table: the 16 existing flows keep working both ways")
    n4 = len(nat.ctl("sessions 4")["sessions"])
    m3 = len(nat.ctl("mappings 3")["mappings"])
    res.check(n4 == 4 and m3 == 3 and len(nat.sessions()) == 16,
              "sessions MAX / mappings MAX cut the dumps (4, 3; all: 16)")
    nat.set("udp", 2)
    # the flows were refreshed with the old timeout: wait past it below by
    # refreshing once more with the new one, then being idle
    for i in range(16):
        c.one("in", from_in(U4(IN_A, R1, 6000 + i, 53)), "out")
    time.sleep(4.5)
    st = nat.nat_stats()
    ok = st["sessions"] == 0 and st["mappings"] == 0 and st["expired"] == 16
    ok &= c.exact("", "in", from_in(U4(IN_A, R1, 7000, 53)), "out",
                  to_out(U4(P, R1, 7000, 53)))
    res.check(ok, "after expiry (udp 2 s) the table is empty (expired %d, mappings %d) and "
              "takes new flows" % (st["expired"], st["mappings"]))
    ok = c.dropped("out", from_out(U4(R1, P, 53, 6003)), "no-mapping")
    res.check(ok, "an expired mapping lets nothing in (no-mapping)")


def port_pool(c):
    nat = c.nat
    got = []
    for sp in (5000, 5002, 5004, 5006):
        f = c.one("in", from_in(U4(IN_A, R1, sp, 53)), "out")
        got.append(src_of(f)[1] if f else None)
    res.check(got == [20000, 20002, 20001, 20003],
              "port pool 20000-20003: 4 even inside ports get the even ports, then the odd "
              "ones: %s" % got)
    ok = c.dropped("in", from_in(U4(IN_A, R1, 5008, 53)), "no-free-port")
    ok &= c.dropped("in", from_in(U4(ip4("10.1.0.9"), R1, 5001, 53)), "no-free-port")
    # TCP has its own ports
    ok &= c.exact("", "in", from_in(T4(IN_A, R1, 5008, 80, TCP_SYN)), "out",
                  to_out(T4(P, R1, 20000, 80, TCP_SYN)))
    refused = nat.ctl("stats")["nat_refused"]
    res.check(ok and refused["no-free-port"] == 2,
              "no port left: new UDP mappings refused (no-free-port %d); TCP ports are "
              "apart" % refused["no-free-port"])
    ok = True
    for sp, ep in zip((5000, 5002, 5004, 5006), got):
        ok &= c.exact("", "out", from_out(U4(R1, P, 53, ep or 0)), "in",
                      to_in(U4(R1, IN_A, 53, sp)))
    res.check(ok, "no port left: the 4 existing mappings keep working")
    nat.set("udp", 1)
    for sp in (5000, 5002, 5004, 5006):	# the new timeout; keep 3 alive, let 5000 go
        c.one("in", from_in(U4(IN_A, R1, sp, 53)), "out")
    deadline = time.monotonic() + 4
    f = None
    while time.monotonic() < deadline:
        for sp in (5002, 5004, 5006):
            c.wire.send("in", from_in(U4(IN_A, R1, sp, 53)), 0.05)
        if nat.nat_stats()["mappings"] == 4:	# 3 UDP + TCP
            f = c.one("in", from_in(U4(IN_A, R1, 5008, 53)), "out")
            break
        time.sleep(0.2)
    res.check(f == to_out(U4(P, R1, 20000, 53)),
              "the port of an expired mapping is free again: 5008 -> 20000 (%s; drops %s; "
              "mappings %s)" % (summary(f) if f else "nothing", nat.new_drops(),
                                [m["inside"] for m in nat.mappings()]))


def main():
    return run_configs(res, (("pool 10.2.0.1\nset sessions 16\n", session_table),
                           ("pool 10.2.0.1 ports 20000-20003\nset sessions 64\n", port_pool)))


if __name__ == "__main__":
    sys.exit(main())
