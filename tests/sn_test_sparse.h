/* supernav tests: a tiny SuperNet of the CF-128S family (image format version 2: split points,
 * region modes h and z, five levels with SKIP last, the multi-level softmax gate, the learned
 * skip.{P} features), built the project's way -- a safetensors interchange file with the spec
 * in its metadata (as workloads/sparse/export.py writes it), packed by sn_pack_buffer with
 * int8 weights and int8 calibration on synthetic canvases. Weights are deterministic
 * pseudo-random numbers: the model computes nonsense, correctly; the tests check the engine's
 * structure (tiling, merging, SKIP, accounting) and that every platform computes the same
 * thing. PyTorch's agreement on the real model: tests/test_sparse_oracle.sh.
 *
 *   canvas 32, 3 classes, stem 4 (stride 2), three stages of 6, 8, 10 channels (stride 2
 *   each, depth 1-2), head 8; expands 2 and 3, kernels 3 and 5; ARAC splits 1 and 2 (prefix
 *   output 8x8x6 and 4x4x8), grids 1, 2, 4, 8, levels 100, 75, 50, 25, 0, gate pool 4.
 *
 * Header-only (static functions) for the tests that include it. */
#ifndef SN_TEST_SPARSE_H
#define SN_TEST_SPARSE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_pack.h"

#define SP_CANVAS 32
#define SP_STEM_C 4
#define SP_HEAD_C 8
#define SP_CLASSES 3
#define SP_K_MAX 5
#define SP_E_MAX 3
#define SP_GATE_C 2
#define SP_STAGES 3
#define SP_LEVELS 5
static const unsigned sp_out_c[SP_STAGES] = {6, 8, 10};
static const unsigned sp_levels[SP_LEVELS] = {100, 75, 50, 25, 0};

/* The calibrated configs: SubNets, then ARAC configs (split P > 0) over two bases. */
typedef struct sp_calib {
    const char *text;
    unsigned depth[SP_STAGES];
    unsigned e[6];
    unsigned split;           /* 0: a SubNet */
    unsigned levels[SP_LEVELS], nlevels;
} sp_calib;

