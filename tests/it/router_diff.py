#!/usr/bin/env python3
"""router_diff.py - the packets and comparisons of tests/it/router_linux.sh.

Holds four AF_PACKET sockets, one per host interface (h1, h2 of topology a,
Linux, and of topology b, nf-router), opened inside the hosts' namespaces.
Each probe (a crafted frame, sometimes two) is sent from H1 into both
routers; everything that arrives at H1 and H2 is captured, attributed to
the probe it belongs to (every probe has its own source address, or a
list of addresses that only it uses: see Probe.keys) and compared:

  1. Linux's decision (forwarded / dropped / which ICMP / which reply) is
     the one the probe expects: this checks the test itself (a probe that
     does not do what its name says proves nothing);
  2. nf-router's decision is Linux's;
  3. the frames match byte for byte, after the normalisations below;
  4. nf-router counted the probe under the expected drop reason
     (`nfchain vnf CTL stats`), or under none if it forwarded it.

Normalisations (applied to both routers' frames, always):
  * MAC addresses: none needed, the routers and hosts have the same MACs in
    both topologies.
  * The IPv4 identification of packets a router originates itself (ICMP
    errors, echo replies; fragments keep the sender's): Linux takes it from
    a keyed hash (ip_idents, random per boot), nf-router counts from a
    random start. The checksums of what a router originates (IPv4 header,
    ICMP, ICMPv6, TCP) are verified first; then the identification and the
    header checksum are zeroed.
  * ICMP rate limits: Linux limits per destination host (6, then 1/s; for
    "no route" errors ip_error() 5, then 1/s) and per namespace (1000/s,
    burst 50); nf-router only globally (icmp-rate 1000, icmp-burst 50).
    Every probe that causes an error has its own source address, so no
    per-destination bucket ever runs dry, and there are far fewer than 50
    errors per second: neither limit changes a decision here.
  * IPv6 flow labels of what Linux sends itself are a keyed hash: the test
    sets net.ipv6.auto_flowlabels=0, so they are 0, as nf-router's.

Remaining differences: DIFFS below, each with its explanation (printed at
the end of the run, with the probes it was seen in). A probe names the
ones that apply to it; the comparison then removes exactly that difference
(some fields of a frame), or, where the decision itself differs, checks
nf-router's decision against the one the probe states.

Prints "ok - ..." / "not ok - ..." lines; exit status 1 if any failed.
"""
import argparse, json, os, select, socket, struct, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pkt import astr, csum, ip4, ip6, pseudo, socket_in  # noqa: E402

# ------------------------------------------------------------ addresses

MAC_H1 = bytes.fromhex("020000000102")
MAC_R1 = bytes.fromhex("020000000101")
MAC_H2 = bytes.fromhex("020000000202")
MAC_R2 = bytes.fromhex("020000000201")
BCAST = b"\xff" * 6


R1_4, R2_4, H2_4 = ip4("10.1.0.1"), ip4("10.2.0.1"), ip4("10.2.0.2")
R1_6, R2_6, H2_6 = ip6("fd01::1"), ip6("fd02::1"), ip6("fd02::2")
R1_LL = ip6("fe80::ff:fe00:101")		# EUI-64 of MAC_R1
ROUTER_ADDRS = {R1_4, R2_4, R1_6, R2_6, R1_LL, ip6("fe80::ff:fe00:201")}

# ------------------------------------------------------------ checksums

pseudo4 = pseudo6 = pseudo	# the pseudo-headers (pkt.py picks by length)

# ------------------------------------------------------------ builders


def eth(payload, etype, dst=MAC_R1, src=MAC_H1):
    return dst + src + struct.pack("!H", etype) + payload


def v4(src, dst, proto, payload, ttl=64, ident=0x1234, df=False, mf=False, off=0,
       tos=0, opts=b"", bad_csum=False):
    hl = 20 + len(opts)
    assert hl % 4 == 0
    fo = (0x4000 if df else 0) | (0x2000 if mf else 0) | off
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, tos, hl + len(payload), ident, fo,
                    ttl, proto, 0, src, dst) + opts
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def v6(src, dst, nh, payload, hlim=64, tc=0, flow=0):
    return struct.pack("!IHBB16s16s", 6 << 28 | tc << 20 | flow, len(payload), nh, hlim,
                       src, dst) + payload


def udp(src, dst, data, sport=4000, dport=9, v6dst=None):
    n = 8 + len(data)
    h = struct.pack("!HHHH", sport, dport, n, 0) + data
    if len(src) == 4:
        c = csum(pseudo4(src, dst, 17, n) + h)
    else:
        c = csum(pseudo6(src, v6dst or dst, 17, n) + h)
    return h[:6] + struct.pack("!H", c or 0xffff) + h[8:]


def tcp_syn(src, dst, sport=40000, dport=22, seq=0x01020304):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    ps = pseudo4(src, dst, 6, 20) if len(src) == 4 else pseudo6(src, dst, 6, 20)
    return h[:16] + struct.pack("!H", csum(ps + h)) + h[18:]


def icmp4(typ, code, rest, data=b""):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def icmp6(src, dst, typ, code, rest, data=b""):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    c = csum(pseudo6(src, dst, 58, len(h)) + h)
    return h[:2] + struct.pack("!H", c) + h[4:]


def echo_data(n=32):
    return bytes((i * 7 + 3) & 0xff for i in range(n))


def payload(n, seed=1):
    return bytes((i * 13 + seed) & 0xff for i in range(n))


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


def solicited(a):
    return ip6("ff02::1:ff00:0")[:13] + a[13:]


def smac(a6):
    return b"\x33\x33" + a6[12:]


def ns(src, dst, target, sll=MAC_H1, hlim=255):
    opt = b"" if sll is None else b"\x01\x01" + sll
    return v6(src, dst, 58, icmp6(src, dst, 135, 0, 0, target + opt), hlim=hlim)


