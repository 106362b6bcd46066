/* The CPU platform's int8 kernels on each ISA build, one TAP test point per ISA: every build
 * this processor runs must equal the reference int8 kernels bit for bit; a build it lacks is
 * reported as skipped ("ok N # SKIP", which prove accepts; cmocka's own skip would print
 * "not ok"). The shapes cover each path of sn_cpu_kernels_s8.inc: pointwise (inputs a multiple
 * of the word's 4 or 2 or not, slices of wider tensors), spatial dense convolutions through
 * im2col, the one-channel stem (3x3 and 5x5, strides 1 and 2), depthwise 3x3 and 5x5 with
 * strides 1 and 2 (channel tails of every length, maps smaller than the kernel); and the
 * requantization's forms: the short one (non-negative multipliers, right shifts 1..22, no
 * clamp, |acc| < 2^30, ties from a multiplier of exactly 2^30) and the general one (negative
 * multipliers, left shifts, a zero shift, a zero multiplier, a narrower clamp, accumulators past
 * 2^30). Each shape runs four times, with other contents in the same quantization arrays each
 * time (the platform keeps prepared requantizations by address and must notice), on weights
 * outside the model image (packed into the scratch per call) and, where a tensor of the image
 * can hold the shape (a pointwise slice of a wider tensor, the 3x3 stem, a depthwise 3x3 or 5x5
 * crop of a 5x5 kernel), on the platform's store (every tensor packed once at create): all far
 * (no near memory: the depthwise weight words built per call from the store) and on-use
 * resident (the first call far, the next three near: the words kept with the requantization);
 * and the int8 residual add (add_s8) in both forms of its three requantizations. One more
 * point checks the dispatch: "auto" takes the widest build the processor runs.
 * Model: $SN_MODEL (default build/supernet.snm; its int8 tensors are overwritten with test
 * weights before each platform packs them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_quant.h"
#include "sn_rng.h"

static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};

typedef struct shape {
    int32_t h, w, in_c, out_c, k, stride, dw, w_in, w_out; /* w_in, w_out: the tensor's full widths */
} shape;

static const shape shapes[] = {
    /* pointwise: inputs 4k, 4k + 2, odd; outputs with tails of every kind; slices */
    {8, 8, 24, 40, 1, 1, 0, 24, 48},  {6, 11, 17, 33, 1, 1, 0, 20, 35}, {5, 5, 16, 40, 1, 1, 0, 16, 40},
    {3, 3, 96, 256, 1, 1, 0, 96, 256}, {1, 7, 3, 17, 1, 1, 0, 3, 17},   {7, 7, 6, 8, 1, 1, 0, 10, 9},
    {2, 13, 130, 20, 1, 1, 0, 131, 20},
    /* spatial dense (im2col) */
    {9, 7, 5, 13, 3, 2, 0, 8, 16}, {5, 5, 7, 3, 5, 1, 0, 7, 3}, {6, 6, 2, 8, 3, 2, 0, 2, 8}, {1, 1, 4, 20, 3, 1, 0, 4, 20},
    /* one input channel: the stem's path */
    {40, 40, 1, 16, 3, 2, 0, 1, 16}, {13, 10, 1, 12, 5, 1, 0, 1, 16}, {9, 9, 1, 7, 3, 1, 0, 1, 7},
    {11, 14, 1, 16, 3, 2, 0, 2, 24}, {2, 2, 1, 5, 5, 1, 0, 1, 5},     {8, 3, 1, 33, 5, 2, 0, 1, 40},
    /* depthwise */
    {10, 9, 37, 37, 3, 1, 1, 40, 0}, {11, 11, 72, 72, 5, 2, 1, 96, 0}, {4, 4, 12, 12, 5, 1, 1, 16, 0},
    {7, 3, 130, 130, 3, 2, 1, 130, 0}, {9, 12, 45, 45, 3, 2, 1, 48, 0}, {3, 9, 16, 16, 5, 1, 1, 16, 0},
    {2, 5, 33, 33, 3, 1, 1, 33, 0},    {4, 4, 96, 96, 5, 1, 1, 96, 0},  {16, 16, 24, 24, 5, 2, 1, 24, 0},
    {3, 3, 8, 8, 3, 1, 1, 8, 0},       {6, 7, 64, 64, 3, 1, 1, 64, 0},  {8, 9, 64, 64, 3, 2, 1, 96, 0},
};

/* Requantization regimes: 0 the short form (fast), 1 the general form, 2 ties, 3 large
 * accumulators (past the short form's bound), 4 a narrower clamp. */
