# supernav — top-level Makefile.
#
#   make               build build/supernav (and the tests' and benchmarks' binaries)
#   make test          cmocka tests in TAP mode under prove      (SAN=address,undefined)
#   make bench         the main job for PLATFORM (default cpu) and MODEL (default cf64)
#   make micro         kernel micro-benchmarks (Google Benchmark), JSON under results/
#   make bench-peers   supernav vs ONNX Runtime vs PyTorch, per Pareto SubNet (bench/peers/)
#   make bench-arac    the NeuLens experiment: ARAC vs untiled vs downsampled inputs (bench/arac/)
#   make mcu-qemu-test the freestanding engine on an emulated Cortex-M4F (platforms/mcu/)
#   make gate          the CI regression gate: a short deterministic run set against
#                      ci/baselines/cpu.json (make baseline refreshes it, on purpose)
#   make bench-opencl  the OpenCL platform vs the CPU platform, per Pareto SubNet (bench/opencl/)
#   make bench-cpu-near-far  the CPU platform's near vs far (cold) latency, per Pareto SubNet
#   make print-model   the MODEL's image, interchange file, table, calibration and test sets
#   make deps          install missing Debian packages (apt-get; needs root)
#   make clean
#
# MODEL=cf64|cf128s picks the SuperNet the model targets serve (below, "models").
# One warning list, in this file. Host code is C11; engine/ is C99 and freestanding-safe.

PLATFORM ?= cpu
SAN ?=
CC ?= cc
CXX ?= g++
OPT ?= -O2

SN_VERSION := 0.1.0
# the revision built, with -dirty-<hash of the difference> when tracked files (outside
# ci/baselines/, which make baseline writes) differ from it: a run directory then says that
# its build was not exactly that commit, and two different dirty builds differ
GIT_REV := $(shell r=$$(git rev-parse --short HEAD 2>/dev/null) || { echo unknown; exit 0; }; \
             d=$$(git diff HEAD -- . ':(exclude)ci/baselines' 2>/dev/null | sha256sum | cut -c1-7); \
             if [ "$$d" = "$$(printf '' | sha256sum | cut -c1-7)" ]; then echo $$r; else echo $$r-dirty-$$d; fi)

comma := ,
ifeq ($(SAN),)
BUILD := build
SAN_FLAGS :=
else
BUILD := build/san-$(subst $(comma),-,$(SAN))
SAN_FLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
# no variable-location tracking (line tables and types stay, so reports keep file:line): with it
# the instrumented CPU kernels took 82-107 s each to compile here, without it about 60
OPT := -O1 -fno-var-tracking-assignments
endif

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align -Wwrite-strings \
            -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla -Wformat=2 \
            -Wdouble-promotion -Wno-unused-parameter
CXXWARNINGS := -Wall -Wextra -Werror
INCLUDES := -Iengine/include -Icommon -Icli -Ibench -Itests -Iworkloads -Iplatforms/common -Iplatforms/cpu \
            -Iplatforms/opencl -Iplatforms/fpga -Iharness -Ireports
INCLUDES += -Iplatforms/mcu/host -Iplatforms/mcu
CPPFLAGS_ALL := $(INCLUDES) -MMD -MP
ENGINE_CFLAGS := -std=c99 -pedantic $(WARNINGS) $(OPT) -g $(SAN_FLAGS)
HOST_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) $(OPT) -g $(SAN_FLAGS)
LDFLAGS_ALL := $(SAN_FLAGS)

