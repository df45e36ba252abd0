# cluster.sh - nfchain over three nodes, coordinated through a three-member
# etcd cluster (issue 8, docs/CLUSTER.md):
#
#   mn-n1 (edge) --up0-- mn-r1 -- mn-r2 --up0-- mn-n3 (core, cloud)
#   mn-n2 (core) --up0-- mn-r1
#   etcd members in mn-e1..mn-e3, the controller in this namespace, a node
#   agent (`nfchain node`) in each node's namespace
#
# The controller places examples/router-nat-fw.yaml's router on n1 (edge),
# the NAT on n2 (core, the most free CPU) and the firewall on n3 (cloud);
# the agents run their parts (nfswitch with the AF_XDP uplink, replicas,
# SIDs on their locators, routes to the others). Checks: nf-gen's frames
# cross n1 -> n2 -> n3 (every one), SRv6 on the router links (tshark),
# killing node 2 re-places the NAT on n3 and traffic comes back (the time
# is printed), losing an etcd member and restarting the controller or an
# agent change nothing: no placement written, no frame lost.
#
# The underlay is routed by OSPFv3 (BIRD in every router and node, mn/lib.sh
# MN_ROUTING=bird): each node's kernel shares its uplink (--kernel
# afpacket:kern1) and announces the locator; the routers hold no static
# route. Checks: the routers learn every locator from the right neighbour,
# and withdraw node 2's within the dead interval once it is killed.
. "$(dirname "$0")/../lib.sh"
MN=mncl MN_ROUTING=bird
. "$(dirname "$0")/mn/lib.sh"
. "$(dirname "$0")/etcd/lib.sh"
san_to_files

cleanup mn_topo_down
check "topology: 3 nodes, 2 IPv6 routers, a management network" mn_topo_up
ETCD_NS="$MN-e1 $MN-e2 $MN-e3" ETCD_IPS="10.99.0.11 10.99.0.12 10.99.0.13" \
	etcd_cluster_start "$T/etcd" 3 2379 >/dev/null
