/* SubNet / ARAC config strings (both ARAC forms: CF-64's and the split-point form with
 * region mode and SKIP): parse -> format round trip, malformed text refused, configs outside
 * a model's elastic space refused. */
#include "sn_test.h"
#include <string.h>
#include "sn_config.h"

static void roundtrip(const char *text)
{
    sn_config c;
    char buf[SN_CONFIG_TEXT_MAX];
    assert_int_equal(sn_config_parse(text, &c), SN_OK);
    assert_int_equal(sn_config_format(&c, buf, sizeof buf), SN_OK);
    assert_string_equal(buf, text);
}

static void test_roundtrip(void **state)
{
    sn_config c;
    (void)state;
    roundtrip("r64-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5");
    roundtrip("r40-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3");
    roundtrip("arac-g4-t50-l100.25:r64-d2.2.3.2-e4.3.2.4.3.2.4.3.2-k5.3.5.3.5.3.5.3.5");
    assert_int_equal(sn_config_parse("arac-g2-t30-l75.50:r64-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3", &c), SN_OK);
    assert_true(c.is_arac);
    assert_int_equal(c.grid, 2);
    assert_int_equal(c.threshold_pct, 30);
    assert_int_equal(c.split, 0);
    assert_int_equal(c.mode, SN_REGION_MODE_HALO);
    assert_int_equal(c.num_levels, 2);
    assert_int_equal(c.levels_pct[0], 75);
    assert_int_equal(c.levels_pct[1], 50);
    assert_int_equal(c.subnet.num_blocks, 7);
    assert_int_equal(c.subnet.depths[3], 2);
    roundtrip("arac-p2-g8-z-t50-l100.50.0:r128-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5");
    roundtrip("arac-p1-g4-h-t0-l100.75.50.25.0:r128-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3");
    assert_int_equal(sn_config_parse("arac-p3-g2-h-t75-l75.25.0:r128-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3", &c),
                     SN_OK);
    assert_int_equal(c.split, 3);
    assert_int_equal(c.grid, 2);
    assert_int_equal(c.mode, SN_REGION_MODE_HALO);
    assert_int_equal(c.threshold_pct, 75);
    assert_int_equal(c.num_levels, 3);
    assert_int_equal(c.levels_pct[0], 75);
    assert_int_equal(c.levels_pct[2], 0);
    assert_int_equal(sn_config_parse("arac-p1-g2-z-t5-l100.50.0:r128-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3", &c),
                     SN_OK);
    assert_int_equal(c.mode, SN_REGION_MODE_TILE);
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "", "r64", "r64-d2.3-e4.4.4.4.4-k5.5.5.5", /* 5 blocks active, 5 e, 4 k */
        "r64-d2.3-e4.4.4.4-k5.5.5.5.5", "r64-d2.3-e4.4.4.4.4-k5.5.5.5.5-", "x64-d1-e2-k3",
        "r64-d1-e2-k3 ", "r64-d1..2-e2.2.2-k3.3.3", "r1234567-d1-e2-k3", "arac-g4-t50-l100:r64-d1-e2-k3",
        "arac-g4-t50-l100.25-r64-d1-e2-k3", "r64-d1-e-k3", "r-64-d1-e2-k3",
        "r64-d40-e2-k3", /* 40 blocks: more than SN_MAX_BLOCKS, and lists too short */
        /* the split-point form: P and mode together, >= 3 levels strictly decreasing, last 0 */
        "arac-p2-g4-h-t50-l100.0:r64-d1-e2-k3", "arac-p2-g4-h-t50-l100.50.25:r64-d1-e2-k3",
        "arac-p2-g4-h-t50-l50.100.0:r64-d1-e2-k3", "arac-p2-g4-h-t50-l100.50.50.0:r64-d1-e2-k3",
        "arac-p2-g4-t50-l100.50.0:r64-d1-e2-k3", "arac-g4-h-t50-l100.50.0:r64-d1-e2-k3",
        "arac-p2-g4-x-t50-l100.50.0:r64-d1-e2-k3", "arac-p0-g4-h-t50-l100.50.0:r64-d1-e2-k3",
        "arac-p2-g4-h-t50-l100.75.50.25.10.0:r64-d1-e2-k3", /* six levels: more than the most */
        "arac-p2-g4-hz-t50-l100.50.0:r64-d1-e2-k3", "arac-g4-t50-l100.50.0:r64-d1-e2-k3",
    };
    size_t i;
    sn_config c;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; ++i)
        if (sn_config_parse(bad[i], &c) != SN_ERR_FORMAT)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(sn_config_parse(NULL, &c), SN_ERR_FORMAT);
}

