/* supernav reports: the CI regression gate (see sn_gate.h). */
#include "sn_gate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sn_file.h"
#include "sn_rundir.h"
#include "sn_stats.h"

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

void sn_gate_thresholds_default(sn_gate_thresholds *t)
{
    t->alpha = 0.05;
    t->wall_tolerance = 0.25;
    t->tight_rel = SN_FIGURE_TIGHT_REL;
}

const char *sn_gate_status_str(sn_gate_status s)
{
    switch (s) {
    case SN_GATE_SAME: return "same";
    case SN_GATE_WITHIN: return "within";
    case SN_GATE_IMPROVED: return "improved";
    case SN_GATE_NEW: return "new";
    case SN_GATE_REGRESSED: return "REGRESSED";
    case SN_GATE_CHANGED: return "CHANGED";
    default: return "MISSING";
    }
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static const char *run_isa(const sn_rundir *r)
{
    return str_or_empty(sn_rundir_str(r->context, "platform.properties.isa"));
}

/* ---- experiments: runs grouped by the name before '@' -------------------------------- */
typedef struct loaded {
    sn_rundir run;
    sn_figure_set fs;
    char key[96];            /* the experiment */
    long rep;                /* the repetition (0 when the name has no '@') */
    int ok;
    char err[200];
} loaded;

static int cmp_loaded(const void *a, const void *b)
{
    const loaded *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->rep > y->rep) - (x->rep < y->rep);
}

static void free_loaded(loaded *l, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        sn_figures_free(&l[i].fs);
        sn_rundir_free(&l[i].run);
    }
    free(l);
}

/* Loads every run (a failure is kept in ERR of its entry) and sorts them by experiment
 * and repetition. Returns NULL when memory runs out. */
static loaded *load_all(char *const *runs, size_t n)
{
    loaded *l = calloc(n + 1, sizeof *l);
    size_t i;
    if (!l)
        return NULL;
    for (i = 0; i < n; ++i) {
        const char *slash = strrchr(runs[i], '/'), *base = slash ? slash + 1 : runs[i];
        char *at;
        char lerr[1400];
        snprintf(l[i].key, sizeof l[i].key, "%s", base);
        if ((at = strrchr(l[i].key, '@'))) {
            l[i].rep = strtol(at + 1, NULL, 10);
            *at = '\0';
        }
        if (sn_rundir_load(runs[i], &l[i].run, lerr, sizeof lerr) != 0) {
            snprintf(l[i].err, sizeof l[i].err, "%.190s", lerr);
            continue;
        }
        if (sn_figures_of_run(&l[i].run, &l[i].fs) != 0) {
            free_loaded(l, n);
            return NULL;
        }
        l[i].ok = 1;
    }
    qsort(l, n, sizeof *l, cmp_loaded);
    return l;
}

static size_t group_end(const loaded *l, size_t n, size_t first)
{
    size_t j = first + 1;
    while (j < n && !strcmp(l[j].key, l[first].key))
        ++j;
    return j;
}

static int same_number(const sn_figure *f, double a, double b, double tight_rel)
{
    double d = fabs(a - b), m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return f->kind == SN_FIGURE_EXACT ? a == b : d <= tight_rel * m || d == 0.0;
}

/* The first deterministic figure on which B disagrees with A, or NULL. */
static const char *disagreement(const sn_figure_set *a, const sn_figure_set *b, double tight_rel)
{
    size_t i;
    for (i = 0; i < a->count; ++i) {
        const sn_figure *fa = &a->f[i], *fb = sn_figures_find(b, fa->name);
        if (fa->kind != SN_FIGURE_EXACT && fa->kind != SN_FIGURE_TIGHT)
            continue;
        if (!fb || strcmp(fa->text, fb->text) || !same_number(fa, fa->value, fb->value, tight_rel))
            return fa->name;
    }
    return NULL;
}

