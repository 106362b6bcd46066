#include "sn_pack.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_canvas.h" /* the canvas tasks, by name */
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_image.h"
#include "sn_model.h"
#include "sn_safetensors.h"

typedef struct pack_tensor {
    char name[SN_IMAGE_NAME_BYTES];
    uint32_t dtype, ndim, dims[4];
    uint64_t bytes;
    unsigned char *data;   /* owned */
} pack_tensor;

typedef struct pack_state {
    pack_tensor *tensors;
    size_t count;
    char (*configs)[SN_IMAGE_CONFIG_TEXT_BYTES];
    uint32_t *config_kinds;
    size_t config_count;
    sn_image_arch arch;
    uint32_t version;       /* the image's format version: 2 when the spec names splits */
    const char *table;      /* optional accuracy table text */
    size_t table_bytes;
    char *err;
    size_t err_bytes;
} pack_state;

static int errorf(pack_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errorf(pack_state *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->err_bytes, fmt, ap);
    va_end(ap);
    return -1;
}

static void free_state(pack_state *s)
{
    size_t i;
    for (i = 0; i < s->count; ++i)
        free(s->tensors[i].data);
    free(s->tensors);
    free(s->configs);
    free(s->config_kinds);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* ---- the spec -> ARCH ------------------------------------------------------------- */
static int get_u32(pack_state *s, const cJSON *obj, const char *key, uint32_t max, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
        v->valuedouble != (double)(uint32_t)v->valuedouble)
        return errorf(s, "spec field '%s' missing or not an integer in [0, %u]", key, max);
    *out = (uint32_t)v->valuedouble;
    return 0;
}

static int get_list(pack_state *s, const cJSON *obj, const char *key, uint32_t *count,
                    uint32_t *values)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *v;
    uint32_t n = 0;
    if (!cJSON_IsArray(arr))
        return errorf(s, "spec field '%s' missing or not a list", key);
    cJSON_ArrayForEach(v, arr) {
        if (n >= SN_IMAGE_MAX_CHOICES || !cJSON_IsNumber(v) || v->valuedouble < 0 ||
            v->valuedouble > 65535 || v->valuedouble != (double)(uint32_t)v->valuedouble)
            return errorf(s, "spec list '%s' too long or not small integers", key);
        values[n++] = (uint32_t)v->valuedouble;
    }
    *count = n;
    return 0;
}

