/* supernav reports: report.md and a self-contained report.html with gnuplot plots (see
 * sn_report.h). */
#include "sn_report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sn_figures.h"
#include "sn_file.h"
#include "sn_gnuplot.h"
#include "sn_rundir.h"
#include "sn_stats.h"
#include "sn_trace.h"
#include "sn_validity.h"

#define MAX_PLOTS 96
#define MAX_GROUPS 32
#define CDF_POINTS 600
#define TIMELINE_QUERIES 1500

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- what the report is built from -------------------------------------------------- */
typedef struct rinfo {
    sn_rundir run;
    sn_figure_set fs;
    char policy_key[48];   /* the policy without ":CFG" */
    char label[320];       /* a series name, unique within a trace */
    int plotted;           /* not the null platform */
} rinfo;

typedef struct acc_entry {
    char *config;
    double top1;           /* fraction */
} acc_entry;

typedef struct plot {
    char name[96];
    char title[256];
    char caption[2048];    /* plain text (escaped for HTML when written) */
} plot;

/* The figures of the answer table (sn_figures.h names): each policy's mean over its runs. */
#define ANSWER_FIGS 3
static const char *const answer_fig[ANSWER_FIGS] = {"slo_attainment", "served_accuracy", "energy_per_query_uj"};
enum { FIG_SLO = 0, FIG_ACC = 1, FIG_ENERGY = 2 };

/* A policy within one trace and platform: its runs (repetitions) and, per answer figure, the
 * value of each run that recorded it and their mean. */
typedef struct pstat {
    const char *policy;                /* a run's policy_key */
    size_t runs;
    double *v[ANSWER_FIGS];            /* NaN-free, from each run's sn_figures */
    size_t nv[ANSWER_FIGS];
    double mean[ANSWER_FIGS];          /* NaN when no run recorded the figure */
    sn_figure_better better[ANSWER_FIGS];
} pstat;

/* The plotted runs of one trace on one platform, by policy in first-seen order. */
typedef struct group {
    const char *trace, *platform;
    const cJSON *feasibility;          /* the first policy.json's "feasibility", or NULL */
    pstat pol[MAX_GROUPS];
    size_t npol, runs;
} group;

typedef struct report {
    const sn_report_options *o;
    rinfo *r;
    size_t n;
    group *groups;                     /* platform-major, then trace; only non-empty ones */
    size_t group_count;
    acc_entry *acc;
    size_t acc_count;
    plot plots[MAX_PLOTS];
    size_t plot_count;
    char plot_dir[1100];
    char *err;
    size_t err_bytes;
    int multi_platform;
    char split[160];                   /* the test split the accuracy table was measured on */
    char split_sized[176];             /* the same with its size, where it is a standard split */
} report;

static const char *policy_color(const char *key)
{
    static const struct { const char *key, *color; } colors[] = {
        {"sushi", "#d62728"},   {"nocache", "#7f7f7f"},       {"static-subgraph", "#1f77b4"},
        {"static-subnet", "#2ca02c"}, {"largest", "#9467bd"}, {"smallest", "#8c564b"},
        {"oracle", "#ff7f0e"},
    };
    /* the same policy serving ARAC configs too ("+arac"): a darker shade of its colour */
    static const char *arac_colors[] = {"#8b1a1a", "#3f3f3f", "#0e3d5e", "#175c17", "#4f3366", "#4a2c26", "#a65309"};
    size_t i, len = strlen(key), arac = len > 5 && !strcmp(key + len - 5, "+arac");
    for (i = 0; i < sizeof colors / sizeof *colors; ++i)
        if (!strncmp(key, colors[i].key, arac ? len - 5 : len) && strlen(colors[i].key) == (arac ? len - 5 : len))
            return arac ? arac_colors[i] : colors[i].color;
    return arac ? "#0b6e78" : "#17becf";
}

/* "measured", "emulated" or "model", and a description, from a run's clock string. */
static const char *clock_kind(const char *clock)
{
    if (!strncmp(clock, "wall:", 5) || !strncmp(clock, "virtual:measured", 16))
        return "measured";
    if (strstr(clock, "emulat") || strstr(clock, "icount"))
        return "emulated";
    return "model";
}

static const char *energy_kind(const char *source)
{
    if (!source)
        return "not recorded";
    if (!strncmp(source, "measured:", 9))
        return "measured";
    if (!strncmp(source, "emulated:", 9))
        return "emulated";
    return "model";
}

/* The kind a source label starts with: "measured", "emulated", "model" or "-". */
static const char *source_kind(const char *source)
{
    static const char *const kinds[] = {"measured", "emulated", "model"};
    size_t i;
    for (i = 0; i < 3; ++i)
        if (!strncmp(source, kinds[i], strlen(kinds[i])))
            return kinds[i];
    return "-";
}

static double acc_lookup(const report *rp, const char *config)
{
    size_t i;
    for (i = 0; i < rp->acc_count; ++i)
        if (!strcmp(rp->acc[i].config, config))
            return rp->acc[i].top1;
    return (double)NAN;
}

static void acc_add(report *rp, const char *config, double top1)
{
    acc_entry *g;
    if (!isnan(acc_lookup(rp, config)) || isnan(top1))
        return;
    g = realloc(rp->acc, (rp->acc_count + 1) * sizeof *g);
    if (!g)
        return;
    rp->acc = g;
    if ((rp->acc[rp->acc_count].config = strdup(config))) {
        rp->acc[rp->acc_count].top1 = top1;
        ++rp->acc_count;
    }
}

/* The test split the accuracy table was measured on, named after the canvases the first run
 * served (its context's hashes.data): a standard test split by its model's name ("CF-128S
 * test split"), CF-64's where no run records any, else "canvas set NAME". */
static void name_split(report *rp)
{
    static const struct { const char *set, *name, *size; } splits[] = {
        {"cf64-test", "CF-64", "10,000"}, {"cf128s-test", "CF-128S", "10,000"}, {"cm64-test", "CM-64", "1,431"}};
    const char *path = NULL, *base, *suffix = "-images-idx3-ubyte";
    char set[128];
    size_t i, len;
    for (i = 0; i < rp->n && !path; ++i) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rp->r[i].run.context, "hashes"), "data");
        path = sn_rundir_str(cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : NULL, "path");
    }
    base = path ? (strrchr(path, '/') ? strrchr(path, '/') + 1 : path) : "cf64-test-images-idx3-ubyte";
    snprintf(set, sizeof set, "%s", base);
    len = strlen(set);
    if (len > strlen(suffix) && !strcmp(set + len - strlen(suffix), suffix))
        set[len - strlen(suffix)] = '\0';
    for (i = 0; i < sizeof splits / sizeof splits[0]; ++i)
        if (!strcmp(set, splits[i].set)) {
            snprintf(rp->split, sizeof rp->split, "%s test split", splits[i].name);
            snprintf(rp->split_sized, sizeof rp->split_sized, "%s-canvas %s test split", splits[i].size,
                     splits[i].name);
            return;
        }
    snprintf(rp->split, sizeof rp->split, "canvas set %s", set);
    snprintf(rp->split_sized, sizeof rp->split_sized, "canvas set %s", set);
}

/* The accuracy table (kind,config,...,top1 in percent), then every served SubNet's
 * table_accuracy. */
static void load_accuracy(report *rp)
{
    const char *path = rp->o->accuracy_table ? rp->o->accuracy_table : "workloads/supernet/accuracy.csv";
    void *raw;
    size_t size, i, q;
    if (sn_read_file(path, &raw, &size) == 0) {
        char *save = NULL, *line;
        int row = 0, ck = -1, cc = -1, ct = -1;
        for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++row) {
            char *f[16], *p = line;
            int k = 0, j;
            while (k < 16) {
                f[k++] = p;
                if (!(p = strchr(p, ',')))
                    break;
                *p++ = '\0';
            }
            if (row == 0) {
                for (j = 0; j < k; ++j) {
                    if (!strcmp(f[j], "kind")) ck = j;
                    if (!strcmp(f[j], "config")) cc = j;
                    if (!strcmp(f[j], "top1")) ct = j;
                }
                if (ck < 0 || cc < 0 || ct < 0)
                    break;
                continue;
            }
            if (k > ck && k > cc && k > ct)
                acc_add(rp, f[cc], strtod(f[ct], NULL) / 100.0);
        }
        free(raw);
    }
    for (i = 0; i < rp->n; ++i)
        for (q = 0; q < rp->r[i].run.count; ++q) {
            const sn_rundir_query *x = &rp->r[i].run.q[q];
            if (x->subnet >= 0 && !isnan(x->table_accuracy))
                acc_add(rp, rp->r[i].run.names[x->subnet], x->table_accuracy);
        }
}

/* ---- text helpers --------------------------------------------------------------------- */
static void html_escaped(sn_text *t, const char *s)
{
    for (; *s; ++s) {
        switch (*s) {
        case '&': sn_text_append(t, "&amp;", 5); break;
        case '<': sn_text_append(t, "&lt;", 4); break;
        case '>': sn_text_append(t, "&gt;", 4); break;
        case '"': sn_text_append(t, "&quot;", 6); break;
        default: sn_text_append(t, s, 1);
        }
    }
}

/* S inside a gnuplot double-quoted string. */
static const char *gp(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    for (; *s && k + 3 < n; ++s) {
        if (*s == '"' || *s == '\\')
            buf[k++] = '\\';
        buf[k++] = *s;
    }
    buf[k] = '\0';
    return buf;
}

static void fmt_pct(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.2f%%", 100.0 * v);
}

static void fmt_num(char *buf, size_t n, int decimals, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*f", decimals, v);
}

/* ---- plotting ------------------------------------------------------------------------- */
static void preamble(sn_text *t, const report *rp, const char *name, int width, int height)
{
    char b[1200];
    snprintf(b, sizeof b, "%s/%s.svg", rp->plot_dir, name);
    sn_text_printf(t, "# supernav report: plot %s (data inline; run: gnuplot %s.gp)\n", name, name);
    sn_text_printf(t, "set encoding utf8\n"
                      "set terminal svg size %d,%d dynamic noenhanced font 'Helvetica,12' "
                      "background '#ffffff'\n", width, height);
    sn_gnuplot_output(t, b);
    sn_text_printf(t, "set grid lc rgb '#e0e0e0'\nset border lc rgb '#404040'\n"
                      "set key outside right top samplen 2\nset tics nomirror\n");
}

/* Writes PLOT_DIR/NAME.gp and runs gnuplot; records the plot. */
static int draw(report *rp, sn_text *script, const char *name, const char *title, const char *caption)
{
    char path[1300], svg[1300], log[1300];
    plot *p;
    if (rp->plot_count == MAX_PLOTS)
        return fail(rp->err, rp->err_bytes, "more than %d plots", MAX_PLOTS);
    if (script->failed)
        return fail(rp->err, rp->err_bytes, "out of memory");
    sn_text_printf(script, "unset output\n");
    snprintf(path, sizeof path, "%s/%s.gp", rp->plot_dir, name);
    snprintf(svg, sizeof svg, "%s/%s.svg", rp->plot_dir, name);
    snprintf(log, sizeof log, "%s/gnuplot.log", rp->plot_dir);
    if (sn_write_file_atomic(path, script->s, script->len) != 0)
        return fail(rp->err, rp->err_bytes, "%s: %s", path, strerror(errno));
    if (sn_gnuplot_plot(rp->o->gnuplot, path, svg, log, rp->err, rp->err_bytes) != 0)
        return -1;
    p = &rp->plots[rp->plot_count++];
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->caption, sizeof p->caption, "%s", caption);
    return 0;
}

