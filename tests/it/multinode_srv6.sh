# multinode_srv6.sh - a chain across three nodes over an SRv6 underlay,
# with hand-written steering (what the node agents will generate):
#
#   nf-gen --memif--> [mn-n1 nfswitch] End.AD router (nf-router)
#     --afxdp up0--> mn-r1 (Linux, IPv6 forwarding)
#     --> [mn-n2 nfswitch] End.AD nat (nf-nat)
#     --> mn-r1 --> mn-r2 --> [mn-n3 nfswitch] End.AD fw (nf-firewall),
#     End.DX4 wan --memif--> nf-gen
#
# The head end on n1 encapsulates with fc00:0:1:1::1, fc00:0:2:1::2,
# fc00:0:3:1::3, fc00:0:3:1::ff (chain 1, functions 1..3 and ff on their
# nodes' locators); every node sends the other locators out of its uplink
# to its router's MAC. Checks: 5000 frames of 100 flows all arrive; per
# node the SIDs' counters; tcpdump on the routers' links and tshark: each
# link carries an SRH with the full segment list and the segments-left,
# destination, hop limit and inner packet (router's TTL, NAT's source)
# expected there, and no expert warning; what n3 delivers (NAT's source,
# TTL). The way back (the planner's reverse proxies fc00:0:N:1::10J and
# End.DX4 ::1ff): a reply per flow, injected on n3, reaches each client's
# address and port on n1. A frame with a broken SRH sent from r1 to n2's
# SID is dropped and counted (srv6-bad-srh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/mn/lib.sh"
san_to_files

cleanup mn_topo_down
check "topology: 3 nodes, 2 routers, management network" mn_topo_up
check "management network: n1 reaches the etcd namespace e3, the root namespace n3" \
	eval 'ip netns exec "$MN-n1" ping -c1 -W2 -q 10.99.0.13 >/dev/null &&
	ping -c1 -W2 -q 10.99.0.3 >/dev/null'
GEN_MAC=02:00:00:00:c5:02 CLIENT_MAC=02:00:00:00:c5:01
SEGS=fc00:0:1:1::1,fc00:0:2:1::2,fc00:0:3:1::3,fc00:0:3:1::ff
M() { echo "memif:$MN_RUN/n$1/sw.sock,id=$2"; }

# Ports: n1: 0 lan (nf-gen), 1/2 router lan/wan; n2: 0/1 nat in/out;
# n3: 0/1 firewall fin/fout, 2 wan (nf-gen); uplink on each.
{
	echo "group router 1/2@$MN_RT_LAN/$MN_RT_WAN"
	echo "sid fc00:0:1:1::1 End.AD group router"
	echo "sid fc00:0:1:1::101 End.AD group router reverse"
	echo "sid fc00:0:1:1::1ff End.DX4 0 $CLIENT_MAC"
	echo "rule id 1 in-port 0 ip daddr 203.0.113.0/24 action srv6-encap $SEGS"
	mn_steering 1
} >"$MN_RUN/n1/steer"
{
	echo "group nat 0/1"
	echo "sid fc00:0:2:1::2 End.AD group nat"
	echo "sid fc00:0:2:1::102 End.AD group nat reverse"
	mn_steering 2
} >"$MN_RUN/n2/steer"
{
	echo "group fw 0/1"
	echo "sid fc00:0:3:1::3 End.AD group fw"
	echo "sid fc00:0:3:1::103 End.AD group fw reverse"
	echo "sid fc00:0:3:1::ff End.DX4 2 $GEN_MAC"
	mn_steering 3
} >"$MN_RUN/n3/steer"
declare -A SW
for n in 1 2 3; do
	mn_switch "$n" $((n == 2 ? 2 : 3)) -m intr
	SW[$n]=$MN_SWPID
	mn_ctl "$n" load-steering "$MN_RUN/n$n/steer" >/dev/null
done
check "each node's switch runs with its uplink (AF_XDP on up0) and steering" bash -c '
	for n in 1 2 3; do
		"$0" switch --ctl "$1/n$n/sw.ctl" --json ports | python3 -c "