static int read_spec(pack_state *s, const cJSON *spec)
{
    sn_image_arch *a = &s->arch;
    const cJSON *stages, *st, *arac, *calibs, *c, *fmt, *eps;
    float eps_f;
    uint32_t i = 0;
    fmt = cJSON_GetObjectItemCaseSensitive(spec, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "supernav-supernet") != 0)
        return errorf(s, "metadata spec is not a supernav-supernet spec");
    if (get_u32(s, spec, "version", 1000, &i) || i != 1)
        return errorf(s, "spec version %u is not supported (expected 1)", i);
    if (get_u32(s, spec, "canvas", 1024, &a->canvas) || get_u32(s, spec, "num_classes", 1000, &a->num_classes) ||
        get_u32(s, spec, "stem_c", 4096, &a->stem_c) || get_u32(s, spec, "head_c", 4096, &a->head_c) ||
        get_u32(s, spec, "k_max", 15, &a->k_max) ||
        get_list(s, spec, "resolutions", &a->num_resolutions, a->resolutions) ||
        get_list(s, spec, "expands", &a->num_expands, a->expands) ||
        get_list(s, spec, "kernels", &a->num_kernels, a->kernels))
        return -1;
    stages = cJSON_GetObjectItemCaseSensitive(spec, "stages");
    if (!cJSON_IsArray(stages))
        return errorf(s, "spec field 'stages' missing");
    i = 0;
    cJSON_ArrayForEach(st, stages) {
        if (i >= SN_IMAGE_MAX_STAGES)
            return errorf(s, "more than %d stages", SN_IMAGE_MAX_STAGES);
        if (get_u32(s, st, "out_c", 4096, &a->stage_out_c[i]) ||
            get_u32(s, st, "max_depth", 16, &a->stage_max_depth[i]) ||
            get_u32(s, st, "min_depth", 16, &a->stage_min_depth[i]) ||
            get_u32(s, st, "stride", 2, &a->stage_stride[i]))
            return -1;
        ++i;
    }
    a->num_stages = i;
    arac = cJSON_GetObjectItemCaseSensitive(spec, "arac");
    if (!cJSON_IsObject(arac))
        return errorf(s, "spec field 'arac' missing");
    /* format version 2: ARAC with split points (arac.splits), region modes and a multi-level
     * gate; otherwise version 1 (CF-64's one split arac.prefix_stages), byte for byte as before */
    s->version = cJSON_GetObjectItemCaseSensitive(arac, "splits") ? 2u : 1u;
    if ((s->version == 1 && get_u32(s, arac, "prefix_stages", SN_IMAGE_MAX_STAGES, &a->arac_prefix_stages)) ||
        get_list(s, arac, "grids", &a->num_grids, a->grids) ||
        get_list(s, arac, "levels_pct", &a->num_levels, a->levels_pct) ||
        get_u32(s, arac, "gate_c", 256, &a->gate_c) || get_u32(s, arac, "gate_pool", 64, &a->gate_pool))
        return -1;
    if (s->version == 2) {
        const cJSON *modes = cJSON_GetObjectItemCaseSensitive(arac, "modes"), *m;
        if (get_list(s, arac, "splits", &a->num_splits, a->splits) ||
            get_u32(s, arac, "gate_out", SN_IMAGE_MAX_CHOICES, &a->gate_out))
            return -1;
        if (!cJSON_IsArray(modes) || cJSON_GetArraySize(modes) == 0)
            return errorf(s, "spec field 'arac.modes' missing or empty (a list of \"h\" and \"z\")");
        cJSON_ArrayForEach(m, modes) {
            if (!cJSON_IsString(m) || (strcmp(m->valuestring, "h") && strcmp(m->valuestring, "z")))
                return errorf(s, "spec list 'arac.modes' holds something other than \"h\" and \"z\"");
            a->region_modes |= m->valuestring[0] == 'h' ? SN_REGION_MODE_HALO : SN_REGION_MODE_TILE;
        }
        if (cJSON_GetObjectItemCaseSensitive(arac, "prefix_stages"))
            return errorf(s, "spec field 'arac.prefix_stages' and 'arac.splits' together (one or the other)");
        /* the task, where the canvas generator knows it (a version 1 image has no room) */
        {
            const cJSON *task = cJSON_GetObjectItemCaseSensitive(spec, "task");
            if (cJSON_IsString(task))
                a->task = (uint32_t)sn_canvas_task_parse(task->valuestring);
            if (a->task && (uint32_t)sn_canvas_task_geometry((sn_canvas_task)a->task)->side != a->canvas)
                return errorf(s, "spec task '%s' has %dx%d canvases; the spec's canvas is %u", task->valuestring,
                              sn_canvas_task_geometry((sn_canvas_task)a->task)->side,
                              sn_canvas_task_geometry((sn_canvas_task)a->task)->side, a->canvas);
        }
    }
    eps = cJSON_GetObjectItemCaseSensitive(spec, "bn_eps");
    if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0 && eps->valuedouble < 1))
        return errorf(s, "spec field 'bn_eps' missing or absurd");
    eps_f = (float)eps->valuedouble;
    memcpy(&a->bn_eps_bits, &eps_f, 4);

    calibs = cJSON_GetObjectItemCaseSensitive(spec, "calibrations");
    if (!cJSON_IsArray(calibs))
        return errorf(s, "spec field 'calibrations' missing");
    s->config_count = (size_t)cJSON_GetArraySize(calibs);
    s->configs = calloc(s->config_count ? s->config_count : 1, sizeof *s->configs);
    s->config_kinds = calloc(s->config_count ? s->config_count : 1, sizeof *s->config_kinds);
    if (!s->configs || !s->config_kinds)
        return errorf(s, "out of memory");
    i = 0;
    cJSON_ArrayForEach(c, calibs) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "config");
        uint32_t id;
        if (get_u32(s, c, "id", 1u << 20, &id) || id != i)
            return errorf(s, "calibration %u: ids must count from 0", i);
        if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "subnet") && strcmp(kind->valuestring, "arac")))
            return errorf(s, "calibration %u: kind must be subnet or arac", i);
        if (!cJSON_IsString(text) || strlen(text->valuestring) == 0 ||
            strlen(text->valuestring) >= SN_IMAGE_CONFIG_TEXT_BYTES)
            return errorf(s, "calibration %u: config text missing or too long", i);
        {
            const char *ch;
            for (ch = text->valuestring; *ch; ++ch)
                if (*ch < 0x20 || *ch > 0x7e)
                    return errorf(s, "calibration %u: config text is not printable ASCII", i);
        }
        s->config_kinds[i] = strcmp(kind->valuestring, "subnet") ? 1u : 0u;
        strcpy(s->configs[i], text->valuestring);
        ++i;
    }
    return 0;
}

