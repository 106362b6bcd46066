/* Query traces: the file format (every malformed case names its line), write -> load
 * round trips, generator determinism (pinned hashes), the generators' statistics, and the
 * importers on the three real traces in workloads/traces/real/. */
#include "sn_test.h"
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_file.h"
#include "sn_trace.h"
#include "sn_trace_impl.h"

#define REAL "workloads/traces/real/"
#define LLM REAL "AzureLLMInferenceTrace_conv.csv"
#define F2019 REAL "azure_functions_2019_sample1000_inv.csv"
#define F2021 REAL "azure_functions_2021_200.csv"

static char dir[] = "/tmp/sn_test_trace_XXXXXX";
static char path[256], path2[256];

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t i;
    for (i = 0; i < n; ++i)
        h = (h ^ p[i]) * UINT64_C(0x100000001B3);
    return h;
}

static uint64_t file_hash(const char *file)
{
    void *data;
    size_t size;
    uint64_t h;
    assert_int_equal(sn_read_file(file, &data, &size), 0);
    h = fnv1a(UINT64_C(0xCBF29CE484222325), data, size);
    free(data);
    return h;
}

static void write_text(const char *text)
{
    assert_int_equal(sn_write_file_atomic(path, text, strlen(text)), 0);
}

/* Loads TEXT (as a file) and expects a format error whose message ends with "path:" +
 * WANT, e.g. "7: unknown sample 10000 ...". */
static void expect_load_error(const char *text, const char *want)
{
    sn_trace t;
    char err[1024], full[1024];
    write_text(text);
    snprintf(full, sizeof full, "%s:%s", path, want);
    assert_int_equal(sn_trace_load(path, 10000, &t, err, sizeof err), SN_TRACE_ERR_FORMAT);
    assert_null(t.arrival_us);
    if (strcmp(err, full) != 0)
        fail_msg("for:\n%s\nexpected: %s\n     got: %s", text, full, err);
}

#define HEAD                                                                                       \
    "# supernav-trace 1\n# mode: open\n# source: test\n"                                          \
    "arrival_us,sample,acc_floor,lat_ceiling_us\n"