static void safe_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n; ++in)
        out[k++] = (char)((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                                  (*in >= '0' && *in <= '9') || *in == '-' || *in == '_'
                              ? *in
                              : '_');
    out[k] = '\0';
}

/* Distinct values of KEY(run) over plotted runs, in first-seen order. */
static size_t distinct(const report *rp, const char *(*key)(const rinfo *), const char **out, size_t max)
{
    size_t i, j, k = 0;
    for (i = 0; i < rp->n; ++i) {
        const char *v;
        if (!rp->r[i].plotted)
            continue;
        v = key(&rp->r[i]);
        for (j = 0; j < k && strcmp(out[j], v); ++j)
            ;
        if (j == k && k < max)
            out[k++] = v;
    }
    return k;
}

static const char *key_platform(const rinfo *r)
{
    return sn_rundir_platform(&r->run);
}

static const char *key_trace(const rinfo *r)
{
    return r->run.trace_name;
}

/* Groups the plotted runs by platform and trace, and each group's runs by policy: the one
 * place where a policy's figures are gathered over its repetitions (the answer table and the
 * validity section both read it). Returns 0, or -1 (out of memory). */
static int build_groups(report *rp)
{
    const char *traces[MAX_GROUPS], *plats[MAX_GROUPS];
    size_t nt = distinct(rp, key_trace, traces, MAX_GROUPS), np = distinct(rp, key_platform, plats, MAX_GROUPS);
    size_t t, pl, i, k, f;
    if (!(rp->groups = calloc(nt * np + 1, sizeof *rp->groups)))
        return -1;
    for (pl = 0; pl < np; ++pl)
        for (t = 0; t < nt; ++t) {
            group *g = &rp->groups[rp->group_count];
            g->trace = traces[t];
            g->platform = plats[pl];
            for (i = 0; i < rp->n; ++i) {
                const rinfo *ri = &rp->r[i];
                pstat *p;
                if (!ri->plotted || strcmp(key_trace(ri), g->trace) || strcmp(key_platform(ri), g->platform))
                    continue;
                if (!g->feasibility && ri->run.policy)
                    g->feasibility = cJSON_GetObjectItemCaseSensitive(ri->run.policy, "feasibility");
                for (k = 0; k < g->npol && strcmp(g->pol[k].policy, ri->policy_key); ++k)
                    ;
                if (k == MAX_GROUPS)
                    continue;
                p = &g->pol[k];
                if (k == g->npol) {
                    ++g->npol;
                    p->policy = ri->policy_key;
                    for (f = 0; f < ANSWER_FIGS; ++f)
                        if (!(p->v[f] = malloc(rp->n * sizeof *p->v[f])))
                            return -1;
                }
                ++p->runs;
                ++g->runs;
                for (f = 0; f < ANSWER_FIGS; ++f) {
                    const sn_figure *x = sn_figures_find(&ri->fs, answer_fig[f]);
                    if (!x)
                        continue;
                    p->better[f] = x->better;
                    if (!isnan(x->value))
                        p->v[f][p->nv[f]++] = x->value;
                }
            }
            for (k = 0; k < g->npol; ++k)
                for (f = 0; f < ANSWER_FIGS; ++f) {
                    pstat *p = &g->pol[k];
                    double sum = 0.0;
                    for (i = 0; i < p->nv[f]; ++i)
                        sum += p->v[f][i];
                    p->mean[f] = p->nv[f] ? sum / (double)p->nv[f] : (double)NAN;
                }
            if (g->npol)
                ++rp->group_count;
        }
    return 0;
}

static void free_groups(report *rp)
{
    size_t i, k, f;
    if (!rp->groups)
        return;
    /* a group that failed half-way is the one after the last counted */
    for (i = 0; i <= rp->group_count; ++i)
        for (k = 0; k < rp->groups[i].npol; ++k)
            for (f = 0; f < ANSWER_FIGS; ++f)
                free(rp->groups[i].pol[k].v[f]);
    free(rp->groups);
    rp->groups = NULL;
}

/* The profile of a run: context run.profile, else the cache path the harness would use. */
static cJSON *load_profile(const sn_rundir *run, char *path, size_t n)
{
    const char *rec = sn_rundir_str(run->context, "run.profile");
    const char *isa = sn_rundir_str(run->context, "platform.properties.isa");
    const char *sha = sn_rundir_input_sha256(run, "model");
    double budget = sn_rundir_num(run->context, "platform.properties.near_budget_bytes");
    void *text;
    size_t size;
    cJSON *j;
    if (rec && *rec && access(rec, R_OK) == 0)
        snprintf(path, n, "%s", rec);
    else if (isa && sha && !isnan(budget))
        snprintf(path, n, "build/profile/%s-%s-%.0f-%.16s.json", sn_rundir_platform(run), isa, budget, sha);
    else
        return NULL;
    if (sn_read_file(path, &text, &size) != 0)
        return NULL;
    j = cJSON_ParseWithLength(text, size);
    free(text);
    return j;
}

typedef struct point {
    double x, y;
} point;

static int cmp_point(const void *a, const void *b)
{
    const point *p = a, *q = b;
    return p->x < q->x ? -1 : p->x > q->x ? 1 : (p->y > q->y) - (p->y < q->y);
}

/* Writes POINTS as a datablock and, as a second one, their Pareto front (faster and at
 * least as accurate: nothing to the upper left). */
static void front_blocks(sn_text *t, const char *name, point *pts, size_t n)
{
    size_t i;
    double best = -INFINITY;
    qsort(pts, n, sizeof *pts, cmp_point);
    sn_text_printf(t, "$%s << EOD\n", name);
    for (i = 0; i < n; ++i)
        sn_text_printf(t, "%.3f %.4f\n", pts[i].x, pts[i].y);
    sn_text_printf(t, "EOD\n$%s_front << EOD\n", name);
    for (i = 0; i < n; ++i)
        if (pts[i].y > best) {
            best = pts[i].y;
            sn_text_printf(t, "%.3f %.4f\n", pts[i].x, pts[i].y);
        }
    sn_text_printf(t, "EOD\n");
}

static int plot_pareto(report *rp, const char *platform)
{
    sn_text t = {0};
    char name[96], title[256], caption[2048], prof_path[1200] = "", e[600];
    cJSON *prof = NULL;
    size_t i, j, s;
    int rc, have_front = 0;
    const char *clock = "?";
    snprintf(name, sizeof name, "pareto-");
    safe_name(platform, name + 7, sizeof name - 7);
    for (i = 0; i < rp->n && !prof; ++i)
        if (rp->r[i].plotted && !strcmp(sn_rundir_platform(&rp->r[i].run), platform)) {
            prof = load_profile(&rp->r[i].run, prof_path, sizeof prof_path);
            clock = sn_rundir_clock(&rp->r[i].run);
        }
    preamble(&t, rp, name, 960, 540);
    sn_text_printf(&t, "set title \"%s: latency-accuracy front and the SubNets served\"\n", gp(platform, e, sizeof e));
    sn_text_printf(&t, "set xlabel \"latency, us (measured: profile p50 / median service time in the runs)\"\n"
                       "set ylabel \"top-1, %% (accuracy table: %s)\"\n", gp(rp->split, e, sizeof e));
    if (prof) {
        const cJSON *subnets = cJSON_GetObjectItemCaseSensitive(prof, "subnets");
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(prof, "rows"), *row;
        size_t ns = (size_t)cJSON_GetArraySize(subnets), kn = 0, ko = 0;
        point *none = calloc(ns + 1, sizeof *none), *own = calloc(ns + 1, sizeof *own);
        if (none && own) {
            cJSON_ArrayForEach(row, rows) {
                double sub = sn_rundir_num(row, "subnet"), g = sn_rundir_num(row, "subgraph");
                double lat = sn_rundir_num(row, "p50_us");
                const cJSON *cfg = cJSON_GetArrayItem(subnets, (int)sub);
                double top1 = cJSON_IsString(cfg) ? acc_lookup(rp, cfg->valuestring) : (double)NAN;
                if (isnan(top1) || isnan(lat))
                    continue;
                if (g < 0 && kn < ns)
                    none[kn++] = (point){lat, 100.0 * top1};
                else if (g == sub && ko < ns)
                    own[ko++] = (point){lat, 100.0 * top1};
            }
            if (kn && ko) {
                front_blocks(&t, "none", none, kn);
                front_blocks(&t, "own", own, ko);
                have_front = 1;
            }
        }
        free(none);
        free(own);
        cJSON_Delete(prof);
    }
    /* SubNets served, per run: median service time of the queries each SubNet served */
    sn_text_printf(&t, "set key outside right top\n");
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        if (!ri->plotted || strcmp(sn_rundir_platform(&ri->run), platform))
            continue;
        sn_text_printf(&t, "$served%zu << EOD\n", i);
        for (s = 0; s < ri->run.name_count; ++s) {
            double *v = malloc((ri->run.count + 1) * sizeof *v), top1 = (double)NAN;
            size_t k = 0;
            if (!v)
                break;
            for (j = 0; j < ri->run.count; ++j)
                if (ri->run.q[j].subnet == (int32_t)s) {
                    v[k++] = (double)(ri->run.q[j].end_ns - ri->run.q[j].start_ns) / 1e3;
                    top1 = ri->run.q[j].table_accuracy;
                }
            if (k && !isnan(top1))
                sn_text_printf(&t, "%.3f %.4f %zu\n", sn_stats_median(v, k), 100.0 * top1, k);
            free(v);
        }
        sn_text_printf(&t, "EOD\n");
    }
    sn_text_printf(&t, "plot ");
    if (have_front)
        sn_text_printf(&t, "$none u 1:2 w p pt 6 ps 0.8 lc rgb '#b0b0b0' t 'profile: no SubGraph resident', \\\n"
                           "  $none_front u 1:2 w l lw 1.5 dt 2 lc rgb '#909090' t 'front, no SubGraph', \\\n"
                           "  $own u 1:2 w p pt 4 ps 0.8 lc rgb '#404040' t 'profile: own SubGraph resident', \\\n"
                           "  $own_front u 1:2 w l lw 1.5 lc rgb '#202020' t 'front, own SubGraph', \\\n  ");
    {
        const char *seen[MAX_GROUPS];
        size_t ns = 0, k;
        for (i = 0; i < rp->n; ++i) {
            const rinfo *ri = &rp->r[i];
            int first = 1;
            if (!ri->plotted || strcmp(sn_rundir_platform(&ri->run), platform))
                continue;
            for (k = 0; k < ns; ++k)
                if (!strcmp(seen[k], ri->policy_key))
                    first = 0;
            if (first && ns < MAX_GROUPS)
                seen[ns++] = ri->policy_key;
            sn_text_printf(&t, "$served%zu u 1:2 w p pt 7 ps 0.9 lc rgb '%s' %s%s%s, \\\n  ", i,
                           policy_color(ri->policy_key), first ? "t 'served: " : "notitle",
                           first ? gp(ri->policy_key, e, sizeof e) : "", first ? "'" : "");
        }
    }
    sn_text_printf(&t, "NaN notitle\n");
    snprintf(title, sizeof title, "Latency-accuracy Pareto front, %s", platform);
    snprintf(caption, sizeof caption,
             "Top-1 (accuracy table, measured on the %s) against latency. "
             "Grey circles and the dashed front: every Pareto SubNet with no SubGraph resident; black "
             "squares and the solid front: with its own SubGraph resident (%s: %s%s). "
             "Coloured dots: the SubNets each policy actually served, at the median service time (start to "
             "end, queueing excluded) of the queries it served them for (%s: %s), across every trace "
             "of this platform.", rp->split_sized,
             /* the FPGA platform's profile and clock are its cycle model's, not measurements */
             !strcmp(platform, "fpga") ? "profile, model: fpga cycle model" : "profile p50, measured",
             have_front ? prof_path : "no profile found",
             have_front && strcmp(platform, "fpga") ? ", clock_gettime(CLOCK_MONOTONIC)" : "",
             !strncmp(clock, "virtual:modelled", 16) || !strncmp(clock, "virtual:fpga", 12) ? "model" : "measured",
             clock);
    rc = draw(rp, &t, name, title, caption);
    sn_text_free(&t);
    return rc;
}

