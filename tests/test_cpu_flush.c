/* The CPU platform's far memory is cold (platforms/cpu/sn_cpu.h). sn_cpu_flush_lines really
 * evicts: a dependent chase through a buffer's lines in random order (no prefetcher can
 * guess it) is several times slower right after the flush than warm -- the minimum of
 * repeated timings, so that other load on the machine can only add noise to a pass, never
 * make one. sn_cpu_flush_far flushes exactly the lines of a plan's weights outside the
 * resident boxes: every line of them with nothing resident, none with the plan's SubGraph
 * resident, all but a leading box's and a depthwise crop's lines with those resident, for an
 * fp32 plan and for an int8 one (the store's int8 layout: dense words of the kernels' G
 * inputs, 4 on the VNNI builds and 2 elsewhere; depthwise taps as bytes, 64 to a line). The
 * whole binary is a TAP skip where the build has no cache-line flush
 * (sn_cpu_flush_method "none"). Model: $SN_MODEL (default build/supernet.snm). */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_rng.h"

static sn_model model;

#define CHASE_LINES 4096u /* 256 KiB: inside any L2 this runs on */
#define WORDS_PER_LINE 16u
#define REPS 15

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One lap of the chase: each line's first word is the next line's index. */
static int64_t chase_ns(const uint32_t *buf, uint32_t *sink)
{
    uint32_t i, at = 0;
    int64_t t0 = now_ns();
    for (i = 0; i < CHASE_LINES; ++i)
        at = *(const volatile uint32_t *)&buf[(size_t)at * WORDS_PER_LINE];
    *sink += at;
    return now_ns() - t0;
}

