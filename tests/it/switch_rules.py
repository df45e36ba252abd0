"""switch_rules.py - the Python half of switch_rules.sh: nfswitch's steering
(match-action rules, groups, SRv6 actions, the ToS-bitmap mode, runtime
changes, malformed requests, thousands of rules) with pcap ports, exact
bytes per port. Usage: switch_rules.py SECTION (matches, actions, tos,
runtime, scale)."""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import *  # noqa: E402,F403

BC = b"\xff" * 6


def arp_req():
    a = struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1, A_MAC, ip4("10.5.0.1"), b"\0" * 6,
                    ip4("10.5.0.9"))
    return eth(a + b"\0" * 18, 0x0806, BC, A_MAC)


def flood_to(n, src, frame, want):
    for p in range(n):
        if p != src:
            want[p].append(frame)


def compare_all(sw, want, what):
    for p in sorted(want):
        got = sw.new(p, want[p])
        if hexes(got) == hexes(want[p]):
            ok("%s: port %d got exactly its %d frames" % (what, p, len(want[p])))
        else:
            same_frames("%s: port %d" % (what, p), sorted(want[p]), sorted(got))


# ------------------------------------------------------------ matches
def matches():
    lines = [
        "# every match kind, one rule each, in file order at priority 100",
        "rule id 1 ether saddr 02:00:00:00:00:a2 action output 1",
        "rule id 2 ether daddr 02:00:00:00:00:b3 action output 2",
        "rule id 3 ether type arp action output 3",
        "rule id 4 vlan id 7 action output 4",
        "rule id 5 ip saddr 10.1.0.0/16 ip daddr 10.9.9.0/24 action output 5",
        "rule id 6 ip6 saddr fd00:1::/32 ip6 daddr fd00:9::9 action output 6",
        "rule id 7 meta l4proto udp udp dport 5000-5009 action output 1",
        "rule id 8 tcp sport { 1111, 2222 } action output 2",
        "rule id 9 ip dscp ef action output 3",
        "rule id 10 udp sport { 7, 9-10 } udp dport 53 action output 4",
        "rule id 11 in-port 7 action output 6",
        "rule id 12 ether type 0x88b5 ether saddr 02:00:00:00:00:c1 action output 5",
        "rule id 20 tcp dport 8080 action output 1",
        "rule id 21 priority 50 tcp dport 8080-8081 action output 2",
        "rule id 22 priority 50 tcp dport 8081 action output 3",
        "rule id 23 priority 60 tcp dport 8082 action output 4",
        "rule id 24 priority 60 tcp dport 8082 action output 5",
        "rule id 25 priority 0 udp dport 9999 ip daddr 10.6.0.1 action output 6",
    ]
    N = 8
    want = {p: [] for p in range(N)}
    cnt = {}
    f0 = []

    def send(fr, rule=None, out=None, src=0):
        (f0 if src == 0 else f7).append(fr)
        if rule is not None:
            p, b = cnt.get(rule, (0, 0))
            cnt[rule] = (p + 1, b + len(fr))
        if out is None:
            flood_to(N, src, fr, want)
        elif out >= 0:
            want[out].append(fr)
    f7 = []
    send(u4(4000, 4001, smac=mac("02:00:00:00:00:a2")), 1, 1)
    send(u4(4000, 4001, smac=mac("02:00:00:00:00:a3")))            # near miss: flooded
    send(u4(4000, 5000, smac=mac("02:00:00:00:00:a2")), 1, 1)      # first match: 1, not 7
    send(u4(4000, 4001, dmac=mac("02:00:00:00:00:b3")), 2, 2)
    send(u4(4000, 4001, dmac=mac("02:00:00:00:00:b4")))
    send(arp_req(), 3, 3)
    send(eth(b"\x01" * 46, 0x88b5, BC, A_MAC))                      # type ok, saddr not: 12 misses
    send(eth(b"\x02" * 46, 0x88b5, BC, mac("02:00:00:00:00:c1")), 12, 5)
    send(vlan(u4(4000, 4001), 7), 4, 4)
    send(vlan(u4(4000, 4001), 8))
    send(u4(4000, 4001, src="10.1.2.3", dst="10.9.9.200"), 5, 5)
    send(u4(4000, 4001, src="10.1.2.3", dst="10.9.8.1"))
    send(u4(4000, 4001, src="10.2.0.1", dst="10.9.9.1"))
    send(u6(4000, 4001, src="fd00:1:ffff::1", dst="fd00:9::9"), 6, 6)
    send(u6(4000, 4001, src="fd00:2::1", dst="fd00:9::9"))
    send(u6(4000, 4001, src="fd00:1::1", dst="fd00:9::a"))
    send(u4(4000, 5009), 7, 1)
    send(u4(4000, 5000), 7, 1)
    send(u6(4000, 5005), 7, 1)                                       # meta l4proto: v4 and v6
    send(u4(4000, 5010))
    send(t4(4000, 5005))
    send(t4(2222, 4001), 8, 2)
    send(t4(1111, 4001), 8, 2)
    send(t4(1112, 4001))
    send(u4(1111, 4001))
    send(u4(4000, 4001, tos=0xb8), 9, 3)                             # dscp ef = 46
    send(u4(4000, 4001, tos=0x28))                                   # af11
    send(u6(4000, 4001, tc=0xb8))                                    # ip dscp: IPv4 only
    send(u4(9, 53), 10, 4)
    send(u4(7, 53), 10, 4)
    send(u4(8, 53))
    send(t4(4000, 8080), 21, 2)                                      # priority 50 before 100
    send(t4(4000, 8081), 21, 2)                                      # tie: file order
    send(t4(4000, 8082), 23, 4)
    send(u4(4000, 9999), 25, 6)                                      # priority 0 first
    send(u4(4000, 9999, dst="10.6.0.2"))
    # MAC learning as without steering: the flooded frames taught the
    # switch that 02:..:0a is on port 0; a frame to it from port 0 is a
    # same-port drop, not a flood.
    send(u4(4000, 4001, smac=mac("02:00:00:00:00:0c"), dmac=A_MAC), None, -1)
    send(u4(4000, 4001), 11, 6, src=7)                               # in-port 7
    send(u4(4000, 4002), 11, 6, src=7)
    sw = Sw("matches", N, lines, {0: f0, 7: f7})
    compare_all(sw, want, "matches")
    r = sw.rules()
    check_eq("matches: per-rule packet and byte counters",
             {k: cnt.get(k, (0, 0)) for k in r}, r)
    check_eq("matches: the 18 rules listed in priority order (ties in file order)",
             [25, 21, 22, 23, 24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20],
             [x["id"] for x in sw.js("rules")["rules"]])
    check_eq("matches: the frame to the learned MAC was a same-port drop",
             1, sw.port(0)["drops"]["same-port"])
    check_eq("matches: nothing dropped by steering", {}, sw.drops())
    check_eq("matches: nfswitch exits cleanly", 0, sw.stop())


