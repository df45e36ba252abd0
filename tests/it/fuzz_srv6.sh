# fuzz_srv6.sh - the libFuzzer target of the SRv6 behaviours
# (tests/fuzz/fuzz_srv6.c, built by `make fuzz-build`, clang with
# ASan+UBSan): the committed seed corpus is what its generator writes,
# every seed replays without a crash or a broken invariant (guard page
# after the frame; reasons in range; End, decapsulations and the proxy
# checked against the frame), then a short fuzzing session from the seeds
# finds nothing. Longer: make fuzz FUZZ_TIME=600.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
F=$ROOT/build/fuzz/fuzz_srv6
SEEDS=$ROOT/tests/fuzz/corpus/srv6
check "the fuzz target is built (make fuzz-build)" test -x "$F"
[ -x "$F" ] || exit 1
n=$(ls "$SEEDS" | wc -l)
check "the seed corpus has inputs ($n)" test "$n" -ge 30
python3 "$ROOT/tests/fuzz/make_srv6_corpus.py" "$T/seeds" >/dev/null
check "the committed seeds are what make_srv6_corpus.py writes" \
	diff -r "$SEEDS" "$T/seeds"
"$F" -runs=0 "$SEEDS" >"$T/replay.log" 2>&1
rc=$?
check_eq "every seed replays cleanly" 0 "$rc"
[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|harness' "$T/replay.log" | head -5
mkdir "$T/corpus"
"$F" -max_total_time="${FUZZ_SECONDS:-15}" -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$T/" "$T/corpus" "$SEEDS" >"$T/fuzz.log" 2>&1
rc=$?
check_eq "${FUZZ_SECONDS:-15} s of fuzzing find no crash or broken invariant" 0 "$rc"
[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|harness' "$T/fuzz.log" | head -5
execs=$(grep -oP 'stat::number_of_executed_units: *\K[0-9]+' "$T/fuzz.log" ||
	grep -oP '^#\K[0-9]+(?=\s+DONE)' "$T/fuzz.log" | tail -1)
check "the fuzzer ran (${execs:-0} inputs)" test "${execs:-0}" -gt 100000
exit 0
