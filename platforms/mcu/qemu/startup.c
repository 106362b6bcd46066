/* supernav on QEMU's mps2-an386 (Cortex-M4F): vector table, reset handler, fault handlers.
 *
 * Reset: enable the FPU (CPACR) before any floating-point code, copy .data from its load
 * image, zero .bss, open newlib's semihosting handles, run the C library's constructors,
 * fetch the command line (semihosting SYS_GET_CMDLINE) and call main; main's return value
 * leaves through exit(), which newlib's rdimon turns into a semihosting exit: QEMU's exit
 * status. A fault prints its name and the faulting PC through semihosting and exits 3. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sn_qemu.h"

extern uint32_t __data_start, __data_end, __data_load, __bss_start__, __bss_end__;
extern uint32_t __stack_top;

int main(int argc, char **argv);
void initialise_monitor_handles(void);
void __libc_init_array(void);
void sn_qemu_reset(void);
void _init(void);
void _fini(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)

/* newlib's __libc_init_array calls _init and exit calls _fini; with -nostartfiles there is
 * no crti/crtn to provide them, and nothing for them to do. */
void _init(void) {}
void _fini(void) {}

typedef void (*vector)(void);
static const vector vectors[16 + 32];

static __attribute__((noreturn, noinline)) void start_c(void)
{
    static char *argv[SN_QEMU_MAX_ARGS + 1];
    int argc;
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    initialise_monitor_handles();
    __libc_init_array();
    sn_qemu_clock_start();
    argc = sn_qemu_command_line(argv, SN_QEMU_MAX_ARGS);
    exit(main(argc, argv));
}

/* Runs on the reset stack with nothing initialised: no floating point, no .data, no .bss
 * until start_c (a separate function, so no FPU instruction can be scheduled before the
 * CPACR write). */
void sn_qemu_reset(void)
{
#ifdef SN_QEMU_AN547
    /* mps3-an547 (Cortex-M55, ARMv8.1-M): the core resets in Secure state and fetches its
     * first SP and PC from the boot table in ITCM (sn_boot_vectors); the full table lives
     * in the profile's flash. Nothing here leaves Secure state (the SAU stays off, so all
     * memory is Secure), so CPACR_S alone enables the FPU and MVE (CP10, CP11); NSACR
     * would only matter to Non-secure code. */
    SCB_VTOR = (uint32_t)(uintptr_t)vectors;
#endif
    SCB_CPACR |= 0xFu << 20; /* CP10 and CP11: full access (FPU; on the M55 also MVE) */
    __asm volatile("dsb\n\tisb" ::: "memory");
    start_c();
}

static const char *const fault_names[] = {
    "hard fault", "memory management fault", "bus fault", "usage fault", "unexpected exception",
};

/* Prints "<fault>: pc 0x........ cfsr 0x........" and exits 3. FRAME is the exception
 * stack frame (r0 r1 r2 r3 r12 lr pc xpsr). */
void sn_qemu_fault(uint32_t kind, const uint32_t *frame);
void sn_qemu_fault(uint32_t kind, const uint32_t *frame)
{
    static const char hex[] = "0123456789abcdef";
    char msg[96];
    const char *name = fault_names[kind < 5 ? kind : 4];
    uint32_t words[2];
    size_t n = strlen(name), i;
    memcpy(msg, name, n);
    words[0] = frame[6];
    words[1] = SCB_CFSR;
    for (i = 0; i < 2; ++i) {
        const char *label = i ? " cfsr 0x" : ": pc 0x";
        int bit;
        memcpy(msg + n, label, strlen(label));
        n += strlen(label);
        for (bit = 28; bit >= 0; bit -= 4)
            msg[n++] = hex[(words[i] >> bit) & 0xF];
    }
    msg[n++] = '\n';
    msg[n] = 0;
    sn_qemu_semihost(SN_SEMIHOST_WRITE0, msg);
    sn_qemu_exit(3);
}

/* Each handler passes its kind and the stack that holds the frame (bit 2 of EXC_RETURN). */
#define FAULT_HANDLER(fn, kind)                                                          \
    static __attribute__((naked)) void fn(void)                                          \
    {                                                                                    \
        __asm volatile("movs r0, #" #kind "\n\t"                                         \
                       "tst lr, #4\n\t"                                                  \
                       "ite eq\n\t"                                                      \
                       "mrseq r1, msp\n\t"                                               \
                       "mrsne r1, psp\n\t"                                               \
                       "b sn_qemu_fault\n\t");                                           \
    }

FAULT_HANDLER(on_hard_fault, 0)
FAULT_HANDLER(on_mem_fault, 1)
FAULT_HANDLER(on_bus_fault, 2)
FAULT_HANDLER(on_usage_fault, 3)
FAULT_HANDLER(on_unexpected, 4)

#define U4 on_unexpected, on_unexpected, on_unexpected, on_unexpected

/* ARMv7-M: initial stack pointer, 15 system exceptions, then the AN386's 32 interrupts. */
#ifdef SN_QEMU_AN547
/* Read at reset from the AN547's initial secure VTOR (ITCM; board_m55.ld places it there). */
__attribute__((section(".boot_vectors"), used)) static const vector sn_boot_vectors[2] = {
    (vector)(uintptr_t)&__stack_top,
    sn_qemu_reset,
};
#define V8M_SECURE_FAULT on_unexpected
#else
#define V8M_SECURE_FAULT 0
#endif

/* ARMv7-M: initial stack pointer, 15 system exceptions, then the AN386's 32 interrupts (on
 * the AN547, exception 7 is the v8-M SecureFault; none of its interrupts is enabled). */
__attribute__((section(".vectors"), used, aligned(256))) static const vector vectors[16 + 32] = {
    (vector)(uintptr_t)&__stack_top,
    sn_qemu_reset,
    on_unexpected,      /* NMI */
    on_hard_fault,
    on_mem_fault,
    on_bus_fault,
    on_usage_fault,
    V8M_SECURE_FAULT,   /* reserved; SecureFault on ARMv8-M */
    0, 0, 0,            /* reserved */
    on_unexpected,      /* SVCall */
    on_unexpected,      /* debug monitor */
    0,                  /* reserved */
    on_unexpected,      /* PendSV */
    on_unexpected,      /* SysTick (unused: the clock is the dual timer) */
    U4, U4, U4, U4, U4, U4, U4, U4, /* IRQ 0..31 */
};
