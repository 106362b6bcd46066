/* supernav CPU platform: ISA dispatch, the packed store and SubGraph residency. */
#include "sn_cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#define SN_CPU_CLFLUSH 1
#endif

#include "sn_cpu_kernels.h"
#include "sn_windex.h"

#ifdef SN_CPU_HAVE_X86
#include <cpuid.h>
#endif

#define MAX_CHANNELS SN_CPU_MAX_CHANNELS
#define S8_WORDS (1u << 20)        /* int8 kernels' work area: maps up to 4 MiB of words */
#define LINE 64u                   /* cache line bytes: 16 packed words, 64 int8 depthwise taps */

/* One tensor of the model image and its packed copy in the store (packed NULL: not a
 * convolution the kernels take). Its resident box (res_k 0: none) is the near memory. */
typedef struct cpu_tensor {
    void *packed;
    int32_t k, o, i;               /* kernel side; outputs (depthwise: channels); inputs (dw: 0) */
    int32_t rows, ld;              /* packed rows per tap (dense: ceil(i / g); dw: 1); elements
                                      per row (a multiple of 16; int8 depthwise: of 64) */
    int32_t g;                     /* inputs per packed element (int8 dense: the kernels'
                                      s8_group, 4 or 2; else 1) */
    uint8_t dw, s8;
    uint8_t esz;                   /* bytes per packed element: 1 for int8 depthwise (kept
                                      int8), else 4 (fp32, or a word of g int8 inputs) */
    int32_t res_o, res_i, res_k;   /* the resident leading box, centred res_k x res_k crop */
} cpu_tensor;

struct sn_cpu {
    const sn_model *model;
    const sn_cpu_kernels *k;
    int residency;
    size_t budget, used;           /* bytes as the model stores them */
    char *store;                   /* every tensor's packed copy */
    size_t store_bytes;
    cpu_tensor *tens;              /* one per index.tensors entry, in its order */
    float *scratch;                /* weights outside the image: one layer's, packed per call */
    size_t scratch_floats;
    float *zeros, *scale_pad, *bias_pad;
    sn_cpu_s8_work s8;             /* the int8 kernels' scratch */
    struct rq_slot *rq_slots;      /* prepared int8 requantizations (rq_for), shared by views */
    int32_t *rq_pool;
    size_t rq_pool_used;
    int rq_insert;                 /* 1: this platform may add to them (not a worker's view) */
    sn_cpu_rq rq_scratch;          /* a requantization prepared for one call */
    sn_windex index;               /* the model's tensor map (its slot table is not used here) */
    struct view_memo {             /* map_view's answers for recent calls (resolve): the store's
                                    * layout never changes, so they hold for the platform's life */
        const void *w;             /* NULL: an empty entry */
        int32_t out_c, in_c, kh, kw, skw, skh, sout;
        int32_t tensor, y0, x0;    /* tensor: index into tens, -1 for none */
        int dw, s8;
    } memo[128];
    sn_cpu_stats stats;
    struct cpu_pool *pool;         /* threads > 1: the micro-flow workers; NULL otherwise */
};

/* One worker of the micro-flow pool (worker 0 is the calling thread). VIEW is a copy of
 * the platform made before each parallel phase: the same kernels, budget and resident
 * index (read only while the workers run), but its own scratch, padded vectors, int8
 * work area and statistics, and explicit residency, so it never changes the index. */
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
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

void sn_cpu_options_default(sn_cpu_options *o)
{
    o->isa = NULL;
    o->near_budget_bytes = SIZE_MAX;
    o->residency = SN_CPU_RESIDENT_ON_USE;
    o->threads = 0;
}

/* The ISA builds, widest first: "auto" takes the first this processor runs. */
static const char *const isa_names[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};
#define ISA_COUNT (int)(sizeof isa_names / sizeof *isa_names)

/* SN_CPU_MAX_ISA caps what this process may use, as if the CPU lacked the wider ISAs
 * (oneDNN's ONEDNN_MAX_CPU_ISA in spirit): one of isa_names (avx512: AVX-512 without VNNI,
 * avxvnni: AVX2 with AVX-VNNI and no AVX-512, ...). Returns the rank of ISA (4 for
 * avx512vnni down to 0 for portable), -1 for another name; the cap's rank is 4 when unset. */
static int isa_rank(const char *isa)
{
    int k;
    for (k = 0; k < ISA_COUNT; ++k)
        if (!strcmp(isa, isa_names[k]))
            return ISA_COUNT - 1 - k;
    return -1;
}

static int isa_cap(void)
{
    const char *cap = getenv("SN_CPU_MAX_ISA");
    return cap && *cap ? isa_rank(cap) : ISA_COUNT - 1;
}

#ifdef SN_CPU_HAVE_X86
/* Bit BIT of register REG (0 EAX .. 3 EDX) of CPUID leaf LEAF, subleaf SUB (the VNNI bits, which
 * not every compiler's __builtin_cpu_supports names; the OS's saving of the vector state is
 * what the AVX2 and AVX-512F checks beside them establish). */
static int cpuid_bit(unsigned leaf, unsigned sub, int reg, int bit)
{
    unsigned r[4];
    if (__get_cpuid_max(0, NULL) < leaf)
        return 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    return (int)((r[reg] >> bit) & 1u);
}
#endif

