/* The int8 reference convolutions: a hand-computed case, and agreement (within one step)
 * with the float convolution of the dequantized tensors, padding included. */
#include "sn_test.h"
#include <math.h>
#include <string.h>
#include "sn_kernels_ref.h"
#include "sn_quant.h"

static sn_conv2d_params geometry(int32_t h, int32_t ci, int32_t co, int32_t k, int32_t s, int dw)
{
    sn_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.in_h = p.in_w = h;
    p.in_c = ci;
    p.out_c = co;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = s;
    p.pad_top = p.pad_left = k / 2;
    p.out_h = p.out_w = sn_conv2d_out_size(h, k, s, k / 2, k / 2);
    sn_conv2d_params_packed_strides(&p, dw);
    return p;
}

static void test_hand_case(void **state)
{
    const int8_t in[2] = {10, -20}, w[4] = {1, 2, 3, -1};
    const int32_t bias[2] = {100, -50};
    int32_t mult[2], shift[2];
    int8_t out[2];
    sn_quant_params q = {5, 3, mult, shift, -128, 127};
    sn_conv2d_params p = geometry(1, 2, 2, 1, 1, 0);
    (void)state;
    sn_quantize_multiplier(0.5, &mult[0], &shift[0]);
    mult[1] = mult[0];
    shift[1] = shift[0];
    assert_int_equal(sn_conv2d_ref_s8(&p, &q, in, w, bias, out), SN_OK);
    assert_int_equal(out[0], 46); /* (100 + 15 - 30) * 0.5 = 42.5 -> 43, + 3 */
    assert_int_equal(out[1], 8);  /* (-50 + 45 + 15) * 0.5 = 5, + 3 */
    q.act_max = 20;
    assert_int_equal(sn_conv2d_ref_s8(&p, &q, in, w, bias, out), SN_OK);
    assert_int_equal(out[0], 20);
    q.act_min = 200; /* outside int8 */
    assert_int_equal(sn_conv2d_ref_s8(&p, &q, in, w, bias, out), SN_ERR_INVALID_ARGUMENT);
}

static uint32_t rng = 7u;
static int32_t rnd(int32_t lo, int32_t hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int32_t)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static void compare_with_float(int dw)
{
    enum { H = 9, CI = 6, K = 5 };
    const int32_t co = dw ? CI : 4, stride = dw ? 1 : 2;
    const float s_in = 0.05f, s_out = 0.2f, zp_in = -7.0f, zp_out = 4.0f;
    float s_w[8], fin[H * H * CI], fw[8 * K * K * CI], fb[8], fout[H * H * 8];
    int8_t in[H * H * CI], w[8 * K * K * CI], out[H * H * 8];
    int32_t bias[8], mult[8], shift[8];
    size_t i, nw;
    sn_conv2d_params p = geometry(H, CI, co, K, stride, dw);
    sn_quant_params q = {7, 4, mult, shift, -128, 127};
    nw = dw ? (size_t)K * K * CI : (size_t)co * K * K * CI;
    for (i = 0; i < (size_t)H * H * CI; ++i) {
        in[i] = (int8_t)rnd(-128, 127);
        fin[i] = s_in * ((float)in[i] - zp_in);
    }
    for (i = 0; i < (size_t)co; ++i) {
        s_w[i] = 0.01f * (float)(i + 1);
        fb[i] = 0.1f * (float)rnd(-20, 20);
        bias[i] = (int32_t)lrintf(fb[i] / (s_in * s_w[i]));
        fb[i] = (float)bias[i] * s_in * s_w[i]; /* the bias the int8 kernel really adds */
        assert_int_equal(sn_quantize_multiplier((double)(s_in * s_w[i] / s_out), &mult[i], &shift[i]), 0);
    }
    for (i = 0; i < nw; ++i) {
        size_t o = dw ? i % CI : i / ((size_t)K * K * CI);
        w[i] = (int8_t)rnd(-127, 127);
        fw[i] = s_w[o] * (float)w[i];
    }
    p.act_min = -INFINITY;
    p.act_max = INFINITY;
    if (dw) {
        assert_int_equal(sn_depthwise_conv2d_ref_s8(&p, &q, in, w, bias, out), SN_OK);
        assert_int_equal(sn_depthwise_conv2d_ref_f32(&p, fin, fw, NULL, fb, fout), SN_OK);
    } else {
        assert_int_equal(sn_conv2d_ref_s8(&p, &q, in, w, bias, out), SN_OK);
        assert_int_equal(sn_conv2d_ref_f32(&p, fin, fw, NULL, fb, fout), SN_OK);
    }
    for (i = 0; i < (size_t)(p.out_h * p.out_w * co); ++i) {
        float want = roundf(fout[i] / s_out) + zp_out;
        want = want < -128.0f ? -128.0f : (want > 127.0f ? 127.0f : want);
        if (fabsf((float)out[i] - want) > 1.0f)
            fail_msg("%s output %zu: int8 %d, float says %.1f", dw ? "depthwise" : "dense", i,
                     out[i], (double)want);
    }
}

static void test_dense_matches_float(void **state)
{
    (void)state;
    compare_with_float(0);
}

static void test_depthwise_matches_float(void **state)
{
    (void)state;
    compare_with_float(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_dense_matches_float),
        cmocka_unit_test(test_depthwise_matches_float),
    };
    return sn_test_run("conv2d_ref_s8", tests);
}
