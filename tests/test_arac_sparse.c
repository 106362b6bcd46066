/* ARAC of the split-point form (image format version 2) on a tiny random-weight SuperNet of
 * the CF-128S family (tests/sn_test_sparse.h; PyTorch's agreement on the real model is
 * tests/test_sparse_oracle.sh):
 * - the image: version 2 fields, SKIP tensors, and its int8-only MCU image loads;
 * - mode h: adjacent tiles merged into regions, one micro-flow per tile and one untiled
 *   whole-canvas micro-flow give the same stitched map and logits, bit for bit, fp32 and int8;
 *   merging moves fewer MACs and fewer regions than tiles;
 * - SKIP: no micro-flow, the tail reads skip.{P} (fp32) or its int8 quantization with the
 *   stitched map's parameters at every pixel, the invoke costs the gate and the tail only;
 * - MACs per region at its level: mode z at one level costs exactly the untiled prefix at that
 *   level; mode h never less;
 * - tile buffers sized by the largest region: never larger than the prefix's whole activation,
 *   smaller for tile-local regions and for halo'd ones that do not cover the canvas;
 * - the gate's threshold ends: T=0 puts every tile at the lowest level, T=100 at the highest;
 * - every platform computes the same: int8 bit for bit on the reference, the CPU (every ISA,
 *   one thread and three), OpenCL (micro-flows and the region loop) and the FPGA model; fp32
 *   within 1e-5 of the reference (threads and micro-flows bit for bit), the gate's tile levels
 *   equal; for the gate's choice and for every level forced. */
#include "sn_test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_fpga.h"
#include "sn_mcu_host.h"
#include "sn_opencl.h"
#include "sn_test_sparse.h"

#define NCANVAS 12

static unsigned char *image;
static size_t image_size;
static sn_model model;
static unsigned char canvases[NCANVAS * SP_CANVAS * SP_CANVAS];

typedef struct planned {
    sn_plan *plan;
    void *arena;
    size_t bytes;
} planned;

static planned plan_for(const char *text, int precision)
{
    planned pl;
    sn_config cfg;
    const char *why = "";
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    if (sn_plan_arena_bytes_p(&model, &cfg, precision, &pl.bytes) != SN_OK)
        fail_msg("%s: cannot be sized", text);
    pl.plan = malloc(sizeof *pl.plan);
    assert_non_null(pl.plan);
    assert_int_equal(posix_memalign(&pl.arena, 64, pl.bytes), 0);
    if (sn_plan_prepare_p(pl.plan, &model, &cfg, precision, pl.arena, pl.bytes, &why) != SN_OK)
        fail_msg("%s: %s", text, why);
    return pl;
}

static void plan_free(planned *pl)
{
    free(pl->arena);
    free(pl->plan);
}

static size_t stitched_bytes(const sn_plan *p)
{
    return (size_t)p->arac.feature_side * p->arac.feature_side * p->arac.feature_c *
           (p->precision == SN_INT8 ? 1u : 4u);
}

static const char *prec_name(int prec) { return prec == SN_INT8 ? "int8" : "fp32"; }

