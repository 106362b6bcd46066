/* SUSHI's SubGraph as slices (harness/sn_slices.h) on every platform that has slice
 * residency (the FPGA model, int8; the CPU, fp32; the MCU, int8, its firmware under QEMU:
 * the tests of boxes, partial-layer residency and the serving rules, and its split views
 * bit for bit), each test once per platform: the serving
 * set's boxes and their byte arithmetic, a SubNet's own SubGraph, partial-layer residency (a
 * leading slice serves its part of a wider layer), a switch that moves only the difference
 * (the platform's count equals the harness's), the cost model's fit (a planted linear
 * profile is recovered exactly; a profile it cannot fit is predicted at each SubNet's own
 * measured row) and the knapsack (the budget holds; the bytes go where the
 * predicted saving per byte is highest). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_serve.h"
#include "sn_slices.h"
#include "sn_test.h"

/* the platforms with slice residency; each test's state names one. Near budgets of the same
 * number of weights: the FPGA's and the MCU's are int8 (1 byte each), the CPU's fp32 (4 bytes).
 * The MCU: the f746 board's firmware under QEMU (its SRAM weight cache; the SubNets whose arena
 * fits the SRAM the cache leaves are served: the smallest ones, which keeps its profile short),
 * skipped where the Arm toolchain's firmware or qemu-system-arm is missing. */
static const char *const platforms[] = {"fpga", "cpu", "mcu"};
static const size_t near_budgets[] = {128u << 10, 512u << 10, 128u << 10};
#define PLATFORMS (sizeof platforms / sizeof platforms[0])
static sn_serve servers[PLATFORMS];
static int opened[PLATFORMS];
static const char *mcu_build = "build"; /* where the MCU's firmware is (mcu_missing) */

static const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return v && *v ? v : d;
}

static size_t platform_of(void **state)
{
    size_t k;
    for (k = 0; k < PLATFORMS; ++k)
        if (!strcmp((const char *)*state, platforms[k]))
            return k;
    fail_msg("no platform '%s'", (const char *)*state);
    return 0;
}

/* The serving set on the test's platform, profiled once (one repetition). */
static int setup(void **state)
{
    size_t k = platform_of(state);
    sn_serve_options o;
    char err[512];
    if (opened[k])
        return 0;
    memset(&o, 0, sizeof o);
    o.model_path = env_or("SN_MODEL", "build/supernet.snm");
    o.data_prefix = env_or("SN_DATA", "data/canvas/cf64-test");
    o.platform = platforms[k];
    o.sut.near_budget_bytes = near_budgets[k];
    if (!strcmp(platforms[k], "mcu")) {
        o.sut.board = "f746";
        o.sut.build_dir = mcu_build;
    }
    if (sn_serve_open(&servers[k], &o, err, sizeof err) != 0)
        fail_msg("%s: open: %s", platforms[k], err);
    if (!servers[k].slices)
        fail_msg("%s: the SUT has no resident_slices", platforms[k]);
    if (sn_serve_profile(&servers[k], NULL, 1, 1, err, sizeof err) != 0)
        fail_msg("%s: profile: %s", platforms[k], err);
    opened[k] = 1;
    return 0;
}

