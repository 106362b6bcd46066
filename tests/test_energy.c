/* Energy: the linear model's arithmetic and source string; RAPL through a fake powercap
 * tree (zone selection, wrap-around at max_energy_range_uj, polling); the perf power PMU's
 * sysfs description; the fall back to the model with the reason. */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_energy.h"
#include "sn_file.h"

static char root[] = "/tmp/sn_test_energy_XXXXXX";

/* Writes TEXT to ROOT/SUB/FILE in place (same inode), creating directories. */
static void put(const char *sub, const char *file, const char *text)
{
    char dir[512], path[600];
    FILE *fp;
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    assert_int_equal(sn_mkdir_p(dir), 0);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void clear_root(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/class", root);
    assert_int_equal(sn_remove_tree(path), 0);
    snprintf(path, sizeof path, "%s/bus", root);
    assert_int_equal(sn_remove_tree(path), 0);
}

static const sn_energy_domain *domain(const sn_energy_reading *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->domain_count; ++i)
        if (!strcmp(r->domains[i].name, name))
            return &r->domains[i];
    return NULL;
}

static void test_model_arithmetic(void **state)
{
    const sn_energy_work work = {1000000, 1000, 2000};
    sn_energy_reading r;
    char source[SN_ENERGY_SOURCE_BYTES];
    (void)state;
    /* 4.6 pJ * 1e6 + 160 pJ * 1000 + 1.25 pJ * 2000 = 4,762,500 pJ */
    assert_true(sn_test_close_rel(sn_energy_model_pj(&sn_energy_model_cpu_fp32, &work),
                                  4762500.0, 1e-12));
    /* 0.23 pJ * 1e6 + 160,000 + 2,500 = 392,500 pJ */
    assert_true(sn_test_close_rel(sn_energy_model_pj(&sn_energy_model_cpu_int8, &work),
                                  392500.0, 1e-12));
    assert_string_equal(sn_energy_model_source(&sn_energy_model_cpu_fp32, source, sizeof source),
                        "model:horowitz45-fp32(mac=4.6pJ,far=160pJ/B,near=1.25pJ/B)");
    sn_energy_model_reading(&sn_energy_model_cpu_fp32, &work, &r);
    assert_string_equal(r.source, source);
    assert_int_equal(r.domain_count, 3);
    assert_true(sn_test_close_rel(domain(&r, "compute")->energy_uj, 4.6, 1e-12));
    assert_true(sn_test_close_rel(domain(&r, "far")->energy_uj, 0.16, 1e-12));
    assert_true(sn_test_close_rel(domain(&r, "near")->energy_uj, 0.0025, 1e-12));
    assert_true(sn_test_close_rel(r.total_uj, 4.7625, 1e-12));
}