int sn_cpu_isa_available(const char *isa)
{
    if (!strcmp(isa, "portable"))
        return 1;
    if (isa_rank(isa) > isa_cap())
        return 0;
#ifdef SN_CPU_HAVE_X86
    __builtin_cpu_init();
    if (!strcmp(isa, "avx2") || !strcmp(isa, "avxvnni"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               (isa[3] != 'v' || cpuid_bit(7, 1, 0, 4)); /* AVX-VNNI: leaf 7.1 EAX bit 4 */
    if (!strcmp(isa, "avx512") || !strcmp(isa, "avx512vnni"))
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("fma") && (isa[6] != 'v' || cpuid_bit(7, 0, 2, 11)); /* 7.0 ECX bit 11 */
#endif
    return 0;
}

static const sn_cpu_kernels *kernels_for(const char *isa)
{
    if (!sn_cpu_isa_available(isa))
        return NULL;
#ifdef SN_CPU_HAVE_X86
    if (!strcmp(isa, "avx512vnni"))
        return &sn_cpu_kernels_avx512vnni;
    if (!strcmp(isa, "avx512"))
        return &sn_cpu_kernels_avx512;
    if (!strcmp(isa, "avxvnni"))
        return &sn_cpu_kernels_avxvnni;
    if (!strcmp(isa, "avx2"))
        return &sn_cpu_kernels_avx2;
#endif
    return &sn_cpu_kernels_portable;
}

/* ---- packing ------------------------------------------------------------------------- */
/* int8 dense: GROUP inputs to an int32 word (sn_cpu_kernels.h), one word per (tap, group of
 * inputs, output); rows = ceil(i_n / GROUP). */
static void pack_dense_s8(const sn_conv2d_params *p, const int8_t *w, int32_t o_n, int32_t i_n,
                          int32_t ld, int group, int32_t *dst)
{
    const int bits = 32 / group;
    const uint32_t mask = group == 4 ? 0xffu : 0xffffu;
    int32_t t, r, o, j, taps = p->kernel_h * p->kernel_w, rows = (i_n + group - 1) / group;
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        for (r = 0; r < rows; ++r) {
            int32_t *row = dst + ((size_t)t * (size_t)rows + (size_t)r) * (size_t)ld;
            for (o = 0; o < o_n; ++o) {
                const int8_t *wo = w + (size_t)o * (size_t)p->w_stride_out +
                                   (size_t)(ky * p->w_stride_kh) + (size_t)(kx * p->w_stride_kw);
                uint32_t word = 0;
                for (j = 0; j < group && r * group + j < i_n; ++j)
                    word |= ((uint32_t)(int32_t)wo[r * group + j] & mask) << (bits * j);
                row[o] = (int32_t)word;
            }
            for (; o < ld; ++o)
                row[o] = 0;
        }
    }
}

/* Packs the (o_n, i_n) leading slice of a dense view into DST with row stride LD (int8: GROUP
 * inputs to a word). */
static void pack_dense(const sn_conv2d_params *p, const void *w, int s8, int group, int32_t o_n, int32_t i_n,
                       int32_t ld, void *dst)
{
    int32_t t, i, o, taps = p->kernel_h * p->kernel_w;
    const float *wf = w;
    if (s8) {
        pack_dense_s8(p, w, o_n, i_n, ld, group, dst);
        return;
    }
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        for (i = 0; i < i_n; ++i) {
            float *row = (float *)dst + ((size_t)t * (size_t)i_n + (size_t)i) * (size_t)ld;
            for (o = 0; o < o_n; ++o)
                row[o] = wf[(size_t)o * (size_t)p->w_stride_out + (size_t)(ky * p->w_stride_kh) +
                            (size_t)(kx * p->w_stride_kw) + (size_t)i];
            memset(row + o_n, 0, (size_t)(ld - o_n) * sizeof(float));
        }
    }
}

/* Depthwise: tap t's C_N channels at DST + t * LD elements (4-byte floats, or int8 bytes), zero
 * up to LD. */
static void pack_dw(const sn_conv2d_params *p, const void *w, int s8, int32_t c_n, int32_t ld, void *dst)
{
    const size_t esz = s8 ? 1u : 4u;
    int32_t t, taps = p->kernel_h * p->kernel_w;
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        char *row = (char *)dst + (size_t)t * (size_t)ld * esz;
        memcpy(row, (const char *)w + (size_t)(ky * p->w_stride_kh + kx * p->w_stride_kw) * esz, (size_t)c_n * esz);
        memset(row + (size_t)c_n * esz, 0, (size_t)(ld - c_n) * esz);
    }
}

/* Packed size in 4-byte words: dense ROWS rows per tap, depthwise one row of LD (int8: bytes). */
static size_t packed_words(int dw, int s8, int32_t taps, int32_t rows, int32_t ld)
{
    if (dw)
        return ((size_t)taps * (size_t)ld * (s8 ? 1u : 4u) + 3u) / 4u;
    return (size_t)taps * (size_t)rows * (size_t)ld;
}

/* ---- the store ----------------------------------------------------------------------- */
static int32_t rows_of(const cpu_tensor *t, int32_t i) { return t->dw ? 1 : (i + t->g - 1) / t->g; }

/* The cache lines of a packed row that hold its first O elements. */
static int32_t lines_of(const cpu_tensor *t, int32_t o)
{
    return (int32_t)(((size_t)o * t->esz + LINE - 1u) / LINE);
}

/* Bytes as the model stores them of T's leading O x I box (depthwise: O), centred K x K. */
static uint64_t box_bytes(const cpu_tensor *t, int32_t o, int32_t i, int32_t k)
{
    if (o <= 0 || k <= 0)
        return 0;
    return (uint64_t)o * (uint64_t)(t->dw ? 1 : i) * (uint64_t)k * (uint64_t)k * (t->s8 ? 1u : 4u);
}

/* Describes tensor WT for the store (packed stays NULL when the kernels do not take it: not
 * a square convolution kernel of at most SN_CPU_MAX_TAPS taps); GROUP: int8 dense inputs per
 * word. Returns its packed bytes. */
static size_t tensor_shape(const sn_wtensor *wt, cpu_tensor *t, int group)
{
    memset(t, 0, sizeof *t);
    if (!sn_wtensor_conv_shape(wt, &t->k, &t->o, &t->i, &t->dw) || t->k * t->k > SN_CPU_MAX_TAPS ||
        t->o > MAX_CHANNELS || t->i > MAX_CHANNELS)
        return 0;
    t->s8 = wt->dtype == SN_DTYPE_S8;
    t->g = t->s8 && !t->dw ? group : 1;
    t->esz = t->s8 && t->dw ? 1u : 4u;
    t->rows = rows_of(t, t->i);
    /* each packed row starts on a cache line (the flush and the near/far lines below) */
    t->ld = t->esz == 1u ? (t->o + 63) & ~63 : (int32_t)round16z((size_t)t->o);
    return (size_t)t->k * (size_t)t->k * (size_t)t->rows * (size_t)t->ld * t->esz;
}

