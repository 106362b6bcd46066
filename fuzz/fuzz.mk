# supernav fuzzing: one libFuzzer target per parser of outside input (fuzz/README.md).
# Included by the top-level Makefile; also works alone (make -f fuzz/fuzz.mk fuzz-build).
#
#   make fuzz-build              builds build/fuzz/fuzz_<target> for every target
#   make fuzz FUZZ_SECONDS=N     builds, then runs every target for N seconds (default 10),
#                                one at a time; prints each target's executions and result.
#                                Crash inputs land in build/fuzz/crashes/<target>/ (ignored),
#                                new corpus entries in build/fuzz/corpus/<target>/.
#   make fuzz FUZZ_TARGETS="model config" FUZZ_RUNS=10000000 FUZZ_SECONDS=3600
#                                a campaign: some targets, until N executions or N seconds
#                                (FUZZ_TIMEOUT=S: seconds one input may take, default 10)
#
# The project's sources are compiled again with clang (Debian's clang 14) and
# -fsanitize=fuzzer-no-link,address,undefined (the CPU SIMD kernels without: FUZZ_CPU_FLAGS)
# into build/fuzz/obj/; the gcc build is never
# touched. Every UBSan report aborts (-fno-sanitize-recover=all), so it counts as a crash.

ifndef SN_FUZZ_MK
SN_FUZZ_MK := 1

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_RUNS ?=
FUZZ_TIMEOUT ?= 10
FUZZ_DIR := build/fuzz
FUZZ_TARGETS ?= model safetensors trace trace_azure_llm trace_azure_functions_2019 \
                trace_azure_functions_2021 trace_csv trace_jsonl config sweep_spec \
                sweep_manifest fpga_board gate rundir mcu_host mcu_serve

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_INCLUDES := -Iengine/include -Icommon -Icli -Ibench -Itests -Iworkloads -Idatasets \
                 -Iplatforms/common -Iplatforms/cpu -Iplatforms/opencl -Iplatforms/fpga \
                 -Iharness -Ireports -Iplatforms/mcu/host -Iplatforms/mcu
FUZZ_CFLAGS := -O1 -g -Wall -Wextra -Wno-unused-parameter $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
               $(FUZZ_INCLUDES) -MMD -MP
FUZZ_ENGINE_CFLAGS := -std=c99 $(FUZZ_CFLAGS)
FUZZ_HOST_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(FUZZ_CFLAGS)
# the CPU platform's SIMD kernels are no parser of outside input (the fuzz targets that load
# a model link them through the packer); instrumented they took 65-168 s each to compile with
# clang 14 (about 5 min of test_fuzz_corpus), so they are built without the sanitizers and
# the coverage here (gcc's ASan + UBSan build of make test SAN=address,undefined covers them)
FUZZ_CPU_FLAGS := -ffp-contract=fast -Wno-psabi -Wno-unknown-attributes \
                  -fno-sanitize=address,undefined,fuzzer-no-link
FUZZ_LIBS := -lm -lpthread -lcjson

FUZZ_ENGINE_SRC := $(sort $(wildcard engine/*.c engine/kernels/*.c))
# only what the targets link (a file another session is editing elsewhere cannot break it)
FUZZ_HOST_SRC := $(sort $(wildcard common/*.c datasets/*.c workloads/*.c platforms/common/*.c \
                   platforms/cpu/*.c platforms/fpga/*.c)) harness/sn_sweep.c \
                 reports/sn_rundir.c reports/sn_figures.c reports/sn_stats.c reports/sn_compare.c \
                 reports/sn_gate.c platforms/mcu/host/sn_mcu_host.c platforms/mcu/sn_mcu_kernels.c \
                 platforms/mcu/sn_mcu_kernels_split.c
FUZZ_ENGINE_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_ENGINE_SRC))
FUZZ_HOST_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_HOST_SRC))
FUZZ_ENGINE_LIB := $(FUZZ_DIR)/libsupernav_engine.a
FUZZ_HOST_LIB := $(FUZZ_DIR)/libsupernav_host.a
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
# where the targets find the committed fixtures (the tiny model, the gate's runs)
FUZZ_ROOT_DEF := -DSN_FUZZ_ROOT='"$(abspath .)"'

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-deps

fuzz-deps:
	@sh ci/deps.sh ci/packages-fuzz.txt

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) \
	  sh fuzz/run.sh $(FUZZ_TARGETS)

# Regenerates the seeds that are made by a program (the tiny SuperNet: fuzz/README.md).
fuzz-seeds: $(FUZZ_DIR)/gen_seeds
	$(FUZZ_DIR)/gen_seeds fuzz

$(FUZZ_DIR)/obj/engine/%.o: engine/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_ENGINE_CFLAGS) -c $< -o $@

# the CPU platform's ISA objects, as the main build
$(FUZZ_DIR)/obj/platforms/cpu/sn_cpu_avx2.o: FUZZ_EXTRA = -mavx2 -mfma $(FUZZ_CPU_FLAGS)
$(FUZZ_DIR)/obj/platforms/cpu/sn_cpu_avx512.o: FUZZ_EXTRA = -mavx512f -mavx512bw -mfma $(FUZZ_CPU_FLAGS)
$(FUZZ_DIR)/obj/platforms/cpu/sn_cpu_avxvnni.o: FUZZ_EXTRA = -mavx2 -mfma -mavxvnni $(FUZZ_CPU_FLAGS)
$(FUZZ_DIR)/obj/platforms/cpu/sn_cpu_avx512vnni.o: FUZZ_EXTRA = -mavx512f -mavx512bw -mavx512vnni -mfma $(FUZZ_CPU_FLAGS)
$(FUZZ_DIR)/obj/platforms/cpu/sn_cpu_portable.o: FUZZ_EXTRA = $(FUZZ_CPU_FLAGS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_HOST_CFLAGS) $(FUZZ_EXTRA) -c $< -o $@

$(FUZZ_ENGINE_LIB): $(FUZZ_ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_HOST_LIB): $(FUZZ_HOST_OBJ)
	@rm -f $@
	ar rcs $@ $^

# the targets: fuzz/fuzz_<name>.c, with the helpers of fuzz/sn_fuzz.c
$(FUZZ_DIR)/obj/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_HOST_CFLAGS) $(FUZZ_ROOT_DEF) -c $< -o $@
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_DIR)/obj/fuzz/sn_fuzz.o $(FUZZ_HOST_LIB) $(FUZZ_ENGINE_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ $(FUZZ_LIBS) -o $@

# the seed generator: a plain program (no libFuzzer main), same sanitizers
$(FUZZ_DIR)/gen_seeds: $(FUZZ_DIR)/obj/fuzz/gen_seeds.o $(FUZZ_HOST_LIB) $(FUZZ_ENGINE_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $^ $(FUZZ_LIBS) -o $@

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

endif
