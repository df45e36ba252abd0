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
# expected there, and no expert warning; a frame with a broken SRH sent
# from r1 to n2's SID is dropped and counted (srv6-bad-srh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/mn/lib.sh"
san_to_files

cleanup mn_topo_down
check "topology: 3 nodes, 2 routers, management network" mn_topo_up
GEN_MAC=02:00:00:00:c5:02
SEGS=fc00:0:1:1::1,fc00:0:2:1::2,fc00:0:3:1::3,fc00:0:3:1::ff
M() { echo "memif:$MN_RUN/n$1/sw.sock,id=$2"; }

# Ports: n1: 0 lan (nf-gen), 1/2 router lan/wan; n2: 0/1 nat in/out;
# n3: 0/1 firewall fin/fout, 2 wan (nf-gen); uplink on each.
{
	echo "group router 1/2@$MN_RT_LAN/$MN_RT_WAN"
	echo "sid fc00:0:1:1::1 End.AD group router"
	echo "rule id 1 in-port 0 ip daddr 203.0.113.0/24 action srv6-encap $SEGS"
	mn_steering 1
} >"$MN_RUN/n1/steer"
{
	echo "group nat 0/1"
	echo "sid fc00:0:2:1::2 End.AD group nat"
	mn_steering 2
} >"$MN_RUN/n2/steer"
{
	echo "group fw 0/1"
	echo "sid fc00:0:3:1::3 End.AD group fw"
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
	ip netns exec "$MN-${c%:*}" tcpdump -U -n -s 256 -i "${c#*:}" -w "$T/${c/:/-}.pcap" \
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
	--src-mac 02:00:00:00:c5:01 --dst-mac "$MN_RT_LAN" --src-ip 10.1.0.2 \
	--dst-ip 203.0.113.2 --drain 3s --wait 10s --json >"$T/gen.json" 2>"$T/gen.err"
check_eq "nf-gen: n1 lan -> router -> (r1) -> nat -> (r1, r2) -> firewall -> n3 wan: 5000 of 5000 frames" \
	"5000 0" "$(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.lost)"
sleep 0.3
for p in "${TD[@]}"; do kill -INT "$p"; wait "$p"; done

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
check_eq "n1's SIDs" "fc00:0:1:1::1=5000" "$(sids 1)"
check_eq "n2's SIDs" "fc00:0:2:1::2=5000" "$(sids 2)"
check_eq "n3's SIDs" "fc00:0:3:1::3=5000 fc00:0:3:1::ff=5000" "$(sids 3)"

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
check_eq "n2's SID counted it (the SID matched, the behaviour refused it)" \
	"fc00:0:2:1::2=5001" "$(sids 2)"

for v in "${VNF[@]}"; do stop_clean ${v% *} "${v#* }"; done
for n in 1 2 3; do stop_clean "nfswitch on n$n" "${SW[$n]}"; done
check "no sanitizer report" no_san
exit 0
