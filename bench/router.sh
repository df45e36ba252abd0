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
. bench/lib.sh

# --- (r): the switch and the router stay up for the whole run ---
bench_switch "$MODE" "$BURST"
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
bench_wait "$W/r.ctl"
# Static MAC entries: no flooding towards ports that never send.
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:01:01 1 >/dev/null
"$BIN/nfchain" switch --ctl "$W/sw.ctl" add-mac 02:00:00:00:0d:02 3 >/dev/null

run_r() {	# size flows
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0,rsize=$RS" \
		--rx "memif:$W/sw.sock,id=3,rsize=$RS" --burst "$BURST" \
		--dst-mac 02:00:00:00:01:01 --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/r.json" 2>/dev/null
	bench_mpps "$W/r.json"
}

# --- (k): Linux in a namespace ---
kernel_router "$NS" nfrs0 nfrd0
run_k() {	# size flows
	# The switch and the router pause meanwhile: the kernel gets both
	# cores as (r) does.
	kill -STOP "${pids[@]}"
	taskset -c 0 "$BIN/nf-gen" --tx afpacket:nfrs0 --rx afpacket:nfrd0 \
		--dst-mac "$R0MAC" --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$1" --flows "$2" --duration "$DUR" --drain 300ms --json >"$W/k.json" 2>/dev/null
	kill -CONT "${pids[@]}"
	bench_mpps "$W/k.json"
}

# --- (c): the feed's ceiling: the same nf-gen over a bare veth pair
# (no namespace, no forwarding; RPS on the receiving side as in (k)).
# (k) can not beat it: it says how much of (k) is the generator's own
# AF_PACKET path rather than the kernel's forwarding.
bench_ceiling nfr

SCENARIOS="r k c"
echo "bench/router.sh: ${DUR}s trials, $REPEAT repeats, sizes $SIZES, flows $FLOWS;" \
	"nfswitch on CPU $SWITCH_CPU, nf-router on CPU $ROUTER_CPU"
bench_loop
"$BIN/nfchain" vnf "$W/r.ctl" --json stats >"$W/rstats.json"

bench_report nf_router linux
