/* The reference convolution kernels: hand-computed cases, geometry, slicing views, and
 * rejection of impossible parameters. */
#include "sn_test.h"
#include <math.h>
#include <string.h>
#include "sn_kernels_ref.h"

static sn_conv2d_params conv(int32_t h, int32_t w, int32_t ci, int32_t co, int32_t k,
                             int32_t s, int32_t pad, int depthwise)
{
    sn_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.in_h = h; p.in_w = w; p.in_c = ci; p.out_c = co;
    p.kernel_h = p.kernel_w = k; p.stride_h = p.stride_w = s;
    p.pad_top = p.pad_left = pad;
    p.out_h = sn_conv2d_out_size(h, k, s, pad, pad);
    p.out_w = sn_conv2d_out_size(w, k, s, pad, pad);
    p.act_min = -INFINITY; p.act_max = INFINITY;
    sn_conv2d_params_packed_strides(&p, depthwise);
    return p;
}

static void test_out_size(void **state)
{
    (void)state;
    assert_int_equal(sn_conv2d_out_size(64, 3, 2, 1, 1), 32);
    assert_int_equal(sn_conv2d_out_size(64, 5, 1, 2, 2), 64);
    assert_int_equal(sn_conv2d_out_size(7, 3, 2, 1, 1), 4);
    assert_int_equal(sn_conv2d_out_size(2, 5, 1, 0, 0), 0);
    assert_int_equal(sn_conv2d_out_size(0, 3, 1, 1, 1), 0);
}

/* 3x3 input of 1..9, one 3x3 all-ones filter, padding 1: each output is the sum of its
 * neighbourhood, computed by hand. */
static void test_dense_box_filter(void **state)
{
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float expect[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    const float bias = 0.5f;
    float out[9];
    int i;
    sn_conv2d_params p = conv(3, 3, 1, 1, 3, 1, 1, 0);
    (void)state;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, w, NULL, &bias, out), SN_OK);
    for (i = 0; i < 9; ++i)
        assert_float_equal(out[i], expect[i] + 0.5f, 1e-6);
}

/* Pointwise conv mixes channels: out[o] = sum_i in[i] * w[o][i]. */
static void test_pointwise_channels(void **state)
{
    const float in[2 * 3] = {1, 2, 3, -1, 0, 1}; /* 1x2 pixels, 3 channels */
    const float w[2 * 3] = {1, 0, -1, 0.5f, 0.5f, 0.5f};
    float out[2 * 2];
    sn_conv2d_params p = conv(1, 2, 3, 2, 1, 1, 0, 0);
    (void)state;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, w, NULL, NULL, out), SN_OK);
    assert_float_equal(out[0], -2.0f, 1e-6);
    assert_float_equal(out[1], 3.0f, 1e-6);
    assert_float_equal(out[2], -2.0f, 1e-6);
    assert_float_equal(out[3], 0.0f, 1e-6);
}

/* The fused clamp (ReLU6) bounds the output on both sides. */
static void test_clamp(void **state)
{
    const float in[2] = {10, -10};
    const float w[1] = {1};
    float out[2];
    sn_conv2d_params p = conv(1, 2, 1, 1, 1, 1, 0, 0);
    (void)state;
    p.act_min = 0.0f; p.act_max = 6.0f;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, w, NULL, NULL, out), SN_OK);
    assert_float_equal(out[0], 6.0f, 0);
    assert_float_equal(out[1], 0.0f, 0);
}

/* A per-channel scale and bias (a folded batch norm) apply after the sum, before the clamp. */
static void test_scale_bias(void **state)
{
    const float in[2] = {1, 2}; /* 1x1 pixel, 2 channels */
    const float w[2 * 2] = {1, 1, 1, -1};
    const float scale[2] = {2.0f, -0.5f}, bias[2] = {1.0f, 0.25f};
    float out[2];
    sn_conv2d_params p = conv(1, 1, 2, 2, 1, 1, 0, 0);
    (void)state;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, w, scale, bias, out), SN_OK);
    assert_float_equal(out[0], 3.0f * 2.0f + 1.0f, 1e-6);
    assert_float_equal(out[1], -1.0f * -0.5f + 0.25f, 1e-6);
    p.act_min = 0.0f; p.act_max = 6.0f;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, w, scale, bias, out), SN_OK);
    assert_float_equal(out[0], 6.0f, 0);
}

