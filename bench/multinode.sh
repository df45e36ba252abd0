#!/usr/bin/env bash
# bench/multinode.sh - the router -> NAT -> firewall chain across the three
# nodes of the SRv6 underlay (tests/it/mn/lib.sh) against the same chain
# on one node, in the same run:
#
#   (m) nf-gen -> n1 nfswitch [encap; End.AD router] -> AF_XDP up0 -> Linux
#       r1 -> n2 nfswitch [End.AD nat] -> r1 -> r2 -> n3 nfswitch [End.AD
#       fw; End.DX4] -> nf-gen: three switches, two kernel routers, four
#       veth hops (AF_XDP copy mode on the nodes' side)
#   (s) nf-gen -> one nfswitch [encap; End.AD router, nat, fw (all local);
#       End.DX4] -> nf-gen: the steering of tests/it/multinode_srv6.sh with
#       every SID on one locator, no uplink
#
# 64-byte frames, 100 flows, offered as fast as nf-gen can for -t seconds,
# counted at the receiver; nf-gen on CPU 0, the switches and VNFs on CPU 1
# in yield mode (they take turns; the routers' forwarding runs in the
# softirq of the switch that transmits, CPU 1 too). While one scenario
# runs, the other's programs are stopped (SIGSTOP). Interleaved -r times;
# medians and the paired ratio (m)/(s).
#
# Uses namespaces mnb-* (not the test's mn-*: both can run at once).
#
#   bench/multinode.sh [-t SECONDS] [-r REPEAT]
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_tr_opts multinode.sh 3 3 "$@"
W=$(mktemp -d /tmp/nfchain-multinode.XXXXXX)
MN=mnb MN_RUN=$W/mn MN_HOST=0
. tests/it/mn/lib.sh
multi=() single=() pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	mn_topo_down
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
GEN_MAC=02:00:00:00:c5:02
M() { echo "memif:$MN_RUN/n$1/sw.sock,id=$2"; }
S() { echo "memif:$W/s.sock,id=$1"; }

# vnfs DIR NS_ROUTER NS_NAT NS_FW: start the chain's three VNFs
# (configurations in DIR) on CPU 1, each in its namespace (empty: the
# root namespace); their pids in $vp (and $pids: killed at exit).
vnfs() {
	local d=$1 v x
	local -A prog=([router]=router [nat]=nat [fw]=firewall)
	vp=()
	shift
	for v in router nat fw; do
		x=()
		[ -n "$1" ] && x=(ip netns exec "$1")
		shift
		"${x[@]}" taskset -c 1 "$BIN/nf-${prog[$v]}" -q -c "$d/$v.conf" --ctl "$d/$v.ctl" &
		vp+=($!)
		pids+=($!)
	done
	for v in router nat fw; do bench_wait "$d/$v.ctl" || exit 1; done
}

# (m): the topology, a switch per node, the VNFs on their nodes
mn_topo_up || { echo "bench: the topology did not come up" >&2; exit 1; }
SEGS=fc00:0:1:1::1,fc00:0:2:1::2,fc00:0:3:1::3,fc00:0:3:1::ff
{
	echo "group router 1/2@$MN_RT_LAN/$MN_RT_WAN"
	echo "sid fc00:0:1:1::1 End.AD group router"
	echo "rule id 1 in-port 0 ip daddr 203.0.113.0/24 action srv6-encap $SEGS"
	mn_steering 1
} >"$W/n1.steer"
{ echo "group nat 0/1"; echo "sid fc00:0:2:1::2 End.AD group nat"; mn_steering 2; } >"$W/n2.steer"
{
	echo "group fw 0/1"
	echo "sid fc00:0:3:1::3 End.AD group fw"
	echo "sid fc00:0:3:1::ff End.DX4 2 $GEN_MAC"
	mn_steering 3
} >"$W/n3.steer"
for n in 1 2 3; do
	mn_switch "$n" $((n == 2 ? 2 : 3)) -m yield -b 64 --cpu 1
	multi+=("$MN_SWPID") pids+=("$MN_SWPID")
	mn_ctl "$n" load-steering "$W/n$n.steer" >/dev/null || exit 1
done
mkdir "$W/m" "$W/s"
mn_vnf_confs "$W/m" yield "$(M 1 1)" "$(M 1 2)" "$(M 2 0)" "$(M 2 1)" "$(M 3 0)" "$(M 3 1)" \
	"set burst 64"
