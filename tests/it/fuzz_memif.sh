# fuzz_memif.sh - the libFuzzer target of the memif control channel
# (tests/fuzz/fuzz_memif_ctl.c, built by `make fuzz-build`, clang with
# ASan+UBSan): every input of the seed corpus replays without a crash or
# a leaked descriptor, then a short fuzzing session from the seeds finds
# nothing. Longer sessions: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
F=$ROOT/build/fuzz/fuzz_memif_ctl
SEEDS=$ROOT/tests/fuzz/corpus/memif_ctl
check "the fuzz target is built (make fuzz-build)" test -x "$F"
[ -x "$F" ] || exit 1
n=$(ls "$SEEDS" | wc -l)
check "the seed corpus has inputs ($n)" test "$n" -ge 20
"$F" -runs=0 "$SEEDS" >"$T/replay.log" 2>&1
check_eq "every seed replays cleanly" 0 $?
mkdir "$T/corpus"
"$F" -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -artifact_prefix="$T/" \
	"$T/corpus" "$SEEDS" >"$T/fuzz.log" 2>&1
rc=$?
check_eq "${FUZZ_SECONDS:-10} s of fuzzing find no crash, leak or descriptor leak" 0 "$rc"
[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|harness' "$T/fuzz.log" | head -5
execs=$(grep -oP 'stat::number_of_executed_units: *\K[0-9]+' "$T/fuzz.log" ||
	grep -oP '^#\K[0-9]+(?=\s+DONE)' "$T/fuzz.log" | tail -1)
check "the fuzzer ran (${execs:-0} inputs)" test "${execs:-0}" -gt 1000
exit 0
