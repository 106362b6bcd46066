/* supernav compare A B: per-figure deltas between two runs (or two sets of runs, paired by
 * run name), with the Mann-Whitney U p-value over per-query samples (reports/sn_compare.h).
 *
 *   supernav compare A B [--alpha P] */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_compare.h"
#include "sn_rundir.h"

static void format_value(const sn_figure *f, double v, int signed_, char *buf, size_t n)
{
    const char *u = f->unit;
    if (f->text[0]) {
        snprintf(buf, n, "%.12s", f->text);
    } else if (isnan(v)) {
        snprintf(buf, n, "-");
    } else if (!strcmp(u, "fraction")) {
        snprintf(buf, n, signed_ ? "%+.2f pt" : "%.2f%%", 100.0 * v);
    } else if (!strcmp(u, "bytes") || !strcmp(u, "MACs") || !*u) {
        snprintf(buf, n, signed_ ? "%+.0f" : "%.0f", v);
    } else {
        snprintf(buf, n, signed_ ? "%+.1f" : "%.1f", v);
    }
}

static void describe(const char *label, const sn_rundir *r)
{
    printf("%s = %s  (%s, trace %s, platform %s, %s)\n", label, r->path, sn_rundir_policy(r),
           r->trace_name, sn_rundir_platform(r), sn_rundir_clock(r));
}

static int compare_pair(const char *pa, const char *pb, double alpha)
{
    sn_rundir ra, rb;
    sn_figure_set fa, fb;
    sn_compare_row *rows;
    char err[1400];
    size_t i, n;
    if (sn_rundir_load(pa, &ra, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    if (sn_rundir_load(pb, &rb, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        sn_rundir_free(&ra);
        return 1;
    }
    if (sn_figures_of_run(&ra, &fa) != 0 || sn_figures_of_run(&rb, &fb) != 0 ||
        !(rows = malloc((fa.count + 1) * sizeof *rows))) {
        sn_cli_error("out of memory");
        exit(1);
    }
    describe("A", &ra);
    describe("B", &rb);
    n = sn_compare_figures(&fa, &fb, alpha, rows);
    printf("%-26s %-6s %16s %16s %14s %9s %10s  %s\n", "figure", "kind", "A", "B", "B - A",
           "rel", "p (U test)", "verdict");
    for (i = 0; i < n; ++i) {
        const sn_compare_row *r = &rows[i];
        char va[48], vb[48], vd[48], rel[24], p[24];
        format_value(r->a, r->a->value, 0, va, sizeof va);
        if (r->b)
            format_value(r->b, r->b->value, 0, vb, sizeof vb);
        else
            snprintf(vb, sizeof vb, "(absent)");
        if (r->a->text[0])
            snprintf(vd, sizeof vd, "-");
        else
            format_value(r->a, r->delta, 1, vd, sizeof vd);
        if (isnan(r->rel))
            snprintf(rel, sizeof rel, "-");
        else
            snprintf(rel, sizeof rel, "%+.2f%%", 100.0 * r->rel);
        if (isnan(r->p))
            snprintf(p, sizeof p, "-");
        else
            snprintf(p, sizeof p, "%.4g", r->p);
        printf("%-26s %-6s %16s %16s %14s %9s %10s  %s\n", r->a->name, sn_figure_kind_str(r->a->kind),
               va, vb, vd, rel, p, r->verdict);
    }
    printf("(p: two-sided Mann-Whitney U over per-query samples, normal approximation; a verdict "
           "needs p < %g)\n", alpha);
    free(rows);
    sn_figures_free(&fa);
    sn_figures_free(&fb);
    sn_rundir_free(&ra);
    sn_rundir_free(&rb);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int sn_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"alpha", required_argument, 0, 'a'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    double alpha = 0.05;
    char **la, **lb, err[1400];
    size_t na, nb, i, j, paired = 0;
    int ch, rc = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (sn_cli_parse_double(optarg, 0.0, 1.0, &alpha) != 0) {
                sn_cli_error("--alpha must be in (0, 1)");
                return 2;
            }
            break;
        case 'h':
            printf("usage: supernav compare A B [--alpha P]\n"
                   "  A, B: run directories, or directories of runs (a make bench set: runs are\n"
                   "  paired by name). Per figure: A, B, the delta, the relative delta, the two-sided\n"
                   "  Mann-Whitney U p-value over per-query samples (service time, latency, 0/1\n"
                   "  correctness and SLO outcomes) and a verdict (better/worse only when p < P,\n"
                   "  default 0.05). Kinds: exact/tight (deterministic), wall (sampled), info.\n");
            return 0;
        default: return 2;
        }
    }
    if (argc - optind != 2) {
        sn_cli_error("two runs (or two sets of runs) are needed: supernav compare A B");
        return 2;
    }
    if (sn_rundir_is_run(argv[optind]) && sn_rundir_is_run(argv[optind + 1]))
        return compare_pair(argv[optind], argv[optind + 1], alpha);
    if (sn_rundir_expand(&argv[optind], 1, &la, &na, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    if (sn_rundir_expand(&argv[optind + 1], 1, &lb, &nb, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        sn_rundir_free_list(la, na);
        return 1;
    }
    for (i = 0; i < na; ++i) {
        for (j = 0; j < nb && strcmp(base_name(la[i]), base_name(lb[j])); ++j)
            ;
        if (j == nb) {
            printf("== %s: only in A\n\n", base_name(la[i]));
            continue;
        }
        printf("== %s\n", base_name(la[i]));
        rc |= compare_pair(la[i], lb[j], alpha);
        printf("\n");
        ++paired;
    }
    for (j = 0; j < nb; ++j) {
        for (i = 0; i < na && strcmp(base_name(la[i]), base_name(lb[j])); ++i)
            ;
        if (i == na)
            printf("== %s: only in B\n\n", base_name(lb[j]));
    }
    sn_rundir_free_list(la, na);
    sn_rundir_free_list(lb, nb);
    if (!paired) {
        sn_cli_error("no run name appears in both A and B");
        return 1;
    }
    return rc;
}
