# supernav's MCU platform: the Cortex-M4F program that runs the engine on QEMU's
# mps2-an386, and its host side (included by the top-level Makefile).
#
#   make mcu-qemu        builds $(BUILD)/mcu/supernav-mcu.elf and the host tool sn-mcu-job
#   make mcu-qemu-test   builds them and runs tests/test_engine_qemu.sh (TAP)
#
# The firmware links the engine as `make engine-freestanding` builds it
# (build/freestanding/libsupernav_engine.a), newlib with semihosting (rdimon) and our own
# startup (-nostartfiles). Its static arena is sized from CF-64's image (the test fixture,
# whatever MODEL is): sn-mcu-job sizes writes $(BUILD)/mcu/sn_mcu_sizes.h.

MCU_DIR := $(BUILD)/mcu
MCU_ELF := $(MCU_DIR)/supernav-mcu.elf
MCU_JOB_TOOL := $(MCU_DIR)/sn-mcu-job
MCU_SIZES := $(MCU_DIR)/sn_mcu_sizes.h
MCU_LDSCRIPT := platforms/mcu/qemu/mps2_an386.ld
MCU_SRC := platforms/mcu/sn_mcu_check.c platforms/mcu/qemu/startup.c platforms/mcu/qemu/sn_port_qemu.c
MCU_OBJ := $(patsubst platforms/mcu/%.c,$(MCU_DIR)/obj/%.o,$(MCU_SRC))
MCU_CPU := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16

.PHONY: mcu-qemu mcu-qemu-test

mcu-qemu: $(MCU_ELF) $(MCU_JOB_TOOL)

mcu-qemu-test: mcu-qemu $(cf64_IMAGE)
	@SUPERNAV=$(SUPERNAV) BUILD=$(BUILD) SN_MODEL=$(cf64_IMAGE) sh tests/test_engine_qemu.sh