import json, sys
p = [x for x in json.load(sys.stdin)[\"ports\"] if x[\"name\"] == \"uplink\"]
assert p and p[0][\"type\"] == \"afxdp\" and p[0][\"up\"], p" || exit 1
		[ "$("$0" switch --ctl "$1/n$n/sw.ctl" sids | wc -l)" -ge 1 ] || exit 1
	done' "$BIN/nfchain" "$MN_RUN"

mn_vnf_confs "$T" intr "$(M 1 1)" "$(M 1 2)" "$(M 2 0)" "$(M 2 1)" "$(M 3 0)" "$(M 3 1)"
# the way back: the router delivers the replies to the 100 clients
for i in $(seq 2 101); do echo "neighbor lan 10.1.0.$i $CLIENT_MAC"; done >>"$T/router.conf"
spawn ip netns exec "$MN-n1" "$BIN/nf-router" -q -c "$T/router.conf" --ctl "$T/router.ctl"
VNF=("nf-router $SPAWNED")
spawn ip netns exec "$MN-n2" "$BIN/nf-nat" -q -c "$T/nat.conf" --ctl "$T/nat.ctl"
VNF+=("nf-nat $SPAWNED")
spawn ip netns exec "$MN-n3" "$BIN/nf-firewall" -q -c "$T/fw.conf" --ctl "$T/fw.ctl"
VNF+=("nf-firewall $SPAWNED")
started=1
for c in router nat fw; do wait_for "$T/$c.ctl" 10 || started=0; done
check "nf-router on n1, nf-nat on n2, nf-firewall on n3 start" test "$started" = 1
check "their memif ports are connected to their node's switch" \
	eval 'mn_memif_up 1 2 && mn_memif_up 2 2 && mn_memif_up 3 2'

# tcpdump on the routers: n1 -> r1, r1 <-> n2 (both ways), r1 -> r2, r2 -> n3
CAPS="r1:n1 r1:n2 r1:r2 r2:n3"
TD=()
for c in $CAPS; do
	# --immediate-mode: without it the last frames wait in a ring block
	# that is handed over after a second (two CI runs lost 40 of 5000
	# on two links, the kernel counting no drop)
	ip netns exec "$MN-${c%:*}" tcpdump --immediate-mode -B 32768 -U -n -s 256 -i "${c#*:}" -w "$T/${c/:/-}.pcap" \
		'ip6[6] == 43' 2>"$T/${c/:/-}.td" &
	TD+=($!)
	cleanup "kill ${TD[-1]}"
done
for c in $CAPS; do
	for i in $(seq 100); do grep -q "listening on" "$T/${c/:/-}.td" && break; sleep 0.1; done
done

# and what n3's switch sends to nf-gen (its port 2), decapsulated
"$BIN/nfchain" capture --ctl "$MN_RUN/n3/sw.ctl" --tx -c 5000 -d 60 -w "$T/wan.pcap" 2 \
	>"$T/cap.log" 2>&1 &
CAP=$!
cleanup "kill $CAP"
for i in $(seq 100); do mn_ctl 3 --json captures | grep -q '"id"' && break; sleep 0.1; done
"$BIN/nf-gen" --tx "$(M 1 0)" --rx "$(M 3 2)" --count 5000 --flows 100 --rate 10k \
	--src-mac "$CLIENT_MAC" --dst-mac "$MN_RT_LAN" --src-ip 10.1.0.2 \
	--dst-ip 203.0.113.2 --drain 3s --wait 10s --json >"$T/gen.json" 2>"$T/gen.err"
check_eq "nf-gen: n1 lan -> router -> (r1) -> nat -> (r1, r2) -> firewall -> n3 wan: 5000 of 5000 frames" \
	"5000 0" "$(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.lost)"
sleep 0.3
for p in "${TD[@]}"; do kill -INT "$p"; wait "$p"; done
for c in $CAPS; do echo "# tcpdump $c: $(grep -h 'dropped by kernel' "$T/${c/:/-}.td")"; done

wait "$CAP"
check_eq "n3 -> nf-gen: 5000 frames to its MAC, from the NAT's pool, TTL 62 (router and End.DX4), UDP checksums good" \
	"5000 $GEN_MAC 198.51.100.1 62 1" "$(tshark -r "$T/wan.pcap" -o udp.check_checksum:TRUE -T fields \
	-E separator=' ' -e eth.dst -e ip.src -e ip.ttl -e udp.checksum.status 2>/dev/null | sort | uniq -c | xargs)"

# per node: every SID counted 5000 frames
sids() {
	mn_ctl "$1" --json sids | python3 -c '
import json, sys
print(" ".join("%s=%d" % (s["sid"].split()[1], s["packets"]) for s in json.load(sys.stdin)["sids"]))'
}
check_eq "n1's SIDs" "fc00:0:1:1::1=5000 fc00:0:1:1::101=0 fc00:0:1:1::1ff=0" "$(sids 1)"
check_eq "n2's SIDs" "fc00:0:2:1::2=5000 fc00:0:2:1::102=0" "$(sids 2)"
check_eq "n3's SIDs" "fc00:0:3:1::3=5000 fc00:0:3:1::103=0 fc00:0:3:1::ff=5000" "$(sids 3)"

# Each link: count of distinct (direction, dst, SL, hop limit, segment
# list, inner source, inner TTL) tuples; the inner source only by its /16.
link() {
	tshark -r "$T/$1.pcap" -T fields -E separator='|' -e ipv6.dst -e ipv6.routing.type \
		-e ipv6.routing.segleft -e ipv6.hlim -e ipv6.routing.srh.addr -e ip.src -e ip.ttl \
		${2:+-Y "$2"} 2>/dev/null | python3 -c '
import collections, sys
c = collections.Counter()
for l in sys.stdin:
    f = l.rstrip("\n").split("|")
    f[5] = f[5] if f[5] == "198.51.100.1" else ".".join(f[5].split(".")[:2]) + ".x.x"
    c[" ".join(f)] += 1
for k, n in sorted(c.items()):
    print(n, k)'
}
SRH=fc00:0:3:1::ff,fc00:0:3:1::3,fc00:0:2:1::2,fc00:0:1:1::1
check_eq "n1 -> r1: SRH, SL 2 (to n2's nat SID), router's TTL 63, inner source 10.1" \
	"5000 fc00:0:2:1::2 4 2 63 $SRH 10.1.x.x 63" "$(link r1-n1)"
check_eq "r1 -> n2: forwarded, hop limit 62" \
	"5000 fc00:0:2:1::2 4 2 62 $SRH 10.1.x.x 63" "$(link r1-n2 "eth.dst == $MN_UPMAC_2")"
check_eq "n2 -> r1: SL 1 (to n3's fw SID), NAT's source 198.51.100.1" \
	"5000 fc00:0:3:1::3 4 1 61 $SRH 198.51.100.1 63" "$(link r1-n2 "eth.dst == $MN_RMAC_2")"
check_eq "r1 -> r2: toward n3, SL 1" \
	"5000 fc00:0:3:1::3 4 1 60 $SRH 198.51.100.1 63" "$(link r1-r2)"
check_eq "r2 -> n3: SL 1, hop limit 59" \
	"5000 fc00:0:3:1::3 4 1 59 $SRH 198.51.100.1 63" "$(link r2-n3)"
mergecap -F pcap -w "$T/all.pcap" "$T"/r*.pcap
# byte 14 + 40 + 8 + 64 + 10 of the first frame (file offset 24 + 16):
# the inner IPv4 header checksum, broken in the control
tshark_expert "$T/all.pcap" $((24 + 16 + 14 + 40 + 8 + 64 + 10)) \
	-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE

# The way back: one reply per flow, built from what n3 delivered (from
# 203.0.113.2:1024 to the NAT's address and port, nf-gen's payload so that
# nf-gen on n1's lan counts them), injected on n3 by a pcap port; n3
# encapsulates with the reverse proxies fc00:0:3:1::103 (firewall: an
# established flow), fc00:0:2:1::102 (NAT: back to each client's address
# and port), fc00:0:1:1::101 (router, in by its wan side) and End.DX4
# fc00:0:1:1::1ff out of lan.
nflows=$(python3 - "$T/wan.pcap" "$T/replies.pcap" <<'EOF2'
import struct, sys
def csum(b):
    b += b"\0" * (len(b) & 1)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
d = open(sys.argv[1], "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
o, seen = 24, {}
while o + 16 <= len(d):
    n = struct.unpack(e + "I", d[o + 8:o + 12])[0]
    f = d[o + 16:o + 16 + n]
    o += 16 + n
    seen.setdefault(f[34:36], f[26:30])	# the NAT's source port -> address
out = open(sys.argv[2], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for seq, (port, addr) in enumerate(sorted(seen.items())):
    pay = struct.pack("!HQQ", 0x9e4d, seq, 0) + bytes(12)
    src, dst = bytes([203, 0, 113, 2]), addr
    udp = struct.pack("!HHHH", 1024, struct.unpack("!H", port)[0], 8 + len(pay), 0) + pay
    c = csum(src + dst + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    f = bytes.fromhex("02000000c51102000000c502") + b"\x08\x00" + ip + udp
    out.write(struct.pack("<IIII", 0, 0, len(f), len(f)) + f)
print(len(seen))
EOF2
)
check_eq "n3 delivered 100 flows, each from its own NAT port" 100 "$nflows"
# --duration: --idle counts from the first frame; if none comes back
# (a CI run lost them all), the checks below fail instead of the test
# hanging to its timeout
"$BIN/nf-gen" --rx "$(M 1 0)" --count 100 --idle 2s --wait 10s --duration 60s --json \
	>"$T/back.json" 2>"$T/back.err" &
BACK=$!
cleanup "kill $BACK"
"$BIN/nfchain" capture --ctl "$MN_RUN/n1/sw.ctl" --tx -c 100 -d 60 -w "$T/lan.pcap" 0 \
	>"$T/cap1.log" 2>&1 &
CAP=$!
cleanup "kill $CAP"
for i in $(seq 100); do mn_ctl 1 --json captures | grep -q '"id"' && break; sleep 0.1; done
mn_memif_up 1 3
mn_ctl 3 add-rule id 2 ip daddr 198.51.100.0/24 action srv6-encap \
	fc00:0:3:1::103,fc00:0:2:1::102,fc00:0:1:1::101,fc00:0:1:1::1ff >/dev/null
mn_ctl 3 add-port "pcap:$T/replies.pcap" replies >/dev/null
wait "$BACK"
wait "$CAP"
check_eq "the way back: 100 replies, one per flow, reach nf-gen on n1's lan" \
	"100 0" "$(jget "$T/back.json" rx.packets) $(jget "$T/back.json" rx.lost)"
check_eq "each to its client's own address and port (10.1.0.2+i:1024+i), TTL 62, checksums good" \
	"100 $CLIENT_MAC 203.0.113.2 1024 62 1 1 ok" \
	"$(tshark -r "$T/lan.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields \
	-E separator=' ' -e eth.dst -e ip.src -e udp.srcport -e ip.ttl -e ip.checksum.status \
	-e udp.checksum.status -e ip.dst -e udp.dstport 2>/dev/null | python3 -c '
import collections, sys
c = collections.Counter()
for l in sys.stdin:
    f = l.split()
    i = int(f[6].split(".")[3]) - 2
    c[" ".join(f[:6] + ["ok" if f[6] == "10.1.0.%d" % (i + 2) and int(f[7]) == 1024 + i else "bad"])] += 1
print(" ".join("%d %s" % (n, k) for k, n in c.items()))')"
check_eq "n1's SIDs, both ways" "fc00:0:1:1::1=5000 fc00:0:1:1::101=100 fc00:0:1:1::1ff=100" "$(sids 1)"
check_eq "n3's SIDs, both ways" "fc00:0:3:1::3=5000 fc00:0:3:1::103=100 fc00:0:3:1::ff=5000" "$(sids 3)"

# Hostile: from r1 to n2's SID, an SRH whose last entry (3) lies past its
# header length (2: one segment): dropped, counted srv6-bad-srh.
ip netns exec "$MN-r1" python3 - "$MN_UPMAC_2" "$MN_RMAC_2" <<'EOF'
import socket, struct, sys
mac = lambda m: bytes.fromhex(m.replace(":", ""))
a6 = lambda a: socket.inet_pton(socket.AF_INET6, a)
inner = bytes(20)
srh = struct.pack("!BBBBBBH", 4, 2, 4, 1, 3, 0, 0) + a6("fc00:0:2:1::2")
ip6 = struct.pack("!IHBB", 6 << 28, len(srh) + len(inner), 43, 64) + a6("fd00:ff:2::1") + a6("fc00:0:2:1::2")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("n2", 0))
s.send(mac(sys.argv[1]) + mac(sys.argv[2]) + b"\x86\xdd" + ip6 + srh + inner)
EOF
sleep 0.3
drops() { mn_ctl 2 --json steer-stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["steer_drops"].get(sys.argv[1], 0))' "$1"; }
check_eq "a broken SRH sent to n2's SID is dropped: srv6-bad-srh" 1 "$(drops srv6-bad-srh)"
check_eq "n2's SIDs: 5000 and the broken one, 100 back" \
	"fc00:0:2:1::2=5001 fc00:0:2:1::102=100" "$(sids 2)"

for v in "${VNF[@]}"; do stop_clean ${v% *} "${v#* }"; done
for n in 1 2 3; do stop_clean "nfswitch on n$n" "${SW[$n]}"; done
check "no sanitizer report" no_san
exit 0
