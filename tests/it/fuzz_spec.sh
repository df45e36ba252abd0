# fuzz_spec.sh - the libFuzzer target of service descriptions
# (tests/fuzz/fuzz_spec.c: src/nfchain/spec.c over libyaml, and plan.c's
# steering; built by `make fuzz-build`, clang with ASan+UBSan): the
# committed seed corpus is what its generator writes, every seed replays
# without a crash or a broken invariant (refusals are one "FILE:LINE: "
# sentence, accepted descriptions hold spec.h's limits and references, the
# steering fits and names only what the description has), then a short
# fuzzing session from the seeds finds nothing.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
fuzz_target spec 40 2000
exit 0
