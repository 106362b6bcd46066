/* supernav on a microcontroller, serving: the firmware stays up and answers the host's
 * commands over a serial link (sn_mcu_port.h), in the manner of MLPerf Tiny's EnergyRunner.
 *
 *   supernav-mcu-BOARD MODEL      (MODEL: the deployment image, read into flash at boot)
 *
 * Every reply is zero or more lines `m-KEY field=value ...` or `e-error TEXT`, then `m-ready`.
 * At boot the firmware sends `m-boot ...` (or an error) and `m-ready`. Commands (one line):
 *   name                    m-name: the board and the build
 *   info                    m-info: flash and SRAM as the linker script lays them out
 *   cache BYTES             reserves BYTES at the top of the arena region for the weight
 *                           cache (drops the plan and every resident range)
 *   resident clear          empties the weight cache (the SubGraph leaves near memory)
 *   resident OFFSET BYTES   copies the image's bytes [OFFSET, OFFSET + BYTES) from flash into
 *                           the cache (near memory); kernels whose int8 weight view lies
 *                           inside a resident range read it from SRAM
 *   prepare CONFIG          plans CONFIG in int8 in the arena (what the cache leaves of the
 *                           region); a plan that does not fit is refused with its numbers.
 *                           m-prepare: clock (the whole command's instructions), vectors=image
 *                           when the int8 vectors were copied from the image's q8.req.{id}
 *                           (flash_bytes of them), vectors=computed when planned from the
 *                           batch-norm statistics
 *   load HEX                the input canvas, side x side pixels as hex (canvases up to
 *                           HEX_SIDE: one command line; larger ones come by loadfile)
 *   loadfile PATH OFFSET    the input canvas from a host file at byte OFFSET (semihosting:
 *                           QEMU only; a UART moves about 10-20 KB/s under QEMU, so the
 *                           QEMU link loads samples this way, a real board with load)
 *   infer N W               W warm-up then N timed inferences of the plan on the canvas:
 *                           m-results (logits as IEEE-754 bits), m-timing (instructions per
 *                           inference, near/far weight bytes, stack high-water mark)
 *   kernel dense|dw H W C OC K S [KF CF OCF] [hard] [tflite]
 *                           one int8 convolution of that shape on synthetic data in SRAM, run
 *                           by the platform's kernel (sn_mcu_kernels.h) and by the reference:
 *                           m-kernel path, instructions of each, MACs, whether the outputs are
 *                           equal bit for bit. KF CF OCF: the weights are the centred K x K
 *                           crop and the leading C (and OC) channels of a stored KF x KF x CF
 *                           (x OCF) tensor, as a SubNet's view (default: packed). hard:
 *                           quantization at its edges (the widest offsets, a clamp narrower
 *                           than int8, shifts of every kind: left, none, right past 22);
 *                           tflite: no negative multiplier (TFLite's and CMSIS-NN's range)
 * Clock: sn_port_clock_now(); on QEMU under -icount shift=0 it counts instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_mcu_text.h"
#include "sn_engine.h"
#include "sn_mcu_kernels.h"
#include "sn_mcu_port.h"

#define MAX_SIDE 128            /* the largest canvas (CF-128S's) */
#define HEX_SIDE 64             /* the largest canvas `load HEX` carries in one line */
#define MAX_CLASSES 16
#define MAX_RESIDENT 256
#define LINE_BYTES (2 * HEX_SIDE * HEX_SIDE + 64)
#define STACK_PAINT 0xA5u

typedef struct resident_range {
    uint32_t offset, bytes;     /* in the image */
    uint8_t *copy;              /* in the cache */
} resident_range;

typedef struct serve_state {
    sn_model model;
    sn_port_memory mem;
    const uint8_t *image;
    uint32_t image_bytes;
    uint32_t cache_bytes, cache_used;
    resident_range resident[MAX_RESIDENT];
    uint32_t resident_count;
    int have_plan, have_canvas;
    uint8_t canvas[MAX_SIDE * MAX_SIDE];
    /* per inference, counted by the kernel slots: weight bytes of each view (near: from
     * the cache, far: from flash) and weight bytes the kernels read
     * (sn_mcu_conv2d_weight_reads) */
    uint64_t near_bytes, far_bytes, near_read_bytes, far_read_bytes;
} serve_state;

