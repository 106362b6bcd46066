/* supernav reports: Mann-Whitney U, medians and percentiles (see sn_stats.h). */
#include "sn_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ranked {
    double value;
    int from_a;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    return a->value < b->value ? -1 : a->value > b->value;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

void sn_stats_sort(double *values, size_t n)
{
    if (n > 1)
        qsort(values, n, sizeof *values, cmp_double);
}

int sn_stats_mann_whitney(const double *a, size_t n_a, const double *b, size_t n_b,
                          sn_mwu *result)
{
    size_t n = n_a + n_b, i, j;
    ranked *r;
    double rank_sum_a = 0.0, tie_term = 0.0, na = (double)n_a, nb = (double)n_b, mu, var, u;
    if (n_a == 0 || n_b == 0)
        return -1;
    for (i = 0; i < n_a; ++i)
        if (isnan(a[i]))
            return -1;
    for (i = 0; i < n_b; ++i)
        if (isnan(b[i]))
            return -1;
    r = malloc(n * sizeof *r);
    if (!r)
        return -1;
    for (i = 0; i < n_a; ++i)
        r[i] = (ranked){a[i], 1};
    for (i = 0; i < n_b; ++i)
        r[n_a + i] = (ranked){b[i], 0};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* average ranks over runs of ties; ranks are 1-based */
    for (i = 0; i < n; i = j) {
        double t, mid;
        size_t k;
        for (j = i + 1; j < n && r[j].value == r[i].value; ++j)
            ;
        t = (double)(j - i);
        mid = ((double)i + 1.0 + (double)j) / 2.0;
        for (k = i; k < j; ++k)
            if (r[k].from_a)
                rank_sum_a += mid;
        tie_term += t * t * t - t;
    }
    free(r);
    result->u_a = rank_sum_a - na * (na + 1.0) / 2.0;
    result->u_b = na * nb - result->u_a;
    mu = na * nb / 2.0;
    var = na * nb / 12.0 * (((double)n + 1.0) - tie_term / ((double)n * ((double)n - 1.0)));
    u = result->u_a > result->u_b ? result->u_a : result->u_b;
    if (!(var > 0.0)) {
        result->z = 0.0;
        result->p = 1.0;
        return 0;
    }
    result->z = (u - mu - 0.5) / sqrt(var);
    result->p = erfc(result->z / sqrt(2.0));
    if (result->p > 1.0)
        result->p = 1.0;
    return 0;
}

static double *sorted_copy(const double *values, size_t n)
{
    double *c = malloc(n * sizeof *c);
    if (c) {
        memcpy(c, values, n * sizeof *c);
        sn_stats_sort(c, n);
    }
    return c;
}

double sn_stats_median(const double *values, size_t n)
{
    double *c, m;
    if (n == 0 || !(c = sorted_copy(values, n)))
        return (double)NAN;
    m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2.0;
    free(c);
    return m;
}

double sn_stats_percentile(const double *values, size_t n, int per_mille)
{
    double *c, v;
    size_t rank;
    if (n == 0 || per_mille <= 0 || per_mille > 1000 || !(c = sorted_copy(values, n)))
        return (double)NAN;
    rank = ((size_t)per_mille * n + 999) / 1000; /* ceil(per_mille * n / 1000) */
    if (rank < 1)
        rank = 1;
    v = c[rank - 1];
    free(c);
    return v;
}
