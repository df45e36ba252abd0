#!/usr/bin/env python3
"""Write the seed corpus of fuzz_steer (tests/fuzz/corpus/steer/).

Each seed is a steering file, a NUL, control requests (one a line), a NUL,
then frames ([port byte][length, 2 bytes][bytes]; the in-port, 0..7, in the
low bits, bit 7 starts a new burst): the flow cache's configurations and traffic
from tests/it/switch_flowcache.py (FC_LINES and FC_LINES_W in
steer_lib.py; runs and interleaved flows, what the
key keeps and leaves out, what the cache must not take, End.AD proxies
whose replicas answer, wide entries), every SID behaviour with SRv6 frames
(every SL, a reduced SRH, SL beyond the list, lengths that lie, hop limit
1), SRv6 frames that arrive at the flow cache's SIDs, the ToS-bitmap mode, groups with removed, draining and held members,
set-tos, srv6-decap, mirrors; control requests of every kind; and
steering files that must be refused.
Run again after changing it (files committed):
    python3 tests/fuzz/make_steer_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_steer.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "corpus", "steer")
os.environ.setdefault("BIN", "")        # steer_lib reads them; unused here
os.environ.setdefault("T", "")
sys.path.insert(0, os.path.join(HERE, "..", "it"))
sys.path.insert(0, HERE)
from steer_lib import *  # noqa: E402,F401,F403
import seedfiles  # noqa: E402

M = [mac("02:00:00:00:01:%02x" % i) for i in range(8)]


def seed(lines, frames=(), reqs=()):
    """The input: the file, a NUL, the control requests, a NUL, each (port
    byte, frame)."""
    b = "".join(line + "\n" for line in lines).encode() + b"\0"
    b += "".join(r + "\n" for r in reqs).encode() + b"\0"
    for port, fr in frames:
        b += struct.pack("!BH", port, len(fr)) + fr
    return b


def udp4(sport, dport, src="10.5.0.1", dst="10.6.0.1", **kw):
    return u4(sport, dport, src=src, dst=dst, data=kw.pop("data", b"p" * 20), **kw)


def ret(fr, member):
    """A replica's answer: from its MAC."""
    return fr[:6] + M[2 + member] + fr[12:]


def setb(fr, off, *vals):
    """@fr with bytes from @off set to @vals."""
    b = bytearray(fr)
    b[off:off + len(vals)] = bytes(vals)
    return bytes(b)


def ipopts(fr):
    """@fr (IPv4 UDP) with 4 bytes of IPv4 options: checksums not redone."""
    ip = bytearray(fr[14:34])
    ip[0] = 0x46
    ip[2:4] = struct.pack("!H", len(fr) - 14 + 4)
    return fr[:14] + bytes(ip) + b"\x01\x01\x01\x00" + fr[34:]


def srv6(inner, segs, sl=None, hlim=64, src="fd00::9"):
    """@inner (an Ethernet frame) H.Encaps'd by @segs, SL @sl (default the
    first segment's), hop limit @hlim."""
    e = bytearray(encap(inner, segs, src, fl=1))
    if sl is not None:
        e[54 + 3] = sl
        e[38:54] = ip6(segs[len(segs) - 1 - sl]) if sl < len(segs) else e[38:54]
    e[21] = hlim
    return bytes(e)



