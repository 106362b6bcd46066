/* The OpenCL platform (on whatever device the ICD loader offers: PoCL's CPU device here and in
 * CI; $SUPERNAV_OPENCL_DEVICE picks another; its kernels against the reference on odd shapes:
 * tests/test_kernel_parity.c): every golden SubNet
 * and ARAC config in fp32 within 1e-5 relative of the reference engine and within 1e-4 of
 * PyTorch, with the gate's tile decisions; ARAC micro-flows issued as independent work equal
 * the engine's own tile loop bit for bit (out-of-order queue and several in-order queues);
 * int8 logits bit for bit equal to the reference int8 for every config of the model;
 * its own residency counters and the profiling-event times (the residency contract, as every
 * adapter's: tests/test_sut.c); device choice and its errors.
 * With no OpenCL device at all the binary prints a TAP skip plan.
 * Files: $SN_MODEL (default build/supernet.snm), $SN_GOLDEN. */
#include "sn_test.h"
#include "sn_test_plan.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_opencl.h"
#include "sn_safetensors.h"

static void *model_bytes, *golden_bytes;
static size_t model_size, golden_size;
static sn_model model;
static sn_safetensors golden;
static cJSON *meta;
static sn_opencl *shared;          /* on-use residency, default queues */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static sn_opencl *make_cl(size_t budget, int residency, int flow_queues)
{
    sn_opencl_options opt;
    sn_opencl *cl = NULL;
    char cwhy[512] = "";
    sn_opencl_options_default(&opt);
    opt.near_budget_bytes = budget;
    opt.residency = residency;
    opt.flow_queues = flow_queues;
    if (sn_opencl_create(&model, &opt, &cl, cwhy, sizeof cwhy) != SN_OK)
        fail_msg("sn_opencl_create: %s", cwhy);
    return cl;
}

/* |got - want| <= rel * max|want| over the tensor (the golden tests' measure) */
static double rel_error(const float *got, const float *want, size_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        if (fabs((double)want[i]) > max_ref)
            max_ref = fabs((double)want[i]);
        if (fabs((double)got[i] - (double)want[i]) > max_diff)
            max_diff = fabs((double)got[i] - (double)want[i]);
    }
    return max_diff / (max_ref > 1e-6 ? max_ref : 1e-6);
}

/* ---- golden vectors -------------------------------------------------------------------- */
static void check_golden(const char *want_kind, int at_least)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(meta, "configs"), *c;
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    int inputs = (int)cJSON_GetObjectItemCaseSensitive(meta, "inputs")->valuedouble, count = 0;
    uint32_t nc = model.arch.num_classes;
    sn_platform plat;
    double worst_ref = 0.0, worst_torch = 0.0;
    assert_non_null(input);
    sn_opencl_platform(shared, &plat);
    cJSON_ArrayForEach(c, configs) {
        const char *kind = cJSON_GetObjectItemCaseSensitive(c, "kind")->valuestring;
        const char *text = cJSON_GetObjectItemCaseSensitive(c, "config")->valuestring;
        int gid = (int)cJSON_GetObjectItemCaseSensitive(c, "id")->valuedouble, i;
        sn_test_plan pl;
        char key[64];
        const sn_st_tensor *logits;
        if (strcmp(kind, want_kind) != 0)
            continue;
        ++count;
        pl = sn_test_plan_for(&model, text, SN_FP32);
        snprintf(key, sizeof key, "g%d.logits", gid);
        logits = sn_safetensors_find(&golden, key);
        assert_non_null(logits);
        for (i = 0; i < inputs; ++i) {
            const uint8_t *canvas = input->data + (size_t)i * 64 * 64;
            float ref[16], got[16], torch[16];
            uint8_t levels[SN_PLAN_MAX_TILES];
            double r;
            assert_int_equal(sn_plan_invoke(pl.plan, NULL, canvas, ref, NULL, NULL), SN_OK);
            memcpy(levels, pl.plan->arac.tile_level, sizeof levels);
            assert_int_equal(sn_plan_invoke(pl.plan, &plat, canvas, got, NULL, NULL), SN_OK);
            if (pl.plan->is_arac)
                assert_memory_equal(levels, pl.plan->arac.tile_level, pl.plan->arac.grid * pl.plan->arac.grid);
            memcpy(torch, logits->data + (size_t)i * nc * 4, nc * 4);
            r = rel_error(got, ref, nc);
            if (r > worst_ref)
                worst_ref = r;
            if (r > 1e-5)
                fail_msg("%s input %d: relative error %.3g > 1e-5 against the reference engine", text, i, r);
            r = rel_error(got, torch, nc);
            if (r > worst_torch)
                worst_torch = r;
            if (r > 1e-4)
                fail_msg("%s input %d: relative error %.3g > 1e-4 against PyTorch", text, i, r);
        }
        sn_test_plan_free(&pl);
    }
    printf("# %d golden %s configs x %d inputs on %s: worst relative error %.2g against the "
           "reference engine, %.2g against PyTorch\n", count, want_kind, inputs,
           sn_opencl_device_name(shared), worst_ref, worst_torch);
    assert_true(count >= at_least);
}

