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

#include "sn_counters.h"
#include "sn_energy.h"
#include "sn_csv.h"
#include "sn_file.h"
#include "sn_run.h"
#include "sn_sha256.h"

#ifndef SN_SERVE_VERSION
#define SN_SERVE_VERSION "0.1.0"
#endif

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int64_t now_ns(void)
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

static int load_table(sn_serve *sv, char *err, size_t n)
{
    char *text, *line, *save = NULL;
    int row = 0, ck = -1, cc = -1, ct = -1;
    if (!sv->model.table)
        return fail(err, n, "%s: the image holds no accuracy table (pack --table)", sv->opt.model_path);
    text = malloc(sv->model.table_bytes + 1);
    if (!text)
        return fail(err, n, "out of memory");
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
            }
            if (ck < 0 || cc < 0 || ct < 0) {
                free(text);
                return fail(err, n, "the accuracy table lacks a kind, config or top1 column");
            }
            continue;
        }
        if (k <= ck || k <= cc || k <= ct || strcmp(f[ck], "subnet") != 0)
            continue;
        if (sv->n == SN_SERVE_MAX_SUBNETS) {
            free(text);
            return fail(err, n, "more than %d SubNets in the accuracy table", SN_SERVE_MAX_SUBNETS);
        }
        if (strlen(f[cc]) >= SN_CONFIG_TEXT_MAX) {
            free(text);
            return fail(err, n, "accuracy table line %d: config too long", row + 1);
        }
        strcpy(sv->s[sv->n].config, f[cc]);
        sv->s[sv->n].top1 = strtod(f[ct], NULL) / 100.0;
        ++sv->n;
    }
    free(text);
    if (sv->n == 0)
        return fail(err, n, "the accuracy table lists no SubNet");
    return 0;
}

/* The precision of the serving set's plans: int8 on the FPGA model, fp32 elsewhere. */
static int serve_precision(const sn_serve *sv)
{
    return sv->opt.platform == SN_SERVE_FPGA || sv->opt.platform == SN_SERVE_MCU ? SN_INT8 : SN_FP32;
}

