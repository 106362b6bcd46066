/* supernav on QEMU's mps2-an386: the board's own helpers (semihosting, clock), used by
 * startup.c and sn_port_qemu.c. Everything portable goes through sn_mcu_port.h instead. */
#ifndef SN_QEMU_H
#define SN_QEMU_H

#include <stdint.h>

#define SN_QEMU_MAX_ARGS 8

/* Arm semihosting operations (Semihosting for AArch32 and AArch64, version 2). */
enum sn_semihost_op {
    SN_SEMIHOST_WRITE0 = 0x04,        /* NUL-terminated string to the debug console */
    SN_SEMIHOST_GET_CMDLINE = 0x15,   /* block {char *buffer, int bytes} */
    SN_SEMIHOST_EXIT_EXTENDED = 0x20  /* block {reason, status} */
};

/* One semihosting call (bkpt 0xab on M-profile); returns the host's r0. */
int sn_qemu_semihost(int op, void *arg);

/* Ends the emulation with STATUS as QEMU's exit status (SYS_EXIT_EXTENDED). */
__attribute__((noreturn)) void sn_qemu_exit(int status);

/* Splits the semihosting command line (QEMU's -semihosting-config arg=...; spaces separate
 * arguments) into ARGV (at most MAX, then a NULL); returns argc. */
int sn_qemu_command_line(char **argv, int max);

/* Starts the free-running 32-bit dual timer at SYSCLK (25 MHz); sn_port_clock_now reads it. */
void sn_qemu_clock_start(void);

#endif
