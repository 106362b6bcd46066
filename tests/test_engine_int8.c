/* The int8 engine: every calibrated SubNet and ARAC config of the image runs in int8 on the
 * reference kernels and on the CPU platform (every ISA this processor has) with logits
 * equal bit for bit on the golden inputs; int8 predictions agree with fp32 on most inputs
 * (the kernels alone against the reference: tests/test_kernel_parity.c). An int8 plan's arena
 * holds its activations as bytes: smaller than the fp32 plan's on every config (the logits
 * above come from plans in arenas of exactly that size).
 * Model: $SN_MODEL (default build/supernet.snm); inputs: $SN_GOLDEN, whose metadata may say
 * how many configs the image holds (expect.configs; CF-64's: at least 30). */
#include "sn_test.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
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

static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};

static uint32_t expected_configs(void)
{
    cJSON *meta = cJSON_Parse(sn_safetensors_metadata(&golden, "supernav_golden"));
    const cJSON *e = meta ? cJSON_GetObjectItemCaseSensitive(meta, "expect") : NULL;
    const cJSON *v = e ? cJSON_GetObjectItemCaseSensitive(e, "configs") : NULL;
    uint32_t n = cJSON_IsNumber(v) ? (uint32_t)v->valuedouble : 30u;
    cJSON_Delete(meta);
    return n;
}

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
    size_t k, bytes8 = 0, bytes32 = 0;
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
        if (q.plan.arena_bytes >= f.plan.arena_bytes)
            fail_msg("%s: int8 arena %zu bytes, not below fp32's %zu", text, q.plan.arena_bytes, f.plan.arena_bytes);
        bytes8 += q.plan.arena_bytes;
        bytes32 += f.plan.arena_bytes;
        for (i = 0; i < inputs; ++i) {
            const uint8_t *canvas = input->data + (size_t)i * model.arch.canvas * model.arch.canvas;
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
           "int8 and fp32 predictions agree on %u of %u; int8 arenas %.2f of fp32's in all\n", configs, inputs,
           agree, total, (double)bytes8 / (double)bytes32);
    assert_true(configs >= expected_configs());
    assert_true(agree * 10 >= total * 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_int8_equals_reference),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("engine_int8", tests, setup, teardown);
}