def flowcache_frames():
    fr = []
    dports = [1000, 1001, 7000, 2000, 3000, 4000, 5000, 6000, 9999]
    for i, dp in enumerate(dports):
        for k in range(1 + i % 3):                      # runs of 1..3
            fr.append((0, udp4(100 + i, dp, data=b"p" * (20 + 7 * k))))
    for i in range(12):                                 # interleaved
        fr.append((0, udp4(200 + i % 4, dports[i % 4], src="10.5.0.%d" % (1 + i % 3))))
    for k in range(3):                                  # what the key keeps
        fr.append((0, udp4(300, 3000, ttl=64 - k)))
        fr.append((0, udp4(300, 3000, tos=40)))
        fr.append((0, udp4(300, 3000, smac=M[k])))
    for fl in (TCP_SYN, TCP_ACK, TCP_FIN | TCP_ACK):
        fr.append((0, t4(40000, 80)[:47] + bytes([fl]) + t4(40000, 80)[48:]))
        fr.append((0, t4(40001, 22)))
    # what the cache must not take, each right after a frame of its flow
    # (a two-piece entry, dport 1000; a MAC rewrite, 3000): the frame that
    # follows a hit in its burst is checked by st_flow_next() and
    # st_flow_run(), not by a lookup
    for dp in (1000, 3000):
        base = udp4(400, dp)
        fr.append((0x80, base))                         # the entry
        for v in (base + b"\0" * 6,                    # Ethernet padding
                  setb(base, 20, 0x20),                 # a fragment (MF)
                  setb(base, 21, 0x08),                 # offset 8
                  ipopts(base),                         # IPv4 options
                  setb(base, 16, 0, 0x60),              # total length lies
                  base[:47],                            # cut
                  setb(base, 22, 63),                   # another TTL
                  vlan(base, 7)):
            fr += [(0x80, base), (0, v)]
    fr.append((0, eth(v4(ip4("10.5.0.1"), ip4("10.6.0.1"), 1, icmp4(8, 0, 1)), 0x0800,
                      B_MAC, A_MAC)))
    fr.append((0, u6(500, 3000)))
    # the replicas answer (End.AD's way back), twice each
    for m in (0, 1):
        for k in range(2):
            fr.append((4 + m, ret(udp4(100, 1000, data=b"r" * (20 + k)), m)))
            fr.append((4 + m, ret(udp4(101, 7000, data=b"r" * (20 + k)), m)))
    return fr


def wide_frames():
    fr = []
    for k in range(3):
        for d in range(1, 8):
            fr.append((0, udp4(1000 + k, 53, dst="10.6.0.%d" % d, src="10.5.0.%d" % (1 + k))))
    fr.append((4, ret(udp4(1000, 53), 0)))
    fr.append((4, ret(udp4(1001, 53, src="10.5.0.2"), 0)))
    # hosts (a MAC pair each) taking turns, twice: wide entries in sets of
    # their own, probed first after a wide hit; a per-flow entry (duo's
    # hash, 10.6.0.2) and, the first time, misses in between
    for r in range(2):
        for h in range(9):
            fr.append((0x80 if h == 0 else 0,
                       udp4(1100 + h, 53, dst="10.6.0.%d" % (1, 4, 2)[h % 3],
                            src="10.5.5.%d" % (1 + h), smac=mac("02:00:00:10:00:%02x" % h),
                            dmac=mac("02:00:00:20:00:%02x" % h))))
    # SRv6 flows that arrive, taking turns, decapsulated: wide SRv6 entries
    for k in range(12):
        fr.append((0, srv6(udp4(2000 + k % 4, 53, src="10.5.3.%d" % (1 + k % 3)),
                           (["fc00::e"], ["fc00::a", "fc00::e"])[k % 2])))
    return fr


def wide6_frames():
    """In one burst, frame by frame in turn: SRv6 to an End.AD of two
    replicas (per-flow entries), SRv6 from hosts (a MAC pair each) to
    End.DX4 (wide ones), IPv4 from the hosts to a MAC rewrite (wide) and to
    duo (per flow): every change of st_flow_hit()'s gate, twice (misses,
    then hits)."""
    fr = []
    for r in range(2):
        for h in range(6):
            hm = dict(smac=mac("02:00:00:10:00:%02x" % h), dmac=mac("02:00:00:20:00:%02x" % h))
            kinds = [srv6(udp4(3000 + h, 53, src="10.5.4.%d" % (1 + h)), ["fc00::d", "fc00::e"]),
                     srv6(udp4(4000 + h, 53, src="10.5.5.%d" % (1 + h),
                               dst="10.6.0.%d" % (1 + h % 3), **hm), ["fc00::e"]),
                     udp4(5000 + h, 53, src="10.5.6.%d" % (1 + h), dst="10.6.0.4", **hm),
                     udp4(6000 + h, 53, src="10.5.7.%d" % (1 + h), dst="10.6.0.2")]
            for k in kinds[h % 4:] + kinds[:h % 4]:
                fr.append((0x80 if not fr else 0, k))
    return fr


