/* supernav FPGA platform: the accelerator model (see sn_fpga.h). */
#include "sn_fpga.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_file.h"
#include "sn_kernels_ref.h"
#include "sn_windex.h"

/* one line into the caller's ERR; returns ST */
static sn_status fail(sn_status st, char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static sn_status fail(sn_status st, char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- board files ------------------------------------------------------------------------- */
enum key_kind { K_TEXT, K_INT, K_REAL };

static const struct board_key {
    const char *key;
    int kind;
    size_t offset;
    double lo, hi;           /* numbers: accepted range */
} board_keys[] = {
    {"name", K_TEXT, offsetof(sn_fpga_board, name), 0, 0},
    {"device", K_TEXT, offsetof(sn_fpga_board, device), 0, 0},
    {"clock_mhz", K_REAL, offsetof(sn_fpga_board, clock_mhz), 1, 5000},
    {"pe_rows", K_INT, offsetof(sn_fpga_board, pe_rows), 1, 1024},
    {"pe_cols", K_INT, offsetof(sn_fpga_board, pe_cols), 1, 1024},
    {"dsp_count", K_REAL, offsetof(sn_fpga_board, dsp_count), 1, 1e6},
    {"macs_per_dsp", K_REAL, offsetof(sn_fpga_board, macs_per_dsp), 0.1, 16},
    {"bram_kib", K_REAL, offsetof(sn_fpga_board, bram_kib), 0, 1e7},
    {"uram_kib", K_REAL, offsetof(sn_fpga_board, uram_kib), 0, 1e7},
    {"weight_buffer_kib", K_REAL, offsetof(sn_fpga_board, weight_buffer_kib), 1, 1e7},
    {"act_buffer_kib", K_REAL, offsetof(sn_fpga_board, act_buffer_kib), 1, 1e7},
    {"persist_buffer_kib", K_REAL, offsetof(sn_fpga_board, persist_buffer_kib), 0, 1e7},
    {"onchip_bytes_per_cycle", K_REAL, offsetof(sn_fpga_board, onchip_bytes_per_cycle), 1, 1e5},
    {"ddr_peak_gbps", K_REAL, offsetof(sn_fpga_board, ddr_peak_gbps), 0.01, 1e5},
    {"ddr_efficiency", K_REAL, offsetof(sn_fpga_board, ddr_efficiency), 0.01, 1},
    {"ddr_latency_ns", K_REAL, offsetof(sn_fpga_board, ddr_latency_ns), 0, 1e5},
    {"static_power_w", K_REAL, offsetof(sn_fpga_board, static_power_w), 0, 1e4},
    {"e_mac_pj", K_REAL, offsetof(sn_fpga_board, e_mac_pj), 0, 1e4},
    {"e_buffer_pj_per_byte", K_REAL, offsetof(sn_fpga_board, e_buffer_pj_per_byte), 0, 1e4},
    {"e_persist_pj_per_byte", K_REAL, offsetof(sn_fpga_board, e_persist_pj_per_byte), 0, 1e4},
    {"e_ddr_pj_per_byte", K_REAL, offsetof(sn_fpga_board, e_ddr_pj_per_byte), 0, 1e5},
};
#define BOARD_KEY_COUNT (sizeof board_keys / sizeof *board_keys)

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        ++s;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

sn_status sn_fpga_board_parse(const char *text, size_t size, const char *path, sn_fpga_board *b, char *err,
                        size_t n)
{
    uint8_t seen[BOARD_KEY_COUNT];
    size_t pos = 0, k;
    uint32_t h = 2166136261u;
    int line = 0;
    memset(b, 0, sizeof *b);
    memset(seen, 0, sizeof seen);
    snprintf(b->path, sizeof b->path, "%s", path);
    for (k = 0; k < size; ++k)
        h = (h ^ (uint8_t)text[k]) * 16777619u;
    b->text_hash = h;
    while (pos < size) {
        char buf[1024], *eq, *semi, *key, *val, *src, *end;
        size_t len = 0;
        ++line;
        while (pos < size && text[pos] != '\n') {
            if (len + 1 >= sizeof buf)
                return fail(SN_ERR_FORMAT, err, n, "%s:%d: line too long", path, line);
            if (text[pos] == '\0')
                return fail(SN_ERR_FORMAT, err, n, "%s:%d: NUL byte: not a text file", path, line);
            buf[len++] = text[pos++];
        }
        ++pos;
        buf[len] = '\0';
        key = trim(buf);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq)
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: expected 'key = value ; source: ...'", path, line);
        *eq = '\0';
        val = eq + 1;
        semi = strchr(val, ';');
        if (!semi)
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: '%s' has no source (add '; source: ...' or '; assumption: ...')", path,
                        line, trim(key));
        *semi = '\0';
        key = trim(key);
        val = trim(val);
        src = trim(semi + 1);
        if (strncmp(src, "source:", 7) != 0 && strncmp(src, "assumption:", 11) != 0)
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: the source of '%s' must start with 'source:' or 'assumption:'", path,
                        line, key);
        if (strlen(src) < 14)
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: the source of '%s' is empty", path, line, key);
        for (k = 0; k < BOARD_KEY_COUNT; ++k)
            if (!strcmp(board_keys[k].key, key))
                break;
        if (k == BOARD_KEY_COUNT)
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: unknown key '%s'", path, line, key);
        if (seen[k])
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: '%s' given twice", path, line, key);
        seen[k] = 1;
        if (*val == '\0')
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: '%s' has no value", path, line, key);
        if (board_keys[k].kind == K_TEXT) {
            if (strlen(val) >= 64)
                return fail(SN_ERR_FORMAT, err, n, "%s:%d: '%s' is longer than 63 bytes", path, line, key);
            strcpy((char *)b + board_keys[k].offset, val);
        } else {
            double v;
            errno = 0;
            v = strtod(val, &end);
            if (errno || *end || !isfinite(v) || v < board_keys[k].lo || v > board_keys[k].hi ||
                (board_keys[k].kind == K_INT && v != floor(v)))
                return fail(SN_ERR_FORMAT, err, n, "%s:%d: '%s' must be a%s number in [%g, %g], not '%s'", path, line, key,
                            board_keys[k].kind == K_INT ? "n integer" : "", board_keys[k].lo, board_keys[k].hi,
                            val);
            if (board_keys[k].kind == K_INT)
                *(int32_t *)(void *)((char *)b + board_keys[k].offset) = (int32_t)v;
            else
                *(double *)(void *)((char *)b + board_keys[k].offset) = v;
        }
        if (b->entry_count < SN_FPGA_MAX_ENTRIES) {
            sn_fpga_entry *e = &b->entries[b->entry_count++];
            snprintf(e->key, sizeof e->key, "%s", key);
            snprintf(e->value, sizeof e->value, "%s", val);
            snprintf(e->source, sizeof e->source, "%s", src);
        }
    }
    for (k = 0; k < BOARD_KEY_COUNT; ++k)
        if (!seen[k])
            return fail(SN_ERR_FORMAT, err, n, "%s:%d: missing key '%s'", path, line, board_keys[k].key);
    return SN_OK;
}

