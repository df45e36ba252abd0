# nfchain build. `make` builds the library, the programs and the tests;
# `make SAN=1` builds the same into build/asan with AddressSanitizer and
# UBSan; `make test` runs the whole suite (see tests/run); `make fuzz`
# builds and runs the libFuzzer targets (clang).
#
#   make [CC=clang] [SAN=1] [all|test|fuzz|bench|clean]

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
O       ?= build/asan
OPT     ?= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
else
O       ?= build/release
OPT     ?= -O2
endif
# Wide moves for the frame copies when the build machine has AVX2 (the
# programs run where they are built). Not AVX-512: valgrind, which counts
# our instructions, cannot decode it. Override: make MARCH=x86-64.
MARCH   ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo x86-64-v3 || echo x86-64)
OPT     += -march=$(MARCH)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	   -Isrc/lib -MMD -MP
LDFLAGS += $(filter -fsanitize=%,$(OPT))
LDLIBS  += -lpcap -ljson-c -lyaml -lmicrohttpd -lxdp -lbpf -lcrypt -lcurl -lm

LIB_SRC  := $(wildcard src/lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
LIB      := $(O)/libnf.a

PROGS    := nfswitch nf-gen nfchain nf-router nf-bridge nf-nat nf-firewall nfchain-cni
BINS     := $(addprefix $(O)/bin/,$(PROGS))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(O)/tests/%)

all: $(BINS) $(UNITS) $(TOOLS)

$(O)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# One folder per program: every .c in src/PROG/ links into PROG.
define prog_rule
$(1)_OBJ := $$(patsubst %.c,$(O)/%.o,$$(wildcard src/$(1)/*.c))
$(O)/bin/$(1): $$($(1)_OBJ) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# test_web drives nfchain's web.c (and spec.c for the tenants' lookup).
$(O)/tests/unit/test_web.o: CFLAGS += -Isrc/nfchain
$(O)/tests/test_web: $(O)/tests/unit/test_web.o $(O)/src/nfchain/web.o $(O)/src/nfchain/spec.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The autoscaler's decision lives with nfchain: its unit test links scale.c.
$(O)/tests/test_scale: $(O)/tests/unit/test_scale.o $(O)/src/nfchain/scale.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The controller's placement lives with nfchain: its unit test links place.c.
$(O)/tests/test_place: $(O)/tests/unit/test_place.o $(O)/src/nfchain/place.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tests: the README's test command is scripts/test (installs packages,
# builds both flavours, runs this).
test: all
	tests/run

# libFuzzer targets (clang only). FUZZ_TIME seconds per target. The
# library is compiled once into objects with the fuzzers' coverage
# (-fsanitize=fuzzer-no-link) that every target links, so that `make -j`
# builds them in parallel; fuzz_steer's are its own (its CPU and its
# coverage ignore list).
FUZZ_TIME ?= 60
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CC   := clang -std=gnu11 -g -O1 -Isrc/lib
FUZZ_SAN  := address,undefined
FUZZ_LIBS := -lpcap -ljson-c -lmicrohttpd -lxdp -lbpf -lcurl -lm
FUZZ_OBJ  := $(LIB_SRC:src/lib/%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: src/lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(FUZZ_OBJ) $(FUZZ_LIBS)
# The description parser lives with nfchain: its target links spec.c and plan.c.
build/fuzz/fuzz_spec: tests/fuzz/fuzz_spec.c tests/fuzz/fuzz.h src/nfchain/spec.c src/nfchain/plan.c $(wildcard src/nfchain/*.h) $(FUZZ_OBJ)
	$(FUZZ_CC) -Isrc/nfchain -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< src/nfchain/spec.c \
		src/nfchain/plan.c $(FUZZ_OBJ) $(FUZZ_LIBS) -lyaml -lcrypt
# nfchain-cni's configuration parser: its target links conf.c.
build/fuzz/fuzz_cni_conf: tests/fuzz/fuzz_cni_conf.c tests/fuzz/fuzz.h src/nfchain-cni/conf.c src/nfchain-cni/cni.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -Isrc/nfchain-cni -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< src/nfchain-cni/conf.c -ljson-c
# nfswitch's steering: its target links the forwarding and steering
# files of nfswitch (not main.c), built for this machine's CPU as nfswitch
# is (the flow cache's wide compares), without coverage where
# tests/fuzz/steer.ignore says.
FUZZ_SW       := src/nfswitch/fwd.c src/nfswitch/cap.c src/nfswitch/steer.c src/nfswitch/steer_ctl.c src/nfswitch/hold.c
FUZZ_STEER    := -march=$(MARCH) -Isrc/nfswitch -fsanitize-coverage-ignorelist=tests/fuzz/steer.ignore
FUZZ_STEER_OBJ := $(patsubst %.c,build/fuzz/steer/%.o,$(FUZZ_SW) $(LIB_SRC))
build/fuzz/steer/%.o: %.c tests/fuzz/steer.ignore
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_STEER) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c -o $@ $<
build/fuzz/fuzz_steer: tests/fuzz/fuzz_steer.c tests/fuzz/fuzz.h $(wildcard src/nfswitch/*.h) $(FUZZ_STEER_OBJ)
	$(FUZZ_CC) $(FUZZ_STEER) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(FUZZ_STEER_OBJ) $(FUZZ_LIBS)
fuzz-build: $(FUZZERS)
fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_TIME)

bench: all
	bench/run

clean:
	rm -rf build

.PHONY: all test fuzz fuzz-build bench clean
-include $(shell find build -name '*.d' 2>/dev/null)
