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

#ifdef SN_QEMU_AN547
/* mps3-an547 (Cortex-M55; board profile m55): the SSE-300 has no CMSDK dual timer; the
 * clock is the FPGA I/O block's free-running up-counter (FPGAIO COUNTER, 0x49302018).
 * QEMU 7.2's mps2-fpgaio advances it at its prescale clock, 20 MHz on this machine (not the
 * image's 32 MHz SYSCLK): 50 ns of virtual time per tick, checked by the clock_check loop
 * (tests/test_mcu_boards.sh: 1,000,000 instructions read 1,000,000 ns). */
#define FPGAIO_COUNTER (*(volatile uint32_t *)0x49302018u)
#define CLOCK_READ() FPGAIO_COUNTER                     /* counts up */
#define TICKS_TO_NS(t) ((t) * 50u)                      /* 20 MHz */
#define CLOCK_TEXT "ns of QEMU virtual time (FPGAIO counter at 20 MHz; = instructions executed under -icount shift=0)"
#else
#define TIMER1_LOAD (*(volatile uint32_t *)0x40002000u)
#define TIMER1_VALUE (*(volatile uint32_t *)0x40002004u)
#define TIMER1_CONTROL (*(volatile uint32_t *)0x40002008u)
#define TIMER_ENABLE 0x80u
#define TIMER_32BIT 0x02u           /* free-running (bit 6 clear), no prescale, no interrupt */
#define CLOCK_READ() (0u - TIMER1_VALUE)                /* counts down: negate to count up */
#define TICKS_TO_NS(t) ((t) * 40u)                      /* 25 MHz */
#define CLOCK_TEXT "ns of QEMU virtual time (dual timer at 25 MHz; = instructions executed under -icount shift=0)"
#endif
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
#ifndef SN_QEMU_AN547
    TIMER1_CONTROL = 0;
    TIMER1_LOAD = 0xFFFFFFFFu;
    TIMER1_CONTROL = TIMER_ENABLE | TIMER_32BIT;
#endif
    clock_last = CLOCK_READ();
    clock_elapsed_ticks = 0;
}

/* A board profile's build names itself (mcu.mk: -DSN_MCU_BOARD_TEXT=...). */
#ifndef SN_MCU_BOARD_TEXT
#define SN_MCU_BOARD_TEXT "qemu mps2-an386 (Cortex-M4F, 25 MHz SYSCLK)"
#endif

const char *sn_port_board(void)
{
    return SN_MCU_BOARD_TEXT;
}

void sn_port_describe(void)
{
    /* A counted loop of 2 x LOOPS instructions (subs, bne): under -icount shift=0 the clock
     * reads that many ns (plus the two clock reads, to the timer's 40 or 50 ns resolution).
     * It starts on a tick edge (t0 is the first read after the counter moves), so where the
     * loop falls between ticks does not depend on how QEMU's virtual clock started. */
    enum { LOOPS = 500000 };
    uint32_t n = LOOPS;
    uint64_t edge = sn_port_clock_now(), t0, t1;
    while ((t0 = sn_port_clock_now()) == edge)
        ;
    __asm volatile("1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    t1 = sn_port_clock_now();
    printf("board %s\nclock %s\nclock_check loop_instructions=%lu clock=%llu\n",
           sn_port_board(), sn_port_clock_unit(), (unsigned long)(2u * LOOPS),
           (unsigned long long)(t1 - t0));
}

uint64_t sn_port_clock_now(void)
{
    uint32_t v = CLOCK_READ(); /* counts up, wraps modulo 2^32 */
    clock_elapsed_ticks += (uint32_t)(v - clock_last);
    clock_last = v;
    return TICKS_TO_NS(clock_elapsed_ticks);
}

const char *sn_port_clock_unit(void)
{
    return CLOCK_TEXT;
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
#ifdef SN_MCU_BOARD_PROFILE
        *why = "the model image does not fit the flash the program leaves free";
#else
        *why = "the model image does not fit the 16 MB PSRAM";
#endif
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

#ifdef SN_MCU_BOARD_PROFILE
/* The board profiles' memory (sn_board.ld) and the host link: UART0, a CMSDK APB UART
 * (QEMU's -serial), polled: at 0x40004000 on the MPS2 boards, 0x49303000 on the mps3-an547
 * (its non-secure alias; the firmware runs Secure with the SAU off, so every address is
 * Secure and both aliases reach it; `info mtree`: tz-ppc-port[3] of apb_ppcexp2). */
extern uint8_t __flash_start[], __code_end[], __data_start[], __bss_end__[], end[], __heap_limit[];
extern uint8_t __arena_start[], __arena_end[], __stack_limit[], __stack_top[];

#ifdef SN_QEMU_AN547
#define UART0_BASE 0x49303000u
#else
#define UART0_BASE 0x40004000u
#endif
#define UART0_DATA (*(volatile uint32_t *)(UART0_BASE + 0x0u))
#define UART0_STATE (*(volatile uint32_t *)(UART0_BASE + 0x4u))
#define UART0_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x8u))
#define UART0_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_TX_FULL 0x1u
#define UART_RX_FULL 0x2u

void sn_port_memory_map(sn_port_memory *m)
{
    m->flash_bytes = (uint32_t)(__image_end - __flash_start);
    m->code_bytes = (uint32_t)(__code_end - __flash_start);
    m->image_capacity = (uint32_t)(__image_end - __image_start);
    m->sram_bytes = (uint32_t)(__stack_top - __data_start);
    m->static_bytes = (uint32_t)(__bss_end__ - __data_start);
    m->heap_bytes = (uint32_t)(__heap_limit - end);
    m->arena = __arena_start;
    m->arena_bytes = (uint32_t)(__arena_end - __arena_start);
    m->stack_limit = __stack_limit;
    m->stack_bytes = (uint32_t)(__stack_top - __stack_limit);
}

void *_sbrk(int incr);
uint32_t sn_port_heap_used(void)
{
    return (uint32_t)((uint8_t *)_sbrk(0) - end);
}

static void uart_start(void)
{
    static int started;
    if (started)
        return;
    UART0_BAUDDIV = 16;
    UART0_CTRL = 0x3u; /* TX and RX enabled, no interrupts */
    started = 1;
}

int sn_port_link_read_line(char *buf, size_t bytes)
{
    size_t n = 0;
    int overflow = 0;
    uart_start();
    for (;;) {
        char c;
        while (!(UART0_STATE & UART_RX_FULL))
            ;
        c = (char)UART0_DATA;
        if (c == '\r')
            continue;
        if (c == '\n')
            break;
        if (n + 1 < bytes)
            buf[n++] = c;
        else
            overflow = 1;
    }
    buf[n] = 0;
    return overflow ? -1 : (int)n;
}

void sn_port_link_write(const char *s)
{
    uart_start();
    for (; *s; ++s) {
        while (UART0_STATE & UART_TX_FULL)
            ;
        UART0_DATA = (uint8_t)*s;
    }
}
#endif
