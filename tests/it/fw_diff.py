#!/usr/bin/env python3
"""fw_diff.py - the packet sequences and comparisons of
tests/it/firewall_linux.sh: nf-firewall against nftables with conntrack.

Two topologies (built by the shell script), each three namespaces:

    H1 (h1) ---veth--- (r1) R (r2) ---veth--- (h2) H2
        10.1.0.0/24, fd01::/64      10.2.0.0/24, fd02::/64

  a: R is Linux: it routes, and a `table inet t` with a forward chain holds
     the rule set (`nft add rule inet t c LINE` for every line of the rule
     file);
  b: R runs nf-firewall on afpacket:r1 and afpacket:r2 (ports named r1 and
     r2, so that iifname/oifname mean the same) with the same rule file;
     it is transparent (no addresses, frames pass unchanged).
The hosts are raw sockets held here. Every step of a sequence is one
crafted frame sent from H1 or H2 into both topologies (to R's MAC: Linux
routes it, nf-firewall passes it as it is); what comes out on either side
within a short window is the step's outcome in that topology:

  pass        the frame (or its routed copy) reached the other host
  drop        nothing came out
  reject X    an answer came back to the sender: X is "ICMP t/c" (the
              quoted packet must be the step's) or "RST" with its
              sequence and acknowledgement numbers

Compared, for every step: Linux's outcome is the one the step expects (the
test checks itself), and nf-firewall's outcome is Linux's. Steps run in the
same order on both, so connection-tracking state builds up the same way.
Timeouts are shortened on both sides (sysctls / `set` keys, see the shell
script) and the steps that test them sleep past them.

Remaining, explained differences (not normalised away, because the
outcome is compared, not the bytes):
  * the source address of an ICMP error made by `reject`: Linux, a router,
    sends it from its own address on the way back (10.1.0.1); nf-firewall
    has no address and sends it from the address the rejected packet was
    for. Only type, code and the quoted packet are compared;
  * TTL / hop limit: Linux decrements it (it routes), nf-firewall does not.
    Outcomes do not look at it.

Prints "ok - ..." / "not ok - ..." lines; exit status 1 if any failed.
"""
import argparse, json, os, struct, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pkt import *  # noqa: E402,F401,F403

MAC_H1, MAC_R1 = mac("02:00:00:00:01:02"), mac("02:00:00:00:01:01")
MAC_H2, MAC_R2 = mac("02:00:00:00:02:02"), mac("02:00:00:00:02:01")
C4, S4 = ip4("10.1.0.2"), ip4("10.2.0.2")
C6, S6 = ip6("fd01::2"), ip6("fd02::2")
WINDOW = 0.12		# seconds to wait for what a step causes


class Step:
    """One frame, its direction, the outcome Linux must give."""

    def __init__(self, name, side, l3, etype, want, sleep=0.0):
        self.name, self.side, self.l3, self.etype = name, side, l3, etype
        self.want, self.sleep = want, sleep

    def frame(self):
        if self.side == "h1":
            return eth(self.l3, self.etype, MAC_R1, MAC_H1)
        return eth(self.l3, self.etype, MAC_R2, MAC_H2)


def T(name, src, dst, sport, dport, flags, want, seq=1000, ack=0, data=b"", sleep=0.0):
    side = "h1" if src in (C4, C6) else "h2"
    l3, et = ip(src, dst, 6, tcp(src, dst, sport, dport, flags, seq, ack, data))
    return Step(name, side, l3, et, want, sleep)


def U(name, src, dst, sport, dport, want, data=b"x" * 8, sleep=0.0, tos=0):
    side = "h1" if src in (C4, C6) else "h2"
    kw = {"tos": tos} if len(src) == 4 else {"tc": tos}
    l3, et = ip(src, dst, 17, udp(src, dst, data, sport, dport), **kw)
    return Step(name, side, l3, et, want, sleep)


