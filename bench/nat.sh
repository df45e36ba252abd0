#!/usr/bin/env bash
# bench/nat.sh - nf-nat against Linux's NAT (nftables), in one run:
#
#   (r) nf-gen -> memif -> nfswitch -> memif -> nf-nat -> memif ->
#       nfswitch -> memif -> nf-gen (one nf-gen sends and receives)
#   (k) the same nf-gen -> AF_PACKET -> veth -> Linux in a network
#       namespace (ip_forward, `table ip nat` postrouting: masquerade or
#       snat, see below) -> veth -> AF_PACKET -> nf-gen; RPS gives the
#       kernel the second core
#   (c) control: the same nf-gen over a bare veth pair, no forwarding: the
#       most (k) could reach with this feed
#
# Traffic: UDP from inside hosts 10.1.0.2 + i, source port 1024 + i (flow
# i), to 10.2.0.2:1024; 1 flow and 100,000 flows (FLOWS). Every flow
# is a session in both NATs (created in the first trial, found after).
# Linux's rule: `oifname "r1" masquerade` when there are at most 60,000
# flows; above that `oifname "r1" snat to 10.2.0.11-10.2.0.14`, the
# four addresses of nf-nat's pool: masquerade has the interface's single
# address, whose 64,512 ports cannot hold 100,000 flows to one remote
# endpoint (nf-nat's endpoint-independent mappings need a port per inside
# endpoint just the same, so both get the same 4 addresses).
# Frame size 60 (64 with FCS) by default. Scenarios interleaved, REPEAT
# times; medians and the ratio (r)/(k) of back-to-back trials (paired).
# CPUs: nf-gen on 0; nfswitch and nf-nat on 1 (yield mode).
#
#   bench/nat.sh [-t SECONDS] [-r REPEAT] [-s "60"] [-f "1 100000"] [-o FILE]
set -u
cd "$(dirname "$0")/.."
DUR=4 REPEAT=3 SIZES="60" FLOWS="1 100000" OUT=build/bench/nat.json
while getopts "t:r:s:f:o:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; s) SIZES=$OPTARG ;; f) FLOWS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) echo "usage: bench/nat.sh [-t S] [-r N] [-s SIZES] [-f FLOWS] [-o FILE]" >&2; exit 2 ;;
	esac
done
SWITCH_CPU=${SWITCH_CPU:-1} NAT_CPU=${NAT_CPU:-1}
MODE=${MODE:-yield} RS=${RSIZE:-12} BURST=${BURST:-64}
BIN=$PWD/build/release/bin
[ -x "$BIN/nf-nat" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-nbench.XXXXXX)
mkdir -p "$(dirname "$OUT")"
NS=nfn$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del nfns0 2>/dev/null; ip link del nfnd0 2>/dev/null; ip link del nfnc0 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. bench/lib.sh
GEN_SRC=10.1.0.2 GEN_DST=10.2.0.2

# --- (r): the switch and nf-nat stay up for the whole run ---
bench_switch "$MODE" "$BURST"
cat >"$W/n.conf" <<EOF
port in memif:$W/sw.sock,id=1,rsize=$RS mac 02:00:00:00:01:01
port out memif:$W/sw.sock,id=2,rsize=$RS mac 02:00:00:00:01:02
inside in
outside out next-hop 02:00:00:00:0d:02
pool 10.2.0.11-10.2.0.14
set mode $MODE
set burst $BURST
EOF
taskset -c "$NAT_CPU" "$BIN/nf-nat" -q -c "$W/n.conf" --ctl "$W/n.ctl" &
pids+=($!)
bench_wait "$W/n.ctl"
# Static MAC entries: no flooding towards ports that never send.
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:01:01 1 >/dev/null
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:0d:02 3 >/dev/null

run_r() {	# size flows
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0,rsize=$RS" \
		--rx "memif:$W/sw.sock,id=3,rsize=$RS" --burst "$BURST" \
		--dst-mac 02:00:00:00:01:01 --src-ip "$GEN_SRC" --dst-ip "$GEN_DST" \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/r.json" 2>/dev/null
	bench_mpps "$W/r.json"
}

# --- (k): Linux in a namespace (bench/lib.sh: r0 10.1.0.1/16, r1
# 10.2.0.1/24, neighbour 10.2.0.2), with the NAT rule nft_rule gives ---
kernel_router "$NS" nfns0 nfnd0
nft_rule() {	# flows: the rule Linux gets for that many flows
	local rule='oifname "r1" masquerade'
	[ "$1" -gt 60000 ] && rule='oifname "r1" snat to 10.2.0.11-10.2.0.14'
	printf 'flush ruleset\ntable ip nat {\n chain post { type nat hook postrouting priority srcnat; %s; }\n}\n' \
		"$rule" | ip netns exec "$NS" nft -f -
}
run_k() {	# size flows
	# The switch and nf-nat pause meanwhile: the kernel gets both cores
	# as (r) does.
	kill -STOP "${pids[@]}"
	nft_rule "$2"
	taskset -c 0 "$BIN/nf-gen" --tx afpacket:nfns0 --rx afpacket:nfnd0 \
		--dst-mac "$R0MAC" --src-ip "$GEN_SRC" --dst-ip "$GEN_DST" \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/k.json" 2>/dev/null
	kill -CONT "${pids[@]}"
	bench_mpps "$W/k.json"
}
# --- (c): the feed's ceiling (bench/lib.sh) ---
bench_ceiling nfn

SCENARIOS="r k c"
echo "bench/nat.sh: ${DUR}s trials, $REPEAT repeats, sizes $SIZES, flows $FLOWS;" \
	"nfswitch on CPU $SWITCH_CPU, nf-nat on CPU $NAT_CPU"
bench_loop
"$BIN/nfchain" vnf "$W/n.ctl" --json stats >"$W/nstats.json"
python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); n=d["nat"]
print("nf-nat: %d sessions, %d created, %d mappings; drops %s" % (n["sessions"], n["created"],
      n["mappings"], d["drops"] or "none"))' "$W/nstats.json"
echo "Linux: $(ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_count) conntrack entries"
bench_report nf_nat linux