#define REGIMES 5

static void *image;
static size_t image_size;
static sn_model model;

/* Where a check's weights live: W with the view's strides (dense [out][k][k][W_IN]; depthwise
 * [K][K][W_IN] with the view at its centred crop), N bytes from BASE (all overwritten). */
typedef struct layout {
    int8_t *base, *w;
    size_t n;
    int32_t w_in, k_full;
} layout;

/* Weights outside the model image, with the shape's own strides. */
static int outside(const shape *d, layout *l)
{
    l->k_full = d->k;
    l->w_in = d->w_in;
    l->n = d->dw ? (size_t)d->k * d->k * d->w_in : (size_t)d->w_out * d->k * d->k * d->w_in;
    l->base = l->w = malloc(l->n);
    return l->w ? 0 : -1;
}

/* A tensor of the image that can hold shape D as a view the store serves (dense: the same
 * kernel side and at least its inputs and outputs; depthwise: an odd kernel at least as large,
 * at least its channels), the smallest such; -1 when none. */
static int in_image(const shape *d, layout *l)
{
    uint32_t i;
    uint64_t best = 0;
    for (i = 0; i < model.tensor_count; ++i) {
        sn_tensor t;
        if (sn_model_tensor(&model, i, &t) != SN_OK || t.dtype != SN_DTYPE_S8 || (best && t.bytes >= best))
            continue;
        if (!d->dw && t.ndim == 4 && t.dims[1] == (uint32_t)d->k && t.dims[2] == (uint32_t)d->k &&
            t.dims[3] >= (uint32_t)d->in_c && t.dims[0] >= (uint32_t)d->out_c) {
            l->k_full = d->k;
            l->w_in = (int32_t)t.dims[3];
            l->w = (int8_t *)(uintptr_t)t.data;
        } else if (d->dw && t.ndim == 3 && t.dims[0] == t.dims[1] && t.dims[0] >= (uint32_t)d->k &&
                   (t.dims[0] - (uint32_t)d->k) % 2 == 0 && t.dims[2] >= (uint32_t)d->in_c) {
            int32_t c0 = ((int32_t)t.dims[0] - d->k) / 2;
            l->k_full = (int32_t)t.dims[0];
            l->w_in = (int32_t)t.dims[2];
            l->w = (int8_t *)(uintptr_t)t.data + (size_t)(c0 * l->k_full + c0) * (size_t)l->w_in;
        } else {
            continue;
        }
        best = t.bytes;
        l->base = (int8_t *)(uintptr_t)t.data;
        l->n = (size_t)t.bytes;
    }
    return best ? 0 : -1;
}

static void fill_quant(sn_rng *rng, int regime, int32_t oc, int32_t *mult, int32_t *shift, int32_t *bias,
                       sn_quant_params *q, int32_t k_products)
{
    int32_t j;
    for (j = 0; j < oc; ++j) {
        double real = (double)(sn_rng_below(rng, 1000) + 1) * 1e-6;
        switch (regime) {
        case 1: /* both signs, left shifts, a zero shift, a zero multiplier */
            real *= (j % 5 == 0 ? -1.0 : 1.0) * (j % 7 == 0 ? 3e5 : 1.0) * (j % 11 == 3 ? 1e3 : 1.0);
            if (j % 13 == 1)
                real = 0.0;
            break;
        case 2: /* multipliers of exactly 2^30 (0.5 x 2^shift): many rounding ties */
            real = 0.5 / (double)(1 << (1 + j % 6));
            break;
        default: break;
        }
        if (sn_quantize_multiplier(real, &mult[j], &shift[j]) != 0)
            mult[j] = shift[j] = 0;
        if (regime == 1 && j % 17 == 2) {
            mult[j] = 1 << 30; /* shift 0: no rounding shift */
            shift[j] = 0;
        }
        if (regime == 3)
            bias[j] = (int32_t)(sn_rng_below(rng, 2) ? 1 : -1) * ((1 << 30) - k_products * 100 + (int32_t)sn_rng_below(rng, 1000));
        else
            bias[j] = (int32_t)sn_rng_below(rng, 200001) - 100000;
    }
    q->input_offset = regime == 0 ? 128 : (int32_t)sn_rng_below(rng, 256) - 127;
    q->output_offset = (int32_t)sn_rng_below(rng, 256) - 128;
    if ((regime == 0 || regime == 2) && (sn_rng_next(rng) & 1))
        q->output_offset = -128; /* after a ReLU: the short form without its rounding correction */
    q->multiplier = mult;
    q->shift = shift;
    q->act_min = regime == 4 ? -20 : -128;
    q->act_max = regime == 4 ? 90 : 127;
}

