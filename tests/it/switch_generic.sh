# switch_generic.sh - the portable build: every flavour the suite runs is
# built for this machine (-march=x86-64-v3 where it has AVX2: CRC32C set
# hashes, AVX2 key compares, wide copies, the LPM's gathers), so the code
# under #else, for a CPU without them, would otherwise never run. This
# test builds everything with MARCH=x86-64 into build/generic, checks the
# programs hold no AVX (ymm) or CRC32 instruction, and runs on that build
# the unit tests of the code that has two versions (nf_lpm4's bulk lookup,
# nf_hash, the parsers, memif's header held in registers) and the Python halves of switch_flowcache (the
# flow cache's set hashes and key compares: same bytes with the cache on
# and off) and switch_groups (consistent, symmetric replicas).
# tests/run: once
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/build/generic

check "make MARCH=x86-64 O=build/generic builds every program and unit test" \
	make -C "$ROOT" -s -j"$(nproc)" O=build/generic MARCH=x86-64 all

# wide_insns FILE: how many instructions of FILE use a ymm register or
# are a CRC32
wide_insns() { objdump -d --no-show-raw-insn "$1" | grep -cE '%ymm|crc32'; }
for p in nfswitch nf-router nf-nat nf-firewall; do
	check_eq "$p of the generic build has no AVX or CRC32 instruction" 0 "$(wide_insns "$G/bin/$p")"
done
# control: where this machine has AVX2, the suite's own build uses them
if grep -qw avx2 /proc/cpuinfo; then
	n=$(wide_insns "$ROOT/build/release/bin/nfswitch")
	check "control: the release nfswitch, built for this CPU, has AVX or CRC32 instructions ($n)" \
		test "$n" -gt 0
fi

for u in test_lpm test_hash test_parse test_srv6 test_csum test_memif; do
	"$G/tests/$u" >"$T/$u.out" 2>&1
	rc=$?
	check_eq "generic $u exits 0 ($(grep -c '^ok' "$T/$u.out") checks passed)" 0 "$rc"
	check_eq "generic $u: no check failed" 0 "$(grep -c '^not ok' "$T/$u.out")"
done

# half NAME: tests/it/NAME.py on the generic build, in its own scratch
# directory (its nfswitch processes, in DIR/pids, stopped at exit); its
# ok / not ok lines count here
half() {
	local d=$T/$1
	mkdir -p "$d"
	cleanup "for p in \$(cat '$d/pids' 2>/dev/null); do kill \$p; done"
	ROOT=$ROOT BIN=$G/bin T=$d timeout 300 python3 "$ROOT/tests/it/$1.py" ||
		not_ok "$1.py on the generic build ran to its end"
}
half switch_flowcache
half switch_groups
exit 0