static void test_boxes(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    const sn_slices *x = sv->slices;
    sn_subgraph *r = calloc(1, sizeof *r), *none = calloc(1, sizeof *none);
    uint32_t s, t;
    assert_non_null(x);
    assert_true(x->nt > 10);
    assert_int_equal(x->n, sv->n);
    for (s = 0; s < x->n; ++s) {
        /* with an unlimited budget a SubNet's own SubGraph is all of its weights, all near */
        sn_slices_of_subnet(x, s, UINT64_MAX, r);
        assert_int_equal(sn_slices_bytes(x, r), sn_slices_subnet_bytes(x, s));
        assert_int_equal(sn_slices_near_bytes(x, s, r), sn_slices_subnet_bytes(x, s));
        assert_int_equal(sn_slices_diff_bytes(x, r, r), 0);
        assert_int_equal(sn_slices_diff_bytes(x, none, r), sn_slices_bytes(x, r));
        assert_int_equal(sn_slices_diff_bytes(x, r, none), 0);
        /* within the budget: at most the budget */
        sn_slices_of_subnet(x, s, sv->near_budget_bytes, r);
        assert_true(sn_slices_bytes(x, r) <= sv->near_budget_bytes);
    }
    /* the largest SubNet reads every tensor at least as wide as the smallest */
    for (t = 0; t < x->nt; ++t)
        if (x->use[0][t].k > 0) {
            assert_true(x->use[x->n - 1][t].o >= x->use[0][t].o);
            assert_true(sn_slices_overlap_bytes(x, t, x->use[0][t], x->use[x->n - 1][t]) ==
                        sn_slices_box_bytes(x, t, x->use[0][t]));
        }
    free(r);
    free(none);
}

/* SubNet S's near bytes; their sum with its far bytes must be all of its weights. */
static uint64_t near_of(sn_serve *sv, uint32_t s)
{
    sn_sut_result res;
    char err[256];
    if (sn_serve_infer(sv, s, 0, &res, err, sizeof err) != 0)
        fail_msg("infer: %s", err);
    assert_int_equal(res.near_bytes + res.far_bytes, sn_slices_subnet_bytes(sv->slices, s));
    return res.near_bytes;
}

static void test_partial_residency_and_diff_switch(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    const sn_slices *x = sv->slices;
    const uint32_t big = sv->n - 1;
    sn_subgraph *r = calloc(1, sizeof *r);
    sn_sut_moved mv;
    char err[256];
    uint32_t t, g_full, g_half, wide = UINT32_MAX;
    uint64_t full, half;
    /* the largest SubNet's boxes, all of them (an unlimited budget for this test) */
    sn_slices_of_subnet(x, big, UINT64_MAX, r);
    /* the widest pointwise tensor, to be cut to half its output channels */
    for (t = 0; t < x->nt; ++t)
        if (x->t[t].kind == SN_SLICE_POINTWISE && r->b[t].o >= 64 &&
            (wide == UINT32_MAX || sn_slices_box_bytes(x, t, r->b[t]) > sn_slices_box_bytes(x, wide, r->b[wide])))
            wide = t;
    assert_true(wide != UINT32_MAX);
    /* only that tensor resident, whole: near bytes = its box */
    {
        sn_subgraph *one = calloc(1, sizeof *one);
        one->b[wide] = r->b[wide];
        g_full = sn_serve_subgraph_set(sv, 0, one, "test:one-whole", 1);
        assert_int_equal(sn_serve_resident(sv, g_full, 0, &mv, err, sizeof err), 0);
        full = near_of(sv, big);
        assert_int_equal(full, sn_slices_box_bytes(x, wide, r->b[wide]));
        /* the same tensor, its leading half (output channels, in whole units of x->quantum:
         * the FPGA's PE columns; the CPU serves any channel): the part inside it is near, the
         * rest far */
        assert_true(x->quantum >= 1 && r->b[wide].o >= 2 * x->quantum);
        one->b[wide].o = r->b[wide].o / 2 / x->quantum * x->quantum;
        g_half = sn_serve_subgraph_set(sv, 1, one, "test:one-half", 1);
        assert_int_equal(sn_serve_resident(sv, g_half, 0, &mv, err, sizeof err), 0);
        /* the switch from whole to half moved nothing (the half is inside the whole) */
        assert_int_equal(mv.bytes, 0);
        assert_int_equal(sn_serve_switch_bytes(sv, g_full, g_half), 0);
        half = near_of(sv, big);
        assert_true(half > 0 && half < full);
        assert_int_equal(half, sn_slices_box_bytes(x, wide, one->b[wide]));
        assert_int_equal(half, sn_slices_serves_bytes(x, wide, r->b[wide], one->b[wide]));
        /* a cut inside a tile: that tile comes from far memory -- the platform's near bytes are
         * the harness's (whole units of x->quantum channels) */
        if (x->quantum > 1) {
            uint64_t before = half;
            one->b[wide].o += x->quantum / 2;
            g_half = sn_serve_subgraph_set(sv, 1, one, "test:one-half-and-a-bit", 1);
            assert_int_equal(sn_serve_resident(sv, g_half, 0, &mv, err, sizeof err), 0);
            assert_int_equal(near_of(sv, big), before);
            assert_int_equal(sn_slices_serves_bytes(x, wide, r->b[wide], one->b[wide]), before);
            one->b[wide].o -= x->quantum / 2;
            g_half = sn_serve_subgraph_set(sv, 1, one, "test:one-half", 1);
            assert_int_equal(sn_serve_resident(sv, g_half, 0, &mv, err, sizeof err), 0);
        }
        /* back to whole: only the other half moves, and the platform counts what the harness does */
        assert_int_equal(sn_serve_resident(sv, g_full, 0, &mv, err, sizeof err), 0);
        assert_int_equal(mv.bytes, full - half);
        assert_int_equal(sn_serve_switch_bytes(sv, g_half, g_full), full - half);
        free(one);
    }
    /* nothing resident: nothing near */
    assert_int_equal(sn_serve_resident(sv, sv->n, 0, &mv, err, sizeof err), 0);
    assert_int_equal(near_of(sv, big), 0);
    free(r);
}

