/* SUSHI's SubGraph as slices on the OpenCL platform (sn_sut_ops.resident_slices, fp32, as the
 * SUT serves): for every SubNet of the serving set, logits bit for bit equal with nothing,
 * a partial SubGraph (pointwise tensors cut to half their output channels, depthwise crops
 * wider than some SubNets read) and its own SubGraph resident; the platform's near and far
 * bytes equal the harness's covered and uncovered bytes (harness/sn_slices.c
 * sn_slices_serves_bytes); a switch between two overlapping slice sets moves exactly their
 * difference; slices past the near budget are not placed (in order, as the budget holds);
 * a slice outside its tensor, of another kind, or outside the model is refused with one
 * line and leaves what is resident as it was. Through the harness's serving set
 * (sn_serve_open) but without a profile: the SUT's op is called directly. Skips with a
 * reason where no OpenCL device exists. Files: $SN_MODEL, $SN_DATA (as test_slices). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_opencl.h"
#include "sn_serve.h"
#include "sn_slices.h"
#include "sn_test.h"
#include "sn_test_plan.h"

#define BUDGET (512u << 10) /* the CPU's in test_slices: fp32 bytes */

static sn_serve server;

static const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return v && *v ? v : d;
}

/* SubGraph R as the slices the harness passes (harness/sn_serve.c resident_slices). */
static uint32_t slices_of(const sn_slices *x, const sn_subgraph *r, sn_sut_slice *sl, uint32_t *tix)
{
    uint32_t t, c = 0;
    for (t = 0; t < x->nt; ++t) {
        sn_slice_box b = r->b[t];
        if (b.k <= 0 || b.o <= 0)
            continue;
        sl[c] = (sn_sut_slice){x->t[t].w, x->t[t].dw, x->t[t].s8, b.o, x->t[t].dw ? 0 : b.i, b.k};
        if (tix)
            tix[c] = t;
        ++c;
    }
    return c;
}

/* Makes R resident through the SUT and drops from R what it did not place (as the harness
 * does); returns the bytes it moved. */
static uint64_t make_resident(sn_subgraph *r, uint8_t *placed)
{
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS];
    uint32_t tix[SN_SLICES_MAX_TENSORS];
    uint8_t own[SN_SLICES_MAX_TENSORS];
    sn_sut_moved mv;
    char err[256];
    uint32_t c = slices_of(server.slices, r, sl, tix), k;
    if (!placed)
        placed = own;
    if (server.sut->ops->resident_slices(server.sut, sl, c, 0, placed, &mv, err, sizeof err) != SN_OK)
        fail_msg("resident_slices: %s", err);
    for (k = 0; k < c; ++k)
        if (!placed[k])
            r->b[tix[k]] = (sn_slice_box){0, 0, 0};
    return mv.bytes;
}

/* SubNet S's logits into LOGITS and its near bytes (near + far must be all of its weights). */
static uint64_t infer(uint32_t s, float *logits)
{
    sn_sut_result res;
    char err[256];
    if (sn_serve_infer(&server, s, 0, &res, err, sizeof err) != 0)
        fail_msg("infer %u: %s", s, err);
    assert_int_equal(res.near_bytes + res.far_bytes, sn_slices_subnet_bytes(server.slices, s));
    assert_non_null(res.logits);
    memcpy(logits, res.logits, res.classes * sizeof *logits);
    return res.near_bytes;
}

/* The largest SubNet's own boxes within the budget, pointwise tensors cut to half their
 * output channels. */
static void partial(sn_subgraph *r)
{
    const sn_slices *x = server.slices;
    uint32_t t;
    sn_slices_of_subnet(x, x->n - 1, BUDGET, r);
    for (t = 0; t < x->nt; ++t)
        if (x->t[t].kind == SN_SLICE_POINTWISE && r->b[t].o >= 2)
            r->b[t].o /= 2;
}