def E(name, src, dst, typ, ident, want, seq=1, sleep=0.0):
    """ICMP / ICMPv6 query (echo request 8/128, echo reply 0/129)."""
    side = "h1" if src in (C4, C6) else "h2"
    rest = ident << 16 | seq
    if len(src) == 4:
        l3, et = ip(src, dst, 1, icmp4(typ, 0, rest, b"ping" * 8))
    else:
        l3, et = ip(src, dst, 58, icmp6(src, dst, typ, 0, rest, b"ping" * 8))
    return Step(name, side, l3, et, want, sleep)


def ERR(name, src, dst, typ, code, quoted_l3, want):
    """An ICMP error from @src to @dst quoting @quoted_l3 (IP header + 8
    bytes of what it quotes, or all of it)."""
    side = "h1" if src in (C4, C6) else "h2"
    q = quoted_l3[:28] if len(src) == 4 else quoted_l3[:48]
    if len(src) == 4:
        l3, et = ip(src, dst, 1, icmp4(typ, code, 0, q))
    else:
        l3, et = ip(src, dst, 58, icmp6(src, dst, typ, code, 0, q))
    return Step(name, side, l3, et, want)


def quoted_udp(src, dst, sport, dport):
    return ip(src, dst, 17, udp(src, dst, b"x" * 8, sport, dport))[0]


def quoted_tcp(src, dst, sport, dport, flags, seq=1000):
    return ip(src, dst, 6, tcp(src, dst, sport, dport, flags, seq))[0]


S, A, F, R, P = TCP_SYN, TCP_ACK, TCP_FIN, TCP_RST, TCP_PSH

# ------------------------------------------------------------ rule sets

STATEFUL = """\
ct state established,related accept
ct state invalid drop
iifname "r1" tcp dport 80 accept
iifname "r1" udp dport 53 accept
iifname "r1" icmp type echo-request accept
iifname "r1" icmpv6 type echo-request accept
iifname "r1" meta l4proto tcp ct state new tcp dport 8080 accept
counter drop
"""