check "etcd: three members healthy" test -n "${ETCD_ENDPOINTS:-}"
EPS=$ETCD_ENDPOINTS
NC() { "$BIN/nfchain" "$@"; }
CL() { "$BIN/nfchain" cluster --etcd "$EPS" "$@"; }
# key VALUE: the value of etcd key /nfchain/KEY; rev KEY: its mod revision
key() { ETCDCTL_API=3 etcdctl --endpoints="$EPS" get --print-value-only "/nfchain/$1"; }
rev() { ETCDCTL_API=3 etcdctl --endpoints="$EPS" get -w json "/nfchain/$1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])'; }
place() { key "placement/$1" | python3 -c 'import json,sys
d = json.load(sys.stdin); print(" ".join("%s=%s" % kv for kv in d["place"].items()), d["error"])'; }

start_ctl() {
	"$BIN/nfchain" controller --etcd "$EPS" -v >>"$T/controller.log" 2>&1 &
	CTL=$!
	cleanup "kill $CTL"
}
declare -A AG
labels=([1]=edge [2]=core [3]=core,cloud)
start_node() {
	# nsenter, not ip netns exec: that mounts a sysfs of its own, without
	# the cgroup file systems runc needs for the replicas' containers
	nsenter --net="/run/netns/$MN-n$1" "$BIN/nfchain" node --etcd "$EPS" --name "n$1" \
		--labels "${labels[$1]}" --cpu 4 --memory 8G --ttl 2 \
		--locator "fc00:0:$1::/48" --uplink afxdp:up0 --gateway "$(mn_rmac "$1")" \
		--kernel afpacket:kern1 \
		--run-dir "$MN_RUN/n$1/run" >>"$T/node$1.log" 2>&1 &
	AG[$1]=$!
	cleanup "kill ${AG[$1]}"
}
# every process of node N: its namespace's (agents, nfswitch, runc, BIRD)
# and its replicas' containers (their own namespaces)
node_kill() {
	local ids
	ids=$(ST "$1" | python3 -c '
import json, sys
print(" ".join(r["container"] for r in json.load(sys.stdin)["replicas"]))')
	{
		ip netns pids "$MN-n$1"
		for id in $ids; do
			runc --root /run/nfchain/runc state "$id" 2>/dev/null |
				python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
		done
	} | xargs -r kill -9
	date +%s%N >"$T/killed.$1"	# the moment, for the routers' timing
}
cleanup "for n in 1 2 3; do NFCHAIN_RUN_DIR=$MN_RUN/n\$n/run $BIN/nfchain down --name rnf; done"

start_ctl
for n in 1 2 3; do start_node "$n"; done

# The description: the example (replicas in runc containers), with
# placement labels.
cat examples/router-nat-fw.yaml |
	python3 -c '
import sys
out = []
for l in sys.stdin:
    out.append(l)
    for v, lab in (("router", "edge"), ("nat", "core"), ("fw", "cloud")):
        if l == "  %s:\n" % v:
            out.append("    placement: {labels: [%s]}\n" % lab)
sys.stdout.write("".join(out))' >"$T/rnf.yaml"
check "cluster apply: the description is checked and stored" CL apply "$T/rnf.yaml"
check "cluster wait: placed, and every node reports its part up" CL wait --timeout 30
check_eq "placement: router on n1 (edge), NAT on n2 (core, most free), firewall on n3 (cloud)" \
	"router=n1 nat=n2 fw=n3 lan=n1 wan=n3 " "$(place rnf)"
ST() { NFCHAIN_RUN_DIR=$MN_RUN/n$1/run "$BIN/nfchain" status --name rnf --json; }
check_eq "each node runs its replicas only: n1 router.0, n2 nat.0, n3 fw.0 fw.1" \
	"router.0 | nat.0 | fw.0 fw.1" "$(for n in 1 2 3; do ST "$n" | python3 -c '
import json, sys
print(" ".join("%s.%d" % (r["vnf"], r["replica"]) for r in json.load(sys.stdin)["replicas"]))'; done | paste -sd'|' | sed 's/|/ | /g')"
check_eq "the replicas are runc containers, running" \
	"nfc-rnf-fw-0 running|nfc-rnf-fw-1 running|nfc-rnf-nat-0 running|nfc-rnf-router-0 running" \
	"$(for n in 1 2 3; do ST "$n" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["runtime"] == "runc", d["runtime"]
print("\n".join(r["container"] for r in d["replicas"]))'; done | while read -r id; do
		echo "$id $(runc --root /run/nfchain/runc state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
	done | sort | paste -sd'|')"
check_eq "n1's steering: the classifier's segment list names each VNF's node" \
	"rule id 1 in-port lan ip daddr 203.0.113.0/24 action srv6-encap fc00:0:1:1::1,fc00:0:2:1::2,fc00:0:3:1::3,fc00:0:3:1::ff" \
	"$(NC switch --ctl "$MN_RUN/n1/run/rnf/switch.ctl" steering | grep '^rule id 1 ')"
check "n1's uplink is an AF_XDP port on up0" bash -c \
	"'$BIN/nfchain' switch --ctl '$MN_RUN/n1/run/rnf/switch.ctl' ports | grep -E '^ *[0-9]+ +uplink +afxdp'"

t0=$(date +%s%N)
check "OSPF: both routers learn the three locators once the switches run" mn_routes_ready 20
echo "# OSPF: the routers had every locator $(( ($(date +%s%N) - t0) / 1000000 )) ms after the nodes reported up (and 4 checks)"
# routes R: router R's locator routes, "PREFIX NEXTHOP DEV PROTO" each
routes() { ip -n "$MN-r$1" -6 route show | awk '/^fc00:/ { v = d = p = ""
	for (i = 2; i < NF; i++) { if ($i == "via") v = $(i + 1); if ($i == "dev") d = $(i + 1); if ($i == "proto") p = $(i + 1) }
	print $1, v, d, p }' | sort | paste -sd';'; }
LL() { mn_lladdr "$(mn_upmac "$1")"; }
R1R2=$(mn_lladdr 02:6d:6e:00:12:01) R2R1=$(mn_lladdr 02:6d:6e:00:12:02)
check_eq "r1 learns each locator from BIRD, next hop the node's (or r2's) link-local" \
	"fc00:0:1::/48 $(LL 1) n1 bird;fc00:0:2::/48 $(LL 2) n2 bird;fc00:0:3::/48 $R2R1 r2 bird" "$(routes 1)"
check_eq "r2 learns each locator from BIRD, next hop r1's (or the node's) link-local" \
	"fc00:0:1::/48 $R1R2 r1 bird;fc00:0:2::/48 $R1R2 r1 bird;fc00:0:3::/48 $(LL 3) n3 bird" "$(routes 2)"
check_eq "the routers hold no static locator route and no permanent neighbour (the nodes' kernels answer NDP)" "" \
	"$(for r in 1 2; do ip -n "$MN-r$r" -6 route show proto boot | grep '^fc00:'
		ip -n "$MN-r$r" -6 route show proto static | grep '^fc00:'
		ip -n "$MN-r$r" -6 neigh show nud permanent; done)"

# nf-gen: into n1's lan, out of n3's wan.
GEN=("$BIN/nf-gen" --tx "memif:$MN_RUN/n1/run/rnf/memif.sock,id=0"
	--rx "memif:$MN_RUN/n3/run/rnf/memif.sock,id=1" --dst-mac 02:6e:63:00:03:e8
	--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --flows 100 --json)
# (not OSPF nor NDP: the pcap's first frame must be the chain's)
ip netns exec "$MN-r1" tcpdump -i n1 -B 16384 -w "$T/r1-n1.pcap" -U --immediate-mode -s 256 \
	'ip6 and not ip6 proto 89 and not icmp6' 2>"$T/r1-n1.td" &
TD=$!
cleanup "kill $TD"
for i in $(seq 100); do grep -q "listening on" "$T/r1-n1.td" && break; sleep 0.1; done
"${GEN[@]}" --count 3000 --rate 2k --wait 5s >"$T/gen1.json" 2>"$T/gen1.err"
sleep 0.3
kill -INT $TD; wait $TD 2>/dev/null
check_eq "traffic n1 -> router -> (r1) -> NAT on n2 -> (r1, r2) -> firewall on n3: 3000 of 3000" \
	3000 "$(jget "$T/gen1.json" rx.packets)"
check_eq "tshark: the frames n1 sends its router carry an SRH (type 4) with the 4 SIDs, SL 2, to n2's NAT SID" \
	"3000 4 2 fc00:0:2:1::2 fc00:0:3:1::ff,fc00:0:3:1::3,fc00:0:2:1::2,fc00:0:1:1::1" \
	"$(tshark -r "$T/r1-n1.pcap" -Y 'ipv6.routing.type == 4' -T fields -E separator=' ' \
		-e ipv6.routing.type -e ipv6.routing.segleft -e ipv6.dst -e ipv6.routing.srh.addr 2>/dev/null |
		sort | uniq -c | sed 's/^ *//')"
