/* supernav engine: reference kernels (the oracle), one file per op and type under
 * engine/kernels/ (sn_<op>_ref_<type>.c).
 *
 * Plain C99, batch 1, NHWC activations (channels contiguous), no allocation, no stdio.
 * Platforms override these with faster kernels; the reference stays simple because
 * every other implementation is tested against it.
 *
 * Weights are read through a strided view so that an elastic SubNet can use a leading
 * channel slice or a centred kernel crop of the SuperNet's full tensors without copying:
 *   dense conv:     w[o*stride_out + kh*stride_kh + kw*stride_kw + i]   (i contiguous)
 *   depthwise conv: w[kh*stride_kh + kw*stride_kw + c]                   (c contiguous)
 */
#ifndef SN_KERNELS_REF_H
#define SN_KERNELS_REF_H

#include <stdint.h>
#include "sn_status.h"

typedef struct sn_conv2d_params {
    int32_t in_h, in_w, in_c;       /* input activation shape (HWC) */
    int32_t out_h, out_w, out_c;    /* output activation shape (HWC) */
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;      /* zero padding before the first row/column */
    int32_t w_stride_out;           /* dense only: elements between output channels */
    int32_t w_stride_kh, w_stride_kw;
    float act_min, act_max;         /* fused clamp, e.g. 0 and 6 for ReLU6 */
} sn_conv2d_params;

/* Fill the strides of a packed (unsliced) weight tensor: dense OHWI or depthwise HWC. */
void sn_conv2d_params_packed_strides(sn_conv2d_params *params, int depthwise);

/* Output size of one spatial dimension; 0 when the geometry is impossible. */
int32_t sn_conv2d_out_size(int32_t in, int32_t kernel, int32_t stride, int32_t pad_before,
                           int32_t pad_after);

/* Checks that the parameters describe a computable convolution (positive sizes, output
 * inside what the padded input can produce, strides that do not overlap channels). */
sn_status sn_conv2d_check(const sn_conv2d_params *params, int depthwise);

/* out[y][x][o] = clamp(scale[o] * sum_{kh,kw,i} in[y*s+kh-pt][x*s+kw-pl][i] * w[o][kh][kw][i]
 *                     + bias[o]).
 * scale and bias may be NULL (1 and 0): a folded batch norm is a scale and a bias.
 * Returns the check's status; writes nothing on error. */
sn_status sn_conv2d_ref_f32(const sn_conv2d_params *params, const float *input,
                            const float *weights, const float *scale, const float *bias,
                            float *output);

/* Depthwise: out_c == in_c, one kh x kw filter per channel. */
sn_status sn_depthwise_conv2d_ref_f32(const sn_conv2d_params *params, const float *input,
                                      const float *weights, const float *scale,
                                      const float *bias, float *output);

/* int8 (TFLite / CMSIS-NN semantics, see sn_quant.h): per-channel symmetric weights,
 * asymmetric activations, int32 bias in accumulator units, per-channel requantization.
 *   acc = bias[o] + sum (in + input_offset) * w      (padding contributes nothing)
 *   out = clamp(requantize(acc, multiplier[o], shift[o]) + output_offset, act_min, act_max)
 * The float act_min/act_max of sn_conv2d_params are ignored here. */
typedef struct sn_quant_params {
    int32_t input_offset;        /* minus the input zero point */
    int32_t output_offset;       /* the output zero point */
    const int32_t *multiplier;   /* per output channel (Q31, sign = negate first) */
    const int32_t *shift;        /* per output channel */
    int32_t act_min, act_max;    /* clamp in the output's int8 domain */
} sn_quant_params;

/* Checks that QUANT is usable by an int8 kernel (vectors present, offsets and clamp inside
 * the int8 ranges); every platform's int8 slot checks with it. */
sn_status sn_quant_params_check(const sn_quant_params *quant);

sn_status sn_conv2d_ref_s8(const sn_conv2d_params *params, const sn_quant_params *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias,
                           int8_t *output);
/* The same arithmetic over output channels [O_BEGIN, O_END) only, into OUTPUT's channels
 * of that range (the rest left as they are), with no checks: for a platform that computes a
 * layer's channels in parts (the MCU's view split between two copies of its weights) after
 * checking the whole call as sn_conv2d_ref_s8 does. */
