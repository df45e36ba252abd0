# fuzz_srv6.sh - the libFuzzer target of the SRv6 behaviours
# (tests/fuzz/fuzz_srv6.c, built by `make fuzz-build`, clang with
# ASan+UBSan): the committed seed corpus is what its generator writes,
# every seed replays without a crash or a broken invariant (guard page
# after the frame; reasons in range; End, decapsulations and the proxy
# checked against the frame), then a short fuzzing session from the seeds
# finds nothing. Longer: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target srv6 30 100000
exit 0
