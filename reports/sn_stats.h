/* supernav reports: the statistics that compare and gate share.
 *
 * Mann-Whitney U (Wilcoxon rank-sum), two-sided, with the normal approximation, the tie
 * correction of the variance and a continuity correction of 0.5 -- the same figure as
 * scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic"), which is
 * what Google Benchmark's compare.py reports as its U test. Used over per-query latencies
 * (thousands of samples) or over repetitions; with fewer than about 10 values per side the
 * approximation is coarse (scipy would switch to the exact distribution). Host C11. */
#ifndef SN_STATS_H
#define SN_STATS_H

#include <stddef.h>

typedef struct sn_mwu {
    double u_a;      /* U of sample A: pairs (a, b) with a > b, ties counting one half */
    double u_b;      /* n_a * n_b - u_a */
    double z;        /* standardized max(u_a, u_b), continuity-corrected; 0 if all tied */
    double p;        /* two-sided p-value in [0, 1]; 1 when every value is tied */
} sn_mwu;

/* Ranks A (N_A values) against B (N_B values). Returns 0, or -1 when a side is empty, a
 * value is NaN, or memory runs out (*RESULT untouched). */
int sn_stats_mann_whitney(const double *a, size_t n_a, const double *b, size_t n_b,
                          sn_mwu *result);

/* The median of N values (the mean of the two middle ones when N is even); NaN when N is
 * 0. Does not modify VALUES. */
double sn_stats_median(const double *values, size_t n);

/* The nearest-rank percentile (PER_MILLE in (0, 1000]) of N values, as the run directory
 * computes it: the value of rank ceil(per_mille / 1000 * n); NaN when N is 0. */
double sn_stats_percentile(const double *values, size_t n, int per_mille);

/* Sorts N doubles ascending in place (NaN-free input). */
void sn_stats_sort(double *values, size_t n);

#endif
