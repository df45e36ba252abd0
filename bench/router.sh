#!/usr/bin/env bash
# bench/router.sh - nf-router against Linux forwarding, in one run:
#
#   (r) nf-gen -> memif -> nfswitch -> memif -> nf-router -> memif ->
#       nfswitch -> memif -> nf-gen (one nf-gen sends and receives)
#   (k) the same nf-gen -> AF_PACKET -> veth -> Linux router in a network
#       namespace (ip_forward, static neighbour) -> veth -> AF_PACKET ->
#       nf-gen; RPS gives the kernel's forwarding the second core
#   (c) control: the same nf-gen -> AF_PACKET -> veth pair -> AF_PACKET,
#       no forwarding: the most (k) could reach with this feed
#
# Frame sizes 64/512/1518 (RFC 2544 counting; buffers 60/508/1514), 1 and
# 100 flows (source address and port vary), offered as fast as possible,
# counted at the receiver (forwarding rate). Scenarios interleaved, REPEAT
# times; medians and the ratio (r)/(k) of back-to-back trials (paired).
# CPUs: nf-gen on 0; nfswitch and nf-router on 1 (three programs, two
# cores: see ROUTER_CPU / SWITCH_CPU to try other placements).
#
#   bench/router.sh [-t SECONDS] [-r REPEAT] [-s "60 508 1514"] [-f "1 100"]
set -u
cd "$(dirname "$0")/.."
DUR=4 REPEAT=3 SIZES="60 508 1514" FLOWS="1 100" OUT=build/bench/router.json
while getopts "t:r:s:f:o:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; s) SIZES=$OPTARG ;; f) FLOWS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) echo "usage: bench/router.sh [-t S] [-r N] [-s SIZES] [-f FLOWS] [-o FILE]" >&2; exit 2 ;;
	esac
done
SWITCH_CPU=${SWITCH_CPU:-1} ROUTER_CPU=${ROUTER_CPU:-1}
# Two polling programs share CPU 1: yield mode (poll, but give the CPU
# away when idle or when the next hop's ring is full). MODE=busy to see
# what plain busy polling does on a shared core.
MODE=${MODE:-yield}
# Rings of 4096 slots and bursts of 64 on the chain: when two programs
# share a core, each turn moves more frames (measured: rsize 10/burst 32
# 6.1x the kernel, rsize 12/burst 64 9.2x, burst 256 9.4x).
RS=${RSIZE:-12} BURST=${BURST:-64}
BIN=$PWD/build/release/bin
[ -x "$BIN/nf-router" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-rbench.XXXXXX)
mkdir -p "$(dirname "$OUT")"
NS=nfr$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del nfrs0 2>/dev/null; ip link del nfrd0 2>/dev/null; ip link del nfrc0 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# "forwarded offered" in Mpps: the receiver's rate and the sender's.
mpps() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["rate"]; print("%.3f %.3f" % (r["rx_pps"]/1e6, r["tx_pps"]/1e6))' "$1"; }

# --- (r): the switch and the router stay up for the whole run ---
taskset -c "$SWITCH_CPU" "$BIN/nfswitch" -q --mode "$MODE" -b "$BURST" -c "$W/sw.ctl" -p "memif:$W/sw.sock,id=0" \
	-p "memif:$W/sw.sock,id=1" -p "memif:$W/sw.sock,id=2" -p "memif:$W/sw.sock,id=3" &
pids+=($!)
for i in $(seq 50); do [ -S "$W/sw.ctl" ] && break; sleep 0.1; done
cat >"$W/r.conf" <<EOF
port lan memif:$W/sw.sock,id=1,rsize=$RS mac 02:00:00:00:01:01
port wan memif:$W/sw.sock,id=2,rsize=$RS mac 02:00:00:00:01:02
address lan 10.1.0.1/16
address wan 10.2.0.1/24
neighbor wan 10.2.0.2 02:00:00:00:0d:02
set mode $MODE
set burst $BURST
EOF
taskset -c "$ROUTER_CPU" "$BIN/nf-router" -q -c "$W/r.conf" --ctl "$W/r.ctl" &
pids+=($!)
for i in $(seq 50); do [ -S "$W/r.ctl" ] && break; sleep 0.1; done
# Static MAC entries: no flooding towards ports that never send.
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:01:01 1 >/dev/null
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:0d:02 3 >/dev/null

run_r() {	# size flows
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0,rsize=$RS" \
		--rx "memif:$W/sw.sock,id=3,rsize=$RS" --burst "$BURST" \
		--dst-mac 02:00:00:00:01:01 --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/r.json" 2>/dev/null
	mpps "$W/r.json"
}

