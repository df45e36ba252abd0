"""steer_lib.py - nfswitch with pcap ports and a steering file, for the
steering tests (switch_rules.py, switch_groups.py).

    sw = Sw("name", nports, lines, {port: [frames]})   start, wait for input
    sw.cli("rules") -> (rc, stdout, stderr);  sw.js("rules") -> reply dict
    sw.inject(frames, name)      frames from a new pcap port (added, read,
                                 removed); returns what it was
    sw.new(port)                 frames written to port's OUT since last call
    sw.capture(ports, n, name)   nfchain capture --tx of ports, n frames
    sw.stop()                    SIGINT; exit status (ASan: 0 = clean)

Port i is pcap:T/NAME/inI.pcap,T/NAME/outI.pcap, named by its index in the
steering lines. Every frame helper returns bytes with right checksums
(tests/tools/pkt.py), plus the SRv6 pieces the switch's output is compared
against: srh(), encap() (H.Encaps with nf_srv6's flow label), flow_label().
"""
import json, os, signal, struct, subprocess, sys, time

ROOT = os.environ.get("ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from pkt import *  # noqa: E402,F401,F403

BIN = os.environ["BIN"]
T = os.environ["T"]
FAILED = [0]


def ok(d):
    print("ok - " + d, flush=True)


def not_ok(d):
    print("not ok - " + d, flush=True)
    FAILED[0] = 1


def check(d, cond, detail=""):
    (ok if cond else not_ok)(d + ("" if cond or not detail else " (%s)" % (detail,)))
    return cond


def check_eq(d, want, got):
    return check(d, want == got, "expected %r, got %r" % (want, got))


# ------------------------------------------------------------ frames


A_MAC, B_MAC = mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0b")


def u4(sport, dport, src="10.5.0.1", dst="10.6.0.1", tos=0, smac=A_MAC, dmac=B_MAC,
       data=b"steering test payload.", ttl=64):
    s, d = ip4(src), ip4(dst)
    return eth(v4(s, d, 17, udp(s, d, data, sport, dport), tos=tos, ttl=ttl), 0x0800, dmac, smac)


def t4(sport, dport, src="10.5.0.1", dst="10.6.0.1", smac=A_MAC, dmac=B_MAC):
    s, d = ip4(src), ip4(dst)
    return eth(v4(s, d, 6, tcp(s, d, sport, dport, TCP_SYN, data=b"tcp payload")), 0x0800,
               dmac, smac)


def u6(sport, dport, src="fd00:5::1", dst="fd00:6::1", tc=0, smac=A_MAC, dmac=B_MAC,
       data=b"steering test payload, v6"):
    s, d = ip6(src), ip6(dst)
    return eth(v6(s, d, 17, udp(s, d, data, sport, dport), tc=tc), 0x86dd, dmac, smac)


def vlan(fr, vid):
    return fr[:12] + struct.pack("!HH", 0x8100, vid) + fr[12:]


def reverse(fr):
    """The reply of an untagged IPv4/IPv6 UDP/TCP frame: MACs, addresses
    and ports swapped (checksums stay right: the sums are symmetric)."""
    et = struct.unpack("!H", fr[12:14])[0]
    b = bytearray(fr[6:12] + fr[0:6] + fr[12:])
    if et == 0x0800:
        hl = (b[14] & 15) * 4
        b[26:30], b[30:34] = fr[30:34], fr[26:30]
        l4 = 14 + hl
    else:
        b[22:38], b[38:54] = fr[38:54], fr[22:38]
        l4 = 54
    b[l4:l4 + 2], b[l4 + 2:l4 + 4] = fr[l4 + 2:l4 + 4], fr[l4:l4 + 2]
    return bytes(b)


def _mix(h, v):
    h = ((h ^ v) * 0x9e3779b1) & 0xffffffff
    return h ^ (h >> 15)


def flow_label(fr):
    """nf_srv6.c flow_label() of an untagged IPv4/IPv6 frame."""
    et = struct.unpack("!H", fr[12:14])[0]
    if et == 0x0800:
        ip, na, proto, l4 = fr[14:34], 2, fr[23], 14 + (fr[14] & 15) * 4
        words = struct.unpack("<2I", ip[12:20])
    else:
        na, proto, l4 = 8, fr[20], 54
        words = struct.unpack("<8I", fr[22:54])
    x = 0x5eed
    for w in words[:na]:
        x = _mix(x, w)
    x = _mix(x, proto)
    if proto in (6, 17):
        x = _mix(x, struct.unpack("<I", fr[l4:l4 + 4])[0])
    x = (x ^ (x >> 20)) & 0xfffff
    return x or 1


def srh(nh, segs, sl, red=False):
    """An SRH for traversal-order @segs (reduced: the first left out)."""
    lst = [ip6(s) for s in reversed(segs)]
    if red:
        lst = lst[:-1]
    return struct.pack("!BBBBBBH", nh, 2 * len(lst), 4, sl, len(lst) - 1, 0, 0) + b"".join(lst)


def encap(fr, segs, src="fd00::1", red=False, l2=False, fl=None):
    """H.Encaps(.Red)(.L2) of untagged @fr as nf_srv6_encaps() writes it."""
    et = struct.unpack("!H", fr[12:14])[0]
    if l2:
        inner, nh, tc = fr, 143, 0
    else:
        if et == 0x0800:
            inner, nh, tc = fr[14:14 + struct.unpack("!H", fr[16:18])[0]], 4, fr[15]
        else:
            inner = fr[14:54 + struct.unpack("!H", fr[18:20])[0]]
            nh, tc = 41, (struct.unpack("!H", fr[14:16])[0] >> 4) & 0xff
    fl = flow_label(fr) if fl is None else fl
    if red and len(segs) == 1:
        ext, first = b"", 0
        hnh = nh
    else:
        ext = srh(nh, segs, len(segs) - 1, red)
        hnh = 43
    hdr = struct.pack("!IHBB16s16s", 6 << 28 | tc << 20 | fl, len(ext) + len(inner), hnh, 64,
                      ip6(src), ip6(segs[0]))
    return fr[:12] + b"\x86\xdd" + hdr + ext + inner


def srv6_error(fr, sid, typ, code, ptr):
    """The ICMPv6 error nfswitch's SID @sid sends about @fr (untagged or
    one VLAN tag; docs/STEERING.md "ICMPv6 errors"): MACs swapped, the tag
    kept, from @sid to the packet's source, hop limit 64, class and label
    0, the IPv6 packet quoted up to a 1280-byte reply (RFC 4443 2.4 c)."""
    l2 = 18 if fr[12:14] == b"\x81\x00" else 14
    plen = struct.unpack("!H", fr[l2 + 4:l2 + 6])[0]
    quote = fr[l2:l2 + 40 + plen][:1280 - 48]
    s, d = ip6(sid), fr[l2 + 8:l2 + 24]
    return fr[6:12] + fr[0:6] + fr[12:l2 - 2] + b"\x86\xdd" + \
        v6(s, d, 58, icmp6(s, d, typ, code, ptr, quote))


def dec_ttl4(inner):
    """An IPv4 packet with TTL - 1 and its checksum recomputed."""
    b = bytearray(inner)
    b[8] -= 1
    b[10:12] = b"\0\0"
    hl = (b[0] & 15) * 4
    b[10:12] = struct.pack("!H", csum(bytes(b[:hl])))
    return bytes(b)

# ------------------------------------------------------------ steering files

# The flow cache's test configuration (switch_flowcache.py, and the seeds
# of tests/fuzz/fuzz_steer.c): every kind of entry; ports 0..7.
FC_LINES = [
    "group vnf 2/4@02:00:00:00:01:02 3/5@02:00:00:00:01:03",
    "group web 1 6",
    "sid fc00::a End.AD group vnf",
    "sid fc00::b End",
    "sid fc00::e End.DX4 6 02:00:00:00:0e:0e",
    "rule id 1 udp dport 1000-1999 action srv6-encap fc00::a,fc00::e",
    "rule id 9 udp dport 7000-7999 action srv6-encap fc00::a,fc00::b,fc00::e",
    "rule id 2 udp dport 2000-2999 action srv6-encap fc00::c,fc00::d output 1",
    "rule id 3 tcp dport 80 action group web",
    "rule id 4 udp dport 3000-3999 action set-dst-mac 02:00:00:00:09:09 output 1",
    "rule id 5 udp dport 4000-4999 action srv6-encap fc00::b,fc00::f output 1",
    "rule id 6 udp dport 5000-5999 action drop",
    "rule id 7 tcp dport 22 action count",
    "rule id 8 udp dport 6000 action mirror 6 output 1",
    "rule id 10 ip dscp 10 action output 6",
]

# Wide entries (DESIGN "Steering", the flow cache): rules that read only
# destinations and DSCP, so an entry may serve every flow to a destination
# when nothing on the way depended on the flow: one replica behind End.AD
# (solo), End.DX4, a MAC rewrite, DSCP; and next to them what must stay per
# flow: a group of two that hashes (duo), an encapsulation that leaves (its
# flow label), two chains through solo's proxy (the cached headers alternate).
FC_LINES_W = [
    "group solo 2/4@02:00:00:00:01:02",
    "group duo 1 3",
    "sid fc00::a End.AD group solo",
    "sid fc00::b End",
    "sid fc00::e End.DX4 6 02:00:00:00:0e:0e",
    "rule id 1 ip daddr 10.6.0.1 action srv6-encap fc00::a,fc00::e",
    "rule id 2 ip daddr 10.6.0.2 action group duo",
    "rule id 3 ip daddr 10.6.0.3 action srv6-encap fc00::c,fc00::d output 1",
    "rule id 4 ip daddr 10.6.0.4 action set-dst-mac 02:00:00:00:09:09 output 1",
    "rule id 5 ip dscp 10 action output 6",
    "rule id 6 ip daddr 10.6.0.6 action drop",
    "rule id 7 ip daddr 10.6.0.7 action srv6-encap fc00::a,fc00::b,fc00::e",
    "rule id 8 ip daddr 10.6.0.8 action count",
    "rule id 9 ip daddr 10.6.0.9 action srv6-encap fc00::e",
]


# ------------------------------------------------------------ the switch


class Sw:
    def __init__(self, name, nports, lines=None, inputs=None, extra=()):
        self.d = os.path.join(T, name)
        os.makedirs(self.d, exist_ok=True)
        self.ctl = os.path.join(self.d, "ctl")
        self.n = nports
        self.seen = {}
        inputs = inputs or {}
        cmd = [BIN + "/nfswitch", "-q", "-c", self.ctl] + list(extra)
        for i in range(nports):
            wpcap(self.inp(i), inputs.get(i, []))
            cmd += ["-p", "pcap:%s,%s" % (self.inp(i), self.out(i))]
        if lines is not None:
            self.steer = os.path.join(self.d, "steer.conf")
            open(self.steer, "w").write("".join(line + "\n" for line in lines))
            cmd += ["-S", self.steer]
        self.log = open(os.path.join(self.d, "sw.log"), "w")
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        with open(os.path.join(T, "pids"), "a") as f:
            f.write("%d\n" % self.p.pid)
        for _ in range(200):
            if os.path.exists(self.ctl) or self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(self.ctl):
            raise RuntimeError("nfswitch %s did not start: %s" % (name, open(
                os.path.join(self.d, "sw.log")).read()))
        self.wait_rx({i: len(f) for i, f in inputs.items()})

    def inp(self, i):
        return os.path.join(self.d, "in%s.pcap" % i)

    def out(self, i):
        return os.path.join(self.d, "out%s.pcap" % i)

    def cli(self, *args):
        r = subprocess.run([BIN + "/nfchain", "switch", "--ctl", self.ctl] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def js(self, *args):
        rc, out, err = self.cli("--json", *args)
        if rc != 0:
            raise RuntimeError("%s: %s" % (args, err))
        return json.loads(out)

    def ports(self):
        return {p["name"]: p for p in self.js("ports")["ports"]}

    def port(self, i):
        return [p for p in self.js("ports")["ports"] if p["index"] == i][0]

    def wait_rx(self, counts, name=None):
        """Wait until port i (index, or name) has read counts[i] frames."""
        for _ in range(400):
            ps = self.js("ports")["ports"]
            got = {}
            for p in ps:
                got[p["index"]] = got[p["name"]] = p["rx_packets"]
            if all(got.get(k, -1) >= v for k, v in counts.items()):
                time.sleep(0.05)
                return True
            time.sleep(0.025)
        raise RuntimeError("input not read: want %s" % counts)

    def inject(self, frames, name="inj", keep=False):
        """Frames from a new port NAME (pcap IN only: nothing written),
        removed once read unless @keep (frames a group holds are dropped
        at their release when their port is gone)."""
        path = os.path.join(self.d, name + ".pcap")
        wpcap(path, frames)
        rc, out, err = self.cli("add-port", "pcap:" + path, name)
        if rc != 0:
            raise RuntimeError("add-port: " + err)
        self.wait_rx({name: len(frames)})
        if not keep:
            self.cli("del-port", name)

    def new(self, i, want=None):
        """Frames port i wrote since the last take (waits for the flush:
        for at least len(want) frames when given, then 0.15 s more)."""
        return self.news([i], None if want is None else {i: want})[i]

    def news(self, ports, want=None):
        """new() of each of @ports with one wait for the flush: a dict
        port -> frames (@want: port -> the frames awaited, as for new())."""
        for i in want or ():
            k = self.seen.get(i, 0)
            for _ in range(60):
                if len(rpcap(self.out(i))) - k >= len(want[i]):
                    break
                time.sleep(0.05)
        time.sleep(0.15)
        return {i: self.take(i) for i in ports}

    def take(self, i):
        """Frames port i wrote since the last new(), news() or take()."""
        k = self.seen.get(i, 0)
        fr = rpcap(self.out(i))[k:]
        self.seen[i] = k + len(fr)
        return fr

    def capture(self, ports, count, name):
        """`nfchain capture --tx` of @ports into NAME.pcap until COUNT
        frames (10 s at most), once the earlier captures are gone, started
        and registered with the switch: (its process, the file)."""
        path = os.path.join(self.d, name + ".pcap")
        for want in (False, True):
            if want:
                p = subprocess.Popen([BIN + "/nfchain", "capture", "--ctl", self.ctl, "--tx",
                                      "-c", str(count), "-d", "10", "-w", path] +
                                     [str(x) for x in ports], stderr=subprocess.DEVNULL)
            for _ in range(100):
                if bool(self.js("captures")["captures"]) == want:
                    break
                time.sleep(0.05)
        return p, path

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        self.log.close()
        log = open(os.path.join(self.d, "sw.log")).read()
        bad = [x for x in log.splitlines() if "ERROR" in x or "runtime error" in x]
        return rc if not bad else "%s: %s" % (rc, bad[:3])

    def rules(self):
        return {r["id"]: (r["packets"], r["bytes"]) for r in self.js("rules")["rules"]}

    def drops(self):
        return self.js("steer-stats")["steer_drops"]

    def steering(self):
        return self.js("steering")["lines"]


def hexes(frames):
    return sorted(f.hex() for f in frames)


def same_frames(d, want, got):
    """Exact bytes, in order."""
    if want == got:
        ok(d)
        return True
    w, g = [f.hex() for f in want], [f.hex() for f in got]
    missing = [x for x in w if x not in g][:2]
    extra = [x for x in g if x not in w][:2]
    not_ok("%s (%d frames wanted, %d got; missing %s; unexpected %s)" % (
        d, len(want), len(got), missing, extra))
    return False