vnfs "$W/m" "$MN-n1" "$MN-n2" "$MN-n3"
multi+=("${vp[@]}")
for n in 1 2 3; do mn_memif_up "$n" 2 || { echo "bench: node $n's VNFs are not connected" >&2; exit 1; }; done

# (s): one switch, ports 0 lan, 1/2 router, 3/4 nat, 5/6 fw, 7 wan
kill -STOP "${multi[@]}"
cat >"$W/s.steer" <<EOF
srv6-source fc00:0:1::1
group router 1/2@$MN_RT_LAN/$MN_RT_WAN
group nat 3/4
group fw 5/6
sid fc00:0:1:1::1 End.AD group router
sid fc00:0:1:1::2 End.AD group nat
sid fc00:0:1:1::3 End.AD group fw
sid fc00:0:1:1::ff End.DX4 7 $GEN_MAC
rule id 1 in-port 0 ip daddr 203.0.113.0/24 action srv6-encap fc00:0:1:1::1,fc00:0:1:1::2,fc00:0:1:1::3,fc00:0:1:1::ff
EOF
"$BIN/nfswitch" -q -c "$W/s.ctl" -m yield -b 64 --cpu 1 -S "$W/s.steer" \
	$(for i in $(seq 0 7); do echo "-p $(S "$i")"; done) &
single+=($!) pids+=($!)
bench_wait "$W/s.ctl" || exit 1
mn_vnf_confs "$W/s" yield "$(S 1)" "$(S 2)" "$(S 3)" "$(S 4)" "$(S 5)" "$(S 6)" "set burst 64"
vnfs "$W/s" "" "" ""
single+=("${vp[@]}")
kill -CONT "${multi[@]}"

# run SCENARIO: one trial, the other scenario's programs stopped; prints
# "delivered offered" in Mpps
declare -A TX=([m]="$(M 1 0)" [s]="$(S 0)") RX=([m]="$(M 3 2)" [s]="$(S 7)")
declare -A LABEL=([m]="3 nodes" [s]="1 node") R=()
run() {
	local stop=("${single[@]}")
	[ "$1" = s ] && stop=("${multi[@]}")
	kill -STOP "${stop[@]}"
	taskset -c 0 "$BIN/nf-gen" --tx "${TX[$1]}" --rx "${RX[$1]}" --flows 100 --burst 64 \
		--src-mac 02:00:00:00:c5:01 --dst-mac "$MN_RT_LAN" \
		--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --size 60 --duration "$DUR" \
		--drain 300ms --wait 10s --json >"$W/$1.json" 2>"$W/$1.err"
	kill -CONT "${stop[@]}"
	bench_mpps "$W/$1.json"
}

echo "bench/multinode.sh: ${DUR}s trials, $REPEAT repeats, 64-byte frames, 100 flows;" \
	"nf-gen on CPU 0, switches + router + NAT + firewall on CPU 1 (yield)"
for rep in $(seq "$REPEAT"); do
	line="  repeat $rep"
	for sc in m s; do
		read -r got offered < <(run "$sc")
		R[$sc]="${R[$sc]:-} $got"
		line+=$(printf '   %s %7s Mpps (offered %7s)' "${LABEL[$sc]}" "$got" "$offered")
	done
	echo "$line"
done
python3 - "${R[m]}" "${R[s]}" "$DUR" "$REPEAT" <<'PY'
import statistics, sys
m = [float(x) for x in sys.argv[1].split()]
s = [float(x) for x in sys.argv[2].split()]
r = [a / b for a, b in zip(m, s) if b > 0]
print()
print("%-44s %8s" % ("chain router -> NAT -> firewall", "Mpps"))
print("%-44s %8.3f" % ("3 nodes, SRv6 over 2 Linux routers (AF_XDP)", statistics.median(m)))
print("%-44s %8.3f" % ("1 node, the same SIDs local", statistics.median(s)))
print("%-44s %8.3f   (median of pairs %s)" % ("ratio 3 nodes / 1 node", statistics.median(r),
      " ".join("%.3f" % x for x in r)))
print()
print("| bench/multinode.sh -t %s -r %s | %.3f Mpps | %.3f Mpps | %.3f |" %
      (sys.argv[3], sys.argv[4], statistics.median(m), statistics.median(s), statistics.median(r)))
PY
echo
echo "3 nodes, frames lost over all trials, by place:"
mn_drops | sed 's/^/  /'
