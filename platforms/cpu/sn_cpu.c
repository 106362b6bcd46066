/* supernav CPU platform: ISA dispatch, weight packing and SubGraph residency. */
#include "sn_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "sn_cpu_kernels.h"
#include "sn_windex.h"

#define MAX_CHANNELS 16384         /* sn_conv2d_check's bound */
#define PAIR_WORDS (1u << 20)      /* int8 dense inputs up to 2^21 values take the fast path */

/* Resident entries (platforms/common/sn_windex.h) keep their copy at a host address
 * (packed) with its geometry (rows, ld); int8 weights are packed widened to int32. */
typedef sn_wentry entry;

struct sn_cpu {
    const sn_model *model;
    const sn_cpu_kernels *k;
    int residency;
    size_t budget, used;
    char *near;                    /* the budget, a bump allocator */
    float *scratch;                /* far path: one layer's packed weights */
    size_t scratch_floats;
    float *zeros, *scale_pad, *bias_pad;
    int32_t *ibias_pad, *mult_pad, *shift_pad;
    int32_t *pairs, *zero_pairs;   /* int8 dense: the input as offset int16 pairs */
    sn_windex index;               /* resident copies and the model's tensor map */
    sn_cpu_stats stats;
};

static size_t round16z(size_t v) { return (v + 15u) & ~(size_t)15u; }

void sn_cpu_options_default(sn_cpu_options *o)
{
    o->isa = NULL;
    o->near_budget_bytes = SIZE_MAX;
    o->residency = SN_CPU_RESIDENT_ON_USE;
}

