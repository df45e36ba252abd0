# fuzz_cni_conf.sh - the libFuzzer target of nfchain-cni's network
# configuration parser (tests/fuzz/fuzz_cni_conf.c: src/nfchain-cni/conf.c
# over json-c; built by `make fuzz-build`, clang with ASan+UBSan): the
# committed seed corpus is what its generator writes, every seed replays
# without a crash or a broken invariant (refusals carry a parser code and a
# one-line sentence, accepted configurations hold cni.h's limits), then a
# short fuzzing session from the seeds finds nothing.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target cni_conf 20 2000
exit 0
