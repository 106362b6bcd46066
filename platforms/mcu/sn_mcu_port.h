/* supernav's MCU port: what a board supplies to run the portable MCU programs
 * (in the manner of CoreMark's core_portme and MLPerf Tiny's th_* API).
 *
 * The board also supplies startup (reset, .data/.bss, FPU), a C library with stdio (printf
 * for results, fopen/fgets for the job file: semihosting on QEMU, a UART on a real board)
 * and main(argc, argv)'s arguments. Everything else is shared. */
#ifndef SN_MCU_PORT_H
#define SN_MCU_PORT_H

#include <stddef.h>
#include <stdint.h>

/* The board, in words, e.g. "qemu mps2-an386 (Cortex-M4F, 25 MHz)". */
const char *sn_port_board(void);

/* Prints the board and its clock (`board ...`, `clock ...` lines, and whatever self-check
 * of the clock the board can make) on stdout. */
void sn_port_describe(void);

/* A monotonic clock in the unit sn_port_clock_unit() names (e.g. "ns of QEMU virtual time"). */
uint64_t sn_port_clock_now(void);
const char *sn_port_clock_unit(void);

/* Makes the deployment image at PATH addressable: *IMAGE (SN_IMAGE_MEMORY_ALIGN-aligned,
 * valid until reset) and *BYTES. A board with the image linked into flash ignores PATH.
 * Returns 0, or -1 with a reason in *WHY. */
int sn_port_model_image(const char *path, const void **image, size_t *bytes, const char **why);

#endif