static serve_state g;
static sn_plan plan;
static char line[LINE_BYTES];
static char out[256];

static void reply(const char *s)
{
    sn_port_link_write(s);
    sn_port_link_write("\n");
}

static void fail(const char *what)
{
    static char buf[sizeof out + 16];
    snprintf(buf, sizeof buf, "e-error %s", what);
    reply(buf);
}

/* Bytes from a view's first weight to its last (the extent the kernel reads). */
static uint32_t view_extent(const sn_conv2d_params *p, int dw)
{
    if (dw)
        return (uint32_t)((p->kernel_h - 1) * p->w_stride_kh + (p->kernel_w - 1) * p->w_stride_kw +
                          p->out_c);
    return (uint32_t)((p->out_c - 1) * p->w_stride_out + (p->kernel_h - 1) * p->w_stride_kh +
                      (p->kernel_w - 1) * p->w_stride_kw + p->in_c);
}

/* The weights the kernel should read: the cache's copy when a resident range holds the
 * whole view, else the flash address; counts the bytes. */
static const int8_t *place(const sn_conv2d_params *p, int dw, const int8_t *w)
{
    uint32_t i, extent = view_extent(p, dw);
    uint64_t view = dw ? (uint64_t)p->kernel_h * p->kernel_w * p->out_c
                       : (uint64_t)p->out_c * p->kernel_h * p->kernel_w * p->in_c;
    uint64_t reads = (uint64_t)sn_mcu_conv2d_weight_reads(p, dw);
    const uint8_t *a = (const uint8_t *)w;
    if (a >= g.image && a < g.image + g.image_bytes) {
        uint32_t off = (uint32_t)(a - g.image);
        for (i = 0; i < g.resident_count; ++i) {
            const resident_range *r = &g.resident[i];
            if (off >= r->offset && off - r->offset + (uint64_t)extent <= r->bytes) {
                g.near_bytes += view;
                g.near_read_bytes += reads;
                return (const int8_t *)(r->copy + (off - r->offset));
            }
        }
    }
    g.far_bytes += view;
    g.far_read_bytes += reads;
    return w;
}

static sn_status conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                         const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *o)
{
    (void)ctx;
    return sn_mcu_conv2d_s8(p, q, in, place(p, 0, w), bias, o);
}

static sn_status dwconv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                           const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *o)
{
    (void)ctx;
    return sn_mcu_depthwise_conv2d_s8(p, q, in, place(p, 1, w), bias, o);
}

static const sn_platform_ops mcu_ops = {
    /* .conv2d_f32 = */ NULL,
    /* .depthwise_conv2d_f32 = */ NULL,
    /* .conv2d_s8 = */ conv_s8,
    /* .depthwise_conv2d_s8 = */ dwconv_s8,
    /* .arac_micro_flows = */ NULL,
    /* .add_f32 = */ NULL,
    /* .resize_canvas_f32 = */ NULL,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};
static const sn_platform mcu_platform = {"mcu", &mcu_ops, NULL};

static uint32_t arena_capacity(void)
{
    return g.mem.arena_bytes - g.cache_bytes;
}

/* Stack painting: fill the stack below the current frame with a pattern; the high-water
 * mark is the lowest byte that no longer holds it. */
static void __attribute__((noinline)) stack_paint(void)
{
#if defined(__arm__)
    uint32_t sp;
    uint8_t *p = g.mem.stack_limit, *top;
    __asm volatile("mov %0, sp" : "=r"(sp));
    top = (uint8_t *)(uintptr_t)(sp - 64u);
    while (p < top)
        *p++ = STACK_PAINT;
#endif
    /* a host build (the fuzz target, fuzz/) paints nothing: its port's stack is not ours */
}

static uint32_t stack_peak(void)
{
    const uint8_t *p = g.mem.stack_limit, *top = g.mem.stack_limit + g.mem.stack_bytes;
    while (p < top && *p == STACK_PAINT)
        ++p;
    return (uint32_t)(top - p);
}

