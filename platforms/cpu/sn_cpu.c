/* supernav CPU platform: ISA dispatch, weight packing and SubGraph residency. */
#include "sn_cpu.h"

#include <pthread.h>
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
    struct cpu_pool *pool;         /* threads > 1: the micro-flow workers; NULL otherwise */
};

/* One worker of the micro-flow pool (worker 0 is the calling thread). VIEW is a copy of
 * the platform made before each parallel phase: the same kernels, budget and resident
 * index (read only while the workers run), but its own scratch, padded vectors, pair
 * buffer and statistics, and explicit residency, so it never changes the index. */
typedef struct cpu_worker {
    sn_cpu view;
    sn_platform platform;
    float *tb[3];                  /* its tile buffers */
    size_t tb_floats;
    pthread_t thread;
    int started;
    struct cpu_pool *pool;
} cpu_worker;

typedef struct cpu_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen;                  /* bumped for each job */
    int stop, active;              /* active: helper workers still on the job */
    const sn_plan *plan;
    const uint8_t *canvas;
    uint32_t todo[SN_PLAN_MAX_TILES], ntodo, next; /* regions of the plan's last invoke */
    sn_status st;
    int n;
    cpu_worker *w;
} cpu_pool;

static size_t round16z(size_t v) { return (v + 15u) & ~(size_t)15u; }

void sn_cpu_options_default(sn_cpu_options *o)
{
    o->isa = NULL;
    o->near_budget_bytes = SIZE_MAX;
    o->residency = SN_CPU_RESIDENT_ON_USE;
    o->threads = 0;
}

/* SN_CPU_MAX_ISA caps what this process may use, as if the CPU lacked the wider ISAs
 * (oneDNN's ONEDNN_MAX_CPU_ISA in spirit): "avx512" (no cap), "avx2" or "portable".
 * Returns the rank of the cap (2, 1, 0), 2 when unset, -1 when set to anything else. */
static int isa_rank(const char *isa)
{
    return !strcmp(isa, "avx512") ? 2 : !strcmp(isa, "avx2") ? 1 : !strcmp(isa, "portable") ? 0 : -1;
}

static int isa_cap(void)
{
    const char *cap = getenv("SN_CPU_MAX_ISA");
    return cap && *cap ? isa_rank(cap) : 2;
}

