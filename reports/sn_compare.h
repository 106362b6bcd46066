/* supernav reports: run A against run B, figure by figure (supernav compare).
 *
 * Every figure of sn_figures.h is paired by name. Where both runs have per-query samples
 * behind a figure (service time, latency; 0/1 correctness and SLO outcomes) the rows carry
 * the two-sided Mann-Whitney U p-value over those samples, and the verdict is "better" or
 * "worse" (by the sign of the figure's own delta) only when p < ALPHA, "no significant
 * change" otherwise -- as Google Benchmark's
 * compare.py does over repetitions. Figures without samples are compared as numbers:
 * "same", "better"/"worse" by the figure's direction, or "changed". */
#ifndef SN_COMPARE_H
#define SN_COMPARE_H

#include <stddef.h>

#include "sn_figures.h"

typedef struct sn_compare_row {
    const sn_figure *a, *b;  /* into the two sets; B may be NULL when A's is unmatched */
    double delta;            /* b - a; NaN when either is absent or a text figure */
    double rel;              /* (b - a) / |a|; NaN when a is 0 or absent */
    double p;                /* Mann-Whitney p over the samples; NaN: no samples */
    const char *verdict;     /* "same", "better", "worse", "changed",
                                "no significant change", "n/a" */
} sn_compare_row;

/* Fills ROWS (room for A->count) and returns how many were written. */
size_t sn_compare_figures(const sn_figure_set *a, const sn_figure_set *b, double alpha,
                          sn_compare_row *rows);

#endif
