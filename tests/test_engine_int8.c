/* The int8 engine: every calibrated SubNet and ARAC config of the image runs in int8 on the
 * reference kernels and on the CPU platform (every ISA this processor has) with logits
 * equal bit for bit on the golden inputs; int8 predictions agree with fp32 on most inputs;
 * and the int8 kernels of the CPU platform equal the reference int8 kernels on odd shapes.
 * Model: $SN_MODEL (default build/supernet.snm); inputs: $SN_GOLDEN. */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_quant.h"
#include "sn_rng.h"
#include "sn_safetensors.h"

static void *model_bytes, *golden_bytes;
static size_t model_size, golden_size;
static sn_model model;
static sn_safetensors golden;

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int setup(void **state)
{
    char err[256];
    (void)state;
    if (sn_read_file(env_or("SN_MODEL", "build/supernet.snm"), &model_bytes, &model_size) != 0 ||
        sn_model_load(&model, model_bytes, model_size, NULL) != SN_OK ||
        sn_read_file(env_or("SN_GOLDEN", "workloads/supernet/golden.safetensors"), &golden_bytes, &golden_size) != 0 ||
        sn_safetensors_parse(golden_bytes, golden_size, &golden, err, sizeof err) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_safetensors_free(&golden);
    free(model_bytes);
    free(golden_bytes);
    return 0;
}

static const char *const isas[] = {"avx512", "avx2", "portable"};

typedef struct planned {
    sn_plan plan;
    void *arena;
} planned;

static void prepare(planned *pl, const char *text, int precision)
{
    sn_config cfg;
    size_t need;
    const char *why = "";
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes_p(&model, &cfg, precision, &need), SN_OK);
    assert_int_equal(posix_memalign(&pl->arena, 64, need), 0);
    if (sn_plan_prepare_p(&pl->plan, &model, &cfg, precision, pl->arena, need, &why) != SN_OK)
        fail_msg("%s: %s", text, why);
}

static uint32_t argmax(const float *v, uint32_t n)
{
    uint32_t i, best = 0;
    for (i = 1; i < n; ++i)
        if (v[i] > v[best])
            best = i;
    return best;
}

static void test_cpu_int8_equals_reference(void **state)
{
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    uint32_t c, inputs, i, agree = 0, total = 0, configs = 0;
    size_t k;
    (void)state;
    assert_non_null(input);
    inputs = (uint32_t)input->dims[0];
    for (c = 0; c < model.config_count; ++c) {
        uint32_t kind;
        const char *text;
        planned q, f;
        sn_model_config(&model, c, &kind, &text);
        prepare(&q, text, SN_INT8);
        prepare(&f, text, SN_FP32);
        for (i = 0; i < inputs; ++i) {
            const uint8_t *canvas = input->data + (size_t)i * 64 * 64;
            float want[16], fp[16];
            assert_int_equal(sn_plan_invoke(&q.plan, NULL, canvas, want, NULL, NULL), SN_OK);
            assert_int_equal(sn_plan_invoke(&f.plan, NULL, canvas, fp, NULL, NULL), SN_OK);
            agree += argmax(want, model.arch.num_classes) == argmax(fp, model.arch.num_classes);
            ++total;
            for (k = 0; k < sizeof isas / sizeof *isas; ++k) {
                sn_cpu_options opt;
                sn_cpu *cpu;
                sn_platform p;
                float got[16];
                if (!sn_cpu_isa_available(isas[k]))
                    continue;
                sn_cpu_options_default(&opt);
                opt.isa = isas[k];
                assert_int_equal(sn_cpu_create(&model, &opt, &cpu, NULL), SN_OK);
                sn_cpu_platform(cpu, &p);
                assert_int_equal(sn_plan_invoke(&q.plan, &p, canvas, got, NULL, NULL), SN_OK);
                if (memcmp(want, got, sizeof(float) * model.arch.num_classes) != 0)
                    fail_msg("%s input %u: cpu-%s int8 logits differ from the reference int8", text, i, isas[k]);
                sn_cpu_destroy(cpu);
            }
        }
        free(q.arena);
        free(f.arena);
        ++configs;
    }
    printf("# %u configs x %u inputs: cpu int8 == reference int8 bit for bit on every ISA; "
           "int8 and fp32 predictions agree on %u of %u\n", configs, inputs, agree, total);
    assert_true(configs >= 30);
    assert_true(agree * 10 >= total * 9);
}

