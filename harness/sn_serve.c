/* supernav harness: SubNet/SubGraph serving, profiling and trace replay (see sn_serve.h). */
#include "sn_serve.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sn_canvas.h" /* sn_canvas_test_prefix */
#include "sn_counters.h"
#include "sn_energy.h"
#include "sn_csv.h"
#include "sn_file.h"
#include "sn_run.h"
#include "sn_sha256.h"

#ifndef SN_SERVE_VERSION
#define SN_SERVE_VERSION "0.1.0"
#endif

int sn_serve_fail(char *err, size_t err_bytes, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_bytes, fmt, ap);
    va_end(ap);
    return -1;
}

int64_t sn_serve_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the serving set ----------------------------------------------------------------- */
static int cmp_subnet(const void *a, const void *b)
{
    const sn_serve_subnet *x = a, *y = b;
    return x->macs < y->macs ? -1 : x->macs > y->macs;
}

/* Whether serving-set entry A dominates B: no more table MACs, no less top-1, one strictly. */
static int dominates(const sn_serve_subnet *a, const sn_serve_subnet *b)
{
    return a->macs <= b->macs && a->top1 >= b->top1 && (a->macs < b->macs || a->top1 > b->top1);
}

/* opt.arac: whether ARAC row A[I] (of N) is dominated by a SubNet of the set or another ARAC row. */
static int arac_dominated(const sn_serve *sv, const sn_serve_subnet *a, uint32_t n, uint32_t i)
{
    uint32_t j;
    for (j = 0; j < sv->n; ++j)
        if (dominates(&sv->s[j], &a[i]))
            return 1;
    for (j = 0; j < n; ++j)
        if (j != i && dominates(&a[j], &a[i]))
            return 1;
    return 0;
}

static int load_table(sn_serve *sv, char *err, size_t n)
{
    char *text, *line, *save = NULL;
    int row = 0, ck = -1, cc = -1, ct = -1, cm = -1;
    uint32_t n_arac = 0;
    sn_serve_subnet *arac_rows = NULL;
    if (!sv->model.table)
        return sn_serve_fail(err, n, "%s: the image holds no accuracy table (pack --table)", sv->opt.model_path);
    text = malloc(sv->model.table_bytes + 1);
    if (!text)
        return sn_serve_fail(err, n, "out of memory");
    memcpy(text, sv->model.table, sv->model.table_bytes);
    text[sv->model.table_bytes] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++row) {
        char *f[16];
        int k = sn_csv_split(line, f, 16), i;
        if (row == 0) {
            for (i = 0; i < k; ++i) {
                if (!strcmp(f[i], "kind")) ck = i;
                if (!strcmp(f[i], "config")) cc = i;
                if (!strcmp(f[i], "top1")) ct = i;
                if (!strcmp(f[i], "macs")) cm = i;
            }
            if (ck < 0 || cc < 0 || ct < 0) {
                free(text);
                return sn_serve_fail(err, n, "the accuracy table lacks a kind, config or top1 column");
            }
            continue;
        }
        if (k <= ck || k <= cc || k <= ct)
            continue;
        if (sv->opt.arac && !strcmp(f[ck], "arac")) {
            /* kept aside: the SubNets come first, then the undominated ARAC rows */
            sn_serve_subnet *g;
            if (cm < 0 || k <= cm) {
                free(text);
                free(arac_rows);
                return sn_serve_fail(err, n, "the accuracy table has ARAC rows but no macs column");
            }
            if (strlen(f[cc]) >= SN_CONFIG_TEXT_MAX ||
                !(g = realloc(arac_rows, (n_arac + 1) * sizeof *g))) {
                free(text);
                free(arac_rows);
                return sn_serve_fail(err, n, "accuracy table line %d: config too long (or out of memory)", row + 1);
            }
            arac_rows = g;
            memset(&arac_rows[n_arac], 0, sizeof arac_rows[n_arac]);
            strcpy(arac_rows[n_arac].config, f[cc]);
            arac_rows[n_arac].top1 = strtod(f[ct], NULL) / 100.0;
            arac_rows[n_arac].macs = strtoll(f[cm], NULL, 10);
            arac_rows[n_arac].arac = 1;
            ++n_arac;
            continue;
        }
        if (strcmp(f[ck], "subnet") != 0)
            continue;
        if (sv->n == SN_SERVE_MAX_SUBNETS) {
            free(arac_rows);
            free(text);
            return sn_serve_fail(err, n, "more than %d SubNets in the accuracy table", SN_SERVE_MAX_SUBNETS);
        }
        if (strlen(f[cc]) >= SN_CONFIG_TEXT_MAX) {
            free(text);
            free(arac_rows);
            return sn_serve_fail(err, n, "accuracy table line %d: config too long", row + 1);
        }
        strcpy(sv->s[sv->n].config, f[cc]);
        sv->s[sv->n].top1 = strtod(f[ct], NULL) / 100.0;
        sv->s[sv->n].macs = cm >= 0 && k > cm ? strtoll(f[cm], NULL, 10) : 0;
        ++sv->n;
    }
    free(text);
    if (sv->n == 0) {
        free(arac_rows);
        return sn_serve_fail(err, n, "the accuracy table lists no SubNet");
    }
    if (sv->opt.arac) {
        uint32_t i, first = sv->n;
        if (n_arac == 0)
            return sn_serve_fail(err, n, "--arac: the accuracy table lists no ARAC config");
        uint8_t *drop = calloc(n_arac, 1);
        if (!drop) {
            free(arac_rows);
            return sn_serve_fail(err, n, "out of memory");
        }
        for (i = 0; i < n_arac; ++i)
            drop[i] = (uint8_t)arac_dominated(sv, arac_rows, n_arac, i);
        for (i = 0; i < n_arac; ++i) {
            if (drop[i])
                continue;
            if (sv->n == SN_SERVE_MAX_SUBNETS) {
                free(drop);
                free(arac_rows);
                return sn_serve_fail(err, n, "more than %d SubNets and ARAC configs in the accuracy table",
                                     SN_SERVE_MAX_SUBNETS);
            }
            sv->s[sv->n++] = arac_rows[i];
        }
        free(drop);
        free(arac_rows);
        if (sv->n == first)
            return sn_serve_fail(err, n, "--arac: every ARAC config of the table is dominated by a SubNet "
                                 "(table MACs and top-1): none would ever be chosen");
    }
    return 0;
}

static int plan_all(sn_serve *sv, int precision, char *err, size_t n)
{
    uint32_t i;
    for (i = 0; i < sv->n; ++i) {
        free(sv->s[i].plan); /* planned again (the null platform simulating an int8 profile) */
        free(sv->s[i].arena);
        sv->s[i].plan = NULL;
        sv->s[i].arena = NULL;
    }
    for (i = 0; i < sv->n; ++i) {
        sn_serve_subnet *s = &sv->s[i];
        sn_config cfg;
        size_t need;
        const char *why = "";
        if (sn_config_parse(s->config, &cfg) != SN_OK || cfg.is_arac != s->arac)
            return sn_serve_fail(err, n, "accuracy table: '%s' is not a%s config", s->config,
                                 s->arac ? "n ARAC" : " SubNet");
        if (sn_plan_arena_bytes_p(&sv->model, &cfg, precision, &need) != SN_OK)
            return sn_serve_fail(err, n, "%s: not servable by this model", s->config);
        s->plan = malloc(sizeof *s->plan);
        if (!s->plan || posix_memalign(&s->arena, 64, need) != 0)
            return sn_serve_fail(err, n, "out of memory");
        if (sn_plan_prepare_p(s->plan, &sv->model, &cfg, precision, s->arena, need, &why) != SN_OK)
            return sn_serve_fail(err, n, "%s: %s", s->config, why);
        if (!s->arac) /* an ARAC config keeps the table's mean: its plan's depend on the image */
            s->macs = s->plan->macs;
    }
    qsort(sv->s, sv->n, sizeof sv->s[0], cmp_subnet);
    return 0;
}

