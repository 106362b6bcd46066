/* supernav on a microcontroller: int8 convolutions with the DSP extension's dual 16-bit
 * multiply-accumulates (sn_mcu_kernels.h). */
#include <string.h>

#include "sn_mcu_kernels.h"
#include "sn_quant.h"

/* two int16 values as one word: LO in the low half */
static inline uint32_t pair16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

/* ---- the dual 16-bit operations ---------------------------------------------------------
 * A word of four int8 values b0 b1 b2 b3 (little-endian) splits into two words of int16
 * pairs: even = [b0, b2], odd = [b1, b3] (SXTB16 and SXTB16 with ROR #8). Weights and
 * activations split the same way, so a dot product over four channels is
 * SMLAD(x_even, w_even) + SMLAD(x_odd, w_odd): nothing is re-ordered. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define SN_MCU_ISA "dsp"
static inline uint32_t even16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }
static inline uint32_t odd16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
/* A + even16(X), A + odd16(X) per halfword (SXTAB16): the input offset added for free */
static inline uint32_t even16_add(uint32_t a, uint32_t x)
{
    return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x);
}
static inline uint32_t odd16_add(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
static inline int32_t mlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}
static inline int32_t mlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabb((int32_t)a, (int32_t)b, acc);
}
static inline int32_t mlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlatt((int32_t)a, (int32_t)b, acc);
}
#else
#define SN_MCU_ISA "c"
static inline int32_t lo16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu); }
static inline int32_t hi16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }
static inline uint32_t even16_add(uint32_t a, uint32_t x)
{
    return pair16(lo16(a) + (int8_t)(uint8_t)(x & 0xFFu), hi16(a) + (int8_t)(uint8_t)((x >> 16) & 0xFFu));
}
static inline uint32_t odd16_add(uint32_t a, uint32_t x)
{
    return pair16(lo16(a) + (int8_t)(uint8_t)((x >> 8) & 0xFFu), hi16(a) + (int8_t)(uint8_t)(x >> 24));
}
static inline uint32_t even16(uint32_t x) { return even16_add(0, x); }
static inline uint32_t odd16(uint32_t x) { return odd16_add(0, x); }
/* SMLAD wraps modulo 2^32; so does this (unsigned arithmetic) */
static inline int32_t mlad(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * lo16(b)) + (uint32_t)(hi16(a) * hi16(b)));
}
static inline int32_t mlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(lo16(a) * lo16(b)));
}
static inline int32_t mlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(hi16(a) * hi16(b)));
}
#endif

/* four int8 values as one word, from any address (unaligned loads: Cortex-M3 and up) */
static inline uint32_t load4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first N (< 4) bytes at P as a word, the rest zero (a channel tail, never read past). */
static uint32_t load_tail(const int8_t *p, int32_t n)
{
    uint32_t v = 0;
    int32_t i;
    for (i = 0; i < n; ++i)
        v |= (uint32_t)(uint8_t)p[i] << (8 * i);
    return v;
}

/* ---- requantization ----------------------------------------------------------------------
 * The reference computes, per output, X = round(acc * m / 2^31) (TFLite's doubling high
 * multiply: floor((acc * m + 2^30) / 2^31), for any sign) and then X / 2^r rounded half away
 * from zero (r = -shift), plus the output offset. For r >= 1 both roundings fold into one:
 *   out = floor((acc * m + 2^30 + 2^(30+r) - [X < 0] * 2^31 + offset * 2^(31+r)) / 2^(31+r))
 * and [X < 0] may be replaced by [acc * m < 0] (= sign(acc) xor sign(m) for nonzero
 * factors): where the two differ X is 0, and the sum stays inside [0, 2^(31+r)). A negative
 * multiplier needs no negation (the reference negates both factors: the same product) as
 * long as acc is not INT32_MIN, which the channel's bound rules out. The floor is the high
 * word of the 64-bit sum shifted right by r - 1. A channel outside these conditions (shift
 * >= 0, r > 22, m = INT32_MIN, an accumulator that could reach INT32_MIN) takes the
 * reference's own arithmetic. */
typedef struct requant {
    int32_t bias, m;
    uint32_t k_lo;
    int32_t k_hi;
    int32_t rs;         /* r - 1; -1: the reference's arithmetic (channel `o` of quant) */
} requant;

#define CHUNK 64        /* output channels per table (the table lives on the stack) */