int sn_cpu_isa_available(const char *isa)
{
    if (!strcmp(isa, "portable"))
        return 1;
    if (isa_rank(isa) > isa_cap())
        return 0;
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


static int pool_create(sn_cpu *c, int threads);
static void pool_destroy(sn_cpu *c);

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
    if (isa_cap() < 0) {
        if (why)
            *why = "SN_CPU_MAX_ISA must be avx512, avx2 or portable";
        return SN_ERR_INVALID_ARGUMENT;
    }
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
            *why = "this processor (or build) lacks the requested ISA, or SN_CPU_MAX_ISA excludes it";
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
    if (options->threads > 1 && pool_create(c, options->threads) != 0) {
        sn_cpu_destroy(c);
        if (why)
            *why = "cannot start the micro-flow threads";
        return SN_ERR_NO_MEMORY;
    }
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
    pool_destroy(c);
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
    if (scale)
        memcpy(c->scale_pad, scale, (size_t)n * sizeof(float));
    else
        for (i = 0; i < n; ++i)
            c->scale_pad[i] = 1.0f;
    if (bias)
        memcpy(c->bias_pad, bias, (size_t)n * sizeof(float));
    else
        memset(c->bias_pad, 0, (size_t)n * sizeof(float));
    for (i = n; i < m; ++i) {
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

static sn_status cpu_add(void *ctx, float *out, const float *in, uint32_t n)
{
    ((sn_cpu *)ctx)->k->add_f32(out, in, n);
    return SN_OK;
}

static sn_status cpu_resize(void *ctx, const uint8_t *canvas, uint32_t src, float *out, uint32_t dst)
{
    return ((sn_cpu *)ctx)->k->resize_canvas_f32(canvas, src, out, dst) ? SN_OK : SN_ERR_UNSUPPORTED;
}

static const sn_platform_ops cpu_ops = {
    /* .conv2d_f32 = */ cpu_conv,
    /* .depthwise_conv2d_f32 = */ cpu_dwconv,
    /* .conv2d_s8 = */ cpu_conv_s8,
    /* .depthwise_conv2d_s8 = */ cpu_dwconv_s8,
    /* .arac_micro_flows = */ NULL, /* tiles run one after another through the slots */
    /* .add_f32 = */ cpu_add,
    /* .resize_canvas_f32 = */ cpu_resize,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};

static sn_status cpu_micro_flows(void *ctx, const sn_plan *plan, const uint8_t *canvas);

static const sn_platform_ops cpu_ops_threads = {
    /* .conv2d_f32 = */ cpu_conv,
    /* .depthwise_conv2d_f32 = */ cpu_dwconv,
    /* .conv2d_s8 = */ cpu_conv_s8,
    /* .depthwise_conv2d_s8 = */ cpu_dwconv_s8,
    /* .arac_micro_flows = */ cpu_micro_flows, /* the tiles spread over the pool */
    /* .add_f32 = */ cpu_add,
    /* .resize_canvas_f32 = */ cpu_resize,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};

void sn_cpu_platform(sn_cpu *c, sn_platform *platform)
{
    platform->name = "cpu";
    platform->ops = c->pool ? &cpu_ops_threads : &cpu_ops;
    platform->context = c;
}

int sn_cpu_threads(const sn_cpu *c) { return c->pool ? c->pool->n : 1; }

/* ---- ARAC micro-flows on threads ----------------------------------------------------- */
/* The scratch a view owns (the rest of it is the platform's, copied). */
static int view_alloc(sn_cpu *v, size_t scratch_floats)
{
    memset(v, 0, sizeof *v);
    return posix_memalign((void **)&v->scratch, 64, (scratch_floats ? scratch_floats : 16) * sizeof(float)) ||
           posix_memalign((void **)&v->scale_pad, 64, MAX_CHANNELS * sizeof(float)) ||
           posix_memalign((void **)&v->bias_pad, 64, MAX_CHANNELS * sizeof(float)) ||
           posix_memalign((void **)&v->ibias_pad, 64, MAX_CHANNELS * sizeof(int32_t)) ||
           posix_memalign((void **)&v->mult_pad, 64, MAX_CHANNELS * sizeof(int32_t)) ||
           posix_memalign((void **)&v->shift_pad, 64, MAX_CHANNELS * sizeof(int32_t)) ||
           posix_memalign((void **)&v->pairs, 64, PAIR_WORDS * sizeof(int32_t))
               ? -1
               : 0;
}

static void view_free(sn_cpu *v)
{
    free(v->scratch);
    free(v->scale_pad);
    free(v->bias_pad);
    free(v->ibias_pad);
    free(v->mult_pad);
    free(v->shift_pad);
    free(v->pairs);
}

/* Copies the platform into a worker's view, keeping the view's own buffers. */
static void view_refresh(sn_cpu *v, const sn_cpu *c)
{
    sn_cpu own = *v;
    *v = *c;
    v->scratch = own.scratch;
    v->scale_pad = own.scale_pad;
    v->bias_pad = own.bias_pad;
    v->ibias_pad = own.ibias_pad;
    v->mult_pad = own.mult_pad;
    v->shift_pad = own.shift_pad;
    v->pairs = own.pairs;
    v->residency = SN_CPU_RESIDENT_EXPLICIT;
    v->pool = NULL;
    memset(&v->stats, 0, sizeof v->stats);
}

static void run_share(cpu_pool *pl, cpu_worker *w)
{
    for (;;) {
        uint32_t i;
        sn_status st;
        pthread_mutex_lock(&pl->mu);
        i = pl->next < pl->ntodo ? pl->next++ : pl->ntodo;
        pthread_mutex_unlock(&pl->mu);
        if (i >= pl->ntodo)
            return;
        st = sn_plan_run_region(pl->plan, &w->platform, pl->canvas, pl->todo[i], w->tb);
        if (st != SN_OK) {
            pthread_mutex_lock(&pl->mu);
            if (pl->st == SN_OK)
                pl->st = st;
            pthread_mutex_unlock(&pl->mu);
        }
    }
}

/* A short spin before sleeping on a condition variable: a sleeping thread takes tens of
 * microseconds to wake, a large share of one invoke's micro-flows. */
#define SPIN_ROUNDS 20000
static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
    cpu_worker *w = arg;
    cpu_pool *pl = w->pool;
    unsigned seen = 0;
    for (;;) {
        int k;
        for (k = 0; k < SPIN_ROUNDS && __atomic_load_n(&pl->gen, __ATOMIC_ACQUIRE) == seen &&
                    !__atomic_load_n(&pl->stop, __ATOMIC_ACQUIRE);
             ++k)
            relax();
        pthread_mutex_lock(&pl->mu);
        while (pl->gen == seen && !pl->stop)
            pthread_cond_wait(&pl->go, &pl->mu);
        if (pl->stop) {
            pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        seen = pl->gen;
        pthread_mutex_unlock(&pl->mu);
        run_share(pl, w);
        pthread_mutex_lock(&pl->mu);
        if (__atomic_sub_fetch(&pl->active, 1, __ATOMIC_ACQ_REL) == 0)
            pthread_cond_signal(&pl->done);
        pthread_mutex_unlock(&pl->mu);
    }
}

static int pool_create(sn_cpu *c, int threads)
{
    cpu_pool *pl;
    int i;
    if (threads > SN_CPU_MAX_THREADS)
        threads = SN_CPU_MAX_THREADS;
    pl = calloc(1, sizeof *pl);
    if (!pl)
        return -1;
    pl->w = calloc((size_t)threads, sizeof *pl->w);
    if (!pl->w || pthread_mutex_init(&pl->mu, NULL) != 0) {
        free(pl->w);
        free(pl);
        return -1;
    }
    pthread_cond_init(&pl->go, NULL);
    pthread_cond_init(&pl->done, NULL);
    c->pool = pl;
    for (i = 0; i < threads; ++i) {
        cpu_worker *w = &pl->w[i];
        w->pool = pl;
        pl->n = i + 1;
        if (view_alloc(&w->view, c->scratch_floats) != 0)
            return -1;
        w->platform.name = "cpu";
        w->platform.ops = &cpu_ops;
        w->platform.context = &w->view;
        if (i > 0) {
            if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
                return -1;
            w->started = 1;
        }
    }
    return 0;
}

static void pool_destroy(sn_cpu *c)
{
    cpu_pool *pl = c->pool;
    int i;
    if (!pl)
        return;
    pthread_mutex_lock(&pl->mu);
    __atomic_store_n(&pl->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
    for (i = 0; i < pl->n; ++i) {
        cpu_worker *w = &pl->w[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        view_free(&w->view);
        free(w->tb[0]);
        free(w->tb[1]);
        free(w->tb[2]);
    }
    pthread_cond_destroy(&pl->go);
    pthread_cond_destroy(&pl->done);
    pthread_mutex_destroy(&pl->mu);
    free(pl->w);
    free(pl);
    c->pool = NULL;
}

static void add_stats(sn_cpu_stats *a, const sn_cpu_stats *b)
{
    a->near_bytes += b->near_bytes;
    a->far_bytes += b->far_bytes;
    a->packed_bytes += b->packed_bytes;
    a->layers_near += b->layers_near;
    a->layers_far += b->layers_far;
}

/* The micro-flows (regions) of one invoke over the pool. With on-use residency the first
 * region of each level in use runs alone first, on the platform itself, so that it makes the
 * level's weights resident exactly as the one-by-one loop would; then the index is only read. */
static sn_status cpu_micro_flows(void *ctx, const sn_plan *plan, const uint8_t *canvas)
{
    sn_cpu *c = ctx;
    cpu_pool *pl = c->pool;
    const sn_arac_plan *ar = &plan->arac;
    uint32_t r;
    size_t need = ar->tile_buffer_floats ? ar->tile_buffer_floats : 16;
    int i, first[SN_CONFIG_MAX_LEVELS];
    sn_status st;
    if (!pl || ar->num_regions > SN_PLAN_MAX_TILES)
        return SN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < SN_CONFIG_MAX_LEVELS; ++i)
        first[i] = -1;
    /* tile buffers grow to the largest ARAC plan seen (the first invoke of a larger plan,
     * which a warm-up covers) */
    for (i = 0; i < pl->n; ++i) {
        cpu_worker *w = &pl->w[i];
        int b;
        if (w->tb_floats >= need)
            continue;
        for (b = 0; b < 3; ++b) {
            free(w->tb[b]);
            w->tb[b] = NULL;
            if (posix_memalign((void **)&w->tb[b], 64, need * sizeof(float)) != 0) {
                w->tb[b] = NULL;
                w->tb_floats = 0;
                return SN_ERR_NO_MEMORY;
            }
        }
        w->tb_floats = need;
    }
    pl->ntodo = 0;
    for (r = 0; r < ar->num_regions; ++r) {
        int lv = ar->regions[r].level;
        if (c->residency == SN_CPU_RESIDENT_ON_USE && first[lv] < 0) {
            sn_platform self;
            first[lv] = (int)r;
            sn_cpu_platform(c, &self);
            self.ops = &cpu_ops;
            if ((st = sn_plan_run_region(plan, &self, canvas, r, pl->w[0].tb)) != SN_OK)
                return st;
            continue;
        }
        pl->todo[pl->ntodo++] = r;
    }
    if (pl->ntodo == 0)
        return SN_OK;
    for (i = 0; i < pl->n; ++i)
        view_refresh(&pl->w[i].view, c);
    pthread_mutex_lock(&pl->mu);
    pl->plan = plan;
    pl->canvas = canvas;
    pl->next = 0;
    pl->st = SN_OK;
    pl->active = pl->n - 1;
    __atomic_add_fetch(&pl->gen, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
    run_share(pl, &pl->w[0]);
    {
        int k;
        for (k = 0; k < SPIN_ROUNDS && __atomic_load_n(&pl->active, __ATOMIC_ACQUIRE) > 0; ++k)
            relax();
    }
    pthread_mutex_lock(&pl->mu);
    while (pl->active > 0)
        pthread_cond_wait(&pl->done, &pl->mu);
    st = pl->st;
    pthread_mutex_unlock(&pl->mu);
    for (i = 0; i < pl->n; ++i)
        add_stats(&c->stats, &pl->w[i].view.stats);
    return st;
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
