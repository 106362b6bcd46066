/* The engine against PyTorch: every golden SubNet's and ARAC config's logits on every golden
 * input, and its intermediate tensors (stem, each block, stitched map, head) on the first
 * inputs, within 1e-4 relative to the tensor's largest magnitude; the ARAC gate's tile
 * decisions; an ARAC config's logits with every tile forced to each of its levels, where the
 * golden file has them (g{id}.forced{k}.logits, k indexing the config's levels); and ARAC's
 * tiling itself: with every tile at the high level, the stitched map of a G x G grid equals
 * the same micro-flow run untiled, bit for bit (region mode h). The golden file's metadata may
 * say how many configs of each kind to expect (expect.subnets, expect.aracs; CF-64's: at least
 * 6 and 3). The same checks run
 * on the reference kernels and on the CPU platform with every ISA this processor has. Files: $SN_MODEL (default build/supernet.snm) and
 * $SN_GOLDEN (default workloads/supernet/golden.safetensors). */
#include "sn_test.h"
#include <cjson/cJSON.h>
#include <math.h>
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
static cJSON *meta;

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int setup(void **state)
{
    char err[256];
    sn_model_error e;
    const char *mp = env_or("SN_MODEL", "build/supernet.snm");
    const char *gp = env_or("SN_GOLDEN", "workloads/supernet/golden.safetensors");
    (void)state;
    if (sn_read_file(mp, &model_bytes, &model_size) != 0 ||
        sn_read_file(gp, &golden_bytes, &golden_size) != 0) {
        fprintf(stderr, "# cannot read %s or %s\n", mp, gp);
        return -1;
    }
    if (sn_model_load(&model, model_bytes, model_size, &e) != SN_OK) {
        fprintf(stderr, "# %s: %s\n", mp, e.what);
        return -1;
    }
    if (sn_safetensors_parse(golden_bytes, golden_size, &golden, err, sizeof err) != 0) {
        fprintf(stderr, "# %s: %s\n", gp, err);
        return -1;
    }
    meta = cJSON_Parse(sn_safetensors_metadata(&golden, "supernav_golden"));
    return meta ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(meta);
    sn_safetensors_free(&golden);
    free(model_bytes);
    free(golden_bytes);
    return 0;
}

typedef struct tap_check {
    int gid;
    int input;
    int checked;
    int forced;              /* forced-level runs compared */
    double worst;
} tap_check;

static size_t canvas_px(void) { return (size_t)model.arch.canvas * model.arch.canvas; }

/* The golden file's expected count of configs of a kind (metadata expect.KEY), or FALLBACK. */
static int expected(const char *key, int fallback)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(meta, "expect");
    const cJSON *v = e ? cJSON_GetObjectItemCaseSensitive(e, key) : NULL;
    return cJSON_IsNumber(v) ? (int)v->valuedouble : fallback;
}

static double compare(const float *got, const unsigned char *want_bytes, size_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        float w;
        memcpy(&w, want_bytes + 4 * i, 4);
        if (fabs((double)w) > max_ref)
            max_ref = fabs((double)w);
        if (fabs((double)got[i] - (double)w) > max_diff)
            max_diff = fabs((double)got[i] - (double)w);
    }
    return max_diff / (max_ref > 1e-6 ? max_ref : 1e-6);
}

static void on_tap(void *user, const char *name, const float *data, uint32_t h, uint32_t w,
                   uint32_t c)
{
    tap_check *tc = user;
    char key[96];
    const sn_st_tensor *t;
    double rel;
    snprintf(key, sizeof key, "g%d.%s", tc->gid, name);
    t = sn_safetensors_find(&golden, key);
    if (!t || (uint64_t)tc->input >= t->dims[0])
        return;
    if (t->ndim != 4 || t->dims[1] != h || t->dims[2] != w || t->dims[3] != c)
        fail_msg("%s: engine shape %ux%ux%u, golden %llux%llux%llu", key, h, w, c,
                 (unsigned long long)t->dims[1], (unsigned long long)t->dims[2],
                 (unsigned long long)t->dims[3]);
    rel = compare(data, t->data + (size_t)tc->input * h * w * c * 4, (size_t)h * w * c);
    if (rel > tc->worst)
        tc->worst = rel;
    if (rel > 1e-4)
        fail_msg("%s input %d: relative error %.3g > 1e-4", key, tc->input, rel);
    ++tc->checked;
}

static int level_index(uint32_t pct)
{
    uint32_t i;
    for (i = 0; i < model.arch.num_levels; ++i)
        if (model.arch.levels_pct[i] == pct)
            return (int)i;
    return -1;
}