static void test_bit_exact_and_bytes(void **state)
{
    const sn_slices *x = server.slices;
    sn_subgraph *r = calloc(1, sizeof *r), *none = calloc(1, sizeof *none), *own = calloc(1, sizeof *own);
    size_t classes = server.model.arch.num_classes;
    float *ref = calloc(classes, sizeof *ref), *got = calloc(classes, sizeof *got);
    uint32_t s;
    int some_partial = 0, some_all = 0;
    cJSON *acc = cJSON_CreateObject(), *copied;
    (void)state;
    assert_non_null(ref);
    assert_non_null(got);
    server.sut->ops->account_reset(server.sut);
    for (s = 0; s < x->n; ++s) {
        uint64_t near;
        make_resident(none, NULL);
        assert_int_equal(infer(s, ref), 0);
        /* the partial SubGraph: the served part near, the rest far, the same logits */
        partial(r);
        make_resident(r, NULL);
        near = infer(s, got);
        assert_int_equal(near, sn_slices_near_bytes(x, s, r));
        assert_memory_equal(got, ref, classes * sizeof *ref);
        some_partial |= near > 0 && near < sn_slices_subnet_bytes(x, s);
        /* its own SubGraph within the budget (all of it near when it fits), the same logits */
        sn_slices_of_subnet(x, s, BUDGET, own);
        make_resident(own, NULL);
        near = infer(s, got);
        assert_int_equal(near, sn_slices_near_bytes(x, s, own));
        some_all |= near == sn_slices_subnet_bytes(x, s);
        assert_memory_equal(got, ref, classes * sizeof *ref);
        /* the largest SubNet's SubGraph serves a smaller one (wider boxes, wider crops) */
        sn_slices_of_subnet(x, x->n - 1, BUDGET, own);
        make_resident(own, NULL);
        assert_int_equal(infer(s, got), sn_slices_near_bytes(x, s, own));
        assert_memory_equal(got, ref, classes * sizeof *ref);
    }
    assert_true(some_partial);
    assert_true(some_all);
    /* some layers were assembled from a resident part and a written part (or a wider crop) */
    server.sut->ops->account(server.sut, acc, 0.0);
    copied = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(acc, "opencl"), "near_copy_bytes");
    assert_true(cJSON_IsNumber(copied) && copied->valuedouble > 0);
    cJSON_Delete(acc);
    make_resident(none, NULL);
    free(r);
    free(none);
    free(own);
    free(ref);
    free(got);
}

static void test_switch_moves_difference(void **state)
{
    const sn_slices *x = server.slices;
    sn_subgraph *full = calloc(1, sizeof *full), *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b),
                *none = calloc(1, sizeof *none);
    uint32_t t, s = x->n - 1;
    float *logits = calloc(server.model.arch.num_classes, sizeof *logits);
    (void)state;
    /* A: even tensors whole, odd ones half their outputs; B the other way round (all of them
     * within the budget) */
    sn_slices_of_subnet(x, s, BUDGET, full);
    *a = *full;
    *b = *full;
    for (t = 0; t < x->nt; ++t)
        if (full->b[t].o >= 2) {
            if (t % 2)
                a->b[t].o /= 2;
            else
                b->b[t].o /= 2;
        }
    make_resident(none, NULL);
    assert_int_equal(make_resident(a, NULL), sn_slices_bytes(x, a)); /* nothing dropped: */
    assert_int_equal(sn_slices_bytes(x, a) + sn_slices_diff_bytes(x, a, full), sn_slices_bytes(x, full));
    assert_int_equal(infer(s, logits), sn_slices_near_bytes(x, s, a));
    assert_true(sn_slices_diff_bytes(x, a, b) > 0);
    assert_int_equal(make_resident(b, NULL), sn_slices_diff_bytes(x, a, b));
    assert_int_equal(infer(s, logits), sn_slices_near_bytes(x, s, b));
    assert_int_equal(make_resident(a, NULL), sn_slices_diff_bytes(x, b, a));
    assert_int_equal(infer(s, logits), sn_slices_near_bytes(x, s, a));
    /* the same set again moves nothing; a subset moves nothing */
    assert_int_equal(make_resident(a, NULL), 0);
    assert_int_equal(make_resident(full, NULL), sn_slices_diff_bytes(x, a, full));
    assert_int_equal(make_resident(a, NULL), 0);
    make_resident(none, NULL);
    free(full);
    free(a);
    free(b);
    free(none);
    free(logits);
}