static int load_idx(const char *path, int nd, const uint32_t *dims, sn_idx *idx, char *err, size_t n)
{
    sn_idx_status st = sn_idx_read(path, idx);
    if (st == SN_IDX_OK)
        st = sn_idx_expect(idx, nd, dims);
    if (st != SN_IDX_OK)
        return sn_serve_fail(err, n, "%s: %s (make datasets)", path, sn_idx_status_str(st));
    return 0;
}

/* The serving set's tensors as slices (harness/sn_slices.h), from its plans, QUANTUM output
 * channels per near/far unit. */
static int slices_open(sn_serve *sv, int32_t quantum, char *err, size_t n)
{
    sn_plan *plans[SN_SERVE_MAX_SUBNETS];
    uint32_t i;
    if (!sv->slices)
        sv->slices = malloc(sizeof *sv->slices);
    if (!sv->sg)
        sv->sg = calloc(SN_SERVE_MAX_SUBGRAPHS, sizeof *sv->sg);
    if (!sv->slices || !sv->sg)
        return sn_serve_fail(err, n, "out of memory");
    for (i = 0; i < sv->n; ++i)
        plans[i] = sv->s[i].plan;
    if (sn_slices_build(sv->slices, &sv->model, plans, sv->n, err, n) != 0)
        return -1;
    sv->slices->quantum = quantum > 0 ? quantum : 1;
    return 0;
}

/* Opens the platform through the SUT registry for the serving set, and keeps the SubNets
 * it can serve. */
static int open_sut(sn_serve *sv, const sn_sut_ops *ops, char *err, size_t n)
{
    const char *configs[SN_SERVE_MAX_SUBNETS];
    sn_plan *plans[SN_SERVE_MAX_SUBNETS];
    uint8_t keep[SN_SERVE_MAX_SUBNETS];
    sn_sut_set set;
    uint32_t i, k = 0;
    for (i = 0; i < sv->n; ++i) {
        configs[i] = sv->s[i].config;
        plans[i] = sv->s[i].plan;
        keep[i] = 0;
    }
    set.model = &sv->model;
    set.precision = ops->precision;
    set.n = sv->n;
    set.configs = configs;
    set.plans = plans;
    sv->opt.sut.explicit_residency = 1;
    if (ops->open(&sv->sut, &set, &sv->opt.sut, keep, err, n) != SN_OK) {
        sv->sut = NULL;
        return -1;
    }
    for (i = 0; i < sv->n; ++i) { /* serve only what fits the platform */
        if (keep[i])
            sv->s[k++] = sv->s[i];
        else {
            free(sv->s[i].plan);
            free(sv->s[i].arena);
        }
    }
    sv->n = k;
    ops->describe(sv->sut, &sv->desc);
    sv->near_budget_bytes = sv->desc.near_budget_bytes;
    if (ops->resident_slices) { /* SUSHI's SubGraph as slices (harness/sn_slices.h) */
        if (slices_open(sv, sv->desc.slice_quantum, err, n) != 0)
            return -1;
        sv->slices_exact = sv->desc.clock == SN_SUT_CLOCK_MODEL && ops->estimate != NULL;
    }
    return 0;
}

static int resident_slices(sn_serve *sv, uint32_t g, int charge, sn_sut_moved *m, char *err, size_t n);

/* Canvas SAMPLE of the serving set, and where it lies in its file. */
static sn_sut_sample sample_of(const sn_serve *sv, uint32_t sample)
{
    const uint32_t side = sv->model.arch.canvas;
    sn_sut_sample smp;
    smp.canvas = sv->images.data + (size_t)sample * side * side;
    smp.side = side;
    smp.file = sv->images_path;
    smp.file_offset = sv->images.header_bytes + (uint64_t)sample * side * side;
    return smp;
}

/* After a profile: the slices' cost model and every SubNet's SubGraph as slices. On a
 * platform with its own deterministic clock (a model: fpga) the fit also sees slice SubGraphs
 * that are no SubNet's -- the knapsack's for a demand of one SubNet, of every pair of
 * neighbours and of all, each made resident and every SubNet served once under it -- so that
 * the savings of mixed-width slices, which are not additive, are in the data the model is
 * fitted to. */
static void slices_after_profile(sn_serve *sv)
{
    const sn_slices *x = sv->slices;
    sn_subgraph *extra = NULL;
    double *extra_lat = NULL, w[SN_SERVE_MAX_SUBNETS];
    uint32_t g, k, s, n_extra = 0;
    char why[512];
    if (!sv->slices)
        return;
    for (g = 0; g < sv->n; ++g)
        sn_slices_of_subnet(sv->slices, g, sv->near_budget_bytes, &sv->sg[g]);
    memset(&sv->sg[sv->n], 0, sizeof sv->sg[sv->n]);
    /* first on the SubNets' SubGraphs (the knapsack needs a model to choose with) */
    sn_slices_fit(sv->slices, &sv->lat_us[0][0], SN_SERVE_MAX_SUBGRAPHS, sv->switch_us, sv->switch_bytes,
                  sv->near_budget_bytes, NULL, 0, NULL);
    if (sv->desc.clock == SN_SUT_CLOCK_MODEL) {
        extra = calloc((size_t)2 * sv->n + 1, sizeof *extra);
        extra_lat = calloc(((size_t)2 * sv->n + 1) * sv->n, sizeof *extra_lat);
    }
    for (k = 0; extra && extra_lat && k < 2 * sv->n + 1; ++k) {
        sn_sut_moved mv;
        uint32_t slot = sv->n + 1;
        for (s = 0; s < sv->n; ++s) /* one SubNet (k < n), two neighbours, or all (k == 2n) */
            w[s] = k == 2 * sv->n || s == k % sv->n || (k >= sv->n && s == (k % sv->n + 1) % sv->n) ? 1.0 : 0.0;
        sn_slices_knapsack(x, w, sv->near_budget_bytes, &extra[n_extra]);
        sv->sg[slot] = extra[n_extra];
        if (sv->sut->ops->resident_slices == NULL || resident_slices(sv, slot, 0, &mv, why, sizeof why) != 0)
            break;
        extra[n_extra] = sv->sg[slot]; /* what the platform placed */
        for (s = 0; s < sv->n; ++s) {
            sn_sut_result r;
            if (sn_serve_infer(sv, s, 0, &r, why, sizeof why) != 0 || r.us < 0.0)
                break;
            extra_lat[(size_t)n_extra * sv->n + s] = r.us;
        }
        if (s < sv->n)
            break;
        ++n_extra;
    }
    if (extra && n_extra) { /* leave nothing resident, as the profile does */
        sn_sut_moved mv;
        sv->sg[sv->n + 1] = sv->sg[sv->n];
        resident_slices(sv, sv->n + 1, 0, &mv, why, sizeof why);
        if (sv->sut->ops->account_reset)
            sv->sut->ops->account_reset(sv->sut);
    }
    if (n_extra)
        sn_slices_fit(sv->slices, &sv->lat_us[0][0], SN_SERVE_MAX_SUBGRAPHS, sv->switch_us, sv->switch_bytes,
                      sv->near_budget_bytes, extra, n_extra, extra_lat);
    free(extra);
    free(extra_lat);
}

