/* supernav on a microcontroller: int8 convolutions with the DSP extension's dual 16-bit
 * multiply-accumulates (sn_mcu_kernels.h). */
#include <string.h>

#include "sn_mcu_kernels.h"
#include "sn_quant.h"

/* the blocks below are written once and specialised by constant arguments (pixels per block,
 * taps per row): they must be inlined where those constants are known */
#if defined(__GNUC__)
#define SN_INLINE static inline __attribute__((always_inline))
#define SN_UNROLL5 _Pragma("GCC unroll 5")
#else
#define SN_INLINE static inline
#define SN_UNROLL5
#endif

/* The path functions below run every output channel of a view; compiled again by
 * sn_mcu_kernels_split.c with SN_MCU_KERNELS_RANGE, they take a range of output channels
 * (a split view's part) and the entry points are that file's. Here the macros expand to the
 * whole view exactly as written before them (the same code, instruction for instruction). */
#ifdef SN_MCU_KERNELS_RANGE
#define SN_RANGE_PARAMS , int32_t range_begin, int32_t range_end
#define SN_RANGE_BEGIN range_begin
#define SN_RANGE_END(all) range_end
/* the stem widens its weights once per call: each output channel's from the near copy (NP's
 * strides, NW) below SPLIT, else from the view; the rest of its loops are the whole view's */
#define SN_STEM_PARAMS , const sn_conv2d_params *np, const int8_t *nw, int32_t split
#define SN_STEM_ARGS , np, nw, split
#define SN_STEM_W(o) ((o) < split ? nw + (int64_t)(o) * np->w_stride_out : weights + (int64_t)(o) * p->w_stride_out)
#define SN_STEM_KH(o) ((o) < split ? np->w_stride_kh : p->w_stride_kh)
#define SN_STEM_KW(o) ((o) < split ? np->w_stride_kw : p->w_stride_kw)
#else
#define SN_RANGE_PARAMS
#define SN_RANGE_BEGIN 0
#define SN_RANGE_END(all) (all)
#define SN_STEM_PARAMS
#define SN_STEM_ARGS
#define SN_STEM_W(o) weights + (int64_t)(o) * p->w_stride_out
#define SN_STEM_KH(o) p->w_stride_kh
#define SN_STEM_KW(o) p->w_stride_kw
#endif

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
/* The requantization's fast path (see below): the high word of
 * acc * m + k + [acc * m < 0] * -2^31 (k = k_hi:k_lo), shifted right by RS. */
static inline int32_t rq_core(int32_t acc, int32_t m, uint32_t k_lo, int32_t k_hi, int32_t rs)
{
    uint32_t t = (uint32_t)acc ^ (uint32_t)m, lo;
    int32_t hi;
    __asm__("and %0, %2, #0x80000000\n\t"
            "adds %0, %0, %3\n\t"
            "adc %1, %4, %2, asr #31\n\t"
            "smlal %0, %1, %5, %6"
            : "=&r"(lo), "=&r"(hi)
            : "r"(t), "r"(k_lo), "r"(k_hi), "r"(acc), "r"(m)
            : "cc");
    return hi >> rs;
}
static inline int32_t sat8(int32_t v) { return __ssat(v, 8); }
/* the two words at P + OFFSET bytes in one LDRD (GCC tuned for the M4 splits 64-bit loads) */
#define LOAD_PAIR(p, offset, lo, hi) \
    __asm__("ldrd %0, %1, [%2, %3]" : "=r"(lo), "=r"(hi) : "r"(p), "n"(offset) : "memory")
/* 4 x 4 bytes transposed: byte j of word i becomes byte i of word j */
static inline void transpose4(uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    uint32_t t0 = (*a & 0x00FF00FFu) | ((*b & 0x00FF00FFu) << 8);
    uint32_t t1 = ((*a & 0xFF00FF00u) >> 8) | (*b & 0xFF00FF00u);
    uint32_t u0 = (*c & 0x00FF00FFu) | ((*d & 0x00FF00FFu) << 8);
    uint32_t u1 = ((*c & 0xFF00FF00u) >> 8) | (*d & 0xFF00FF00u);
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(*a) : "r"(t0), "r"(u0));
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(*c) : "r"(u0), "r"(t0));
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(*b) : "r"(t1), "r"(u1));
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(*d) : "r"(u1), "r"(t1));
}
/* per byte: max(P, LO), then min(.., HI) (SSUB8 sets the GE flags that SEL reads) */
static inline uint32_t clamp4(uint32_t p, uint32_t lo, uint32_t hi)
{
    uint32_t r, t;
    __asm__("ssub8 %0, %2, %3\n\t"
            "sel %0, %2, %3\n\t"
            "ssub8 %1, %4, %0\n\t"
            "sel %0, %0, %4"
            : "=&r"(r), "=&r"(t)
            : "r"(p), "r"(lo), "r"(hi)
            : "cc");
    (void)t;
    return r;
}
/* four values in [-128, 127] as bytes b0 b1 b2 b3 of one word */
static inline uint32_t pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    uint32_t a, b;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(a) : "r"(v0), "r"(v2));
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(b) : "r"(v1), "r"(v3));
    return (a & 0x00FF00FFu) | ((b & 0x00FF00FFu) << 8);
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
static inline int32_t rq_core(int32_t acc, int32_t m, uint32_t k_lo, int32_t k_hi, int32_t rs)
{
    int64_t k = (int64_t)(((uint64_t)(uint32_t)k_hi << 32) | k_lo);
    int64_t s = (int64_t)acc * m + k - (((uint32_t)acc ^ (uint32_t)m) >> 31 ? ((int64_t)1 << 31) : 0);
    return (int32_t)(s >> 32) >> rs;
}
static inline int32_t sat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline uint32_t clamp4(uint32_t p, uint32_t lo, uint32_t hi)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        int32_t v = (int8_t)(uint8_t)(p >> i), l = (int8_t)(uint8_t)(lo >> i), h = (int8_t)(uint8_t)(hi >> i);
        v = v < l ? l : v;
        v = v > h ? h : v;
        r |= (uint32_t)(uint8_t)v << i;
    }
    return r;
}
#define LOAD_PAIR(p, offset, lo, hi) \
    do { \
        uint64_t pair_; \
        memcpy(&pair_, (const char *)(p) + (offset), sizeof pair_); \
        (lo) = (uint32_t)pair_; \
        (hi) = (uint32_t)(pair_ >> 32); \
    } while (0)
