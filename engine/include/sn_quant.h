/* supernav engine: int8 quantization arithmetic (TFLite / CMSIS-NN semantics).
 *
 * real = scale * (q - zero_point). Weights: per-output-channel symmetric int8 (zero point
 * 0). Activations: per-tensor asymmetric int8. Bias: int32 in accumulator units
 * (scale_in * scale_w[o]). Requantization multiplies the int32 accumulator by a real
 * multiplier M = (scale_in * scale_w[o] * bn_scale[o]) / scale_out given as a Q31 fixed-point
 * value and a power-of-two shift, exactly as TFLite's MultiplyByQuantizedMultiplier.
 * A negative M (a batch norm with a negative gamma) is stored as a negative multiplier:
 * the accumulator is negated and multiplied by |M| (our one extension of TFLite).
 * Portable C99, integer-only on the inference path. */
#ifndef SN_QUANT_H
#define SN_QUANT_H

#include <stdint.h>

/* round(a * b / 2^31) with TFLite's rounding and saturation (INT32_MIN * INT32_MIN). */
int32_t sn_q31_mul(int32_t a, int32_t b);

/* Rounding arithmetic right shift (round half away from zero), exponent in [0, 31]. */
int32_t sn_rounding_shift_right(int32_t x, int exponent);

/* acc * M for M = multiplier * 2^(shift - 31); multiplier in [2^30, 2^31) or its
 * negation; shift in [-31, 30]. */
int32_t sn_requantize(int32_t acc, int32_t multiplier, int32_t shift);

/* Host-side helper (uses double, not for the inference path): M -> (multiplier, shift).
 * |M| below 2^-32 (and M == 0) gives (0, 0), as TFLite. Returns 0, or -1 when |M| >= 2^30
 * or M is not a number. */
int sn_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

#endif