def stateful_steps():
    s = []
    # A whole TCP connection, both families.
    for c, sv, fam in ((C4, S4, "IPv4"), (C6, S6, "IPv6")):
        p = 40001
        s += [T(fam + " TCP SYN to an allowed port", c, sv, p, 80, S, "pass", seq=100),
              T(fam + " TCP SYN/ACK back", sv, c, 80, p, S | A, "pass", seq=500, ack=101),
              T(fam + " TCP ACK", c, sv, p, 80, A, "pass", seq=101, ack=501),
              T(fam + " TCP data out", c, sv, p, 80, P | A, "pass", seq=101, ack=501,
                data=b"GET /\r\n"),
              T(fam + " TCP data back", sv, c, 80, p, P | A, "pass", seq=501, ack=108,
                data=b"hello"),
              T(fam + " TCP FIN from the client", c, sv, p, 80, F | A, "pass", seq=108, ack=506),
              T(fam + " TCP FIN from the server", sv, c, 80, p, F | A, "pass", seq=506, ack=109),
              T(fam + " TCP last ACK", c, sv, p, 80, A, "pass", seq=109, ack=507),
              T(fam + " TCP ACK in TIME_WAIT", c, sv, p, 80, A, "pass", seq=109, ack=507)]
        # Not allowed: a new connection to port 22, from outside to inside.
        s += [T(fam + " TCP SYN to a closed port", c, sv, 40002, 22, S, "drop"),
              T(fam + " TCP SYN from outside", sv, c, 40003, 80, S, "drop")]
        # Out of state.
        s += [T(fam + " SYN/ACK without a SYN (invalid)", sv, c, 80, 40004, S | A, "drop",
                seq=9, ack=77),
              T(fam + " RST without a connection (invalid)", c, sv, 40005, 80, R, "drop"),
              T(fam + " ACK without a connection to port 80 (loose: new, allowed)",
                c, sv, 40006, 80, A, "pass", seq=5, ack=6),
              T(fam + " ... and its answer (established)", sv, c, 80, 40006, A, "pass",
                seq=6, ack=5),
              T(fam + " ACK without a connection to port 8080 (loose pickup, new, but "
                "the rule wants ct state new: it is new)", c, sv, 40007, 8080, A, "pass"),
              T(fam + " SYN+FIN (invalid flags)", c, sv, 40008, 80, S | F, "drop"),
              T(fam + " no flags at all (invalid)", c, sv, 40009, 80, 0, "drop")]
        # RST tears a connection down; the next SYN on the same ports opens
        # a new one.
        s += [T(fam + " SYN (then reset)", c, sv, 40010, 80, S, "pass", seq=1),
              T(fam + " SYN/ACK", sv, c, 80, 40010, S | A, "pass", seq=50, ack=2),
              T(fam + " RST from the server", sv, c, 80, 40010, R | A, "pass", seq=51, ack=2),
              T(fam + " data after the reset (CLOSE: still tracked)", c, sv, 40010, 80,
                P | A, "pass", seq=2, ack=51, data=b"late"),
              T(fam + " a new SYN on the same ports", c, sv, 40010, 80, S, "pass", seq=900)]
        # UDP: out, back, unsolicited.
        s += [U(fam + " UDP query to an allowed port", c, sv, 5000, 53, "pass"),
              U(fam + " UDP answer", sv, c, 53, 5000, "pass"),
              U(fam + " UDP second query", c, sv, 5000, 53, "pass"),
              U(fam + " UDP unsolicited from outside", sv, c, 53, 5001, "drop"),
              U(fam + " UDP to a closed port", c, sv, 5002, 54, "drop")]
        # ICMP queries.
        req, rep = (8, 0) if fam == "IPv4" else (128, 129)
        s += [E(fam + " echo request", c, sv, req, 7, "pass"),
              E(fam + " echo reply", sv, c, rep, 7, "pass"),
              E(fam + " echo reply without a request (invalid)", sv, c, rep, 8, "drop"),
              E(fam + " echo request from outside", sv, c, req, 9, "drop")]
        # ICMP errors: quoting a tracked flow (related), an unknown one.
        unreach, pu = (3, 3) if fam == "IPv4" else (1, 4)
        s += [ERR(fam + " port unreachable quoting the tracked UDP flow (related)",
                  sv, c, unreach, pu, quoted_udp(c, sv, 5000, 53), "pass"),
              ERR(fam + " port unreachable quoting an unknown flow (invalid)",
                  sv, c, unreach, pu, quoted_udp(c, sv, 5999, 53), "drop"),
              ERR(fam + " unreachable quoting the tracked TCP connection (related)",
                  sv, c, unreach, 1 if fam == "IPv4" else 3,
                  quoted_tcp(c, sv, 40001, 80, A, seq=109), "pass")]
    # Timeouts (shortened: udp 2 s, udp stream 3 s, icmp 2 s).
    s += [U("UDP flow before its timeout", C4, S4, 6000, 53, "pass"),
          U("UDP answer before the timeout", S4, C4, 53, 6000, "pass"),
          U("UDP answer after the stream timeout (new from outside)", S4, C4, 53, 6000,
            "drop", sleep=4.0),
          E("echo request, then wait past the ICMP timeout", C4, S4, 8, 20, "pass"),
          E("echo reply after the ICMP timeout (invalid)", S4, C4, 0, 20, "drop", sleep=3.0)]
    return s