static int number(char **p, uint32_t *v)
{
    char *t = sn_mcu_token(p), *end;
    if (!t)
        return -1;
    *v = (uint32_t)strtoul(t, &end, 10);
    return *end ? -1 : 0;
}

static void cmd_info(void)
{
    snprintf(out, sizeof out,
             "m-info flash_bytes=%lu code_bytes=%lu image_bytes=%lu image_capacity=%lu "
             "sram_bytes=%lu static_bytes=%lu heap_bytes=%lu heap_used=%lu",
             (unsigned long)g.mem.flash_bytes, (unsigned long)g.mem.code_bytes,
             (unsigned long)g.image_bytes, (unsigned long)g.mem.image_capacity,
             (unsigned long)g.mem.sram_bytes, (unsigned long)g.mem.static_bytes,
             (unsigned long)g.mem.heap_bytes, (unsigned long)sn_port_heap_used());
    reply(out);
    snprintf(out, sizeof out, "m-info arena_region_bytes=%lu stack_bytes=%lu cache_bytes=%lu "
             "cache_used=%lu arena_capacity=%lu", (unsigned long)g.mem.arena_bytes,
             (unsigned long)g.mem.stack_bytes, (unsigned long)g.cache_bytes,
             (unsigned long)g.cache_used, (unsigned long)arena_capacity());
    reply(out);
}

static void cmd_cache(char *rest)
{
    uint32_t bytes;
    if (number(&rest, &bytes) != 0 || bytes % 64 != 0 || bytes > g.mem.arena_bytes) {
        fail("cache: BYTES must be a multiple of 64 within the arena region");
        return;
    }
    g.cache_bytes = bytes;
    g.cache_used = 0;
    g.resident_count = 0;
    g.have_plan = 0;
    snprintf(out, sizeof out, "m-cache cache_bytes=%lu arena_capacity=%lu", (unsigned long)bytes,
             (unsigned long)arena_capacity());
    reply(out);
}

static void cmd_resident(char *rest)
{
    uint32_t offset, bytes, aligned;
    uint64_t t0, t1;
    resident_range *r;
    char *word = sn_mcu_token(&rest);
    if (word && !strcmp(word, "clear")) {
        g.resident_count = 0;
        g.cache_used = 0;
        reply("m-resident cleared");
        return;
    }
    if (word) {
        char *end;
        offset = (uint32_t)strtoul(word, &end, 10);
        if (*end)
            word = NULL;
    }
    if (!word || number(&rest, &bytes) != 0 || offset > g.image_bytes ||
        bytes > g.image_bytes - offset) {
        fail("resident: OFFSET BYTES inside the image, or clear");
        return;
    }
    /* the plan's arena is below the cache: a range must not reach into a prepared arena */
    aligned = (bytes + 63u) & ~63u;
    if (g.resident_count == MAX_RESIDENT || aligned > g.cache_bytes - g.cache_used) {
        snprintf(out, sizeof out, "m-resident refused bytes=%lu cache_free=%lu",
                 (unsigned long)bytes, (unsigned long)(g.cache_bytes - g.cache_used));
        reply(out);
        return;
    }
    r = &g.resident[g.resident_count++];
    r->offset = offset;
    r->bytes = bytes;
    r->copy = g.mem.arena + g.mem.arena_bytes - g.cache_bytes + g.cache_used;
    t0 = sn_port_clock_now();
    memcpy(r->copy, g.image + offset, bytes);
    t1 = sn_port_clock_now();
    g.cache_used += aligned;
    snprintf(out, sizeof out, "m-resident bytes=%lu cache_used=%lu clock=%llu",
             (unsigned long)bytes, (unsigned long)g.cache_used, (unsigned long long)(t1 - t0));
    reply(out);
}

