# tests/lib.sh - helpers for the shell integration tests (sourced).
#
# Each test script prints "ok - what" / "not ok - what" lines, like the C
# unit tests; tests/run counts them. Scripts get:
#   BIN      directory of the programs under test (release or asan build)
#   TOOLS    directory of the test tools (tests/tools/*.c, built)
#   T        a private scratch directory, removed at exit
# and must clean up every namespace and process they start (use `cleanup`).

set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/release/bin}
TOOLS=${TOOLS:-$(dirname "$BIN")/tests}
T=$(mktemp -d /tmp/nfchain-test.XXXXXX)
NS_PREFIX="nft$$"
_cleanups=()
_failed=0

# Register a command run at exit (last registered runs first).
cleanup() { _cleanups+=("$*"); }
# run_bg OUT ERR CMD...: CMD in the background (killed by the cleanup if the
# test is), waited for; $pid its pid, $rc its exit status.
run_bg() {
	local out=$1 err=$2
	shift 2
	"$@" >"$out" 2>"$err" &
	pid=$!
	cleanup "kill $pid"
	wait $pid
	rc=$?
}
_run_cleanups() {
	local i
	for ((i=${#_cleanups[@]}-1; i>=0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; _failed=1; }
# check "description" command...: ok if the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_eq "description" expected actual
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# Start a background process and remember it for cleanup; its pid is in
# $SPAWNED. (Not "$(spawn ...)": a command substitution runs in a subshell,
# and the cleanup it registers would be lost.)
spawn() { "$@" & SPAWNED=$!; cleanup "kill $SPAWNED; wait $SPAWNED"; }

# Wait until a file (socket) exists, up to $2 seconds (default 5).
wait_for() {
	local i n=$(( ${2:-5} * 20 ))
	for ((i=0; i<n; i++)); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

# netns VAR NAME: create a network namespace removed at exit, its name in
# $VAR. (Not "$(netns ...)": see spawn.)
netns() {
	local ns="${NS_PREFIX}$2"
	ip netns add "$ns" || return 1
	cleanup "ip netns del $ns"
	printf -v "$1" '%s' "$ns"
}

# JSON field from nf-gen --json output: jget FILE field (key path a.b;
# "null" when missing). jq, not python3: it starts much faster, and some
# tests read forty fields.
jget() { jq -r --arg p "$2" 'getpath($p | split("."))' "$1"; }

# seg6_ns NS...: loopback up, IPv4/IPv6 forwarding, seg6 enabled, no DAD,
# no reverse-path filter: namespaces for Linux's seg6 / seg6local.
seg6_ns() {
	local ns
	for ns in "$@"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.seg6_enabled=1 \
			net.ipv6.conf.default.seg6_enabled=1 \
			net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
	done
}

# tshark_expert PCAP OFFSET OPTS...: tshark's expert info over PCAP must
# hold no error, warning or note; then the control: PCAP with the byte at
# file OFFSET flipped (an inner IPv4 checksum) must show one.
tshark_expert() {
	local pcap=$1 off=$2; shift 2
	tshark -r "$pcap" "$@" -q -z expert >"$pcap.expert" 2>/dev/null
	check_eq "tshark expert info: no errors, warnings or notes" "" \
		"$(grep -E '^(Errors|Warns|Notes) \(' "$pcap.expert")"
	[ -s "$pcap.expert" ] && head -20 "$pcap.expert"
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[3])] ^= 0xff
open(sys.argv[2], "wb").write(b)' "$pcap" "$pcap.broken" "$off"
	tshark -r "$pcap.broken" "$@" -q -z expert >"$pcap.expert2" 2>/dev/null
	check "control: a broken checksum does show in the expert info" \
		grep -qE '^(Errors|Warns) \(' "$pcap.expert2"
}

# stop_clean WHAT PID: SIGINT, wait, and check the exit status is 0 (under
# ASan: no finding, no leak).
stop_clean() {
	kill -INT "$2" 2>/dev/null
	wait "$2"
	check_eq "$1 exits cleanly on SIGINT (ASan found nothing)" 0 "$?"
}

# san_to_files: sanitizer reports of the processes this test starts go to
# $T/san.PID instead of their stderr (a daemon's log may be gone when the
# test ends); no_san (a check) fails, printing them, if any was written.
san_to_files() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$T/san"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/san"
}
no_san() { ! ls "$T"/san.* >/dev/null 2>&1 || { cat "$T"/san.* >&2; false; }; }

# cg_value PID CONTROLLER FILE: a cgroup v1 file of the process's cgroup.
cg_value() {
	local path
	path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++)
		if (a[i] == c) print $3 }' "/proc/$1/cgroup")
	cat "/sys/fs/cgroup/$2$path/$3"
}

# py_half NAME: run tests/it/NAME.py, the Python half of a test that uses
# tests/it/steer_lib.py (its nfswitch processes are listed in $T/pids and
# stopped at exit), within 300 s.
py_half() {
	export ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	export BIN T
	cleanup 'for p in $(cat "$T/pids" 2>/dev/null); do kill $p; done'
	timeout 300 python3 "$ROOT/tests/it/$1.py" || not_ok "$1.py ran to its end"
}

# fuzz_target NAME MIN_SEEDS MIN_EXECS: the checks every libFuzzer target
# gets (tests/fuzz/fuzz_NAME.c, built by `make fuzz-build`): built; the
# committed seed corpus tests/fuzz/corpus/NAME has at least MIN_SEEDS
# inputs and is exactly what tests/fuzz/make_NAME_corpus.py writes; every
# seed replays cleanly; FUZZ_SECONDS (10) of fuzzing from the seeds find
# nothing and run at least MIN_EXECS inputs. MIN_EXECS is a floor that
# proves mutation went past the seeds, set about a fifth of what a quiet
# machine runs: the CI machine is shared and fuzz_rule once ran 4201 of
# its then-floor 5000 (6389 here).
fuzz_target() {
	local name=$1 min_seeds=$2 min_execs=$3 root f seeds n rc execs
	root=$(cd "$(dirname "$0")/../.." && pwd)
	f=$root/build/fuzz/fuzz_$name
	seeds=$root/tests/fuzz/corpus/$name
	check "the fuzz target is built (make fuzz-build)" test -x "$f"
	[ -x "$f" ] || return 1
	n=$(ls "$seeds" | wc -l)
	check "the seed corpus has inputs ($n)" test "$n" -ge "$min_seeds"
	python3 "$root/tests/fuzz/make_${name}_corpus.py" "$T/seeds" >/dev/null
	check "the committed seeds are what make_${name}_corpus.py writes" \
		diff -r "$seeds" "$T/seeds"
	"$f" -runs=0 "$seeds" >"$T/replay.log" 2>&1
	rc=$?
	check_eq "every seed replays cleanly" 0 "$rc"
	[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|harness' "$T/replay.log" | head -5
	mkdir "$T/corpus"
	"$f" -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$T/" "$T/corpus" "$seeds" >"$T/fuzz.log" 2>&1
	rc=$?
	check_eq "${FUZZ_SECONDS:-10} s of fuzzing find no crash or broken invariant" 0 "$rc"
	[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|harness' "$T/fuzz.log" | head -5
	execs=$(grep -oP 'stat::number_of_executed_units: *\K[0-9]+' "$T/fuzz.log" ||
		grep -oP '^#\K[0-9]+(?=\s+DONE)' "$T/fuzz.log" | tail -1)
	check "the fuzzer ran (${execs:-0} inputs)" test "${execs:-0}" -gt "$min_execs"
}
