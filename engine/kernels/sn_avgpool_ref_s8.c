#include "sn_kernels_ref.h"

sn_status sn_avgpool_ref_s8(const sn_pool_params *p, const int8_t *input, int8_t *output)
{
    int32_t oy, ox, dy, dx, c, out_h, out_w, n, zp;
    sn_status st = sn_pool_check(p);
    if (st != SN_OK)
        return st;
    out_h = p->in_h / p->window_h;
    out_w = p->in_w / p->window_w;
    n = p->window_h * p->window_w;
    zp = p->zero_point;
    for (oy = 0; oy < out_h; ++oy)
        for (ox = 0; ox < out_w; ++ox)
            for (c = 0; c < p->channels; ++c) {
                int32_t sum = 0, avg;
                for (dy = 0; dy < p->window_h; ++dy)
                    for (dx = 0; dx < p->window_w; ++dx)
                        sum += (int32_t)input[(((int64_t)oy * p->window_h + dy) * p->in_w +
                                               (int64_t)ox * p->window_w + dx) * p->channels + c] - zp;
                avg = (sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n)) + zp;
                output[((int64_t)oy * out_w + ox) * p->channels + c] =
                    (int8_t)(avg < -128 ? -128 : (avg > 127 ? 127 : avg));
            }
    return SN_OK;
}
