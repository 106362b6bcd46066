/* supernav fuzzing: writes the seeds that are made by a program rather than copied from
 * the project's files (make fuzz-seeds; the output is committed).
 *
 * The committed SuperNet's image is 3.9 MB, too large for a seed that a fuzzer mutates
 * (every execution would copy and checksum it). This writes a tiny SuperNet of the same
 * architecture family through the project's own path: a safetensors interchange file with
 * the spec in its metadata (as workloads/supernet/export.py writes it), packed by
 * sn_pack_buffer with int8 weights, int8 calibration on 8 synthetic canvases and an
 * accuracy table, and its int8-only MCU image (sn_mcu_image_strip):
 *
 *   OUT/corpus/safetensors/tiny.safetensors   canvas 16, 3 classes, stem 4, two stages
 *   OUT/corpus/model/tiny.snm                 (4 and 6 channels), head 8, ARAC grids 1 and 2
 *   OUT/corpus/model/tiny-int8only.snm
 *
 * Weights are deterministic pseudo-random numbers: the model computes nonsense, correctly.
 * Usage: gen_seeds OUT (the fuzz/ directory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_file.h"
#include "sn_mcu_host.h"
#include "sn_model.h"
#include "sn_pack.h"

#define CANVAS 16
#define STEM_C 4
#define HEAD_C 8
#define CLASSES 3
#define K_MAX 5
#define E_MAX 3
#define GATE_C 2
#define STAGES 2
static const unsigned out_c[STAGES] = {4, 6}, max_depth[STAGES] = {2, 2};

/* the calibrated configs: (kind, text, depths, expands per block, high, low) */
typedef struct calib {
    const char *kind, *text;
    unsigned depth[STAGES];
    unsigned e[4];
    unsigned arac, high, low;
} calib;
static const calib calibs[] = {
    {"subnet", "r16-d1.1-e2.2-k3.5", {1, 1}, {2, 2}, 0, 0, 0},
    {"subnet", "r12-d2.2-e3.2.2.3-k5.3.3.5", {2, 2}, {3, 2, 2, 3}, 0, 0, 0},
    {"subnet", "r16-d2.2-e3.3.3.3-k5.5.5.5", {2, 2}, {3, 3, 3, 3}, 0, 0, 0},
    {"arac", "arac-g2-t50-l100.50:r16-d1.2-e2.3.2-k3.5.3", {1, 2}, {2, 3, 2}, 1, 100, 50},
};
#define NCALIB (sizeof calibs / sizeof *calibs)

typedef struct tensor {
    char name[64];
    unsigned ndim, dims[4];
    size_t elems;
    int kind; /* 0 weights, 1 BN gamma, 2 BN beta / bias, 3 mean, 4 var */
} tensor;

static tensor tensors[512];
static size_t ntensors;
static uint32_t rng_state;

static float rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f; /* [0, 1) */
}

static void add(const char *name, int kind, unsigned ndim, unsigned d0, unsigned d1, unsigned d2,
                unsigned d3)
{
    tensor *t = &tensors[ntensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->dims[0] = d0; t->dims[1] = d1; t->dims[2] = d2; t->dims[3] = d3;
    t->elems = (size_t)d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1) * (ndim > 3 ? d3 : 1);
    t->kind = kind;
}