static void test_model_when_nothing_is_measured(void **state)
{
    const sn_energy_model custom = {"board-x", 1.0, 100.0, 2.0};
    const sn_energy_options options = {root, &custom, false};
    const sn_energy_work work = {10, 20, 30};
    sn_energy_meter *m;
    sn_energy_reading r;
    (void)state;
    clear_root();
    assert_int_equal(sn_energy_open(&options, &m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_kind_of(m), SN_ENERGY_MODEL);
    assert_string_equal(sn_energy_source(m), "model:board-x(mac=1pJ,far=100pJ/B,near=2pJ/B)");
    assert_non_null(strstr(sn_energy_note(m), "powercap"));
    assert_non_null(strstr(sn_energy_note(m), "no perf power PMU"));
    assert_int_equal(sn_energy_start(m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_stop(m, &work, &r), SN_ENERGY_OK);
    assert_string_equal(r.source, sn_energy_source(m));
    assert_true(sn_test_close_rel(r.total_uj, (10.0 + 2000.0 + 60.0) * 1e-6, 1e-12));
    sn_energy_close(m);
}

static void make_powercap_tree(void)
{
    clear_root();
    put("class/powercap/intel-rapl", "enabled", "1\n"); /* the control type: no zone */
    put("class/powercap/intel-rapl:0", "name", "package-0\n");
    put("class/powercap/intel-rapl:0", "max_energy_range_uj", "262143328850\n");
    put("class/powercap/intel-rapl:0", "energy_uj", "262143000000\n"); /* about to wrap */
    put("class/powercap/intel-rapl:0:0", "name", "core\n"); /* inside the package */
    put("class/powercap/intel-rapl:0:0", "max_energy_range_uj", "262143328850\n");
    put("class/powercap/intel-rapl:0:0", "energy_uj", "7\n");
    put("class/powercap/intel-rapl:0:1", "name", "dram\n");
    put("class/powercap/intel-rapl:0:1", "max_energy_range_uj", "65532610987\n");
    put("class/powercap/intel-rapl:0:1", "energy_uj", "1000\n");
    put("class/powercap/intel-rapl:1", "name", "package-1\n");
    put("class/powercap/intel-rapl:1", "max_energy_range_uj", "262143328850\n");
    put("class/powercap/intel-rapl:1", "energy_uj", "500\n");
    put("class/powercap/intel-rapl:2", "name", "psys\n"); /* covers everything */
    put("class/powercap/intel-rapl:2", "max_energy_range_uj", "262143328850\n");
    put("class/powercap/intel-rapl:2", "energy_uj", "1\n");
}

static void test_powercap_with_wrap(void **state)
{
    const sn_energy_options options = {root, NULL, false};
    sn_energy_meter *m;
    sn_energy_reading r;
    (void)state;
    make_powercap_tree();
    assert_int_equal(sn_energy_open(&options, &m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_kind_of(m), SN_ENERGY_RAPL_POWERCAP);
    assert_string_equal(sn_energy_source(m), "measured:rapl-powercap");
    assert_string_equal(sn_energy_note(m), "RAPL powercap zones: package-0, dram-0, package-1");
    assert_int_equal(sn_energy_start(m), SN_ENERGY_OK);
    /* package-0 wraps: (262143328850 - 262143000000) + 1000000 = 1328850 uJ */
    put("class/powercap/intel-rapl:0", "energy_uj", "1000000\n");
    put("class/powercap/intel-rapl:0:1", "energy_uj", "3000\n");
    put("class/powercap/intel-rapl:0:0", "energy_uj", "999999\n"); /* ignored */
    put("class/powercap/intel-rapl:1", "energy_uj", "1500500\n");
    assert_int_equal(sn_energy_poll(m), SN_ENERGY_OK);
    put("class/powercap/intel-rapl:0", "energy_uj", "2000000\n"); /* +1000000 after the wrap */
    assert_int_equal(sn_energy_stop(m, NULL, &r), SN_ENERGY_OK);
    assert_string_equal(r.source, "measured:rapl-powercap");
    assert_int_equal(r.domain_count, 3);
    assert_string_equal(r.domains[0].name, "package-0");
    assert_string_equal(r.domains[1].name, "dram-0");
    assert_string_equal(r.domains[2].name, "package-1");
    assert_true(r.domains[0].energy_uj == 2328850.0);
    assert_true(r.domains[1].energy_uj == 2000.0);
    assert_true(r.domains[2].energy_uj == 1500000.0);
    assert_true(r.total_uj == 3830850.0);
    /* a new region starts from zero */
    assert_int_equal(sn_energy_start(m), SN_ENERGY_OK);
    put("class/powercap/intel-rapl:1", "energy_uj", "1500600\n");
    assert_int_equal(sn_energy_stop(m, NULL, &r), SN_ENERGY_OK);
    assert_true(r.total_uj == 100.0);
    /* a counter that disappears mid-run is an error, not a zero */
    put("class/powercap/intel-rapl:1", "energy_uj", "not a number\n");
    assert_int_equal(sn_energy_start(m), SN_ENERGY_READ_FAILED);
    sn_energy_close(m);
}

static void test_powercap_unreadable_falls_back(void **state)
{
    const sn_energy_options options = {root, NULL, false};
    char path[512];
    sn_energy_meter *m;
    (void)state;
    make_powercap_tree();
    snprintf(path, sizeof path, "%s/class/powercap/intel-rapl:1/energy_uj", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sn_energy_open(&options, &m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_kind_of(m), SN_ENERGY_MODEL);
    assert_non_null(strstr(sn_energy_note(m), "intel-rapl:1/energy_uj"));
    assert_non_null(strstr(sn_energy_source(m), "model:horowitz45-fp32("));
    sn_energy_close(m);
    /* model_only does not look */
    make_powercap_tree();
    {
        const sn_energy_options only = {root, &sn_energy_model_cpu_int8, true};
        assert_int_equal(sn_energy_open(&only, &m), SN_ENERGY_OK);
        assert_int_equal(sn_energy_kind_of(m), SN_ENERGY_MODEL);
        assert_non_null(strstr(sn_energy_source(m), "model:horowitz45-int8("));
        sn_energy_close(m);
    }
}

static void make_power_pmu(const char *cpumask)
{
    clear_root();
    put("bus/event_source/devices/power", "type", "4242\n"); /* no such PMU type */
    put("bus/event_source/devices/power", "cpumask", cpumask);
    put("bus/event_source/devices/power/events", "energy-pkg", "event=0x02\n");
    put("bus/event_source/devices/power/events", "energy-pkg.scale",
        "2.3283064365386962890625e-10\n");
    put("bus/event_source/devices/power/events", "energy-pkg.unit", "Joules\n");
    put("bus/event_source/devices/power/events", "energy-dram", "event=0x03\n");
    put("bus/event_source/devices/power/events", "energy-dram.scale",
        "1.52587890625e-05\n");
}

static void test_perf_power_description(void **state)
{
    const sn_energy_options options = {root, NULL, false};
    sn_energy_perf_power pp;
    sn_energy_meter *m;
    char why[256], path[512];
    (void)state;
    make_power_pmu("0,2-3\n");
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), 0);
    assert_int_equal(pp.type, 4242);
    assert_true(pp.pkg_config == 2 && pp.dram_config == 3 && pp.has_dram);
    assert_true(pp.pkg_scale_j == 2.3283064365386962890625e-10); /* 2^-32 J */
    assert_true(pp.dram_scale_j == 1.52587890625e-05);           /* 2^-16 J */
    assert_int_equal(pp.cpu_count, 3);
    assert_true(pp.cpus[0] == 0 && pp.cpus[1] == 2 && pp.cpus[2] == 3);
    /* the fake type cannot be opened: the model stands in and the note says why */
    assert_int_equal(sn_energy_open(&options, &m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_kind_of(m), SN_ENERGY_MODEL);
    assert_non_null(strstr(sn_energy_note(m), "perf_event_open(type 4242, config 0x2, cpu 0)"));
    sn_energy_close(m);

    /* malformed descriptions are refused with the file named */
    make_power_pmu("zero\n");
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), -1);
    assert_non_null(strstr(why, "cpumask"));
    make_power_pmu("0\n");
    put("bus/event_source/devices/power/events", "energy-pkg.unit", "Watts\n");
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), -1);
    assert_non_null(strstr(why, "Watts"));
    make_power_pmu("0\n");
    put("bus/event_source/devices/power/events", "energy-pkg", "umask=0x1\n");
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), -1);
    assert_non_null(strstr(why, "event=0xNN"));
    make_power_pmu("0\n");
    snprintf(path, sizeof path, "%s/bus/event_source/devices/power/events/energy-dram", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), 0);
    assert_false(pp.has_dram);
    clear_root();
    assert_int_equal(sn_energy_perf_power_describe(root, &pp, why, sizeof why), -1);
    assert_non_null(strstr(why, "no perf power PMU"));
}