# The flow cache (DESIGN "nf-firewall"): established IPv4 TCP / UDP flows
# whose steady packets it decides, then whatever must change their
# decision on the next packet: the ct state turning from new (unreplied)
# to established, a per-packet field a rule reads (DSCP, TCP flags), RST,
# FIN, timeouts. Each flow sends a few packets of one shape first, so that
# the later ones are cache hits.
CACHE = """\
ct state invalid drop
ct state established ip dscp ef drop
ct state established tcp dport 8081 tcp flags & (psh|ack) == psh|ack drop
ct state established udp dport 5353 drop
ct state established tcp dport 8082 drop
udp dport 5400 ip dscp cs1 drop
ct state established,related accept
iifname "r1" tcp dport { 80, 8081, 8082 } accept
iifname "r1" udp dport { 53, 5353, 5400 } accept
counter drop
"""


def cache_steps():
    c, sv = C4, S4
    s = []
    # TCP: data both ways, then a RST; the connection's next packets.
    p = 41001
    s += [T("SYN", c, sv, p, 80, S, "pass", seq=100),
          T("SYN/ACK", sv, c, 80, p, S | A, "pass", seq=500, ack=101),
          T("ACK", c, sv, p, 80, A, "pass", seq=101, ack=501)]
    s += [T("data out %d (ACK)" % k, c, sv, p, 80, A, "pass", seq=101 + 10 * k, ack=501,
            data=b"x" * 10) for k in range(4)]
    s += [T("data back %d (ACK)" % k, sv, c, 80, p, A, "pass", seq=501 + 10 * k, ack=141,
            data=b"y" * 10) for k in range(4)]
    s += [T("RST from the client", c, sv, p, 80, R | A, "pass", seq=141, ack=541),
          T("data back after the RST (CLOSE)", sv, c, 80, p, A, "pass", seq=541, ack=141,
            data=b"y" * 10),
          T("data out after the RST (CLOSE)", c, sv, p, 80, A, "pass", seq=141, ack=551,
            data=b"x" * 10),
          T("a new SYN on the same ports", c, sv, p, 80, S, "pass", seq=7000)]
    # TCP: a FIN teardown in the middle of cached traffic.
    p = 41002
    s += [T("FIN: SYN", c, sv, p, 80, S, "pass", seq=100),
          T("FIN: SYN/ACK", sv, c, 80, p, S | A, "pass", seq=500, ack=101),
          T("FIN: ACK", c, sv, p, 80, A, "pass", seq=101, ack=501)]
    s += [T("FIN: ACK %d" % k, c, sv, p, 80, A, "pass", seq=101, ack=501) for k in range(3)]
    s += [T("FIN from the client", c, sv, p, 80, F | A, "pass", seq=101, ack=501),
          T("FIN: ACK back (CLOSE_WAIT)", sv, c, 80, p, A, "pass", seq=501, ack=102),
          T("FIN: data back in CLOSE_WAIT", sv, c, 80, p, A, "pass", seq=501, ack=102,
            data=b"z" * 10),
          T("FIN from the server", sv, c, 80, p, F | A, "pass", seq=511, ack=102),
          T("FIN: last ACK", c, sv, p, 80, A, "pass", seq=102, ack=512),
          T("FIN: ACK in TIME_WAIT", c, sv, p, 80, A, "pass", seq=102, ack=512),
          T("FIN: ACK in TIME_WAIT again", c, sv, p, 80, A, "pass", seq=102, ack=512)]
    # TCP flags: PSH/ACK to 8081 dropped when established, ACK passes.
    p = 41003
    s += [T("flags: SYN to 8081", c, sv, p, 8081, S, "pass", seq=100),
          T("flags: SYN/ACK", sv, c, 8081, p, S | A, "pass", seq=500, ack=101),
          T("flags: ACK", c, sv, p, 8081, A, "pass", seq=101, ack=501)]
    s += [T("flags: ACK %d" % k, c, sv, p, 8081, A, "pass", seq=101, ack=501,
            data=b"a" * 4) for k in range(3)]
    s += [T("flags: PSH/ACK dropped", c, sv, p, 8081, P | A, "drop", seq=105, ack=501,
            data=b"b" * 4),
          T("flags: ACK passes", c, sv, p, 8081, A, "pass", seq=105, ack=501, data=b"a" * 4),
          T("flags: PSH/ACK dropped again", c, sv, p, 8081, P | A, "drop", seq=109,
            ack=501, data=b"b" * 4)]
    # DSCP: established packets marked EF are dropped, others pass.
    s += [U("dscp: query %d" % k, c, sv, 5100, 53, "pass") for k in range(3)]
    s += [U("dscp: answer", sv, c, 53, 5100, "pass"),
          U("dscp: query after the answer", c, sv, 5100, 53, "pass"),
          U("dscp: query after the answer again", c, sv, 5100, 53, "pass"),
          U("dscp: query marked EF dropped", c, sv, 5100, 53, "drop", tos=46 << 2),
          U("dscp: query unmarked passes", c, sv, 5100, 53, "pass"),
          U("dscp: answer marked EF dropped", sv, c, 53, 5100, "drop", tos=46 << 2)]
    # DSCP on a one-way flow (unreplied: new, its packets cached at once).
    s += [U("dscp one way: packet %d" % k, c, sv, 5150, 5400, "pass") for k in range(3)]
    s += [U("dscp one way: marked CS1 dropped", c, sv, 5150, 5400, "drop", tos=8 << 2),
          U("dscp one way: unmarked passes", c, sv, 5150, 5400, "pass"),
          U("dscp one way: marked CS1 dropped again", c, sv, 5150, 5400, "drop", tos=8 << 2)]
    # ct state new -> established on a picked-up TCP connection: the ACK's
    # slot was filled while it was new (no reply yet); after the reply a
    # PSH/ACK (another slot) makes the entry ASSURED, and the next ACK, now
    # established, is dropped.
    p = 41004
    s += [T("pickup: ACK to 8082 (new)", c, sv, p, 8082, A, "pass", seq=5, ack=6),
          T("pickup: ACK again (new: no reply yet)", c, sv, p, 8082, A, "pass", seq=5, ack=6),
          T("pickup: the answer (established)", sv, c, 8082, p, A, "pass", seq=6, ack=5),
          T("pickup: PSH/ACK (established: dropped)", c, sv, p, 8082, P | A, "drop", seq=5,
            ack=6, data=b"p"),
          T("pickup: ACK (established now: dropped)", c, sv, p, 8082, A, "drop", seq=6, ack=6),
          T("pickup: ACK again (dropped)", c, sv, p, 8082, A, "drop", seq=6, ack=6)]
    # ct state new -> established: unreplied queries to 5353 pass (new),
    # the answer and everything after it are established: dropped.
    s += [U("mdns: query %d (new, unreplied)" % k, c, sv, 5200, 5353, "pass")
          for k in range(4)]
    s += [U("mdns: answer (established, to port 5200)", sv, c, 5353, 5200, "pass"),
          U("mdns: query after the answer (established)", c, sv, 5200, 5353, "drop"),
          U("mdns: query after the answer again", c, sv, 5200, 5353, "drop")]
    # Timeouts (udp 2 s): cached packets refresh the entry as nf_ct_in does.
    s += [U("timeout: query %d" % k, c, sv, 5300, 53, "pass") for k in range(3)]
    s += [U("timeout: query at 1.2 s", c, sv, 5300, 53, "pass", sleep=1.2),
          U("timeout: query at 2.4 s (alive: refreshed at 1.2 s)", c, sv, 5300, 53, "pass",
            sleep=1.2),
          U("timeout: answer at 3.6 s (alive: refreshed at 2.4 s)", sv, c, 53, 5300, "pass",
            sleep=1.2),
          U("timeout: query", c, sv, 5301, 53, "pass"),
          U("timeout: query", c, sv, 5301, 53, "pass"),
          U("timeout: query", c, sv, 5301, 53, "pass"),
          U("timeout: answer after the UDP timeout (new from outside)", sv, c, 53, 5301,
            "drop", sleep=2.6),
          U("timeout: the query again after the timeout (a new entry)", c, sv, 5301, 53,
            "pass"),
          U("timeout: query", c, sv, 5301, 53, "pass"),
          U("timeout: its answer", sv, c, 53, 5301, "pass")]
    return s


