"""switch_rules.py - the Python half of switch_rules.sh: nfswitch's steering
(match-action rules, groups, SRv6 actions, the ToS-bitmap mode, runtime
changes, malformed requests, thousands of rules) with pcap ports, exact
bytes per port. Usage: switch_rules.py SECTION (matches, actions, tos,
members, runtime, scale)."""
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
    news = sw.news(sorted(want), want)
    for p in sorted(want):
        got = news[p]
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
    got = sw.news(range(N), want)
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


# ------------------------------------------------------------ ToS bitmap
def tos():
    # port 0 ingress, 1 egress; layer 0: group l0 = 2/3, 4/5; layer 1: l1 =
    # 6/7; layer 2: l2 = 8/9, 10/11 (PORT/RETURN: the VNF gets forward
    # traffic on PORT and sends it on by RETURN; the reverse direction
    # goes in by RETURN and out by PORT).
    lines = ["group l0 2/3 4/5", "group l1 6/7", "group l2 8/9 10/11", "tos 0 1 l0 l1 l2"]
    L = {0: (2, 4), 1: (6,), 2: (8, 10)}
    RET = {2: 3, 4: 5, 6: 7, 8: 9, 10: 11}
    flows = [(u4(3000 + i, 80, src="10.1.%d.2" % i, dst="10.2.0.%d" % (i + 1), tos=bits), bits)
             for i in range(16) for bits in (0b101,)]
    inputs = {p: [] for p in range(12)}
    for f, _ in flows:
        inputs[0].append(f)              # forward: ingress -> layer 0
        inputs[1].append(reverse(f))     # reverse: egress -> layer 2
    x0 = u4(5000, 80, tos=0)             # no bit: straight to egress
    x6 = u4(5001, 80, tos=0b110)         # layers 1 and 2
    inputs[0] += [x0, x6]
    r7 = u4(5002, 80, tos=0b011)         # forward, back from layer 1: to egress
    r3 = u4(5003, 80, tos=0b101)         # forward, back from layer 0 member 0: layer 2
    r2 = u4(5004, 80, tos=0b001)         # reverse, back from layer 0 member 0: ingress
    r8 = u4(5005, 80, tos=0b101)         # reverse, back from layer 2: layer 0 RETURN
    bad = u4(5006, 80, tos=0b100)        # from layer 0 without bit 0: dropped
    inputs[7].append(r7)
    inputs[3].append(r3)
    inputs[2] += [r2, bad]
    inputs[8].append(r8)
    sw = Sw("tos", 12, lines, inputs)
    got = sw.news(range(12))

    def where(f):
        return sorted(p for p in range(12) if f in got[p])
    check_eq("tos: ToS 0: ingress straight to egress", [1], where(x0))
    check("tos: ToS 0b110 bypasses layer 0, visits layer 1", where(x6) == [6], where(x6))
    check_eq("tos: 0b011 back from layer 1 (RETURN 7): no layer above, to egress", [1], where(r7))
    check("tos: 0b101 back from layer 0 (RETURN 3): bypasses layer 1, to layer 2",
          where(r3) in ([8], [10]), where(r3))
    check_eq("tos: reverse 0b001 back from layer 0 (PORT 2): to ingress", [0], where(r2))
    check("tos: reverse 0b101 back from layer 2 (PORT 8): bypasses layer 1, to a layer 0 RETURN",
          where(r8) in ([3], [5]), where(r8))
    check_eq("tos: a frame from layer 0 without bit 0 is not forwarded", [], where(bad))
    check_eq("tos: ... counted as steer-tos-no-layer", {"steer-tos-no-layer": 1}, sw.drops())
    fwd_member, bad_sym, spread = [], [], set()
    for f, _ in flows:
        w = where(f)
        fwd_member.append(w)
        spread.add(tuple(w))
        # the reverse from egress goes to a layer-2 RETURN port
        rw = where(reverse(f))
        if len(w) != 1 or w[0] not in L[0] or len(rw) != 1 or rw[0] not in (9, 11):
            bad_sym.append((w, rw))
    check("tos: forward 0b101 from ingress -> one layer-0 PORT; reverse from egress -> one "
          "layer-2 RETURN", not bad_sym, bad_sym[:3])
    check("tos: the 16 flows use both layer-0 replicas", len(spread) == 2, spread)
    # Symmetry through the same replica: what layer 0 member k sent on
    # (forward, by RETURN) and what comes back (reverse, from layer 2's
    # PORT) pick the same member. Second switch: feed each flow's
    # layer-2 hop and its reverse.
    check_eq("tos: nfswitch exits cleanly", 0, sw.stop())
    inputs = {p: [] for p in range(12)}
    for f, _ in flows:
        inputs[8].append(reverse(f))     # reverse leaving layer 2 member 0
        inputs[3].append(f)              # forward leaving layer 0 member 0
    sw2 = Sw("tos2", 12, lines, inputs)
    got = sw2.news(range(12))
    mism = []
    for i, (f, _) in enumerate(flows):
        fw = fwd_member[i][0]                       # layer-0 PORT the forward went to
        back = where(reverse(f))                    # layer-0 RETURN the reverse goes to
        l2f = where(f)                              # layer-2 PORT the forward goes to
        if back != [RET[fw]]:
            mism.append((i, fw, back))
        if len(l2f) != 1:
            mism.append((i, "l2", l2f))
    check("tos: the reverse of every flow re-enters layer 0 through the replica the forward "
          "used (symmetric hash), layers in reverse order", not mism, mism[:3])
    check_eq("tos: nfswitch exits cleanly", 0, sw2.stop())