static void cmd_prepare(char *rest)
{
    char *text = sn_mcu_token(&rest);
    sn_config config;
    size_t need = 0;
    const char *why = "";
    uint64_t t0, t1;
    sn_status st;
    g.have_plan = 0;
    if (!text) {
        fail("prepare: CONFIG");
        return;
    }
    /* the clock covers the whole re-plan: the config's sizing as well as the plan */
    t0 = sn_port_clock_now();
    st = sn_config_parse(text, &config);
    if (st == SN_OK)
        st = sn_plan_arena_bytes_p(&g.model, &config, SN_INT8, &need);
    if (st != SN_OK) {
        snprintf(out, sizeof out, "prepare: %s", sn_status_str(st));
        fail(out);
        return;
    }
    if (need > arena_capacity()) {
        snprintf(out, sizeof out,
                 "e-error prepare: the SubNet needs %lu arena bytes; the board leaves %lu "
                 "(SRAM %lu: static %lu, heap %lu, stack %lu, weight cache %lu)",
                 (unsigned long)need, (unsigned long)arena_capacity(),
                 (unsigned long)g.mem.sram_bytes, (unsigned long)g.mem.static_bytes,
                 (unsigned long)g.mem.heap_bytes, (unsigned long)g.mem.stack_bytes,
                 (unsigned long)g.cache_bytes);
        reply(out);
        snprintf(out, sizeof out, "m-prepare fits=no arena_bytes=%lu arena_capacity=%lu",
                 (unsigned long)need, (unsigned long)arena_capacity());
        reply(out);
        return;
    }
    st = sn_plan_prepare_p(&plan, &g.model, &config, SN_INT8, g.mem.arena, need, &why);
    t1 = sn_port_clock_now();
    if (st != SN_OK) {
        snprintf(out, sizeof out, "e-error prepare: %s (%s)", sn_status_str(st), why ? why : "");
        reply(out);
        return;
    }
    g.have_plan = 1;
    snprintf(out, sizeof out, "m-prepare fits=yes arena_bytes=%lu arena_capacity=%lu clock=%llu "
             "macs=%lld vectors=%s flash_bytes=%lu", (unsigned long)need, (unsigned long)arena_capacity(),
             (unsigned long long)(t1 - t0), (long long)plan.macs,
             plan.q8_precomputed_words ? "image" : "computed",
             (unsigned long)plan.q8_precomputed_words * 4ul);
    reply(out);
}

static void cmd_load(char *rest)
{
    char *hex = sn_mcu_token(&rest);
    uint32_t i, n = g.model.arch.canvas * g.model.arch.canvas;
    g.have_canvas = 0;
    if (g.model.arch.canvas > HEX_SIDE) {
        fail("load: a canvas this large does not fit one command line as hex (use loadfile)");
        return;
    }
    if (!hex || strlen(hex) != 2 * n) {
        fail("load: HEX must hold side x side pixels");
        return;
    }
    for (i = 0; i < n; ++i) {
        int hi = sn_mcu_hex_digit(hex[2 * i]), lo = sn_mcu_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fail("load: not hex");
            return;
        }
        g.canvas[i] = (uint8_t)(hi * 16 + lo);
    }
    g.have_canvas = 1;
    reply("m-load ok");
}

static void cmd_loadfile(char *rest)
{
    char *path = sn_mcu_token(&rest);
    uint32_t offset, n = g.model.arch.canvas * g.model.arch.canvas;
    FILE *f;
    size_t got = 0;
    g.have_canvas = 0;
    if (!path || number(&rest, &offset) != 0) {
        fail("loadfile: PATH OFFSET");
        return;
    }
    if (g.model.arch.canvas > MAX_SIDE) {
        fail("loadfile: the model's canvas is larger than the firmware's canvas buffer");
        return;
    }
    f = fopen(path, "rb");
    if (!f) {
        fail("loadfile: cannot open the file (semihosting)");
        return;
    }
    setvbuf(f, NULL, _IONBF, 0);
    if (fseek(f, (long)offset, SEEK_SET) == 0)
        got = fread(g.canvas, 1, n, f);
    fclose(f);
    if (got != n) {
        fail("loadfile: the file ends before the canvas");
        return;
    }
    g.have_canvas = 1;
    reply("m-load ok");
}