static void test_over_budget_not_placed(void **state)
{
    const sn_slices *x = server.slices;
    sn_subgraph *all = calloc(1, sizeof *all), *got = calloc(1, sizeof *got), *none = calloc(1, sizeof *none);
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS];
    uint32_t tix[SN_SLICES_MAX_TENSORS], c, k, s = x->n - 1, skipped = 0;
    uint8_t placed[SN_SLICES_MAX_TENSORS];
    uint64_t used = 0, moved;
    float *logits = calloc(server.model.arch.num_classes, sizeof *logits);
    (void)state;
    sn_slices_of_subnet(x, s, UINT64_MAX, all);
    assert_true(sn_slices_bytes(x, all) > BUDGET);
    c = slices_of(x, all, sl, tix);
    make_resident(none, NULL);
    *got = *all;
    moved = make_resident(got, placed);
    memset(got, 0, sizeof *got);
    /* in order while the budget holds: each slice that fits is placed, each that does not is not */
    for (k = 0; k < c; ++k) {
        uint64_t b = sn_slices_box_bytes(x, tix[k], all->b[tix[k]]);
        int fits = used + b <= BUDGET;
        assert_int_equal(placed[k], fits);
        if (fits) {
            used += b;
            got->b[tix[k]] = all->b[tix[k]];
        } else {
            ++skipped;
        }
    }
    assert_true(skipped > 0);
    assert_true(used <= BUDGET);
    assert_int_equal(moved, used);
    assert_int_equal(infer(s, logits), sn_slices_near_bytes(x, s, got));
    make_resident(none, NULL);
    free(all);
    free(got);
    free(none);
    free(logits);
}

/* One slice refused: an error with one line, and what was resident stays resident. */
static void refused(const sn_sut_slice *bad, const char *what)
{
    const sn_slices *x = server.slices;
    sn_subgraph *r = calloc(1, sizeof *r);
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS + 1];
    uint8_t placed[SN_SLICES_MAX_TENSORS + 1];
    sn_sut_moved mv;
    char err[256] = "";
    float *logits = calloc(server.model.arch.num_classes, sizeof *logits);
    uint32_t c, s = x->n - 1;
    uint64_t near;
    partial(r);
    make_resident(r, NULL);
    near = infer(s, logits);
    c = slices_of(x, r, sl, NULL);
    sl[c++] = *bad;
    assert_int_equal(server.sut->ops->resident_slices(server.sut, sl, c, 0, placed, &mv, err, sizeof err),
                     SN_ERR_INVALID_ARGUMENT);
    printf("# %s: %s\n", what, err);
    assert_true(strlen(err) > 0 && !strchr(err, '\n'));
    assert_non_null(strstr(err, "platform opencl"));
    assert_int_equal(infer(s, logits), near);
    free(r);
    free(logits);
}

static void test_bad_slices(void **state)
{
    const sn_slices *x = server.slices;
    uint32_t t, dense = UINT32_MAX, dwt = UINT32_MAX;
    static const float outside[16];
    sn_sut_slice bad;
    (void)state;
    for (t = 0; t < x->nt; ++t) {
        if (!x->t[t].dw && dense == UINT32_MAX)
            dense = t;
        if (x->t[t].dw && dwt == UINT32_MAX)
            dwt = t;
    }
    assert_true(dense != UINT32_MAX && dwt != UINT32_MAX);
    bad = (sn_sut_slice){x->t[dense].w, 0, 0, 100000, 1, 1};
    refused(&bad, "outputs past the tensor");
    bad = (sn_sut_slice){x->t[dense].w, 0, 0, 1, 100000, 1};
    refused(&bad, "inputs past the tensor");
    bad = (sn_sut_slice){x->t[dwt].w, 1, 0, 1, 0, 99};
    refused(&bad, "a crop past the kernel");
    bad = (sn_sut_slice){x->t[dwt].w, 1, 0, 1, 0, 0};
    refused(&bad, "an empty crop");
    bad = (sn_sut_slice){x->t[dwt].w, 1, 0, 1, 0, 2};
    refused(&bad, "an off-centre crop");
    bad = (sn_sut_slice){x->t[dense].w, 1, 0, 1, 0, 1};
    refused(&bad, "a depthwise slice of a dense tensor");
    bad = (sn_sut_slice){x->t[dense].w, 0, 1, 1, 1, 1};
    refused(&bad, "an int8 slice of an fp32 tensor");
    bad = (sn_sut_slice){outside, 0, 0, 1, 1, 1};
    refused(&bad, "weights outside the model");
}

/* int8, on the platform itself (the SUT serves fp32): every SubNet of the table planned int8,
 * logits bit for bit the reference int8's with nothing and with a partial SubGraph of int8
 * slices resident, the near bytes the harness's. */
