#!/usr/bin/env bash
# bench/callgrind-firewall.sh - instructions per packet in nf-firewall,
# counted by valgrind's callgrind inside the framework's burst function,
# for rule sets of bench/fw_rules.py (N rules the traffic does not match,
# then the accepting one), N = 100 and 10000 by default, stateless and
# stateful. Prints per frame forwarded: the firewall's stages (pre +
# process + post: conntrack, classifier, verdict; pre is empty since the
# flow cache, builds before it had one), of which the classifier
# (nf_cls_match) and conntrack (nf_ct_in, nf_ct_confirm; the flow
# cache's hits refresh their entry inline, nf_ct_refresh_ref(), counted
# in the stages but not in this column), and the
# 10000/100 ratio of the stages (the issue's bound: at most 2x).
#
#   [BIN=DIR] [KEEP=DIR] bench/callgrind-firewall.sh [-n FRAMES] [-f FLOWS] [-r "100 10000"] [-m "stateless stateful"]
# KEEP: keep each run's callgrind output as DIR/MODE-RULES.out (for
# callgrind_annotate --auto=yes).
set -u
cd "$(dirname "$0")/.."
N=100000 FLOWS=100 RULES="100 10000" MODES="stateless stateful"
while getopts "n:f:r:m:" o; do
	case $o in
	n) N=$OPTARG ;; f) FLOWS=$OPTARG ;; r) RULES=$OPTARG ;; m) MODES=$OPTARG ;;
	*) echo "usage: bench/callgrind-firewall.sh [-n FRAMES] [-f FLOWS] [-r RULES] [-m MODES]" >&2
	   exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
. bench/lib.sh
bench_workdir cgf FW

one() {	# mode rules -> "stages cls ct total"
	python3 bench/fw_rules.py "$2" $([ "$1" = stateful ] && echo --stateful) >"$W/r.rules"
	cat >"$W/f.conf" <<CONF
set mode intr
set stateful $([ "$1" = stateful ] && echo on || echo off)
set policy drop
port a memif:$W/a.sock
port b memif:$W/b.sock
rules $W/r.rules
CONF
	rm -f "$W"/*.sock
	"$BIN/nf-gen" --tx "memif:$W/a.sock,role=server" --rx "memif:$W/b.sock,role=server" \
		--src-ip 10.1.0.2 --dst-ip 10.2.0.2 --size 60 --flows "$FLOWS" --count "$N" \
		--drain 10s --wait 120s --json >"$W/gen.json" 2>"$W/gen.err" &
	local gen=$!
	for i in $(seq 100); do [ -S "$W/b.sock" ] && break; sleep 0.05; done
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --collect-atstart=no \
		--toggle-collect=vnf_burst "$BIN/nf-firewall" -q -c "$W/f.conf" --ctl "$W/f.ctl" \
		>"$W/f.log" 2>&1 &
	FW=$!
	wait "$gen"
	"$BIN/nfchain" vnf "$W/f.ctl" --json stats >"$W/stats.json"
	kill -INT "$FW"; wait "$FW"; FW=
	[ -n "${KEEP:-}" ] && cp "$W/cg.out" "$KEEP/$1-$2.out"
	local n
	n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stages"]["post"]["out"])' "$W/stats.json")
	python3 bench/cg_incl.py "$W/cg.out" "$n" fw_pre fw_process fw_post nf_cls_match nf_ct_in \
		nf_ct_confirm nf_ct_refresh vnf_burst |
		awk -v n="$n" '{ printf "%.1f %.1f %.1f %.1f %d\n", $1 + $2 + $3, $4, $5 + $6 + $7, $8, n }'
}

echo "bench/callgrind-firewall.sh: $N frames of 64 bytes, $FLOWS flows; instructions per frame forwarded"
printf '%-10s %6s %10s %12s %10s %10s\n' mode rules stages classifier conntrack "all burst"
for m in $MODES; do
	first=
	for r in $RULES; do
		read -r st cls ct tot n < <(one "$m" "$r")
		printf '%-10s %6d %10.1f %12.1f %10.1f %10.1f   (%d frames)\n' "$m" "$r" "$st" "$cls" "$ct" "$tot" "$n"
		if [ -z "$first" ]; then first=$st; else
			python3 -c "import sys; a,b=map(float,sys.argv[1:]); print('%-10s %d/%s rules: stages %.2fx' % ('$m', $r, '${RULES%% *}', b/a if a else 0))" "$first" "$st"
		fi
	done
done