/* What a resident box serves, as the platform computes it: the whole kernel crop and (dense)
 * every input channel of the request, then its leading output channels in whole units. */
static void test_serves_rules(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    const sn_slices *x = sv->slices;
    uint32_t t, dense = UINT32_MAX, dwt = UINT32_MAX;
    (void)state;
    for (t = 0; t < x->nt; ++t) {
        sn_slice_box u = x->use[x->n - 1][t];
        if (!x->t[t].dw && u.i > 1 && u.o >= 2 * x->quantum && dense == UINT32_MAX)
            dense = t;
        if (x->t[t].dw && u.k == 5 && u.o >= 2 * x->quantum && dwt == UINT32_MAX)
            dwt = t;
    }
    assert_true(dense != UINT32_MAX);
    {
        sn_slice_box u = x->use[x->n - 1][dense], r = u;
        assert_int_equal(sn_slices_serves_bytes(x, dense, u, r), sn_slices_box_bytes(x, dense, u));
        r.i = u.i - 1; /* one input channel short: serves nothing */
        assert_int_equal(sn_slices_serves_bytes(x, dense, u, r), 0);
        r = u;
        r.o = x->quantum; /* one unit of output channels */
        assert_int_equal(sn_slices_serves_bytes(x, dense, u, r), sn_slices_box_bytes(x, dense, r));
    }
    if (dwt != UINT32_MAX) { /* a 3x3 crop does not serve a 5x5 request; a 5x5 serves a 3x3 */
        sn_slice_box u = x->use[x->n - 1][dwt], r = u;
        r.k = 3;
        assert_int_equal(sn_slices_serves_bytes(x, dwt, u, r), 0);
        assert_int_equal(sn_slices_serves_bytes(x, dwt, r, u), sn_slices_box_bytes(x, dwt, r));
    }
}