/* Packs the whole of WT into T->packed. */
static void tensor_pack(const sn_wtensor *wt, cpu_tensor *t)
{
    sn_conv2d_params q;
    memset(&q, 0, sizeof q);
    q.kernel_h = q.kernel_w = t->k;
    q.out_c = t->o;
    q.in_c = t->dw ? t->o : t->i;
    q.w_stride_kw = t->dw ? t->o : t->i;
    q.w_stride_kh = t->k * q.w_stride_kw;
    q.w_stride_out = t->dw ? 0 : t->k * q.w_stride_kh;
    if (t->dw)
        pack_dw(&q, wt->lo, t->s8, t->o, t->ld, t->packed);
    else
        pack_dense(&q, wt->lo, t->s8, t->g, t->o, t->i, t->ld, t->packed);
}

/* The stored tensor that view W (geometry P) reads, and its kernel crop's first tap (Y0, X0);
 * NULL when the store does not hold it (weights outside the image, another layout). */
static cpu_tensor *map_view(const sn_cpu *c, const void *w, int dw, int s8, const sn_conv2d_params *p,
                            int32_t *y0, int32_t *x0)
{
    const sn_wtensor *wt = sn_windex_tensor_of(&c->index, w);
    size_t esz = s8 ? 1u : 4u, off;
    cpu_tensor *t;
    if (!wt)
        return NULL;
    t = &c->tens[wt - c->index.tensors];
    if (!t->packed || t->dw != dw || t->s8 != s8 || (size_t)((const char *)w - wt->lo) % esz)
        return NULL;
    off = (size_t)((const char *)w - wt->lo) / esz;
    if (p->out_c > t->o || p->kernel_h > t->k || p->kernel_w > t->k)
        return NULL;
    if (dw) { /* a centred (or any) crop of the kernel: the kernels take its tap row */
        size_t tap;
        if (p->w_stride_kw != t->o || p->w_stride_kh != t->k * t->o || off % (size_t)t->o)
            return NULL;
        tap = off / (size_t)t->o;
        *y0 = (int32_t)(tap / (size_t)t->k);
        *x0 = (int32_t)(tap % (size_t)t->k);
        return *y0 + p->kernel_h <= t->k && *x0 + p->kernel_w <= t->k ? t : NULL;
    }
    /* dense: the whole kernel (its packed taps are contiguous only so), leading O x I */
    if (off || p->kernel_h != t->k || p->kernel_w != t->k || p->in_c > t->i || p->w_stride_kw != t->i ||
        p->w_stride_kh != t->k * t->i || p->w_stride_out != t->k * t->k * t->i)
        return NULL;
    *y0 = *x0 = 0;
    return t;
}

/* map_view through the platform's memo of recent answers (keyed by the weights' address, the
 * kind and the geometry map_view reads). */
static cpu_tensor *map_view_memo(sn_cpu *c, const void *w, int dw, int s8, const sn_conv2d_params *p,
                                 int32_t *y0, int32_t *x0)
{
    const size_t n = sizeof c->memo / sizeof *c->memo;
    uint64_t h = ((uint64_t)(uintptr_t)w ^ (uint64_t)(uint32_t)(p->out_c * 64 + p->in_c * 2 + dw)) * 0x9E3779B97F4A7C15u;
    struct view_memo *m = NULL;
    cpu_tensor *t;
    size_t k;
    h >>= 40;
    for (k = 0; k < 4; ++k) { /* four probes; a miss takes the first empty entry, else the first */
        struct view_memo *e = &c->memo[(h + k) % n];
        if (e->w == w && e->dw == dw && e->s8 == s8 && e->out_c == p->out_c && e->in_c == p->in_c &&
            e->kh == p->kernel_h && e->kw == p->kernel_w && e->skw == p->w_stride_kw && e->skh == p->w_stride_kh &&
            e->sout == p->w_stride_out) {
            *y0 = e->y0;
            *x0 = e->x0;
            return e->tensor < 0 ? NULL : &c->tens[e->tensor];
        }
        if (!e->w) {
            m = e;
            break;
        }
    }
    if (!m)
        m = &c->memo[h % n];
    t = map_view(c, w, dw, s8, p, y0, x0);
    m->w = w;
    m->dw = dw;
    m->s8 = s8;
    m->out_c = p->out_c;
    m->in_c = p->in_c;
    m->kh = p->kernel_h;
    m->kw = p->kernel_w;
    m->skw = p->w_stride_kw;
    m->skh = p->w_stride_kh;
    m->sout = p->w_stride_out;
    m->tensor = t ? (int32_t)(t - c->tens) : -1;
    m->y0 = t ? *y0 : 0;
    m->x0 = t ? *x0 : 0;
    return t;
}

/* The centred crop side that holds a KH x KW crop at (Y0, X0) of a K x K kernel. */
static int32_t crop_side(int32_t k, int32_t y0, int32_t x0, int32_t kh, int32_t kw)
{
    int32_t c = (k - 1) / 2;
    int32_t e = max32(max32(c - y0, y0 + kh - 1 - c), max32(c - x0, x0 + kw - 1 - c));
    return 2 * e + 1;
}

static int32_t span_overlap(int32_t a0, int32_t an, int32_t b0, int32_t bn)
{
    int32_t lo = max32(a0, b0), hi = min32(a0 + an, b0 + bn);
    return hi > lo ? hi - lo : 0;
}