STATELESS = """\
ip saddr 10.1.0.0/24 tcp dport 1000-2000 accept
tcp flags & (syn|ack) == syn tcp dport 22 drop
tcp dport 23 reject with tcp reset
udp dport 7 reject with icmp type host-unreachable
udp dport 8 reject
ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited
udp sport { 53, 123 } accept
ip daddr != 10.2.0.0/24 ip protocol udp drop
icmp type { echo-request, echo-reply } accept
icmp type destination-unreachable drop
ip dscp ef accept
ip6 dscp cs1 drop
tcp sport 1-1023 tcp flags & (fin|syn|rst|ack) == ack accept
counter
meta l4proto udp udp dport 100-200 drop
"""


def stateless_steps():
    return [
        T("TCP to 1500 from the inside /24 (range)", C4, S4, 3000, 1500, S, "pass"),
        T("TCP to 2001 (outside the range)", C4, S4, 3000, 2001, S, "pass"),
        T("SYN to 22 (flags mask == syn)", C4, S4, 3000, 22, S, "drop"),
        T("SYN/ACK to 22 (mask does not match)", C4, S4, 3000, 22, S | A, "pass"),
        T("TCP to 23: reject with tcp reset (SYN)", C4, S4, 3001, 23, S, "reject",
          seq=12345),
        T("TCP to 23: reject with tcp reset (ACK)", C4, S4, 3001, 23, P | A, "reject",
          seq=12345, ack=999, data=b"abc"),
        U("UDP to 7: host unreachable", C4, S4, 3002, 7, "reject"),
        U("UDP to 8: default reject (port unreachable)", C4, S4, 3002, 8, "reject"),
        U("IPv6 UDP to 8: default reject (ICMPv6 port unreachable)", C6, S6, 3002, 8,
          "reject"),
        U("IPv6 UDP to 9 from fd01::/64: admin prohibited", C6, S6, 3002, 9, "reject"),
        U("UDP from port 53 (set)", S4, C4, 53, 3003, "pass"),
        U("UDP from port 123 (set)", S4, C4, 123, 3003, "pass"),
        U("UDP to outside 10.2/24 (negated prefix): drop", S4, C4, 3004, 3005, "drop"),
        U("UDP to inside 10.2/24 passes the negation", C4, S4, 3004, 3005, "pass"),
        E("echo request (icmp type set)", C4, S4, 8, 1, "pass"),
        E("echo reply (icmp type set)", S4, C4, 0, 1, "pass"),
        ERR("destination unreachable: drop", S4, C4, 3, 1, quoted_udp(C4, S4, 1, 2), "drop"),
        ERR("time exceeded: policy accept", S4, C4, 11, 0, quoted_udp(C4, S4, 1, 2), "pass"),
        U("DSCP EF (46) accepted before the udp range", C4, S4, 3006, 150, "pass", tos=46 << 2),
        U("DSCP 0 to 150: the range drops it", C4, S4, 3006, 150, "drop"),
        U("IPv6 DSCP CS1 dropped", C6, S6, 3007, 150, "drop", tos=8 << 2),
        T("ACK from a low port (flags == ack)", S4, C4, 80, 3008, A, "pass"),
        T("FIN/ACK from a low port (flags != ack): policy", S4, C4, 80, 3008, F | A, "pass"),
        U("UDP to 99 (below the range)", C4, S4, 3009, 99, "pass"),
        U("IPv6 UDP to 150 (udp range, any family)", C6, S6, 3009, 150, "drop"),
    ]