sn_status sn_fpga_board_load(const char *path, sn_fpga_board *b, char *err, size_t n)
{
    void *text;
    size_t size;
    sn_status rc;
    if (sn_read_file(path, &text, &size) != 0)
        return fail(SN_ERR_IO, err, n, "%s: %s", path, strerror(errno));
    rc = sn_fpga_board_parse(text, size, path, b, err, n);
    free(text);
    return rc;
}

int sn_fpga_parse_pe(const char *text, int32_t *rows, int32_t *cols)
{
    char *end;
    long r, c;
    errno = 0;
    r = strtol(text, &end, 10);
    if (errno || end == text || (*end != 'x' && *end != 'X'))
        return -1;
    text = end + 1;
    c = strtol(text, &end, 10);
    if (errno || end == text || *end || r < 1 || r > 1024 || c < 1 || c > 1024)
        return -1;
    *rows = (int32_t)r;
    *cols = (int32_t)c;
    return 0;
}

sn_status sn_fpga_board_check(const sn_fpga_board *b, size_t persist_bytes, char *err, size_t n)
{
    double pes = (double)b->pe_rows * (double)b->pe_cols, kib;
    if (pes > b->dsp_count * b->macs_per_dsp)
        return fail(SN_ERR_UNSUPPORTED, err, n, "%s: a %dx%d PE array needs %.0f int8 MACs per cycle, more than the %.0f DSPs x %g "
                            "of '%s' give", b->path, b->pe_rows, b->pe_cols, pes, b->dsp_count, b->macs_per_dsp, b->name);
    kib = b->weight_buffer_kib + b->act_buffer_kib + (double)persist_bytes / 1024.0;
    if (kib > b->bram_kib + b->uram_kib)
        return fail(SN_ERR_UNSUPPORTED, err, n, "%s: buffers of %.0f KiB (weights %.0f, activations %.0f, persistent %.0f) exceed the "
                            "%.0f KiB of BRAM + URAM of '%s'", b->path, kib, b->weight_buffer_kib, b->act_buffer_kib,
                    (double)persist_bytes / 1024.0, b->bram_kib + b->uram_kib, b->name);
    return SN_OK;
}