$(MCU_JOB_TOOL): $(BUILD)/obj/platforms/mcu/host/sn_mcu_job.o $(HOST_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(MCU_SIZES): $(MCU_JOB_TOOL) $(cf64_IMAGE)
	$(MCU_JOB_TOOL) sizes $(cf64_IMAGE) > $@.tmp && mv $@.tmp $@

$(MCU_DIR)/obj/%.o: platforms/mcu/%.c
	@mkdir -p $(dir $@)
	$(ARM_CC) -Iengine/include -Iplatforms/mcu -Iplatforms/mcu/qemu -I$(MCU_DIR) -MMD -MP \
	  $(ARM_FLAGS) -g -c $< -o $@
$(MCU_DIR)/obj/sn_mcu_check.o: $(MCU_SIZES)

$(MCU_ELF): $(MCU_OBJ) build/freestanding/libsupernav_engine.a $(MCU_LDSCRIPT)
	$(ARM_CC) $(MCU_CPU) --specs=rdimon.specs -nostartfiles -T $(MCU_LDSCRIPT) \
	  -Wl,--gc-sections -Wl,-Map=$(MCU_DIR)/supernav-mcu.map \
	  $(MCU_OBJ) build/freestanding/libsupernav_engine.a -lm -o $@
	@arm-none-eabi-size $@ | tail -n 1 | awk '{print "mcu-qemu: text " $$1 " bytes, data " $$2 ", bss " $$3 " ($@)"}'

-include $(wildcard $(MCU_DIR)/obj/*.d $(MCU_DIR)/obj/*/*.d)

# ---- board profiles: the serving firmware (sn_mcu_serve.c) per part ------------------
#   make mcu-boards      $(BUILD)/mcu/supernav-mcu-<board>.elf for every profile (l4r5, f746, h743, m55)
# A profile is a linker script with the part's flash and SRAM (platforms/mcu/qemu/board_*.ld)
# and the QEMU machine it runs on (platforms/mcu/host/sn_mcu_board.c). The code is compiled
# as the engine's freestanding build is (Cortex-M4F flags); the M7 runs it unchanged. The m55
# profile compiles the firmware and its own copy of the engine (build/freestanding-m55) with
# -mcpu=cortex-m55 (FPv5 and MVE; GCC may auto-vectorise with MVE) and -DSN_QEMU_AN547 (the
# AN547's UART, clock and boot table).
MCU_BOARDS := l4r5 f746 h743 m55
MCU_BOARD_TEXT_l4r5 := qemu mps2-an386 (Cortex-M4F) as an STM32L4R5-class part: 2 MB flash, 640 KB SRAM
MCU_BOARD_TEXT_f746 := qemu mps2-an500 (Cortex-M7) as an STM32F746-class part: 1 MB flash, 320 KB SRAM
MCU_BOARD_TEXT_h743 := qemu mps2-an500 (Cortex-M7) as an STM32H743-class part: 2 MB flash, 1 MB SRAM
MCU_BOARD_TEXT_m55 := qemu mps3-an547 (Cortex-M55) as an Alif Ensemble E3-class HP core (assumed sizes): 4 MB MRAM, 1 MB SRAM
# per profile: compiler flags, link CPU flags, engine library, extra defines (default: the M4F's)
MCU_M55_FLAGS := $(filter-out -mcpu=cortex-m4 -mfpu=fpv4-sp-d16,$(ARM_FLAGS)) -mcpu=cortex-m55
MCU_BOARD_FLAGS_m55 := $(MCU_M55_FLAGS) -DSN_QEMU_AN547
MCU_BOARD_CPU_m55 := -mcpu=cortex-m55 -mthumb -mfloat-abi=hard
MCU_BOARD_LIB_m55 := build/freestanding-m55/libsupernav_engine.a
mcu_board_flags = $(if $(MCU_BOARD_FLAGS_$(1)),$(MCU_BOARD_FLAGS_$(1)),$(ARM_FLAGS))
mcu_board_cpu = $(if $(MCU_BOARD_CPU_$(1)),$(MCU_BOARD_CPU_$(1)),$(MCU_CPU))
mcu_board_lib = $(if $(MCU_BOARD_LIB_$(1)),$(MCU_BOARD_LIB_$(1)),build/freestanding/libsupernav_engine.a)

# the engine for the M55 profile
build/freestanding-m55/%.o: %.c
	@mkdir -p $(dir $@)
	$(ARM_CC) -Iengine/include $(MCU_M55_FLAGS) -MMD -MP -c $< -o $@
build/freestanding-m55/libsupernav_engine.a: $(patsubst %.c,build/freestanding-m55/%.o,$(ENGINE_SRC))
	@rm -f $@
	arm-none-eabi-ar rcs $@ $^
MCU_BOARD_SRC := platforms/mcu/sn_mcu_serve.c platforms/mcu/sn_mcu_kernels.c platforms/mcu/sn_mcu_kernels_split.c \
                 platforms/mcu/qemu/startup.c \
                 platforms/mcu/qemu/sn_port_qemu.c
MCU_BOARD_ELFS := $(foreach b,$(MCU_BOARDS),$(MCU_DIR)/supernav-mcu-$(b).elf)

.PHONY: mcu-boards
mcu-boards: $(MCU_BOARD_ELFS) $(MCU_JOB_TOOL)

define MCU_BOARD_RULES
$(MCU_DIR)/$(1)/obj/%.o: platforms/mcu/%.c
	@mkdir -p $$(dir $$@)
	$(ARM_CC) -Iengine/include -Iplatforms/mcu -Iplatforms/mcu/qemu -MMD -MP $(call mcu_board_flags,$(1)) -g \
	  -DSN_MCU_BOARD_PROFILE '-DSN_MCU_BOARD_TEXT="$(MCU_BOARD_TEXT_$(1))"' -c $$< -o $$@
$(MCU_DIR)/supernav-mcu-$(1).elf: $(patsubst platforms/mcu/%.c,$(MCU_DIR)/$(1)/obj/%.o,$(MCU_BOARD_SRC)) \
  $(call mcu_board_lib,$(1)) platforms/mcu/qemu/board_$(1).ld platforms/mcu/qemu/sn_board.ld
	$(ARM_CC) $(call mcu_board_cpu,$(1)) --specs=rdimon.specs -nostartfiles -Lplatforms/mcu/qemu \
	  -T platforms/mcu/qemu/board_$(1).ld -Wl,--gc-sections -Wl,-Map=$(MCU_DIR)/supernav-mcu-$(1).map \
	  $(patsubst platforms/mcu/%.c,$(MCU_DIR)/$(1)/obj/%.o,$(MCU_BOARD_SRC)) \
	  $(call mcu_board_lib,$(1)) -lm -o $$@
	@arm-none-eabi-size $$@ | tail -n 1 | awk '{print "mcu-boards: $(1): text " $$$$1 " bytes, data " $$$$2 ", bss " $$$$3}'
endef
$(foreach b,$(MCU_BOARDS),$(eval $(call MCU_BOARD_RULES,$(b))))

-include $(wildcard $(MCU_DIR)/*/obj/*.d $(MCU_DIR)/*/obj/*/*.d)
-include $(shell find build/freestanding-m55 -name '*.d' 2>/dev/null)

# sn-mcu: strip (the int8-only flash image), check, table, kernels (sn_mcu_tool.c)
MCU_TOOL := $(MCU_DIR)/sn-mcu
$(MCU_TOOL): $(BUILD)/obj/platforms/mcu/host/sn_mcu_tool.o $(HOST_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@
mcu-boards: $(MCU_TOOL)

# make mcu-tables: per board profile, the Pareto SubNets' emulated instructions, modelled
# cycles and ms, peak SRAM, flash and fit (sn-mcu table), and the int8 kernels' emulated
# instructions per layer shape, the platform's beside the reference's (sn-mcu kernels), on the
# profiles whose kernels differ: h743 (the M4/M7 build: DSP) and m55 (Helium); written to
# $(BUILD)/mcu/*.md, kernels.md both kernel tables (about 6 minutes; *-<model>.md for a MODEL
# other than cf64)
MCU_KERNEL_BOARDS := h743 m55
MCU_TABLE_SUFFIX := $(if $(filter cf64,$(MODEL)),,-$(MODEL))
# a model other than CF-64 (CF-128S: issue 20's MCU benchmark) also tables its ARAC configs
# against their untiled peers (sn-mcu table --arac: 8 test canvases each)
MCU_TABLE_ARAC := $(if $(filter cf64,$(MODEL)),,--arac)
.PHONY: mcu-tables
mcu-tables: mcu-boards $(MODEL_IMAGE)
	@for b in $(MCU_BOARDS); do \
	  BUILD=$(BUILD) $(MCU_TOOL) table --board $$b $(MCU_TABLE_ARAC) -o $(MCU_DIR)/table-$$b$(MCU_TABLE_SUFFIX).md $(MODEL_IMAGE) >/dev/null || exit 1; \
	done
	@for b in $(MCU_KERNEL_BOARDS); do \
	  BUILD=$(BUILD) $(MCU_TOOL) kernels --board $$b -o $(MCU_DIR)/kernels-$$b$(MCU_TABLE_SUFFIX).md $(MODEL_IMAGE) >/dev/null || exit 1; \
	done
	@for b in $(MCU_KERNEL_BOARDS); do cat $(MCU_DIR)/kernels-$$b$(MCU_TABLE_SUFFIX).md; echo; done \
	  > $(MCU_DIR)/kernels$(MCU_TABLE_SUFFIX).md.tmp && mv $(MCU_DIR)/kernels$(MCU_TABLE_SUFFIX).md.tmp $(MCU_DIR)/kernels$(MCU_TABLE_SUFFIX).md
	@echo "mcu-tables: $(MCU_DIR)/table-*$(MCU_TABLE_SUFFIX).md, $(MCU_DIR)/kernels$(MCU_TABLE_SUFFIX).md"

# make mcu-cmsis-nn CMSIS_NN_DIR=<a CMSIS-NN checkout>: the peer of the kernel table. The
# serving firmware with CMSIS-NN's int8 wrappers in the kernel slots (sn_mcu_cmsis.c instead
# of sn_mcu_kernels.c; CMSIS-NN's sources at -Ofast, as its own builds), on the boards of
# MCU_KERNEL_BOARDS, `sn-mcu kernels --tflite` (positive multipliers: CMSIS-NN's range) ->
# $(BUILD)/mcu-cmsis/mcu/kernels-BOARD.md, and per shape the platform's table against it
# (platforms/mcu/cmsis-nn-compare.awk, needs make mcu-tables first) ->
# $(BUILD)/mcu/kernels-vs-cmsis-nn.md. Without CMSIS_NN_DIR: one line, nothing built.
MCU_CMSIS_DIR := $(BUILD)/mcu-cmsis
MCU_CMSIS_SRC = $(if $(CMSIS_NN_DIR),$(wildcard $(CMSIS_NN_DIR)/Source/ConvolutionFunctions/*.c \
                  $(CMSIS_NN_DIR)/Source/NNSupportFunctions/*.c $(CMSIS_NN_DIR)/Source/TransposeFunctions/*.c))
MCU_CMSIS_FW_SRC := platforms/mcu/sn_mcu_serve.c platforms/mcu/sn_mcu_cmsis.c platforms/mcu/sn_mcu_kernels_split.c \
                    platforms/mcu/qemu/startup.c \
                    platforms/mcu/qemu/sn_port_qemu.c
.PHONY: mcu-cmsis-nn
ifeq ($(CMSIS_NN_DIR),)
mcu-cmsis-nn:
	@echo "mcu-cmsis-nn: skipped: CMSIS_NN_DIR is not set (a checkout of github.com/ARM-software/CMSIS-NN, e.g. v7.0.0)"
else
define MCU_CMSIS_RULES
$(MCU_CMSIS_DIR)/$(1)/cmsis/%.o: $(CMSIS_NN_DIR)/%.c
	@mkdir -p $$(dir $$@)
	$(ARM_CC) -I$(CMSIS_NN_DIR)/Include -Ofast $(filter -mcpu=% -mthumb -mfloat-abi=% -mfpu=%,$(call mcu_board_flags,$(1))) \
	  -ffunction-sections -fdata-sections -c $$< -o $$@
$(MCU_CMSIS_DIR)/$(1)/fw/%.o: platforms/mcu/%.c
	@mkdir -p $$(dir $$@)
	$(ARM_CC) -Iengine/include -Iplatforms/mcu -Iplatforms/mcu/qemu -I$(CMSIS_NN_DIR)/Include $(call mcu_board_flags,$(1)) -g \
	  -DSN_MCU_BOARD_PROFILE '-DSN_MCU_BOARD_TEXT="$(MCU_BOARD_TEXT_$(1)), CMSIS-NN kernels"' -c $$< -o $$@
$(MCU_CMSIS_DIR)/mcu/supernav-mcu-$(1).elf: $(patsubst platforms/mcu/%.c,$(MCU_CMSIS_DIR)/$(1)/fw/%.o,$(MCU_CMSIS_FW_SRC)) \
  $(patsubst $(CMSIS_NN_DIR)/%.c,$(MCU_CMSIS_DIR)/$(1)/cmsis/%.o,$(MCU_CMSIS_SRC)) $(call mcu_board_lib,$(1))
	@mkdir -p $$(dir $$@)
	$(ARM_CC) $(call mcu_board_cpu,$(1)) --specs=rdimon.specs -nostartfiles -Lplatforms/mcu/qemu \
	  -T platforms/mcu/qemu/board_$(1).ld -Wl,--gc-sections $$^ -lm -o $$@
endef
$(foreach b,$(MCU_KERNEL_BOARDS),$(eval $(call MCU_CMSIS_RULES,$(b))))
mcu-cmsis-nn: $(foreach b,$(MCU_KERNEL_BOARDS),$(MCU_CMSIS_DIR)/mcu/supernav-mcu-$(b).elf) $(MCU_TOOL) $(MODEL_IMAGE)
	@for b in $(MCU_KERNEL_BOARDS); do \
	  BUILD=$(MCU_CMSIS_DIR) $(MCU_TOOL) kernels --board $$b --tflite -o $(MCU_CMSIS_DIR)/mcu/kernels-$$b.md $(MODEL_IMAGE) >/dev/null; \
	  rc=$$?; [ $$rc -le 1 ] || exit 1; \
	done
	@for b in $(MCU_KERNEL_BOARDS); do \
	  [ -f $(MCU_DIR)/kernels-$$b$(MCU_TABLE_SUFFIX).md ] || { echo "mcu-cmsis-nn: $(MCU_DIR)/kernels-$$b$(MCU_TABLE_SUFFIX).md is missing (make mcu-tables)"; exit 1; }; \
	  awk -v board=$$b -f platforms/mcu/cmsis-nn-compare.awk $(MCU_DIR)/kernels-$$b$(MCU_TABLE_SUFFIX).md $(MCU_CMSIS_DIR)/mcu/kernels-$$b.md; \
	done > $(MCU_DIR)/kernels-vs-cmsis-nn.md.tmp && mv $(MCU_DIR)/kernels-vs-cmsis-nn.md.tmp $(MCU_DIR)/kernels-vs-cmsis-nn.md
	@echo "mcu-cmsis-nn: $(MCU_DIR)/kernels-vs-cmsis-nn.md, $(MCU_CMSIS_DIR)/mcu/kernels-*.md"
endif
