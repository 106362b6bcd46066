/* The CPU platform: its SIMD kernels against the reference on odd shapes (every ISA this
 * processor has: channel tails, strides, padding, sliced and cropped weight views), and
 * SubGraph residency: near/far byte accounting, explicit residency of one plan's SubGraph,
 * a budget that holds only part of it, and results that do not depend on where weights
 * came from; ARAC micro-flows on threads: the same logits bit for bit and the same near/far
 * counts as one thread, fp32 and int8, on real test canvases (data/canvas/cf64-test, whose
 * gate picks a mix of tile levels). Model: $SN_MODEL (default build/supernet.snm). */
#include "sn_test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_rng.h"

static void *image;
static size_t image_size;
static sn_model model;

static int setup(void **state)
{
    const char *mp = getenv("SN_MODEL");
    (void)state;
    if (!mp || !*mp)
        mp = "build/supernet.snm";
    if (sn_read_file(mp, &image, &image_size) != 0 || sn_model_load(&model, image, image_size, NULL) != SN_OK) {
        fprintf(stderr, "# cannot load %s\n", mp);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(image);
    return 0;
}

static const char *const isas[] = {"avx512", "avx2", "portable"};

static sn_cpu *make_cpu(const char *isa, size_t budget, int residency)
{
    sn_cpu_options opt;
    sn_cpu *cpu = NULL;
    sn_cpu_options_default(&opt);
    opt.isa = isa;
    opt.near_budget_bytes = budget;
    opt.residency = residency;
    assert_int_equal(sn_cpu_create(&model, &opt, &cpu, NULL), SN_OK);
    return cpu;
}

static float frand(sn_rng *s) { return (float)((double)(sn_rng_next(s) >> 11) / 9007199254740992.0) * 2.0f - 1.0f; }

static void test_kernels_match_reference(void **state)
{
    /* in_h, in_w, in_c, out_c, k, stride, depthwise, w_in_full (slice), w_out_full */
    static const int32_t shapes[][9] = {
        {9, 7, 5, 13, 3, 2, 0, 8, 16},   {8, 8, 24, 40, 1, 1, 0, 24, 48}, {6, 11, 17, 33, 1, 1, 0, 20, 35},
        {12, 12, 1, 16, 3, 2, 0, 1, 16}, {5, 5, 7, 3, 5, 1, 0, 7, 3},    {10, 9, 37, 37, 3, 1, 1, 40, 0},
        {11, 11, 72, 72, 5, 2, 1, 96, 0}, {4, 4, 12, 12, 5, 1, 1, 16, 0}, {7, 3, 130, 130, 3, 2, 1, 130, 0},
        /* partial micro-tiles of every width (9, 7, 8, 5, 11, 25 pixels; rows of 3, 2, 1) */
        {3, 3, 20, 24, 1, 1, 0, 20, 24}, {1, 7, 8, 17, 1, 1, 0, 8, 17},  {2, 4, 9, 33, 1, 1, 0, 9, 33},
        {1, 5, 6, 40, 1, 1, 0, 6, 40},   {1, 11, 10, 16, 1, 1, 0, 10, 16}, {5, 5, 16, 40, 1, 1, 0, 16, 40},
        {6, 6, 2, 8, 3, 2, 0, 2, 8},     {4, 2, 3, 16, 3, 1, 0, 3, 16},   {1, 1, 4, 20, 3, 1, 0, 4, 20},
        /* one input channel (the stem's kernel: weights in registers, 4 interior pixels at a
         * time, borders tap by tap): 3x3 and 5x5, strides 1 and 2, fewer than 16 outputs,
         * a slice of wider tensors, rows too narrow for a 4-pixel run */
        {17, 19, 1, 16, 3, 2, 0, 1, 16}, {13, 10, 1, 12, 5, 1, 0, 1, 16}, {9, 9, 1, 7, 3, 1, 0, 1, 7},
        {11, 14, 1, 16, 3, 2, 0, 2, 24}, {8, 3, 1, 16, 5, 2, 0, 1, 16},  {2, 2, 1, 5, 5, 1, 0, 1, 5},
        /* ... with outputs that fit the narrower ISAs' one vector (4 and 8 lanes) */
        {11, 13, 1, 3, 3, 2, 0, 1, 3},  {10, 12, 1, 4, 5, 1, 0, 1, 4},   {9, 12, 1, 8, 5, 1, 0, 1, 8},
        /* depthwise, four pixels at a time with the borders (zero columns, skipped rows): k3
         * and k5, strides 1 and 2, half-vector and scalar channel tails, short maps */
        {9, 12, 45, 45, 3, 2, 1, 48, 0}, {8, 8, 24, 24, 5, 1, 1, 24, 0}, {3, 9, 16, 16, 5, 1, 1, 16, 0},
        {6, 13, 40, 40, 5, 2, 1, 40, 0}, {2, 5, 33, 33, 3, 1, 1, 33, 0}, {4, 4, 96, 96, 5, 1, 1, 96, 0},
    };
    sn_rng seed = sn_rng_derive(42, 0, 0);
    size_t s, i;
    int checked = 0;
    (void)state;
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        sn_cpu *cpu;
        sn_platform plat;
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        cpu = make_cpu(isas[i], 0, SN_CPU_RESIDENT_EXPLICIT); /* every call packs (far path) */
        sn_cpu_platform(cpu, &plat);
        for (s = 0; s < sizeof shapes / sizeof *shapes; ++s) {
            const int32_t *d = shapes[s];
            int dw = d[6];
            sn_conv2d_params p;
            size_t n_in, n_w, n_out, j;
            float *in, *w, *scale, *bias, *want, *got;
            double max_ref = 0.0, max_diff = 0.0;
            memset(&p, 0, sizeof p);
            p.in_h = d[0]; p.in_w = d[1]; p.in_c = d[2]; p.out_c = d[3];
            p.kernel_h = p.kernel_w = d[4];
            p.stride_h = p.stride_w = d[5];
            p.pad_top = p.pad_left = d[4] / 2;
            p.out_h = sn_conv2d_out_size(p.in_h, d[4], d[5], d[4] / 2, d[4] / 2);
            p.out_w = sn_conv2d_out_size(p.in_w, d[4], d[5], d[4] / 2, d[4] / 2);
            p.act_min = s % 2 ? 0.0f : -INFINITY;
            p.act_max = s % 3 ? 6.0f : INFINITY;
            p.w_stride_kw = d[7];                       /* a leading slice of wider tensors */
            p.w_stride_kh = d[4] * d[7];
            p.w_stride_out = dw ? 0 : d[4] * d[4] * d[7];
            assert_int_equal(sn_conv2d_check(&p, dw), SN_OK);
            n_in = (size_t)p.in_h * p.in_w * p.in_c;
            n_w = dw ? (size_t)d[4] * d[4] * d[7] : (size_t)d[8] * d[4] * d[4] * d[7];
            n_out = (size_t)p.out_h * p.out_w * p.out_c;
            in = malloc(n_in * 4); w = malloc(n_w * 4); scale = malloc((size_t)p.out_c * 4);
            bias = malloc((size_t)p.out_c * 4); want = malloc(n_out * 4); got = malloc(n_out * 4);
            for (j = 0; j < n_in; ++j) in[j] = frand(&seed) * 3.0f;
            for (j = 0; j < n_w; ++j) w[j] = frand(&seed);
            for (j = 0; j < (size_t)p.out_c; ++j) { scale[j] = 1.0f + frand(&seed) * 0.5f; bias[j] = frand(&seed); }
            if (dw) {
                assert_int_equal(sn_depthwise_conv2d_ref_f32(&p, in, w, scale, bias, want), SN_OK);
                assert_int_equal(plat.ops->depthwise_conv2d_f32(plat.context, &p, in, w, scale, bias, got), SN_OK);
            } else {
                assert_int_equal(sn_conv2d_ref_f32(&p, in, w, scale, bias, want), SN_OK);
                assert_int_equal(plat.ops->conv2d_f32(plat.context, &p, in, w, scale, bias, got), SN_OK);
            }
            for (j = 0; j < n_out; ++j) {
                if (fabs((double)want[j]) > max_ref) max_ref = fabs((double)want[j]);
                if (fabs((double)want[j] - (double)got[j]) > max_diff) max_diff = fabs((double)want[j] - (double)got[j]);
            }
            if (max_diff > 1e-5 * (max_ref > 1.0 ? max_ref : 1.0))
                fail_msg("%s shape %zu: max diff %.3g (max %.3g)", isas[i], s, max_diff, max_ref);
            free(in); free(w); free(scale); free(bias); free(want); free(got);
            ++checked;
        }
        sn_cpu_destroy(cpu);
    }
    printf("# %d kernel calls matched the reference within 1e-5 relative\n", checked);
    assert_true(checked >= 9);
}