RULESETS = {"stateful": (STATEFUL, "drop", stateful_steps),
            "cache": (CACHE, "drop", cache_steps),
            "stateless": (STATELESS, "accept", stateless_steps)}

# ------------------------------------------------------------ outcomes


def outcome(step, frames, sent):
    """What the frames captured after @step say happened to it."""
    other = "h2" if step.side == "h1" else "h1"
    # Linux's own multicast (MLD reports to ff02::16, now and then) is not
    # an outcome: no step sends to a group address.
    frames = unicast(frames)
    back = [f for n, f in frames if n == step.side]
    fwd = [f for n, f in frames if n == other]
    want_l4 = summary(sent)
    for f in fwd:			# the frame itself, routed or not
        if summary(f).split(" ")[:4] == want_l4.split(" ")[:4]:
            return "pass"
    for f in back:
        d = summary(f)
        if d.startswith("ICMP"):
            # "ICMP a > b t/c [quoted]": the quoted packet must be ours.
            q = d[d.find("[") + 1:-1] if "[" in d else ""
            if q.split(" ")[:4] != want_l4.split(" ")[:4]:
                continue
            return "reject " + d.split(" ")[0] + " " + d.split(" ")[4]
        if d.startswith("TCP") and "R" in d.split(" ")[-1]:
            t = f[14 + ((f[14] & 15) * 4 if f[12:14] == b"\x08\x00" else 40):]
            seq, ack = struct.unpack("!II", t[4:12])
            return "reject RST %s seq %d ack %d" % (d.split(" ")[-1], seq, ack)
    return "drop" if not fwd else "other: " + "; ".join(summary(f) for f in fwd)