/* ---- the image ------------------------------------------------------------------------ */
static void test_image_version_2(void **state)
{
    sn_tensor t;
    sn_model strip_model;
    unsigned char *strip;
    size_t strip_size;
    char err[256];
    (void)state;
    assert_int_equal(model.version, 2);
    assert_int_equal(model.arch.num_splits, 2);
    assert_int_equal(model.arch.region_modes, SN_REGION_MODE_HALO | SN_REGION_MODE_TILE);
    assert_int_equal(model.arch.gate_out, SP_LEVELS);
    assert_int_equal(model.arch.task, 0); /* its spec's task, "tiny-sparse", is no canvas task */
    assert_int_equal(model.arch.num_levels, SP_LEVELS);
    assert_int_equal(model.arch.levels_pct[SP_LEVELS - 1], 0);
    assert_int_equal(sn_model_find(&model, "skip.2", &t), SN_OK);
    assert_int_equal(t.dims[0], sp_out_c[1]);
    assert_int_equal(model.config_count, SP_NCALIB);
    /* the MCU's int8-only image keeps the version and the SKIP features */
    assert_int_equal(sn_mcu_image_strip(&model, NULL, 0, &strip, &strip_size, err, sizeof err), 0);
    assert_int_equal(sn_model_load(&strip_model, strip, strip_size, NULL), SN_OK);
    assert_int_equal(strip_model.version, 2);
    assert_int_equal(strip_model.arch.gate_out, SP_LEVELS);
    assert_int_equal(sn_model_find(&strip_model, "skip.1", &t), SN_OK);
    {
        planned pl;
        sn_config cfg;
        size_t need;
        void *arena;
        sn_plan *plan = malloc(sizeof *plan);
        float out[SP_CLASSES];
        assert_int_equal(sn_config_parse(sp_calibs[4].text, &cfg), SN_OK);
        assert_int_equal(sn_plan_arena_bytes_p(&strip_model, &cfg, SN_INT8, &need), SN_OK);
        assert_int_equal(posix_memalign(&arena, 64, need), 0);
        assert_int_equal(sn_plan_prepare_p(plan, &strip_model, &cfg, SN_INT8, arena, need, NULL), SN_OK);
        /* the int8-only image: its directory in name order, the ARAC config's int8 vectors
         * precomputed (q8.req.{id}) in place of its BN statistics */
        assert_int_equal(strip_model.names_sorted, 1);
        assert_true(plan->q8_precomputed_words > 0);
        assert_int_equal(sn_model_find(&strip_model, "q8.req.4", &t), SN_OK);
        assert_int_equal(t.bytes, (uint64_t)plan->q8_precomputed_words * 4u);
        {
            uint32_t i, full = 0, stripped = 0;
            for (i = 0; i < model.tensor_count; ++i)
                if (sn_model_tensor(&model, i, &t) == SN_OK && !strncmp(t.name, "calib.4.", 8) &&
                    strstr(t.name, ".mean"))
                    ++full;
            for (i = 0; i < strip_model.tensor_count; ++i)
                if (sn_model_tensor(&strip_model, i, &t) == SN_OK && !strncmp(t.name, "calib.4.", 8))
                    ++stripped;
            assert_true(full > 0);
            assert_int_equal(stripped, 0);
        }
        assert_int_equal(sn_plan_invoke(plan, NULL, canvases, out, NULL, NULL), SN_OK);
        pl = plan_for(sp_calibs[4].text, SN_INT8);
        {
            float want[SP_CLASSES];
            assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvases, want, NULL, NULL), SN_OK);
            assert_memory_equal(want, out, sizeof out);
        }
        plan_free(&pl);
        free(arena);
        free(plan);
    }
    free(strip);
    printf("# image format version %u, %u bytes, %u configs; its int8-only image (%zu bytes) runs the same\n",
           model.version, (unsigned)image_size, model.config_count, strip_size);
}

/* A spy on the reference kernels: keeps a copy of the input of the last dense convolution of
 * an invoke that reads a whole map of the stitched map's shape -- the tail's first layer (its
 * later layers read smaller maps; a micro-flow's layer may read one before it) -- in either
 * precision. */
typedef struct spy {
    uint32_t side, channels;
    size_t elem;
    unsigned char *seen;
    int got;
} spy;

static void spy_keep(spy *s, const sn_conv2d_params *p, const void *in, size_t elem)
{
    if (p->in_h != (int32_t)s->side || p->in_w != (int32_t)s->side || p->in_c != (int32_t)s->channels ||
        elem != s->elem)
        return;
    memcpy(s->seen, in, (size_t)s->side * s->side * s->channels * elem);
    s->got = 1;
}

static sn_status spy_conv_f32(void *ctx, const sn_conv2d_params *p, const float *in, const float *w,
                              const float *scale, const float *bias, float *out)
{
    spy_keep(ctx, p, in, 4);
    return sn_conv2d_ref_f32(p, in, w, scale, bias, out);
}

static sn_status spy_conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                             const int8_t *w, const int32_t *bias, int8_t *out)
{
    spy_keep(ctx, p, in, 1);
    return sn_conv2d_ref_s8(p, q, in, w, bias, out);
}