/* A planted linear profile: the fit must recover it (predictions exact, R^2 = 1). */
static void test_fit_recovers_planted(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    sn_slices *x = malloc(sizeof *x);
    sn_subgraph *r = calloc(1, sizeof *r);
    static double lat[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    double planted[SN_SLICES_MAX_TENSORS], sw_us[SN_SERVE_MAX_SUBGRAPHS] = {0};
    uint64_t sw_b[SN_SERVE_MAX_SUBGRAPHS] = {0};
    const uint64_t budget = 96u << 10;
    uint32_t s, g, t;
    *x = *sv->slices;
    for (t = 0; t < x->nt; ++t) /* some tensors save nothing, some a lot */
        planted[t] = (t % 3 == 0) ? 0.0 : 1e-4 * (double)(1 + t % 5);
    for (s = 0; s < x->n; ++s)
        lat[s][x->n] = 100.0 + 10.0 * s;
    for (g = 0; g < x->n; ++g) {
        sn_slices_of_subnet(x, g, budget, r);
        sw_b[g] = sn_slices_bytes(x, r);
        sw_us[g] = 3.0 + 2e-3 * (double)sw_b[g];
        for (s = 0; s < x->n; ++s) {
            double l = lat[s][x->n];
            for (t = 0; t < x->nt; ++t)
                l -= planted[t] * (double)sn_slices_serves_bytes(x, t, x->use[s][t], r->b[t]);
            lat[s][g] = l;
        }
    }
    sn_slices_fit(x, &lat[0][0], SN_SERVE_MAX_SUBGRAPHS, sw_us, sw_b, budget, NULL, 0, NULL);
    assert_true(x->fit_r2 > 0.999999);
    assert_true(x->fit_rmse_us < 1e-6);
    for (g = 0; g < x->n; ++g) {
        sn_slices_of_subnet(x, g, budget, r);
        for (s = 0; s < x->n; ++s)
            assert_true(fabs(sn_slices_predict_us(x, s, r) - lat[s][g]) < 1e-6);
    }
    assert_true(fabs(x->switch_a_us - 3.0) < 1e-6 && fabs(x->switch_b_us - 2e-3) < 1e-9);
    free(x);
    free(r);
}

/* A planted profile the linear model cannot fit (each SubNet's saving scaled by its own factor,
 * 0.6 to 1.4; SubNet 0's by 5): wherever the fit errs, a SubNet's own SubGraph is predicted at
 * its measured latency (the profile's row) wherever the factor is within (0.5, 2), for at least
 * half of them; SubNet 0's factor is held at 2 (its measured saving far beyond the fit's). Unscaled predictions (before
 * the anchor) miss the own rows. */
static void test_fit_anchored_to_own(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    sn_slices *x = malloc(sizeof *x);
    sn_subgraph *r = calloc(1, sizeof *r);
    static double lat[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    double sw_us[SN_SERVE_MAX_SUBGRAPHS] = {0}, worst_raw = 0.0;
    uint64_t sw_b[SN_SERVE_MAX_SUBGRAPHS] = {0};
    const uint64_t budget = 96u << 10;
    uint32_t s, g, t, exact = 0, held = 0;
    *x = *sv->slices;
    for (s = 0; s < x->n; ++s)
        lat[s][x->n] = 1000.0 + 10.0 * s;
    for (g = 0; g < x->n; ++g) {
        sn_slices_of_subnet(x, g, budget, r);
        for (s = 0; s < x->n; ++s) {
            double save = 0.0;
            for (t = 0; t < x->nt; ++t)
                save += 1e-4 * (double)(1 + t % 5) * (double)sn_slices_serves_bytes(x, t, x->use[s][t], r->b[t]);
            lat[s][g] = lat[s][x->n] - (s == 0 ? 5.0 : 0.6 + 0.8 * (double)(s % 5) / 4.0) * save;
        }
    }
    sn_slices_fit(x, &lat[0][0], SN_SERVE_MAX_SUBGRAPHS, sw_us, sw_b, budget, NULL, 0, NULL);
    print_message("# fit R^2 %.3f, RMSE %.2f us\n", x->fit_r2, x->fit_rmse_us);
    assert_true(x->fit_r2 < 0.999);
    for (s = 0; s < x->n; ++s) {
        double own, raw = 0.0, a = sn_slices_anchor(x, s);
        sn_slices_of_subnet(x, s, budget, r);
        own = sn_slices_predict_us(x, s, r);
        for (t = 0; t < x->nt; ++t)
            raw += x->beta_t[t] * (double)sn_slices_serves_bytes(x, t, x->use[s][t], r->b[t]);
        assert_true(a >= SN_SLICES_ANCHOR_MIN && a <= SN_SLICES_ANCHOR_MAX);
        if (x->own_fit_us[s] <= x->fit_rmse_us)
            continue; /* no anchor where the fit predicts no saving above its error */
        raw = lat[s][x->n] - raw;
        if (fabs(raw - lat[s][s]) > worst_raw)
            worst_raw = fabs(raw - lat[s][s]);
        if (s == 0) {
            assert_true(fabs(a - SN_SLICES_ANCHOR_MAX) < 1e-12);
            assert_true(own > lat[s][s] + 1e-6); /* held: the measured saving is not all given */
            held = 1;
        } else if (a > SN_SLICES_ANCHOR_MIN && a < SN_SLICES_ANCHOR_MAX) { /* not held at a bound */
            assert_true(fabs(own - lat[s][s]) < 1e-6);
            ++exact;
        }
    }
    print_message("# worst unscaled error at a SubNet's own SubGraph: %.2f us; %u SubNets anchored exactly\n",
                  worst_raw, exact);
    assert_true(worst_raw > 0.1);
    assert_true(exact >= x->n / 2);
    assert_true(held);
    free(x);
    free(r);
}

/* The knapsack: never over the budget; with one tensor planted far more valuable per byte,
 * it is taken first; with a budget for everything, every valuable box of the demand is. */
static void test_knapsack(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    sn_slices *x = malloc(sizeof *x);
    sn_subgraph *r = calloc(1, sizeof *r);
    double w[SN_SERVE_MAX_SUBNETS] = {0};
    uint64_t budgets[] = {1024, 8u << 10, 32u << 10, 128u << 10, 1u << 20};
    uint32_t s, t, k, hot = UINT32_MAX;
    *x = *sv->slices;
    for (s = 0; s < x->n; ++s)
        w[s] = 1.0 + s % 4;
    for (k = 0; k < sizeof budgets / sizeof budgets[0]; ++k) {
        sn_slices_knapsack(x, w, budgets[k], r);
        assert_true(sn_slices_bytes(x, r) <= budgets[k]);
    }
    /* one tensor worth 1000x per byte: a budget of its box takes it */
    for (t = 0; t < x->nt; ++t)
        if (x->use[x->n / 2][t].k > 0 && sn_slices_box_bytes(x, t, x->use[x->n / 2][t]) > 2048)
            hot = t;
    assert_true(hot != UINT32_MAX);
    for (t = 0; t < x->nt; ++t)
        x->beta_t[t] = t == hot ? 1.0 : 1e-3;
    memset(w, 0, sizeof w);
    w[x->n / 2] = 1.0;
    sn_slices_knapsack(x, w, sn_slices_box_bytes(x, hot, x->use[x->n / 2][hot]), r);
    assert_int_equal(r->b[hot].o, x->use[x->n / 2][hot].o);
    assert_int_equal(sn_slices_bytes(x, r), sn_slices_box_bytes(x, hot, x->use[x->n / 2][hot]));
    /* everything fits: the demanded SubNet's boxes are all resident */
    sn_slices_knapsack(x, w, UINT64_MAX / 4, r);
    assert_int_equal(sn_slices_near_bytes(x, x->n / 2, r), sn_slices_subnet_bytes(x, x->n / 2));
    /* half of that: a leading part of the last box taken, the budget filled to within one
     * output channel of a box */
    sn_slices_knapsack(x, w, sn_slices_subnet_bytes(x, x->n / 2) / 2, r);
    assert_true(sn_slices_bytes(x, r) <= sn_slices_subnet_bytes(x, x->n / 2) / 2);
    assert_true(sn_slices_bytes(x, r) + 8192 > sn_slices_subnet_bytes(x, x->n / 2) / 2);
    free(x);
    free(r);
}

/* The MCU (its firmware under QEMU): a SubNet with every tensor's box cut to a leading part
 * resident (each SubNet's view of a tensor then split: its leading output channels from the
 * SRAM copy, with that copy's strides, the rest from flash; 5x5 boxes serving 3x3 views from
 * their centre), then after a switch that grows and cuts the boxes at once (wider, fewer input
 * channels, 3x3 crops: the kept part moved within SRAM), then its own whole SubGraph, gives
 * the same logits bit for bit as with nothing resident, on two canvases; the firmware's near
 * bytes are the harness's and it moves what the harness says a switch moves. */
static void test_mcu_split_bit_exact(void **state)
{
    sn_serve *sv = &servers[platform_of(state)];
    const sn_slices *x = sv->slices;
    const uint32_t big = sv->n - 1;
    const int32_t q = x->quantum;
    sn_subgraph *r = calloc(1, sizeof *r);
    sn_sut_result res;
    sn_sut_moved mv;
    char err[256];
    float none_logits[2][16];
    double us[4][2];
    uint32_t t, s, smp, g[4], k;
    static const char *const what[4] = {"none", "every tensor's leading half (views split)",
                                        "wider, fewer inputs, 3x3 crops (boxes grown and cut at once)",
                                        "its own SubGraph"};
    for (t = 0; t < x->nt; ++t) { /* each tensor's union box over the serving set, its leading half */
        sn_slice_box u = {0, 0, 0};
        for (s = 0; s < x->n; ++s)
            if (x->use[s][t].k > 0) {
                u.o = x->use[s][t].o > u.o ? x->use[s][t].o : u.o;
                u.i = x->use[s][t].i > u.i ? x->use[s][t].i : u.i;
                u.k = x->use[s][t].k > u.k ? x->use[s][t].k : u.k;
            }
        u.o = u.o / 2 / q * q;
        if (u.o > 0 && u.k > 0)
            r->b[t] = u;
    }
    g[0] = sv->n; /* none */
    g[1] = sn_serve_subgraph_set(sv, 2, r, "test:half-of-every-tensor", 1);
    for (t = 0; t < x->nt; ++t) /* then each box wider, cut in inputs and to a 3x3 crop */
        if (r->b[t].k > 0) {
            r->b[t].o = r->b[t].o * 2 > x->use[big][t].o ? r->b[t].o * 2 : x->use[big][t].o;
            r->b[t].i = x->t[t].dw ? 0 : (r->b[t].i + 1) / 2;
            r->b[t].k = r->b[t].k > 3 ? 3 : r->b[t].k;
        }
    g[2] = sn_serve_subgraph_set(sv, 1, r, "test:mixed", 1);
    sn_slices_of_subnet(x, big, UINT64_MAX, r);
    g[3] = sn_serve_subgraph_set(sv, 3, r, "test:own-whole", 1);
    for (k = 0; k < 4; ++k) {
        uint64_t want;
        if (sn_serve_resident(sv, g[k], 0, &mv, err, sizeof err) != 0)
            fail_msg("resident: %s", err);
        if (k > 0)
            assert_int_equal(mv.bytes, sn_slices_diff_bytes(x, &sv->sg[g[k - 1]], &sv->sg[g[k]]));
        want = k ? sn_slices_near_bytes(x, big, &sv->sg[g[k]]) : 0;
        for (smp = 0; smp < 2; ++smp) {
            if (sn_serve_infer(sv, big, smp, &res, err, sizeof err) != 0)
                fail_msg("infer: %s", err);
            assert_true(res.classes > 0 && res.classes <= 16);
            if (k == 0)
                memcpy(none_logits[smp], res.logits, res.classes * sizeof(float));
            else
                assert_memory_equal(none_logits[smp], res.logits, res.classes * sizeof(float));
            assert_int_equal(res.near_bytes, want);
            assert_int_equal(res.near_bytes + res.far_bytes, sn_slices_subnet_bytes(x, big));
            us[k][smp] = res.us;
        }
        if (k == 1) /* a part of it near, a part far */
            assert_true(want > 0 && want < sn_slices_subnet_bytes(x, big));
        if (k == 3)
            assert_int_equal(want, sn_slices_subnet_bytes(x, big));
        print_message("# %s: near %llu of %llu weight bytes, moved %llu B, %.1f us modelled\n", what[k],
                      (unsigned long long)want, (unsigned long long)sn_slices_subnet_bytes(x, big),
                      (unsigned long long)mv.bytes, us[k][0]);
    }
    free(r);
}

/* The MCU's firmware and QEMU, or why not (its tests are then not registered). A sanitizer
 * build (BUILD=build/san-...) has no firmware of its own: it drives the plain build's (the
 * firmware is the same; the host side runs instrumented). */
static const char *mcu_missing(void)
{
    static char why[256];
    const char *path = getenv("PATH");
    char elf[512], buf[1024];
    int qemu = 0;
    mcu_build = env_or("BUILD", "build");
    snprintf(elf, sizeof elf, "%.200s/mcu/supernav-mcu-f746.elf", mcu_build);
    if (access(elf, R_OK) != 0 && strstr(mcu_build, "san"))
        mcu_build = "build";
    while (path && *path && !qemu) {
        const char *c = strchr(path, ':');
        size_t len = c ? (size_t)(c - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/qemu-system-arm", (int)len, path);
        qemu = access(buf, X_OK) == 0;
        path = c ? c + 1 : NULL;
    }
    if (!qemu)
        return "qemu-system-arm is missing (make deps)";
    snprintf(elf, sizeof elf, "%.200s/mcu/supernav-mcu-f746.elf", mcu_build);
    if (access(elf, R_OK) != 0) {
        snprintf(why, sizeof why, "no %.200s (make mcu-boards: needs gcc-arm-none-eabi)", elf);
        return why;
    }
    return NULL;
}

int main(void)
{
#define ON(test, p) {#test ": " p, test, setup, NULL, (void *)p}
    const struct CMUnitTest mcu_tests[] = {
        ON(test_boxes, "mcu"), ON(test_partial_residency_and_diff_switch, "mcu"), ON(test_serves_rules, "mcu"),
        ON(test_mcu_split_bit_exact, "mcu"),
    };
    const struct CMUnitTest tests[] = {
        ON(test_boxes, "fpga"), ON(test_partial_residency_and_diff_switch, "fpga"),
        ON(test_serves_rules, "fpga"), ON(test_fit_recovers_planted, "fpga"), ON(test_fit_anchored_to_own, "fpga"),
        ON(test_knapsack, "fpga"),
        ON(test_boxes, "cpu"), ON(test_partial_residency_and_diff_switch, "cpu"),
        ON(test_serves_rules, "cpu"), ON(test_fit_recovers_planted, "cpu"), ON(test_fit_anchored_to_own, "cpu"),
        ON(test_knapsack, "cpu"),
    };
    struct CMUnitTest all[sizeof tests / sizeof tests[0] + sizeof mcu_tests / sizeof mcu_tests[0]];
    FILE *f = fopen(env_or("SN_MODEL", "build/supernet.snm"), "rb");
    const char *why = mcu_missing();
    size_t k, count = sizeof tests / sizeof tests[0];
    int rc;
    if (!f)
        return sn_test_skip_all("no model image (make)");
    fclose(f);
    memcpy(all, tests, sizeof tests);
    if (!why) {
        memcpy(all + count, mcu_tests, sizeof mcu_tests);
        count += sizeof mcu_tests / sizeof mcu_tests[0];
    } else {
        printf("# the mcu tests are skipped: %s\n", why);
    }
    cmocka_set_message_output(CM_OUTPUT_TAP);
    rc = _cmocka_run_group_tests("slices", all, count, NULL, NULL);
    for (k = 0; k < PLATFORMS; ++k)
        if (opened[k])
            sn_serve_close(&servers[k]);
    return rc;
}