static void cmd_infer(char *rest)
{
    uint32_t n, w, i, c;
    float logits[MAX_CLASSES];
    uint64_t clock = 0, t0, t1, min = 0, max = 0;
    uint32_t peak;
    sn_status st = SN_OK;
    size_t len;
    if (number(&rest, &n) != 0 || number(&rest, &w) != 0 || n == 0) {
        fail("infer: N W (N >= 1)");
        return;
    }
    if (!g.have_plan || !g.have_canvas) {
        fail("infer: prepare a SubNet and load a canvas first");
        return;
    }
    for (i = 0; i < w && st == SN_OK; ++i)
        st = sn_plan_invoke(&plan, &mcu_platform, g.canvas, logits, NULL, NULL);
    stack_paint();
    for (i = 0; i < n && st == SN_OK; ++i) {
        g.near_bytes = g.far_bytes = g.near_read_bytes = g.far_read_bytes = 0;
        t0 = sn_port_clock_now();
        st = sn_plan_invoke(&plan, &mcu_platform, g.canvas, logits, NULL, NULL);
        t1 = sn_port_clock_now();
        clock += t1 - t0;
        if (i == 0 || t1 - t0 < min)
            min = t1 - t0;
        if (t1 - t0 > max)
            max = t1 - t0;
    }
    peak = stack_peak(); /* before any formatting below */
    if (st != SN_OK) {
        snprintf(out, sizeof out, "e-error infer: %s", sn_status_str(st));
        reply(out);
        return;
    }
    len = (size_t)snprintf(out, sizeof out, "m-results logits=");
    for (c = 0; c < g.model.arch.num_classes && len + 10 < sizeof out; ++c) {
        uint32_t bits;
        memcpy(&bits, &logits[c], sizeof bits);
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%08lx", c ? "," : "",
                                (unsigned long)bits);
    }
    reply(out);
    snprintf(out, sizeof out, "m-timing n=%lu clock_total=%llu clock_min=%llu clock_max=%llu "
             "macs=%lld", (unsigned long)n, (unsigned long long)clock, (unsigned long long)min,
             (unsigned long long)max, (long long)(plan.is_arac ? plan.arac.last_macs : plan.macs));
    reply(out);
    snprintf(out, sizeof out, "m-memory near_bytes=%llu far_bytes=%llu near_read_bytes=%llu "
             "far_read_bytes=%llu stack_peak=%lu arena_bytes=%lu static_bytes=%lu heap_used=%lu",
             (unsigned long long)g.near_bytes, (unsigned long long)g.far_bytes,
             (unsigned long long)g.near_read_bytes, (unsigned long long)g.far_read_bytes,
             (unsigned long)peak, (unsigned long)plan.arena_bytes,
             (unsigned long)g.mem.static_bytes, (unsigned long)sn_port_heap_used());
    reply(out);
}

/* One int8 convolution on synthetic data laid out in the arena region: input, weights (a
 * stored tensor the view is cut from), the platform kernel's output, the reference's output,
 * per-channel vectors. The plan is dropped. */
