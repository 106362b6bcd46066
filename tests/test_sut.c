/* The SUT contract (harness/sn_sut.h), one test for every platform in the registry: each
 * adapter opens for a serving set of the smallest and the largest SubNet, refuses an option it
 * does not take (one line naming the flag), describes itself consistently, and serves with
 * the weights of its near memory: with nothing resident every weight comes from far memory;
 * with the largest SubNet's weights resident the smallest reads near memory and moves less;
 * predictions agree with the reference SUT; its own clock (emulated, model) gives its times;
 * a measured one leaves a switch's to the caller and either an inference's too or gives its
 * own, inside the caller's wall clock around the call (the CPU: around the invoke, without
 * the untimed flush of far memory).
 * Residency, for every adapter with a memory hierarchy (the one test of it; the platforms'
 * own tests keep only their own counters): nothing resident, an inference reads every weight
 * byte of its plan from far memory; the largest SubNet's weights made resident within a
 * budget that holds them, it reads them all near, and a smaller SubNet reads the leading
 * slices it shares near; a budget of half of them makes part resident, read near, the rest
 * far; evicting leaves nothing near; with the platform's own residency (on use: cpu, opencl)
 * the first inference reads far and keeps the weights, the next reads them near; the logits
 * are the same bit for bit wherever the weights came from. Platforms this machine cannot run
 * skip, saying why (no OpenCL device; the MCU's QEMU firmware is left to test_mcu_boards).
 * The null SUT's planted service time (--null-service-us): at least that long per inference on
 * the caller's clock, recorded in its variant and run context; refused by the others. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_sut.h"
#include "sn_test.h"
#include "sn_test_plan.h"

static sn_model model;
static void *model_bytes;
static sn_idx images;

static const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return v && *v ? v : d;
}

/* The serving set of the table's smallest and largest SubNet (0, 1), planned at a precision;
 * SET points into it. */
typedef struct two_subnets {
    const char *configs[2];
    sn_test_plan P[2];
    sn_plan *plans[2];
    sn_sut_set set;
} two_subnets;