/* The latency ceilings of a trace file: distinct levels (at most 8), else the quartiles. */
static size_t ceilings_of(const rinfo *ri, double *out, size_t max)
{
    char path[1200], err[256];
    sn_trace tr;
    size_t i, j, k = 0, with = 0;
    double *all;
    if (!sn_rundir_trace_path(&ri->run, path, sizeof path) ||
        sn_trace_load(path, SN_TRACE_MAX_COUNT, &tr, err, sizeof err) != SN_TRACE_OK)
        return 0;
    all = malloc((tr.count + 1) * sizeof *all);
    if (!all) {
        sn_trace_free(&tr);
        return 0;
    }
    for (i = 0; i < tr.count; ++i)
        if (sn_trace_has_ceiling(&tr, i))
            all[with++] = (double)tr.lat_ceiling_us[i];
    sn_trace_free(&tr);
    sn_stats_sort(all, with);
    for (i = 0; i < with; ++i) {
        for (j = 0; j < k && out[j] != all[i]; ++j)
            ;
        if (j == k) {
            if (k == max) {
                k = 0;
                break;
            }
            out[k++] = all[i];
        }
    }
    if (with && k == 0) { /* too many levels: quartiles */
        static const int q[3] = {250, 500, 750};
        for (i = 0; i < 3 && i < max; ++i)
            out[k++] = sn_stats_percentile(all, with, q[i]);
    }
    free(all);
    return k;
}

static int plot_cdf(report *rp, const char *trace)
{
    sn_text t = {0};
    char name[96], title[256], caption[2048], e[600], clock[200] = "?";
    double ceil[8], lo = INFINITY, hi = -INFINITY;
    size_t i, j, nc = 0;
    int rc, first_run = -1;
    snprintf(name, sizeof name, "cdf-");
    safe_name(trace, name + 4, sizeof name - 4);
    preamble(&t, rp, name, 960, 520);
    for (i = 0; i < rp->n; ++i)
        if (rp->r[i].plotted && !strcmp(rp->r[i].run.trace_name, trace)) {
            if (first_run < 0) {
                first_run = (int)i;
                nc = ceilings_of(&rp->r[i], ceil, 8);
                snprintf(clock, sizeof clock, "%s", sn_rundir_clock(&rp->r[i].run));
            }
        }
    for (i = 0; i < rp->n; ++i) { /* the x range, shared with the SLO axis on top */
        const rinfo *ri = &rp->r[i];
        size_t k;
        if (!ri->plotted || strcmp(ri->run.trace_name, trace))
            continue;
        for (k = 0; k < ri->run.count; ++k) {
            double v = (double)ri->run.q[k].latency_ns / 1e3;
            lo = fmin(lo, v > 0.001 ? v : 0.001);
            hi = fmax(hi, v);
        }
    }
    for (j = 0; j < nc; ++j) {
        lo = fmin(lo, ceil[j]);
        hi = fmax(hi, ceil[j]);
    }
    if (!(lo < hi)) {
        lo = 1.0;
        hi = 1e6;
    }
    lo /= 1.25;
    hi *= 1.25;
    sn_text_printf(&t, "set xrange [%g:%g]\n", lo, hi);
    sn_text_printf(&t, "set title \"%s: latency CDF per policy\"%s\n", gp(trace, e, sizeof e),
                   nc ? " offset 0,1" : "");
    sn_text_printf(&t, "set logscale x\nset xlabel \"latency, us (arrival to result, queueing included; %s)\"\n"
                       "set ylabel \"fraction of queries\"\nset yrange [0:1.0]\nset key inside right bottom\n",
                   clock_kind(clock));
    for (j = 0; j < nc; ++j)
        sn_text_printf(&t, "set arrow from %.0f, graph 0 to %.0f, graph 1 nohead dt 2 lw 1.2 lc rgb '#cc0000'\n",
                       ceil[j], ceil[j]);
    if (nc) { /* the ceilings as labelled ticks on the top axis */
        sn_text_printf(&t, "set x2range [%g:%g]\nset logscale x2\n"
                           "set x2tics out nomirror textcolor rgb '#cc0000' font ',9' (", lo, hi);
        for (j = 0; j < nc; ++j)
            sn_text_printf(&t, "%s\"%.0f\" %.0f", j ? ", " : "", ceil[j], ceil[j]);
        sn_text_printf(&t, ")\nset x2label \"SLO: latency ceilings of the trace, us\" textcolor rgb '#cc0000'\n");
    }
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        double *lat;
        size_t k, m;
        if (!ri->plotted || strcmp(ri->run.trace_name, trace) || ri->run.count == 0)
            continue;
        lat = malloc(ri->run.count * sizeof *lat);
        if (!lat)
            continue;
        for (k = 0; k < ri->run.count; ++k)
            lat[k] = (double)ri->run.q[k].latency_ns / 1e3;
        sn_stats_sort(lat, ri->run.count);
        m = ri->run.count;
        sn_text_printf(&t, "$cdf%zu << EOD\n", i);
        for (k = 0; k < (m < CDF_POINTS ? m : CDF_POINTS); ++k) {
            size_t idx = m <= CDF_POINTS ? k : (size_t)((double)k * (double)(m - 1) / (CDF_POINTS - 1));
            sn_text_printf(&t, "%.3f %.5f\n", lat[idx] > 0.001 ? lat[idx] : 0.001, (double)(idx + 1) / (double)m);
        }
        sn_text_printf(&t, "EOD\n");
        free(lat);
    }
    sn_text_printf(&t, "plot ");
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        if (!ri->plotted || strcmp(ri->run.trace_name, trace) || ri->run.count == 0)
            continue;
        sn_text_printf(&t, "$cdf%zu u 1:2 w steps lw 2 lc rgb '%s' t \"%s\", \\\n  ", i,
                       policy_color(ri->policy_key), gp(ri->label, e, sizeof e));
    }
    sn_text_printf(&t, "NaN notitle\n");
    snprintf(title, sizeof title, "Latency CDF per policy, trace %s", trace);
    if (nc)
        snprintf(caption, sizeof caption,
                 "Cumulative distribution of per-query latency (scheduled arrival to result, queueing "
                 "included) on trace %s; %s figures (clock: %s). Dashed red lines: the trace's latency "
                 "ceilings (SLOs)%s; a query meets its SLO when its latency is left of its own ceiling and "
                 "the SubNet served meets its accuracy floor.",
                 trace, clock_kind(clock), clock, nc == 3 ? " (quartiles of its many ceilings)" : "");
    else
        snprintf(caption, sizeof caption,
                 "Cumulative distribution of per-query latency (scheduled arrival to result, queueing "
                 "included) on trace %s; %s figures (clock: %s). The trace carries no latency ceiling (or "
                 "its file is gone): no SLO line.", trace, clock_kind(clock), clock);
    rc = draw(rp, &t, name, title, caption);
    sn_text_free(&t);
    return rc;
}

static int plot_accuracy_slo(report *rp)
{
    static const int pts[] = {7, 5, 9, 11, 13, 15};
    sn_text t = {0};
    const char *traces[MAX_GROUPS], *seen[MAX_GROUPS];
    char e[600], caption[2048];
    size_t nt = distinct(rp, key_trace, traces, MAX_GROUPS), i, k, ns = 0;
    int rc;
    preamble(&t, rp, "accuracy-slo", 960, 520);
    sn_text_printf(&t, "set title \"Served accuracy vs SLO attainment, per policy\"\n"
                       "set xlabel \"SLO attainment, %% of queries\"\n"
                       "set ylabel \"served accuracy, %% (accuracy table: %s)\"\n"
                       "set xrange [-2:102]\nset offsets 0, 0, 0.2, 0.2\n", gp(rp->split, e, sizeof e));
    sn_text_printf(&t, "$points << EOD\n");
    for (i = 0; i < rp->n; ++i) {
        const sn_figure *a = sn_figures_find(&rp->r[i].fs, "served_accuracy");
        const sn_figure *s = sn_figures_find(&rp->r[i].fs, "slo_attainment");
        sn_text_printf(&t, "%.4f %.4f\n", rp->r[i].plotted && s ? 100.0 * s->value : (double)NAN,
                       rp->r[i].plotted && a ? 100.0 * a->value : (double)NAN);
    }
    sn_text_printf(&t, "EOD\nplot ");
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        for (k = 0; k < nt && strcmp(traces[k], ri->run.trace_name); ++k)
            ;
        if (!ri->plotted)
            continue;
        sn_text_printf(&t, "$points every ::%zu::%zu u 1:2 w p pt %d ps 1.6 lc rgb '%s' notitle, \\\n  ", i, i,
                       pts[k % 6], policy_color(ri->policy_key));
    }
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        int first = 1;
        if (!ri->plotted)
            continue;
        for (k = 0; k < ns; ++k)
            if (!strcmp(seen[k], ri->policy_key))
                first = 0;
        if (!first || ns == MAX_GROUPS)
            continue;
        seen[ns++] = ri->policy_key;
        sn_text_printf(&t, "NaN w p pt 7 ps 1.6 lc rgb '%s' t \"%s\", \\\n  ", policy_color(ri->policy_key),
                       gp(ri->policy_key, e, sizeof e));
    }
    for (k = 0; k < nt; ++k)
        sn_text_printf(&t, "NaN w p pt %d ps 1.6 lc rgb '#000000' t \"trace %s\", \\\n  ", pts[k % 6],
                       gp(traces[k], e, sizeof e));
    sn_text_printf(&t, "NaN notitle\n");
    snprintf(caption, sizeof caption,
             "One point per run: the share of queries that met their SLO (accuracy floor against the "
             "accuracy table; latency ceiling against the measured latency) against the mean top-1 of the "
             "SubNets served (accuracy table, measured on the %s). Colour: policy; marker: "
             "trace. Upper right is better.", rp->split);
    rc = draw(rp, &t, "accuracy-slo", "Served accuracy vs SLO attainment", caption);
    sn_text_free(&t);
    return rc;
}

