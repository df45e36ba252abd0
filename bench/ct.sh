#!/usr/bin/env bash
# bench/ct.sh - the connection tracker's cost on ESTABLISHED packets
# (nf_ct_in() on a hit), TCP and UDP, 1 flow and FLOWS flows (1M):
#
#   1. instructions per packet, counted by valgrind's callgrind (this
#      machine has no hardware counters; counts repeat for the same input):
#      collection only inside bench/ct.c's run_parse(), run_ct() and
#      run_burst() loops (not the setup); nf_ct_in's inclusive count /
#      packets, its call and return included, the loop's own instructions
#      not; nf_ct_in_burst's the same (bursts of 32: the calls of a burst
#      over its packets); nf_parse's for comparison. Target: < 80 per
#      established packet.
#   2. packets per second by wall clock, pinned to one CPU: nf_parse()
#      alone (the baseline, same run), nf_ct_in() alone on pre-parsed
#      headers, nf_ct_in_burst() on them, and parse + nf_ct_in; medians of
#      RUNS runs.
#
# Builds the library into $O (default build/release) with the release
# flags and bench/ct.c against it, into $B (default build/bench/).
#
#   bench/ct.sh [-f FLOWS] [-n PACKETS] [-N CG_PACKETS] [-r RUNS] [-c CPU] [-6] [-W] [-G]
#   (-W: skip the wall-clock part, -G: skip callgrind)
set -eu
cd "$(dirname "$0")/.."
FLOWS=1000000 N=20000000 CGN=2000000 RUNS=5 CPU=1 V6= WALL=1 CG=1
while getopts "f:n:N:r:c:6WG" o; do
	case $o in
	f) FLOWS=$OPTARG ;; n) N=$OPTARG ;; N) CGN=$OPTARG ;; r) RUNS=$OPTARG ;;
	c) CPU=$OPTARG ;; 6) V6=-6 ;; W) WALL= ;; G) CG= ;;
	*) echo "usage: bench/ct.sh [-f FLOWS] [-n PACKETS] [-N CG_PACKETS] [-r RUNS] [-c CPU] [-6] [-W] [-G]" >&2
	   exit 2 ;;
	esac
done
O=${O:-build/release}
B=${B:-build/bench}
mkdir -p "$B"
MARCH=$(grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo x86-64-v3 || echo x86-64)
make -s O="$O" "$O/libnf.a"
cc -O2 -march="$MARCH" -g -std=gnu11 -Wall -Wextra -Werror -Isrc/lib \
	-o "$B/ct" bench/ct.c "$O/libnf.a" -lpcap -ljson-c -lm
PIN=()
command -v taskset >/dev/null && [ "$CPU" -lt "$(nproc)" ] && PIN=(taskset -c "$CPU")
echo "bench/ct.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, cc $(cc -dumpversion), -march=$MARCH, library $O"

if [ -n "$CG" ]; then
	command -v valgrind >/dev/null || { echo "bench/ct.sh: valgrind missing" >&2; exit 1; }
	W=$(mktemp -d /tmp/nfchain-ct.XXXXXX)
	trap 'rm -rf "$W"' EXIT
	echo
	echo "instructions per packet (callgrind, $CGN packets per case, setup not counted)"
	printf '  %-5s %-5s %8s  %10s %14s %10s\n' proto IPv flows nf_ct_in nf_ct_in_burst nf_parse
	for proto in tcp udp; do
		for f in 1 "$FLOWS"; do
			valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
				--collect-atstart=no --toggle-collect=run_parse --toggle-collect=run_ct \
				--toggle-collect=run_burst \
				"$B/ct" -c -p "$proto" $V6 -f "$f" -n "$CGN" >"$W/out" 2>"$W/err" ||
				{ cat "$W/err" >&2; exit 1; }
			read -r ct burst parse < <(python3 bench/cg_incl.py "$W/cg.out" "$CGN" \
				nf_ct_in nf_ct_in_burst nf_parse)
			fam=${V6:--4}
			printf '  %-5s %-5s %8s  %10.1f %14.1f %10.1f\n' "$proto" "${fam#-}" "$f" "$ct" \
				"$burst" "$parse"
		done
	done
fi

if [ -n "$WALL" ]; then
	for proto in tcp udp; do
		for f in 1 "$FLOWS"; do
			echo
			"${PIN[@]}" "$B/ct" -p "$proto" $V6 -f "$f" -n "$N" -r "$RUNS"
		done
	done
fi