/* ---- writing -------------------------------------------------------------------------- */
static cJSON *number_or_null(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

/* A wall-clock figure as the baseline keeps it (3 decimals of its unit); the runs checked
 * against a baseline are rounded alike, so that a repetition equal to a baseline one ties
 * with it rather than falling below it by the rounding. */
static double wall_kept(double v)
{
    return round(v * 1000.0) / 1000.0;
}

static cJSON *baseline_entry(const loaded *l, size_t reps)
{
    const sn_rundir *r = &l[0].run;
    const sn_figure_set *fs = &l[0].fs;
    cJSON *e = cJSON_CreateObject(), *inputs, *figs, *wall;
    size_t i, k;
    cJSON_AddStringToObject(e, "platform", sn_rundir_platform(r));
    cJSON_AddStringToObject(e, "isa", run_isa(r));
    cJSON_AddStringToObject(e, "policy", sn_rundir_policy(r));
    cJSON_AddStringToObject(e, "trace", r->trace_name);
    cJSON_AddStringToObject(e, "clock", sn_rundir_clock(r));
    cJSON_AddStringToObject(e, "replay", str_or_empty(sn_rundir_str(r->context, "run.replay")));
    cJSON_AddNumberToObject(e, "repetitions", (double)reps);
    inputs = cJSON_AddObjectToObject(e, "inputs");
    cJSON_AddStringToObject(inputs, "model_sha256", str_or_empty(sn_rundir_input_sha256(r, "model")));
    cJSON_AddStringToObject(inputs, "trace_sha256", str_or_empty(sn_rundir_input_sha256(r, "trace")));
    figs = cJSON_AddObjectToObject(e, "figures");
    wall = cJSON_AddObjectToObject(e, "wall_medians");
    for (i = 0; i < fs->count; ++i) {
        const sn_figure *f = &fs->f[i];
        if (f->kind == SN_FIGURE_INFO)
            continue;
        if (f->kind == SN_FIGURE_WALL) {
            cJSON *a = cJSON_AddArrayToObject(wall, f->name);
            for (k = 0; k < reps; ++k) {
                const sn_figure *g = sn_figures_find(&l[k].fs, f->name);
                cJSON_AddItemToArray(a, number_or_null(g ? wall_kept(g->value) : (double)NAN));
            }
        } else if (f->text[0]) {
            cJSON_AddStringToObject(figs, f->name, f->text);
        } else {
            cJSON_AddItemToObject(figs, f->name, number_or_null(f->value));
        }
    }
    return e;
}

int sn_gate_write_baseline(char *const *runs, size_t n, const sn_gate_thresholds *t,
                           const char *path, char *err, size_t err_bytes)
{
    cJSON *root, *th, *entries;
    char stamp[32], *text;
    time_t now = time(NULL);
    struct tm tmv;
    loaded *l;
    size_t i, j, k;
    int rc;
    if (!(l = load_all(runs, n)))
        return fail(err, err_bytes, "out of memory");
    for (i = 0; i < n; ++i)
        if (!l[i].ok) {
            fail(err, err_bytes, "%s", l[i].err);
            free_loaded(l, n);
            return -1;
        }
    root = cJSON_CreateObject();
    gmtime_r(&now, &tmv);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    cJSON_AddNumberToObject(root, "schema_version", SN_GATE_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "kind", "supernav-gate-baseline");
    cJSON_AddStringToObject(root, "created_utc", stamp);
    cJSON_AddStringToObject(root, "git_revision", n ? str_or_empty(sn_rundir_str(l[0].run.context, "git_revision")) : "");
    th = cJSON_AddObjectToObject(root, "thresholds");
    cJSON_AddNumberToObject(th, "alpha", t->alpha);
    cJSON_AddNumberToObject(th, "wall_tolerance", t->wall_tolerance);
    cJSON_AddNumberToObject(th, "tight_rel", t->tight_rel);
    entries = cJSON_AddObjectToObject(root, "experiments");
    for (i = 0; i < n; i = j) {
        j = group_end(l, n, i);
        for (k = i + 1; k < j; ++k) {
            const char *what = disagreement(&l[i].fs, &l[k].fs, t->tight_rel);
            if (what) {
                fail(err, err_bytes, "%s and %s disagree on %s: not a deterministic set", l[i].run.name,
                     l[k].run.name, what);
                cJSON_Delete(root);
                free_loaded(l, n);
                return -1;
            }
        }
        cJSON_AddItemToObject(entries, l[i].key, baseline_entry(&l[i], j - i));
    }
    free_loaded(l, n);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return fail(err, err_bytes, "out of memory");
    {
        char dir[1024], *slash;
        snprintf(dir, sizeof dir, "%s", path);
        if ((slash = strrchr(dir, '/'))) {
            *slash = '\0';
            sn_mkdir_p(dir);
        }
    }
    rc = sn_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc == 0 ? 0 : fail(err, err_bytes, "%s: %s", path, strerror(errno));
}

/* ---- checking ------------------------------------------------------------------------- */
static sn_gate_row *new_row(sn_gate_result *res, size_t *cap, const char *run, const char *figure,
                            sn_figure_kind kind)
{
    sn_gate_row *r;
    if (res->count == *cap) {
        sn_gate_row *g;
        *cap = *cap ? 2 * *cap : 64;
        g = realloc(res->rows, *cap * sizeof *g);
        if (!g)
            return NULL;
        res->rows = g;
    }
    r = &res->rows[res->count++];
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", run);
    snprintf(r->figure, sizeof r->figure, "%s", figure);
    r->kind = kind;
    r->unit = "";
    r->base = r->cur = r->p = (double)NAN;
    return r;
}

static void settle(sn_gate_result *res, sn_gate_row *r, sn_gate_status s)
{
    r->status = s;
    if (s >= SN_GATE_REGRESSED)
        ++res->failures;
    if (s == SN_GATE_REGRESSED)
        ++res->regressions;
}

static void check_text(sn_gate_result *res, sn_gate_row *r, const char *base, const char *cur,
                       const char *why)
{
    snprintf(r->base_text, sizeof r->base_text, "%s", base);
    snprintf(r->cur_text, sizeof r->cur_text, "%s", cur);
    if (strcmp(base, cur) == 0) {
        settle(res, r, SN_GATE_SAME);
    } else {
        snprintf(r->note, sizeof r->note, "%s", why);
        settle(res, r, SN_GATE_CHANGED);
    }
}

static void check_number(sn_gate_result *res, sn_gate_row *r, const sn_figure *f, double base,
                         double tight_rel)
{
    double cur = f->value;
    int worse;
    r->base = base;
    r->cur = cur;
    if (same_number(f, base, cur, tight_rel)) {
        settle(res, r, SN_GATE_SAME);
        return;
    }
    if (isnan(base) || isnan(cur)) {
        snprintf(r->note, sizeof r->note, "recorded in %s only", isnan(base) ? "this run" : "the baseline");
        settle(res, r, SN_GATE_CHANGED);
        return;
    }
    worse = (f->better == SN_BETTER_HIGHER && cur < base) || (f->better == SN_BETTER_LOWER && cur > base);
    if (worse) {
        snprintf(r->note, sizeof r->note, "deterministic: worse than the baseline");
        settle(res, r, SN_GATE_REGRESSED);
    } else {
        snprintf(r->note, sizeof r->note, "deterministic: %s; if intended, refresh with 'make baseline'",
                 f->better == SN_BETTER_NEITHER ? "differs from the baseline" : "better than the baseline");
        settle(res, r, SN_GATE_CHANGED);
    }
}

/* The repetitions' values of a wall-clock figure (at most 64), rounded as a baseline keeps them. */
static size_t wall_values(const loaded *l, size_t reps, sn_gate_row *r, double *out,
                          sn_figure_better *better)
{
    size_t k, n = 0;
    for (k = 0; k < reps && n < 64; ++k) {
        const sn_figure *f = sn_figures_find(&l[k].fs, r->figure);
        if (f && !isnan(f->value)) {
            out[n++] = wall_kept(f->value);
            *better = f->better;
            r->unit = f->unit;
        }
    }
    return n;
}

/* A wall-clock figure: the baseline side is the reference runs' repetitions (REF, REF_REPS)
 * when given, else the medians the baseline file recorded (ARR). */
static void check_wall(sn_gate_result *res, sn_gate_row *r, const loaded *l, size_t reps,
                       const cJSON *arr, const loaded *ref, size_t ref_reps,
                       const sn_gate_thresholds *t)
{
    size_t nb = 0, nc;
    double b[64], c[64], rel, shift;
    const cJSON *v;
    sn_figure_better better = SN_BETTER_LOWER, ignored;
    sn_mwu u;
    if (ref)
        nb = wall_values(ref, ref_reps, r, b, &ignored);
    else
        cJSON_ArrayForEach(v, arr) if (cJSON_IsNumber(v) && nb < 64) b[nb++] = v->valuedouble;
    nc = wall_values(l, reps, r, c, &better);
    r->reps_base = nb;
    r->reps_cur = nc;
    if (nb == 0 || nc == 0) {
        snprintf(r->note, sizeof r->note, "no value in %s",
                 nb == 0 ? (ref ? "the reference runs" : "the baseline") : "these runs");
        settle(res, r, SN_GATE_MISSING);
        return;
    }
    r->base = sn_stats_median(b, nb);
    r->cur = sn_stats_median(c, nc);
    sn_stats_mann_whitney(b, nb, c, nc, &u);
    r->p = u.p;
    shift = r->base > 0 ? r->cur / r->base - 1.0 : 0.0;
    rel = better == SN_BETTER_HIGHER ? -shift : shift;
    if (u.p < t->alpha && rel > t->wall_tolerance) {
        snprintf(r->note, sizeof r->note, "%zu vs %zu reps%s: median %+.1f%% (tolerance %.0f%%), p %.2g < %g",
                 nb, nc, ref ? " (reference)" : "", 100.0 * shift, 100.0 * t->wall_tolerance, u.p, t->alpha);
        settle(res, r, SN_GATE_REGRESSED);
    } else if (u.p < t->alpha && rel < -t->wall_tolerance) {
        snprintf(r->note, sizeof r->note, "%zu vs %zu reps%s: median %+.1f%%, p %.2g: better than the %s",
                 nb, nc, ref ? " (reference)" : "", 100.0 * shift, u.p,
                 ref ? "reference" : "baseline");
        settle(res, r, SN_GATE_IMPROVED);
    } else {
        snprintf(r->note, sizeof r->note, "%zu vs %zu reps%s: median %+.1f%%: %s", nb, nc,
                 ref ? " (reference)" : "", 100.0 * shift,
                 u.p >= t->alpha ? (nb < 4 || nc < 4 ? "too few repetitions to test" : "not significant")
                                 : "within the tolerance");
        settle(res, r, SN_GATE_WITHIN);
    }
}

static int check_experiment(sn_gate_result *res, size_t *cap, const loaded *l, size_t reps,
                            const cJSON *entry, const loaded *ref, size_t ref_reps, int with_ref,
                            const sn_gate_thresholds *t)
{
    const sn_rundir *run = &l[0].run;
    const sn_figure_set *fs = &l[0].fs;
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(entry, "figures");
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(entry, "wall_medians"), *item;
    const char *name = l[0].key;
    sn_gate_row *r;
    size_t k;
#define ROW(fig, kind)                                                                     \
    if (!(r = new_row(res, cap, name, fig, kind)))                                         \
        return -1;
    ROW("platform", SN_FIGURE_EXACT);
    check_text(res, r, str_or_empty(sn_rundir_str(entry, "platform")), sn_rundir_platform(run),
               "another platform: not comparable");
    ROW("isa", SN_FIGURE_EXACT);
    check_text(res, r, str_or_empty(sn_rundir_str(entry, "isa")), run_isa(run),
               "another ISA: kernels and predictions may differ");
    ROW("input:model", SN_FIGURE_EXACT);
    check_text(res, r, str_or_empty(sn_rundir_str(entry, "inputs.model_sha256")),
               str_or_empty(sn_rundir_input_sha256(run, "model")),
               "another model image: refresh the baseline with 'make baseline' if intended");
    ROW("input:trace", SN_FIGURE_EXACT);
    check_text(res, r, str_or_empty(sn_rundir_str(entry, "inputs.trace_sha256")),
               str_or_empty(sn_rundir_input_sha256(run, "trace")), "another trace: not comparable");
    if ((figs && !cJSON_IsObject(figs)) || (wall && !cJSON_IsObject(wall))) {
        /* named figures only: an array's items have no names to pair with */
        ROW("baseline", SN_FIGURE_EXACT);
        snprintf(r->note, sizeof r->note, "the baseline's figures or wall_medians are not a JSON object");
        settle(res, r, SN_GATE_MISSING);
        figs = wall = NULL;
    }
    for (k = 1; k < reps; ++k) {
        const char *what = disagreement(fs, &l[k].fs, t->tight_rel);
        if (what) {
            ROW("repetitions", SN_FIGURE_EXACT);
            snprintf(r->note, sizeof r->note, "%.60s disagrees with %.60s on %.40s: not deterministic",
                     l[k].run.name, run->name, what);
            settle(res, r, SN_GATE_CHANGED);
        }
    }
    cJSON_ArrayForEach(item, figs) {
        const sn_figure *f = sn_figures_find(fs, item->string);
        ROW(item->string, f ? f->kind : SN_FIGURE_EXACT);
        if (!f) {
            snprintf(r->note, sizeof r->note, "this run does not record it");
            settle(res, r, SN_GATE_MISSING);
        } else if (cJSON_IsString(item) || f->text[0]) {
            r->unit = f->unit;
            check_text(res, r, cJSON_IsString(item) ? item->valuestring : "", f->text,
                       "deterministic: the served sequence differs from the baseline's");
        } else {
            r->unit = f->unit;
            r->kind = f->kind == SN_FIGURE_INFO ? SN_FIGURE_TIGHT : f->kind;
            check_number(res, r, f, cJSON_IsNumber(item) ? item->valuedouble : (double)NAN, t->tight_rel);
        }
    }
    if (with_ref && !ref_reps && wall && cJSON_GetArraySize(wall) > 0) {
        ROW("reference", SN_FIGURE_WALL);
        snprintf(r->note, sizeof r->note, "no readable reference run of this experiment: wall-clock not checked");
        settle(res, r, SN_GATE_MISSING);
    } else {
        cJSON_ArrayForEach(item, wall) {
            ROW(item->string, SN_FIGURE_WALL);
            check_wall(res, r, l, reps, item, with_ref ? ref : NULL, ref_reps, t);
        }
    }
#undef ROW
    return 0;
}

static int check_buffer(const char *baseline_path, const char *text, size_t size, char *const *runs,
                        size_t n, char *const *ref_runs, size_t n_ref,
                        const sn_gate_thresholds *override, sn_gate_result *res, char *err,
                        size_t err_bytes);

int sn_gate_check(const char *baseline_path, char *const *runs, size_t n,
                  const sn_gate_thresholds *override, sn_gate_result *res, char *err,
                  size_t err_bytes)
{
    return sn_gate_check_reference(baseline_path, runs, n, NULL, 0, override, res, err, err_bytes);
}

int sn_gate_check_reference(const char *baseline_path, char *const *runs, size_t n,
                            char *const *ref_runs, size_t n_ref, const sn_gate_thresholds *override,
                            sn_gate_result *res, char *err, size_t err_bytes)
{
    void *text;
    size_t size;
    int rc;
    memset(res, 0, sizeof *res);
    if (sn_read_file(baseline_path, &text, &size) != 0)
        return fail(err, err_bytes, "%s: %s (make baseline writes it)", baseline_path, strerror(errno));
    rc = check_buffer(baseline_path, text, size, runs, n, ref_runs, n_ref, override, res, err, err_bytes);
    free(text);
    return rc;
}

int sn_gate_check_buffer(const char *baseline_path, const char *text, size_t size,
                         char *const *runs, size_t n, const sn_gate_thresholds *override,
                         sn_gate_result *res, char *err, size_t err_bytes)
{
    return check_buffer(baseline_path, text, size, runs, n, NULL, 0, override, res, err, err_bytes);
}

/* The readable repetitions of experiment KEY among the reference runs R (N, sorted). */
static const loaded *reference_of(const loaded *r, size_t n, const char *key, size_t *reps)
{
    size_t i, j;
    *reps = 0;
    for (i = 0; i < n; i = j) {
        j = group_end(r, n, i);
        if (!strcmp(r[i].key, key)) {
            size_t m;
            for (m = i; m < j && r[m].ok; ++m) /* check_buffer keeps the readable ones first */
                ++*reps;
            return &r[i];
        }
    }
    return NULL;
}

static void readable_first(loaded *l, size_t i, size_t j)
{
    size_t m, good = 0;
    for (m = i; m < j; ++m) {
        if (l[m].ok) {
            if (m != i + good) {
                loaded tmp = l[i + good];
                l[i + good] = l[m];
                l[m] = tmp;
            }
            ++good;
        }
    }
}

static int check_buffer(const char *baseline_path, const char *text, size_t size, char *const *runs,
                        size_t n, char *const *ref_runs, size_t n_ref,
                        const sn_gate_thresholds *override, sn_gate_result *res, char *err,
                        size_t err_bytes)
{
    size_t cap = 0, i, j, groups = 0;
    cJSON *root, *entries, *entry;
    loaded *l = NULL, *ref = NULL;
    char *seen = NULL;
    const char *s;
    double v;
    int entry_count;
    memset(res, 0, sizeof *res);
    root = cJSON_ParseWithLength(text, size);
    if (!root || sn_rundir_num(root, "schema_version") != SN_GATE_SCHEMA_VERSION ||
        !cJSON_IsObject(entries = cJSON_GetObjectItemCaseSensitive(root, "experiments"))) {
        cJSON_Delete(root);
        return fail(err, err_bytes, "%s: not a supernav gate baseline of schema %d (make baseline)",
                    baseline_path, SN_GATE_SCHEMA_VERSION);
    }
    sn_gate_thresholds_default(&res->thresholds);
    if ((v = sn_rundir_num(root, "thresholds.alpha")) > 0)
        res->thresholds.alpha = v;
    if ((v = sn_rundir_num(root, "thresholds.wall_tolerance")) > 0)
        res->thresholds.wall_tolerance = v;
    if ((v = sn_rundir_num(root, "thresholds.tight_rel")) > 0)
        res->thresholds.tight_rel = v;
    if (override) {
        if (override->alpha > 0)
            res->thresholds.alpha = override->alpha;
        if (override->wall_tolerance > 0)
            res->thresholds.wall_tolerance = override->wall_tolerance;
        if (override->tight_rel > 0)
            res->thresholds.tight_rel = override->tight_rel;
    }
    snprintf(res->baseline_created, sizeof res->baseline_created, "%s",
             (s = sn_rundir_str(root, "created_utc")) ? s : "?");
    snprintf(res->baseline_revision, sizeof res->baseline_revision, "%s",
             (s = sn_rundir_str(root, "git_revision")) ? s : "?");
    entry_count = cJSON_GetArraySize(entries);
    if (!(seen = calloc((size_t)entry_count + 1, 1)) || !(l = load_all(runs, n)) ||
        (ref_runs && !(ref = load_all(ref_runs, n_ref))))
        goto nomem;
    for (i = 0; ref && i < n_ref; i = group_end(ref, n_ref, i))
        readable_first(ref, i, group_end(ref, n_ref, i));
    res->wall_reference = ref_runs != NULL;
    for (i = 0; i < n; i = group_end(l, n, i))
        ++groups;
    for (i = 0; i < n; i = j) {
        sn_gate_row *r;
        int k = 0, found = -1;
        size_t good = 0, m;
        j = group_end(l, n, i);
        for (m = i; m < j; ++m) {
            if (l[m].ok) {
                if (m != i + good) { /* keep the readable repetitions first */
                    loaded tmp = l[i + good];
                    l[i + good] = l[m];
                    l[m] = tmp;
                }
                ++good;
            } else {
                if (!(r = new_row(res, &cap, l[m].key, "run", SN_FIGURE_EXACT)))
                    goto nomem;
                snprintf(r->note, sizeof r->note, "%s", l[m].err);
                settle(res, r, SN_GATE_MISSING);
            }
        }
        cJSON_ArrayForEach(entry, entries) {
            if (!strcmp(entry->string, l[i].key))
                found = k;
            ++k;
        }
        if (found < 0 && groups == 1 && entry_count == 1)
            found = 0; /* one experiment against a one-experiment baseline: paired */
        if (found < 0) {
            if (!(r = new_row(res, &cap, l[i].key, "run", SN_FIGURE_INFO)))
                goto nomem;
            snprintf(r->note, sizeof r->note, "not in the baseline: not gated");
            settle(res, r, SN_GATE_NEW);
            continue;
        }
        seen[found] = 1;
        if (good) {
            size_t ref_reps = 0;
            const loaded *rl = ref ? reference_of(ref, n_ref, l[i].key, &ref_reps) : NULL;
            if (check_experiment(res, &cap, &l[i], good, cJSON_GetArrayItem(entries, found), rl,
                                 ref_reps, ref_runs != NULL, &res->thresholds) != 0)
                goto nomem;
        }
    }
    i = 0;
    cJSON_ArrayForEach(entry, entries) {
        if (!seen[i++]) {
            sn_gate_row *r = new_row(res, &cap, entry->string, "run", SN_FIGURE_EXACT);
            if (!r)
                goto nomem;
            snprintf(r->note, sizeof r->note, "in the baseline, not among the runs given");
            settle(res, r, SN_GATE_MISSING);
        }
    }
    free_loaded(l, n);
    if (ref)
        free_loaded(ref, n_ref);
    free(seen);
    cJSON_Delete(root);
    return 0;
nomem:
    if (l)
        free_loaded(l, n);
    if (ref)
        free_loaded(ref, n_ref);
    free(seen);
    cJSON_Delete(root);
    sn_gate_result_free(res);
    return fail(err, err_bytes, "out of memory");
}

void sn_gate_result_free(sn_gate_result *res)
{
    free(res->rows);
    res->rows = NULL;
    res->count = 0;
}