int sn_cpu_isa_available(const char *isa)
{
    if (!strcmp(isa, "portable"))
        return 1;
#ifdef SN_CPU_HAVE_X86
    __builtin_cpu_init();
    if (!strcmp(isa, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!strcmp(isa, "avx512"))
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("fma");
#endif
    return 0;
}

static const sn_cpu_kernels *kernels_for(const char *isa)
{
    if (!sn_cpu_isa_available(isa))
        return NULL;
#ifdef SN_CPU_HAVE_X86
    if (!strcmp(isa, "avx512"))
        return &sn_cpu_kernels_avx512;
    if (!strcmp(isa, "avx2"))
        return &sn_cpu_kernels_avx2;
#endif
    return &sn_cpu_kernels_portable;
}

/* Packed size in floats of a whole weight tensor (dense OHWI: every tap, all inputs, outputs
 * padded; depthwise [k][k][C]: every odd centred crop). */
static size_t packed_tensor_floats(const sn_wtensor *t)
{
    if (t->ndim == 4)
        return (size_t)t->dims[1] * t->dims[2] * t->dims[3] * round16z(t->dims[0]);
    if (t->ndim == 3 && t->dims[0] == t->dims[1]) {
        size_t sum = 0, k;
        for (k = 1; k <= t->dims[0]; k += 2)
            sum += k * k * round16z(t->dims[2]);
        return sum;
    }
    return 0;
}


sn_status sn_cpu_create(const sn_model *model, const sn_cpu_options *options, sn_cpu **out,
                        const char **why)
{
    sn_cpu_options def;
    sn_cpu *c;
    size_t whole = 0, biggest = 0;
    uint32_t i;
    const char *isa;
    *out = NULL;
    if (!options) {
        sn_cpu_options_default(&def);
        options = &def;
    }
    isa = options->isa;
    if (!isa || !strcmp(isa, "auto"))
        isa = sn_cpu_isa_available("avx512") ? "avx512"
              : sn_cpu_isa_available("avx2") ? "avx2" : "portable";
    if (strcmp(isa, "avx512") && strcmp(isa, "avx2") && strcmp(isa, "portable")) {
        if (why)
            *why = "unknown ISA (auto, avx512, avx2, portable)";
        return SN_ERR_INVALID_ARGUMENT;
    }
    if (!kernels_for(isa)) {
        if (why)
            *why = "this processor (or build) lacks the requested ISA";
        return SN_ERR_UNSUPPORTED;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->model = model;
    c->k = kernels_for(isa);
    c->residency = options->residency;
    if (sn_windex_init(&c->index, model) != 0)
        goto oom;
    for (i = 0; i < c->index.tensor_count; ++i) {
        const sn_wtensor *t = &c->index.tensors[i];
        size_t f;
        if (t->dtype != SN_DTYPE_F32 && t->dtype != SN_DTYPE_S8)
            continue;
        f = packed_tensor_floats(t);
        whole += f;
        if (f > biggest)
            biggest = f;
    }
    c->budget = options->near_budget_bytes < whole * sizeof(float) ? options->near_budget_bytes
                                                                  : whole * sizeof(float);
    c->budget &= ~(size_t)63u;
    c->scratch_floats = biggest;
    if ((c->budget && posix_memalign((void **)&c->near, 64, c->budget) != 0) ||
        posix_memalign((void **)&c->scratch, 64, (biggest ? biggest : 16) * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->zeros, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->scale_pad, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->bias_pad, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->ibias_pad, 64, MAX_CHANNELS * sizeof(int32_t)) != 0 ||
        posix_memalign((void **)&c->mult_pad, 64, MAX_CHANNELS * sizeof(int32_t)) != 0 ||
        posix_memalign((void **)&c->shift_pad, 64, MAX_CHANNELS * sizeof(int32_t)) != 0 ||
        posix_memalign((void **)&c->pairs, 64, PAIR_WORDS * sizeof(int32_t)) != 0 ||
        posix_memalign((void **)&c->zero_pairs, 64, MAX_CHANNELS * sizeof(int32_t)) != 0)
        goto oom;
    memset(c->zero_pairs, 0, MAX_CHANNELS * sizeof(int32_t));
    memset(c->zeros, 0, MAX_CHANNELS * sizeof(float));
    *out = c;
    return SN_OK;
oom:
    sn_cpu_destroy(c);
    if (why)
        *why = "out of memory";
    return SN_ERR_NO_MEMORY;
}

void sn_cpu_destroy(sn_cpu *c)
{
    if (!c)
        return;
    free(c->near);
    free(c->scratch);
    free(c->zeros);
    free(c->scale_pad);
    free(c->bias_pad);
    free(c->ibias_pad);
    free(c->mult_pad);
    free(c->shift_pad);
    free(c->pairs);
    free(c->zero_pairs);
    sn_windex_free(&c->index);
    free(c);
}

const char *sn_cpu_isa(const sn_cpu *c) { return c->k->isa; }
size_t sn_cpu_near_used(const sn_cpu *c) { return c->used; }
size_t sn_cpu_near_budget(const sn_cpu *c) { return c->budget; }
void sn_cpu_stats_get(const sn_cpu *c, sn_cpu_stats *s) { *s = c->stats; }
void sn_cpu_stats_reset(sn_cpu *c) { memset(&c->stats, 0, sizeof c->stats); }

void sn_cpu_evict_all(sn_cpu *c)
{
    sn_windex_clear(&c->index);
    c->used = 0;
}

/* Weight element K of a view, widened: fp32 stays fp32, int8 becomes int32. */
static void put(void *dst, size_t at, const void *w, size_t k, int s8)
{
    if (s8)
        ((int32_t *)dst)[at] = ((const int8_t *)w)[k];
    else
        ((float *)dst)[at] = ((const float *)w)[k];
}

/* int8 dense: input channels in pairs, one int32 word per (pair, output) (see
 * sn_cpu_kernels.inc); rows = ceil(i_n / 2). */
static void pack_dense_s8(const sn_conv2d_params *p, const int8_t *w, int32_t o_n, int32_t i_n,
                          int32_t ld, int32_t *dst)
{
    int32_t t, i, o, taps = p->kernel_h * p->kernel_w, rows = (i_n + 1) / 2;
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        for (i = 0; i < rows; ++i) {
            int32_t *row = dst + ((size_t)t * (size_t)rows + (size_t)i) * (size_t)ld;
            for (o = 0; o < o_n; ++o) {
                const int8_t *wo = w + (size_t)o * (size_t)p->w_stride_out +
                                   (size_t)(ky * p->w_stride_kh) + (size_t)(kx * p->w_stride_kw);
                int32_t lo = wo[2 * i], hi = 2 * i + 1 < i_n ? wo[2 * i + 1] : 0;
                row[o] = (int32_t)(((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16));
            }
            for (; o < ld; ++o)
                row[o] = 0;
        }
    }
}

/* Packs the (o_n, i_n) leading slice of a dense view into DST with row stride LD. */
static void pack_dense(const sn_conv2d_params *p, const void *w, int s8, int32_t o_n, int32_t i_n,
                       int32_t ld, void *dst)
{
    int32_t t, i, o, taps = p->kernel_h * p->kernel_w;
    if (s8) {
        pack_dense_s8(p, w, o_n, i_n, ld, dst);
        return;
    }
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        for (i = 0; i < i_n; ++i) {
            size_t row = ((size_t)t * (size_t)i_n + (size_t)i) * (size_t)ld;
            for (o = 0; o < o_n; ++o)
                put(dst, row + (size_t)o, w,
                    (size_t)o * (size_t)p->w_stride_out + (size_t)(ky * p->w_stride_kh) +
                        (size_t)(kx * p->w_stride_kw) + (size_t)i, s8);
            memset((char *)dst + (row + (size_t)o_n) * 4u, 0, (size_t)(ld - o_n) * 4u);
        }
    }
}

static void pack_dw(const sn_conv2d_params *p, const void *w, int s8, int32_t c_n, int32_t ld, void *dst)
{
    int32_t t, ch, taps = p->kernel_h * p->kernel_w;
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        size_t row = (size_t)t * (size_t)ld;
        for (ch = 0; ch < c_n; ++ch)
            put(dst, row + (size_t)ch, w, (size_t)(ky * p->w_stride_kh + kx * p->w_stride_kw) + (size_t)ch, s8);
        memset((char *)dst + (row + (size_t)c_n) * 4u, 0, (size_t)(ld - c_n) * 4u);
    }
}