double sn_fpga_ddr_bytes_per_cycle(const sn_fpga_board *b)
{
    return b->ddr_peak_gbps * 1e9 * b->ddr_efficiency / (b->clock_mhz * 1e6);
}

double sn_fpga_us_per_cycle(const sn_fpga_board *b)
{
    return 1.0 / b->clock_mhz;
}

void sn_fpga_energy_of(const sn_fpga_board *b, const sn_fpga_stats *s, uint64_t cycles, sn_fpga_energy *e)
{
    e->mac_pj = b->e_mac_pj * (double)s->macs;
    e->buffer_pj = b->e_buffer_pj_per_byte * (double)s->buffer_bytes;
    e->persist_pj = b->e_persist_pj_per_byte * (double)(s->persist_read_bytes + s->persist_write_bytes);
    e->ddr_pj = b->e_ddr_pj_per_byte * (double)(s->ddr_weight_bytes + s->ddr_act_bytes);
    e->offchip_pj = e->ddr_pj;
    /* W x us = uJ = 1e6 pJ */
    e->static_pj = b->static_power_w * (double)cycles * sn_fpga_us_per_cycle(b) * 1e6;
    e->total_pj = e->mac_pj + e->buffer_pj + e->persist_pj + e->ddr_pj + e->static_pj;
}

/* ---- the platform ------------------------------------------------------------------------ */
/* The resident slice of one weight tensor: leading out x in channels, centred k x k crop. */
typedef struct resident {
    int32_t o, i, k;
} resident_slice;

struct sn_fpga {
    sn_fpga_board board;
    size_t capacity, used;
    sn_windex index;             /* the model's tensor map */
    resident_slice *res;               /* per tensor (index.tensors order) */
    const sn_platform *compute;
    sn_fpga_stats stats;
    sn_fpga_layer_record *records;
    size_t record_count;         /* since reset; the ring holds the last SN_FPGA_LAYER_RECORDS */
    const void *last_out;        /* the previous layer's output buffer, and whether it is on chip */
    int last_out_onchip;
};

void sn_fpga_options_default(sn_fpga_options *o)
{
    memset(o, 0, sizeof *o);
    o->persist_bytes = SIZE_MAX;
}