static void test_format_overflow(void **state)
{
    sn_config c;
    char small[10];
    (void)state;
    assert_int_equal(sn_config_parse("r40-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3", &c), SN_OK);
    assert_int_equal(sn_config_format(&c, small, sizeof small), SN_ERR_NO_MEMORY);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_check_against_model(void **state)
{
    sn_model m;
    sn_config c;
    const char *why = NULL;
    (void)state;
    memset(&m, 0, sizeof m);
    m.arch.canvas = 64;
    m.arch.num_stages = 2;
    m.arch.stage_min_depth[0] = 1; m.arch.stage_max_depth[0] = 2;
    m.arch.stage_min_depth[1] = 2; m.arch.stage_max_depth[1] = 3;
    m.arch.num_resolutions = 2; m.arch.resolutions[0] = 48; m.arch.resolutions[1] = 64;
    m.arch.num_expands = 2; m.arch.expands[0] = 2; m.arch.expands[1] = 4;
    m.arch.num_kernels = 2; m.arch.kernels[0] = 3; m.arch.kernels[1] = 5;
    m.arch.num_grids = 2; m.arch.grids[0] = 2; m.arch.grids[1] = 4;
    m.arch.num_levels = 2; m.arch.levels_pct[0] = 100; m.arch.levels_pct[1] = 25;
    assert_int_equal(sn_config_parse("r48-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_OK);
    assert_int_equal(sn_config_parse("r40-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_string_equal(why, "input resolution not served by this model");
    assert_int_equal(sn_config_parse("r48-d1.4-e2.4.4.4.4-k3.5.5.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("r48-d1.2-e3.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("r48-d1.2-e2.4.4-k7.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("r48-d1.2.2-e2.4.4.4.4-k3.5.5.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("arac-g4-t50-l100.25:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_OK);
    assert_int_equal(sn_config_parse("arac-g4-t50-l100.25:r48-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("arac-g3-t50-l100.25:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("arac-g4-t50-l100.50:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_config_parse("arac-g4-t101-l100.25:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    /* the split-point form needs a model with split points (format version 2) */
    assert_int_equal(sn_config_parse("arac-p1-g4-h-t50-l100.25.0:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    m.arch.num_levels = 3; m.arch.levels_pct[2] = 0;
    m.arch.num_splits = 1; m.arch.splits[0] = 1;
    m.arch.region_modes = SN_REGION_MODE_HALO;
    assert_int_equal(sn_config_check(&m, &c, &why), SN_OK);
    assert_int_equal(sn_config_parse("arac-p1-g4-z-t50-l100.25.0:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_string_equal(why, "ARAC region mode not served by this model");
    m.arch.region_modes |= SN_REGION_MODE_TILE;
    assert_int_equal(sn_config_check(&m, &c, &why), SN_OK);
    assert_int_equal(sn_config_parse("arac-p2-g4-z-t50-l100.25.0:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_string_equal(why, "ARAC split point not served by this model");
    assert_int_equal(sn_config_parse("arac-p1-g4-z-t50-l100.50.0:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
    assert_string_equal(why, "ARAC level not served by this model");
    /* CF-64's form is refused by a model with split points */
    assert_int_equal(sn_config_parse("arac-g4-t50-l100.25:r64-d1.2-e2.4.4-k3.5.5", &c), SN_OK);
    assert_int_equal(sn_config_check(&m, &c, &why), SN_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_format_overflow),
        cmocka_unit_test(test_check_against_model),
    };
    return sn_test_run("config", tests);
}