static void test_malformed_traces_name_the_line(void **state)
{
    (void)state;
    expect_load_error(HEAD "0,1,0.86,100\n5,2,,\n3,1,,\n",
                      "7: arrival times go backwards: 3 us after 5 us (line 6)");
    expect_load_error(HEAD "0,1,,\n-5,1,,\n", "6: negative arrival time -5 us");
    expect_load_error(HEAD "1.5,1,,\n", "5: arrival_us '1.5' is not an integer in 0..2^60 "
                                        "(microseconds)");
    expect_load_error(HEAD "99999999999999999999,1,,\n",
                      "5: arrival_us '99999999999999999999' is not an integer in 0..2^60 "
                      "(microseconds)");
    expect_load_error(HEAD "0,1,,\n0,10000,,\n",
                      "6: unknown sample 10000 (the sample library has 10000: 0..9999)");
    expect_load_error(HEAD "0,-1,,\n",
                      "5: unknown sample -1 (the sample library has 10000: 0..9999)");
    expect_load_error(HEAD "0,x,,\n", "5: sample 'x' is not an integer");
    expect_load_error(HEAD "0,1,1.5,\n", "5: impossible accuracy floor 1.5 (must be in [0, 1])");
    expect_load_error(HEAD "0,1,1.0001,\n",
                      "5: impossible accuracy floor 1.0001 (must be in [0, 1])");
    expect_load_error(HEAD "0,1,-0.1,\n",
                      "5: impossible accuracy floor -0.1 (must be in [0, 1])");
    expect_load_error(HEAD "0,1,0.12345,\n", "5: accuracy floor 0.12345 has more than 4 decimals");
    expect_load_error(HEAD "0,1,nan,\n", "5: acc_floor 'nan' is not a decimal number");
    expect_load_error(HEAD "0,1,.5,\n", "5: acc_floor '.5' is not a decimal number");
    expect_load_error(HEAD "0,1,,0\n",
                      "5: impossible latency ceiling 0 us (must be > 0, or empty for none)");
    expect_load_error(HEAD "0,1,,-4\n",
                      "5: impossible latency ceiling -4 us (must be > 0, or empty for none)");
    expect_load_error(HEAD "0,1,,2.5\n",
                      "5: lat_ceiling_us '2.5' is not an integer (microseconds)");
    expect_load_error(HEAD "0,1,\n", "5: expected 4 fields (arrival_us,sample,acc_floor,"
                                     "lat_ceiling_us), found 3");
    expect_load_error(HEAD "0,1,,,\n", "5: expected 4 fields (arrival_us,sample,acc_floor,"
                                       "lat_ceiling_us), found more");
    expect_load_error(HEAD "0,1,,\n\n1,1,,\n", "6: empty line");
    expect_load_error(HEAD "0,1,,\n# late: x\n", "6: metadata line after the header");
    expect_load_error(HEAD, "4: no queries after the header");
    /* bad header and magic */
    expect_load_error("# supernav-trace 1\narrival,sample\n0,1\n",
                      "2: bad header 'arrival,sample' (expected "
                      "'arrival_us,sample,acc_floor,lat_ceiling_us')");
    expect_load_error("# supernav-trace 1\narrival_us,sample,acc_floor,lat_ceiling_us,x\n",
                      "2: bad header 'arrival_us,sample,acc_floor,lat_ceiling_us,x' (expected "
                      "'arrival_us,sample,acc_floor,lat_ceiling_us')");
    expect_load_error("# supernav-trace 1\n# mode: open\n",
                      "2: no header line (expected 'arrival_us,sample,acc_floor,lat_ceiling_us')");
    expect_load_error("arrival_us,sample,acc_floor,lat_ceiling_us\n0,1,,\n",
                      "1: not a supernav trace (the first line must be '# supernav-trace 1')");
    expect_load_error("", "1: not a supernav trace (the file is empty)");
    expect_load_error("# supernav-trace 2\n",
                      "1: unsupported trace format version '2' (this build reads 1)");
    expect_load_error("# supernav-trace 1\n# mode: half\n",
                      "2: mode must be 'open' or 'closed', not 'half'");
    expect_load_error("# supernav-trace 1\n#mode: open\n", "2: metadata lines read '# key: value'");
    expect_load_error("# supernav-trace 1\n# Mode: open\n",
                      "2: metadata lines read '# key: value' (key: a-z, 0-9, _)");
    {
        static const char nul[] = "# supernav-trace 1\narrival_us,sample,acc_floor,lat_ceiling_us"
                                  "\n0,1\0,,\n";
        sn_trace t;
        char err[512], want[512];
        assert_int_equal(sn_write_file_atomic(path, nul, sizeof nul - 1), 0);
        assert_int_equal(sn_trace_load(path, 10, &t, err, sizeof err), SN_TRACE_ERR_FORMAT);
        snprintf(want, sizeof want, "%s:3: NUL byte (not a text file)", path);
        assert_string_equal(err, want);
    }
}

static void test_load_accepts_the_format(void **state)
{
    sn_trace t;
    char err[512], value[64];
    (void)state;
    /* CRLF line ends, no final line end, closed mode, both "none" forms, floors 0 and 1 */
    write_text("# supernav-trace 1\r\n# mode: closed\r\n# seed: 42\r\n# note:\r\n"
               "arrival_us,sample,acc_floor,lat_ceiling_us\r\n0,0,1,5\r\n0,9,0,\r\n7,3,,"
               "1152921504606846976\r\n8,4,0.8812,");
    assert_int_equal(sn_trace_load(path, 10, &t, err, sizeof err), SN_TRACE_OK);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.mode, SN_TRACE_MODE_CLOSED);
    assert_int_equal(t.arrival_us[2], 7);
    assert_int_equal(t.sample[1], 9);
    assert_true(sn_trace_has_floor(&t, 0) && t.acc_floor[0] == 1.0f);
    assert_true(sn_trace_has_floor(&t, 1) && t.acc_floor[1] == 0.0f);
    assert_false(sn_trace_has_floor(&t, 2));
    assert_true(t.acc_floor[3] == 0.8812f);
    assert_int_equal(t.lat_ceiling_us[0], 5);
    assert_false(sn_trace_has_ceiling(&t, 1));
    assert_true(t.lat_ceiling_us[2] == INT64_C(1) << 60);
    assert_string_equal(t.metadata, "seed: 42\nnote: \n");
    assert_int_equal(sn_trace_meta_get(&t, "seed", value, sizeof value), 0);
    assert_string_equal(value, "42");
    assert_int_equal(sn_trace_meta_get(&t, "note", value, sizeof value), 0);
    assert_string_equal(value, "");
    assert_int_equal(sn_trace_meta_get(&t, "see", value, sizeof value), -1);
    assert_int_equal(sn_trace_meta_get(&t, "mode", value, sizeof value), -1);
    sn_trace_free(&t);
    sn_trace_free(&t); /* safe twice */
    /* the sample bound is the caller's */
    assert_int_equal(sn_trace_load(path, 9, &t, err, sizeof err), SN_TRACE_ERR_FORMAT);
    assert_int_equal(sn_trace_load(path, 0, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    assert_int_equal(sn_trace_load("/nonexistent/t.csv", 10, &t, err, sizeof err),
                     SN_TRACE_ERR_IO);
    assert_string_equal(err, "/nonexistent/t.csv: No such file or directory");
    assert_int_equal(sn_trace_load(dir, 10, &t, err, sizeof err), SN_TRACE_ERR_IO);
}

static void assert_same_trace(const sn_trace *a, const sn_trace *b)
{
    size_t i;
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->mode, b->mode);
    assert_string_equal(a->metadata, b->metadata);
    assert_memory_equal(a->arrival_us, b->arrival_us, a->count * sizeof *a->arrival_us);
    assert_memory_equal(a->sample, b->sample, a->count * sizeof *a->sample);
    assert_memory_equal(a->lat_ceiling_us, b->lat_ceiling_us,
                        a->count * sizeof *a->lat_ceiling_us);
    for (i = 0; i < a->count; ++i)
        assert_true(sn_trace_has_floor(a, i) ? a->acc_floor[i] == b->acc_floor[i]
                                             : !sn_trace_has_floor(b, i));
}