static void test_golden_subnets(void **state)
{
    (void)state;
    check_golden("subnet", 6);
}

static void test_golden_arac(void **state)
{
    (void)state;
    check_golden("arac", 3);
}

/* ---- micro-flows as independent work equal the engine's tile loop ----------------------- */
typedef struct stitched_copy {
    float *data;
    size_t n;
} stitched_copy;

static void keep_stitched(void *user, const char *name, const float *data, uint32_t h, uint32_t w,
                          uint32_t c)
{
    stitched_copy *sc = user;
    if (strcmp(name, "stitched") != 0)
        return;
    sc->n = (size_t)h * w * c;
    sc->data = realloc(sc->data, sc->n * sizeof(float));
    memcpy(sc->data, data, sc->n * sizeof(float));
}

static void test_micro_flows_equal_tile_loop(void **state)
{
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    sn_opencl *inorder = make_cl(SIZE_MAX, SN_OPENCL_RESIDENT_ON_USE, 3);
    sn_platform flows, queues, loop;
    sn_platform_ops loop_ops;
    sn_opencl_stats st;
    uint32_t i, tested = 0, k;
    (void)state;
    sn_opencl_platform(shared, &flows);
    sn_opencl_platform(inorder, &queues);
    loop = flows; /* the same kernels, tiles one by one through the slots */
    loop_ops = *flows.ops;
    loop_ops.arac_micro_flows = NULL;
    loop.ops = &loop_ops;
    sn_opencl_stats_reset(shared);
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        int prec;
        sn_model_config(&model, i, &kind, &text);
        if (kind != 1)
            continue;
        for (prec = 0; prec < 2; ++prec) {
            sn_test_plan pl = sn_test_plan_for(&model, text, prec);
            sn_plan *plan = pl.plan;
            size_t bytes = (size_t)plan->arac.feature_side * plan->arac.feature_side * plan->arac.feature_c *
                           (prec == SN_INT8 ? 1u : 4u);
            void *a = malloc(bytes), *b = malloc(bytes);
            for (k = 0; k < 2; ++k) {
                const uint8_t *canvas = input->data + (size_t)k * 64 * 64;
                float la[16], lb[16], lc[16];
                /* levels of both kinds: the gate's choice, then every tile critical */
                plan->arac.force_level = k == 0 ? -1 : 0;
                assert_int_equal(sn_plan_invoke(plan, &loop, canvas, la, NULL, NULL), SN_OK);
                memcpy(a, plan->buffers[plan->arac.stitched_buffer], bytes);
                assert_int_equal(sn_plan_invoke(plan, &flows, canvas, lb, NULL, NULL), SN_OK);
                memcpy(b, plan->buffers[plan->arac.stitched_buffer], bytes);
                if (memcmp(a, b, bytes) != 0 || memcmp(la, lb, sizeof(float) * model.arch.num_classes) != 0)
                    fail_msg("%s (%s): micro-flows on the out-of-order queue differ from the tile loop", text,
                             prec ? "int8" : "fp32");
                assert_int_equal(sn_plan_invoke(plan, &queues, canvas, lc, NULL, NULL), SN_OK);
                if (memcmp(a, plan->buffers[plan->arac.stitched_buffer], bytes) != 0 ||
                    memcmp(la, lc, sizeof(float) * model.arch.num_classes) != 0)
                    fail_msg("%s (%s): micro-flows on in-order queues differ from the tile loop", text,
                             prec ? "int8" : "fp32");
            }
            free(a);
            free(b);
            sn_test_plan_free(&pl);
            ++tested;
        }
    }
    sn_opencl_stats_get(shared, &st);
    printf("# %u ARAC plans (fp32 and int8): micro-flows equal the tile loop bit for bit (%s); "
           "micro-flow commands %.0f us in a device span of %.0f us\n", tested,
           sn_opencl_out_of_order(shared) ? "one out-of-order queue, and 3 in-order queues"
                                         : "in-order queues", (double)st.flow_commands_ns / 1e3,
           (double)st.flow_span_ns / 1e3);
    assert_true(tested >= 6);
    assert_true(st.flow_batches > 0);
    assert_true(st.flow_span_ns > 0 && st.flow_commands_ns > 0);
    /* the stitched tap sees the micro-flows' map too */
    {
        const char *text = NULL;
        for (i = 0; i < model.config_count && !text; ++i) {
            uint32_t kind;
            const char *t;
            sn_model_config(&model, i, &kind, &t);
            if (kind == 1)
                text = t;
        }
        {
            sn_test_plan pl = sn_test_plan_for(&model, text, SN_FP32);
            stitched_copy x = {NULL, 0}, y = {NULL, 0};
            float l0[16], l1[16];
            assert_int_equal(sn_plan_invoke(pl.plan, &loop, input->data, l0, keep_stitched, &x), SN_OK);
            assert_int_equal(sn_plan_invoke(pl.plan, &flows, input->data, l1, keep_stitched, &y), SN_OK);
            assert_int_equal(x.n, y.n);
            assert_memory_equal(x.data, y.data, x.n * sizeof(float));
            free(x.data);
            free(y.data);
            sn_test_plan_free(&pl);
        }
    }
    sn_opencl_destroy(inorder);
}

