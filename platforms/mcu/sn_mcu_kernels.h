/* supernav on a microcontroller: the platform's own int8 convolutions (the firmware's
 * conv2d_s8 and depthwise_conv2d_s8 slots, sn_mcu_serve.c).
 *
 * Contract: sn_conv2d_ref_s8's and sn_depthwise_conv2d_ref_s8's (sn_kernels_ref.h): the same
 * parameters, the same strided weight views (a SubNet's channel prefix and centred kernel
 * crop of the SuperNet's stored tensors), int8 outputs bit for bit the reference's, the
 * reference's status for parameters it refuses. No allocation: scratch (a few KB) is on the
 * stack. The weights are read where they lie (flash, or the SRAM weight cache), as int8, once
 * per block of output pixels; nothing is packed or widened ahead of time.
 *
 * Paths (sn_mcu_conv2d_path): pointwise (1x1, any stride and padding) over one output
 * channel and four output pixels at a time; depthwise over four channels at a time; the stem
 * (a dense k x k convolution of at most 4 input channels) over its taps in pairs; any other
 * dense shape runs the reference kernel. On a core with the DSP extension (Cortex-M4, M7,
 * M33, M55: __ARM_FEATURE_DSP) the inner loops are the dual 16-bit multiply-accumulates of
 * arm_acle.h (SMLAD, SMLABB/SMLATT, SXTB16, SXTAB16); elsewhere (an M0 or M3, the host's
 * tests) the same loops run with those instructions written in C. */
#ifndef SN_MCU_KERNELS_H
#define SN_MCU_KERNELS_H

#include "sn_kernels_ref.h"

sn_status sn_mcu_conv2d_s8(const sn_conv2d_params *params, const sn_quant_params *quant,
                           const int8_t *input, const int8_t *weights, const int32_t *bias,
                           int8_t *output);

sn_status sn_mcu_depthwise_conv2d_s8(const sn_conv2d_params *params, const sn_quant_params *quant,
                                     const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output);

/* A view whose leading output channels are read from a second copy of its weights (the
 * SRAM weight cache's copy of a leading box of the tensor, with its own strides): channel 0
 * of the view in that copy, the copy's strides, and how many output channels it serves. */
typedef struct sn_mcu_near_part {
    const int8_t *weights;
    int32_t w_stride_out, w_stride_kh, w_stride_kw;
    int32_t channels;           /* 0 < channels < out_c */
} sn_mcu_near_part;

/* The same convolutions with output channels [0, NEAR->channels) read from NEAR and the
 * rest from WEIGHTS (P's strides): the same paths and results bit for bit, each over its part
 * of the channels (the reference path's shapes by the reference's arithmetic over a range). */
sn_status sn_mcu_conv2d_s8_split(const sn_conv2d_params *params, const sn_quant_params *quant,
                                 const int8_t *input, const int8_t *weights, const sn_mcu_near_part *near,
                                 const int32_t *bias, int8_t *output);
sn_status sn_mcu_depthwise_conv2d_s8_split(const sn_conv2d_params *params, const sn_quant_params *quant,
                                           const int8_t *input, const int8_t *weights,
                                           const sn_mcu_near_part *near, const int32_t *bias,
                                           int8_t *output);

/* PARAMS with NEAR's strides: the view of the near copy. */
sn_conv2d_params sn_mcu_near_params(const sn_conv2d_params *params, const sn_mcu_near_part *near);

/* Output channels per near/far unit of a split view (the SubGraph's slice quantum): a split
 * at a multiple of it keeps every group of channels the loops take together wholly in one
 * part (the DSP loops' quads: 4; Helium's depthwise vectors: 8). Any split is bit-exact; this
 * one is cheaper. */
int32_t sn_mcu_slice_quantum(void);

/* Which path sn_mcu_conv2d_s8 (DEPTHWISE 0) or sn_mcu_depthwise_conv2d_s8 (1) takes for
 * PARAMS: "pointwise", "depthwise", "stem" or "reference". */
const char *sn_mcu_conv2d_path(const sn_conv2d_params *params, int depthwise);

/* Weight bytes one call reads from its view (the firmware's far-read count, the cycle model's
 * flash reads): pointwise reads every weight once per block of four output pixels (and once
 * more for the sums of weights on Helium), the stem once per call (widened into registers'
 * worth of pairs), depthwise and the reference once per MAC. */
int64_t sn_mcu_conv2d_weight_reads(const sn_conv2d_params *params, int depthwise);

/* The instruction set the kernels were compiled for: "dsp" (SMLAD and friends), "mve+dsp"
 * (Helium where a chunk allows, the DSP loops elsewhere) or "c". */
const char *sn_mcu_kernels_isa(void);

#endif