uint32_t sn_serve_subgraph_knapsack(sn_serve *sv, const double *mix, uint32_t slot, const char *name,
                                    uint32_t fallback)
{
    sn_subgraph *r = malloc(sizeof *r); /* about 2 KB: not on the policies' stacks */
    uint32_t g;
    if (!r)
        return fallback;
    sn_slices_knapsack(sv->slices, mix, sv->near_budget_bytes, r);
    g = sn_serve_subgraph_set(sv, slot, r, name, 1);
    free(r);
    return g;
}

/* An entry's p95 / p50 with no SubGraph resident (1 when unmeasured): how a predicted
 * slice SubGraph's p50 becomes its p95. */
static double p95_ratio(const sn_serve *sv, uint32_t i)
{
    double a = sv->lat_us[i][sv->n], b = sv->lat_p95_us[i][sv->n];
    return a > 0.0 && b >= a ? b / a : 1.0;
}

uint32_t sn_serve_subgraph_set(sn_serve *sv, uint32_t slot, const sn_subgraph *r, const char *name, int exact)
{
    uint32_t g = sv->n + 1 + slot, i;
    uint64_t all;
    sv->sg[g] = *r;
    snprintf(sv->dyn_name[slot], sizeof sv->dyn_name[slot], "%s", name);
    all = sn_slices_bytes(sv->slices, r);
    sv->switch_bytes[g] = all;
    sv->switch_us[g] = sn_slices_switch_us(sv->slices, all);
    for (i = 0; i < sv->n; ++i) {
        uint64_t near = sn_slices_near_bytes(sv->slices, i, r);
        sv->lat_us[i][g] = sn_slices_predict_us(sv->slices, i, r);
        sv->lat_p95_us[i][g] = sv->lat_us[i][g] * p95_ratio(sv, i);
        sv->near_bytes[i][g] = near;
        sv->far_bytes[i][g] = sn_slices_subnet_bytes(sv->slices, i) - near;
    }
    /* a platform that is a deterministic model prices it exactly: made resident outside the
     * run's account, every SubNet estimated once, then what was resident restored */
    if (exact && sv->slices_exact && g != sv->g_resident) {
        uint32_t was = sv->g_resident;
        sn_sut_moved mv;
        char why[256];
        if (resident_slices(sv, g, 0, &mv, why, sizeof why) == 0) {
            for (i = 0; i < sv->n; ++i) {
                sn_sut_sample smp = sample_of(sv, 0);
                double us;
                if (sv->sut->ops->estimate(sv->sut, i, sv->s[i].plan, &smp, &us, why, sizeof why) == SN_OK) {
                    sv->lat_us[i][g] = us;
                    sv->lat_p95_us[i][g] = us * p95_ratio(sv, i);
                }
            }
            resident_slices(sv, was, 0, &mv, why, sizeof why);
        }
    }
    return g;
}

int sn_serve_slices_priced(const sn_serve *sv)
{
    return sv->slices && (sv->slices_exact || sv->slices->fit_r2 >= SN_SERVE_SLICES_MIN_FIT_R2);
}

uint64_t sn_serve_switch_bytes(const sn_serve *sv, uint32_t from, uint32_t to)
{
    if (from == to) /* staying costs nothing */
        return 0;
    if (!sv->slices)
        return to < sv->n ? sv->switch_bytes[to] : 0;
    return sn_slices_diff_bytes(sv->slices, &sv->sg[from], &sv->sg[to]);
}

double sn_serve_switch_us(const sn_serve *sv, uint32_t from, uint32_t to)
{
    if (from == to) /* staying costs nothing */
        return 0.0;
    if (!sv->slices)
        return to < sv->n ? sv->switch_us[to] : 0.0;
    return sn_slices_switch_us(sv->slices, sn_slices_diff_bytes(sv->slices, &sv->sg[from], &sv->sg[to]));
}

const char *sn_serve_subgraph_name(const sn_serve *sv, uint32_t g)
{
    if (g < sv->n)
        return sv->s[g].config;
    if (g > sv->n && g <= sv->n + SN_SERVE_DYN)
        return sv->dyn_name[g - sv->n - 1];
    return "";
}

int sn_serve_open(sn_serve *sv, const sn_serve_options *opt, char *err, size_t n)
{
    sn_model_error me;
    char path[1024], names[128];
    uint32_t d3[3] = {0, 0, 0}, d1[1] = {0};
    const sn_sut_ops *ops;
    memset(sv, 0, sizeof *sv);
    sv->last_subnet = UINT32_MAX;
    sv->opt = *opt;
    if (!sv->opt.model_path)
        sv->opt.model_path = "build/supernet.snm";
    if (!sv->opt.platform)
        sv->opt.platform = "cpu";
    if (!(ops = sn_sut_find(sv->opt.platform))) {
        sn_sut_list(names, sizeof names);
        return sn_serve_fail(err, n, "platform '%s' cannot serve traces (%s)", sv->opt.platform, names);
    }
    if (sn_read_file(sv->opt.model_path, &sv->image, &sv->image_bytes) != 0)
        return sn_serve_fail(err, n, "%s: %s", sv->opt.model_path, strerror(errno));
    if (sn_model_load(&sv->model, sv->image, sv->image_bytes, &me) != SN_OK)
        return sn_serve_fail(err, n, "%s: %s at byte %llu", sv->opt.model_path, me.what,
                    (unsigned long long)me.offset);
    {
        char hex[SN_SHA256_HEX_BYTES];
        sn_sha256_hex_of(sv->image, sv->image_bytes, hex);
        memcpy(sv->model_sha, hex, 64);
        sv->model_sha[64] = '\0';
    }
    if (load_table(sv, err, n) != 0 || plan_all(sv, ops->precision, err, n) != 0)
        return -1;
    if (!sv->opt.data_prefix && !(sv->opt.data_prefix = sn_canvas_test_prefix(sv->model.arch.task)))
        return sn_serve_fail(err, n, "%s names canvas task %u, which this build does not know (give the canvases)",
                             sv->opt.model_path, sv->model.arch.task);
    snprintf(sv->images_path, sizeof sv->images_path, "%s-images-idx3-ubyte", sv->opt.data_prefix);
    d3[1] = d3[2] = sv->model.arch.canvas;
    if (load_idx(sv->images_path, 3, d3, &sv->images, err, n) != 0)
        return -1;
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", sv->opt.data_prefix);
    d1[0] = sv->images.dims[0];
    if (load_idx(path, 1, d1, &sv->labels, err, n) != 0)
        return -1;
    return open_sut(sv, ops, err, n);
}

void sn_serve_close(sn_serve *sv)
{
    uint32_t i;
    for (i = 0; i < sv->n; ++i) {
        free(sv->s[i].plan);
        free(sv->s[i].arena);
    }
    if (sv->sut)
        sv->sut->ops->close(sv->sut);
    sn_idx_free(&sv->images);
    sn_idx_free(&sv->labels);
    free(sv->image);
    free(sv->slices);
    free(sv->sg);
    memset(sv, 0, sizeof *sv);
}

/* ---- residency and one inference ----------------------------------------------------- */
int sn_serve_computes(const sn_serve *sv)
{
    return sv->desc.clock != SN_SUT_CLOCK_NONE;
}