typedef struct planned {
    sn_plan *plan;
    void *arena;
} planned;

static planned plan_for(const char *text)
{
    planned pl;
    sn_config cfg;
    size_t need;
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes(&model, &cfg, &need), SN_OK);
    pl.plan = malloc(sizeof *pl.plan);
    assert_int_equal(posix_memalign(&pl.arena, 64, need), 0);
    assert_int_equal(sn_plan_prepare(pl.plan, &model, &cfg, pl.arena, need, NULL), SN_OK);
    return pl;
}

static void plan_free(planned *pl)
{
    free(pl->plan);
    free(pl->arena);
}

static uint64_t weight_bytes(const sn_plan *plan)
{
    uint64_t sum = 0;
    uint32_t i;
    for (i = 0; i < plan->num_layers; ++i) {
        const sn_conv2d_params *p = &plan->layers[i].params;
        sum += (uint64_t)p->kernel_h * p->kernel_w * p->out_c *
               (plan->layers[i].kind == SN_LAYER_DWCONV ? 1u : (uint64_t)p->in_c) * 4u;
    }
    return sum;
}

static void run(sn_cpu *cpu, sn_plan *plan, const uint8_t *canvas, float *logits, sn_cpu_stats *st)
{
    sn_platform plat;
    sn_cpu_platform(cpu, &plat);
    sn_cpu_stats_reset(cpu);
    assert_int_equal(sn_plan_invoke(plan, &plat, canvas, logits, NULL, NULL), SN_OK);
    sn_cpu_stats_get(cpu, st);
}