/* The bytes of view (P, crop at Y0, X0) of T inside T's resident box. */
static uint64_t view_near_bytes(const cpu_tensor *t, const sn_conv2d_params *p, int32_t y0, int32_t x0)
{
    int32_t r0 = (t->k - t->res_k) / 2;
    uint64_t taps;
    if (t->res_k <= 0 || t->res_o <= 0)
        return 0;
    taps = (uint64_t)span_overlap(y0, p->kernel_h, r0, t->res_k) * (uint64_t)span_overlap(x0, p->kernel_w, r0, t->res_k);
    return (uint64_t)min32(p->out_c, t->res_o) * (uint64_t)(t->dw ? 1 : min32(p->in_c, t->res_i)) * taps *
           (t->s8 ? 1u : 4u);
}

/* A region of a packed copy: taps [y0, y0 + h) x [x0, x0 + w) of the K x K kernel, packed
 * rows [0, rows) of each tap, lines [0, lines) of each row. */
typedef struct region {
    int32_t y0, x0, h, w, rows, lines;
} region;

static region box_region(const cpu_tensor *t, int32_t o, int32_t i, int32_t k)
{
    region r = {0, 0, 0, 0, 0, 0};
    if (o > 0 && k > 0) {
        r.y0 = r.x0 = (t->k - k) / 2;
        r.h = r.w = k;
        r.rows = rows_of(t, i);
        r.lines = lines_of(t, o);
    }
    return r;
}

/* Calls FN (when not NULL) on each line of T's packed copy inside A and outside B; returns
 * how many. A row's lines are its output channels 16 at a time (64 for int8 depthwise: every
 * row starts on a line), so a leading box's lines are the ones it reads. */
static size_t for_lines(const cpu_tensor *t, const region *a, const region *b, void (*fn)(const char *line))
{
    size_t n = 0;
    int32_t y, x, row, line;
    for (y = a->y0; y < a->y0 + a->h; ++y)
        for (x = a->x0; x < a->x0 + a->w; ++x)
            for (row = 0; row < a->rows; ++row) {
                const char *base = (const char *)t->packed +
                                   ((size_t)(y * t->k + x) * (size_t)t->rows + (size_t)row) * (size_t)t->ld * t->esz;
                int32_t from = y >= b->y0 && y < b->y0 + b->h && x >= b->x0 && x < b->x0 + b->w && row < b->rows
                                   ? b->lines : 0;
                for (line = from; line < a->lines; ++line, ++n)
                    if (fn)
                        fn(base + (size_t)line * LINE);
            }
    return n;
}

static void touch_line(const char *p) { (void)*(const volatile char *)p; }

static void flush_line(const char *p)
{
#ifdef SN_CPU_CLFLUSH
    _mm_clflush(p);
#else
    (void)p;
#endif
}

static void flush_fence(void)
{
#ifdef SN_CPU_CLFLUSH
    _mm_mfence();
#endif
}

const char *sn_cpu_flush_method(void)
{
#ifdef SN_CPU_CLFLUSH
    return "clflush";
#else
    return "none";
#endif
}

void sn_cpu_flush_lines(const void *p, size_t bytes)
{
    const char *a = (const char *)((uintptr_t)p & ~(uintptr_t)(LINE - 1u)), *end = (const char *)p + bytes;
    for (; a < end; a += LINE)
        flush_line(a);
    flush_fence();
}

/* T's resident box grown to hold (O, I, K) while the budget holds; TOUCH: read the lines it
 * adds (the move into near memory). Returns 1 when the box holds it. */
static int grow(sn_cpu *c, cpu_tensor *t, int32_t o, int32_t i, int32_t k, int touch)
{
    int32_t wo = max32(t->res_o, o), wi = t->dw ? 0 : max32(t->res_i, i), wk = max32(t->res_k, k);
    uint64_t have = box_bytes(t, t->res_o, t->res_i, t->res_k), need = box_bytes(t, wo, wi, wk);
    if (need == have && t->res_k > 0)
        return 1;
    if (c->used + (need - have) > c->budget)
        return 0;
    if (touch) {
        region a = box_region(t, wo, wi, wk), b = box_region(t, t->res_o, t->res_i, t->res_k);
        for_lines(t, &a, &b, touch_line);
    }
    c->used += (size_t)(need - have);
    t->res_o = wo;
    t->res_i = wi;
    t->res_k = wk;
    return 1;
}

/* ---- create ---------------------------------------------------------------------------- */
static int pool_create(sn_cpu *c, int threads);
static void pool_destroy(sn_cpu *c);

static int s8_alloc(sn_cpu_s8_work *w)
{
    w->word_count = S8_WORDS;
    return posix_memalign((void **)&w->words, 64, S8_WORDS * sizeof(int32_t)) != 0 ||
                   posix_memalign((void **)&w->rq, 64, (size_t)(SN_CPU_RQ_ROWS + 1) * MAX_CHANNELS * sizeof(int32_t)) != 0 ||
                   posix_memalign((void **)&w->dw_words, 64, SN_CPU_DW_WORDS * sizeof(int32_t)) != 0
               ? -1
               : 0;
}

/* ---- prepared int8 requantizations ----------------------------------------------------- */
/* A call's requantization constants depend on its quantization arrays (in the plan's arena),
 * its output offset and clamp, and, through the input offset's share, on the sums of its
 * weights; a depthwise call also needs its weights as words (dw_words_s8). For weights read
 * from the store (every tensor of the model image, packed once at create, near or far) they
 * are kept in a small table, found by the packed weights' address and the arrays' addresses
 * and checked against copies of the arrays' contents (a plan prepared again in the same arena
 * reuses the addresses). The store's addresses hold the same weights for the platform's life;
 * sn_cpu_evict_all empties the table all the same (a reset point: the next call of each layer
 * prepares it again). Weights packed into the scratch for one call (outside the model image)
 * are never kept. The constants are per-channel values, not weights: a far layer's kernels
 * still read its weights from the store's flushed lines. The depthwise weight words are a
 * copy of weights, so they are kept only for a call whose view lies wholly inside its
 * tensor's resident box (near memory, never flushed) and only read while it still does; a
 * call with far weights builds its words from the store's lines, cold as the flush left them,
 * into the view's own scratch. Worker views only read the table. */