static int check_configs(const char *want_kind, const sn_platform *platform)
{
    const cJSON *configs = cJSON_GetObjectItemCaseSensitive(meta, "configs"), *c;
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    int inputs = (int)cJSON_GetObjectItemCaseSensitive(meta, "inputs")->valuedouble, subnets = 0;
    assert_non_null(input);
    cJSON_ArrayForEach(c, configs) {
        const char *kind = cJSON_GetObjectItemCaseSensitive(c, "kind")->valuestring;
        const char *text = cJSON_GetObjectItemCaseSensitive(c, "config")->valuestring;
        int gid = (int)cJSON_GetObjectItemCaseSensitive(c, "id")->valuedouble, i;
        sn_config cfg;
        sn_plan *plan;
        size_t need;
        void *arena;
        const char *why = "";
        char key[64];
        const sn_st_tensor *logits;
        tap_check tc = {gid, 0, 0, 0, 0.0};
        if (strcmp(kind, want_kind) != 0)
            continue;
        ++subnets;
        assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
        assert_int_equal(sn_plan_arena_bytes(&model, &cfg, &need), SN_OK);
        plan = malloc(sizeof *plan);
        assert_int_equal(posix_memalign(&arena, 64, need), 0);
        if (sn_plan_prepare(plan, &model, &cfg, arena, need, &why) != SN_OK)
            fail_msg("%s: %s", text, why);
        snprintf(key, sizeof key, "g%d.logits", gid);
        logits = sn_safetensors_find(&golden, key);
        assert_non_null(logits);
        for (i = 0; i < inputs; ++i) {
            float out[16];
            double rel;
            uint32_t k;
            tc.input = i;
            assert_int_equal(sn_plan_invoke(plan, platform, input->data + (size_t)i * canvas_px(), out,
                                            on_tap, &tc), SN_OK);
            if (plan->is_arac) {
                const sn_st_tensor *lv;
                uint32_t t, g = plan->arac.grid;
                snprintf(key, sizeof key, "g%d.levels", gid);
                lv = sn_safetensors_find(&golden, key);
                assert_non_null(lv);
                for (t = 0; t < g * g; ++t) {
                    int32_t want;
                    memcpy(&want, lv->data + ((size_t)i * g * g + t) * 4, 4);
                    assert_int_equal(want, level_index(plan->arac.level_pct[plan->arac.tile_level[t]]));
                }
            }
            rel = compare(out, logits->data + (size_t)i * model.arch.num_classes * 4,
                          model.arch.num_classes);
            if (rel > tc.worst)
                tc.worst = rel;
            if (rel > 1e-4)
                fail_msg("%s input %d: logits relative error %.3g > 1e-4", text, i, rel);
            for (k = 0; plan->is_arac && k < plan->arac.num_levels; ++k) {
                const sn_st_tensor *fl;
                snprintf(key, sizeof key, "g%d.forced%u.logits", gid, k);
                if (!(fl = sn_safetensors_find(&golden, key)))
                    continue;
                plan->arac.force_level = (int8_t)k;
                assert_int_equal(sn_plan_invoke(plan, platform, input->data + (size_t)i * canvas_px(), out, NULL,
                                                NULL), SN_OK);
                plan->arac.force_level = -1;
                rel = compare(out, fl->data + (size_t)i * model.arch.num_classes * 4, model.arch.num_classes);
                if (rel > tc.worst)
                    tc.worst = rel;
                if (rel > 1e-4)
                    fail_msg("%s input %d, every tile at %u %%: logits relative error %.3g > 1e-4", text, i,
                             plan->arac.level_pct[k], rel);
                ++tc.forced;
            }
        }
        printf("# %s %s: %d inputs, %d intermediate tensors, %d forced-level runs, worst relative error "
               "%.2g, %lld MACs\n", platform->name, text, inputs, tc.checked, tc.forced, tc.worst,
               (long long)(plan->is_arac ? plan->arac.last_macs : plan->macs));
        assert_true(tc.checked > 0);
        free(arena);
        free(plan);
    }
    return subnets;
}

static void test_subnets_match_pytorch(void **state)
{
    (void)state;
    assert_true(check_configs("subnet", &sn_platform_reference) >= expected("subnets", 6));
}

static void test_arac_matches_pytorch(void **state)
{
    (void)state;
    assert_true(check_configs("arac", &sn_platform_reference) >= expected("aracs", 3));
}

static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};