/* One shape, one regime, on platform PLAT with the weights at L: four times with the same
 * weights and new inputs, the quantization arrays new each time but in the same place: all of
 * them, then only the multipliers and shifts, then only the bias, then only the offsets.
 * Returns 0 when every output equals the reference's. */
static int check_shape(const sn_platform *plat, const shape *d, const layout *l, int regime, sn_rng *rng,
                       const char **why)
{
    sn_conv2d_params p;
    sn_quant_params q;
    size_t n_in, n_out, j;
    int8_t *in, *w, *want, *got;
    int32_t *bias, *mult, *shift, *nbias, *nmult, *nshift, k_products;
    sn_quant_params nq;
    int round, bad = 0;
    memset(&p, 0, sizeof p);
    p.in_h = d->h;
    p.in_w = d->w;
    p.in_c = d->in_c;
    p.out_c = d->dw ? d->in_c : d->out_c;
    p.kernel_h = p.kernel_w = d->k;
    p.stride_h = p.stride_w = d->stride;
    p.pad_top = p.pad_left = d->k / 2;
    p.out_h = sn_conv2d_out_size(p.in_h, d->k, d->stride, d->k / 2, d->k / 2);
    p.out_w = sn_conv2d_out_size(p.in_w, d->k, d->stride, d->k / 2, d->k / 2);
    p.w_stride_kw = l->w_in;
    p.w_stride_kh = l->k_full * l->w_in;
    p.w_stride_out = d->dw ? 0 : d->k * d->k * l->w_in;
    n_in = (size_t)p.in_h * p.in_w * p.in_c;
    n_out = (size_t)p.out_h * p.out_w * p.out_c;
    k_products = d->k * d->k * (d->dw ? 1 : d->in_c);
    w = l->w;
    in = malloc(n_in);
    want = malloc(n_out);
    got = malloc(n_out);
    bias = malloc((size_t)p.out_c * 4);
    mult = malloc((size_t)p.out_c * 4);
    shift = malloc((size_t)p.out_c * 4);
    nbias = malloc((size_t)p.out_c * 4);
    nmult = malloc((size_t)p.out_c * 4);
    nshift = malloc((size_t)p.out_c * 4);
    if (!w || !in || !want || !got || !bias || !mult || !shift || !nbias || !nmult || !nshift) {
        *why = "out of memory";
        bad = 1;
    }
    for (round = 0; round < 4 && !bad; ++round) {
        for (j = 0; j < n_in; ++j)
            in[j] = (int8_t)(sn_rng_next(rng) >> 56);
        if (regime == 3) /* large accumulators need like-signed products */
            for (j = 0; j < n_in; ++j)
                in[j] = (int8_t)(100 + (int)(sn_rng_below(rng, 28)));
        fill_quant(rng, regime, p.out_c, nmult, nshift, nbias, &nq, k_products);
        if (round == 0 || round == 1) {
            memcpy(mult, nmult, (size_t)p.out_c * 4);
            memcpy(shift, nshift, (size_t)p.out_c * 4);
        }
        if (round == 0 || round == 2)
            memcpy(bias, nbias, (size_t)p.out_c * 4);
        if (round == 0 || round == 3) {
            q = nq;
            q.multiplier = mult;
            q.shift = shift;
        }
        memset(got, 0x55, n_out);
        if (d->dw) {
            if (sn_depthwise_conv2d_ref_s8(&p, &q, in, w, bias, want) != SN_OK ||
                plat->ops->depthwise_conv2d_s8(plat->context, &p, &q, in, w, bias, got) != SN_OK)
                bad = 1;
        } else {
            if (sn_conv2d_ref_s8(&p, &q, in, w, bias, want) != SN_OK ||
                plat->ops->conv2d_s8(plat->context, &p, &q, in, w, bias, got) != SN_OK)
                bad = 1;
        }
        if (bad)
            *why = "a kernel refused a valid call";
        else if (memcmp(want, got, n_out) != 0) {
            *why = round == 0 ? "differs from the reference"
                   : round == 1 ? "differs from the reference after new multipliers and shifts in the same arrays"
                   : round == 2 ? "differs from the reference after a new bias in the same array"
                                : "differs from the reference after new offsets";
            bad = 1;
        }
    }
    free(in);
    free(want);
    free(got);
    free(bias);
    free(mult);
    free(shift);
    free(nbias);
    free(nmult);
    free(nshift);
    return bad;
}