static int plot_timeline(report *rp, const char *trace)
{
    sn_text t = {0};
    char name[96], title[256], caption[2048], e[600];
    const rinfo *ri = NULL;
    size_t i, m, head = 0, switches = 0;
    double lo = INFINITY, hi = -INFINITY, t0;
    int rc;
    for (i = 0; i < rp->n; ++i)
        if (rp->r[i].plotted && !strcmp(rp->r[i].run.trace_name, trace) && rp->r[i].run.count &&
            (!ri || (!strcmp(rp->r[i].policy_key, "sushi") && strcmp(ri->policy_key, "sushi"))))
            ri = &rp->r[i];
    if (!ri)
        return 0;
    snprintf(name, sizeof name, "timeline-");
    safe_name(trace, name + 9, sizeof name - 9);
    m = ri->run.count < TIMELINE_QUERIES ? ri->run.count : TIMELINE_QUERIES;
    t0 = (double)ri->run.q[0].arrival_ns;
    preamble(&t, rp, name, 960, 640);
    sn_text_printf(&t, "$served << EOD\n");
    for (i = 0; i < m; ++i) {
        const sn_rundir_query *q = &ri->run.q[i];
        double a = q->table_accuracy;
        if (!isnan(a)) {
            lo = fmin(lo, 100.0 * a);
            hi = fmax(hi, 100.0 * a);
        }
        sn_text_printf(&t, "%.3f %.4f\n", ((double)q->arrival_ns - t0) / 1e6, 100.0 * a);
    }
    sn_text_printf(&t, "EOD\n$subgraph << EOD\n");
    for (i = 0; i < m; ++i) {
        const sn_rundir_query *q = &ri->run.q[i];
        double a = q->subgraph >= 0 ? acc_lookup(rp, ri->run.names[q->subgraph]) : (double)NAN;
        if (!isnan(a)) {
            lo = fmin(lo, 100.0 * a);
            hi = fmax(hi, 100.0 * a);
        }
        sn_text_printf(&t, "%.3f %.4f\n", ((double)q->arrival_ns - t0) / 1e6, 100.0 * a);
    }
    if (!(lo < hi)) {
        lo = isfinite(lo) ? lo - 1.0 : 80.0;
        hi = isfinite(hi) ? hi + 1.0 : 95.0;
    }
    lo -= 0.3;
    hi += 0.3;
    sn_text_printf(&t, "EOD\n$switches << EOD\n");
    for (i = 1; i < m; ++i)
        if (ri->run.q[i].subgraph != ri->run.q[i - 1].subgraph) {
            sn_text_printf(&t, "%.3f %.4f\n", ((double)ri->run.q[i].arrival_ns - t0) / 1e6, hi);
            ++switches;
        }
    sn_text_printf(&t, "%s\nEOD\n$queue << EOD\n", switches ? "" : "NaN NaN");
    /* queries in the system (arrived, not finished) when query i arrives: one FIFO server */
    for (i = 0; i < m; ++i) {
        while (head < i && ri->run.q[head].end_ns <= ri->run.q[i].arrival_ns)
            ++head;
        sn_text_printf(&t, "%.3f %zu\n", ((double)ri->run.q[i].arrival_ns - t0) / 1e6, i - head);
    }
    sn_text_printf(&t, "EOD\n");
    sn_text_printf(&t, "set xrange [0:%.3f]\n",
                   fmax(((double)ri->run.q[m - 1].end_ns - t0) / 1e6, 1e-3));
    sn_text_printf(&t, "set multiplot layout 2,1 title \"%s: %s run, first %zu of %zu queries\"\n",
                   gp(trace, e, sizeof e), ri->policy_key, m, ri->run.count);
    sn_text_printf(&t, "set lmargin 12\nset rmargin 30\nset key outside right top\n"
                       "set ylabel \"top-1, %%\"\nset format x ''\nset yrange [%.2f:%.2f]\n", lo, hi);
    sn_text_printf(&t, "plot $served u 1:2 w p pt 7 ps 0.35 lc rgb '%s' t 'SubNet served', \\\n"
                       "  $subgraph u 1:2 w steps lw 2 lc rgb '#1f77b4' t 'SubGraph resident', \\\n"
                       "  $switches u 1:2 w impulses lw 1 lc rgb '#cc0000' t 'SubGraph switch'\n",
                   policy_color(ri->policy_key));
    sn_text_printf(&t, "set format x '%%g'\nset xlabel \"time since the first arrival, ms (%s)\"\n"
                       "set ylabel \"queue length\"\nset autoscale y\nset yrange [0:*]\n"
                       "plot $queue u 1:2 w steps lw 1.2 lc rgb '#505050' t 'queries in the system at arrival'\n"
                       "unset multiplot\n", clock_kind(sn_rundir_clock(&ri->run)));
    snprintf(title, sizeof title, "Timeline, trace %s (%s)", trace, ri->policy_key);
    snprintf(caption, sizeof caption,
             "Run %s (%s policy), the first %zu of its %zu queries. Top: the top-1 (accuracy table) of the "
             "SubNet served for each query (dots) and of the SubGraph resident in near memory (line); red "
             "impulses mark SubGraph switches (%zu in this window). Bottom: the queue length each query "
             "found on arrival (queries arrived and not yet finished, the one in service included), derived "
             "from queries.csv (arrival and end times; %s clock: %s).",
             ri->run.name, ri->policy_key, m, ri->run.count, switches, clock_kind(sn_rundir_clock(&ri->run)),
             sn_rundir_clock(&ri->run));
    rc = draw(rp, &t, name, title, caption);
    sn_text_free(&t);
    return rc;
}

static int plot_energy(report *rp, const char *trace)
{
    sn_text t = {0};
    char name[96], title[256], caption[2048], e[600], sources[1024] = "";
    size_t i, rows = 0;
    int rc, measured = 0, modelled = 0;
    snprintf(name, sizeof name, "energy-");
    safe_name(trace, name + 7, sizeof name - 7);
    preamble(&t, rp, name, 960, 520);
    sn_text_printf(&t, "$energy << EOD\n");
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(ri->run.summary, "energy");
        const char *src = sn_rundir_str(en, "source");
        double q = sn_rundir_num(ri->run.summary, "queries");
        if (!ri->plotted || strcmp(ri->run.trace_name, trace) || !src || !(q > 0))
            continue;
        if (!strstr(sources, src) && strlen(sources) + strlen(src) + 4 < sizeof sources) {
            if (sources[0])
                strcat(sources, "; ");
            strcat(sources, src);
        }
        if (!strcmp(energy_kind(src), "model")) {
            ++modelled;
            sn_text_printf(&t, "\"%s\" %.4f %.4f %.4f NaN\n", gp(ri->label, e, sizeof e),
                           sn_rundir_num(en, "domains_uj.compute") / q, sn_rundir_num(en, "domains_uj.far") / q,
                           sn_rundir_num(en, "domains_uj.near") / q);
        } else {
            ++measured;
            sn_text_printf(&t, "\"%s\" NaN NaN NaN %.4f\n", gp(ri->label, e, sizeof e),
                           sn_rundir_num(en, "total_uj") / q);
        }
        ++rows;
    }
    sn_text_printf(&t, "EOD\n");
    if (!rows) {
        sn_text_free(&t);
        return 0;
    }
    sn_text_printf(&t, "set title \"%s: energy per query\"\nset style data histograms\n"
                       "set style histogram rowstacked\nset style fill solid 0.85 border rgb '#303030'\n"
                       "set boxwidth 0.7\nset xtics rotate by -30 left\nset yrange [0:*]\n"
                       "set ylabel \"uJ per query (%s)\"\nset key outside right top\n",
                   gp(trace, e, sizeof e), modelled && measured ? "model and measured" : modelled ? "model" : "measured");
    if (modelled)
        sn_text_printf(&t, "plot $energy u 2:xtic(1) t 'compute (MACs)' lc rgb '#4c72b0', \\\n"
                           "  '' u 3 t 'far-memory movement' lc rgb '#dd8452', \\\n"
                           "  '' u 4 t 'near-memory reads' lc rgb '#55a868'%s\n",
                       measured ? ", \\\n  '' u 5 t 'measured total (not split)' lc rgb '#8172b3'" : "");
    else
        sn_text_printf(&t, "plot $energy u 5:xtic(1) t 'measured total (not split)' lc rgb '#8172b3'\n");
    snprintf(title, sizeof title, "Energy per query, trace %s", trace);
    snprintf(caption, sizeof caption,
             "Energy per query of each run on trace %s, split into compute (MACs) and weight movement "
             "from far memory and reads from near memory where the energy source is a model (the split "
             "is the model's domains: E = e_mac * MACs + e_far * far bytes + e_near * near bytes); a "
             "measured source (RAPL) gives the measured total only, not split. Source%s: %s.",
             trace, strchr(sources, ';') ? "s" : "", sources);
    rc = draw(rp, &t, name, title, caption);
    sn_text_free(&t);
    return rc;
}

/* ---- the reproduction table ----------------------------------------------------------- */
typedef struct claim_row {
    char paper[64], claim[256], experiment[512], figure[1024], source[256];
} claim_row;

static const rinfo *find_run(const report *rp, const char *trace, const char *policy, const char *platform)
{
    size_t i;
    for (i = 0; i < rp->n; ++i)
        if (rp->r[i].plotted && !strcmp(rp->r[i].run.trace_name, trace) &&
            !strcmp(rp->r[i].policy_key, policy) && !strcmp(sn_rundir_platform(&rp->r[i].run), platform))
            return &rp->r[i];
    return NULL;
}

static double fig(const rinfo *r, const char *name)
{
    const sn_figure *f = sn_figures_find(&r->fs, name);
    return f ? f->value : (double)NAN;
}

/* Figure NAME of POLICY on TRACE and PLATFORM: the mean over its runs (repetitions) that
 * recorded it, as the answer table's means; NaN when none did. */
static double mean_fig(const report *rp, const char *trace, const char *policy, const char *platform,
                       const char *name)
{
    double sum = 0.0, v;
    size_t i, k = 0;
    for (i = 0; i < rp->n; ++i)
        if (rp->r[i].plotted && !strcmp(rp->r[i].run.trace_name, trace) && !strcmp(rp->r[i].policy_key, policy) &&
            !strcmp(sn_rundir_platform(&rp->r[i].run), platform) && !isnan(v = fig(&rp->r[i], name))) {
            sum += v;
            ++k;
        }
    return k ? sum / (double)k : (double)NAN;
}

/* A claim's figure on one trace: 1 - sushi / nocache of figure NAME (a reduction), or
 * sushi - nocache (a difference), each side its mean over its repetitions. */
typedef struct claim_figure {
    const char *name;
    int difference;
} claim_figure;

static const claim_figure lat_mean_reduction = {"latency_mean_us", 0}, lat_p50_reduction = {"latency_us", 0},
                          lat_p99_reduction = {"latency_p99_us", 0}, acc_gain = {"served_accuracy", 1},
                          far_energy_saving = {"energy_far_uj", 0};

/* Appends "trace: value" items and returns the best (largest) value. */
static double per_trace(const report *rp, const char *platform, char *list, size_t n,
                        const claim_figure *cf, const char *unit, int decimals, char *best_trace,
                        size_t bt_bytes)
{
    const char *traces[MAX_GROUPS];
    size_t nt = distinct(rp, key_trace, traces, MAX_GROUPS), k;
    double best = (double)NAN;
    list[0] = '\0';
    for (k = 0; k < nt; ++k) {
        char item[200];
        double s, c, v;
        if (!find_run(rp, traces[k], "sushi", platform) || !find_run(rp, traces[k], "nocache", platform))
            continue;
        s = mean_fig(rp, traces[k], "sushi", platform, cf->name);
        c = mean_fig(rp, traces[k], "nocache", platform, cf->name);
        v = cf->difference ? s - c : 1.0 - s / c;
        snprintf(item, sizeof item, "%s%s %+.*f%s", list[0] ? "; " : "", traces[k], decimals, 100.0 * v, unit);
        if (strlen(list) + strlen(item) + 1 < n)
            strcat(list, item);
        if (!isnan(v) && (isnan(best) || v > best)) {
            best = v;
            snprintf(best_trace, bt_bytes, "%s", traces[k]);
        }
    }
    return best;
}