static inline void transpose4(uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    uint32_t w[4], r[4] = {0, 0, 0, 0};
    int i, j;
    w[0] = *a; w[1] = *b; w[2] = *c; w[3] = *d;
    for (i = 0; i < 4; ++i)
        for (j = 0; j < 4; ++j)
            r[j] |= ((w[i] >> (8 * j)) & 0xFFu) << (8 * i);
    *a = r[0]; *b = r[1]; *c = r[2]; *d = r[3];
}
static inline uint32_t pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    return (uint32_t)(uint8_t)v0 | (uint32_t)(uint8_t)v1 << 8 | (uint32_t)(uint8_t)v2 << 16 |
           (uint32_t)(uint8_t)v3 << 24;
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
 * word of the 64-bit sum shifted right by r - 1 (rq_core: six instructions). A channel
 * outside these conditions (shift >= 0, r > 22, m = INT32_MIN, an accumulator that could
 * reach INT32_MIN) takes the reference's own arithmetic. The clamp is done on four outputs
 * at once, as bytes. */
typedef struct requant {
    int32_t bias, m;
    uint32_t k_lo;
    int32_t k_hi;
    int32_t rs;         /* r - 1; -1: the reference's arithmetic */
} requant;

#define CHUNK 64        /* output channels per table (the table lives on the stack) */

/* Entries for channels [O0, O0 + N); TAPS values of |in + offset| <= 255 times |w| <= 128
 * are summed per output. Returns 1 when every entry takes the fast path. */
static int requant_table(requant *t, const sn_quant_params *q, const int32_t *bias, int32_t o0,
                         int32_t n, int64_t taps)
{
    int32_t j;
    int fast = 1;
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
        } else {
            fast = 0;
        }
    }
    return fast;
}

/* the clamp's bounds as four bytes each */
typedef struct clamp_bytes {
    uint32_t lo, hi;
} clamp_bytes;

static clamp_bytes clamp_of(const sn_quant_params *q)
{
    clamp_bytes c;
    c.lo = (uint32_t)(uint8_t)q->act_min * 0x01010101u;
    c.hi = (uint32_t)(uint8_t)q->act_max * 0x01010101u;
    return c;
}

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
/* the Helium loops (below), for chunks whose channels all take the fast path */
static void pointwise_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                          const int8_t *weights, const requant *t, int32_t o0, int32_t n, int8_t *output);
static void depthwise_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                          const int8_t *weights, const requant *t, int32_t c0, int32_t n, int8_t *output);
static void stem_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                     const int8_t *weights, const requant *t, int32_t o0, int32_t n, int8_t *output SN_STEM_PARAMS);
#endif

/* ACC of channel O with entry E (fast or not), before the clamp, saturated to int8 */
static inline int32_t requantize(const sn_quant_params *q, const requant *e, int32_t o, int32_t acc)
{
    if (e->rs >= 0)
        return sat8(rq_core(acc, e->m, e->k_lo, e->k_hi, e->rs));
    return sat8(sn_requantize(acc, q->multiplier[o], q->shift[o]) + q->output_offset);
}

/* ---- pointwise ---------------------------------------------------------------------------
 * Per block of up to four output pixels, their input pixels are widened once into int16
 * pairs with the input offset added (a pixel in the padding is zeros: it adds nothing), laid
 * out group by group (four channels: the even and the odd word of pixel 0, of pixel 1, ...).
 * Then per output channel one pass over its int8 weights, read where they lie: each word is
 * split once and multiplied into the four pixels' accumulators (16 MACs: 1 load, 2 splits, 4
 * double-word loads, 8 SMLAD). */
#define PW_MAX_GROUPS 96                /* in_c <= 384: 3 KB of stack */

/* one group of four channels: X the group's widened pixels (even, odd word each), V its weights */
#define PW_PIXEL(k, acc) \
    do { \
        uint32_t e_, o_; \
        LOAD_PAIR(x, 8 * (k), e_, o_); \
        acc = mlad(o_, wo, mlad(e_, we, acc)); \
    } while (0)
SN_INLINE void pw_group(const int32_t npx, const uint64_t *x, uint32_t v, int32_t *a0, int32_t *a1,
                        int32_t *a2, int32_t *a3)
{
    const uint32_t we = even16(v), wo = odd16(v);
    PW_PIXEL(0, *a0);
    if (npx > 1)
        PW_PIXEL(1, *a1);
    if (npx > 2)
        PW_PIXEL(2, *a2);
    if (npx > 3)
        PW_PIXEL(3, *a3);
}

SN_INLINE void pw_block(const int32_t npx, const sn_conv2d_params *p, const sn_quant_params *q,
                        const uint64_t *x, const int8_t *weights, const requant *t,
                        int32_t o0, int32_t n, int fast, clamp_bytes cl, int8_t *out)
{
    const int32_t in_c = p->in_c, pairs = in_c / 8, groups = (in_c + 3) / 4, tail = in_c % 4;
    const int32_t rest = groups - 2 * pairs, stride = p->w_stride_out, oc = p->out_c;
    const int8_t *w = weights + (int64_t)o0 * stride;
    int8_t *o = out + o0;
    uint32_t ob[CHUNK];
    int32_t j, g;
    for (j = 0; j < n; ++j, w += stride, ++o) {
        const requant *e = &t[j];
        int32_t a0 = e->bias, a1 = a0, a2 = a0, a3 = a0, v0, v1, v2, v3;
        const uint64_t *xp = x;
        const int8_t *wp = w;
        for (g = 0; g < pairs; ++g, xp += 8, wp += 8) {
            uint32_t v = load4(wp), u = load4(wp + 4);
            pw_group(npx, xp, v, &a0, &a1, &a2, &a3);
            pw_group(npx, xp + 4, u, &a0, &a1, &a2, &a3);
        }
        for (g = 0; g < rest; ++g, xp += 4, wp += 4)
            pw_group(npx, xp, g == rest - 1 && tail ? load_tail(wp, tail) : load4(wp), &a0, &a1, &a2, &a3);
        if (fast) {
            const int32_t m = e->m, k_hi = e->k_hi, rs = e->rs;
            const uint32_t k_lo = e->k_lo;
            v0 = sat8(rq_core(a0, m, k_lo, k_hi, rs));
            v1 = npx > 1 ? sat8(rq_core(a1, m, k_lo, k_hi, rs)) : 0;
            v2 = npx > 2 ? sat8(rq_core(a2, m, k_lo, k_hi, rs)) : 0;
            v3 = npx > 3 ? sat8(rq_core(a3, m, k_lo, k_hi, rs)) : 0;
        } else {
            v0 = requantize(q, e, o0 + j, a0);
            v1 = npx > 1 ? requantize(q, e, o0 + j, a1) : 0;
            v2 = npx > 2 ? requantize(q, e, o0 + j, a2) : 0;
            v3 = npx > 3 ? requantize(q, e, o0 + j, a3) : 0;
        }
        ob[j] = clamp4(pack4(v0, v1, v2, v3), cl.lo, cl.hi);
    }
    /* ob[j]: the block's pixels of channel o0 + j; out wants the channels of each pixel */
    for (j = 0; j + 4 <= n; j += 4) {
        uint32_t b0 = ob[j], b1 = ob[j + 1], b2 = ob[j + 2], b3 = ob[j + 3];
        transpose4(&b0, &b1, &b2, &b3);
        memcpy(o - n + j, &b0, 4);
        if (npx > 1)
            memcpy(o - n + j + oc, &b1, 4);
        if (npx > 2)
            memcpy(o - n + j + 2 * oc, &b2, 4);
        if (npx > 3)
            memcpy(o - n + j + 3 * oc, &b3, 4);
    }
    for (; j < n; ++j) {
        int32_t k;
        for (k = 0; k < npx; ++k)
            o[-n + j + k * oc] = (int8_t)(uint8_t)(ob[j] >> (8 * k));
    }
}

