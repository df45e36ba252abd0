#!/usr/bin/env bash
# bench/callgrind.sh - instructions per packet in nfswitch's forwarding
# path, counted by valgrind's callgrind (this machine has no hardware
# counters; instruction counts repeat exactly for the same inputs).
#
# nfswitch runs under callgrind with collection only inside sw_forward()
# (receive burst, learning, lookup, copy into the receiver's buffer,
# transmit, release). nf-gen pushes N frames from memif port 0 to port 1 as
# fast as it can, so the switch sees full bursts. Result: inclusive
# instructions of sw_forward / frames forwarded, plus the split by callee.
#
#   bench/callgrind.sh [-n FRAMES] [-s SIZE] [-b BURST] [-f FLOWS]
set -u
cd "$(dirname "$0")/.."
N=300000 SIZE=60 BURST=32 FLOWS=1
while getopts "n:s:b:f:" o; do
	case $o in
	n) N=$OPTARG ;; s) SIZE=$OPTARG ;; b) BURST=$OPTARG ;; f) FLOWS=$OPTARG ;;
	*) echo "usage: bench/callgrind.sh [-n FRAMES] [-s SIZE] [-b BURST] [-f FLOWS]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
command -v valgrind >/dev/null || { echo "bench: valgrind missing (scripts/deps)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-cg.XXXXXX)
trap 'kill $SW 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$W/cg.out" "$KEEP"; rm -rf "$W"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --collect-atstart=no \
	--toggle-collect=sw_forward "$BIN/nfswitch" -q -b "$BURST" -c "$W/ctl" \
	-p "memif:$W/sw.sock,id=0" -p "memif:$W/sw.sock,id=1" >"$W/sw.log" 2>&1 &
SW=$!
for i in $(seq 200); do [ -e "$W/ctl" ] && break; sleep 0.1; done
# The sink on port 1 never sends, so its MAC is never learned: pin it
# with a static entry so that the measured path is unicast forwarding.
"$BIN/nfchain" switch --ctl "$W/ctl" add-mac 02:00:00:00:00:02 1
"$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" --rx "memif:$W/sw.sock,id=1" --count "$N" \
	--size "$SIZE" --flows "$FLOWS" --drain 5s --wait 30s --json >"$W/gen.json" 2>"$W/gen.err"
"$BIN/nfchain" switch --ctl "$W/ctl" --json stats >"$W/ports.json"
kill -INT "$SW"; wait "$SW"
python3 - "$W/cg.out" "$W/ports.json" "$W/gen.json" "$SIZE" "$BURST" "$FLOWS" <<'EOF'
import json, re, subprocess, sys
cg, ports, gen = sys.argv[1:4]
size, burst, flows = sys.argv[4:7]
st = json.load(open(ports))
p = st["ports"]
fwd = sum(x["tx_packets"] for x in p)          # frames the switch sent out
rx0 = [x for x in p if x["name"].endswith("id=0")][0]["rx_packets"]
ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                     capture_output=True, text=True).stdout
def incl(fn):
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*\b%s\b" % re.escape(fn), line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0
total = incl("sw_forward")
print("frames forwarded by the switch: %d (port 0 received %d)" % (fwd, rx0))
print("frame size %s bytes, burst %s, flows %s; average frames per non-empty burst %.1f"
      % (size, burst, flows, st["avg_burst"]))
print("instructions in sw_forward (inclusive): %d" % total)
print("instructions per packet, one switch hop (rx + learn + lookup + copy + tx): %.1f" % (total / fwd))
for fn in ("nf_rx_burst", "nf_tx_burst", "nf_rx_release"):
    print("  %-14s %6.1f per packet" % (fn, incl(fn) / fwd))
EOF
