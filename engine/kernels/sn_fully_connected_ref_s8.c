#include "sn_kernels_ref.h"

sn_status sn_fully_connected_ref_s8(const sn_fc_params *p, const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, const float *out_scale, float *output)
{
    int32_t o, k;
    sn_status st = sn_fc_check(p);
    if (st != SN_OK)
        return st;
    if (!out_scale)
        return SN_ERR_INVALID_ARGUMENT;
    for (o = 0; o < p->out_c; ++o) {
        const int8_t *w = weights + (int64_t)o * p->in_c;
        int32_t acc = bias ? bias[o] : 0;
        for (k = 0; k < p->in_c; ++k)
            acc += ((int32_t)input[k] + p->input_offset) * (int32_t)w[k];
        output[o] = (float)acc * out_scale[o];
    }
    return SN_OK;
}
