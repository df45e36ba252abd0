#!/usr/bin/env python3
"""switch_flowcache.py - nfswitch's steering flow cache (DESIGN "Steering",
flow cache) changes nothing but the cost: the same traffic through the same
steering with --flow-cache on and off gives the same bytes on every port,
in the same order, and the same rule, SID, group member and drop counters.

The mix (port 0, and the replicas' return ports 4 and 5) exercises every
way the cache can be wrong: runs of one flow (trains of two among them)
and interleaved flows (hits through the previous-frame shortcut and through
the hash); what the key
leaves out changing per frame (IPv4 identification, lengths, checksums,
TCP sequence numbers, payload) and what it keeps changing (TTL, ToS, TCP
flags, MACs, ports); frames the cache must not take (Ethernet padding,
fragments, IPv4 options, ICMP, IPv6, 802.1Q, short frames); every kind of
entry (output, group, set-dst-mac, srv6-encap to a remote SID, to a local
End, to an End.AD proxy whose replicas answer, End.DX4, drop, mirror, L2);
SRv6 frames that arrive from another node (srv6_in(): End, End.AD,
End.DX4 on the frames as they come);
two chains through one End.AD proxy, whose cached headers alternate (the
entries that read them must notice); then a steering change and the mix
again from a new port (a new generation starts empty). Then the same for
wide entries (FC_LINES_W, steer_lib.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import *  # noqa: E402,F401,F403

M = [mac("02:00:00:00:01:%02x" % i) for i in range(8)]


def udp4(sport, dport, src="10.5.0.1", data=b"x" * 20, ttl=64, tos=0, ident=0x1234,
         smac=A_MAC, dmac=B_MAC, pad=0, mf=False, opts=b""):
    s, d = ip4(src), ip4("10.6.0.1")
    return eth(v4(s, d, 17, udp(s, d, data, sport, dport), ttl=ttl, tos=tos, ident=ident,
                  mf=mf, opts=opts), 0x0800, dmac, smac) + b"\0" * pad


def tcp4(sport, dport, flags, seq=1, src="10.5.0.1"):
    s, d = ip4(src), ip4("10.6.0.1")
    return eth(v4(s, d, 6, tcp(s, d, sport, dport, flags, seq=seq, data=b"t" * (seq % 7))),
               0x0800, B_MAC, A_MAC)


def s6(inner, segs, hl=64, fl=None, sl=None):
    """SRv6 frame from another node: @inner encapsulated (hop limit @hl,
    Segments Left @sl when given)."""
    f = bytearray(encap(inner, segs, src="fd00::7", fl=fl))
    f[21] = hl
    if sl is not None:
        f[57] = sl
    return bytes(f)


def srv6_in(rnd, rep):
    """SRv6 frames that arrive (ST_FK_S6 entries): End.DX4 (SL 0), End then
    End.DX4, End then out by MAC learning, End.AD to the replicas (the inner
    flow decides), TCP inside; runs and interleaved flows; what the key
    keeps changing (hop limit, flow label, inner TTL, a segment), what it
    leaves out (lengths, identification, payload); and frames the cache
    must not take or must answer as the steps do (padding, Segments Left
    beyond the list, hop limit 1, inner TTL 1, inner options, a short
    inner packet, IPv6 inside)."""
    fr = []
    chains = (["fc00::e"], ["fc00::b", "fc00::e"], ["fc00::b", "fc00::c"],
              ["fc00::a", "fc00::e"], ["fc00::a", "fc00::b", "fc00::e"])
    for i, segs in enumerate(chains):
        for k in range(1 + (i + rep) % 4):              # runs
            fr.append(s6(udp4(700 + i, 53, ident=k, data=b"s" * (20 + 5 * k)), segs))
    for i in range(30):                                  # interleaved flows
        segs = chains[i % len(chains)]
        fr.append(s6(udp4(800 + i % 7, 53, src="10.5.1.%d" % (1 + i % 4), ident=i,
                          data=bytes([i]) * (18 + i % 25)), segs))
    for k in range(3):                                   # what the key keeps
        fr.append(s6(udp4(900, 53), chains[1], hl=60 + k))
        fr.append(s6(udp4(900, 53), chains[3], fl=0x12345 + k))
        fr.append(s6(udp4(900, 53, ttl=10 + k), chains[0]))
        # one inner flow, SRHs of one length: a segment, the SID's last byte
        fr.append(s6(udp4(910, 53), ["fc00::b", ("fc00::e", "fc00::c", "fc00::e")[k]]))
        fr.append(s6(udp4(911, 53), [("fc00::a", "fc00::b", "fc00::a")[k], "fc00::e"]))
        fr.append(s6(tcp4(41000 + k, 80, TCP_ACK if k else TCP_SYN, seq=k), chains[3]))
    pad = s6(udp4(901, 53), chains[0]) + b"\0" * 5          # outer padding
    fr.append(pad)
    bad = bytearray(s6(udp4(700, 53), chains[0]))             # a run's flow, the outer
    bad[19] += 8                                              # length past the frame
    fr.append(bytes(bad))
    fr.append(s6(udp4(902, 53), chains[1], sl=5))           # SL beyond the list
    fr.append(s6(udp4(903, 53), chains[1], hl=1))           # End: hop limit 1
    fr.append(s6(udp4(904, 53, ttl=1), chains[0]))          # End.DX4: inner TTL 1
    fr.append(s6(udp4(905, 53, opts=b"\x01\x01\x01\x00"), chains[0]))
    fr.append(s6(udp4(906, 53, data=b""), chains[3]))       # inner: 28 bytes
    fr.append(s6(u6(907, 53), ["fc00::a", "fc00::b"]))      # IPv6 inside
    rnd.shuffle(fr[-8:])
    return fr


def s6_runs(rnd):
    """SRv6 frames that arrive in runs of one flow (st_flow_run()'s loops,
    one for each SRH length and kind): SRHs of 1..6 SIDs to End then out
    of port 1 by rule 14 (in place), End then a new traffic class by rule
    15 (in place, the frame's flow label kept), End then an encapsulation
    by rule 12 (not cached: two payload lengths), End.AD, End.DX4
    (Segments Left 0), and IPv4 encapsulated twice (rules 13 and 12:
    neither cached); the frames' lengths vary along a run, and one frame
    in its middle differs in what the key
    keeps or in a length (the run stops there, the hit path sees it, the
    run goes on after it)."""
    fill = ["fc00::c", "fc00::f", "fc00::9", "fc00::8", "fc00::7"]
    kinds = (("end", 2), ("encap", 2), ("adin", 1), ("dx4", 1), ("tos", 2))
    breaks = ("hl", "fl", "sid", "dport", "tos", "ident", "pad", "inner", "short", "last")
    fr = []
    b = 0
    for n in range(1, 7):
        for kind, least in kinds:
            if n < least:
                continue
            if kind == "end":
                segs = ["fc00::b"] + fill[:n - 1]
            elif kind == "encap":
                segs = ["fc00::b", "fc00::d"] + fill[:n - 2]
            elif kind == "tos":
                segs = ["fc00::b", "fc00::6"] + fill[:n - 2]
            elif kind == "adin":
                segs = ["fc00::a"] + fill[:n - 1]
            else:
                segs = fill[:n - 1] + ["fc00::e"]
            sport = 1200 + 10 * n + len(fr) % 7

            def one(k, segs=segs, sport=sport, kind=kind, **kw):
                f = bytearray(s6(udp4(sport, 53, ident=k, data=b"r" * (18 + (k * 5) % 40),
                                      **kw.get("ip", {})), segs, hl=kw.get("hl", 64),
                                 sl=0 if kind == "dx4" else None, fl=kw.get("fl")))
                if kind == "dx4":       # the destination: the active segment
                    f[38:54] = f[62:78]
                return f
            run = 12 + rnd.randrange(12)
            at = 3 + rnd.randrange(run - 6)
            br = breaks[b % len(breaks)]
            b += 1
            for k in range(run):
                f = one(k)
                if k == at:
                    h = 62 + 16 * n
                    if br == "hl":
                        f = one(k, hl=63)
                    elif br == "fl":
                        f = one(k, fl=0x54321)
                    elif br == "sid":
                        f[62 + 16 * (n - 1) + 15] ^= 1 if n > 1 else 0
                        f[h - 1] ^= 0x10
                    elif br == "dport":
                        f[h + 23] ^= 1
                    elif br == "tos":
                        f = one(k, ip={"tos": 4})
                    elif br == "pad":
                        f += b"\0\0"
                    elif br == "inner":     # the inner packet shorter than the outer
                        f[h + 3] -= 2
                    elif br == "short":
                        f = f[:h + 30]
                    elif br == "last":      # the run's last frame: the burst's
                        f = one(k + 100)
                fr.append(bytes(f))
    for k in range(40):     # IPv4 encapsulated twice (rules 13, 12): a run
        fr.append(udp4(1300, 8000, ident=k, data=b"t" * (18 + (k * 3) % 50)))
    return fr


def mix(rnd):
    """Ingress frames: flows in runs and interleaved, with variations."""
    fr = []
    dports = [1000, 1001, 7000, 7001, 2000, 3000, 4000, 5000, 6000, 9999, 1500, 7500]
    for rep in range(6):
        for i, dp in enumerate(dports):
            run = 1 + (i + rep) % 5                     # runs of 1..5 frames
            for k in range(run):
                fr.append(udp4(100 + i, dp, ident=rep * 100 + k,
                               data=b"p" * (20 + (k * 7) % 40)))
        # trains of two (nfswitch then does a flow's second frame in
        # its hit loop, flow_run() only for a third), then longer ones
        for i, run in enumerate((2, 2, 2, 3, 1, 2, 5, 2, 4, 2, 2, 1, 2)):
            dp = dports[(i + rep) % len(dports)]
            for k in range(run):
                fr.append(udp4(150 + i, dp, ident=k, data=b"q" * (20 + 3 * k)))
        for i in range(40):                             # interleaved flows
            dp = dports[i % len(dports)]
            fr.append(udp4(200 + i % 9, dp, src="10.5.%d.%d" % (i % 3, 1 + i % 5),
                           ident=i, data=bytes([i]) * (18 + i % 30)))
        for k in range(4):                              # what the key keeps
            fr.append(udp4(300, 3000, ttl=64 - k))
            fr.append(udp4(300, 3000, tos=k * 4))
            fr.append(udp4(300, 3000, smac=M[k]))
            fr.append(udp4(300, 3000, tos=40))          # dscp 10: rule 10
        for fl in (TCP_SYN, TCP_ACK, TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_RST):
            for k in range(3):
                fr.append(tcp4(40000 + rep, 80, fl, seq=1000 + k * 13))
                fr.append(tcp4(40001, 22, fl, seq=k))
        # what the cache must not take
        fr.append(udp4(400, 1000, pad=6))                       # padding
        fr.append(udp4(400, 3000, pad=1))
        fr.append(udp4(401, 2000, mf=True))                     # fragment
        fr.append(udp4(402, 3000, opts=b"\x01\x01\x01\x00"))    # options
        fr.append(eth(v4(ip4("10.5.0.1"), ip4("10.6.0.1"), 1, icmp4(8, 0, rep)), 0x0800,
                      B_MAC, A_MAC))
        fr.append(u6(500, 3000))
        fr.append(vlan(udp4(403, 3000), 7))
        fr.append(udp4(404, 3000, data=b"")[:46])               # short: 46 bytes
        fr.append(udp4(405, 3000)[:47])                         # cut: bad length
        rnd.shuffle(fr[-9:])
        fr += srv6_in(rnd, rep)
    return fr


def returns(member):
    """What the VNF replicas send back: IPv4 for the End.AD proxy."""
    fr = []
    for rep in range(8):
        for i, dp in enumerate((1000, 1001, 7000, 7001, 1500, 7500)):
            for k in range(1 + (i + rep) % 3):
                fr.append(udp4(100 + i, dp, ident=k, data=b"r" * (20 + k),
                               smac=M[2 + member], dmac=A_MAC))
        fr.append(udp4(600 + rep, 7000, pad=4, smac=M[2 + member], dmac=A_MAC))
    return fr


def members(sw):
    return [(g["name"], m["member"], m["packets"], m["bytes"])
            for g in sw.js("groups")["groups"] for m in g["members"]]


def run(tag, extra):
    import random
    rnd = random.Random(7)
    ins = {0: mix(rnd), 4: returns(0), 5: returns(1)}
    sw = Sw("fc_" + tag, 7, FC_LINES, ins, extra=extra)
    outs = list(sw.news(range(7)).values())
    st = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats = sw.js("steer-stats")
    # a new generation (rule 4's MAC and rule 9 changed), the mix again
    rc, _, err = sw.cli("add-rule", *("id 11 priority 5 udp dport 3000 action set-dst-mac "
                                      "02:00:00:00:09:0a output 6").split())
    rc2, _, err2 = sw.cli("del-rule", "9")
    sw.inject(mix(random.Random(8)), "again")
    outs2 = list(sw.news(range(7)).values())
    st2 = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats2 = sw.js("steer-stats")
    rcs = sw.stop()
    return outs, st, stats, outs2, st2, stats2, (rc, err, rc2, err2, rcs)




def mix_w(rnd):
    """Many flows to each destination, interleaved and in runs."""
    fr = []
    for rep in range(4):
        for i in range(120):                            # interleaved flows
            dst = "10.6.0.%d" % (1 + i % 8)
            src = "10.5.%d.%d" % (i % 4, 1 + i % 13)
            if i % 5 == 4:
                fr.append(t4(30000 + i, 80 + i % 3, src=src, dst=dst))
            else:
                fr.append(u4(1000 + i * 7 % 300, 53 + i % 11, src=src, dst=dst,
                             data=bytes([i]) * (18 + i % 30)))
        for d in range(1, 9):                           # runs
            for k in range(1 + (d + rep) % 4):
                fr.append(u4(7000 + rep, 9000 + k, dst="10.6.0.%d" % d))
        for k in range(3):                              # what the key keeps
            fr.append(u4(300 + k, 300, dst="10.6.0.1", ttl=60 + k))
            fr.append(u4(300 + k, 300, dst="10.6.0.4", smac=M[k]))
            fr.append(u4(300 + k, 300, dst="10.6.0.5", tos=40))     # dscp 10
            fr.append(u4(300 + k, 300, dst="10.6.0.1", tos=k * 4))
        fr.append(udp4(400, 1000, pad=6))               # what it must not take
        fr.append(udp4(401, 1000, mf=True))
        fr.append(udp4(402, 1000, opts=b"\x01\x01\x01\x00"))
        fr.append(udp4(404, 1000, data=b"")[:46])
        rnd.shuffle(fr[-40:])
    return fr


def returns_w():
    """solo's replica answers: IPv4 of many flows to 10.6.0.1 and .7."""
    return [u4(2000 + i, 53, src="10.5.1.%d" % (1 + i % 9), dst="10.6.0.%d" % (1 + 6 * (i % 2)),
               smac=M[2], dmac=A_MAC) for i in range(150)]


def run_wide(tag, extra):
    import random
    sw = Sw("fw_" + tag, 7, FC_LINES_W + ["rule id 10 ip6 daddr fc00::c action output 1"],
            {0: mix_w(random.Random(3)), 4: returns_w()}, extra=extra)
    outs = list(sw.news(range(7)).values())
    st = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats = sw.js("steer-stats")
    # 100 flows taking turns to three wide destinations (the solo chain, a
    # MAC rewrite, End.DX4: the inner TTL - 1): a handful of fills serve
    # them all
    flows = [u4(1000 + i, 53, src="10.5.2.%d" % (1 + i % 50), dst="10.6.0.%d" % (1, 4, 9)[i % 3])
             for i in range(100)] * 3
    sw.inject(flows, "share")
    outs += list(sw.news(range(7)).values())
    share = sw.js("steer-stats")
    keys = ("flow_cache_hits", "flow_cache_fills", "flow_cache_wide_fills",
            "flow_cache_srv6_fills")
    share = {k: share[k] - stats[k] for k in keys}
    # the same three destinations from 100 hosts, a MAC pair each (a LAN
    # behind the port): a wide entry per host pair, in sets of their own
    # (in the destination's set alone, their churn took every hit)
    hosts = [u4(1000 + i, 53, src="10.5.4.%d" % (1 + i), dst="10.6.0.%d" % (1, 4, 9)[i % 3],
                smac=mac("02:00:00:10:00:%02x" % i), dmac=mac("02:00:00:20:00:%02x" % i))
             for i in range(100)] * 3
    sw.inject(hosts, "hosts")
    outs += list(sw.news(range(7)).values())
    hst = sw.js("steer-stats")
    hst = {k: hst[k] - stats[k] - share[k] for k in keys}
    # 100 flows of SRv6 frames that arrive, taking turns, decapsulated by
    # End.DX4 and by solo's End.AD, or through End (fc00::b) and out by
    # rule 10 with their own flow labels (each flow has its own): wide
    # SRv6 entries, one per SID and inner destination (3 x 3)
    flows6 = [s6(u4(2000 + i, 53, src="10.5.3.%d" % (1 + i % 50), dst="10.6.0.%d" % (1 + i % 3)),
                 (["fc00::e"], ["fc00::a", "fc00::e"], ["fc00::b", "fc00::c"])[i // 3 % 3])
              for i in range(100)] * 3
    before = sw.js("steer-stats")
    sw.inject(flows6, "share6")
    outs += list(sw.news(range(7)).values())
    share6 = sw.js("steer-stats")
    share6 = {k: share6[k] - before[k] for k in keys}
    # a rule that reads a port after the others (a new generation): the
    # frames that match a rule before it still get wide entries
    rc0, _, err0 = sw.cli("add-rule", *"id 21 priority 1000 udp sport 1 action drop".split())
    sw.inject(flows, "after")
    outs += list(sw.news(range(7)).values())
    after = sw.js("steer-stats")
    after = {k: after[k] for k in keys}
    # a rule that reads the source port: no more wide entries
    rc, _, err = sw.cli("add-rule", *"id 20 priority 5 udp sport 1 action drop".split())
    sw.inject(mix_w(random.Random(4)), "again")
    outs2 = list(sw.news(range(7)).values())
    st2 = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats2 = sw.js("steer-stats")
    rcs = sw.stop()
    return (outs, st, stats, outs2, st2, stats2, (rc0, err0, rc, err, rcs), share, after, share6,
            hst)


def run_pair(tag, extra):
    """100 SRv6 flows that arrive at an End.AD whose type has two
    replicas (its group hashes the inner flow: no wide entry) in a
    generation that allows wide entries."""
    lines = FC_LINES_W + ["group pair 3/5@02:00:00:00:01:02 1/6@02:00:00:00:01:03",
                          "sid fc00::d End.AD group pair"]
    fr = [s6(u4(3000 + i, 53, src="10.5.4.%d" % (1 + i % 50)), ["fc00::d", "fc00::e"])
          for i in range(100)] * 2
    sw = Sw("fp_" + tag, 7, lines, {0: fr}, extra=extra)
    outs = list(sw.news(range(7)).values())
    st = sw.js("steer-stats")
    # frame by frame in turn: a per-flow SRv6 entry (fc00::d), a wide one
    # of a host pair's (End.DX4 fc00::e: 100 host pairs), a wide IPv4 one
    # of a host pair's (rule 4) and a per-flow IPv4 one (duo's hash): every
    # order of st_flow_hit()'s gates (which set first, the IPv4 probe or
    # none) from one frame to the next
    hm = [(mac("02:00:00:10:00:%02x" % i), mac("02:00:00:20:00:%02x" % i)) for i in range(100)]
    mixed = []
    for r in range(3):
        for i in range(100):
            kinds = [s6(u4(3000 + i, 53, src="10.5.4.%d" % (1 + i % 50)), ["fc00::d", "fc00::e"]),
                     s6(u4(4000 + i, 53, src="10.5.5.%d" % (1 + i), dst="10.6.0.%d" % (1 + i % 3),
                           smac=hm[i][0], dmac=hm[i][1]), ["fc00::e"]),
                     u4(5000 + i, 53, src="10.5.6.%d" % (1 + i), dst="10.6.0.4",
                        smac=hm[i][0], dmac=hm[i][1]),
                     u4(6000 + i, 53, src="10.5.7.%d" % (1 + i), dst="10.6.0.2")]
            mixed += kinds[(r + i) % 4:] + kinds[:(r + i) % 4]
    sw.inject(mixed, "mixed")
    outs += list(sw.news(range(7)).values())
    mx = sw.js("steer-stats")
    mx = {k: mx[k] - st[k] for k in ("flow_cache_hits", "flow_cache_fills",
                                     "flow_cache_wide_fills", "flow_cache_srv6_fills")}
    sw.stop()
    return outs, st, mx


def run_s6runs(tag, extra):
    """s6_runs() from port 0, whole bursts of them."""
    import random
    lines = FC_LINES + ["rule id 12 ip6 daddr fc00::d action srv6-encap fc00::f output 1",
                        "rule id 13 udp dport 8000 action srv6-encap fc00::d",
                        "rule id 14 ip6 daddr fc00::c action output 1",
                        "rule id 15 ip6 daddr fc00::6 action set-tos 0x28/0xfc output 1"]
    sw = Sw("fr_" + tag, 7, lines, {0: s6_runs(random.Random(11))}, extra=extra)
    outs = list(sw.news(range(7)).values())
    st = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats = sw.js("steer-stats")
    rc = sw.stop()
    return outs, st, stats, rc


def run_memo(tag, extra):
    """A port's next burst starts with the flow its last one ended with:
    the memo (fwd.c memo_run()) replays that entry unless what it read
    changed. Port 0 sends whole bursts (32 frames) of two chains through
    solo's End.AD in turn, so each pass rewrites the proxy's cached
    headers; the replica's port 4 sends one flow, 32 frames a pass, whose
    End.AD out takes the headers of the chain that went in just before
    (and leaves by rule 13 or 14, the segment list on the wire)."""
    lines = FC_LINES_W + ["rule id 11 ip daddr 10.6.0.11 action srv6-encap fc00::a,fc00::c",
                          "rule id 12 ip daddr 10.6.0.12 action srv6-encap fc00::a,fc00::d",
                          "rule id 13 ip6 daddr fc00::c action output 1",
                          "rule id 14 ip6 daddr fc00::d action output 1"]
    chains = []
    for b in range(6):
        chains += [u4(5000, 53, src="10.5.5.1", dst="10.6.0.%d" % (11 + b % 2))] * 32
    back = [u4(6000, 53, src="10.5.6.1", dst="10.6.0.11", smac=M[2], dmac=A_MAC)] * (32 * 6)
    # and port 5, a flow whose every burst the memo answers: an
    # encapsulation that leaves as two pieces (rule 3)
    out = [u4(7000, 53, src="10.5.7.1", dst="10.6.0.3", data=b"m" * (20 + i % 9))
           for i in range(32 * 6)]
    sw = Sw("fm_" + tag, 7, lines, {0: chains, 4: back, 5: out}, extra=extra)
    outs = list(sw.news(range(7)).values())
    st = (sw.rules(), sw.js("sids")["sids"], members(sw), sw.drops())
    stats = sw.js("steer-stats")
    rc = sw.stop()
    return outs, st, rc, stats


on = run("on", [])
off = run("off", ["--flow-cache", "off"])
mon, moff = run_memo("on", []), run_memo("off", ["--flow-cache", "off"])
for i in range(7):
    same_frames("a flow that goes on into the next burst while the End.AD headers it "
                "reads change between bursts: port %d: the same frames with the flow cache"
                % i, moff[0][i], mon[0][i])
for j, nm in enumerate(("rule", "SID", "group member", "drop")):
    check_eq("memo: %s counters equal" % nm, moff[1][j], mon[1][j])
sls = [fr[38:54] for fr in moff[0][1] if fr[12:14] == b"\x86\xdd" and ip4("10.5.6.1") in fr]
turns = sum(1 for a, b in zip(sls, sls[1:]) if a != b)
check("memo: the replica's flow left with the two chains' headers in turn (%d frames, "
      "%d changes)" % (len(sls), turns), len(sls) == 192 and turns >= 4)
check_eq("memo: both stopped cleanly", (0, 0), (moff[2], mon[2]))
ms = mon[3]
check("memo: the cache answered the port 5 flow and the chains (%d hits, %d fills)"
      % (ms["flow_cache_hits"], ms["flow_cache_fills"]),
      ms["flow_cache_hits"] >= 500 and ms["flow_cache_fills"] <= 20)
won = run_wide("on", [])
woff = run_wide("off", ["--flow-cache", "off"])
pon, poff = run_pair("on", []), run_pair("off", ["--flow-cache", "off"])
for i in range(14):
    same_frames("two replicas behind End.AD, 100 SRv6 flows%s: port %d: the same frames with "
                "the flow cache" % (" among IPv4 and SRv6 from 100 hosts" if i >= 7 else "",
                                    i % 7), poff[0][i], pon[0][i])
mx = pon[2]
check("SRv6 and IPv4, per-flow and wide entries (100 host pairs) frame by frame in turn, "
      "1200 frames: %d fills (%d wide, %d SRv6), %d hits" % (
          mx["flow_cache_fills"], mx["flow_cache_wide_fills"], mx["flow_cache_srv6_fills"],
          mx["flow_cache_hits"]),
      # 400 flows (the port is new: fc00::d's too) in 2048 sets of two
      # ways: a few sets get three and refill in turn (16 with CRC32C,
      # 35 with the generic build's products; 50 at most)
      400 <= mx["flow_cache_fills"] <= 450 and 200 <= mx["flow_cache_wide_fills"] <= 250
      and 200 <= mx["flow_cache_srv6_fills"] <= 250
      and mx["flow_cache_hits"] + mx["flow_cache_fills"] == 1200)
check("two replicas: both got flows (%d, %d), per-flow SRv6 entries (%d fills, %d wide)"
      % (len(pon[0][3]), len(pon[0][1]), pon[1]["flow_cache_srv6_fills"],
         pon[1]["flow_cache_wide_fills"]),
      len(pon[0][3]) > 20 and len(pon[0][1]) > 20 and pon[1]["flow_cache_wide_fills"] == 0
      and pon[1]["flow_cache_srv6_fills"] >= 90)
ron, roff = run_s6runs("on", []), run_s6runs("off", ["--flow-cache", "off"])
for i in range(7):
    same_frames("SRv6 runs (SRHs of 1..6 SIDs; End, End then set-tos, End then an "
                "encapsulation, End.AD, "
                "End.DX4): port %d: the same frames with the flow cache" % i,
                roff[0][i], ron[0][i])
for j, nm in enumerate(("rule", "SID", "group member", "drop")):
    check_eq("SRv6 runs: %s counters equal" % nm, roff[1][j], ron[1][j])
rs = ron[2]
check("SRv6 runs: every SRH length and kind went out (End.AD %d, End.DX4 %d, End then "
      "rule 14 or 12 %d frames)" % (len(ron[0][2]) + len(ron[0][3]), len(ron[0][6]),
                                     len(ron[0][1])),
      len(ron[0][2]) + len(ron[0][3]) > 60 and len(ron[0][6]) > 90 and len(ron[0][1]) > 200)
check("SRv6 runs: the cache answered them (%d hits, %d SRv6 fills)"
      % (rs["flow_cache_hits"], rs["flow_cache_srv6_fills"]),
      rs["flow_cache_hits"] > 300 and rs["flow_cache_srv6_fills"] >= 27)
check_eq("SRv6 runs: both stopped cleanly", (0, 0), (roff[3], ron[3]))
check_eq("the runtime changes and the stop went the same way", off[6], on[6])
check_eq("add-rule and del-rule succeeded", (0, "", 0, ""), on[6][:4])
for phase, k in (("first generation", 0), ("after the change", 3)):
    n = 0
    for i in range(7):
        n += len(off[k][i])
        same_frames("%s: port %d: the same frames, bytes and order with the flow cache"
                    % (phase, i), off[k][i], on[k][i])
    check("%s: the mix went out (%d frames)" % (phase, n), n > 500)
    names = ("rule", "SID", "group member", "drop")
    for j, nm in enumerate(names):
        check_eq("%s: %s counters equal" % (phase, nm), off[k + 1][j], on[k + 1][j])
for phase, s in (("first generation", 2), ("after the change", 5)):
    hits, fills = on[s]["flow_cache_hits"], on[s]["flow_cache_fills"]
    check("%s: the cache answered most frames (%d hits, %d fills)" % (phase, hits, fills),
          hits > 250 and fills > 20)
    check_eq("%s: --flow-cache off: no hits, no fills" % phase, (0, 0),
             (off[s]["flow_cache_hits"], off[s]["flow_cache_fills"]))
d = on[1][3]
check("the replicas' returns went back through the End.AD proxy (End.DX4 and End "
      "counted them)", [s["packets"] for s in on[1][1]][1:] == [s["packets"] for s in off[1][1]][1:]
      and all(s["packets"] > 0 for s in on[1][1]))
check_eq("no drop reason differs", off[1][3], d)
check("SRv6 frames that arrive got entries of their own (%d of %d fills)"
      % (on[2]["flow_cache_srv6_fills"], on[2]["flow_cache_fills"]),
      on[2]["flow_cache_srv6_fills"] >= 30)
check_eq("--flow-cache off: no SRv6 fill", 0, off[2]["flow_cache_srv6_fills"])
check_eq("rules that read ports: no wide entry", 0, on[2]["flow_cache_wide_fills"])

check_eq("wide: the runtime change and the stop went the same way", woff[6], won[6])
check_eq("wide: add-rules succeeded, nfswitch stopped cleanly", (0, "", 0, "", 0), won[6])
for phase, k in (("wide entries allowed", 0), ("after a rule on a port", 3)):
    n = 0
    for i in range(len(woff[k])):
        n += len(woff[k][i])
        same_frames("%s: port %d%s: the same frames, bytes and order with the flow cache"
                    % (phase, i % 7, ("", " (100 flows)", " (100 hosts)", " (100 SRv6 flows)",
                                      " (100 flows, a port rule last)")[i // 7]),
                    woff[k][i], won[k][i])
    check("%s: the mix went out (%d frames)" % (phase, n), n > 1000)
    for j, nm in enumerate(("rule", "SID", "group member", "drop")):
        check_eq("%s: %s counters equal" % (phase, nm), woff[k + 1][j], won[k + 1][j])
s1, s2, sh = won[2], won[5], won[7]
check("100 flows to 3 wide destinations, 300 frames: %d fills (%d wide), %d hits"
      % (sh["flow_cache_fills"], sh["flow_cache_wide_fills"], sh["flow_cache_hits"]),
      sh["flow_cache_fills"] <= 5 and sh["flow_cache_wide_fills"] == sh["flow_cache_fills"]
      and sh["flow_cache_hits"] >= 295)
hs = won[10]
check("100 hosts (a MAC pair each) to the 3 wide destinations, 300 frames: %d fills "
      "(%d wide), %d hits" % (hs["flow_cache_fills"], hs["flow_cache_wide_fills"],
                              hs["flow_cache_hits"]),
      hs["flow_cache_fills"] <= 105 and hs["flow_cache_wide_fills"] == hs["flow_cache_fills"]
      and hs["flow_cache_hits"] >= 195)
check("per-flow entries stay per flow (duo's hash, the encapsulation that leaves): "
      "%d of %d fills" % (s1["flow_cache_fills"] - s1["flow_cache_wide_fills"],
                          s1["flow_cache_fills"]),
      s1["flow_cache_fills"] - s1["flow_cache_wide_fills"] >= 45)
s6w = won[9]
check("100 SRv6 flows that arrive, to End.DX4, End.AD (one replica) and End, 300 frames: "
      "%d fills (%d wide, %d SRv6), %d hits" % (s6w["flow_cache_fills"],
                                                s6w["flow_cache_wide_fills"],
                                                s6w["flow_cache_srv6_fills"],
                                                s6w["flow_cache_hits"]),
      s6w["flow_cache_fills"] <= 9 and s6w["flow_cache_wide_fills"] == s6w["flow_cache_fills"]
      and s6w["flow_cache_srv6_fills"] == s6w["flow_cache_fills"] and s6w["flow_cache_hits"] >= 291)
af = won[8]
check("a rule on a port after the others: the same 100 flows, %d fills (%d wide), %d hits"
      % (af["flow_cache_fills"], af["flow_cache_wide_fills"], af["flow_cache_hits"]),
      af["flow_cache_fills"] <= 5 and af["flow_cache_wide_fills"] == af["flow_cache_fills"]
      and af["flow_cache_hits"] >= 295)
check_eq("a rule on a port before the others: the new generation fills no wide entry", 0,
         s2["flow_cache_wide_fills"])
check_eq("--flow-cache off: no wide entry", (0, 0),
         (woff[2]["flow_cache_wide_fills"], woff[5]["flow_cache_wide_fills"]))
sids = {x["sid"].split()[1]: x["packets"] for x in won[1][1]}
check("solo's 150 returns went through the proxy and on to End.DX4 (%d), some by End (%d)"
      % (sids.get("fc00::e", 0), sids.get("fc00::b", 0)),
      sids.get("fc00::e", 0) == 150 and sids.get("fc00::b", 0) > 0)