static void test_round_trip(void **state)
{
    static const sn_trace_kind kinds[5] = {SN_TRACE_KIND_SINGLE_STREAM, SN_TRACE_KIND_SERVER,
                                           SN_TRACE_KIND_OFFLINE, SN_TRACE_KIND_SUSHI,
                                           SN_TRACE_KIND_BURSTY};
    sn_trace_gen_params p;
    sn_trace t, u;
    char err[512];
    int k;
    (void)state;
    for (k = 0; k < 5; ++k) {
        sn_trace_gen_params_default(&p, kinds[k]);
        p.count = 3000;
        p.seed = 99;
        p.constraints.attach = SN_TRACE_ATTACH_EITHER;
        assert_int_equal(sn_trace_generate(&p, &t, err, sizeof err), SN_TRACE_OK);
        assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_OK);
        assert_int_equal(sn_trace_load(path, 10000, &u, err, sizeof err), SN_TRACE_OK);
        assert_same_trace(&t, &u);
        /* canonical: writing the loaded trace gives the same bytes */
        assert_int_equal(sn_trace_write_atomic(path2, &u, err, sizeof err), SN_TRACE_OK);
        assert_int_equal(file_hash(path), file_hash(path2));
        sn_trace_free(&t);
        sn_trace_free(&u);
    }
}

static void test_writer_refuses_invalid_traces(void **state)
{
    sn_trace t;
    char err[512];
    (void)state;
    unlink(path);
    assert_int_equal(sn_trace_alloc(&t, 2), SN_TRACE_OK);
    t.arrival_us[0] = 5;
    t.arrival_us[1] = 4;
    t.sample[0] = t.sample[1] = 0;
    t.acc_floor[0] = t.acc_floor[1] = NAN;
    t.lat_ceiling_us[0] = t.lat_ceiling_us[1] = 0;
    assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    t.arrival_us[1] = 5;
    t.acc_floor[1] = 1.5f;
    assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    t.acc_floor[1] = 0.5f;
    t.lat_ceiling_us[1] = -1;
    assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    t.lat_ceiling_us[1] = 1;
    assert_int_equal(access(path, F_OK), -1); /* nothing written */
    assert_int_equal(sn_trace_write_atomic("/nonexistent/t.csv", &t, err, sizeof err),
                     SN_TRACE_ERR_IO);
    assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_OK);
    sn_trace_free(&t);
}

static sn_trace generate(sn_trace_kind kind, uint64_t seed, uint32_t count)
{
    sn_trace_gen_params p;
    sn_trace t;
    char err[512];
    sn_trace_gen_params_default(&p, kind);
    p.seed = seed;
    p.count = count;
    if (sn_trace_generate(&p, &t, err, sizeof err) != SN_TRACE_OK)
        fail_msg("%s", err);
    return t;
}