# ------------------------------------------------------------ set-tos
def settos():
    """set-tos VALUE[/MASK]: the IPv4 ToS (header checksum updated, RFC
    1624: the expected frames are built with a fresh checksum) and the IPv6
    traffic class; on the ToS ingress and egress, rules come first and the
    frame then walks the layers by its new ToS (a tenant's services)."""
    lines = ["group l0 2/3", "group l1 4/5",
             "rule id 1 in-port 0 ip saddr 10.1.0.0/24 action set-tos 2/3",
             "rule id 2 in-port 1 ip daddr 10.1.0.0/24 action set-tos 0x2/0x3",
             "rule id 3 in-port 0 ip6 saddr fd00:5::/64 action set-tos 0/0x0d",
             "rule id 4 in-port 0 udp dport 9 action set-tos 0x10 output 1",
             "rule id 5 in-port 6 action set-tos 0xb8 count output 7",
             "tos 0 1 l0 l1"]
    a1 = u4(4000, 80, src="10.1.0.5", tos=0x01)        # tenant: layer 0 -> layer 1
    b1 = u4(4001, 80, src="10.2.0.5", tos=0x01)        # no rule: layer 0, as it is
    a4 = u4(4002, 80, src="10.1.0.6", tos=0xfd)        # other bits kept: 0xfe
    r1 = u4(80, 4003, src="10.6.0.1", dst="10.1.0.7", tos=0)   # reverse: layer 1 RETURN
    v6 = u6(4004, 80, tc=0x0f)                         # tc 0x0f -> 0x02: layer 1
    d9 = u4(4005, 9, src="10.3.0.1", tos=0x03)         # set-tos then output: no layer walk
    x6 = u4(4006, 81, tos=0x2e, ttl=17)                # not a ToS port: 0xb8, out 7
    inputs = {p: [] for p in range(8)}
    inputs[0] += [a1, b1, a4, v6, d9]
    inputs[1].append(r1)
    inputs[6].append(x6)
    sw = Sw("settos", 8, lines, inputs)
    got = sw.news(range(8))

    def at(f):
        return sorted(p for p in range(8) if f in got[p])
    want = [
        ("ingress 10.1.0.5 ToS 1 -> set-tos 2/3 -> ToS 2, layer 1 PORT 4",
         u4(4000, 80, src="10.1.0.5", tos=0x02), [4]),
        ("ingress 10.2.0.5 (no rule) keeps ToS 1 -> layer 0 PORT 2", b1, [2]),
        ("ToS 0xfd with mask 3 -> 0xfe (bits outside the mask kept), layer 1",
         u4(4002, 80, src="10.1.0.6", tos=0xfe), [4]),
        ("egress to 10.1.0.7 ToS 0 -> ToS 2, layer 1 RETURN 5",
         u4(80, 4003, src="10.6.0.1", dst="10.1.0.7", tos=0x02), [5]),
        ("IPv6 traffic class 0x0f -> 0x02 (mask 0x0d), layer 1 PORT 4", u6(4004, 80, tc=0x02), [4]),
        ("set-tos 0x10 with output 1: the rule's final action, no layer",
         u4(4005, 9, src="10.3.0.1", tos=0x10), [1]),
        ("a port outside the ToS mode: set-tos 0xb8 (TTL 17, checksum updated), output 7",
         u4(4006, 81, tos=0xb8, ttl=17), [7]),
    ]
    for d, f, ports in want:
        check_eq("settos: " + d, ports, at(f))
    check_eq("settos: nothing else left the switch", 7, sum(len(got[p]) for p in range(8)))
    rr = sw.rules()
    check_eq("settos: rule counters (ids 1-5)", [2, 1, 1, 1, 1], [rr[i][0] for i in range(1, 6)])
    good = sw.steering()
    for arg, frag in (("300", "expected VALUE or VALUE/MASK"), ("3/1", "outside the mask"),
                      ("1/0x1ff", "expected VALUE or VALUE/MASK"), ("x", "expected VALUE")):
        rc, out, err = sw.cli("add-rule", "udp", "dport", "5", "action", "set-tos", arg)
        check("settos: refused: set-tos %s -> '%s'" % (arg, err.strip()),
              rc == 1 and frag in err and sw.steering() == good, (rc, out, err))
    check_eq("settos: nfswitch exits cleanly", 0, sw.stop())


