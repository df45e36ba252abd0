#!/usr/bin/env bash
# bench/lpm.sh - the longest-prefix-match benchmark (nf_lpm4, nf_lpm6):
# generates a BGP-like table of 1,000,000 IPv4 and 200,000 IPv6 routes
# with scripts/gen-routes (kept in build/bench/, reused while the size and
# seed are the same), builds bench/lpm.c against build/release/libnf.a
# with the release flags, and runs it on one CPU: load time (target < 3 s
# each), memory, lookups per second of random and of in-table addresses
# (scalar, bulk 32, bulk 64; target >= 50 M/s IPv4 random), update costs.
# Medians of RUNS runs; raw figures in build/bench/lpm.json.
#
# Times are the benchmark thread's CPU time (-w: wall clock).
#
#   bench/lpm.sh [-4 N] [-6 N] [-s SEED] [-r RUNS] [-n LOOKUPS] [-c CPU] [-w]
set -eu
cd "$(dirname "$0")/.."
N4=1000000 N6=200000 SEED=1 RUNS=5 LOOK=4M CPU=1 WALL=()
while getopts "4:6:s:r:n:c:w" o; do
	case $o in
	4) N4=$OPTARG ;; 6) N6=$OPTARG ;; s) SEED=$OPTARG ;; r) RUNS=$OPTARG ;;
	n) LOOK=$OPTARG ;; c) CPU=$OPTARG ;; w) WALL=(-w) ;;
	*) echo "usage: bench/lpm.sh [-4 N] [-6 N] [-s SEED] [-r RUNS] [-n LOOKUPS] [-c CPU] [-w]" >&2
	   exit 2 ;;
	esac
done
B=build/bench
mkdir -p "$B"
MARCH=$(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo x86-64-v3 || echo x86-64)
make -s build/release/libnf.a
cc -O2 -march="$MARCH" -g -std=gnu11 -Wall -Wextra -Werror -Isrc/lib \
	-o "$B/lpm" bench/lpm.c build/release/libnf.a -lpcap -ljson-c -lm
V4=$B/routes4-$N4-s$SEED.txt V6=$B/routes6-$N6-s$SEED.txt
if [ ! -s "$V4" ]; then
	scripts/gen-routes -4 "$N4" --seed "$SEED" >"$V4.tmp"
	mv "$V4.tmp" "$V4"
fi
if [ ! -s "$V6" ]; then
	scripts/gen-routes -6 "$N6" --seed "$SEED" >"$V6.tmp"
	mv "$V6.tmp" "$V6"
fi
PIN=()
command -v taskset >/dev/null && [ "$CPU" -lt "$(nproc)" ] && PIN=(taskset -c "$CPU")
echo "bench/lpm.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, pinned to CPU $CPU, cc $(cc -dumpversion), -march=$MARCH"
exec "${PIN[@]}" "$B/lpm" "${WALL[@]}" -r "$RUNS" -n "$LOOK" -j "$B/lpm.json" "$V4" "$V6"
