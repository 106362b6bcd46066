# supernav's MCU platform: the Cortex-M4F program that runs the engine on QEMU's
# mps2-an386, and its host side (included by the top-level Makefile).
#
#   make mcu-qemu        builds $(BUILD)/mcu/supernav-mcu.elf and the host tool sn-mcu-job
#   make mcu-qemu-test   builds them and runs tests/test_engine_qemu.sh (TAP)
#
# The firmware links the engine as `make engine-freestanding` builds it
# (build/freestanding/libsupernav_engine.a), newlib with semihosting (rdimon) and our own
# startup (-nostartfiles). Its static arena is sized from the model image: sn-mcu-job
# sizes writes $(BUILD)/mcu/sn_mcu_sizes.h.

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

mcu-qemu-test: mcu-qemu $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) BUILD=$(BUILD) SN_MODEL=$(MODEL_IMAGE) sh tests/test_engine_qemu.sh

$(MCU_JOB_TOOL): $(BUILD)/obj/platforms/mcu/host/sn_mcu_job.o $(HOST_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS) -o $@

$(MCU_SIZES): $(MCU_JOB_TOOL) $(MODEL_IMAGE)
	$(MCU_JOB_TOOL) sizes $(MODEL_IMAGE) > $@.tmp && mv $@.tmp $@

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