/* ---- tensors ---------------------------------------------------------------------- */
static int add_tensor(pack_state *s, const sn_st_tensor *in)
{
    pack_tensor *t;
    const unsigned char *src = in->data;
    float *dst;
    uint64_t d[4] = {1, 1, 1, 1};
    uint32_t i;

    const char *ch;
    if (strlen(in->name) == 0 || strlen(in->name) >= SN_IMAGE_NAME_BYTES)
        return errorf(s, "tensor name '%s' empty or longer than %u bytes", in->name,
                      SN_IMAGE_NAME_BYTES - 1);
    for (ch = in->name; *ch; ++ch)
        if (*ch < 0x20 || *ch > 0x7e)
            return errorf(s, "a tensor name is not printable ASCII");
    if (strcmp(in->dtype, "F32") != 0)
        return errorf(s, "tensor '%s': dtype must be F32", in->name);
    if (in->ndim == 0 || in->ndim > 4)
        return errorf(s, "tensor '%s': rank %u is not supported", in->name, in->ndim);
    for (i = 0; i < in->ndim; ++i) {
        if (in->dims[i] == 0 || in->dims[i] > (1u << 24))
            return errorf(s, "tensor '%s': absurd shape", in->name);
        d[i] = in->dims[i];
    }
    if (s->count % 64 == 0) {
        pack_tensor *n = realloc(s->tensors, (s->count + 64) * sizeof *n);
        if (!n)
            return errorf(s, "out of memory");
        s->tensors = n;
    }
    t = &s->tensors[s->count];
    memset(t, 0, sizeof *t);
    strcpy(t->name, in->name);
    t->dtype = SN_DTYPE_F32;
    t->bytes = in->bytes;
    t->data = malloc((size_t)t->bytes);
    if (!t->data)
        return errorf(s, "out of memory");
    ++s->count;
    dst = (float *)(void *)t->data;
    if (in->ndim == 4 && d[1] == 1 && ends_with(in->name, ".dw")) {
        /* depthwise [C,1,K,K] -> [K][K][C] */
        uint64_t c, y, x, C = d[0], K = d[2];
        if (d[2] != d[3])
            return errorf(s, "tensor '%s': depthwise kernel is not square", in->name);
        for (c = 0; c < C; ++c)
            for (y = 0; y < K; ++y)
                for (x = 0; x < K; ++x)
                    memcpy(&dst[(y * K + x) * C + c], src + 4 * ((c * K + y) * K + x), 4);
        t->ndim = 3;
        t->dims[0] = (uint32_t)K; t->dims[1] = (uint32_t)K; t->dims[2] = (uint32_t)C; t->dims[3] = 1;
    } else if (in->ndim == 4) {
        /* dense [O,I,H,W] -> [O][H][W][I] */
        uint64_t o, i2, y, x, O = d[0], I = d[1], H = d[2], W = d[3];
        for (o = 0; o < O; ++o)
            for (i2 = 0; i2 < I; ++i2)
                for (y = 0; y < H; ++y)
                    for (x = 0; x < W; ++x)
                        memcpy(&dst[((o * H + y) * W + x) * I + i2], src + 4 * (((o * I + i2) * H + y) * W + x), 4);
        t->ndim = 4;
        t->dims[0] = (uint32_t)O; t->dims[1] = (uint32_t)H; t->dims[2] = (uint32_t)W; t->dims[3] = (uint32_t)I;
    } else {
        memcpy(dst, src, (size_t)t->bytes);
        t->ndim = in->ndim;
        for (i = 0; i < 4; ++i)
            t->dims[i] = (uint32_t)d[i];
    }
    return 0;
}

