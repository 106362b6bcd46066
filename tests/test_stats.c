/* Mann-Whitney U against scipy 1.10.1 (scipy.stats.mannwhitneyu, two-sided, asymptotic:
 * normal approximation with tie and continuity corrections), medians and nearest-rank
 * percentiles. */
#include <math.h>
#include <stdlib.h>

#include "sn_test.h"
#include "sn_stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check(const double *a, size_t na, const double *b, size_t nb, double u_a, double p)
{
    sn_mwu r;
    assert_int_equal(sn_stats_mann_whitney(a, na, b, nb, &r), 0);
    assert_true(fabs(r.u_a - u_a) < 1e-9);
    assert_true(fabs(r.u_b - ((double)na * (double)nb - u_a)) < 1e-9);
    assert_true(sn_test_close_rel(r.p, p, 1e-9));
}

static void test_mwu_separated(void **state)
{
    /* scipy: U = 0.0, p = 0.00018267179110955002 */
    static const double a[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    static const double b[] = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    (void)state;
    check(a, N(a), b, N(b), 0.0, 0.00018267179110955002);
    /* swapping the samples swaps U and keeps p */
    check(b, N(b), a, N(a), 100.0, 0.00018267179110955002);
}

static void test_mwu_ties(void **state)
{
    /* scipy: U = 17.0, p = 0.07290915898800139 */
    static const double a[] = {1.1, 2.2, 2.2, 3.3, 4.4, 5.5, 5.5, 6.6};
    static const double b[] = {2.2, 3.3, 3.3, 7.7, 8.8, 9.9, 5.5, 10.1, 12.0};
    (void)state;
    check(a, N(a), b, N(b), 17.0, 0.07290915898800139);
}

static void test_mwu_small_and_binary(void **state)
{
    /* scipy: U = 17.0, p = 0.11134688653314041 */
    static const double a[] = {19, 22, 16, 29, 24};
    static const double b[] = {20, 11, 17, 12};
    /* 0/1 outcomes (correct or not): scipy U = 78.5, p = 0.06146077723767325 */
    static const double c[] = {0, 1, 1, 1, 0, 1, 1, 1, 1, 0};
    static const double d[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0};
    (void)state;
    check(a, N(a), b, N(b), 17.0, 0.11134688653314041);
    check(c, N(c), d, N(d), 78.5, 0.06146077723767325);
}

/* 5 vs 5 repetitions (the gate's): published tables of the two-sided test at alpha 0.05
 * give the critical value U <= 2. With the normal approximation the gate uses, U = 2 (two
 * overlaps) is significant (p 0.0367; exact 0.0317) and U = 3 is not (p 0.0601; exact
 * 0.0556); complete separation gives p 0.0122 (exact 0.0079). */
static void test_mwu_five_vs_five_table(void **state)
{
    static const double base[] = {10, 11, 12, 13, 14};
    static const double u0[] = {20, 21, 22, 23, 24}, u2[] = {12.5, 14.5, 20, 21, 22};
    static const double u3[] = {12.5, 13.5, 20, 21, 22};
    sn_mwu r;
    (void)state;
    assert_int_equal(sn_stats_mann_whitney(base, 5, u0, 5, &r), 0);
    assert_true(fabs(r.u_a - 25.0) < 1e-9 || fabs(r.u_b - 25.0) < 1e-9);
    assert_true(sn_test_close_rel(r.p, 0.012185, 1e-3));
    assert_int_equal(sn_stats_mann_whitney(u2, 5, base, 5, &r), 0);
    assert_true(fabs((r.u_a < r.u_b ? r.u_a : r.u_b) - 2.0) < 1e-9);
    assert_true(r.p < 0.05);
    assert_true(sn_test_close_rel(r.p, 0.036714, 1e-3));
    assert_int_equal(sn_stats_mann_whitney(u3, 5, base, 5, &r), 0);
    assert_true(fabs((r.u_a < r.u_b ? r.u_a : r.u_b) - 3.0) < 1e-9);
    assert_true(r.p > 0.05);
    assert_true(sn_test_close_rel(r.p, 0.060103, 1e-3));
}

static void test_mwu_all_tied_and_errors(void **state)
{
    static const double a[] = {5, 5, 5, 5}, b[] = {5, 5, 5};
    const double bad[] = {1.0, (double)NAN};
    sn_mwu r;
    (void)state;
    check(a, N(a), b, N(b), 6.0, 1.0); /* scipy: U = 6.0, p = 1.0 */
    assert_int_equal(sn_stats_mann_whitney(a, 0, b, N(b), &r), -1);
    assert_int_equal(sn_stats_mann_whitney(a, N(a), bad, 2, &r), -1);
}

static void test_mwu_large_shift_is_detected(void **state)
{
    /* 2000 latencies and the same inflated by 50 %: p vanishes; the same sample twice: p = 1 */
    enum { n = 2000 };
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    sn_mwu r;
    int i;
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (i = 0; i < n; ++i) {
        a[i] = 300.0 + (double)((i * 7919) % 1000) / 10.0;
        b[i] = 1.5 * a[i];
    }
    assert_int_equal(sn_stats_mann_whitney(a, n, b, n, &r), 0);
    assert_true(r.p < 1e-12);
    assert_true(r.u_a < r.u_b);
    assert_int_equal(sn_stats_mann_whitney(a, n, a, n, &r), 0);
    assert_true(r.p > 0.99);
    free(a);
    free(b);
}

static void test_median_and_percentile(void **state)
{
    static const double v[] = {5, 1, 4, 2, 3};
    static const double w[] = {4, 1, 3, 2};
    double ten[10];
    int i;
    (void)state;
    assert_true(sn_stats_median(v, 5) == 3.0);
    assert_true(sn_stats_median(w, 4) == 2.5);
    assert_true(isnan(sn_stats_median(v, 0)));
    for (i = 0; i < 10; ++i)
        ten[i] = (double)(10 - i); /* 10 .. 1 */
    assert_true(sn_stats_percentile(ten, 10, 500) == 5.0);  /* rank ceil(5) = 5 */
    assert_true(sn_stats_percentile(ten, 10, 990) == 10.0); /* rank ceil(9.9) = 10 */
    assert_true(sn_stats_percentile(ten, 10, 1) == 1.0);    /* rank at least 1 */
    assert_true(sn_stats_percentile(ten, 10, 1000) == 10.0);
    assert_true(isnan(sn_stats_percentile(ten, 10, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mwu_separated),
        cmocka_unit_test(test_mwu_ties),
        cmocka_unit_test(test_mwu_small_and_binary),
        cmocka_unit_test(test_mwu_five_vs_five_table),
        cmocka_unit_test(test_mwu_all_tied_and_errors),
        cmocka_unit_test(test_mwu_large_shift_is_detected),
        cmocka_unit_test(test_median_and_percentile),
    };
    return sn_test_run("stats", tests);
}
