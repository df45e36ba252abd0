"""switch_seg6.py - the Python half of switch_seg6.sh (topology there).

Real UDP sockets in H and Y send and receive; raw packet sockets capture
what Linux gives nfswitch (p1, p2 in SW) and what nfswitch sends (M's m0,
Y's y0, L's l1); q0 in SW feeds Linux's reference End (namespace R).
Writes DIR/ours.pcap (nfswitch's frames, for tshark) and
DIR/expect.fields (what tshark must show for them). Prints ok/not ok.
"""
import argparse, ctypes, os, socket, struct, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import pkt  # noqa: E402
from steer_lib import FAILED, check, srv6_error, wpcap  # noqa: E402

ap = argparse.ArgumentParser()
for a in ("sw", "h", "l", "y", "m", "ctl", "tool", "dir"):
    ap.add_argument("--" + a, required=True)
A = ap.parse_args()
TOOL = A.tool
MAC = {k: pkt.mac("02:00:00:00:5e:%02x" % v) for k, v in
       dict(h0=0x01, l0=0x02, l1=0x11, l2=0x12, y0=0x21, y1=0x22, m0=0x31, m1=0x32,
            r0=0x41, q0=0xf4).items()}


def udp_in(ns, addr, port):
    """A UDP socket bound to @addr:@port inside namespace @ns."""
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if pkt.libc.setns(fd, pkt.CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        s.settimeout(2)
    finally:
        pkt.libc.setns(me, pkt.CLONE_NEWNET)
        os.close(fd)
        os.close(me)
    return s


def recv_all(s, n):
    got = []
    try:
        for _ in range(n):
            data, src = s.recvfrom(2048)
            got.append((data, src[0]))
    except socket.timeout:
        pass
    return got


def v4_of(f):
    """IPv4 packet (without Ethernet padding) of an IPv4 frame."""
    return f[14:14 + struct.unpack("!H", f[16:18])[0]]


def ttl_minus_1(ip):
    """@ip with TTL - 1 and its header checksum recomputed."""
    h = bytearray(ip[:(ip[0] & 15) * 4])
    h[8] -= 1
    h[10:12] = b"\0\0"
    h[10:12] = pkt.csum(bytes(h)).to_bytes(2, "big")
    return bytes(h) + ip[len(h):]


def srh_of(f):
    """(SL, last, segments in wire order, next header) of an SRv6 frame."""
    o = 14 + 40
    nh, hl, typ, sl, last = f[o:o + 5]
    segs = [socket.inet_ntop(socket.AF_INET6, f[o + 8 + 16 * i:o + 24 + 16 * i])
            for i in range(last + 1)]
    return sl, last, segs, nh


def da_of(f):
    return socket.inet_ntop(socket.AF_INET6, f[38:54])


def is_v6(f, da=None):
    return len(f) > 54 and f[12:14] == b"\x86\xdd" and (da is None or da_of(f) == da)


def is_v4udp(f, dport):
    return len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] == 17 and \
        struct.unpack("!H", f[36:38])[0] == dport


def tool(*args):
    r = subprocess.run([TOOL] + list(args), capture_output=True, text=True)
    return r.stdout.strip()


caps = {"p1": pkt.socket_in(A.sw, "p1"), "p2": pkt.socket_in(A.sw, "p2"),
        "m0": pkt.socket_in(A.m, "m0"), "y0": pkt.socket_in(A.y, "y0"),
        "l1": pkt.socket_in(A.l, "l1"), "q0": pkt.socket_in(A.sw, "q0"),
        "q1": pkt.socket_in(A.sw, "q1")}
ysock = udp_in(A.y, "0.0.0.0", 9)
hsock = {p: udp_in(A.h, "10.1.0.1", p) for p in (7001, 7002, 7003, 7004)}
hsend = udp_in(A.h, "10.1.0.1", 5555)
ysend = udp_in(A.y, "10.9.0.2", 6666)
pkt.drain(caps, 0.3)
ours = []		# (frame, expected tshark fields) nfswitch sent


def expect_fields(f, dport):
    """The tshark fields line @f must give (tab-separated, ';' between
    occurrences): SL, last entry, segments, DA, ip.dst, ip.ttl, checksum
    status of IPv4 and UDP (1: good), UDP port."""
    if f[12:14] == b"\x86\xdd":
        o = 14 + 40
        if f[20] == 43:
            sl, last, segs, _ = srh_of(f)
            r = [str(sl), str(last), ";".join(segs)]
            o += 8 * (f[o + 1] + 1)
        else:
            r = ["", "", ""]
        r.append(da_of(f))
    else:
        r, o = ["", "", "", ""], 14
    r += [pkt.astr(f[o + 16:o + 20]), str(f[o + 8]), "1", "1", str(dport)]
    return "\t".join(r)

# ------------------------------------------------------------------ a.


