/* supernav reports: the figures of a run, each with its kind, direction and source --
 * what `supernav compare` prints and what `supernav gate` checks.
 *
 *   deterministic  (the same inputs, model and pinned profile give the same value on every
 *                  run and machine): queries, served and measured accuracy, SLO attainment
 *                  when no query carries a latency ceiling, near/far bytes, SubGraph hit
 *                  ratio, switches and their bytes, MACs, modelled energy, and the digest
 *                  of the served sequence (SubNet, SubGraph, prediction, correctness,
 *                  bytes of every query)
 *                  -> EXACT (integers, digests) or TIGHT (sums of floating point: relative
 *                  tolerance SN_FIGURE_TIGHT_REL)
 *   wall-clock     per-query service time (end - start) and latency (end - arrival) as
 *                  samples -> WALL: Mann-Whitney U over the samples and a tolerance on the
 *                  median, never one run's single number
 *   informative    one run's percentiles, throughput, harness overhead, measured energy,
 *                  SLO attainment under latency ceilings -> INFO: shown, never gated
 *
 * Each figure carries its source label: "measured:<clock>", "table" (the accuracy
 * table's top-1, itself measured on the model's test split), "count", "model:<name>". */
#ifndef SN_FIGURES_H
#define SN_FIGURES_H

#include <stddef.h>

#include "sn_rundir.h"

#define SN_FIGURE_TIGHT_REL 1e-9

typedef enum sn_figure_kind {
    SN_FIGURE_EXACT = 0,
    SN_FIGURE_TIGHT,
    SN_FIGURE_WALL,
    SN_FIGURE_INFO
} sn_figure_kind;

typedef enum sn_figure_better {
    SN_BETTER_NEITHER = 0,  /* a change is a change (counts, digests) */
    SN_BETTER_HIGHER,
    SN_BETTER_LOWER
} sn_figure_better;

typedef struct sn_figure {
    char name[48];           /* "served_accuracy", "service_us", ... */
    const char *unit;        /* "fraction", "bytes", "us", "uJ", "MACs", "" */
    sn_figure_kind kind;
    sn_figure_better better;
    double value;            /* WALL: the sample's median; NaN: not recorded */
    char text[72];           /* a text figure (a digest); "" for numbers */
    char source[160];        /* where the value comes from (see above) */
    double *sample;          /* per-query values behind VALUE (owned), or NULL: WALL
                                figures, and 0/1 outcomes behind accuracy and SLO figures
                                (for compare's test) */
    size_t n;
} sn_figure;

typedef struct sn_figure_set {
    sn_figure *f;
    size_t count;
} sn_figure_set;

/* Every figure of RUN, in a fixed order. A figure the run did not record (no policy.json,
 * no energy reading) is present with value NaN. Returns 0, or -1 (out of memory). */
int sn_figures_of_run(const sn_rundir *run, sn_figure_set *set);
void sn_figures_free(sn_figure_set *set);

/* The figure called NAME, or NULL. */
const sn_figure *sn_figures_find(const sn_figure_set *set, const char *name);

/* "exact", "tight", "wall", "info". */
const char *sn_figure_kind_str(sn_figure_kind kind);

/* Does the run's trace carry latency ceilings? 1 yes, 0 no, -1 unknown (the trace file is
 * gone). SLO attainment is deterministic only when it carries none. */
int sn_figures_trace_has_ceilings(const sn_rundir *run);

#endif