static void add_bn(const char *layer, unsigned c)
{
    char n[64];
    snprintf(n, sizeof n, "%s.weight", layer);
    add(n, 1, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bias", layer);
    add(n, 2, 1, c, 0, 0, 0);
}

static void add_stats(unsigned id, const char *level, const char *layer, unsigned c)
{
    char n[64];
    snprintf(n, sizeof n, "calib.%u.%s%s%s.mean", id, level ? level : "", level ? "." : "", layer);
    add(n, 3, 1, c, 0, 0, 0);
    snprintf(n, sizeof n, "calib.%u.%s%s%s.var", id, level ? level : "", level ? "." : "", layer);
    add(n, 4, 1, c, 0, 0, 0);
}

static unsigned level_channels(unsigned c, unsigned pct)
{
    unsigned n = (c * pct + 99u) / 100u;
    return n ? n : 1u;
}

/* The statistics of stages [first, last) (and the stem when first is 0) of config ID at
 * level PCT, tagged LEVEL (NULL: none); BLOCK is the global block index at FIRST. */
static void add_config_stats(unsigned id, const calib *c, const char *level, unsigned pct,
                             unsigned first, unsigned last, unsigned block)
{
    unsigned s, b;
    char n[64];
    if (first == 0)
        add_stats(id, level, "stem_bn", level_channels(STEM_C, pct));
    for (s = first; s < last; ++s)
        for (b = 0; b < c->depth[s]; ++b, ++block) {
            unsigned in_full = b == 0 ? (s == 0 ? STEM_C : out_c[s - 1]) : out_c[s];
            unsigned hid = level_channels(in_full * c->e[block], pct);
            snprintf(n, sizeof n, "stages.%u.%u.bn1", s, b);
            add_stats(id, level, n, hid);
            snprintf(n, sizeof n, "stages.%u.%u.bn2", s, b);
            add_stats(id, level, n, hid);
            snprintf(n, sizeof n, "stages.%u.%u.bn3", s, b);
            add_stats(id, level, n, level_channels(out_c[s], pct));
        }
}

static unsigned char *make_safetensors(size_t *size)
{
    static char header[65536], spec[4096];
    unsigned s, b, i;
    size_t off = 0, hlen, k;
    int len = 0;
    unsigned char *buf;
    char n[64];

    add("stem", 0, 4, STEM_C, 1, 3, 3);
    add_bn("stem_bn", STEM_C);
    for (s = 0; s < STAGES; ++s)
        for (b = 0; b < max_depth[s]; ++b) {
            unsigned in_full = b == 0 ? (s == 0 ? STEM_C : out_c[s - 1]) : out_c[s];
            unsigned hid_max = in_full * E_MAX;
            snprintf(n, sizeof n, "stages.%u.%u.expand", s, b);
            add(n, 0, 4, hid_max, in_full, 1, 1);
            snprintf(n, sizeof n, "stages.%u.%u.bn1", s, b);
            add_bn(n, hid_max);
            snprintf(n, sizeof n, "stages.%u.%u.dw", s, b);
            add(n, 0, 4, hid_max, 1, K_MAX, K_MAX);
            snprintf(n, sizeof n, "stages.%u.%u.bn2", s, b);
            add_bn(n, hid_max);
            snprintf(n, sizeof n, "stages.%u.%u.project", s, b);
            add(n, 0, 4, out_c[s], hid_max, 1, 1);
            snprintf(n, sizeof n, "stages.%u.%u.bn3", s, b);
            add_bn(n, out_c[s]);
        }
    add("head", 0, 4, HEAD_C, out_c[STAGES - 1], 1, 1);
    add_bn("head_bn", HEAD_C);
    add("fc.weight", 0, 2, CLASSES, HEAD_C, 0, 0);
    add("fc.bias", 2, 1, CLASSES, 0, 0, 0);
    add("gate.c1.weight", 0, 4, GATE_C, 1, 3, 3);
    add("gate.c1.bias", 2, 1, GATE_C, 0, 0, 0);
    add("gate.c2.weight", 0, 4, GATE_C, GATE_C, 3, 3);
    add("gate.c2.bias", 2, 1, GATE_C, 0, 0, 0);
    add("gate.out.weight", 0, 4, 1, GATE_C, 1, 1);
    add("gate.out.bias", 2, 1, 1, 0, 0, 0);
    for (i = 0; i < NCALIB; ++i) {
        const calib *c = &calibs[i];
        if (!c->arac) {
            add_config_stats(i, c, NULL, 100, 0, STAGES, 0);
            add_stats(i, NULL, "head_bn", HEAD_C);
        } else {
            char lv[16];
            snprintf(lv, sizeof lv, "level%u", c->high);
            add_config_stats(i, c, lv, c->high, 0, 1, 0);
            snprintf(lv, sizeof lv, "level%u", c->low);
            add_config_stats(i, c, lv, c->low, 0, 1, 0);
            add_config_stats(i, c, NULL, 100, 1, STAGES, c->depth[0]);
            add_stats(i, NULL, "head_bn", HEAD_C);
        }
    }

    /* the spec, as a JSON string inside the header's metadata (quotes escaped) */
    len = snprintf(spec, sizeof spec,
                   "{\\\"format\\\":\\\"supernav-supernet\\\",\\\"version\\\":1,\\\"canvas\\\":%d,"
                   "\\\"num_classes\\\":%d,\\\"stem_c\\\":%d,\\\"head_c\\\":%d,\\\"k_max\\\":%d,"
                   "\\\"resolutions\\\":[12,16],\\\"expands\\\":[2,3],\\\"kernels\\\":[3,5],"
                   "\\\"stages\\\":[{\\\"out_c\\\":4,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":1},"
                   "{\\\"out_c\\\":6,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":2}],"
                   "\\\"arac\\\":{\\\"prefix_stages\\\":1,\\\"grids\\\":[1,2],\\\"levels_pct\\\":[100,50],"
                   "\\\"gate_c\\\":%d,\\\"gate_pool\\\":2},\\\"bn_eps\\\":1e-05,\\\"calibrations\\\":[",
                   CANVAS, CLASSES, STEM_C, HEAD_C, K_MAX, GATE_C);
    for (i = 0; i < NCALIB; ++i)
        len += snprintf(spec + len, sizeof spec - (size_t)len,
                        "%s{\\\"id\\\":%u,\\\"kind\\\":\\\"%s\\\",\\\"config\\\":\\\"%s\\\"}", i ? "," : "", i,
                        calibs[i].kind, calibs[i].text);
    len += snprintf(spec + len, sizeof spec - (size_t)len, "]}");
    len = snprintf(header, sizeof header, "{\"__metadata__\":{\"supernav_spec\":\"%s\"}", spec);
    for (k = 0; k < ntensors; ++k) {
        const tensor *t = &tensors[k];
        len += snprintf(header + len, sizeof header - (size_t)len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", t->name);
        for (i = 0; i < t->ndim; ++i)
            len += snprintf(header + len, sizeof header - (size_t)len, "%s%u", i ? "," : "", t->dims[i]);
        len += snprintf(header + len, sizeof header - (size_t)len, "],\"data_offsets\":[%zu,%zu]}", off,
                        off + 4 * t->elems);
        off += 4 * t->elems;
    }
    len += snprintf(header + len, sizeof header - (size_t)len, "}");
    if ((size_t)len >= sizeof header) {
        fprintf(stderr, "gen_seeds: header too long\n");
        exit(1);
    }
    hlen = (size_t)len;
    *size = 8 + hlen + off;
    buf = calloc(1, *size);
    for (k = 0; k < 8; ++k)
        buf[k] = (unsigned char)(hlen >> (8 * k));
    memcpy(buf + 8, header, hlen);
    off = 8 + hlen;
    for (k = 0; k < ntensors; ++k) {
        size_t e;
        for (e = 0; e < tensors[k].elems; ++e) {
            float v;
            switch (tensors[k].kind) {
            case 0: v = rnd() - 0.5f; break;
            case 1: v = 0.8f + 0.4f * rnd(); break;
            case 2: v = 0.2f * (rnd() - 0.5f); break;
            case 3: v = 0.2f * (rnd() - 0.5f); break;
            default: v = 0.5f + rnd(); break;
            }
            memcpy(buf + off, &v, 4);
            off += 4;
        }
    }
    return buf;
}

