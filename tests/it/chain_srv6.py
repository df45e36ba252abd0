"""chain_srv6.py - the Python half of chain_srv6.sh (the chain is there).

Raw sockets on the client's and the server's veths send 100 UDP flows
through the SRv6 chain router -> NAT -> firewall (2 replicas) and the
server's replies back; the firewalls' conntrack tables say which replica
each flow visited. Then replica 1 leaves the group and the flows are sent
again. Prints ok/not ok lines and the figures.
"""
import argparse, os, struct, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steer_lib import FAILED, check, check_eq, csum, drain, eth, ip4, mac, pseudo, \
    socket_in, udp, v4, ctl, astr  # noqa: E402

ap = argparse.ArgumentParser()
for a in ("c", "s", "sw-ctl", "nfchain", "cmac", "smac"):
    ap.add_argument("--" + a, required=True)
A = ap.parse_args()
T = os.environ["T"]
CMAC, SMAC = mac(A.cmac), mac(A.smac)
GW = mac("02:00:00:00:c5:fe")		# any: the switch steers by rules
SERVER, PUBLIC, PORT = "203.0.113.2", "198.51.100.1", 7000
N = 100
FLOWS = [("10.1.0.%d" % (2 + i % 4), 10000 + i) for i in range(N)]


def udp_frame(src, sport, dst, dport, data, dmac, smac):
    s, d = ip4(src), ip4(dst)
    return eth(v4(s, d, 17, udp(s, d, data, sport, dport)), 0x0800, dmac, smac)


def parse_udp(f):
    """(src, sport, dst, dport, ttl, data, checksums good) of a UDP/IPv4
    frame, or None."""
    if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
        return None
    hl = (f[14] & 15) * 4
    ip = f[14:14 + struct.unpack("!H", f[16:18])[0]]
    u = ip[hl:]
    good = csum(ip[:hl]) == 0 and csum(pseudo(ip[12:16], ip[16:20], 17, len(u)) + u) == 0
    return (astr(ip[12:16]), struct.unpack("!H", u[0:2])[0], astr(ip[16:20]),
            struct.unpack("!H", u[2:4])[0], ip[8], u[8:], good)


csock, ssock = socket_in(A.c, "c0"), socket_in(A.s, "s0")
socks = {"c": csock, "s": ssock}
drain(socks, 0.2)


def run_round(r):
    """Flows out (client -> server) and replies back (server -> client),
    round @r. Returns {flow: NAT port} of the datagrams the server got."""
    for i, (src, sport) in enumerate(FLOWS):
        csock.send(udp_frame(src, sport, SERVER, PORT, b"r%d flow %03d" % (r, i), GW, CMAC))
    got = [f for n, f in drain(socks, 2.0) if n == "s"]
    natport, bad = {}, []
    for f in got:
        u = parse_udp(f)
        if u is None:
            continue
        src, sport, dst, dport, ttl, data, good = u
        i = int(data.split(b" ")[-1]) if data.startswith(b"r%d flow " % r) else -1
        if (f[0:6] == SMAC and src == PUBLIC and dst == SERVER and dport == PORT and
                ttl == 62 and good and 0 <= i < N and i not in natport):
            natport[i] = sport
        else:
            bad.append(f.hex())
    check_eq("round %d: the server got every one of the %d flows exactly once, from the NAT's "
             "address %s, TTL 64 - 2 (router, End.DX4), checksums good" % (r, N, PUBLIC),
             (N, []), (len(natport), bad[:3]))
    for i, p in natport.items():
        ssock.send(udp_frame(SERVER, PORT, PUBLIC, p, b"r%d reply %03d" % (r, i), GW, SMAC))
    back, bad = set(), []
    for n, f in drain(socks, 2.0):
        u = parse_udp(f) if n == "c" else None
        if u is None:
            continue
        src, sport, dst, dport, ttl, data, good = u
        i = int(data.split(b" ")[-1]) if data.startswith(b"r%d reply " % r) else -1
        if (0 <= i < N and f[0:6] == CMAC and (dst, dport) == FLOWS[i] and src == SERVER and
                sport == PORT and ttl == 62 and good and i not in back):
            back.add(i)
        else:
            bad.append(f.hex())
    check_eq("round %d: every reply came back to its client address and port (NAT undone), "
             "TTL 62, checksums good" % r, (len(natport), []), (len(back), bad[:3]))
    return natport


