# fuzz_steer.sh - the libFuzzer target of nfswitch's forwarding and
# steering (tests/fuzz/fuzz_steer.c, built by `make fuzz-build`, clang with
# ASan+UBSan): the committed seed corpus is what its generator writes,
# every seed replays without a crash, a leak or a broken invariant (a
# steering file built with and without the flow cache gives the same
# answer; bursts of frames through two switches' sw_forward(), one with
# the flow and rule caches, one without, send the same bytes to every
# port in the same order and end with the same counters, track tables and
# hold queues; control requests answer 0 or -errno with a sentence and
# leave steering lines that build again; the same frames through what they
# left, built with the caches as a load builds it and without, carried
# from each switch's generation, give the same again), then a short
# fuzzing session from the seeds finds nothing.
# Longer: make fuzz FUZZ_TIME=600.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target steer 25 200
exit 0
