#include "sn_kernels_ref.h"

sn_status sn_fc_check(const sn_fc_params *p)
{
    if (!p || p->in_c <= 0 || p->in_c > 16384 || p->out_c <= 0 || p->out_c > 16384 ||
        p->input_offset < -127 || p->input_offset > 128)
        return SN_ERR_INVALID_ARGUMENT;
    return SN_OK;
}

sn_status sn_fully_connected_ref_f32(const sn_fc_params *p, const float *input, const float *weights,
                                     const float *bias, float *output)
{
    int32_t o, k;
    sn_status st = sn_fc_check(p);
    if (st != SN_OK)
        return st;
    /* one independent sum per output, each in the order of k (the same result as one output
     * at a time, without one long dependent chain) */
    for (o = 0; o < p->out_c; ++o)
        output[o] = bias ? bias[o] : 0.0f;
    for (k = 0; k < p->in_c; ++k) {
        const float x = input[k];
        for (o = 0; o < p->out_c; ++o)
            output[o] += weights[(int64_t)o * p->in_c + k] * x;
    }
    return SN_OK;
}