/* ---- int8 weights ----------------------------------------------------------------- */
static pack_tensor *new_tensor(pack_state *s, const char *name, uint32_t dtype, uint32_t ndim,
                               const uint32_t *dims, uint64_t bytes)
{
    pack_tensor *t;
    if (strlen(name) >= SN_IMAGE_NAME_BYTES) {
        errorf(s, "tensor name '%s' longer than %u bytes", name, SN_IMAGE_NAME_BYTES - 1);
        return NULL;
    }
    if (s->count % 64 == 0) {
        pack_tensor *n = realloc(s->tensors, (s->count + 64) * sizeof *n);
        if (!n) {
            errorf(s, "out of memory");
            return NULL;
        }
        s->tensors = n;
    }
    t = &s->tensors[s->count];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->dims, dims, sizeof t->dims);
    t->bytes = bytes;
    t->data = calloc(1, bytes ? (size_t)bytes : 1);
    if (!t->data) {
        errorf(s, "out of memory");
        return NULL;
    }
    ++s->count;
    return t;
}

/* Per-output-channel symmetric int8 copies of every convolution and classifier weight
 * tensor (the gate stays fp32): q8.NAME (S8, same shape) and q8.NAME.scale (F32, one per
 * channel: max |w| / 127 over the channel's whole extent, so that any leading slice or
 * centred crop of it is quantized exactly as the whole). */
static int add_q8_weights(pack_state *s)
{
    size_t n = s->count, i;
    for (i = 0; i < n; ++i) {
        char name[SN_IMAGE_NAME_BYTES + 16];
        uint32_t channels, per, step, sdims[4] = {0, 1, 1, 1}, qdims[4];
        uint64_t c, j;
        const float *w;
        int8_t *q;
        float *scale;
        pack_tensor *tq, *ts;
        const pack_tensor *t = &s->tensors[i];
        int dw = t->ndim == 3;
        if (t->dtype != SN_DTYPE_F32 || !strncmp(t->name, "gate.", 5) || !strncmp(t->name, "q8.", 3))
            continue;
        if (!(t->ndim == 4 || t->ndim == 3 || !strcmp(t->name, "fc.weight")))
            continue;
        channels = dw ? t->dims[2] : t->dims[0];
        per = (uint32_t)(t->bytes / 4 / channels);
        step = dw ? channels : 1;
        snprintf(name, sizeof name, "q8.%s", t->name);
        memcpy(qdims, t->dims, sizeof qdims); /* new_tensor may move the array T is in */
        if (!(tq = new_tensor(s, name, SN_DTYPE_S8, t->ndim, qdims, t->bytes / 4)))
            return -1;
        t = &s->tensors[i];
        sdims[0] = channels;
        snprintf(name, sizeof name, "q8.%s.scale", t->name);
        if (!(ts = new_tensor(s, name, SN_DTYPE_F32, 1, sdims, (uint64_t)channels * 4)))
            return -1;
        t = &s->tensors[i]; /* new_tensor may have moved the array */
        tq = &s->tensors[s->count - 2];
        w = (const float *)(const void *)t->data;
        q = (int8_t *)tq->data;
        scale = (float *)(void *)ts->data;
        for (c = 0; c < channels; ++c) {
            float m = 0.0f, sc;
            for (j = 0; j < per; ++j) {
                uint64_t k = dw ? j * step + c : c * per + j;
                float a = w[k] < 0 ? -w[k] : w[k];
                if (!isfinite(a))
                    return errorf(s, "tensor '%s': a weight is not a finite number", t->name);
                if (a > m)
                    m = a;
            }
            /* m / 127 underflows to 0 when every weight of the channel is a tiny subnormal
             * (found by fuzz_safetensors): those weights quantize to 0 with scale 1 */
            sc = m / 127.0f;
            if (!(sc > 0.0f))
                sc = 1.0f;
            scale[c] = sc;
            for (j = 0; j < per; ++j) {
                uint64_t k = dw ? j * step + c : c * per + j;
                float v = w[k] / sc;
                long r = (long)(v < 0 ? v - 0.5f : v + 0.5f);
                q[k] = (int8_t)(r < -127 ? -127 : (r > 127 ? 127 : r));
            }
        }
    }
    return 0;
}