/* Makes the (o_n, i_n) slice of a view resident (or widens it); returns the entry or NULL
 * when the budget is exhausted. */
static entry *make_entry(sn_cpu *c, const void *w, int dw, int s8, const sn_conv2d_params *p,
                         int32_t o_n, int32_t i_n)
{
    entry *e = sn_windex_slot(&c->index, w, dw, p);
    int32_t taps = p->kernel_h * p->kernel_w, ld = (int32_t)round16z((size_t)o_n);
    int32_t rows = dw ? 1 : (s8 ? (i_n + 1) / 2 : i_n);
    size_t floats = (size_t)taps * (size_t)rows * (size_t)ld;
    size_t bytes = round16z(floats) * sizeof(float);
    if (!e)
        return NULL;
    if (sn_wentry_covers(e, o_n, i_n))
        return e;
    if (c->used + bytes > c->budget)
        return NULL;
    sn_wentry_set(e, w, dw, s8, p, o_n, i_n);
    e->rows = rows;
    e->ld = ld;
    e->packed = c->near + c->used;
    c->used += bytes;
    if (dw)
        pack_dw(p, w, s8, o_n, ld, e->packed);
    else
        pack_dense(p, w, s8, o_n, i_n, ld, e->packed);
    c->stats.packed_bytes += floats * sizeof(float);
    return e;
}

static void pad_vectors(sn_cpu *c, int32_t n, const float *scale, const float *bias)
{
    int32_t i, m = (int32_t)round16z((size_t)n);
    for (i = 0; i < n; ++i) {
        c->scale_pad[i] = scale ? scale[i] : 1.0f;
        c->bias_pad[i] = bias ? bias[i] : 0.0f;
    }
    for (; i < m; ++i) {
        c->scale_pad[i] = 0.0f;
        c->bias_pad[i] = 0.0f;
    }
}

/* A resident depthwise entry of a larger centred kernel of the same [K][K][C] tensor that
 * covers view W (a KH x KW crop at offset (oy, ox)) and O_N channels: sets *WP to the
 * crop's first tap and *TAP_ROW to the entry's kernel width. */