def ext(nh, body):
    """An IPv6 extension header (8-byte units) with next header @nh."""
    n = 2 + len(body)
    assert n % 8 == 0
    return bytes([nh, n // 8 - 1]) + body


def padn(n):
    return b"\x01" + bytes([n - 2]) + b"\0" * (n - 2)


def frag6(nh, off, m, ident=0x11223344):
    return struct.pack("!BBHI", nh, 0, off << 3 | m, ident)


# IPv4 options
NOPS = b"\x01\x01\x01\x00"


def rr(slots, ptr=4):
    return bytes([7, 3 + 4 * slots, ptr]) + b"\0" * (4 * slots)


def srr(kind, hops):
    return bytes([kind, 3 + 4 * len(hops), 4]) + b"".join(hops) + b"\x00"


# ------------------------------------------------------------ decoding


def l3(f):
    """(ethertype, offset of L3)."""
    return struct.unpack("!H", f[12:14])[0], 14


def v6_upper(f, o=14):
    """Walk IPv6 extension headers: (final next header, its offset)."""
    nh, p = f[o + 6], o + 40
    while nh in (0, 43, 60) and p + 8 <= len(f):
        nh, p = f[p], p + (f[p + 1] + 1) * 8
    if nh == 44 and p + 8 <= len(f):
        nh, p = f[p], p + 8
    return nh, p


def addrs(f):
    """Addresses of a frame, for attributing it to a probe."""
    t, o = l3(f)
    out = set()
    if t == 0x0800 and len(f) >= o + 20:
        out |= {f[o + 12:o + 16], f[o + 16:o + 20]}
    elif t == 0x86dd and len(f) >= o + 40:
        out |= {f[o + 8:o + 24], f[o + 24:o + 40]}
        nh, p = v6_upper(f, o)
        if nh == 58 and len(f) >= p + 24 and f[p] in (135, 136):
            out.add(f[p + 8:p + 24])
    elif t == 0x0806 and len(f) >= o + 28:
        out |= {f[o + 14:o + 18], f[o + 24:o + 28]}
    return out


def noise(f):
    """Frames Linux sends on its own, never because of a probe: MLD
    reports, router solicitations and advertisements."""
    t, o = l3(f)
    if t != 0x86dd:
        return False
    nh, p = v6_upper(f, o)
    return nh == 58 and len(f) > p and f[p] in (130, 131, 132, 133, 134, 143)


def describe(f, where):
    """One frame in a few words (its part of a decision)."""
    t, o = l3(f)
    if t == 0x0806:
        op = struct.unpack("!H", f[o + 6:o + 8])[0]
        return "ARP %s %s" % ("request" if op == 1 else "reply" if op == 2 else "op%d" % op,
                              astr(f[o + 24:o + 28]))
    if t == 0x0800:
        src, proto = f[o + 12:o + 16], f[o + 9]
        ihl = (f[o] & 15) * 4
        fo = struct.unpack("!H", f[o + 6:o + 8])[0]
        if src in ROUTER_ADDRS:
            p = o + ihl
            if proto == 1:
                typ, code = f[p], f[p + 1]
                if typ == 0:
                    return "echo reply"
                return "ICMP %d/%d" % (typ, code)
            if proto == 6:
                return "TCP %s" % ("RST" if f[p + 13] & 4 else "flags %#x" % f[p + 13])
            return "IPv4 proto %d from the router" % proto
        if where == "h2":
            return "forwarded" + (" fragment" if fo & 0x3fff else "")
        return "IPv4 back to H1 (%s)" % astr(src)
    if t == 0x86dd:
        src = f[o + 8:o + 24]
        nh, p = v6_upper(f, o)
        if src in ROUTER_ADDRS:
            if nh == 58:
                typ, code = f[p], f[p + 1]
                names = {129: "echo reply", 135: "NS", 136: "NA"}
                if typ in names:
                    return names[typ]
                return "ICMPv6 %d/%d" % (typ, code)
            if nh == 6:
                return "TCP %s" % ("RST" if f[p + 13] & 4 else "flags %#x" % f[p + 13])
            return "IPv6 nh %d from the router" % nh
        if where == "h2":
            return "forwarded"
        return "IPv6 back to H1 (%s)" % astr(src)
    return "ethertype %#06x" % t


def decision(h1, h2):
    """What a router did with a probe, from what reached H1 and H2:
    "dropped" or the frames in words, repeated ones counted."""
    words = ["%s -> H2" % describe(f, "h2") for f in h2] + \
            ["%s -> H1" % describe(f, "h1") for f in h1]
    if not words:
        return "dropped"
    out = []
    for w in words:
        if out and out[-1][0] == w:
            out[-1][1] += 1
        else:
            out.append([w, 1])
    return ", ".join(w if n == 1 else "%s x%d" % (w, n) for w, n in out)


def field_names(f):
    """(start, end, name) for the header fields of a frame, the headers
    quoted in an ICMP error included."""
    out = [(0, 6, "eth dst"), (6, 12, "eth src"), (12, 14, "ethertype")]

    def ip_fields(o, pre):
        if o + 1 > len(f):
            return
        if f[o] >> 4 == 4:
            ihl = (f[o] & 15) * 4
            for a, b, n in ((0, 1, "version/ihl"), (1, 2, "tos"), (2, 4, "total length"),
                            (4, 6, "identification"), (6, 8, "flags/fragment offset"),
                            (8, 9, "ttl"), (9, 10, "protocol"), (10, 12, "header checksum"),
                            (12, 16, "source"), (16, 20, "destination"), (20, ihl, "options")):
                out.append((o + a, o + b, pre + "IPv4 " + n))
            p, proto = o + ihl, f[o + 9] if o + 9 < len(f) else 0
        else:
            for a, b, n in ((0, 4, "version/class/flow"), (4, 6, "payload length"),
                            (6, 7, "next header"), (7, 8, "hop limit"), (8, 24, "source"),
                            (24, 40, "destination")):
                out.append((o + a, o + b, pre + "IPv6 " + n))
            proto, p = v6_upper(f, o) if o + 40 <= len(f) else (0, o + 40)
            if p > o + 40:
                out.append((o + 40, p, pre + "IPv6 extension headers"))
        if proto in (1, 58) and p + 8 <= len(f):
            out.extend([(p, p + 1, pre + "ICMP type"), (p + 1, p + 2, pre + "ICMP code"),
                        (p + 2, p + 4, pre + "ICMP checksum"), (p + 4, p + 8, pre + "ICMP rest")])
            if not pre and f[p] in ((3, 11, 12) if proto == 1 else (1, 2, 3, 4)):
                ip_fields(p + 8, "quoted ")
        elif proto in (6, 17):
            out.append((p, p + (20 if proto == 6 else 8), pre + ("TCP" if proto == 6 else "UDP")))
    t, o = l3(f)
    if t in (0x0800, 0x86dd):
        ip_fields(o, "")
    elif t == 0x0806:
        out.append((14, 42, "ARP"))
    return out


def explain_diff(a, b):
    """Where two frames differ, by field."""
    if len(a) != len(b):
        head = "lengths %d (Linux) and %d (nf-router); " % (len(a), len(b))
    else:
        head = ""
    names = field_names(a)
    diffs = []
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            n = next((nm for s, e, nm in reversed(names) if s <= i < e), "data")
            if diffs and diffs[-1][0] == n and diffs[-1][2] == i - 1:
                diffs[-1][2] = i
            else:
                diffs.append([n, i, i])
    parts = ["%s (offset %d: %s / %s)" % (n, s, a[s:e + 1].hex(), b[s:e + 1].hex())
             for n, s, e in diffs[:6]]
    return head + "; ".join(parts) + (" ..." if len(diffs) > 6 else "")

# ------------------------------------------------------------ normalising


def normalise(f):
    """A frame the router sent itself: check its checksums (IPv4 header;
    ICMP, ICMPv6, TCP), then zero the IPv4 identification and header
    checksum. Returns (frame, errors)."""
    t, o = l3(f)
    errs = []
    if t == 0x0800 and f[o + 12:o + 16] in ROUTER_ADDRS:
        ihl = (f[o] & 15) * 4
        tot = struct.unpack("!H", f[o + 2:o + 4])[0]
        if csum(f[o:o + ihl]) != 0:
            errs.append("bad IPv4 header checksum")
        proto, l4 = f[o + 9], f[o + ihl:o + tot]
        if proto == 1 and csum(l4) != 0:
            errs.append("bad ICMP checksum")
        if proto == 6 and csum(pseudo4(f[o + 12:o + 16], f[o + 16:o + 20], 6, len(l4)) + l4):
            errs.append("bad TCP checksum")
        f = f[:o + 4] + b"\0\0" + f[o + 6:o + 10] + b"\0\0" + f[o + 12:]
    elif t == 0x86dd and f[o + 8:o + 24] in ROUTER_ADDRS:
        nh, p = v6_upper(f, o)
        l4 = f[p:o + 40 + struct.unpack("!H", f[o + 4:o + 6])[0]]
        if nh in (6, 58) and csum(pseudo6(f[o + 8:o + 24], f[o + 24:o + 40], nh, len(l4)) + l4):
            errs.append("bad %s checksum" % ("TCP" if nh == 6 else "ICMPv6"))
    return f, errs


class Diff:
    """A difference between Linux and nf-router that the test accepts, and
    why. @fix(frame) returns the frame without the difference; it is applied
    to both routers' frames of the probes that name the difference, only
    when they differ. Without @fix the difference is in the decision itself:
    such probes say nf-router's decision (Probe.b_expect) and have no bytes
    compared."""

    def __init__(self, why, fix=None):
        self.why, self.fix, self.used = why, fix, []


def _icmp_csum_off(f):
    """Offset of the ICMP / ICMPv6 header of a frame, or None."""
    t, o = l3(f)
    if t == 0x0800 and f[o + 9] == 1:
        return o + (f[o] & 15) * 4
    if t == 0x86dd:
        nh, p = v6_upper(f, o)
        if nh == 58:
            return p
    return None


def _fix_quoted_ttl(f):
    """The quoted IPv4 TTL and header checksum, or the quoted IPv6 hop
    limit, and the ICMP checksum that covers them."""
    p = _icmp_csum_off(f)
    if p is None:
        return f
    q = p + 8
    f = f[:p + 2] + b"\0\0" + f[p + 4:]
    if l3(f)[0] == 0x0800:
        return f[:q + 8] + b"\0" + f[q + 9:q + 10] + b"\0\0" + f[q + 12:]
    return f[:q + 7] + b"\0" + f[q + 8:]


def _fix_icmp6_code(f):
    p = _icmp_csum_off(f)
    return f if p is None else f[:p + 1] + b"\0\0\0" + f[p + 4:]


def _fix_icmp_options(f):
    """Linux's options in its error's header, the quoted options and the
    checksums that cover them."""
    p = _icmp_csum_off(f)
    if p is None or l3(f)[0] != 0x0800:
        return f
    o = 14
    ihl = (f[o] & 15) * 4
    if ihl > 20:
        tot = struct.unpack("!H", f[o + 2:o + 4])[0] - (ihl - 20)
        f = f[:o] + b"\x45" + f[o + 1:o + 2] + struct.pack("!H", tot) + f[o + 4:o + 20] + \
            f[o + ihl:]
        p = o + 20
    q = p + 8
    qihl = (f[q] & 15) * 4
    f = f[:p + 2] + b"\0\0" + f[p + 4:]
    return f[:q + 10] + b"\0\0" + f[q + 12:q + 20] + b"\0" * (qihl - 20) + f[q + qihl:]


DIFFS = {
    "no-reassembly": Diff(
        "nf-router does not reassemble fragments addressed to itself: it drops "
        "them (counted local-fragment); Linux reassembles and answers the whole "
        "datagram. RFC 1122 3.3.2 (which RFC 1812 applies to a router's own "
        "traffic) wants reassembly; a router's own traffic (ping, errors) "
        "rarely needs it, and reassembly (buffers, timers, overlap rules, "
        "limits) is not a small change: a known gap, not fixed here."),
    "unres-quote-ttl": Diff(
        "When address resolution fails, the host / address unreachable error "
        "quotes the queued packet. Linux quotes it as queued, TTL / hop limit "
        "already decremented; nf-router undoes the decrement and quotes what it "
        "received. RFC 1812 4.3.2.3 wants the quoted header as received and "
        "allows (does not require) leaving forwarding changes in: both comply, "
        "nf-router is the closer. The quoted TTL / hop limit and the checksums "
        "covering them are not compared.", _fix_quoted_ttl),
    "v6-reject-code": Diff(
        "A reject route (Linux: an `unreachable` route) answers IPv6 with "
        "destination unreachable code 6, 'reject route to destination' (RFC "
        "4443 3.1), in nf-router; Linux sends code 0, 'no route to "
        "destination'. The ICMPv6 code and checksum are not compared.",
        _fix_icmp6_code),
    "hbh-options": Diff(
        "Linux processes the hop-by-hop options of packets it forwards and "
        "acts on an unknown one by its type's two high bits (RFC 8200 4.2: "
        "skip, discard, discard and send a parameter problem); nf-router "
        "forwards without looking at them, which RFC 8200 4.3 allows: nodes on "
        "the path 'only examine and process the Hop-by-Hop Options header if "
        "explicitly configured to do so'."),
    "icmp-options": Diff(
        "Linux puts the record route (and timestamp) option of the packet in "
        "error into its ICMP error's own IP header, its address added "
        "(ip_options_echo), and quotes the packet with the record route entry "
        "its input processing already wrote (the incoming interface's address, "
        "pointer advanced, header checksum not updated). nf-router sends errors "
        "without IP options (no RFC asks for them; RFC 1122 3.2.2.6 asks it of "
        "echo replies) and quotes the packet as received (RFC 1812 4.3.2.3). "
        "Linux's options are taken out of its error's header (lengths "
        "adjusted); the quoted options, quoted header checksum and ICMP "
        "checksum are not compared.", _fix_icmp_options),
}

# ------------------------------------------------------------ probes


class Probe:
    """@frames: what H1 sends (usually one frame). @expect: Linux's decision
    (see decision()). @reason: nf-router's drop counter for it, moved once
    per frame (None: it forwards or answers without counting a drop; a
    dict: {counter: how much it moves}). "local-delivery" is not a drop
    but nf-router's counter of frames for itself (router.local_delivered),
    checked the same way. @keys: addresses only
    this probe's frames carry (default: the source address). @diffs: names
    in DIFFS. @b_expect: nf-router's decision where a DIFFS entry says it
    differs."""

    def __init__(self, name, frames, expect, reason=None, keys=None, diffs=(), b_expect=None,
                 late=False, after=None):
        self.name, self.expect, self.reason = name, expect, reason
        self.frames = frames if isinstance(frames, list) else [frames]
        self.keys = keys
        self.diffs = list(diffs)
        self.b_expect = b_expect
        self.late = late		# answers come seconds later (resolution)
        self.after = after		# sent once that probe was answered
        self.sent = None		# when it was sent
        self.drops = {}			# nf-router's counters it moved


def build_probes():
    P = []
    n = [10]

    def src4():
        n[0] += 1
        return ip4("10.1.0.%d" % n[0])

    def src6():
        n[0] += 1
        return ip6("fd01::%d" % n[0])

    def ll6():
        n[0] += 1
        return ip6("fe80::%d" % n[0])

    def p4(name, expect, reason=None, dst=H2_4, proto=17, data=None, eth_dst=MAC_R1,
           src=None, **kw):
        s = src or src4()
        if data is None:
            data = udp(s, dst, payload(32))
        f = eth(v4(s, dst, proto, data, **kw), 0x0800, dst=eth_dst)
        P.append(Probe(name, f, expect, reason, keys={s}))
        return P[-1]

    def p6(name, expect, reason=None, dst=H2_6, nh=17, data=None, exts=(), eth_dst=MAC_R1,
           src=None, **kw):
        s = src or src6()
        if data is None:
            data = udp(s, dst, payload(32))
        first = exts[0][0] if exts else nh
        f = eth(v6(s, dst, first, exts_body(exts, nh) + data, **kw), 0x86dd, dst=eth_dst)
        P.append(Probe(name, f, expect, reason, keys={s}))
        return P[-1]

    F, D = "forwarded -> H2", "dropped"

    # --- IPv4 forwarding, TTL, checksum
    p4("IPv4 UDP to H2", F)
    p4("IPv4 UDP, TTL 2", F, ttl=2)
    p4("IPv4 UDP, TTL 1", "ICMP 11/0 -> H1", "ttl-exceeded", ttl=1)
    p4("IPv4 UDP, TTL 0", "ICMP 11/0 -> H1", "ttl-exceeded", ttl=0)
    p4("IPv4 bad header checksum", D, "ipv4-bad-checksum", bad_csum=True)
    p4("IPv4 bad header checksum, TTL 1 (checksum first)", D, "ipv4-bad-checksum",
       bad_csum=True, ttl=1)
    p4("IPv4 TOS 0xb9, TTL 1 (the error's TOS)", "ICMP 11/0 -> H1", "ttl-exceeded", ttl=1,
       tos=0xb9)
    # --- routes
    p4("IPv4 via a gateway (10.3.0.0/16 via H2)", F, dst=ip4("10.3.0.5"))
    p4("IPv4 back out of the port it came in by (to 10.1.0.10, on H1's network)",
       "ICMP 5/1 -> H1, IPv4 back to H1 (10.1.0.%d) -> H1" % (n[0] + 1), dst=ip4("10.1.0.10"))
    p4("IPv4 back out by a gateway route (10.4.0.0/16 via 10.1.0.10)",
       "ICMP 5/1 -> H1, IPv4 back to H1 (10.1.0.%d) -> H1" % (n[0] + 1), dst=ip4("10.4.0.1"))
    p4("IPv4 unknown destination (no default route)", "ICMP 3/0 -> H1", "no-route",
       dst=ip4("10.99.0.1"))
    p4("IPv4 reject route", "ICMP 3/1 -> H1", "reject-route", dst=ip4("10.9.0.1"))
    p4("IPv4 blackhole route", D, "blackhole-route", dst=ip4("10.8.0.1"))
    p4("IPv4 unknown destination, TTL 1 (route first)", "ICMP 3/0 -> H1", "no-route",
       dst=ip4("10.99.0.2"), ttl=1)
    # --- broadcast, multicast, martians
    p4("IPv4 directed broadcast to H2's subnet (UDP)", D, "directed-broadcast",
       dst=ip4("10.2.0.255"))
    s = src4()
    p4("IPv4 directed broadcast to H2's subnet (echo)", D, "directed-broadcast",
       dst=ip4("10.2.0.255"), proto=1, data=icmp4(8, 0, 0x07000001, echo_data()), src=s)
    p4("IPv4 broadcast of H1's own subnet", D, "directed-broadcast", dst=ip4("10.1.0.255"))
    p4("IPv4 limited broadcast 255.255.255.255", D, "directed-broadcast",
       dst=ip4("255.255.255.255"))
    p4("IPv4 multicast 239.1.2.3 (not routed)", D, "multicast-not-routed",
       dst=ip4("239.1.2.3"), eth_dst=bytes.fromhex("01005e010203"))
    p4("IPv4 martian source 127.0.0.1", D, "martian-source", src=ip4("127.0.0.1"))
    p4("IPv4 martian source 0.0.0.0", D, "martian-source", src=ip4("0.0.0.0"))
    p4("IPv4 martian destination 127.0.0.1", D, "martian-destination", dst=ip4("127.0.0.1"))
    p4("IPv4 unicast frame for another MAC", D, "not-for-us",
       eth_dst=bytes.fromhex("020000000999"))
    # --- options
    p4("IPv4 options NOP NOP NOP EOL", F, opts=NOPS)
    p4("IPv4 record route (3 slots)", F, opts=rr(3) + b"\0")
    p4("IPv4 record route, full", F, opts=rr(2, ptr=12) + b"\x00")
    p4("IPv4 record route, pointer 3 (bad)", "ICMP 12/0 -> H1", "ipv4-bad-options",
       opts=rr(2, ptr=3) + b"\x00")
    p4("IPv4 loose source route (accept_source_route=0)", D, "source-route-option",
       opts=srr(131, [ip4("10.2.0.2")]))
    p4("IPv4 strict source route", D, "source-route-option", opts=srr(137, [ip4("10.2.0.2")]))
    p4("IPv4 router alert option", F, opts=b"\x94\x04\x00\x00")
    p4("IPv4 unknown option (type 30)", F, opts=b"\x1e\x04\xaa\xbb")
    p4("IPv4 record route, TTL 1", "ICMP 11/0 -> H1", "ttl-exceeded", opts=rr(3) + b"\0",
       ttl=1).diffs = ["icmp-options"]
    # --- fragments
    p4("IPv4 first fragment", "forwarded fragment -> H2", mf=True, data=payload(48))
    p4("IPv4 later fragment", "forwarded fragment -> H2", off=100, data=payload(40, 5))
    p4("IPv4 later fragment, TTL 1 (no error for it)", D, "ttl-exceeded", off=100, mf=True,
       ttl=1, data=payload(40, 6))
    p4("IPv4 first fragment, TTL 1", "ICMP 11/0 -> H1", "ttl-exceeded", mf=True, ttl=1,
       data=payload(40, 7))
    # --- MTU (H2's side is 1400)
    p4("IPv4 1450 bytes with DF towards MTU 1400", "ICMP 3/4 -> H1", "mtu-exceeded", df=True,
       data=payload(1430, 2))
    p4("IPv4 1401 bytes with DF", "ICMP 3/4 -> H1", "mtu-exceeded", df=True,
       data=payload(1381, 3))
    p4("IPv4 1400 bytes with DF (fits)", F, df=True, data=payload(1380, 4))
    p4("IPv4 1450 bytes with DF, TTL 1 (TTL first)", "ICMP 11/0 -> H1", "ttl-exceeded",
       df=True, ttl=1, data=payload(1430, 5))
    p4("IPv4 1450 bytes without DF, fragmented", "forwarded fragment -> H2 x2", None,
       data=payload(1430, 6))
    p4("IPv4 1496 bytes without DF, with options, fragmented", "forwarded fragment -> H2 x2",
       None, data=payload(1456, 7), opts=rr(2) + b"\x94\x04\x00\x00\x01" + b"\x00" * 4)
    p4("IPv4 later fragment of 1450 bytes, MF, fragmented again",
       "forwarded fragment -> H2 x2", None, off=300, mf=True, data=payload(1430, 8))
    # --- the router's own addresses
    p4("IPv4 echo to the router (10.1.0.1)", "echo reply -> H1", "local-delivery", dst=R1_4,
       proto=1, data=icmp4(8, 0, 0x07000001, echo_data()))
    p4("IPv4 echo to the router's other address (10.2.0.1)", "echo reply -> H1",
       "local-delivery", dst=R2_4, proto=1, data=icmp4(8, 0, 0x07000002, echo_data()))
    p4("IPv4 echo to the router, TTL 1, TOS 0x10", "echo reply -> H1", "local-delivery",
       dst=R1_4, proto=1, ttl=1, tos=0x10, data=icmp4(8, 0, 0x07000003, echo_data(100)))
    p4("IPv4 UDP to the router", "ICMP 3/3 -> H1", "local-delivery", dst=R1_4)
    s = src4()
    p4("IPv4 TCP SYN to the router, TOS 0x11", "TCP RST -> H1", "local-delivery", dst=R1_4,
       proto=6, tos=0x11, data=tcp_syn(s, R1_4), src=s)
    p4("IPv4 unknown protocol 253 to the router", "ICMP 3/2 -> H1", "local-delivery",
       dst=R1_4, proto=253, data=payload(20))
    s = src4()
    whole = icmp4(8, 0, 0x07000004, echo_data(64))
    P.append(Probe("IPv4 echo to the router in two fragments", [
        eth(v4(s, R1_4, 1, whole[:40], mf=True, ident=0x4444), 0x0800),
        eth(v4(s, R1_4, 1, whole[40:], off=5, ident=0x4444), 0x0800)],
        "echo reply -> H1", {"local-delivery": 2, "local-fragment": 2}, keys={s},
        diffs=["no-reassembly"], b_expect="dropped"))

    # --- IPv6
    p6("IPv6 UDP to H2", F)
    p6("IPv6 UDP, hop limit 2", F, hlim=2)
    p6("IPv6 UDP, hop limit 1", "ICMPv6 3/0 -> H1", "ttl-exceeded", hlim=1)
    p6("IPv6 UDP, hop limit 0", "ICMPv6 3/0 -> H1", "ttl-exceeded", hlim=0)
    p6("IPv6 traffic class and flow label kept", F, tc=0xb8, flow=0x12345)
    p6("IPv6 via a gateway (fd03::/64 via H2)", F, dst=ip6("fd03::5"))
    p6("IPv6 back out of the port it came in by (to fd01::10, on H1's network)",
       "ICMPv6 137/0 -> H1, IPv6 back to H1 (fd01::%d) -> H1" % (n[0] + 1),
       dst=ip6("fd01::10"))
    p6("IPv6 back out by a gateway route with a global gateway (fd04::/64 via fd01::10): "
       "no redirect", "IPv6 back to H1 (fd01::%d) -> H1" % (n[0] + 1), dst=ip6("fd04::1"))
    p6("IPv6 unknown destination", "ICMPv6 1/0 -> H1", "no-route", dst=ip6("fd99::1"))
    pr = p6("IPv6 reject route", "ICMPv6 1/0 -> H1", "reject-route", dst=ip6("fd09::1"))
    pr.diffs, pr.b_expect = ["v6-reject-code"], "ICMPv6 1/6 -> H1"
    p6("IPv6 blackhole route", D, "blackhole-route", dst=ip6("fd08::1"))
    p6("IPv6 link-local source, global destination", "ICMPv6 1/2 -> H1",
       "link-local-not-routed", src=ll6())
    p6("IPv6 multicast source", D, "martian-source", src=ip6("ff0e::10"))
    p6("IPv6 destination ::1", D, "martian-destination", dst=ip6("::1"))
    p6("IPv6 global multicast destination ff0e::10 (not routed)", D, "multicast-not-routed",
       dst=ip6("ff0e::10"), eth_dst=bytes.fromhex("333300000010"))
    # extension headers
    p6("IPv6 hop-by-hop (PadN)", F, exts=[(0, padn(6))])
    p6("IPv6 hop-by-hop (router alert, value 2)", F,
       exts=[(0, b"\x05\x02\x00\x02" + b"\x01\x00")])
    p6("IPv6 hop-by-hop, unknown option type 0x1e (skip)", F,
       exts=[(0, b"\x1e\x04" + b"\xaa" * 4)])
    pr = p6("IPv6 hop-by-hop, unknown option type 0x5e (discard)", D, None,
            exts=[(0, b"\x5e\x04" + b"\xaa" * 4)])
    pr.diffs, pr.b_expect = ["hbh-options"], F
    pr = p6("IPv6 hop-by-hop, unknown option type 0x9e (discard, ICMP)", "ICMPv6 4/2 -> H1",
            None, exts=[(0, b"\x9e\x04" + b"\xaa" * 4)])
    pr.diffs, pr.b_expect = ["hbh-options"], F
    p6("IPv6 hop-by-hop, hop limit 1", "ICMPv6 3/0 -> H1", "ttl-exceeded", hlim=1,
       exts=[(0, padn(6))])
    p6("IPv6 destination options (not for a router)", F,
       exts=[(60, b"\x9e\x04" + b"\xaa" * 4)])
    p6("IPv6 routing header type 0, segments left 1 (not for the router)", F,
       exts=[(43, b"\x00\x01" + b"\0" * 4 + ip6("fd02::2"))])
    p6("IPv6 segment routing header, segments left 0", F,
       exts=[(43, b"\x04\x00\x00\x00\x00\x00" + ip6("fd02::2"))])
    p6("IPv6 first fragment", F, exts=[(44, None, 0, 1)])
    p6("IPv6 later fragment", F, exts=[(44, None, 100, 0)], data=payload(40, 9))
    p6("IPv6 atomic fragment", F, exts=[(44, None, 0, 0)])
    p6("IPv6 later fragment, hop limit 1", "ICMPv6 3/0 -> H1", "ttl-exceeded", hlim=1,
       exts=[(44, None, 100, 0)], data=payload(40, 10))
    # MTU
    p6("IPv6 1450 bytes towards MTU 1400", "ICMPv6 2/0 -> H1", "mtu-exceeded",
       data=payload(1410, 11))
    p6("IPv6 1401 bytes", "ICMPv6 2/0 -> H1", "mtu-exceeded", data=payload(1361, 12))
    p6("IPv6 1400 bytes (fits)", F, data=payload(1360, 13))
    p6("IPv6 1450 bytes, first fragment", "ICMPv6 2/0 -> H1", "mtu-exceeded",
       exts=[(44, None, 0, 1)], data=payload(1402, 14))
    p6("IPv6 1450 bytes, hop limit 1 (hop limit first)", "ICMPv6 3/0 -> H1", "ttl-exceeded",
       hlim=1, data=payload(1410, 15))
    # the router's own addresses
    s = src6()
    p6("IPv6 echo to the router (fd01::1)", "echo reply -> H1", "local-delivery", dst=R1_6,
       nh=58, data=icmp6(s, R1_6, 128, 0, 0x07000001, echo_data()), src=s)
    s = src6()
    p6("IPv6 echo to the router's other address (fd02::1)", "echo reply -> H1",
       "local-delivery", dst=R2_6, nh=58, data=icmp6(s, R2_6, 128, 0, 0x07000002,
                                                      echo_data()), src=s)
    s = ll6()
    p6("IPv6 echo to the router's link-local address", "echo reply -> H1", "local-delivery",
       dst=R1_LL, nh=58, data=icmp6(s, R1_LL, 128, 0, 0x07000003, echo_data()), src=s)
    s = src6()
    p6("IPv6 echo to the router, hop limit 1", "echo reply -> H1", "local-delivery",
       dst=R1_6, nh=58, hlim=1, data=icmp6(s, R1_6, 128, 0, 0x07000004, echo_data(100)),
       src=s)
    p6("IPv6 UDP to the router", "ICMPv6 1/4 -> H1", "local-delivery", dst=R1_6)
    s = src6()
    p6("IPv6 TCP SYN to the router, traffic class 0x11", "TCP RST -> H1", "local-delivery",
       dst=R1_6, nh=6, tc=0x11, data=tcp_syn(s, R1_6), src=s)
    p6("IPv6 no next header (59) to the router", D, "local-delivery", dst=R1_6, nh=59,
       data=payload(16))
    p6("IPv6 unknown next header 253 to the router", "ICMPv6 4/1 -> H1", "local-delivery",
       dst=R1_6, nh=253, data=payload(16))
    p6("IPv6 destination options, then unknown next header 253, to the router",
       "ICMPv6 4/1 -> H1", "local-delivery", dst=R1_6, nh=253, data=payload(16),
       exts=[(60, padn(6))])
    p6("IPv6 routing header type 0, segments left 1, to the router", "ICMPv6 4/0 -> H1",
       "local-delivery", dst=R1_6, exts=[(43, b"\x00\x01" + b"\0" * 4 + ip6("fd02::2"))])
    s = src6()
    whole = icmp6(s, R1_6, 128, 0, 0x07000005, echo_data(64))
    P.append(Probe("IPv6 echo to the router in two fragments", [
        eth(v6(s, R1_6, 44, frag6(58, 0, 1, 0x5555) + whole[:40]), 0x86dd),
        eth(v6(s, R1_6, 44, frag6(58, 5, 0, 0x5555) + whole[40:]), 0x86dd)],
        "echo reply -> H1", {"local-delivery": 2, "local-fragment": 2}, keys={s},
        diffs=["no-reassembly"], b_expect="dropped"))

    # --- ARP and neighbour discovery
    s = src4()
    P.append(Probe("ARP request for 10.1.0.1", eth(arp(1, MAC_H1, s, b"\0" * 6, R1_4), 0x0806,
                                                    dst=BCAST), "ARP reply 10.1.0.%d -> H1"
                   % s[3], None, keys={s}))
    s = src4()
    P.append(Probe("ARP request for the other port's 10.2.0.1", eth(
        arp(1, MAC_H1, s, b"\0" * 6, R2_4), 0x0806, dst=BCAST),
        "ARP reply 10.1.0.%d -> H1" % s[3], None, keys={s}))
    s = src4()
    P.append(Probe("ARP request, unicast to the router", eth(
        arp(1, MAC_H1, s, MAC_R1, R1_4), 0x0806), "ARP reply 10.1.0.%d -> H1" % s[3], None,
        keys={s}))
    s = src4()
    P.append(Probe("ARP request for an address not the router's", eth(
        arp(1, MAC_H1, s, b"\0" * 6, ip4("10.1.0.250")), 0x0806, dst=BCAST), D, "arp-ignored",
        keys={s}))
    s = ll6()
    P.append(Probe("NS for fd01::1 (multicast)", eth(ns(s, solicited(R1_6), R1_6), 0x86dd,
                                                     dst=smac(R1_6)), "NA -> H1", None,
                   keys={s}))
    s = ll6()
    P.append(Probe("NS for fd01::1 (unicast)", eth(ns(s, R1_6, R1_6), 0x86dd), "NA -> H1",
                   "local-delivery", keys={s}))
    s = ll6()
    P.append(Probe("NS for the router's link-local address", eth(
        ns(s, solicited(R1_LL), R1_LL), 0x86dd, dst=smac(R1_LL)), "NA -> H1", None, keys={s}))
    s = src6()
    P.append(Probe("NS from a global address", eth(ns(s, solicited(R1_6), R1_6), 0x86dd,
                                                   dst=smac(R1_6)), "NA -> H1", None, keys={s}))
    s = src6()
    P.append(Probe("NS unicast without source link-layer option (reachability probe)",
                   eth(ns(s, R1_6, R1_6, sll=None), 0x86dd), "NA -> H1", "local-delivery",
                   keys={s}))
    s = ll6()
    P.append(Probe("NS for the other port's fd02::1", eth(
        ns(s, solicited(R2_6), R2_6), 0x86dd, dst=smac(R2_6)), D, "nd-ignored", keys={s}))
    s = ll6()
    P.append(Probe("NS with hop limit 64 (invalid)", eth(
        ns(s, solicited(R1_6), R1_6, hlim=64), 0x86dd, dst=smac(R1_6)), D, "nd-ignored",
        keys={s}))
    P.append(Probe("DAD NS for fd01::1 (source ::)", eth(
        ns(ip6("::"), solicited(R1_6), R1_6, sll=None), 0x86dd, dst=smac(R1_6)),
        "NA -> H1", None, keys={ip6("ff02::1")}))

    # --- unresolvable next hop (the only probes that make the routers
    # resolve): three solicitations, then host / address unreachable.
    s = src4()
    P.insert(0, Probe("IPv4 to 10.2.0.77 (no such neighbour)", eth(
        v4(s, ip4("10.2.0.77"), 17, udp(s, ip4("10.2.0.77"), payload(32))), 0x0800),
        "ARP request 10.2.0.77 -> H2 x3, ICMP 3/1 -> H1", "neighbour-unresolved",
        keys={s, ip4("10.2.0.77")}, diffs=["unres-quote-ttl"], late=True))
    s = src6()
    P.insert(1, Probe("IPv6 to fd02::77 (no such neighbour)", eth(
        v6(s, ip6("fd02::77"), 17, udp(s, ip6("fd02::77"), payload(32))), 0x86dd),
        "NS -> H2 x3, ICMPv6 1/3 -> H1", "neighbour-unresolved",
        keys={s, ip6("fd02::77")}, diffs=["unres-quote-ttl"], late=True))
    # ... and once that failed, traffic for the same neighbour resolves it
    # again (Linux: FAILED -> INCOMPLETE, __neigh_event_send).
    s = src4()
    P.append(Probe("IPv4 to 10.2.0.77 again, after the resolution failed", eth(
        v4(s, ip4("10.2.0.77"), 17, udp(s, ip4("10.2.0.77"), payload(32))), 0x0800),
        "ARP request 10.2.0.77 -> H2 x3, ICMP 3/1 -> H1", "neighbour-unresolved",
        keys={s, ip4("10.2.0.77")}, diffs=["unres-quote-ttl"], late=True,
        after=P[0].name))
    s = src6()
    P.append(Probe("IPv6 to fd02::77 again, after the resolution failed", eth(
        v6(s, ip6("fd02::77"), 17, udp(s, ip6("fd02::77"), payload(32))), 0x86dd),
        "NS -> H2 x3, ICMPv6 1/3 -> H1", "neighbour-unresolved",
        keys={s, ip6("fd02::77")}, diffs=["unres-quote-ttl"], late=True, after=P[1].name))
    assert n[0] < 200, "router_linux.sh installs neighbours for sources .10 to .199"
    return P


def exts_body(exts, upper):
    """Extension headers from [(type, body) | (44, None, offset, m)], the
    next header of each pointing at the following, the last at @upper.
    The first header's type goes into the IPv6 header (see p6)."""
    out = b""
    for i, e in enumerate(exts):
        nh = exts[i + 1][0] if i + 1 < len(exts) else upper
        if e[0] == 44:
            out += frag6(nh, e[2], e[3])
        else:
            out += ext(nh, e[1])
    return out

# ------------------------------------------------------------ sockets


class Capture:
    def __init__(self, socks):
        self.socks = socks		# name -> socket
        self.frames = []		# (time, name, bytes)
        self.errors = []

    def drain(self, secs):
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select(list(self.socks.values()), [], [], max(left, 0))
            for name, s in self.socks.items():
                if s not in r:
                    continue
                while True:
                    try:
                        data, addr = s.recvfrom(65536)
                    except BlockingIOError:
                        break
                    except OSError as e:	# ENETDOWN: the link went away
                        self.errors.append("%s: %s" % (name, e.strerror))
                        break
                    if addr[2] != socket.PACKET_OUTGOING:
                        self.frames.append((time.monotonic(), name, data))
            if left <= 0:
                return

# ------------------------------------------------------------ nf-router stats


def ctl(path, req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(req.encode() + b"\n")
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    return json.loads(buf)

# ------------------------------------------------------------ the run


class Result:
    def __init__(self):
        self.failed = 0

    def ok(self, msg):
        print("ok - " + msg, flush=True)

    def not_ok(self, msg):
        print("not ok - " + msg, flush=True)
        self.failed += 1

    def check(self, cond, msg, why=""):
        if cond:
            self.ok(msg)
        else:
            self.not_ok(msg + (": " + why if why else ""))


class Runner:
    """Sends probes into both routers and waits until nf-router has read
    them (its receive counter), noting the drop counters each one moved."""

    def __init__(self, socks, cap, ctl_path):
        self.socks, self.cap, self.ctl = socks, cap, ctl_path
        st = ctl(ctl_path, "stats")
        self.seen_in = st["stages"]["pre"]["in"]
        self.drops = dict(st["drops"])
        self.local = st["router"]["local_delivered"]
        self.unresolved = 0

    def delta(self):
        """Drop counters moved since the last call; resolution failures,
        which come seconds after their probe, are summed apart."""
        st = ctl(self.ctl, "stats")
        d = {k: v - self.drops.get(k, 0) for k, v in st["drops"].items()
             if v != self.drops.get(k, 0)}
        self.drops = dict(st["drops"])
        self.unresolved += d.pop("neighbour-unresolved", 0)
        if st["router"]["local_delivered"] != self.local:
            d["local-delivery"] = st["router"]["local_delivered"] - self.local
            self.local = st["router"]["local_delivered"]
        return st, d

    def send(self, p):
        p.sent = time.monotonic()
        for f in p.frames:
            self.socks["a.h1"].send(f)
            self.socks["b.h1"].send(f)
        want = self.seen_in + len(p.frames)
        deadline = time.monotonic() + 2
        while True:
            self.cap.drain(0.005)
            st = ctl(self.ctl, "stats")
            if st["stages"]["pre"]["in"] >= want or time.monotonic() > deadline:
                break
        self.seen_in = st["stages"]["pre"]["in"]
        self.cap.drain(0.02)		# Linux's answers, nf-router's transmits
        _, p.drops = self.delta()


def attribute(res, probes, frames):
    """Frames -> the probe they belong to: the last one sent before the
    frame that has one of its addresses (two probes share the address of
    the unresolvable neighbour, one after the other)."""
    got = {p.name: {"a.h1": [], "a.h2": [], "b.h1": [], "b.h2": []} for p in probes}
    for t, where, f in frames:
        a = addrs(f)
        owners = [p for p in probes if p.keys & a and p.sent is not None and p.sent <= t]
        if owners:
            got[max(owners, key=lambda p: p.sent).name][where].append(f)
        elif not noise(f):
            res.not_ok("unexpected frame at %s (%s): %s" % (where, describe(f, where[2:]),
                                                            f[:64].hex()))
    return got


def answered(p, frames):
    """Both routers sent something back to H1 for probe @p."""
    return all(any(w == r + ".h1" and p.keys & addrs(f) and t >= p.sent for t, w, f in frames)
               for r in "ab")


def main():
    ap = argparse.ArgumentParser()
    for k in ("h1a", "h2a", "h1b", "h2b", "ctl", "out"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--only", help="run the probes whose name contains this")
    a = ap.parse_args()
    res = Result()
    probes = build_probes()
    if a.only:
        probes = [p for p in probes if a.only in p.name]
    socks = {"a.h1": socket_in(a.h1a, "h1"), "a.h2": socket_in(a.h2a, "h2"),
             "b.h1": socket_in(a.h1b, "h1"), "b.h2": socket_in(a.h2b, "h2")}
    cap = Capture(socks)
    cap.drain(0.2)
    cap.frames.clear()
    run = Runner(socks, cap, a.ctl)
    t0 = time.monotonic()
    for p in probes:
        if p.after is None:
            run.send(p)
    # Resolutions fail after about 3 s (3 solicitations 1 s apart): wait
    # for the errors, send what waits for them, wait again (6 s at most
    # per probe).
    waiting = [p for p in probes if p.after is not None]
    late = [p for p in probes if p.late]
    while True:
        cap.drain(0.05)
        for p in list(waiting):
            first = next((q for q in probes if q.name == p.after), None)
            if first is None or first.sent is None or answered(first, cap.frames) or \
                    time.monotonic() > first.sent + 6:
                run.send(p)
                waiting.remove(p)
        if not waiting and all(answered(p, cap.frames) or time.monotonic() > p.sent + 6
                               for p in late):
            break
    cap.drain(0.2)
    run.delta()

    for e in cap.errors:
        res.not_ok("capture socket %s (did a namespace or link go away under the test?)" % e)
    got = attribute(res, probes, cap.frames)
    with open(os.path.join(a.out, "router_diff.txt"), "w") as log:
        for p in probes:
            compare(res, p, got[p.name], log)
    # Resolution failures are counted when they happen, seconds later.
    if late:
        want = sum(len(p.frames) for p in late)
        res.check(run.unresolved == want and all(not p.drops for p in late),
                  "nf-router counted the %d frames it could not resolve a neighbour for "
                  "under neighbour-unresolved, when the resolution failed" % want,
                  "counted %d; at once: %s" % (run.unresolved,
                                               {p.name: p.drops for p in late if p.drops}))

    print("# %d probes in %.1f s" % (len(probes), time.monotonic() - t0))
    for name, d in DIFFS.items():
        print("# known difference '%s': %s" % (name, d.why))
        print("#   seen in: %s" % ("; ".join(d.used) if d.used else "nothing in this run"))
    return 1 if res.failed else 0


def compare(res, p, g, log):
    failed = res.failed
    compare1(res, p, g, log)
    if res.failed != failed:		# the frames, for whoever reads the log
        for k in ("a.h1", "a.h2", "b.h1", "b.h2"):
            for f in g[k]:
                print("#   %s (%s) %s" % (k, "Linux" if k[0] == "a" else "nf-router", f.hex()))


def compare1(res, p, g, log):
    # Frames at one place are compared in the order they came, by kind
    # first: a router may send its redirect before or after the packet.
    for k in g:
        g[k] = sorted(g[k], key=lambda f: describe(f, k[2:]))
    da = decision(g["a.h1"], g["a.h2"])
    db = decision(g["b.h1"], g["b.h2"])
    log.write("== %s\n  Linux:     %s\n  nf-router: %s\n" % (p.name, da, db))
    for k in ("a.h1", "a.h2", "b.h1", "b.h2"):
        for f in g[k]:
            log.write("  %s %s\n" % (k, f.hex()))
    res.check(da == p.expect, "%s: Linux %s" % (p.name, da),
              "the test expects Linux to say '%s'" % p.expect)
    if p.b_expect:
        res.check(db == p.b_expect, "%s: nf-router %s (known difference: %s)" % (
            p.name, db, ", ".join(p.diffs)), "expected '%s'" % p.b_expect)
    else:
        res.check(db == da, "%s: nf-router %s" % (p.name, db), "Linux: %s" % da)
    for dn in p.diffs:
        if DIFFS[dn].fix is None:
            DIFFS[dn].used.append(p.name)
    # Bytes, unless the decisions differ by design.
    for where in ("h1", "h2"):
        fa, fb = g["a." + where], g["b." + where]
        if (not fa and not fb) or any(DIFFS[d].fix is None for d in p.diffs):
            continue
        errs, why, applied = [], "", set()
        na, nb = [], []
        for who, fs, out in (("Linux", fa, na), ("nf-router", fb, nb)):
            for f in fs:
                x, e = normalise(f)
                out.append(x)
                errs += ["%s: %s" % (who, m) for m in e]
        if len(na) != len(nb):
            why = "%d frames from Linux, %d from nf-router" % (len(na), len(nb))
        for i, (x, y) in enumerate(zip(na, nb)):
            for dn in p.diffs:
                if x != y:
                    x2, y2 = DIFFS[dn].fix(x), DIFFS[dn].fix(y)
                    if (x2, y2) != (x, y):
                        applied.add(dn)
                    x, y = x2, y2
            if x != y and not why:
                why = "frame %d: %s" % (i + 1, explain_diff(na[i], nb[i]))
        label = "%s: bytes at %s match" % (p.name, where.upper())
        if applied:
            label += " (known difference: %s)" % ", ".join(sorted(applied))
            for dn in applied:
                DIFFS[dn].used.append("%s, at %s" % (p.name, where.upper()))
        res.check(not why and not errs, label, "; ".join(errs + ([why] if why else [])))
    # Drop counters (the probes that wait for a resolution: see main()).
    if p.late:
        return
    want = p.reason if isinstance(p.reason, dict) else \
        {p.reason: len(p.frames)} if p.reason else {}
    res.check(p.drops == want, "%s: nf-router counters %s" % (
        p.name, ", ".join("%s +%d" % kv for kv in sorted(p.drops.items())) or "unchanged"),
        "expected %s" % want)

if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:			# a crash is a failure, with its story
        import traceback
        print("not ok - router_diff.py crashed")
        print("".join("# " + l + "\n" for l in traceback.format_exc().splitlines()))
        sys.exit(1)
