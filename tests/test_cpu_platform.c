/* The CPU platform (its kernels against the reference: tests/test_kernel_parity.c; its
 * residency contract, as every adapter's: tests/test_sut.c): the ISA cap (SN_CPU_MAX_ISA) and
 * an ISA it cannot name; its own residency counters (layers far, the near memory used within
 * its budget, evicting); partial-layer residency (a leading box of output channels, of input
 * channels, a depthwise kernel's centred crop serves its part of a wider layer, near bytes
 * exactly the overlap) and switches that move only the difference; ARAC micro-flows on
 * threads: the same logits bit for bit and the same near/far counts as one thread, fp32 and
 * int8, on real test canvases (data/canvas/cf64-test, whose gate picks a mix of tile levels).
 * Model: $SN_MODEL (default build/supernet.snm). */
#include "sn_test.h"
#include "sn_test_plan.h"
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"

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

static void run(sn_cpu *cpu, sn_plan *plan, const uint8_t *canvas, float *logits, sn_cpu_stats *st)
{
    sn_platform plat;
    sn_cpu_platform(cpu, &plat);
    sn_cpu_stats_reset(cpu);
    assert_int_equal(sn_plan_invoke(plan, &plat, canvas, logits, NULL, NULL), SN_OK);
    sn_cpu_stats_get(cpu, st);
}

/* The CPU platform's own residency counters, on the largest SubNet (the residency contract --
 * near and far bytes, budgets, eviction, on-use residency, logits wherever the weights come
 * from -- is tests/test_sut.c's, for every adapter): nothing resident, every layer counts as
 * far; a budget of half the SubGraph packs no more than it holds, and evicting frees it all. */
static void test_residency_counters(void **state)
{
    const char *small, *big;
    uint8_t canvas[64 * 64];
    float logits[16] = {0};
    size_t whole, resident;
    sn_cpu *cpu;
    sn_cpu_stats st;
    sn_test_plan A;
    (void)state;
    sn_test_subnet_ends(&model, &small, &big);
    sn_test_random_canvas(canvas, sizeof canvas, 7);
    A = sn_test_plan_for(&model, big, SN_FP32);

    cpu = make_cpu(NULL, 0, SN_CPU_RESIDENT_EXPLICIT);
    run(cpu, A.plan, canvas, logits, &st);
    assert_int_equal(st.layers_far, A.plan->num_layers);
    sn_cpu_destroy(cpu);

    cpu = make_cpu(NULL, SIZE_MAX, SN_CPU_RESIDENT_EXPLICIT);
    assert_int_equal(sn_cpu_make_resident(cpu, A.plan, &whole), SN_OK);
    sn_cpu_destroy(cpu);
    cpu = make_cpu(NULL, whole / 2, SN_CPU_RESIDENT_EXPLICIT);
    assert_int_equal(sn_cpu_make_resident(cpu, A.plan, &resident), SN_OK);
    assert_true(resident > 0 && resident < whole);
    assert_true(sn_cpu_near_used(cpu) <= sn_cpu_near_budget(cpu));
    sn_cpu_evict_all(cpu);
    assert_int_equal(sn_cpu_near_used(cpu), 0);
    sn_cpu_destroy(cpu);
    sn_test_plan_free(&A);
}

/* The widest pointwise layer (largest weight bytes, at least 32 outputs and 32 inputs) and a
 * depthwise layer with a kernel of at least 5 of PLAN. */
static void pick_layers(const sn_plan *plan, const sn_layer **pw, const sn_layer **dw)
{
    uint32_t j;
    *pw = *dw = NULL;
    for (j = 0; j < plan->num_layers; ++j) {
        const sn_layer *l = &plan->layers[j];
        const sn_conv2d_params *p = &l->params;
        if (l->kind == SN_LAYER_DWCONV) {
            if (!*dw && p->kernel_h >= 5)
                *dw = l;
        } else if (p->kernel_h == 1 && p->out_c >= 32 && p->in_c >= 32 &&
                   (!*pw || p->out_c * p->in_c > (*pw)->params.out_c * (*pw)->params.in_c)) {
            *pw = l;
        }
    }
    assert_non_null(*pw);
    assert_non_null(*dw);
}

/* The weight bytes of PLAN's layers as the model stores them (fp32: 4 per weight). */
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

