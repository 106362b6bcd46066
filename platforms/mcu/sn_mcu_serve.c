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
 *                           inside a resident range read it from SRAM (drops the slices)
 *   slices [OFF:O:I:K ...]  makes exactly these leading boxes resident (SUSHI's SubGraph as
 *                           weight slices; none: an empty cache): of the int8 conv tensor
 *                           whose data starts at image offset OFF, the leading O output
 *                           channels x I input channels (depthwise [K][K][C]: O channels, I
 *                           ignored) and the centred K x K crop, each packed in the cache with
 *                           its own strides, in offset order. Only what the boxes resident
 *                           before do not hold is read from flash: the old boxes are cut to
 *                           what the new ones keep and moved within SRAM, then grown from
 *                           flash (drops the ranges). m-slices: boxes, bytes (the cache
 *                           used), flash_bytes (read from flash), sram_bytes (moved within
 *                           SRAM), clock. A view then reads from SRAM the part of it inside
 *                           its tensor's box -- all of it, or its leading output channels in
 *                           whole units of slice_quantum (m-info) when the box holds its
 *                           kernel crop and (dense) all its input channels -- and the rest
 *                           from flash (sn_mcu_conv2d_s8_split)
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
 *   kernel dense|dw H W C OC K S [KF CF OCF] [hard] [tflite] [splitN]
 *                           one int8 convolution of that shape on synthetic data in SRAM, run
 *                           by the platform's kernel (sn_mcu_kernels.h) and by the reference:
 *                           m-kernel path, instructions of each, MACs, whether the outputs are
 *                           equal bit for bit. KF CF OCF: the weights are the centred K x K
 *                           crop and the leading C (and OC) channels of a stored KF x KF x CF
 *                           (x OCF) tensor, as a SubNet's view (default: packed). hard:
 *                           quantization at its edges (the widest offsets, a clamp narrower
 *                           than int8, shifts of every kind: left, none, right past 22);
 *                           tflite: no negative multiplier (TFLite's and CMSIS-NN's range);
 *                           splitN: then the same view split, its leading N output channels
 *                           read from a packed copy (sn_mcu_conv2d_s8_split): m-kernel split=
 *                           split_clock= split_equal= (against the reference's output)
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

/* A leading box of an int8 conv tensor, resident in the cache (packed: [o][ky][kx][i], or
 * [ky][kx][c] for a depthwise tensor, with the box's own strides). */
typedef struct resident_box {
    uint32_t t_off, t_end;      /* the tensor's data in the image */
    uint32_t pos, bytes;        /* where its copy lies in the cache */
    int16_t dw;
    int16_t of, kf, cf;         /* the tensor: output channels (dense), kernel side, input
                                   channels (depthwise: its channels) */
    int16_t o, i, k;            /* the box (depthwise: i = 0) */
} resident_box;

#define MAX_BOXES 160           /* harness/sn_slices.h: SN_SLICES_MAX_TENSORS */

typedef struct serve_state {
    sn_model model;
    sn_port_memory mem;
    const uint8_t *image;
    uint32_t image_bytes;
    uint32_t cache_bytes, cache_used;
    resident_range resident[MAX_RESIDENT];
    uint32_t resident_count;
    resident_box box[MAX_BOXES];           /* in offset order (the cache's order) */
    uint32_t box_count;
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

static uint8_t *cache_base(void)
{
    return g.mem.arena + g.mem.arena_bytes - g.cache_bytes;
}

/* The box whose tensor holds image offset OFF, or NULL (halving: the boxes are in order). */
static const resident_box *box_of(uint32_t off)
{
    uint32_t lo = 0, hi = g.box_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        const resident_box *b = &g.box[mid];
        if (off < b->t_off)
            hi = mid;
        else if (off >= b->t_end)
            lo = mid + 1;
        else
            return b;
    }
    return NULL;
}

/* How many leading output channels of view (P, DW, W) box B serves (0: none; p->out_c:
 * all), and the near part's weights and strides: the box must hold the view's kernel crop
 * and (dense) all its input channels, then a box narrower than the view serves its leading
 * channels in whole units of the slice quantum. The view must be a leading, centred view of
 * the box's tensor with the tensor's strides (every view the engine makes is). */
static int32_t box_serves(const resident_box *b, const sn_conv2d_params *p, int dw, uint32_t off,
                          sn_mcu_near_part *near)
{
    const int32_t s_kw = b->cf, s_kh = b->kf * b->cf, s_out = dw ? 0 : b->kf * b->kf * b->cf;
    const int32_t k = p->kernel_h, q = sn_mcu_slice_quantum();
    int32_t o, d, dn, n_kw;
    if (p->kernel_w != k || k > b->kf || (b->kf - k) % 2 || p->w_stride_kw != s_kw || p->w_stride_kh != s_kh ||
        (!dw && p->w_stride_out != s_out) || p->out_c > (dw ? b->cf : b->of) || (!dw && p->in_c > b->cf))
        return 0;
    d = (b->kf - k) / 2;
    if (off - b->t_off != (uint32_t)(d * (s_kh + s_kw)))
        return 0;
    if (b->k < k || (!dw && b->i < p->in_c))
        return 0;
    o = b->o >= p->out_c ? p->out_c : b->o / q * q;
    if (o <= 0)
        return 0;
    dn = (b->k - k) / 2;
    n_kw = dw ? b->o : b->i;
    near->w_stride_kw = n_kw;
    near->w_stride_kh = b->k * n_kw;
    near->w_stride_out = dw ? 0 : b->k * b->k * b->i;
    near->weights = (const int8_t *)(cache_base() + b->pos) + dn * (near->w_stride_kh + near->w_stride_kw);
    near->channels = o;
    return o;
}

/* Counts view P's weight bytes and reads: its leading NEAR output channels from SRAM, the
 * rest from flash. */
static void count(const sn_conv2d_params *p, int dw, int32_t near)
{
    sn_conv2d_params part;
    const uint64_t per = (uint64_t)p->kernel_h * p->kernel_w * (dw ? 1 : p->in_c);
    if (near == 0 || near == p->out_c) { /* a whole view */
        uint64_t view = per * (uint64_t)p->out_c, reads = (uint64_t)sn_mcu_conv2d_weight_reads(p, dw);
        if (near) {
            g.near_bytes += view;
            g.near_read_bytes += reads;
        } else {
            g.far_bytes += view;
            g.far_read_bytes += reads;
        }
        return;
    }
    part = *p;
    {
        part.out_c = near;
        g.near_bytes += per * (uint64_t)near;
        g.near_read_bytes += (uint64_t)sn_mcu_conv2d_weight_reads(&part, dw);
    }
    {
        part.out_c = p->out_c - near;
        g.far_bytes += per * (uint64_t)part.out_c;
        g.far_read_bytes += (uint64_t)sn_mcu_conv2d_weight_reads(&part, dw);
    }
}

/* Where the kernel reads view (P, DW, W): returns the weights of a view read whole (the
 * cache's copy when a resident range holds the whole view, or when a resident box serves all
 * of it: then *PP is NP, P with the copy's strides, else P; else the flash address), or NULL with
 * NEAR filled when a box serves only its leading output channels (a split view). Counts the
 * bytes. */
static const int8_t *place(const sn_conv2d_params *p, int dw, const int8_t *w, sn_conv2d_params *np,
                           const sn_conv2d_params **pp, sn_mcu_near_part *near)
{
    uint32_t i, extent;
    const uint8_t *a = (const uint8_t *)w;
    *pp = p;
    if (a >= g.image && a < g.image + g.image_bytes) {
        uint32_t off = (uint32_t)(a - g.image);
        if (g.resident_count) {
            extent = view_extent(p, dw);
            for (i = 0; i < g.resident_count; ++i) {
                const resident_range *r = &g.resident[i];
                if (off >= r->offset && off - r->offset + (uint64_t)extent <= r->bytes) {
                    count(p, dw, p->out_c);
                    return (const int8_t *)(r->copy + (off - r->offset));
                }
            }
        } else if (g.box_count) {
            const resident_box *b = box_of(off);
            int32_t o = b ? box_serves(b, p, dw, off, near) : 0;
            if (o > 0) {
                count(p, dw, o);
                if (o < p->out_c)
                    return NULL;
                *np = sn_mcu_near_params(p, near);
                *pp = np;
                return near->weights;
            }
        }
    }
    count(p, dw, 0);
    return w;
}

static sn_status conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                         const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *o)
{
    sn_conv2d_params np;
    const sn_conv2d_params *pp;
    sn_mcu_near_part near;
    const int8_t *at = place(p, 0, w, &np, &pp, &near);
    (void)ctx;
    return at ? sn_mcu_conv2d_s8(pp, q, in, at, bias, o) : sn_mcu_conv2d_s8_split(p, q, in, w, &near, bias, o);
}

