/* The reference kernels beside the convolutions (engine/kernels/): residual add, average
 * pool and fully connected, fp32 and int8, on hand-computed cases (TFLite's rounding), their
 * parameter checks, and the int8 add against the float sum of the dequantized inputs. */
#include "sn_test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_kernels_ref.h"
#include "sn_quant.h"

/* The int8 add's parameters for scales S1 (OUT), S2 (IN), SO (the sum) and zero points,
 * as the engine's planner derives them. */
static sn_add_quant_params add_params(double s1, double s2, double so, int32_t z1, int32_t z2, int32_t zo)
{
    sn_add_quant_params q;
    double twice = 2.0 * (s1 > s2 ? s1 : s2);
    assert_int_equal(sn_quantize_multiplier(s1 / twice, &q.multiplier[0], &q.shift[0]), 0);
    assert_int_equal(sn_quantize_multiplier(s2 / twice, &q.multiplier[1], &q.shift[1]), 0);
    assert_int_equal(sn_quantize_multiplier(twice / (1048576.0 * so), &q.multiplier[2], &q.shift[2]), 0);
    q.offset[0] = -z1;
    q.offset[1] = -z2;
    q.offset[2] = zo;
    return q;
}

static void test_add(void **state)
{
    float f[4] = {1.0f, -2.5f, 3.0f, 7.0f};
    const float g[4] = {0.5f, 2.5f, -1e-8f, 100.0f};
    int8_t a[4] = {100, -100, 3, 9};
    const int8_t b[4] = {50, -50, -7, 9};
    sn_add_quant_params q = add_params(1.0, 1.0, 1.0, 0, 0, 0);
    (void)state;
    assert_int_equal(sn_add_ref_f32(f, g, 3), SN_OK);
    assert_true(f[0] == 1.5f && f[1] == 0.0f && f[2] == 3.0f - 1e-8f && f[3] == 7.0f); /* n = 3 */
    assert_int_equal(sn_add_ref_f32(NULL, NULL, 0), SN_OK);
    /* equal scales, zero points 0: a plain saturating sum */
    assert_int_equal(sn_add_ref_s8(&q, a, b, 3), SN_OK);
    assert_int_equal(a[0], 127);
    assert_int_equal(a[1], -128);
    assert_int_equal(a[2], -4);
    assert_int_equal(a[3], 9); /* past n: untouched */
    q.shift[2] = 31;
    assert_int_equal(sn_add_ref_s8(&q, a, b, 3), SN_ERR_INVALID_ARGUMENT);
    q = add_params(1.0, 1.0, 1.0, 0, 0, 0);
    q.offset[2] = 128;
    assert_int_equal(sn_add_ref_s8(&q, a, b, 3), SN_ERR_INVALID_ARGUMENT);
}

/* Every pair of int8 values: within one step of the rounded float sum. */
static void test_add_s8_matches_float(void **state)
{
    const double s1 = 0.031, s2 = 0.0117, so = 0.047;
    const int32_t z1 = -7, z2 = 12, zo = 3;
    sn_add_quant_params q = add_params(s1, s2, so, z1, z2, zo);
    int x, y, worst = 0;
    (void)state;
    for (x = -128; x < 128; ++x)
        for (y = -128; y < 128; ++y) {
            int8_t o = (int8_t)x, in = (int8_t)y;
            double want = floor((s1 * (x - z1) + s2 * (y - z2)) / so + 0.5) + zo;
            int d;
            want = want < -128.0 ? -128.0 : (want > 127.0 ? 127.0 : want);
            assert_int_equal(sn_add_ref_s8(&q, &o, &in, 1), SN_OK);
            d = abs((int)o - (int)want);
            if (d > worst)
                worst = d;
        }
    assert_true(worst <= 1);
}

