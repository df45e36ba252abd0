#!/usr/bin/env bash
# bench/chain_ab.sh - the 3-VNF chain's forwarding rate (bench/chain.sh)
# with two builds taking turns: each round runs `bench/chain.sh -t SECONDS
# -r 1` with build A's programs, then with build B's; the ratio B/A is
# taken within each round (the machine is shared: paired ratios are the
# figures), then the median. Each run's bare switch rate is printed too,
# to tell a quiet round from a noisy one.
#
#   bench/chain_ab.sh A_BIN B_BIN [-t SECONDS] [-r ROUNDS]
#   e.g. git worktree add /tmp/old REV && make -C /tmp/old &&
#        bench/chain_ab.sh /tmp/old/build/release/bin build/release/bin
set -u
cd "$(dirname "$0")/.."
usage() { echo "usage: bench/chain_ab.sh A_BIN B_BIN [-t SECONDS] [-r ROUNDS]" >&2; exit 2; }
[ $# -ge 2 ] || usage
A=$1 B=$2
shift 2
DUR=3 ROUNDS=3
while getopts "t:r:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) ROUNDS=$OPTARG ;;
	*) usage ;;
	esac
done
for b in "$A" "$B"; do
	[ -x "$b/nf-firewall" ] || { echo "bench: no build in $b" >&2; exit 1; }
done
. bench/lib.sh
bench_workdir chain_ab NONE	# $W, removed at exit (nothing to stop: chain.sh stops its own)
out=$W/rounds
for r in $(seq "$ROUNDS"); do
	for x in A B; do
		bin=$A
		[ $x = B ] && bin=$B
		# "  repeat 1  chain   R Mpps (offered O)   bare switch S Mpps (offered O)"
		line=$(BIN=$bin bash bench/chain.sh -t "$DUR" -r 1 2>/dev/null | grep '^  repeat')
		[ -n "$line" ] || { echo "bench: bench/chain.sh failed with $bin" >&2; exit 1; }
		set -- $line
		echo "$r $x $4 ${10}" >>"$out"
	done
done
python3 - "$out" "$A" "$B" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
a = {r: float(c) for r, x, c, _ in rows if x == "A"}
b = {r: float(c) for r, x, c, _ in rows if x == "B"}
bare = {(r, x): s for r, x, _, s in rows}
print("A = %s\nB = %s" % (sys.argv[2], sys.argv[3]))
print("| round | chain Mpps, A | chain Mpps, B | B / A | bare switch Mpps, A / B |")
print("|---|---|---|---|---|")
for r in sorted(a, key=int):
    print("| %s | %.3f | %.3f | %.2f | %s / %s |" % (r, a[r], b[r], b[r] / a[r],
                                                  bare[(r, "A")], bare[(r, "B")]))
print("| median | %.3f | %.3f | **%.2f** | |" % (
    statistics.median(a.values()), statistics.median(b.values()),
    statistics.median(b[r] / a[r] for r in a)))
PY
