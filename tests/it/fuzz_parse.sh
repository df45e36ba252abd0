# fuzz_parse.sh - the libFuzzer target of the header parser
# (tests/fuzz/fuzz_parse.c, built by `make fuzz-build`, clang with
# ASan+UBSan): the committed seed corpus is what its generator writes,
# every seed replays without a crash or a broken invariant (the harness
# checks the recorded offsets against the frame, guard pages on both
# sides, fast path against the general parser), then a short fuzzing
# session from the seeds finds nothing. Longer: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target parse 40 100000
exit 0