static sn_status dwconv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                           const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *o)
{
    sn_conv2d_params np;
    const sn_conv2d_params *pp;
    sn_mcu_near_part near;
    const int8_t *at = place(p, 1, w, &np, &pp, &near);
    (void)ctx;
    return at ? sn_mcu_depthwise_conv2d_s8(pp, q, in, at, bias, o)
              : sn_mcu_depthwise_conv2d_s8_split(p, q, in, w, &near, bias, o);
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
             "cache_used=%lu arena_capacity=%lu slice_quantum=%ld", (unsigned long)g.mem.arena_bytes,
             (unsigned long)g.mem.stack_bytes, (unsigned long)g.cache_bytes,
             (unsigned long)g.cache_used, (unsigned long)arena_capacity(), (long)sn_mcu_slice_quantum());
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
    g.box_count = 0;
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
        g.box_count = 0;
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
    if (g.box_count) { /* a SubGraph of ranges replaces one of slices */
        g.box_count = 0;
        g.cache_used = 0;
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

/* ---- slices: leading boxes of tensors in the cache ---------------------------------------- */
static resident_box next_box[MAX_BOXES];

static uint32_t box_bytes_of(int32_t dw, int32_t o, int32_t i, int32_t k)
{
    return (uint32_t)o * (uint32_t)(dw ? 1 : i) * (uint32_t)k * (uint32_t)k;
}

/* a box's rows: dense [o][ky][kx] of I bytes each; depthwise [ky][kx] of O bytes */
static int32_t row_len(const resident_box *b, int32_t o, int32_t i) { return b->dw ? o : i; }

/* Reads one OFF:O:I:K token into B (the tensor found in the image's directory); 0 or -1 with
 * the reason in out. */
static int parse_box(char *tok, resident_box *b)
{
    uint32_t v[4], n, j;
    sn_tensor t;
    char *p = tok, *end;
    for (n = 0; n < 4; ++n) {
        v[n] = (uint32_t)strtoul(p, &end, 10);
        if (end == p || (n < 3 ? *end != ':' : *end != 0)) {
            snprintf(out, sizeof out, "slices: '%.40s' is not OFF:O:I:K", tok);
            return -1;
        }
        p = end + 1;
    }
    for (j = 0; j < g.model.tensor_count; ++j)
        if (sn_model_tensor(&g.model, j, &t) == SN_OK && (const uint8_t *)t.data == g.image + v[0] &&
            t.bytes > 0)
            break;
    if (j == g.model.tensor_count || v[0] >= g.image_bytes) {
        snprintf(out, sizeof out, "slices: no tensor starts at image offset %lu", (unsigned long)v[0]);
        return -1;
    }
    if (t.dtype != SN_DTYPE_S8 || !((t.ndim == 4 && t.dims[1] == t.dims[2]) || (t.ndim == 3 && t.dims[0] == t.dims[1])) ||
        t.dims[0] > 32767 || t.dims[1] > 32767 || t.dims[2] > 32767 || t.dims[3] > 32767) {
        snprintf(out, sizeof out, "slices: the tensor at offset %lu is not an int8 conv tensor", (unsigned long)v[0]);
        return -1;
    }
    memset(b, 0, sizeof *b);
    b->t_off = v[0];
    b->t_end = v[0] + (uint32_t)t.bytes;
    b->dw = (int16_t)(t.ndim == 3);
    b->kf = (int16_t)(b->dw ? t.dims[0] : t.dims[1]);
    b->cf = (int16_t)(b->dw ? t.dims[2] : t.dims[3]);
    b->of = (int16_t)(b->dw ? 0 : t.dims[0]);
    if (v[1] < 1 || v[1] > (uint32_t)(b->dw ? b->cf : b->of) || v[3] < 1 || v[3] > (uint32_t)b->kf ||
        (b->kf - (int32_t)v[3]) % 2 || (!b->dw && (v[2] < 1 || v[2] > (uint32_t)b->cf))) {
        snprintf(out, sizeof out, "slices: box %lu:%lu:%lu does not fit the tensor at offset %lu (%dx%dx%dx%d)",
                 (unsigned long)v[1], (unsigned long)v[2], (unsigned long)v[3], (unsigned long)v[0],
                 b->dw ? 1 : b->of, b->kf, b->kf, b->cf);
        return -1;
    }
    b->o = (int16_t)v[1];
    b->i = (int16_t)(b->dw ? 0 : v[2]);
    b->k = (int16_t)v[3];
    b->bytes = box_bytes_of(b->dw, b->o, b->i, b->k);
    return 0;
}

/* Makes exactly the boxes of the command resident. The old boxes are first cut to what the
 * new ones keep of them (the part of each inside its tensor's new box) and packed towards the
 * cache's bottom, row by row in order (every row moves down); then, last box first and its
 * rows last first, each new box is laid out at its place (every row moves up), its rows taken
 * from the kept part where it holds them and from flash for the rest. */
static void cmd_slices(char *rest)
{
    uint32_t n = 0, a, j, total = 0, pos, kept_pos[MAX_BOXES];
    int32_t kept[MAX_BOXES][3];
    uint64_t flash = 0, moved = 0, t0, t1;
    uint8_t *base = cache_base();
    char *tok;
    while ((tok = sn_mcu_token(&rest)) != NULL) {
        resident_box b;
        if (n == MAX_BOXES) {
            fail("slices: more than 160 boxes");
            return;
        }
        if (parse_box(tok, &b) != 0) {
            fail(out);
            return;
        }
        for (j = n; j > 0 && next_box[j - 1].t_off > b.t_off; --j) /* in offset order */
            next_box[j] = next_box[j - 1];
        if (j > 0 && next_box[j - 1].t_off == b.t_off) {
            fail("slices: two boxes of one tensor");
            return;
        }
        next_box[j] = b;
        ++n;
        total += b.bytes;
    }
    if (total > g.cache_bytes) {
        snprintf(out, sizeof out, "slices: %lu bytes do not fit the %lu-byte cache", (unsigned long)total,
                 (unsigned long)g.cache_bytes);
        fail(out);
        return;
    }
    if (g.resident_count) { /* a SubGraph of slices replaces one of ranges: nothing kept */
        g.resident_count = 0;
        g.box_count = 0;
    }
    for (j = 0; j < n; ++j)
        kept[j][2] = 0; /* nothing kept of it (yet) */
    t0 = sn_port_clock_now();
    /* 1: cut and pack what is kept (rows move down) */
    for (pos = 0, a = 0, j = 0; a < g.box_count; ++a) {
        const resident_box *b = &g.box[a];
        int32_t ko, ki, kk, d, oo, ky, kx, outer, len, blen;
        while (j < n && next_box[j].t_off < b->t_off)
            ++j;
        if (j == n || next_box[j].t_off != b->t_off)
            continue; /* dropped */
        ko = b->o < next_box[j].o ? b->o : next_box[j].o;
        ki = b->i < next_box[j].i ? b->i : next_box[j].i;
        kk = b->k < next_box[j].k ? b->k : next_box[j].k;
        d = (b->k - kk) / 2;
        outer = b->dw ? 1 : ko;
        len = row_len(b, ko, ki);
        blen = row_len(b, b->o, b->i);
        for (oo = 0; oo < outer; ++oo)
            for (ky = 0; ky < kk; ++ky)
                for (kx = 0; kx < kk; ++kx) {
                    uint8_t *dst = base + pos + (uint32_t)(((oo * kk + ky) * kk + kx) * len);
                    const uint8_t *src = base + b->pos + (uint32_t)(((oo * b->k + ky + d) * b->k + kx + d) * blen);
                    if (dst != src)
                        memmove(dst, src, (size_t)len);
                    moved += (uint64_t)len;
                }
        kept[j][0] = ko;
        kept[j][1] = ki;
        kept[j][2] = kk;
        kept_pos[j] = pos;
        pos += box_bytes_of(b->dw, ko, ki, kk);
        ++j;
    }
    /* 2: lay out the new boxes, last first (rows move up) */
    for (pos = total, j = n; j-- > 0;) {
        resident_box *b = &next_box[j];
        const int32_t s_kw = b->cf, s_kh = b->kf * b->cf, s_out = b->dw ? 0 : b->kf * b->kf * b->cf;
        const int32_t dt = (b->kf - b->k) / 2, outer = b->dw ? 1 : b->o, len = row_len(b, b->o, b->i);
        const int32_t kk = kept[j][2], dx = (b->k - kk) / 2, klen = kk ? row_len(b, kept[j][0], kept[j][1]) : 0;
        int32_t r;
        pos -= b->bytes;
        b->pos = pos;
        for (r = outer * b->k * b->k; r-- > 0;) {
            const int32_t oo = r / (b->k * b->k), ky = r / b->k % b->k, kx = r % b->k;
            const int32_t ky0 = ky - dx, kx0 = kx - dx;
            uint8_t *dst = base + pos + (uint32_t)(r * len);
            const uint8_t *src = g.image + b->t_off + (uint32_t)(oo * s_out + (ky + dt) * s_kh + (kx + dt) * s_kw);
            int32_t from = 0;
            if (kk && oo < (b->dw ? 1 : kept[j][0]) && ky0 >= 0 && ky0 < kk && kx0 >= 0 && kx0 < kk) {
                const uint8_t *k_src = base + kept_pos[j] + (uint32_t)(((oo * kk + ky0) * kk + kx0) * klen);
                if (dst != k_src)
                    memmove(dst, k_src, (size_t)klen);
                moved += (uint64_t)klen;
                from = klen;
            }
            if (from < len) {
                memcpy(dst + from, src + from, (size_t)(len - from));
                flash += (uint64_t)(len - from);
            }
        }
    }
    t1 = sn_port_clock_now();
    memcpy(g.box, next_box, n * sizeof *next_box);
    g.box_count = n;
    g.cache_used = total;
    snprintf(out, sizeof out, "m-slices boxes=%lu bytes=%lu flash_bytes=%llu sram_bytes=%llu clock=%llu",
             (unsigned long)n, (unsigned long)total, (unsigned long long)flash, (unsigned long long)moved,
             (unsigned long long)(t1 - t0));
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
    uint32_t h, w, c, oc, k, s, i, kf, cf, ocf, split;
    sn_conv2d_params p;
    sn_quant_params q;
    int dw, equal, hard, tflite;
    size_t in_b, w_b, out_b, vec_b, total, crop, near_b;
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
    split = 0;
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
        } else if (len > 0 && rest[len - 1] >= '0' && rest[len - 1] <= '9') { /* splitN */
            size_t b = len;
            while (b > 0 && rest[b - 1] >= '0' && rest[b - 1] <= '9')
                --b;
            if (b < 5 || strncmp(rest + b - 5, "split", 5) || (b > 5 && rest[b - 6] != ' '))
                break;
            split = (uint32_t)strtoul(rest + b, NULL, 10);
            rest[b - 5] = 0;
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
    if (split && split >= (uint32_t)p.out_c) {
        fail("kernel: splitN: 0 < N < the output channels");
        return;
    }
    /* splitN: the leading N output channels' box packed (as the cache holds it) and a third
     * output */
    near_b = split ? (size_t)split * k * k * (dw ? 1 : c) : 0;
    total = ALIGN16(in_b) + ALIGN16(w_b) + 3 * ALIGN16(out_b) + vec_b + ALIGN16(near_b);
    if (total > g.mem.arena_bytes) {
        fail("kernel: the shape does not fit the arena region");
        return;
    }
    g.have_plan = 0;
    g.resident_count = 0; /* the data overwrites the weight cache */
    g.box_count = 0;
    g.cache_used = 0;
    in = (int8_t *)base;
    wt = in + ALIGN16(in_b);
    o = wt + ALIGN16(w_b);
    o_ref = o + ALIGN16(out_b);
    bias = (int32_t *)(void *)(o_ref + 2 * ALIGN16(out_b));
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
    if (split) { /* the same view split: its leading SPLIT channels from a packed copy */
        int8_t *o_split = o_ref + ALIGN16(out_b), *nw = (int8_t *)(void *)(shift + p.out_c);
        const int8_t *view = wt + crop;
        sn_mcu_near_part near;
        uint32_t oo, ky, kx, row = dw ? split : c;
        for (oo = 0; oo < (dw ? 1 : split); ++oo)
            for (ky = 0; ky < k; ++ky)
                for (kx = 0; kx < k; ++kx)
                    memcpy(nw + ((oo * k + ky) * k + kx) * row,
                           view + (int32_t)oo * p.w_stride_out + (int32_t)ky * p.w_stride_kh + (int32_t)kx * p.w_stride_kw,
                           row);
        near.weights = nw;
        near.w_stride_kw = (int32_t)row;
        near.w_stride_kh = (int32_t)(k * row);
        near.w_stride_out = dw ? 0 : (int32_t)(k * k * row);
        near.channels = (int32_t)split;
        memset(o_split, 0x3c, out_b);
        t0 = sn_port_clock_now();
        st = dw ? sn_mcu_depthwise_conv2d_s8_split(&p, &q, in, view, &near, bias, o_split)
                : sn_mcu_conv2d_s8_split(&p, &q, in, view, &near, bias, o_split);
        t1 = sn_port_clock_now();
        snprintf(out, sizeof out, "m-kernel split=%lu split_clock=%llu split_equal=%s", (unsigned long)split,
                 (unsigned long long)(t1 - t0), st == SN_OK && !memcmp(o_split, o_ref, out_b) ? "yes" : "no");
        reply(out);
    }
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
        } else if (!strcmp(word, "slices")) {
            cmd_slices(rest);
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
