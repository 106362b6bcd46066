/* supernav: benchmark and profiling harness for latency–accuracy navigation with
 * weight-shared SuperNets. Dispatches to one subcommand. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"

const char *sn_cli_command_name = "supernav";

static const sn_cli_command commands[] = {
    {"version", "print the version and how this binary was built", sn_cmd_version},
    {"dataset", "import the npm datasets into IDX files; describe IDX files", sn_cmd_dataset},
    {"pack", "turn the interchange file (safetensors) into a deployment image (.snm)",
     sn_cmd_pack},
    {"info", "validate a deployment image and describe what it holds", sn_cmd_info},
    {"subnets", "the model's Pareto table: MACs, top-1 and arena size per config", sn_cmd_subnets},
    {"eval", "top-1, MACs and latency of a SubNet or ARAC config on a canvas set", sn_cmd_eval},
    {"canvas", "generate cluttered 64x64 canvases (CF-64, CM-64) as IDX files", sn_cmd_canvas},
    {"counters", "probe PAPI, libpfm4 and perf counters and the energy source", sn_cmd_counters},
    {"trace", "generate, import (Azure traces) and describe query traces", sn_cmd_trace},
    {"profile", "latency of every Pareto SubNet with every SubGraph resident (cached)", sn_cmd_profile},
    {"replay", "serve a query trace under a scheduling policy; writes a run directory", sn_cmd_replay},
    {"summary", "one table row per run directory", sn_cmd_summary},
    {"report", "report.md and a self-contained report.html with plots, from run directories",
     sn_cmd_report},
    {"compare", "per-figure deltas of two runs, with Mann-Whitney U significance", sn_cmd_compare},
    {"gate", "check runs against a committed baseline; exit 1 on a regression", sn_cmd_gate},
    {"sweep", "a matrix of runs as jobs: plan, run locally or as a Slurm array, collect", sn_cmd_sweep},
};

int sn_cli_parse_double(const char *text, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > lo && v < hi))
        return -1;
    *out = v;
    return 0;
}

void sn_cli_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "supernav%s%s: error: ", strcmp(sn_cli_command_name, "supernav") ? " " : "",
            strcmp(sn_cli_command_name, "supernav") ? sn_cli_command_name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out)
{
    size_t i;
    fprintf(out, "usage: supernav <command> [options]   (supernav <command> --help)\n\n"
                 "commands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    size_t i;
    const char *lock = getenv("SN_SWEEP_LOCK_FD");
    if (lock) { /* a sweep job: it holds its job's lock while it runs (harness/sn_sweep.c), but
                   what it starts in turn (qemu) must not */
        char *end;
        long fd = strtol(lock, &end, 10);
        if (*lock && !*end && fd >= 3 && fd < 1 << 20)
            fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        unsetenv("SN_SWEEP_LOCK_FD");
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
        if (!strcmp(argv[1], commands[i].name)) {
            sn_cli_command_name = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    sn_cli_error("unknown command '%s' (try 'supernav help')", argv[1]);
    return 2;
}
