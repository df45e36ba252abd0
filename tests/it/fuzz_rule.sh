# fuzz_rule.sh - the libFuzzer target of the rule language and the
# classifier (tests/fuzz/fuzz_rule.c, built by `make fuzz-build`, clang
# with ASan+UBSan): the committed seed corpus is what its generator
# writes, every seed replays without a crash or a broken invariant (each
# line parsed alone and the text at once agree, refusals leave the set
# untouched with a "file:line:" sentence, ranges are normalized, format
# parses back to the same struct, the tree answers as the linear scan),
# then a short fuzzing session from the seeds finds nothing.
# Longer: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target rule 40 1000
exit 0