static entry *crop_entry(sn_cpu *c, const sn_conv2d_params *p, const void *w, int s8, int32_t o_n,
                         const void **wp, int32_t *tap_row)
{
    const sn_wtensor *t = sn_windex_tensor_of(&c->index, w);
    size_t esz = s8 ? 1u : 4u, off;
    int32_t K, C, oy, ox, k;
    if (!t || t->ndim != 3 || t->dims[0] != t->dims[1])
        return NULL;
    K = (int32_t)t->dims[0];
    C = (int32_t)t->dims[2];
    off = (size_t)((const char *)w - t->lo) / esz;
    if (off % (size_t)C)
        return NULL;
    oy = (int32_t)(off / (size_t)C) / K;
    ox = (int32_t)(off / (size_t)C) % K;
    /* the entries of larger odd crops centred the same way: kernel k at offset (K - k) / 2 */
    for (k = K; k > p->kernel_h; k -= 2) {
        sn_conv2d_params q = *p;
        int32_t o2 = (K - k) / 2, dy = oy - o2, dx = ox - o2;
        const void *key;
        entry *e;
        if (dy < 0 || dx < 0 || dy + p->kernel_h > k || dx + p->kernel_w > k)
            continue;
        key = t->lo + ((size_t)(o2 * K + o2) * (size_t)C) * esz;
        q.kernel_h = q.kernel_w = k;
        e = sn_windex_slot(&c->index, key, 1, &q);
        if (sn_wentry_covers(e, o_n, 0) && e->s8 == s8) {
            *wp = (const char *)e->packed + (size_t)((dy * k + dx) * e->ld) * 4u;
            *tap_row = k;
            return e;
        }
    }
    return NULL;
}

/* Resolves packed weights for one call: resident (near) or packed now into scratch (far). */
static int resolve(sn_cpu *c, const sn_conv2d_params *p, const void *w, int dw, int s8,
                   const void **wp, int32_t *rows, int32_t *ld)
{
    int32_t taps = p->kernel_h * p->kernel_w;
    int32_t o_n = p->out_c, i_n = dw ? 0 : p->in_c;
    /* bytes of the weights as the model stores them (fp32: 4, int8: 1 per weight) */
    uint64_t bytes = (uint64_t)taps * (uint64_t)o_n * (uint64_t)(dw ? 1 : i_n) * (s8 ? 1u : 4u);
    entry *e = sn_windex_slot(&c->index, w, dw, p);
    size_t floats;
    if (sn_wentry_covers(e, o_n, i_n)) {
        c->stats.near_bytes += bytes;
        c->stats.layers_near++;
        *wp = e->packed;
        *rows = dw ? p->kernel_w : e->rows;
        *ld = e->ld;
        return 0;
    }
    if (dw && (e = crop_entry(c, p, w, s8, o_n, wp, rows)) != NULL) {
        /* a resident larger kernel of the same tensor: this view is its centred crop */
        c->stats.near_bytes += bytes;
        c->stats.layers_near++;
        *ld = e->ld;
        return 0;
    }
    c->stats.far_bytes += bytes;
    c->stats.layers_far++;
    if (c->residency == SN_CPU_RESIDENT_ON_USE) {
        int32_t of, inf;
        sn_windex_on_use_extent(&c->index, w, dw, p, &of, &inf);
        e = make_entry(c, w, dw, s8, p, of, inf);
        if (e) {
            *wp = e->packed;
            *rows = dw ? p->kernel_w : e->rows;
            *ld = e->ld;
            return 0;
        }
    }
    *ld = (int32_t)round16z((size_t)o_n);
    *rows = dw ? p->kernel_w : (s8 ? (i_n + 1) / 2 : i_n);
    floats = (size_t)taps * (size_t)(dw ? 1 : *rows) * (size_t)*ld;
    if (floats > c->scratch_floats)
        return -1;
    if (dw)
        pack_dw(p, w, s8, o_n, *ld, c->scratch);
    else
        pack_dense(p, w, s8, o_n, i_n, *ld, c->scratch);
    c->stats.packed_bytes += floats * sizeof(float);
    *wp = c->scratch;
    return 0;
}