static void pointwise(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                      const int8_t *weights, const int32_t *bias, int8_t *output SN_RANGE_PARAMS)
{
    uint64_t x[PW_MAX_GROUPS * 4];
    requant t[CHUNK];
    const clamp_bytes cl = clamp_of(q);
    int32_t in_c = p->in_c, groups = (in_c + 3) / 4, tail = in_c % 4;
    int32_t pixels = p->out_h * p->out_w, o0, px, j, g;
    uint32_t offset2 = ((uint32_t)q->input_offset & 0xFFFFu) * 0x10001u;
    for (o0 = SN_RANGE_BEGIN; o0 < SN_RANGE_END(p->out_c); o0 += CHUNK) {
        int32_t n = SN_RANGE_END(p->out_c) - o0 < CHUNK ? SN_RANGE_END(p->out_c) - o0 : CHUNK;
        int fast = requant_table(t, q, bias, o0, n, in_c);
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
        if (fast && p->pad_top <= 0 && p->pad_left <= 0 &&
            (p->out_h - 1) * p->stride_h - p->pad_top < p->in_h &&
            (p->out_w - 1) * p->stride_w - p->pad_left < p->in_w) { /* no pixel in the padding */
            pointwise_mve(p, q, input, weights, t, o0, n, output);
            continue;
        }
#endif
        for (px = 0; px < pixels; px += 4) {
            int32_t npx = pixels - px < 4 ? pixels - px : 4;
            for (j = 0; j < npx; ++j) {
                int32_t oy = (px + j) / p->out_w, ox = (px + j) % p->out_w;
                int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
                uint64_t *d = x + j;
                const int8_t *s;
                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                    for (g = 0; g < groups; ++g, d += 4)
                        *d = 0;
                    continue;
                }
                s = input + ((int64_t)iy * p->in_w + ix) * in_c;
                for (g = 0; g < groups - (tail != 0); ++g, d += 4, s += 4) {
                    uint32_t v = load4(s);
                    *d = even16_add(offset2, v) | (uint64_t)odd16_add(offset2, v) << 32;
                }
                if (tail) { /* channels past in_c: zero, not the offset */
                    int32_t c[4], i;
                    for (i = 0; i < 4; ++i)
                        c[i] = i < tail ? s[i] + q->input_offset : 0;
                    *d = pair16(c[0], c[2]) | (uint64_t)pair16(c[1], c[3]) << 32;
                }
            }
            {
                int8_t *out = output + (int64_t)px * p->out_c;
                switch (npx) {
                case 4: pw_block(4, p, q, x, weights, t, o0, n, fast, cl, out); break;
                case 3: pw_block(3, p, q, x, weights, t, o0, n, fast, cl, out); break;
                case 2: pw_block(2, p, q, x, weights, t, o0, n, fast, cl, out); break;
                default: pw_block(1, p, q, x, weights, t, o0, n, fast, cl, out); break;
                }
            }
        }
    }
}

/* ---- stem: a dense k x k convolution of at most 4 input channels -------------------------
 * Per output pixel its taps (k * k * in_c values, in + offset, 0 in the padding) as int16
 * pairs; per output channel its weights, taken once per call into int16 pairs of the same
 * order (at most STEM_MAX_WORDS words each, CHUNK channels at a time): one SMLAD per two
 * taps, four channels requantized and clamped together. */
#define STEM_MAX_WORDS 13               /* k * k * in_c <= 26: up to 5 x 5 x 1, 3 x 3 x 2 */

SN_INLINE int32_t stem_dot(const int32_t words, const uint32_t *x, const uint32_t *w, int32_t acc)
{
    int32_t i;
    for (i = 0; i < words; ++i)
        acc = mlad(x[i], w[i], acc);
    return acc;
}

/* the channels of one pixel, X its tap pairs */
SN_INLINE void stem_pixel(const int32_t words, const sn_quant_params *q, const uint32_t *x,
                              const uint32_t *wp, const requant *t, int32_t o0, int32_t n,
                              int fast, clamp_bytes cl, int8_t *out)
{
    uint32_t xr[STEM_MAX_WORDS];
    int32_t j, i;
    for (i = 0; i < words; ++i)
        xr[i] = x[i];
    for (j = 0; j + 4 <= n; j += 4, wp += 4 * STEM_MAX_WORDS) {
        int32_t a0 = stem_dot(words, xr, wp, t[j].bias);
        int32_t a1 = stem_dot(words, xr, wp + STEM_MAX_WORDS, t[j + 1].bias);
        int32_t a2 = stem_dot(words, xr, wp + 2 * STEM_MAX_WORDS, t[j + 2].bias);
        int32_t a3 = stem_dot(words, xr, wp + 3 * STEM_MAX_WORDS, t[j + 3].bias);
        uint32_t b;
        if (fast)
            b = pack4(sat8(rq_core(a0, t[j].m, t[j].k_lo, t[j].k_hi, t[j].rs)),
                      sat8(rq_core(a1, t[j + 1].m, t[j + 1].k_lo, t[j + 1].k_hi, t[j + 1].rs)),
                      sat8(rq_core(a2, t[j + 2].m, t[j + 2].k_lo, t[j + 2].k_hi, t[j + 2].rs)),
                      sat8(rq_core(a3, t[j + 3].m, t[j + 3].k_lo, t[j + 3].k_hi, t[j + 3].rs)));
        else
            b = pack4(requantize(q, &t[j], o0 + j, a0), requantize(q, &t[j + 1], o0 + j + 1, a1),
                      requantize(q, &t[j + 2], o0 + j + 2, a2), requantize(q, &t[j + 3], o0 + j + 3, a3));
        b = clamp4(b, cl.lo, cl.hi);
        memcpy(out + j, &b, sizeof b);
    }
    for (; j < n; ++j, wp += STEM_MAX_WORDS) {
        uint32_t b = (uint32_t)(uint8_t)requantize(q, &t[j], o0 + j, stem_dot(words, xr, wp, t[j].bias));
        out[j] = (int8_t)(uint8_t)clamp4(b, cl.lo, cl.hi);
    }
}

