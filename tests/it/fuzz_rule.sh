# fuzz_rule.sh - the libFuzzer target of the rule language and the
# classifier (tests/fuzz/fuzz_rule.c, built by `make fuzz-build`, clang
# with ASan+UBSan): the committed seed corpus is what its generator
# writes, every seed replays without a crash or a broken invariant (each
# line parsed alone and the text at once agree, refusals leave the set
# untouched with a "file:line:" sentence, ranges are normalized, format
# parses back to the same struct, the tree answers as the linear scan),
# then a short fuzzing session from the seeds finds nothing.
# Longer: make fuzz FUZZ_TIME=600.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
F=$ROOT/build/fuzz/fuzz_rule
SEEDS=$ROOT/tests/fuzz/corpus/rule
check "the fuzz target is built (make fuzz-build)" test -x "$F"
[ -x "$F" ] || exit 1
n=$(ls "$SEEDS" | wc -l)
check "the seed corpus has inputs ($n)" test "$n" -ge 40
python3 "$ROOT/tests/fuzz/make_rule_corpus.py" "$T/seeds" >/dev/null
check "the committed seeds are what make_rule_corpus.py writes" \
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
check "the fuzzer ran (${execs:-0} inputs)" test "${execs:-0}" -gt 5000
exit 0
