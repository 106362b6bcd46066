/* The MCU platform as a system under test (harness/sn_sut.h): a board profile's serving
 * firmware under QEMU (or a real board on --port), int8; near memory is the board's SRAM
 * weight cache, far memory the int8-only image in its flash, read in place; times are the
 * emulated instruction counts through the board's cycle model.
 *
 * Its eval report (supernav eval --platform mcu): the median inference's instructions (the
 * upper median, index n/2 of the sorted counts) and the mean flash reads through the cycle
 * model give p50_us, the 99th percentile's (nearest rank) p99_us; peak SRAM, flash and the
 * weight bytes per inference as the firmware counts them. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_energy.h"
#include "sn_mcu_host.h"
#include "sn_sut.h"

typedef struct mcu_sut {
    sn_sut base;
    sn_mcu_session *session;
    const sn_model *model;           /* the harness's image (the slices' pointers point into it) */
    uint64_t cache_bytes;            /* the SRAM weight cache reserved (near budget) */
    uint64_t resident;               /* bytes of the weight set now resident */
    char latency_source[400];
    char port[256];                  /* a real board's port, or "": QEMU */
    float logits[16];                /* the last inference's */
    /* eval's account since account_reset, per inference */
    uint64_t *instructions;
    size_t count, capacity;
    uint64_t near, far, far_read, sram_peak, arena;
} mcu_sut;

extern const sn_sut_ops sn_sut_mcu;

static void mcu_close(sn_sut *sut)
{
    mcu_sut *s = (mcu_sut *)sut;
    if (!s)
        return;
    sn_mcu_session_close(s->session);
    free(s->instructions);
    free(s);
}

static sn_status mcu_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                          char *err, size_t n)
{
    mcu_sut *s;
    size_t cache;
    uint64_t code, image;
    sn_status st = sn_sut_check_options(&sn_sut_mcu, o, err, n);
    if (st != SN_OK)
        return st;
    if (!o->board)
        return sn_sut_fail(SN_ERR_INVALID_ARGUMENT, err, n, "--platform mcu needs --board (boards: %s)",
                           sn_mcu_board_names());
    if (!sn_mcu_board_find(o->board))
        return sn_sut_fail(SN_ERR_INVALID_ARGUMENT, err, n, "unknown board '%s' (boards: %s)", o->board,
                           sn_mcu_board_names());
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_mcu;
    /* its own residency is none; SIZE_MAX: what the largest arena leaves (the session's) */
    cache = !o->explicit_residency ? 0
          : o->near_budget_bytes == SIZE_MAX ? SIZE_MAX : o->near_budget_bytes / 64 * 64;
    if (sn_mcu_session_open(&s->session, o->board, o->port, o->build_dir, set->model, set->configs, set->n,
                            cache, keep, err, n) != 0) {
        mcu_close(&s->base);
        return SN_ERR_NO_DEVICE;
    }
    sn_mcu_session_memory(s->session, &code, &image, &s->cache_bytes);
    s->model = set->model;
    sn_mcu_model_text(sn_mcu_session_board(s->session), s->latency_source, sizeof s->latency_source);
    snprintf(s->port, sizeof s->port, "%s", o->port ? o->port : "");
    *out = &s->base;
    return SN_OK;
}

static void mcu_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const mcu_sut *s = (const mcu_sut *)sut;
    const sn_mcu_board *b = sn_mcu_session_board(s->session);
    memset(d, 0, sizeof *d);
    d->name = "mcu";
    d->variant = b->name;
    d->clock = SN_SUT_CLOCK_EMULATED;
    d->precision = SN_INT8;
    d->near_budget_bytes = (size_t)s->cache_bytes;
    d->near_memory = "int8 weights copied into the board's SRAM weight cache (near_budget_bytes)";
    d->far_memory = "the int8-only image in the board's flash, read in place";
    d->device_key = "board";
    d->device_value = b->part;
    d->profile_board = b->part;
    d->latency_source = s->latency_source;
    d->instructions_source = "emulated:qemu-icount";
    d->virtual_clock = "virtual:mcu-cycle-model(service times: instructions counted by QEMU x CPI + flash "
                       "wait states, the board's model; platforms/mcu)";
    d->real_time_refusal = "(each query's emulated instructions through the board's cycle model)";
    d->energy = &sn_energy_model_cpu_int8;
    d->replans = 1;
    d->slice_quantum = (int32_t)sn_mcu_session_slice_quantum(s->session);
}

static sn_status mcu_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                              char *err, size_t n)
{
    mcu_sut *s = (mcu_sut *)sut;
    uint64_t copied = 0;
    double us = 0.0;
    (void)plan;
    (void)charge;
    s->resident = 0;
    if (sn_mcu_session_subgraph(s->session, i, &copied, &us, err, n) != 0)
        return SN_ERR_IO;
    s->resident = copied;
    m->bytes = copied;
    m->us = us;
    return SN_OK;
}