/* SubGraph G as slices through the SUT; what it placed is what is resident. */
static int resident_slices(sn_serve *sv, uint32_t g, int charge, sn_sut_moved *m, char *err, size_t n)
{
    const sn_slices *x = sv->slices;
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS] = {{0}};
    uint8_t placed[SN_SLICES_MAX_TENSORS], tix[SN_SLICES_MAX_TENSORS];
    uint32_t t, c = 0, k;
    if (!sv->sut->ops->resident_slices) { /* simulated (sim_slice_quantum): all of it, nothing timed */
        m->bytes = 0;
        m->us = -1.0;
        return 0;
    }
    for (t = 0; t < x->nt; ++t) {
        sn_slice_box b = sv->sg[g].b[t];
        const sn_slice_tensor *st = &x->t[t];
        if (b.k <= 0 || b.o <= 0)
            continue;
        sl[c] = (sn_sut_slice){st->w, st->dw, st->s8, b.o, st->dw ? 0 : b.i, b.k};
        tix[c++] = (uint8_t)t;
    }
    if (sv->sut->ops->resident_slices(sv->sut, sl, c, charge, placed, m, err, n) != SN_OK)
        return -1;
    for (k = 0; k < c; ++k)
        if (!placed[k])
            sv->sg[g].b[tix[k]] = (sn_slice_box){0, 0, 0};
    return 0;
}

int sn_serve_resident(sn_serve *sv, uint32_t g, int charge, sn_sut_moved *m, char *err, size_t n)
{
    sv->g_resident = g;
    if (sv->slices && sv->profiled)
        return resident_slices(sv, g, charge, m, err, n);
    return sv->sut->ops->resident(sv->sut, g < sv->n ? (int32_t)g : -1, g < sv->n ? sv->s[g].plan : NULL,
                                  charge, m, err, n) == SN_OK ? 0 : -1;
}

int sn_serve_infer(sn_serve *sv, uint32_t s, uint32_t sample, sn_sut_result *r, char *err, size_t n)
{
    sn_sut_sample smp = sample_of(sv, sample);
    if (sv->sut->ops->infer(sv->sut, s, sv->s[s].plan, &smp, r, err, n) != SN_OK)
        return -1;
    sv->last_subnet = s;
    return 0;
}

/* ---- profile ---------------------------------------------------------------------------- */
void sn_serve_profile_path(const sn_serve *sv, char *buf, size_t n)
{
    /* v3: far weights read cold from one packed copy, near ones a resident box of it, the
     * budget in the model's bytes (platforms/cpu); v4: each SubNet's re-plan (replan_us); v5:
     * measured platforms in rounds over every row (profile_measure) */
    snprintf(buf, n, "build/profile/v5-%s-%s-%zu-%.16s%s.json", sv->desc.name, sv->desc.variant,
             sv->near_budget_bytes, sv->model_sha, sv->opt.arac ? "-arac" : "");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* SAME_BUILD: the cache's check -- a profile measured by another build (other kernels; for
 * the mcu, another firmware: its kernels and its re-plan, which made a cached 46-111 ms
 * re-plan outlive the 1 ms one in a sweep's setup) is measured again rather than reused. On
 * failure, why it is not this serving set's profile, one clause, into WHY. */
static int profile_load(sn_serve *sv, const char *path, int same_build, char *why, size_t wn)
{
    void *text;
    size_t size;
    cJSON *root, *subnets, *rows, *item, *plat;
    uint32_t i, g;
    int ok = 0, computes = sn_serve_computes(sv);
    if (sn_read_file(path, &text, &size) != 0) {
        snprintf(why, wn, "cannot read it: %s", strerror(errno));
        return -1;
    }
    root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root) {
        snprintf(why, wn, "not JSON");
        return -1;
    }
    subnets = cJSON_GetObjectItemCaseSensitive(root, "subnets");
    rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    item = cJSON_GetObjectItemCaseSensitive(root, "model_sha256");
    plat = cJSON_GetObjectItemCaseSensitive(root, "platform");
    {
        /* a profile before near_packed_once: the cpu's were (the only platform that was) */
        cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "latency_source");
        cJSON *once = cJSON_GetObjectItemCaseSensitive(root, "near_packed_once");
        sv->profile_poolable = cJSON_IsString(src) && !strncmp(src->valuestring, "measured:", 9) &&
                               (once ? cJSON_IsTrue(once)
                                     : cJSON_IsString(plat) && !strcmp(plat->valuestring, "cpu"));
    }
#ifdef SN_GIT_REV
    if (same_build) {
        cJSON *rev = cJSON_GetObjectItemCaseSensitive(root, "supernav_rev");
        if (!cJSON_IsString(rev) || strcmp(rev->valuestring, SN_GIT_REV) != 0) {
            snprintf(why, wn, "measured by another build of supernav (%s, this is %s)",
                     cJSON_IsString(rev) ? rev->valuestring : "none recorded", SN_GIT_REV);
            cJSON_Delete(root);
            return -1;
        }
#ifdef SN_BUILD_FLAGS
        /* the same revision compiled otherwise (a sanitizer build, which serves the plain
         * build's image and so shares its cache paths) measured other kernels' times */
        cJSON *flags = cJSON_GetObjectItemCaseSensitive(root, "supernav_build_flags");
        if (!cJSON_IsString(flags) || strcmp(flags->valuestring, SN_BUILD_FLAGS) != 0) {
            snprintf(why, wn, "measured by another build of supernav (compiled with %s)",
                     cJSON_IsString(flags) ? flags->valuestring : "flags not recorded");
            cJSON_Delete(root);
            return -1;
        }
#endif
    }
#else
    (void)same_build;
#endif
    /* the null platform simulates a profile: its serving set must match (below), the model
     * image need not be the same file (another int8 calibration of the same SuperNet) */
    if (!cJSON_IsArray(subnets) || !cJSON_IsArray(rows) || !cJSON_IsString(item))
        snprintf(why, wn, "no subnets, rows or model_sha256");
    else if (computes && strcmp(item->valuestring, sv->model_sha) != 0)
        snprintf(why, wn, "measured on model image sha256 %.16s..., not this one (%.16s...)", item->valuestring,
                 sv->model_sha);
    /* the null platform takes any platform's profile: a modelled replay on it simulates
     * that platform's schedule without computing (no predictions) */
    else if (plat && computes && !(cJSON_IsString(plat) && !strcmp(plat->valuestring, sv->desc.name)))
        snprintf(why, wn, "measured on platform %s, not %s", cJSON_IsString(plat) ? plat->valuestring : "(not a string)",
                 sv->desc.name);
    else if ((uint32_t)cJSON_GetArraySize(subnets) != sv->n || (uint32_t)cJSON_GetArraySize(rows) != sv->n * (sv->n + 1))
        snprintf(why, wn, "%d SubNets and %d rows, not this serving set's %u and %u", cJSON_GetArraySize(subnets),
                 cJSON_GetArraySize(rows), sv->n, sv->n * (sv->n + 1));
    else {
        ok = 1;
        for (i = 0; i < sv->n && ok; ++i) {
            cJSON *c = cJSON_GetArrayItem(subnets, (int)i);
            ok = cJSON_IsString(c) && !strcmp(c->valuestring, sv->s[i].config);
            if (!ok)
                snprintf(why, wn, "SubNet %u is %.64s, not this serving set's %s", i,
                         cJSON_IsString(c) ? c->valuestring : "(not a string)", sv->s[i].config);
        }
        for (i = 0; i < sv->n && ok; ++i)
            for (g = 0; g <= sv->n && ok; ++g) {
                cJSON *r = cJSON_GetArrayItem(rows, (int)(i * (sv->n + 1) + g));
                cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "p50_us");
                cJSON *l95 = cJSON_GetObjectItemCaseSensitive(r, "p95_us");
                cJSON *nb = cJSON_GetObjectItemCaseSensitive(r, "near_bytes");
                cJSON *fb = cJSON_GetObjectItemCaseSensitive(r, "far_bytes");
                ok = cJSON_IsNumber(l) && cJSON_IsNumber(nb) && cJSON_IsNumber(fb);
                if (ok) {
                    sv->lat_us[i][g] = l->valuedouble;
                    /* optional: profiles before the p95 have the p50 in its place */
                    sv->lat_p95_us[i][g] = cJSON_IsNumber(l95) ? l95->valuedouble : l->valuedouble;
                    sv->near_bytes[i][g] = (uint64_t)nb->valuedouble;
                    sv->far_bytes[i][g] = (uint64_t)fb->valuedouble;
                } else {
                    snprintf(why, wn, "row %u lacks p50_us, near_bytes or far_bytes", i * (sv->n + 1) + g);
                }
            }
        item = cJSON_GetObjectItemCaseSensitive(root, "switch");
        for (g = 0; g < sv->n && ok; ++g) {
            cJSON *r = cJSON_GetArrayItem(item, (int)g);
            cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "us");
            cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "bytes");
            ok = cJSON_IsNumber(t) && cJSON_IsNumber(b);
            if (ok) {
                sv->switch_us[g] = t->valuedouble;
                sv->switch_bytes[g] = (uint64_t)b->valuedouble;
            } else {
                snprintf(why, wn, "switch %u lacks us or bytes", g);
            }
        }
        /* optional (profiles before v4 lack it: no re-plan charged) */
        item = cJSON_GetObjectItemCaseSensitive(root, "replan_us");
        for (g = 0; g < sv->n && ok; ++g) {
            cJSON *r = cJSON_GetArrayItem(item, (int)g);
            sv->replan_us[g] = cJSON_IsNumber(r) ? r->valuedouble : 0.0;
        }
        /* optional: the platform keeps slices (profiles before 2026-12-07 lack it); the null
         * platform simulating it keeps them too */
        item = cJSON_GetObjectItemCaseSensitive(root, "slices");
        if (ok && !computes && cJSON_IsObject(item)) {
            cJSON *pr = cJSON_GetObjectItemCaseSensitive(item, "precision");
            cJSON *q = cJSON_GetObjectItemCaseSensitive(item, "quantum");
            ok = cJSON_IsString(pr) && (!strcmp(pr->valuestring, "int8") || !strcmp(pr->valuestring, "fp32")) &&
                 cJSON_IsNumber(q) && q->valuedouble >= 1 && q->valuedouble <= 4096;
            if (ok) {
                sv->sim_slice_precision = !strcmp(pr->valuestring, "int8") ? SN_INT8 : SN_FP32;
                sv->sim_slice_quantum = (int32_t)q->valuedouble;
            } else {
                snprintf(why, wn, "\"slices\" lacks precision (int8 or fp32) or quantum (1-4096)");
            }
        }
    }
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