PAIR = ["group pair 3/5@02:00:00:00:01:02 1/6@02:00:00:00:01:03", "sid fc00::d End.AD group pair"]


SIDS = [
    "group px 2/3@02:00:00:00:01:02",
    "group as 4/5",
    "sid fc00::1 End",
    "sid fc00::2 End.X 1 02:00:00:00:02:02",
    "sid fc00::3 End.DX4 1 02:00:00:00:02:03",
    "sid fc00::4 End.DX6 1 02:00:00:00:02:04",
    "sid fc00::5 End.DT4",
    "sid fc00::6 End.DT6",
    "sid fc00::7 End.AD group px",
    "sid fc00::8 End.AS group as inner ipv4 segs fc00::3 src fd00::8",
    "rule id 1 ip6 daddr fc00::9 action srv6-decap output 7",
    "rule id 2 ip daddr 10.9.0.0/16 action output 7",
    "rule id 3 ip6 daddr fd00:6::/32 action output 7",
]


def sids_frames():
    v4in, v6in = udp4(1, 2, dst="10.9.0.1"), u6(1, 2)
    fr = []
    for segs in (["fc00::1", "fc00::3"], ["fc00::1", "fc00::2", "fc00::3"], ["fc00::4"],
                 ["fc00::5"], ["fc00::6"], ["fc00::7", "fc00::3"], ["fc00::8", "fc00::3"],
                 ["fc00::9"], ["fc00::1", "fc00::1", "fc00::1", "fc00::1", "fc00::1"]):
        inner = v6in if segs[-1] in ("fc00::4", "fc00::6") else v4in
        fr.append((0, srv6(inner, segs)))
    fr.append((0, srv6(v4in, ["fc00::1", "fc00::3"], sl=5)))            # SL beyond
    fr.append((0, srv6(v4in, ["fc00::1", "fc00::3"], sl=0)))
    fr.append((0, srv6(v4in, ["fc00::1", "fc00::3"], hlim=1)))          # hop limit 1
    bad = bytearray(srv6(v4in, ["fc00::1", "fc00::3"]))
    bad[55] = 9                                                         # hdr ext len lies
    fr.append((0, bytes(bad)))
    bad = bytearray(srv6(v4in, ["fc00::1", "fc00::3"]))
    bad[18:20] = struct.pack("!H", 2000)                                # payload length lies
    fr.append((0, bytes(bad)))
    fr.append((0, srv6(v4in, ["fc00::1", "fc00::3"])[:70]))             # cut in the SRH
    fr.append((3, ret(v4in, 0)))                                        # End.AD's way back
    fr.append((5, ret(v4in, 1)))                                        # End.AS's
    fr.append((0, encap(v4in, ["fc00::5"], "fd00::9", red=True, fl=1)))  # reduced, no SRH
    return fr


def srv6_in_frames():
    """SRv6 frames that arrive (the flow cache's ST_FK_S6 entries) at
    FC_LINES's SIDs: End.DX4, End then End.DX4, End then MAC learning,
    End.AD to the replicas; runs, interleaved flows, and each variant
    right after a frame of its flow (a hit first, then the variant)."""
    chains = (["fc00::e"], ["fc00::b", "fc00::e"], ["fc00::b", "fc00::c"],
              ["fc00::a", "fc00::e"])
    fr = []
    for i, segs in enumerate(chains):
        for k in range(1 + i % 3):
            fr.append((0, srv6(udp4(700 + i, 53, data=b"s" * (20 + 5 * k)), segs)))
    for i in range(8):
        fr.append((0, srv6(udp4(800 + i % 3, 53), chains[i % 4])))
    base = srv6(udp4(900, 53), chains[1])
    for v in (base + b"\0" * 5,                        # padding
              setb(base, 19, base[19] + 8),           # payload length lies
              setb(base, 21, 1),                      # hop limit 1
              setb(base, 17, 7),                      # another flow label
              setb(base, 53, 0x0c),                   # another SID
              setb(base, 57 + 16 + 15, 0x0c),         # another segment
              setb(base, 94 + 8, 1),                  # inner TTL 1
              setb(base, 94 + 2, 0, 0x20),            # inner length lies
              base[:100]):                            # cut
        fr += [(0x80, base), (0, base), (0, v)]
    return fr


