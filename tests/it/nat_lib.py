"""nat_lib.py - what the nf-nat integration tests share (nat_rfc.py,
nat_diff.py, nat_limits.py): the topology, nf-nat as a child process, the
two raw sockets, the expected-frame builders and the ok / not ok output.

Topology (namespaces made by the shell script, links made here):

    IN (h1) ---veth--- (r1) R (r2) ---veth--- (h2) OUT
       10.1.0.0/24 inside          10.2.0.0/24 outside

R runs nf-nat on afpacket:r1 (inside) and afpacket:r2 (outside), with next
hops MAC_H1 / MAC_H2, so what leaves R has R's port MAC as source and the
host's as destination, as a router's frames have (the differential test
compares it to Linux byte for byte). The hosts have no IP stack: they are
AF_PACKET sockets held here.
"""
import argparse, os, signal, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pkt import *  # noqa: E402,F401,F403

MAC_H1, MAC_R1 = mac("02:00:00:00:01:02"), mac("02:00:00:00:01:01")
MAC_H2, MAC_R2 = mac("02:00:00:00:02:02"), mac("02:00:00:00:02:01")
WINDOW = 0.15		# seconds to wait for what a frame causes


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def topology(h1, r, h2):
    """Veths h1-r1 and r2-h2, up, no offloads; hosts without IPv6."""
    for ns in (h1, h2, r):
        run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1")
    run("ip", "-n", r, "link", "add", "r1", "address", "02:00:00:00:01:01", "type", "veth",
        "peer", "name", "h1", "address", "02:00:00:00:01:02", "netns", h1)
    run("ip", "-n", r, "link", "add", "r2", "address", "02:00:00:00:02:01", "type", "veth",
        "peer", "name", "h2", "address", "02:00:00:00:02:02", "netns", h2)
    for ns, dev in ((h1, "h1"), (h2, "h2"), (r, "r1"), (r, "r2")):
        subprocess.run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off", "gro",
                        "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run("ip", "-n", ns, "link", "set", dev, "up")


class Results:
    def __init__(self):
        self.failed = 0

    def check(self, cond, what):
        print(("ok - " if cond else "not ok - ") + what, flush=True)
        if not cond:
            self.failed += 1
        return cond

    def eq(self, want, got, what):
        if want == got:
            return self.check(True, what)
        return self.check(False, "%s (expected %r, got %r)" % (what, want, got))