/* Entries for channels [O0, O0 + N); TAPS values of |in + offset| <= 255 times |w| <= 128
 * are summed per output. */
static void requant_table(requant *t, const sn_quant_params *q, const int32_t *bias, int32_t o0,
                          int32_t n, int64_t taps)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        int32_t o = o0 + j, m = q->multiplier[o], shift = q->shift[o];
        int64_t b = bias ? bias[o] : 0, bound = (b < 0 ? -b : b) + taps * 255 * 128;
        requant *e = &t[j];
        e->bias = (int32_t)b;
        e->m = m;
        e->rs = -1;
        e->k_lo = 0;
        e->k_hi = 0;
        if (shift <= -1 && shift >= -22 && m != INT32_MIN && bound < INT32_MAX) {
            int32_t r = -shift;
            int64_t k = ((int64_t)1 << 30) + ((int64_t)1 << (30 + r)) +
                        (int64_t)q->output_offset * ((int64_t)1 << (31 + r));
            e->k_lo = (uint32_t)((uint64_t)k & 0xFFFFFFFFu);
            e->k_hi = (int32_t)(k >> 32);
            e->rs = r - 1;
        }
    }
}

static inline int32_t clamp(const sn_quant_params *q, int32_t v)
{
    if (v < q->act_min)
        v = q->act_min;
    if (v > q->act_max)
        v = q->act_max;
    return v;
}

/* ACC (the bias included) of channel O with entry E, clamped */
static inline int8_t requantize(const sn_quant_params *q, const requant *e, int32_t o, int32_t acc)
{
    int32_t v;
    if (e->rs >= 0) {
        int32_t neg = (int32_t)((uint32_t)acc ^ (uint32_t)e->m) >> 31;    /* -1 or 0 */
        int64_t k = (int64_t)(((uint64_t)(uint32_t)e->k_hi << 32) | e->k_lo) +
                    (int64_t)neg * ((int64_t)1 << 31);
        int64_t s = (int64_t)acc * e->m + k;
        v = (int32_t)(s >> 32) >> e->rs;
    } else {
        v = sn_requantize(acc, q->multiplier[o], q->shift[o]) + q->output_offset;
    }
    return (int8_t)clamp(q, v);
}

/* ---- pointwise ---------------------------------------------------------------------------
 * Per block of up to four output pixels, their input pixels are widened once into int16
 * pairs with the input offset added (a pixel in the padding is zeros: it adds nothing), laid
 * out group by group (four channels: the even and the odd word of pixel 0, of pixel 1, ...).
 * Then per output channel one pass over its int8 weights: each word is split once and
 * multiplied into the four pixels' accumulators. */
#define PW_MAX_GROUPS 64                /* in_c <= 256 */

