/* The SUT contract (harness/sn_sut.h), one test for every platform in the registry: each
 * adapter opens for a serving set of the smallest and the largest SubNet, refuses an option it
 * does not take (one line naming the flag), describes itself consistently, and serves with
 * the weights of its near memory: with nothing resident every weight comes from far memory;
 * with the largest SubNet's weights resident the smallest reads near memory and moves less;
 * predictions agree with the reference SUT; its own clock (emulated, model) gives its times;
 * a measured one leaves a switch's to the caller and either an inference's too or gives its
 * own, inside the caller's wall clock around the call (the CPU: around the invoke, without
 * the untimed flush of far memory). Platforms this machine cannot run skip, saying
 * why (no OpenCL device; the MCU's QEMU firmware is left to test_mcu_boards). */
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

static sn_model model;
static void *model_bytes;
static sn_idx images;

typedef struct planned {
    sn_plan *plan;
    void *arena;
} planned;

static const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return v && *v ? v : d;
}

static planned plan_for(const char *text, int precision)
{
    planned pl;
    sn_config cfg;
    size_t need = 0;
    const char *why = "";
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes_p(&model, &cfg, precision, &need), SN_OK);
    pl.plan = malloc(sizeof *pl.plan);
    assert_non_null(pl.plan);
    assert_int_equal(posix_memalign(&pl.arena, 64, need), 0);
    if (sn_plan_prepare_p(pl.plan, &model, &cfg, precision, pl.arena, need, &why) != SN_OK)
        fail_msg("%s: %s", text, why);
    return pl;
}

/* the smallest and the largest SubNet of the table */
static void ends(const char **small, const char **big)
{
    uint32_t i;
    *small = *big = NULL;
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&model, i, &kind, &text);
        if (kind != 0)
            continue;
        if (!*small)
            *small = text;
        *big = text;
    }
    assert_non_null(*small);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static sn_sut *open_or_skip(const sn_sut_ops *ops, const sn_sut_set *set, uint8_t *keep, char *err, size_t n)
{
    sn_sut_options o;
    sn_sut *sut = NULL;
    memset(&o, 0, sizeof o);
    o.near_budget_bytes = 4u << 20;
    o.explicit_residency = 1;
    if (ops->open(&sut, set, &o, keep, err, n) != SN_OK)
        return NULL;
    return sut;
}

static void test_contract(void **state)
{
    const sn_sut_ops *ops = sn_sut_find((const char *)*state);
    const sn_sut_ops *ref = sn_sut_find("reference");
    const char *small, *big, *configs[2];
    planned P[2];
    sn_plan *plans[2];
    sn_sut_set set;
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
    ends(&small, &big);
    P[0] = plan_for(small, ops->precision);
    P[1] = plan_for(big, ops->precision);
    configs[0] = small;
    configs[1] = big;
    plans[0] = P[0].plan;
    plans[1] = P[1].plan;
    set.model = &model;
    set.precision = ops->precision;
    set.n = 2;
    set.configs = configs;
    set.plans = plans;

    /* an option it does not take: refused, naming the flag */
    memset(&bad, 0, sizeof bad);
    if (!(ops->takes & SN_SUT_TAKES_PORT))
        bad.port = "/dev/null";
    else
        bad.device = "0";
    assert_int_equal(ops->open(&sut, &set, &bad, keep, err, sizeof err), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, !(ops->takes & SN_SUT_TAKES_PORT) ? "--port" : "--device"));

    sut = open_or_skip(ops, &set, keep, err, sizeof err);
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
    assert_non_null(rsut = open_or_skip(ref, &set, keep, err, sizeof err));
    smp.side = model.arch.canvas;
    smp.file = NULL;
    smp.file_offset = 0;
    for (k = 0; k < 4; ++k) {
        smp.canvas = images.data + (size_t)k * smp.side * smp.side;
        assert_int_equal(ops->resident(sut, -1, NULL, 0, &mv, err, sizeof err), SN_OK);
        assert_int_equal(mv.bytes, 0);
        t0 = now_us();
        if (ops->infer(sut, 0, P[0].plan, &smp, &far, err, sizeof err) != SN_OK)
            fail_msg("%s: infer: %s", ops->name, err);
        wall_us = now_us() - t0;
        assert_int_equal(ops->resident(sut, 1, P[1].plan, 1, &mv, err, sizeof err), SN_OK);
        if (ops->infer(sut, 0, P[0].plan, &smp, &near, err, sizeof err) != SN_OK)
            fail_msg("%s: infer: %s", ops->name, err);
        assert_int_equal(ref->infer(rsut, 0, P[0].plan, &smp, &rr, err, sizeof err), SN_OK);
        if (!computes) {
            assert_int_equal(far.prediction, -1);
            assert_int_equal(far.near_bytes + far.far_bytes + near.near_bytes + near.far_bytes + mv.bytes, 0);
            continue;
        }
        assert_int_equal(far.prediction, rr.prediction);
        assert_int_equal(near.prediction, rr.prediction);
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
    for (k = 0; k < 2; ++k) {
        free(P[k].plan);
        free(P[k].arena);
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        {"the SUT contract: cpu", test_contract, NULL, NULL, (void *)"cpu"},
        {"the SUT contract: opencl", test_contract, NULL, NULL, (void *)"opencl"},
        {"the SUT contract: fpga", test_contract, NULL, NULL, (void *)"fpga"},
        {"the SUT contract: null", test_contract, NULL, NULL, (void *)"null"},
        {"the SUT contract: reference", test_contract, NULL, NULL, (void *)"reference"},
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