#define RQ_SLOTS 1024u
#define RQ_POOL_WORDS (1u << 20)
#define RQ_PROBES 16u

typedef struct rq_slot {
    const void *wp;                      /* the call's packed weights; NULL: an empty slot */
    const int32_t *mult, *shift, *bias;
    int32_t oc, in_c, kh, kw, rows, ld, dw;
    int32_t in_off, out_off, act_min, act_max;
    int32_t *copy;                       /* mult, shift, bias (oc each) as prepared */
    int32_t *words;                      /* depthwise: room for the weight words */
    int words_ready;                     /* 1: WORDS built (while the view was near) */
    sn_cpu_rq rq;
} rq_slot;

static size_t rq_hash(const void *wp, const int32_t *mult, int32_t in_c)
{
    uint64_t h = (uint64_t)(uintptr_t)wp * 0x9E3779B97F4A7C15u ^ (uint64_t)(uintptr_t)mult * 0xC2B2AE3D27D4EB4Fu ^
                 (uint64_t)(uint32_t)in_c;
    return (size_t)(h ^ (h >> 29)) % RQ_SLOTS;
}

static int rq_matches(const rq_slot *e, const sn_conv2d_params *p, const sn_quant_params *q, const int32_t *bias,
                      int dw, const void *wp, int32_t rows, int32_t ld)
{
    const size_t n = (size_t)p->out_c * sizeof(int32_t);
    return e->wp == wp && e->mult == q->multiplier && e->shift == q->shift && e->bias == bias &&
           e->oc == p->out_c && e->in_c == p->in_c && e->kh == p->kernel_h && e->kw == p->kernel_w &&
           e->rows == rows && e->ld == ld && e->dw == dw && e->in_off == q->input_offset &&
           e->out_off == q->output_offset && e->act_min == q->act_min && e->act_max == q->act_max &&
           !memcmp(e->copy, q->multiplier, n) && !memcmp(e->copy + p->out_c, q->shift, n) &&
           (!bias || !memcmp(e->copy + 2 * p->out_c, bias, n));
}

static void rq_clear(sn_cpu *c)
{
    if (c->rq_slots)
        memset(c->rq_slots, 0, RQ_SLOTS * sizeof *c->rq_slots);
    c->rq_pool_used = 0;
}

/* The prepared requantization of one int8 call with packed weights WP (CACHE: they are the
 * store's; NEAR: all of the call's weights are in its tensor's resident box) and, for a
 * depthwise call, its weight words in *WORDS; NULL when the kernels do not take it (a shift
 * out of range, too many depthwise weight words). */
static const sn_cpu_rq *rq_for(sn_cpu *c, const sn_conv2d_params *p, const sn_quant_params *q, const int32_t *bias,
                               int dw, const void *wp, int32_t rows, int32_t ld, int cache, int near,
                               const int32_t **words)
{
    const int32_t oc = p->out_c, k_products = p->kernel_h * p->kernel_w * (dw ? 1 : p->in_c);
    const size_t stride = round16z((size_t)oc), group = (size_t)c->k->s8_group;
    const size_t nw = dw ? (size_t)p->kernel_h * (((size_t)p->kernel_w + group - 1) / group) * stride : 0;
    const size_t need = round16z(SN_CPU_RQ_ROWS * stride + 3 * (size_t)oc) + nw;
    int32_t *wsum = c->s8.rq + (size_t)SN_CPU_RQ_ROWS * MAX_CHANNELS, *rows_at = c->s8.rq;
    rq_slot *e = NULL;
    size_t h = 0, k;
    if (nw > SN_CPU_DW_WORDS)
        return NULL;
    cache = cache && c->rq_slots;
    if (cache) {
        h = rq_hash(wp, q->multiplier, p->in_c);
        for (k = 0; k < RQ_PROBES; ++k) {
            rq_slot *s = &c->rq_slots[(h + k) % RQ_SLOTS];
            if (!s->wp) {
                if (!e)
                    e = s;
                break;
            }
            if (rq_matches(s, p, q, bias, dw, wp, rows, ld)) {
                *words = c->s8.dw_words;
                if (!dw)
                    return &s->rq;
                if (near && !s->words_ready && c->rq_insert) {
                    c->k->dw_words_s8(p, wp, ld, rows, s->words);
                    s->words_ready = 1;
                }
                if (near && s->words_ready)
                    *words = s->words;
                else /* far weights, or a worker's view: built from the store now */
                    c->k->dw_words_s8(p, wp, ld, rows, c->s8.dw_words);
                return &s->rq;
            }
            if (!e && s->wp == wp && s->mult == q->multiplier && s->in_c == p->in_c)
                e = s; /* the same layer with other contents: replace it */
        }
        if (!c->rq_insert || need > RQ_POOL_WORDS)
            cache = 0;
    }
    if (cache) {
        if (!e || c->rq_pool_used + need > RQ_POOL_WORDS) { /* full: start again */
            rq_clear(c);
            e = &c->rq_slots[h];
        }
        rows_at = c->rq_pool + c->rq_pool_used;
    }
    if (q->input_offset != 128)
        c->k->wsum_s8(p, dw, wp, rows, ld, wsum);
    if (c->k->rq_s8(q, bias, wsum, oc, k_products, rows_at, cache ? stride : MAX_CHANNELS,
                    cache ? &e->rq : &c->rq_scratch) != 0) {
        if (cache)
            e->wp = NULL;
        return NULL;
    }
    if (!cache) {
        if (dw)
            c->k->dw_words_s8(p, wp, ld, rows, c->s8.dw_words);
        *words = c->s8.dw_words;
        return &c->rq_scratch;
    }
    c->rq_pool_used += need;
    e->wp = wp;
    e->mult = q->multiplier;
    e->shift = q->shift;
    e->bias = bias;
    e->oc = oc;
    e->in_c = p->in_c;
    e->kh = p->kernel_h;
    e->kw = p->kernel_w;
    e->rows = rows;
    e->ld = ld;
    e->dw = dw;
    e->in_off = q->input_offset;
    e->out_off = q->output_offset;
    e->act_min = q->act_min;
    e->act_max = q->act_max;
    e->copy = rows_at + SN_CPU_RQ_ROWS * stride;
    memcpy(e->copy, q->multiplier, (size_t)oc * sizeof(int32_t));
    memcpy(e->copy + oc, q->shift, (size_t)oc * sizeof(int32_t));
    if (bias)
        memcpy(e->copy + 2 * oc, bias, (size_t)oc * sizeof(int32_t));
    e->words = rows_at + round16z(SN_CPU_RQ_ROWS * stride + 3 * (size_t)oc);
    e->words_ready = dw && near;
    *words = c->s8.dw_words;
    if (dw) {
        c->k->dw_words_s8(p, wp, ld, rows, near ? e->words : c->s8.dw_words);
        if (near)
            *words = e->words;
    }
    return &e->rq;
}

