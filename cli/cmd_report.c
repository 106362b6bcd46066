/* supernav report RUN... -o DIR: report.md, a self-contained report.html and the gnuplot
 * plots of one or more run directories (reports/sn_report.h).
 *
 *   supernav report RUN... -o DIR [--arac DIR] [--title TEXT] [--table CSV] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_report.h"
#include "sn_rundir.h"

int sn_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"arac", required_argument, 0, 'a'},
        {"title", required_argument, 0, 't'}, {"table", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    sn_report_options o;
    sn_report_summary sum;
    char **runs, err[1400];
    size_t n;
    int ch, rc;
    memset(&o, 0, sizeof o);
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.out_dir = optarg; break;
        case 'a': o.arac_dir = optarg; break;
        case 't': o.title = optarg; break;
        case 'T': o.accuracy_table = optarg; break;
        case 'h':
            printf("usage: supernav report RUN... -o DIR [--arac DIR] [--title TEXT] [--table CSV]\n"
                   "  RUN: a run directory, or a directory of runs (a make bench set).\n"
                   "  Writes DIR/report.md, DIR/report.html (self-contained: plots inlined as SVG)\n"
                   "  and DIR/plots/ (gnuplot scripts with their data, SVGs): latency-accuracy Pareto\n"
                   "  front per platform, latency CDF per policy with the SLOs, served accuracy vs\n"
                   "  SLO attainment, a SubNet/SubGraph/queue timeline, energy per query, and the\n"
                   "  SUSHI/NeuLens reproduction table. --arac: a make bench-arac result directory\n"
                   "  (arac.json) for the NeuLens rows. --table: the accuracy table (default\n"
                   "  workloads/supernet/accuracy.csv). Needs gnuplot ($SN_GNUPLOT overrides).\n");
            return 0;
        default: return 2;
        }
    }
    if (!o.out_dir) {
        sn_cli_error("-o DIR is required");
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
    rc = sn_report_write(runs, n, &o, &sum, err, sizeof err);
    sn_rundir_free_list(runs, n);
    if (rc != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    printf("%s\n%s\n", sum.html_path, sum.md_path);
    fprintf(stderr, "report: %zu runs, %zu plots: %s\n", sum.runs, sum.plots, sum.html_path);
    return 0;
}