static size_t reproduction(const report *rp, claim_row *rows, size_t max)
{
    const char *platforms[MAX_GROUPS];
    size_t np = distinct(rp, key_platform, platforms, MAX_GROUPS), k, n = 0;
    const char *src_sushi = "Behnam, Tong et al., SubGraph Stationary Hardware-Software Inference "
                            "Co-Design (SUSHI), MLSys 2023, abstract";
    for (k = 0; k < np && n + 3 <= max; ++k) {
        char l1[600], l2[600], l3[600], bt[128] = "", clock[160];
        double b1, b2, b3, bp50, bp99;
        const rinfo *any = NULL;
        size_t i;
        for (i = 0; i < rp->n && !any; ++i)
            if (rp->r[i].plotted && !strcmp(sn_rundir_platform(&rp->r[i].run), platforms[k]))
                any = &rp->r[i];
        snprintf(clock, sizeof clock, "%s", any ? sn_rundir_clock(&any->run) : "?");
        b1 = per_trace(rp, platforms[k], l1, sizeof l1, &lat_mean_reduction, " %", 1, bt, sizeof bt);
        {
            char dummy[600], bt2[128];
            bp50 = per_trace(rp, platforms[k], dummy, sizeof dummy, &lat_p50_reduction, " %", 1, bt2, sizeof bt2);
            bp99 = per_trace(rp, platforms[k], dummy, sizeof dummy, &lat_p99_reduction, " %", 1, bt2, sizeof bt2);
        }
        snprintf(rows[n].paper, sizeof rows[n].paper, "SUSHI");
        snprintf(rows[n].claim, sizeof rows[n].claim, "\"up to 25%% improvement in latency\"");
        snprintf(rows[n].experiment, sizeof rows[n].experiment,
                 "%s: sushi vs nocache (no SubGraph cached), same trace: 1 - latency(sushi) / latency(nocache)",
                 platforms[k]);
        if (isnan(b1))
            snprintf(rows[n].figure, sizeof rows[n].figure, "not run (needs a sushi and a nocache run of one trace)");
        else
            snprintf(rows[n].figure, sizeof rows[n].figure,
                     "up to %.1f %% on mean latency (trace %s); best p50 %.1f %%, best p99 %.1f %%; mean per "
                     "trace: %s",
                     100.0 * b1, bt, 100.0 * bp50, 100.0 * bp99, l1);
        snprintf(rows[n].source, sizeof rows[n].source, "%s (%s)", clock_kind(clock), clock);
        ++n;
        b2 = per_trace(rp, platforms[k], l2, sizeof l2, &acc_gain, " pt", 2, bt, sizeof bt);
        snprintf(rows[n].paper, sizeof rows[n].paper, "SUSHI");
        snprintf(rows[n].claim, sizeof rows[n].claim, "\"0.98%% increase in served accuracy\"");
        snprintf(rows[n].experiment, sizeof rows[n].experiment,
                 "%s: served accuracy of sushi minus nocache's, same trace and constraints", platforms[k]);
        if (isnan(b2))
            snprintf(rows[n].figure, sizeof rows[n].figure, "not run");
        else
            snprintf(rows[n].figure, sizeof rows[n].figure, "up to %+.2f points (trace %s); per trace: %s", 100.0 * b2,
                     bt, l2);
        snprintf(rows[n].source, sizeof rows[n].source, "measured: accuracy table (%s)", rp->split);
        ++n;
        b3 = per_trace(rp, platforms[k], l3, sizeof l3, &far_energy_saving, " %", 1, bt, sizeof bt);
        snprintf(rows[n].paper, sizeof rows[n].paper, "SUSHI");
        snprintf(rows[n].claim, sizeof rows[n].claim, "\"up to 78.7%% off-chip energy savings\"");
        snprintf(rows[n].experiment, sizeof rows[n].experiment,
                 "%s: far-memory (off-chip) energy of sushi vs nocache: 1 - E_far(sushi) / E_far(nocache)",
                 platforms[k]);
        if (isnan(b3))
            snprintf(rows[n].figure, sizeof rows[n].figure, "not run (or the energy source is not split)");
        else
            snprintf(rows[n].figure, sizeof rows[n].figure, "up to %.1f %% (trace %s); per trace: %s", 100.0 * b3, bt,
                     l3);
        {
            const rinfo *s = NULL;
            for (i = 0; i < rp->n && !s; ++i)
                if (rp->r[i].plotted && !strcmp(rp->r[i].policy_key, "sushi") &&
                    !strcmp(sn_rundir_platform(&rp->r[i].run), platforms[k]))
                    s = &rp->r[i];
            snprintf(rows[n].source, sizeof rows[n].source, "%s",
                     s ? (sn_figures_find(&s->fs, "energy_far_uj") ? sn_figures_find(&s->fs, "energy_far_uj")->source
                                                                   : "?")
                       : "-");
        }
        ++n;
        (void)src_sushi;
    }
    return n;
}

/* NeuLens's claims beside the ARAC benchmark's headline (arac.json), or "not run". */
static size_t neulens_rows(const report *rp, claim_row *rows, size_t max)
{
    char path[1200];
    void *text;
    size_t size, n = 0;
    cJSON *j = NULL;
    const char *lat_src = "-";
    if (max < 2)
        return 0;
    if (rp->o->arac_dir) {
        snprintf(path, sizeof path, "%s/arac.json", rp->o->arac_dir);
        if (sn_read_file(path, &text, &size) == 0) {
            j = cJSON_ParseWithLength(text, size);
            free(text);
        }
    }
    if (j)
        lat_src = sn_rundir_str(j, "latency") ? sn_rundir_str(j, "latency") : "?";
    snprintf(rows[n].paper, sizeof rows[n].paper, "NeuLens");
    snprintf(rows[n].claim, sizeof rows[n].claim, "\"up to 58%% latency reduction with the same accuracy\"");
    snprintf(rows[n].experiment, sizeof rows[n].experiment,
             "ARAC (gate) vs the untiled Pareto SubNets and vs SubNets on downsampled inputs: for each ARAC "
             "point, 1 - p50 / p50 of the fastest baseline at least as accurate (the ARAC benchmark's "
             "arac.json)");
    snprintf(rows[n + 1].paper, sizeof rows[n + 1].paper, "NeuLens");
    snprintf(rows[n + 1].claim, sizeof rows[n + 1].claim,
             "\"up to 67.9%% accuracy improvement under the same latency/memory constraints\"");
    snprintf(rows[n + 1].experiment, sizeof rows[n + 1].experiment,
             "the same points: top-1 gain over the most accurate baseline no slower (relative to its top-1)");
    if (!j) {
        snprintf(rows[n].figure, sizeof rows[n].figure, "not run%s%s",
                 rp->o->arac_dir ? ": no arac.json in " : " (supernav report --arac results/arac/<run>)",
                 rp->o->arac_dir ? rp->o->arac_dir : "");
        snprintf(rows[n + 1].figure, sizeof rows[n + 1].figure, "not run");
        snprintf(rows[n].source, sizeof rows[n].source, "-");
        snprintf(rows[n + 1].source, sizeof rows[n + 1].source, "-");
        return 2;
    }
    {
        double ul = sn_rundir_num(j, "headline.untiled.max_latency_reduction");
        double us = sn_rundir_num(j, "headline.untiled.signed_best_latency_reduction");
        double dl = sn_rundir_num(j, "headline.downsampled.max_latency_reduction");
        double ds = sn_rundir_num(j, "headline.downsampled.signed_best_latency_reduction");
        double ua = sn_rundir_num(j, "headline.untiled.max_accuracy_gain_relative");
        double uap = sn_rundir_num(j, "headline.untiled.signed_best_accuracy_gain_points");
        double da = sn_rundir_num(j, "headline.downsampled.max_accuracy_gain_relative");
        double dap = sn_rundir_num(j, "headline.downsampled.signed_best_accuracy_gain_points");
        char a[200], b[200];
        /* none positive: the best signed figure; no comparable point at all (null): says so */
        if (!isnan(ul))
            snprintf(a, sizeof a, "up to %.1f %%", 100.0 * ul);
        else
            snprintf(a, sizeof a, isnan(us) ? "none (no point reaches a baseline's top-1)" : "none (best signed %+.1f %%)",
                     100.0 * us);
        if (!isnan(dl))
            snprintf(b, sizeof b, "up to %.1f %%", 100.0 * dl);
        else
            snprintf(b, sizeof b, isnan(ds) ? "none (no point reaches a baseline's top-1)" : "none (best signed %+.1f %%)",
                     100.0 * ds);
        snprintf(rows[n].figure, sizeof rows[n].figure, "vs untiled SubNets: %s; vs downsampled inputs: %s", a, b);
        if (!isnan(ua))
            snprintf(a, sizeof a, "up to %.1f %% relative", 100.0 * ua);
        else
            snprintf(a, sizeof a, isnan(uap) ? "none (no point is as fast as a baseline)" : "none (best signed %+.2f points)",
                     uap);
        if (!isnan(da))
            snprintf(b, sizeof b, "up to %.1f %% relative (%+.2f points)", 100.0 * da, dap);
        else
            snprintf(b, sizeof b, isnan(dap) ? "none (no point is as fast as a baseline)" : "none (best signed %+.2f points)",
                     dap);
        snprintf(rows[n + 1].figure, sizeof rows[n + 1].figure, "vs untiled SubNets: %s; vs downsampled inputs: %s",
                 a, b);
        snprintf(rows[n].source, sizeof rows[n].source, "measured: %.200s", lat_src);
        snprintf(rows[n + 1].source, sizeof rows[n + 1].source, "measured: top-1 on the %.48s; %.170s", rp->split,
                 lat_src);
    }
    cJSON_Delete(j);
    return 2;
}

/* ---- the documents --------------------------------------------------------------------- */
/* The name of a source without its constants: "model:horowitz45-fp32". */
static void short_source(const char *src, char *buf, size_t n)
{
    const char *paren = strchr(src, '(');
    size_t len = paren ? (size_t)(paren - src) : strlen(src);
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), src);
}

/* One line per trace (and platform): can its policies be told apart (sn_validity.h)? The
 * policies' SLO attainments are means over their repetitions (the groups' means). */
static void validity_rows(const report *rp, sn_text *md, sn_text *html)
{
    size_t gi, k;
    sn_text_printf(html, "<ul class=\"validity\">\n");
    for (gi = 0; gi < rp->group_count; ++gi) {
        const group *g = &rp->groups[gi];
        double slo[MAX_GROUPS], lo = INFINITY, hi = -INFINITY;
        size_t npol = 0;
        char why[256], reasons[640], line[1400];
        int bad;
        for (k = 0; k < g->npol; ++k) {
            if (!g->pol[k].nv[FIG_SLO])
                continue;
            slo[npol] = 100.0 * g->pol[k].mean[FIG_SLO];
            lo = slo[npol] < lo ? slo[npol] : lo;
            hi = slo[npol] > hi ? slo[npol] : hi;
            ++npol;
        }
        if (!npol)
            continue;
        bad = sn_validity_judge(slo, npol, why, sizeof why);
        sn_validity_reasons(g->feasibility, reasons, sizeof reasons);
        snprintf(line, sizeof line, "%s on %s: %s%s%sSLO attainment %.1f-%.1f %% over %zu policies; %s",
                 g->trace, g->platform, bad ? "DEGENERATE: " : "VALID: ", bad ? why : "", bad ? "; " : "",
                 lo, hi, npol, reasons);
        sn_text_printf(md, "* %s\n", line);
        sn_text_printf(html, "<li class=\"%s\">", bad ? "degenerate" : "valid");
        html_escaped(html, line);
        sn_text_printf(html, "</li>\n");
    }
    sn_text_printf(html, "</ul>\n");
}

