/* supernav reports: merging a sweep's run directories (see sn_sweep_collect.h). */
#include "sn_sweep_collect.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_figures.h"
#include "sn_file.h"
#include "sn_gate.h"
#include "sn_gnuplot.h"
#include "sn_report.h"
#include "sn_rundir.h"
#include "sn_stats.h"

#define MAX_PLOTS 64

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* summary.json paths added to the table after the figures */
static const char *const extra_paths[] = {"latency_us.p50", "latency_us.p90", "latency_us.p95", "duration_s"};
#define EXTRA_COUNT (sizeof extra_paths / sizeof extra_paths[0])

static const char *const default_metrics[] = {"latency_mean_us", "latency_us.p99", "far_bytes",
                                              "served_accuracy", "effective_accuracy", "slo_attainment",
                                              "energy_uj"};

/* One job's merged row. */
typedef struct row {
    sn_sweep_state state;
    unsigned attempts;
    double *value;         /* per figure (NaN: none) */
    char (*text)[72];      /* per figure: a text figure, or "" */
    double extra[EXTRA_COUNT];
    cJSON *summary, *policy, *context; /* owned copies, for --metric paths; NULL if not done */
    char run[1200];
} row;

typedef struct figure_info {
    char name[48];
    const char *unit;      /* static strings from sn_figures */
    sn_figure_kind kind;
    char source[160];
} figure_info;

typedef struct collect {
    const sn_sweep *sw;
    const sn_sweep_collect_options *o;
    row *rows;
    figure_info *fig;
    size_t fig_count;
    char err_buf[1400];
} collect;

static void csv_field(sn_text *t, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) {
        sn_text_append(t, "\"", 1);
        for (; *s; ++s) {
            if (*s == '"')
                sn_text_append(t, "\"", 1);
            sn_text_append(t, s, 1);
        }
        sn_text_append(t, "\"", 1);
    } else
        sn_text_append(t, s, strlen(s));
}

static void csv_number(sn_text *t, double v)
{
    if (!isnan(v))
        sn_text_printf(t, "%.17g", v);
}

static int write_text(const char *path, const sn_text *t, char *err, size_t n)
{
    if (t->failed)
        return fail(err, n, "out of memory");
    if (sn_write_file_atomic(path, t->s ? t->s : "", t->len) != 0)
        return fail(err, n, "%s: %s", path, strerror(errno));
    return 0;
}

/* The value of METRIC for row R: a figure, else a dotted path in summary.json, or
 * "policy."/"context." + a path in policy.json/context.json. NaN when absent. */
static double metric_value(const collect *c, const row *r, const char *metric, int *known)
{
    size_t f;
    double v;
    for (f = 0; f < c->fig_count; ++f)
        if (!strcmp(c->fig[f].name, metric)) {
            *known = 1;
            return r->value ? r->value[f] : (double)NAN;
        }
    if (!r->summary)
        return (double)NAN;
    if (!strncmp(metric, "policy.", 7))
        v = r->policy ? sn_rundir_num(r->policy, metric + 7) : (double)NAN;
    else if (!strncmp(metric, "context.", 8))
        v = sn_rundir_num(r->context, metric + 8);
    else
        v = sn_rundir_num(r->summary, metric);
    if (!isnan(v))
        *known = 1;
    return v;
}

static const char *metric_unit(const collect *c, const char *metric)
{
    size_t f;
    for (f = 0; f < c->fig_count; ++f)
        if (!strcmp(c->fig[f].name, metric))
            return c->fig[f].unit;
    if (!strncmp(metric, "latency_us.", 11))
        return "us";
    return "";
}

static const char *metric_source(const collect *c, const char *metric)
{
    size_t f;
    for (f = 0; f < c->fig_count; ++f)
        if (!strcmp(c->fig[f].name, metric))
            return c->fig[f].source;
    return strncmp(metric, "policy.", 7) ? (strncmp(metric, "context.", 8) ? "summary.json" : "context.json")
                                         : "policy.json";
}

/* ---- loading --------------------------------------------------------------------------- */