/* Depthwise stride 2: channels stay separate; channel 1's filter is the negation. */
static void test_depthwise_stride2(void **state)
{
    float in[4 * 4 * 2], w[3 * 3 * 2], out[2 * 2 * 2];
    int i;
    sn_conv2d_params p = conv(4, 4, 2, 2, 3, 2, 1, 1);
    (void)state;
    for (i = 0; i < 16; ++i) { in[2 * i] = (float)i; in[2 * i + 1] = 1.0f; }
    for (i = 0; i < 9; ++i) { w[2 * i] = 1.0f; w[2 * i + 1] = -1.0f; }
    assert_int_equal(p.out_h, 2);
    assert_int_equal(sn_depthwise_conv2d_ref_f32(&p, in, w, NULL, NULL, out), SN_OK);
    /* out(0,0) channel 0: rows -1..1, cols -1..1 -> in 0,1,4,5 = 10; channel 1: -4 */
    assert_float_equal(out[0], 10.0f, 1e-6);
    assert_float_equal(out[1], -4.0f, 1e-6);
    /* out(1,1) channel 0: rows 1..3, cols 1..3 -> 5+6+7+9+10+11+13+14+15 = 90; ch 1: -9 */
    assert_float_equal(out[6], 90.0f, 1e-6);
    assert_float_equal(out[7], -9.0f, 1e-6);
    assert_int_equal(sn_conv2d_macs(&p, 1), 2 * 2 * 2 * 9);
}

/* A leading channel slice and a centred 3x3 crop of a 5x5 tensor, read through strides,
 * equal the same computation on a compacted copy: weight sharing without copies. */
static void test_sliced_view_equals_copy(void **state)
{
    enum { H = 6, W = 5, CI_MAX = 8, CO_MAX = 6, CI = 5, CO = 4, KMAX = 5, K = 3 };
    float in[H * W * CI], full[CO_MAX * KMAX * KMAX * CI_MAX], packed[CO * K * K * CI];
    float out_view[H * W * CO], out_copy[H * W * CO];
    int i, o, y, x, c;
    sn_conv2d_params p = conv(H, W, CI, CO, K, 1, 1, 0), v;
    (void)state;
    for (i = 0; i < H * W * CI; ++i) in[i] = (float)((i * 37) % 17) - 8.0f;
    for (i = 0; i < CO_MAX * KMAX * KMAX * CI_MAX; ++i) full[i] = (float)((i * 11) % 13) * 0.25f - 1.5f;
    for (o = 0; o < CO; ++o)
        for (y = 0; y < K; ++y)
            for (x = 0; x < K; ++x)
                for (c = 0; c < CI; ++c)
                    packed[((o * K + y) * K + x) * CI + c] =
                        full[((o * KMAX + y + 1) * KMAX + x + 1) * CI_MAX + c];
    v = p;
    v.w_stride_kw = CI_MAX;
    v.w_stride_kh = KMAX * CI_MAX;
    v.w_stride_out = KMAX * KMAX * CI_MAX;
    assert_int_equal(sn_conv2d_ref_f32(&p, in, packed, NULL, NULL, out_copy), SN_OK);
    assert_int_equal(sn_conv2d_ref_f32(&v, in, full + (KMAX + 1) * CI_MAX, NULL, NULL, out_view), SN_OK);
    assert_memory_equal(out_view, out_copy, sizeof out_copy);
}

static void test_rejects_bad_params(void **state)
{
    float buf[64] = {0};
    sn_conv2d_params p = conv(4, 4, 2, 2, 3, 1, 1, 0);
    sn_conv2d_params bad;
    (void)state;
    bad = p; bad.in_c = 0;
    assert_int_equal(sn_conv2d_ref_f32(&bad, buf, buf, NULL, NULL, buf), SN_ERR_INVALID_ARGUMENT);
    bad = p; bad.out_h = 9; /* more rows than the padded input can produce */
    assert_int_equal(sn_conv2d_ref_f32(&bad, buf, buf, NULL, NULL, buf), SN_ERR_SHAPE);
    bad = p; bad.w_stride_kw = 1; /* overlapping channel rows */
    assert_int_equal(sn_conv2d_ref_f32(&bad, buf, buf, NULL, NULL, buf), SN_ERR_SHAPE);
    bad = p; bad.act_min = NAN;
    assert_int_equal(sn_conv2d_ref_f32(&bad, buf, buf, NULL, NULL, buf), SN_ERR_INVALID_ARGUMENT);
    bad = conv(4, 4, 2, 3, 3, 1, 1, 1); /* depthwise must keep the channel count */
    assert_int_equal(sn_depthwise_conv2d_ref_f32(&bad, buf, buf, NULL, NULL, buf), SN_ERR_SHAPE);
    assert_string_equal(sn_status_str(SN_ERR_SHAPE), "incompatible tensor shapes");
    assert_string_equal(sn_status_str((sn_status)999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_size),
        cmocka_unit_test(test_dense_box_filter),
        cmocka_unit_test(test_pointwise_channels),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_scale_bias),
        cmocka_unit_test(test_depthwise_stride2),
        cmocka_unit_test(test_sliced_view_equals_copy),
        cmocka_unit_test(test_rejects_bad_params),
    };
    return sn_test_run("conv2d_ref", tests);
}