static void write_or_die(const char *path, const void *data, size_t size)
{
    if (sn_write_file_atomic(path, data, size) != 0) {
        perror(path);
        exit(1);
    }
    printf("gen_seeds: wrote %s (%zu bytes)\n", path, size);
}

int main(int argc, char **argv)
{
    static const char table[] =
        "kind,config,macs,top1,val_top1,n,high_tile_frac\n"
        "subnet,r16-d1.1-e2.2-k3.5,1000,40.00,41.00,100,\n"
        "subnet,r12-d2.2-e3.2.2.3-k5.3.3.5,2000,45.50,46.00,100,\n"
        "subnet,r16-d2.2-e3.3.3.3-k5.5.5.5,3000,50.25,51.00,100,\n"
        "arac,arac-g2-t50-l100.50:r16-d1.2-e2.3.2-k3.5.3,1500,44.00,44.50,100,0.5000\n";
    unsigned char canvases[8 * CANVAS * CANVAS], *st, *img, *strip;
    size_t st_size, img_size, strip_size, i;
    sn_pack_calib calib;
    sn_model model;
    sn_model_error e;
    char err[512], path[4096];
    uint32_t seed;
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds FUZZ_DIR\n");
        return 2;
    }
    /* canvas k: a bright square in quadrant k % 4 (k < 4), else stripes; the gate must
     * find critical and other tiles on them, or the ARAC config's low level stays
     * uncalibrated: weights are drawn again from the next seed until it does */
    for (i = 0; i < sizeof canvases; ++i) {
        size_t k = i / (CANVAS * CANVAS), y = (i / CANVAS) % CANVAS, x = i % CANVAS;
        int in_quadrant = (y < CANVAS / 2) == (k % 2 == 0) && (x < CANVAS / 2) == (k % 4 < 2);
        canvases[i] = (unsigned char)(k < 4 ? (in_quadrant ? 255 : 0) : ((x + y + k) % 4 == 0 ? 200 : 0));
    }
    calib.canvases = canvases;
    calib.side = CANVAS;
    calib.count = 8;
    for (seed = 1;; ++seed) {
        ntensors = 0;
        rng_state = seed;
        st = make_safetensors(&st_size);
        if (sn_pack_buffer(st, st_size, table, sizeof table - 1, &calib, &img, &img_size, err, sizeof err) == 0)
            break;
        free(st);
        if (seed == 200) {
            fprintf(stderr, "gen_seeds: pack: %s\n", err);
            return 1;
        }
    }
    printf("gen_seeds: weights of seed %u\n", seed);
    snprintf(path, sizeof path, "%s/corpus/safetensors/tiny.safetensors", argv[1]);
    write_or_die(path, st, st_size);
    snprintf(path, sizeof path, "%s/corpus/model/tiny.snm", argv[1]);
    write_or_die(path, img, img_size);
    if (sn_model_load(&model, img, img_size, &e) != SN_OK) {
        fprintf(stderr, "gen_seeds: the packed image does not load: %s\n", e.what);
        return 1;
    }
    if (sn_mcu_image_strip(&model, NULL, 0, &strip, &strip_size, err, sizeof err) != 0) {
        fprintf(stderr, "gen_seeds: strip: %s\n", err);
        return 1;
    }
    snprintf(path, sizeof path, "%s/corpus/model/tiny-int8only.snm", argv[1]);
    write_or_die(path, strip, strip_size);
    free(strip);
    free(img);
    free(st);
    return 0;
}
