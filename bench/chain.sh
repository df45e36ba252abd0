#!/usr/bin/env bash
# bench/chain.sh - forwarding rate of the issue 5 service chain, steered by
# SRv6 inside one nfswitch, against the bare switch in the same run:
#
#   (c) nf-gen -> nfswitch [rule: srv6-encap R,N,F,E]
#         -> R End.AD -> nf-router -> N End.AD -> nf-nat
#         -> F End.AD -> nf-firewall x2 (stateful, policy drop; the group
#            picks the replica) -> E End.DX4 -> nf-gen
#       (the configuration of scripts/chain-demo; five hops through the
#       switch, three VNF processes on the path)
#   (s) nf-gen -> a second nfswitch without steering (MAC learning) ->
#       nf-gen: one switch hop, the baseline
#
# 64-byte frames, 100 flows, offered as fast as nf-gen can, counted at the
# receiver; nf-gen on CPU 0, the switches and the VNFs on CPU 1 (yield
# mode: they take turns); while one scenario runs the other's programs
# are stopped (SIGSTOP). Interleaved REPEAT times; medians and the paired
# ratio (c)/(s).
#
# With -c FRAMES, instructions instead of rates: both switches under
# valgrind's callgrind (collection in sw_forward(), as bench/steer.sh), nf-gen
# sends FRAMES frames through each; a switch's work per pass is the receive
# loop and forward() (steering, switching, transmit) over the frames it
# received on all its ports (each reception is one pass through the
# switch). The chain's per pass against the bare switch's: the cost of the
# steering per hop of the real chain (issue 5's bound: 1.3x).
#
# KEEP=DIR with -c: the callgrind files (chain.cg, bare.cg; per
# instruction, --dump-instr=yes) are kept in DIR, for bench/cg_instr.py.
#
# -T TRAIN: each flow sends TRAIN frames in a row (nf-gen --train; default
# 1: the flows take turns frame by frame, the flow cache's worst case).
#
#   bench/chain.sh [-t SECONDS] [-r REPEAT] [-f FLOWS] [-T TRAIN] [-c FRAMES]
set -u
cd "$(dirname "$0")/.."
DUR=3 REPEAT=3 FLOWS=100 TRAIN=1 CGN=
while getopts "t:r:f:T:c:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; f) FLOWS=$OPTARG ;; T) TRAIN=$OPTARG ;;
	c) CGN=$OPTARG ;;
	*) echo "usage: bench/chain.sh [-t SECONDS] [-r REPEAT] [-f FLOWS] [-T TRAIN] [-c FRAMES]" >&2
	   exit 2 ;;
	esac
done
if [ -n "$CGN" ]; then
	command -v valgrind >/dev/null || { echo "bench: valgrind missing (scripts/deps)" >&2; exit 1; }
	REPEAT=1