static void cmd_kernel(char *rest)
{
    char *kind = sn_mcu_token(&rest);
    uint32_t h, w, c, oc, k, s, i, kf, cf, ocf;
    sn_conv2d_params p;
    sn_quant_params q;
    int dw, equal, hard, tflite;
    size_t in_b, w_b, out_b, vec_b, total, crop;
    uint8_t *base = g.mem.arena;
    int8_t *in, *wt, *o, *o_ref;
    int32_t *bias, *mult, *shift;
    uint64_t t0, t1, t2;
    sn_status st, st_ref;
#define ALIGN16(n) (((n) + 15) & ~(size_t)15)
    if (!kind || (strcmp(kind, "dense") && strcmp(kind, "dw")) || number(&rest, &h) ||
        number(&rest, &w) || number(&rest, &c) || number(&rest, &oc) || number(&rest, &k) ||
        number(&rest, &s) || !h || !w || !c || !oc || !k || !s || h > 256 || w > 256 ||
        c > 4096 || oc > 4096 || k > 15 || s > 4) {
        fail("kernel: dense|dw H W C OC K S [KF CF OCF]");
        return;
    }
    dw = !strcmp(kind, "dw");
    kf = k;
    cf = c;
    ocf = oc;
    hard = tflite = 0;
    for (;;) { /* trailing words */
        size_t len = strlen(rest);
        while (len && rest[len - 1] == ' ')
            rest[--len] = 0;
        if (len >= 4 && !strcmp(rest + len - 4, "hard") && (len == 4 || rest[len - 5] == ' ')) {
            hard = 1;
            rest[len - 4] = 0;
        } else if (len >= 6 && !strcmp(rest + len - 6, "tflite") && (len == 6 || rest[len - 7] == ' ')) {
            tflite = 1;
            rest[len - 6] = 0;
        } else {
            break;
        }
    }
    while (*rest == ' ')
        ++rest;
    if (*rest && (number(&rest, &kf) || number(&rest, &cf) || number(&rest, &ocf) || kf < k ||
                  kf > 15 || (kf - k) % 2 || cf < c || cf > 4096 || ocf < oc || ocf > 4096)) {
        fail("kernel: KF CF OCF: a stored tensor at least as large, KF - K even");
        return;
    }
    memset(&p, 0, sizeof p);
    p.in_h = (int32_t)h; p.in_w = (int32_t)w; p.in_c = (int32_t)c;
    p.kernel_h = p.kernel_w = (int32_t)k;
    p.stride_h = p.stride_w = (int32_t)s;
    p.pad_top = p.pad_left = (int32_t)k / 2;
    p.out_h = sn_conv2d_out_size((int32_t)h, (int32_t)k, (int32_t)s, (int32_t)k / 2, (int32_t)k / 2);
    p.out_w = sn_conv2d_out_size((int32_t)w, (int32_t)k, (int32_t)s, (int32_t)k / 2, (int32_t)k / 2);
    p.out_c = dw ? (int32_t)c : (int32_t)oc;
    p.w_stride_kw = (int32_t)cf;
    p.w_stride_kh = (int32_t)(kf * cf);
    p.w_stride_out = dw ? 0 : (int32_t)(kf * kf * cf);
    crop = (size_t)(kf - k) / 2 * (size_t)(p.w_stride_kh + p.w_stride_kw);
    in_b = (size_t)h * w * c;
    w_b = dw ? (size_t)kf * kf * cf : (size_t)ocf * kf * kf * cf;
    out_b = (size_t)p.out_h * p.out_w * (size_t)p.out_c;
    vec_b = 3u * 4u * (size_t)p.out_c;
    total = ALIGN16(in_b) + ALIGN16(w_b) + 2 * ALIGN16(out_b) + vec_b;
    if (total > g.mem.arena_bytes) {
        fail("kernel: the shape does not fit the arena region");
        return;
    }
    g.have_plan = 0;
    g.resident_count = 0; /* the data overwrites the weight cache */
    g.cache_used = 0;
    in = (int8_t *)base;
    wt = in + ALIGN16(in_b);
    o = wt + ALIGN16(w_b);
    o_ref = o + ALIGN16(out_b);
    bias = (int32_t *)(void *)(o_ref + ALIGN16(out_b));
    mult = bias + p.out_c;
    shift = mult + p.out_c;
    for (i = 0; i < in_b; ++i)
        in[i] = (int8_t)((i * 37u + 11u) & 0xFF);
    for (i = 0; i < w_b; ++i)
        wt[i] = (int8_t)((i * 73u + 5u) & 0xFF);
    for (i = 0; i < (uint32_t)p.out_c; ++i) {
        bias[i] = (int32_t)(i * 101u) - 5000;
        mult[i] = i % 5 == 3 && !tflite ? -1518500250 : 1518500250; /* ~0.707 in Q31, some negated */
        shift[i] = -9;
        if (hard) { /* shifts 1, 0, -1, -9, -23, -31 */
            static const int8_t shifts[6] = {1, 0, -1, -9, -23, -31};
            shift[i] = shifts[i % 6];
            mult[i] = (int32_t)(1073741824u + (i * 7919u * 1021u) % 1073741824u) * (i % 4 == 1 && !tflite ? -1 : 1);
        }
    }
    q.input_offset = hard ? 128 : 3;
    q.output_offset = hard ? 127 : -2;
    q.multiplier = mult;
    q.shift = shift;
    q.act_min = hard ? -100 : -128;
    q.act_max = hard ? 110 : 127;
    memset(o, 0x5a, out_b);
    memset(o_ref, 0xa5, out_b);
    t0 = sn_port_clock_now();
    st = dw ? sn_mcu_depthwise_conv2d_s8(&p, &q, in, wt + crop, bias, o)
            : sn_mcu_conv2d_s8(&p, &q, in, wt + crop, bias, o);
    t1 = sn_port_clock_now();
    st_ref = dw ? sn_depthwise_conv2d_ref_s8(&p, &q, in, wt + crop, bias, o_ref)
                : sn_conv2d_ref_s8(&p, &q, in, wt + crop, bias, o_ref);
    t2 = sn_port_clock_now();
    if (st != SN_OK || st_ref != SN_OK) {
        snprintf(out, sizeof out, "e-error kernel: %s (reference: %s)", sn_status_str(st),
                 sn_status_str(st_ref));
        reply(out);
        return;
    }
    equal = !memcmp(o, o_ref, out_b);
    snprintf(out, sizeof out, "m-kernel kind=%s path=%s isa=%s out=%ldx%ldx%ld clock=%llu "
             "ref_clock=%llu macs=%lld equal=%s", dw ? "dw" : "dense",
             sn_mcu_conv2d_path(&p, dw), sn_mcu_kernels_isa(), (long)p.out_h, (long)p.out_w,
             (long)p.out_c, (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
             (long long)sn_conv2d_macs(&p, dw), equal ? "yes" : "no");
    reply(out);
#undef ALIGN16
}

int main(int argc, char **argv)
{
    const void *image;
    size_t image_bytes;
    const char *why = "";
    sn_model_error error;
    sn_status st;
    uint64_t t0, t1, t2;
    sn_port_memory_map(&g.mem);
    if (argc < 2) {
        fail("boot: usage: supernav-mcu-BOARD MODEL");
        reply("m-ready");
        return 2;
    }
    t0 = sn_port_clock_now();
    if (sn_port_model_image(argv[1], &image, &image_bytes, &why) != 0) {
        snprintf(out, sizeof out, "boot: model %s: %s (flash left for it: %lu bytes)", argv[1], why,
                 (unsigned long)g.mem.image_capacity);
        fail(out);
        reply("m-ready");
        return 2;
    }
    t1 = sn_port_clock_now();
    st = sn_model_load(&g.model, image, image_bytes, &error);
    t2 = sn_port_clock_now();
    if (st != SN_OK) {
        snprintf(out, sizeof out, "e-error boot: model %s: %s: %s at byte %llu", argv[1],
                 sn_status_str(st), error.what, (unsigned long long)error.offset);
        reply(out);
        reply("m-ready");
        return 2;
    }
    g.image = image;
    g.image_bytes = (uint32_t)image_bytes;
    snprintf(out, sizeof out, "m-boot image_bytes=%lu image_capacity=%lu read_clock=%llu "
             "validate_clock=%llu", (unsigned long)image_bytes, (unsigned long)g.mem.image_capacity,
             (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
    reply(out);
    reply("m-ready");
    for (;;) {
        char *rest = line, *word;
        if (sn_port_link_read_line(line, sizeof line) < 0) {
            fail("line too long");
            reply("m-ready");
            continue;
        }
        word = sn_mcu_token(&rest);
        if (!word) {
            reply("m-ready");
            continue;
        }
        if (!strcmp(word, "name")) {
            snprintf(out, sizeof out, "m-name supernav-mcu board=%s", sn_port_board());
            reply(out);
            snprintf(out, sizeof out, "m-clock unit=%s", sn_port_clock_unit());
            reply(out);
        } else if (!strcmp(word, "info")) {
            cmd_info();
        } else if (!strcmp(word, "cache")) {
            cmd_cache(rest);
        } else if (!strcmp(word, "resident")) {
            cmd_resident(rest);
        } else if (!strcmp(word, "prepare")) {
            cmd_prepare(rest);
        } else if (!strcmp(word, "load")) {
            cmd_load(rest);
        } else if (!strcmp(word, "loadfile")) {
            cmd_loadfile(rest);
        } else if (!strcmp(word, "infer")) {
            cmd_infer(rest);
        } else if (!strcmp(word, "kernel")) {
            cmd_kernel(rest);
        } else if (!strcmp(word, "quit")) {
            reply("m-ready");
            return 0;
        } else {
            fail("unknown command");
        }
        reply("m-ready");
    }
}