def conntrack(r):
    """{orig tuple: (packets_orig, packets_reply)} of firewall replica @r."""
    d = ctl(os.path.join(T, "fw%d.ctl" % r), "conntrack 10000")
    return {e["orig"]: (e["packets_orig"], e["packets_reply"]) for e in d["conntrack"]}


def tuple_of(port):
    return "src=%s dst=%s sport=%d dport=%d" % (PUBLIC, SERVER, port, PORT)


def groups():
    d = ctl(A.sw_ctl, "groups")
    return {g["name"]: [m["packets"] for m in g["members"]] for g in d["groups"]}


# ---------------------------------------------------------------- round 1
nat1 = run_round(1)
check("the NAT translated every flow to a distinct port",
      len(set(nat1.values())) == len(nat1) == N, sorted(nat1.values())[:10])
ct = [conntrack(0), conntrack(1)]
where1, bad = {}, []
for i, p in nat1.items():
    on = [r for r in (0, 1) if tuple_of(p) in ct[r]]
    if len(on) == 1 and ct[on[0]][tuple_of(p)] == (1, 1):
        where1[i] = on[0]
    else:
        bad.append((i, p, [ct[r].get(tuple_of(p)) for r in (0, 1)]))
n0 = sum(1 for r in where1.values() if r == 0)
n1 = len(where1) - n0
print("# round 1: %d flows on firewall replica 0, %d on replica 1" % (n0, n1))
check_eq("each flow is in exactly one firewall replica's conntrack, with 1 packet each way "
         "(both directions visited the same replica)", (N, []), (len(where1), bad[:5]))
check("both replicas carry flows (%d / %d)" % (n0, n1), n0 > 0 and n1 > 0)
check_eq("no other connection in the firewalls", N, len(ct[0]) + len(ct[1]))
g = groups()
check_eq("nfswitch's group counters: each replica got 2 frames per flow (F and F' pick the "
         "same member), the router and NAT 2 per flow",
         {"fw": [2 * n0, 2 * n1], "rt": [2 * N], "nat": [2 * N]}, g)

# ---------------------------------------------------------------- round 2
rc = subprocess.run([A.nfchain, "switch", "--ctl", A.sw_ctl, "del-member", "fw", "1"],
                    capture_output=True, text=True)
check_eq("nfchain switch del-member fw 1", 0, rc.returncode)
nat2 = run_round(2)
check_eq("round 2: the NAT kept every flow's mapping", nat1, nat2)
ct2 = [conntrack(0), conntrack(1)]
moved, stayed, bad = [], [], []
for i, r in where1.items():
    t = tuple_of(nat1[i])
    grew = [q for q in (0, 1) if ct2[q].get(t, (0, 0)) != ct[q].get(t, (0, 0))]
    if grew == [r] and ct2[r][t] == (2, 2):
        stayed.append(i)
    elif r == 1 and grew == [0] and ct2[0].get(t) == (1, 1) and ct2[1][t] == (1, 1):
        moved.append(i)
    else:
        bad.append((i, r, [ct[q].get(t) for q in (0, 1)], [ct2[q].get(t) for q in (0, 1)]))
print("# removing replica 1: %d of %d flows changed replica (replica 1 had %d)" %
      (len(moved), N, n1))
check_eq("every flow is accounted for: stayed on its replica, or moved from replica 1 to 0",
         [], bad[:5])
check_eq("flows that changed replica = exactly the flows of replica 1",
         sorted(i for i, r in where1.items() if r == 1), sorted(moved))
check_eq("replica 0's flows all kept it: their conntrack entries there now count 2 packets "
         "each way", sorted(i for i, r in where1.items() if r == 0),
         sorted(i for i in stayed if where1[i] == 0))
g2 = groups()
check_eq("nfswitch's group counters after the removal: replica 1 got nothing more",
         [2 * n0 + 2 * N, 2 * n1], g2["fw"])
sids = {x["sid"].split()[1]: x["packets"] for x in ctl(A.sw_ctl, "sids")["sids"]}
check_eq("nfswitch's SID counters: every SID of both directions handled 2 x %d frames" % N,
         {s: 2 * N for s in ("fc00:e::1", "fc00:e::2", "fc00:e::3", "fc00:e::4", "fc00:e::11",
                              "fc00:e::12", "fc00:e::13", "fc00:e::14")}, sids)
st = ctl(A.sw_ctl, "steer-stats")["steer_drops"]
check_eq("no steering or SRv6 drops in nfswitch", {}, st)
sys.exit(FAILED[0])