static void test_residency(void **state)
{
    const char *big = NULL, *small = NULL;
    uint8_t canvas[64 * 64];
    float ref[16] = {0}, got[16] = {0};
    uint32_t i;
    sn_rng seed = sn_rng_derive(7, 0, 0);
    uint64_t wb;
    size_t resident;
    sn_cpu *cpu;
    sn_cpu_stats st;
    planned A, B;
    (void)state;
    /* the largest and the smallest SubNet of the table */
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&model, i, &kind, &text);
        if (kind != 0)
            continue;
        if (!small)
            small = text;
        big = text;
    }
    assert_non_null(big);
    for (i = 0; i < sizeof canvas; ++i)
        canvas[i] = (uint8_t)(sn_rng_next(&seed) >> 56);
    A = plan_for(big);
    B = plan_for(small);
    wb = weight_bytes(A.plan);

    /* nothing resident: every weight byte comes from far memory */
    cpu = make_cpu(NULL, 0, SN_CPU_RESIDENT_EXPLICIT);
    run(cpu, A.plan, canvas, ref, &st);
    assert_int_equal(st.near_bytes, 0);
    assert_int_equal(st.far_bytes, wb);
    assert_int_equal(st.layers_far, A.plan->num_layers);
    sn_cpu_destroy(cpu);

    /* the largest SubNet's SubGraph made resident: all near, same logits bit for bit */
    cpu = make_cpu(NULL, SIZE_MAX, SN_CPU_RESIDENT_EXPLICIT);
    assert_int_equal(sn_cpu_make_resident(cpu, A.plan, &resident), SN_OK);
    assert_int_equal(resident, wb);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.far_bytes, 0);
    assert_int_equal(st.near_bytes, wb);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    /* a smaller SubNet shares leading slices of the same tensors: part of it hits */
    run(cpu, B.plan, canvas, got, &st);
    printf("# %s resident (%zu bytes); %s then reads %llu bytes near, %llu far\n", big, resident,
           small, (unsigned long long)st.near_bytes, (unsigned long long)st.far_bytes);
    assert_true(st.near_bytes > 0);
    assert_int_equal(st.near_bytes + st.far_bytes, weight_bytes(B.plan));
    sn_cpu_destroy(cpu);

    /* a budget smaller than the SubGraph: some layers resident, the rest far */
    cpu = make_cpu(NULL, (size_t)(wb / 2), SN_CPU_RESIDENT_EXPLICIT);
    assert_int_equal(sn_cpu_make_resident(cpu, A.plan, &resident), SN_OK);
    assert_true(resident > 0 && resident < wb);
    assert_true(sn_cpu_near_used(cpu) <= sn_cpu_near_budget(cpu));
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, resident);
    assert_int_equal(st.far_bytes, wb - resident);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    sn_cpu_evict_all(cpu);
    assert_int_equal(sn_cpu_near_used(cpu), 0);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, 0);
    sn_cpu_destroy(cpu);

    /* on-use (the default): the first inference packs whole tensors, later ones are near;
     * a second SubNet then finds every dense tensor it slices already resident */
    cpu = make_cpu(NULL, SIZE_MAX, SN_CPU_RESIDENT_ON_USE);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.far_bytes, wb);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.far_bytes, 0);
    sn_cpu_destroy(cpu);

    /* an ISA this build cannot name is refused with a reason */
    {
        sn_cpu_options opt;
        const char *why = NULL;
        sn_cpu_options_default(&opt);
        opt.isa = "neon-sve";
        assert_int_not_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_OK);
        assert_non_null(why);
    }
    plan_free(&A);
    plan_free(&B);
}