/* The tensor of the harness's image that P points into, as the session's image holds it. */
static int box_tensor(const mcu_sut *s, const void *p, uint64_t *offset, sn_tensor *t)
{
    uint32_t i;
    for (i = 0; i < s->model->tensor_count; ++i) {
        sn_tensor h;
        if (sn_model_tensor(s->model, i, &h) == SN_OK && (const char *)p >= (const char *)h.data &&
            (const char *)p < (const char *)h.data + h.bytes)
            return h.dtype == SN_DTYPE_S8 ? sn_mcu_session_tensor(s->session, h.name, offset, t) : -1;
    }
    return -1;
}

static uint64_t box_bytes(int dw, int32_t o, int32_t i, int32_t k)
{
    return o <= 0 || k <= 0 ? 0 : (uint64_t)o * (uint64_t)(dw ? 1 : i) * (uint64_t)k * (uint64_t)k;
}

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

/* SUSHI's SubGraph as slices: each slice's box (grown into what an earlier slice of its tensor
 * placed) in the SRAM weight cache while it holds them; the firmware reads from flash only
 * what the boxes resident before do not hold. */
static sn_status mcu_resident_slices(sn_sut *sut, const sn_sut_slice *sl, uint32_t count, int charge,
                                     uint8_t *placed, sn_sut_moved *m, char *err, size_t n)
{
    mcu_sut *s = (mcu_sut *)sut;
    sn_mcu_box *box = calloc(count ? count : 1, sizeof *box);
    int *dw = calloc(count ? count : 1, sizeof *dw);
    uint64_t used = 0, flash = 0, cache_used = 0;
    double us = 0.0;
    uint32_t k, j, nb = 0;
    (void)charge;
    if (!box || !dw) {
        free(box);
        free(dw);
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    for (k = 0; k < count; ++k) {
        sn_tensor t;
        uint64_t off, have, need;
        int tdw;
        int32_t wo, wi, wk, of, cf, kf;
        placed[k] = 0;
        if (!sl[k].s8 || sl[k].o <= 0 || sl[k].k <= 0 || box_tensor(s, sl[k].w, &off, &t) != 0)
            continue;
        tdw = t.ndim == 3;
        if (tdw != (sl[k].dw != 0) || (t.ndim != 3 && t.ndim != 4))
            continue;
        kf = (int32_t)(tdw ? t.dims[0] : t.dims[1]);
        cf = (int32_t)(tdw ? t.dims[2] : t.dims[3]);
        of = tdw ? cf : (int32_t)t.dims[0];
        for (j = 0; j < nb && box[j].offset != off; ++j)
            ;
        if (j == nb) {
            box[j].offset = off;
            box[j].o = box[j].i = box[j].k = 0;
            dw[j] = tdw;
        }
        wo = min32(of, max32(box[j].o, sl[k].o));
        wi = tdw ? 0 : min32(cf, max32(box[j].i, sl[k].i));
        wk = min32(kf, max32(box[j].k, sl[k].k));
        if ((kf - wk) % 2)
            continue; /* not a centred crop */
        have = box_bytes(tdw, box[j].o, box[j].i, box[j].k);
        need = box_bytes(tdw, wo, wi, wk);
        if (used + (need - have) > s->cache_bytes)
            continue;
        used += need - have;
        box[j].o = wo;
        box[j].i = wi;
        box[j].k = wk;
        if (j == nb)
            ++nb;
        placed[k] = 1;
    }
    for (k = 0, j = 0; j < nb; ++j) /* a tensor none of whose slices fitted */
        if (box[j].k > 0)
            box[k++] = box[j];
    nb = k;
    k = (uint32_t)sn_mcu_session_slices(s->session, box, nb, &flash, &cache_used, &us, err, n);
    free(box);
    free(dw);
    if (k != 0)
        return SN_ERR_IO;
    s->resident = cache_used;
    m->bytes = flash;
    m->us = us;
    return SN_OK;
}

static sn_status mcu_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    mcu_sut *s = (mcu_sut *)sut;
    sn_mcu_infer_result mr;
    double us = 0.0;
    (void)plan;
    memset(r, 0, sizeof *r);
    r->device_us = -1.0;
    if (sn_mcu_session_infer(s->session, i, smp->canvas, smp->file, smp->file_offset, &mr, &us, err, n) != 0)
        return SN_ERR_IO;
    if (s->count == s->capacity) {
        size_t cap = s->capacity ? 2 * s->capacity : 256;
        uint64_t *grown = realloc(s->instructions, cap * sizeof *grown);
        if (!grown)
            return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
        s->instructions = grown;
        s->capacity = cap;
    }
    s->instructions[s->count++] = mr.instructions;
    s->near += mr.near_bytes;
    s->far += mr.far_bytes;
    s->far_read += mr.far_read_bytes;
    s->arena = mr.arena_bytes;
    if (sn_mcu_sram_peak(&mr, s->resident) > s->sram_peak)
        s->sram_peak = sn_mcu_sram_peak(&mr, s->resident);
    r->us = us;
    r->plan_us = sn_mcu_session_plan_us(s->session);
    r->near_bytes = mr.near_bytes;
    r->far_bytes = mr.far_bytes;
    r->macs = mr.macs;
    memcpy(s->logits, mr.logits, sizeof s->logits);
    r->logits = s->logits;
    r->classes = mr.classes < 16 ? mr.classes : 16;
    r->prediction = sn_sut_argmax(s->logits, r->classes);
    return SN_OK;
}