static void stem(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                 const int8_t *weights, const int32_t *bias, int8_t *output SN_STEM_PARAMS)
{
    uint32_t wp[CHUNK * STEM_MAX_WORDS], x[STEM_MAX_WORDS];
    int16_t v[2 * STEM_MAX_WORDS];
    requant t[CHUNK];
    const clamp_bytes cl = clamp_of(q);
    const int32_t in_c = p->in_c, taps = p->kernel_h * p->kernel_w * in_c, words = (taps + 1) / 2;
    const int32_t row = p->in_w * in_c, off = q->input_offset;
    const int k3 = p->kernel_h == 3 && p->kernel_w == 3 && in_c == 1;
    int32_t o0, oy, ox, ky, kx, i, j;
    for (o0 = 0; o0 < p->out_c; o0 += CHUNK) {
        int32_t n = p->out_c - o0 < CHUNK ? p->out_c - o0 : CHUNK;
        int fast = requant_table(t, q, bias, o0, n, taps);
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
        if (fast) {
            stem_mve(p, q, input, weights, t, o0, n, output SN_STEM_ARGS);
            continue;
        }
#endif
        for (j = 0; j < n; ++j) {
            const int8_t *w = SN_STEM_W(o0 + j);
            int32_t k = 0;
            for (ky = 0; ky < p->kernel_h; ++ky)
                for (kx = 0; kx < p->kernel_w; ++kx)
                    for (i = 0; i < in_c; ++i)
                        v[k++] = w[ky * SN_STEM_KH(o0 + j) + kx * SN_STEM_KW(o0 + j) + i];
            if (k & 1)
                v[k] = 0;
            for (i = 0; i < words; ++i)
                wp[j * STEM_MAX_WORDS + i] = pair16(v[2 * i], v[2 * i + 1]);
        }
        for (oy = 0; oy < p->out_h; ++oy) {
            int32_t iy = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->out_w; ++ox) {
                int32_t ix = ox * p->stride_w - p->pad_left;
                int8_t *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c + o0;
                if (k3 && iy >= 0 && iy + 3 <= p->in_h && ix >= 0 && ix + 3 <= p->in_w) {
                    /* an interior pixel of a 3 x 3 one-channel stem: its 9 taps directly */
                    const int8_t *s = input + (int64_t)iy * row + ix;
                    x[0] = pair16(s[0] + off, s[1] + off);
                    x[1] = pair16(s[2] + off, s[row] + off);
                    x[2] = pair16(s[row + 1] + off, s[row + 2] + off);
                    x[3] = pair16(s[2 * row] + off, s[2 * row + 1] + off);
                    x[4] = pair16(s[2 * row + 2] + off, 0);
                    stem_pixel(5, q, x, wp, t, o0, n, fast, cl, out);
                    continue;
                }
                {
                    int32_t k = 0;
                    for (ky = 0; ky < p->kernel_h; ++ky) {
                        int32_t y = iy + ky;
                        for (kx = 0; kx < p->kernel_w; ++kx) {
                            int32_t xx = ix + kx;
                            int inside = y >= 0 && y < p->in_h && xx >= 0 && xx < p->in_w;
                            const int8_t *s = input + ((int64_t)y * p->in_w + xx) * in_c;
                            for (i = 0; i < in_c; ++i)
                                v[k++] = (int16_t)(inside ? s[i] + off : 0);
                        }
                    }
                    if (k & 1)
                        v[k] = 0;
                    for (i = 0; i < words; ++i)
                        x[i] = pair16(v[2 * i], v[2 * i + 1]);
                    if (words == 5)
                        stem_pixel(5, q, x, wp, t, o0, n, fast, cl, out);
                    else
                        stem_pixel(words, q, x, wp, t, o0, n, fast, cl, out);
                }
            }
        }
    }
}

/* ---- depthwise ---------------------------------------------------------------------------
 * Per output pixel, its valid taps (the padding adds nothing), four channels at a time: per
 * tap one word of inputs (offset added while splitting, SXTAB16) and one of weights, and the
 * four products with SMLABB / SMLATT (channels 0 and 2 in the even words, 1 and 3 in the
 * odd); the four outputs requantized, clamped and stored as one word. */
/* one quad of channels over ROWS x COLS taps (constants where the window is whole) */
SN_INLINE uint32_t dw_quad(const int whole, const int32_t rows, const int32_t cols, const int8_t *xr,
                           const int8_t *wr,
                           int32_t in_row, int32_t in_c, int32_t w_row, int32_t w_col, uint32_t offset2,
                           const requant *e, int fast, const sn_quant_params *q, int32_t c, clamp_bytes cl)
{
    int32_t a0 = e[0].bias, a1 = e[1].bias, a2 = e[2].bias, a3 = e[3].bias, ky, kx;
#define DW_TAP() \
    do { \
        uint32_t xv = load4(xp), wv = load4(wq); \
        uint32_t xe = even16_add(offset2, xv), xo = odd16_add(offset2, xv); \
        uint32_t we = even16(wv), wo = odd16(wv); \
        a0 = mlabb(xe, we, a0); \
        a2 = mlatt(xe, we, a2); \
        a1 = mlabb(xo, wo, a1); \
        a3 = mlatt(xo, wo, a3); \
    } while (0)
    if (whole) { /* ROWS and COLS are constants: unrolled */
        SN_UNROLL5
        for (ky = 0; ky < rows; ++ky, xr += in_row, wr += w_row) {
            const int8_t *xp = xr, *wq = wr;
            SN_UNROLL5
            for (kx = 0; kx < cols; ++kx, xp += in_c, wq += w_col)
                DW_TAP();
        }
    } else {
        for (ky = 0; ky < rows; ++ky, xr += in_row, wr += w_row) {
            const int8_t *xp = xr, *wq = wr;
            for (kx = 0; kx < cols; ++kx, xp += in_c, wq += w_col)
                DW_TAP();
        }
    }
#undef DW_TAP
    if (fast)
        return clamp4(pack4(sat8(rq_core(a0, e[0].m, e[0].k_lo, e[0].k_hi, e[0].rs)),
                            sat8(rq_core(a1, e[1].m, e[1].k_lo, e[1].k_hi, e[1].rs)),
                            sat8(rq_core(a2, e[2].m, e[2].k_lo, e[2].k_hi, e[2].rs)),
                            sat8(rq_core(a3, e[3].m, e[3].k_lo, e[3].k_hi, e[3].rs))),
                      cl.lo, cl.hi);
    return clamp4(pack4(requantize(q, &e[0], c, a0), requantize(q, &e[1], c + 1, a1),
                        requantize(q, &e[2], c + 2, a2), requantize(q, &e[3], c + 3, a3)),
                  cl.lo, cl.hi);
}