static void spy_platform_of(spy *s, sn_platform_ops *ops, sn_platform *pf, const sn_plan *p)
{
    memset(ops, 0, sizeof *ops);
    ops->conv2d_f32 = spy_conv_f32;
    ops->conv2d_s8 = spy_conv_s8;
    pf->name = "spy";
    pf->ops = ops;
    pf->context = s;
    s->side = p->arac.feature_side;
    s->channels = p->arac.feature_c;
    s->elem = p->precision == SN_INT8 ? 1u : 4u;
    s->got = 0;
}

/* ---- mode h: merged regions == tiles == untiled ---------------------------------------- */
static size_t prefix_whole_floats(const sn_plan *p)
{
    const sn_layer *L = sn_arac_prefix(&p->arac, 0);
    size_t most = (size_t)model.arch.canvas * model.arch.canvas;
    uint32_t l;
    for (l = 0; l < p->arac.prefix_count; ++l) {
        size_t n = (size_t)L[l].params.out_h * (size_t)L[l].params.out_w * (size_t)L[l].params.out_c;
        most = n > most ? n : most;
    }
    return most;
}

static int64_t untiled_prefix_macs(const sn_plan *p, uint32_t level)
{
    const sn_layer *L = sn_arac_prefix(&p->arac, level);
    int64_t m = 0;
    uint32_t l;
    for (l = 0; l < p->arac.prefix_count; ++l)
        m += sn_conv2d_macs(&L[l].params, L[l].kind == SN_LAYER_DWCONV);
    return m;
}

static void test_halo_regions_equal(void **state)
{
    uint32_t i, tested = 0, fewer = 0;
    int prec;
    (void)state;
    for (i = 0; i < SP_NCALIB; ++i) {
        if (!sp_calibs[i].split || strstr(sp_calibs[i].text, "-h-") == NULL)
            continue;
        for (prec = SN_FP32; prec <= SN_INT8; ++prec) {
            planned pl = plan_for(sp_calibs[i].text, prec);
            sn_plan *p = pl.plan;
            size_t bytes = stitched_bytes(p), whole = prefix_whole_floats(p);
            unsigned char *merged = malloc(bytes), *tiles = malloc(bytes), *whole_map = malloc(bytes);
            float *big[3], *own[3];
            sn_platform_ops ops;
            sn_platform sp;
            spy s;
            spy_platform_of(&s, &ops, &sp, p);
            uint32_t lv, c, b, grid = p->arac.grid, own_floats = p->arac.tile_buffer_floats;
            for (b = 0; b < 3; ++b) {
                assert_int_equal(posix_memalign((void **)&big[b], 64, whole * sizeof(float)), 0);
                own[b] = p->arac.tile_buffers[b];
            }
            for (lv = 0; lv < p->arac.computed_levels; ++lv)
                for (c = 0; c < 3; ++c) {
                    const unsigned char *canvas = canvases + (size_t)c * SP_CANVAS * SP_CANVAS;
                    float lm[SP_CLASSES], lt[SP_CLASSES], lw[SP_CLASSES];
                    int64_t macs_merged, macs_tiles;
                    uint32_t regions_merged;
                    p->arac.force_level = (int8_t)lv;
                    s.seen = merged;
                    s.got = 0;
                    assert_int_equal(sn_plan_invoke(p, &sp, canvas, lm, NULL, NULL), SN_OK);
                    macs_merged = p->arac.last_macs;
                    regions_merged = p->arac.num_regions;
                    p->arac.merge_max = 1; /* one micro-flow per tile */
                    s.seen = tiles;
                    s.got = 0;
                    assert_int_equal(sn_plan_invoke(p, &sp, canvas, lt, NULL, NULL), SN_OK);
                    macs_tiles = p->arac.last_macs;
                    assert_int_equal(p->arac.num_regions, grid * grid);
                    /* one untiled micro-flow over the whole canvas, given whole-map buffers */
                    for (b = 0; b < 3; ++b)
                        p->arac.tile_buffers[b] = big[b];
                    p->arac.tile_buffer_floats = (uint32_t)whole;
                    p->arac.grid = 1;
                    s.seen = whole_map;
                    s.got = 0;
                    assert_int_equal(sn_plan_invoke(p, &sp, canvas, lw, NULL, NULL), SN_OK);
                    assert_int_equal(p->arac.num_regions, 1);
                    assert_true(s.got);
                    if (memcmp(merged, tiles, bytes) != 0 || memcmp(lm, lt, sizeof lm) != 0)
                        fail_msg("%s %s level %u: merged regions differ from tiles", sp_calibs[i].text,
                                 prec_name(prec), lv);
                    if (memcmp(merged, whole_map, bytes) != 0 ||
                        memcmp(lm, lw, sizeof lm) != 0)
                        fail_msg("%s %s level %u: tiles differ from the untiled micro-flow", sp_calibs[i].text,
                                 prec_name(prec), lv);
                    /* merging shares halos: never more MACs; the untiled flow costs the least */
                    assert_true(macs_merged <= macs_tiles);
                    assert_true(p->arac.last_macs <= macs_merged);
                    assert_int_equal(p->arac.last_macs, p->macs + untiled_prefix_macs(p, lv));
                    if (grid >= 4) {
                        assert_true(regions_merged < grid * grid);
                        assert_true(macs_merged < macs_tiles);
                        ++fewer;
                    }
                    for (b = 0; b < 3; ++b)
                        p->arac.tile_buffers[b] = own[b];
                    p->arac.tile_buffer_floats = own_floats;
                    p->arac.grid = grid;
                    p->arac.merge_max = grid / 2 > 1 ? grid / 2 : 1;
                }
            for (b = 0; b < 3; ++b)
                free(big[b]);
            free(merged);
            free(tiles);
            free(whole_map);
            plan_free(&pl);
            ++tested;
        }
    }
    printf("# %u mode-h plans (fp32 and int8) x every computed level x 3 canvases: merged regions == one "
           "micro-flow per tile == untiled, bit for bit; merging saved MACs in %u runs\n", tested, fewer);
    assert_true(tested >= 8);
    assert_true(fewer > 0);
}