/* ---- int8: every config bit for bit ------------------------------------------------------ */
static void test_int8_equals_reference(void **state)
{
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    uint32_t c, i, configs = 0, inputs;
    sn_platform plat;
    (void)state;
    assert_non_null(input);
    inputs = (uint32_t)input->dims[0];
    sn_opencl_platform(shared, &plat);
    for (c = 0; c < model.config_count; ++c) {
        uint32_t kind;
        const char *text;
        sn_test_plan q;
        sn_model_config(&model, c, &kind, &text);
        q = sn_test_plan_for(&model, text, SN_INT8);
        for (i = 0; i < inputs; ++i) {
            const uint8_t *canvas = input->data + (size_t)i * 64 * 64;
            float want[16], got[16];
            assert_int_equal(sn_plan_invoke(q.plan, NULL, canvas, want, NULL, NULL), SN_OK);
            assert_int_equal(sn_plan_invoke(q.plan, &plat, canvas, got, NULL, NULL), SN_OK);
            if (memcmp(want, got, sizeof(float) * model.arch.num_classes) != 0)
                fail_msg("%s input %u: OpenCL int8 logits differ from the reference int8", text, i);
        }
        sn_test_plan_free(&q);
        ++configs;
    }
    printf("# %u configs x %u inputs: OpenCL int8 == reference int8 bit for bit\n", configs, inputs);
    assert_true(configs >= 30);
}

/* ---- its own residency counters and the profiling figures -------------------------------- */
static void run(sn_opencl *cl, sn_plan *plan, const uint8_t *canvas, float *logits, sn_opencl_stats *st)
{
    sn_platform plat;
    sn_opencl_platform(cl, &plat);
    sn_opencl_stats_reset(cl);
    assert_int_equal(sn_plan_invoke(plan, &plat, canvas, logits, NULL, NULL), SN_OK);
    sn_opencl_stats_get(cl, st);
}

