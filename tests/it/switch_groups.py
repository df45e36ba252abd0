"""switch_groups.py - the Python half of switch_groups.sh: consistent,
symmetric replica selection through nfswitch, measured with pcap ports.

A group of 4 members (ports 2..5) takes every UDP and TCP frame. 1000
distinct flows (600 UDP/IPv4, 250 TCP/IPv4, 150 UDP/IPv6), each sent in
both directions, are injected; every frame comes out unchanged on exactly
one member, which says the flow's member. Then `del-member g 2` and the
same frames again: exactly the flows of member 2 move; then `set-member g
2 4` (the member back) and again: only flows that move TO member 2 move.
Balance: each member's share of the flows within 20% of the fair share.
A group with `track`: a draining member (~) keeps its flows, each frame of
them counted in track_kept (flows in trains of 3: the flow cache answers
most), new flows go to the other member.
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import *  # noqa: E402,F403

N_UDP4, N_TCP4, N_UDP6 = 600, 250, 150
N = N_UDP4 + N_TCP4 + N_UDP6
MEMBERS = [2, 3, 4, 5]          # member i is port MEMBERS[i]
BOUND = 0.20                    # balance: |share - fair| <= 20% of fair


def flows():
    f = []
    for i in range(N_UDP4):
        f.append(u4(1024 + i, 53 + i % 7, src="10.1.%d.%d" % (i // 200, 2 + i % 200),
                    dst="10.2.0.%d" % (1 + i % 50)))
    for i in range(N_TCP4):
        f.append(t4(20000 + i, 443, src="10.3.%d.%d" % (i // 100, 2 + i % 100), dst="10.4.0.1"))
    for i in range(N_UDP6):
        f.append(u6(3000 + i, 4789, src="fd00:5::%x" % (i + 1), dst="fd00:6::%x" % (i % 9 + 1)))
    return f


FLOWS = flows()
assert len(set(FLOWS)) == N


def run(sw, tag):
    """Both directions of every flow in; {flow: (fwd member, rev member)}
    (None: not seen once exactly) and the frames each member got."""
    frames = FLOWS + [reverse(f) for f in FLOWS]
    sw.inject(frames, "inj" + tag)
    got = {p: [] for p in MEMBERS}
    for _ in range(100):
        for p in MEMBERS:
            got[p] += sw.new(p)
        if sum(len(g) for g in got.values()) >= len(frames):
            break
    at = {}
    for i, p in enumerate(MEMBERS):
        for fr in got[p]:
            at.setdefault(fr, []).append(i)
    res = {}
    for k, f in enumerate(FLOWS):
        a, b = at.get(f, []), at.get(reverse(f), [])
        res[k] = (a[0] if len(a) == 1 else None, b[0] if len(b) == 1 else None)
    extra = sum(len(g) for g in got.values()) - len(frames)
    return res, extra, {i: len(got[p]) for i, p in enumerate(MEMBERS)}


def member_of(res, what):
    bad = [k for k, (a, b) in res.items() if a is None or a != b]
    check_eq("%s: every flow came out on exactly one member, both directions on the same "
             "member" % what, [], bad[:5])
    return {k: a for k, (a, b) in res.items()}


def balance(m, members, what):
    count = {i: sum(1 for v in m.values() if v == i) for i in members}
    fair = N / len(members)
    worst = max(abs(c - fair) / fair for c in count.values())
    print("# %s: flows per member %s, fair share %.1f, worst deviation %.1f%%" %
          (what, [count[i] for i in members], fair, 100 * worst))
    check("%s: every member within %d%% of the fair share" % (what, 100 * BOUND),
          worst <= BOUND, count)
    return count


def counters(sw):
    return [m["packets"] for m in sw.js("groups")["groups"][0]["members"]]


lines = ["group g %s" % " ".join(str(p) for p in MEMBERS),
         "rule id 1 meta l4proto { udp, tcp } action group g"]
sw = Sw("groups", 6, lines)

# ---- round 1: 4 members
res, extra, seen = run(sw, "1")
m1 = member_of(res, "4 members")
check_eq("4 members: the members got no frame twice and none that was not sent", 0, extra)
c1 = balance(m1, range(4), "4 members")
check_eq("4 members: the group's per-member counters = the frames seen per member",
         [seen[i] for i in range(4)], counters(sw))

# ---- round 2: member 2 removed
rc, out, err = sw.cli("del-member", "g", "2")
check_eq("nfchain switch del-member g 2", (0, "group g: member 2 removed (its flows move to "
                                              "the others)\n"), (rc, out))
res, extra, seen2 = run(sw, "2")
m2 = member_of(res, "member 2 removed")
check_eq("member 2 removed: no frame came out twice", 0, extra)
on2 = sorted(k for k, v in m1.items() if v == 2)
moved = sorted(k for k in m1 if m1[k] != m2[k])
print("# del-member g 2: %d of %d flows moved (member 2 had %d); %d others moved" %
      (len(moved), N, len(on2), len([k for k in moved if m1[k] != 2])))
check_eq("member 2 removed: the flows that moved are exactly member 2's", on2, moved)
check_eq("member 2 removed: none went to member 2", 0, seen2[2])
balance(m2, (0, 1, 3), "member 2 removed")
spread = {i: sum(1 for k in on2 if m2[k] == i) for i in (0, 1, 3)}
print("# member 2's %d flows went to members 0, 1, 3: %s" % (len(on2), spread))
check("member 2 removed: its flows spread over all 3 others", all(spread.values()), spread)

# ---- round 3: member 2 back
rc, out, err = sw.cli("set-member", "g", "2", "4")
check_eq("nfchain switch set-member g 2 4", (0, "group g: member 2 is 4\n"), (rc, out))
res, extra, seen3 = run(sw, "3")
m3 = member_of(res, "member 2 back")
check_eq("member 2 back: no frame came out twice", 0, extra)
moved3 = sorted(k for k in m2 if m2[k] != m3[k])
wrong = [k for k in moved3 if m3[k] != 2]
print("# set-member g 2 4: %d flows moved, all to member 2: %s; of member 2's former %d "
      "flows %d are back on it" % (len(moved3), not wrong, len(on2),
                                     sum(1 for k in on2 if m3[k] == 2)))
check_eq("member 2 back: only flows that moved TO member 2 moved", [], wrong[:5])
check("member 2 back: it takes flows again", len(moved3) > 0, len(moved3))
balance(m3, range(4), "member 2 back")
check_eq("steering dropped nothing", {}, sw.drops())
check_eq("nfswitch exits cleanly", 0, sw.stop())

# ---- track: a draining member keeps its flows; the flows come in trains
# of 3 frames, so the flow cache answers all but the first of each, and
# track_kept counts every frame kept
NT = 40
TR = [u4(6000 + i, 7000, src="10.7.0.%d" % (1 + i)) for i in range(NT)]
sw = Sw("groups_track", 4, ["group t 2 3 track", "rule id 1 udp dport 7000 action group t"])


def trains(flows, name):
    """3 frames of each flow in a row; {flow index: port} (None: not all 3
    on one port), frames per port."""
    sw.inject([f for f in flows for _ in range(3)], name)
    got = sw.news([2, 3], {2: [], 3: []})
    at = {i: set(p for p in (2, 3) for g in got[p] if g == f) for i, f in enumerate(flows)}
    ok3 = {i: (at[i].pop() if len(at[i]) == 1 and
               sum(got[p].count(f) for p in (2, 3)) == 3 else None)
           for i, f in enumerate(flows)}
    return ok3, {p: len(got[p]) for p in (2, 3)}


def kept():
    return sw.js("groups")["groups"][0].get("track_kept")


t1, n1 = trains(TR, "tr1")
on0 = sorted(i for i, p in t1.items() if p == 2)
check_eq("track: each flow's 3 frames on one member", [], [i for i, p in t1.items() if p is None])
check("track: both members took flows", 0 < len(on0) < NT, n1)
rc, out, err = sw.cli("set-member", "t", "0", "~2")
check_eq("set-member t 0 ~2: member 0 drains", 0, rc)
t2, n2 = trains(TR, "tr2")
check_eq("draining: every flow stays on its member, 3 frames each", t1, t2)
check_eq("track_kept: the 3 frames of each of member 0's %d flows" % len(on0), 3 * len(on0),
         kept())
t3, n3 = trains([u4(6000 + i, 7000, src="10.8.0.%d" % (1 + i)) for i in range(NT)], "tr3")
check_eq("draining: %d new flows all on member 1" % NT, {2: 0, 3: 3 * NT}, n3)
check_eq("track_kept unchanged by new flows", 3 * len(on0), kept())
rc, out, err = sw.cli("groups")
txt = out.splitlines()
check_eq("nfchain switch groups: member 0 drains, member 1 is up, and the frames kept",
         (0, ["group t", "drain", "up", "  track: %d frames kept on draining members" % (3 * len(on0))]),
         (rc, txt[:1] + [x.split()[1] for x in txt[1:3]] + txt[3:]))
check_eq("nfswitch exits cleanly", 0, sw.stop())

# ---- set-member / del-member keep the group's options (track, hold N),
# which follow the members on its line
sw = Sw("groups_opts", 6, ["group g 1 2 track hold 4", "group h 1 ~2 3 hold 2 track"])
for args, want in ((("set-member", "g", "2", "3"), "group g 1 2 3 track hold 4"),
                   (("del-member", "g", "1"), "group g 1 - 3 track hold 4"),
                   (("set-member", "g", "5", "5"), "group g 1 - 3 - - 5 track hold 4"),
                   (("set-member", "h", "3", "4"), "group h 1 ~2 3 4 hold 2 track"),
                   (("del-member", "h", "0"), "group h - ~2 3 4 hold 2 track")):
    rc, out, err = sw.cli(*args)
    got = [x for x in sw.steering() if x.split()[1] == args[1]]
    check_eq("%s: the group's line keeps its options" % " ".join(args), (0, [want]), (rc, got))
rc, out, err = sw.cli("del-member", "g", "9")
check_eq("del-member g 9 (the line's words after the members are no member): refused",
         (1, "nfchain: group 'g' has no member 9\n"), (rc, err))
check_eq("nfswitch exits cleanly", 0, sw.stop())
sys.exit(FAILED[0])