/* ---- SKIP --------------------------------------------------------------------------------- */
static void test_skip_is_the_learned_constant(void **state)
{
    uint32_t i, tested = 0;
    int prec;
    sn_platform_ops ops;
    sn_platform spy_platform;
    spy s;
    (void)state;
    for (i = 0; i < SP_NCALIB; ++i) {
        if (!sp_calibs[i].split)
            continue;
        for (prec = SN_FP32; prec <= SN_INT8; ++prec) {
            planned pl = plan_for(sp_calibs[i].text, prec);
            sn_plan *p = pl.plan;
            const sn_arac_plan *ar = &p->arac;
            uint32_t px, c, side = ar->feature_side;
            float out[SP_CLASSES], want_logits[SP_CLASSES];
            sn_tensor skip;
            char name[16];
            snprintf(name, sizeof name, "skip.%u", sp_calibs[i].split);
            assert_int_equal(sn_model_find(&model, name, &skip), SN_OK);
            assert_int_equal(skip.dims[0], ar->feature_c);
            p->arac.force_level = (int8_t)(ar->num_levels - 1);
            assert_int_equal(ar->level_pct[ar->num_levels - 1], 0);
            spy_platform_of(&s, &ops, &spy_platform, p);
            s.seen = malloc(stitched_bytes(p));
            assert_int_equal(sn_plan_invoke(p, NULL, canvases, want_logits, NULL, NULL), SN_OK);
            assert_int_equal(sn_plan_invoke(p, &spy_platform, canvases, out, NULL, NULL), SN_OK);
            assert_memory_equal(want_logits, out, sizeof out);
            assert_true(s.got);
            assert_int_equal(ar->num_regions, 0);
            assert_int_equal(ar->last_macs, p->macs); /* the gate and the tail only */
            for (px = 0; px < side * side; ++px)
                for (c = 0; c < ar->feature_c; ++c) {
                    float want = ((const float *)skip.data)[c];
                    if (prec == SN_FP32) {
                        float v;
                        memcpy(&v, s.seen + 4 * ((size_t)px * ar->feature_c + c), 4);
                        if (v != want)
                            fail_msg("%s fp32: stitched pixel %u channel %u is not skip.%u", sp_calibs[i].text, px,
                                     c, sp_calibs[i].split);
                    } else {
                        double q = (double)ar->stitched_q.zero_point + (double)want / (double)ar->stitched_q.scale;
                        long r = lround(q);
                        r = r < -128 ? -128 : (r > 127 ? 127 : r);
                        if ((int8_t)s.seen[(size_t)px * ar->feature_c + c] != (int8_t)r)
                            fail_msg("%s int8: stitched pixel %u channel %u is not skip.%u quantized",
                                     sp_calibs[i].text, px, c, sp_calibs[i].split);
                    }
                }
            free(s.seen);
            plan_free(&pl);
            ++tested;
        }
    }
    printf("# %u ARAC plans (fp32 and int8) with every tile at SKIP: no micro-flow, the tail reads skip.{P} "
           "(int8: quantized with the stitched map's parameters) at every pixel, MACs of the gate and the tail "
           "only\n", tested);
    assert_true(tested >= 18);
}