static void test_int8_bit_exact(void **state)
{
    const sn_model *m = &server.model;
    sn_test_plan pl[SN_SLICES_MAX_SUBNETS];
    sn_plan *plans[SN_SLICES_MAX_SUBNETS];
    sn_slices *x = calloc(1, sizeof *x);
    sn_subgraph *r = calloc(1, sizeof *r);
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS];
    uint32_t tix[SN_SLICES_MAX_TENSORS], n = 0, i, c, k, t;
    uint8_t placed[SN_SLICES_MAX_TENSORS], canvas[64 * 64];
    sn_opencl_options opt;
    sn_opencl *cl = NULL;
    sn_opencl_stats st;
    sn_platform plat;
    char why[512] = "";
    size_t moved = 0;
    uint32_t seed = 12345u;
    int some_partial = 0;
    (void)state;
    for (i = 0; i < sizeof canvas; ++i) {
        seed = seed * 1103515245u + 12345u;
        canvas[i] = (uint8_t)(seed >> 24);
    }
    for (i = 0; i < m->config_count && n < SN_SLICES_MAX_SUBNETS; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(m, i, &kind, &text);
        if (kind != 0)
            continue;
        pl[n] = sn_test_plan_for(m, text, SN_INT8);
        plans[n] = pl[n].plan;
        ++n;
    }
    assert_true(n >= 2);
    if (sn_slices_build(x, m, plans, n, why, sizeof why) != 0)
        fail_msg("slices: %s", why);
    sn_opencl_options_default(&opt);
    opt.near_budget_bytes = BUDGET / 4; /* as many int8 weights as the fp32 tests' */
    opt.residency = SN_OPENCL_RESIDENT_EXPLICIT;
    assert_int_equal(sn_opencl_create(m, &opt, &cl, why, sizeof why), SN_OK);
    sn_opencl_platform(cl, &plat);
    /* the largest SubNet's boxes within the budget, pointwise ones cut to half */
    sn_slices_of_subnet(x, n - 1, opt.near_budget_bytes, r);
    for (t = 0; t < x->nt; ++t)
        if (x->t[t].kind == SN_SLICE_POINTWISE && r->b[t].o >= 2)
            r->b[t].o /= 2;
    for (t = 0, c = 0; t < x->nt; ++t)
        if (r->b[t].k > 0 && r->b[t].o > 0) {
            assert_int_equal(x->t[t].s8, 1);
            sl[c] = (sn_sut_slice){x->t[t].w, x->t[t].dw, x->t[t].s8, r->b[t].o, x->t[t].dw ? 0 : r->b[t].i,
                                   r->b[t].k};
            tix[c++] = t;
        }
    for (i = 0; i < n; ++i) {
        float want[64], got[64];
        assert_true(m->arch.num_classes <= 64);
        assert_int_equal(sn_plan_invoke(plans[i], NULL, canvas, want, NULL, NULL), SN_OK);
        sn_opencl_evict_all(cl);
        sn_opencl_stats_reset(cl);
        assert_int_equal(sn_plan_invoke(plans[i], &plat, canvas, got, NULL, NULL), SN_OK);
        sn_opencl_stats_get(cl, &st);
        assert_int_equal(st.near_bytes, 0);
        assert_memory_equal(got, want, m->arch.num_classes * sizeof *got);
        assert_int_equal(sn_opencl_set_resident(cl, sl, c, placed, &moved), SN_OK);
        for (k = 0; k < c; ++k)
            if (!placed[k])
                r->b[tix[k]] = (sn_slice_box){0, 0, 0};
        assert_int_equal(moved, sn_slices_bytes(x, r));
        sn_opencl_stats_reset(cl);
        assert_int_equal(sn_plan_invoke(plans[i], &plat, canvas, got, NULL, NULL), SN_OK);
        sn_opencl_stats_get(cl, &st);
        assert_int_equal(st.near_bytes, sn_slices_near_bytes(x, i, r));
        assert_int_equal(st.near_bytes + st.far_bytes, sn_slices_subnet_bytes(x, i));
        some_partial |= st.near_copy_bytes > 0 && st.far_bytes > 0 && st.near_bytes > 0;
        assert_memory_equal(got, want, m->arch.num_classes * sizeof *got);
    }
    assert_true(some_partial);
    sn_opencl_destroy(cl);
    for (i = 0; i < n; ++i)
        sn_test_plan_free(&pl[i]);
    free(x);
    free(r);
}

/* ARAC configs (their gate, prefix micro-flows and tail read the same tensors), fp32 and
 * int8 on the platform itself: logits bit for bit equal with nothing and with the partial
 * SubGraph resident (int8 also the reference int8's), and some weights read near. */
