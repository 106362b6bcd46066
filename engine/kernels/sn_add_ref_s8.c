#include "sn_kernels_ref.h"
#include "sn_quant.h"

sn_status sn_add_quant_params_check(const sn_add_quant_params *q)
{
    int j;
    if (!q || q->offset[0] < -127 || q->offset[0] > 128 || q->offset[1] < -127 || q->offset[1] > 128 ||
        q->offset[2] < -128 || q->offset[2] > 127)
        return SN_ERR_INVALID_ARGUMENT;
    for (j = 0; j < 3; ++j)
        if (q->shift[j] < -31 || q->shift[j] > 30)
            return SN_ERR_INVALID_ARGUMENT;
    return SN_OK;
}

sn_status sn_add_ref_s8(const sn_add_quant_params *q, int8_t *out, const int8_t *in, uint32_t n)
{
    uint32_t i;
    sn_status st = sn_add_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (n && (!out || !in))
        return SN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; ++i) {
        int32_t a = sn_requantize(((int32_t)out[i] + q->offset[0]) * (1 << 20), q->multiplier[0], q->shift[0]);
        int32_t b = sn_requantize(((int32_t)in[i] + q->offset[1]) * (1 << 20), q->multiplier[1], q->shift[1]);
        int32_t v = sn_requantize(a + b, q->multiplier[2], q->shift[2]) + q->offset[2];
        out[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
    return SN_OK;
}
