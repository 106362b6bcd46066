/* Fuzz target: the MCU serving firmware's command parser (platforms/mcu/sn_mcu_serve.c,
 * the frames -- one command per line -- that the host sends over the UART), compiled for
 * the host with a port of its own (sn_mcu_port.h) instead of QEMU's: the input is the
 * bytes arriving on the link; the firmware boots on the tiny SuperNet's int8-only image
 * and answers every line (name, info, cache, resident, slices, prepare, load, loadfile, infer,
 * kernel, quit) until the input ends. Entry: the firmware's main loop, as on the board.
 *
 * The host port: a 64 KiB arena region (as a small part's SRAM), a link that reads lines
 * from the input and discards the replies (SN_FUZZ_ECHO=1 prints them: the seeds of the
 * mcu_host target were made that way), loadfile from one 16 x 16 canvas in memory, and a
 * budget of 300 convolutions per input (about 20 inferences), counted in the reference
 * kernels and in the platform's own ("infer 4000000000 0" is a valid command that would run
 * for days on any device). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_engine.h"
#include "sn_fuzz.h"
#include "sn_kernels_ref.h"
#include "sn_mcu_kernels.h"
#include "sn_mcu_port.h"

#define ARENA_BYTES (64u << 10)
#define CONV_BUDGET 300

static const uint8_t *in_data;
static size_t in_size, in_pos;
static jmp_buf done;
static int echo;
static unsigned convs;
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(64)));
static uint8_t fake_stack[1024];
static uint8_t canvas_file[16 * 16];

/* ---- the port ------------------------------------------------------------------------ */
const char *sn_port_board(void) { return "fuzz host (no device)"; }
void sn_port_describe(void) {}
uint64_t sn_port_clock_now(void)
{
    static uint64_t t;
    return t += 100;
}
const char *sn_port_clock_unit(void) { return "fuzz ticks"; }

int sn_port_model_image(const char *path, const void **image, size_t *bytes, const char **why)
{
    static void *img;
    static size_t size;
    (void)path;
    (void)why;
    if (!img)
        img = sn_fuzz_read_fixture("fuzz/corpus/model/tiny-int8only.snm", &size);
    *image = img;
    *bytes = size;
    return 0;
}

void sn_port_memory_map(sn_port_memory *m)
{
    memset(m, 0, sizeof *m);
    m->flash_bytes = 1u << 20;
    m->code_bytes = 64u << 10;
    m->image_capacity = m->flash_bytes - m->code_bytes;
    m->sram_bytes = 128u << 10;
    m->static_bytes = 8u << 10;
    m->heap_bytes = 4u << 10;
    m->arena = arena;
    m->arena_bytes = ARENA_BYTES;
    memset(fake_stack, 0xA5, sizeof fake_stack);
    m->stack_limit = fake_stack;
    m->stack_bytes = sizeof fake_stack;
}

uint32_t sn_port_heap_used(void) { return 0; }

int sn_port_link_read_line(char *buf, size_t bytes)
{
    size_t len = 0;
    int too_long = 0;
    if (in_pos >= in_size)
        longjmp(done, 1); /* the host stopped sending */
    while (in_pos < in_size && in_data[in_pos] != '\n') {
        if (len + 1 < bytes)
            buf[len++] = (char)in_data[in_pos];
        else
            too_long = 1;
        ++in_pos;
    }
    ++in_pos;
    if (len && buf[len - 1] == '\r')
        --len;
    buf[len] = '\0';
    return too_long ? -1 : (int)len;
}

void sn_port_link_write(const char *s)
{
    if (echo)
        fputs(s, stdout);
}

/* ---- what the firmware calls that the host must bound -------------------------------- */
static sn_status budget_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                                  const int8_t *w, const int32_t *bias, int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_conv2d_ref_s8(p, q, in, w, bias, out);
}

static sn_status budget_depthwise_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                                            const int8_t *in, const int8_t *w, const int32_t *bias,
                                            int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_depthwise_conv2d_ref_s8(p, q, in, w, bias, out);
}

/* the platform's own kernels (sn_mcu_kernels.c), which the firmware's slots and its kernel
 * command call: the same budget (without it, "infer 1 9999999" ran for hours: found by the
 * campaign after the kernels were merged) */
static sn_status budget_mcu_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                                      const int8_t *w, const int32_t *bias, int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_mcu_conv2d_s8(p, q, in, w, bias, out);
}

static sn_status budget_mcu_depthwise_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                                                const int8_t *in, const int8_t *w, const int32_t *bias,
                                                int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_mcu_depthwise_conv2d_s8(p, q, in, w, bias, out);
}

static FILE *canvas_fopen(const char *path, const char *mode)
{
    (void)mode;
    if (strcmp(path, "canvas.bin") != 0)
        return NULL; /* semihosting finds no other file */
    return fmemopen(canvas_file, sizeof canvas_file, "rb");
}

/* a view split between the weight cache and flash (the slices command, kernel ... splitN) */
static sn_status budget_mcu_conv2d_s8_split(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                                            const int8_t *w, const sn_mcu_near_part *near, const int32_t *bias,
                                            int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_mcu_conv2d_s8_split(p, q, in, w, near, bias, out);
}

static sn_status budget_mcu_depthwise_conv2d_s8_split(const sn_conv2d_params *p, const sn_quant_params *q,
                                                      const int8_t *in, const int8_t *w,
                                                      const sn_mcu_near_part *near, const int32_t *bias,
                                                      int8_t *out)
{
    if (++convs > CONV_BUDGET)
        longjmp(done, 2);
    return sn_mcu_depthwise_conv2d_s8_split(p, q, in, w, near, bias, out);
}

/* ---- the firmware, as it is ----------------------------------------------------------- */
#define main sn_mcu_serve_main
#define fopen canvas_fopen
#define sn_conv2d_ref_s8 budget_conv2d_s8
#define sn_depthwise_conv2d_ref_s8 budget_depthwise_conv2d_s8
#define sn_mcu_conv2d_s8 budget_mcu_conv2d_s8
#define sn_mcu_depthwise_conv2d_s8 budget_mcu_depthwise_conv2d_s8
#define sn_mcu_conv2d_s8_split budget_mcu_conv2d_s8_split
#define sn_mcu_depthwise_conv2d_s8_split budget_mcu_depthwise_conv2d_s8_split
#include "../platforms/mcu/sn_mcu_serve.c"
#undef main
#undef fopen
#undef sn_conv2d_ref_s8
#undef sn_depthwise_conv2d_ref_s8
#undef sn_mcu_conv2d_s8
#undef sn_mcu_depthwise_conv2d_s8
#undef sn_mcu_conv2d_s8_split
#undef sn_mcu_depthwise_conv2d_s8_split

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t i;
    (void)argc;
    (void)argv;
    echo = getenv("SN_FUZZ_ECHO") != NULL;
    for (i = 0; i < sizeof canvas_file; ++i)
        canvas_file[i] = (uint8_t)(i * 13u);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char arg0[] = "supernav-mcu-fuzz", arg1[] = "tiny-int8only.snm";
    char *argv[] = {arg0, arg1, NULL};
    memset(&g, 0, sizeof g);
    memset(&plan, 0, sizeof plan);
    in_data = data;
    in_size = size;
    in_pos = 0;
    convs = 0;
    if (setjmp(done) == 0)
        (void)sn_mcu_serve_main(2, argv);
    if (echo)
        fflush(stdout);
    return 0;
}