/* Every ARAC config of the table, fp32 and int8, on 8 test canvases: a 3-thread platform
 * (on-use residency, a budget that holds part of the model) gives the one-thread
 * platform's logits bit for bit and the same near/far weight bytes, canvas by canvas. */
static void test_micro_flow_threads(void **state)
{
    sn_idx imgs;
    uint32_t i, j, configs = 0, mixed = 0;
    int prec;
    (void)state;
    if (sn_idx_read("data/canvas/cf64-test-images-idx3-ubyte", &imgs) != SN_IDX_OK)
        fail_msg("cannot read data/canvas/cf64-test-images-idx3-ubyte (make datasets)");
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&model, i, &kind, &text);
        if (kind != 1)
            continue;
        for (prec = SN_FP32; prec <= SN_INT8; ++prec) {
            sn_config cfg;
            sn_plan *plan = malloc(sizeof *plan);
            void *arena;
            size_t need;
            sn_cpu *one, *three;
            sn_cpu_options opt;
            sn_platform p1, p3;
            assert_non_null(plan);
            assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
            assert_int_equal(sn_plan_arena_bytes_p(&model, &cfg, prec, &need), SN_OK);
            assert_int_equal(posix_memalign(&arena, 64, need), 0);
            assert_int_equal(sn_plan_prepare_p(plan, &model, &cfg, prec, arena, need, NULL), SN_OK);
            sn_cpu_options_default(&opt);
            opt.near_budget_bytes = 256 * 1024;
            assert_int_equal(sn_cpu_create(&model, &opt, &one, NULL), SN_OK);
            opt.threads = 3;
            assert_int_equal(sn_cpu_create(&model, &opt, &three, NULL), SN_OK);
            assert_int_equal(sn_cpu_threads(three), 3);
            sn_cpu_platform(one, &p1);
            sn_cpu_platform(three, &p3);
            assert_non_null(p3.ops->arac_micro_flows);
            for (j = 0; j < 8; ++j) {
                const uint8_t *canvas = imgs.data + (size_t)j * 64 * 64;
                float a[16] = {0}, b[16] = {0};
                sn_cpu_stats s1, s3;
                uint32_t t, lv1 = 0;
                sn_cpu_stats_reset(one);
                sn_cpu_stats_reset(three);
                assert_int_equal(sn_plan_invoke(plan, &p1, canvas, a, NULL, NULL), SN_OK);
                for (t = 0; t < plan->arac.grid * plan->arac.grid; ++t)
                    lv1 += plan->arac.tile_level[t] != 0;
                assert_int_equal(sn_plan_invoke(plan, &p3, canvas, b, NULL, NULL), SN_OK);
                sn_cpu_stats_get(one, &s1);
                sn_cpu_stats_get(three, &s3);
                if (memcmp(a, b, model.arch.num_classes * sizeof(float)) != 0)
                    fail_msg("%s %s canvas %u: 3 threads differ from 1", text, prec == SN_INT8 ? "int8" : "fp32", j);
                assert_int_equal(s1.near_bytes, s3.near_bytes);
                assert_int_equal(s1.far_bytes, s3.far_bytes);
                assert_int_equal(s1.layers_near, s3.layers_near);
                mixed += lv1 > 0 && lv1 < plan->arac.grid * plan->arac.grid;
            }
            sn_cpu_destroy(one);
            sn_cpu_destroy(three);
            free(arena);
            free(plan);
            ++configs;
        }
    }
    sn_idx_free(&imgs);
    printf("# %u ARAC plans (fp32 and int8) x 8 canvases: 3 threads == 1 thread bit for bit, same "
           "near/far bytes (%u invokes with mixed tile levels)\n", configs, mixed);
    assert_true(configs >= 2);
    assert_true(mixed > 0);
}

/* The platform's canvas resize and residual add give the engine's own bits, every ISA; a
 * side it does not take is handed back to the engine. */
