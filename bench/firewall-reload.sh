#!/usr/bin/env bash
# bench/firewall-reload.sh - what replacing a rule set of 10,000 rules does
# to the traffic through nf-firewall: nf-gen -> memif -> nf-firewall ->
# memif -> nf-gen at RATE, 4 s, once without reloads (the baseline) and
# once with RELOADS `load-rules` of the same 10,000-rule file (each parses
# and builds about 0.1 s on a thread of its own while the data path goes
# on with the old set). Reports, per trial: the rate nf-gen managed to
# send (memif pushes back: a stalled data path shows as a lower rate, not
# as loss), loss, and latency p50 / p99 / max.
#
#   bench/firewall-reload.sh [-r RATE] [-n RELOADS] [-k RULES]
set -u
cd "$(dirname "$0")/.."
RATE=300k RELOADS=10 RULES=10000
while getopts "r:n:k:" o; do
	case $o in
	r) RATE=$OPTARG ;; n) RELOADS=$OPTARG ;; k) RULES=$OPTARG ;;
	*) echo "usage: bench/firewall-reload.sh [-r RATE] [-n RELOADS] [-k RULES]" >&2; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
. bench/lib.sh
bench_workdir reload FW
python3 bench/fw_rules.py "$RULES" >"$W/r.rules"
cat >"$W/f.conf" <<EOF
port a memif:$W/a.sock,role=server
port b memif:$W/b.sock,role=server
rules $W/r.rules
set stateful off
EOF

trial() {	# reloads
	rm -f "$W"/*.sock "$W/f.ctl"
	taskset -c 1 "$BIN/nf-firewall" -q -c "$W/f.conf" --ctl "$W/f.ctl" &
	FW=$!
	bench_wait "$W/f.ctl"
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/a.sock" --rx "memif:$W/b.sock" \
		--src-ip 10.1.0.2 --dst-ip 10.2.0.2 --size 60 --flows 100 --rate "$RATE" \
		--duration 4 --drain 500ms --json >"$W/gen.json" 2>/dev/null &
	local g=$! i ms=""
	sleep 0.5
	for i in $(seq "$1"); do
		ms="$ms $("$BIN/nfchain" vnf "$W/f.ctl" --json load-rules |
			python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f" % (d["parse_ms"] + d["build_ms"]))')"
		sleep 0.2
	done
	wait "$g"
	kill "$FW"; wait "$FW" 2>/dev/null; FW=
	python3 - "$W/gen.json" "$1" "$ms" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); l = d["latency_ns"]
print("%2s reloads  sent %7.1f kpps  lost %6d  latency p50 %7.1f us  p99 %8.1f us  max %8.1f us%s" % (
    sys.argv[2], d["rate"]["tx_pps"] / 1e3, d["rx"]["lost"], l["p50"] / 1e3, l["p99"] / 1e3,
    l["max"] / 1e3, ("   (load ms:%s)" % sys.argv[3]) if sys.argv[3].strip() else ""))
PY
}

echo "bench/firewall-reload.sh: $RULES rules, offered $RATE, 4 s; nf-firewall on CPU 1, nf-gen on CPU 0"
trial 0
trial "$RELOADS"