# ------------------------------------------------------------ actions
def actions():
    G = {3: mac("02:00:00:00:01:03"), 4: None, 5: mac("02:00:00:00:01:05")}
    lines = [
        "group g 3@02:00:00:00:01:03 4 5@02:00:00:00:01:05",
        "rule id 1 udp dport 1 action output 1",
        "rule id 2 udp dport 2 action group g",
        "rule id 30 udp sport 2 action group g",
        "rule id 3 udp dport 3 action drop",
        "rule id 4 udp dport 4 action l2",
        "rule id 5 udp dport 5 action set-dst-mac 02:00:00:00:00:55 output 1",
        "rule id 6 udp dport 6 action set-dst-mac 02:00:00:00:00:66 mirror 7 output 2",
        "rule id 7 udp dport 7 action srv6-encap fc00::1,fc00::2,fc00::3 output 6",
        "rule id 8 udp dport 8 action srv6-encap red fc00::1,fc00::2 output 6",
        "rule id 9 udp dport 9 action srv6-encap l2 src fd00::99 fc00::5 output 6",
        "rule id 10 udp dport 10 action srv6-encap l2 red fc00::1,fc00::2 output 6",
        "rule id 11 ip6 daddr fc00::7 action srv6-decap output 1",
        "rule id 31 ip6 daddr fc00::8 action srv6-decap",
        "rule id 12 udp dport 12 action count",
        "rule id 13 udp dport 13 action srv6-encap red fc00::13",
        "rule id 14 ip6 daddr fc00::13 action output 2",
        "rule id 16 ip6 daddr fc00::16 action srv6-encap fc00::16",
        "rule id 17 udp dport 17 action srv6-encap fc00::16",
        "rule id 18 udp dport 18 action set-dst-mac 02:00:00:00:00:18 mirror 7 srv6-encap fc00::18 output 1",
        "rule id 19 udp dport 19 action mirror 7 l2",
        "rule id 32 udp dport 32 action srv6-encap fc00::32 group g",
        "srv6-source fd00::5",
    ]
    N = 8
    want = {p: [] for p in range(N)}
    cnt = {}
    f0 = []

    def send(fr, rule=None, outs=(), flood=False, n=None):
        f0.append(fr)
        if rule is not None:
            p, b = cnt.get(rule, (0, 0))
            cnt[rule] = (p + 1, b + (n if n is not None else len(fr)))
        for o, f in outs:
            want[o].append(f)
        if flood:
            flood_to(N, 0, flood if isinstance(flood, bytes) else fr, want)
    x = u4(4000, 1)
    send(x, 1, [(1, x)])
    x = u4(4000, 3)
    send(x, 3)
    x = u4(4000, 4)
    send(x, 4, flood=True)
    x = u4(4000, 5)
    send(x, 5, [(1, mac("02:00:00:00:00:55") + x[6:])])
    x = u4(4000, 6)
    y = mac("02:00:00:00:00:66") + x[6:]
    send(x, 6, [(2, y), (7, y)])
    x = u4(4000, 7, tos=0x2e)
    send(x, 7, [(6, encap(x, ["fc00::1", "fc00::2", "fc00::3"], "fd00::5"))])
    x = u6(4000, 7, tc=0xb8)
    send(x, 7, [(6, encap(x, ["fc00::1", "fc00::2", "fc00::3"], "fd00::5"))])
    x = u4(4000, 8)
    send(x, 8, [(6, encap(x, ["fc00::1", "fc00::2"], "fd00::5", red=True))])
    x = u4(4000, 9)
    send(x, 9, [(6, encap(x, ["fc00::5"], "fd00::99", l2=True))])
    x = vlan(u4(4000, 9), 7)            # L2 mode: the tagged frame whole
    send(x, 9, [(6, encap(x, ["fc00::5"], "fd00::99", l2=True, fl=flow_label(u4(4000, 9))))])
    x = u4(4000, 10)
    send(x, 10, [(6, encap(x, ["fc00::1", "fc00::2"], "fd00::5", red=True, l2=True))])
    # srv6-decap: IPv4 in IPv6 without SRH, with an SRH at SL 0; IPv6 in IPv6
    inner = u4(4000, 1)
    outer = encap(inner, ["fc00::7"], "fd00::5", red=True)
    send(outer, 11, [(1, inner[:14] + dec_ttl4(inner[14:]))])
    outer = encap(inner, ["fc00::6", "fc00::7"], "fd00::5")
    o = bytearray(outer)
    o[22 + 16:22 + 32] = ip6("fc00::7")
    o[54 + 3] = 0                          # SL 0: the last segment
    send(bytes(o), 11, [(1, inner[:14] + dec_ttl4(inner[14:]))])
    # decap without output: the inner frame is classified again (rule 1)
    outer = encap(inner, ["fc00::8"], "fd00::5", red=True)
    p, b = cnt.get(1, (0, 0))
    cnt[1] = (p + 1, b + len(inner))
    send(outer, 31, [(1, inner[:14] + dec_ttl4(inner[14:]))])
    # decap of something that is not SRv6-encapsulated IPv4/IPv6: srv6 drop
    send(u6(4000, 4001, dst="fc00::7"), 11)
    x = u4(4000, 12)
    send(x, 12, flood=True)
    # encap without output: recirculated, rule 14 sends it
    x = u4(4000, 13)
    e = encap(x, ["fc00::13"], "fd00::5", red=True)
    send(x, 13, [(2, e)])
    p, b = cnt.get(14, (0, 0))
    cnt[14] = (p + 1, b + len(e))
    # a loop: 17 encapsulates towards fc00::16, whose rule encapsulates
    # again, ... ST_RECIRC_MAX (4) rewrites, then steer-recirculation.
    x = u4(4000, 17)
    send(x, 17)
    y = x
    for _ in range(4):
        y = encap(y, ["fc00::16"], "fd00::5")
        p, b = cnt.get(16, (0, 0))
        cnt[16] = (p + 1, b + len(y))
    # mirror: the copy is the frame as it leaves (new MAC, encapsulated)
    x = u4(4000, 18)
    y = encap(mac("02:00:00:00:00:18") + x[6:], ["fc00::18"], "fd00::5")
    send(x, 18, [(1, y), (7, y)])
    x = u4(4000, 19)
    send(x, 19, [(7, x)], flood=True)
    # groups: 24 flows each way; each frame goes to exactly one member
    gf = []
    for i in range(24):
        a = u4(1000 + i, 2, src="10.7.%d.1" % i, dst="10.8.0.%d" % (i + 1))
        b = reverse(a)
        for z in (a, b):
            f0.append(z)
            gf.append(z)
            r = 2 if z is a else 30
            p, c = cnt.get(r, (0, 0))
            cnt[r] = (p + 1, c + len(z))
    x = u4(4000, 32)
    f0.append(x)
    cnt[32] = (1, len(x))
    g32 = encap(x, ["fc00::32"], "fd00::5")
    sw = Sw("actions", N, lines, {0: f0})
    got = {p: sw.new(p, want[p]) for p in range(N)}
    for p in range(N):
        rest = list(got[p])
        if p in G:                 # take the group's frames out
            for f in list(rest):
                if f not in want[p]:
                    rest.remove(f)
        if hexes(rest) == hexes(want[p]):
            ok("actions: port %d got exactly its %d frames (groups aside)" % (p, len(want[p])))
        else:
            same_frames("actions: port %d" % p, sorted(want[p]), sorted(rest))
    member = {}
    bad = []
    for z in gf + [g32]:
        seen = []
        for p in G:
            zz = (G[p] + z[6:]) if G[p] else z
            if got[p].count(zz) == 1:
                seen.append(p)
        if len(seen) != 1:
            bad.append((z.hex()[:40], seen))
        member[z] = seen
    check("actions: every group frame reached exactly one member, with its MAC", not bad, bad[:3])
    sym = [i for i in range(0, len(gf), 2) if member[gf[i]] != member[gf[i + 1]]]
    check("actions: both directions of each of 24 flows went to the same member", not sym, sym)
    used = {m[0] for m in member.values() if m}
    check("actions: the 24 flows spread over the 3 members", len(used) == 3, used)
    gr = sw.js("groups")["groups"][0]["members"]
    per = [sum(1 for z in gf + [g32] if member[z] == [p]) for p in (3, 4, 5)]
    check_eq("actions: groups counts the frames sent to each member", per,
             [m["packets"] for m in gr])
    check("actions: srv6-encap + group sent the encapsulated frame (hashed on it)",
          member[g32] != [], "")
    r = sw.rules()
    check_eq("actions: per-rule packet and byte counters", {k: cnt.get(k, (0, 0)) for k in r}, r)
    d = sw.drops()
    check_eq("actions: drops by reason", {"steer-rule-drop": 1, "steer-recirculation": 1,
                                          "srv6-inner-not-ipv4": 1}, d)
    check_eq("actions: nfswitch exits cleanly", 0, sw.stop())


if __name__ == "__main__":
    for s in sys.argv[1:]:
        globals()[s]()
    sys.exit(0)