static int profile_save(const sn_serve *sv, const char *path, int reps, char *err, size_t n)
{
    cJSON *root = cJSON_CreateObject(), *subnets, *rows, *sw;
    char *text, dir[1024], *slash;
    uint32_t i, g;
    int rc;
    cJSON_AddNumberToObject(root, "schema_version", 1);
    cJSON_AddStringToObject(root, "platform", sv->desc.name);
    cJSON_AddStringToObject(root, "isa", sv->desc.variant);
    if (sv->desc.profile_device)
        cJSON_AddStringToObject(root, "device", sv->desc.profile_device);
    cJSON_AddNumberToObject(root, "near_budget_bytes", (double)sv->near_budget_bytes);
    cJSON_AddStringToObject(root, "model_sha256", sv->model_sha);
#ifdef SN_GIT_REV
    cJSON_AddStringToObject(root, "supernav_rev", SN_GIT_REV); /* the kernels it measured */
#endif
#ifdef SN_BUILD_FLAGS
    cJSON_AddStringToObject(root, "supernav_build_flags", SN_BUILD_FLAGS); /* ... and how compiled */
#endif
    if (sv->desc.profile_board)
        cJSON_AddStringToObject(root, "board", sv->desc.profile_board);
    cJSON_AddStringToObject(root, "latency_source", sv->desc.latency_source);
    cJSON_AddBoolToObject(root, "near_packed_once", sv->desc.near_packed_once);
    if (sv->desc.instructions_source)
        cJSON_AddStringToObject(root, "instructions_source", sv->desc.instructions_source);
    cJSON_AddNumberToObject(root, "reps", reps);
    subnets = cJSON_AddArrayToObject(root, "subnets");
    for (i = 0; i < sv->n; ++i)
        cJSON_AddItemToArray(subnets, cJSON_CreateString(sv->s[i].config));
    rows = cJSON_AddArrayToObject(root, "rows");
    for (i = 0; i < sv->n; ++i)
        for (g = 0; g <= sv->n; ++g) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "subnet", i);
            cJSON_AddNumberToObject(r, "subgraph", g == sv->n ? -1 : (double)g);
            cJSON_AddNumberToObject(r, "p50_us", sv->lat_us[i][g]);
            cJSON_AddNumberToObject(r, "p95_us", sv->lat_p95_us[i][g]);
            cJSON_AddNumberToObject(r, "near_bytes", (double)sv->near_bytes[i][g]);
            cJSON_AddNumberToObject(r, "far_bytes", (double)sv->far_bytes[i][g]);
            cJSON_AddItemToArray(rows, r);
        }
    sw = cJSON_AddArrayToObject(root, "switch");
    for (g = 0; g < sv->n; ++g) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "us", sv->switch_us[g]);
        cJSON_AddNumberToObject(r, "bytes", (double)sv->switch_bytes[g]);
        cJSON_AddItemToArray(sw, r);
    }
    {
        double rp[SN_SERVE_MAX_SUBNETS];
        for (g = 0; g < sv->n; ++g)
            rp[g] = sv->replan_us[g];
        cJSON_AddItemToObject(root, "replan_us", cJSON_CreateDoubleArray(rp, (int)sv->n));
    }
    if (sv->slices) { /* what the null platform needs to keep the same slices when it simulates this */
        cJSON *o = cJSON_AddObjectToObject(root, "slices");
        cJSON_AddStringToObject(o, "precision", sv->desc.precision == SN_INT8 ? "int8" : "fp32");
        cJSON_AddNumberToObject(o, "quantum", sv->slices->quantum);
    }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return sn_serve_fail(err, n, "out of memory");
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (sn_mkdir_p(dir) != 0) {
            int e = errno;
            free(text);
            return sn_serve_fail(err, n, "%s: %s", dir, strerror(e));
        }
    }
    rc = sn_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc == 0 ? 0 : sn_serve_fail(err, n, "%s: %s", path, strerror(errno));
}

/* Measures the profile: for every SubGraph G (and none), make it resident (the switching
 * cost), then inferences of every SubNet (their p50 and p95). A platform with its own clock
 * (emulated or modelled) is deterministic: one inference each, no warm-up, its own times (an
 * ARAC config REPS over distinct canvases: its latency depends on the image). A measured
 * platform runs REPS rounds, each of them every SubGraph and every SubNet once (three warm-up
 * inferences per row in the first round; after it each timed inference follows another
 * SubNet's, as queries do in serving): the machine's slow phases then spread over every row
 * instead of falling on the rows of one SubGraph, whose column would decide a SubGraph choice
 * (issue 19: measured back to back on this VM, the same rows varied up to 1.6x between
 * profiles). A row's inferences use the same canvases either way. */