/* Same seed -> byte-identical file; another seed -> another file. */
static void test_same_seed_same_bytes(void **state)
{
    sn_trace a = generate(SN_TRACE_KIND_BURSTY, 5, 500), b = generate(SN_TRACE_KIND_BURSTY, 5, 500);
    sn_trace c = generate(SN_TRACE_KIND_BURSTY, 6, 500);
    char err[512];
    (void)state;
    assert_int_equal(sn_trace_write_atomic(path, &a, err, sizeof err), SN_TRACE_OK);
    assert_int_equal(sn_trace_write_atomic(path2, &b, err, sizeof err), SN_TRACE_OK);
    assert_int_equal(file_hash(path), file_hash(path2));
    assert_int_equal(sn_trace_write_atomic(path2, &c, err, sizeof err), SN_TRACE_OK);
    assert_int_not_equal(file_hash(path), file_hash(path2));
    /* query i's sample does not depend on the kind or the count */
    sn_trace_free(&b);
    b = generate(SN_TRACE_KIND_SERVER, 5, 100);
    assert_memory_equal(a.sample, b.sample, 100 * sizeof *a.sample);
    sn_trace_free(&a);
    sn_trace_free(&b);
    sn_trace_free(&c);
}

/* Pinned trace K: 0-4 each kind (200 queries, seed 2024, defaults), 5 a sushi trace with
 * custom constraints, 6 Functions 2021 with the defaults, 7 Functions 2019 minutes 1-5
 * with seed 3, attach either. */
static void pinned_trace(int k, sn_trace *t)
{
    sn_trace_gen_params p;
    sn_trace_import_params q;
    char err[512];
    if (k >= 6) {
        sn_trace_import_params_default(&q, k == 6 ? SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021
                                                  : SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019);
        if (k == 7) {
            q.seed = 3;
            q.minute_first = 1;
            q.minute_last = 5;
            q.constraints.attach = SN_TRACE_ATTACH_EITHER;
        }
        assert_int_equal(sn_trace_import(&q, k == 6 ? F2021 : F2019, t, err, sizeof err),
                         SN_TRACE_OK);
        return;
    }
    sn_trace_gen_params_default(&p, k < 5 ? (sn_trace_kind)(k + 1) : SN_TRACE_KIND_SUSHI);
    p.seed = 2024;
    p.count = 200;
    if (k == 5) {
        p.sample_count = 77;
        p.rate_mqps = 123456;
        p.dwell = 7;
        p.jump_ppm = 250000;
        p.constraints.attach = SN_TRACE_ATTACH_EITHER;
        p.constraints.levels = 3;
        p.constraints.floor_bp[0] = 8623;
        p.constraints.floor_bp[1] = 8800;
        p.constraints.floor_bp[2] = 9022;
        p.constraints.ceiling_base_us = 33333;
        p.constraints.ceiling_permille[0] = 150;
        p.constraints.ceiling_permille[1] = 500;
        p.constraints.ceiling_permille[2] = 1000;
    }
    assert_int_equal(sn_trace_generate(&p, t, err, sizeof err), SN_TRACE_OK);
}

/* Pinned: FNV-1a 64 of each pinned trace's file. A change here means every machine's
 * traces changed: document it in workloads/traces/README.md, on purpose, or fix the
 * drift. */
static void test_pinned_hashes(void **state)
{
    static const uint64_t expected[8] = {
        UINT64_C(0xDDC37C7A4BD13376), UINT64_C(0x96FC4F69B5F3AD15), /* single-stream, server */
        UINT64_C(0x88D4BCA4F4E632DA), UINT64_C(0x0EFEFD3B76FB920D), /* offline, sushi */
        UINT64_C(0xA55FF0F432DCE518), UINT64_C(0xFDCFF631E45C5119), /* bursty, custom sushi */
        UINT64_C(0xAE5C36B7C129BEF4), UINT64_C(0x6853DDA9AC2887F7), /* 2021, 2019 1-5 */
    };
    sn_trace t;
    char err[512];
    int k, mismatches = 0;
    (void)state;
    for (k = 0; k < 8; ++k) {
        uint64_t h;
        pinned_trace(k, &t);
        assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_OK);
        sn_trace_free(&t);
        h = file_hash(path);
        if (h != expected[k]) {
            printf("# pinned trace %d: FNV-1a 0x%016" PRIX64 ", pinned 0x%016" PRIX64 "\n", k, h,
                   expected[k]);
            ++mismatches;
        }
    }
    assert_int_equal(mismatches, 0);
}

static double mean_gap_us(const sn_trace *t)
{
    return (double)(t->arrival_us[t->count - 1] - t->arrival_us[0]) / (double)(t->count - 1);
}