def linux_encaps(dst, data):
    """Send @data from H to @dst:9 (L encapsulates); (Linux's frame as the
    switch got it on p1, what came out at m0 and y0, datagrams in Y)."""
    hsend.sendto(data, (dst, 9))
    got = pkt.drain(caps, 1.0)
    enc = [f for n, f in got if n == "p1" and is_v6(f) and f[20] == 43]
    at_m0 = [f for n, f in got if n == "m0" and is_v6(f)]
    at_y0 = [f for n, f in got if n == "y0" and is_v4udp(f, 9)]
    return enc, at_m0, at_y0, recv_all(ysock, 1)


linux = {}		# Linux's encapsulations, by inner destination
for dst, segs, what in (("10.9.0.2", ["fc00:a::d4", "fc00:a::1"], "2 segments"),
                        ("10.8.0.2", ["fc00:a::d4"], "1 segment")):
    data = ("linux-encap-" + dst).encode()
    enc, _, y0, dgrams = linux_encaps(dst, data)
    check("a. Linux H.Encaps (%s) -> nfswitch End.DX4: Y's UDP socket gets the datagram" %
          what, dgrams == [(data, "10.1.0.1")], dgrams)
    check("a. Linux's encapsulation (%s) reached nfswitch: SL %d, segments %s" %
          (what, len(segs) - 1, segs), len(enc) == 1 and
          srh_of(enc[0])[:3] == (len(segs) - 1, len(segs) - 1, segs) and
          srh_of(enc[0])[3] == 4, [srh_of(e) for e in enc])
    if len(enc) == 1:
        linux[dst] = enc[0]
    if len(enc) == 1 and len(y0) == 1:
        e = enc[0]
        inner = e[14 + 40 + 8 + 8 * e[14 + 41]:]
        inner = inner[:struct.unpack("!H", inner[2:4])[0]]
        exp = MAC["y0"] + e[6:12] + b"\x08\x00" + ttl_minus_1(inner)
        check("a. nfswitch's %s output is exactly the inner packet, TTL %d -> %d, MAC of Y"
              % ("End + End.DX4" if len(segs) == 2 else "End.DX4", inner[8], inner[8] - 1),
              y0[0][:len(exp)] == exp and v4_of(y0[0]) == exp[14:],
              (y0[0].hex(), exp.hex()))
        ours.append((y0[0], expect_fields(exp, 9)))
    else:
        check("a. frames captured around nfswitch (%s)" % what, False, (len(enc), len(y0)))

# nfswitch End alone (the next segment is Linux's End.DX4 in M)
data = b"linux-encap-10.6.0.2"
enc, m0, _, dgrams = linux_encaps("10.6.0.2", data)
check("a. Linux H.Encaps -> nfswitch End -> Linux End.DX4 (M): Y's UDP socket gets it",
      dgrams == [(data, "10.1.0.1")], dgrams)
if len(enc) == 1 and len(m0) == 1:
    e, got = enc[0], m0[0]
    exp = bytearray(e)
    exp[0:6] = MAC["m0"]
    exp[14 + 7] -= 1			# hop limit
    exp[14 + 40 + 3] -= 1		# SL 1 -> 0
    exp[38:54] = pkt.ip6("fc00:b::d4")	# Segment List[0]
    check("a. nfswitch End: exactly Linux's frame with hop limit %d -> %d, SL 1 -> 0, "
          "DA fc00:b::d4 (MAC of M)" % (e[21], e[21] - 1), got == bytes(exp),
          (got.hex(), bytes(exp).hex()))
    ours.append((got, expect_fields(got, 9)))
    # Linux's own End on the same frame (namespace R, fed through q0)
    caps["q0"].send(MAC["r0"] + MAC["q0"] + e[12:])
    ref = [f for n, f in pkt.drain(caps, 1.0) if n == "q0" and is_v6(f, "fc00:b::d4")]
    check("a. nfswitch End = Linux seg6local End on the same frame (IPv6 on, byte for byte)",
          len(ref) == 1 and ref[0][12:] == got[12:],
          [r.hex() for r in ref] + [got.hex()])
else:
    check("a. frames captured around nfswitch End", False, (len(enc), len(m0)))

# ------------------------------------------------------------------ b.
cases = [(7001, "H.Encaps, 1 segment -> Linux End.DX4 (L)", "l1", "encaps", "fc00:c::d4"),
         (7002, "H.Encaps.Red, 1 segment (no SRH) -> Linux End.DX4 (L)", "l1", "red",
          "fc00:c::d4"),
         (7003, "H.Encaps, 2 segments -> Linux End (M) -> Linux End.DX4 (L)", "m0", "encaps",
          "fc00:b::e,fc00:c::d4"),
         (7004, "H.Encaps.Red, 2 segments -> Linux End (M) -> Linux End.DX4 (L)", "m0", "red",
          "fc00:b::e,fc00:c::d4")]
