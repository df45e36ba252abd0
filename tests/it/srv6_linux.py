"""srv6_linux.py TOOL H1 R1 E D Y - the Python half of srv6_linux.sh.

Namespaces (built by the shell half): H1 (10.1.0.1) -> R1, Linux head end
(`encap seg6 mode encap segs fc00::e,fc00::d4`) -> E (seg6local End on
fc00::e) -> D (seg6local End.DX4 on fc00::d4, nh4 10.2.0.2) -> Y
(10.2.0.2). Raw sockets in E, D and Y capture what Linux sends; srv6_tool
(our nf_srv6) runs on the captures and must give the very bytes Linux gave;
then frames our H.Encaps builds are sent into Linux's End and End.DX4 and
must come out of Y as the inner packet we expect. Prints ok/not ok lines.
"""
import os, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import pkt  # noqa: E402

TOOL, H1, R1, E, D, Y, X = sys.argv[1:8]
MAC = {n: pkt.mac("02:00:00:00:00:%02x" % i) for i, n in
       enumerate(["h1a", "r1a", "r1b", "ea", "eb", "da", "db", "ya", "r1c", "xa"], 1)}
failed = False


def check(what, cond, detail=""):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        failed = True
        if detail:
            print("#   " + str(detail))


def tool(*args):
    r = subprocess.run([TOOL] + list(args), capture_output=True, text=True)
    return r.stdout.strip()


def is_srv6(f):
    return len(f) > 54 and f[12:14] == b"\x86\xdd" and f[20] in (43, 4)


def is_probe(f):
    return (len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] == 17 and
            f[36:38] == b"\x00\x09")


socks = {"x": pkt.socket_in(X, "xa"), "d": pkt.socket_in(D, "da"),
         "y": pkt.socket_in(Y, "ya")}
h1 = pkt.socket_in(H1, "h1a")
into_e = pkt.socket_in(R1, "r1b")	# sends arrive at E's ea
into_d = pkt.socket_in(E, "eb")		# sends arrive at D's da
pkt.drain(socks, 0.2)


def send_and_collect(sock, frame):
    sock.send(frame)
    got = pkt.drain(socks, 1.0)
    return ([f for n, f in got if n == "x" and is_srv6(f)],
            [f for n, f in got if n == "d" and is_srv6(f)],
            [f for n, f in got if n == "y" and is_probe(f)])


def probe_to(dst):
    return pkt.v4(pkt.ip4("10.1.0.1"), pkt.ip4(dst), 17,
                  pkt.udp(pkt.ip4("10.1.0.1"), pkt.ip4(dst), b"nfchain-srv6", 5555, 9),
                  ttl=64)


# 1. Linux's chain end to end
inner = probe_to("10.2.0.2")
_, b, c = send_and_collect(h1, pkt.eth(inner, 0x0800, MAC["r1a"], MAC["h1a"]))
check("Linux's H.Encaps, End and End.DX4 pass the probe end to end",
      len(b) == 1 and len(c) == 1, (len(b), len(c)))

# 2. Linux encapsulates (captured in x); our parser, End and End.DX4
#    against Linux's End and End.DX4 on the same frame
a, _, _ = send_and_collect(h1, pkt.eth(probe_to("10.3.0.2"), 0x0800, MAC["r1a"], MAC["h1a"]))
check("Linux's encapsulation of the second policy captured in x", len(a) == 1, len(a))
b = c = []
if len(a) == 1:
    a = a[0]
    check("nf_srv6_srh_parse accepts Linux's SRH: SL 1, last 1, next IPIP, segments",
          tool("parse", a.hex()) == "ok sl=1 last=1 next=4 segs=fc00::d4,fc00::f",
          tool("parse", a.hex()))
    _, b, c = send_and_collect(into_e, MAC["ea"] + MAC["r1b"] + a[12:])
    check("Linux's End and End.DX4 pass the injected frame", len(b) == 1 and len(c) == 1,
          (len(b), len(c)))
if len(b) == 1 and len(c) == 1:
    b, c = b[0], c[0]
    ours = tool("end", a.hex())
    check("our End on Linux's encapsulation = Linux's End (IPv6 on, byte for byte)",
          ours[28:] == b.hex()[28:], (ours[28:200], b.hex()[28:200]))
    ours = tool("dx4", b.hex(), c[0:6].hex(":"), c[6:12].hex(":"))
    check("our End.DX4 on Linux's End output = Linux's End.DX4 (inner TTL - 1)",
          ours == c.hex(), (ours, c.hex()))
    check("Linux's End.DX4 decrements the inner TTL (64 in, 63 out) as ours does",
          b[14 + 40 + 40 + 8] == 64 and c[22] == 63, (b[14 + 40 + 40 + 8], c[22]))

# 3. our H.Encaps into Linux's seg6local
probe = pkt.eth(inner, 0x0800, MAC["r1a"], MAC["h1a"])
cases = [("H.Encaps, one segment (SRH, SL 0) into Linux End.DX4", "encaps", "fc00::d4", "d"),
         ("H.Encaps.Red, one segment (no SRH) into Linux End.DX4", "red", "fc00::d4", "d"),
         ("H.Encaps, two segments into Linux End then End.DX4", "encaps", "fc00::e,fc00::d4", "e"),
         ("H.Encaps.Red, two segments (reduced SRH) into Linux End then End.DX4",
          "red", "fc00::e,fc00::d4", "e"),
         ("H.Encaps, three segments (End twice) into Linux", "encaps",
          "fc00::e,fc00::e,fc00::d4", "e")]
for what, mode, segs, where in cases:
    enc = bytes.fromhex(tool("encaps", mode, "fd00::1", segs, probe.hex()))
    if where == "d":
        enc = MAC["da"] + MAC["eb"] + enc[12:]
        sock = into_d
    else:
        enc = MAC["ea"] + MAC["r1b"] + enc[12:]
        sock = into_e
    _, _, out = send_and_collect(sock, enc)
    ok = len(out) == 1
    if ok:
        # what Linux delivers: the inner packet, TTL 64 - 1, Linux's MACs
        exp = out[0][:12] + b"\x08\x00" + inner[:8] + b"\x3f" + inner[9:10] + \
            pkt.csum(inner[:8] + b"\x3f" + inner[9:10] + b"\0\0" + inner[12:20]).to_bytes(2, "big") + \
            inner[12:]
        ok = out[0] == exp
    check(what + ": the inner packet comes out of Y intact",
          ok, [o.hex() for o in out])

sys.exit(1 if failed else 0)