def outcomes(step, frames, sent):
    """Each topology's outcome ("a": Linux, "b": nf-firewall)."""
    return {topo: outcome(step, [(n[1:], fr) for n, fr in frames if n[0] == topo], sent)
            for topo in ("a", "b")}


def expected(step, got):
    return got == step.want or (step.want == "reject" and got.startswith("reject"))


def agreed(step, got):
    """Both have answered, as expected and alike: the window can end (a
    "drop" always waits it out)."""
    return got["a"] != "drop" and expected(step, got["a"]) and got["b"] == got["a"]


def main():
    ap = argparse.ArgumentParser()
    for a in ("h1a", "h2a", "h1b", "h2b", "ctl", "ruleset"):
        ap.add_argument("--" + a, required=True)
    o = ap.parse_args()
    socks = {"a": {"h1": socket_in(o.h1a, "h1"), "h2": socket_in(o.h2a, "h2")},
             "b": {"h1": socket_in(o.h1b, "h1"), "h2": socket_in(o.h2b, "h2")}}
    failed = 0
    drain({**{"a" + k: v for k, v in socks["a"].items()},
           **{"b" + k: v for k, v in socks["b"].items()}}, 0.2)
    for st in RULESETS[o.ruleset][2]():
        if st.sleep:
            time.sleep(st.sleep)
        f = st.frame()
        for topo in ("a", "b"):
            socks[topo][st.side].send(f)
        frames = drain({topo + n: s for topo in ("a", "b") for n, s in socks[topo].items()},
                       WINDOW, lambda fr: agreed(st, outcomes(st, fr, f)))
        got = outcomes(st, frames, f)
        linux_ok = expected(st, got["a"])
        if not linux_ok:
            failed += 1
            print("not ok - %s: Linux says %s, the test expects %s (the test is wrong)" %
                  (st.name, got["a"], st.want), flush=True)
        elif got["b"] != got["a"]:
            failed += 1
            print("not ok - %s: Linux %s, nf-firewall %s" % (st.name, got["a"], got["b"]),
                  flush=True)
        else:
            print("ok - %s: %s" % (st.name, got["a"]), flush=True)
    if os.path.exists(o.ctl):
        st = ctl(o.ctl, "stats")
        print("# nf-firewall drops: %s" % json.dumps(st.get("drops", {})))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