static void mcu_account_reset(sn_sut *sut)
{
    mcu_sut *s = (mcu_sut *)sut;
    s->count = 0;
    s->near = s->far = s->far_read = s->sram_peak = 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* KEY := ITEM in J, in place when J has it */
static void set_item(cJSON *j, const char *key, cJSON *item)
{
    if (item && !cJSON_ReplaceItemInObjectCaseSensitive(j, key, item))
        cJSON_AddItemToObject(j, key, item);
}

static void mcu_report(sn_sut *sut, size_t n, cJSON *j, char *text, size_t text_bytes)
{
    mcu_sut *s = (mcu_sut *)sut;
    const sn_mcu_board *b = sn_mcu_session_board(s->session);
    uint64_t code, image, cache, far_read, *in = s->instructions;
    size_t rank99;
    double cycles, cycles99;
    if (n == 0 || n != s->count)
        return;
    sn_mcu_session_memory(s->session, &code, &image, &cache);
    qsort(in, n, sizeof *in, cmp_u64);
    rank99 = (size_t)ceil(0.99 * (double)n);
    far_read = s->far_read / n;
    cycles = sn_mcu_cycles(b, in[n / 2], far_read);
    cycles99 = sn_mcu_cycles(b, in[(rank99 ? rank99 : 1) - 1], far_read);
    set_item(j, "p50_us", cJSON_CreateNumber(round(cycles / b->clock_hz * 1e7) / 10.0));
    set_item(j, "p99_us", cJSON_CreateNumber(round(cycles99 / b->clock_hz * 1e7) / 10.0));
    set_item(j, "latency_source", cJSON_CreateString(s->latency_source));
    cJSON_AddStringToObject(j, "board", b->name);
    cJSON_AddNumberToObject(j, "instructions_p50", (double)in[n / 2]);
    cJSON_AddStringToObject(j, "instructions_source", "emulated:qemu-icount");
    cJSON_AddNumberToObject(j, "cycles_p50", round(cycles));
    cJSON_AddNumberToObject(j, "ms_p50", round(cycles / b->clock_hz * 1e7) / 1e4);
    cJSON_AddStringToObject(j, "cycles_source", s->latency_source);
    cJSON_AddNumberToObject(j, "sram_peak_bytes", (double)s->sram_peak);
    cJSON_AddNumberToObject(j, "flash_bytes", (double)(code + image));
    cJSON_AddNumberToObject(j, "near_bytes", (double)(s->near / n));
    cJSON_AddNumberToObject(j, "far_bytes", (double)(s->far / n));
    snprintf(text, text_bytes,
             "board     %s: %s%s%s; int8-only image in flash\n"
             "instructions  p50 %llu, min %llu, max %llu per inference (emulated:qemu-icount)\n"
             "cycles    %.0f, %.3f ms p50 (%s)\n"
             "memory    arena %llu B, peak SRAM %llu B of %u (measured on the emulated board: static + heap + "
             "arena + cache + stack high-water mark); flash %llu B of %u (code %llu + image %llu)\n"
             "weights   per inference: near %llu B (SRAM cache, %llu B resident), far %llu B (flash)\n",
             b->name, b->part, s->port[0] ? ", port " : " on QEMU ", s->port[0] ? s->port : b->qemu_machine,
             (unsigned long long)in[n / 2], (unsigned long long)in[0], (unsigned long long)in[n - 1], cycles,
             cycles / b->clock_hz * 1e3, s->latency_source, (unsigned long long)s->arena,
             (unsigned long long)s->sram_peak, b->sram_bytes, (unsigned long long)(code + image), b->flash_bytes,
             (unsigned long long)code, (unsigned long long)image, (unsigned long long)(s->near / n),
             (unsigned long long)s->resident, (unsigned long long)(s->far / n));
}

const sn_sut_ops sn_sut_mcu = {
    "mcu", "a microcontroller board's firmware under QEMU or on --port, int8 (--board l4r5|f746|h743|m55)",
    SN_INT8, SN_SUT_TAKES_BOARD | SN_SUT_TAKES_PORT,
    mcu_open, mcu_describe, mcu_resident, mcu_infer, mcu_account_reset, NULL, mcu_report, mcu_close,
    mcu_resident_slices, NULL};