/* The models: the arrival rates, the closed and offline shapes, the constraint levels. */
static void test_generator_statistics(void **state)
{
    sn_trace_gen_params p;
    sn_trace t;
    char err[512];
    size_t i, same = 0, below_mean = 0, per_level[5] = {0};
    double mean;
    (void)state;
    /* server: exponential gaps with mean 1/rate; P(gap < mean) = 1 - 1/e */
    sn_trace_gen_params_default(&p, SN_TRACE_KIND_SERVER);
    p.count = 100000;
    p.rate_mqps = 250000; /* 250 queries/s: mean gap 4000 us */
    assert_int_equal(sn_trace_generate(&p, &t, err, sizeof err), SN_TRACE_OK);
    mean = mean_gap_us(&t);
    assert_true(fabs(mean - 4000.0) < 4000.0 * 0.01);
    for (i = 1; i < t.count; ++i)
        below_mean += t.arrival_us[i] - t.arrival_us[i - 1] < 4000;
    assert_true(fabs((double)below_mean / (double)(t.count - 1) - (1.0 - exp(-1.0))) < 0.01);
    assert_int_equal(t.mode, SN_TRACE_MODE_OPEN);
    /* independent uniform levels, floor and ceiling of the same level */
    for (i = 0; i < t.count; ++i) {
        uint32_t level = (uint32_t)((double)t.acc_floor[i] * 10000.0 + 0.5) / 100 - 86;
        assert_true(level < 5);
        assert_int_equal(t.lat_ceiling_us[i], 2000 * (level + 1));
        ++per_level[level];
        same += i && t.acc_floor[i] == t.acc_floor[i - 1];
    }
    for (i = 0; i < 5; ++i)
        assert_true(per_level[i] > 19000 && per_level[i] < 21000);
    assert_true(same < 21000);
    sn_trace_free(&t);

    /* sushi: the same arrivals, levels that dwell (mean 50 queries) */
    sn_trace_gen_params_default(&p, SN_TRACE_KIND_SUSHI);
    p.count = 100000;
    p.rate_mqps = 250000;
    assert_int_equal(sn_trace_generate(&p, &t, err, sizeof err), SN_TRACE_OK);
    assert_true(mean_gap_us(&t) == mean);
    for (same = 0, i = 1; i < t.count; ++i)
        same += t.acc_floor[i] == t.acc_floor[i - 1];
    assert_true(same > 97000); /* 1 - 1/50 of the steps keep the level, a few more stay */
    sn_trace_free(&t);

    /* bursty: mean rate (40 x 2 + 2 x 8) / 10 = 9.6 queries/s; gaps far more variable */
    sn_trace_gen_params_default(&p, SN_TRACE_KIND_BURSTY);
    p.count = 200000;
    assert_int_equal(sn_trace_generate(&p, &t, err, sizeof err), SN_TRACE_OK);
    assert_true(fabs(1e6 / mean_gap_us(&t) - 9.6) < 9.6 * 0.05);
    sn_trace_free(&t);

    /* offline: all at 0; single-stream: closed loop, all at 0 */
    t = generate(SN_TRACE_KIND_OFFLINE, 1, 100);
    assert_int_equal(t.mode, SN_TRACE_MODE_OPEN);
    assert_int_equal(t.arrival_us[99], 0);
    sn_trace_free(&t);
    t = generate(SN_TRACE_KIND_SINGLE_STREAM, 1, 100);
    assert_int_equal(t.mode, SN_TRACE_MODE_CLOSED);
    assert_int_equal(t.arrival_us[99], 0);
    sn_trace_free(&t);
}

static void test_generator_parameters_are_checked(void **state)
{
    sn_trace_gen_params p;
    sn_trace t;
    char err[512];
    (void)state;
#define EXPECT_PARAM(change)                                                                       \
    do {                                                                                           \
        sn_trace_gen_params_default(&p, SN_TRACE_KIND_BURSTY);                                     \
        change;                                                                                    \
        assert_int_equal(sn_trace_generate(&p, &t, err, sizeof err), SN_TRACE_ERR_PARAM);          \
        assert_null(t.arrival_us);                                                                 \
    } while (0)
    EXPECT_PARAM(p.count = 0);
    EXPECT_PARAM(p.count = SN_TRACE_MAX_COUNT + 1);
    EXPECT_PARAM(p.sample_count = 0);
    EXPECT_PARAM(p.kind = (sn_trace_kind)9);
    EXPECT_PARAM(p.on_rate_mqps = 0);
    EXPECT_PARAM(p.on_mean_us = 0);
    EXPECT_PARAM(p.dwell = 0);
    EXPECT_PARAM(p.jump_ppm = 1000001);
    EXPECT_PARAM(p.constraints.levels = 0);
    EXPECT_PARAM(p.constraints.levels = SN_TRACE_MAX_LEVELS + 1);
    EXPECT_PARAM(p.constraints.floor_bp[2] = 10001);
    EXPECT_PARAM(p.constraints.ceiling_permille[4] = 0);
    EXPECT_PARAM(p.constraints.ceiling_base_us = 0);
    EXPECT_PARAM(p.constraints.attach = (sn_trace_attach)7);
    EXPECT_PARAM((p.kind = SN_TRACE_KIND_SERVER, p.rate_mqps = 0));
    /* 10^7 queries at 0.001 queries/s would span 317,000 years */
    EXPECT_PARAM((p.kind = SN_TRACE_KIND_SERVER, p.rate_mqps = 1, p.count = 10000000));
    /* on visits of ~1 us at 0.001 queries/s: about 10^9 switches per arrival */
    EXPECT_PARAM((p.on_rate_mqps = 1, p.off_rate_mqps = 0, p.on_mean_us = 1, p.off_mean_us = 1,
                  p.count = 10));
#undef EXPECT_PARAM
}