/* ---- int8 activation calibration ------------------------------------------------- */
typedef struct calib_obs {
    float *rows;
    uint32_t num_layers, prefix_count;
} calib_obs;

static void observe_range(void *user, uint32_t section, uint32_t layer, uint32_t stage,
                          const float *data, size_t n)
{
    calib_obs *o = user;
    uint32_t row = section == 0 ? 1 + layer : 1 + o->num_layers + (section - 1) * o->prefix_count + layer;
    float *r = o->rows + (size_t)row * SN_Q8_ACT_COLUMNS + 2 * stage;
    size_t i;
    for (i = 0; i < n; ++i) {
        if (data[i] < r[0])
            r[0] = data[i];
        if (data[i] > r[1])
            r[1] = data[i];
    }
}

/* Runs every config of the image in fp32 over the calibration canvases and adds
 * q8.act.{config}: per layer, min and max of the convolution output and of the output
 * after the residual add. */
static int add_calibration(pack_state *s, const unsigned char *img, size_t img_bytes,
                           const sn_pack_calib *calib)
{
    sn_model model;
    sn_model_error merr;
    sn_cpu *cpu = NULL;
    sn_platform plat;
    const char *why = "";
    uint32_t i;
    size_t k;
    int rc = -1;
    float *logits = NULL;
    if (sn_model_load(&model, img, img_bytes, &merr) != SN_OK)
        return errorf(s, "internal error: the packed image does not load (%s)", merr.what);
    if (calib->side != model.arch.canvas)
        return errorf(s, "calibration canvases are %ux%u; the spec's canvas is %u", calib->side, calib->side,
                      model.arch.canvas);
    /* AVX2+FMA where the processor has it: the same accumulation order and fused
     * multiply-adds as the AVX-512 build, so the ranges (and the image's bytes) are the same
     * on every x86-64 machine with AVX2; the portable build otherwise */
    {
        sn_cpu_options co;
        sn_cpu_options_default(&co);
        co.isa = sn_cpu_isa_available("avx2") ? "avx2" : "portable";
        if (sn_cpu_create(&model, &co, &cpu, &why) != SN_OK)
            return errorf(s, "calibration: %s", why);
    }
    if (!(logits = malloc(sizeof *logits * model.arch.num_classes))) { /* up to 1000 classes */
        sn_cpu_destroy(cpu);
        return errorf(s, "out of memory");
    }
    sn_cpu_platform(cpu, &plat);
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind, rows, dims[4] = {0, SN_Q8_ACT_COLUMNS, 1, 1};
        const char *text;
        sn_config cfg;
        sn_plan plan;
        size_t need;
        void *arena = NULL;
        calib_obs obs;
        char name[64];
        pack_tensor *t;
        sn_model_config(&model, i, &kind, &text);
        if (sn_config_parse(text, &cfg) != SN_OK || sn_plan_arena_bytes(&model, &cfg, &need) != SN_OK ||
            posix_memalign(&arena, 64, need) != 0 ||
            sn_plan_prepare(&plan, &model, &cfg, arena, need, &why) != SN_OK) {
            free(arena);
            errorf(s, "calibration: config %s cannot be planned", text);
            goto done;
        }
        rows = sn_plan_act_rows(&plan);
        dims[0] = rows;
        snprintf(name, sizeof name, "q8.act.%u", i);
        if (!(t = new_tensor(s, name, SN_DTYPE_F32, 2, dims, (uint64_t)rows * SN_Q8_ACT_COLUMNS * 4))) {
            free(arena);
            goto done;
        }
        obs.rows = (float *)(void *)t->data;
        obs.num_layers = plan.num_layers;
        obs.prefix_count = plan.is_arac ? plan.arac.prefix_count : 0; /* per computed level */
        for (k = 0; k < (size_t)rows; ++k) {
            obs.rows[k * 4 + 0] = obs.rows[k * 4 + 2] = 1e30f;
            obs.rows[k * 4 + 1] = obs.rows[k * 4 + 3] = -1e30f;
        }
        obs.rows[0] = obs.rows[2] = 0.0f; /* the input: pixel / 255 */
        obs.rows[1] = obs.rows[3] = 1.0f;
        plan.observe = observe_range;
        plan.observe_user = &obs;
        {
            /* an ARAC config of the split-point form: every computed level on every canvas
             * (all tiles forced to it), so that a level the gate seldom picks is calibrated
             * too; CF-64's form: the gate decides, as its committed image was calibrated */
            int forced = plan.is_arac && cfg.split;
            uint32_t lv, passes = forced ? plan.arac.computed_levels : 1;
            sn_status ist = SN_OK;
            for (lv = 0; lv < passes && ist == SN_OK; ++lv) {
                plan.arac.force_level = (int8_t)(forced ? (int)lv : -1);
                for (k = 0; k < calib->count && ist == SN_OK; ++k)
                    ist = sn_plan_invoke(&plan, &plat, calib->canvases + k * calib->side * calib->side, logits,
                                         NULL, NULL);
            }
            if (ist != SN_OK) {
                free(arena);
                errorf(s, "calibration: config %s: %s", text, sn_status_str(ist));
                goto done;
            }
        }
        free(arena);
        for (k = 0; k < (size_t)rows * SN_Q8_ACT_COLUMNS; ++k)
            if (!(obs.rows[k] > -1e30f && obs.rows[k] < 1e30f)) {
                errorf(s, "calibration: config %s left a layer unobserved", text);
                goto done;
            }
    }
    rc = 0;
