#include "sn_kernels_ref.h"

sn_status sn_pool_check(const sn_pool_params *p)
{
    if (!p || p->in_h <= 0 || p->in_w <= 0 || p->channels <= 0 || p->window_h <= 0 ||
        p->window_w <= 0 || p->in_h % p->window_h != 0 || p->in_w % p->window_w != 0 ||
        p->zero_point < -128 || p->zero_point > 127 ||
        (int64_t)p->window_h * p->window_w > (INT64_C(1) << 23))
        return SN_ERR_INVALID_ARGUMENT;
    return SN_OK;
}

sn_status sn_avgpool_ref_f32(const sn_pool_params *p, const float *input, float *output)
{
    int32_t oy, ox, dy, dx, c, out_h, out_w;
    float n;
    sn_status st = sn_pool_check(p);
    if (st != SN_OK)
        return st;
    out_h = p->in_h / p->window_h;
    out_w = p->in_w / p->window_w;
    n = (float)(p->window_h * p->window_w);
    for (oy = 0; oy < out_h; ++oy)
        for (ox = 0; ox < out_w; ++ox) {
            float *out = output + ((int64_t)oy * out_w + ox) * p->channels;
            for (c = 0; c < p->channels; ++c)
                out[c] = 0.0f;
            for (dy = 0; dy < p->window_h; ++dy)
                for (dx = 0; dx < p->window_w; ++dx) {
                    const float *in = input + (((int64_t)oy * p->window_h + dy) * p->in_w +
                                               (int64_t)ox * p->window_w + dx) * p->channels;
                    for (c = 0; c < p->channels; ++c)
                        out[c] += in[c];
                }
            for (c = 0; c < p->channels; ++c)
                out[c] /= n;
        }
    return SN_OK;
}