TOS = ["group l0 2/3 4/5", "group l1 6/7", "tos 0 1 l0 l1",
       "rule id 1 in-port 0 ip saddr 10.1.0.0/24 action set-tos 2/3"]


def tos_frames():
    fr = []
    for t in range(4):
        fr.append((0, udp4(10 + t, 20, src="10.5.0.1", tos=t)))
        fr.append((0, udp4(10 + t, 20, src="10.1.0.5", tos=t)))
    for p in (2, 3, 4, 5, 6, 7, 1):
        fr.append((p, udp4(20, 10, src="10.6.0.1", dst="10.5.0.1", tos=3)))
    return fr


GROUPS = ["group g 1 - ~3 4@02:00:00:00:03:04 track",
          "group h 5 hold 4",
          "group e -",
          "rule id 1 udp dport 1 action group g",
          "rule id 2 udp dport 2 action group h",
          "rule id 3 udp dport 3 action group e",
          "rule id 4 udp dport 4 action set-tos 0xb8 count output 7",
          "rule id 5 udp dport 5 action mirror 6 set-dst-mac 02:00:00:00:00:05 output 7",
          "rule id 6 udp dport 6 action srv6-encap red l2 src fd00::66 fc00::1,fc00::2 output 7",
          "rule id 7 priority 1 ether type 0x0806 action drop",
          "rule id 8 vlan id 7 action output 6",
          "rule id 9 ether saddr 02:00:00:00:01:05 action l2"]


def groups_frames():
    fr = []
    for d in range(1, 7):
        for s in range(3):
            fr.append((0, udp4(100 + s, d, src="10.5.0.%d" % (1 + s))))
            fr.append((0, reverse(udp4(100 + s, d, src="10.5.0.%d" % (1 + s)))))
    fr.append((0, eth(b"\0" * 28, 0x0806, B_MAC, A_MAC)))
    fr.append((0, vlan(udp4(1, 1), 7)))
    fr.append((2, udp4(1, 1, smac=M[5])))
    return fr


# Control requests (steer_ctl.c, what `nfchain switch` sends), applied
# after the frames (which then go through what the requests left, unless
# it is nothing): every kind that changes the steering, the ones that
# read it, and refusals.
REQS = ["steering", "rules", "groups", "sids", "steer-stats",
        "rule-add udp dport 9 action drop",
        "rule-add id 50 priority 1 ip daddr 10.0.0.0/8 action output 3",
        "rule-add vlan id 3 action srv6-encap red fc00::1,fc00::2 output 1",
        "rule-del 1", "rule-del 999",
        "group-add extra 1 2/3@02:00:00:00:00:01 track",
        "group-member-set vnf 1 3/5", "group-member-set vnf 5 7", "group-member-del vnf 0",
        "group-member-del vnf 9", "group-member-set nosuch 1 2", "group-member-set vnf 64 1",
        "group-del web", "group-del vnf",
        "sid-add fc00::99 End", "sid-add fc00::98 End.X 99 02:00:00:00:00:01",
        "sid-del fc00::a", "sid-del fc00::b",
        "tos 0 1 extra", "tos-off", "nosuch request", "steer-clear", "rules",
        "rule-add action output 2"]

GROUP_REQS = ["group-member-set g 2 5", "group-member-del g 0", "group-member-set g 9 ~2",
              "group-member-set h 0 -", "group-member-set h 3 6", "group-member-del e 0",
              "groups", "rule-del 2", "group-del h"]

# Edits that leave the steering built (no steer-clear): the frames go
# through the new generation too, carried from the old one.
EDIT_REQS = ["rule-del 6", "group-member-set vnf 1 3/5@02:00:00:00:01:04",
             "rule-add id 11 udp dport 9000-9999 action srv6-encap fc00::a,fc00::b,fc00::e",
             "sid-add fc00::99 End", "rule-add id 12 priority 1 udp dport 1000 action count"]