static void s8_free(sn_cpu_s8_work *w)
{
    free(w->words);
    free(w->rq);
    free(w->dw_words);
    w->words = NULL;
    w->rq = NULL;
    w->dw_words = NULL;
}

sn_status sn_cpu_create(const sn_model *model, const sn_cpu_options *options, sn_cpu **out,
                        const char **why)
{
    sn_cpu_options def;
    sn_cpu *c;
    size_t biggest = 0, whole = 0, at = 0;
    uint32_t i;
    const char *isa;
    size_t k;
    *out = NULL;
    if (!options) {
        sn_cpu_options_default(&def);
        options = &def;
    }
    isa = options->isa;
    if (isa_cap() < 0) {
        if (why)
            *why = "SN_CPU_MAX_ISA must be avx512vnni, avx512, avxvnni, avx2 or portable";
        return SN_ERR_INVALID_ARGUMENT;
    }
    if (!isa || !strcmp(isa, "auto"))
        for (k = 0, isa = "portable"; k < sizeof isa_names / sizeof *isa_names; ++k)
            if (sn_cpu_isa_available(isa_names[k])) {
                isa = isa_names[k];
                break;
            }
    for (k = 0; k < sizeof isa_names / sizeof *isa_names && strcmp(isa, isa_names[k]); ++k)
        ;
    if (k == sizeof isa_names / sizeof *isa_names) {
        if (why)
            *why = "unknown ISA (auto, avx512vnni, avx512, avxvnni, avx2, portable)";
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
    c->tens = calloc(c->index.tensor_count ? c->index.tensor_count : 1, sizeof *c->tens);
    if (!c->tens)
        goto oom;
    for (i = 0; i < c->index.tensor_count; ++i) {
        cpu_tensor *t = &c->tens[i];
        size_t b = tensor_shape(&c->index.tensors[i], t, c->k->s8_group);
        c->store_bytes += b;
        if (b / 4u > biggest)
            biggest = b / 4u;
        if (b)
            whole += (size_t)box_bytes(t, t->o, t->i, t->k);
    }
    c->budget = options->near_budget_bytes < whole ? options->near_budget_bytes : whole;
    c->scratch_floats = biggest;
    if ((c->store_bytes && posix_memalign((void **)&c->store, 64, c->store_bytes) != 0) ||
        posix_memalign((void **)&c->scratch, 64, (biggest ? biggest : 16) * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->zeros, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->scale_pad, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        posix_memalign((void **)&c->bias_pad, 64, MAX_CHANNELS * sizeof(float)) != 0 ||
        s8_alloc(&c->s8) != 0 || !(c->rq_slots = calloc(RQ_SLOTS, sizeof *c->rq_slots)) ||
        posix_memalign((void **)&c->rq_pool, 64, RQ_POOL_WORDS * sizeof(int32_t)) != 0)
        goto oom;
    c->rq_insert = 1;
    /* every tensor packed once, whole: a narrower slice reads it through ld */
    for (i = 0; i < c->index.tensor_count; ++i) {
        cpu_tensor *t = &c->tens[i];
        size_t b = t->k ? (size_t)t->k * (size_t)t->k * (size_t)t->rows * (size_t)t->ld * t->esz : 0;
        if (!b)
            continue;
        t->packed = c->store + at;
        at += b;
        tensor_pack(&c->index.tensors[i], t);
    }
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
    free(c->store);
    free(c->tens);
    free(c->scratch);
    free(c->zeros);
    free(c->scale_pad);
    free(c->bias_pad);
    s8_free(&c->s8);
    free(c->rq_slots);
    free(c->rq_pool);
    sn_windex_free(&c->index);
    free(c);
}

const char *sn_cpu_isa(const sn_cpu *c) { return c->k->isa; }
size_t sn_cpu_near_used(const sn_cpu *c) { return c->used; }
size_t sn_cpu_near_budget(const sn_cpu *c) { return c->budget; }
size_t sn_cpu_store_bytes(const sn_cpu *c) { return c->store_bytes; }
void sn_cpu_stats_get(const sn_cpu *c, sn_cpu_stats *s) { *s = c->stats; }
void sn_cpu_stats_reset(sn_cpu *c) { memset(&c->stats, 0, sizeof c->stats); }

void sn_cpu_evict_all(sn_cpu *c)
{
    uint32_t i;
    for (i = 0; i < c->index.tensor_count; ++i)
        c->tens[i].res_o = c->tens[i].res_i = c->tens[i].res_k = 0;
    c->used = 0;
    rq_clear(c); /* the prepared requantizations too (rq_for) */
}

/* ---- one layer's weights ------------------------------------------------------------------ */
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

/* The packed weights of one call: the store's copy (its bytes near inside the tensor's
 * resident box, far outside it; on-use residency then makes the whole tensor resident while
 * the budget holds), or, for weights outside the image, packed now into scratch (far).
 * *ALL_NEAR (may be NULL): 1 when every weight of the call was read from near memory. */
static int resolve(sn_cpu *c, const sn_conv2d_params *p, const void *w, int dw, int s8,
                   const void **wp, int32_t *rows, int32_t *ld, int *all_near)
{
    int32_t taps = p->kernel_h * p->kernel_w, y0 = 0, x0 = 0;
    int32_t o_n = p->out_c, i_n = dw ? 0 : p->in_c;
    /* bytes of the weights as the model stores them (fp32: 4, int8: 1 per weight) */
    uint64_t bytes = (uint64_t)taps * (uint64_t)o_n * (uint64_t)(dw ? 1 : i_n) * (s8 ? 1u : 4u);
    cpu_tensor *t = map_view_memo(c, w, dw, s8, p, &y0, &x0);
    size_t floats;
    if (t) {
        uint64_t near = view_near_bytes(t, p, y0, x0);
        if (all_near)
            *all_near = near == bytes;
        c->stats.near_bytes += near;
        c->stats.far_bytes += bytes - near;
        if (near == bytes) {
            c->stats.layers_near++;
        } else {
            c->stats.layers_far++;
            if (c->residency == SN_CPU_RESIDENT_ON_USE)
                grow(c, t, t->o, t->i, t->k, 0); /* this call reads it anyway */
        }
        *wp = (const char *)t->packed + (size_t)(y0 * t->k + x0) * (size_t)t->rows * (size_t)t->ld * t->esz;
        *rows = dw ? t->k : t->rows; /* depthwise: the packed kernel's tap row */
        *ld = t->ld;
        return 0;
    }
    if (all_near)
        *all_near = 0;
    c->stats.far_bytes += bytes;
    c->stats.layers_far++;
    *ld = (int32_t)round16z((size_t)o_n);
    *rows = dw ? p->kernel_w : (s8 ? (i_n + c->k->s8_group - 1) / c->k->s8_group : i_n);
    floats = packed_words(dw, s8, taps, *rows, *ld);
    if (floats > c->scratch_floats)
        return -1;
    if (dw)
        pack_dw(p, w, s8, o_n, *ld, c->scratch);
    else
        pack_dense(p, w, s8, c->k->s8_group, o_n, i_n, *ld, c->scratch);
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
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 0, 0, &wp, &rows, &ld, NULL) != 0)
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
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 1, 0, &wp, &rows, &ld, NULL) != 0)
        return sn_depthwise_conv2d_ref_f32(p, in, w, scale, bias, out);
    pad_vectors(c, p->out_c, scale, bias);
    c->k->dwconv_f32(p, in, (const float *)wp, ld, rows, c->scale_pad, c->bias_pad, out, (float *)c->s8.words,
                    c->s8.word_count);
    return SN_OK;
}