static sn_trace import(sn_trace_format format, const char *src, uint32_t first, uint32_t last,
                       uint64_t rate_mqps)
{
    sn_trace_import_params p;
    sn_trace t;
    char err[512];
    sn_trace_import_params_default(&p, format);
    p.minute_first = first;
    p.minute_last = last;
    p.rate_mqps = rate_mqps;
    if (sn_trace_import(&p, src, &t, err, sizeof err) != SN_TRACE_OK)
        fail_msg("%s", err);
    return t;
}

static void check_imported(const sn_trace *t, size_t count, int64_t span_us)
{
    size_t i;
    assert_int_equal(t->count, count);
    assert_int_equal(t->arrival_us[0], 0);
    assert_int_equal(t->arrival_us[count - 1], span_us);
    for (i = 0; i < count; ++i) {
        assert_true(i == 0 || t->arrival_us[i] >= t->arrival_us[i - 1]);
        assert_true(t->sample[i] < SN_TRACE_CF64_TEST_SAMPLES);
        assert_true(sn_trace_has_floor(t, i) && sn_trace_has_ceiling(t, i));
    }
}

static void test_import_real_traces(void **state)
{
    sn_trace t, u;
    char err[512], value[64];
    size_t i, per_level[5] = {0};
    (void)state;
    /* Azure LLM 2023: 19,366 requests over 3501.72 s (18:15:46.68059 .. 19:14:08.40253) */
    t = import(SN_TRACE_FORMAT_AZURE_LLM, LLM, 0, 0, 0);
    check_imported(&t, 19366, INT64_C(3501721937));
    assert_int_equal(t.arrival_us[1], 4314579); /* 18:15:50.9951690 - 18:15:46.6805900 */
    assert_true(t.acc_floor[0] == 0.86f && t.lat_ceiling_us[0] == 2000); /* 374, 44 tokens */
    for (i = 0; i < t.count; ++i)
        ++per_level[(uint32_t)((double)t.acc_floor[i] * 10000.0 + 0.5) / 100 - 86];
    for (i = 0; i < 5; ++i) /* quantile classes: about a fifth each */
        assert_true(per_level[i] > 3700 && per_level[i] < 4100);
    assert_int_equal(sn_trace_meta_get(&t, "format", value, sizeof value), 0);
    assert_string_equal(value, "azure-llm");
    assert_int_equal(sn_trace_write_atomic(path, &t, err, sizeof err), SN_TRACE_OK);
    assert_int_equal(sn_trace_load(path, 10000, &u, err, sizeof err), SN_TRACE_OK);
    assert_same_trace(&t, &u);
    sn_trace_free(&u);
    /* rescaled to 50 queries/s: the speed-up is recorded and gives that rate */
    u = import(SN_TRACE_FORMAT_AZURE_LLM, LLM, 0, 0, 50000);
    assert_true(fabs(1e6 / mean_gap_us(&u) - 50.0) < 0.01);
    assert_int_equal(sn_trace_meta_get(&u, "scale", value, sizeof value), 0);
    assert_string_equal(value, "9.041368");
    assert_memory_equal(t.sample, u.sample, t.count * sizeof *t.sample);
    sn_trace_free(&u);
    sn_trace_free(&t);

    /* Azure Functions 2019: 608,228 invocations in 1,440 minutes; minutes 601-660 hold
     * 23,715 of them */
    t = import(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019, F2019, 0, 0, 0);
    assert_int_equal(t.count, 608228);
    assert_true(t.arrival_us[t.count - 1] < INT64_C(86400000000));
    check_imported(&t, 608228, t.arrival_us[t.count - 1]);
    sn_trace_free(&t);
    t = import(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019, F2019, 601, 660, 0);
    check_imported(&t, 23715, t.arrival_us[t.count - 1]);
    assert_true(t.arrival_us[t.count - 1] < INT64_C(3600000000));
    assert_int_equal(sn_trace_meta_get(&t, "minutes", value, sizeof value), 0);
    assert_string_equal(value, "601-660");
    sn_trace_free(&t);

    /* Azure Functions 2021: 199 invocations; arrival = end_timestamp - duration, from
     * 0.0014909 s (0.07949090003967285 - 0.078) to 1200.0149999 s (1260.0557980537415 -
     * 60.041) */
    t = import(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021, F2021, 0, 0, 0);
    check_imported(&t, 199, INT64_C(1200013307));
    assert_int_equal(t.arrival_us[1], 2369); /* 57.15786004066467 - 57.154 - 0.0014909 */
    sn_trace_free(&t);
}