static void test_avgpool(void **state)
{
    /* 2 x 4 x 2 (HWC), windows 2 x 2 -> 1 x 2 x 2 */
    const float in[16] = {1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70, 8, 80};
    const int8_t q[6] = {-1, -2, 1, 2, 127, 127};
    float out[4];
    int8_t o8[3];
    sn_pool_params p = {2, 4, 2, 2, 2, 0};
    (void)state;
    assert_int_equal(sn_avgpool_ref_f32(&p, in, out), SN_OK);
    assert_true(out[0] == 3.5f && out[1] == 35.0f && out[2] == 5.5f && out[3] == 55.0f);
    /* int8, one channel: windows of two, rounded half away from zero */
    p.in_h = 1;
    p.in_w = 6;
    p.channels = 1;
    p.window_h = 1;
    p.window_w = 2;
    assert_int_equal(sn_avgpool_ref_s8(&p, q, o8), SN_OK);
    assert_int_equal(o8[0], -2); /* -1.5 -> -2 */
    assert_int_equal(o8[1], 2);  /* 1.5 -> 2 */
    assert_int_equal(o8[2], 127);
    p.zero_point = -128;
    assert_int_equal(sn_avgpool_ref_s8(&p, q, o8), SN_OK);
    assert_int_equal(o8[0], -1);  /* (127 + 126) / 2 = 126.5 -> 127, - 128 */
    assert_int_equal(o8[2], 127); /* (255 + 255) / 2 - 128 */
    p.window_w = 4; /* does not divide 6 */
    assert_int_equal(sn_avgpool_ref_s8(&p, q, o8), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_avgpool_ref_f32(&p, in, out), SN_ERR_INVALID_ARGUMENT);
}

static void test_fully_connected(void **state)
{
    const float x[3] = {1.0f, -2.0f, 0.5f}, w[6] = {1, 2, 3, -1, 0, 4}, b[2] = {0.25f, -1.0f};
    const int8_t x8[3] = {10, -20, 5}, w8[6] = {1, 2, 3, -1, 0, 4};
    const int32_t b8[2] = {100, -50};
    const float scale[2] = {0.5f, 0.25f};
    float out[2];
    sn_fc_params p = {3, 2, 0};
    (void)state;
    assert_int_equal(sn_fully_connected_ref_f32(&p, x, w, b, out), SN_OK);
    assert_true(out[0] == 0.25f + 1.0f - 4.0f + 1.5f && out[1] == -1.0f - 1.0f + 2.0f);
    assert_int_equal(sn_fully_connected_ref_f32(&p, x, w, NULL, out), SN_OK);
    assert_true(out[0] == -1.5f);
    p.input_offset = 3;
    assert_int_equal(sn_fully_connected_ref_s8(&p, x8, w8, b8, scale, out), SN_OK);
    assert_true(out[0] == (float)(100 + 13 - 34 + 24) * 0.5f);   /* 103 * 0.5 */
    assert_true(out[1] == (float)(-50 - 13 + 0 + 32) * 0.25f);   /* -31 * 0.25 */
    p.in_c = 0;
    assert_int_equal(sn_fully_connected_ref_f32(&p, x, w, b, out), SN_ERR_INVALID_ARGUMENT);
    p.in_c = 3;
    p.input_offset = 200;
    assert_int_equal(sn_fully_connected_ref_s8(&p, x8, w8, b8, scale, out), SN_ERR_INVALID_ARGUMENT);
}

/* Outputs four at a time and the rest one by one: each the bias, then the products in the
 * order of k, bit for bit as a plain per-output sum (with and without a bias). */
static void test_fully_connected_f32_order(void **state)
{
    static const int32_t shapes[][2] = {{256, 10}, {1, 1}, {3, 4}, {17, 9}, {64, 16}, {5, 7}};
    static float x[256], w[256 * 16], b[16], out[16 + 1];
    uint32_t seed = 11u;
    size_t s;
    int32_t o, k, with_bias;
    (void)state;
    for (k = 0; k < 256; ++k)
        x[k] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) * 1e-7f - 0.8f;
    for (k = 0; k < 256 * 16; ++k)
        w[k] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) * 1e-7f - 0.8f;
    for (k = 0; k < 16; ++k)
        b[k] = (float)k * 0.37f - 2.0f;
    for (s = 0; s < sizeof shapes / sizeof *shapes; ++s)
        for (with_bias = 0; with_bias < 2; ++with_bias) {
            sn_fc_params p = {shapes[s][0], shapes[s][1], 0};
            out[p.out_c] = 12345.0f;
            assert_int_equal(sn_fully_connected_ref_f32(&p, x, w, with_bias ? b : NULL, out), SN_OK);
            for (o = 0; o < p.out_c; ++o) {
                float acc = with_bias ? b[o] : 0.0f;
                for (k = 0; k < p.in_c; ++k)
                    acc += w[o * p.in_c + k] * x[k];
                if (memcmp(&acc, &out[o], sizeof acc) != 0)
                    fail_msg("shape %zu output %d: %.9g, a plain sum says %.9g", s, o, (double)out[o], (double)acc);
            }
            assert_true(out[p.out_c] == 12345.0f);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_add_s8_matches_float),
        cmocka_unit_test(test_avgpool),
        cmocka_unit_test(test_fully_connected),
        cmocka_unit_test(test_fully_connected_f32_order),
    };
    return sn_test_run("kernels_ref", tests);
}
