#include "sn_kernels_ref.h"
#include "sn_quant.h"

static int8_t finish(const sn_quant_params *q, int32_t acc, int32_t o)
{
    int32_t v = sn_requantize(acc, q->multiplier[o], q->shift[o]) + q->output_offset;
    if (v < q->act_min)
        v = q->act_min;
    if (v > q->act_max)
        v = q->act_max;
    return (int8_t)v;
}

sn_status sn_quant_params_check(const sn_quant_params *q)
{
    if (!q || !q->multiplier || !q->shift || q->act_min < -128 || q->act_max > 127 ||
        q->act_min > q->act_max || q->input_offset < -127 || q->input_offset > 128 ||
        q->output_offset < -128 || q->output_offset > 127)
        return SN_ERR_INVALID_ARGUMENT;
    return SN_OK;
}

sn_status sn_conv2d_ref_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                           const int8_t *input, const int8_t *weights, const int32_t *bias,
                           int8_t *output)
{
    sn_status st = sn_conv2d_check(p, 0);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    sn_conv2d_ref_s8_channels(p, q, input, weights, bias, output, 0, p->out_c);
    return SN_OK;
}

void sn_conv2d_ref_s8_channels(const sn_conv2d_params *p, const sn_quant_params *q,
                               const int8_t *input, const int8_t *weights, const int32_t *bias,
                               int8_t *output, int32_t o_begin, int32_t o_end)
{
    int32_t oy, ox, o, ky, kx, i;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (o = o_begin; o < o_end; ++o) {
                const int8_t *w_o = weights + (int64_t)o * p->w_stride_out;
                int32_t acc = bias ? bias[o] : 0;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    int32_t iy = oy * p->stride_h + ky - p->pad_top;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        int32_t ix = ox * p->stride_w + kx - p->pad_left;
                        const int8_t *in_px, *w_px;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        in_px = input + ((int64_t)iy * p->in_w + ix) * p->in_c;
                        w_px = w_o + ky * p->w_stride_kh + kx * p->w_stride_kw;
                        for (i = 0; i < p->in_c; ++i)
                            acc += ((int32_t)in_px[i] + q->input_offset) * (int32_t)w_px[i];
                    }
                }
                out[o] = finish(q, acc, o);
            }
        }
    }
}

sn_status sn_depthwise_conv2d_ref_s8(const sn_conv2d_params *p, const sn_quant_params *q,
                                     const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output)
{
    int32_t oy, ox, c, ky, kx;
    sn_status st = sn_conv2d_check(p, 1);
    if (st == SN_OK)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (c = 0; c < p->out_c; ++c) {
                int32_t acc = bias ? bias[c] : 0;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    int32_t iy = oy * p->stride_h + ky - p->pad_top;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        int32_t ix = ox * p->stride_w + kx - p->pad_left;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        acc += ((int32_t)input[((int64_t)iy * p->in_w + ix) * p->in_c + c] +
                                q->input_offset) *
                               (int32_t)weights[ky * p->w_stride_kh + kx * p->w_stride_kw + c];
                    }
                }
                out[c] = finish(q, acc, c);
            }
        }
    }
    return SN_OK;
}
