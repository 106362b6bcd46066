/* supernav on a microcontroller: a view split between two copies of its weights
 * (sn_mcu_kernels.h: sn_mcu_conv2d_s8_split, sn_mcu_depthwise_conv2d_s8_split).
 *
 * The SRAM weight cache may hold a leading box of a tensor narrower than a SubNet's view of
 * it (SUSHI's SubGraph as weight slices): output channels [0, near->channels) then read the
 * cache's copy with its own strides, the rest the view in flash. Each part runs the same path
 * as a whole view over its range of output channels, into the same output: this file compiles
 * sn_mcu_kernels.c's loops once more with SN_MCU_KERNELS_RANGE (a range of channels instead of
 * all of them), so that the whole-view entry points there keep their code instruction for
 * instruction. The pointwise and depthwise paths run once per part: what the split costs is
 * the second pass's set-up (the chunk of channels cut in two gets two requantization tables,
 * each pixel block's input is widened once per part on the pointwise path, each pixel's
 * window set up once per part on the depthwise path). The stem, whose weights are widened
 * once per call, takes each channel's from the near copy or from the view there and then runs
 * its loops once, as for a whole view. All of it counted as every instruction is. */
#define SN_MCU_KERNELS_RANGE 1
#include "sn_mcu_kernels.c"

int32_t sn_mcu_slice_quantum(void)
{
#ifdef SN_MCU_MVE
    return 8;   /* Helium's depthwise: eight channels per vector */
#else
    return 4;   /* the DSP loops' quads of channels (depthwise, the stem's requantization) */
#endif
}

sn_conv2d_params sn_mcu_near_params(const sn_conv2d_params *p, const sn_mcu_near_part *near)
{
    sn_conv2d_params n = *p;
    n.w_stride_out = near->w_stride_out;
    n.w_stride_kh = near->w_stride_kh;
    n.w_stride_kw = near->w_stride_kw;
    return n;
}

/* The checks of a split call: the whole view's, as its unsplit kernel makes them, and a
 * near part of 1 to out_c - 1 channels. */
static sn_status split_check(const sn_conv2d_params *p, const sn_quant_params *q, const sn_mcu_near_part *near,
                             int dw)
{
    sn_status st = sn_conv2d_check(p, dw);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st == SN_OK && (!near || !near->weights || near->channels <= 0 || near->channels >= p->out_c))
        st = SN_ERR_INVALID_ARGUMENT;
    return st;
}

sn_status sn_mcu_conv2d_s8_split(const sn_conv2d_params *p, const sn_quant_params *q,
                                 const int8_t *input, const int8_t *weights, const sn_mcu_near_part *near,
                                 const int32_t *bias, int8_t *output)
{
    const char *path;
    sn_conv2d_params pn;
    int32_t split;
    sn_status st = split_check(p, q, near, 0);
    if (st != SN_OK)
        return st;
    split = near->channels;
    pn = sn_mcu_near_params(p, near);
    path = sn_mcu_conv2d_path(p, 0);
    if (path[0] == 'p') {
        pointwise(&pn, q, input, near->weights, bias, output, 0, split);
        pointwise(p, q, input, weights, bias, output, split, p->out_c);
    } else if (path[0] == 's') {
        stem(p, q, input, weights, bias, output, &pn, near->weights, split);
    } else {
        /* the reference path's shapes (a dense k x k convolution wider than the stem, a
         * pointwise layer wider than 384): the reference's arithmetic over each part */
        sn_conv2d_ref_s8_channels(&pn, q, input, near->weights, bias, output, 0, split);
        sn_conv2d_ref_s8_channels(p, q, input, weights, bias, output, split, p->out_c);
    }
    return SN_OK;
}

sn_status sn_mcu_depthwise_conv2d_s8_split(const sn_conv2d_params *p, const sn_quant_params *q,
                                           const int8_t *input, const int8_t *weights,
                                           const sn_mcu_near_part *near, const int32_t *bias, int8_t *output)
{
    sn_conv2d_params pn;
    sn_status st = split_check(p, q, near, 1);
    if (st != SN_OK)
        return st;
    pn = sn_mcu_near_params(p, near);
    depthwise(&pn, q, input, near->weights, bias, output, 0, near->channels);
    depthwise(p, q, input, weights, bias, output, near->channels, p->out_c);
    return SN_OK;
}