/* On the largest SubNet (the residency contract -- near and far bytes, budgets, eviction,
 * on-use residency, logits wherever the weights come from -- is tests/test_sut.c's, for every
 * adapter): nothing resident, one kernel and one call per layer, every layer far, and the
 * profiling events time kernels, weight writes and activation transfers; making the SubGraph
 * resident writes its bytes once (timed), after which no weight is written per call; a budget
 * of half of it uses no more than it holds, and evicting frees it all; on use, the first
 * inference writes the weights it keeps, the next writes none. */
static void test_residency_counters(void **state)
{
    const char *small, *big;
    uint8_t canvas[64 * 64];
    float logits[16] = {0};
    size_t resident, half;
    sn_opencl *cl;
    sn_opencl_stats st;
    sn_test_plan A;
    (void)state;
    sn_test_subnet_ends(&model, &small, &big);
    sn_test_random_canvas(canvas, sizeof canvas, 7);
    A = sn_test_plan_for(&model, big, SN_FP32);

    /* nothing resident: every weight written per call */
    cl = make_cl(0, SN_OPENCL_RESIDENT_EXPLICIT, 0);
    run(cl, A.plan, canvas, logits, &st);
    assert_int_equal(st.layers_far, A.plan->num_layers);
    assert_int_equal(st.calls, A.plan->num_layers);
    assert_int_equal(st.kernels, A.plan->num_layers);
    assert_true(st.kernel_ns > 0 && st.weight_write_ns > 0 && st.act_transfer_ns > 0);
    assert_true(st.act_write_bytes > 0 && st.act_read_bytes > 0);
    assert_true(st.device_ns > 0 && st.wall_ns > 0);
    printf("# %s, nothing resident: wall %.0f us in the platform, events: device %.0f us = kernels %.0f + "
           "weight writes %.0f (%llu B) + activation transfers %.0f (%llu B written, %llu read) + gaps\n",
           big, (double)st.wall_ns / 1e3, (double)st.device_ns / 1e3, (double)st.kernel_ns / 1e3,
           (double)st.weight_write_ns / 1e3, (unsigned long long)st.far_bytes, (double)st.act_transfer_ns / 1e3,
           (unsigned long long)st.act_write_bytes, (unsigned long long)st.act_read_bytes);
    sn_opencl_destroy(cl);

    /* the SubGraph resident: its bytes written once, none per call */
    cl = make_cl(SIZE_MAX, SN_OPENCL_RESIDENT_EXPLICIT, 0);
    sn_opencl_stats_reset(cl);
    assert_int_equal(sn_opencl_make_resident(cl, A.plan, &resident), SN_OK);
    sn_opencl_stats_get(cl, &st);
    assert_true(resident > 0);
    assert_int_equal(st.resident_write_bytes, resident);
    assert_true(st.resident_write_ns > 0);
    run(cl, A.plan, canvas, logits, &st);
    assert_int_equal(st.weight_write_ns, 0);
    sn_opencl_destroy(cl);

    /* a budget of half of it: within the budget; evicting frees it all */
    cl = make_cl(resident / 2, SN_OPENCL_RESIDENT_EXPLICIT, 0);
    assert_int_equal(sn_opencl_make_resident(cl, A.plan, &half), SN_OK);
    assert_true(half > 0 && half < resident);
    assert_true(sn_opencl_near_used(cl) <= sn_opencl_near_budget(cl));
    sn_opencl_evict_all(cl);
    assert_int_equal(sn_opencl_near_used(cl), 0);
    sn_opencl_destroy(cl);

    /* on use: the first inference writes what it keeps, the next writes nothing */
    cl = make_cl(SIZE_MAX, SN_OPENCL_RESIDENT_ON_USE, 0);
    run(cl, A.plan, canvas, logits, &st);
    assert_true(st.far_bytes > 0);
    assert_true(st.resident_write_bytes >= st.far_bytes);
    run(cl, A.plan, canvas, logits, &st);
    assert_int_equal(st.resident_write_bytes, 0);
    sn_opencl_destroy(cl);
    sn_test_plan_free(&A);
}

