"""switch_icmp.py - the Python half of switch_icmp.sh: the ICMPv6 errors
of nfswitch's SRv6 SIDs (docs/STEERING.md "ICMPv6 errors", nf_srv6.h
nf_srv6_icmp_error()), pcap ports, exact bytes.

1. Frames from port 0 to SIDs End, End.X, End.DX4 and End.DT6 that each
   must drop: every drop that has an error (hop limit 1, SL beyond the
   list, last entry past hdr ext len, SL not 0 at End.DX/DT, SL 0 at End,
   the wrong upper layer, no SRH, a routing header of type 0 with segments
   left; one of them VLAN-tagged) comes back out of port 0 as the error,
   byte for byte as built here (from the SID to the source, MACs swapped,
   the packet quoted), in order; those with none (a bad TLV, inner TTL 1,
   a multicast destination MAC or address, a multicast or unspecified
   source, an ICMPv6 error inside, End.AD, a frame a rule encapsulated)
   make nothing. Nothing leaves by another port; the drops are counted
   by reason as without the errors; steer-stats counts the errors sent.
2. The rate limit: --icmp-rate 1 --icmp-burst 3 lets 3 errors of 10
   through (7 counted limited); --icmp-rate 0 sends none; bad values of
   both options are refused with a sentence and exit status 2.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import *  # noqa: E402,F403

C_MAC = mac("02:00:00:00:00:0c")
LINES = ["srv6-source fd00::1",
         "group px 1/2",
         "sid fc00:a::1 End",
         "sid fc00:a::2 End.X 1 02:00:00:00:00:0c",
         "sid fc00:a::4 End.DX4 1 02:00:00:00:00:0c",
         "sid fc00:a::6 End.DT6",
         "sid fc00:a::ad End.AD group px",
         "rule id 1 udp dport 4444 action srv6-encap fc00:a::1"]


def setb(fr, off, val):
    """@fr with the bytes at @off replaced by @val."""
    return fr[:off] + val + fr[off + len(val):]


def sr(segs, inner=None, hlim=64, src="fd00:5::1"):
    """H.Encaps of @inner (default an IPv4 UDP frame) from @src, hop limit
    @hlim."""
    fr = encap(inner or u4(5000, 53), segs, src=src)
    return setb(fr, 21, bytes([hlim]))


V4 = u4(5000, 53)
SL = 14 + 40 + 3			# Segments Left in an untagged frame
# (what, frame, the error: (SID, type, code, pointer) or None, drop reason)
CASES = [
    ("End: hop limit 1", sr(["fc00:a::1", "fc00:b::1"], hlim=1),
     ("fc00:a::1", 3, 0, 0), "srv6-hop-limit"),
    ("End, VLAN 5: hop limit 1", vlan(sr(["fc00:a::1", "fc00:b::1"], hlim=1), 5),
     ("fc00:a::1", 3, 0, 0), "srv6-hop-limit"),
    ("End.X: hop limit 1", sr(["fc00:a::2", "fc00:b::1"], hlim=1),
     ("fc00:a::2", 3, 0, 0), "srv6-hop-limit"),
    ("End: SL 3 of last entry 1", setb(sr(["fc00:a::1", "fc00:b::1"]), SL, b"\x03"),
     ("fc00:a::1", 4, 0, 43), "srv6-sl-beyond"),
    ("End: last entry 2 past hdr ext len 4", setb(sr(["fc00:a::1", "fc00:b::1"]), SL + 1,
                                                   b"\x02"),
     ("fc00:a::1", 4, 0, 43), "srv6-bad-srh"),
    ("End.DX4: SL 1", sr(["fc00:a::4", "fc00:b::1"]), ("fc00:a::4", 4, 0, 43),
     "srv6-sl-not-zero"),
    ("End.DT6: SL 1", sr(["fc00:a::6", "fc00:b::1"]), ("fc00:a::6", 4, 0, 43),
     "srv6-sl-not-zero"),
    ("End: SL 0 (2 segments)", setb(setb(sr(["fc00:b::1", "fc00:a::1"]), SL, b"\x00"), 38,
                                    ip6("fc00:a::1")),
     ("fc00:a::1", 4, 4, 80), "srv6-sl-zero"),
    ("End.DX4: IPv6 inside", sr(["fc00:a::4"], inner=u6(5000, 53)), ("fc00:a::4", 4, 4, 64),
     "srv6-inner-not-ipv4"),
    ("End: no routing header", u6(5000, 53, dst="fc00:a::1"), ("fc00:a::1", 4, 4, 40),
     "srv6-no-srh"),
    ("End: routing type 0, 1 segment left",
     eth(v6(ip6("fd00:5::1"), ip6("fc00:a::1"), 43,
            struct.pack("!BBBBI", 17, 2, 0, 1, 0) + ip6("fc00:b::1") +
            udp(ip6("fd00:5::1"), ip6("fc00:b::1"), b"rh0", 1, 2)), 0x86dd, B_MAC, A_MAC),
     ("fc00:a::1", 4, 0, 42), "srv6-no-srh"),
    # none
    ("End: a PadN TLV 6 bytes long", setb(setb(sr(["fc00:a::1", "fc00:b::1"]), SL - 2,
                                               b"\x05"), 14 + 40 + 40, b"\x04\x06"),
     None, "srv6-bad-tlv"),
    ("End.DX4: inner TTL 1", sr(["fc00:a::4"], inner=u4(5000, 53, ttl=1)), None,
     "srv6-inner-ttl"),
    ("End: hop limit 1 to multicast MAC 33:33:00:00:00:01",
     setb(sr(["fc00:a::1", "fc00:b::1"], hlim=1), 0, mac("33:33:00:00:00:01")),
     None, "srv6-hop-limit"),
    ("End: hop limit 1 from ff02::1", sr(["fc00:a::1", "fc00:b::1"], hlim=1, src="ff02::1"),
     None, "srv6-hop-limit"),
    ("End: hop limit 1 from ::", sr(["fc00:a::1", "fc00:b::1"], hlim=1, src="::"), None,
     "srv6-hop-limit"),
    ("End: SL 0 over an ICMPv6 error",
     eth(v6(ip6("fd00:5::1"), ip6("fc00:a::1"), 43,
            srh(58, ["fc00:b::1", "fc00:a::1"], 0) +
            icmp6(ip6("fd00:5::1"), ip6("fc00:a::1"), 1, 4, 0, b"x" * 40)),
         0x86dd, B_MAC, A_MAC), None, "srv6-sl-zero"),
    ("End.AD: SL 0", setb(setb(sr(["fc00:b::1", "fc00:a::ad"]), SL, b"\x00"), 38,
                          ip6("fc00:a::ad")), None, "srv6-sl-zero"),
    ("a rule's encapsulation into End with SL 0", u4(5000, 4444), None, "srv6-sl-zero"),
]

# ---- 1. the errors, exact bytes
sw = Sw("icmp", 3, LINES, {0: [f for _, f, _, _ in CASES]})
want = [srv6_error(f, *e) for _, f, e, _ in CASES if e is not None]
got = sw.news([0, 1, 2], {0: want})
for (what, f, e, _), g in zip([c for c in CASES if c[2] is not None], got[0]):
    check_eq("%s: %s, exact bytes" % (what, "Time Exceeded" if e[1] == 3 else
                                      "Parameter Problem code %d pointer %d" % (e[2], e[3])),
             srv6_error(f, *e).hex(), g.hex())
same_frames("port 0 got the %d errors in order, nothing else" % len(want), want, got[0])
check_eq("nothing left by ports 1 and 2", [[], []], [got[1], got[2]])
drops = {}
for _, _, _, r in CASES:
    drops[r] = drops.get(r, 0) + 1
check_eq("every frame counted as dropped by its reason", drops, sw.drops())
st = sw.js("steer-stats")
check_eq("steer-stats: icmp_errors_sent %d, icmp_errors_limited 0" % len(want),
         (len(want), 0), (st["icmp_errors_sent"], st["icmp_errors_limited"]))
rc, out, _ = sw.cli("steer-stats")
lines = [x.split() for x in out.splitlines()]
check("nfchain switch steer-stats prints them",
      rc == 0 and ["(ICMPv6", "errors", "sent)", str(len(want))] in lines and
      ["(over", "--icmp-rate)", "0"] in lines, out)
check_eq("nfswitch exits cleanly", 0, sw.stop())

# ---- 2. the rate limit
TE = CASES[0][1]
for extra, n in ((["--icmp-rate", "1", "--icmp-burst", "3"], 3), (["--icmp-rate", "0"], 0)):
    sw = Sw("limit%d" % n, 3, LINES, {0: [TE] * 10}, extra=extra)
    got = sw.new(0, [srv6_error(TE, "fc00:a::1", 3, 0, 0)] * n)
    st = sw.js("steer-stats")
    check_eq("%s: %d errors of 10 sent, %d limited" % (" ".join(extra), n, 10 - n),
             ([srv6_error(TE, "fc00:a::1", 3, 0, 0).hex()] * n, n, 10 - n),
             ([g.hex() for g in got], st["icmp_errors_sent"], st["icmp_errors_limited"]))
    check_eq("%s: nfswitch exits cleanly" % " ".join(extra), 0, sw.stop())
for opt, val, msg in (("--icmp-rate", "-1", "--icmp-rate"), ("--icmp-rate", "1000001",
                                                              "--icmp-rate"),
                      ("--icmp-burst", "0", "--icmp-burst")):
    r = subprocess.run([BIN + "/nfswitch", "-n", opt, val], capture_output=True, text=True)
    check("nfswitch %s %s: refused (exit 2) with a sentence naming it" % (opt, val),
          r.returncode == 2 and msg in r.stderr, (r.returncode, r.stderr))
sys.exit(FAILED[0])