static void test_arac_bit_exact(void **state)
{
    const sn_model *m = &server.model;
    const sn_slices *x = server.slices; /* fp32 */
    sn_subgraph *r = calloc(1, sizeof *r);
    sn_sut_slice sl[SN_SLICES_MAX_TENSORS];
    uint8_t placed[SN_SLICES_MAX_TENSORS], canvas[64 * 64];
    sn_opencl_options opt;
    sn_opencl *cl = NULL;
    sn_opencl_stats st;
    sn_platform plat;
    char why[512] = "";
    uint32_t i, c = 0, t, configs = 0, seed = 777u;
    uint64_t near = 0;
    int prec;
    (void)state;
    for (i = 0; i < sizeof canvas; ++i) {
        seed = seed * 1103515245u + 12345u;
        canvas[i] = (uint8_t)(seed >> 24);
    }
    partial(r);
    for (t = 0; t < x->nt; ++t)
        if (r->b[t].k > 0 && r->b[t].o > 0)
            sl[c++] = (sn_sut_slice){x->t[t].w, x->t[t].dw, x->t[t].s8, r->b[t].o, x->t[t].dw ? 0 : r->b[t].i,
                                     r->b[t].k};
    sn_opencl_options_default(&opt);
    opt.near_budget_bytes = BUDGET;
    opt.residency = SN_OPENCL_RESIDENT_EXPLICIT;
    assert_int_equal(sn_opencl_create(m, &opt, &cl, why, sizeof why), SN_OK);
    sn_opencl_platform(cl, &plat);
    for (i = 0; i < m->config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(m, i, &kind, &text);
        if (kind != 1)
            continue;
        for (prec = 0; prec < 2; ++prec) {
            sn_test_plan q = sn_test_plan_for(m, text, prec ? SN_INT8 : SN_FP32);
            float want[64], got[64];
            assert_true(m->arch.num_classes <= 64);
            sn_opencl_evict_all(cl);
            assert_int_equal(sn_plan_invoke(q.plan, &plat, canvas, want, NULL, NULL), SN_OK);
            if (prec) { /* int8: the reference's bits */
                float ref[64];
                assert_int_equal(sn_plan_invoke(q.plan, NULL, canvas, ref, NULL, NULL), SN_OK);
                assert_memory_equal(want, ref, m->arch.num_classes * sizeof *ref);
            }
            assert_int_equal(sn_opencl_set_resident(cl, sl, c, placed, NULL), SN_OK);
            sn_opencl_stats_reset(cl);
            assert_int_equal(sn_plan_invoke(q.plan, &plat, canvas, got, NULL, NULL), SN_OK);
            sn_opencl_stats_get(cl, &st);
            near += st.near_bytes;
            if (memcmp(got, want, m->arch.num_classes * sizeof *got) != 0)
                fail_msg("%s (%s): logits differ with slices resident", text, prec ? "int8" : "fp32");
            sn_test_plan_free(&q);
        }
        ++configs;
    }
    printf("# %u ARAC configs, fp32 (slices of fp32 tensors) and int8 (none of its tensors resident)\n", configs);
    assert_true(configs > 0);
    assert_true(near > 0);
    sn_opencl_destroy(cl);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_exact_and_bytes),
        cmocka_unit_test(test_switch_moves_difference),
        cmocka_unit_test(test_over_budget_not_placed),
        cmocka_unit_test(test_bad_slices),
        cmocka_unit_test(test_int8_bit_exact),
        cmocka_unit_test(test_arac_bit_exact),
    };
    sn_serve_options o;
    char err[512], list[256];
    FILE *f = fopen(env_or("SN_MODEL", "build/supernet.snm"), "rb");
    int rc;
    if (!f)
        return sn_test_skip_all("no model image (make)");
    fclose(f);
    if (sn_opencl_list(list, sizeof list) == 0)
        return sn_test_skip_all("no OpenCL device (the ICD loader lists none; install pocl-opencl-icd)");
    memset(&o, 0, sizeof o);
    o.model_path = env_or("SN_MODEL", "build/supernet.snm");
    o.data_prefix = env_or("SN_DATA", "data/canvas/cf64-test");
    o.platform = "opencl";
    o.sut.near_budget_bytes = BUDGET;
    o.sut.explicit_residency = 1;
    if (sn_serve_open(&server, &o, err, sizeof err) != 0) {
        printf("1..1\nnot ok 1 - open: %s\n", err);
        return 1;
    }
    if (!server.slices || !server.sut->ops->resident_slices) {
        printf("1..1\nnot ok 1 - the opencl SUT has no slice residency\n");
        sn_serve_close(&server);
        return 1;
    }
    printf("# %u SubNets, %u tensors; device %s\n", server.slices->n, server.slices->nt, server.desc.device_value);
    rc = sn_test_run("opencl_slices", tests);
    sn_serve_close(&server);
    return rc;
}
