#!/usr/bin/env bash
# bench/callgrind.sh - instructions per packet in nfswitch's forwarding
# path, counted by valgrind's callgrind (this machine has no hardware
# counters; instruction counts repeat for the same inputs).
#
# Collection is on only inside sw_forward(): the receive burst, learning,
# lookup, the copy into the receiver's buffer, transmit, release. nf-gen
# pushes N frames from memif port 0 to port 1 as fast as it can; the sink's
# MAC is a static entry, so the path measured is unicast forwarding.
#
# Two runs of the same binary:
#   1. idle: the switch polls its two ports for a while with no traffic;
#      gives the cost of one empty poll;
#   2. loaded: N frames. The switch polls port 1 (the sink, which never
#      sends) on every pass, and port 0 when the sender is momentarily
#      behind: those empty polls are counted (polls - non-empty bursts).
# Reported: the raw figure (everything in sw_forward / frames) and the
# per-packet figure (the same minus empty polls x their cost), with the
# split by callee. The per-packet figure is the one to compare against
# the 80-instruction target. -C 'ARGS': with `nfchain capture ARGS -w
# /dev/null` running during the loaded run (a port capture's cost, e.g.
# -C '--rx 0'); BIN=DIR: another build's programs (an older commit's).
#
#   bench/callgrind.sh [-n FRAMES] [-s SIZE] [-b BURST] [-f FLOWS] [-C 'ARGS']
set -u
cd "$(dirname "$0")/.."
N=300000 SIZE=60 BURST=32 FLOWS=1 CAPTURE=
while getopts "n:s:b:f:C:" o; do
	case $o in
	n) N=$OPTARG ;; s) SIZE=$OPTARG ;; b) BURST=$OPTARG ;; f) FLOWS=$OPTARG ;;
	C) CAPTURE=$OPTARG ;;
	*) echo "usage: bench/callgrind.sh [-n FRAMES] [-s SIZE] [-b BURST] [-f FLOWS] [-C 'ARGS']" >&2; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
command -v valgrind >/dev/null || { echo "bench: valgrind missing (scripts/deps)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-cg.XXXXXX)
SW= CAP=
trap '[ -n "$CAP" ] && kill $CAP 2>/dev/null; [ -n "$SW" ] && kill $SW 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$W"/*.cg "$KEEP"/; rm -rf "$W"' EXIT

start_switch() {	# name
	valgrind --tool=callgrind --callgrind-out-file="$W/$1.cg" --collect-atstart=no \
		--toggle-collect=sw_forward "$BIN/nfswitch" -q -b "$BURST" -c "$W/ctl" \
		-p "memif:$W/sw.sock,id=0" -p "memif:$W/sw.sock,id=1" >"$W/$1.log" 2>&1 &
	SW=$!
	for i in $(seq 300); do [ -S "$W/ctl" ] && return; sleep 0.1; done
	echo "bench: nfswitch did not start under valgrind" >&2; exit 1
}
stop_switch() {	# name
	"$BIN/nfchain" switch --ctl "$W/ctl" --json stats >"$W/$1.json"
	kill -INT "$SW"; wait "$SW"; SW=
}

# 1. idle
start_switch idle
sleep 3
stop_switch idle
# 2. loaded
start_switch load
"$BIN/nfchain" switch --ctl "$W/ctl" add-mac 02:00:00:00:00:02 1 >/dev/null
if [ -n "$CAPTURE" ]; then
	# shellcheck disable=SC2086
	"$BIN/nfchain" capture --ctl "$W/ctl" -w /dev/null $CAPTURE 2>"$W/cap.err" &
	CAP=$!
	for i in $(seq 300); do
		"$BIN/nfchain" switch --ctl "$W/ctl" captures 2>/dev/null | grep -q '^1 ' && break
		sleep 0.1
	done
fi
"$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" --rx "memif:$W/sw.sock,id=1" --count "$N" \
	--size "$SIZE" --flows "$FLOWS" --drain 5s --wait 30s --json >"$W/gen.json" 2>"$W/gen.err"
if [ -n "$CAP" ]; then
	kill -INT "$CAP"; wait "$CAP"; CAP=
	echo "capture $CAPTURE: $(tail -1 "$W/cap.err")"
fi
stop_switch load

python3 - "$W" "$SIZE" "$BURST" "$FLOWS" <<'PY'
import json, re, subprocess, sys
w, size, burst, flows = sys.argv[1:5]
def incl(cg, fn):
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                         capture_output=True, text=True).stdout
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*\b%s\b" % re.escape(fn), line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0
idle = json.load(open(w + "/idle.json"))
load = json.load(open(w + "/load.json"))
per_empty = incl(w + "/idle.cg", "sw_forward") / max(idle["polls"], 1)
total = incl(w + "/load.cg", "sw_forward")
fwd = sum(p["tx_packets"] for p in load["ports"])
empty = load["polls"] - load["bursts"]
print("frames forwarded %d, frame size %s bytes, burst %s, flows %s" % (fwd, size, burst, flows))
print("non-empty bursts %d (average %.1f frames), empty polls %d" % (load["bursts"], load["avg_burst"], empty))
print("empty poll: %.1f instructions (idle run, %d polls)" % (per_empty, idle["polls"]))
print("raw: %.1f instructions per packet (all of sw_forward / frames)" % (total / fwd))
print("per packet, one switch hop (rx + learn + lookup + copy + tx): %.1f instructions"
      % ((total - empty * per_empty) / fwd))
print("  forward()    %6.1f per packet (inclusive: the non-empty bursts alone, no"
      " poll correction)" % (incl(w + "/load.cg", "forward") / fwd))
for fn in ("srv_rx_run", "srv_tx_run", "nf_rx_burst", "nf_tx_burst"):
    print("  %-12s %6.1f per packet (inclusive)" % (fn, incl(w + "/load.cg", fn) / fwd))
PY