void sn_conv2d_ref_s8_channels(const sn_conv2d_params *params, const sn_quant_params *quant,
                               const int8_t *input, const int8_t *weights, const int32_t *bias,
                               int8_t *output, int32_t o_begin, int32_t o_end);

sn_status sn_depthwise_conv2d_ref_s8(const sn_conv2d_params *params,
                                     const sn_quant_params *quant, const int8_t *input,
                                     const int8_t *weights, const int32_t *bias,
                                     int8_t *output);

/* Multiply–accumulate count of one call, for reports and micro-benchmarks. */
int64_t sn_conv2d_macs(const sn_conv2d_params *params, int depthwise);

/* ---- residual add --------------------------------------------------------------------- */

/* OUT[i] += IN[i] for i < N: one IEEE addition per element (so every implementation gives
 * these bits). */
sn_status sn_add_ref_f32(float *out, const float *in, uint32_t n);

/* int8 (TFLite's int8 ADD): both inputs, offset and shifted 20 bits up, are scaled to twice
 * the larger input scale, summed, requantized to the output and clamped to int8:
 *   a = requantize((OUT[i] + offset[0]) << 20, multiplier[0], shift[0])
 *   b = requantize((IN[i]  + offset[1]) << 20, multiplier[1], shift[1])
 *   OUT[i] = clamp(requantize(a + b, multiplier[2], shift[2]) + offset[2], -128, 127)
 * Index 0 is OUT's present values (a convolution's output), 1 the added input (the
 * residual), 2 the sum. */
typedef struct sn_add_quant_params {
    int32_t offset[3];           /* minus the zero points of OUT and IN; the output zero point */
    int32_t multiplier[3];       /* Q31 (sn_quant.h) */
    int32_t shift[3];            /* in [-31, 30] */
} sn_add_quant_params;

/* Checks that QUANT is usable by an int8 add (offsets inside the int8 ranges, shifts in range). */
sn_status sn_add_quant_params_check(const sn_add_quant_params *quant);

sn_status sn_add_ref_s8(const sn_add_quant_params *quant, int8_t *out, const int8_t *in,
                        uint32_t n);

/* ---- average pooling ------------------------------------------------------------------ */

/* Non-overlapping windows (stride = window, no padding): IN is in_h x in_w x channels (NHWC),
 * OUT (in_h / window_h) x (in_w / window_w) x channels; the window must divide the input. A
 * global average pool is the window of the whole map. */
typedef struct sn_pool_params {
    int32_t in_h, in_w, channels;
    int32_t window_h, window_w;
    int32_t zero_point;          /* int8: the input's and the output's (one quantization) */
} sn_pool_params;

/* Checks that the parameters describe a computable pool (positive sizes, windows that
 * divide the input, int8 zero point in range). */
sn_status sn_pool_check(const sn_pool_params *params);

/* out = (the window's values summed in row-major order, from 0.0f) / (float)(window_h * window_w) */
sn_status sn_avgpool_ref_f32(const sn_pool_params *params, const float *input, float *output);

/* int8 (TFLite's int8 mean with equal input and output scales):
 *   s = sum (in - zero_point);  out = clamp(s / n rounded half away from zero + zero_point) */
sn_status sn_avgpool_ref_s8(const sn_pool_params *params, const int8_t *input, int8_t *output);

/* ---- fully connected (the classifier) ------------------------------------------------- */

/* OUT[o] = bias[o] + sum_k weights[o * in_c + k] * IN[k] for o < out_c, each output summed in
 * the order of k (bias may be NULL: 0). */
typedef struct sn_fc_params {
    int32_t in_c, out_c;         /* 1 .. 16384 each */
    int32_t input_offset;        /* int8: minus the input zero point */
} sn_fc_params;

/* Checks sizes (and the int8 input offset). */
sn_status sn_fc_check(const sn_fc_params *params);

sn_status sn_fully_connected_ref_f32(const sn_fc_params *params, const float *input,
                                     const float *weights, const float *bias, float *output);

/* int8 input and weights, int32 bias in accumulator units, dequantized float outputs (a
 * classifier's logits): OUT[o] = (float)(bias[o] + sum_k (IN[k] + input_offset) *
 * weights[o * in_c + k]) * out_scale[o]. Integer accumulation: every order gives these bits. */
sn_status sn_fully_connected_ref_s8(const sn_fc_params *params, const int8_t *input,
                                    const int8_t *weights, const int32_t *bias,
                                    const float *out_scale, float *output);

#endif