/* Every ISA of the CPU platform this processor runs, fresh context (on-use residency). */
static void on_cpu(const char *kind, int at_least)
{
    size_t i;
    int ran = 0;
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        sn_cpu_options opt;
        sn_cpu *cpu;
        sn_platform p;
        char name[32];
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        sn_cpu_options_default(&opt);
        opt.isa = isas[i];
        assert_int_equal(sn_cpu_create(&model, &opt, &cpu, NULL), SN_OK);
        sn_cpu_platform(cpu, &p);
        snprintf(name, sizeof name, "cpu-%s", isas[i]);
        p.name = name;
        assert_true(check_configs(kind, &p) >= at_least);
        sn_cpu_destroy(cpu);
        ++ran;
    }
    assert_true(ran >= 1);
}

static void test_cpu_subnets_match_pytorch(void **state)
{
    (void)state;
    on_cpu("subnet", expected("subnets", 6));
}

static void test_cpu_arac_matches_pytorch(void **state)
{
    (void)state;
    on_cpu("arac", expected("aracs", 3));
}

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

static void tiles_equal_untiled(const sn_platform *platform)
{
    uint32_t i, tested = 0;
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    for (i = 0; i < model.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_config cfg;
        sn_plan *plan = malloc(sizeof *plan);
        size_t need;
        void *arena;
        float out[16];
        stitched_copy tiled = {NULL, 0}, whole = {NULL, 0};
        sn_model_config(&model, i, &kind, &text);
        if (kind != 1 || sn_config_parse(text, &cfg) != SN_OK || cfg.grid < 2 || cfg.mode != SN_REGION_MODE_HALO) {
            free(plan);
            continue;
        }
        assert_int_equal(sn_plan_arena_bytes(&model, &cfg, &need), SN_OK);
        assert_int_equal(posix_memalign(&arena, 64, need), 0);
        assert_int_equal(sn_plan_prepare(plan, &model, &cfg, arena, need, NULL), SN_OK);
        plan->arac.force_level = 0;
        assert_int_equal(sn_plan_invoke(plan, platform, input->data, out, keep_stitched, &tiled), SN_OK);
        {
            /* one tile: the whole canvas, no halo, no stitching; the plan's tile buffers are
             * sized by its largest region, so this run gets whole-map ones */
            const sn_layer *L = sn_arac_prefix(&plan->arac, 0);
            size_t most = (size_t)model.arch.canvas * model.arch.canvas, l;
            float *big[3];
            for (l = 0; l < plan->arac.prefix_count; ++l) {
                size_t n = (size_t)L[l].params.out_h * (size_t)L[l].params.out_w * (size_t)L[l].params.out_c;
                most = n > most ? n : most;
            }
            for (l = 0; l < 3; ++l) {
                assert_int_equal(posix_memalign((void **)&big[l], 64, most * sizeof(float)), 0);
                plan->arac.tile_buffers[l] = big[l];
            }
            plan->arac.tile_buffer_floats = (uint32_t)most;
            plan->arac.grid = 1;
            assert_int_equal(sn_plan_invoke(plan, platform, input->data, out, keep_stitched, &whole), SN_OK);
            assert_int_equal(plan->arac.num_regions, 1);
            for (l = 0; l < 3; ++l)
                free(big[l]);
        }
        assert_int_equal(tiled.n, whole.n);
        assert_memory_equal(tiled.data, whole.data, tiled.n * sizeof(float));
        free(tiled.data);
        free(whole.data);
        free(arena);
        free(plan);
        ++tested;
    }
    printf("# %s: %u ARAC grids: stitched high-level tiles equal the untiled micro-flow bit for bit\n",
           platform->name, tested);
    assert_true(tested > 0);
}

static void test_arac_tiles_equal_untiled(void **state)
{
    (void)state;
    tiles_equal_untiled(&sn_platform_reference);
}

static void test_cpu_arac_tiles_equal_untiled(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof isas / sizeof *isas; ++i) {
        sn_cpu_options opt;
        sn_cpu *cpu;
        sn_platform p;
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        sn_cpu_options_default(&opt);
        opt.isa = isas[i];
        assert_int_equal(sn_cpu_create(&model, &opt, &cpu, NULL), SN_OK);
        sn_cpu_platform(cpu, &p);
        p.name = isas[i];
        tiles_equal_untiled(&p);
        sn_cpu_destroy(cpu);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subnets_match_pytorch),
        cmocka_unit_test(test_arac_matches_pytorch),
        cmocka_unit_test(test_arac_tiles_equal_untiled),
        cmocka_unit_test(test_cpu_subnets_match_pytorch),
        cmocka_unit_test(test_cpu_arac_matches_pytorch),
        cmocka_unit_test(test_cpu_arac_tiles_equal_untiled),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("engine_golden", tests, setup, teardown);
}