static int profile_measure(sn_serve *sv, int reps, char *err, size_t n)
{
    const int own_clock = sv->desc.clock == SN_SUT_CLOCK_EMULATED || sv->desc.clock == SN_SUT_CLOCK_MODEL;
    uint32_t i, g, k, r, count = sv->images.dims[0], rounds, per;
    const uint32_t rows = sv->n * (sv->n + 1);
    double *t, *sw;
    char why[512];
    int arac_reps = reps < 1 ? 1 : reps;
    /* a near budget of 0 keeps nothing: every SubNet's SubGraph is no SubGraph, measured once
     * (its rows copied below) rather than n + 1 times over */
    const uint32_t g0 = sv->near_budget_bytes == 0 ? sv->n : 0u;
    if (reps < 1 || own_clock)
        reps = 1;
    rounds = own_clock ? 1u : (uint32_t)reps;   /* rounds over every row */
    per = own_clock ? (uint32_t)arac_reps : rounds; /* inferences kept per row */
    t = malloc((size_t)rows * per * sizeof *t);
    sw = malloc((size_t)rounds * (sv->n + 1) * sizeof *sw);
    if (!t || !sw) {
        free(t);
        free(sw);
        return sn_serve_fail(err, n, "out of memory");
    }
    for (i = 0; i < sv->n; ++i)
        sv->replan_us[i] = 0.0;
    for (r = 0; r < rounds; ++r)
        for (g = g0; g <= sv->n; ++g) {
            int64_t t0 = sn_serve_now_ns();
            sn_sut_moved mv;
            if (sn_serve_resident(sv, g, 0, &mv, why, sizeof why) != 0) {
                free(t);
                free(sw);
                return sn_serve_fail(err, n, "%s: %s", g < sv->n ? sv->s[g].config : "no SubGraph", why);
            }
            sw[r * (sv->n + 1) + g] = mv.us >= 0.0 ? mv.us : (double)(sn_serve_now_ns() - t0) / 1e3;
            if (g < sv->n)
                sv->switch_bytes[g] = mv.bytes;
            for (i = 0; i < sv->n; ++i) {
                sn_sut_result res;
                double *row = t + (size_t)(i * (sv->n + 1) + g) * per;
                uint32_t nr = own_clock ? (uint32_t)(sv->s[i].arac ? arac_reps : 1) : 1u;
                memset(&res, 0, sizeof res);
                for (k = 0; k < (own_clock || r > 0 ? 0u : 3u); ++k) /* warm-up, the first round */
                    if (sn_serve_infer(sv, i, k % count, &res, why, sizeof why) != 0) {
                        free(t);
                        free(sw);
                        return sn_serve_fail(err, n, "%s: %s", sv->s[i].config, why);
                    }
                for (k = 0; k < nr; ++k) {
                    uint32_t j = own_clock ? k : r; /* the row's j-th inference: canvas j x 7919 */
                    int64_t a = sn_serve_now_ns();
                    if (sn_serve_infer(sv, i, (j * 7919u) % count, &res, why, sizeof why) != 0) {
                        free(t);
                        free(sw);
                        return sn_serve_fail(err, n, "%s: %s", sv->s[i].config, why);
                    }
                    row[j] = res.us >= 0.0 ? res.us : (double)(sn_serve_now_ns() - a) / 1e3;
                    if (res.plan_us > sv->replan_us[i]) /* the SubNets follow each other: a re-plan each */
                        sv->replan_us[i] = res.plan_us;
                }
                sv->near_bytes[i][g] = res.near_bytes;
                sv->far_bytes[i][g] = res.far_bytes;
            }
        }
    for (i = 0; i < sv->n; ++i)
        for (g = 0; g < g0; ++g) {
            memcpy(t + (size_t)(i * (sv->n + 1) + g) * per, t + (size_t)(i * (sv->n + 1) + sv->n) * per,
                   per * sizeof *t);
            sv->near_bytes[i][g] = sv->near_bytes[i][sv->n];
            sv->far_bytes[i][g] = sv->far_bytes[i][sv->n];
        }
    for (r = 0; r < rounds; ++r)
        for (g = 0; g < g0; ++g) /* nothing moves */
            sw[r * (sv->n + 1) + g] = 0.0;
    for (g = 0; g < g0; ++g)
        sv->switch_bytes[g] = 0;
    for (i = 0; i < sv->n; ++i)
        for (g = 0; g <= sv->n; ++g) {
            double *row = t + (size_t)(i * (sv->n + 1) + g) * per;
            uint32_t nr = own_clock ? (uint32_t)(sv->s[i].arac ? arac_reps : 1) : rounds;
            qsort(row, nr, sizeof *row, cmp_double);
            sv->lat_us[i][g] = sn_serve_computes(sv) ? row[(nr - 1) / 2] : 0.0;
            /* nearest rank: the smallest time at or above 95 % of the inferences */
            sv->lat_p95_us[i][g] = sn_serve_computes(sv) ? row[(size_t)ceil(0.95 * nr) - 1] : 0.0;
        }
    for (g = 0; g < sv->n; ++g) { /* a switch: its median over the rounds (in T's space) */
        for (r = 0; r < rounds; ++r)
            t[r] = sw[r * (sv->n + 1) + g];
        qsort(t, rounds, sizeof *t, cmp_double);
        sv->switch_us[g] = t[(rounds - 1) / 2];
    }
    free(t);
    free(sw);
    if (sn_serve_resident(sv, sv->n, 0, &(sn_sut_moved){0, 0.0}, why, sizeof why) != 0)
        return sn_serve_fail(err, n, "%s", why);
    return reps;
}