static void two_subnets_init(two_subnets *t, int precision)
{
    uint32_t k;
    sn_test_subnet_ends(&model, &t->configs[0], &t->configs[1]);
    for (k = 0; k < 2; ++k) {
        t->P[k] = sn_test_plan_for(&model, t->configs[k], precision);
        t->plans[k] = t->P[k].plan;
    }
    t->set.model = &model;
    t->set.precision = precision;
    t->set.n = 2;
    t->set.configs = t->configs;
    t->set.plans = t->plans;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void two_subnets_free(two_subnets *t)
{
    sn_test_plan_free(&t->P[0]);
    sn_test_plan_free(&t->P[1]);
}

static sn_sut *open_with(const sn_sut_ops *ops, const sn_sut_set *set, size_t budget, int explicit_residency,
                         uint8_t *keep, char *err, size_t n)
{
    sn_sut_options o;
    sn_sut *sut = NULL;
    memset(&o, 0, sizeof o);
    o.near_budget_bytes = budget;
    o.explicit_residency = explicit_residency;
    if (ops->open(&sut, set, &o, keep, err, n) != SN_OK)
        return NULL;
    return sut;
}

static sn_sut *open_or_skip(const sn_sut_ops *ops, const sn_sut_set *set, uint8_t *keep, char *err, size_t n)
{
    return open_with(ops, set, 4u << 20, 1, keep, err, n);
}

static void test_contract(void **state)
{
    const sn_sut_ops *ops = sn_sut_find((const char *)*state);
    const sn_sut_ops *ref = sn_sut_find("reference");
    two_subnets t;
    sn_sut_options bad;
    sn_sut *sut = NULL, *rsut = NULL;
    sn_sut_desc d;
    sn_sut_moved mv;
    sn_sut_result far, near, rr;
    sn_sut_sample smp;
    uint8_t keep[2] = {0, 0};
    char err[512] = "";
    cJSON *j;
    uint32_t k;
    int computes;
    double t0, wall_us = 0.0;
    assert_non_null(ops);
    assert_non_null(ref);
    two_subnets_init(&t, ops->precision);

    /* an option it does not take: refused, naming the flag */
    memset(&bad, 0, sizeof bad);
    if (!(ops->takes & SN_SUT_TAKES_PORT))
        bad.port = "/dev/null";
    else
        bad.device = "0";
    assert_int_equal(ops->open(&sut, &t.set, &bad, keep, err, sizeof err), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, !(ops->takes & SN_SUT_TAKES_PORT) ? "--port" : "--device"));

    sut = open_or_skip(ops, &t.set, keep, err, sizeof err);
    if (!sut) {
        if (!strcmp(ops->name, "opencl")) {
            printf("# opencl: no device here (%s): its contract is not tested\n", err);
            goto out;
        }
        fail_msg("%s: open: %s", ops->name, err);
    }
    assert_ptr_equal(sut->ops, ops);
    assert_true(keep[0] && keep[1]);
    ops->describe(sut, &d);
    assert_string_equal(d.name, ops->name);
    assert_int_equal(d.precision, ops->precision);
    assert_non_null(d.variant);
    assert_non_null(d.near_memory);
    assert_non_null(d.far_memory);
    assert_non_null(d.latency_source);
    assert_non_null(d.energy);
    computes = d.clock != SN_SUT_CLOCK_NONE;

    /* the reference's predictions, for the same plans */
    assert_non_null(rsut = open_or_skip(ref, &t.set, keep, err, sizeof err));
    smp.side = model.arch.canvas;
    smp.file = NULL;
    smp.file_offset = 0;
    for (k = 0; k < 4; ++k) {
        smp.canvas = images.data + (size_t)k * smp.side * smp.side;
        assert_int_equal(ops->resident(sut, -1, NULL, 0, &mv, err, sizeof err), SN_OK);
        assert_int_equal(mv.bytes, 0);
        t0 = now_us();
        if (ops->infer(sut, 0, t.plans[0], &smp, &far, err, sizeof err) != SN_OK)
            fail_msg("%s: infer: %s", ops->name, err);
        wall_us = now_us() - t0;
        assert_int_equal(ops->resident(sut, 1, t.plans[1], 1, &mv, err, sizeof err), SN_OK);
        if (ops->infer(sut, 0, t.plans[0], &smp, &near, err, sizeof err) != SN_OK)
            fail_msg("%s: infer: %s", ops->name, err);
        assert_int_equal(ref->infer(rsut, 0, t.plans[0], &smp, &rr, err, sizeof err), SN_OK);
        if (!computes) {
            assert_int_equal(far.prediction, -1);
            assert_null(far.logits);
            assert_int_equal(far.near_bytes + far.far_bytes + near.near_bytes + near.far_bytes + mv.bytes, 0);
            continue;
        }
        assert_int_equal(far.prediction, rr.prediction);
        assert_int_equal(near.prediction, rr.prediction);
        /* its logits (eval --logits): one per class, their arg-max the prediction */
        assert_non_null(far.logits);
        assert_int_equal(far.classes, model.arch.num_classes);
        assert_int_equal(sn_sut_argmax(far.logits, far.classes), far.prediction);
        if (!strcmp(d.near_memory, "none")) { /* no memory hierarchy (the reference): no bytes */
            assert_int_equal(far.near_bytes + near.near_bytes + mv.bytes, 0);
            continue;
        }
        /* nothing resident: every weight from far memory; the largest's weights resident: the
         * smallest reads near memory, and moves less from far */
        assert_true(far.far_bytes > 0);
        assert_int_equal(far.near_bytes, 0);
        assert_true(mv.bytes > 0);
        assert_true(near.near_bytes > 0);
        assert_true(near.far_bytes < far.far_bytes);
        assert_int_equal(near.near_bytes + near.far_bytes, far.near_bytes + far.far_bytes);
        /* its own clock gives its times; a measured one leaves a switch's to the caller, and
         * an inference's too or gives its own within the caller's clock around the call */
        if (d.clock == SN_SUT_CLOCK_MEASURED) {
            assert_true(mv.us < 0.0);
            assert_true((far.us < 0.0) == (near.us < 0.0));
            if (far.us >= 0.0)
                assert_true(far.us > 0.0 && far.us <= wall_us);
            if (!strcmp(ops->name, "cpu")) /* it flushes first, untimed */
                assert_true(far.us > 0.0);
        } else {
            assert_true(far.us > 0.0);
            assert_true(mv.us > 0.0);
            assert_true(near.us <= far.us);
        }
    }
    /* its account of a run, and its eval report: JSON objects, no print */
    j = cJSON_CreateObject();
    if (ops->account_reset)
        ops->account_reset(sut);
    if (ops->account)
        ops->account(sut, j, 1000.0);
    if (ops->report)
        ops->report(sut, 1, j, err, sizeof err);
    assert_true(cJSON_IsObject(j));
    cJSON_Delete(j);
    printf("# %s: %s clock, near '%s', far '%s'\n", d.name,
           d.clock == SN_SUT_CLOCK_MEASURED ? "measured" : d.clock == SN_SUT_CLOCK_EMULATED ? "emulated"
           : d.clock == SN_SUT_CLOCK_MODEL ? "model" : "no", d.near_memory, d.far_memory);
out:
    if (sut)
        ops->close(sut);
    if (rsut)
        ref->close(rsut);
    two_subnets_free(&t);
}