/* every quad of channels of one output pixel */
SN_INLINE void dw_pixel(const int whole, const int32_t rows, const int32_t cols, const int8_t *x0, const int8_t *w0,
                        int32_t in_row, int32_t in_c, int32_t w_row, int32_t w_col, uint32_t offset2,
                        const requant *t, int32_t quads, int fast, const sn_quant_params *q, int32_t c0,
                        clamp_bytes cl, int8_t *out)
{
    int32_t i;
    for (i = 0; i < quads; ++i, x0 += 4, w0 += 4, t += 4, out += 4) {
        uint32_t b = dw_quad(whole, rows, cols, x0, w0, in_row, in_c, w_row, w_col, offset2, t, fast, q,
                             c0 + 4 * i, cl);
        memcpy(out, &b, sizeof b);
    }
}

static void depthwise(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                      const int8_t *weights, const int32_t *bias, int8_t *output SN_RANGE_PARAMS)
{
    requant t[CHUNK];
    const clamp_bytes cl = clamp_of(q);
    const int32_t c_all = p->out_c, in_c = p->in_c, in_row = p->in_w * in_c;
    const int32_t w_row = p->w_stride_kh, w_col = p->w_stride_kw, k_h = p->kernel_h, k_w = p->kernel_w;
    int32_t c0, oy, ox, c;
    uint32_t offset2 = ((uint32_t)q->input_offset & 0xFFFFu) * 0x10001u;
    for (c0 = SN_RANGE_BEGIN; c0 < SN_RANGE_END(c_all); c0 += CHUNK) {
        int32_t n = SN_RANGE_END(c_all) - c0 < CHUNK ? SN_RANGE_END(c_all) - c0 : CHUNK, quads = n / 4;
        int fast = requant_table(t, q, bias, c0, n, (int64_t)k_h * k_w);
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
        if (fast) {
            depthwise_mve(p, q, input, weights, t, c0, n, output);
            continue;
        }
#endif
        for (oy = 0; oy < p->out_h; ++oy) {
            int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky0 = iy0 < 0 ? -iy0 : 0;
            int32_t ky1 = p->in_h - iy0 < k_h ? p->in_h - iy0 : k_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                int32_t kx1 = p->in_w - ix0 < k_w ? p->in_w - ix0 : k_w;
                int8_t *out = output + ((int64_t)oy * p->out_w + ox) * c_all + c0;
                int32_t rows = ky1 - ky0, cols = kx1 - kx0;
                const int8_t *x0 = input, *w0 = weights;
                if (rows <= 0 || cols <= 0) {
                    rows = cols = 0;
                } else {
                    x0 = input + ((int64_t)(iy0 + ky0) * p->in_w + ix0 + kx0) * in_c + c0;
                    w0 = weights + ky0 * w_row + kx0 * w_col + c0;
                }
                if (rows == 3 && cols == 3)
                    dw_pixel(1, 3, 3, x0, w0, in_row, in_c, w_row, w_col, offset2, t, quads, fast, q, c0, cl, out);
                else if (rows == 5 && cols == 5)
                    dw_pixel(1, 5, 5, x0, w0, in_row, in_c, w_row, w_col, offset2, t, quads, fast, q, c0, cl, out);
                else
                    dw_pixel(0, rows, cols, x0, w0, in_row, in_c, w_row, w_col, offset2, t, quads, fast, q, c0, cl,
                             out);
                for (c = 4 * quads; c < n; ++c) { /* the channel tail, one at a time */
                    int32_t acc = t[c].bias, ky, kx;
                    uint32_t b;
                    for (ky = 0; ky < rows; ++ky)
                        for (kx = 0; kx < cols; ++kx)
                            acc += ((int32_t)x0[(int64_t)ky * in_row + kx * in_c + c] + q->input_offset) *
                                   (int32_t)w0[ky * w_row + kx * w_col + c];
                    b = (uint32_t)(uint8_t)requantize(q, &t[c], c0 + c, acc);
                    out[c] = (int8_t)(uint8_t)clamp4(b, cl.lo, cl.hi);
                }
            }
        }
    }
}

/* ---- Helium (MVE: the Cortex-M55) ------------------------------------------------------
 * Where the core has MVE, a chunk whose channels all take the requantization's fast path runs
 * these instead of the DSP loops above (which stay for the other chunks and for pointwise
 * layers with padding):
 *   pointwise: per output channel and block of four pixels, 16 channels per VMLADAVA (int8 x
 *     int8 summed into a scalar) straight from the input and the weights, tails predicated;
 *     the input offset enters once per channel as offset x the sum of its weights;
 *   depthwise: four channels in the lanes of a vector, per tap a sign-extending load of each,
 *     the offset added, VMUL and VADD (MVE has no lane-wise integer VMLA); tails predicated;
 *   stem: per pixel its valid taps (in + offset, scalars), four channels per VMLA by scalar
 *     with weights widened once per call.
 * Requantization on four lanes: VQRDMULH is TFLite's doubling high multiply; adding the
 * sign (x >> 31) before VRSHL's round-half-up right shift makes it round half away from zero
 * as the reference does (exact: |x| < 2^31 - 1 under the channel's bound). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define SN_MCU_MVE 1

SN_INLINE int32x4_t rq_vec(int32x4_t acc, int32x4_t m, int32x4_t neg_r, int32_t out_offset,
                           int32x4_t lo, int32x4_t hi)
{
    int32x4_t x = vqrdmulhq_s32(acc, m);
    x = vrshlq_s32(vaddq_s32(x, vshrq_n_s32(x, 31)), neg_r);
    return vminq_s32(vmaxq_s32(vaddq_n_s32(x, out_offset), lo), hi);
}

/* the chunk's fast-path entries as vectors' worth of arrays */
typedef struct requant_lanes {
    int32_t bias[CHUNK], m[CHUNK], neg_r[CHUNK];
} requant_lanes;

static void lanes_of(requant_lanes *l, const requant *t, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        l->bias[j] = t[j].bias;
        l->m[j] = t[j].m;
        l->neg_r[j] = -(t[j].rs + 1);
    }
}

