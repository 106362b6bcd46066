/* A peer for the kernel table, not part of the platform: sn_mcu_kernels.h's functions served
 * by CMSIS-NN's int8 wrappers (arm_convolve_wrapper_s8, arm_depthwise_conv_wrapper_s8: the
 * library picks its own kernel per shape). Linked instead of sn_mcu_kernels.c into the firmware
 * that platforms/mcu/cmsis-nn.sh builds from a CMSIS-NN checkout (CMSIS_NN_DIR), so that
 * `sn-mcu kernels` runs the same shapes through CMSIS-NN and the reference. Only calls the
 * library's public API; packed weight views only (a SubNet's strided view runs the reference,
 * path "reference"). CMSIS-NN follows TFLite: no negative multipliers (supernav's extension),
 * so its outputs match the reference's only with positive ones (the `tflite` quantization of
 * the firmware's kernel command). */
#include <string.h>

#include "arm_nnfunctions.h"
#include "sn_mcu_kernels.h"

#define SCRATCH_BYTES (48 * 1024)
static int8_t scratch[SCRATCH_BYTES];

static int packed(const sn_conv2d_params *p, int dw)
{
    if (dw)
        return p->w_stride_kw == p->out_c && p->w_stride_kh == p->kernel_w * p->out_c;
    return p->w_stride_kw == p->in_c && p->w_stride_kh == p->kernel_w * p->in_c &&
           p->w_stride_out == p->kernel_h * p->kernel_w * p->in_c;
}

static void dims(const sn_conv2d_params *p, int dw, cmsis_nn_dims *in, cmsis_nn_dims *filter,
                 cmsis_nn_dims *bias, cmsis_nn_dims *out)
{
    in->n = 1; in->h = p->in_h; in->w = p->in_w; in->c = p->in_c;
    filter->n = dw ? 1 : p->out_c; filter->h = p->kernel_h; filter->w = p->kernel_w;
    filter->c = dw ? p->out_c : p->in_c;
    bias->n = 1; bias->h = 1; bias->w = 1; bias->c = p->out_c;
    out->n = 1; out->h = p->out_h; out->w = p->out_w; out->c = p->out_c;
}

const char *sn_mcu_conv2d_path(const sn_conv2d_params *p, int dw)
{
    return packed(p, dw) ? "cmsis-nn" : "reference";
}

const char *sn_mcu_kernels_isa(void)
{
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    return "cmsis-nn-mve";
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    return "cmsis-nn-dsp";
#else
    return "cmsis-nn-c";
#endif
}

int64_t sn_mcu_conv2d_weight_reads(const sn_conv2d_params *p, int dw)
{
    return sn_conv2d_macs(p, dw);
}

sn_status sn_mcu_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                           const int8_t *input, const int8_t *weights, const int32_t *bias,
                           int8_t *output)
{
    cmsis_nn_context ctx;
    cmsis_nn_conv_params cp;
    cmsis_nn_per_channel_quant_params qp;
    cmsis_nn_dims in, filter, bd, out;
    sn_status st = sn_conv2d_check(p, 0);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (!packed(p, 0))
        return sn_conv2d_ref_s8(p, q, input, weights, bias, output);
    memset(&cp, 0, sizeof cp);
    cp.input_offset = q->input_offset;
    cp.output_offset = q->output_offset;
    cp.stride.h = p->stride_h; cp.stride.w = p->stride_w;
    cp.padding.h = p->pad_top; cp.padding.w = p->pad_left;
    cp.dilation.h = cp.dilation.w = 1;
    cp.activation.min = q->act_min;
    cp.activation.max = q->act_max;
    qp.multiplier = (int32_t *)(uintptr_t)q->multiplier;
    qp.shift = (int32_t *)(uintptr_t)q->shift;
    dims(p, 0, &in, &filter, &bd, &out);
    ctx.buf = scratch;
    ctx.size = arm_convolve_wrapper_s8_get_buffer_size(&cp, &in, &filter, &out);
    if (ctx.size > SCRATCH_BYTES)
        return SN_ERR_NO_MEMORY;
    return arm_convolve_wrapper_s8(&ctx, &cp, &qp, &in, input, &filter, weights, &bd, bias, &out, output) ==
                   ARM_CMSIS_NN_SUCCESS
               ? SN_OK
               : SN_ERR_INVALID_ARGUMENT;
}

sn_status sn_mcu_depthwise_conv2d_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                                     const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output)
{
    cmsis_nn_context ctx;
    cmsis_nn_dw_conv_params cp;
    cmsis_nn_per_channel_quant_params qp;
    cmsis_nn_dims in, filter, bd, out;
    sn_status st = sn_conv2d_check(p, 1);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (!packed(p, 1))
        return sn_depthwise_conv2d_ref_s8(p, q, input, weights, bias, output);
    memset(&cp, 0, sizeof cp);
    cp.input_offset = q->input_offset;
    cp.output_offset = q->output_offset;
    cp.ch_mult = 1;
    cp.stride.h = p->stride_h; cp.stride.w = p->stride_w;
    cp.padding.h = p->pad_top; cp.padding.w = p->pad_left;
    cp.dilation.h = cp.dilation.w = 1;
    cp.activation.min = q->act_min;
    cp.activation.max = q->act_max;
    qp.multiplier = (int32_t *)(uintptr_t)q->multiplier;
    qp.shift = (int32_t *)(uintptr_t)q->shift;
    dims(p, 1, &in, &filter, &bd, &out);
    ctx.buf = scratch;
    ctx.size = arm_depthwise_conv_wrapper_s8_get_buffer_size(&cp, &in, &filter, &out);
    if (ctx.size > SCRATCH_BYTES)
        return SN_ERR_NO_MEMORY;
    return arm_depthwise_conv_wrapper_s8(&ctx, &cp, &qp, &in, input, &filter, weights, &bd, bias, &out,
                                         output) == ARM_CMSIS_NN_SUCCESS
               ? SN_OK
               : SN_ERR_INVALID_ARGUMENT;
}