static sn_status cpu_conv(void *ctx, const sn_conv2d_params *p, const float *in,
                          const float *w, const float *scale, const float *bias, float *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    int32_t rows, ld;
    sn_status st = sn_conv2d_check(p, 0);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 0, 0, &wp, &rows, &ld) != 0)
        return sn_conv2d_ref_f32(p, in, w, scale, bias, out);
    pad_vectors(c, p->out_c, scale, bias);
    c->k->conv_f32(p, in, (const float *)wp, rows, ld, c->scale_pad, c->bias_pad, out, c->zeros);
    return SN_OK;
}

static sn_status cpu_dwconv(void *ctx, const sn_conv2d_params *p, const float *in,
                            const float *w, const float *scale, const float *bias, float *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    int32_t rows, ld;
    sn_status st = sn_conv2d_check(p, 1);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 1, 0, &wp, &rows, &ld) != 0)
        return sn_depthwise_conv2d_ref_f32(p, in, w, scale, bias, out);
    pad_vectors(c, p->out_c, scale, bias);
    c->k->dwconv_f32(p, in, (const float *)wp, ld, rows, c->scale_pad, c->bias_pad, out);
    return SN_OK;
}

static void pad_ivectors(sn_cpu *c, int32_t n, const int32_t *bias, const sn_quant_params *q)
{
    int32_t i, m = (int32_t)round16z((size_t)n);
    for (i = 0; i < n; ++i) {
        c->ibias_pad[i] = bias ? bias[i] : 0;
        c->mult_pad[i] = q->multiplier[i];
        c->shift_pad[i] = q->shift[i];
    }
    for (; i < m; ++i)
        c->ibias_pad[i] = c->mult_pad[i] = c->shift_pad[i] = 0;
}

static sn_status cpu_conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                             const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    int32_t rows, ld;
    sn_status st = sn_conv2d_check(p, 0);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS ||
        (uint64_t)p->in_h * (uint64_t)p->in_w * (uint64_t)((p->in_c + 1) / 2) > PAIR_WORDS ||
        resolve(c, p, w, 0, 1, &wp, &rows, &ld) != 0)
        return sn_conv2d_ref_s8(p, q, in, w, bias, out);
    pad_ivectors(c, p->out_c, bias, q);
    c->k->conv_s8(p, q, in, (const int32_t *)wp, rows, ld, c->ibias_pad, c->mult_pad, c->shift_pad,
                  out, c->pairs, c->zero_pairs);
    return SN_OK;
}

static sn_status cpu_dwconv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                               const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    int32_t rows, ld;
    sn_status st = sn_conv2d_check(p, 1);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 1, 1, &wp, &rows, &ld) != 0)
        return sn_depthwise_conv2d_ref_s8(p, q, in, w, bias, out);
    pad_ivectors(c, p->out_c, bias, q);
    c->k->dwconv_s8(p, q, in, (const int32_t *)wp, ld, rows, c->ibias_pad, c->mult_pad, c->shift_pad,
                    out);
    return SN_OK;
}

static const sn_platform_ops cpu_ops = {
    /* .conv2d_f32 = */ cpu_conv,
    /* .depthwise_conv2d_f32 = */ cpu_dwconv,
    /* .conv2d_s8 = */ cpu_conv_s8,
    /* .depthwise_conv2d_s8 = */ cpu_dwconv_s8,
    /* .arac_micro_flows = */ NULL, /* tiles run one after another through the slots */
};

void sn_cpu_platform(sn_cpu *c, sn_platform *platform)
{
    platform->name = "cpu";
    platform->ops = &cpu_ops;
    platform->context = c;
}

static int place(void *ctx, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS)
        return 0;
    return make_entry(ctx, w, dw, s8, p, p->out_c, dw ? 0 : p->in_c) != NULL;
}

sn_status sn_cpu_make_resident(sn_cpu *c, const sn_plan *plan, size_t *resident_bytes)
{
    size_t bytes;
    if (!c || !plan)
        return SN_ERR_INVALID_ARGUMENT;
    bytes = sn_windex_place_plan(plan, place, c);
    if (resident_bytes)
        *resident_bytes = bytes;
    return SN_OK;
}