/* ---- MACs per region; tile buffers by the largest region ----------------------------------- */
static void test_region_macs_and_buffers(void **state)
{
    uint32_t i, tested = 0, smaller = 0;
    (void)state;
    for (i = 0; i < SP_NCALIB; ++i) {
        planned pl;
        sn_plan *p;
        uint32_t lv;
        int tile_local;
        if (!sp_calibs[i].split)
            continue;
        pl = plan_for(sp_calibs[i].text, SN_FP32);
        p = pl.plan;
        tile_local = p->arac.mode == SN_REGION_MODE_TILE;
        for (lv = 0; lv < p->arac.computed_levels; ++lv) {
            float out[SP_CLASSES];
            int64_t prefix;
            p->arac.force_level = (int8_t)lv;
            assert_int_equal(sn_plan_invoke(p, NULL, canvases, out, NULL, NULL), SN_OK);
            prefix = p->arac.last_macs - p->macs;
            if (tile_local)
                assert_int_equal(prefix, untiled_prefix_macs(p, lv));
            else
                assert_true(prefix >= untiled_prefix_macs(p, lv));
            if (lv > 0) /* a lower level computes fewer channels */
                assert_true(untiled_prefix_macs(p, lv) < untiled_prefix_macs(p, lv - 1));
        }
        assert_true(p->arac.max_macs >= p->macs + untiled_prefix_macs(p, 0));
        /* never more than the whole map; less for tile-local regions and for halo'd ones that
         * do not cover the (tiny) canvas */
        assert_true(p->arac.tile_buffer_floats <= prefix_whole_floats(p));
        if (tile_local && p->arac.grid >= 2)
            assert_true(p->arac.tile_buffer_floats < prefix_whole_floats(p));
        smaller += p->arac.tile_buffer_floats < prefix_whole_floats(p) && !tile_local;
        printf("# %s: tile buffers %u floats (whole prefix map %zu), arena %zu bytes\n", sp_calibs[i].text,
               p->arac.tile_buffer_floats, prefix_whole_floats(p), pl.bytes);
        plan_free(&pl);
        ++tested;
    }
    assert_true(tested >= 9);
    assert_true(smaller >= 2);
}

/* ---- the gate's threshold ------------------------------------------------------------------ */
static void test_gate_threshold_ends(void **state)
{
    uint32_t c, t;
    planned lo = plan_for("arac-p1-g2-h-t0-l100.50.0:" SP_BASE_A, SN_FP32);
    planned hi = plan_for("arac-p1-g2-h-t100-l100.50.0:" SP_BASE_A, SN_FP32);
    uint32_t mixed = 0;
    (void)state;
    assert_int_equal(lo.plan->arac.gate_rule, SN_GATE_SOFTMAX);
    for (c = 0; c < NCANVAS; ++c) {
        const unsigned char *canvas = canvases + (size_t)c * SP_CANVAS * SP_CANVAS;
        float out[SP_CLASSES];
        assert_int_equal(sn_plan_invoke(lo.plan, NULL, canvas, out, NULL, NULL), SN_OK);
        assert_int_equal(sn_plan_invoke(hi.plan, NULL, canvas, out, NULL, NULL), SN_OK);
        for (t = 0; t < 4; ++t) {
            assert_int_equal(lo.plan->arac.tile_level[t], 2); /* mass at or below SKIP >= 0 */
            assert_int_equal(hi.plan->arac.tile_level[t], 0); /* mass below 100 % < 1 */
        }
    }
    plan_free(&lo);
    plan_free(&hi);
    /* between the ends the gate picks different levels for different tiles somewhere */
    for (t = 0; t < SP_NCALIB; ++t) {
        planned pl;
        if (!sp_calibs[t].split || strstr(sp_calibs[t].text, "-t0-") || strstr(sp_calibs[t].text, "-t100-"))
            continue;
        pl = plan_for(sp_calibs[t].text, SN_FP32);
        for (c = 0; c < NCANVAS; ++c) {
            float out[SP_CLASSES];
            uint32_t k, g = pl.plan->arac.grid, first;
            assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvases + (size_t)c * SP_CANVAS * SP_CANVAS, out,
                                            NULL, NULL), SN_OK);
            first = pl.plan->arac.tile_level[0];
            for (k = 1; k < g * g; ++k)
                if (pl.plan->arac.tile_level[k] != first) {
                    ++mixed;
                    break;
                }
        }
        plan_free(&pl);
    }
    printf("# T=0: every tile at SKIP, T=100: every tile at the highest level; %u invokes between "
           "them with mixed tile levels\n", mixed);
}