/* the weight bytes of PLAN's convolutions at PRECISION's element size: what one inference
 * reads from near and far memory together */
static uint64_t weight_bytes(const sn_plan *plan, int precision)
{
    uint64_t sum = 0;
    uint32_t i;
    for (i = 0; i < plan->num_layers; ++i) {
        const sn_conv2d_params *p = &plan->layers[i].params;
        sum += (uint64_t)p->kernel_h * p->kernel_w * p->out_c *
               (plan->layers[i].kind == SN_LAYER_DWCONV ? 1u : (uint64_t)p->in_c);
    }
    return sum * (precision == SN_INT8 ? 1u : 4u);
}

/* one inference's result, with a copy of its logits (the adapter's are valid until its next) */
typedef struct served {
    sn_sut_result r;
    float logits[16];
} served;

static served serve(const sn_sut_ops *ops, sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp)
{
    served v;
    char err[512] = "";
    if (ops->infer(sut, i, plan, smp, &v.r, err, sizeof err) != SN_OK)
        fail_msg("%s: infer: %s", ops->name, err);
    assert_non_null(v.r.logits);
    assert_int_equal(v.r.classes, model.arch.num_classes);
    assert_true(v.r.classes <= 16);
    memcpy(v.logits, v.r.logits, v.r.classes * sizeof(float));
    assert_int_equal(v.r.prediction, sn_sut_argmax(v.logits, v.r.classes));
    v.r.logits = NULL;
    return v;
}

static sn_sut_moved make_resident(const sn_sut_ops *ops, sn_sut *sut, int32_t i, const sn_plan *plan)
{
    sn_sut_moved mv;
    char err[512] = "";
    if (ops->resident(sut, i, plan, 0, &mv, err, sizeof err) != SN_OK)
        fail_msg("%s: resident %d: %s", ops->name, i, err);
    return mv;
}

