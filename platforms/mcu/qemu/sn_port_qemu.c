/* supernav on QEMU's mps2-an386: the MCU port (sn_mcu_port.h) and the board's helpers.
 *
 * Clock: the CMSDK APB dual timer (timer 1 at 0x40002000) runs free at SYSCLK, 25 MHz of
 * QEMU virtual time, extended to 64 bits in software (read it at least once every 171 s
 * of virtual time). Under -icount shift=0 QEMU's virtual clock advances exactly 1 ns per
 * executed instruction, so a difference of sn_port_clock_now() values counts the
 * instructions executed, to the timer's 40-instruction resolution; it is not a cycle
 * count (QEMU models no pipeline, no memory wait states, and does not emulate DWT).
 *
 * Model image: read at run time through semihosting (fopen/fread of a host file) into
 * the 16 MB PSRAM at 0x21000000, which the linker script reserves as .image (NOLOAD). */
#include <stdio.h>
#include <string.h>

#include "sn_mcu_port.h"
#include "sn_qemu.h"

#define TIMER1_LOAD (*(volatile uint32_t *)0x40002000u)
#define TIMER1_VALUE (*(volatile uint32_t *)0x40002004u)
#define TIMER1_CONTROL (*(volatile uint32_t *)0x40002008u)
#define TIMER_ENABLE 0x80u
#define TIMER_32BIT 0x02u           /* free-running (bit 6 clear), no prescale, no interrupt */
#define NS_PER_TICK 40u             /* 25 MHz */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

extern uint8_t __image_start[], __image_end[];

int sn_qemu_semihost(int op, void *arg)
{
    register int r0 __asm("r0") = op;
    register void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sn_qemu_exit(int status)
{
    uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)status;
    sn_qemu_semihost(SN_SEMIHOST_EXIT_EXTENDED, block);
    for (;;)
        ;
}

int sn_qemu_command_line(char **argv, int max)
{
    static char text[1024];
    struct {
        char *buffer;
        int bytes;
    } block;
    int argc = 0;
    char *p = text;
    block.buffer = text;
    block.bytes = (int)sizeof text - 1;
    if (sn_qemu_semihost(SN_SEMIHOST_GET_CMDLINE, &block) != 0)
        block.bytes = 0;
    text[block.bytes >= 0 && block.bytes < (int)sizeof text ? block.bytes : 0] = 0;
    while (*p && argc < max) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        argv[argc++] = p;
        while (*p && *p != ' ')
            ++p;
    }
    argv[argc] = NULL;
    return argc;
}

static uint32_t clock_last;
static uint64_t clock_elapsed_ticks;

void sn_qemu_clock_start(void)
{
    TIMER1_CONTROL = 0;
    TIMER1_LOAD = 0xFFFFFFFFu;
    TIMER1_CONTROL = TIMER_ENABLE | TIMER_32BIT;
    clock_last = TIMER1_VALUE;
    clock_elapsed_ticks = 0;
}

const char *sn_port_board(void)
{
    return "qemu mps2-an386 (Cortex-M4F, 25 MHz SYSCLK)";
}

void sn_port_describe(void)
{
    /* A counted loop of 2 x LOOPS instructions (subs, bne): under -icount shift=0 the clock
     * reads that many ns (plus the two clock reads, to the timer's 40 ns resolution). */
    enum { LOOPS = 500000 };
    uint32_t n = LOOPS;
    uint64_t t0 = sn_port_clock_now(), t1;
    __asm volatile("1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    t1 = sn_port_clock_now();
    printf("board %s\nclock %s\nclock_check loop_instructions=%lu clock=%llu\n",
           sn_port_board(), sn_port_clock_unit(), (unsigned long)(2u * LOOPS),
           (unsigned long long)(t1 - t0));
}

uint64_t sn_port_clock_now(void)
{
    uint32_t v = TIMER1_VALUE; /* counts down, wraps modulo 2^32 */
    clock_elapsed_ticks += (uint32_t)(clock_last - v);
    clock_last = v;
    return clock_elapsed_ticks * NS_PER_TICK;
}

const char *sn_port_clock_unit(void)
{
    return "ns of QEMU virtual time (dual timer at 25 MHz; = instructions executed under -icount shift=0)";
}

int sn_port_model_image(const char *path, const void **image, size_t *bytes, const char **why)
{
    size_t capacity = (size_t)(__image_end - __image_start), got;
    FILE *f;
    *image = NULL;
    *bytes = 0;
    if (!path) {
        *why = "no model path on the command line";
        return -1;
    }
    f = fopen(path, "rb");
    if (!f) {
        *why = "cannot open the model image through semihosting";
        return -1;
    }
    setvbuf(f, NULL, _IONBF, 0); /* one SYS_READ straight into PSRAM */
    got = fread(__image_start, 1, capacity, f);
    if (got == capacity && fgetc(f) != EOF) {
        fclose(f);
        *why = "the model image does not fit the 16 MB PSRAM";
        return -1;
    }
    if (ferror(f) || got == 0) {
        fclose(f);
        *why = "cannot read the model image through semihosting";
        return -1;
    }
    fclose(f);
    *image = __image_start;
    *bytes = got;
    return 0;
}