for port, what, at, mode, segs in cases:
    data = ("nfswitch-encap-%d" % port).encode()
    ysend.sendto(data, ("10.1.0.1", port))
    got = pkt.drain(caps, 1.0)
    sent = [f for n, f in got if n == "p2" and is_v4udp(f, port)]
    out = [f for n, f in got if n == at and is_v6(f)]
    dgrams = recv_all(hsock[port], 1)
    check("b. nfswitch %s: H's UDP socket gets the datagram" % what,
          dgrams == [(data, "10.9.0.2")], dgrams)
    if len(sent) != 1 or len(out) != 1:
        check("b. frames captured around nfswitch (%s)" % what, False, (len(sent), len(out)))
        continue
    i, o = sent[0], out[0]
    sl = segs.split(",")
    # independent of nf_srv6: every field the policy fixes
    nextmac = MAC["l1"] if at == "l1" else MAC["m0"]
    fl = struct.unpack("!I", o[14:18])[0]
    red = mode == "red"
    srh = b""
    if not (red and len(sl) == 1):
        wire = list(reversed(sl))[:len(sl) - 1 if red else len(sl)]
        srh = struct.pack("!BBBBBBH", 4, 2 * len(wire), 4, len(sl) - 1, len(wire) - 1, 0, 0) + \
            b"".join(pkt.ip6(s) for s in wire)
    ip = v4_of(i)
    exp_tail = pkt.ip6("fc00:2::1") + pkt.ip6(sl[0]) + srh + ip
    ok = (o[:12] == nextmac + i[6:12] and o[12:14] == b"\x86\xdd" and fl >> 28 == 6 and
          (fl >> 20) & 0xff == i[15] and fl & 0xfffff != 0 and
          struct.unpack("!H", o[18:20])[0] == len(srh) + len(ip) and
          o[20] == (43 if srh else 4) and o[21] == 64 and o[22:] == exp_tail)
    check("b. nfswitch %s: the frame on the wire is Ethernet to the next hop, IPv6 from "
          "fc00:2::1 to %s, hop limit 64, %s, the inner packet untouched" %
          (what, sl[0], "SRH %d entries, SL %d" % ((len(srh) - 8) // 16, len(sl) - 1)
           if srh else "no SRH"), ok, (o.hex(), i.hex()))
    lib = tool("encaps", mode, "fc00:2::1", segs, i.hex())
    check("b. ... and equals nf_srv6's own H.Encaps%s of it (flow label included)" %
          (".Red" if red else ""), lib[24:] == o.hex()[24:], (lib, o.hex()))
    ours.append((o, expect_fields(o, port)))

# c. the pcap for tshark: frames with an SRH of one segment first (the
# shell's control breaks the inner checksum of frame 1)
ours.sort(key=lambda x: 0 if x[0][12:14] == b"\x86\xdd" and x[0][20] == 43 and
          x[0][55] == 2 else 1)
wpcap(os.path.join(A.dir, "ours.pcap"), [fr for fr, _ in ours])
with open(os.path.join(A.dir, "expect.fields"), "w") as f:
    f.write("".join(e + "\n" for _, e in ours))

# malformed SRHs and a hop limit of 1 (Linux's frames, altered) from L into
# the SIDs: dropped, counted by reason; nothing leaves the switch but the
# ICMPv6 error, back to L, compared with Linux's own (namespace P, where
# fc00:a::1 is an address: Linux's SRH processing) where Linux sends one
def altered(f, tlv=b"", **kw):
    """Frame f with SRH fields (or the hop limit) changed; tlv: bytes written
    right after the segment list (where a longer hdr ext len finds its TLVs)."""
    b = bytearray(f)
    for k, v in kw.items():
        b[14 + ({"hdr_len": 41, "sl": 43, "last": 44, "hlim": 7}[k])] = v
    t = 14 + 40 + 8 + 16 * (b[14 + 40 + 4] + 1)
    b[t:t + len(tlv)] = tlv
    return bytes(b)


def icmp_errors(got, name):
    """The ICMPv6 errors (types 1 to 4) among frames @got of socket @name."""
    return [fr for n, fr in got if n == name and is_v6(fr) and fr[20] == 58 and
            1 <= fr[54] <= 4]


def as_linux_quotes(e, sl, da):
    """Error @e with its quoted packet's SL and DA as Linux's End leaves them
    before it looks at the hop limit; its checksum made right again."""
    b = bytearray(e)
    b[54 + 8 + 40 + 3] = sl
    b[54 + 8 + 24:54 + 8 + 40] = pkt.ip6(da)
    b[56:58] = b"\0\0"
    b[56:58] = pkt.csum(pkt.pseudo(e[22:38], e[38:54], 58, len(e) - 54) +
                        bytes(b[54:])).to_bytes(2, "big")
    return bytes(b)


bad = []
errs = []		# nfswitch's errors, for tshark
if "10.9.0.2" in linux and "10.8.0.2" in linux:
    two, one = linux["10.9.0.2"], linux["10.8.0.2"]
    pp = (4, 0, 43)	# Parameter Problem, code 0, at Segments Left
    # (what, frame, drop reason, the error (SID, type, code, pointer), Linux's)
    bad = [("End, SL 3 > last entry 1 + 1", altered(two, sl=3), "srv6-sl-beyond",
            ("fc00:a::1",) + pp, "the same"),
           ("End.DX4, SL 2 > last entry 0 + 1", altered(one, sl=2), "srv6-sl-beyond",
            ("fc00:a::d4",) + pp, None),
           ("End, last entry 2 past hdr ext len 4", altered(two, last=2), "srv6-bad-srh",
            ("fc00:a::1",) + pp, None),
           # the inner packet's first bytes set to a TLV of 255 bytes: as
           # they come from Linux (a random IPv4 ID among them) they parse
           # as valid TLVs now and then
           ("End, hdr ext len 6 (16 bytes of the inner packet read as TLVs, "
            "the first one 255 bytes long)",
            altered(two, hdr_len=6, tlv=b"\x04\xff"), "srv6-bad-tlv", None, None),
           ("End, hdr ext len 200: the SRH runs past the packet",
            altered(two, hdr_len=200), "steer-unparsable", None, None),
           ("End, hop limit 1", altered(two, hlim=1), "srv6-hop-limit",
            ("fc00:a::1", 3, 0, 0), "quoting SL 0, DA fc00:a::d4")]
    check("Linux's encapsulation comes from fc00:1::1 (P's way back)",
          two[22:38] == pkt.ip6("fc00:1::1"), pkt.astr(two[22:38]))
    pkt.drain(caps, 0.2)
    before = pkt.ctl(A.ctl, "steer-stats")["steer_drops"]
    for what, f, reason, e, lin in bad:
        caps["l1"].send(f)
        got = pkt.drain(caps, 0.5)
        out = [(n, fr) for n, fr in got if n in ("y0", "m0")]
        back = icmp_errors(got, "l1")
        after = pkt.ctl(A.ctl, "steer-stats")["steer_drops"]
        diff = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        check("malformed SRH (%s): dropped, nothing leaves nfswitch towards Y or M" % what,
              out == [], [(n, fr.hex()) for n, fr in out])
        check("malformed SRH (%s): counted once as %s" % (what, reason),
              diff == {reason: 1}, diff)
        before = after
        want = [srv6_error(f, *e)] if e else []
        check("%s: %s back to L, exact bytes" % (what, "no error" if not e else
                                                  "Time Exceeded" if e[1] == 3 else
                                                  "Parameter Problem code 0 pointer 43"),
              [x.hex() for x in back] == [x.hex() for x in want],
              ([x.hex() for x in back], [x.hex() for x in want]))
        errs += back
        if lin is None or len(back) != 1:
            continue
        # Linux's own error about the same frame (P, through q1)
        caps["q1"].send(f)
        ref = icmp_errors(pkt.drain(caps, 0.5), "q1")
        exp = back[0] if lin == "the same" else as_linux_quotes(back[0], 0, "fc00:a::d4")
        check("%s: Linux's error about it is nfswitch's, %s, byte for byte" % (what, lin),
              [r.hex() for r in ref] == [exp.hex()], ([r.hex() for r in ref], exp.hex()))
    wpcap(os.path.join(A.dir, "errors.pcap"), errs)
    with open(os.path.join(A.dir, "errors.fields"), "w") as fo:	# for tshark
        fo.write("".join("%d\t%d\t%s\t1\n" % (e[54], e[55], struct.unpack("!I", e[58:62])[0]
                                                 if e[54] == 4 else "") for e in errs))
else:
    check("Linux's frames to alter into malformed SRHs", False, list(linux))

# nfswitch's own counters: SIDs and rules that did the work
sids = pkt.ctl(A.ctl, "sids")["sids"]
rules = pkt.ctl(A.ctl, "rules")["rules"]
nbad = sum(1 for _, f, _, _, _ in bad if f[38:54] == pkt.ip6("fc00:a::1"))
check("nfswitch counted %d frames on End (fc00:a::1: 2 good, %d dropped), 3 on End.DX4 "
      "(fc00:a::d4: 2 good, 1 malformed)" % (2 + nbad, nbad),
      [s["packets"] for s in sids] == [2 + nbad, 3], sids)
check("nfswitch's rules counted 1 frame each (to M after End; the 4 encapsulations)",
      [r["packets"] for r in rules] == [1, 1, 1, 1, 1], rules)
sys.exit(FAILED[0])