# ------------------------------------------------------------ member MACs
def members():
    """Each side of a member its own MAC (PORT/RETURN@MAC/RMAC), one MAC for
    both sides (@MAC, as before), "-" for none; members named by port
    names that hold '/' (the pcap specs here, memif specs alike)."""
    d = os.path.join(T, "members")

    def name(i):
        return "pcap:%s,%s" % (os.path.join(d, "in%d.pcap" % i), os.path.join(d, "out%d.pcap" % i))
    M = {i: mac("02:00:00:00:0e:%02x" % i) for i in range(12)}
    ms = {i: "02:00:00:00:0e:%02x" % i for i in range(12)}
    # 0 ToS ingress, 1 egress, layer 0 = 2/3, layer 1 = 8/9; 4/5 an End.AD
    # reverse proxy, 6/7 a forward one; SRv6 frames come from port 10.
    lines = ["group l0 %s/%s@%s/%s" % (name(2), name(3), ms[2], ms[3]),
             "group l1 8/9@%s" % ms[8],
             "tos 0 1 l0 l1",
             "group px 4/5@-/%s" % ms[5],
             "sid fc00::a End.AD group px reverse",
             "group py %s/7@%s" % (name(6), ms[6]),
             "sid fc00::c End.AD group py"]
    f1, f2 = u4(7000, 80, tos=1), u4(7001, 80, tos=2)
    e1, e2 = u4(7002, 80), u4(7003, 80)
    inputs = {0: [f1, f2], 1: [reverse(f1), reverse(f2)],
              10: [encap(e1, ["fc00::a", "fc00::b"]), encap(e2, ["fc00::c", "fc00::d"])]}
    sw = Sw("members", 11, lines, inputs)
    want = {p: [] for p in range(11)}
    want[2].append(M[2] + f1[6:])             # forward into layer 0's PORT: its MAC
    want[3].append(M[3] + reverse(f1)[6:])    # reverse into its RETURN: the RETURN's MAC
    want[8].append(M[8] + f2[6:])             # one MAC: both sides
    want[9].append(M[8] + reverse(f2)[6:])
    want[5].append(M[5] + A_MAC + b"\x08\x00" + e1[14:])   # reverse proxy: into RETURN
    want[6].append(M[6] + A_MAC + b"\x08\x00" + e2[14:])   # forward proxy: into PORT
    compare_all(sw, want, "members")
    g = {x["name"]: [{k: v for k, v in m.items() if k in ("mac", "return_mac")}
                     for m in x["members"]] for x in sw.js("groups")["groups"]}
    check_eq("members: groups lists each side's MAC",
             {"l0": [{"mac": ms[2], "return_mac": ms[3]}], "l1": [{"mac": ms[8], "return_mac": ms[8]}],
              "px": [{"return_mac": ms[5]}], "py": [{"mac": ms[6], "return_mac": ms[6]}]}, g)
    check_eq("members: nothing dropped", {}, sw.drops())
    # names that read two ways, and malformed MAC lists
    for n in ("x", "y", "x/y"):
        wpcap(os.path.join(d, n.replace("/", "_") + ".pcap"), [])
        rc, out, err = sw.cli("add-port", "pcap:" + os.path.join(d, n.replace("/", "_") + ".pcap"), n)
        check_eq("members: add-port named %s" % n, 0, rc)
    good = sw.steering()
    for args, frag in [
            (["add-group", "a", "x/y"], "reads as ports in 2 ways"),
            (["add-group", "a", "2@%s/%s" % (ms[2], ms[3])], "without RETURN"),
            (["add-group", "a", "2/3@%s/zz" % ms[2]], "'zz' is not a MAC"),
            (["add-group", "a", "2/nosuch"], "no port 'nosuch'"),
            (["add-group", "a", "2/3/nosuch"], "no port PORT or pair PORT/RETURN")]:
        rc, out, err = sw.cli(*args)
        check("members: refused: %s -> '%s'" % (" ".join(args), err.strip()),
              rc == 1 and frag in err and sw.steering() == good, (rc, err))
    rc, out, err = sw.cli("add-group", "a", "x/3@-/%s" % ms[3], "%s/%s" % (name(2), name(4)))
    check_eq("members: add-group with a port named by a name and a spec pair",
             (0, "group a added (2 members)\n"), (rc, out))
    check_eq("members: nfswitch exits cleanly", 0, sw.stop())