static void expect_import_error(sn_trace_format format, const char *text, const char *want)
{
    sn_trace_import_params p;
    sn_trace t;
    char err[1024], full[1024];
    write_text(text);
    sn_trace_import_params_default(&p, format);
    snprintf(full, sizeof full, "%s:%s", path, want);
    assert_int_equal(sn_trace_import(&p, path, &t, err, sizeof err), SN_TRACE_ERR_FORMAT);
    assert_null(t.arrival_us);
    if (strcmp(err, full) != 0)
        fail_msg("expected: %s\n     got: %s", full, err);
}

static void test_import_rejects_malformed_sources(void **state)
{
    sn_trace_import_params p;
    sn_trace t;
    char err[512];
    (void)state;
    expect_import_error(SN_TRACE_FORMAT_AZURE_LLM, "TIMESTAMP,ContextTokens\n",
                        "1: bad header 'TIMESTAMP,ContextTokens' (expected "
                        "'TIMESTAMP,ContextTokens,GeneratedTokens')");
    expect_import_error(SN_TRACE_FORMAT_AZURE_LLM,
                        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,1,2\n"
                        "2023-11-16 18:61:46.6,1,2\n",
                        "3: TIMESTAMP '2023-11-16 18:61:46.6' is not 'YYYY-MM-DD "
                        "HH:MM:SS.fffffff'");
    expect_import_error(SN_TRACE_FORMAT_AZURE_LLM,
                        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,x,2\n",
                        "2: token counts must be non-negative integers");
    expect_import_error(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021,
                        "app,func,end_timestamp,duration\nab,0123456789,1.5,2.5\n",
                        "2: arrival end_timestamp - duration is negative");
    expect_import_error(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021,
                        "app,func,end_timestamp,duration\nab,xyz,1.5,0.5\n",
                        "2: func 'xyz' does not start with 8 hex digits");
    expect_import_error(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021,
                        "app,func,end_timestamp,duration\nab,0123456789,1e3,0.5\n",
                        "2: end_timestamp and duration must be non-negative decimals (seconds)");
    expect_import_error(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019,
                        "HashFunction,HashOwner,HashApp,1,2\n0123456789,a,b,1,2\n",
                        "2: expected 1443 fields (HashFunction,HashOwner,HashApp and 1440 "
                        "per-minute counts), found 5");
    expect_import_error(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019, "Function,Owner\n",
                        "1: bad header 'Function,Owner' (expected "
                        "'HashFunction,HashOwner,HashApp,...')");
    expect_import_error(SN_TRACE_FORMAT_AZURE_LLM, "TIMESTAMP,ContextTokens,GeneratedTokens\n",
                        " no arrivals");
    /* the most arrivals accepted: a source asking for more is refused, saying so */
    sn_trace_import_params_default(&p, SN_TRACE_FORMAT_AZURE_LLM);
    p.max_count = 2;
    {
        const char *three = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,2\n"
                            "2023-11-16 18:15:47,1,2\n2023-11-16 18:15:48,1,2\n";
        assert_int_equal(sn_trace_import_buffer(&p, "three.csv", three, strlen(three), &t, err, sizeof err),
                         SN_TRACE_ERR_FORMAT);
        assert_non_null(strstr(err, "more than 2 arrivals"));
        p.max_count = 3;
        assert_int_equal(sn_trace_import_buffer(&p, "three.csv", three, strlen(three), &t, err, sizeof err),
                         SN_TRACE_OK);
        assert_int_equal(t.count, 3);
        sn_trace_free(&t);
    }
    /* parameters */
    sn_trace_import_params_default(&p, SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019);
    p.minute_first = 10;
    p.minute_last = 9;
    assert_int_equal(sn_trace_import(&p, F2019, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    p.minute_last = 1441;
    assert_int_equal(sn_trace_import(&p, F2019, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    sn_trace_import_params_default(&p, SN_TRACE_FORMAT_AZURE_LLM);
    p.scale_ppm = 0;
    assert_int_equal(sn_trace_import(&p, LLM, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    assert_int_equal(sn_trace_import(&p, "/nonexistent.csv", &t, err, sizeof err),
                     SN_TRACE_ERR_PARAM);
    sn_trace_import_params_default(&p, SN_TRACE_FORMAT_AZURE_LLM);
    assert_int_equal(sn_trace_import(&p, "/nonexistent.csv", &t, err, sizeof err),
                     SN_TRACE_ERR_IO);
    assert_string_equal(err, "/nonexistent.csv: No such file or directory");
}

static void test_numbers(void **state)
{
    uint64_t v;
    char text[32];
    (void)state;
    assert_int_equal(sn_trace_parse_fixed("12", 3, 100000, &v), 0);
    assert_int_equal(v, 12000);
    assert_int_equal(sn_trace_parse_fixed("0.25", 3, 100000, &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(sn_trace_parse_fixed("0.2505", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed("100.001", 3, 100000, &v), -1); /* above max */
    assert_int_equal(sn_trace_parse_fixed("3.", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed(".3", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed("-1", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed("", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed("1 ", 3, 100000, &v), -1);
    assert_int_equal(sn_trace_parse_fixed("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(sn_trace_parse_fixed("18446744073709551616", 0, UINT64_MAX, &v), -1);
    sn_trace_format_fixed(text, sizeof text, 9041368, 6);
    assert_string_equal(text, "9.041368");
    sn_trace_format_fixed(text, sizeof text, 2500, 3);
    assert_string_equal(text, "2.5");
    sn_trace_format_fixed(text, sizeof text, 10000, 3);
    assert_string_equal(text, "10");
    sn_trace_format_fixed(text, sizeof text, 5, 3);
    assert_string_equal(text, "0.005");
    /* 128-bit intermediate products */
    assert_int_equal(sn_trace_mul_div(UINT64_MAX, UINT64_MAX, UINT64_MAX, 0, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(
        sn_trace_mul_div(UINT64_C(0xFFFFFFFFFFFF1234), 1000003, 1000033, 0, &v), 0);
    assert_true(v == UINT64_C(18446190689648953453)); /* Python: a * b // c */
    assert_int_equal(sn_trace_mul_div(UINT64_C(1) << 40, UINT64_C(1) << 30, 1024, 0, &v), 0);
    assert_true(v == UINT64_C(1) << 60);
    assert_int_equal(sn_trace_mul_div(7, 3, 2, 1, &v), 0); /* 10.5 rounds up */
    assert_int_equal(v, 11);
    assert_int_equal(sn_trace_mul_div(UINT64_C(1) << 40, UINT64_C(1) << 40, 2, 0, &v), -1);
    assert_true(sn_trace_mul_hi(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
    assert_true(sn_trace_mul_hi(UINT64_C(1) << 63, 6) == 3);
    /* names */
    assert_int_equal(sn_trace_kind_parse("single-stream"), SN_TRACE_KIND_SINGLE_STREAM);
    assert_int_equal(sn_trace_kind_parse("Server"), 0);
    assert_string_equal(sn_trace_kind_name(SN_TRACE_KIND_BURSTY), "bursty");
    assert_int_equal(sn_trace_format_parse("azure-functions-2021"),
                     SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021);
    assert_int_equal(sn_trace_attach_parse("either"), SN_TRACE_ATTACH_EITHER);
    assert_int_equal(sn_trace_attach_parse("all"), -1);
    assert_string_equal(sn_trace_status_str(SN_TRACE_ERR_FORMAT), "malformed trace");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed_traces_name_the_line),
        cmocka_unit_test(test_load_accepts_the_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_refuses_invalid_traces),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_pinned_hashes),
        cmocka_unit_test(test_generator_statistics),
        cmocka_unit_test(test_generator_parameters_are_checked),
        cmocka_unit_test(test_import_real_traces),
        cmocka_unit_test(test_import_rejects_malformed_sources),
    };
    int failed;
    if (access(LLM, R_OK) != 0)
        return sn_test_skip_all("run from the repository root (workloads/traces/real/)");
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    snprintf(path, sizeof path, "%s/t.csv", dir);
    snprintf(path2, sizeof path2, "%s/u.csv", dir);
    failed = sn_test_run("trace", tests);
    unlink(path);
    unlink(path2);
    rmdir(dir);
    return failed;
}