static inline void pw_dot(int32_t npx, const uint32_t *x, const int8_t *w, int32_t groups,
                          int32_t tail, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], g;
    for (g = 0; g < groups; ++g, x += 8, w += 4) {
        uint32_t v = g == groups - 1 && tail ? load_tail(w, tail) : load4(w);
        uint32_t we = even16(v), wo = odd16(v);
        a0 = mlad(x[0], we, a0);
        a0 = mlad(x[1], wo, a0);
        if (npx > 1) {
            a1 = mlad(x[2], we, a1);
            a1 = mlad(x[3], wo, a1);
        }
        if (npx > 2) {
            a2 = mlad(x[4], we, a2);
            a2 = mlad(x[5], wo, a2);
        }
        if (npx > 3) {
            a3 = mlad(x[6], we, a3);
            a3 = mlad(x[7], wo, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* the unrolled main loop: full groups only, two at a time */
static inline void pw_dot_full(int32_t npx, const uint32_t *x, const int8_t *w, int32_t groups,
                               int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], g;
    for (g = 0; g + 1 < groups; g += 2, x += 16, w += 8) {
        uint32_t v = load4(w), u = load4(w + 4);
        uint32_t we = even16(v), wo = odd16(v), ue = even16(u), uo = odd16(u);
        a0 = mlad(x[0], we, a0);
        a0 = mlad(x[1], wo, a0);
        if (npx > 1) {
            a1 = mlad(x[2], we, a1);
            a1 = mlad(x[3], wo, a1);
        }
        if (npx > 2) {
            a2 = mlad(x[4], we, a2);
            a2 = mlad(x[5], wo, a2);
        }
        if (npx > 3) {
            a3 = mlad(x[6], we, a3);
            a3 = mlad(x[7], wo, a3);
        }
        a0 = mlad(x[8], ue, a0);
        a0 = mlad(x[9], uo, a0);
        if (npx > 1) {
            a1 = mlad(x[10], ue, a1);
            a1 = mlad(x[11], uo, a1);
        }
        if (npx > 2) {
            a2 = mlad(x[12], ue, a2);
            a2 = mlad(x[13], uo, a2);
        }
        if (npx > 3) {
            a3 = mlad(x[14], ue, a3);
            a3 = mlad(x[15], uo, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static inline void pw_block(int32_t npx, const sn_conv2d_params *p, const sn_quant_params *q,
                            const uint32_t *x, const int8_t *weights, const requant *t,
                            int32_t o0, int32_t n, int8_t *out)
{
    int32_t in_c = p->in_c, full = in_c / 8 * 2, groups = (in_c + 3) / 4, tail = in_c % 4;
    int32_t j, k;
    for (j = 0; j < n; ++j) {
        const requant *e = &t[j];
        const int8_t *w = weights + (int64_t)(o0 + j) * p->w_stride_out;
        int32_t acc[4];
        acc[0] = acc[1] = acc[2] = acc[3] = e->bias;
        pw_dot_full(npx, x, w, full, acc);
        if (groups > full)
            pw_dot(npx, x + 8 * full, w + 4 * full, groups - full, tail, acc);
        for (k = 0; k < npx; ++k)
            out[(int64_t)k * p->out_c + o0 + j] = requantize(q, e, o0 + j, acc[k]);
    }
}

static void pointwise(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                      const int8_t *weights, const int32_t *bias, int8_t *output)
{
    uint32_t x[PW_MAX_GROUPS * 8];
    requant t[CHUNK];
    int32_t in_c = p->in_c, groups = (in_c + 3) / 4, tail = in_c % 4;
    int32_t pixels = p->out_h * p->out_w, o0, px, j, g;
    uint32_t offset2 = ((uint32_t)q->input_offset & 0xFFFFu) * 0x10001u;
    for (o0 = 0; o0 < p->out_c; o0 += CHUNK) {
        int32_t n = p->out_c - o0 < CHUNK ? p->out_c - o0 : CHUNK;
        requant_table(t, q, bias, o0, n, in_c);
        for (px = 0; px < pixels; px += 4) {
            int32_t npx = pixels - px < 4 ? pixels - px : 4;
            for (j = 0; j < npx; ++j) {
                int32_t oy = (px + j) / p->out_w, ox = (px + j) % p->out_w;
                int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
                uint32_t *d = x + 2 * j;
                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                    for (g = 0; g < groups; ++g, d += 8)
                        d[0] = d[1] = 0;
                    continue;
                }
                {
                    const int8_t *s = input + ((int64_t)iy * p->in_w + ix) * in_c;
                    for (g = 0; g < groups; ++g, d += 8, s += 4) {
                        if (g == groups - 1 && tail) { /* channels past in_c: zero */
                            int32_t c[4], i;
                            for (i = 0; i < 4; ++i)
                                c[i] = i < tail ? s[i] + q->input_offset : 0;
                            d[0] = pair16(c[0], c[2]);
                            d[1] = pair16(c[1], c[3]);
                        } else {
                            uint32_t v = load4(s);
                            d[0] = even16_add(offset2, v);
                            d[1] = odd16_add(offset2, v);
                        }
                    }
                }
            }
            {
                int8_t *out = output + (int64_t)px * p->out_c;
                switch (npx) {
                case 4: pw_block(4, p, q, x, weights, t, o0, n, out); break;
                case 3: pw_block(3, p, q, x, weights, t, o0, n, out); break;
                case 2: pw_block(2, p, q, x, weights, t, o0, n, out); break;
                default: pw_block(1, p, q, x, weights, t, o0, n, out); break;
                }
            }
        }
    }
}

/* ---- stem: a dense k x k convolution of at most 4 input channels -------------------------
 * Per output pixel its taps (k * k * in_c values, in + offset, 0 in the padding) as int16
 * pairs; per output channel its weights, taken once per call into int16 pairs of the same
 * order (at most STEM_MAX_WORDS words each, CHUNK channels at a time). */
#define STEM_MAX_WORDS 13               /* k * k * in_c <= 26: up to 5 x 5 x 1, 3 x 3 x 2 */

static inline int32_t stem_dot(int32_t words, const uint32_t *x, const uint32_t *w, int32_t acc)
{
    int32_t i;
    for (i = 0; i < words; ++i)
        acc = mlad(x[i], w[i], acc);
    return acc;
}

static void stem(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                 const int8_t *weights, const int32_t *bias, int8_t *output)
{
    uint32_t wp[CHUNK * STEM_MAX_WORDS], x[STEM_MAX_WORDS];
    int16_t v[2 * STEM_MAX_WORDS];
    requant t[CHUNK];
    int32_t in_c = p->in_c, taps = p->kernel_h * p->kernel_w * in_c, words = (taps + 1) / 2;
    int32_t o0, oy, ox, ky, kx, i, j;
    for (o0 = 0; o0 < p->out_c; o0 += CHUNK) {
        int32_t n = p->out_c - o0 < CHUNK ? p->out_c - o0 : CHUNK;
        requant_table(t, q, bias, o0, n, taps);
        for (j = 0; j < n; ++j) {
            const int8_t *w = weights + (int64_t)(o0 + j) * p->w_stride_out;
            int32_t k = 0;
            for (ky = 0; ky < p->kernel_h; ++ky)
                for (kx = 0; kx < p->kernel_w; ++kx)
                    for (i = 0; i < in_c; ++i)
                        v[k++] = w[ky * p->w_stride_kh + kx * p->w_stride_kw + i];
            if (k & 1)
                v[k] = 0;
            for (i = 0; i < words; ++i)
                wp[j * STEM_MAX_WORDS + i] = ((uint32_t)(uint16_t)v[2 * i]) |
                                             ((uint32_t)(uint16_t)v[2 * i + 1] << 16);
        }
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                int8_t *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c + o0;
                int32_t k = 0;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    int32_t iy = oy * p->stride_h + ky - p->pad_top;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        int32_t ix = ox * p->stride_w + kx - p->pad_left;
                        const int8_t *s = input + ((int64_t)iy * p->in_w + ix) * in_c;
                        int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                        for (i = 0; i < in_c; ++i)
                            v[k++] = (int16_t)(inside ? s[i] + q->input_offset : 0);
                    }
                }
                if (k & 1)
                    v[k] = 0;
                for (i = 0; i < words; ++i)
                    x[i] = ((uint32_t)(uint16_t)v[2 * i]) | ((uint32_t)(uint16_t)v[2 * i + 1] << 16);
                for (j = 0; j < n; ++j) {
                    const uint32_t *w = wp + j * STEM_MAX_WORDS;
                    int32_t acc;
                    switch (words) {
                    case 5: acc = stem_dot(5, x, w, t[j].bias); break;
                    case 13: acc = stem_dot(13, x, w, t[j].bias); break;
                    default: acc = stem_dot(words, x, w, t[j].bias); break;
                    }
                    out[j] = requantize(q, &t[j], o0 + j, acc);
                }
            }
        }
    }
}

/* ---- depthwise ---------------------------------------------------------------------------
 * Per output pixel, its valid taps (the padding adds nothing), four channels at a time: per
 * tap one word of inputs (offset added while splitting) and one of weights, and the four
 * products with SMLABB / SMLATT (channels 0 and 2 in the even words, 1 and 3 in the odd). */
static inline void dw_quad(const int8_t *x, const int8_t *w, int32_t rows, int32_t cols,
                           int32_t x_row, int32_t x_col, int32_t w_row, int32_t w_col,
                           uint32_t offset2, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], ky, kx;
    for (ky = 0; ky < rows; ++ky, x += x_row, w += w_row) {
        const int8_t *xp = x, *wq = w;
        for (kx = 0; kx < cols; ++kx, xp += x_col, wq += w_col) {
            uint32_t xv = load4(xp), wv = load4(wq);
            uint32_t xe = even16_add(offset2, xv), xo = odd16_add(offset2, xv);
            uint32_t we = even16(wv), wo = odd16(wv);
            a0 = mlabb(xe, we, a0);
            a2 = mlatt(xe, we, a2);
            a1 = mlabb(xo, wo, a1);
            a3 = mlatt(xo, wo, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static void depthwise(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                      const int8_t *weights, const int32_t *bias, int8_t *output)
{
    requant t[CHUNK];
    int32_t c_all = p->out_c, in_row = p->in_w * p->in_c;
    int32_t c0, oy, ox, c;
    uint32_t offset2 = ((uint32_t)q->input_offset & 0xFFFFu) * 0x10001u;
    for (c0 = 0; c0 < c_all; c0 += CHUNK) {
        int32_t n = c_all - c0 < CHUNK ? c_all - c0 : CHUNK, quads = n / 4;
        requant_table(t, q, bias, c0, n, (int64_t)p->kernel_h * p->kernel_w);
        for (oy = 0; oy < p->out_h; ++oy) {
            int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky0 = iy0 < 0 ? -iy0 : 0;
            int32_t ky1 = p->in_h - iy0 < p->kernel_h ? p->in_h - iy0 : p->kernel_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                int32_t kx1 = p->in_w - ix0 < p->kernel_w ? p->in_w - ix0 : p->kernel_w;
                int8_t *out = output + ((int64_t)oy * p->out_w + ox) * c_all;
                const int8_t *x = input + ((int64_t)(iy0 + ky0) * p->in_w + ix0 + kx0) * p->in_c;
                const int8_t *w = weights + ky0 * p->w_stride_kh + kx0 * p->w_stride_kw;
                int32_t rows = ky1 - ky0, cols = kx1 - kx0;
                if (rows <= 0 || cols <= 0)
                    rows = cols = 0;
                for (c = 0; c < quads * 4; c += 4) {
                    const requant *e = &t[c];
                    int32_t acc[4];
                    acc[0] = e[0].bias;
                    acc[1] = e[1].bias;
                    acc[2] = e[2].bias;
                    acc[3] = e[3].bias;
                    dw_quad(x + c0 + c, w + c0 + c, rows, cols, in_row, p->in_c, p->w_stride_kh,
                            p->w_stride_kw, offset2, acc);
                    out[c0 + c] = requantize(q, &e[0], c0 + c, acc[0]);
                    out[c0 + c + 1] = requantize(q, &e[1], c0 + c + 1, acc[1]);
                    out[c0 + c + 2] = requantize(q, &e[2], c0 + c + 2, acc[2]);
                    out[c0 + c + 3] = requantize(q, &e[3], c0 + c + 3, acc[3]);
                }
                for (; c < n; ++c) { /* the channel tail, one at a time */
                    int32_t acc = t[c].bias, ky, kx;
                    for (ky = 0; ky < rows; ++ky)
                        for (kx = 0; kx < cols; ++kx)
                            acc += ((int32_t)x[(int64_t)ky * in_row + kx * p->in_c + c0 + c] +
                                    q->input_offset) *
                                   (int32_t)w[ky * p->w_stride_kh + kx * p->w_stride_kw + c0 + c];
                    out[c0 + c] = requantize(q, &t[c], c0 + c, acc);
                }
            }
        }
    }
}

/* ---- the entry points ------------------------------------------------------------------- */
const char *sn_mcu_conv2d_path(const sn_conv2d_params *p, int dw)
{
    if (dw)
        return "depthwise";
    if (p->kernel_h == 1 && p->kernel_w == 1 && p->in_c <= 4 * PW_MAX_GROUPS)
        return "pointwise";
    if (p->in_c <= 4 && (p->kernel_h * p->kernel_w * p->in_c + 1) / 2 <= STEM_MAX_WORDS)
        return "stem";
    return "reference";
}

const char *sn_mcu_kernels_isa(void)
{
    return SN_MCU_ISA;
}

sn_status sn_mcu_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                           const int8_t *input, const int8_t *weights, const int32_t *bias,
                           int8_t *output)
{
    const char *path;
    sn_status st = sn_conv2d_check(p, 0);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    path = sn_mcu_conv2d_path(p, 0);
    if (path[0] == 'p')
        pointwise(p, q, input, weights, bias, output);
    else if (path[0] == 's')
        stem(p, q, input, weights, bias, output);
    else
        return sn_conv2d_ref_s8(p, q, input, weights, bias, output);
    return SN_OK;
}

sn_status sn_mcu_depthwise_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                                     const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output)
{
    sn_status st = sn_conv2d_check(p, 1);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    depthwise(p, q, input, weights, bias, output);
    return SN_OK;
}