# ------------------------------------------------------------ runtime
def runtime():
    lines = ["group g 1 2 3", "rule id 1 udp dport 1 action output 1"]
    sw = Sw("runtime", 5, lines)

    def req(d, want_out, *a):
        rc, out, err = sw.cli(*a)
        check("runtime: %s -> '%s'" % (" ".join(map(str, a)), out.strip()),
              rc == 0 and out.strip() == want_out and err == "", (rc, out, err))

    def goes(d, fr, port):
        sw.inject([fr])
        got = sw.news(range(5))
        w = [p for p in range(5) if fr in got[p] or any(g[12:] == fr[12:] for g in got[p])]
        check_eq("runtime: " + d, port, w)
    check_eq("runtime: steering lists the lines", lines, sw.steering())
    goes("udp dport 1 -> port 1", u4(4000, 1), [1])
    req("", "rule 2 added", "add-rule", "udp", "dport", "2", "action", "output", "2")
    goes("after add-rule: udp dport 2 -> port 2", u4(4000, 2), [2])
    req("", "rule 50 added", "add-rule", "id", "50", "priority", "5", "udp", "dport", "1",
        "action", "output", "3")
    goes("a priority-5 rule takes udp dport 1 -> port 3", u4(4000, 1), [3])
    req("", "rule 50 deleted", "del-rule", "50")
    goes("after del-rule 50: back to port 1", u4(4000, 1), [1])
    req("", "rule 3 added", "add-rule", "vlan", "id", "9", "action", "output", "4")
    goes("vlan id 9 -> port 4 (not an id)", vlan(u4(4000, 77), 9), [4])
    req("", "rule 4 added", "add-rule", "udp", "dport", "3", "action", "group", "g")
    f = u4(4000, 3)
    sw.inject([f])
    got = sw.news(range(5))
    m = [p for p in (1, 2, 3) if f in got[p]]
    check("runtime: udp dport 3 -> one member of g", len(m) == 1, m)
    idx = m[0] - 1
    req("", "group g: member %d removed (its flows move to the others)" % idx, "del-member",
        "g", idx)
    sw.inject([f])
    got = sw.news(range(5))
    m2 = [p for p in (1, 2, 3) if f in got[p]]
    check("runtime: after del-member the flow moved to another member", len(m2) == 1 and
          m2 != m, (m, m2))
    req("", "group g: member %d is %d" % (idx, m[0]), "set-member", "g", idx, m[0])
    sw.inject([f])
    got = sw.news(range(5))
    m3 = [p for p in (1, 2, 3) if f in got[p]]
    check("runtime: after set-member the flow stays or moves to the member back (%s)" % m3,
          m3 in (m, m2), (m, m2, m3))
    for i in range(3):
        sw.cli("del-member", "g", i)
    sw.inject([f])
    check_eq("runtime: all members removed: steer-group-empty", 1,
             sw.drops().get("steer-group-empty"))
    for i in range(3):
        sw.cli("set-member", "g", i, i + 1)
    req("", "group h added (2 members)", "add-group", "h", "3@02:00:00:00:00:33", "4")
    req("", "rule 5 added", "add-rule", "udp", "dport", "4", "action", "group", "h")
    req("", "SID fc00::100 added (End.DX4)", "add-sid", "fc00::100", "End.DX4", "2",
        "02:00:00:00:00:22")
    inner = u4(4000, 9)
    outer = encap(inner, ["fc00::100"], red=True)
    sw.inject([outer])
    want = mac("02:00:00:00:00:22") + inner[6:14] + dec_ttl4(inner[14:])
    check_eq("runtime: End.DX4 SID decapsulates to port 2 with the next hop's MAC", [want],
             sw.new(2))
    check_eq("runtime: sids counts it", 1, sw.js("sids")["sids"][0]["packets"])
    req("", "SID fc00::100 deleted", "del-sid", "fc00::100")
    req("", "group t added (1 members)", "add-group", "t", "3/4")
    req("", "ToS mode on: ingress 0, egress 1, 1 layers", "tos", "0", "1", "t")
    check("runtime: steering shows the tos line", "tos 0 1 t" in sw.steering())
    req("", "ToS mode off", "tos-off")
    check("runtime: no tos line after tos-off", not any(x.startswith("tos") for x in sw.steering()))
    before = sw.rules()
    conf = os.path.join(sw.d, "new.conf")
    open(conf, "w").write("group g 1 2 3\n# the same rule 1, another rule 7\n"
                          "rule id 1 udp dport 1 action output 2\n"
                          "rule id 7 udp dport 7 action output 4\n")
    req("", "loaded %s: 4 lines, 2 rules, 1 groups, 0 SIDs" % conf, "load-steering", conf)
    goes("after load-steering: udp dport 1 -> port 2", u4(4000, 1), [2])
    check_eq("runtime: rule 1's counters carried by id (and counted on)",
             (before[1][0] + 1, before[1][1] + len(u4(4000, 1))), sw.rules()[1])
    good = sw.steering()
    # ---- malformed requests: one sentence each, nothing changes
    bad = [
        (["add-rule", "udp", "dport", "99999", "action", "output", "1"], "out of range"),
        (["add-rule", "udp", "dport", "1"], "needs 'action"),
        (["add-rule", "action", "output", "nosuch"], "no port 'nosuch'"),
        (["add-rule", "action", "teleport"], "action 'teleport'"),
        (["add-rule", "action", "output", "1", "drop"], "after the final action"),
        (["add-rule", "action", "srv6-encap"], "segment list"),
        (["add-rule", "action", "srv6-encap", "zz::1"], "not an IPv6 address"),
        (["add-rule", "action", "srv6-encap", "fc00::1,fc00::2", "srv6-encap", "fc00::3"],
         "one srv6-encap"),
        (["add-rule", "id", "0", "action", "drop"], "id '0'"),
        (["add-rule", "id", "1", "action", "drop"], "rule id 1 is used twice"),
        (["add-rule", "priority", "70000", "action", "drop"], "priority '70000'"),
        (["add-rule", "vlan", "id", "5000", "action", "drop"], "vlan id '5000'"),
        (["add-rule", "ether", "type", "foo", "action", "drop"], "ether type 'foo'"),
        (["add-rule", "ether", "saddr", "1:2", "action", "drop"], "not a MAC"),
        (["add-rule", "action", "group", "nosuch"], "no group 'nosuch'"),
        (["add-rule", "ip", "saddr", "10.0.0.0/33", "action", "drop"], ""),
        (["add-rule", "tcp", "dport", "22", "tcp", "dport", "23", "action", "drop"], ""),
        (["del-rule", "999"], "no rule 999"),
        (["del-rule", "abc"], "ID"),
        (["add-group", "g", "1"], "already used"),
        (["add-group", "h2", "nosuch"], "no port 'nosuch'"),
        (["add-group", "h2", "1@zz"], "not a MAC"),
        (["del-group", "nosuch"], "no group 'nosuch'"),
        (["del-member", "g", "9"], "has no member 9"),
        (["del-member", "nosuch", "0"], "no group 'nosuch'"),
        (["del-member", "g", "x"], "member 'x'"),
        (["del-member", "g", "64"], "member '64'"),
        (["set-member", "g", "0", "nosuch"], "no port 'nosuch'"),
        (["add-sid", "zz", "End"], "not an IPv6 address"),
        (["add-sid", "fc00::1", "End.Q"], "behaviour 'End.Q'"),
        (["add-sid", "fc00::1", "End", "extra"], "takes no arguments"),
        (["add-sid", "fc00::1", "End.X", "1"], "usage"),
        (["add-sid", "fc00::1", "End.AD", "group", "g"], "no return port"),
        (["add-sid", "fc00::1", "End.AS", "group", "nosuch"], "no group"),
        (["del-sid", "fc00::999"], "no SID"),
        (["tos", "0", "1", "nosuch"], "no group 'nosuch'"),
        (["tos", "0", "1", "g"], "needs PORT/RETURN"),
        (["tos-off"], "ToS mode is off"),
        (["load-steering", "/nonexistent/steer.conf"], "cannot open"),
    ]
    for args, frag in bad:
        rc, out, err = sw.cli(*args)
        lines_err = err.strip().splitlines()
        check("runtime: refused: %s -> '%s'" % (" ".join(args), err.strip()),
              rc == 1 and out == "" and len(lines_err) == 1 and frag in err and
              sw.steering() == good, (rc, out, err))
    broken = os.path.join(sw.d, "broken.conf")
    open(broken, "w").write("group g 1 2 3\nrule id 1 udp dport 1 action output 3\n"
                            "rule id 2 udp dport 2 action frobnicate\n")
    rc, out, err = sw.cli("load-steering", broken)
    check("runtime: a broken file: '%s', the old configuration stays" % err.strip(),
          rc == 1 and "line 3" in err and sw.steering() == good, (rc, err))
    # A file that fails late (after the counters would be carried): two
    # roles on one port. The live generation keeps working and counting.
    late = os.path.join(sw.d, "late.conf")
    open(late, "w").write("group p 1/2\ngroup q 3/2\nsid fc00::a End.AD group p\n"
                          "sid fc00::b End.AD group q\nrule id 1 udp dport 1 action output 3\n")
    before = sw.rules()
    rc, out, err = sw.cli("load-steering", late)
    check("runtime: a file failing after parsing: '%s', the old one stays" % err.strip(),
          rc == 1 and "two roles" in err and sw.steering() == good, (rc, err))
    goes("the old generation still forwards udp dport 1 -> port 2", u4(4000, 1), [2])
    check_eq("runtime: ... and still counts", before[1][0] + 1, sw.rules()[1][0])
    req("", "steering cleared: MAC learning only", "clear-steering")
    check_eq("runtime: steering is empty after clear-steering", [], sw.steering())
    goes("without steering udp dport 1 is flooded", u4(4000, 1), [0, 1, 2, 3, 4])
    check_eq("runtime: nfswitch exits cleanly", 0, sw.stop())


