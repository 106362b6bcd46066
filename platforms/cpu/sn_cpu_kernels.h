/* supernav CPU platform: the kernel table each ISA build provides (internal). */
#ifndef SN_CPU_KERNELS_H
#define SN_CPU_KERNELS_H

#include <stdint.h>

#include "sn_kernels_ref.h"

/* Scratch of the int8 kernels (each platform view owns one): WORDS holds the rewritten
 * input and its derived rows (and, as floats, the fp32 depthwise kernel's WORK); RQ, requantization constants prepared for one call
 * (SN_CPU_RQ_ROWS rows of SN_CPU_MAX_CHANNELS) and a row of weight sums after them;
 * DW_WORDS, a call's depthwise weight words. 64-byte aligned. */
typedef struct sn_cpu_s8_work {
    int32_t *words;
    size_t word_count;
    int32_t *rq;
    int32_t *dw_words;           /* SN_CPU_DW_WORDS: one call's depthwise weight words */
} sn_cpu_s8_work;

#define SN_CPU_DW_WORDS (1u << 16)

#define SN_CPU_MAX_CHANNELS 16384  /* sn_conv2d_check's bound */
#define SN_CPU_RQ_ROWS 8

/* A call's requantization, prepared (sn_cpu_kernels.rq_s8): per-channel constants in ROWS
 * (SN_CPU_RQ_ROWS rows, STRIDE int32 apart) and the layer's flags. */
typedef struct sn_cpu_rq {
    const int32_t *rows;
    size_t stride;
    int neg, left;               /* some multiplier is negative; some shift is a left shift */
    int clamp;                   /* the clamp is narrower than int8 (else saturation does it) */
    int fast;                    /* 1: the short form applies; 2: and the output offset is
                                  * -128, so a negative product needs no rounding correction */
    int32_t off, lo, hi;         /* output offset, clamp */
    uint32_t upad;               /* a padding tap's u-value, 128 - input_offset */
} sn_cpu_rq;

/* Packed dense weights: element (tap t = kh * kernel_w + kw, input i, output o) at
 * wp[((size_t)t * rows + i) * ld + o], ld a multiple of 16, wp 64-byte aligned.
 * Packed depthwise weights: (t, c) at wp[(size_t)t * ld + c].
 * scale and bias are padded to a multiple of 16 (no NULLs). zeros holds in_c zeros.
 * Geometry is already checked by the caller. */