/* one block of NPX (1-4) pixels X over the chunk's channels */
SN_INLINE void pw_block_mve(const int32_t npx, const int8_t *const *x, const int8_t *weights, int32_t stride,
                            int32_t in_c, const int32_t *start, const requant *t, int32_t n, int32_t out_offset,
                            int32x4_t lo, int32x4_t hi, uint32x4_t lanes_out, int8_t *out)
{
    const mve_pred16_t store = vctp32q((uint32_t)npx);
    int32_t j, i;
    for (j = 0; j < n; ++j, ++out) {
        const int8_t *w = weights + (int64_t)j * stride;
        const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
        int32_t a0 = start[j], a1 = a0, a2 = a0, a3 = a0;
        int32x4_t acc;
        for (i = 0; i + 16 <= in_c; i += 16, w += 16, x0 += 16, x1 += 16, x2 += 16, x3 += 16) {
            const int8x16_t wv = vldrbq_s8(w);
            a0 = vmladavaq_s8(a0, vldrbq_s8(x0), wv);
            if (npx > 1)
                a1 = vmladavaq_s8(a1, vldrbq_s8(x1), wv);
            if (npx > 2)
                a2 = vmladavaq_s8(a2, vldrbq_s8(x2), wv);
            if (npx > 3)
                a3 = vmladavaq_s8(a3, vldrbq_s8(x3), wv);
        }
        if (in_c - i == 8) { /* a tail of 8: 16-bit lanes, no predicate */
            const int16x8_t wv = vldrbq_s16(w);
            a0 = vmladavaq_s16(a0, vldrbq_s16(x0), wv);
            if (npx > 1)
                a1 = vmladavaq_s16(a1, vldrbq_s16(x1), wv);
            if (npx > 2)
                a2 = vmladavaq_s16(a2, vldrbq_s16(x2), wv);
            if (npx > 3)
                a3 = vmladavaq_s16(a3, vldrbq_s16(x3), wv);
        } else if (i < in_c) { /* the tail: zeros past in_c */
            const mve_pred16_t pr = vctp8q((uint32_t)(in_c - i));
            const int8x16_t wv = vldrbq_z_s8(w, pr);
            a0 = vmladavaq_s8(a0, vldrbq_z_s8(x0, pr), wv);
            if (npx > 1)
                a1 = vmladavaq_s8(a1, vldrbq_z_s8(x1, pr), wv);
            if (npx > 2)
                a2 = vmladavaq_s8(a2, vldrbq_z_s8(x2, pr), wv);
            if (npx > 3)
                a3 = vmladavaq_s8(a3, vldrbq_z_s8(x3, pr), wv);
        }
        acc = vdupq_n_s32(a0);
        if (npx > 1)
            acc = vsetq_lane_s32(a1, acc, 1);
        if (npx > 2)
            acc = vsetq_lane_s32(a2, acc, 2);
        if (npx > 3)
            acc = vsetq_lane_s32(a3, acc, 3);
        acc = rq_vec(acc, vdupq_n_s32(t[j].m), vdupq_n_s32(-(t[j].rs + 1)), out_offset, lo, hi);
        if (npx == 4)
            vstrbq_scatter_offset_s32(out, lanes_out, acc);
        else
            vstrbq_scatter_offset_p_s32(out, lanes_out, acc, store);
    }
}

static void pointwise_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                          const int8_t *weights, const requant *t, int32_t o0, int32_t n, int8_t *output)
{
    const int32_t in_c = p->in_c, oc = p->out_c, stride = p->w_stride_out;
    const int32_t pixels = p->out_h * p->out_w, out_offset = q->output_offset;
    const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
    const uint32x4_t lanes_out = vmulq_n_u32(vidupq_n_u32(0u, 1), (uint32_t)oc);
    const int8_t *w0 = weights + (int64_t)o0 * stride;
    int32_t start[CHUNK], j, px, i, k;
    for (j = 0; j < n; ++j) { /* bias + offset x the sum of the weights (modulo 2^32, as acc) */
        const int8_t *w = w0 + (int64_t)j * stride;
        int32_t sum = 0;
        for (i = 0; i + 16 <= in_c; i += 16)
            sum = vaddvaq_s8(sum, vldrbq_s8(w + i));
        if (i < in_c) {
            mve_pred16_t pr = vctp8q((uint32_t)(in_c - i));
            sum = vaddvaq_s8(sum, vldrbq_z_s8(w + i, pr));
        }
        start[j] = (int32_t)((uint32_t)t[j].bias + (uint32_t)q->input_offset * (uint32_t)sum);
    }
    for (px = 0; px < pixels; px += 4) {
        const int32_t npx = pixels - px < 4 ? pixels - px : 4;
        const int8_t *x[4];
        int8_t *out = output + (int64_t)px * oc + o0;
        for (k = 0; k < 4; ++k) { /* a block's missing pixels repeat its last (never read) */
            int32_t pi = px + (k < npx ? k : npx - 1), oy = pi / p->out_w, ox = pi % p->out_w;
            x[k] = input + ((int64_t)(oy * p->stride_h - p->pad_top) * p->in_w +
                            ox * p->stride_w - p->pad_left) * in_c;
        }
        if (in_c <= 16 && npx == 4) { /* the four pixels stay in registers for every channel */
            const mve_pred16_t pr = vctp8q((uint32_t)in_c);
            const int8x16_t x0 = vldrbq_z_s8(x[0], pr), x1 = vldrbq_z_s8(x[1], pr);
            const int8x16_t x2 = vldrbq_z_s8(x[2], pr), x3 = vldrbq_z_s8(x[3], pr);
            const int8_t *w = w0;
            for (j = 0; j < n; ++j, ++out, w += stride) {
                const int8x16_t wv = vldrbq_z_s8(w, pr); /* zeros past in_c: no predicate below */
                int32x4_t acc = vdupq_n_s32(vmladavaq_s8(start[j], x0, wv));
                acc = vsetq_lane_s32(vmladavaq_s8(start[j], x1, wv), acc, 1);
                acc = vsetq_lane_s32(vmladavaq_s8(start[j], x2, wv), acc, 2);
                acc = vsetq_lane_s32(vmladavaq_s8(start[j], x3, wv), acc, 3);
                acc = rq_vec(acc, vdupq_n_s32(t[j].m), vdupq_n_s32(-(t[j].rs + 1)), out_offset, lo, hi);
                vstrbq_scatter_offset_s32(out, lanes_out, acc);
            }
            continue;
        }
        switch (npx) {
        case 4: pw_block_mve(4, x, w0, stride, in_c, start, t, n, out_offset, lo, hi, lanes_out, out); break;
        case 3: pw_block_mve(3, x, w0, stride, in_c, start, t, n, out_offset, lo, hi, lanes_out, out); break;
        case 2: pw_block_mve(2, x, w0, stride, in_c, start, t, n, out_offset, lo, hi, lanes_out, out); break;
        default: pw_block_mve(1, x, w0, stride, in_c, start, t, n, out_offset, lo, hi, lanes_out, out); break;
        }
    }
}