static int plan_all(sn_serve *sv, char *err, size_t n)
{
    uint32_t i;
    for (i = 0; i < sv->n; ++i) {
        sn_serve_subnet *s = &sv->s[i];
        sn_config cfg;
        size_t need;
        const char *why = "";
        if (sn_config_parse(s->config, &cfg) != SN_OK || cfg.is_arac)
            return fail(err, n, "accuracy table: '%s' is not a SubNet config", s->config);
        if (sn_plan_arena_bytes_p(&sv->model, &cfg, serve_precision(sv), &need) != SN_OK)
            return fail(err, n, "%s: not servable by this model", s->config);
        s->plan = malloc(sizeof *s->plan);
        if (!s->plan || posix_memalign(&s->arena, 64, need) != 0)
            return fail(err, n, "out of memory");
        if (sn_plan_prepare_p(s->plan, &sv->model, &cfg, serve_precision(sv), s->arena, need, &why) != SN_OK)
            return fail(err, n, "%s: %s", s->config, why);
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
        return fail(err, n, "%s: %s (make datasets)", path, sn_idx_status_str(st));
    return 0;
}

int sn_serve_open(sn_serve *sv, const sn_serve_options *opt, char *err, size_t n)
{
    sn_model_error me;
    char path[1024];
    uint32_t d3[3] = {0, 0, 0}, d1[1] = {0};
    memset(sv, 0, sizeof *sv);
    sv->opt = *opt;
    if (!sv->opt.model_path)
        sv->opt.model_path = "build/supernet.snm";
    if (!sv->opt.data_prefix)
        sv->opt.data_prefix = "data/canvas/cf64-test";
    if (sn_read_file(sv->opt.model_path, &sv->image, &sv->image_bytes) != 0)
        return fail(err, n, "%s: %s", sv->opt.model_path, strerror(errno));
    if (sn_model_load(&sv->model, sv->image, sv->image_bytes, &me) != SN_OK)
        return fail(err, n, "%s: %s at byte %llu", sv->opt.model_path, me.what,
                    (unsigned long long)me.offset);
    {
        char hex[SN_SHA256_HEX_BYTES];
        sn_sha256_hex_of(sv->image, sv->image_bytes, hex);
        memcpy(sv->model_sha, hex, 64);
        sv->model_sha[64] = '\0';
    }
    if (load_table(sv, err, n) != 0 || plan_all(sv, err, n) != 0)
        return -1;
    snprintf(path, sizeof path, "%s-images-idx3-ubyte", sv->opt.data_prefix);
    d3[1] = d3[2] = sv->model.arch.canvas;
    if (load_idx(path, 3, d3, &sv->images, err, n) != 0)
        return -1;
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", sv->opt.data_prefix);
    d1[0] = sv->images.dims[0];
    if (load_idx(path, 1, d1, &sv->labels, err, n) != 0)
        return -1;
    if (sv->opt.platform == SN_SERVE_CPU) {
        sn_cpu_options co;
        const char *why = "";
        sn_cpu_options_default(&co);
        co.isa = sv->opt.isa;
        co.near_budget_bytes = sv->opt.near_budget_bytes;
        co.residency = SN_CPU_RESIDENT_EXPLICIT;
        if (sn_cpu_create(&sv->model, &co, &sv->cpu, &why) != SN_OK)
            return fail(err, n, "platform cpu: %s", why);
        sn_cpu_platform(sv->cpu, &sv->platform);
    } else if (sv->opt.platform == SN_SERVE_OPENCL) {
        sn_opencl_options oo;
        const char *why = "", *d;
        size_t k = 0;
        sn_opencl_options_default(&oo);
        oo.device = sv->opt.device;
        oo.near_budget_bytes = sv->opt.near_budget_bytes;
        oo.residency = SN_OPENCL_RESIDENT_EXPLICIT;
        if (sn_opencl_create(&sv->model, &oo, &sv->ocl, &why) != SN_OK)
            return fail(err, n, "platform opencl: %s", why);
        sn_opencl_platform(sv->ocl, &sv->platform);
        /* the device name as a file-name word: letters and digits, '-' for the rest */
        for (d = strchr(sn_opencl_device_name(sv->ocl), '/'), d = d ? d + 1 : sn_opencl_device_name(sv->ocl);
             *d && k + 1 < sizeof sv->device_slug; ++d) {
            char ch = *d;
            int word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
            if (word)
                sv->device_slug[k++] = ch;
            else if (k && sv->device_slug[k - 1] != '-')
                sv->device_slug[k++] = '-';
        }
        while (k && sv->device_slug[k - 1] == '-')
            --k;
        sv->device_slug[k] = '\0';
    } else if (sv->opt.platform == SN_SERVE_MCU) {
        const char *configs[SN_SERVE_MAX_SUBNETS];
        uint8_t keep[SN_SERVE_MAX_SUBNETS];
        uint32_t i, k = 0;
        for (i = 0; i < sv->n; ++i)
            configs[i] = sv->s[i].config;
        if (sn_mcu_session_open(&sv->mcu, sv->opt.board, sv->opt.port, getenv("BUILD"), &sv->model,
                                configs, sv->n, sv->opt.near_budget_bytes / 64 * 64, keep, err, n) != 0)
            return -1;
        for (i = 0; i < sv->n; ++i) { /* serve only what fits the board */
            if (keep[i])
                sv->s[k++] = sv->s[i];
            else {
                free(sv->s[i].plan);
                free(sv->s[i].arena);
            }
        }
        sv->n = k;
        sv->platform = sn_platform_reference;
        sv->platform.name = "mcu";
    } else if (sv->opt.platform == SN_SERVE_FPGA) {
        sn_fpga_options fo;
        sn_cpu_options co;
        const char *why = "";
        char ferr[1024];
        if (sn_fpga_board_load(sv->opt.board ? sv->opt.board : "platforms/fpga/boards/zcu104.board",
                               &sv->fpga_board, ferr, sizeof ferr) != 0)
            return fail(err, n, "%s", ferr);
        sn_cpu_options_default(&co);
        if (sn_cpu_create(&sv->model, &co, &sv->fpga_cpu, &why) != SN_OK)
            return fail(err, n, "platform fpga: its cpu compute kernels: %s", why);
        sn_cpu_platform(sv->fpga_cpu, &sv->fpga_compute);
        sn_fpga_options_default(&fo);
        fo.compute = &sv->fpga_compute;
        fo.persist_bytes = sv->opt.near_budget_bytes;
        fo.pe_rows = sv->opt.pe_rows;
        fo.pe_cols = sv->opt.pe_cols;
        if (sn_fpga_create(&sv->model, &sv->fpga_board, &fo, &sv->fpga, ferr, sizeof ferr) != 0)
            return fail(err, n, "platform fpga: %s", ferr);
        sn_fpga_platform(sv->fpga, &sv->platform);
        sv->opt.near_budget_bytes = sn_fpga_persist_capacity(sv->fpga);
        sv->fpga_prof = calloc((size_t)sv->n * (sv->n + 1), sizeof *sv->fpga_prof);
        if (!sv->fpga_prof)
            return fail(err, n, "out of memory");
        /* the variant names the board, the PE array and the board file's contents */
        snprintf(sv->device_slug, sizeof sv->device_slug, "%.24s-%dx%d-%08x", sv->fpga_board.name,
                 sn_fpga_board_of(sv->fpga)->pe_rows, sn_fpga_board_of(sv->fpga)->pe_cols,
                 (unsigned)sv->fpga_board.text_hash);
    } else {
        sv->platform = sn_platform_reference;
        sv->platform.name = "null";
    }
    return 0;
}

void sn_serve_close(sn_serve *sv)
{
    uint32_t i;
    for (i = 0; i < sv->n; ++i) {
        free(sv->s[i].plan);
        free(sv->s[i].arena);
    }
    sn_cpu_destroy(sv->cpu);
    sn_opencl_destroy(sv->ocl);
    sn_mcu_session_close(sv->mcu);
    sn_fpga_destroy(sv->fpga);
    sn_cpu_destroy(sv->fpga_cpu);
    free(sv->fpga_prof);
    sn_idx_free(&sv->images);
    sn_idx_free(&sv->labels);
    free(sv->image);
    memset(sv, 0, sizeof *sv);
}

/* ---- residency and one inference ----------------------------------------------------- */
static const char *platform_name(const sn_serve *sv)
{
    return sv->opt.platform == SN_SERVE_CPU ? "cpu" : sv->opt.platform == SN_SERVE_OPENCL ? "opencl"
         : sv->opt.platform == SN_SERVE_FPGA ? "fpga" : sv->opt.platform == SN_SERVE_MCU ? "mcu" : "null";
}

/* The platform variant: the CPU's ISA, the OpenCL device (as a file-name word), or "none". */
static const char *platform_variant(const sn_serve *sv)
{
    return sv->cpu ? sn_cpu_isa(sv->cpu) : sv->ocl || sv->fpga ? sv->device_slug
         : sv->mcu ? sn_mcu_session_board(sv->mcu)->name : "none";
}

/* 1 when a platform runs inferences (not the null platform). */
static int computes(const sn_serve *sv)
{
    return sv->cpu != NULL || sv->ocl != NULL || sv->fpga != NULL || sv->mcu != NULL;
}

/* Makes SubGraph G resident (G == n: none); returns the packed weight bytes. */
static uint64_t set_subgraph(sn_serve *sv, uint32_t g)
{
    size_t bytes = 0;
    if (sv->cpu) {
        sn_cpu_evict_all(sv->cpu);
        if (g < sv->n)
            sn_cpu_make_resident(sv->cpu, sv->s[g].plan, &bytes);
    } else if (sv->ocl) {
        sn_opencl_evict_all(sv->ocl);
        if (g < sv->n)
            sn_opencl_make_resident(sv->ocl, sv->s[g].plan, &bytes);
    } else if (sv->mcu) {
        uint64_t copied = 0;
        if (sn_mcu_session_subgraph(sv->mcu, g < sv->n ? (int)g : -1, &copied, &sv->mcu_switch_us,
                                    sv->platform_error, sizeof sv->platform_error) != 0)
            copied = 0; /* the next inference reports the board's failure */
        bytes = (size_t)copied;
    } else if (sv->fpga) {
        sn_fpga_evict_all(sv->fpga);
        if (g < sv->n)
            sn_fpga_make_resident(sv->fpga, sv->s[g].plan, &bytes);
    }
    return bytes;
}

/* Adds one inference's OpenCL figures to the running totals. */
static void add_ocl(sn_opencl_stats *t, const sn_opencl_stats *s)
{
    t->kernel_ns += s->kernel_ns;
    t->kernels += s->kernels;
    t->weight_write_ns += s->weight_write_ns;
    t->weight_write_bytes += s->weight_write_bytes;
    t->act_transfer_ns += s->act_transfer_ns;
    t->act_write_bytes += s->act_write_bytes;
    t->act_read_bytes += s->act_read_bytes;
    t->device_ns += s->device_ns;
    t->wall_ns += s->wall_ns;
    t->calls += s->calls;
}

static void add_fpga(sn_fpga_stats *t, const sn_fpga_stats *s)
{
    t->cycles += s->cycles;
    t->compute_cycles += s->compute_cycles;
    t->macs += s->macs;
    t->layers += s->layers;
    t->ddr_weight_bytes += s->ddr_weight_bytes;
    t->ddr_act_bytes += s->ddr_act_bytes;
    t->persist_read_bytes += s->persist_read_bytes;
    t->buffer_bytes += s->buffer_bytes;
    t->persist_write_bytes += s->persist_write_bytes;
    t->load_cycles += s->load_cycles;
}

typedef struct infer_result {
    int32_t prediction;
    uint64_t near_bytes, far_bytes;
    double model_us;             /* mcu: the modelled latency of this inference; < 0 elsewhere */
    double plan_us;              /* mcu: the modelled re-plan before it (another SubNet than the
                                    previous query's); 0 elsewhere */
} infer_result;

static int infer(sn_serve *sv, uint32_t s, uint32_t sample, infer_result *r)
{
    float logits[64];
    uint32_t k, best = 0, side = sv->model.arch.canvas;
    r->model_us = -1.0;
    r->plan_us = 0.0;
    if (!computes(sv)) {
        r->prediction = -1;
        r->near_bytes = r->far_bytes = 0;
        return 0;
    }
    if (sv->mcu) {
        char file[1024];
        sn_mcu_infer_result mr;
        snprintf(file, sizeof file, "%s-images-idx3-ubyte", sv->opt.data_prefix);
        if (sn_mcu_session_infer(sv->mcu, s, sv->images.data + (size_t)sample * side * side, file,
                                 sv->images.header_bytes + (uint64_t)sample * side * side, &mr,
                                 &r->model_us, sv->platform_error, sizeof sv->platform_error) != 0)
            return -1;
        r->plan_us = sn_mcu_session_plan_us(sv->mcu);
        r->near_bytes = mr.near_bytes;
        r->far_bytes = mr.far_bytes;
        for (k = 1; k < mr.classes; ++k)
            if (mr.logits[k] > mr.logits[best])
                best = k;
        r->prediction = (int32_t)best;
        return 0;
    }
    if (sv->cpu)
        sn_cpu_stats_reset(sv->cpu);
    else if (sv->fpga)
        sn_fpga_stats_reset(sv->fpga);
    else
        sn_opencl_stats_reset(sv->ocl);
    if (sn_plan_invoke(sv->s[s].plan, &sv->platform, sv->images.data + (size_t)sample * side * side,
                       logits, NULL, NULL) != SN_OK)
        return -1;
    if (sv->cpu) {
        sn_cpu_stats st;
        sn_cpu_stats_get(sv->cpu, &st);
        r->near_bytes = st.near_bytes;
        r->far_bytes = st.far_bytes;
    } else if (sv->fpga) {
        sn_fpga_stats st;
        sn_fpga_stats_get(sv->fpga, &st);
        r->near_bytes = st.persist_read_bytes;
        r->far_bytes = st.ddr_weight_bytes;
        add_fpga(&sv->fpga_total, &st);
    } else {
        sn_opencl_stats st;
        sn_opencl_stats_get(sv->ocl, &st);
        r->near_bytes = st.near_bytes;
        r->far_bytes = st.far_bytes;
        add_ocl(&sv->ocl_total, &st);
    }
    for (k = 1; k < sv->model.arch.num_classes && k < 64; ++k)
        if (logits[k] > logits[best])
            best = k;
    r->prediction = (int32_t)best;
    return 0;
}

/* ---- profile ---------------------------------------------------------------------------- */
void sn_serve_profile_path(const sn_serve *sv, char *buf, size_t n)
{
    /* v2: depthwise crops served from a resident larger kernel (platforms/cpu) */
    snprintf(buf, n, "build/profile/v2-%s-%s-%zu-%.16s.json", platform_name(sv), platform_variant(sv),
             sv->opt.near_budget_bytes, sv->model_sha);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* SAME_BUILD: the cache's check -- a wall-clock profile measured by another build (other
 * kernels) is measured again rather than reused. */
static int profile_load(sn_serve *sv, const char *path, int same_build)
{
    void *text;
    size_t size;
    cJSON *root, *subnets, *rows, *item, *plat;
    uint32_t i, g;
    int ok = 0;
    if (sn_read_file(path, &text, &size) != 0)
        return -1;
    root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root)
        return -1;
    subnets = cJSON_GetObjectItemCaseSensitive(root, "subnets");
    rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    item = cJSON_GetObjectItemCaseSensitive(root, "model_sha256");
    plat = cJSON_GetObjectItemCaseSensitive(root, "platform");
#ifdef SN_GIT_REV
    if (same_build && !sv->mcu) {
        cJSON *rev = cJSON_GetObjectItemCaseSensitive(root, "supernav_rev");
        if (!cJSON_IsString(rev) || strcmp(rev->valuestring, SN_GIT_REV) != 0) {
            cJSON_Delete(root);
            return -1;
        }
    }
#else
    (void)same_build;
#endif
    /* the null platform simulates a profile: its serving set must match (below), the model
     * image need not be the same file (another int8 calibration of the same SuperNet) */
    if (cJSON_IsArray(subnets) && cJSON_IsArray(rows) && cJSON_IsString(item) &&
        (!computes(sv) || !strcmp(item->valuestring, sv->model_sha)) &&
        /* the null platform takes any platform's profile: a modelled replay on it simulates
         * that platform's schedule without computing (no predictions) */
        (!plat || !computes(sv) ||
         (cJSON_IsString(plat) && !strcmp(plat->valuestring, platform_name(sv)))) &&
        (uint32_t)cJSON_GetArraySize(subnets) == sv->n &&
        (uint32_t)cJSON_GetArraySize(rows) == sv->n * (sv->n + 1)) {
        ok = 1;
        for (i = 0; i < sv->n && ok; ++i) {
            cJSON *c = cJSON_GetArrayItem(subnets, (int)i);
            ok = cJSON_IsString(c) && !strcmp(c->valuestring, sv->s[i].config);
        }
        for (i = 0; i < sv->n && ok; ++i)
            for (g = 0; g <= sv->n && ok; ++g) {
                cJSON *r = cJSON_GetArrayItem(rows, (int)(i * (sv->n + 1) + g));
                cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "p50_us");
                cJSON *nb = cJSON_GetObjectItemCaseSensitive(r, "near_bytes");
                cJSON *fb = cJSON_GetObjectItemCaseSensitive(r, "far_bytes");
                ok = cJSON_IsNumber(l) && cJSON_IsNumber(nb) && cJSON_IsNumber(fb);
                if (ok) {
                    sv->lat_us[i][g] = l->valuedouble;
                    sv->near_bytes[i][g] = (uint64_t)nb->valuedouble;
                    sv->far_bytes[i][g] = (uint64_t)fb->valuedouble;
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
    cJSON_AddStringToObject(root, "platform", platform_name(sv));
    cJSON_AddStringToObject(root, "isa", platform_variant(sv));
    if (sv->ocl)
        cJSON_AddStringToObject(root, "device", sn_opencl_device_name(sv->ocl));
    cJSON_AddNumberToObject(root, "near_budget_bytes", (double)sv->opt.near_budget_bytes);
    cJSON_AddStringToObject(root, "model_sha256", sv->model_sha);
#ifdef SN_GIT_REV
    cJSON_AddStringToObject(root, "supernav_rev", SN_GIT_REV); /* the kernels it measured */
#endif
    if (sv->mcu) {
        char model[400];
        sn_mcu_model_text(sn_mcu_session_board(sv->mcu), model, sizeof model);
        cJSON_AddStringToObject(root, "board", sn_mcu_session_board(sv->mcu)->part);
        cJSON_AddStringToObject(root, "latency_source", model);
        cJSON_AddStringToObject(root, "instructions_source", "emulated:qemu-icount");
    } else
    cJSON_AddStringToObject(root, "latency_source",
                            sv->fpga ? "model:fpga cycle model (platforms/fpga), cycles / clock, one inference"
                            : sv->ocl ? "measured:clock_gettime(CLOCK_MONOTONIC), p50, host wall clock around each inference"
                                    : "measured:clock_gettime(CLOCK_MONOTONIC), p50, single thread");
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
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return fail(err, n, "out of memory");
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (sn_mkdir_p(dir) != 0) {
            int e = errno;
            free(text);
            return fail(err, n, "%s: %s", dir, strerror(e));
        }
    }
    rc = sn_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc == 0 ? 0 : fail(err, n, "%s: %s", path, strerror(errno));
}

/* The FPGA model's profile: deterministic, so one inference per SubNet and SubGraph; latency
 * is the modelled cycles, the switching cost the modelled DDR load of the SubGraph. Always
 * computed (a board file may have changed), then written to CACHE_PATH for the record. */
static int profile_fpga(sn_serve *sv, const char *cache_path, char *err, size_t n)
{
    const double us = sn_fpga_us_per_cycle(sn_fpga_board_of(sv->fpga));
    uint32_t i, g;
    for (g = 0; g <= sv->n; ++g) {
        sn_fpga_stats st;
        uint64_t bytes;
        sn_fpga_stats_reset(sv->fpga);
        bytes = set_subgraph(sv, g);
        sn_fpga_stats_get(sv->fpga, &st);
        if (g < sv->n) {
            sv->switch_us[g] = (double)st.load_cycles * us;
            sv->switch_bytes[g] = bytes;
        }
        for (i = 0; i < sv->n; ++i) {
            infer_result r;
            if (infer(sv, i, 0, &r) != 0)
                return fail(err, n, "%s: inference failed", sv->s[i].config);
            sn_fpga_stats_get(sv->fpga, &st);
            sv->fpga_prof[(size_t)i * (sv->n + 1) + g] = st;
            sv->lat_us[i][g] = (double)st.cycles * us;
            sv->near_bytes[i][g] = r.near_bytes;
            sv->far_bytes[i][g] = r.far_bytes;
        }
    }
    set_subgraph(sv, sv->n);
    memset(&sv->fpga_total, 0, sizeof sv->fpga_total);
    sv->profiled = 1;
    return cache_path ? profile_save(sv, cache_path, 1, err, n) : 0;
}

int sn_serve_profile(sn_serve *sv, const char *cache_path, int force, int reps, char *err, size_t n)
{
    uint32_t i, g, k, count = sv->images.dims[0];
    double *t;
    if (cache_path)
        snprintf(sv->profile_path, sizeof sv->profile_path, "%s", cache_path);
    if (sv->fpga)
        return profile_fpga(sv, cache_path, err, n);
    if (!force && cache_path && profile_load(sv, cache_path, 1) == 0) {
        sv->profiled = 1;
        return 0;
    }
    if (reps < 1 || sv->mcu)
        reps = 1; /* mcu: emulated instruction counts are deterministic */
    t = malloc((size_t)reps * sizeof *t);
    if (!t)
        return fail(err, n, "out of memory");
    for (g = 0; g <= sv->n; ++g) {
        int64_t t0 = now_ns();
        uint64_t bytes = set_subgraph(sv, g);
        if (g < sv->n) {
            sv->switch_us[g] = sv->mcu ? sv->mcu_switch_us : (double)(now_ns() - t0) / 1e3;
            sv->switch_bytes[g] = bytes;
        }
        for (i = 0; i < sv->n; ++i) {
            infer_result r = {0, 0, 0, -1.0, 0.0};
            for (k = 0; k < (sv->mcu ? 0u : 3u); ++k) /* warm-up */
                if (infer(sv, i, k % count, &r) != 0) {
                    free(t);
                    return fail(err, n, "%s: inference failed", sv->s[i].config);
                }
            for (k = 0; k < (uint32_t)reps; ++k) {
                int64_t a = now_ns();
                if (infer(sv, i, (k * 7919u) % count, &r) != 0 && sv->mcu) {
                    free(t);
                    return fail(err, n, "%s: %s", sv->s[i].config, sv->platform_error);
                }
                t[k] = r.model_us >= 0.0 ? r.model_us : (double)(now_ns() - a) / 1e3;
            }
            qsort(t, (size_t)reps, sizeof *t, cmp_double);
            sv->lat_us[i][g] = computes(sv) ? t[(reps - 1) / 2] : 0.0;
            sv->near_bytes[i][g] = r.near_bytes;
            sv->far_bytes[i][g] = r.far_bytes;
        }
    }
    free(t);
    set_subgraph(sv, sv->n);
    sv->profiled = 1;
    if (cache_path)
        return profile_save(sv, cache_path, reps, err, n);
    return 0;
}

int sn_serve_profile_load(sn_serve *sv, const char *path, char *err, size_t n)
{
    if (access(path, R_OK) != 0)
        return fail(err, n, "%s: %s", path, strerror(errno));
    if (profile_load(sv, path, 0) != 0)
        return fail(err, n, "%s: not a profile of this platform (%s), model (sha256 %.16s...) and "
                            "serving set; measure one with 'supernav profile'", path,
                    platform_name(sv), sv->model_sha);
    snprintf(sv->profile_path, sizeof sv->profile_path, "%s", path);
    sv->profiled = 1;
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
        return fail(err, n, "unknown policy '%s' (%s)", text, names);
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

/* Predicted latencies within this fraction of the fastest are ties, broken by top-1. */
#define SN_LAT_TIE 0.05

/* The fastest SubNet (PRED(i) = lat_us[i][g_of[i]]) whose top-1 is at least LEVEL, with
 * latency ties (within the fraction TIE of the fastest) going to the most accurate;
 * UINT32_MAX if none. */
static uint32_t fastest_at_level(const sn_serve *sv, const uint32_t *g_of, double level, double tie)
{
    uint32_t i, best = UINT32_MAX;
    double lim;
    for (i = 0; i < sv->n; ++i)
        if (sv->s[i].top1 + 1e-9 >= level &&
            (best == UINT32_MAX || sv->lat_us[i][g_of[i]] < sv->lat_us[best][g_of[best]]))
            best = i;
    if (best == UINT32_MAX)
        return best;
    lim = sv->lat_us[best][g_of[best]] * (1.0 + tie);
    for (i = 0; i < sv->n; ++i)
        if (sv->s[i].top1 + 1e-9 >= level && sv->lat_us[i][g_of[i]] <= lim && sv->s[i].top1 > sv->s[best].top1)
            best = i;
    return best;
}

/* The SubNet choice of sn_serve.h. PRED(i) = lat_us[i][G] (G per SubNet for the oracle). */
uint32_t sn_serve_choose(const sn_serve *sv, const uint32_t *g_of, float floor, int64_t ceiling_us,
                         double waited_us)
{
    uint32_t i, best = UINT32_MAX;
    if (!isnan(floor)) {
        /* the floor's level: the top-1 of the SubNet R the reference residency serves it
         * with (latency ties to the most accurate); then the fastest SubNet at that level
         * under the policy's residency, ties only exact. Under the reference residency that
         * is R itself (a SubNet at least as accurate and no slower would have won R's tie),
         * so static-subgraph serves R, and every policy at least R's top-1. */
        uint32_t r = fastest_at_level(sv, sv->g_ref_of, (double)floor, SN_LAT_TIE);
        if (r == UINT32_MAX)
            return sn_serve_most_accurate(sv);
        best = fastest_at_level(sv, g_of, sv->s[r].top1, 0.0);
        return best == UINT32_MAX ? r : best;
    }
    if (ceiling_us > 0) {
        double left = (double)ceiling_us - waited_us;
        for (i = 0; i < sv->n; ++i)
            if (sv->lat_us[i][g_of[i]] <= left && (best == UINT32_MAX || sv->s[i].top1 > sv->s[best].top1))
                best = i;
        if (best != UINT32_MAX)
            return best;
        for (i = 0; i < sv->n; ++i)
            if (best == UINT32_MAX || sv->lat_us[i][g_of[i]] < sv->lat_us[best][g_of[best]])
                best = i;
        return best;
    }
    return sn_serve_most_accurate(sv);
}

uint32_t sn_serve_choose_under(const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    uint32_t g_of[SN_SERVE_MAX_SUBNETS], i;
    for (i = 0; i < sv->n; ++i)
        g_of[i] = g;
    return sn_serve_choose(sv, g_of, q->floor, q->ceiling_us, q->waited_us);
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

/* ---- replay --------------------------------------------------------------------------- */
static void wait_until(int64_t t)
{
    int64_t left = t - now_ns();
    if (left > 2000000) {
        struct timespec ts;
        left -= 1000000;
        ts.tv_sec = left / 1000000000;
        ts.tv_nsec = left % 1000000000;
        nanosleep(&ts, NULL);
    }
    while (now_ns() < t)
        ;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* What the trace asks against what the serving set can give (policy.json "feasibility"),
 * the same for every policy: floors above the best SubNet's top-1, ceilings below the
 * fastest predicted latency of any SubNet with any SubGraph (or none) resident, and the
 * offered load at that fastest service time (open traces: queries x fastest / span of
 * arrivals; over 1 no policy can keep up). supernav summary reads it to say why an
 * experiment cannot tell policies apart (DEGENERATE). */
static void add_feasibility(cJSON *root, const sn_serve *sv, const sn_trace *tr, size_t count,
                            double speed, size_t slow)
{
    cJSON *f = cJSON_AddObjectToObject(root, "feasibility");
    double best = 0.0, fastest = INFINITY, span_us;
    size_t q, floors = 0, ceilings = 0, floor_out = 0, ceiling_out = 0;
    uint32_t i, g;
    for (i = 0; i < sv->n; ++i) {
        if (sv->s[i].top1 > best)
            best = sv->s[i].top1;
        for (g = 0; g <= sv->n; ++g)
            if (sv->lat_us[i][g] > 0.0 && sv->lat_us[i][g] < fastest)
                fastest = sv->lat_us[i][g];
    }
    for (q = 0; q < count; ++q) {
        if (!isnan(tr->acc_floor[q])) {
            ++floors;
            floor_out += (double)tr->acc_floor[q] > best + 1e-9;
        }
        if (tr->lat_ceiling_us[q] > 0) {
            ++ceilings;
            ceiling_out += (double)tr->lat_ceiling_us[q] < fastest;
        }
    }
    cJSON_AddStringToObject(f, "source", "model: the trace's constraints against the profile");
    cJSON_AddNumberToObject(f, "best_top1", best);
    cJSON_AddNumberToObject(f, "fastest_us", isfinite(fastest) ? fastest : 0.0);
    cJSON_AddNumberToObject(f, "queries", (double)count);
    cJSON_AddNumberToObject(f, "with_floor", (double)floors);
    cJSON_AddNumberToObject(f, "floor_unreachable", (double)floor_out);
    cJSON_AddNumberToObject(f, "with_ceiling", (double)ceilings);
    cJSON_AddNumberToObject(f, "ceiling_below_fastest", (double)ceiling_out);
    span_us = count > 1 ? (double)(tr->arrival_us[count - 1] - tr->arrival_us[0]) / speed : 0.0;
    if (tr->mode == SN_TRACE_MODE_CLOSED || !isfinite(fastest))
        cJSON_AddNullToObject(f, "offered_load_at_fastest");
    else if (span_us <= 0.0)
        cJSON_AddNumberToObject(f, "offered_load_at_fastest", count > 1 ? 1e9 : 0.0);
    else
        cJSON_AddNumberToObject(f, "offered_load_at_fastest", (double)count * fastest / span_us);
    /* queries whose service took over 1.5x the profile's time for their SubNet and SubGraph
     * (measured runs only: a machine busier than when it was profiled) */
    cJSON_AddNumberToObject(f, "slower_than_profile", (double)slow);
}

int sn_serve_replay(sn_serve *sv, const sn_replay_options *o, char *err, size_t n)
{
    sn_trace tr;
    sn_run_writer *w = NULL;
    sn_counters *cs = NULL;
    sn_counter_value *cv = NULL;
    sn_energy_meter *em = NULL;
    sn_energy_reading energy;
    sn_energy_work work = {0, 0, 0};
    sn_energy_options eo;
    sn_run_summary sum;
    char terr[512], model_path[1024], img_path[1024], budget_text[64], fpga_energy_name[48];
    sn_energy_model fpga_energy;
    int64_t first_arrival = 0, last_end = 0;
    uint32_t g_cur, g_static, i;
    sn_policy pol;
    uint64_t switches = 0, switch_bytes_total = 0, replans = 0;
    int64_t replan_ns_total = 0;
    int64_t origin, vclock = 0, prev_end = 0, *overhead = NULL, switch_ns_total = 0;
    sn_run_query *records = NULL;
    size_t q, count, slow_queries = 0;
    int rc = -1;
    double speed = o->speed > 0 ? o->speed : 1.0;

    memset(&tr, 0, sizeof tr);
    if (!sv->profiled)
        return fail(err, n, "internal error: replay before profile");
    if (sv->mcu && !o->virtual_time)
        return fail(err, n, "platform mcu replays in virtual time: --virtual (each query's emulated "
                            "instructions through the board's cycle model) or --modelled");
    if (sn_trace_load(o->trace_path, sv->images.dims[0], &tr, terr, sizeof terr) != SN_TRACE_OK)
        return fail(err, n, "%s", terr);
    count = o->limit && o->limit < tr.count ? o->limit : tr.count;
    if (count == 0) {
        sn_trace_free(&tr);
        return fail(err, n, "%s: the trace holds no query", o->trace_path);
    }
    memset(&pol, 0, sizeof pol);
    overhead = malloc(count * sizeof *overhead);
    /* real time: rows are logged after the timed loop, as LoadGen does; virtual time: each
     * row is written as it is served, so a long trace's rows are never held in memory */
    if (!o->virtual_time)
        records = malloc(count * sizeof *records);
    if (!overhead || (!o->virtual_time && !records)) {
        fail(err, n, "out of memory");
        goto done;
    }

    /* the floors' reference residency (sn_serve_choose), then the policy and its SubGraph */
    g_static = sn_serve_best_static_subgraph(sv);
    for (i = 0; i < sv->n; ++i)
        sv->g_ref_of[i] = g_static;
    if (!o->policy) {
        fail(err, n, "internal error: replay without a policy");
        goto done;
    }
    pol.ops = o->policy;
    pol.window = o->window;
    pol.period = o->period;
    pol.arg = o->policy_arg;
    if (pol.ops->start && pol.ops->start(&pol, sv, err, n) != 0)
        goto done;
    g_cur = pol.ops->initial_subgraph(&pol, sv);
    set_subgraph(sv, g_cur);

    if (sn_run_begin(o->out_dir, &w, err, n) != SN_RUN_OK)
        goto done;
    {
        sn_run_property pp[16], rp[11];
        size_t npp = 4;
        char pe_text[32], fpga_model[256];
        sn_run_file files[3];
        sn_run_context ctx;
        char data_lbl[1024];
        memset(&ctx, 0, sizeof ctx);
        snprintf(budget_text, sizeof budget_text, "%zu", sv->opt.near_budget_bytes);
        pp[0] = sv->ocl ? (sn_run_property){"device", sn_opencl_device_name(sv->ocl), 0}
              : sv->mcu ? (sn_run_property){"board", sn_mcu_session_board(sv->mcu)->part, 0}
                        : (sn_run_property){"isa", platform_variant(sv), 0};
        pp[1] = (sn_run_property){"near_memory", sv->cpu ? "packed weights kept resident (near_budget_bytes)"
                                                 : sv->ocl ? "packed weights in a device buffer (near_budget_bytes)"
                                                 : sv->fpga ? "modelled persistent SubGraph buffer on chip (near_budget_bytes)"
                                                 : sv->mcu ? "int8 weights copied into the board's SRAM weight cache (near_budget_bytes)"
                                                           : "none", 0};
        pp[2] = (sn_run_property){"far_memory", sv->cpu ? "the model image in DRAM, packed per call"
                                                : sv->ocl ? "the model image in host memory, packed and written to the device per call"
                                                : sv->fpga ? "modelled DDR"
                                                : sv->mcu ? "the int8-only image in the board's flash, read in place"
                                                          : "none", 0};
        pp[3] = (sn_run_property){"near_budget_bytes", NULL, (double)sv->opt.near_budget_bytes};
        if (sv->fpga) {
            /* the flags and the board's constants that the figures depend on */
            const sn_fpga_board *b = sn_fpga_board_of(sv->fpga);
            snprintf(pe_text, sizeof pe_text, "%dx%d", b->pe_rows, b->pe_cols);
            snprintf(fpga_model, sizeof fpga_model, "model:fpga-cycle-model(%s, %s PEs, %g MHz, DDR %g GB/s x %g, "
                     "persistent buffer %.0f KiB); platforms/fpga/README.md", b->name, pe_text, b->clock_mhz,
                     b->ddr_peak_gbps, b->ddr_efficiency, b->persist_buffer_kib);
            pp[npp++] = (sn_run_property){"board", b->path, 0};
            pp[npp++] = (sn_run_property){"board_name", b->name, 0};
            pp[npp++] = (sn_run_property){"pe", pe_text, 0};
            pp[npp++] = (sn_run_property){"pe_rows", NULL, (double)b->pe_rows};
            pp[npp++] = (sn_run_property){"pe_cols", NULL, (double)b->pe_cols};
            pp[npp++] = (sn_run_property){"near_kib", NULL, (double)sv->opt.near_budget_bytes / 1024.0};
            pp[npp++] = (sn_run_property){"clock_mhz", NULL, b->clock_mhz};
            pp[npp++] = (sn_run_property){"ddr_bytes_per_cycle", NULL, sn_fpga_ddr_bytes_per_cycle(b)};
            pp[npp++] = (sn_run_property){"latency_source", fpga_model, 0};
        }
        rp[0] = (sn_run_property){"policy", o->policy_text ? o->policy_text : pol.ops->name, 0};
        rp[1] = (sn_run_property){"trace", o->trace_path, 0};
        rp[2] = (sn_run_property){"trace_mode", tr.mode == SN_TRACE_MODE_CLOSED ? "closed" : "open", 0};
        rp[3] = (sn_run_property){"queries", NULL, (double)count};
        rp[4] = (sn_run_property){"speed", NULL, speed};
        rp[5] = (sn_run_property){"replay", o->modelled ? "virtual-time, modelled service times" :
                                            o->virtual_time ? "virtual-time" : "real-time", 0};
        rp[6] = (sn_run_property){"sushi_window", NULL, (double)o->window};
        rp[7] = (sn_run_property){"sushi_period", NULL, (double)o->period};
        rp[8] = (sn_run_property){"subnets", NULL, (double)sv->n};
        rp[9] = (sn_run_property){"precision", serve_precision(sv) == SN_INT8 ? "int8" : "fp32", 0};
        rp[10] = (sn_run_property){"profile", sv->profile_path, 0};
        snprintf(model_path, sizeof model_path, "%s", sv->opt.model_path);
        snprintf(img_path, sizeof img_path, "%s-images-idx3-ubyte", sv->opt.data_prefix);
        snprintf(data_lbl, sizeof data_lbl, "%s", img_path);
        files[0] = (sn_run_file){"model", model_path};
        files[1] = (sn_run_file){"data", data_lbl};
        files[2] = (sn_run_file){"trace", o->trace_path};
        ctx.supernav_version = SN_SERVE_VERSION;
#ifdef SN_GIT_REV
        ctx.git_revision = SN_GIT_REV;
#else
        ctx.git_revision = "unknown";
#endif
#ifdef SN_BUILD_FLAGS
        ctx.compiler_flags = SN_BUILD_FLAGS;
#else
        ctx.compiler_flags = "unknown";
#endif
        ctx.platform = platform_name(sv);
        ctx.platform_properties = pp;
        ctx.platform_property_count = npp;
        ctx.clock = sv->fpga ? "virtual:fpga-cycle-model(modelled cycles per SubNet and SubGraph)"
                    : o->modelled ? "virtual:modelled-service-times(profile p50 per SubNet and SubGraph)"
                    : sv->mcu ? "virtual:mcu-cycle-model(service times: instructions counted by QEMU x CPI + flash "
                                "wait states, the board's model; platforms/mcu)"
                    : o->virtual_time ? "virtual:measured-service-times(CLOCK_MONOTONIC)" : "wall:CLOCK_MONOTONIC";
        ctx.run_properties = rp;
        ctx.run_property_count = 11;
        ctx.files = files;
        ctx.file_count = 3;
        if (sn_run_write_context(w, &ctx) != SN_RUN_OK) {
            fail(err, n, "%s", sn_run_error(w));
            goto done;
        }
    }
    if (sn_counters_open(o->counters, &cs, terr, sizeof terr) != SN_COUNTERS_OK) {
        fail(err, n, "counters: %s", terr);
        goto done;
    }
    cv = calloc(sn_counters_count(cs) + 1, sizeof *cv);
    memset(&eo, 0, sizeof eo);
    eo.model = sv->mcu ? &sn_energy_model_cpu_int8 : &sn_energy_model_cpu_fp32;
    if (sv->fpga) {
        /* the board's per-access energies, weights only (policy.json holds the full account:
         * activations, tile buffers, static power) */
        const sn_fpga_board *b = sn_fpga_board_of(sv->fpga);
        snprintf(fpga_energy_name, sizeof fpga_energy_name, "fpga-%.24s-weights", b->name);
        fpga_energy = (sn_energy_model){fpga_energy_name, b->e_mac_pj, b->e_ddr_pj_per_byte, b->e_persist_pj_per_byte};
        eo.model = &fpga_energy;
    }
    if (!cv || sn_energy_open(&eo, &em) != SN_ENERGY_OK) {
        fail(err, n, "out of memory");
        goto done;
    }

    memset(&sv->ocl_total, 0, sizeof sv->ocl_total);
    memset(&sv->fpga_total, 0, sizeof sv->fpga_total);
    sn_counters_start(cs);
    sn_energy_start(em);
    origin = now_ns() + 5000000; /* 5 ms lead */
    for (q = 0; q < count; ++q) {
        int64_t arrival = (int64_t)((double)tr.arrival_us[q] * 1000.0 / speed), start, end, t_h0, t_inf = 0, t_inf_wall = 0;
        float floor = tr.acc_floor[q];
        int64_t ceiling = tr.lat_ceiling_us[q];
        uint32_t s, sample = tr.sample[q];
        infer_result r;
        sn_policy_query pq;
        sn_run_query rq;
        uint64_t extra_far = 0;
        double waited_us;
        if (tr.mode == SN_TRACE_MODE_CLOSED && prev_end > arrival)
            arrival = prev_end;
        if (o->virtual_time) {
            start = arrival > vclock ? arrival : vclock;
        } else {
            if (now_ns() - origin < arrival)
                wait_until(origin + arrival);
            start = now_ns() - origin;
        }
        t_h0 = now_ns();
        waited_us = (double)(start - arrival) / 1e3;
        /* the policy's SubNet, then the SubGraph it wants resident for this query */
        pq.index = q;
        pq.floor = floor;
        pq.ceiling_us = ceiling;
        pq.arrival_us = (double)arrival / 1e3;
        pq.start_us = (double)start / 1e3;
        pq.waited_us = waited_us;
        s = pol.ops->choose(&pol, sv, g_cur, &pq);
        if (pol.ops->resident) {
            int free_switch = 0;
            uint32_t g_new = pol.ops->resident(&pol, sv, g_cur, &pq, s, &free_switch);
            if (g_new != g_cur && free_switch) {
                /* a perfect cache: made resident outside the timed region */
                int64_t a = now_ns();
                set_subgraph(sv, g_new);
                g_cur = g_new;
                if (!o->virtual_time)
                    origin += now_ns() - a; /* no switching time is paid */
            } else if (g_new != g_cur && g_new < sv->n) {
                /* a switch, paid by this query in time and far bytes */
                int64_t a = now_ns();
                extra_far = set_subgraph(sv, g_new);
                if (!computes(sv) && o->modelled)
                    extra_far = sv->switch_bytes[g_new]; /* simulating the profile's platform */
                a = now_ns() - a;
                if (sv->mcu)
                    a = (int64_t)(sv->mcu_switch_us * 1e3);
                if (o->modelled)
                    a = (int64_t)(sv->switch_us[g_new] * 1e3);
                switch_ns_total += a;
                if (o->virtual_time)
                    start += a;
                g_cur = g_new;
                ++switches;
                switch_bytes_total += extra_far;
                if (sv->fpga) { /* the switch's DDR load, in the run's account */
                    sv->fpga_total.ddr_weight_bytes += extra_far;
                    sv->fpga_total.persist_write_bytes += extra_far;
                    sv->fpga_total.load_cycles += (uint64_t)llround(sv->switch_us[g_new] /
                                                  sn_fpga_us_per_cycle(sn_fpga_board_of(sv->fpga)));
                }
            }
        }
        /* the inference */
        {
            int64_t a = now_ns();
            if (infer(sv, s, sample, &r) != 0) {
                fail(err, n, "%s: inference failed%s%s", sv->s[s].config,
                     sv->platform_error[0] ? ": " : "", sv->platform_error);
                goto done;
            }
            t_inf = t_inf_wall = now_ns() - a;
            if (r.model_us >= 0.0) /* mcu: emulated, through the board's cycle model */
                t_inf = (int64_t)(r.model_us * 1e3);
            if (!o->modelled && !sv->mcu && !sv->fpga && computes(sv) &&
                (double)t_inf > 1.5e3 * sv->lat_us[s][g_cur])
                ++slow_queries;
            if (o->modelled) /* the profile's p50 with the resident SubGraph, not this run's time */
                t_inf = (int64_t)(sv->lat_us[s][g_cur] * 1e3);
            if (o->modelled && !computes(sv)) {
                /* the null platform simulating the pinned profile's platform: its bytes too */
                r.near_bytes = sv->near_bytes[s][g_cur];
                r.far_bytes = sv->far_bytes[s][g_cur];
            }
            /* mcu: the firmware holds one plan; a query for another SubNet pays its re-plan */
            t_inf += (int64_t)(r.plan_us * 1e3);
            replans += r.plan_us > 0.0;
            replan_ns_total += (int64_t)(r.plan_us * 1e3);
        }
        if (o->virtual_time) {
            end = start + t_inf;
            vclock = end;
        } else {
            end = now_ns() - origin;
        }
        prev_end = end;
        if (q == 0)
            first_arrival = arrival;
        last_end = end;
        memset(&rq, 0, sizeof rq);
        rq.sample = sample;
        rq.arrival_ns = arrival;
        rq.start_ns = start;
        rq.end_ns = end;
        rq.subnet = sv->s[s].config;
        rq.subgraph = g_cur < sv->n ? sv->s[g_cur].config : "";
        rq.near_bytes = r.near_bytes;
        rq.far_bytes = r.far_bytes + extra_far;
        rq.prediction = r.prediction;
        rq.correct = r.prediction < 0 ? -1 : (int8_t)(r.prediction == (int32_t)sv->labels.data[sample]);
        rq.slo_met = (isnan(floor) || sv->s[s].top1 + 1e-9 >= (double)floor) &&
                     (ceiling <= 0 || end - arrival <= ceiling * 1000);
        rq.table_accuracy = sv->s[s].top1;
        work.macs += (uint64_t)sv->s[s].macs;
        work.near_bytes += rq.near_bytes;
        work.far_bytes += rq.far_bytes;
        overhead[q] = now_ns() - t_h0 - t_inf_wall; /* the inference's wall time, even when modelled;
                                                       logging the row is not counted */
        if (!o->virtual_time) {
            records[q] = rq;
        } else if (sn_run_add_query(w, &rq) != SN_RUN_OK) {
            fail(err, n, "%s", sn_run_error(w));
            goto done;
        }
        if (o->progress && (q + 1) % 1000 == 0)
            fprintf(stderr, "\r  %zu / %zu queries", q + 1, count);
    }
    if (o->progress)
        fprintf(stderr, "\r%*s\r", 40, "");
    for (q = 0; records && q < count; ++q)
        if (sn_run_add_query(w, &records[q]) != SN_RUN_OK) {
            fail(err, n, "%s", sn_run_error(w));
            goto done;
        }
    if (!computes(sv))
        work.macs = 0; /* the null platform computes nothing */
    sn_energy_stop(em, &work, &energy);
    sn_counters_stop(cs, cv);
    set_subgraph(sv, sv->n);
    if (sn_run_write_counters(w, cs, cv) != SN_RUN_OK) {
        fail(err, n, "%s", sn_run_error(w));
        goto done;
    }
    /* policy.json: what the scheduler did and what the harness cost, beside summary.json */
    {
        char path[1200], *text;
        cJSON *root = cJSON_CreateObject();
        double mean = 0.0;
        qsort(overhead, count, sizeof *overhead, cmp_i64);
        for (q = 0; q < count; ++q)
            mean += (double)overhead[q];
        mean /= (double)count;
        cJSON_AddStringToObject(root, "policy", o->policy_text ? o->policy_text : pol.ops->name);
        cJSON_AddNumberToObject(root, "subgraph_switches", (double)switches);
        cJSON_AddNumberToObject(root, "switch_time_us", (double)switch_ns_total / 1e3);
        cJSON_AddNumberToObject(root, "switch_far_bytes", (double)switch_bytes_total);
        if (sv->mcu) {
            cJSON_AddNumberToObject(root, "replans", (double)replans);
            cJSON_AddNumberToObject(root, "replan_time_us", (double)replan_ns_total / 1e3);
        }
        cJSON_AddStringToObject(root, "final_subgraph", g_cur < sv->n ? sv->s[g_cur].config : "");
        add_feasibility(root, sv, &tr, count, speed, slow_queries);
        cJSON_AddNumberToObject(root, "harness_overhead_mean_us", mean / 1e3);
        cJSON_AddNumberToObject(root, "harness_overhead_p99_us",
                                (double)sn_run_percentile_nearest_rank(overhead, count, 990) / 1e3);
        cJSON_AddStringToObject(root, "harness_overhead_source",
                                "measured: per query, wall time of choice and bookkeeping, inference excluded");
        {
            struct rusage ru;
            if (getrusage(RUSAGE_SELF, &ru) == 0) /* Linux: kilobytes */
                cJSON_AddNumberToObject(root, "process_peak_rss_kib", (double)ru.ru_maxrss);
        }
        if (sv->ocl) {
            /* the OpenCL platform's own account of the run's inferences (profiling events) */
            const sn_opencl_stats *t = &sv->ocl_total;
            cJSON *oc = cJSON_AddObjectToObject(root, "opencl");
            cJSON_AddStringToObject(oc, "device", sn_opencl_device_name(sv->ocl));
            cJSON_AddStringToObject(oc, "source", "measured: OpenCL profiling events (START..END per command; "
                                                  "device = first QUEUED to last END per platform call)");
            cJSON_AddNumberToObject(oc, "kernel_us", (double)t->kernel_ns / 1e3);
            cJSON_AddNumberToObject(oc, "kernels", (double)t->kernels);
            cJSON_AddNumberToObject(oc, "weight_transfer_us", (double)t->weight_write_ns / 1e3);
            cJSON_AddNumberToObject(oc, "weight_transfer_bytes", (double)t->weight_write_bytes);
            cJSON_AddNumberToObject(oc, "act_transfer_us", (double)t->act_transfer_ns / 1e3);
            cJSON_AddNumberToObject(oc, "act_transfer_bytes", (double)(t->act_write_bytes + t->act_read_bytes));
            cJSON_AddNumberToObject(oc, "device_us", (double)t->device_ns / 1e3);
            cJSON_AddNumberToObject(oc, "platform_wall_us", (double)t->wall_ns / 1e3);
        }
        if (sv->fpga) {
            /* the accelerator model's account of the run: every query's convolutions and the
             * SubGraph switches' DDR loads; static power over the run's span (first arrival to
             * last end, idle time included) and over the busy time */
            const sn_fpga_board *b = sn_fpga_board_of(sv->fpga);
            const sn_fpga_stats *t = &sv->fpga_total;
            double us = sn_fpga_us_per_cycle(b);
            uint64_t span = (uint64_t)((double)(last_end - first_arrival) / 1e3 / us);
            sn_fpga_energy e;
            cJSON *fc = cJSON_AddObjectToObject(root, "fpga");
            sn_fpga_energy_of(b, t, span, &e);
            cJSON_AddStringToObject(fc, "source", "model:fpga cycle model and per-access energy model "
                                                  "(platforms/fpga/README.md); nothing here is measured");
            cJSON_AddStringToObject(fc, "board", b->path);
            cJSON_AddStringToObject(fc, "board_name", b->name);
            cJSON_AddNumberToObject(fc, "pe_rows", b->pe_rows);
            cJSON_AddNumberToObject(fc, "pe_cols", b->pe_cols);
            cJSON_AddNumberToObject(fc, "clock_mhz", b->clock_mhz);
            cJSON_AddNumberToObject(fc, "persist_buffer_bytes", (double)sn_fpga_persist_capacity(sv->fpga));
            cJSON_AddNumberToObject(fc, "cycles", (double)t->cycles);
            cJSON_AddNumberToObject(fc, "compute_cycles", (double)t->compute_cycles);
            cJSON_AddNumberToObject(fc, "switch_load_cycles", (double)t->load_cycles);
            cJSON_AddNumberToObject(fc, "macs", (double)t->macs);
            cJSON_AddNumberToObject(fc, "ddr_weight_bytes", (double)t->ddr_weight_bytes);
            cJSON_AddNumberToObject(fc, "ddr_act_bytes", (double)t->ddr_act_bytes);
            cJSON_AddNumberToObject(fc, "persist_read_bytes", (double)t->persist_read_bytes);
            cJSON_AddNumberToObject(fc, "persist_write_bytes", (double)t->persist_write_bytes);
            cJSON_AddNumberToObject(fc, "buffer_bytes", (double)t->buffer_bytes);
            cJSON_AddNumberToObject(fc, "span_us", (double)span * us);
            cJSON_AddNumberToObject(fc, "energy_mac_uj", e.mac_pj / 1e6);
            cJSON_AddNumberToObject(fc, "energy_buffer_uj", e.buffer_pj / 1e6);
            cJSON_AddNumberToObject(fc, "energy_persist_uj", e.persist_pj / 1e6);
            cJSON_AddNumberToObject(fc, "energy_offchip_uj", e.offchip_pj / 1e6);
            cJSON_AddNumberToObject(fc, "energy_static_span_uj", e.static_pj / 1e6);
            cJSON_AddNumberToObject(fc, "energy_static_busy_uj",
                                    b->static_power_w * (double)(t->cycles + t->load_cycles) * us);
            cJSON_AddNumberToObject(fc, "energy_dynamic_uj", (e.total_pj - e.static_pj) / 1e6);
            cJSON_AddNumberToObject(fc, "energy_total_uj", e.total_pj / 1e6);
        }
        text = cJSON_Print(root);
        cJSON_Delete(root);
        snprintf(path, sizeof path, "%s/policy.json", sn_run_temp_dir(w));
        if (!text || sn_write_file_atomic(path, text, strlen(text)) != 0) {
            int e = text ? errno : ENOMEM;
            free(text);
            fail(err, n, "cannot write %s/policy.json: %s", o->out_dir, strerror(e));
            goto done;
        }
        free(text);
    }
    if (sn_run_finish(w, &energy, &sum, err, n) != SN_RUN_OK) {
        w = NULL;
        goto done;
    }
    w = NULL;
    rc = 0;
done:
    sn_run_abort(w);
    sn_counters_close(cs);
    sn_energy_close(em);
    free(cv);
    if (pol.ops && pol.ops->finish)
        pol.ops->finish(&pol);
    free(overhead);
    free(records);
    sn_trace_free(&tr);
    return rc;
}