static void test_flush_evicts(void **state)
{
    uint32_t *buf, *order, i, sink = 0;
    sn_rng rng = sn_rng_derive(5, 0, 0);
    int64_t warm = INT64_MAX, cold = INT64_MAX;
    int r;
    (void)state;
    assert_int_equal(posix_memalign((void **)&buf, 64, (size_t)CHASE_LINES * 64u), 0);
    order = malloc(CHASE_LINES * sizeof *order);
    assert_non_null(order);
    /* one cycle through every line in a random order */
    for (i = 0; i < CHASE_LINES; ++i)
        order[i] = i;
    for (i = CHASE_LINES - 1; i > 1; --i) {
        uint32_t j = 1 + (uint32_t)(sn_rng_next(&rng) % i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    memset(buf, 0, (size_t)CHASE_LINES * 64u);
    for (i = 0; i < CHASE_LINES; ++i)
        buf[(size_t)order[i] * WORDS_PER_LINE] = order[(i + 1) % CHASE_LINES];
    chase_ns(buf, &sink);
    for (r = 0; r < REPS; ++r) {
        int64_t w = chase_ns(buf, &sink), c;
        sn_cpu_flush_lines(buf, (size_t)CHASE_LINES * 64u);
        c = chase_ns(buf, &sink);
        warm = w < warm ? w : warm;
        cold = c < cold ? c : cold;
    }
    printf("# chase of %u lines: warm %.1f ns/line, flushed %.1f ns/line (%.1fx), minimum of %d\n",
           CHASE_LINES, (double)warm / CHASE_LINES, (double)cold / CHASE_LINES,
           (double)cold / (double)(warm > 0 ? warm : 1), REPS);
    /* a flush that evicted nothing leaves the two alike */
    assert_true(cold > 2 * warm);
    assert_true(sink != 1u); /* the chase is used */
    free(order);
    free(buf);
}

/* Packed rows per tap of a dense view of IN_C inputs (fp32: one per input; int8: one per
 * word of G inputs) and lines per row of OUT_C channels (16 words, or 64 int8 depthwise taps). */
static size_t rows_for(int32_t in_c, int g) { return (size_t)((in_c + g - 1) / g); }
static size_t lines_for(int32_t out_c, int dw_s8) { return (size_t)(dw_s8 ? (out_c + 63) / 64 : (out_c + 15) / 16); }

/* Lines a plan's layers read: taps x packed rows (depthwise: 1) x lines per row. */
static size_t plan_lines(const sn_plan *plan, int s8, int g)
{
    size_t n = 0;
    uint32_t j;
    for (j = 0; j < plan->num_layers; ++j) {
        const sn_conv2d_params *p = &plan->layers[j].params;
        int dw = plan->layers[j].kind == SN_LAYER_DWCONV;
        n += (size_t)p->kernel_h * (size_t)p->kernel_w * (dw ? 1u : rows_for(p->in_c, s8 ? g : 1)) *
             lines_for(p->out_c, dw && s8);
    }
    return n;
}

static void flush_far_lines(int precision)
{
    const char *big = NULL;
    sn_config cfg;
    sn_plan *plan = malloc(sizeof *plan);
    void *arena;
    size_t need, moved, all;
    uint32_t i;
    uint8_t placed[2];
    const sn_layer *pw = NULL, *dw = NULL;
    sn_cpu_options o;
    sn_cpu *cpu;
    sn_weight_slice sl[2];
    int32_t oh, kd;
    int s8 = precision == SN_INT8, g;
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&model, i, &kind, &text);
        if (kind == 0)
            big = text;
    }
    assert_non_null(big);
    assert_non_null(plan);
    assert_int_equal(sn_config_parse(big, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes_p(&model, &cfg, precision, &need), SN_OK);
    assert_int_equal(posix_memalign(&arena, 64, need), 0);
    assert_int_equal(sn_plan_prepare_p(plan, &model, &cfg, precision, arena, need, NULL), SN_OK);
    for (i = 0; i < plan->num_layers; ++i) {
        const sn_layer *l = &plan->layers[i];
        if (l->kind == SN_LAYER_DWCONV && !dw && l->params.kernel_h >= 5)
            dw = l;
        if (l->kind != SN_LAYER_DWCONV && l->params.kernel_h == 1 && l->params.out_c >= 32 && !pw)
            pw = l;
    }
    assert_non_null(pw);
    assert_non_null(dw);
    sn_cpu_options_default(&o);
    o.residency = SN_CPU_RESIDENT_EXPLICIT;
    assert_int_equal(sn_cpu_create(&model, &o, &cpu, NULL), SN_OK);
    g = strstr(sn_cpu_isa(cpu), "vnni") ? 4 : 2; /* int8 dense inputs per word */
    all = plan_lines(plan, s8, g);
    printf("# %s %s (%s): %zu lines of packed weights (%zu KiB); the store %zu KiB\n", s8 ? "int8" : "fp32", big,
           sn_cpu_isa(cpu), all, all / 16, sn_cpu_store_bytes(cpu) / 1024);
    /* nothing resident: every line; the plan's SubGraph resident: none */
    assert_int_equal(sn_cpu_flush_far(cpu, plan), all);
    assert_int_equal(sn_cpu_make_resident(cpu, plan, NULL), SN_OK);
    assert_int_equal(sn_cpu_flush_far(cpu, plan), 0);
    /* a leading box of half the outputs (whole lines) and a centred depthwise crop: all but
     * their lines */
    oh = pw->params.out_c / 32 * 16;
    kd = dw->params.kernel_h - 2;
    sl[0] = (sn_weight_slice){s8 ? (const void *)pw->q8.weights : (const void *)pw->weights, 0, s8, oh,
                              pw->params.in_c, 1};
    sl[1] = (sn_weight_slice){s8 ? (const void *)dw->q8.weights : (const void *)dw->weights, 1, s8,
                              dw->params.out_c, 0, kd};
    assert_int_equal(sn_cpu_set_resident(cpu, sl, 2, placed, &moved), SN_OK);
    assert_true(placed[0] && placed[1]);
    assert_int_equal(moved, 0); /* both inside what was resident */
    assert_int_equal(sn_cpu_flush_far(cpu, plan),
                     all - rows_for(pw->params.in_c, s8 ? g : 1) * (size_t)(oh / 16) -
                         (size_t)kd * (size_t)kd * lines_for(dw->params.out_c, s8));
    sn_cpu_evict_all(cpu);
    assert_int_equal(sn_cpu_flush_far(cpu, plan), all);
    sn_cpu_destroy(cpu);
    free(arena);
    free(plan);
}

static void test_flush_far_lines(void **state)
{
    (void)state;
    flush_far_lines(SN_FP32);
}

static void test_flush_far_lines_int8(void **state)
{
    (void)state;
    flush_far_lines(SN_INT8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flush_evicts),
        cmocka_unit_test(test_flush_far_lines),
        cmocka_unit_test(test_flush_far_lines_int8),
    };
    const char *mp = getenv("SN_MODEL");
    void *image;
    size_t size;
    int rc;
    if (!strcmp(sn_cpu_flush_method(), "none"))
        return sn_test_skip_all("this build has no cache-line flush (sn_cpu_flush_method: none)");
    if (!mp || !*mp)
        mp = "build/supernet.snm";
    if (sn_read_file(mp, &image, &size) != 0 || sn_model_load(&model, image, size, NULL) != SN_OK)
        return sn_test_skip_all("no model image (make)");
    rc = sn_test_run("cpu_flush", tests);
    free(image);
    return rc;
}