/* ---- device choice ------------------------------------------------------------------------ */
static void test_device_choice(void **state)
{
    sn_opencl_options opt;
    sn_opencl *cl = NULL;
    char why[512] = "";
    char list[2048], *saved = NULL;
    const char *env = getenv("SUPERNAV_OPENCL_DEVICE");
    int n = sn_opencl_list(list, sizeof list);
    (void)state;
    assert_true(n >= 1);
    printf("# OpenCL devices:\n# %.*s\n", (int)strcspn(list, "\n"), list);
    if (env)
        saved = strdup(env);
    sn_opencl_options_default(&opt);
    opt.device = "no-such-opencl-device-xyz";
    assert_int_equal(sn_opencl_create(&model, &opt, &cl, why, sizeof why), SN_ERR_NO_DEVICE);
    assert_null(cl);
    assert_non_null(strstr(why, "no-such-opencl-device-xyz"));
    opt.device = "999";
    assert_int_equal(sn_opencl_create(&model, &opt, &cl, why, sizeof why), SN_ERR_NO_DEVICE);
    assert_non_null(strstr(why, "999"));
    /* the environment variable picks when the option does not */
    setenv("SUPERNAV_OPENCL_DEVICE", "no-such-opencl-device-xyz", 1);
    opt.device = NULL;
    assert_int_equal(sn_opencl_create(&model, &opt, &cl, why, sizeof why), SN_ERR_NO_DEVICE);
    opt.device = "0"; /* the option wins over the environment */
    assert_int_equal(sn_opencl_create(&model, &opt, &cl, why, sizeof why), SN_OK);
    assert_non_null(strstr(list, sn_opencl_device_name(cl)));
    sn_opencl_destroy(cl);
    if (saved) {
        setenv("SUPERNAV_OPENCL_DEVICE", saved, 1);
        free(saved);
    } else {
        unsetenv("SUPERNAV_OPENCL_DEVICE");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_choice),
        cmocka_unit_test(test_golden_subnets),
        cmocka_unit_test(test_golden_arac),
        cmocka_unit_test(test_micro_flows_equal_tile_loop),
        cmocka_unit_test(test_int8_equals_reference),
        cmocka_unit_test(test_residency_counters),
    };
    char err[256], cwhy2[512] = "";
    sn_opencl_options opt;
    sn_status st;
    int rc;
    if (sn_read_file(env_or("SN_MODEL", "build/supernet.snm"), &model_bytes, &model_size) != 0 ||
        sn_model_load(&model, model_bytes, model_size, NULL) != SN_OK ||
        sn_read_file(env_or("SN_GOLDEN", "workloads/supernet/golden.safetensors"), &golden_bytes, &golden_size) != 0 ||
        sn_safetensors_parse(golden_bytes, golden_size, &golden, err, sizeof err) != 0) {
        fprintf(stderr, "# cannot load the model or the golden vectors\n");
        return 1;
    }
    meta = cJSON_Parse(sn_safetensors_metadata(&golden, "supernav_golden"));
    if (!meta)
        return 1;
    sn_opencl_options_default(&opt);
    st = sn_opencl_create(&model, &opt, &shared, cwhy2, sizeof cwhy2);
    if (st == SN_ERR_NO_DEVICE && sn_opencl_list(err, sizeof err) == 0) {
        rc = sn_test_skip_all(cwhy2);
    } else if (st != SN_OK) {
        printf("1..1\nnot ok 1 - sn_opencl_create: %s\n", cwhy2);
        rc = 1;
    } else {
        printf("# device: %s (%s)\n", sn_opencl_device_name(shared),
               sn_opencl_out_of_order(shared) ? "out-of-order queue" : "in-order queues");
        cmocka_set_message_output(CM_OUTPUT_TAP);
        rc = cmocka_run_group_tests_name("opencl", tests, NULL, NULL);
    }
    sn_opencl_destroy(shared);
    cJSON_Delete(meta);
    sn_safetensors_free(&golden);
    free(model_bytes);
    free(golden_bytes);
    return rc;
}