/* ---- the level controller (mac_budget) --------------------------------------------------- */
/* T=100 puts every tile at 100 %. A budget one MAC below that invoke's steps every tile down
 * once, to 50 % (the lowest computed level): the same tiles, MACs and logits (bit for bit) as
 * every tile forced to 50 %; an impossible budget (1 MAC) stops there too, never at SKIP; a
 * budget at the full cost changes nothing; force_level turns the controller off. Then on a
 * five-level config (100/75/50/25/SKIP, the gate's own mix): a budget below its cost steps
 * the highest level in use down, each step never costing more, until it fits or every
 * computed tile is at 25 %. */
static void test_level_controller(void **state)
{
    planned pl = plan_for("arac-p1-g2-h-t100-l100.50.0:" SP_BASE_A, SN_FP32);
    planned five = plan_for("arac-p1-g4-z-t50-l100.75.50.25.0:" SP_BASE_A, SN_FP32);
    sn_arac_plan *ar = &pl.plan->arac;
    uint32_t c, t, stepped = 0;
    (void)state;
    for (c = 0; c < NCANVAS; ++c) {
        const unsigned char *canvas = canvases + (size_t)c * SP_CANVAS * SP_CANVAS;
        float full[SP_CLASSES], low[SP_CLASSES], forced[SP_CLASSES], again[SP_CLASSES];
        int64_t m_full, m_low;
        ar->mac_budget = 0;
        assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, full, NULL, NULL), SN_OK);
        m_full = ar->last_macs;
        assert_int_equal(ar->steps_down, 0);
        ar->mac_budget = m_full - 1;
        assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, low, NULL, NULL), SN_OK);
        m_low = ar->last_macs;
        assert_int_equal(ar->steps_down, 1);
        for (t = 0; t < 4; ++t)
            assert_int_equal(ar->tile_level[t], 1);
        assert_true(m_low < m_full);
        ar->mac_budget = 1;
        assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, again, NULL, NULL), SN_OK);
        assert_int_equal(ar->steps_down, 1);
        assert_int_equal(ar->last_macs, m_low);
        assert_memory_equal(again, low, sizeof low);
        ar->force_level = 1; /* every tile at 50 %: the controller is off */
        assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, forced, NULL, NULL), SN_OK);
        assert_int_equal(ar->steps_down, 0);
        assert_int_equal(ar->last_macs, m_low);
        assert_memory_equal(forced, low, sizeof low);
        ar->force_level = -1;
        ar->mac_budget = m_full;
        assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, again, NULL, NULL), SN_OK);
        assert_int_equal(ar->steps_down, 0);
        assert_memory_equal(again, full, sizeof full);
    }
    for (c = 0; c < NCANVAS; ++c) {
        const unsigned char *canvas = canvases + (size_t)c * SP_CANVAS * SP_CANVAS;
        sn_arac_plan *a5 = &five.plan->arac;
        float out[SP_CLASSES];
        int64_t m_free, m_budget;
        uint32_t lowest = a5->computed_levels - 1;
        a5->mac_budget = 0;
        assert_int_equal(sn_plan_invoke(five.plan, NULL, canvas, out, NULL, NULL), SN_OK);
        m_free = a5->last_macs;
        a5->mac_budget = five.plan->macs + 1; /* below any computed tile's cost */
        assert_int_equal(sn_plan_invoke(five.plan, NULL, canvas, out, NULL, NULL), SN_OK);
        m_budget = a5->last_macs;
        assert_true(m_budget <= m_free);
        for (t = 0; t < 16; ++t) /* every computed tile at the lowest computed level, SKIP kept */
            assert_true(a5->tile_level[t] == lowest || a5->tile_level[t] == a5->num_levels - 1);
        stepped += a5->steps_down > 0;
    }
    assert_true(stepped > 0);
    printf("# the controller: one step to 50 %% at a budget 1 MAC short, bit for bit the forced-50 %% "
           "invoke, never below the lowest computed level; five levels: %u of %u canvases stepped\n",
           stepped, NCANVAS);
    plan_free(&pl);
    plan_free(&five);
}