static void test_partial_boxes(void **state)
{
    const char *big = NULL;
    uint8_t canvas[64 * 64];
    float ref[16] = {0}, got[16] = {0};
    uint32_t i;
    sn_rng seed = sn_rng_derive(11, 0, 0);
    const sn_layer *pw, *dw;
    int32_t O, I, oh, ih, C, kd;
    uint64_t half_o, half_i, crop, wb;
    size_t moved;
    uint8_t placed[3];
    sn_cpu *cpu;
    sn_cpu_stats st;
    sn_weight_slice sl[3];
    sn_test_plan A;
    (void)state;
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&model, i, &kind, &text);
        if (kind == 0)
            big = text;
    }
    for (i = 0; i < sizeof canvas; ++i)
        canvas[i] = (uint8_t)(sn_rng_next(&seed) >> 56);
    A = sn_test_plan_for(&model, big, SN_FP32);
    wb = weight_bytes(A.plan);
    pick_layers(A.plan, &pw, &dw);
    O = pw->params.out_c;
    I = pw->params.in_c;
    oh = O / 32 * 16; /* a multiple of 16: whole cache lines */
    ih = I / 2;
    C = dw->params.out_c;
    kd = dw->params.kernel_h - 2; /* a centred crop inside the layer's kernel */
    half_o = (uint64_t)oh * (uint64_t)I * 4u;
    half_i = (uint64_t)O * (uint64_t)ih * 4u;
    crop = (uint64_t)C * (uint64_t)kd * (uint64_t)kd * 4u;
    cpu = make_cpu(NULL, SIZE_MAX, SN_CPU_RESIDENT_EXPLICIT);
    run(cpu, A.plan, canvas, ref, &st);
    assert_int_equal(st.near_bytes, 0);

    /* the leading half of the output channels: that part near, the rest of the layer far */
    sl[0] = (sn_weight_slice){pw->weights, 0, 0, oh, I, 1};
    assert_int_equal(sn_cpu_set_resident(cpu, sl, 1, placed, &moved), SN_OK);
    assert_true(placed[0]);
    assert_int_equal(moved, half_o);
    assert_int_equal(sn_cpu_near_used(cpu), half_o);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, half_o);
    assert_int_equal(st.far_bytes, wb - half_o);
    assert_int_equal(st.layers_near, 0);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    /* the switch to all outputs, half the inputs moves only what the first box lacks */
    sl[0] = (sn_weight_slice){pw->weights, 0, 0, O, ih, 1};
    assert_int_equal(sn_cpu_set_resident(cpu, sl, 1, placed, &moved), SN_OK);
    assert_int_equal(moved, (uint64_t)(O - oh) * (uint64_t)ih * 4u);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, half_i);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    /* a depthwise kernel's centred crop (SL's view may be any crop of the tensor) */
    sl[1] = (sn_weight_slice){dw->weights, 1, 0, C, 0, kd};
    assert_int_equal(sn_cpu_set_resident(cpu, sl, 2, placed, &moved), SN_OK);
    assert_true(placed[0] && placed[1]);
    assert_int_equal(moved, crop); /* the first box stays: nothing of it moves again */
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, half_i + crop);
    assert_int_equal(st.near_bytes + st.far_bytes, wb);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    /* a budget that holds the first slice only: the second is not placed */
    sn_cpu_destroy(cpu);
    cpu = make_cpu(NULL, (size_t)half_i, SN_CPU_RESIDENT_EXPLICIT);
    assert_int_equal(sn_cpu_set_resident(cpu, sl, 2, placed, &moved), SN_OK);
    assert_true(placed[0] && !placed[1]);
    assert_int_equal(moved, half_i);
    /* a slice of weights outside the model image is never placed; nothing: nothing near */
    sl[2] = (sn_weight_slice){canvas, 0, 0, 1, 1, 1};
    assert_int_equal(sn_cpu_set_resident(cpu, &sl[2], 1, placed, &moved), SN_OK);
    assert_false(placed[0]);
    assert_int_equal(moved, 0);
    assert_int_equal(sn_cpu_near_used(cpu), 0);
    run(cpu, A.plan, canvas, got, &st);
    assert_int_equal(st.near_bytes, 0);
    assert_memory_equal(ref, got, model.arch.num_classes * sizeof(float));
    sn_cpu_destroy(cpu);
    sn_test_plan_free(&A);
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
    /* an ISA this build cannot name is refused with a reason */
    sn_cpu_options_default(&opt);
    opt.isa = "neon-sve";
    why = NULL;
    assert_int_not_equal(sn_cpu_create(&model, &opt, &cpu, &why), SN_OK);
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_cap),
        cmocka_unit_test(test_residency_counters),
        cmocka_unit_test(test_partial_boxes),
        cmocka_unit_test(test_micro_flow_threads),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("cpu_platform", tests, setup, teardown);
}
