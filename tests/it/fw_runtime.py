"""fw_runtime.py - the steps of tests/it/firewall_runtime.sh: nf-firewall's
runtime requests, checked by the frames that pass or not.

Rule set a (the configuration's a.rules, policy drop):
    0 ct state established,related accept
    1 ct state invalid drop
    2 iifname r1 tcp dport 80 accept
    3 iifname r1 udp dport 9 accept
    4 counter drop
Rule set b (load-rules): new TCP connections to 80 are no longer allowed.
"""
import argparse, os, struct, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pkt import *  # noqa: E402,F401,F403

MAC_R1, MAC_R2 = mac("02:00:00:00:01:01"), mac("02:00:00:00:02:01")
MAC_H1, MAC_H2 = mac("02:00:00:00:01:02"), mac("02:00:00:00:02:02")
C, S = ip4("10.1.0.2"), ip4("10.2.0.2")
S_, A_, F_, P_ = 0x02, 0x10, 0x01, 0x08
failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print("ok - " + what, flush=True)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + detail) if detail else ""), flush=True)


class Net:
    def __init__(self, h1, h2):
        self.s = {"h1": socket_in(h1, "h1"), "h2": socket_in(h2, "h2")}
        drain(self.s, 0.2)

    def send(self, side, l3):
        src, dst = (MAC_H1, MAC_R1) if side == "h1" else (MAC_H2, MAC_R2)
        self.s[side].send(eth(l3, 0x0800, dst, src))

    def step(self, side, l3, window=0.1):
        """Send one IPv4 packet; True if it came out on the other side."""
        self.send(side, l3)
        other = "h2" if side == "h1" else "h1"
        want = summary(eth(l3, 0x0800, MAC_R1, MAC_H1))
        return any(n == other and summary(f) == want for n, f in drain(self.s, window))


def t(src, dst, sp, dp, fl, seq, ack, data=b""):
    return v4(src, dst, 6, tcp(src, dst, sp, dp, fl, seq, ack, data))


def u(src, dst, sp, dp, data=b"x" * 8):
    return v4(src, dst, 17, udp(src, dst, data, sp, dp))