done:
    free(logits);
    sn_cpu_destroy(cpu);
    return rc;
}

/* ---- image writer ----------------------------------------------------------------- */
void sn_image_wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

void sn_image_wr64(unsigned char *p, uint64_t v)
{
    sn_image_wr32(p, (uint32_t)v);
    sn_image_wr32(p + 4, (uint32_t)(v >> 32));
}

uint64_t sn_image_align(uint64_t v) { return (v + SN_IMAGE_ALIGN - 1) / SN_IMAGE_ALIGN * SN_IMAGE_ALIGN; }

uint64_t sn_image_layout(uint32_t version, uint32_t nsec, uint64_t n_tensors, uint64_t n_configs,
                         uint64_t data_bytes, uint64_t table_bytes, uint64_t off[5], uint64_t bytes[5])
{
    uint32_t i;
    bytes[0] = SN_IMAGE_ARCH_BYTES(version);
    bytes[1] = n_tensors * SN_IMAGE_TENSOR_BYTES;
    bytes[2] = n_configs * SN_IMAGE_CONFIG_BYTES;
    bytes[3] = data_bytes;
    bytes[4] = table_bytes;
    off[0] = sn_image_align(SN_IMAGE_HEADER_BYTES + nsec * SN_IMAGE_SECTION_BYTES);
    for (i = 1; i < nsec; ++i)
        off[i] = sn_image_align(off[i - 1] + bytes[i - 1]);
    return off[nsec - 1] + bytes[nsec - 1];
}