/* Residency, the one test of it for every adapter (the comment at the top). */
static void test_residency(void **state)
{
    const sn_sut_ops *ops = sn_sut_find((const char *)*state);
    const size_t logit_bytes = model.arch.num_classes * sizeof(float);
    two_subnets t;
    sn_sut *sut = NULL;
    sn_sut_desc d;
    sn_sut_moved mv;
    sn_sut_sample smp;
    served far_big, far_small, v;
    uint64_t wb_big, wb_small;
    uint8_t keep[2] = {0, 0};
    char err[512] = "";
    uint32_t k;
    assert_non_null(ops);
    two_subnets_init(&t, ops->precision);
    smp.side = model.arch.canvas;
    smp.canvas = images.data;
    smp.file = NULL;
    smp.file_offset = 0;
    wb_big = weight_bytes(t.plans[1], ops->precision);
    wb_small = weight_bytes(t.plans[0], ops->precision);

    /* a budget that holds the largest SubNet's weights */
    sut = open_with(ops, &t.set, (size_t)wb_big * 2 + (1u << 20), 1, keep, err, sizeof err);
    if (!sut) {
        if (!strcmp(ops->name, "opencl")) {
            printf("# opencl: no device here (%s): its residency is not tested\n", err);
            goto out;
        }
        fail_msg("%s: open: %s", ops->name, err);
    }
    ops->describe(sut, &d);
    if (d.clock == SN_SUT_CLOCK_NONE || !strcmp(d.near_memory, "none")) {
        printf("# %s: no memory hierarchy, no residency\n", ops->name);
        goto out;
    }
    /* nothing resident: every weight byte of the plan from far memory */
    mv = make_resident(ops, sut, -1, NULL);
    assert_int_equal(mv.bytes, 0);
    far_big = serve(ops, sut, 1, t.plans[1], &smp);
    assert_int_equal(far_big.r.near_bytes, 0);
    assert_int_equal(far_big.r.far_bytes, wb_big);
    far_small = serve(ops, sut, 0, t.plans[0], &smp);
    assert_int_equal(far_small.r.near_bytes, 0);
    assert_int_equal(far_small.r.far_bytes, wb_small);
    /* the largest SubNet's weights resident: all read near, the same logits bit for bit */
    mv = make_resident(ops, sut, 1, t.plans[1]);
    assert_int_equal(mv.bytes, wb_big);
    assert_true(mv.bytes <= d.near_budget_bytes);
    v = serve(ops, sut, 1, t.plans[1], &smp);
    assert_int_equal(v.r.far_bytes, 0);
    assert_int_equal(v.r.near_bytes, wb_big);
    assert_memory_equal(v.logits, far_big.logits, logit_bytes);
    /* the smallest shares leading slices of the same tensors: part of it near */
    v = serve(ops, sut, 0, t.plans[0], &smp);
    printf("# %s: %s resident (%llu bytes); %s then reads %llu bytes near, %llu far\n", ops->name, t.configs[1],
           (unsigned long long)mv.bytes, t.configs[0], (unsigned long long)v.r.near_bytes,
           (unsigned long long)v.r.far_bytes);
    assert_true(v.r.near_bytes > 0);
    assert_int_equal(v.r.near_bytes + v.r.far_bytes, wb_small);
    assert_memory_equal(v.logits, far_small.logits, logit_bytes);
    ops->close(sut);

    /* a budget of half the largest's weights: some resident and read near, the rest far */
    sut = open_with(ops, &t.set, (size_t)(wb_big / 2), 1, keep, err, sizeof err);
    if (!sut)
        fail_msg("%s: open with %llu bytes near: %s", ops->name, (unsigned long long)(wb_big / 2), err);
    ops->describe(sut, &d);
    mv = make_resident(ops, sut, 1, t.plans[1]);
    assert_true(mv.bytes > 0 && mv.bytes < wb_big);
    assert_true(mv.bytes <= d.near_budget_bytes);
    v = serve(ops, sut, 1, t.plans[1], &smp);
    assert_int_equal(v.r.near_bytes, mv.bytes);
    assert_int_equal(v.r.far_bytes, wb_big - mv.bytes);
    assert_memory_equal(v.logits, far_big.logits, logit_bytes);
    /* evicted: nothing near */
    mv = make_resident(ops, sut, -1, NULL);
    assert_int_equal(mv.bytes, 0);
    v = serve(ops, sut, 1, t.plans[1], &smp);
    assert_int_equal(v.r.near_bytes, 0);
    assert_int_equal(v.r.far_bytes, wb_big);
    ops->close(sut);
    sut = NULL;

    /* its own residency, on use: the first inference reads far and keeps the weights near */
    if (d.resident_on_use) {
        sut = open_with(ops, &t.set, SIZE_MAX, 0, keep, err, sizeof err);
        if (!sut)
            fail_msg("%s: open with its own residency: %s", ops->name, err);
        for (k = 0; k < 2; ++k) {
            v = serve(ops, sut, 1, t.plans[1], &smp);
            assert_int_equal(v.r.far_bytes, k == 0 ? wb_big : 0);
            assert_int_equal(v.r.near_bytes, k == 0 ? 0 : wb_big);
            assert_memory_equal(v.logits, far_big.logits, logit_bytes);
        }
    }
out:
    if (sut)
        ops->close(sut);
    two_subnets_free(&t);
}

static void test_registry(void **state)
{
    char names[256];
    (void)state;
    sn_sut_list(names, sizeof names);
    assert_non_null(strstr(names, "cpu"));
    assert_non_null(strstr(names, "null"));
    assert_null(sn_sut_find("nosuch"));
    assert_null(sn_sut_find(NULL));
}