/* The median of the M > 0 values V (sorted in place). */
static double median_of(double *v, uint32_t m)
{
    qsort(v, m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

void sn_serve_pool_near(sn_serve *sv)
{
    uint32_t i, g, m;
    double a[SN_SERVE_MAX_SUBNETS], b[SN_SERVE_MAX_SUBNETS], p50, p95;
    sv->pooled_rows = 0;
    if (!sv->profile_poolable)
        return;
    for (i = 0; i < sv->n; ++i) {
        if (sv->s[i].arac) /* its far bytes are one canvas's: not proof that all is near */
            continue;
        for (g = m = 0; g < sv->n; ++g)
            if (sv->far_bytes[i][g] == 0 && sv->lat_us[i][g] > 0.0) {
                a[m] = sv->lat_us[i][g];
                b[m++] = sv->lat_p95_us[i][g];
            }
        if (m < 2)
            continue;
        p50 = median_of(a, m);
        p95 = median_of(b, m);
        for (g = 0; g < sv->n; ++g)
            if (sv->far_bytes[i][g] == 0 && sv->lat_us[i][g] > 0.0) {
                sv->lat_us[i][g] = p50;
                sv->lat_p95_us[i][g] = p95 > p50 ? p95 : p50;
            }
        sv->pooled_rows += m;
    }
}

int sn_serve_profile(sn_serve *sv, const char *cache_path, int force, int reps, char *err, size_t n)
{
    char why[256];
    if (cache_path)
        snprintf(sv->profile_path, sizeof sv->profile_path, "%s", cache_path);
    /* a model's profile is always computed (a board file may have changed), then written
     * for the record */
    if (!force && cache_path && sv->desc.clock != SN_SUT_CLOCK_MODEL &&
        profile_load(sv, cache_path, 1, why, sizeof why) == 0) {
        sv->profiled = 1;
        sn_serve_pool_near(sv);
        slices_after_profile(sv);
        return 0;
    }
    if ((reps = profile_measure(sv, reps, err, n)) < 0)
        return -1;
    if (sv->sut->ops->account_reset)
        sv->sut->ops->account_reset(sv->sut);
    sv->profiled = 1;
    sv->profile_poolable = !strncmp(sv->desc.latency_source, "measured:", 9) && sv->desc.near_packed_once;
    /* the file keeps the rows as measured; the serving uses them pooled */
    if (cache_path && profile_save(sv, cache_path, reps, err, n) != 0)
        return -1;
    sn_serve_pool_near(sv);
    slices_after_profile(sv);
    return 0;
}

int sn_serve_profile_load(sn_serve *sv, const char *path, char *err, size_t n)
{
    if (access(path, R_OK) != 0)
        return sn_serve_fail(err, n, "%s: %s", path, strerror(errno));
    char why[256];
    if (profile_load(sv, path, 0, why, sizeof why) != 0)
        return sn_serve_fail(err, n, "%s: not a profile of this platform (%s), model (sha256 %.16s...) and "
                            "serving set: %s; measure one with 'supernav profile'", path,
                    sv->desc.name, sv->model_sha, why);
    snprintf(sv->profile_path, sizeof sv->profile_path, "%s", path);
    /* the null platform simulating a platform that keeps slices: its plans' precision (the
     * slices' bytes) and its quantum */
    if (sv->sim_slice_quantum > 0 && !sv->slices) {
        if ((sv->sim_slice_precision != sv->desc.precision && plan_all(sv, sv->sim_slice_precision, err, n) != 0) ||
            slices_open(sv, sv->sim_slice_quantum, err, n) != 0)
            return -1;
    }
    sv->profiled = 1;
    sn_serve_pool_near(sv);
    slices_after_profile(sv);
    return 0;
}

/* ---- policies ------------------------------------------------------------------------- */
int sn_serve_parse_policy(const sn_serve *sv, const char *text, sn_replay_options *o, char *err,
                          size_t n)
{
    const sn_policy_ops *ops = sn_policy_find(text);
    sn_policy p;
    char names[256];
    o->policy_text = text;
    if (!ops) {
        sn_policy_list(names, sizeof names);
        return sn_serve_fail(err, n, "unknown policy '%s' (%s)", text, names);
    }
    memset(&p, 0, sizeof p);
    p.ops = ops;
    if (ops->parse && ops->parse(&p, sv, text + strlen(ops->name) + 1, err, n) != 0)
        return -1;
    o->policy = ops;
    o->policy_arg = p.arg;
    return 0;
}

uint32_t sn_serve_most_accurate(const sn_serve *sv)
{
    uint32_t i, best = 0;
    for (i = 1; i < sv->n; ++i)
        if (sv->s[i].top1 > sv->s[best].top1)
            best = i;
    return best;
}

uint32_t sn_serve_least_accurate(const sn_serve *sv)
{
    uint32_t i, best = 0;
    for (i = 1; i < sv->n; ++i)
        if (sv->s[i].top1 < sv->s[best].top1)
            best = i;
    return best;
}

double sn_serve_subnet_spread(const sn_serve *sv, uint32_t g)
{
    double r[SN_SERVE_MAX_SUBNETS];
    uint32_t i, m = 0;
    for (i = 0; i < sv->n; ++i)
        if (!sv->s[i].arac && sv->lat_us[i][g] > 0.0 && sv->lat_p95_us[i][g] >= sv->lat_us[i][g])
            r[m++] = sv->lat_p95_us[i][g] / sv->lat_us[i][g];
    return m ? median_of(r, m) : 1.0;
}

double sn_serve_lat_us(const sn_serve *sv, uint32_t i, uint32_t g)
{
    double p50 = sv->lat_us[i][g], p95 = sv->lat_p95_us[i][g], ex;
    if (!sv->s[i].arac || sv->opt.arac_quantile == 50 || !isfinite(p95) || p95 < p50)
        return p50; /* a p95 not measured (or below the p50) reads as the p50 */
    if (sv->opt.arac_quantile == 95 || !(p50 > 0.0))
        return p95;
    ex = (p95 / p50) / sn_serve_subnet_spread(sv, g);
    return ex > 1.0 ? p50 * ex : p50;
}

/* PRED(i) of sn_serve.h: the profile's latency under G_OF[i], plus the re-plan when i is not
 * the SubNet served last. */
static double pred(const sn_serve *sv, const uint32_t *g_of, uint32_t i)
{
    return sn_serve_lat_us(sv, i, g_of[i]) + (i != sv->last_subnet ? sv->replan_us[i] : 0.0);
}

/* The SubNet of the lowest PRED under G_OF (ties: the first). */
static uint32_t fastest_pred(const sn_serve *sv, const uint32_t *g_of)
{
    uint32_t i, best = 0;
    for (i = 1; i < sv->n; ++i)
        if (pred(sv, g_of, i) < pred(sv, g_of, best))
            best = i;
    return best;
}

/* Predicted latencies within this fraction of the fastest are ties, broken by top-1. */
#define SN_LAT_TIE 0.05

/* The fastest SubNet (by PRED) whose top-1 is at least LEVEL, with
 * latency ties (within the fraction TIE of the fastest) going to the most accurate;
 * UINT32_MAX if none. */
static uint32_t fastest_at_level(const sn_serve *sv, const uint32_t *g_of, double level, double tie)
{
    uint32_t i, best = UINT32_MAX;
    double lim;
    for (i = 0; i < sv->n; ++i)
        if (sv->s[i].top1 + SN_FLOOR_EPS >= level &&
            (best == UINT32_MAX || pred(sv, g_of, i) < pred(sv, g_of, best)))
            best = i;
    if (best == UINT32_MAX)
        return best;
    lim = pred(sv, g_of, best) * (1.0 + tie);
    for (i = 0; i < sv->n; ++i)
        if (sv->s[i].top1 + SN_FLOOR_EPS >= level && pred(sv, g_of, i) <= lim && sv->s[i].top1 > sv->s[best].top1)
            best = i;
    return best;
}

/* The fastest predicted latency of a SubNet meeting FLOOR (NaN: any); INFINITY if none. */
static double fastest_meeting(const sn_serve *sv, const uint32_t *g_of, float floor)
{
    double f = INFINITY;
    uint32_t i;
    for (i = 0; i < sv->n; ++i)
        if (sn_meets_floor(sv->s[i].top1, floor) && sn_serve_lat_us(sv, i, g_of[i]) < f)
            f = sn_serve_lat_us(sv, i, g_of[i]);
    return f;
}

double sn_serve_queue_cap(const sn_serve *sv, const uint32_t *g_of, const sn_lookahead *la,
                          double *behind_us)
{
    double cap = INFINITY, behind = 0.0, memo_f[8];
    float memo_floor[8];
    uint32_t j, m, n_memo = 0, n = la->n_queued < SN_SERVE_LOOKAHEAD ? la->n_queued : SN_SERVE_LOOKAHEAD;
    for (j = 0; j < n; ++j) {
        const sn_queued *w = &la->queued[j];
        double f = -1.0, room;
        for (m = 0; m < n_memo && f < 0.0; ++m)
            if (memo_floor[m] == w->floor || (isnan(memo_floor[m]) && isnan(w->floor)))
                f = memo_f[m];
        if (f < 0.0) {
            f = fastest_meeting(sv, g_of, w->floor);
            if (isinf(f)) { /* no SubNet meets its floor: served by the most accurate */
                uint32_t a = sn_serve_most_accurate(sv);
                f = sn_serve_lat_us(sv, a, g_of[a]);
            }
            if (n_memo < 8) {
                memo_floor[n_memo] = w->floor;
                memo_f[n_memo++] = f;
            }
        }
        behind += f;
        if (isinf(w->due_us))
            continue;
        /* it meets its ceiling if this query's service is at most ROOM */
        room = w->due_us - behind;
        if (room >= 0.0 && room < cap) /* room < 0: lost whatever this query does */
            cap = room;
    }
    if (behind_us)
        *behind_us = behind;
    return cap;
}

static int cmp_ceiling(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sn_serve_lookahead_recent(sn_lookahead *la, const double *arrival_us, const int64_t *ceiling_us,
                               uint32_t n)
{
    uint32_t k, first = n > SN_SERVE_RECENT ? n - SN_SERVE_RECENT : 0;
    la->rate_per_us = 0.0;
    la->n_ceilings = 0;
    if (n - first >= 2 && arrival_us[n - 1] > arrival_us[first])
        la->rate_per_us = (double)(n - 1 - first) / (arrival_us[n - 1] - arrival_us[first]);
    for (k = first; k < n; ++k)
        if (ceiling_us[k] > 0)
            la->ceilings_us[la->n_ceilings++] = (double)ceiling_us[k];
    qsort(la->ceilings_us, la->n_ceilings, sizeof la->ceilings_us[0], cmp_ceiling);
}

int sn_serve_lookahead_queue(sn_lookahead *la, double arrival_us, float floor, int64_t ceiling_us,
                             double start_us)
{
    if (arrival_us > start_us || la->n_queued >= SN_SERVE_LOOKAHEAD)
        return 0;
    la->queued[la->n_queued].floor = floor;
    la->queued[la->n_queued++].due_us =
        ceiling_us > 0 ? arrival_us + (double)ceiling_us - start_us : (double)INFINITY;
    return 1;
}

void sn_serve_lookahead_from_trace(const sn_trace *tr, size_t q, size_t count, double speed,
                                   double start_us, sn_lookahead *la)
{
    double arr[SN_SERVE_RECENT];
    int64_t ceil[SN_SERVE_RECENT];
    size_t j, first = q + 1 > SN_SERVE_RECENT ? q + 1 - SN_SERVE_RECENT : 0;
    la->n_queued = 0;
    if (tr->mode != SN_TRACE_MODE_CLOSED)
        for (j = q + 1; j < count; ++j)
            if (!sn_serve_lookahead_queue(la, (double)tr->arrival_us[j] / speed, tr->acc_floor[j],
                                          tr->lat_ceiling_us[j], start_us))
                break;
    for (j = first; j <= q; ++j) {
        arr[j - first] = (double)tr->arrival_us[j] / speed;
        ceil[j - first] = tr->lat_ceiling_us[j];
    }
    sn_serve_lookahead_recent(la, arr, ceil, (uint32_t)(q + 1 - first));
    if (tr->mode == SN_TRACE_MODE_CLOSED) /* the next query comes when this one ends */
        la->rate_per_us = 0.0;
}

/* The fraction of LA's recent ceilings below X. */
static double frac_below(const sn_lookahead *la, double x)
{
    uint32_t lo = 0, hi = la->n_ceilings;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (la->ceilings_us[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return la->n_ceilings ? (double)lo / (double)la->n_ceilings : 0.0;
}

/* The SubNet choice of sn_serve.h. PRED(i) = lat_us[i][G] (G per SubNet for the oracle). */
uint32_t sn_serve_choose(const sn_serve *sv, const uint32_t *g_of, float floor, int64_t ceiling_us,
                         double waited_us, const sn_lookahead *la)
{
    uint32_t i, best = UINT32_MAX;
    if (sv->choice == SN_CHOICE_ACCURACY && ceiling_us > 0) {
        /* accuracy mode (sn_serve.h): among the SubNets at or above the floor that fit what is
         * left of the ceiling and leave the queue room, the highest expected effective
         * accuracy of this query and the next; none: the floor-level rule below */
        double left = (double)ceiling_us - waited_us, behind = 0.0, fmin = INFINITY, lost = 0.0, u_best = 0.0;
        uint32_t fastest = 0;
        if (la) {
            double cap = sn_serve_queue_cap(sv, g_of, la, &behind);
            if (cap < left)
                left = cap;
            for (i = 0; i < sv->n; ++i)
                if (sn_serve_lat_us(sv, i, g_of[i]) < fmin) {
                    fmin = sn_serve_lat_us(sv, i, g_of[i]);
                    fastest = i;
                }
            lost = sv->s[fastest].top1;
        }
        for (i = 0; i < sv->n; ++i) {
            double l = pred(sv, g_of, i), u = sv->s[i].top1;
            if (l > left || !sn_meets_floor(sv->s[i].top1, floor))
                continue;
            if (la && la->rate_per_us > 0.0)
                u -= (1.0 - exp(-la->rate_per_us * l)) * frac_below(la, behind + l + fmin) * lost;
            if (best == UINT32_MAX || u > u_best || (u == u_best && l < pred(sv, g_of, best))) {
                best = i;
                u_best = u;
            }
        }
        if (best != UINT32_MAX)
            return best;
        /* none fits: if no SubNet at or above the floor fits what is left of the ceiling even
         * ignoring the queue, this query misses its SLO whatever it is served with -- the
         * fastest SubNet then, so the queue behind it loses the least; otherwise the
         * floor-level rule below */
        left = (double)ceiling_us - waited_us;
        for (i = 0; i < sv->n && best == UINT32_MAX; ++i)
            if (pred(sv, g_of, i) <= left && sn_meets_floor(sv->s[i].top1, floor))
                best = i;
        if (best == UINT32_MAX)
            return fastest_pred(sv, g_of);
        best = UINT32_MAX;
    }
    if (!isnan(floor)) {
        /* the floor's level: the top-1 of the SubNet R the reference residency serves it
         * with (latency ties to the most accurate); then the fastest SubNet at that level
         * under the policy's residency, ties only exact. Under the reference residency that
         * is R itself (a SubNet at least as accurate and no slower would have won R's tie),
         * so static-subgraph serves R, and every policy at least R's top-1. */
        uint32_t r = fastest_at_level(sv, sv->g_ref_of, (double)floor, SN_LAT_TIE);
        int late_rule = sv->choice != SN_CHOICE_ACCURACY && sv->late == SN_LATE_FASTEST && ceiling_us > 0;
        double left = (double)ceiling_us - waited_us;
        if (r == UINT32_MAX) /* no SubNet meets the floor: the SLO is lost whatever it gets */
            return late_rule ? fastest_pred(sv, g_of) : sn_serve_most_accurate(sv);
        best = fastest_at_level(sv, g_of, sv->s[r].top1, 0.0);
        if (best == UINT32_MAX)
            best = r;
        if (late_rule && pred(sv, g_of, best) > left) {
            /* certain to be late at its level (sn_serve_late): unless some SubNet at or above
             * the floor still fits what is left (the level is kept then, late as predicted:
             * never below static-subgraph's accuracy for a query that can be met), the
             * fastest SubNet */
            for (i = 0; i < sv->n; ++i)
                if (pred(sv, g_of, i) <= left && sn_meets_floor(sv->s[i].top1, floor))
                    return best;
            return fastest_pred(sv, g_of);
        }
        return best;
    }
    if (ceiling_us > 0) {
        double left = (double)ceiling_us - waited_us;
        for (i = 0; i < sv->n; ++i)
            if (pred(sv, g_of, i) <= left && (best == UINT32_MAX || sv->s[i].top1 > sv->s[best].top1))
                best = i;
        return best != UINT32_MAX ? best : fastest_pred(sv, g_of);
    }
    return sn_serve_most_accurate(sv);
}

uint32_t sn_serve_choose_under(const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    uint32_t g_of[SN_SERVE_MAX_SUBNETS], i;
    for (i = 0; i < sv->n; ++i)
        g_of[i] = g;
    return sn_serve_choose(sv, g_of, q->floor, q->ceiling_us, q->waited_us, q->la);
}

/* The SubGraph with the lowest mean predicted latency over every SubNet. */
uint32_t sn_serve_best_static_subgraph(const sn_serve *sv)
{
    uint32_t g, i, best = sv->n;
    double best_sum = INFINITY;
    for (g = 0; g <= sv->n; ++g) {
        double sum = 0.0;
        for (i = 0; i < sv->n; ++i)
            sum += sv->lat_us[i][g];
        if (sum < best_sum) {
            best_sum = sum;
            best = g;
        }
    }
    return best;
}