void sn_image_finish(unsigned char *img, uint32_t version, uint64_t total, uint32_t nsec, const uint32_t *kinds,
                     const uint64_t *off, const uint64_t *bytes)
{
    unsigned char *p = img + SN_IMAGE_HEADER_BYTES;
    uint32_t i;
    for (i = 0; i < nsec; ++i) {
        sn_image_wr32(p + 32 * i, kinds[i]);
        sn_image_wr32(p + 32 * i + 4, sn_crc32(img + off[i], (size_t)bytes[i]));
        sn_image_wr64(p + 32 * i + 8, off[i]);
        sn_image_wr64(p + 32 * i + 16, bytes[i]);
    }
    memcpy(img, SN_IMAGE_MAGIC, 8);
    sn_image_wr32(img + 8, version);
    sn_image_wr32(img + 12, SN_IMAGE_HEADER_BYTES);
    sn_image_wr64(img + 16, total);
    sn_image_wr32(img + 24, nsec);
    sn_image_wr32(img + 28, SN_IMAGE_HEADER_BYTES);
    sn_image_wr32(img + 32, sn_crc32(p, nsec * SN_IMAGE_SECTION_BYTES));
    sn_image_wr32(img + 60, sn_crc32(img, 60));
}

static int write_image(pack_state *s, unsigned char **out, size_t *out_bytes)
{
    enum { MAXSEC = 5 };
    uint64_t off[MAXSEC], bytes[MAXSEC], data_bytes = 0, total, *toff;
    unsigned char *img;
    const uint32_t kinds[MAXSEC] = SN_IMAGE_SECTION_KINDS;
    const uint32_t nsec = s->table ? 5u : 4u;
    size_t i;
    uint32_t w[SN_IMAGE_ARCH_WORDS];

    toff = malloc((s->count ? s->count : 1) * sizeof *toff);
    if (!toff)
        return errorf(s, "out of memory");
    for (i = 0; i < s->count; ++i) {
        toff[i] = data_bytes;
        data_bytes = sn_image_align(data_bytes + s->tensors[i].bytes);
    }
    total = sn_image_layout(s->version, nsec, s->count, s->config_count, data_bytes, s->table_bytes, off, bytes);
    img = calloc(1, (size_t)total);
    if (!img) {
        free(toff);
        return errorf(s, "out of memory");
    }
    memcpy(w, &s->arch, sizeof w);
    for (i = 0; i < SN_IMAGE_ARCH_BYTES(s->version) / 4u; ++i)
        sn_image_wr32(img + off[0] + 4 * i, w[i]);
    for (i = 0; i < s->count; ++i) {
        const pack_tensor *t = &s->tensors[i];
        unsigned char *d = img + off[1] + i * SN_IMAGE_TENSOR_BYTES;
        int j;
        memcpy(d, t->name, strlen(t->name));
        sn_image_wr32(d + 56, t->dtype);
        sn_image_wr32(d + 60, t->ndim);
        for (j = 0; j < 4; ++j)
            sn_image_wr32(d + 64 + 4 * j, t->dims[j]);
        sn_image_wr64(d + 80, toff[i]);
        sn_image_wr64(d + 88, t->bytes);
        memcpy(img + off[3] + toff[i], t->data, (size_t)t->bytes);
    }
    for (i = 0; i < s->config_count; ++i) {
        unsigned char *d = img + off[2] + i * SN_IMAGE_CONFIG_BYTES;
        sn_image_wr32(d, s->config_kinds[i]);
        sn_image_wr32(d + 4, (uint32_t)i);
        memcpy(d + 8, s->configs[i], strlen(s->configs[i]));
    }
    if (s->table)
        memcpy(img + off[4], s->table, s->table_bytes);
    sn_image_finish(img, s->version, total, nsec, kinds, off, bytes);
    free(toff);
    *out = img;
    *out_bytes = (size_t)total;
    return 0;
}