ENGINE_SRC := $(sort $(wildcard engine/*.c engine/kernels/*.c))
HOST_SRC := $(sort $(wildcard common/*.c datasets/*.c workloads/*.c platforms/common/*.c platforms/cpu/*.c \
              platforms/opencl/*.c platforms/fpga/*.c harness/*.c harness/policies/*.c reports/*.c))
HOST_SRC += platforms/mcu/host/sn_mcu_host.c platforms/mcu/host/sn_mcu_sut.c platforms/mcu/sn_mcu_kernels.c \
            platforms/mcu/sn_mcu_kernels_split.c
CLI_SRC := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
MICRO_C_SRC := $(sort $(wildcard bench/micro*.c))
MICRO_CXX_SRC := bench/sn_bench.cc

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
ENGINE_OBJ := $(call obj,$(ENGINE_SRC))
HOST_OBJ := $(call obj,$(HOST_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_SCRIPTS := $(sort $(wildcard tests/test_*.sh))
MICRO_OBJ := $(call obj,$(MICRO_C_SRC)) $(BUILD)/obj/bench/sn_bench.o

ENGINE_LIB := $(BUILD)/libsupernav_engine.a
HOST_LIB := $(BUILD)/libsupernav_host.a
SUPERNAV := $(BUILD)/supernav
MICRO := $(BUILD)/bench/supernav-micro
LIBS := -lm -lpapi -lpfm -lOpenCL -lpthread

RESULTS := results
STAMP := $(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: all test bench bench-peers bench-opencl bench-cpu-near-far micro deps deps-test clean check-platform \
        engine-freestanding gate baseline
.SECONDARY:
.DEFAULT_GOAL := all

# ---- models ------------------------------------------------------------------------
# MODEL picks the SuperNet that make bench, bench-arac and the other model targets serve:
# its deployment image, the interchange file it is packed from, its accuracy table, its
# int8 calibration canvases and its test split (the canvases `supernav eval` and `replay`
# also default to, from the task the image names).
#   cf64    CF-64, workloads/supernet/ (the default; what the tests use)
#   cf128s  CF-128S, the region-sparse task, workloads/sparse/ (issue 20)
MODELS := cf64 cf128s
cf64_IMAGE := $(BUILD)/supernet.snm
cf64_SRC := workloads/supernet/supernet.safetensors
cf64_TABLE := workloads/supernet/accuracy.csv
cf64_CALIB := data/canvas/cf64-train
cf64_TEST := data/canvas/cf64-test
cf128s_IMAGE := $(BUILD)/sparse.snm
cf128s_SRC := workloads/sparse/supernet.safetensors
cf128s_TABLE := workloads/sparse/accuracy.csv
cf128s_CALIB := data/canvas/cf128s-calib
cf128s_TEST := data/canvas/cf128s-test
MODEL ?= cf64
ifneq ($(words $(MODEL)) $(filter $(MODEL),$(MODELS)),1 $(MODEL))
$(error unknown MODEL '$(MODEL)' (cf64 or cf128s))
endif
MODEL_IMAGE := $($(MODEL)_IMAGE)
MODEL_SRC := $($(MODEL)_SRC)
MODEL_TABLE := $($(MODEL)_TABLE)
MODEL_TEST := $($(MODEL)_TEST)
CALIB_SET := $($(MODEL)_CALIB)
# what a benchmark script is told about the model it serves
MODEL_ENV = MODEL=$(MODEL) MODEL_IMAGE=$(MODEL_IMAGE) MODEL_TABLE=$(MODEL_TABLE) MODEL_TEST=$(MODEL_TEST)
# make print-model: MODEL's name, image, interchange file, table, calibration and test sets
.PHONY: print-model
print-model:
	@echo "$(MODEL) $(MODEL_IMAGE) $(MODEL_SRC) $(MODEL_TABLE) $(CALIB_SET) $(MODEL_TEST)"

all: $(SUPERNAV) $(TEST_BIN) $(cf64_IMAGE) $(MODEL_IMAGE)

# ---- compile -----------------------------------------------------------------------
$(BUILD)/obj/engine/%.o: engine/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(ENGINE_CFLAGS) -c $< -o $@

# The objects that embed the git revision recompile when it changes (a stamp rewritten
# only when the revision differs).
$(BUILD)/git-rev.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
$(BUILD)/obj/harness/sn_serve.o $(BUILD)/obj/harness/sn_replay.o $(BUILD)/obj/cli/cmd_version.o: $(BUILD)/git-rev.stamp
.PHONY: FORCE
FORCE:

$(BUILD)/obj/harness/sn_serve.o $(BUILD)/obj/harness/sn_replay.o: CPPFLAGS_EXTRA = -DSN_SERVE_VERSION='"$(SN_VERSION)"' \
    -DSN_GIT_REV='"$(GIT_REV)"' -DSN_BUILD_FLAGS='"$(strip $(HOST_CFLAGS))"'
$(BUILD)/obj/cli/cmd_version.o: CPPFLAGS_EXTRA = -DSN_VERSION='"$(SN_VERSION)"' \
    -DSN_GIT_REV='"$(GIT_REV)"' -DSN_BUILD_FLAGS='"$(strip $(HOST_CFLAGS))"'

# The CPU platform's kernels: one source, one object per ISA (run-time dispatch picks one).
# Functions 64-byte aligned: a change elsewhere in the binary does not move the kernels' loops
# against the 64-byte fetch blocks (measured on Zen 3: a 16-byte shift of the avx2 object moved
# unchanged pointwise kernels' time by 2-4 %)
CPU_FP := -ffp-contract=fast -Wno-psabi -falign-functions=64
ifeq ($(shell uname -m),x86_64)
$(BUILD)/obj/platforms/cpu/sn_cpu_avx2.o: CPPFLAGS_EXTRA = -mavx2 -mfma $(CPU_FP)
$(BUILD)/obj/platforms/cpu/sn_cpu_avx512.o: CPPFLAGS_EXTRA = -mavx512f -mavx512bw -mfma $(CPU_FP)
$(BUILD)/obj/platforms/cpu/sn_cpu_avxvnni.o: CPPFLAGS_EXTRA = -mavx2 -mfma -mavxvnni $(CPU_FP)
$(BUILD)/obj/platforms/cpu/sn_cpu_avx512vnni.o: CPPFLAGS_EXTRA = -mavx512f -mavx512bw -mavx512vnni -mfma $(CPU_FP)
endif
$(BUILD)/obj/platforms/cpu/sn_cpu_portable.o: CPPFLAGS_EXTRA = $(CPU_FP)
# A sanitizer build instruments the kernel variants this machine can run (portable, avx2 and
# whichever of the others its flags list) and compiles the rest without the sanitizers: run-time
# dispatch never calls them here, so instrumenting them would check nothing (each took 44-52 s
# to compile instrumented; on a machine with AVX-512 or AVX-VNNI they are instrumented).
ifneq ($(SAN),)
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
# (GCC at -O1 without the sanitizers warns of a half vector's lanes as maybe uninitialized in
# splat_h, which sets every lane; the plain build at -O2 does not)
HOST_CFLAGS_NOSAN := $(filter-out $(SAN_FLAGS),$(HOST_CFLAGS)) -Wno-maybe-uninitialized
ifeq ($(filter avx512bw,$(CPU_FLAGS)),)
$(BUILD)/obj/platforms/cpu/sn_cpu_avx512.o: HOST_CFLAGS := $(HOST_CFLAGS_NOSAN)
endif
ifeq ($(filter avx512_vnni,$(CPU_FLAGS)),)
$(BUILD)/obj/platforms/cpu/sn_cpu_avx512vnni.o: HOST_CFLAGS := $(HOST_CFLAGS_NOSAN)
endif
ifeq ($(filter avx_vnni,$(CPU_FLAGS)),)
$(BUILD)/obj/platforms/cpu/sn_cpu_avxvnni.o: HOST_CFLAGS := $(HOST_CFLAGS_NOSAN)
endif
endif

# The OpenCL platform: OpenCL 1.2 API through the ICD loader; its kernels' source is embedded
# as a C string generated from platforms/opencl/sn_opencl_kernels.cl.
OPENCL_GEN := $(BUILD)/gen/sn_opencl_kernels.inc
$(OPENCL_GEN): platforms/opencl/sn_opencl_kernels.cl
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/platforms/opencl/sn_opencl.o: $(OPENCL_GEN)
$(BUILD)/obj/platforms/opencl/sn_opencl.o: CPPFLAGS_EXTRA = -I$(BUILD)/gen -DCL_TARGET_OPENCL_VERSION=120

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS_EXTRA) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/obj/bench/%.o: bench/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS_ALL) -std=c++17 $(CXXWARNINGS) -O2 -g -c $< -o $@

$(ENGINE_LIB): $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(HOST_LIB): $(HOST_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- link --------------------------------------------------------------------------
$(SUPERNAV): $(CLI_OBJ) $(HOST_LIB) $(ENGINE_LIB)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(HOST_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ -lcmocka $(LIBS) -o $@

$(MICRO): $(MICRO_OBJ) $(HOST_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $^ -lbenchmark -lpthread $(LIBS) -o $@

-include $(shell find $(BUILD)/obj build/freestanding build/mcu -name '*.d' 2>/dev/null)

include datasets/datasets.mk
include workloads/supernet/model.mk
include workloads/sparse/model.mk
include fuzz/fuzz.mk
include bench/peers/peers.mk
include bench/arac/arac.mk

# The deployment image of each model (supernav pack), with its accuracy table. int8:
# post-training calibration on the first CALIB_COUNT canvases of the model's calibration
# set (train canvases, never the test split: cf64-train; cf128s-calib, datasets/README.md).
CALIB_COUNT ?= 512
ifeq ($(SAN),)
define model_image
$($(1)_IMAGE): $($(1)_SRC) $($(1)_TABLE) $$(SUPERNAV) $($(1)_CALIB)-images-idx3-ubyte
	$$(SUPERNAV) pack $($(1)_SRC) --table $($(1)_TABLE) --calib $($(1)_CALIB) \
	  --calib-count $$(CALIB_COUNT) -o $$@
$($(1)_CALIB)-images-idx3-ubyte: | $$(SUPERNAV)
	@$$(MAKE) --no-print-directory datasets
endef
else
# A sanitizer build serves the plain build's images, copied (made first where missing or out of
# date): its tests check the code, not the image, and `pack` itself runs sanitized in
# tests/test_models.sh, test_serve_arac.sh and test_faults.sh. Packing one under the
# sanitizers took 47 s, at the end of the build; and with the plain image a sanitizer test can
# pin the CI gate's profile (ci/baselines/cpu-profile.json was measured on that image).
define model_image
$($(1)_IMAGE): FORCE
	@$$(MAKE) --no-print-directory SAN= build/$(notdir $($(1)_IMAGE))
	@mkdir -p $$(@D) && cmp -s build/$(notdir $($(1)_IMAGE)) $$@ || cp build/$(notdir $($(1)_IMAGE)) $$@
endef
endif
$(foreach m,$(MODELS),$(eval $(call model_image,$(m))))
# CF-128S's export is committed apart from its code (workloads/sparse/export.py writes it)
$(cf128s_SRC) $(cf128s_TABLE):
	@echo "make: $@ is missing: the CF-128S export (workloads/sparse/README.md) is not in this checkout" >&2; exit 1

# The engine alone, cross-compiled for a Cortex-M4F: proves it stays freestanding C99.
ARM_CC := arm-none-eabi-gcc
ARM_FLAGS := -std=c99 -pedantic $(WARNINGS) -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard \
             -mfpu=fpv4-sp-d16 -ffunction-sections -fdata-sections
FREESTANDING_OBJ := $(patsubst %.c,build/freestanding/%.o,$(ENGINE_SRC))
build/freestanding/%.o: %.c
	@mkdir -p $(dir $@)
	$(ARM_CC) -Iengine/include $(ARM_FLAGS) -MMD -MP -c $< -o $@
build/freestanding/libsupernav_engine.a: $(FREESTANDING_OBJ)
	@rm -f $@
	arm-none-eabi-ar rcs $@ $^
engine-freestanding: build/freestanding/libsupernav_engine.a
	@arm-none-eabi-size -t $< | tail -n 1 | awk '{print "engine-freestanding: Cortex-M4F text " $$1 " bytes, data " $$2 ", bss " $$3 " ($<)"}'

include platforms/mcu/mcu.mk

# ---- targets -----------------------------------------------------------------------
# make check-print: library code (engine/, harness/, platforms/) never prints (also in make test)
check-print:
	@sh ci/check-no-print.sh && echo "check-print: engine/, harness/, platforms/ print nothing"
.PHONY: check-print

deps:
	@sh ci/deps.sh

# make test also needs a browser for the HTML report's test (ci/packages-test.txt) and clang's
# libFuzzer to replay the fuzz targets' committed inputs (ci/packages-fuzz.txt).
deps-test:
	@sh ci/deps.sh ci/packages.txt ci/packages-test.txt ci/packages-fuzz.txt

# Tests run from the repository root; prove prints the summary ("Result: PASS").
# CPU_ISA=avx512|avxvnni|avx2|portable runs the whole suite as on a CPU without VNNI, AVX-512 (or AVX2): the
# CPU platform sees only what SN_CPU_MAX_ISA allows. PAPI_DISABLE=perf_event brings PAPI up
# without that component, as on a machine where PAPI cannot use it (no PMU, another vendor).
# TESTS="build/tests/test_x tests/test_y.sh" runs only those.
# Two passes: the tests run PROVE_JOBS at a time, then TEST_ALONE one at a time with nothing
# beside them: the scripts that time themselves or a deadline, kill processes at set moments,
# or use both cores themselves. PROVE_JOBS=1 runs everything one at a time. The firmware the
# MCU scripts run is built first (where the Arm toolchain and QEMU are installed), so no two
# scripts build it at once.
CPU_ISA ?=
PAPI_DISABLE ?=
PROVE_JOBS ?= 2
TESTS ?= $(TEST_BIN) $(TEST_SCRIPTS)
# Under the sanitizers only the scripts that time themselves or a deadline run alone: the
# others there check memory, not timing (test_faults' kills land at fractions of a duration
# it measures itself, any moment is a valid test; test_eval_accuracy, test_fuzz_corpus and
# test_sweep_slurm skip there).
TEST_ALONE_TIMED := test_bench_exit.sh test_compliance.sh test_gate.sh test_replay.sh test_replay_realtime.sh \
  test_sweep.sh
TEST_ALONE := $(addprefix tests/,$(TEST_ALONE_TIMED) $(if $(SAN),,test_eval_accuracy.sh test_faults.sh \
  test_fuzz_corpus.sh test_report.sh test_sweep_slurm.sh))
TESTS_PAR = $(filter-out $(TEST_ALONE),$(TESTS))
TESTS_ALONE = $(filter $(TEST_ALONE),$(TESTS))
PROVE = $(if $(CPU_ISA),SN_CPU_MAX_ISA=$(CPU_ISA)) $(if $(PAPI_DISABLE),SN_PAPI_DISABLE_COMPONENTS=$(PAPI_DISABLE)) \
  SUPERNAV=$(SUPERNAV) BUILD=$(BUILD) SN_MODEL=$(cf64_IMAGE) \
  ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/ci/lsan-suppressions.txt \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 prove --exec ''
test: deps-test
	@$(MAKE) --no-print-directory -q all || $(MAKE) --no-print-directory all
	@$(if $(SAN),:,if command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > /dev/null; then \
	  $(MAKE) --no-print-directory -s mcu-qemu mcu-boards > /dev/null || echo "make mcu-qemu mcu-boards failed: the MCU tests say why"; fi)
	@echo "prove: $(words $(TESTS)) tests$(if $(SAN), under -fsanitize=$(SAN))$(if $(CPU_ISA), as on a CPU capped at $(CPU_ISA))$(if $(PAPI_DISABLE), with PAPI component(s) $(PAPI_DISABLE) disabled)"
	@status=0; \
	$(if $(TESTS_PAR),echo "prove: $(words $(TESTS_PAR)) tests $(PROVE_JOBS) at a time"; $(PROVE) -j$(PROVE_JOBS) $(TESTS_PAR) || status=1;) \
	$(if $(TESTS_ALONE),echo "prove: $(words $(TESTS_ALONE)) tests one at a time (nothing beside them)"; $(PROVE) $(TESTS_ALONE) || status=1;) \
	exit $$status

# Kernel micro-benchmarks; Google Benchmark's JSON is written beside the console table,
# via a temporary file renamed into place. MICRO_ARGS passes extra flags.
MICRO_JSON := $(RESULTS)/micro/micro-$(STAMP).json
micro: deps $(MICRO)
	@mkdir -p $(RESULTS)/micro
	$(MICRO) --benchmark_out=$(MICRO_JSON).tmp --benchmark_out_format=json $(MICRO_ARGS)
	@mv $(MICRO_JSON).tmp $(MICRO_JSON) && echo "micro: wrote $(MICRO_JSON)"

# The main job: the standard serving set (bench/serve/run.sh) on PLATFORM and MODEL -- three
# traces x every policy, real-time replay, run directories and a summary table under
# results/bench/ (results/bench/<model>-<UTC>/ for a model other than cf64).
# PLATFORM=fpga: the accelerator model in virtual time, the SUSHI reproduction and the buffer x
# PE-array sweep (bench/fpga/run.sh; FPGA_BOARD, FPGA_PE, FPGA_NEAR_KIB, FPGA_QUERIES).
bench: check-platform deps $(SUPERNAV) $(MODEL_IMAGE)
	@PLATFORM=$(PLATFORM) SUPERNAV=$(SUPERNAV) $(MODEL_ENV) sh bench/serve/run.sh

# The regression gate (ci/gate.sh): a short virtual-time run set with a pinned profile,
# checked against the committed baseline; exit 1 on a regression. make baseline records a
# new profile and baseline (commit ci/baselines/ afterwards). The baseline is CF-64's.
ifneq ($(filter gate baseline,$(MAKECMDGOALS)),)
ifneq ($(MODEL),cf64)
$(error make gate and make baseline: the gate's baseline is CF-64's (MODEL=cf64, not $(MODEL)))
endif
endif
gate: deps $(SUPERNAV) $(MODEL_IMAGE)
	+@SUPERNAV=$(SUPERNAV) sh ci/gate.sh gate

baseline: deps $(SUPERNAV) $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) sh ci/gate.sh baseline

# The OpenCL platform against the CPU platform, per Pareto SubNet: latency and the
# kernel/transfer split from profiling events; results/opencl/<UTC>/ (bench/opencl/run.sh).
bench-opencl: deps $(SUPERNAV) $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) OPENCL_MODEL=$(MODEL_IMAGE) OPENCL_DATA=$(MODEL_TEST) OPENCL_TABLE=$(MODEL_TABLE) \
	  sh bench/opencl/run.sh

# The CPU platform's near/far gap: per Pareto SubNet, p50 with all weights resident vs all
# far (flushed, read cold), interleaved rounds; results/cpu/near-far-<UTC>.txt
# (bench/cpu/near_far.sh; ROUNDS, LIMIT, WARMUP, ISA).
bench-cpu-near-far: $(SUPERNAV) $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) RESULTS=$(RESULTS) $(MODEL_ENV) sh bench/cpu/near_far.sh

check-platform:
	@case "$(PLATFORM)" in \
	  cpu|opencl|fpga) ;; \
	  mcu) $(MAKE) --no-print-directory -s mcu-boards ;; \
	  *) echo "make bench: error: unknown PLATFORM '$(PLATFORM)' (cpu, opencl, mcu, fpga)" >&2; exit 1 ;; \
	esac

clean:
	rm -rf build
