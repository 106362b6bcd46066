/* supernav reports: merging a sweep's run directories (harness/sn_sweep.h).
 *
 *   OUT/sweep.csv    one row per job: index, id, one column per axis, rep, state, attempts,
 *                    then every figure of sn_figures.h (the deterministic ones first-class:
 *                    what supernav gate checks) and latency percentiles from summary.json;
 *                    an unfinished job's figures are empty
 *   OUT/sweep.json   the same, with each figure's unit, kind and source
 *   OUT/sweep.md     per metric, the surface: a table of METRIC per SERIES value (rows) and X
 *                    value (columns), the median over repetitions; one table per value
 *                    combination of the other axes with several values
 *   OUT/plots/surface-<metric>[-<facet>].gp/.svg   the same as gnuplot lines, one line per
 *                    series value, X on a log2 axis when its values span 8x or more
 *   OUT/baseline.json  supernav gate's baseline of the finished runs (sn_gate.h), so that a
 *                    later sweep of the same spec is checked with
 *                    `supernav gate --baseline OUT/baseline.json DIR2/runs`
 *   OUT/report/      supernav report of the finished runs (when REPORT)
 *
 * X is a numeric axis (every value a number); SERIES any other axis. Every file is written
 * to a temporary name and renamed. Library code: prints nothing. Host C11 (POSIX). */
#ifndef SN_SWEEP_COLLECT_H
#define SN_SWEEP_COLLECT_H

#include <stddef.h>

#include "sn_sweep.h"

typedef struct sn_sweep_collect_options {
    const char *out_dir;         /* required; created if missing, files replaced */
    const char *x_axis;          /* NULL: the first numeric axis with >= 2 values */
    const char *series_axis;     /* NULL: the first other axis with >= 2 values */
    const char *const *metrics;  /* figure names or summary.json dotted paths */
    size_t metric_count;         /* 0: latency_mean_us, latency_us.p99, far_bytes,
                                    served_accuracy, slo_attainment, energy_uj */
    int partial;                 /* collect an unfinished sweep (else an error) */
    int report;                  /* also write OUT/report/ (supernav report) */
    const char *gnuplot;         /* NULL: $SN_GNUPLOT or gnuplot on PATH */
} sn_sweep_collect_options;

typedef struct sn_sweep_collect_summary {
    size_t jobs, done, plots;
    char csv_path[1100], json_path[1100], md_path[1100];
    char note[600];              /* what was left out and why ("" when nothing) */
} sn_sweep_collect_summary;

/* Collects SWEEP (loaded with sn_sweep_load). Returns 0, or -1 with one line in ERR (an
 * unfinished sweep without PARTIAL, an unreadable run, an unknown axis, gnuplot failing,
 * a write failing). */
int sn_sweep_collect(const sn_sweep *sweep, const sn_sweep_collect_options *options,
                     sn_sweep_collect_summary *summary, char *err, size_t err_bytes);

#endif