BAD = {
    "bad-directive": ["nonsense 1 2"],
    "bad-port": ["rule id 1 action output 99"],
    "bad-mac": ["group g 1@02:00:zz"],
    "bad-id": ["rule id 1 action drop", "rule id 1 action drop"],
    "bad-sid-group": ["sid fc00::1 End.AD group nosuch"],
    "bad-sid-twice": ["sid fc00::1 End", "sid fc00::1 End.DT4"],
    "bad-tos": ["tos 0 1 nosuch"],
    "bad-segs": ["rule id 1 action srv6-encap fc00::1,,fc00::2 output 1"],
    "bad-match": ["rule id 1 udp dport 70000 action drop"],
    "bad-empty-action": ["rule id 1 udp dport 1 action"],
    # refused after rules with an encapsulation parsed: those are freed
    "bad-after-encap": ["rule id 1 udp dport 1 action srv6-encap fc00::1 output 1",
                        "rule id 2 action srv6-encap red fc00::1,fc00::2",
                        "nonsense"],
    "bad-id-encap": ["rule id 1 action srv6-encap fc00::1 output 1",
                     "rule id 1 action srv6-encap fc00::2 output 1"],
    "bad-match-encap": ["rule id 1 action srv6-encap fc00::1 output 1",
                        "rule id 2 tcp flags nosuch action srv6-encap fc00::2 output 1"],
}


def make():
    out = {
        "flowcache": seed(FC_LINES, flowcache_frames(), REQS),
        "flowcache-edit": seed(FC_LINES, flowcache_frames(), EDIT_REQS),
        "wide": seed(FC_LINES_W, wide_frames()),
        "wide-edit": seed(FC_LINES_W, wide_frames(), ["group-member-set duo 2 4",
                                                      "rule-del 6", "group-member-del solo 0"]),
        "wide6": seed(FC_LINES_W + PAIR, wide6_frames()),
        "sids": seed(SIDS, sids_frames()),
        "srv6-in": seed(FC_LINES, srv6_in_frames()),
        "tos": seed(TOS, tos_frames(), ["tos-off", "tos 0 1 l1 l0", "group-del l1",
                                        "group-member-set l0 3 1/2", "tos-off"]),
        "groups": seed(GROUPS, groups_frames(), GROUP_REQS),
        # two flows of one track bucket (their hashes' low 14 bits agree):
        # A, B, A; then A's member drains, and A comes again
        "track-bucket": seed(GROUPS, [(0, udp4(1094, 1)), (0, udp4(1228, 1)), (0, udp4(1094, 1))],
                             ["group-member-set g 0 ~1",
                              "group-member-set g 3 ~4@02:00:00:00:03:04"]),
        # frames held (z and y have no member); the requests give z one
        # and send its frames through an encapsulation to y: the next
        # frames find z's queue in the switch, which releases it (fwd.c),
        # holding them again in y
        "hold-release": seed(["group z - hold 8", "group y - hold 8",
                              "rule id 1 udp dport 1 action mirror 6 group z",
                              "rule id 2 udp dport 2 action group y"],
                             [(0, udp4(1000 + i, 1 + i % 2)) for i in range(6)] +
                             [(0x80, udp4(2000, 1, data=b"x" * 2100))],
                             ["group-member-set z 0 3", "rule-del 1",
                              "rule-add id 1 udp dport 1 action mirror 6 srv6-encap fc00::1 group y",
                              "rule-add id 3 udp dport 3 action group z"]),
        # two encapsulations out of one port that takes two pieces (p2):
        # a burst of one flow has one header for all (nf_tx_burst_hdr()'s
        # @same); bursts where a second flow or a lone frame joins do not
        "encap-one-port": seed(["rule id 1 udp dport 1 action srv6-encap fc00::1 output 2",
                                "rule id 2 udp dport 2 action srv6-encap fc00::2,fc00::3 output 2"],
                               [(0 if k else 0x80, udp4(10, d, data=b"e" * (20 + k)))
                                for burst in ([1, 1, 1], [1, 1, 2, 2], [2, 1, 1], [1, 1, 2], [1],
                                              [2, 2, 2, 2], [1, 2, 1, 2])
                                for k, d in enumerate(burst)]),
        "empty": seed([], [(0, udp4(1, 2))]),
        "l2-only": seed(["group g 1 2"], [(0, udp4(1, 2))]),
    }
    for name, lines in BAD.items():
        out[name] = seed(lines)
    return out


def main():
    seedfiles.write(D, make())


if __name__ == "__main__":
    main()
