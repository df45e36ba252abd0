"""switch_hold.py - the Python half of switch_hold.sh: a group's hold queue
(docs/STEERING.md "group NAME MEMBER... hold N", src/nfswitch/hold.c,
fwd.c sw_hold_release()) through nfswitch with pcap ports, exact bytes.

1. Group a has no member and `hold 4`. Seven frames of its rule arrive:
   four are held (in order), two more are counted `steer-hold-full`, one of
   3000 bytes `steer-hold-big`; nothing leaves. The group's hold counters
   say so.
2. A load gives a a member (port 2): the four come out on port 2 in
   arrival order, byte for byte; the new rule's mirror port 3 gets a copy
   of each; a tx capture of ports 2 and 3 (nfchain capture) sees both; the
   queue is empty, released 4.
3. Held again, then released through a rewrite that changes the length:
   the new steering sends a's frames through `srv6-encap ... group b`
   while b has no member, so each released frame is held again, in b.
   A load gives b a member and sends its frames there unchanged: out come
   the original frames, byte for byte (a frame is held as it arrived, not
   as a rewrite left it).
4. Without a hold: a rule's mirror copies are in the tx capture of the
   mirror port, as the released frames' copies are in step 2.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import *  # noqa: E402,F403


def hold(sw, name):
    return [g["hold"] for g in sw.js("groups")["groups"] if g["name"] == name][0]


def counts(h):
    return (h["capacity"], h["queued"], h["held"], h["released"], h["full"], h["too_big"])


def load(sw, name, lines):
    path = os.path.join(sw.d, name)
    open(path, "w").write("".join(x + "\n" for x in lines))
    rc, out, err = sw.cli("load-steering", path)
    check_eq("load %s" % name, (0, ""), (rc, err))


FR = [u4(5000 + i, 1000, data=b"held frame %d " % i + b"." * (40 * i)) for i in range(6)]
BIG = u4(5100, 1000, data=b"x" * 2950)
assert len(BIG) > 2048

# ---- 1. held, full, too big
sw = Sw("hold", 4, ["group a - hold 4", "rule id 1 udp dport 1000 action group a"])
sw.inject(FR[:4] + [BIG] + FR[4:], "in1", keep=True)
check("port in1 added, its frames read, and kept", "in1" in sw.ports())
check_eq("group a at zero: 4 held, 2 full, 1 too big (capacity queued held released full big)",
         (4, 4, 4, 0, 2, 1), counts(hold(sw, "a")))
d = sw.drops()
check_eq("counted drops: steer-hold-full 2, steer-hold-big 1",
         (2, 1), (d.get("steer-hold-full"), d.get("steer-hold-big")))
rc, out, err = sw.cli("groups")
check_eq("nfchain switch groups: the hold queue's counters",
         (0, "  hold: 4 queued of 4, 4 held, 0 released, 2 full, 1 too big, 1 episodes "
             "(the last 0 us)"), (rc, out.splitlines()[-1]))
check_eq("nothing left the switch while held", [[], [], [], []],
         [sw.take(i) for i in range(4)])

# ---- 2. a member joins: released in arrival order, exact bytes
capp, cap = sw.capture([2, 3], 8, "cap2")
load(sw, "v2.conf", ["group a 2 hold 4", "rule id 1 udp dport 1000 action mirror 3 group a"])
got = sw.news([2, 3], {2: FR[:4], 3: FR[:4]})
check_eq("nfchain capture --tx of ports 2 and 3: ends after its 8 frames", 0, capp.wait(30))
same_frames("... the 4 released frames as they left by port 2, then their mirror copies "
            "by port 3", FR[:4] + FR[:4], rpcap(cap))
same_frames("a member joins: the 4 held frames leave on it, in arrival order, unchanged",
            FR[:4], got[2])
same_frames("and the rule's mirror (port 3) gets a copy of each as it leaves", FR[:4], got[3])
check_eq("queue empty, 4 released", (4, 0, 4, 4, 2, 1), counts(hold(sw, "a")))

# ---- 3. held again, released into another group at zero through an
# encapsulation (the frame is longer when it is held again)
SEGS = ["fc00::1", "fc00::2"]
load(sw, "v3.conf", ["group a - hold 4", "rule id 1 udp dport 1000 action group a"])
sw.inject(FR[:3], "in3", keep=True)
check("port in3 added, its frames read, and kept", "in3" in sw.ports())
check_eq("a at zero again: 3 more held", (4, 3, 7, 4, 2, 1), counts(hold(sw, "a")))
load(sw, "v4.conf", ["srv6-source fd00::1", "group a 3 hold 4", "group b - hold 8",
                     "rule id 1 udp dport 1000 action srv6-encap %s group b" % ",".join(SEGS)])
check_eq("a's frames, steered again, now wait in b: a released 3",
         (4, 0, 7, 7), counts(hold(sw, "a"))[:4])
check_eq("b holds them: 3", (8, 3, 3, 0, 0, 0), counts(hold(sw, "b")))
check_eq("nothing on a's member", [], sw.take(3))
load(sw, "v5.conf", ["group a 3 hold 4", "group b 1 hold 8",
                     "rule id 1 udp dport 1000 action group b"])
same_frames("b's member gets them as they arrived (held as they arrived, steered again), "
            "in order", FR[:3], sw.new(1, FR[:3]))
check_eq("b: released 3, none queued", (8, 0, 3, 3), counts(hold(sw, "b"))[:4])

# ---- 4. not held: a rule's mirror copies are in the mirror port's tx
# capture too (steer(), as for the released frames above)
load(sw, "v6.conf", ["rule id 1 udp dport 1000 action mirror 3 output 2"])
capp, cap = sw.capture([3], 2, "cap3")
sw.inject(FR[4:6], "in6", keep=True)
check("port in6 added, its frames read, and kept", "in6" in sw.ports())
same_frames("mirror 3 output 2: port 3 gets the copies", FR[4:6], sw.new(3, FR[4:6]))
check_eq("nfchain capture --tx of port 3: ends after 2 frames", 0, capp.wait(30))
same_frames("... the mirror copies", FR[4:6], rpcap(cap))
check_eq("nfswitch exits cleanly", 0, sw.stop())
sys.exit(FAILED[0])