/* ---- the answer: each policy beside the best other policy, per trace and platform ------ */
#define ANSWER_ALPHA 0.05

/* The words of the answer's captions: "modelled" for a model's figure, else the kind. */
static const char *kind_word(const char *kind)
{
    return !strcmp(kind, "model") ? "modelled" : kind;
}

/* The other policy of G that is best on figure F (by the figure's direction): its index, or
 * -1 when no other policy recorded F. The first of equals wins. */
static int best_other(const group *g, size_t k, size_t f)
{
    size_t j;
    int best = -1;
    for (j = 0; j < g->npol; ++j) {
        double v = g->pol[j].mean[f], b;
        if (j == k || isnan(v))
            continue;
        if (best < 0) {
            best = (int)j;
            continue;
        }
        b = g->pol[best].mean[f];
        if (g->pol[j].better[f] == SN_BETTER_LOWER ? v < b : v > b)
            best = (int)j;
    }
    return best;
}

/* A figure's mean as the runs table prints it: a fraction in %, energy in uJ. */
static void fmt_answer_value(char *buf, size_t n, size_t f, double v)
{
    if (f == FIG_ENERGY)
        fmt_num(buf, n, 2, v);
    else
        fmt_pct(buf, n, v);
}

/* P minus Q on figure F: points for fractions, uJ and relative for energy. */
static void fmt_answer_diff(char *buf, size_t n, size_t f, double d, double q)
{
    if (isnan(d))
        snprintf(buf, n, "-");
    else if (f != FIG_ENERGY)
        snprintf(buf, n, "%+.2f pt", 100.0 * d);
    else if (q != 0.0)
        snprintf(buf, n, "%+.2f (%+.1f %%)", d, 100.0 * d / q);
    else
        snprintf(buf, n, "%+.2f", d);
}

/* Is P's figure F told apart from Q's? The Mann-Whitney U test over their runs when each has
 * at least two; never a p-value from one run. *PV: the p-value, or NaN. */
static void fmt_significance(char *buf, size_t n, const pstat *p, const pstat *q, size_t f, double *pv)
{
    sn_mwu u;
    *pv = (double)NAN;
    if (p->nv[f] < 2)
        snprintf(buf, n, "1 run: no significance");
    else if (q->nv[f] < 2)
        snprintf(buf, n, "1 run: no significance (%s has 1 run)", q->policy);
    else if (sn_stats_mann_whitney(p->v[f], p->nv[f], q->v[f], q->nv[f], &u) != 0)
        snprintf(buf, n, "-");
    else {
        *pv = u.p;
        snprintf(buf, n, "%s: p %s %.3f (U test, %zu vs %zu runs)",
                 u.p < ANSWER_ALPHA ? "significant" : "not significant", u.p < 0.001 ? "<" : "=",
                 u.p < 0.001 ? 0.001 : u.p, p->nv[f], q->nv[f]);
    }
}

/* The caption of group G's table: the trace and platform, and what each figure is, labelled
 * as the runs record it (context.json clock, summary.json energy.source). */
static void answer_caption(const report *rp, const group *g, char *buf, size_t n)
{
    char clocks[1024] = "", energy[1024] = "", item[400];
    const char *slo_src = NULL, *kinds[3];
    size_t i, nk = 0, k;
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        const char *clock, *kind;
        const sn_figure *e;
        if (!ri->plotted || strcmp(key_trace(ri), g->trace) || strcmp(key_platform(ri), g->platform))
            continue;
        clock = sn_rundir_clock(&ri->run);
        kind = kind_word(clock_kind(clock));
        if (!slo_src && sn_figures_find(&ri->fs, "slo_attainment"))
            slo_src = sn_figures_find(&ri->fs, "slo_attainment")->source;
        for (k = 0; k < nk && strcmp(kinds[k], kind); ++k)
            ;
        if (k == nk && nk < 3)
            kinds[nk++] = kind;
        snprintf(item, sizeof item, "%s (latency by the clock %s)", kind, clock);
        if (!strstr(clocks, item) && strlen(clocks) + strlen(item) + 3 < sizeof clocks)
            snprintf(clocks + strlen(clocks), sizeof clocks - strlen(clocks), "%s%s", clocks[0] ? "; " : "", item);
        if ((e = sn_figures_find(&ri->fs, "energy_per_query_uj")) && !isnan(e->value)) {
            snprintf(item, sizeof item, "%s (%s)", kind_word(energy_kind(e->source)), e->source);
            if (!strstr(energy, item) && strlen(energy) + strlen(item) + 3 < sizeof energy)
                snprintf(energy + strlen(energy), sizeof energy - strlen(energy), "%s%s", energy[0] ? "; " : "",
                         item);
        }
    }
    snprintf(buf, n,
             "Trace %s on %s: %zu run%s of %zu polic%s. SLO attainment: %s%s%s. "
             "Served accuracy: measured (the accuracy table's top-1 of each SubNet served, on the %s). "
             "Energy per query: %s.",
             g->trace, g->platform, g->runs, g->runs == 1 ? "" : "s", g->npol, g->npol == 1 ? "y" : "ies", clocks,
             nk > 1 ? " (runs of different clocks, pooled as repetitions: compare with care)" : "",
             slo_src && !strncmp(slo_src, "table:", 6)
                 ? "; the trace carries no latency ceiling, so only accuracy floors decide it"
                 : slo_src && !strncmp(slo_src, "unknown:", 8) ? "; the trace file is gone (its ceilings unknown)"
                                                               : "",
             rp->split, energy[0] ? energy : "not recorded");
}

/* The report's opening: per trace and platform, each policy's SLO attainment, served accuracy
 * and energy per query (means over its runs: the groups'), each beside the best other policy
 * on that figure, the difference and whether the runs tell them apart. */
static void answer_rows(const report *rp, sn_text *md, sn_text *html)
{
    static const char *const title[ANSWER_FIGS] = {"SLO attainment", "served accuracy", "energy per query, uJ"};
    static const char *const title_html[ANSWER_FIGS] = {"SLO attainment", "served accuracy",
                                                        "energy per query, &micro;J"};
    const char *intro =
        "Per trace and platform, each policy's SLO attainment, served accuracy and energy per query "
        "(the mean over its runs), each beside the best other policy on that figure (highest SLO "
        "attainment and served accuracy, lowest energy), with the difference (this policy minus that "
        "one: points, or uJ and relative) and its significance: the two-sided Mann-Whitney U test "
        "(normal approximation) over the runs (repetitions) of the two policies when each has at "
        "least 2, significant when p < 0.05 (with fewer than 4 runs a side no p can fall below "
        "0.05); a policy with 1 run gets no p-value. Each caption says how its runs were timed "
        "(measured, emulated or modelled, from context.json's clock) and where energy comes from. "
        "Runs on the null platform (harness overhead) are in the runs table only.";
    size_t gi, k, f;
    sn_text_printf(md, "## The answer: each policy beside the best other policy\n\n%s\n\n", intro);
    sn_text_printf(html, "<section id=\"answer\">\n<h2>The answer: each policy beside the best other policy</h2>\n<p>");
    html_escaped(html, intro);
    sn_text_printf(html, "</p>\n");
    if (!rp->group_count) {
        sn_text_printf(md, "No run on a platform other than null: nothing to compare.\n\n");
        sn_text_printf(html, "<p>No run on a platform other than null: nothing to compare.</p>\n");
    }
    for (gi = 0; gi < rp->group_count; ++gi) {
        const group *g = &rp->groups[gi];
        char caption[4096];
        answer_caption(rp, g, caption, sizeof caption);
        sn_text_printf(md, "### %s on %s\n\n%s\n\n| policy | runs |", g->trace, g->platform, caption);
        for (f = 0; f < ANSWER_FIGS; ++f)
            sn_text_printf(md, " %s | best other | difference | significance |", title[f]);
        sn_text_printf(md, "\n|---|---:|");
        for (f = 0; f < ANSWER_FIGS; ++f)
            sn_text_printf(md, "---:|---|---:|---|");
        sn_text_printf(md, "\n");
        sn_text_printf(html, "<div class=\"wide\"><table class=\"answer\" id=\"answer-%zu\" data-trace=\"", gi);
        html_escaped(html, g->trace);
        sn_text_printf(html, "\" data-platform=\"");
        html_escaped(html, g->platform);
        sn_text_printf(html, "\"><caption>");
        html_escaped(html, caption);
        sn_text_printf(html, "</caption>\n<thead><tr><th rowspan=\"2\">policy</th><th rowspan=\"2\">runs</th>");
        for (f = 0; f < ANSWER_FIGS; ++f)
            sn_text_printf(html, "<th colspan=\"4\" class=\"fig\">%s</th>", title_html[f]);
        sn_text_printf(html, "</tr>\n<tr>");
        for (f = 0; f < ANSWER_FIGS; ++f)
            sn_text_printf(html, "<th class=\"fig\">mean</th><th>best other policy</th><th>difference</th>"
                                 "<th>significance</th>");
        sn_text_printf(html, "</tr></thead><tbody>\n");
        for (k = 0; k < g->npol; ++k) {
            const pstat *p = &g->pol[k];
            sn_text_printf(md, "| %s | %zu |", p->policy, p->runs);
            sn_text_printf(html, "<tr data-policy=\"");
            html_escaped(html, p->policy);
            sn_text_printf(html, "\" data-runs=\"%zu\"><th scope=\"row\">", p->runs);
            html_escaped(html, p->policy);
            sn_text_printf(html, "</th><td class=\"n\">%zu</td>", p->runs);
            for (f = 0; f < ANSWER_FIGS; ++f) {
                int b = best_other(g, k, f);
                const pstat *q = b >= 0 ? &g->pol[b] : NULL;
                double d = q ? p->mean[f] - q->mean[f] : (double)NAN, pv = (double)NAN;
                char val[64], alt[128], qval[64], diff[96], sig[160], x[4][40];
                fmt_answer_value(val, sizeof val, f, p->mean[f]);
                if (q) {
                    fmt_answer_value(qval, sizeof qval, f, q->mean[f]);
                    snprintf(alt, sizeof alt, "%s: %s", q->policy, qval);
                } else /* alone, or no other policy recorded the figure */
                    snprintf(alt, sizeof alt, "%s", g->npol > 1 ? "-" : "no other policy");
                fmt_answer_diff(diff, sizeof diff, f, d, q ? q->mean[f] : (double)NAN);
                if (q && !isnan(p->mean[f]))
                    fmt_significance(sig, sizeof sig, p, q, f, &pv);
                else
                    snprintf(sig, sizeof sig, "-");
                /* the figures at full precision, for readers that check them */
                snprintf(x[0], sizeof x[0], "%.17g", p->mean[f]);
                snprintf(x[1], sizeof x[1], "%.17g", q ? q->mean[f] : (double)NAN);
                snprintf(x[2], sizeof x[2], "%.17g", d);
                snprintf(x[3], sizeof x[3], "%.17g", pv);
                sn_text_printf(md, " %s | %s | %s | %s |", val, alt, diff, sig);
                sn_text_printf(html, "<td class=\"n fig\" data-figure=\"%s\" data-col=\"value\" data-x=\"%s\">%s</td>",
                               answer_fig[f], x[0], val);
                sn_text_printf(html, "<td data-figure=\"%s\" data-col=\"alt\" data-alt=\"", answer_fig[f]);
                html_escaped(html, q ? q->policy : "");
                sn_text_printf(html, "\" data-x=\"%s\">", x[1]);
                html_escaped(html, alt);
                sn_text_printf(html, "</td><td class=\"n\" data-figure=\"%s\" data-col=\"diff\" data-x=\"%s\">%s</td>",
                               answer_fig[f], x[2], diff);
                sn_text_printf(html, "<td class=\"%s\" data-figure=\"%s\" data-col=\"sig\" data-x=\"%s\">",
                               !isnan(pv) && pv < ANSWER_ALPHA ? "sig significant" : "sig", answer_fig[f], x[3]);
                html_escaped(html, sig);
                sn_text_printf(html, "</td>");
            }
            sn_text_printf(md, "\n");
            sn_text_printf(html, "</tr>\n");
        }
        sn_text_printf(md, "\n");
        sn_text_printf(html, "</tbody></table></div>\n");
    }
    sn_text_printf(html, "</section>\n");
}