# the control corrupts the first frame's inner IPv4 header checksum (pcap
# header 24 + record 16, Ethernet 14, IPv6 40, SRH 8 + 4 SIDs, byte 10)
tshark_expert "$T/r1-n1.pcap" $((24 + 16 + 14 + 40 + 8 + 64 + 10)) -o ip.check_checksum:TRUE
# the node's kernel port: what the underlay sends that is not a SID (the
# router's hellos and solicitations), what BIRD and the kernel answer;
# a frame looping between the two ports would count thousands
kport() { NC switch --ctl "$MN_RUN/n1/run/rnf/switch.ctl" --json ports | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["ports"] if p["name"] == "kernel"][0]
print(p["type"] + ":" + p["detail"].split("ifname=")[1].split()[0], p["rx_packets"], p["tx_packets"])'; }
read -r ktype krx ktx <<<"$(kport)"
check "n1's kernel port is afpacket on kern1 and carries OSPF and NDP both ways, no loop (rx $krx, tx $ktx: 1..100 each)" \
	test "$ktype" = afpacket:kern1 -a "$krx" -ge 1 -a "$krx" -le 100 -a "$ktx" -ge 1 -a "$ktx" -le 100

# Losing one etcd member (the first endpoint everybody talks to).
prev=$(rev placement/rnf)
etcd_member_kill 0
"${GEN[@]}" --count 4000 --rate 2k --wait 5s >"$T/gen2.json" 2>"$T/gen2.err"
check_eq "an etcd member killed: traffic carries on, 4000 of 4000" 4000 "$(jget "$T/gen2.json" rx.packets)"
check_eq "an etcd member killed: the placement is not rewritten" "$prev" "$(rev placement/rnf)"
check_eq "an etcd member killed: the three nodes keep their leases" "n1 n2 n3" \
	"$(ETCDCTL_API=3 etcdctl --endpoints="$EPS" get --prefix --keys-only /nfchain/nodes/ 2>/dev/null |
		sed -n 's|^/nfchain/nodes/||p' | paste -sd' ')"
