#include "sn_quant.h"

#include <string.h>

int32_t sn_q31_mul(int32_t a, int32_t b)
{
    int64_t ab, nudge;
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
    /* division truncates toward zero, as in TFLite's reference */
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t sn_rounding_shift_right(int32_t x, int exponent)
{
    int32_t mask, remainder, threshold;
    if (exponent <= 0)
        return x;
    mask = (int32_t)((INT64_C(1) << exponent) - 1);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t sn_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    int left = shift > 0 ? (int)shift : 0, right = shift > 0 ? 0 : (int)-shift;
    int64_t x;
    if (multiplier < 0) {
        multiplier = multiplier == INT32_MIN ? INT32_MAX : -multiplier;
        acc = acc == INT32_MIN ? INT32_MAX : -acc;
    }
    x = (int64_t)acc * ((int64_t)1 << left);
    if (x > INT32_MAX)
        x = INT32_MAX;
    if (x < INT32_MIN)
        x = INT32_MIN;
    return sn_rounding_shift_right(sn_q31_mul((int32_t)x, multiplier), right);
}

int sn_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    double m = real < 0 ? -real : real;
    uint64_t bits;
    int e;
    int64_t q;
    if (real == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return 0;
    }
    if (!(m < 1073741824.0))
        return -1; /* too large, infinite or NaN */
    if (m < 2.3283064365386963e-10) {
        /* below 2^-32: flushed to zero, as TFLite's QuantizeMultiplier does */
        *multiplier = 0;
        *shift = 0;
        return 0;
    }
    /* m = f * 2^e with f in [0.5, 1). m is a normal double here (2^-32 <= m < 2^30), so e
     * is its exponent field less 1022, and f * 2^31 is m with that field set to 1022 + 31:
     * exactly what halving or doubling m until it lies in [0.5, 1) and scaling it by 2^31
     * gives, without a loop of soft-float multiplies on an FPU without doubles */
    memcpy(&bits, &m, sizeof bits);
    e = (int)((bits >> 52) & 0x7ffu) - 1022;
    bits = (bits & ~(UINT64_C(0x7ff) << 52)) | ((uint64_t)(1022 + 31) << 52);
    memcpy(&m, &bits, sizeof m);
    q = (int64_t)(m + 0.5);
    if (q == (INT64_C(1) << 31)) {
        q /= 2;
        ++e;
    }
    if (e < -31) {
        /* [2^-32, 2^-31): TFLite keeps shift -31 and halves the multiplier's precision */
        q >>= -31 - e;
        e = -31;
    }
    if (e > 30)
        return -1;
    *multiplier = real < 0 ? -(int32_t)q : (int32_t)q;
    *shift = e;
    return 0;
}
