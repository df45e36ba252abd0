#!/usr/bin/env bash
# bench/capture.sh - what a port capture costs nfswitch's forwarding, in
# one run: scenario (a) of bench/switch.sh (nf-gen -> nfswitch -> nf-gen
# over memif, as fast as possible, 60-byte frames) with
#   base  the switch of another build (BASE=DIR: e.g. the commit before
#         captures existed, built with `make O=...`), no capture
#   none  this build's switch, no capture
#   cap   this build's switch while `nfchain capture --rx 0 -w /dev/null`
#         copies every frame (the tool busy on the same two cores)
#   filt  the same with a filter no frame matches (-f arp): the BPF run,
#         no copy
# interleaved (one of each per repeat), REPEAT times; reported: medians
# and the ratios to "none" paired within each repeat. Two cores: the switch
# on CPU 1, nf-gen on CPU 0, the capture tool wherever it gets.
#
#   BASE=DIR bench/capture.sh [-t SECONDS] [-r REPEAT] [-s SIZE]
set -u
cd "$(dirname "$0")/.."
DUR=3 REPEAT=5 SIZE=60
while getopts "t:r:s:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; s) SIZE=$OPTARG ;;
	*) echo "usage: BASE=DIR bench/capture.sh [-t SECONDS] [-r REPEAT] [-s SIZE]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
BASE=${BASE:-}
[ -x "$BIN/nfswitch" ] || { echo "bench: build first (make)" >&2; exit 1; }
[ -z "$BASE" ] || [ -x "$BASE/nfswitch" ] || { echo "bench: no $BASE/nfswitch" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-bench.XXXXXX)
SW= CAP=
trap '[ -n "$CAP" ] && kill $CAP 2>/dev/null; [ -n "$SW" ] && kill $SW 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM

mpps() { python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["rate"]["rx_pps"]/1e6))' "$1"; }

run() {	# KIND: prints the Mpps nf-gen received
	local sw_bin=$BIN/nfswitch i
	[ "$1" = base ] && sw_bin=$BASE/nfswitch
	taskset -c 1 "$sw_bin" -q -c "$W/ctl" -p "memif:$W/sw.sock,id=0" \
		-p "memif:$W/sw.sock,id=1" >"$W/sw.log" 2>&1 &
	SW=$!
	for i in $(seq 100); do [ -S "$W/ctl" ] && break; sleep 0.05; done
	if [ "$1" = cap ] || [ "$1" = filt ]; then
		local f=()
		[ "$1" = filt ] && f=(-f arp)
		"$BIN/nfchain" capture --ctl "$W/ctl" --rx "${f[@]}" -w /dev/null 0 2>"$W/cap.err" &
		CAP=$!
		for i in $(seq 100); do
			"$BIN/nfchain" switch --ctl "$W/ctl" captures 2>/dev/null | grep -q '^1 ' && break
			sleep 0.05
		done
	fi
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" --rx "memif:$W/sw.sock,id=1" \
		--size "$SIZE" --duration "$DUR" --json >"$W/gen.json" 2>/dev/null
	if [ -n "$CAP" ]; then
		kill -INT "$CAP"; wait "$CAP"; CAP=
		tail -1 "$W/cap.err" >>"$W/cap.log"
	fi
	kill "$SW"; wait "$SW" 2>/dev/null; SW=
	rm -f "$W/ctl"
	mpps "$W/gen.json"
}

kinds="none cap filt"
[ -n "$BASE" ] && kinds="base $kinds"
for ((r = 0; r < REPEAT; r++)); do
	line=""
	for k in $kinds; do
		v=$(run "$k")
		echo "$k $r $v" >>"$W/res"
		line="$line $k=$v"
	done
	echo "repeat $r:$line"
done
echo "capture tool (last repeat): $(tail -2 "$W/cap.log" | head -1)"
python3 - "$W/res" "$SIZE" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    k, r, v = line.split()
    d[k][int(r)] = float(v)
print("%d-byte frames, Mpps at the receiver (median of %d)" % (int(sys.argv[2]), len(d["none"])))
for k in d:
    ratios = [d[k][r] / d["none"][r] for r in d[k] if d["none"].get(r)]
    print("  %-5s %7.3f   vs none: %.3f (median of the paired ratios)"
          % (k, statistics.median(d[k].values()), statistics.median(ratios)))
PY
