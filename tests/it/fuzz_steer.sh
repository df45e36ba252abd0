# fuzz_steer.sh - the libFuzzer target of nfswitch's steering
# (tests/fuzz/fuzz_steer.c, built by `make fuzz-build`, clang with
# ASan+UBSan): the committed seed corpus is what its generator writes,
# every seed replays without a crash, a leak or a broken invariant (a
# steering file built with and without the flow cache gives the same
# answer; bursts of frames through the flow cache, its runs and st_frame()
# give the same output, bytes and counters as st_frame() alone; control
# requests answer 0 or -errno with a sentence and leave steering lines
# that build again; the same frames through what they left, built with the
# flow cache as a load builds it and without, carried from each side's
# generation, give the same again), then a short fuzzing session from the
# seeds finds nothing.
# Longer: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target steer 23 300
exit 0
