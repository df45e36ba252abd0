#!/usr/bin/env bash
# bench/metrics.sh - does serving Prometheus metrics slow the switch down?
#
#   (a) nf-gen -> nfswitch -> nf-gen over memif, no --metrics
#   (b) the same with --metrics 127.0.0.1:PORT and a scrape of /metrics
#       every second (curl) during the whole trial
#   (c) the same with a scrape every 100 ms (ten times Prometheus's usual
#       fastest interval)
#
# 64-byte frames (--size 60), offered as fast as possible; the figure is
# what arrives (Mpps). The scenarios alternate within each repeat; the
# ratios b/a and c/a are computed per repeat (paired) and their median
# reported. Switch on CPU 1, nf-gen on CPU 0.
#
#   bench/metrics.sh [-t SECONDS] [-r REPEAT] [-o FILE.json]
set -u
cd "$(dirname "$0")/.."
DUR=5 REPEAT=5 OUT=build/bench/metrics.json
while getopts "t:r:o:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; o) OUT=$OPTARG ;;
	*) echo "usage: bench/metrics.sh [-t SECONDS] [-r REPEAT] [-o FILE]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
[ -x "$BIN/nfswitch" ] || { echo "bench: build first (make)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
pids=()
. bench/lib.sh
bench_workdir metrics SWPID
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

run() {	# scenario: a, b or c
	local args=() every=0 scr
	[ "$1" != a ] && args=(--metrics "127.0.0.1:$PORT")
	[ "$1" = b ] && every=1
	[ "$1" = c ] && every=0.1
	rm -f "$W/ctl"
	taskset -c 1 "$BIN/nfswitch" -q -c "$W/ctl" -p "memif:$W/sw.sock,id=0" \
		-p "memif:$W/sw.sock,id=1" "${args[@]}" >"$W/sw.log" 2>&1 &
	SWPID=$!
	bench_wait "$W/ctl" || return 1
	if [ "$every" != 0 ]; then
		(while :; do curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/metrics"; sleep "$every"; done) &
		scr=$!
	fi
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" --rx "memif:$W/sw.sock,id=1" \
		--size 60 --duration "$DUR" --json >"$W/$1.json" 2>/dev/null
	[ "$every" != 0 ] && { kill "$scr"; wait "$scr" 2>/dev/null; }
	kill "$SWPID"; wait "$SWPID" 2>/dev/null
	SWPID=
	bench_mpps "$W/$1.json" | cut -d' ' -f1
}

declare -A R
echo "bench/metrics.sh: ${DUR}s per trial, $REPEAT repeats, 64-byte frames"
for rep in $(seq "$REPEAT"); do
	for sc in a b c; do
		v=$(run "$sc")
		R[$sc]="${R[$sc]:-} $v"
		printf '  repeat %d  (%s) %8s Mpps\n' "$rep" "$sc" "$v"
	done
done

# The cost of one scrape: an idle switch (interrupt mode, 4 ports) is
# scraped N times over one keep-alive connection; its CPU time (utime +
# stime from /proc) over N is what one scrape costs its thread.
N=3000
rm -f "$W/ctl"
taskset -c 1 "$BIN/nfswitch" -q --mode intr -c "$W/ctl" -p "memif:$W/sw.sock,id=0" \
	-p "memif:$W/sw.sock,id=1" -p "memif:$W/sw.sock,id=2" -p "memif:$W/sw.sock,id=3" \
	--metrics "127.0.0.1:$PORT" >"$W/sw.log" 2>&1 &
SWPID=$!
bench_wait "$W/ctl"
COST=$(taskset -c 0 python3 - "$SWPID" "$PORT" "$N" <<'PY'
import http.client, os, sys, time
pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
c = http.client.HTTPConnection("127.0.0.1", port)
size = 0
c0, t0 = cpu(), time.monotonic()
for _ in range(n):
    c.request("GET", "/metrics")
    size = len(c.getresponse().read())
c1, t1 = cpu(), time.monotonic()
print("%.1f %.1f %d" % ((c1 - c0) / n * 1e6, (t1 - t0) / n * 1e6, size))
PY
)
kill "$SWPID"; wait "$SWPID" 2>/dev/null
SWPID=
read -r CPU_US WALL_US BYTES <<<"$COST"
echo "one scrape (4 ports, $BYTES bytes): ${CPU_US} us of the switch's CPU, ${WALL_US} us round trip"

python3 - "$OUT" "$DUR" "$REPEAT" "${R[a]}" "${R[b]}" "${R[c]}" "$CPU_US" "$WALL_US" "$BYTES" <<'EOF'
import json, statistics, sys
out, dur, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a, b, c = ([float(x) for x in s.split()] for s in sys.argv[4:7])
res = {
    "duration_s": dur, "repeat": rep,
    "mpps": {"none": a, "scrape_1s": b, "scrape_100ms": c},
    "median_mpps": {"none": statistics.median(a), "scrape_1s": statistics.median(b),
                    "scrape_100ms": statistics.median(c)},
    "scrape_cpu_us": float(sys.argv[7]), "scrape_round_trip_us": float(sys.argv[8]),
    "scrape_bytes": int(sys.argv[9]),
    "median_paired_ratio": {
        "scrape_1s/none": statistics.median(y / x for x, y in zip(a, b)),
        "scrape_100ms/none": statistics.median(y / x for x, y in zip(a, c))},
}
json.dump(res, open(out, "w"), indent=2)
m, r = res["median_mpps"], res["median_paired_ratio"]
print("median Mpps: none %.3f, scrape every 1 s %.3f, every 100 ms %.3f" %
      (m["none"], m["scrape_1s"], m["scrape_100ms"]))
print("paired ratio (median): 1 s %.3f, 100 ms %.3f" %
      (r["scrape_1s/none"], r["scrape_100ms/none"]))
print("written: " + out)
EOF