/* Depthwise, eight channels per group in 16-bit lanes: per tap the inputs (offset added in
 * 16 bits: |in + offset| <= 255) and the weights, VMULLB / VMULLT to the even and the odd
 * channels' 32-bit products; the lanes' entries are stored even channels first. */
static void lanes8_of(requant_lanes *l, const requant *t, int32_t n)
{
    int32_t g, i;
    for (g = 0; g < n; g += 8)
        for (i = 0; i < 4; ++i) {
            int32_t e = g + 2 * i, o = g + 2 * i + 1;
            l->bias[g + i] = e < n ? t[e].bias : 0;
            l->m[g + i] = e < n ? t[e].m : 0;
            l->neg_r[g + i] = e < n ? -(t[e].rs + 1) : 0;
            l->bias[g + 4 + i] = o < n ? t[o].bias : 0;
            l->m[g + 4 + i] = o < n ? t[o].m : 0;
            l->neg_r[g + 4 + i] = o < n ? -(t[o].rs + 1) : 0;
        }
}

#define DW_TAP_MVE(load8, xp, wq) \
    do { \
        const int16x8_t xv_ = vaddq_n_s16(load8(xp), off), wv_ = load8(wq); \
        ae = vaddq_s32(ae, vmullbq_int_s16(xv_, wv_)); \
        ao = vaddq_s32(ao, vmulltq_int_s16(xv_, wv_)); \
    } while (0)

/* one output pixel's channels over ROWS x COLS taps (constants where the window is whole) */
SN_INLINE void dw_pixel_mve(const int whole, const int32_t rows, const int32_t cols, const int8_t *x0,
                            const int8_t *w0, int32_t in_row, int32_t in_c, int32_t w_row, int32_t w_col,
                            const requant_lanes *l, int32_t n, const sn_quant_params *q, int32x4_t lo,
                            int32x4_t hi, int8_t *out)
{
    const int16_t off = (int16_t)q->input_offset;
    int32_t c, ky, kx;
    (void)whole;
    for (c = 0; c + 8 <= n; c += 8) {
        int32x4_t ae = vldrwq_s32(l->bias + c), ao = vldrwq_s32(l->bias + c + 4);
        const int8_t *xr = x0 + c, *wr = w0 + c;
        int16x8_t v;
        /* not unrolled: GCC 12 hoists an unrolled window's loads and spills the vectors */
        for (ky = 0; ky < rows; ++ky, xr += in_row, wr += w_row) {
            const int8_t *xp = xr, *wq = wr;
            for (kx = 0; kx < cols; ++kx, xp += in_c, wq += w_col)
                DW_TAP_MVE(vldrbq_s16, xp, wq);
        }
        ae = rq_vec(ae, vldrwq_s32(l->m + c), vldrwq_s32(l->neg_r + c), q->output_offset, lo, hi);
        ao = rq_vec(ao, vldrwq_s32(l->m + c + 4), vldrwq_s32(l->neg_r + c + 4), q->output_offset, lo, hi);
        v = vmovntq_s32(vmovnbq_s32(vdupq_n_s16(0), ae), ao);
        vstrbq_s16(out + c, v);
    }
    if (c < n) { /* the channel tail, predicated */
        const mve_pred16_t pr = vctp16q((uint32_t)(n - c));
        int32x4_t ae = vldrwq_s32(l->bias + c), ao = vldrwq_s32(l->bias + c + 4);
        const int8_t *xr = x0 + c, *wr = w0 + c;
        int16x8_t v;
#define LOAD8_Z(ptr) vldrbq_z_s16((ptr), pr)
        for (ky = 0; ky < rows; ++ky, xr += in_row, wr += w_row) {
            const int8_t *xp = xr, *wq = wr;
            for (kx = 0; kx < cols; ++kx, xp += in_c, wq += w_col)
                DW_TAP_MVE(LOAD8_Z, xp, wq);
        }
#undef LOAD8_Z
        ae = rq_vec(ae, vldrwq_s32(l->m + c), vldrwq_s32(l->neg_r + c), q->output_offset, lo, hi);
        ao = rq_vec(ao, vldrwq_s32(l->m + c + 4), vldrwq_s32(l->neg_r + c + 4), q->output_offset, lo, hi);
        v = vmovntq_s32(vmovnbq_s32(vdupq_n_s16(0), ae), ao);
        vstrbq_p_s16(out + c, v, pr);
    }
}
#undef DW_TAP_MVE

static void depthwise_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                          const int8_t *weights, const requant *t, int32_t c0, int32_t n, int8_t *output)
{
    requant_lanes l;
    const int32_t c_all = p->out_c, in_c = p->in_c, in_row = p->in_w * in_c;
    const int32_t w_row = p->w_stride_kh, w_col = p->w_stride_kw, k_h = p->kernel_h, k_w = p->kernel_w;
    const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
    int32_t oy, ox;
    lanes8_of(&l, t, n);
    for (oy = 0; oy < p->out_h; ++oy) {
        int32_t iy0 = oy * p->stride_h - p->pad_top;
        int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        int32_t ky1 = p->in_h - iy0 < k_h ? p->in_h - iy0 : k_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            int32_t ix0 = ox * p->stride_w - p->pad_left;
            int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            int32_t kx1 = p->in_w - ix0 < k_w ? p->in_w - ix0 : k_w;
            int8_t *out = output + ((int64_t)oy * p->out_w + ox) * c_all + c0;
            int32_t rows = ky1 - ky0, cols = kx1 - kx0;
            const int8_t *x0 = input, *w0 = weights;
            if (rows <= 0 || cols <= 0) {
                rows = cols = 0;
            } else {
                x0 = input + ((int64_t)(iy0 + ky0) * p->in_w + ix0 + kx0) * in_c + c0;
                w0 = weights + ky0 * w_row + kx0 * w_col + c0;
            }
            if (rows == 3 && cols == 3)
                dw_pixel_mve(1, 3, 3, x0, w0, in_row, in_c, w_row, w_col, &l, n, q, lo, hi, out);
            else if (rows == 5 && cols == 5)
                dw_pixel_mve(1, 5, 5, x0, w0, in_row, in_c, w_row, w_col, &l, n, q, lo, hi, out);
            else
                dw_pixel_mve(0, rows, cols, x0, w0, in_row, in_c, w_row, w_col, &l, n, q, lo, hi, out);
        }
    }
}

#define STEM_MVE_CHANNELS 16    /* per pass: four vectors of accumulators */
#define STEM_MAX_TAPS (2 * STEM_MAX_WORDS)

/* one pixel's 16 channels: TAPS values (in + offset, 0 in the padding) times the widened
 * weights wide[tap][16], each tap a scalar times four vectors */
