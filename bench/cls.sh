#!/usr/bin/env bash
# bench/cls.sh - the firewall classifier (nf_cls) against the linear scan:
# builds bench/cls.c against $O/libnf.a (default build/release) with the
# release flags, then for ACL-like rule sets of 100, 1,000 and 10,000 rules
# (prefixes and port ranges, see bench/cls.c):
#   - ns per lookup (medians of RUNS runs, thread CPU time, one CPU) of
#     keys that match no rule (the worst case: the whole first-match
#     search) and of keys inside rules spread over the set, tree and
#     linear scan in the same run; build time and memory;
#   - instructions per lookup (valgrind --tool=callgrind, counting only
#     the loop of 2000 lookups: nf_cls_match / nf_cls_match_linear and
#     about 6 instructions of loop per lookup);
#   - the 10,000 / 100 ratios (target <= 2x).
#
#   bench/cls.sh [-r RUNS] [-n LOOKUPS] [-s SEED] [-c CPU] [-w]
set -eu
cd "$(dirname "$0")/.."
RUNS=5 LOOK=2000000 SEED=1 CPU=1 WALL=()
O=${O:-build/release}
while getopts "r:n:s:c:w" o; do
	case $o in
	r) RUNS=$OPTARG ;; n) LOOK=$OPTARG ;; s) SEED=$OPTARG ;; c) CPU=$OPTARG ;;
	w) WALL=(-w) ;;
	*) echo "usage: bench/cls.sh [-r RUNS] [-n LOOKUPS] [-s SEED] [-c CPU] [-w]" >&2
	   exit 2 ;;
	esac
done
B=build/bench
mkdir -p "$B"
MARCH=$(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo x86-64-v3 || echo x86-64)
make -s O="$O" "$O/libnf.a"
cc -O2 -march="$MARCH" -g -std=gnu11 -Wall -Wextra -Werror -Isrc/lib \
	-o "$B/cls" bench/cls.c "$O/libnf.a" -lpcap -ljson-c -lm
PIN=()
command -v taskset >/dev/null && [ "$CPU" -lt "$(nproc)" ] && PIN=(taskset -c "$CPU")
echo "bench/cls.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, pinned to CPU $CPU, cc $(cc -dumpversion), -march=$MARCH, seed $SEED"
echo "== time per lookup (medians of $RUNS runs)"
"${PIN[@]}" "$B/cls" "${WALL[@]}" -r "$RUNS" -n "$LOOK" -s "$SEED" 100 1000 10000

command -v valgrind >/dev/null || { echo "valgrind missing: no instruction counts"; exit 0; }
echo "== instructions per lookup (callgrind; 2000 lookups of 4096 keys each kind)"
CL=2000
declare -A IR
for n in 100 1000 10000; do
	line="$(printf '%6s rules:' "$n")"
	for kind in tree-miss tree-hit linear-miss linear-hit; do
		out=$B/cls-$n-$kind.callgrind
		valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=lookups \
			"$B/cls" -c "$kind" -n "$CL" -s "$SEED" "$n" >/dev/null 2>&1
		ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
		IR[$n-$kind]=$ir
		line+=$(printf ' %s %8.1f' "$kind" "$(echo "$ir / $CL" | bc -l)")
	done
	echo "$line"
done
printf 'ratio 10000/100 rules: time see above; instructions miss %.2fx, hit %.2fx (target <= 2x)\n' \
	"$(echo "${IR[10000-tree-miss]} / ${IR[100-tree-miss]}" | bc -l)" \
	"$(echo "${IR[10000-tree-hit]} / ${IR[100-tree-hit]}" | bc -l)"
