/* int8 requantization arithmetic: TFLite's fixed-point semantics on hand-computed cases,
 * and agreement with exact rounding over a sweep of accumulators and multipliers. */
#include "sn_test.h"
#include <math.h>
#include "sn_quant.h"

static void test_q31_mul(void **state)
{
    (void)state;
    assert_int_equal(sn_q31_mul(1 << 30, 1 << 30), 1 << 29);
    assert_int_equal(sn_q31_mul(INT32_MIN, INT32_MIN), INT32_MAX);
    /* TFLite's nudge-then-truncate rounds ties toward +infinity: 1.5 -> 2, -1.5 -> -1 */
    assert_int_equal(sn_q31_mul(3, 1 << 30), 2);
    assert_int_equal(sn_q31_mul(-3, 1 << 30), -1);
    assert_int_equal(sn_q31_mul(0, 12345), 0);
}

static void test_rounding_shift(void **state)
{
    (void)state;
    assert_int_equal(sn_rounding_shift_right(5, 1), 3);
    assert_int_equal(sn_rounding_shift_right(-5, 1), -3);
    assert_int_equal(sn_rounding_shift_right(4, 1), 2);
    assert_int_equal(sn_rounding_shift_right(-4, 1), -2);
    assert_int_equal(sn_rounding_shift_right(3, 1), 2);
    assert_int_equal(sn_rounding_shift_right(-3, 1), -2);
    assert_int_equal(sn_rounding_shift_right(7, 0), 7);
    assert_int_equal(sn_rounding_shift_right(1000, 3), 125);
}

static void test_quantize_multiplier(void **state)
{
    int32_t m, s;
    (void)state;
    assert_int_equal(sn_quantize_multiplier(0.5, &m, &s), 0);
    assert_int_equal(m, 1 << 30); assert_int_equal(s, 0);
    assert_int_equal(sn_quantize_multiplier(1.0, &m, &s), 0);
    assert_int_equal(m, 1 << 30); assert_int_equal(s, 1);
    assert_int_equal(sn_quantize_multiplier(0.75, &m, &s), 0);
    assert_int_equal(m, 1610612736); assert_int_equal(s, 0);
    assert_int_equal(sn_quantize_multiplier(-0.75, &m, &s), 0);
    assert_int_equal(m, -1610612736); assert_int_equal(s, 0);
    assert_int_equal(sn_quantize_multiplier(0.0, &m, &s), 0);
    assert_int_equal(m, 0);
    assert_int_equal(sn_quantize_multiplier(1e-12, &m, &s), 0); /* flushed to zero */
    assert_int_equal(m, 0);
    assert_int_equal(sn_quantize_multiplier(1e10, &m, &s), -1);
    assert_int_equal(sn_quantize_multiplier(NAN, &m, &s), -1);
}

static void test_requantize_cases(void **state)
{
    int32_t m, s;
    (void)state;
    sn_quantize_multiplier(0.5, &m, &s);
    assert_int_equal(sn_requantize(1000, m, s), 500);
    assert_int_equal(sn_requantize(1001, m, s), 501);   /* ties toward +infinity */
    assert_int_equal(sn_requantize(-1001, m, s), -500);
    sn_quantize_multiplier(-0.5, &m, &s);
    assert_int_equal(sn_requantize(1000, m, s), -500);
    sn_quantize_multiplier(3.0, &m, &s);
    assert_int_equal(sn_requantize(7, m, s), 21);
}

/* Over many (acc, M) pairs the fixed-point result is within 1 of round(acc * M). */
static void test_requantize_sweep(void **state)
{
    uint32_t seed = 12345u;
    int i, worst = 0;
    (void)state;
    for (i = 0; i < 200000; ++i) {
        int32_t acc, m, s, got;
        double real, want;
        seed = seed * 1664525u + 1013904223u;
        acc = (int32_t)(seed >> 7) - (1 << 24);
        seed = seed * 1664525u + 1013904223u;
        real = pow(10.0, -6.0 + 7.0 * (double)(seed >> 8) / 16777216.0);
        if (i & 1)
            real = -real;
        assert_int_equal(sn_quantize_multiplier(real, &m, &s), 0);
        want = (double)acc * real;
        if (fabs(want) > 2e9)
            continue;
        got = sn_requantize(acc, m, s);
        if (fabs((double)got - want) > 1.0 + 1e-9 * fabs(want))
            fail_msg("acc %d * %.9g = %.3f, got %d", acc, real, want, got);
        if (fabs((double)got - round(want)) > worst)
            worst = (int)fabs((double)got - round(want));
    }
    assert_true(worst <= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q31_mul),
        cmocka_unit_test(test_rounding_shift),
        cmocka_unit_test(test_quantize_multiplier),
        cmocka_unit_test(test_requantize_cases),
        cmocka_unit_test(test_requantize_sweep),
    };
    return sn_test_run("quant", tests);
}