/* The real machine: whatever it has, the source is labelled. */
static void test_this_machine(void **state)
{
    sn_energy_meter *m;
    sn_energy_reading r;
    const sn_energy_work work = {100, 10, 10};
    (void)state;
    assert_int_equal(sn_energy_open(NULL, &m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_start(m), SN_ENERGY_OK);
    assert_int_equal(sn_energy_stop(m, &work, &r), SN_ENERGY_OK);
    assert_true(!strncmp(r.source, "measured:", 9) || !strncmp(r.source, "model:", 6));
    assert_true(r.total_uj >= 0.0);
    if (sn_energy_kind_of(m) == SN_ENERGY_MODEL)
        assert_true(strlen(sn_energy_note(m)) > 0);
    sn_energy_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_arithmetic),
        cmocka_unit_test(test_model_when_nothing_is_measured),
        cmocka_unit_test(test_powercap_with_wrap),
        cmocka_unit_test(test_powercap_unreadable_falls_back),
        cmocka_unit_test(test_perf_power_description),
        cmocka_unit_test(test_this_machine),
    };
    int failed;
    if (!mkdtemp(root))
        return sn_test_skip_all("cannot create a temporary directory");
    failed = sn_test_run("energy", tests);
    sn_remove_tree(root);
    return failed;
}
