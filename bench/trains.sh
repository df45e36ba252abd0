#!/usr/bin/env bash
# bench/trains.sh - the cost of steering against flow locality: 100 flows
# sent in packet trains of T frames (nf-gen --train: T frames of a flow in
# a row, then T of the next), T = 1 (frame by frame: the flow cache's worst
# case, every frame its own lookup), 2, 4, ... Per T:
#   - bench/steer.sh -T T: work per frame in nfswitch (callgrind) of the
#     NAME-100f scenarios against base-100f (plain forwarding of the same
#     frames);
#   - with -c FRAMES, bench/chain.sh -c FRAMES -f 100 -T T: instructions
#     per pass of the 3-VNF chain's switch against a bare switch, the
#     median of REPEAT runs (the VNFs' bursts, and so the runs the switch
#     sees, differ from run to run: a few instructions a pass; so do the
#     passes a frame, 4 when no frame is lost, fewer when full rings drop
#     some under callgrind: printed with the median run).
#
#   [BIN=DIR] bench/trains.sh [-n FRAMES] [-T "TRAINS"] [-S "SCENARIOS"] [-c FRAMES] [-r REPEAT]
set -u
cd "$(dirname "$0")/.."
N=100000 TRAINS="1 2 3 4 8 16" SCEN="group-100f encap-100f" CHAIN= REPEAT=3
usage() {
	echo "usage: bench/trains.sh [-n FRAMES] [-T \"TRAINS\"] [-S \"SCENARIOS\"] [-c FRAMES] [-r REPEAT]" >&2
	exit 2
}
while getopts "n:T:S:c:r:" o; do
	case $o in
	n) N=$OPTARG ;; T) TRAINS=$OPTARG ;; S) SCEN=$OPTARG ;; c) CHAIN=$OPTARG ;;
	r) REPEAT=$OPTARG ;; *) usage ;;
	esac
done
for s in $SCEN; do
	[ "${s%-100f}" != "$s" ] || { echo "bench/trains.sh: $s is not a NAME-100f scenario" >&2; usage; }
done

printf '%-6s %10s' train base-100f
for s in $SCEN; do printf ' %18s' "$s"; done
[ -n "$CHAIN" ] && printf ' %24s' "chain / bare, per pass"
echo
for t in $TRAINS; do
	out=$(bash bench/steer.sh -n "$N" -r 0 -T "$t" -S "base-100f $SCEN") ||
		{ echo "bench/trains.sh: bench/steer.sh -T $t failed" >&2; exit 1; }
	# the scenario rows: name frames instr/pk ratio work/pk ratio ...
	printf '%-6s' "$t"
	for s in base-100f $SCEN; do
		awk -v s="$s" '$1 == s { if (s == "base-100f") printf " %10.1f", $5
					 else printf " %10.1f (%s)", $5, $6 }' <<<"$out"
	done
	if [ -n "$CHAIN" ]; then
		for r in $(seq "$REPEAT"); do
			# "chain: N passes (P per frame sent), I instructions per pass"
			bash bench/chain.sh -c "$CHAIN" -f 100 -T "$t" 2>/dev/null | sed -n \
				-e 's/^bare switch: .*, \([0-9.]*\) instructions per pass/b \1/p' \
				-e 's/^chain: .*(\([0-9.]*\) per frame sent), \([0-9.]*\) instructions per pass/c \2 \1/p' |
				awk '$1 == "b" { b = $2 } $1 == "c" { c = $2; p = $3 }
				     END { if (b > 0 && c > 0) printf "%.1f %.1f %.2f\n", c, b, p }'
		done | sort -n | awk '{ c[NR] = $1; b[NR] = $2; p[NR] = $3 }
			END { m = int((NR + 1) / 2)
			      if (NR) printf " %9.1f / %5.1f = %.2fx (%.2f passes a frame)", c[m], b[m], c[m] / b[m], p[m]
			      else printf " %24s", "failed" }'
	fi
	echo
done