# ------------------------------------------------------------ thousands of rules
def scale():
    N = 5000
    lines = ["rule id %d ip saddr 10.%d.%d.0/24 udp dport %d action output %d" %
             (i, i // 256, i % 256, 1000 + i, 1 + i % 3) for i in range(1, N + 1)]
    sw = Sw("scale", 4, [])
    conf = os.path.join(sw.d, "big.conf")
    open(conf, "w").write("\n".join(lines) + "\n")
    t0 = time.time()
    rc, out, err = sw.cli("load-steering", conf)
    dt = time.time() - t0
    limit = 10.0 if "asan" in BIN else 1.0
    check("scale: %d rules loaded in %.3f s (limit %.0f s)" % (N, dt, limit),
          rc == 0 and dt < limit, (rc, err))
    r = sw.js("rules")["rules"]
    check_eq("scale: rules lists them all", N, len(r))
    frames = []
    for i in (N, N - 1, 2500, 1, 4096):
        frames.append((u4(4000, 1000 + i, src="10.%d.%d.7" % (i // 256, i % 256)), 1 + i % 3))
    miss = u4(4000, 1000 + 17, src="10.0.18.7")      # dport of rule 17, saddr of rule 18
    sw.inject([f for f, _ in frames] + [miss])
    got = sw.news(range(4))
    for (f, p), i in zip(frames, (N, N - 1, 2500, 1, 4096)):
        check_eq("scale: a frame for rule %d -> port %d" % (i, p),
                 [q for q in range(4) if f in got[q]], [p])
    check_eq("scale: a frame matching no rule is flooded", [0, 1, 2, 3],
             [q for q in range(4) if miss in got[q]])
    rr = sw.rules()
    check_eq("scale: counters of the rules hit", [1, 1, 1, 1, 1, 0],
             [rr[i][0] for i in (N, N - 1, 2500, 1, 4096, 17)])
    check_eq("scale: nfswitch exits cleanly", 0, sw.stop())


if __name__ == "__main__":
    for s in sys.argv[1:]:
        globals()[s]()
    sys.exit(0)
