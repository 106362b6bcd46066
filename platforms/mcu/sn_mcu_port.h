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

/* The serving firmware (sn_mcu_serve.c) also needs the board's memory and a link to the
 * host (a UART). */

/* The board's memory as its linker script lays it out (bytes and addresses). */
typedef struct sn_port_memory {
    uint32_t flash_bytes;       /* the part's flash */
    uint32_t code_bytes;        /* vectors, text, rodata, .data's initial values */
    uint32_t image_capacity;    /* flash left for the deployment image */
    uint32_t sram_bytes;        /* the part's SRAM */
    uint32_t static_bytes;      /* .data + .bss */
    uint32_t heap_bytes;        /* reserved for the C library's heap */
    uint8_t *arena;             /* the region for the plan's arena and the weight cache */
    uint32_t arena_bytes;
    uint8_t *stack_limit;       /* lowest address of the stack */
    uint32_t stack_bytes;
} sn_port_memory;

void sn_port_memory_map(sn_port_memory *memory);

/* Bytes of the C library's heap in use (its break minus its start); more than heap_bytes
 * means the heap ran into the arena region. */
uint32_t sn_port_heap_used(void);

/* One line from the host (without its line end, NUL-terminated) into BUF; blocks until a
 * line arrives. Returns its length, or -1 when it does not fit BYTES (the rest of the line
 * is discarded). */
int sn_port_link_read_line(char *buf, size_t bytes);

/* Sends S to the host as it is (the caller adds the line ends). */
void sn_port_link_write(const char *s);

#endif
