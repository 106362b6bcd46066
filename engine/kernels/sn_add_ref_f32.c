#include "sn_kernels_ref.h"

sn_status sn_add_ref_f32(float *out, const float *in, uint32_t n)
{
    uint32_t i;
    if (n && (!out || !in))
        return SN_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; ++i)
        out[i] += in[i];
    return SN_OK;
}