etcd_member_start 0 >/dev/null

# The controller restarts; so does n1's agent.
kill "$CTL"; wait "$CTL" 2>/dev/null
kill -9 "${AG[1]}"; wait "${AG[1]}" 2>/dev/null
start_ctl
start_node 1
sleep 3
check_eq "controller and n1's agent restarted: the placement is not rewritten" "$prev" "$(rev placement/rnf)"
"${GEN[@]}" --count 2000 --rate 2k --wait 5s >"$T/gen3.json" 2>"$T/gen3.err"
check_eq "after the restarts traffic carries on: 2000 of 2000" 2000 "$(jget "$T/gen3.json" rx.packets)"
check "n1's restarted agent took its deployment over (no second nfswitch)" \
	test "$(ip netns pids "$MN-n1" | xargs -r ps -o comm= -p | grep -c nfswitch)" = 1

# Node 2 dies: its agent, nfswitch, the NAT. The controller moves the NAT
# to n3 (the other core node) once n2's lease has run out (2 s); its BIRD
# dies too: the routers drop its locator once the neighbour is dead (3 s).
"${GEN[@]}" --count 30000 --rate 2k --wait 5s >"$T/gen4.json" 2>"$T/gen4.err" &
G4=$!
cleanup "kill $G4"
# the routers' route changes, timestamped by the kernel (not by polling)
for r in 1 2; do
	ip -n "$MN-r$r" -ts monitor route >"$T/route-r$r.mon" 2>/dev/null &
	cleanup "kill $!"
done
sleep 2
t0=$(date +%s%N)
node_kill 2
for i in $(seq 150); do
	case "$(place rnf)" in *nat=n3*) break ;; esac
	sleep 0.1
done
t1=$(date +%s%N)
check_eq "node 2 killed: the NAT is placed on n3" "router=n1 nat=n3 fw=n3 lan=n1 wan=n3 " "$(place rnf)"
CL wait --timeout 20 >/dev/null
t2=$(date +%s%N)
wait $G4
rx=$(jget "$T/gen4.json" rx.packets)
lost=$((30000 - rx))
echo "# node 2 killed: re-placed after $(( (t1 - t0) / 1000000 )) ms (lease 2 s), n3 and n1 report it up after $(( (t2 - t0) / 1000000 )) ms; $lost of 30000 frames lost at 2000/s = $((lost / 2)) ms without service"
# withdrawn R: ms from the kill (its signal sent, after node_kill's
# look-ups) to router R's deleting fc00:0:2::/48
withdrawn() {
	local t
	t=$(sed -n 's/^\[\([^]]*\)\] Deleted fc00:0:2::\/48 .*/\1/p' "$T/route-r$1.mon" | head -1)
	[ -n "$t" ] && echo $((($(date -d "$t" +%s%N) - $(cat "$T/killed.2")) / 1000000))
}
for i in $(seq 50); do withdrawn 1 >/dev/null && withdrawn 2 >/dev/null && break; sleep 0.1; done
w1=$(withdrawn 1) || w1=-1
w2=$(withdrawn 2) || w2=-1
echo "# node 2 killed: r1 withdrew fc00:0:2::/48 after $w1 ms, r2 after $w2 ms (-1: not; OSPF dead interval $MN_DEAD_S s, SPF tick 1 s)"
# r1 (node 2's neighbour) when the dead interval ends, at its next SPF
# tick (1 s); r2 once r1's new router LSA came, at its own next tick; and
# a second of slack for BIRD's timers on a loaded machine (a CI run on
# 2026-12-02 measured 5834 and 5862 ms from before node_kill's look-ups;
# OSPF's default dead interval, 40 s, would be far past it)
check "node 2 killed: r1 withdraws its locator within the dead interval, one SPF tick and 1 s, r2 within one more tick" \
	test "$w1" -ge 0 -a "$w1" -le $(((MN_DEAD_S + 2) * 1000)) -a "$w2" -ge 0 -a "$w2" -le $(((MN_DEAD_S + 3) * 1000))