/* int8 slots: the packed kernels with the call's prepared requantization (rq_for), or the
 * reference where they do not take the call (more taps than SN_CPU_MAX_TAPS, weights that do
 * not fit the scratch, maps too large for the work area, shifts outside [-31, 30]). */
static sn_status cpu_conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                             const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    const sn_cpu_rq *rq;
    const int32_t *words;
    int32_t rows, ld;
    int near;
    sn_status st = sn_conv2d_check(p, 0);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 0, 1, &wp, &rows, &ld, &near) != 0 ||
        !(rq = rq_for(c, p, q, bias, 0, wp, rows, ld, wp != (const void *)c->scratch, near, &words)) ||
        c->k->conv_s8(p, in, (const int32_t *)wp, rows, ld, rq, out, &c->s8) != 0)
        return sn_conv2d_ref_s8(p, q, in, w, bias, out);
    return SN_OK;
}

static sn_status cpu_dwconv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                               const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_cpu *c = ctx;
    const void *wp;
    const sn_cpu_rq *rq;
    const int32_t *words;
    int32_t rows, ld;
    int near;
    sn_status st = sn_conv2d_check(p, 1);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (p->kernel_h * p->kernel_w > SN_CPU_MAX_TAPS || resolve(c, p, w, 1, 1, &wp, &rows, &ld, &near) != 0 ||
        !(rq = rq_for(c, p, q, bias, 1, wp, rows, ld, wp != (const void *)c->scratch, near, &words)) ||
        c->k->dwconv_s8(p, in, words, rq, out, &c->s8) != 0)
        return sn_depthwise_conv2d_ref_s8(p, q, in, w, bias, out);
    return SN_OK;
}

static sn_status cpu_add(void *ctx, float *out, const float *in, uint32_t n)
{
    ((sn_cpu *)ctx)->k->add_f32(out, in, n);
    return SN_OK;
}

/* The int8 residual add: SIMD, sn_add_ref_s8's bits; parameters it refuses get its status. */
static sn_status cpu_add_s8(void *ctx, const sn_add_quant_params *q, int8_t *out, const int8_t *in, uint32_t n)
{
    if (sn_add_quant_params_check(q) != SN_OK || (n && (!out || !in)))
        return sn_add_ref_s8(q, out, in, n);
    ((sn_cpu *)ctx)->k->add_s8(q, out, in, n);
    return SN_OK;
}

static sn_status cpu_avgpool_f32(void *ctx, const sn_pool_params *p, const float *in, float *out)
{
    if (sn_pool_check(p) != SN_OK || !in || !out)
        return sn_avgpool_ref_f32(p, in, out);
    ((sn_cpu *)ctx)->k->avgpool_f32(p, in, out);
    return SN_OK;
}

static sn_status cpu_fc_f32(void *ctx, const sn_fc_params *p, const float *in, const float *w, const float *bias,
                            float *out)
{
    if (sn_fc_check(p) != SN_OK || !in || !w || !out)
        return sn_fully_connected_ref_f32(p, in, w, bias, out);
    ((sn_cpu *)ctx)->k->fc_f32(p, in, w, bias, out);
    return SN_OK;
}

static sn_status cpu_avgpool_s8(void *ctx, const sn_pool_params *p, const int8_t *in, int8_t *out)
{
    if (sn_pool_check(p) != SN_OK || !in || !out || ((sn_cpu *)ctx)->k->avgpool_s8(p, in, out) != 0)
        return sn_avgpool_ref_s8(p, in, out);
    return SN_OK;
}

