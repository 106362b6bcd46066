/* supernav reports: the figures of a run (see sn_figures.h). */
#include "sn_figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_sha256.h"
#include "sn_stats.h"
#include "sn_trace.h"

const char *sn_figure_kind_str(sn_figure_kind kind)
{
    switch (kind) {
    case SN_FIGURE_EXACT: return "exact";
    case SN_FIGURE_TIGHT: return "tight";
    case SN_FIGURE_WALL: return "wall";
    default: return "info";
    }
}

int sn_figures_trace_has_ceilings(const sn_rundir *run)
{
    char path[1200], err[256];
    sn_trace tr;
    size_t i;
    int has = 0;
    if (!sn_rundir_trace_path(run, path, sizeof path))
        return -1;
    if (sn_trace_load(path, SN_TRACE_MAX_COUNT, &tr, err, sizeof err) != SN_TRACE_OK)
        return -1;
    for (i = 0; i < tr.count && !has; ++i)
        has = sn_trace_has_ceiling(&tr, i);
    sn_trace_free(&tr);
    return has;
}

static sn_figure *add(sn_figure_set *set, size_t *cap, const char *name, const char *unit,
                      sn_figure_kind kind, sn_figure_better better, double value, const char *source)
{
    sn_figure *f;
    if (set->count == *cap) {
        sn_figure *g;
        *cap = *cap ? 2 * *cap : 32;
        g = realloc(set->f, *cap * sizeof *g);
        if (!g)
            return NULL;
        set->f = g;
    }
    f = &set->f[set->count++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->unit = unit;
    f->kind = kind;
    f->better = better;
    f->value = value;
    snprintf(f->source, sizeof f->source, "%s", source);
    return f;
}

static double pj_coefficient(const char *source, const char *key)
{
    const char *p = strstr(source, key);
    return p ? strtod(p + strlen(key), NULL) : (double)NAN;
}

static void digest(const sn_rundir *run, char hex[SN_SHA256_HEX_BYTES])
{
    sn_sha256 h;
    uint8_t d[SN_SHA256_DIGEST_BYTES];
    size_t i;
    sn_sha256_init(&h);
    for (i = 0; i < run->count; ++i) {
        const sn_rundir_query *q = &run->q[i];
        char line[1024];
        int len = snprintf(line, sizeof line, "%s,%s,%d,%d,%llu,%llu\n",
                           q->subnet >= 0 ? run->names[q->subnet] : "",
                           q->subgraph >= 0 ? run->names[q->subgraph] : "", (int)q->prediction,
                           (int)q->correct, (unsigned long long)q->near_bytes,
                           (unsigned long long)q->far_bytes);
        sn_sha256_update(&h, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    }
    sn_sha256_final(&h, d);
    sn_sha256_hex(d, hex);
}

int sn_figures_of_run(const sn_rundir *run, sn_figure_set *set)
{
    const cJSON *s = run->summary, *energy = cJSON_GetObjectItemCaseSensitive(s, "energy");
    const char *esrc = sn_rundir_str(energy, "source");
    char clock_src[160], energy_src[160];
    size_t cap = 0, i, known = 0, with_table = 0;
    int model = esrc && !strncmp(esrc, "model:", 6), ceilings = sn_figures_trace_has_ceilings(run);
    double *service, *latency, *correct, *slo, *served, mac_pj, eff;
    sn_figure *f;

    memset(set, 0, sizeof *set);
    {
        /* the clock says what kind of figure a time is: wall clocks and measured service times are
         * measured, instruction-count clocks emulated, everything else (modelled service times,
         * the FPGA cycle model) a model */
        const char *clk = sn_rundir_clock(run);
        const char *kind = !strncmp(clk, "wall:", 5) || !strncmp(clk, "virtual:measured", 16) ? "measured"
                         : strstr(clk, "emulat") || strstr(clk, "icount") ? "emulated" : "model";
        snprintf(clock_src, sizeof clock_src, "%s:%s", kind, clk);
    }
    snprintf(energy_src, sizeof energy_src, "%s", esrc ? esrc : "not recorded");
    service = malloc((run->count + 1) * sizeof *service);
    latency = malloc((run->count + 1) * sizeof *latency);
    correct = malloc((run->count + 1) * sizeof *correct);
    slo = malloc((run->count + 1) * sizeof *slo);
    served = malloc((run->count + 1) * sizeof *served);
    if (!service || !latency || !correct || !slo || !served)
        goto nomem;
    for (i = 0; i < run->count; ++i) {
        service[i] = (double)(run->q[i].end_ns - run->q[i].start_ns) / 1e3;
        latency[i] = (double)run->q[i].latency_ns / 1e3;
        slo[i] = run->q[i].slo_met;
        if (run->q[i].correct >= 0)
            correct[known++] = run->q[i].correct;
        if (!isnan(run->q[i].table_accuracy))
            served[with_table++] = run->q[i].table_accuracy;
    }

#define ADD(name, unit, kind, better, value, source)                                        \
    if (!(f = add(set, &cap, name, unit, kind, better, value, source)))                     \
        goto nomem;
    ADD("queries", "", SN_FIGURE_EXACT, SN_BETTER_NEITHER, sn_rundir_num(s, "queries"), "count");
    ADD("served_accuracy", "fraction", SN_FIGURE_TIGHT, SN_BETTER_HIGHER,
        sn_rundir_num(s, "served_accuracy"), "table: top-1 on the CF-64 test split");
    f->sample = served;
    f->n = with_table;
    served = NULL;
    ADD("measured_accuracy", "fraction", SN_FIGURE_TIGHT, SN_BETTER_HIGHER,
        sn_rundir_num(s, "measured_accuracy"), "measured: predictions of this run");
    f->sample = correct;
    f->n = known;
    correct = NULL;
    ADD("measured_queries", "", SN_FIGURE_EXACT, SN_BETTER_NEITHER, sn_rundir_num(s, "measured_queries"),
        "count");
    ADD("slo_attainment", "fraction", ceilings == 0 ? SN_FIGURE_TIGHT : SN_FIGURE_INFO, SN_BETTER_HIGHER,
        sn_rundir_num(s, "slo_attainment"),
        ceilings == 0 ? "table: accuracy floors only (no latency ceiling in the trace)"
                      : ceilings > 0 ? "measured: latency ceilings against wall-clock latency"
                                     : "unknown: the trace file is gone");
    f->sample = slo;
    f->n = run->count;
    slo = NULL;
    eff = sn_rundir_num(s, "effective_accuracy"); /* summary.json; older runs: policy.json only */
    if (isnan(eff) && run->policy)
        eff = sn_rundir_num(run->policy, "effective_accuracy.table");
    ADD("effective_accuracy", "fraction", SN_FIGURE_INFO, SN_BETTER_HIGHER, eff,
        "table: top-1 counting an answer after its latency ceiling as wrong");
    ADD("near_bytes", "bytes", SN_FIGURE_EXACT, SN_BETTER_NEITHER, sn_rundir_num(s, "near_bytes"),
        "count: weight bytes read from near memory");
    ADD("far_bytes", "bytes", SN_FIGURE_EXACT, SN_BETTER_LOWER, sn_rundir_num(s, "far_bytes"),
        "count: weight bytes moved from far memory");
    ADD("subgraph_hit_ratio", "fraction", SN_FIGURE_TIGHT, SN_BETTER_HIGHER,
        sn_rundir_num(s, "subgraph_hit_ratio"), "count: near / (near + far)");
    ADD("subgraph_switches", "", SN_FIGURE_EXACT, SN_BETTER_NEITHER,
        sn_rundir_num(run->policy, "subgraph_switches"), "count (policy.json)");
    ADD("switch_far_bytes", "bytes", SN_FIGURE_EXACT, SN_BETTER_LOWER,
        sn_rundir_num(run->policy, "switch_far_bytes"), "count (policy.json)");
    mac_pj = model ? pj_coefficient(esrc, "mac=") : (double)NAN;
    ADD("macs", "MACs", SN_FIGURE_TIGHT, SN_BETTER_NEITHER,
        mac_pj > 0 ? round(sn_rundir_num(energy, "domains_uj.compute") * 1e6 / mac_pj) : (double)NAN,
        "count: from the energy model's compute domain / e_mac");
    ADD("energy_uj", "uJ", model ? SN_FIGURE_TIGHT : SN_FIGURE_INFO, SN_BETTER_LOWER,
        sn_rundir_num(energy, "total_uj"), energy_src);
    ADD("energy_compute_uj", "uJ", model ? SN_FIGURE_TIGHT : SN_FIGURE_INFO, SN_BETTER_LOWER,
        sn_rundir_num(energy, "domains_uj.compute"), energy_src);
    ADD("energy_far_uj", "uJ", model ? SN_FIGURE_TIGHT : SN_FIGURE_INFO, SN_BETTER_LOWER,
        sn_rundir_num(energy, "domains_uj.far"), energy_src);
    ADD("energy_near_uj", "uJ", model ? SN_FIGURE_TIGHT : SN_FIGURE_INFO, SN_BETTER_LOWER,
        sn_rundir_num(energy, "domains_uj.near"), energy_src);
    ADD("served_sequence", "sha256", SN_FIGURE_EXACT, SN_BETTER_NEITHER, (double)NAN,
        "count: SHA-256 of each query's SubNet, SubGraph, prediction, correctness, bytes");
    digest(run, f->text);
    ADD("service_us", "us", SN_FIGURE_WALL, SN_BETTER_LOWER, sn_stats_median(service, run->count),
        clock_src);
    f->sample = service;
    f->n = run->count;
    service = NULL;
    ADD("latency_us", "us", SN_FIGURE_WALL, SN_BETTER_LOWER, sn_stats_median(latency, run->count),
        clock_src);
    f->sample = latency;
    f->n = run->count;
    latency = NULL;
    ADD("latency_p99_us", "us", SN_FIGURE_INFO, SN_BETTER_LOWER, sn_rundir_num(s, "latency_us.p99"),
        clock_src);
    ADD("latency_mean_us", "us", SN_FIGURE_INFO, SN_BETTER_LOWER, sn_rundir_num(s, "latency_us.mean"),
        clock_src);
    ADD("throughput_qps", "q/s", SN_FIGURE_INFO, SN_BETTER_HIGHER, sn_rundir_num(s, "throughput_qps"),
        clock_src);
    ADD("energy_per_query_uj", "uJ", SN_FIGURE_INFO, SN_BETTER_LOWER, sn_rundir_num(energy, "per_query_uj"),
        energy_src);
    ADD("harness_overhead_mean_us", "us", SN_FIGURE_INFO, SN_BETTER_LOWER,
        sn_rundir_num(run->policy, "harness_overhead_mean_us"), "measured: wall clock (policy.json)");
#undef ADD
    free(service);
    free(latency);
    free(correct);
    free(slo);
    free(served);
    return 0;
nomem:
    free(service);
    free(latency);
    free(correct);
    free(slo);
    free(served);
    sn_figures_free(set);
    return -1;
}

void sn_figures_free(sn_figure_set *set)
{
    size_t i;
    for (i = 0; i < set->count; ++i)
        free(set->f[i].sample);
    free(set->f);
    memset(set, 0, sizeof *set);
}

const sn_figure *sn_figures_find(const sn_figure_set *set, const char *name)
{
    size_t i;
    for (i = 0; i < set->count; ++i)
        if (!strcmp(set->f[i].name, name))
            return &set->f[i];
    return NULL;
}
