/* supernav CPU platform: the kernel table each ISA build provides (internal). */
#ifndef SN_CPU_KERNELS_H
#define SN_CPU_KERNELS_H

#include <stdint.h>

#include "sn_kernels_ref.h"

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
     * packed kernel whose centred crop this is, wp pointing at the crop's first tap) */
    void (*dwconv_f32)(const sn_conv2d_params *p, const float *in, const float *wp, int32_t ld,
                       int32_t tap_row, const float *scale, const float *bias, float *out);
    /* out[i] += in[i], i < n (a residual connection) */
    void (*add_f32)(float *out, const float *in, uint32_t n);
    /* sn_resize_canvas_f32 with the same bits; returns 0 (nothing written) for sizes it does
     * not take (sides over SN_CPU_RESIZE_MAX), 1 when done */
    int (*resize_canvas_f32)(const uint8_t *canvas, uint32_t src, float *out, uint32_t dst);
    /* int8: the same packed layouts with int32 weights (widened at packing); integer
     * accumulation in int32 lanes, then the reference's requantization, vectorized lane by lane, so
     * results are bit-exact with sn_conv2d_ref_s8. bias, mult and shift are padded (no NULL). The
     * dense kernel first rewrites the input as offset int16 pairs into PAIRS
     * (in_h * in_w * ceil(in_c / 2) words) for pairwise multiply-adds; ZERO_PAIRS holds
     * ceil(in_c / 2) zero words for padding. */
    void (*conv_s8)(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                    const int32_t *wp, int32_t rows, int32_t ld, const int32_t *bias,
                    const int32_t *mult, const int32_t *shift, int8_t *out, int32_t *pairs,
                    const int32_t *zero_pairs);
    void (*dwconv_s8)(const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                      const int32_t *wp, int32_t ld, int32_t tap_row, const int32_t *bias,
                      const int32_t *mult, const int32_t *shift, int8_t *out);
} sn_cpu_kernels;

/* The largest kernel window the packed kernels take (bigger ones run on the reference). */
#define SN_CPU_MAX_TAPS 49

extern const sn_cpu_kernels sn_cpu_kernels_portable;
#if defined(__x86_64__) && defined(__GNUC__)
extern const sn_cpu_kernels sn_cpu_kernels_avx2;
extern const sn_cpu_kernels sn_cpu_kernels_avx512;
#define SN_CPU_HAVE_X86 1
#endif

#endif