static int load_rows(collect *c, sn_sweep_collect_summary *sum, char *err, size_t n)
{
    const sn_sweep *sw = c->sw;
    size_t i, f, missing = 0;
    const char *first_missing = NULL;
    if (!(c->rows = calloc(sw->job_count ? sw->job_count : 1, sizeof *c->rows)))
        return fail(err, n, "out of memory");
    for (i = 0; i < sw->job_count; ++i) {
        row *r = &c->rows[i];
        r->state = sn_sweep_job_state(sw, &sw->jobs[i], &r->attempts);
        if (r->state != SN_SWEEP_DONE) {
            if (!first_missing)
                first_missing = sw->jobs[i].id;
            ++missing;
        }
    }
    sum->jobs = sw->job_count;
    sum->done = sw->job_count - missing;
    if (missing && !c->o->partial)
        return fail(err, n, "%zu of %zu jobs are not done (first: %s; 'supernav sweep status %s'); run them, "
                    "or collect with --partial", missing, sw->job_count, first_missing, sw->dir);
    if (!sum->done)
        return fail(err, n, "no job of %s is done yet", sw->dir);
    for (i = 0; i < sw->job_count; ++i) {
        row *r = &c->rows[i];
        sn_rundir run;
        sn_figure_set set;
        char e[1200];
        if (r->state != SN_SWEEP_DONE)
            continue;
        snprintf(r->run, sizeof r->run, "%s/runs/%s", sw->dir, sw->jobs[i].id);
        if (sn_rundir_load(r->run, &run, e, sizeof e) != 0)
            return fail(err, n, "job %s is marked done but its run directory is unreadable: %s", sw->jobs[i].id, e);
        if (sn_figures_of_run(&run, &set) != 0) {
            sn_rundir_free(&run);
            return fail(err, n, "out of memory");
        }
        if (!c->fig) {
            c->fig_count = set.count;
            if (!(c->fig = calloc(set.count ? set.count : 1, sizeof *c->fig))) {
                sn_figures_free(&set);
                sn_rundir_free(&run);
                return fail(err, n, "out of memory");
            }
            for (f = 0; f < set.count; ++f) {
                snprintf(c->fig[f].name, sizeof c->fig[f].name, "%s", set.f[f].name);
                c->fig[f].unit = set.f[f].unit;
                c->fig[f].kind = set.f[f].kind;
                snprintf(c->fig[f].source, sizeof c->fig[f].source, "%s", set.f[f].source);
            }
        }
        r->value = malloc((c->fig_count ? c->fig_count : 1) * sizeof *r->value);
        r->text = calloc(c->fig_count ? c->fig_count : 1, sizeof *r->text);
        if (!r->value || !r->text) {
            sn_figures_free(&set);
            sn_rundir_free(&run);
            return fail(err, n, "out of memory");
        }
        for (f = 0; f < c->fig_count; ++f) {
            const sn_figure *fg = sn_figures_find(&set, c->fig[f].name);
            r->value[f] = fg ? fg->value : (double)NAN;
            if (fg)
                snprintf(r->text[f], sizeof r->text[f], "%s", fg->text);
        }
        for (f = 0; f < EXTRA_COUNT; ++f)
            r->extra[f] = sn_rundir_num(run.summary, extra_paths[f]);
        r->summary = cJSON_Duplicate(run.summary, 1);
        r->context = cJSON_Duplicate(run.context, 1);
        r->policy = run.policy ? cJSON_Duplicate(run.policy, 1) : NULL;
        sn_figures_free(&set);
        sn_rundir_free(&run);
        if (!r->summary || !r->context)
            return fail(err, n, "out of memory");
    }
    return 0;
}

static void free_rows(collect *c)
{
    size_t i;
    for (i = 0; c->rows && i < c->sw->job_count; ++i) {
        free(c->rows[i].value);
        free(c->rows[i].text);
        cJSON_Delete(c->rows[i].summary);
        cJSON_Delete(c->rows[i].policy);
        cJSON_Delete(c->rows[i].context);
    }
    free(c->rows);
    free(c->fig);
}

/* ---- the table ------------------------------------------------------------------------- */

