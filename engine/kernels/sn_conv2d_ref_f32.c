#include "sn_kernels_ref.h"

int32_t sn_conv2d_out_size(int32_t in, int32_t kernel, int32_t stride, int32_t pad_before,
                           int32_t pad_after)
{
    int32_t span;
    if (in <= 0 || kernel <= 0 || stride <= 0 || pad_before < 0 || pad_after < 0)
        return 0;
    span = in + pad_before + pad_after - kernel;
    if (span < 0)
        return 0;
    return span / stride + 1;
}

void sn_conv2d_params_packed_strides(sn_conv2d_params *params, int depthwise)
{
    params->w_stride_kw = depthwise ? params->out_c : params->in_c;
    params->w_stride_kh = params->kernel_w * params->w_stride_kw;
    params->w_stride_out = depthwise ? 0 : params->kernel_h * params->w_stride_kh;
}

sn_status sn_conv2d_check(const sn_conv2d_params *p, int depthwise)
{
    /* Bound every size so that index arithmetic below cannot overflow int32. */
    const int32_t max_dim = 1 << 14;
    if (p->in_h <= 0 || p->in_w <= 0 || p->in_c <= 0 || p->out_h <= 0 || p->out_w <= 0 ||
        p->out_c <= 0 || p->kernel_h <= 0 || p->kernel_w <= 0 || p->stride_h <= 0 ||
        p->stride_w <= 0 || p->pad_top < 0 || p->pad_left < 0)
        return SN_ERR_INVALID_ARGUMENT;
    if (p->in_h > max_dim || p->in_w > max_dim || p->in_c > max_dim || p->out_h > max_dim ||
        p->out_w > max_dim || p->out_c > max_dim || p->kernel_h > 64 || p->kernel_w > 64 ||
        p->pad_top >= p->kernel_h || p->pad_left >= p->kernel_w)
        return SN_ERR_INVALID_ARGUMENT;
    if (!(p->act_min <= p->act_max))
        return SN_ERR_INVALID_ARGUMENT;
    /* The last output row/column must start inside the padded input. */
    if ((p->out_h - 1) * p->stride_h - p->pad_top >= p->in_h ||
        (p->out_w - 1) * p->stride_w - p->pad_left >= p->in_w)
        return SN_ERR_SHAPE;
    if (depthwise) {
        if (p->out_c != p->in_c || p->w_stride_kw < p->in_c ||
            p->w_stride_kh < p->kernel_w * p->w_stride_kw)
            return SN_ERR_SHAPE;
    } else {
        if (p->w_stride_kw < p->in_c || p->w_stride_kh < p->kernel_w * p->w_stride_kw ||
            p->w_stride_out < p->kernel_h * p->w_stride_kh)
            return SN_ERR_SHAPE;
    }
    return SN_OK;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

sn_status sn_conv2d_ref_f32(const sn_conv2d_params *p, const float *input,
                            const float *weights, const float *scale, const float *bias,
                            float *output)
{
    int32_t oy, ox, o, ky, kx, i;
    sn_status st = sn_conv2d_check(p, 0);
    if (st != SN_OK)
        return st;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            float *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (o = 0; o < p->out_c; ++o) {
                const float *w_o = weights + (int64_t)o * p->w_stride_out;
                float acc = 0.0f;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    int32_t iy = oy * p->stride_h + ky - p->pad_top;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        int32_t ix = ox * p->stride_w + kx - p->pad_left;
                        const float *in_px, *w_px;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        in_px = input + ((int64_t)iy * p->in_w + ix) * p->in_c;
                        w_px = w_o + ky * p->w_stride_kh + kx * p->w_stride_kw;
                        for (i = 0; i < p->in_c; ++i)
                            acc += in_px[i] * w_px[i];
                    }
                }
                if (scale)
                    acc *= scale[o];
                if (bias)
                    acc += bias[o];
                out[o] = clampf(acc, p->act_min, p->act_max);
            }
        }
    }
    return SN_OK;
}

sn_status sn_depthwise_conv2d_ref_f32(const sn_conv2d_params *p, const float *input,
                                      const float *weights, const float *scale,
                                      const float *bias, float *output)
{
    int32_t oy, ox, c, ky, kx;
    sn_status st = sn_conv2d_check(p, 1);
    if (st != SN_OK)
        return st;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            float *out = output + ((int64_t)oy * p->out_w + ox) * p->out_c;
            for (c = 0; c < p->out_c; ++c) {
                float acc = 0.0f;
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    int32_t iy = oy * p->stride_h + ky - p->pad_top;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        int32_t ix = ox * p->stride_w + kx - p->pad_left;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        acc += input[((int64_t)iy * p->in_w + ix) * p->in_c + c] *
                               weights[ky * p->w_stride_kh + kx * p->w_stride_kw + c];
                    }
                }
                if (scale)
                    acc *= scale[c];
                if (bias)
                    acc += bias[c];
                out[c] = clampf(acc, p->act_min, p->act_max);
            }
        }
    }
    return SN_OK;
}

int64_t sn_conv2d_macs(const sn_conv2d_params *p, int depthwise)
{
    int64_t per_output = (int64_t)p->kernel_h * p->kernel_w * (depthwise ? 1 : p->in_c);
    return (int64_t)p->out_h * p->out_w * p->out_c * per_output;
}