fi
# cg NAME: the callgrind prefix of switch NAME's command (none without -c)
cg() {
	[ -n "$CGN" ] && echo "valgrind --tool=callgrind --callgrind-out-file=$W/$1.cg" \
		"--collect-atstart=no --toggle-collect=sw_forward ${KEEP:+--dump-instr=yes}"
}
# swait CTL: a switch's control socket (30 s: valgrind starts slowly)
swait() {
	local i
	for i in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.1; done
	echo "bench: no control socket $1" >&2
	exit 1
}
BIN=${BIN:-$PWD/build/release/bin}
[ -x "$BIN/nf-firewall" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-chain.XXXXXX)
chain=() base=()
cleanup() {
	for p in "${chain[@]}" "${base[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$W"/*.cg "$KEEP"/ 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. bench/lib.sh
M() { echo "memif:$W/sw.sock,id=$1"; }

cat >"$W/steering" <<EOF
group rt 0/1@02:00:00:00:c5:11/02:00:00:00:c5:12
group nat 2/3
group fw 4/5 6/7
srv6-source fc00:e::100
sid fc00:e::1 End.AD group rt
sid fc00:e::2 End.AD group nat
sid fc00:e::3 End.AD group fw
sid fc00:e::4 End.DX4 9 02:00:00:00:c5:02
rule in-port 8 ip daddr 203.0.113.0/24 action srv6-encap fc00:e::1,fc00:e::2,fc00:e::3,fc00:e::4
EOF
# shellcheck disable=SC2046
taskset -c 1 $(cg chain) "$BIN/nfswitch" -q -c "$W/sw.ctl" --mode yield -b 64 -S "$W/steering" \
	$(for i in $(seq 0 9); do echo "-p $(M "$i")"; done) &
chain+=($!)
swait "$W/sw.ctl"
cat >"$W/router.conf" <<EOF
port lan $(M 0) mac 02:00:00:00:c5:11
port wan $(M 1) mac 02:00:00:00:c5:12
address lan 10.1.0.1/16
address wan 10.2.0.1/24
route 203.0.113.0/24 via 10.2.0.254
neighbor wan 10.2.0.254 02:00:00:00:c5:fe
set mode yield
set burst 64
EOF
printf 'port in %s\nport out %s\ninside in\noutside out\npool 198.51.100.1 ports 1024-65535\nset mode yield\nset burst 64\n' \
	"$(M 2)" "$(M 3)" >"$W/nat.conf"
printf '%s\n' 'ct state established,related accept' 'ct state invalid drop' \
	'iifname fin udp dport 1024 accept' 'counter drop' >"$W/fw.rules"
for r in 0 1; do
	printf 'port fin %s\nport fout %s\nrules %s\nset policy drop\nset mode yield\nset burst 64\n' \
		"$(M $((4 + 2 * r)))" "$(M $((5 + 2 * r)))" "$W/fw.rules" >"$W/fw$r.conf"
done
taskset -c 1 "$BIN/nf-router" -q -c "$W/router.conf" --ctl "$W/router.ctl" &
chain+=($!)
taskset -c 1 "$BIN/nf-nat" -q -c "$W/nat.conf" --ctl "$W/nat.ctl" &
chain+=($!)
for r in 0 1; do
	taskset -c 1 "$BIN/nf-firewall" -q -c "$W/fw$r.conf" --ctl "$W/fw$r.ctl" &
	chain+=($!)
done
for c in router nat fw0 fw1; do bench_wait "$W/$c.ctl"; done

# The baseline switch: two ports, the receiver's MAC static.
# shellcheck disable=SC2046
taskset -c 1 $(cg bare) "$BIN/nfswitch" -q -c "$W/bs.ctl" --mode yield -b 64 \
	-p "memif:$W/bs.sock,id=0" -p "memif:$W/bs.sock,id=1" &
base+=($!)
swait "$W/bs.ctl"
"$BIN/nfchain" switch --ctl "$W/bs.ctl" add-mac 02:00:00:00:c5:02 1 >/dev/null

# how long nf-gen sends: seconds, or FRAMES frames with -c
amount() {
	if [ -n "$CGN" ]; then echo "--count $CGN --drain 5s --wait 60s"
	else echo "--duration $DUR --drain 300ms"; fi
}
run_c() {
	kill -STOP "${base[@]}"
	# shellcheck disable=SC2046
	taskset -c 0 "$BIN/nf-gen" --tx "$(M 8)" --rx "$(M 9)" --flows "$FLOWS" --train "$TRAIN" --burst 64 \
		--src-mac 02:00:00:00:c5:01 --dst-mac 02:00:00:00:c5:11 \
		--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --size 60 $(amount) \
		--json >"$W/c.json" 2>/dev/null
	kill -CONT "${base[@]}"
	bench_mpps "$W/c.json"
}
run_s() {
	kill -STOP "${chain[@]}"
	# shellcheck disable=SC2046
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/bs.sock,id=0" --rx "memif:$W/bs.sock,id=1" \
		--flows "$FLOWS" --train "$TRAIN" --burst 64 --src-mac 02:00:00:00:c5:01 --dst-mac 02:00:00:00:c5:02 \
		--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --size 60 $(amount) \
		--json >"$W/s.json" 2>/dev/null
	kill -CONT "${chain[@]}"
	bench_mpps "$W/s.json"
}

if [ -n "$CGN" ]; then
	echo "bench/chain.sh: $CGN frames of 64 bytes, $FLOWS flows (trains of $TRAIN), through the chain and the bare" \
		"switch, both switches under callgrind"
	run_c >/dev/null
	run_s >/dev/null
	for s in sw bs; do
		"$BIN/nfchain" switch --ctl "$W/$s.ctl" --json stats >"$W/$s.stats"
	done
	"$BIN/nfchain" switch --ctl "$W/sw.ctl" --json steer-stats >"$W/steer.json"
	for p in "${chain[0]}" "${base[0]}"; do kill -CONT "$p"; kill -INT "$p"; done
	wait "${chain[0]}" "${base[0]}" 2>/dev/null
	chain=("${chain[@]:1}") base=()
	python3 - "$W" "$CGN" <<'PY'
import json, subprocess, sys
w, n = sys.argv[1], int(sys.argv[2])
def work(name):
    out = subprocess.run(["python3", "bench/cg_incl.py", "%s/%s.cg" % (w, name), "1",
                          "forward", "srv_rx_run"], capture_output=True, text=True, check=True)
    return sum(map(float, out.stdout.split()))
rows = {}
for name, st in (("chain", "sw"), ("bare", "bs")):
    s = json.load(open("%s/%s.stats" % (w, st)))
    rx = sum(p["rx_packets"] for p in s["ports"])
    tx = sum(p["tx_packets"] for p in s["ports"])
    rows[name] = (work(name) / max(rx, 1), rx, tx)
c, b = rows["chain"], rows["bare"]
fl = json.load(open(w + "/steer.json"))
print("bare switch: %d passes, %.1f instructions per pass" % (b[1], b[0]))
print("chain:       %d passes (%.2f per frame sent), %.1f instructions per pass" % (
    c[1], c[1] / n, c[0]))
print("flow cache: %d hits, %d fills (%d wide)" % (
    fl["flow_cache_hits"], fl["flow_cache_fills"], fl.get("flow_cache_wide_fills", 0)))
print("per pass, chain / bare switch: %.2fx" % (c[0] / b[0]))
PY
	exit 0
fi
echo "bench/chain.sh: ${DUR}s trials, $REPEAT repeats, 64-byte frames, $FLOWS flows (trains of $TRAIN);" \
	"nf-gen on CPU 0, switch + router + NAT + 2 firewalls on CPU 1 (yield)"
C="" S=""
for rep in $(seq "$REPEAT"); do
	read -r c co < <(run_c)
	read -r s so < <(run_s)
	C="$C $c" S="$S $s"
	printf '  repeat %d  chain %7s Mpps (offered %7s)   bare switch %7s Mpps (offered %7s)\n' \
		"$rep" "$c" "$co" "$s" "$so"
done
"$BIN/nfchain" switch --ctl "$W/sw.ctl" --json groups >"$W/groups.json"
python3 - "$C" "$S" "$W/groups.json" <<'PY'
import json, statistics, sys
c = [float(x) for x in sys.argv[1].split()]
s = [float(x) for x in sys.argv[2].split()]
r = [a / b for a, b in zip(c, s) if b > 0]
g = {x["name"]: [m["packets"] for m in x["members"]] for x in json.load(open(sys.argv[3]))["groups"]}
print()
print("chain %.3f Mpps, bare switch %.3f Mpps (medians); chain / switch %.3f (median of pairs %s)" %
      (statistics.median(c), statistics.median(s), statistics.median(r),
       " ".join("%.3f" % x for x in r)))
print("frames per firewall replica: %s" % g["fw"])
PY