static void summary_rows(const report *rp, sn_text *md, sn_text *html)
{
    const char *sources[MAX_GROUPS];
    size_t i, k, nsrc = 0, n_invalid = 0;
    sn_text_printf(md, "| run | trace | policy | platform | latency from | queries | LoadGen | SLO att. | served acc. | "
                       "eff. acc. | measured acc. | p50 us | p99 us | far MB | hit | energy/query uJ | energy from |\n"
                       "|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    sn_text_printf(html, "<div class=\"wide\"><table id=\"runs\"><thead><tr><th>run</th><th>trace</th>"
                         "<th>policy</th><th>platform</th><th>latency from</th><th>queries</th><th>LoadGen</th><th>SLO att.</th>"
                         "<th>served acc.</th><th>eff. acc.</th><th>measured acc.</th><th>p50 &micro;s</th><th>p99 &micro;s</th>"
                         "<th>far MB</th><th>hit</th><th>energy/query &micro;J</th><th>energy from</th></tr>"
                         "</thead><tbody>\n");
    for (i = 0; i < rp->n; ++i) {
        const rinfo *ri = &rp->r[i];
        const cJSON *s = ri->run.summary;
        const char *esrc = sn_rundir_str(cJSON_GetObjectItemCaseSensitive(s, "energy"), "source");
        char slo[32], sa[32], ea[32], ma[32], cells[6][64], shortsrc[128];
        const char *clock = sn_rundir_clock(&ri->run);
        const char *valid = sn_rundir_str(s, "validity.result"), *vreason = sn_rundir_str(s, "validity.reason");
        const sn_figure *eff = sn_figures_find(&ri->fs, "effective_accuracy");
        fmt_pct(slo, sizeof slo, sn_rundir_num(s, "slo_attainment"));
        fmt_pct(sa, sizeof sa, sn_rundir_num(s, "served_accuracy"));
        fmt_pct(ea, sizeof ea, eff ? eff->value : (double)NAN); /* sn_figures_of_run: summary.json, else policy.json */
        fmt_pct(ma, sizeof ma, sn_rundir_num(s, "measured_accuracy"));
        fmt_num(cells[0], 64, 0, sn_rundir_num(s, "queries"));
        fmt_num(cells[1], 64, 1, sn_rundir_num(s, "latency_us.p50"));
        fmt_num(cells[2], 64, 1, sn_rundir_num(s, "latency_us.p99"));
        fmt_num(cells[3], 64, 2, sn_rundir_num(s, "far_bytes") / 1e6);
        fmt_num(cells[4], 64, 3, sn_rundir_num(s, "subgraph_hit_ratio"));
        fmt_num(cells[5], 64, 2, sn_rundir_num(s, "energy.per_query_uj"));
        short_source(esrc ? esrc : "-", shortsrc, sizeof shortsrc);
        if (esrc) {
            for (k = 0; k < nsrc && strcmp(sources[k], esrc); ++k)
                ;
            if (k == nsrc && nsrc < MAX_GROUPS)
                sources[nsrc++] = esrc;
        }
        sn_text_printf(md, "| %s | %s | %s | %s | %s: %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                       ri->run.name, ri->run.trace_name, sn_rundir_policy(&ri->run), sn_rundir_platform(&ri->run),
                       clock_kind(clock), clock, cells[0], valid ? valid : "-", slo, sa, ea, ma, cells[1], cells[2],
                       cells[3], cells[4], cells[5], shortsrc);
        if (valid && strcmp(valid, "VALID"))
            ++n_invalid;
        sn_text_printf(html, "<tr><td>");
        html_escaped(html, ri->run.name);
        sn_text_printf(html, "</td><td>");
        html_escaped(html, ri->run.trace_name);
        sn_text_printf(html, "</td><td>");
        html_escaped(html, sn_rundir_policy(&ri->run));
        sn_text_printf(html, "</td><td>");
        html_escaped(html, sn_rundir_platform(&ri->run));
        sn_text_printf(html, "</td><td title=\"");
        html_escaped(html, clock);
        sn_text_printf(html, "\"><span class=\"src %s\">%s</span> %s", clock_kind(clock), clock_kind(clock),
                       !strncmp(clock, "wall:", 5) ? "wall clock" : !strncmp(clock, "virtual:", 8) ? "virtual time" : "");
        sn_text_printf(html, "</td><td class=\"n\">%s</td><td title=\"", cells[0]);
        html_escaped(html, vreason ? vreason : "");
        sn_text_printf(html, "\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                             "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                             "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td title=\"",
                       valid ? valid : "-", slo, sa, ea, ma, cells[1], cells[2], cells[3], cells[4], cells[5]);
        html_escaped(html, esrc ? esrc : "-");
        sn_text_printf(html, "\"><span class=\"src %s\">%s</span> ", energy_kind(esrc), energy_kind(esrc));
        html_escaped(html, shortsrc);
        sn_text_printf(html, "</td></tr>\n");
    }
    sn_text_printf(html, "</tbody></table></div>\n");
    if (n_invalid) { /* LoadGen's verdict, with its reason, for each run it does not accept */
        sn_text_printf(md, "\n");
        sn_text_printf(html, "<ul class=\"invalid\">\n");
        for (i = 0; i < rp->n; ++i) {
            const cJSON *s = rp->r[i].run.summary;
            const char *valid = sn_rundir_str(s, "validity.result"), *vreason = sn_rundir_str(s, "validity.reason");
            if (!valid || !strcmp(valid, "VALID"))
                continue;
            sn_text_printf(md, "* INVALID by MLPerf LoadGen's rules: %s: %s\n", rp->r[i].run.name, vreason ? vreason : "");
            sn_text_printf(html, "<li>INVALID by MLPerf LoadGen's rules: ");
            html_escaped(html, rp->r[i].run.name);
            sn_text_printf(html, ": ");
            html_escaped(html, vreason ? vreason : "");
            sn_text_printf(html, "</li>\n");
        }
        sn_text_printf(html, "</ul>\n");
    }
    sn_text_printf(html, "<p class=\"meta\">Energy sources: ");
    sn_text_printf(md, "\nEnergy sources: ");
    for (k = 0; k < nsrc; ++k) {
        sn_text_printf(md, "%s`%s`", k ? "; " : "", sources[k]);
        if (k)
            sn_text_printf(html, "; ");
        sn_text_printf(html, "<code>");
        html_escaped(html, sources[k]);
        sn_text_printf(html, "</code>");
    }
    sn_text_printf(md, "%s. Model coefficients and their citations: harness/README.md (Energy). SLO att.: "
                       "queries that met their accuracy floor (accuracy table) and latency ceiling (by the run's clock: "
                       "measured, or model where the latency column says so). "
                       "Eff. acc.: top-1 (accuracy table) counting an answer after its latency ceiling as wrong. "
                       "LoadGen: MLPerf LoadGen's validity rules (minimum query count, early-stopping bound on p99; "
                       "summary.json validity). "
                       "Hit: near / (near + far) weight bytes.\n", nsrc ? "" : "none");
    sn_text_printf(html, "%s. Model coefficients and their citations: harness/README.md (Energy). SLO att.: "
                         "queries that met their accuracy floor (accuracy table) and latency ceiling (by the run's clock: "
                         "measured, or model where the latency column says so). "
                         "Eff. acc.: top-1 (accuracy table) counting an answer after its latency ceiling as wrong. "
                         "LoadGen: MLPerf LoadGen's validity rules (minimum query count, early-stopping bound on p99; "
                         "summary.json validity). "
                         "Hit: near / (near + far) weight bytes. Latency: wall clock = real-time replay "
                         "(CLOCK_MONOTONIC); virtual time = measured service times, queueing in virtual time "
                         "(hover a cell for the exact clock).</p>\n", nsrc ? "" : "none");
}

static const char *css =
    "body{font-family:Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.45}"
    "li.degenerate{color:#a00;font-weight:bold}"
    "h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;font-size:.82em;margin:1em 0}"
    "th,td{border:1px solid #d0d0d0;padding:.25em .5em;vertical-align:top}"
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "figure{margin:1.5em 0;padding:.5em;border:1px solid #e4e4e4;background:#fff}"
    "figure svg.plot{width:100%;max-width:960px;height:auto;display:block}"
    ".wide{overflow-x:auto}"
    "figcaption{font-size:.88em;color:#444;margin-top:.4em}"
    ".src{font-size:.75em;font-weight:bold;padding:0 .35em;border-radius:.3em;color:#fff}"
    ".src.measured{background:#2b7a3d}.src.emulated{background:#a86a00}.src.model{background:#5a4fa0}"
    ".meta{color:#555;font-size:.9em}code{font-size:.9em}"
    "table.answer caption{caption-side:top;text-align:left;font-size:1.05em;color:#333;padding:.3em 0}"
    "table.answer th.fig,table.answer td.fig{border-left:2px solid #888}"
    "table.answer td.sig{color:#555}table.answer td.significant{color:#000;font-weight:bold}";