static int write_csv(const collect *c, const char *path, char *err, size_t n)
{
    const sn_sweep *sw = c->sw;
    sn_text t = {0};
    size_t i, a, f;
    int rc;
    sn_text_printf(&t, "index,id");
    for (a = 0; a < sw->axis_count; ++a) {
        sn_text_append(&t, ",", 1);
        csv_field(&t, sw->axes[a].name);
    }
    sn_text_printf(&t, ",rep,state,attempts");
    for (f = 0; f < c->fig_count; ++f)
        sn_text_printf(&t, ",%s", c->fig[f].name);
    for (f = 0; f < EXTRA_COUNT; ++f) {
        char col[64], *p;
        snprintf(col, sizeof col, "%s", extra_paths[f]);
        for (p = col; *p; ++p)
            if (*p == '.')
                *p = '_';
        sn_text_printf(&t, ",%s", !strcmp(col, "latency_us_p50") ? "latency_p50_us"
                               : !strcmp(col, "latency_us_p90") ? "latency_p90_us"
                               : !strcmp(col, "latency_us_p95") ? "latency_p95_us" : col);
    }
    sn_text_append(&t, "\n", 1);
    for (i = 0; i < sw->job_count; ++i) {
        const row *r = &c->rows[i];
        sn_text_printf(&t, "%zu,", i);
        csv_field(&t, sw->jobs[i].id);
        for (a = 0; a < sw->axis_count; ++a) {
            sn_text_append(&t, ",", 1);
            csv_field(&t, sn_sweep_value(sw, &sw->jobs[i], a));
        }
        sn_text_printf(&t, ",%u,%s,%u", sw->jobs[i].rep, sn_sweep_state_str(r->state), r->attempts);
        for (f = 0; f < c->fig_count; ++f) {
            sn_text_append(&t, ",", 1);
            if (r->value && r->text[f][0])
                csv_field(&t, r->text[f]);
            else if (r->value)
                csv_number(&t, r->value[f]);
        }
        for (f = 0; f < EXTRA_COUNT; ++f) {
            sn_text_append(&t, ",", 1);
            if (r->value)
                csv_number(&t, r->extra[f]);
        }
        sn_text_append(&t, "\n", 1);
    }
    rc = write_text(path, &t, err, n);
    sn_text_free(&t);
    return rc;
}

static cJSON *number_or_null(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static int write_json(const collect *c, const char *path, char *err, size_t n)
{
    const sn_sweep *sw = c->sw;
    cJSON *root = cJSON_CreateObject(), *figs, *jobs;
    char *text;
    size_t i, a, f;
    int rc;
    if (!root)
        return fail(err, n, "out of memory");
    cJSON_AddNumberToObject(root, "schema_version", 1);
    cJSON_AddStringToObject(root, "sweep", sw->name);
    cJSON_AddStringToObject(root, "dir", sw->dir);
    cJSON_AddStringToObject(root, "command", sw->command);
    sn_sweep_axes_json(sw, root);
    figs = cJSON_AddArrayToObject(root, "figures");
    for (f = 0; f < c->fig_count; ++f) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(figs, o);
        cJSON_AddStringToObject(o, "name", c->fig[f].name);
        cJSON_AddStringToObject(o, "unit", c->fig[f].unit);
        cJSON_AddStringToObject(o, "kind", sn_figure_kind_str(c->fig[f].kind));
        cJSON_AddStringToObject(o, "source", c->fig[f].source);
    }
    jobs = cJSON_AddArrayToObject(root, "jobs");
    for (i = 0; i < sw->job_count; ++i) {
        const row *r = &c->rows[i];
        cJSON *j = cJSON_CreateObject(), *vals, *fv;
        cJSON_AddItemToArray(jobs, j);
        cJSON_AddNumberToObject(j, "index", (double)i);
        cJSON_AddStringToObject(j, "id", sw->jobs[i].id);
        vals = cJSON_AddObjectToObject(j, "values");
        for (a = 0; a < sw->axis_count; ++a)
            cJSON_AddStringToObject(vals, sw->axes[a].name, sn_sweep_value(sw, &sw->jobs[i], a));
        cJSON_AddNumberToObject(j, "rep", sw->jobs[i].rep);
        cJSON_AddStringToObject(j, "state", sn_sweep_state_str(r->state));
        cJSON_AddNumberToObject(j, "attempts", r->attempts);
        if (!r->value) {
            cJSON_AddNullToObject(j, "run");
            continue;
        }
        {
            char rel[600];
            snprintf(rel, sizeof rel, "runs/%s", sw->jobs[i].id);
            cJSON_AddStringToObject(j, "run", rel);
        }
        fv = cJSON_AddObjectToObject(j, "figures");
        for (f = 0; f < c->fig_count; ++f)
            cJSON_AddItemToObject(fv, c->fig[f].name, r->text[f][0] ? cJSON_CreateString(r->text[f])
                                                                     : number_or_null(r->value[f]));
        cJSON_AddItemToObject(j, "summary", cJSON_Duplicate(r->summary, 1));
    }
    if (!(text = cJSON_Print(root))) {
        cJSON_Delete(root);
        return fail(err, n, "out of memory");
    }
    cJSON_Delete(root);
    rc = sn_write_file_atomic(path, text, strlen(text)) == 0 ? 0 : fail(err, n, "%s: %s", path, strerror(errno));
    free(text);
    return rc;
}