SN_INLINE void stem_pixel_mve(const int32_t taps, const int32_t *xv, const int32_t *wide,
                              const int32_t *bias, const int32_t *mult, const int32_t *neg_r, int32_t m,
                              const sn_quant_params *q, int32x4_t lo, int32x4_t hi, int8_t *out)
{
    int32x4_t a0 = vldrwq_s32(bias), a1 = vldrwq_s32(bias + 4);
    int32x4_t a2 = vldrwq_s32(bias + 8), a3 = vldrwq_s32(bias + 12);
    int32_t k;
    SN_UNROLL5
    for (k = 0; k < taps; ++k, wide += STEM_MVE_CHANNELS) {
        const int32_t x = xv[k];
        a0 = vmlaq_n_s32(a0, vldrwq_s32(wide), x);
        a1 = vmlaq_n_s32(a1, vldrwq_s32(wide + 4), x);
        a2 = vmlaq_n_s32(a2, vldrwq_s32(wide + 8), x);
        a3 = vmlaq_n_s32(a3, vldrwq_s32(wide + 12), x);
    }
    a0 = rq_vec(a0, vldrwq_s32(mult), vldrwq_s32(neg_r), q->output_offset, lo, hi);
    a1 = rq_vec(a1, vldrwq_s32(mult + 4), vldrwq_s32(neg_r + 4), q->output_offset, lo, hi);
    a2 = rq_vec(a2, vldrwq_s32(mult + 8), vldrwq_s32(neg_r + 8), q->output_offset, lo, hi);
    a3 = rq_vec(a3, vldrwq_s32(mult + 12), vldrwq_s32(neg_r + 12), q->output_offset, lo, hi);
    if (m == STEM_MVE_CHANNELS) {
        vstrbq_s32(out, a0);
        vstrbq_s32(out + 4, a1);
        vstrbq_s32(out + 8, a2);
        vstrbq_s32(out + 12, a3);
    } else { /* lanes past m are not stored */
        vstrbq_p_s32(out, a0, vctp32q((uint32_t)m));
        vstrbq_p_s32(out + 4, a1, vctp32q((uint32_t)(m > 4 ? m - 4 : 0)));
        vstrbq_p_s32(out + 8, a2, vctp32q((uint32_t)(m > 8 ? m - 8 : 0)));
        vstrbq_p_s32(out + 12, a3, vctp32q((uint32_t)(m > 12 ? m - 12 : 0)));
    }
}

static void stem_mve(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *input,
                     const int8_t *weights, const requant *t, int32_t o0, int32_t n, int8_t *output SN_STEM_PARAMS)
{
    int32_t wide[STEM_MAX_TAPS * STEM_MVE_CHANNELS], xv[STEM_MAX_TAPS], toff[STEM_MAX_TAPS];
    requant_lanes l;
    const int32_t in_c = p->in_c, taps = p->kernel_h * p->kernel_w * in_c, off = q->input_offset;
    const int32_t row = p->in_w * in_c;
    const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
    int32_t g0, oy, ox, ky, kx, i, j, k;
    lanes_of(&l, t, n);
    for (j = n; j < CHUNK; ++j) /* lanes past n: defined values, never stored */
        l.bias[j] = l.m[j] = l.neg_r[j] = 0;
    for (k = 0, ky = 0; ky < p->kernel_h; ++ky) /* a tap's input, from the window's corner */
        for (kx = 0; kx < p->kernel_w; ++kx)
            for (i = 0; i < in_c; ++i)
                toff[k++] = ky * row + kx * in_c + i;
    for (g0 = 0; g0 < n; g0 += STEM_MVE_CHANNELS) {
        const int32_t m = n - g0 < STEM_MVE_CHANNELS ? n - g0 : STEM_MVE_CHANNELS;
        for (k = 0; k < taps; ++k) /* wide[tap][channel], zero past m */
            for (j = 0; j < STEM_MVE_CHANNELS; ++j)
                wide[k * STEM_MVE_CHANNELS + j] = 0;
        for (j = 0; j < m; ++j) {
            const int8_t *w = SN_STEM_W(o0 + g0 + j);
            for (k = 0, ky = 0; ky < p->kernel_h; ++ky)
                for (kx = 0; kx < p->kernel_w; ++kx)
                    for (i = 0; i < in_c; ++i)
                        wide[k++ * STEM_MVE_CHANNELS + j] = w[ky * SN_STEM_KH(o0 + g0 + j) + kx * SN_STEM_KW(o0 + g0 + j) + i];
        }
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix = ox * p->stride_w - p->pad_left;
                int8_t *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c + o0 + g0;
                if (iy >= 0 && iy + p->kernel_h <= p->in_h && ix >= 0 && ix + p->kernel_w <= p->in_w) {
                    const int8_t *s = input + (int64_t)iy * row + (int64_t)ix * in_c;
                    for (k = 0; k < taps; ++k)
                        xv[k] = s[toff[k]] + off;
                } else {
                    for (k = 0, ky = 0; ky < p->kernel_h; ++ky) {
                        const int32_t y = iy + ky;
                        for (kx = 0; kx < p->kernel_w; ++kx) {
                            const int32_t xx = ix + kx;
                            const int inside = y >= 0 && y < p->in_h && xx >= 0 && xx < p->in_w;
                            for (i = 0; i < in_c; ++i, ++k)
                                xv[k] = inside ? input[((int64_t)y * p->in_w + xx) * in_c + i] + off : 0;
                        }
                    }
                }
                if (taps == 9)
                    stem_pixel_mve(9, xv, wide, l.bias + g0, l.m + g0, l.neg_r + g0, m, q, lo, hi, out);
                else
                    stem_pixel_mve(taps, xv, wide, l.bias + g0, l.m + g0, l.neg_r + g0, m, q, lo, hi, out);
            }
        }
    }
}
#endif

#ifndef SN_MCU_KERNELS_RANGE
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

int64_t sn_mcu_conv2d_weight_reads(const sn_conv2d_params *p, int dw)
{
    const char *path = sn_mcu_conv2d_path(p, dw);
    const int64_t view = (int64_t)p->out_c * p->kernel_h * p->kernel_w * (dw ? 1 : p->in_c);
    if (path[0] == 'p') {
        int64_t blocks = ((int64_t)p->out_h * p->out_w + 3) / 4;
#ifdef SN_MCU_MVE
        blocks += 1;
#endif
        return view * blocks;
    }
    if (path[0] == 's')
        return view;
    return sn_conv2d_macs(p, dw);
}

const char *sn_mcu_kernels_isa(void)
{
#ifdef SN_MCU_MVE
    return "mve+" SN_MCU_ISA;
#else
    return SN_MCU_ISA;
#endif
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
#endif