/* The int8 residual add (the add_s8 slot) against sn_add_ref_s8: TFLite ADD's usual parameters
 * (input multipliers up to 1/2, an output shift near -20: the short requantization) and odd
 * ones (negative multipliers, a left and a zero shift for the sum: the general form), lengths
 * with tails; input multipliers of exactly 2^30 with shifts 0 to -23 (a plain shift up to -19).
 * Returns 0 when all are equal. */
static int check_add(const sn_platform *plat, sn_rng *rng, const char **why)
{
    static int8_t out[1000], in[1000], want[1000];
    int trial;
    for (trial = 0; trial < 108; ++trial) {
        sn_add_quant_params q;
        uint32_t n = 1 + (uint32_t)sn_rng_below(rng, 999), j;
        int k;
        for (k = 0; k < 3; ++k) {
            double real = k < 2 ? 0.05 + 0.45 * (double)sn_rng_below(rng, 1000) / 1000.0
                                : (0.5 + (double)sn_rng_below(rng, 1000) / 1000.0) / 1048576.0;
            if (trial % 4 == 3) /* the general form (inputs scaled below 1/2 keep the sum in int32) */
                real *= (k == trial % 3 ? -1.0 : 1.0) * (k == 2 && trial % 8 == 7 ? 1e7 : 1.0);
            if (sn_quantize_multiplier(real, &q.multiplier[k], &q.shift[k]) != 0) {
                *why = "add: a multiplier out of range";
                return 1;
            }
            q.offset[k] = (int32_t)sn_rng_below(rng, 256) - (k < 2 ? 127 : 128);
        }
        if (trial % 10 == 9) {
            q.multiplier[2] = 1 << 30;
            q.shift[2] = 0;
        }
        if (trial % 10 == 4) { /* an input multiplier of exactly 1/2: 2^30, shift 0 (the model's) */
            q.multiplier[(trial / 10) % 2] = 1 << 30;
            q.shift[(trial / 10) % 2] = 0;
        }
        if (trial >= 60) { /* an input multiplier of 2^30 with each right shift 0 to 23 */
            q.multiplier[trial % 2] = 1 << 30;
            q.shift[trial % 2] = -(trial - 60) / 2;
        }
        for (j = 0; j < n; ++j) {
            out[j] = want[j] = (int8_t)(sn_rng_next(rng) >> 56);
            in[j] = (int8_t)(sn_rng_next(rng) >> 56);
        }
        if (sn_add_ref_s8(&q, want, in, n) != SN_OK || plat->ops->add_s8(plat->context, &q, out, in, n) != SN_OK) {
            *why = "add: a valid call refused";
            return 1;
        }
        if (memcmp(out, want, n) != 0) {
            *why = trial % 4 == 3 ? "add (general form) differs from sn_add_ref_s8" : "add differs from sn_add_ref_s8";
            return 1;
        }
    }
    return 0;
}

/* Where the weights come from, and what the platform must report after the four calls. */
enum { OUTSIDE, STORE_FAR, STORE_RESIDENT, MODES };
static const char *const mode_names[] = {"outside the image", "store, far", "store, resident"};

/* Mode M's counters after one shape's four calls: weights outside the image are packed per
 * call and far; the store's are never packed by a call, far without near memory, and near from
 * the second call on with on-use residency. NULL when they hold. */
static const char *stats_wrong(int m, const sn_cpu_stats *st)
{
    if (m == OUTSIDE)
        return st->packed_bytes && !st->near_bytes && st->layers_far == 4 ? NULL : "not packed per call, far";
    if (st->packed_bytes)
        return "packed per call, not read from the store";
    if (m == STORE_FAR)
        return !st->near_bytes && st->layers_far == 4 ? NULL : "not all far";
    return st->layers_far == 1 && st->layers_near == 3 ? NULL : "not far once, then near";
}

/* Every shape in every regime on ISA, in each mode its weights allow (a platform per shape,
 * regime and mode, created after the weights are written: the store packs them at create).
 * Returns the number of mismatches; *CALLS counts the checks. */