def main():
    ap = argparse.ArgumentParser()
    for a in ("h1", "h2", "ctl", "dir"):
        ap.add_argument("--" + a, required=True)
    o = ap.parse_args()
    n = Net(o.h1, o.h2)
    c = lambda req: ctl(o.ctl, req)  # noqa: E731

    # A connection under rule set a.
    check("SYN to port 80 passes (rule 2)", n.step("h1", t(C, S, 40001, 80, S_, 100, 0)))
    check("SYN/ACK back passes (established)", n.step("h2", t(S, C, 80, 40001, S_ | A_, 500, 101)))
    check("ACK passes", n.step("h1", t(C, S, 40001, 80, A_, 101, 501)))
    check("SYN to port 81 is dropped (rule 4)", not n.step("h1", t(C, S, 40002, 81, S_, 7, 0)))
    r = c("rules")
    cnt = [x["packets"] for x in r["rules"]]
    check("rules: generation 1, 5 rules", r.get("generation") == 1 and len(cnt) == 5, str(r))
    check("rules: per-rule packet counters [2, 0, 1, 0, 1]", cnt == [2, 0, 1, 0, 1], str(cnt))
    check("rules: rule 4 counted the SYN's 40 bytes", r["rules"][4]["bytes"] == 40, str(r["rules"][4]))
    ct = c("conntrack")
    e = [x for x in ct["conntrack"] if "dport=80" in x["orig"]]
    check("conntrack: the connection is ESTABLISHED with 2 + 1 packets",
          len(e) == 1 and e[0].get("state") == "ESTABLISHED" and e[0]["packets_orig"] == 2
          and e[0]["packets_reply"] == 1, str(ct))

    # Replace the rule set: port 80 is closed for new connections.
    b = os.path.join(o.dir, "b.rules")
    with open(b, "w") as fp:
        fp.write("ct state established,related accept\nct state invalid drop\n"
                 "iifname r1 udp dport 9 accept\ncounter drop\n")
    r = c("load-rules " + b)
    check("load-rules b: generation 2 with 4 rules", r.get("ok") and r.get("generation") == 2
          and r.get("rules") == 4, str(r))
    check("data on the established connection passes after the swap",
          n.step("h1", t(C, S, 40001, 80, P_ | A_, 101, 501, b"GET /\r\n")))
    check("data back passes", n.step("h2", t(S, C, 80, 40001, P_ | A_, 501, 108, b"hello")))
    check("a new SYN to port 80 is dropped by rule set b",
          not n.step("h1", t(C, S, 40003, 80, S_, 9, 0)))
    cnt = [x["packets"] for x in c("rules")["rules"]]
    check("rules b: counters start at zero: [2, 0, 0, 1]", cnt == [2, 0, 0, 1], str(cnt))

    # A broken file changes nothing.
    bad = os.path.join(o.dir, "bad.rules")
    with open(bad, "w") as fp:
        fp.write("ct state established accept\ntcp dport 70000 accept\n")
    r = c("load-rules " + bad)
    check("load-rules of a broken file fails with file:line",
          not r.get("ok") and "bad.rules:2:" in r.get("error", ""), str(r))
    r = c("rules")
    check("... and generation 2 stays", r.get("generation") == 2 and len(r["rules"]) == 4, str(r))
    check("... and the connection still passes",
          n.step("h2", t(S, C, 80, 40001, A_, 506, 108)))
    st = c("stats")["firewall"]
    check("stats: one load, one load error", st["loads"] == 1 and st["load_errors"] == 1, str(st))

    # Flush the table: the connection's next ACK is NEW (mid-stream pickup)
    # and rule set b does not accept new TCP.
    r = c("conntrack-flush")
    check("conntrack-flush flushed the entry", r.get("flushed") == 1, str(r))
    check("after the flush the connection's ACK is new: dropped",
          not n.step("h1", t(C, S, 40001, 80, A_, 108, 506)))

    # The flow cache (DESIGN "nf-firewall"): an established connection's
    # steady packets are decided by it, and whatever changes their decision
    # (a new rule set, the policy, a flushed table) takes effect on the
    # next packet; the counters stay exact.
    sets = {"c": "ct state established,related accept\nct state invalid drop\n"
                 "iifname r1 tcp dport 80 accept\ncounter drop\n",
            "d": "ct state established tcp dport 80 drop\nct state established,related accept\n"
                 "iifname r1 tcp dport 80 accept\ncounter drop\n",
            "e": "ct state invalid drop\niifname r1 tcp dport 80 ct state new accept\n",
            "f": "ct state established,related accept\ncounter drop\n"}
    for k, text in sets.items():
        with open(os.path.join(o.dir, k + ".rules"), "w") as fp:
            fp.write(text)
    load = lambda k: c("load-rules " + os.path.join(o.dir, k + ".rules")).get("ok")  # noqa: E731
    ack = lambda: n.step("h1", t(C, S, 40011, 80, A_, 201, 601))  # noqa: E731
    check("load-rules c", load("c"))
    ok = (n.step("h1", t(C, S, 40011, 80, S_, 200, 0)) and
          n.step("h2", t(S, C, 80, 40011, S_ | A_, 600, 201)) and ack())
    check("cache: a connection under rule set c", ok)
    check("cache: six more ACKs pass", all(ack() for _ in range(6)))
    r = c("rules")
    cnt = [x["packets"] for x in r["rules"]]
    check("cache: the six ACKs were flow cache hits",
          r["classifier"].get("flow_cache_hits") == 6, str(r["classifier"]))
    check("cache: rule counters exact [8, 0, 1, 0]", cnt == [8, 0, 1, 0], str(cnt))
    check("cache: rule 0 counted 8 packets of 40 bytes", r["rules"][0]["bytes"] == 320,
          str(r["rules"][0]))
    e = [x for x in c("conntrack")["conntrack"] if "sport=40011" in x["orig"]]
    check("cache: conntrack counted every packet (8 + 1)", len(e) == 1 and
          e[0]["packets_orig"] == 8 and e[0]["packets_reply"] == 1, str(e))
    check("cache: load-rules d (established to 80 dropped)", load("d"))
    check("cache: the next ACK is dropped by rule set d", not ack())
    check("cache: ... and the one after (cached drop)", not ack())
    cnt = [x["packets"] for x in c("rules")["rules"]]
    check("cache: rules d counters [2, 0, 0, 0]", cnt == [2, 0, 0, 0], str(cnt))
    check("cache: load-rules c again", load("c"))
    check("cache: the next ACK passes again", ack() and ack())
    check("cache: load-rules e (no rule for established: the policy)", load("e"))
    check("cache: policy drop drops the ACK", not ack() and not ack())
    r = c("conf set policy accept")
    check("cache: conf set policy accept", r.get("ok"), str(r))
    check("cache: the next ACK passes (policy accept)", ack() and ack())
    r = c("conf set policy drop")
    check("cache: the next ACK is dropped again (policy drop)", r.get("ok") and not ack())
    pol = c("rules")["policy"]
    check("cache: the policy counted its 5 packets", pol["packets"] == 5, str(pol))
    check("cache: load-rules f (established only)", load("f") and ack() and ack())
    r = c("conntrack-flush")
    check("cache: after conntrack-flush the cached connection's ACK is new: dropped",
          r.get("flushed", 0) >= 1 and not ack(), str(r))
    check("load-rules b again (it accepts the UDP below)", c("load-rules " + b).get("ok"))

    # Reloads under traffic: two rule sets that both accept UDP to port 9
    # (at different places) swapped 40 times while 3000 packets flow.
    x, y = os.path.join(o.dir, "x.rules"), os.path.join(o.dir, "y.rules")
    with open(x, "w") as fp:
        fp.write("iifname r1 udp dport 9 accept\ncounter drop\n")
    with open(y, "w") as fp:
        fp.write("".join("ip saddr 192.0.2.%d drop\n" % i for i in range(1, 200)) +
                 "udp dport 9 accept\ncounter drop\n")
    drain(n.s, 0.1)
    got, stop = [0], [False]

    def count(frames):
        got[0] += sum(nm == "h2" and summary(f).startswith("UDP 10.1.0.2:5000 > 10.2.0.2:9")
                      for nm, f in frames)

    def rx():
        while not stop[0]:
            count(drain(n.s, 0.05))
    th = threading.Thread(target=rx)
    th.start()
    loads = 0
    for i in range(3000):
        n.send("h1", u(C, S, 5000, 9))
        if i % 75 == 0:
            loads += bool(c("load-rules " + (x if loads % 2 == 0 else y)).get("ok"))
        if i % 200 == 0:
            time.sleep(0.01)
    time.sleep(0.5)
    stop[0] = True
    th.join()
    count(drain(n.s, 0.5))	# what a slow (sanitized) firewall forwarded last
    check("40 reloads under traffic succeeded", loads == 40, str(loads))
    st = c("stats")
    # (SOL_PACKET, PACKET_STATISTICS): what h2's socket dropped, if it did.
    sock = struct.unpack("II", n.s["h2"].getsockopt(263, 6, 8))
    check("no UDP packet lost across the reloads (%d of 3000)" % got[0], got[0] == 3000,
          "socket h2 packets/drops %s, ports %s, firewall %s" % (sock, [
              {k: p[k] for k in ("rx_packets", "tx_packets", "drops")} for p in st["ports"]],
              st.get("firewall")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