static sn_status cpu_fc_s8(void *ctx, const sn_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const float *scale, float *out)
{
    if (sn_fc_check(p) != SN_OK || !in || !w || !scale || !out)
        return sn_fully_connected_ref_s8(p, in, w, bias, scale, out);
    ((sn_cpu *)ctx)->k->fc_s8(p, in, w, bias, scale, out);
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
    /* .add_s8 = */ cpu_add_s8,
    /* .avgpool_f32 = */ cpu_avgpool_f32,
    /* .avgpool_s8 = */ cpu_avgpool_s8,
    /* .fully_connected_f32 = */ cpu_fc_f32,
    /* .fully_connected_s8 = */ cpu_fc_s8,
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
    /* .add_s8 = */ cpu_add_s8,
    /* .avgpool_f32 = */ cpu_avgpool_f32,
    /* .avgpool_s8 = */ cpu_avgpool_s8,
    /* .fully_connected_f32 = */ cpu_fc_f32,
    /* .fully_connected_s8 = */ cpu_fc_s8,
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
           s8_alloc(&v->s8)
               ? -1
               : 0;
}

static void view_free(sn_cpu *v)
{
    free(v->scratch);
    free(v->scale_pad);
    free(v->bias_pad);
    s8_free(&v->s8);
}

/* Copies the platform into a worker's view, keeping the view's own buffers. */
static void view_refresh(sn_cpu *v, const sn_cpu *c)
{
    sn_cpu own = *v;
    *v = *c;
    v->scratch = own.scratch;
    v->scale_pad = own.scale_pad;
    v->bias_pad = own.bias_pad;
    v->s8 = own.s8;
    v->rq_insert = 0; /* the table is the platform's; a view only reads it */
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

/* ---- residency ----------------------------------------------------------------------- */
static int place(void *ctx, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    sn_cpu *c = ctx;
    int32_t y0, x0;
    cpu_tensor *t = map_view(c, w, dw, s8, p, &y0, &x0);
    if (!t)
        return 0;
    return grow(c, t, p->out_c, dw ? 0 : p->in_c, crop_side(t->k, y0, x0, p->kernel_h, p->kernel_w), 1);
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

sn_status sn_cpu_set_resident(sn_cpu *c, const sn_weight_slice *slices, uint32_t n, uint8_t *placed,
                              size_t *moved_bytes)
{
    const uint32_t nt = c->index.tensor_count;
    cpu_tensor *next = malloc((nt ? nt : 1) * sizeof *next);
    size_t used = 0, moved = 0;
    uint32_t k, i;
    if (!next)
        return SN_ERR_NO_MEMORY;
    for (i = 0; i < nt; ++i) {
        next[i] = c->tens[i];
        next[i].res_o = next[i].res_i = next[i].res_k = 0;
    }
    for (k = 0; k < n; ++k) {
        const sn_wtensor *wt = sn_windex_tensor_of(&c->index, slices[k].w);
        cpu_tensor *t = wt ? &next[wt - c->index.tensors] : NULL;
        int32_t wo, wi, wk;
        uint64_t have, need;
        placed[k] = 0;
        if (!t || !t->packed || t->dw != slices[k].dw || t->s8 != slices[k].s8 || slices[k].o <= 0 ||
            slices[k].k <= 0)
            continue;
        wo = min32(t->o, max32(t->res_o, slices[k].o));
        wi = t->dw ? 0 : min32(t->i, max32(t->res_i, slices[k].i));
        wk = min32(t->k, max32(t->res_k, slices[k].k));
        have = box_bytes(t, t->res_o, t->res_i, t->res_k);
        need = box_bytes(t, wo, wi, wk);
        if (used + (need - have) > c->budget)
            continue;
        used += (size_t)(need - have);
        t->res_o = wo;
        t->res_i = wi;
        t->res_k = wk;
        placed[k] = 1;
    }
    /* only what the old boxes do not hold moves: read once into the caches */
    for (i = 0; i < nt; ++i) {
        cpu_tensor *t = &next[i], *old = &c->tens[i];
        region a, b;
        if (!t->packed || t->res_k <= 0)
            continue;
        a = box_region(t, t->res_o, t->res_i, t->res_k);
        b = box_region(old, old->res_o, old->res_i, old->res_k);
        for_lines(t, &a, &b, touch_line);
        moved += (size_t)(box_bytes(t, t->res_o, t->res_i, t->res_k) -
                          (old->res_k > 0 ? box_bytes(t, min32(t->res_o, old->res_o), min32(t->res_i, old->res_i),
                                                      min32(t->res_k, old->res_k))
                                          : 0));
    }
    memcpy(c->tens, next, (nt ? nt : 1) * sizeof *next);
    c->used = used;
    free(next);
    if (moved_bytes)
        *moved_bytes = moved;
    return SN_OK;
}

typedef struct flush_walk {
    sn_cpu *c;
    size_t lines;
} flush_walk;

static int flush_view(void *ctx, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    flush_walk *f = ctx;
    int32_t y0, x0;
    cpu_tensor *t = map_view(f->c, w, dw, s8, p, &y0, &x0);
    region a, b;
    if (!t)
        return 0;
    a.y0 = y0;
    a.x0 = x0;
    a.h = p->kernel_h;
    a.w = p->kernel_w;
    a.rows = rows_of(t, dw ? 0 : p->in_c);
    a.lines = lines_of(t, p->out_c);
    b = box_region(t, t->res_o, t->res_i, t->res_k);
    f->lines += for_lines(t, &a, &b, flush_line);
    return 0;
}

size_t sn_cpu_flush_far(sn_cpu *c, const sn_plan *plan)
{
    flush_walk f;
    if (!c || !plan || !strcmp(sn_cpu_flush_method(), "none"))
        return 0;
    f.c = c;
    f.lines = 0;
    sn_windex_place_plan(plan, flush_view, &f);
    flush_fence();
    return f.lines;
}
