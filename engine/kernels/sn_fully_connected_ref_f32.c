#include "sn_kernels_ref.h"

sn_status sn_fc_check(const sn_fc_params *p)
{
    if (!p || p->in_c <= 0 || p->in_c > 16384 || p->out_c <= 0 || p->out_c > 16384 ||
        p->input_offset < -127 || p->input_offset > 128)
        return SN_ERR_INVALID_ARGUMENT;
    return SN_OK;
}

/* One sum per output, the bias first, then the products in the order of k. Four outputs at a
 * time keep their sums in registers (four independent chains, the same bits as one at a time). */
sn_status sn_fully_connected_ref_f32(const sn_fc_params *p, const float *input, const float *weights,
                                     const float *bias, float *output)
{
    int32_t o = 0, k;
    const int32_t n = p ? p->in_c : 0;
    sn_status st = sn_fc_check(p);
    if (st != SN_OK)
        return st;
    for (; o + 4 <= p->out_c; o += 4) {
        const float *w0 = weights + (int64_t)o * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
        float a0 = bias ? bias[o] : 0.0f, a1 = bias ? bias[o + 1] : 0.0f;
        float a2 = bias ? bias[o + 2] : 0.0f, a3 = bias ? bias[o + 3] : 0.0f;
        for (k = 0; k < n; ++k) {
            const float x = input[k];
            a0 += w0[k] * x;
            a1 += w1[k] * x;
            a2 += w2[k] * x;
            a3 += w3[k] * x;
        }
        output[o] = a0;
        output[o + 1] = a1;
        output[o + 2] = a2;
        output[o + 3] = a3;
    }
    for (; o < p->out_c; ++o) {
        const float *w = weights + (int64_t)o * n;
        float acc = bias ? bias[o] : 0.0f;
        for (k = 0; k < n; ++k)
            acc += w[k] * input[k];
        output[o] = acc;
    }
    return SN_OK;
}