/* ---- the surface ----------------------------------------------------------------------- */

static int axis_index(const sn_sweep *sw, const char *name)
{
    size_t a;
    for (a = 0; a < sw->axis_count; ++a)
        if (!strcmp(sw->axes[a].name, name))
            return (int)a;
    return -1;
}

static void gp_escape(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 2 < n; ++in) {
        if (*in == '"' || *in == '\\')
            out[k++] = '\\';
        out[k++] = *in;
    }
    out[k] = '\0';
}

static void safe_name(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n; ++in)
        out[k++] = (char)((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') ||
                                  *in == '-' || *in == '.' ? *in : '_');
    out[k] = '\0';
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fmt_value(double v, const char *unit, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (!strcmp(unit, "fraction"))
        snprintf(buf, n, "%.2f%%", 100.0 * v);
    else if (!strcmp(unit, "bytes") || !strcmp(unit, "MACs") || fabs(v) >= 1e6)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.4g", v);
}

/* The median of METRIC over the done jobs with X value XI, series value SI and the facet
 * values FACET (per axis, or (size_t)-1 for "any"). */
static double cell(const collect *c, const char *metric, int xa, size_t xi, int sa, size_t si,
                   const size_t *facet, int *known)
{
    const sn_sweep *sw = c->sw;
    double v[1024];
    size_t i, a, k = 0;
    for (i = 0; i < sw->job_count && k < 1024; ++i) {
        const sn_sweep_job *job = &sw->jobs[i];
        double x;
        int ok = c->rows[i].state == SN_SWEEP_DONE && job->value_index[xa] == xi &&
                 (sa < 0 || job->value_index[sa] == si);
        for (a = 0; ok && a < sw->axis_count; ++a)
            if (facet[a] != (size_t)-1 && job->value_index[a] != facet[a])
                ok = 0;
        if (!ok)
            continue;
        x = metric_value(c, &c->rows[i], metric, known);
        if (!isnan(x))
            v[k++] = x;
    }
    if (!k)
        return (double)NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

static int surfaces(collect *c, const char *out_dir, sn_text *md, sn_sweep_collect_summary *sum, char *err,
                    size_t n)
{
    const sn_sweep *sw = c->sw;
    const sn_sweep_collect_options *o = c->o;
    const char *const *metrics = o->metric_count ? o->metrics : default_metrics;
    size_t metric_count = o->metric_count ? o->metric_count : sizeof default_metrics / sizeof default_metrics[0];
    int xa = -1, sa = -1, facets[SN_SWEEP_MAX_AXES];
    size_t nf = 0, a, m, combos = 1, combo, *order = NULL, xn;
    size_t facet[SN_SWEEP_MAX_AXES];
    double *xs = NULL;
    char plot_dir[1200];
    if (o->x_axis) {
        if ((xa = axis_index(sw, o->x_axis)) < 0)
            return fail(err, n, "--x %s: the sweep has no such axis", o->x_axis);
        if (!sw->axes[xa].numeric)
            return fail(err, n, "--x %s: not a numeric axis (values such as '%s')", o->x_axis, sw->axes[xa].values[0]);
    } else {
        for (a = 0; a < sw->axis_count && xa < 0; ++a)
            if (sw->axes[a].numeric && sw->axes[a].count >= 2)
                xa = (int)a;
    }
    if (o->series_axis) {
        if ((sa = axis_index(sw, o->series_axis)) < 0)
            return fail(err, n, "--series %s: the sweep has no such axis", o->series_axis);
        if (sa == xa)
            return fail(err, n, "--series %s is the X axis too", o->series_axis);
    } else {
        for (a = 0; a < sw->axis_count && sa < 0; ++a)
            if ((int)a != xa && sw->axes[a].count >= 2)
                sa = (int)a;
    }
    if (xa < 0) {
        sn_text_printf(md, "No surface: the sweep has no numeric axis with two or more values.\n\n");
        snprintf(sum->note, sizeof sum->note, "no numeric axis with two or more values: no surface plot");
        return 0;
    }
    for (a = 0; a < sw->axis_count; ++a) {
        facet[a] = (size_t)-1;
        if ((int)a != xa && (int)a != sa && sw->axes[a].count >= 2) {
            facets[nf++] = (int)a;
            combos *= sw->axes[a].count;
        }
    }
    /* X values in numeric order */
    xn = sw->axes[xa].count;
    xs = malloc(xn * sizeof *xs);
    order = malloc(xn * sizeof *order);
    if (!xs || !order) {
        free(xs);
        free(order);
        return fail(err, n, "out of memory");
    }
    for (a = 0; a < xn; ++a)
        order[a] = a;
    for (a = 1; a < xn; ++a) { /* insertion sort by value */
        size_t k = a, t = order[a];
        double v = strtod(sw->axes[xa].values[t], NULL);
        while (k > 0 && strtod(sw->axes[xa].values[order[k - 1]], NULL) > v) {
            order[k] = order[k - 1];
            --k;
        }
        order[k] = t;
    }
    for (a = 0; a < xn; ++a)
        xs[a] = strtod(sw->axes[xa].values[order[a]], NULL);
    snprintf(plot_dir, sizeof plot_dir, "%s/plots", out_dir);
    if (sn_mkdir_p(plot_dir) != 0) {
        free(xs);
        free(order);
        return fail(err, n, "%s: %s", plot_dir, strerror(errno));
    }
    sn_text_printf(md, "## Surfaces\n\nX: `%s` (numeric); series: %s%s%s. Each cell is the median over the "
                       "repetitions of the finished jobs; `-`: no finished job or the run does not record it.\n\n",
                   sw->axes[xa].name, sa >= 0 ? "`" : "", sa >= 0 ? sw->axes[sa].name : "none", sa >= 0 ? "`" : "");
    for (m = 0; m < metric_count; ++m) {
        const char *metric = metrics[m], *unit = metric_unit(c, metric);
        int known = 0;
        size_t sn = sa >= 0 ? sw->axes[sa].count : 1, si, xi;
        for (combo = 0; combo < combos; ++combo) {
            char title[600] = "", fname[400], safe[200], gp_path[1700], svg[1700], log[1700], e1[900], e2[300];
            size_t rest = combo, f;
            sn_text gp = {0};
            int any = 0;
            double lo = INFINITY, hi = -INFINITY;
            for (f = nf; f-- > 0;) {
                facet[facets[f]] = rest % sw->axes[facets[f]].count;
                rest /= sw->axes[facets[f]].count;
            }
            for (f = 0; f < nf; ++f)
                snprintf(title + strlen(title), sizeof title - strlen(title), "%s%s=%s", f ? ", " : "",
                         sw->axes[facets[f]].name, sw->axes[facets[f]].values[facet[facets[f]]]);
            /* the table */
            sn_text_printf(md, "### %s%s%s%s\n\n", metric, unit[0] ? " (" : "", unit, unit[0] ? ")" : "");
            if (nf)
                sn_text_printf(md, "With %s.\n\n", title);
            sn_text_printf(md, "| %s \\ %s |", sa >= 0 ? sw->axes[sa].name : "", sw->axes[xa].name);
            for (xi = 0; xi < xn; ++xi)
                sn_text_printf(md, " %s |", sw->axes[xa].values[order[xi]]);
            sn_text_printf(md, "\n|---|");
            for (xi = 0; xi < xn; ++xi)
                sn_text_printf(md, "---:|");
            sn_text_printf(md, "\n");
            for (si = 0; si < sn; ++si) {
                sn_text_printf(md, "| %s |", sa >= 0 ? sw->axes[sa].values[si] : "all");
                for (xi = 0; xi < xn; ++xi) {
                    char b[64];
                    double v = cell(c, metric, xa, order[xi], sa, si, facet, &known);
                    fmt_value(v, unit, b, sizeof b);
                    sn_text_printf(md, " %s |", b);
                    if (!isnan(v))
                        any = 1;
                }
                sn_text_printf(md, "\n");
            }
            sn_text_printf(md, "\nSource: %s.\n\n", metric_source(c, metric));
            if (!any)
                continue;
            if (sum->plots == MAX_PLOTS) {
                snprintf(sum->note, sizeof sum->note, "more than %d surface plots: the rest are tables only",
                         MAX_PLOTS);
                continue;
            }
            /* the plot */
            safe_name(metric, safe, sizeof safe);
            snprintf(fname, sizeof fname, "surface-%s", safe);
            if (nf) {
                char s2[300];
                safe_name(title, s2, sizeof s2);
                snprintf(fname + strlen(fname), sizeof fname - strlen(fname), "-%s", s2);
            }
            snprintf(gp_path, sizeof gp_path, "%s/%s.gp", plot_dir, fname);
            snprintf(svg, sizeof svg, "%s/%s.svg", plot_dir, fname);
            snprintf(log, sizeof log, "%s/gnuplot.log", plot_dir);
            sn_text_printf(&gp, "# supernav sweep collect: %s (data inline; run: gnuplot %s.gp)\n", fname, fname);
            sn_text_printf(&gp, "set encoding utf8\nset terminal svg size 760,440 dynamic noenhanced "
                                "font 'Helvetica,12' background '#ffffff'\n");
            sn_gnuplot_output(&gp, svg);
            gp_escape(sw->name, e2, sizeof e2);
            sn_text_printf(&gp, "set title \"%s: %s", e2, metric);
            if (nf) {
                gp_escape(title, e1, sizeof e1);
                sn_text_printf(&gp, " (%s)", e1);
            }
            sn_text_printf(&gp, "\"\nset grid lc rgb '#e0e0e0'\nset key outside right top\nset tics nomirror\n");
            gp_escape(sw->axes[xa].name, e2, sizeof e2);
            sn_text_printf(&gp, "set xlabel \"%s\"\nset ylabel \"%s%s%s%s\"\n", e2, metric, unit[0] ? " (" : "",
                           unit, unit[0] ? ")" : "");
            if (xs[0] > 0 && xs[xn - 1] / xs[0] >= 8)
                sn_text_printf(&gp, "set logscale x 2\n");
            sn_text_printf(&gp, "set xtics (");
            for (xi = 0; xi < xn; ++xi) {
                gp_escape(sw->axes[xa].values[order[xi]], e2, sizeof e2);
                sn_text_printf(&gp, "%s\"%s\" %.17g", xi ? ", " : "", e2, xs[xi]);
                if (xs[xi] < lo)
                    lo = xs[xi];
                if (xs[xi] > hi)
                    hi = xs[xi];
            }
            sn_text_printf(&gp, ")\n");
            if (hi > lo && !(xs[0] > 0 && xs[xn - 1] / xs[0] >= 8))
                sn_text_printf(&gp, "set xrange [%.17g:%.17g]\n", lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
            else if (hi > lo)
                sn_text_printf(&gp, "set xrange [%.17g:%.17g]\n", lo / 1.15, hi * 1.15);
            else
                sn_text_printf(&gp, "set xrange [%.17g:%.17g]\n", lo - 1, hi + 1);
            for (si = 0; si < sn; ++si) {
                sn_text_printf(&gp, "$s%zu << EOD\n", si);
                for (xi = 0; xi < xn; ++xi) {
                    double v = cell(c, metric, xa, order[xi], sa, si, facet, &known);
                    if (!isnan(v))
                        sn_text_printf(&gp, "%.17g %.17g\n", xs[xi], v);
                }
                sn_text_printf(&gp, "EOD\n");
            }
            sn_text_printf(&gp, "plot ");
            for (si = 0; si < sn; ++si) {
                gp_escape(sa >= 0 ? sw->axes[sa].values[si] : "all", e2, sizeof e2);
                sn_text_printf(&gp, "%s$s%zu u 1:2 w linespoints lw 2 pt 7 t \"%s\"", si ? ", \\\n     " : "", si, e2);
            }
            sn_text_printf(&gp, "\nunset output\n");
            if (write_text(gp_path, &gp, err, n) != 0 ||
                sn_gnuplot_plot(o->gnuplot, gp_path, svg, log, err, n) != 0) {
                sn_text_free(&gp);
                free(xs);
                free(order);
                return -1;
            }
            sn_text_free(&gp);
            sn_text_printf(md, "![%s](plots/%s.svg)\n\n", fname, fname);
            ++sum->plots;
        }
        if (!known && o->metric_count) {
            free(xs);
            free(order);
            return fail(err, n, "--metric %s: no finished run records it (a figure name, e.g. far_bytes, or a "
                        "summary.json path, e.g. latency_us.p99)", metric);
        }
    }
    free(xs);
    free(order);
    return 0;
}

int sn_sweep_collect(const sn_sweep *sw, const sn_sweep_collect_options *o, sn_sweep_collect_summary *sum,
                     char *err, size_t n)
{
    collect c;
    sn_text md = {0};
    char path[1200], **runs = NULL;
    size_t i, k = 0, a;
    int rc = -1;
    memset(&c, 0, sizeof c);
    memset(sum, 0, sizeof *sum);
    c.sw = sw;
    c.o = o;
    if (!o->out_dir)
        return fail(err, n, "no output directory");
    if (load_rows(&c, sum, err, n) != 0)
        goto done;
    if (sn_mkdir_p(o->out_dir) != 0) {
        fail(err, n, "%s: %s", o->out_dir, strerror(errno));
        goto done;
    }
    snprintf(sum->csv_path, sizeof sum->csv_path, "%s/sweep.csv", o->out_dir);
    snprintf(sum->json_path, sizeof sum->json_path, "%s/sweep.json", o->out_dir);
    snprintf(sum->md_path, sizeof sum->md_path, "%s/sweep.md", o->out_dir);
    if (write_csv(&c, sum->csv_path, err, n) != 0 || write_json(&c, sum->json_path, err, n) != 0)
        goto done;
    sn_text_printf(&md, "# Sweep %s\n\n%zu jobs (", sw->name, sw->job_count);
    for (a = 0; a < sw->axis_count; ++a)
        sn_text_printf(&md, "%s`%s` %zu", a ? " x " : "", sw->axes[a].name, sw->axes[a].count);
    if (sw->repeat > 1)
        sn_text_printf(&md, " x repeat %u", sw->repeat);
    sn_text_printf(&md, "), %zu done. Command template: `%s`. Sweep directory: `%s`; every job's row: "
                        "`sweep.csv` / `sweep.json`.\n\n", sum->done, sw->command, sw->dir);
    if (surfaces(&c, o->out_dir, &md, sum, err, n) != 0)
        goto done;
    /* the gate baseline and the report, of the finished runs */
    if (!(runs = calloc(sw->job_count, sizeof *runs))) {
        fail(err, n, "out of memory");
        goto done;
    }
    for (i = 0; i < sw->job_count; ++i)
        if (c.rows[i].state == SN_SWEEP_DONE)
            runs[k++] = c.rows[i].run;
    snprintf(path, sizeof path, "%s/baseline.json", o->out_dir);
    {
        char e[1400];
        sn_gate_thresholds th;
        sn_gate_thresholds_default(&th);
        if (sn_gate_write_baseline(runs, k, &th, path, e, sizeof e) != 0) {
            snprintf(sum->note, sizeof sum->note, "no gate baseline: %.500s", e);
            sn_text_printf(&md, "## Gate\n\nNo baseline written: %s\n\n", e);
        } else
            sn_text_printf(&md, "## Gate\n\n`baseline.json` records the deterministic figures of these %zu runs: "
                                "`supernav gate --baseline %s/baseline.json OTHER_SWEEP/runs` checks another "
                                "sweep of the same spec against them.\n\n", k, o->out_dir);
    }
    if (o->report) {
        sn_report_options ro;
        sn_report_summary rs;
        char rdir[1200], table[1200], e[1400], title[400];
        memset(&ro, 0, sizeof ro);
        snprintf(rdir, sizeof rdir, "%s/report", o->out_dir);
        snprintf(table, sizeof table, "%s/workloads/supernet/accuracy.csv", sw->workdir);
        snprintf(title, sizeof title, "supernav sweep %s", sw->name);
        ro.out_dir = rdir;
        ro.title = title;
        ro.gnuplot = o->gnuplot;
        if (access(table, R_OK) == 0)
            ro.accuracy_table = table;
        if (sn_report_write(runs, k, &ro, &rs, e, sizeof e) != 0) {
            fail(err, n, "report: %s", e);
            goto done;
        }
        sn_text_printf(&md, "## Report\n\n[report/report.html](report/report.html) (`supernav report` of the "
                            "finished runs: Pareto fronts, latency CDFs, timelines, energy).\n");
    }
    if (write_text(sum->md_path, &md, err, n) != 0)
        goto done;
    rc = 0;
done:
    free(runs);
    sn_text_free(&md);
    free_rows(&c);
    return rc;
}