static int check_isa(const char *isa, int *calls, char *msg, size_t msg_size)
{
    sn_rng rng = sn_rng_derive(2026, 12, 6);
    int m, fails = 0;
    for (m = 0; m < MODES; ++m) {
        size_t s, j;
        int regime;
        for (s = 0; s < sizeof shapes / sizeof *shapes; ++s)
            for (regime = 0; regime < REGIMES; ++regime) {
                sn_cpu_options opt;
                sn_cpu *cpu;
                sn_platform plat;
                sn_cpu_stats st;
                layout l;
                const char *why = "";
                if (m == OUTSIDE ? outside(&shapes[s], &l) != 0 : in_image(&shapes[s], &l) != 0) {
                    if (m == OUTSIDE) {
                        snprintf(msg, msg_size, "out of memory");
                        return fails + 1;
                    }
                    continue; /* no tensor of the image holds this shape */
                }
                for (j = 0; j < l.n; ++j) /* -128 too: the reference allows it */
                    l.base[j] = (int8_t)(sn_rng_next(&rng) >> 56);
                sn_cpu_options_default(&opt);
                opt.isa = isa;
                if (m != STORE_RESIDENT) { /* no near memory */
                    opt.near_budget_bytes = 0;
                    opt.residency = SN_CPU_RESIDENT_EXPLICIT;
                }
                if (sn_cpu_create(&model, &opt, &cpu, &why) != SN_OK) {
                    snprintf(msg, msg_size, "cannot create the platform: %s", why);
                    if (m == OUTSIDE)
                        free(l.base);
                    return fails + 1;
                }
                sn_cpu_platform(cpu, &plat);
                ++*calls;
                if (check_shape(&plat, &shapes[s], &l, regime, &rng, &why) == 0) {
                    sn_cpu_stats_get(cpu, &st);
                    if ((why = stats_wrong(m, &st)) == NULL)
                        why = "";
                }
                if (*why) {
                    if (!fails)
                        snprintf(msg, msg_size, "shape %zu (%dx%dx%d -> %d, k%d s%d%s), regime %d, %s: %s", s,
                                 shapes[s].h, shapes[s].w, shapes[s].in_c, shapes[s].out_c, shapes[s].k,
                                 shapes[s].stride, shapes[s].dw ? " depthwise" : "", regime, mode_names[m], why);
                    ++fails;
                }
                if (m == OUTSIDE && s == 0 && regime == 0) {
                    ++*calls;
                    if (check_add(&plat, &rng, &why)) {
                        if (!fails)
                            snprintf(msg, msg_size, "%s", why);
                        ++fails;
                    }
                }
                sn_cpu_destroy(cpu);
                if (m == OUTSIDE)
                    free(l.base);
            }
    }
    return fails;
}

int main(void)
{
    const char *mp = getenv("SN_MODEL");
    size_t i;
    int failed = 0, n = 0;
    if (!mp || !*mp)
        mp = "build/supernet.snm";
    if (sn_read_file(mp, &image, &image_size) != 0 || sn_model_load(&model, image, image_size, NULL) != SN_OK) {
        printf("1..0 # SKIP cannot load %s\n", mp);
        return 0;
    }
    printf("1..%zu\n", sizeof isas / sizeof *isas + 1);
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        char msg[256] = "";
        int calls = 0, fails;
        ++n;
        if (!sn_cpu_isa_available(isas[i])) {
            printf("ok %d # SKIP %s: %s\n", n, isas[i],
                   getenv("SN_CPU_MAX_ISA") && *getenv("SN_CPU_MAX_ISA") ? "capped by SN_CPU_MAX_ISA"
                                                                         : "this processor (or build) lacks it");
            continue;
        }
        fails = check_isa(isas[i], &calls, msg, sizeof msg);
        if (fails) {
            printf("not ok %d - %s: int8 kernels equal the reference\n# %d of %d checks failed; first: %s\n", n,
                   isas[i], fails, calls, msg);
            ++failed;
        } else {
            printf("ok %d - %s: int8 kernels equal the reference (%d checks: shapes x regimes x outside the image / the store far / resident, 4 times each, and the add)\n", n,
                   isas[i], calls);
        }
    }
    { /* dispatch: "auto" is the first build of the list the processor runs */
        sn_cpu *cpu;
        const char *want = "portable", *got;
        for (i = 0; i < sizeof isas / sizeof *isas; ++i)
            if (sn_cpu_isa_available(isas[i])) {
                want = isas[i];
                break;
            }
        ++n;
        if (sn_cpu_create(&model, NULL, &cpu, NULL) != SN_OK) {
            printf("not ok %d - auto dispatch: cannot create the platform\n", n);
            ++failed;
        } else {
            got = sn_cpu_isa(cpu);
            if (strcmp(got, want) != 0) {
                printf("not ok %d - auto dispatch picks %s, expected %s\n", n, got, want);
                ++failed;
            } else {
                printf("ok %d - auto dispatch picks %s, the widest build this processor runs\n", n, got);
            }
            sn_cpu_destroy(cpu);
        }
    }
    free(image);
    return failed;
}