sn_status sn_fpga_create(const sn_model *model, const sn_fpga_board *board, const sn_fpga_options *o,
                   sn_fpga **out, char *err, size_t n)
{
    sn_fpga *f;
    sn_fpga_options def;
    *out = NULL;
    if (!o) {
        sn_fpga_options_default(&def);
        o = &def;
    }
    f = calloc(1, sizeof *f);
    if (!f)
        return fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    f->board = *board;
    if (o->pe_rows > 0 && o->pe_cols > 0) {
        f->board.pe_rows = o->pe_rows;
        f->board.pe_cols = o->pe_cols;
    }
    f->capacity = o->persist_bytes == SIZE_MAX ? (size_t)(board->persist_buffer_kib * 1024.0) : o->persist_bytes;
    f->board.persist_buffer_kib = (double)f->capacity / 1024.0;
    f->compute = o->compute;
    {
        sn_status st = sn_fpga_board_check(&f->board, f->capacity, err, n);
        if (st != SN_OK) {
            free(f);
            return st;
        }
    }
    f->records = calloc(SN_FPGA_LAYER_RECORDS, sizeof *f->records);
    if (!f->records || sn_windex_init(&f->index, model) != 0) {
        free(f->records);
        free(f);
        return fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    f->res = calloc(f->index.tensor_count ? f->index.tensor_count : 1, sizeof *f->res);
    if (!f->res) {
        sn_fpga_destroy(f);
        return fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    *out = f;
    return SN_OK;
}

void sn_fpga_destroy(sn_fpga *f)
{
    if (!f)
        return;
    sn_windex_free(&f->index);
    free(f->res);
    free(f->records);
    free(f);
}

const sn_fpga_board *sn_fpga_board_of(const sn_fpga *f) { return &f->board; }
size_t sn_fpga_persist_capacity(const sn_fpga *f) { return f->capacity; }
size_t sn_fpga_persist_used(const sn_fpga *f) { return f->used; }

void sn_fpga_stats_get(const sn_fpga *f, sn_fpga_stats *s) { *s = f->stats; }

void sn_fpga_stats_reset(sn_fpga *f)
{
    memset(&f->stats, 0, sizeof f->stats);
    f->record_count = 0;
    sn_fpga_begin_inference(f);
}

void sn_fpga_begin_inference(sn_fpga *f)
{
    f->last_out = NULL;
    f->last_out_onchip = 0;
}

size_t sn_fpga_layer_records(const sn_fpga *f, const sn_fpga_layer_record **records)
{
    *records = f->records;
    return f->record_count < SN_FPGA_LAYER_RECORDS ? f->record_count : SN_FPGA_LAYER_RECORDS;
}

static resident_slice *resident_of(sn_fpga *f, const void *w)
{
    const sn_wtensor *t = sn_windex_tensor_of(&f->index, w);
    return t ? &f->res[t - f->index.tensors] : NULL;
}

static uint64_t slice_bytes(int32_t o, int32_t i, int32_t k, int dw)
{
    return (uint64_t)o * (uint64_t)(dw ? 1 : i) * (uint64_t)k * (uint64_t)k;
}

static int covers(const resident_slice *r, const sn_conv2d_params *p, int dw)
{
    return r && r->k > 0 && r->o >= p->out_c && (dw || r->i >= p->in_c) && r->k >= p->kernel_h &&
           r->k >= p->kernel_w;
}

static uint64_t ddr_cycles(const sn_fpga_board *b, uint64_t bytes)
{
    if (bytes == 0)
        return 0;
    return (uint64_t)ceil(b->ddr_latency_ns * b->clock_mhz / 1e3) +
           (uint64_t)ceil((double)bytes / sn_fpga_ddr_bytes_per_cycle(b));
}

static int place(void *platform, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    sn_fpga *f = platform;
    resident_slice *r, want;
    uint64_t have, need;
    if (!s8)
        return 0; /* fp32 (the ARAC gate) runs on the host */
    r = resident_of(f, w);
    if (!r)
        return 0;
    if (covers(r, p, dw))
        return 1;
    want.o = r->o > p->out_c ? r->o : p->out_c;
    want.i = dw ? 0 : (r->i > p->in_c ? r->i : p->in_c);
    want.k = r->k > p->kernel_h ? r->k : p->kernel_h;
    have = r->k ? slice_bytes(r->o, r->i, r->k, dw) : 0;
    need = slice_bytes(want.o, want.i, want.k, dw);
    if (f->used + (need - have) > f->capacity)
        return 0;
    f->used += (size_t)(need - have);
    f->stats.persist_write_bytes += need - have;
    f->stats.ddr_weight_bytes += need - have;
    f->stats.load_cycles += ddr_cycles(&f->board, need - have);
    *r = want;
    return 1;
}

sn_status sn_fpga_make_resident(sn_fpga *f, const sn_plan *plan, size_t *loaded_bytes)
{
    size_t before = f->used;
    if (plan->precision != SN_INT8)
        return SN_ERR_UNSUPPORTED;
    sn_windex_place_plan(plan, place, f);
    if (loaded_bytes)
        *loaded_bytes = f->used - before;
    return SN_OK;
}

void sn_fpga_evict_all(sn_fpga *f)
{
    memset(f->res, 0, (f->index.tensor_count ? f->index.tensor_count : 1) * sizeof *f->res);
    f->used = 0;
}

static uint64_t box_bytes(const resident_slice *r, int dw)
{
    return r->k > 0 ? slice_bytes(r->o, r->i, r->k, dw) : 0;
}

/* The bytes of A inside B (both leading boxes of one tensor). */
static uint64_t overlap_bytes(const resident_slice *a, const resident_slice *b, int dw)
{
    resident_slice m;
    if (a->k <= 0 || b->k <= 0)
        return 0;
    m.o = a->o < b->o ? a->o : b->o;
    m.i = a->i < b->i ? a->i : b->i;
    m.k = a->k < b->k ? a->k : b->k;
    return slice_bytes(m.o, m.i, m.k, dw);
}

sn_status sn_fpga_set_resident(sn_fpga *f, const sn_weight_slice *slices, uint32_t n, uint8_t *placed,
                               size_t *moved_bytes)
{
    const uint32_t nt = f->index.tensor_count;
    resident_slice *next = calloc(nt ? nt : 1, sizeof *next);
    uint8_t *dw_of = calloc(nt ? nt : 1, 1);
    size_t used = 0, moved = 0;
    uint32_t k, t;
    if (!next || !dw_of) {
        free(next);
        free(dw_of);
        return SN_ERR_NO_MEMORY;
    }
    for (k = 0; k < n; ++k) {
        const sn_weight_slice *sl = &slices[k];
        const sn_wtensor *wt = sl->s8 ? sn_windex_tensor_of(&f->index, sl->w) : NULL;
        resident_slice *r, want;
        uint64_t have, need;
        placed[k] = 0;
        if (!wt) /* fp32 (the ARAC gate) runs on the host; a pointer outside the image */
            continue;
        t = (uint32_t)(wt - f->index.tensors);
        r = &next[t];
        want.o = r->o > sl->o ? r->o : sl->o;
        want.i = sl->dw ? 0 : (r->i > sl->i ? r->i : sl->i);
        want.k = r->k > sl->k ? r->k : sl->k;
        have = box_bytes(r, sl->dw);
        need = slice_bytes(want.o, want.i, want.k, sl->dw);
        if (used + (need - have) > f->capacity)
            continue;
        used += (size_t)(need - have);
        *r = want;
        dw_of[t] = (uint8_t)sl->dw;
        placed[k] = 1;
    }
    /* only what the old set does not already hold is loaded from DDR, tensor by tensor */
    for (t = 0; t < nt; ++t) {
        uint64_t add = box_bytes(&next[t], dw_of[t]) - overlap_bytes(&next[t], &f->res[t], dw_of[t]);
        if (add) {
            moved += (size_t)add;
            f->stats.persist_write_bytes += add;
            f->stats.ddr_weight_bytes += add;
            f->stats.load_cycles += ddr_cycles(&f->board, add);
        }
    }
    memcpy(f->res, next, (nt ? nt : 1) * sizeof *next);
    f->used = used;
    free(next);
    free(dw_of);
    if (moved_bytes)
        *moved_bytes = moved;
    return SN_OK;
}

/* The cycle model of one convolution (see sn_fpga.h); adds to the stats and records it. */
static void account(sn_fpga *f, const sn_conv2d_params *p, int dw, const int8_t *input,
                    const int8_t *weights, const int8_t *output)
{
    const sn_fpga_board *b = &f->board;
    const int64_t R = b->pe_rows, C = b->pe_cols;
    const uint64_t pixels = (uint64_t)p->out_h * (uint64_t)p->out_w;
    const uint64_t taps = (uint64_t)p->kernel_h * (uint64_t)p->kernel_w;
    const uint64_t in_bytes = (uint64_t)p->in_h * (uint64_t)p->in_w * (uint64_t)p->in_c;
    const uint64_t out_bytes = pixels * (uint64_t)p->out_c;
    const uint64_t half_wbuf = (uint64_t)(b->weight_buffer_kib * 1024.0 / 2.0);
    const uint64_t abuf = (uint64_t)(b->act_buffer_kib * 1024.0);
    /* a tile's weights are near when they lie inside the tensor's resident leading slice: a
     * slice narrower than the layer serves its leading tiles, the rest come from DDR */
    const resident_slice *rs = resident_of(f, weights);
    const int k_near = rs && rs->k > 0 && rs->k >= p->kernel_h && rs->k >= p->kernel_w;
    uint64_t near_w = 0, far_w = 0, near_tiles = 0;
    /* the first layer's input (the canvas, one channel) is written by the host into DDR */
    const int in_onchip = input == f->last_out && f->last_out_onchip && p->in_c > 1;
    const int out_onchip = (in_onchip ? in_bytes : 0) + out_bytes <= abuf;
    const int64_t in_per = dw ? 1 : p->in_c;
    uint64_t cycles = 0, compute_total = 0, ddr_total = 0, wbytes_total = 0, act_reads = 0, tiles = 0;
    uint64_t prev_comp = 0, pending_store = 0;
    int64_t oc;
    /* tiles: blocks of C output channels (depthwise: channels); a dense block is split along
     * input channels (in multiples of R) when its weights exceed half the weight buffer.
     * cycles = load(0) + sum_t max(compute(t), load(t+1)), the last "load" being the store of
     * a spilled output's last block. */
    for (oc = 0; oc < p->out_c; oc += C) {
        int64_t cols = p->out_c - oc < C ? p->out_c - oc : C;
        int64_t splits = 1, s, ic_step = in_per;
        if (!dw && (uint64_t)cols * taps * (uint64_t)in_per > half_wbuf) {
            int64_t ic_fit = (int64_t)(half_wbuf / ((uint64_t)cols * taps));
            ic_step = ic_fit >= R ? ic_fit / R * R : (ic_fit > 0 ? ic_fit : 1);
            splits = (in_per + ic_step - 1) / ic_step;
        }
        for (s = 0; s < splits; ++s) {
            int64_t ic = in_per - s * ic_step < ic_step ? in_per - s * ic_step : ic_step;
            uint64_t wbytes = (uint64_t)cols * taps * (uint64_t)ic, comp, load, ddr = pending_store;
            const int resident = k_near && oc + cols <= rs->o && (dw || s * ic_step + ic <= rs->i);
            if (dw)
                comp = pixels * ((taps + (uint64_t)R - 1) / (uint64_t)R) + (uint64_t)(R + C);
            else
                comp = pixels * taps * (uint64_t)((ic + R - 1) / R) + (uint64_t)(R + C);
            if (!resident)
                ddr += wbytes;
            if (!in_onchip) /* the input slice this tile reads, from DDR */
                ddr += in_bytes * (uint64_t)(dw ? cols : ic) / (uint64_t)p->in_c;
            pending_store = out_onchip || s != splits - 1 ? 0 : pixels * (uint64_t)cols;
            load = (resident ? (uint64_t)ceil((double)wbytes / b->onchip_bytes_per_cycle) : 0) +
                   ddr_cycles(b, ddr);
            /* double buffering: this tile's load overlaps the previous tile's compute */
            cycles += tiles == 0 ? load : (prev_comp > load ? prev_comp : load);
            prev_comp = comp;
            compute_total += comp;
            ddr_total += ddr;
            wbytes_total += wbytes;
            near_w += resident ? wbytes : 0;
            far_w += resident ? 0 : wbytes;
            near_tiles += (uint64_t)resident;
            act_reads += pixels * taps * (uint64_t)(dw ? cols : ic);
            ++tiles;
        }
    }
    {
        uint64_t store = ddr_cycles(b, pending_store);
        cycles += prev_comp > store ? prev_comp : store;
        ddr_total += pending_store;
    }
    f->stats.cycles += cycles;
    f->stats.compute_cycles += compute_total;
    f->stats.macs += (uint64_t)sn_conv2d_macs(p, dw);
    f->stats.layers += 1;
    f->stats.ddr_weight_bytes += far_w;
    f->stats.ddr_act_bytes += ddr_total - far_w;
    f->stats.persist_read_bytes += near_w;
    /* weight buffer writes (from DDR) and reads (into the PE array), activation reads per tap
     * and tile, output writes */
    f->stats.buffer_bytes += far_w + wbytes_total + act_reads + out_bytes;
    if (f->record_count < SN_FPGA_LAYER_RECORDS) {
        sn_fpga_layer_record *r = &f->records[f->record_count];
        r->depthwise = (uint8_t)dw;
        r->resident = (uint8_t)(near_tiles == tiles ? 1 : 0);
        r->near_weight_bytes = near_w;
        r->in_onchip = (uint8_t)in_onchip;
        r->out_onchip = (uint8_t)out_onchip;
        r->tiles = (uint32_t)tiles;
        r->macs = (uint64_t)sn_conv2d_macs(p, dw);
        r->cycles = cycles;
        r->compute_cycles = compute_total;
        r->ddr_bytes = ddr_total;
        r->weight_bytes = wbytes_total;
    }
    ++f->record_count;
    f->last_out = output;
    f->last_out_onchip = out_onchip;
}

static sn_status fpga_conv2d_s8(void *context, const sn_conv2d_params *p, const sn_quant_params *q,
                                const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output)
{
    sn_fpga *f = context;
    sn_status st;
    if (f->compute && f->compute->ops && f->compute->ops->conv2d_s8)
        st = f->compute->ops->conv2d_s8(f->compute->context, p, q, input, weights, bias, output);
    else
        st = sn_conv2d_ref_s8(p, q, input, weights, bias, output);
    if (st == SN_OK)
        account(f, p, 0, input, weights, output);
    return st;
}

static sn_status fpga_depthwise_conv2d_s8(void *context, const sn_conv2d_params *p, const sn_quant_params *q,
                                          const int8_t *input, const int8_t *weights, const int32_t *bias,
                                          int8_t *output)
{
    sn_fpga *f = context;
    sn_status st;
    if (f->compute && f->compute->ops && f->compute->ops->depthwise_conv2d_s8)
        st = f->compute->ops->depthwise_conv2d_s8(f->compute->context, p, q, input, weights, bias, output);
    else
        st = sn_depthwise_conv2d_ref_s8(p, q, input, weights, bias, output);
    if (st == SN_OK)
        account(f, p, 1, input, weights, output);
    return st;
}

static const sn_platform_ops fpga_ops = {
    /* .conv2d_f32 = */ NULL, /* fp32 (the ARAC gate) runs on the host: reference */
    /* .depthwise_conv2d_f32 = */ NULL,
    /* .conv2d_s8 = */ fpga_conv2d_s8,
    /* .depthwise_conv2d_s8 = */ fpga_depthwise_conv2d_s8,
    /* .arac_micro_flows = */ NULL,
    /* .add_f32 = */ NULL,
    /* .resize_canvas_f32 = */ NULL,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};

void sn_fpga_platform(sn_fpga *f, sn_platform *platform)
{
    platform->name = "fpga";
    platform->ops = &fpga_ops;
    platform->context = f;
}