/* The null SUT's planted service time (--null-service-us): each inference busy-waits at least
 * that long on the caller's clock (a strict lower bound) and still computes nothing and
 * leaves its time to the caller; its variant and run context say so; without it, no wait;
 * the other platforms refuse the option, naming it; a negative one is refused. */
static void test_null_service(void **state)
{
    const sn_sut_ops *ops = &sn_sut_null;
    two_subnets t;
    sn_sut_options o;
    sn_sut *sut = NULL;
    sn_sut_desc d;
    sn_sut_result r;
    sn_sut_sample smp = {images.data, model.arch.canvas, NULL, 0};
    uint8_t keep[2];
    char err[512] = "";
    double t0, wall;
    int k;
    (void)state;
    two_subnets_init(&t, ops->precision);
    memset(&o, 0, sizeof o);
    o.null_service_us = 3000;
    assert_int_equal(ops->open(&sut, &t.set, &o, keep, err, sizeof err), SN_OK);
    ops->describe(sut, &d);
    assert_string_equal(d.variant, "wait-3000us");
    assert_int_equal(d.clock, SN_SUT_CLOCK_NONE);
    assert_int_equal(d.property_count, 1);
    assert_string_equal(d.properties[0].key, "null_service_us");
    assert_true(d.properties[0].number == 3000.0);
    for (k = 0; k < 3; ++k) {
        t0 = now_us();
        assert_int_equal(ops->infer(sut, 0, t.plans[0], &smp, &r, err, sizeof err), SN_OK);
        wall = now_us() - t0;
        assert_true(wall >= 3000.0);
        assert_true(r.us < 0.0);
        assert_int_equal(r.prediction, -1);
        assert_int_equal(r.near_bytes + r.far_bytes, 0);
    }
    ops->close(sut);
    o.null_service_us = 0; /* none: no wait, no property (the overhead runs of make bench) */
    assert_int_equal(ops->open(&sut, &t.set, &o, keep, err, sizeof err), SN_OK);
    ops->describe(sut, &d);
    assert_string_equal(d.variant, "none");
    assert_int_equal(d.property_count, 0);
    ops->close(sut);
    o.null_service_us = -1;
    assert_int_equal(ops->open(&sut, &t.set, &o, keep, err, sizeof err), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "--null-service-us"));
    o.null_service_us = 1000; /* another platform */
    assert_int_equal(sn_sut_find("reference")->open(&sut, &t.set, &o, keep, err, sizeof err),
                     SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "--null-service-us applies to --platform null only"));
    two_subnets_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        {"the null SUT's planted service time (--null-service-us)", test_null_service, NULL, NULL, NULL},
        {"the SUT contract: cpu", test_contract, NULL, NULL, (void *)"cpu"},
        {"the SUT contract: opencl", test_contract, NULL, NULL, (void *)"opencl"},
        {"the SUT contract: fpga", test_contract, NULL, NULL, (void *)"fpga"},
        {"the SUT contract: null", test_contract, NULL, NULL, (void *)"null"},
        {"the SUT contract: reference", test_contract, NULL, NULL, (void *)"reference"},
        {"residency: cpu", test_residency, NULL, NULL, (void *)"cpu"},
        {"residency: opencl", test_residency, NULL, NULL, (void *)"opencl"},
        {"residency: fpga", test_residency, NULL, NULL, (void *)"fpga"},
        {"residency: null", test_residency, NULL, NULL, (void *)"null"},
        {"residency: reference", test_residency, NULL, NULL, (void *)"reference"},
    };
    size_t size;
    uint32_t dims[3] = {0, 0, 0};
    char path[1024];
    int rc;
    if (sn_read_file(env_or("SN_MODEL", "build/supernet.snm"), &model_bytes, &size) != 0 ||
        sn_model_load(&model, model_bytes, size, NULL) != SN_OK)
        return sn_test_skip_all("no model image (make)");
    snprintf(path, sizeof path, "%s-images-idx3-ubyte", env_or("SN_DATA", "data/canvas/cf64-test"));
    dims[1] = dims[2] = model.arch.canvas;
    if (sn_idx_read(path, &images) != SN_IDX_OK || sn_idx_expect(&images, 3, dims) != SN_IDX_OK)
        return sn_test_skip_all("no canvases (make datasets)");
    rc = sn_test_run("sut", tests);
    sn_idx_free(&images);
    free(model_bytes);
    return rc;
}