# --- (k): Linux in a namespace ---
ip netns add "$NS"
ip link add nfrs0 type veth peer name r0 netns "$NS"
ip link add nfrd0 type veth peer name r1 netns "$NS"
for d in nfrs0 nfrd0; do sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"; ip link set "$d" up; done
ip -n "$NS" link set lo up
ip -n "$NS" link set r0 up
ip -n "$NS" link set r1 up
ip -n "$NS" addr add 10.1.0.1/16 dev r0
ip -n "$NS" addr add 10.2.0.1/24 dev r1
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.r0.rp_filter=0 net.ipv6.conf.all.disable_ipv6=1
ip -n "$NS" neigh add 10.2.0.2 lladdr "$(cat /sys/class/net/nfrd0/address)" dev r1 nud permanent
ip netns exec "$NS" sh -c 'echo 2 > /sys/class/net/r0/queues/rx-0/rps_cpus'
R0MAC=$(ip netns exec "$NS" cat /sys/class/net/r0/address)
run_k() {	# size flows
	# The switch and the router pause meanwhile: the kernel gets both
	# cores as (r) does.
	kill -STOP "${pids[@]}"
	taskset -c 0 "$BIN/nf-gen" --tx afpacket:nfrs0 --rx afpacket:nfrd0 \
		--dst-mac "$R0MAC" --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/k.json" 2>/dev/null
	kill -CONT "${pids[@]}"
	mpps "$W/k.json"
}

# --- (c): the feed's ceiling: the same nf-gen over a bare veth pair
# (no namespace, no forwarding; RPS on the receiving side as in (k)).
# (k) can not beat it: it says how much of (k) is the generator's own
# AF_PACKET path rather than the kernel's forwarding.
ip link add nfrc0 type veth peer name nfrc1
for d in nfrc0 nfrc1; do sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"; ip link set "$d" up; done
echo 2 > /sys/class/net/nfrc1/queues/rx-0/rps_cpus
run_c() {	# size flows
	kill -STOP "${pids[@]}"
	taskset -c 0 "$BIN/nf-gen" --tx afpacket:nfrc0 --rx afpacket:nfrc1 \
		--dst-mac 02:00:00:00:0c:01 --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/c.json" 2>/dev/null
	kill -CONT "${pids[@]}"
	mpps "$W/c.json"
}

declare -A R O
echo "bench/router.sh: ${DUR}s trials, $REPEAT repeats, sizes $SIZES, flows $FLOWS;" \
	"nfswitch on CPU $SWITCH_CPU, nf-router on CPU $ROUTER_CPU"
for rep in $(seq "$REPEAT"); do
	for s in $SIZES; do
		for f in $FLOWS; do
			for sc in r k c; do
				read -r v o < <(run_$sc "$s" "$f")
				R[$sc,$s,$f]="${R[$sc,$s,$f]:-} $v"
				O[$sc,$s,$f]="${O[$sc,$s,$f]:-} $o"
				printf '  repeat %d size %4d flows %3d (%s) %8s Mpps forwarded, %8s offered\n' \
					"$rep" "$s" "$f" "$sc" "$v" "$o"
			done
		done
	done
done
"$BIN/nfchain" vnf "$W/r.ctl" --json stats >"$W/rstats.json"

python3 - "$OUT" <<EOF
import json, statistics, sys
R = {}
O = {}
$(for k in "${!R[@]}"; do echo "R['$k'] = [float(x) for x in '${R[$k]}'.split()]"; echo "O['$k'] = [float(x) for x in '${O[$k]}'.split()]"; done)
keys = sorted({tuple(map(int, k.split(',')[1:])) for k in R})
out = {'results': {}, 'ratio_r_k': {}}
print()
print('%-22s %10s %10s %10s %14s %14s' % ('size (RFC 2544), flows', '(r) Mpps', '(k) Mpps',
                                           '(c) Mpps', '(r)/(k) paired', '(r)/(c) paired'))
for s, f in keys:
    r, k, c = (R['%s,%d,%d' % (x, s, f)] for x in 'rkc')
    pairs = [a / b for a, b in zip(r, k) if b > 0]
    rat = statistics.median(pairs) if pairs else float('inf')
    pc = [a / b for a, b in zip(r, c) if b > 0]
    ratc = statistics.median(pc) if pc else float('inf')
    print('%-22s %10.3f %10.3f %10.3f %13.2fx %13.2fx' % ('%4d B, %3d flows' % (s + 4, f),
          statistics.median(r), statistics.median(k), statistics.median(c), rat, ratc))
    out['results']['%d,%d' % (s + 4, f)] = {'nf_router': r, 'linux': k, 'feed_ceiling': c,
                                            'offered': {x: O['%s,%d,%d' % (x, s, f)]
                                                        for x in 'rkc'}}
    out['ratio_r_c'] = out.get('ratio_r_c', {})
    out['ratio_r_c']['%d,%d' % (s + 4, f)] = {'median_of_paired': ratc, 'paired': pc}
    out['ratio_r_k']['%d,%d' % (s + 4, f)] = {'median_of_paired': rat, 'paired': pairs}
json.dump(out, open(sys.argv[1], 'w'), indent=1)
print('results: ' + sys.argv[1])
EOF