#define SP_BASE_A "r32-d1.2.1-e2.3.2.3-k3.5.3.5"
#define SP_BASE_B "r32-d2.2.2-e3.3.3.3.3.3-k5.5.5.5.5.5"
static const sp_calib sp_calibs[] = {
    {SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 0, {0}, 0},
    {"r24-d1.1.1-e2.2.2-k3.3.3", {1, 1, 1}, {2, 2, 2}, 0, {0}, 0},
    {SP_BASE_B, {2, 2, 2}, {3, 3, 3, 3, 3, 3}, 0, {0}, 0},
    {"arac-p1-g4-h-t50-l100.50.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 1, {100, 50, 0}, 3},
    {"arac-p1-g4-z-t50-l100.75.50.25.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 1, {100, 75, 50, 25, 0}, 5},
    {"arac-p2-g2-h-t30-l75.25.0:" SP_BASE_B, {2, 2, 2}, {3, 3, 3, 3, 3, 3}, 2, {75, 25, 0}, 3},
    {"arac-p2-g4-z-t50-l100.50.0:" SP_BASE_B, {2, 2, 2}, {3, 3, 3, 3, 3, 3}, 2, {100, 50, 0}, 3},
    {"arac-p1-g8-h-t40-l100.75.50.25.0:" SP_BASE_B, {2, 2, 2}, {3, 3, 3, 3, 3, 3}, 1, {100, 75, 50, 25, 0}, 5},
    {"arac-p2-g4-h-t50-l100.50.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 2, {100, 50, 0}, 3},
    {"arac-p1-g8-z-t60-l100.25.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 1, {100, 25, 0}, 3},
    {"arac-p1-g2-h-t0-l100.50.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 1, {100, 50, 0}, 3},
    {"arac-p1-g2-h-t100-l100.50.0:" SP_BASE_A, {1, 2, 1}, {2, 3, 2, 3}, 1, {100, 50, 0}, 3},
};
#define SP_NCALIB (sizeof sp_calibs / sizeof *sp_calibs)

typedef struct sp_tensor {
    char name[96];
    unsigned ndim, dims[4];
    size_t elems;
    int kind; /* 0 weights, 1 BN gamma, 2 BN beta / bias, 3 mean, 4 var */
} sp_tensor;

typedef struct sp_builder {
    sp_tensor t[1024];
    size_t n;
    uint32_t rng;
} sp_builder;

static float sp_rnd(sp_builder *b)
{
    b->rng = b->rng * 1664525u + 1013904223u;
    return (float)(b->rng >> 8) / 16777216.0f; /* [0, 1) */
}

static void sp_add(sp_builder *b, const char *name, int kind, unsigned ndim, unsigned d0, unsigned d1,
                   unsigned d2, unsigned d3)
{
    sp_tensor *t = &b->t[b->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->dims[0] = d0; t->dims[1] = d1; t->dims[2] = d2; t->dims[3] = d3;
    t->elems = (size_t)d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1) * (ndim > 3 ? d3 : 1);
    t->kind = kind;
}

static void sp_add_bn(sp_builder *b, const char *layer, unsigned c)
{
    char n[64];
    snprintf(n, sizeof n, "%s.weight", layer);
    sp_add(b, n, 1, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bias", layer);
    sp_add(b, n, 2, 1, c, 0, 0, 0);
}

static void sp_add_stats(sp_builder *b, unsigned id, unsigned level, const char *layer, unsigned c)
{
    char n[96], tag[24] = "";
    if (level)
        snprintf(tag, sizeof tag, "level%u.", level);
    snprintf(n, sizeof n, "calib.%u.%s%s.mean", id, tag, layer);
    sp_add(b, n, 3, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "calib.%u.%s%s.var", id, tag, layer);
    sp_add(b, n, 4, 1, c, 0, 0, 0);
}

static unsigned sp_level_channels(unsigned c, unsigned pct)
{
    unsigned n = (c * pct + 99u) / 100u;
    return n ? n : 1u;
}

/* Statistics of stages [first, last) (and the stem when first is 0) of config ID at level
 * PCT, tagged level{PCT} when LEVEL_TAG; BLOCK is the global block index at FIRST. */
static void sp_config_stats(sp_builder *b, unsigned id, const sp_calib *c, int level_tag, unsigned pct,
                            unsigned first, unsigned last, unsigned block)
{
    unsigned s, k;
    char n[64];
    if (first == 0)
        sp_add_stats(b, id, level_tag ? pct : 0, "stem_bn", sp_level_channels(SP_STEM_C, pct));
    for (s = first; s < last; ++s)
        for (k = 0; k < c->depth[s]; ++k, ++block) {
            unsigned in_full = k == 0 ? (s == 0 ? SP_STEM_C : sp_out_c[s - 1]) : sp_out_c[s];
            unsigned hid = sp_level_channels(in_full * c->e[block], pct);
            snprintf(n, sizeof n, "stages.%u.%u.bn1", s, k);
            sp_add_stats(b, id, level_tag ? pct : 0, n, hid);
            snprintf(n, sizeof n, "stages.%u.%u.bn2", s, k);
            sp_add_stats(b, id, level_tag ? pct : 0, n, hid);
            snprintf(n, sizeof n, "stages.%u.%u.bn3", s, k);
            sp_add_stats(b, id, level_tag ? pct : 0, n, sp_level_channels(sp_out_c[s], pct));
        }
}

static unsigned char *sp_safetensors(sp_builder *b, size_t *size)
{
    static char header[1 << 17], spec[8192];
    unsigned s, k, i, l;
    size_t off = 0, hlen, j;
    int len;
    unsigned char *buf;
    char n[64];

    b->n = 0;
    sp_add(b, "stem", 0, 4, SP_STEM_C, 1, 3, 3);
    sp_add_bn(b, "stem_bn", SP_STEM_C);
    for (s = 0; s < SP_STAGES; ++s)
        for (k = 0; k < 2; ++k) {
            unsigned in_full = k == 0 ? (s == 0 ? SP_STEM_C : sp_out_c[s - 1]) : sp_out_c[s];
            unsigned hid_max = in_full * SP_E_MAX;
            snprintf(n, sizeof n, "stages.%u.%u.expand", s, k);
            sp_add(b, n, 0, 4, hid_max, in_full, 1, 1);
            snprintf(n, sizeof n, "stages.%u.%u.bn1", s, k);
            sp_add_bn(b, n, hid_max);
            snprintf(n, sizeof n, "stages.%u.%u.dw", s, k);
            sp_add(b, n, 0, 4, hid_max, 1, SP_K_MAX, SP_K_MAX);
            snprintf(n, sizeof n, "stages.%u.%u.bn2", s, k);
            sp_add_bn(b, n, hid_max);
            snprintf(n, sizeof n, "stages.%u.%u.project", s, k);
            sp_add(b, n, 0, 4, sp_out_c[s], hid_max, 1, 1);
            snprintf(n, sizeof n, "stages.%u.%u.bn3", s, k);
            sp_add_bn(b, n, sp_out_c[s]);
        }
    sp_add(b, "head", 0, 4, SP_HEAD_C, sp_out_c[SP_STAGES - 1], 1, 1);
    sp_add_bn(b, "head_bn", SP_HEAD_C);
    sp_add(b, "fc.weight", 0, 2, SP_CLASSES, SP_HEAD_C, 0, 0);
    sp_add(b, "fc.bias", 2, 1, SP_CLASSES, 0, 0, 0);
    sp_add(b, "gate.c1.weight", 0, 4, SP_GATE_C, 1, 3, 3);
    sp_add(b, "gate.c1.bias", 2, 1, SP_GATE_C, 0, 0, 0);
    sp_add(b, "gate.c2.weight", 0, 4, SP_GATE_C, SP_GATE_C, 3, 3);
    sp_add(b, "gate.c2.bias", 2, 1, SP_GATE_C, 0, 0, 0);
    sp_add(b, "gate.out.weight", 0, 4, SP_LEVELS, SP_GATE_C, 1, 1);
    sp_add(b, "gate.out.bias", 2, 1, SP_LEVELS, 0, 0, 0);
    sp_add(b, "skip.1", 2, 1, sp_out_c[0], 0, 0, 0);
    sp_add(b, "skip.2", 2, 1, sp_out_c[1], 0, 0, 0);
    for (i = 0; i < SP_NCALIB; ++i) {
        const sp_calib *c = &sp_calibs[i];
        if (!c->split) {
            sp_config_stats(b, i, c, 0, 100, 0, SP_STAGES, 0);
        } else {
            unsigned first_tail = 0;
            for (l = 0; l < c->nlevels; ++l)
                if (c->levels[l])
                    sp_config_stats(b, i, c, 1, c->levels[l], 0, c->split, 0);
            for (s = 0; s < c->split; ++s)
                first_tail += c->depth[s];
            sp_config_stats(b, i, c, 0, 100, c->split, SP_STAGES, first_tail);
        }
        sp_add_stats(b, i, 0, "head_bn", SP_HEAD_C);
    }

    /* the spec, a JSON string inside the header's metadata (quotes escaped) */
    len = snprintf(spec, sizeof spec,
                   "{\\\"format\\\":\\\"supernav-supernet\\\",\\\"version\\\":1,\\\"task\\\":\\\"tiny-sparse\\\","
                   "\\\"canvas\\\":%d,\\\"num_classes\\\":%d,\\\"stem_c\\\":%d,\\\"head_c\\\":%d,\\\"k_max\\\":%d,"
                   "\\\"resolutions\\\":[24,32],\\\"expands\\\":[2,3],\\\"kernels\\\":[3,5],\\\"stages\\\":["
                   "{\\\"out_c\\\":6,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":2},"
                   "{\\\"out_c\\\":8,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":2},"
                   "{\\\"out_c\\\":10,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":2}],"
                   "\\\"arac\\\":{\\\"splits\\\":[1,2],\\\"modes\\\":[\\\"h\\\",\\\"z\\\"],\\\"grids\\\":[1,2,4,8],"
                   "\\\"levels_pct\\\":[100,75,50,25,0],\\\"gate_out\\\":%d,\\\"gate_c\\\":%d,\\\"gate_pool\\\":4},"
                   "\\\"bn_eps\\\":1e-05,\\\"calibrations\\\":[",
                   SP_CANVAS, SP_CLASSES, SP_STEM_C, SP_HEAD_C, SP_K_MAX, SP_LEVELS, SP_GATE_C);
    for (i = 0; i < SP_NCALIB; ++i)
        len += snprintf(spec + len, sizeof spec - (size_t)len,
                        "%s{\\\"id\\\":%u,\\\"kind\\\":\\\"%s\\\",\\\"config\\\":\\\"%s\\\"}", i ? "," : "", i,
                        sp_calibs[i].split ? "arac" : "subnet", sp_calibs[i].text);
    len += snprintf(spec + len, sizeof spec - (size_t)len, "]}");
    len = snprintf(header, sizeof header, "{\"__metadata__\":{\"supernav_spec\":\"%s\"}", spec);
    for (j = 0; j < b->n; ++j) {
        const sp_tensor *t = &b->t[j];
        len += snprintf(header + len, sizeof header - (size_t)len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", t->name);
        for (i = 0; i < t->ndim; ++i)
            len += snprintf(header + len, sizeof header - (size_t)len, "%s%u", i ? "," : "", t->dims[i]);
        len += snprintf(header + len, sizeof header - (size_t)len, "],\"data_offsets\":[%zu,%zu]}", off,
                        off + 4 * t->elems);
        off += 4 * t->elems;
    }
    len += snprintf(header + len, sizeof header - (size_t)len, "}");
    if ((size_t)len >= sizeof header)
        return NULL;
    hlen = (size_t)len;
    *size = 8 + hlen + off;
    buf = calloc(1, *size);
    if (!buf)
        return NULL;
    for (j = 0; j < 8; ++j)
        buf[j] = (unsigned char)(hlen >> (8 * j));
    memcpy(buf + 8, header, hlen);
    off = 8 + hlen;
    for (j = 0; j < b->n; ++j) {
        size_t e;
        for (e = 0; e < b->t[j].elems; ++e) {
            float v;
            switch (b->t[j].kind) {
            case 0: v = sp_rnd(b) - 0.5f; break;
            case 1: v = 0.8f + 0.4f * sp_rnd(b); break;
            case 2: v = 0.4f * (sp_rnd(b) - 0.5f); break;
            case 3: v = 0.2f * (sp_rnd(b) - 0.5f); break;
            default: v = 0.5f + sp_rnd(b); break;
            }
            memcpy(buf + off, &v, 4);
            off += 4;
        }
    }
    return buf;
}

/* Synthetic canvases: a bright square of side 8-14 somewhere on a dark canvas with a few
 * thin strokes (a small object in a mostly empty frame). */
static void sp_canvases(unsigned char *out, unsigned count)
{
    unsigned k, y, x;
    uint32_t r = 12345u;
    for (k = 0; k < count; ++k) {
        unsigned char *c = out + (size_t)k * SP_CANVAS * SP_CANVAS;
        unsigned side, y0, x0;
        r = r * 1664525u + 1013904223u;
        side = 8 + (r >> 24) % 7;
        y0 = (r >> 8) % (SP_CANVAS - side);
        x0 = (r >> 16) % (SP_CANVAS - side);
        memset(c, 0, SP_CANVAS * SP_CANVAS);
        for (y = y0; y < y0 + side; ++y)
            for (x = x0; x < x0 + side; ++x)
                c[y * SP_CANVAS + x] = (unsigned char)(120 + ((x * 7 + y * 13 + k) % 136));
        for (x = 0; x < SP_CANVAS; x += 5)
            c[((x * 3 + k) % SP_CANVAS) * SP_CANVAS + x] = 90;
    }
}

/* The packed image (malloc'ed), or NULL with a reason in ERR. */
static unsigned char *sp_image(size_t *size, char *err, size_t err_bytes)
{
    static sp_builder b;
    static unsigned char canvases[16 * SP_CANVAS * SP_CANVAS];
    sn_pack_calib calib;
    unsigned char *st, *img = NULL;
    size_t st_size;
    uint32_t seed;
    sp_canvases(canvases, 16);
    calib.canvases = canvases;
    calib.side = SP_CANVAS;
    calib.count = 16;
    for (seed = 1; seed < 50 && !img; ++seed) { /* weights whose int8 multipliers are in range */
        b.rng = seed;
        if (!(st = sp_safetensors(&b, &st_size))) {
            snprintf(err, err_bytes, "the fixture's safetensors header is too long");
            return NULL;
        }
        if (sn_pack_buffer(st, st_size, NULL, 0, &calib, &img, size, err, err_bytes) != 0)
            img = NULL;
        free(st);
    }
    return img;
}

#endif
