/* supernav reports: the report of one or more run directories.
 *
 *   sn_report_options o = {.out_dir = "results/report"};
 *   sn_report_write(runs, n, &o, &summary, err, sizeof err);
 *
 * writes OUT_DIR/report.md, one self-contained OUT_DIR/report.html (every plot inlined as
 * SVG, no external file, script or font) and OUT_DIR/plots/ (each plot's gnuplot script
 * with its data inline, and its SVG, which report.md links). Both open on the answer: per
 * trace and platform, each policy's SLO attainment, served accuracy and energy per query
 * (means over its runs) beside the best other policy on that figure, the difference and its
 * significance (Mann-Whitney U over the runs when both sides have >= 2, else "1 run: no
 * significance"), captioned with the runs' clock kind; then the validity section, the plots,
 * the reproduction table and the raw runs table last. The plots, drawn by gnuplot:
 *
 *   pareto-<platform>   latency-accuracy: the profile's SubNets (no SubGraph / their own
 *                       SubGraph resident) with their Pareto fronts, and the SubNets each
 *                       policy actually served (median service time)
 *   cdf-<trace>         latency CDF per policy, the trace's latency ceilings (SLOs) marked
 *   accuracy-slo        served accuracy vs SLO attainment, one point per run
 *   timeline-<trace>    the SubNet served, the SubGraph resident and its switches, and the
 *                       queue length at each arrival (the sushi run of the trace)
 *   energy-<trace>      energy per query: compute, far-memory movement, near-memory reads
 *                       (a model's domains), or the measured total
 *
 * and a reproduction table: each headline claim of SUSHI (MLSys 2023) and NeuLens
 * (MobiCom 2022) beside supernav's figure on the same kind of experiment (sushi vs
 * nocache on each trace; the ARAC benchmark's arac.json when ARAC_DIR is given). Every
 * figure says where it comes from: measured (and by which clock), emulated, or model.
 * Runs on the null platform (harness overhead) appear in the tables, not in the plots.
 * Library code: prints nothing. Host C11 (POSIX). */
#ifndef SN_REPORT_H
#define SN_REPORT_H

#include <stddef.h>

typedef struct sn_report_options {
    const char *out_dir;          /* required; created if missing, files replaced */
    const char *title;            /* NULL: "supernav report" */
    const char *arac_dir;         /* a bench-arac result directory (arac.json); NULL: not run */
    const char *accuracy_table;   /* NULL: workloads/supernet/accuracy.csv, if present */
    const char *gnuplot;          /* NULL: $SN_GNUPLOT or gnuplot on PATH */
} sn_report_options;

typedef struct sn_report_summary {
    size_t runs, plots;
    char html_path[1100], md_path[1100];
} sn_report_summary;

/* Reads the N run directories RUNS, draws the plots and writes the report. Returns 0, or
 * -1 with one line in ERR (an unreadable run, gnuplot missing or failing, a write). */
int sn_report_write(char *const *runs, size_t n, const sn_report_options *options,
                    sn_report_summary *summary, char *err, size_t err_bytes);

#endif
