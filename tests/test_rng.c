/* The SplitMix64 generator: published reference values, exact bounded draws, and
 * independent streams from derive(). */
#include "sn_test.h"
#include "sn_rng.h"

static void test_reference_values(void **state)
{
    /* SplitMix64 seeded with 0 (Vigna's splitmix64.c): the first three outputs */
    sn_rng rng = {0};
    (void)state;
    assert_true(sn_rng_next(&rng) == UINT64_C(0xE220A8397B1DCDAF));
    assert_true(sn_rng_next(&rng) == UINT64_C(0x6E789E6AA1B965F4));
    assert_true(sn_rng_next(&rng) == UINT64_C(0x06C45D188009454F));
}

static void test_below_is_in_range_and_covers_it(void **state)
{
    sn_rng rng = sn_rng_derive(7, 1, 2);
    unsigned seen[17] = {0};
    int i;
    (void)state;
    for (i = 0; i < 17000; ++i) {
        uint64_t v = sn_rng_below(&rng, 17);
        assert_true(v < 17);
        ++seen[v];
    }
    for (i = 0; i < 17; ++i) /* about 1000 each */
        assert_in_range(seen[i], 850, 1150);
    assert_true(sn_rng_below(&rng, 1) == 0);
    /* a bound just above 2^63 rejects about half the draws and still terminates */
    for (i = 0; i < 100; ++i)
        assert_true(sn_rng_below(&rng, (UINT64_C(1) << 63) + 1) <= (UINT64_C(1) << 63));
}

static void test_derive_separates_streams(void **state)
{
    sn_rng a = sn_rng_derive(1, 17, 0), b = sn_rng_derive(1, 17, 1);
    sn_rng c = sn_rng_derive(1, 18, 0), d = sn_rng_derive(2, 17, 0);
    sn_rng a2 = sn_rng_derive(1, 17, 0);
    uint64_t va = sn_rng_next(&a);
    (void)state;
    assert_true(va != sn_rng_next(&b));
    assert_true(va != sn_rng_next(&c));
    assert_true(va != sn_rng_next(&d));
    assert_true(va == sn_rng_next(&a2));
    /* pinned: derive() is part of the canvas recipe, so it must never change */
    assert_true(sn_rng_derive(1, 17, 0).state == UINT64_C(0x5B6006151289ACBA));
    assert_true(va == UINT64_C(0xC9EA677D6733C204));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_below_is_in_range_and_covers_it),
        cmocka_unit_test(test_derive_separates_streams),
    };
    return sn_test_run("rng", tests);
}
