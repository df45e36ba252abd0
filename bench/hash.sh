#!/usr/bin/env bash
# bench/hash.sh - the cost of spreading flows over a replica group:
# nf_hash_flow() + nf_hash_pick() per packet, IPv4 TCP, IPv6 TCP and
# SRv6-encapsulated (SRH of 2 segments, inner IPv4 TCP) frames.
#
#   1. instructions per packet, counted by valgrind's callgrind (no
#      hardware counters here; counts repeat for the same input):
#      collection only inside bench/hash.c's loops (not the setup);
#      inclusive counts / packets of nf_hash_flow() (its call and return
#      included), of the noinline pick_one() wrapper around the inline
#      nf_hash_pick() (call and return included: the pick itself is 3 to 4
#      of them), of nf_parse() for comparison and of the rendezvous pick
#      over MEMBERS members (hrw_pick, the O(members) alternative);
#   2. packets per second by wall clock, pinned to one CPU: nf_parse()
#      alone (the baseline, same run), nf_parse + nf_hash_flow +
#      nf_hash_pick, and the same with rendezvous; medians of RUNS runs;
#   3. build times of a 65537-entry group and the flows a plain Maglev
#      rebuild would move between members that stay (nf_hash_group_build
#      moves none).
#
# Builds the library into $O (default build/release) with the release
# flags and bench/hash.c against it, into build/bench/.
#
#   bench/hash.sh [-f FLOWS] [-n PACKETS] [-N CG_PACKETS] [-r RUNS] [-m MEMBERS] [-c CPU] [-W] [-G]
#   (-W: skip the wall-clock part, -G: skip callgrind)
set -eu
cd "$(dirname "$0")/.."
FLOWS=1024 N=20000000 CGN=1000000 RUNS=5 MEMBERS=16 CPU=1 WALL=1 CG=1
while getopts "f:n:N:r:m:c:WG" o; do
	case $o in
	f) FLOWS=$OPTARG ;; n) N=$OPTARG ;; N) CGN=$OPTARG ;; r) RUNS=$OPTARG ;;
	m) MEMBERS=$OPTARG ;; c) CPU=$OPTARG ;; W) WALL= ;; G) CG= ;;
	*) echo "usage: bench/hash.sh [-f FLOWS] [-n PACKETS] [-N CG_PACKETS] [-r RUNS] [-m MEMBERS] [-c CPU] [-W] [-G]" >&2
	   exit 2 ;;
	esac
done
O=${O:-build/release}
B=build/bench
mkdir -p "$B"
MARCH=$(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo x86-64-v3 || echo x86-64)
make -s O="$O" "$O/libnf.a"
cc -O2 -march="$MARCH" -g -std=gnu11 -Wall -Wextra -Werror -Isrc/lib \
	-o "$B/hash" bench/hash.c "$O/libnf.a" -lpcap -ljson-c -lm
PIN=()
command -v taskset >/dev/null && [ "$CPU" -lt "$(nproc)" ] && PIN=(taskset -c "$CPU")
echo "bench/hash.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, cc $(cc -dumpversion), -march=$MARCH, library $O, $FLOWS flows, $MEMBERS members"

if [ -n "$CG" ]; then
	command -v valgrind >/dev/null || { echo "bench/hash.sh: valgrind missing" >&2; exit 1; }
	W=$(mktemp -d /tmp/nfchain-hash.XXXXXX)
	trap 'rm -rf "$W"' EXIT
	echo
	echo "instructions per packet (callgrind, $CGN packets per loop, setup not counted)"
	printf '  %-5s %12s %10s %10s %12s\n' frame nf_hash_flow pick nf_parse "HRW/$MEMBERS"
	for k in ipv4 ipv6 srv6; do
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
			--collect-atstart=no --toggle-collect=run_parse --toggle-collect=run_hash \
			--toggle-collect=run_hrw \
			"$B/hash" -c -k "$k" -f "$FLOWS" -m "$MEMBERS" -n "$CGN" >"$W/out" 2>"$W/err" ||
			{ cat "$W/err" >&2; exit 1; }
		# nf_hash_flow and nf_parse run in two loops (hash, hrw; all three)
		read -r hf pk np hr < <(python3 bench/cg_incl.py "$W/cg.out" "$CGN" \
			nf_hash_flow pick_one nf_parse hrw_pick)
		printf '  %-5s %12.1f %10.1f %10.1f %12.1f\n' "$k" \
			"$(echo "$hf / 2" | bc -l)" "$pk" "$(echo "$np / 3" | bc -l)" "$hr"
	done
fi

if [ -n "$WALL" ]; then
	echo
	for k in ipv4 ipv6 srv6; do
		"${PIN[@]}" "$B/hash" -k "$k" -f "$FLOWS" -m "$MEMBERS" -n "$N" -r "$RUNS"
	done
fi
echo
"$B/hash" -b -m "$MEMBERS"