typedef struct sn_cpu_kernels {
    const char *isa;
    void (*conv_f32)(const sn_conv2d_params *p, const float *in, const float *wp, int32_t rows,
                     int32_t ld, const float *scale, const float *bias, float *out,
                     const float *zeros);
    /* TAP_ROW: taps per row of the packed kernel (kernel_w, or the width of a larger
     * packed kernel whose centred crop this is, wp pointing at the crop's first tap); WORK:
     * WORK_FLOATS floats of scratch, 32-byte aligned (the AVX2 build's 5x5 kernel copies one
     * channel vector's padded input map there; others ignore it; too small: the other path) */
    void (*dwconv_f32)(const sn_conv2d_params *p, const float *in, const float *wp, int32_t ld,
                       int32_t tap_row, const float *scale, const float *bias, float *out, float *work,
                       size_t work_floats);
    /* out[i] += in[i], i < n (a residual connection) */
    void (*add_f32)(float *out, const float *in, uint32_t n);
    /* sn_resize_canvas_f32 with the same bits; returns 0 (nothing written) for sizes it does
     * not take (sides over SN_CPU_RESIZE_MAX), 1 when done */
    int (*resize_canvas_f32)(const uint8_t *canvas, uint32_t src, float *out, uint32_t dst);
    /* sn_avgpool_ref_f32's bits (P already checked) */
    void (*avgpool_f32)(const sn_pool_params *p, const float *in, float *out);
    /* sn_fully_connected_ref_f32 within rounding (P already checked) */
    void (*fc_f32)(const sn_fc_params *p, const float *in, const float *w, const float *bias, float *out);
    /* int8, bit-exact with sn_conv2d_ref_s8 / sn_depthwise_conv2d_ref_s8 (sn_cpu_kernels_s8.inc).
     * Dense weights packed S8_GROUP inputs to an int32 word: word (t, r, o) at
     * wp[((size_t)t * rows + r) * ld + o] holds the weights of inputs r * G .. r * G + G - 1 of
     * output o at tap t (4 bytes for VNNI's u8 x s8 dot products, else 2 int16 halves for
     * pairwise multiply-adds; zero past the packed inputs); rows = ceil(packed inputs / G).
     * Depthwise weights stay int8 (tap t's channels at wp + t * ld bytes, t = ky * tap_row +
     * kx); the depthwise kernel reads them as words of s8_group taps of a kernel row
     * (dw_words_s8). The requantization comes prepared (rq_s8). Return 0, or -1 when the call is not
     * taken (WORK too small for its maps); the caller then runs the reference. */
    int (*conv_s8)(const sn_conv2d_params *p, const int8_t *in, const int32_t *wp, int32_t rows, int32_t ld,
                   const sn_cpu_rq *rq, int8_t *out, const sn_cpu_s8_work *work);
    int (*dwconv_s8)(const sn_conv2d_params *p, const int8_t *in, const int32_t *words, const sn_cpu_rq *rq,
                     int8_t *out, const sn_cpu_s8_work *work);
    /* the depthwise weight words dwconv_s8 reads (from the int8 taps: WP + (ky * TAP_ROW + kx) *
     * LD bytes): kernel_h x ceil(kernel_w / s8_group) x in_c rounded up to 16 int32 */
    void (*dw_words_s8)(const sn_conv2d_params *p, const int8_t *wp, int32_t ld, int32_t tap_row, int32_t *words);
    /* the sums of each output's weights over the call's view, round16(out_c) of them (dense:
     * the packed words, ROWS per tap; depthwise: the int8 taps, ROWS = tap_row) */
    void (*wsum_s8)(const sn_conv2d_params *p, int dw, const void *wp, int32_t rows, int32_t ld, int32_t *dst);
    /* prepares RQ (its constants in ROWS: SN_CPU_RQ_ROWS rows of STRIDE, a multiple of 16 >=
     * out_c) from the call's quantization, BIAS (may be NULL) and WSUM (the weight sums; may
     * be NULL when q->input_offset is 128); K_PRODUCTS: products per accumulator (taps x
     * inputs). Returns -1 for a shift outside [-31, 30]. */
    int (*rq_s8)(const sn_quant_params *q, const int32_t *bias, const int32_t *wsum, int32_t out_c,
                 int32_t k_products, int32_t *rows, size_t stride, sn_cpu_rq *rq);
    /* the int8 residual add, sn_add_ref_s8's bits (Q already checked) */
    void (*add_s8)(const sn_add_quant_params *q, int8_t *out, const int8_t *in, uint32_t n);
    /* sn_avgpool_ref_s8's bits (P already checked); -1, nothing written, for a window of more
     * than 4096 values (the caller runs the reference) */
    int (*avgpool_s8)(const sn_pool_params *p, const int8_t *in, int8_t *out);
    /* sn_fully_connected_ref_s8's bits (P already checked) */
    void (*fc_s8)(const sn_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, const float *scale,
                  float *out);
    int s8_group;                /* inputs per packed dense int8 word: 4 or 2 */
} sn_cpu_kernels;

/* The largest kernel window the packed kernels take (bigger ones run on the reference). */
#define SN_CPU_MAX_TAPS 49

extern const sn_cpu_kernels sn_cpu_kernels_portable;
#if defined(__x86_64__) && defined(__GNUC__)
extern const sn_cpu_kernels sn_cpu_kernels_avx2;
extern const sn_cpu_kernels sn_cpu_kernels_avx512;
extern const sn_cpu_kernels sn_cpu_kernels_avxvnni;
extern const sn_cpu_kernels sn_cpu_kernels_avx512vnni;
#define SN_CPU_HAVE_X86 1
#endif

#endif