# a neighbour may flap on a loaded machine: wait for the outcome
want="fc00:0:1::/48 $(LL 1) n1 bird;fc00:0:3::/48 $R2R1 r2 bird|fc00:0:1::/48 $R1R2 r1 bird;fc00:0:3::/48 $(LL 3) n3 bird"
for i in $(seq 100); do [ "$(routes 1)|$(routes 2)" = "$want" ] && break; sleep 0.1; done
check_eq "node 2 killed: the routers keep the other locators, from the same neighbours" \
	"$want" "$(routes 1)|$(routes 2)"
check "node 2 killed: traffic recovers (frames lost: $lost, under 10 s of traffic at 2000/s)" \
	test "$rx" -gt 10000 -a "$lost" -lt 20000
"${GEN[@]}" --count 2000 --rate 2k --wait 5s >"$T/gen5.json" 2>"$T/gen5.err"
check_eq "after the move: 2000 of 2000 through n1 -> n3 (NAT and firewall)" 2000 \
	"$(jget "$T/gen5.json" rx.packets)"
check_eq "n1's segment list now names the NAT's SID on n3" \
	"fc00:0:1:1::1,fc00:0:3:1::2,fc00:0:3:1::3,fc00:0:3:1::ff" \
	"$(NC switch --ctl "$MN_RUN/n1/run/rnf/switch.ctl" steering | sed -n 's/^rule id 1 .*srv6-encap //p')"

# Bad input: a description the parser refuses is refused before etcd; a
# description with a cluster section is the agent's, not the user's.
printf 'name: x\nports: {}\n' >"$T/bad.yaml"
check "cluster apply of a bad file: exit 1, nothing stored" bash -c \
	"! '$BIN/nfchain' cluster --etcd '$EPS' apply '$T/bad.yaml' 2>/dev/null"
check "nfchain node without --locator: a usage error (exit 2)" bash -c \
	"'$BIN/nfchain' node --name x --etcd '$EPS' 2>/dev/null; test \$? = 2"
check "cluster with no etcd answering: a clear error, exit 1" bash -c \
	"'$BIN/nfchain' cluster --etcd http://127.0.0.1:9 status 2>&1 | grep -q etcd"

check "cluster delete: the nodes stop their parts" CL delete rnf
for i in $(seq 100); do
	[ -z "$(ip netns pids "$MN-n1" | xargs -r ps -o comm= -p | grep nfswitch)" ] && break
	sleep 0.1
done
check "after delete, n1 runs no nfswitch" test -z \
	"$(ip netns pids "$MN-n1" | xargs -r ps -o comm= -p | grep nfswitch)"
for n in 1 3; do stop_clean "node agent n$n" "${AG[$n]}"; done
stop_clean "controller" "$CTL"
lost=$(cat "$MN_RUN"/r[12]/bird.log | grep -c 'changed state from Full to Down')
echo "# OSPF: adjacencies the routers lost: $lost (node 2's: 1)"
[ "$lost" = 1 ] || grep -H 'Neighbor.*changed state' "$MN_RUN"/r[12]/bird.log | sed 's/^/# /'
check "no sanitizer report" no_san
exit 0
