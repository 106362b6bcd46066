/* supernav gate: the CI regression gate (reports/sn_gate.h).
 *
 *   supernav gate --baseline FILE RUN... [--reference DIR] [--alpha P] [--tolerance T] [--all]
 *   supernav gate --write-baseline FILE RUN... [--alpha P] [--tolerance T]
 *
 * Exit status: 0 pass, 1 a regression or a changed deterministic figure (or unreadable
 * input), 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_gate.h"
#include "sn_rundir.h"

static void format_value(const sn_gate_row *r, double v, const char *text, char *buf, size_t n)
{
    if (text[0])
        snprintf(buf, n, "%.16s", text);
    else if (isnan(v))
        snprintf(buf, n, "-");
    else if (!strcmp(r->unit, "fraction"))
        snprintf(buf, n, "%.4f%%", 100.0 * v);
    else if (!strcmp(r->unit, "bytes") || !strcmp(r->unit, "MACs") || !*r->unit)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3f", v);
}

static int parse_fraction(const char *name, const char *text, double *out)
{
    if (sn_cli_parse_double(text, 0.0, 10.0, out) != 0) {
        sn_cli_error("--%s must be a positive number", name);
        return -1;
    }
    return 0;
}

int sn_cmd_gate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"baseline", required_argument, 0, 'b'}, {"write-baseline", required_argument, 0, 'w'},
        {"alpha", required_argument, 0, 'a'},    {"tolerance", required_argument, 0, 't'},
        {"all", no_argument, 0, 'A'},            {"reference", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *baseline = NULL, *write_to = NULL, *reference = NULL;
    sn_gate_thresholds th = {0, 0, 0};
    sn_gate_result res;
    char **runs, **refs = NULL, err[1400];
    size_t n, n_ref = 0, i, same = 0, within = 0;
    int ch, all = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': baseline = optarg; break;
        case 'w': write_to = optarg; break;
        case 'a': if (parse_fraction("alpha", optarg, &th.alpha) != 0) return 2; break;
        case 't': if (parse_fraction("tolerance", optarg, &th.wall_tolerance) != 0) return 2; break;
        case 'A': all = 1; break;
        case 'r': reference = optarg; break;
        case 'h':
            printf("usage: supernav gate --baseline FILE RUN... [--reference DIR] [--alpha P] [--tolerance T] [--all]\n"
                   "       supernav gate --write-baseline FILE RUN... [--alpha P] [--tolerance T]\n"
                   "  RUN: a run directory or a directory of runs. A run named NAME@K is repetition K\n"
                   "  of experiment NAME. Deterministic figures (accuracy, bytes, MACs, modelled\n"
                   "  energy, the served sequence, inputs) must equal the baseline's (floating sums\n"
                   "  within 1e-9 relative) and agree across repetitions. Wall-clock figures (the\n"
                   "  median service time and latency of each repetition) fail only when the\n"
                   "  Mann-Whitney U test over the repetitions gives p < P (default 0.05) AND the\n"
                   "  median is worse by more than T (default 0.25 = 25 %%). Exit 1 on a failure,\n"
                   "  with a table of what moved (--all: every figure). --write-baseline records the\n"
                   "  runs instead (the thresholds given are stored with it). --reference DIR: the\n"
                   "  wall-clock figures are set against the runs in DIR (named like the runs: a\n"
                   "  reference build replayed on this machine in the same command) instead of the\n"
                   "  baseline's recorded medians, which came from another machine and moment.\n");
            return 0;
        default: return 2;
        }
    }
    if (!!baseline == !!write_to) {
        sn_cli_error("give one of --baseline FILE (check) or --write-baseline FILE (record)");
        return 2;
    }
    if (reference && write_to) {
        sn_cli_error("--reference goes with --baseline (a check), not --write-baseline");
        return 2;
    }
    if (optind >= argc) {
        sn_cli_error("no run given");
        return 2;
    }
    if (sn_rundir_expand(&argv[optind], (size_t)(argc - optind), &runs, &n, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    if (write_to) {
        sn_gate_thresholds t;
        sn_gate_thresholds_default(&t);
        if (th.alpha > 0)
            t.alpha = th.alpha;
        if (th.wall_tolerance > 0)
            t.wall_tolerance = th.wall_tolerance;
        if (sn_gate_write_baseline(runs, n, &t, write_to, err, sizeof err) != 0) {
            sn_cli_error("%s", err);
            sn_rundir_free_list(runs, n);
            return 1;
        }
        printf("gate: wrote %s (%zu runs; alpha %g, wall tolerance %.0f%%)\n", write_to, n, t.alpha,
               100.0 * t.wall_tolerance);
        sn_rundir_free_list(runs, n);
        return 0;
    }
    if (reference && sn_rundir_expand((char **)&reference, 1, &refs, &n_ref, err, sizeof err) != 0) {
        sn_cli_error("--reference: %s", err);
        sn_rundir_free_list(runs, n);
        return 1;
    }
    i = (size_t)sn_gate_check_reference(baseline, runs, n, refs, n_ref, &th, &res, err, sizeof err);
    if (refs)
        sn_rundir_free_list(refs, n_ref);
    if (i != 0) {
        sn_cli_error("%s", err);
        sn_rundir_free_list(runs, n);
        return 1;
    }
    printf("gate: %s (created %s, git %s) vs %zu run%s; wall-clock: U test over repetitions "
           "p < %g and median worse by > %.0f%%; tight: %g relative\n",
           baseline, res.baseline_created, res.baseline_revision, n, n == 1 ? "" : "s",
           res.thresholds.alpha, 100.0 * res.thresholds.wall_tolerance, res.thresholds.tight_rel);
    if (reference)
        printf("gate: wall-clock figures against the reference runs in %s (%zu runs), not the baseline's "
               "recorded medians\n", reference, n_ref);
    printf("%-16s %-20s %-6s %18s %18s %10s  %-9s  %s\n", "run", "figure", "kind",
           reference ? "baseline|ref" : "baseline",
           "this run", "p (U)", "status", "note");
    for (i = 0; i < res.count; ++i) {
        const sn_gate_row *r = &res.rows[i];
        char b[48], c[48], p[24];
        if (r->status == SN_GATE_SAME)
            ++same;
        if (r->status == SN_GATE_WITHIN)
            ++within;
        if (r->status == SN_GATE_SAME && !all)
            continue;
        format_value(r, r->base, r->base_text, b, sizeof b);
        format_value(r, r->cur, r->cur_text, c, sizeof c);
        if (isnan(r->p))
            snprintf(p, sizeof p, "-");
        else
            snprintf(p, sizeof p, "%.3g", r->p);
        printf("%-16.16s %-20.20s %-6s %18s %18s %10s  %-9s  %s\n", r->run, r->figure,
               sn_figure_kind_str(r->kind), b, c, p, sn_gate_status_str(r->status), r->note);
    }
    if (res.failures)
        printf("gate: FAIL -- %zu regression%s, %zu other failure%s; %zu figures unchanged, %zu "
               "wall-clock within limits\n",
               res.regressions, res.regressions == 1 ? "" : "s", res.failures - res.regressions,
               res.failures - res.regressions == 1 ? "" : "s", same, within);
    else
        printf("gate: PASS -- %zu figures unchanged, %zu wall-clock within limits (of %zu checked)\n",
               same, within, res.count);
    i = res.failures;
    sn_gate_result_free(&res);
    sn_rundir_free_list(runs, n);
    return i ? 1 : 0;
}