/* ---- every platform computes the same ------------------------------------------------------ */
typedef struct target {
    char name[48];
    sn_platform p;
    int fp32;                     /* runs fp32 plans */
    int exact_fp32;               /* fp32 bit for bit with REFERENCE_OF (threads, micro-flows) */
    int reference_of;             /* index of the target it must equal bit for bit in fp32 */
} target;

static double rel_error(const float *got, const float *want, size_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (fabs((double)want[i]) > max_ref)
            max_ref = fabs((double)want[i]);
        if (!(d <= max_diff))
            max_diff = d == d ? d : (double)INFINITY;
    }
    return max_diff / (max_ref > 1.0 ? max_ref : 1.0);
}

static void test_platforms_agree(void **state)
{
    static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};
    target tg[20];
    sn_cpu *cpus[10];
    sn_opencl *cl = NULL;
    sn_fpga *fpga = NULL;
    sn_fpga_board board;
    sn_platform_ops cl_loop_ops;
    int nt = 0, ncpu = 0, prec, k;
    uint32_t i, c, runs = 0;
    double worst = 0.0;
    char err[512];
    (void)state;
    memset(tg, 0, sizeof tg);
    for (k = 0; k < (int)(sizeof isas / sizeof *isas); ++k) {
        sn_cpu_options o;
        int threads;
        if (!sn_cpu_isa_available(isas[k]))
            continue;
        for (threads = 1; threads <= 3; threads += 2) {
            sn_cpu_options_default(&o);
            o.isa = isas[k];
            o.threads = threads;
            assert_int_equal(sn_cpu_create(&model, &o, &cpus[ncpu], NULL), SN_OK);
            sn_cpu_platform(cpus[ncpu], &tg[nt].p);
            snprintf(tg[nt].name, sizeof tg[nt].name, "cpu-%s x%d", isas[k], threads);
            tg[nt].fp32 = 1;
            tg[nt].exact_fp32 = threads > 1;
            tg[nt].reference_of = nt - 1;
            ++ncpu;
            ++nt;
        }
    }
    {
        sn_opencl_options o;
        char why[512] = "";
        sn_opencl_options_default(&o);
        if (sn_opencl_create(&model, &o, &cl, why, sizeof why) == SN_OK) {
            sn_opencl_platform(cl, &tg[nt].p);
            snprintf(tg[nt].name, sizeof tg[nt].name, "opencl micro-flows");
            tg[nt].fp32 = 1;
            ++nt;
            tg[nt] = tg[nt - 1]; /* the same kernels, regions one by one through the slots */
            cl_loop_ops = *tg[nt].p.ops;
            cl_loop_ops.arac_micro_flows = NULL;
            tg[nt].p.ops = &cl_loop_ops;
            snprintf(tg[nt].name, sizeof tg[nt].name, "opencl region loop");
            tg[nt].exact_fp32 = 1;
            tg[nt].reference_of = nt - 1;
            ++nt;
        } else {
            printf("# no OpenCL device: %.200s\n", why);
        }
    }
    if (sn_fpga_board_load("platforms/fpga/boards/zcu104.board", &board, err, sizeof err) == 0) {
        sn_fpga_options o;
        sn_fpga_options_default(&o);
        assert_int_equal(sn_fpga_create(&model, &board, &o, &fpga, err, sizeof err), SN_OK);
        sn_fpga_platform(fpga, &tg[nt].p);
        snprintf(tg[nt].name, sizeof tg[nt].name, "fpga model");
        ++nt;
    } else {
        fail_msg("fpga board: %s", err);
    }
    for (i = 0; i < SP_NCALIB; ++i)
        for (prec = SN_FP32; prec <= SN_INT8; ++prec) {
            planned pl = plan_for(sp_calibs[i].text, prec);
            sn_plan *p = pl.plan;
            int forced, first = p->is_arac ? -1 : 0, last = p->is_arac ? (int)p->arac.num_levels - 1 : 0;
            for (forced = first; forced <= last; ++forced)
                for (c = 0; c < (forced < 0 ? NCANVAS : 2u); ++c) {
                    const unsigned char *canvas = canvases + (size_t)c * SP_CANVAS * SP_CANVAS;
                    float want[SP_CLASSES], got[20][SP_CLASSES];
                    uint8_t levels[SN_PLAN_MAX_TILES];
                    uint32_t tiles = p->is_arac ? p->arac.grid * p->arac.grid : 0;
                    if (p->is_arac)
                        p->arac.force_level = (int8_t)forced;
                    assert_int_equal(sn_plan_invoke(p, NULL, canvas, want, NULL, NULL), SN_OK);
                    memcpy(levels, p->arac.tile_level, sizeof levels);
                    for (k = 0; k < nt; ++k) {
                        if (prec == SN_FP32 && !tg[k].fp32)
                            continue;
                        assert_int_equal(sn_plan_invoke(p, &tg[k].p, canvas, got[k], NULL, NULL), SN_OK);
                        if (tiles && memcmp(levels, p->arac.tile_level, tiles) != 0)
                            fail_msg("%s %s on %s canvas %u: the gate chose other tile levels", sp_calibs[i].text,
                                     prec_name(prec), tg[k].name, c);
                        if (prec == SN_INT8 || tg[k].exact_fp32) {
                            const float *ref = prec == SN_INT8 ? want : got[tg[k].reference_of];
                            if (memcmp(ref, got[k], sizeof want) != 0)
                                fail_msg("%s %s on %s canvas %u (level %d): logits differ bit-wise", sp_calibs[i].text,
                                         prec_name(prec), tg[k].name, c, forced);
                        } else {
                            double r = rel_error(got[k], want, SP_CLASSES);
                            worst = r > worst ? r : worst;
                            if (r > 1e-5)
                                fail_msg("%s fp32 on %s canvas %u: relative error %.3g", sp_calibs[i].text,
                                         tg[k].name, c, r);
                        }
                        ++runs;
                    }
                }
            plan_free(&pl);
        }
    printf("# %u configs x fp32/int8 x (the gate's levels and every level forced) on %d platform "
           "variants: %u runs; int8 bit for bit, fp32 worst relative error %.2g\n", (unsigned)SP_NCALIB, nt, runs,
           worst);
    for (k = 0; k < nt; ++k)
        printf("#   %s\n", tg[k].name);
    for (k = 0; k < ncpu; ++k)
        sn_cpu_destroy(cpus[k]);
    sn_opencl_destroy(cl);
    sn_fpga_destroy(fpga);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_version_2),
        cmocka_unit_test(test_halo_regions_equal),
        cmocka_unit_test(test_skip_is_the_learned_constant),
        cmocka_unit_test(test_region_macs_and_buffers),
        cmocka_unit_test(test_gate_threshold_ends),
        cmocka_unit_test(test_level_controller),
        cmocka_unit_test(test_platforms_agree),
    };
    char err[512];
    sn_model_error e;
    int rc;
    sp_canvases(canvases, NCANVAS);
    if (!(image = sp_image(&image_size, err, sizeof err))) {
        printf("Bail out! the fixture does not pack: %s\n", err);
        return 1;
    }
    if (sn_model_load(&model, image, image_size, &e) != SN_OK) {
        printf("Bail out! the fixture does not load: %s\n", e.what);
        return 1;
    }
    rc = sn_test_run("arac_sparse", tests);
    free(image);
    return rc;
}