static void test_int8_kernels_match_reference(void **state)
{
    /* in_h, in_w, in_c, out_c, k, stride, depthwise, w_in_full, w_out_full */
    static const int32_t shapes[][9] = {
        {9, 7, 5, 13, 3, 2, 0, 8, 16},   {8, 8, 24, 40, 1, 1, 0, 24, 48}, {6, 11, 17, 33, 1, 1, 0, 20, 35},
        {12, 12, 1, 16, 3, 2, 0, 1, 16}, {5, 5, 7, 3, 5, 1, 0, 7, 3},    {10, 9, 37, 37, 3, 1, 1, 40, 0},
        {11, 11, 72, 72, 5, 2, 1, 96, 0}, {4, 4, 12, 12, 5, 1, 1, 16, 0}, {7, 3, 130, 130, 3, 2, 1, 130, 0},
    };
    sn_rng rng = sn_rng_derive(99, 0, 0);
    size_t s, i;
    int checked = 0;
    (void)state;
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        sn_cpu_options opt;
        sn_cpu *cpu;
        sn_platform plat;
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        sn_cpu_options_default(&opt);
        opt.isa = isas[i];
        opt.near_budget_bytes = 0; /* every call packs: the far path */
        opt.residency = SN_CPU_RESIDENT_EXPLICIT;
        assert_int_equal(sn_cpu_create(&model, &opt, &cpu, NULL), SN_OK);
        sn_cpu_platform(cpu, &plat);
        for (s = 0; s < sizeof shapes / sizeof *shapes; ++s) {
            const int32_t *d = shapes[s];
            int dw = d[6];
            sn_conv2d_params p;
            sn_quant_params q;
            size_t n_in, n_w, n_out, j;
            int8_t *in, *w, *want, *got;
            int32_t *bias, *mult, *shift;
            memset(&p, 0, sizeof p);
            p.in_h = d[0]; p.in_w = d[1]; p.in_c = d[2]; p.out_c = d[3];
            p.kernel_h = p.kernel_w = d[4];
            p.stride_h = p.stride_w = d[5];
            p.pad_top = p.pad_left = d[4] / 2;
            p.out_h = sn_conv2d_out_size(p.in_h, d[4], d[5], d[4] / 2, d[4] / 2);
            p.out_w = sn_conv2d_out_size(p.in_w, d[4], d[5], d[4] / 2, d[4] / 2);
            p.act_min = 0.0f;
            p.act_max = 0.0f;
            p.w_stride_kw = d[7];
            p.w_stride_kh = d[4] * d[7];
            p.w_stride_out = dw ? 0 : d[4] * d[4] * d[7];
            n_in = (size_t)p.in_h * p.in_w * p.in_c;
            n_w = dw ? (size_t)d[4] * d[4] * d[7] : (size_t)d[8] * d[4] * d[4] * d[7];
            n_out = (size_t)p.out_h * p.out_w * p.out_c;
            in = malloc(n_in); w = malloc(n_w); want = malloc(n_out); got = malloc(n_out);
            bias = malloc((size_t)p.out_c * 4); mult = malloc((size_t)p.out_c * 4); shift = malloc((size_t)p.out_c * 4);
            for (j = 0; j < n_in; ++j) in[j] = (int8_t)(sn_rng_next(&rng) >> 56);
            for (j = 0; j < n_w; ++j) w[j] = (int8_t)((int)sn_rng_below(&rng, 255) - 127);
            for (j = 0; j < (size_t)p.out_c; ++j) {
                /* multipliers of both signs and shifts of both directions */
                double real = (double)(sn_rng_below(&rng, 1000) + 1) * 1e-6 * (j % 5 == 0 ? -1.0 : 1.0) * (j % 7 == 0 ? 300.0 : 1.0);
                assert_int_equal(sn_quantize_multiplier(real, &mult[j], &shift[j]), 0);
                bias[j] = (int32_t)sn_rng_below(&rng, 200001) - 100000;
            }
            q.input_offset = (int32_t)sn_rng_below(&rng, 256) - 127;
            q.output_offset = (int32_t)sn_rng_below(&rng, 256) - 128;
            q.multiplier = mult;
            q.shift = shift;
            q.act_min = s % 2 ? -128 : -20;
            q.act_max = s % 3 ? 127 : 90;
            if (dw) {
                assert_int_equal(sn_depthwise_conv2d_ref_s8(&p, &q, in, w, bias, want), SN_OK);
                assert_int_equal(plat.ops->depthwise_conv2d_s8(plat.context, &p, &q, in, w, bias, got), SN_OK);
            } else {
                assert_int_equal(sn_conv2d_ref_s8(&p, &q, in, w, bias, want), SN_OK);
                assert_int_equal(plat.ops->conv2d_s8(plat.context, &p, &q, in, w, bias, got), SN_OK);
            }
            if (memcmp(want, got, n_out) != 0)
                fail_msg("%s int8 shape %zu differs from the reference", isas[i], s);
            free(in); free(w); free(want); free(got); free(bias); free(mult); free(shift);
            ++checked;
        }
        sn_cpu_destroy(cpu);
    }
    printf("# %d int8 kernel calls equal the reference bit for bit\n", checked);
    assert_true(checked >= 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_kernels_match_reference),
        cmocka_unit_test(test_cpu_int8_equals_reference),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("engine_int8", tests, setup, teardown);
}