int sn_pack_buffer(const unsigned char *in, size_t in_bytes, const char *table,
                   size_t table_bytes, const sn_pack_calib *calib, unsigned char **out,
                   size_t *out_bytes, char *err, size_t err_bytes)
{
    pack_state s;
    sn_safetensors st;
    const char *spec_text;
    cJSON *spec = NULL;
    size_t i;
    int rc = -1;
    memset(&s, 0, sizeof s);
    s.err = err;
    s.err_bytes = err_bytes;
    s.table = table;
    s.table_bytes = table_bytes;
    err[0] = '\0';
    if (table) {
        size_t k;
        if (table_bytes > SN_IMAGE_TABLE_MAX_BYTES)
            return errorf(&s, "accuracy table larger than 1 MiB");
        for (k = 0; k < table_bytes; ++k)
            if (table[k] != '\n' && (table[k] < 0x20 || table[k] > 0x7e))
                return errorf(&s, "accuracy table: byte %zu is not printable ASCII", k);
    }
    if (sn_safetensors_parse(in, in_bytes, &st, err, err_bytes) != 0)
        return -1;
    spec_text = sn_safetensors_metadata(&st, "supernav_spec");
    if (!spec_text) {
        errorf(&s, "no supernav_spec in the safetensors metadata");
        goto done;
    }
    spec = cJSON_Parse(spec_text);
    if (!cJSON_IsObject(spec)) {
        errorf(&s, "supernav_spec is not a JSON object");
        goto done;
    }
    if (read_spec(&s, spec) != 0)
        goto done;
    for (i = 0; i < st.count; ++i)
        if (add_tensor(&s, &st.tensors[i]) != 0)
            goto done;
    if (s.count == 0) {
        errorf(&s, "the file holds no tensors");
        goto done;
    }
    if (add_q8_weights(&s) != 0)
        goto done;
    rc = write_image(&s, out, out_bytes);
    if (rc == 0 && calib && calib->count > 0) {
        /* calibrate on the image with int8 weights, then write it again with the ranges */
        rc = add_calibration(&s, *out, *out_bytes, calib);
        free(*out);
        *out = NULL;
        if (rc == 0)
            rc = write_image(&s, out, out_bytes);
    }
done:
    cJSON_Delete(spec);
    sn_safetensors_free(&st);
    free_state(&s);
    return rc;
}

int sn_pack_file(const char *in_path, const char *table_path, const char *calib_prefix,
                 uint32_t calib_count, const char *out_path, char *err, size_t err_bytes)
{
    sn_pack_calib calib, *cp = NULL;
    sn_idx images;
    void *in, *table = NULL;
    size_t in_bytes, table_bytes = 0, out_bytes;
    unsigned char *out;
    sn_model model;
    sn_model_error merr;
    int rc;
    if (sn_read_file(in_path, &in, &in_bytes) != 0) {
        snprintf(err, err_bytes, "%s: %s", in_path, strerror(errno));
        return -1;
    }
    if (table_path && sn_read_file(table_path, &table, &table_bytes) != 0) {
        snprintf(err, err_bytes, "%s: %s", table_path, strerror(errno));
        free(in);
        return -1;
    }
    memset(&images, 0, sizeof images);
    if (calib_prefix && calib_count > 0) {
        char path[1024];
        uint32_t dims[3] = {0, 0, 0};
        sn_idx_status ist;
        snprintf(path, sizeof path, "%s-images-idx3-ubyte", calib_prefix);
        ist = sn_idx_read(path, &images);
        if (ist == SN_IDX_OK)
            ist = sn_idx_expect(&images, 3, dims);
        if (ist != SN_IDX_OK || images.dims[1] != images.dims[2]) {
            snprintf(err, err_bytes, "%s: %s (calibration canvases; run make datasets)", path,
                     ist == SN_IDX_OK ? "canvases are not square" : sn_idx_status_str(ist));
            sn_idx_free(&images);
            free(in);
            free(table);
            return -1;
        }
        calib.canvases = images.data;
        calib.side = images.dims[1];
        calib.count = images.dims[0] < calib_count ? images.dims[0] : calib_count;
        cp = &calib;
    }
    rc = sn_pack_buffer(in, in_bytes, table, table_bytes, cp, &out, &out_bytes, err, err_bytes);
    sn_idx_free(&images);
    free(in);
    free(table);
    if (rc != 0)
        return -1;
    /* The engine's own loader is the final check of what was written. */
    if (sn_model_load(&model, out, out_bytes, &merr) != SN_OK) {
        snprintf(err, err_bytes, "internal error: the packed image does not load (%s)", merr.what);
        free(out);
        return -1;
    }
    rc = sn_write_file_atomic(out_path, out, out_bytes);
    if (rc != 0)
        snprintf(err, err_bytes, "%s: %s", out_path, strerror(errno));
    free(out);
    return rc;
}