static void test_resize_and_add_bit_exact(void **state)
{
    static const uint32_t sizes[][2] = {{64, 40}, {64, 48}, {64, 56}, {64, 64}, {64, 17}, {37, 64},
                                        {100, 33}, {5, 3}, {1, 1}, {64, 1}};
    static uint8_t canvas[300 * 300];
    static float want[256 * 256], got[256 * 256], sum[1000], addend[1000];
    sn_rng seed = sn_rng_derive(7, 1, 0);
    size_t i, s, j;
    int checked = 0;
    (void)state;
    for (j = 0; j < sizeof canvas; ++j)
        canvas[j] = (uint8_t)(sn_rng_next(&seed) >> 56);
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        sn_cpu *cpu;
        sn_platform plat;
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        cpu = make_cpu(isas[i], 0, SN_CPU_RESIDENT_EXPLICIT);
        sn_cpu_platform(cpu, &plat);
        assert_non_null(plat.ops->resize_canvas_f32);
        for (s = 0; s < sizeof sizes / sizeof *sizes; ++s) {
            const uint32_t src = sizes[s][0], dst = sizes[s][1];
            memset(got, 0xff, sizeof got);
            sn_resize_canvas_f32(canvas, src, want, dst);
            assert_int_equal(plat.ops->resize_canvas_f32(plat.context, canvas, src, got, dst), SN_OK);
            if (memcmp(want, got, (size_t)dst * dst * sizeof(float)) != 0)
                fail_msg("%s: resize %u -> %u differs from the engine's", isas[i], (unsigned)src, (unsigned)dst);
            assert_true(isnan(got[dst * dst])); /* nothing written past the output */
            ++checked;
        }
        assert_int_not_equal(plat.ops->resize_canvas_f32(plat.context, canvas, 300, got, 40), SN_OK);
        for (j = 0; j < 1000; ++j) {
            want[j] = sum[j] = frand(&seed) * 7.0f;
            addend[j] = frand(&seed);
            want[j] += addend[j];
        }
        plat.ops->add_f32(plat.context, sum, addend, 997);
        assert_memory_equal(want, sum, 997 * sizeof(float));
        assert_true(sum[997] != want[997]);
        sn_cpu_destroy(cpu);
    }
    print_message("# %d resizes bit-identical with the engine's; residual adds too\n", checked);
}

/* SN_CPU_MAX_ISA caps the ISAs this process may use (make test CPU_ISA=avx2 runs the
 * whole suite so): a capped ISA is unavailable and refused by name, auto picks the widest
 * left, and a value that names no ISA is a clear error. The caller's setting is restored. */
static void test_isa_cap(void **state)
{
    const char *before = getenv("SN_CPU_MAX_ISA");
    char saved[32] = "";
    sn_cpu_options opt;
    sn_cpu *cpu = NULL;
    const char *why = NULL;
    (void)state;
    if (before)
        snprintf(saved, sizeof saved, "%s", before);
    assert_int_equal(setenv("SN_CPU_MAX_ISA", "portable", 1), 0);
    assert_false(sn_cpu_isa_available("avx512"));
    assert_false(sn_cpu_isa_available("avx2"));
    assert_true(sn_cpu_isa_available("portable"));
    sn_cpu_options_default(&opt);
    assert_int_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_OK);
    assert_string_equal(sn_cpu_isa(cpu), "portable");
    sn_cpu_destroy(cpu);
    cpu = NULL;
    opt.isa = "avx2";
    assert_int_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_ERR_UNSUPPORTED);
    assert_null(cpu);
    assert_int_equal(setenv("SN_CPU_MAX_ISA", "avx2", 1), 0);
    assert_false(sn_cpu_isa_available("avx512"));
    opt.isa = NULL;
    assert_int_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_OK);
    /* the widest this CPU has, at most avx2 */
    assert_string_equal(sn_cpu_isa(cpu), sn_cpu_isa_available("avx2") ? "avx2" : "portable");
    sn_cpu_destroy(cpu);
    cpu = NULL;
    assert_int_equal(setenv("SN_CPU_MAX_ISA", "sse9", 1), 0);
    why = NULL;
    assert_int_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(why);
    assert_non_null(strstr(why, "SN_CPU_MAX_ISA"));
    if (before)
        assert_int_equal(setenv("SN_CPU_MAX_ISA", saved, 1), 0);
    else
        assert_int_equal(unsetenv("SN_CPU_MAX_ISA"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_cap),
        cmocka_unit_test(test_kernels_match_reference),
        cmocka_unit_test(test_residency),
        cmocka_unit_test(test_micro_flow_threads),
        cmocka_unit_test(test_resize_and_add_bit_exact),
    };
    size_t i;
    for (i = 0; i < sizeof isas / sizeof *isas; ++i)
        if (!sn_cpu_isa_available(isas[i]))
            printf("# ISA %s: not available here (%s): its kernels are not tested in this run\n",
                   isas[i], getenv("SN_CPU_MAX_ISA") ? "capped by SN_CPU_MAX_ISA" : "this CPU lacks it");
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("cpu_platform", tests, setup, teardown);
}