class Nat:
    """nf-nat in namespace @ns with configuration @conf (text; the port,
    inside and outside lines are added)."""

    def __init__(self, binary, ns, tmp, name="nat"):
        self.binary, self.ns, self.tmp, self.name = binary, ns, tmp, name
        self.p = None
        self.ctl_path = os.path.join(tmp, name + ".ctl")

    def start(self, conf, next_hops=True):
        nh1 = " next-hop 02:00:00:00:01:02" if next_hops else ""
        nh2 = " next-hop 02:00:00:00:02:02" if next_hops else ""
        text = ("port r1 afpacket:r1 mac 02:00:00:00:01:01\n"
                "port r2 afpacket:r2 mac 02:00:00:00:02:01\n"
                "inside r1%s\noutside r2%s\n" % (nh1, nh2)) + conf
        path = os.path.join(self.tmp, self.name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        if os.path.exists(self.ctl_path):
            os.unlink(self.ctl_path)
        self.log = open(os.path.join(self.tmp, self.name + ".log"), "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", self.ns, self.binary, "-q", "-c",
                                   path, "--ctl", self.ctl_path], stdout=self.log,
                                  stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(self.ctl_path):
                break
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(self.ctl_path):
            raise RuntimeError("nf-nat did not start: " + open(self.log.name).read()[:300])
        self.base = self.drops()
        return self

    def stop(self):
        """SIGTERM; the exit status (None if it had to be killed)."""
        if self.p is None:
            return None
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.p = None
        self.log.close()
        return rc

    def ctl(self, req):
        return ctl(self.ctl_path, req)

    def drops(self):
        return dict(self.ctl("stats")["drops"])

    def new_drops(self):
        """Drop counters that moved since the last call (reason -> n)."""
        now = self.drops()
        d = {k: v - self.base.get(k, 0) for k, v in now.items() if v != self.base.get(k, 0)}
        self.base = now
        return d

    def nat_stats(self):
        return self.ctl("stats")["nat"]

    def sessions(self):
        return self.ctl("sessions")["sessions"]

    def mappings(self):
        return self.ctl("mappings")["mappings"]

    def set(self, key, value):
        r = self.ctl("conf set %s %s" % (key, value))
        if "error" in r:
            raise RuntimeError("conf set %s %s: %s" % (key, value, r["error"]))


class Wire:
    """The two hosts' sockets: send a frame from one, collect what arrives."""

    def __init__(self, h1, h2):
        self.socks = {"in": socket_in(h1, "h1"), "out": socket_in(h2, "h2")}

    def send(self, side, frame, wait=WINDOW, until=None):
        """The frames @frame causes within @wait seconds (with @until, see
        drain()). A unicast frame left from before (late for its own
        step) counts as this one's: it fails the check, not lost."""
        left = unicast(drain(self.socks, 0))
        self.socks[side].send(frame)
        return left + drain(self.socks, wait, until)

    def close(self):
        for s in self.socks.values():
            s.close()


# ------------------------------------------------------------ frames

def from_in(l3):
    """An IPv4 packet as sent by the inside host to R."""
    return eth(l3, 0x0800, MAC_R1, MAC_H1)


def from_out(l3):
    return eth(l3, 0x0800, MAC_R2, MAC_H2)


def to_out(l3):
    """An IPv4 packet as R sends it to the outside host."""
    return eth(l3, 0x0800, MAC_H2, MAC_R2)


def to_in(l3):
    return eth(l3, 0x0800, MAC_H1, MAC_R1)


def U4(src, dst, sport, dport, data=b"payload!", **kw):
    return v4(src, dst, 17, udp(src, dst, data, sport, dport), **kw)


def T4(src, dst, sport, dport, flags, seq=1000, ack=0, data=b"", **kw):
    return v4(src, dst, 6, tcp(src, dst, sport, dport, flags, seq, ack, data), **kw)


def ECHO(src, dst, ident, seq=1, reply=False, data=b"0123456789abcdef", **kw):
    return v4(src, dst, 1, icmp4(0 if reply else 8, 0, ident << 16 | seq, data), **kw)


def ICMPERR(src, dst, typ, code, quoted, rest=0, **kw):
    return v4(src, dst, 1, icmp4(typ, code, rest, quoted), **kw)


def describe(got):
    return "; ".join("%s: %s" % (side, summary(f)) for side, f in got) or "nothing"


class Case:
    """Sending frames and checking what they cause, for one nf-nat."""

    def __init__(self, nat, wire):
        self.nat, self.wire = nat, wire

    def one(self, side, frame, want_side):
        """Send; the single frame that arrived on @want_side, or None."""
        got = self.wire.send(side, frame, until=len)
        if len(got) == 1 and got[0][0] == want_side:
            return got[0][1]
        print("# sent %s, got %s" % (summary(frame), describe(got)))
        return None

    def exact(self, what, side, frame, want_side, want):
        """Send; exactly @want must arrive on @want_side, no drop counted."""
        got = self.wire.send(side, frame, until=len)
        drops = self.nat.new_drops()
        good = got == [(want_side, want)] and not drops
        if not good:
            print("# want %s: %s" % (want_side, summary(want)))
            print("# got  %s; drops %s" % (describe(got), drops))
            for s, f in got:
                if s == want_side and len(f) == len(want):
                    diff = [i for i in range(len(f)) if f[i] != want[i]]
                    print("# bytes differ at %s" % diff[:12])
        return good

    def dropped(self, side, frame, reason):
        got = self.wire.send(side, frame)
        drops = self.nat.new_drops()
        if got or drops != {reason: 1}:
            print("# %s: got %s, drops %s (want %s)" % (summary(frame), describe(got), drops,
                                                       reason))
            return False
        return True


def src_of(f):
    """(source address, source port / echo id) of a frame out of R."""
    hl = (f[14] & 15) * 4
    l4 = f[14 + hl:]
    if f[14 + 9] == 1:
        return f[26:30], struct.unpack("!H", l4[4:6])[0]
    return f[26:30], struct.unpack("!H", l4[0:2])[0]


def session(nat, proto, inside):
    for s in nat.sessions():
        if s["protocol"] == proto and s["inside"] == inside:
            return s
    return None


def run_configs(res, configs):
    """The main of a one-topology test: for each (configuration, function)
    start nf-nat, run function(Case), stop it (exit status checked).
    Returns the exit status for sys.exit."""
    ap = argparse.ArgumentParser()
    for arg in ("--bin", "--h1", "--r", "--h2", "--tmp"):
        ap.add_argument(arg, required=True)
    a = ap.parse_args()
    topology(a.h1, a.r, a.h2)
    wire = Wire(a.h1, a.h2)
    for conf, fn in configs:
        nat = Nat(a.bin, a.r, a.tmp)
        try:
            nat.start(conf)
            fn(Case(nat, wire))
        except Exception as e:	# a crash of the test is a failure, not an exit
            res.check(False, "%s: %s: %s" % (fn.__name__, type(e).__name__, e))
        finally:
            rc = nat.stop()
        res.eq(0, rc, "%s: nf-nat exits cleanly on SIGTERM" % fn.__name__)
    wire.close()
    return 1 if res.failed else 0