static int write_documents(report *rp, sn_report_summary *sum, const claim_row *claims, size_t nclaims)
{
    sn_text md = {0}, html = {0};
    const char *title = rp->o->title ? rp->o->title : "supernav report";
    char stamp[32], path[1200];
    time_t now = time(NULL);
    struct tm tmv;
    size_t i, nplat = 0;
    const rinfo *first = rp->n ? &rp->r[0] : NULL;
    int rc = 0;
    gmtime_r(&now, &tmv);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", &tmv);
    for (i = 0; i < rp->n; ++i)
        nplat += rp->r[i].plotted;

    sn_text_printf(&md, "# %s\n\n", title);
    sn_text_printf(&html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                          "<title>");
    html_escaped(&html, title);
    sn_text_printf(&html, "</title><style>%s</style></head><body>\n<h1>", css);
    html_escaped(&html, title);
    sn_text_printf(&html, "</h1>\n");
    {
        char meta[2048], cores[32] = "?";
        const cJSON *c = first ? first->run.context : NULL;
        const char *rev = sn_rundir_str(c, "git_revision"), *cpu = sn_rundir_str(c, "machine.cpu_model");
        const char *os = sn_rundir_str(c, "machine.os");
        const char *sha = first ? sn_rundir_input_sha256(&first->run, "model") : NULL;
        if (!isnan(sn_rundir_num(c, "machine.cores")))
            snprintf(cores, sizeof cores, "%.0f", sn_rundir_num(c, "machine.cores"));
        snprintf(meta, sizeof meta,
                 "Generated %s by supernav report from %zu run director%s (%zu plotted). First run: git %s, "
                 "%s, %s, %s cores; model sha256 %.16s.",
                 stamp, rp->n, rp->n == 1 ? "y" : "ies", nplat, rev ? rev : "?", cpu ? cpu : "?",
                 os ? os : "?", cores, sha ? sha : "-");
        sn_text_printf(&md, "%s\n\n", meta);
        sn_text_printf(&html, "<p class=\"meta\">");
        html_escaped(&html, meta);
        sn_text_printf(&html, "</p>\n");
    }
    answer_rows(rp, &md, &html);
    {
        sn_text_printf(&md, "Every figure names its source: measured (and by which clock or counter), emulated (an "
                            "instruction-count clock of an emulator), or model (a named model with its constants). "
                            "Accuracy comes from the accuracy table (top-1 measured on the %s) or from this "
                            "run's own predictions (measured accuracy).\n\n", rp->split_sized);
        sn_text_printf(&html, "<p>Every figure names its source: <span class=\"src measured\">measured</span> "
                              "(and by which clock or counter), <span class=\"src emulated\">emulated</span> (an "
                              "instruction-count clock of an emulator), or <span class=\"src model\">model</span> "
                              "(a named model with its constants). Accuracy comes from the accuracy table (top-1 "
                              "measured on the ");
        html_escaped(&html, rp->split_sized);
        sn_text_printf(&html, ") or from this run's own predictions (measured accuracy).</p>\n");
    }
    sn_text_printf(&md, "## Can these runs tell the policies apart?\n\n");
    sn_text_printf(&html, "<h2>Can these runs tell the policies apart?</h2>\n");
    validity_rows(rp, &md, &html);
    sn_text_printf(&md, "\n");

    sn_text_printf(&md, "## Plots\n\n");
    sn_text_printf(&html, "<h2>Plots</h2>\n");
    for (i = 0; i < rp->plot_count; ++i) {
        const plot *p = &rp->plots[i];
        void *svg;
        size_t size;
        char prefix[32];
        snprintf(path, sizeof path, "%s/%s.svg", rp->plot_dir, p->name);
        if (sn_read_file(path, &svg, &size) != 0) {
            rc = fail(rp->err, rp->err_bytes, "%s: %s (gnuplot wrote no plot)", path, strerror(errno));
            break;
        }
        sn_text_printf(&md, "### %s\n\n![%s](plots/%s.svg)\n\n%s (`plots/%s.gp`)\n\n", p->title, p->title, p->name,
                       p->caption, p->name);
        sn_text_printf(&html, "<figure id=\"%s\"><h3>", p->name);
        html_escaped(&html, p->title);
        sn_text_printf(&html, "</h3>\n");
        snprintf(prefix, sizeof prefix, "p%zu", i);
        if (sn_svg_inline(&html, svg, prefix, p->name) != 0) {
            free(svg);
            rc = fail(rp->err, rp->err_bytes, "%s: not an SVG document", path);
            break;
        }
        free(svg);
        sn_text_printf(&html, "<figcaption>");
        html_escaped(&html, p->caption);
        sn_text_printf(&html, "</figcaption></figure>\n");
    }

    sn_text_printf(&md, "## Reproduction: the papers' headline claims beside supernav's figures\n\n");
    sn_text_printf(&html, "<h2>Reproduction: the papers' headline claims beside supernav's figures</h2>\n");
    {
        const char *intro =
            "The claims are quoted as reported in the papers' abstracts, on their own models, data and "
            "hardware (SUSHI: Behnam, Tong et al., \"SubGraph Stationary Hardware-Software Inference "
            "Co-Design\", MLSys 2023, on an FPGA accelerator; NeuLens: Hou, Guan, Han, \"NeuLens: "
            "Spatial-based Dynamic Acceleration of Convolutional Neural Networks on Edge\", MobiCom 2022, "
            "on mobile and edge GPUs). supernav's figure is the same kind of experiment on these runs; "
            "it is not the same experiment, and a smaller or negative figure is reported as it is.";
        sn_text_printf(&md, "%s\n\n| paper | claim (as reported) | supernav's experiment | supernav's figure | source |\n"
                            "|---|---|---|---|---|\n", intro);
        sn_text_printf(&html, "<p>");
        html_escaped(&html, intro);
        sn_text_printf(&html, "</p>\n<table id=\"reproduction\"><thead><tr><th>paper</th><th>claim (as reported)"
                              "</th><th>supernav's experiment</th><th>supernav's figure</th><th>source</th></tr>"
                              "</thead><tbody>\n");
    }
    for (i = 0; i < nclaims; ++i) {
        const claim_row *c = &claims[i];
        sn_text_printf(&md, "| %s | %s | %s | %s | %s |\n", c->paper, c->claim, c->experiment, c->figure, c->source);
        sn_text_printf(&html, "<tr><td>");
        html_escaped(&html, c->paper);
        sn_text_printf(&html, "</td><td>");
        html_escaped(&html, c->claim);
        sn_text_printf(&html, "</td><td>");
        html_escaped(&html, c->experiment);
        sn_text_printf(&html, "</td><td>");
        html_escaped(&html, c->figure);
        sn_text_printf(&html, "</td><td><span class=\"src %s\">%s</span> ", source_kind(c->source),
                       source_kind(c->source));
        html_escaped(&html, c->source);
        sn_text_printf(&html, "</td></tr>\n");
    }
    sn_text_printf(&html, "</tbody></table>\n");
    {
        const char *sources =
            "Sources: SUSHI (MLSys 2023) abstract: \"For the stream of queries SUSHI yields up to 25% "
            "improvement in latency, 0.98% increase in served accuracy. SUSHI can achieve up to 78.7% "
            "off-chip energy savings.\" NeuLens (MobiCom 2022) abstract: \"NeuLens outperforms baseline "
            "methods by up to 58% latency reduction with the same accuracy and by up to 67.9% accuracy "
            "improvement under the same latency/memory constraints.\"";
        sn_text_printf(&md, "\n%s\n\n", sources);
        sn_text_printf(&html, "<p class=\"meta\">");
        html_escaped(&html, sources);
        sn_text_printf(&html, "</p>\n");
    }
    /* the raw runs last: every run, one row each */
    sn_text_printf(&md, "## Runs\n\n");
    sn_text_printf(&html, "<h2>Runs</h2>\n");
    summary_rows(rp, &md, &html);
    sn_text_printf(&html, "</body></html>\n");
    if (rc == 0 && (md.failed || html.failed))
        rc = fail(rp->err, rp->err_bytes, "out of memory");
    if (rc == 0) {
        snprintf(sum->md_path, sizeof sum->md_path, "%s/report.md", rp->o->out_dir);
        snprintf(sum->html_path, sizeof sum->html_path, "%s/report.html", rp->o->out_dir);
        if (sn_write_file_atomic(sum->md_path, md.s, md.len) != 0 ||
            sn_write_file_atomic(sum->html_path, html.s, html.len) != 0)
            rc = fail(rp->err, rp->err_bytes, "%s: %s", rp->o->out_dir, strerror(errno));
    }
    sn_text_free(&md);
    sn_text_free(&html);
    return rc;
}

int sn_report_write(char *const *runs, size_t n, const sn_report_options *o,
                    sn_report_summary *sum, char *err, size_t err_bytes)
{
    report rp;
    const char *platforms[MAX_GROUPS], *traces[MAX_GROUPS];
    claim_row claims[3 * MAX_GROUPS + 2];
    size_t i, j, np, nt, nclaims;
    int rc = -1;
    memset(&rp, 0, sizeof rp);
    memset(sum, 0, sizeof *sum);
    rp.o = o;
    rp.err = err;
    rp.err_bytes = err_bytes;
    if (!o->out_dir || !*o->out_dir)
        return fail(err, err_bytes, "no output directory");
    if (n == 0)
        return fail(err, err_bytes, "no run directory given");
    snprintf(rp.plot_dir, sizeof rp.plot_dir, "%s/plots", o->out_dir);
    if (sn_mkdir_p(rp.plot_dir) != 0)
        return fail(err, err_bytes, "%s: %s", rp.plot_dir, strerror(errno));
    {
        char log[1300];
        snprintf(log, sizeof log, "%s/gnuplot.log", rp.plot_dir);
        unlink(log);
    }
    if (!(rp.r = calloc(n, sizeof *rp.r)))
        return fail(err, err_bytes, "out of memory");
    for (i = 0; i < n; ++i) {
        rinfo *ri = &rp.r[i];
        char *colon;
        if (sn_rundir_load(runs[i], &ri->run, err, err_bytes) != 0)
            goto done;
        rp.n = i + 1;
        if (sn_figures_of_run(&ri->run, &ri->fs) != 0) {
            fail(err, err_bytes, "out of memory");
            goto done;
        }
        snprintf(ri->policy_key, sizeof ri->policy_key, "%s", sn_rundir_policy(&ri->run));
        if ((colon = strchr(ri->policy_key, ':')))
            *colon = '\0';
        ri->plotted = strcmp(sn_rundir_platform(&ri->run), "null") != 0 && ri->run.count > 0;
    }
    np = distinct(&rp, key_platform, platforms, MAX_GROUPS);
    nt = distinct(&rp, key_trace, traces, MAX_GROUPS);
    rp.multi_platform = np > 1;
    /* series labels: the policy, with the platform when several, the run name when that repeats */
    for (i = 0; i < rp.n; ++i) {
        rinfo *ri = &rp.r[i];
        int dup = 0;
        for (j = 0; j < rp.n; ++j)
            if (j != i && !strcmp(rp.r[j].policy_key, ri->policy_key) &&
                !strcmp(rp.r[j].run.trace_name, ri->run.trace_name) &&
                !strcmp(sn_rundir_platform(&rp.r[j].run), sn_rundir_platform(&ri->run)))
                dup = 1;
        snprintf(ri->label, sizeof ri->label, "%s%s%s", rp.multi_platform ? sn_rundir_platform(&ri->run) : "",
                 rp.multi_platform ? "/" : "", dup ? ri->run.name : ri->policy_key);
    }
    if (build_groups(&rp) != 0) {
        fail(err, err_bytes, "out of memory");
        goto done;
    }
    load_accuracy(&rp);
    name_split(&rp);
    for (i = 0; i < np; ++i)
        if (plot_pareto(&rp, platforms[i]) != 0)
            goto done;
    for (i = 0; i < nt; ++i)
        if (plot_cdf(&rp, traces[i]) != 0)
            goto done;
    if (np && plot_accuracy_slo(&rp) != 0)
        goto done;
    for (i = 0; i < nt; ++i)
        if (plot_timeline(&rp, traces[i]) != 0)
            goto done;
    for (i = 0; i < nt; ++i)
        if (plot_energy(&rp, traces[i]) != 0)
            goto done;
    nclaims = reproduction(&rp, claims, 3 * MAX_GROUPS);
    nclaims += neulens_rows(&rp, claims + nclaims, 2);
    if (write_documents(&rp, sum, claims, nclaims) != 0)
        goto done;
    sum->runs = rp.n;
    sum->plots = rp.plot_count;
    rc = 0;
done:
    for (i = 0; i < rp.n; ++i) {
        sn_figures_free(&rp.r[i].fs);
        sn_rundir_free(&rp.r[i].run);
    }
    free_groups(&rp);
    free(rp.r);
    for (i = 0; i < rp.acc_count; ++i)
        free(rp.acc[i].config);
    free(rp.acc);
    return rc;
}
