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

/* The same queries (metadata aside). */
static void assert_same_trace_rows(const sn_trace *a, const sn_trace *b)
{
    size_t i;
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->mode, b->mode);
    assert_memory_equal(a->arrival_us, b->arrival_us, a->count * sizeof *a->arrival_us);
    assert_memory_equal(a->sample, b->sample, a->count * sizeof *a->sample);
    assert_memory_equal(a->lat_ceiling_us, b->lat_ceiling_us,
                        a->count * sizeof *a->lat_ceiling_us);
    for (i = 0; i < a->count; ++i)
        assert_true(sn_trace_has_floor(a, i) ? a->acc_floor[i] == b->acc_floor[i]
                                             : !sn_trace_has_floor(b, i));
}

static void assert_same_trace(const sn_trace *a, const sn_trace *b)
{
    assert_same_trace_rows(a, b);
    assert_string_equal(a->metadata, b->metadata);
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

/* ---- csv and jsonl: any request log --------------------------------------------------- */
static sn_trace_import_params log_params(sn_trace_format format, sn_trace_time_unit unit,
                                         int relative)
{
    sn_trace_import_params p;
    sn_trace_import_params_default(&p, format);
    p.time_field = "t";
    p.time_unit = unit;
    p.time_relative = relative;
    return p;
}

static const char *log_name(const sn_trace_import_params *p)
{
    return p->format == SN_TRACE_FORMAT_CSV ? "log.csv" : "log.jsonl";
}

static sn_trace log_import(const sn_trace_import_params *p, const char *text)
{
    sn_trace t;
    char err[1024];
    if (sn_trace_import_buffer(p, log_name(p), text, strlen(text), &t, err, sizeof err) !=
        SN_TRACE_OK)
        fail_msg("for:\n%s\nunexpected error: %s", text, err);
    return t;
}

/* Expects the import of TEXT to fail with a format error "log.csv:" + WANT (or
 * "log.jsonl:" + WANT), and nothing allocated. */
static void expect_log_error(const sn_trace_import_params *p, const char *text, const char *want)
{
    sn_trace t;
    char err[1024], full[1024];
    snprintf(full, sizeof full, "%s:%s", log_name(p), want);
    memset(&t, 0xA5, sizeof t);
    if (sn_trace_import_buffer(p, log_name(p), text, strlen(text), &t, err, sizeof err) !=
        SN_TRACE_ERR_FORMAT)
        fail_msg("for:\n%s\nexpected the error: %s", text, full);
    assert_null(t.arrival_us);
    if (strcmp(err, full) != 0)
        fail_msg("for:\n%s\nexpected: %s\n     got: %s", text, full, err);
}

/* Three requests at times A, B, C (CSV fields, or JSON values written as given: a string
 * with its quotes, or a number), with an extra column before the time. */
static void expect_times(sn_trace_format format, sn_trace_time_unit unit, int relative,
                         const char *a, const char *b, const char *c, int64_t ta, int64_t tb,
                         int64_t tc)
{
    sn_trace_import_params p = log_params(format, unit, relative);
    char text[512];
    sn_trace t;
    if (format == SN_TRACE_FORMAT_CSV)
        snprintf(text, sizeof text, "id,t\nx,%s\ny,%s\r\nz,%s", a, b, c);
    else
        snprintf(text, sizeof text,
                 "{\"id\": 1, \"t\": %s}\n{\"t\": %s, \"id\": 2}\r\n{\"t\":%s}\n", a, b, c);
    t = log_import(&p, text);
    assert_int_equal(t.count, 3);
    if (t.arrival_us[0] != ta || t.arrival_us[1] != tb || t.arrival_us[2] != tc)
        fail_msg("for:\n%s\nexpected %" PRId64 ", %" PRId64 ", %" PRId64 " us, got %" PRId64
                 ", %" PRId64 ", %" PRId64,
                 text, ta, tb, tc, t.arrival_us[0], t.arrival_us[1], t.arrival_us[2]);
    assert_false(sn_trace_has_floor(&t, 0) || sn_trace_has_ceiling(&t, 0)); /* no fields */
    sn_trace_free(&t);
}

static void test_import_log_times(void **state)
{
    static const sn_trace_format formats[] = {SN_TRACE_FORMAT_CSV, SN_TRACE_FORMAT_JSONL};
    size_t k;
    (void)state;
    for (k = 0; k < 2; ++k) {
        sn_trace_format f = formats[k];
        int json = f == SN_TRACE_FORMAT_JSONL;
#define Q(x) (json ? "\"" x "\"" : x) /* a JSON string, a CSV field */
        /* absolute: 2023-11-14 22:13:20 UTC + 1 us, + 0.5 s, + 2 s; the first becomes 0 */
        expect_times(f, SN_TRACE_TIME_UNIT_S, 0, Q("1700000000.000001"), Q("1700000000.5"),
                     Q("1700000002"), 0, 499999, 1999999);
        expect_times(f, SN_TRACE_TIME_UNIT_MS, 0, Q("1700000000000.001"), Q("1700000000500"),
                     Q("1700000002000.0"), 0, 499999, 1999999);
        expect_times(f, SN_TRACE_TIME_UNIT_US, 0, Q("1700000000000001"), Q("1700000000500000"),
                     Q("1700000002000000"), 0, 499999, 1999999);
        expect_times(f, SN_TRACE_TIME_UNIT_NS, 0, Q("1700000000000001000"),
                     Q("1700000000500000000"), Q("1700000002000000000"), 0, 499999, 1999999);
        expect_times(f, SN_TRACE_TIME_UNIT_DATETIME, 0, Q("2023-11-14 22:13:20.000001"),
                     Q("2023-11-14T22:13:20.5Z"), Q("2023-11-14 22:13:22Z"), 0, 499999, 1999999);
        /* relative: kept as offsets from 0 (not from the first), half up to 1 us */
        expect_times(f, SN_TRACE_TIME_UNIT_S, 1, Q("0.25"), Q("1.5000004"), Q("1.5000005"),
                     250000, 1500000, 1500001);
        expect_times(f, SN_TRACE_TIME_UNIT_MS, 1, Q("250"), Q("1500.0004"), Q("1500.0005"), 250000,
                     1500000, 1500001);
        expect_times(f, SN_TRACE_TIME_UNIT_US, 1, Q("250000"), Q("1500000.4"), Q("1500000.5"),
                     250000, 1500000, 1500001);
        expect_times(f, SN_TRACE_TIME_UNIT_NS, 1, Q("250000000"), Q("1500000400"),
                     Q("1500000500.9"), 250000, 1500000, 1500001); /* sub-ns digits dropped */
#undef Q
    }
    /* JSON numbers: a double's exact value (these are exact: halves, integers < 2^53) */
    expect_times(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_S, 0, "1700000000.25", "1700000000.5",
                 "1700000002", 0, 250000, 1750000);
    expect_times(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_MS, 0, "1700000000000.5",
                 "1700000000500", "1700000002000", 0, 499500, 1999500);
    expect_times(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_US, 1, "250000", "1.5e6", "1500000.5",
                 250000, 1500000, 1500001);
    expect_times(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_S, 1, "0.25", "1.5", "2", 250000,
                 1500000, 2000000);
}

static void test_import_log_fields(void **state)
{
    sn_trace_import_params p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_MS, 1);
    sn_trace t;
    char value[128];
    size_t i;
    (void)state;
    /* quantile of a number (JSON's syntax: signs, fractions, exponents), over the rows
     * that have a value: -1e3 < -2.5 < 0 < 3e-4 < 12 = 1.2e1 -> ranks 0 1 2 3 4 4 of 6,
     * levels floor(5 rank / 6) = 0 0 1 2 3 3; the empty one has no ceiling */
    p.ceiling_field = "size";
    p.constraints.attach = SN_TRACE_ATTACH_CEILING;
    t = log_import(&p, "t,size\n1,12\n2,-2.5\n3,\n4,0\n5,3e-4\n6,-1e3\n7,1.2e1\n");
    {
        static const int64_t want[] = {8000, 2000, 0, 4000, 6000, 2000, 8000};
        assert_int_equal(t.count, 7);
        for (i = 0; i < 7; ++i) {
            assert_true(t.lat_ceiling_us[i] == want[i]);
            assert_false(sn_trace_has_floor(&t, i));
        }
    }
    assert_int_equal(sn_trace_meta_get(&t, "ceiling_values", value, sizeof value), 0);
    assert_string_equal(value, "6");
    assert_int_equal(sn_trace_meta_get(&t, "mapping", value, sizeof value), 0);
    assert_string_equal(value, "arrival = 't' (ms, relative: kept); ceiling level = quantile of "
                               "'size'");
    sn_trace_free(&t);

    /* hash of any text (FNV-1a-32 test vectors: "a" 0xe40c292c, "foobar" 0xbf9cf968: levels
     * 0xe40c292c x 5 / 2^32 = 4 and 3) and level itself; both constraints */
    p.floor_field = "model";
    p.floor_map = SN_TRACE_FIELD_MAP_HASH;
    p.ceiling_field = "class";
    p.ceiling_map = SN_TRACE_FIELD_MAP_LEVEL;
    p.constraints.attach = SN_TRACE_ATTACH_BOTH;
    t = log_import(&p, "model,t,class\na,0,0\nfoobar,1,4\n,2,2\n\"a\",3,\n");
    assert_int_equal(t.count, 4);
    assert_true(t.acc_floor[0] == 0.90f && t.lat_ceiling_us[0] == 2000);
    assert_true(t.acc_floor[1] == 0.89f && t.lat_ceiling_us[1] == 10000);
    assert_true(!sn_trace_has_floor(&t, 2) && t.lat_ceiling_us[2] == 6000);
    assert_true(t.acc_floor[3] == 0.90f && !sn_trace_has_ceiling(&t, 3));
    sn_trace_free(&t);

    /* JSON: numbers are their text (7 hashes as "7"), null or an absent key: no value */
    p = log_params(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_S, 0);
    p.floor_field = "model";
    p.floor_map = SN_TRACE_FIELD_MAP_HASH;
    p.ceiling_field = "tokens";
    p.constraints.attach = SN_TRACE_ATTACH_BOTH;
    t = log_import(&p, "{\"t\": 1, \"model\": 7, \"tokens\": 300}\n"
                       "{\"t\": 2, \"model\": \"7\", \"tokens\": \"100\"}\n"
                       "{\"t\": 3, \"model\": null}\n"
                       "{\"t\": 4, \"tokens\": 2.5e2, \"other\": {\"nested\": [1, 2]}}\n");
    assert_int_equal(t.count, 4);
    assert_true(sn_trace_has_floor(&t, 0) && t.acc_floor[0] == t.acc_floor[1]);
    assert_false(sn_trace_has_floor(&t, 2) || sn_trace_has_floor(&t, 3));
    /* tokens 300, 100, -, 250: ranks 2, 0, 1 of 3: levels 3, 0, 1 */
    assert_true(t.lat_ceiling_us[0] == 8000 && t.lat_ceiling_us[1] == 2000 &&
                t.lat_ceiling_us[2] == 0 && t.lat_ceiling_us[3] == 4000);
    sn_trace_free(&t);

    /* the parameters: a constraint needs its field, a field its constraint */
    {
        char err[512];
        p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_S, 0);
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), 0);
        p.constraints.attach = SN_TRACE_ATTACH_BOTH;
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        assert_string_equal(err, "constraint 'both' attaches floors: it needs a floor field");
        p.floor_field = "f";
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        assert_string_equal(err, "constraint 'both' attaches ceilings: it needs a ceiling field");
        p.constraints.attach = SN_TRACE_ATTACH_CEILING;
        p.ceiling_field = "c";
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        assert_string_equal(err, "a floor field is given, but constraint 'ceiling' attaches no "
                                 "floors");
        p.constraints.attach = SN_TRACE_ATTACH_EITHER;
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), 0);
        p.floor_map = (sn_trace_field_map)9;
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_DATETIME, 1);
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        assert_string_equal(err, "datetime timestamps are absolute, not relative");
        p = log_params(SN_TRACE_FORMAT_JSONL, (sn_trace_time_unit)0, 0);
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        p.time_unit = SN_TRACE_TIME_UNIT_NS;
        p.time_field = "";
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        p = log_params(SN_TRACE_FORMAT_AZURE_LLM, SN_TRACE_TIME_UNIT_S, 0);
        assert_int_equal(sn_trace_import_check(&p, err, sizeof err), -1);
        assert_string_equal(err, "the time and field parameters apply to csv and jsonl only");
        assert_int_equal(sn_trace_import(&p, LLM, &t, err, sizeof err), SN_TRACE_ERR_PARAM);
    }
}

static void test_import_log_order_and_rate(void **state)
{
    sn_trace_import_params p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_S, 0);
    sn_trace t, u;
    char value[64];
    size_t i;
    static const char unsorted[] = "t,level\n5,0\n3,1\n3,2\n1,3\n";
    (void)state;
    /* unsorted rows: sorted by time, ties in file order, the rows out of order counted */
    p.floor_field = "level";
    p.floor_map = SN_TRACE_FIELD_MAP_LEVEL;
    p.constraints.attach = SN_TRACE_ATTACH_FLOOR;
    t = log_import(&p, unsorted);
    assert_int_equal(t.count, 4);
    assert_true(t.arrival_us[0] == 0 && t.arrival_us[1] == 2000000 &&
                t.arrival_us[2] == 2000000 && t.arrival_us[3] == 4000000);
    assert_true(t.acc_floor[0] == 0.89f && t.acc_floor[1] == 0.87f && t.acc_floor[2] == 0.88f &&
                t.acc_floor[3] == 0.86f);
    assert_int_equal(sn_trace_meta_get(&t, "out_of_order", value, sizeof value), 0);
    assert_string_equal(value, "2");
    assert_int_equal(sn_trace_meta_get(&t, "unsorted", value, sizeof value), 0);
    assert_string_equal(value, "sort");
    sn_trace_free(&t);
    p.refuse_unsorted = 1;
    expect_log_error(&p, unsorted,
                     "3: time '3' is earlier than '5' on line 2 (the rows must be sorted by time)");
    p.format = SN_TRACE_FORMAT_JSONL;
    expect_log_error(&p, "{\"t\": 1, \"level\": 0}\n{\"t\": 2, \"level\": 0}\n{\"t\": 1.5}\n",
                     "3: time '1.500000000' is earlier than '2.000000000' on line 2 (the rows "
                     "must be sorted by time)");

    /* rate scaling as for the Azure traces: 11 requests 1 s apart, relative from 10 s */
    p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_S, 1);
    {
        static const char even[] = "t\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
        t = log_import(&p, even);
        assert_int_equal(t.count, 11);
        assert_true(t.arrival_us[0] == 10000000 && t.arrival_us[10] == 20000000);
        p.rate_mqps = 4000; /* 4 queries/s: a speed-up of 4 */
        u = log_import(&p, even);
        assert_int_equal(sn_trace_meta_get(&u, "scale", value, sizeof value), 0);
        assert_string_equal(value, "4");
        assert_int_equal(sn_trace_meta_get(&u, "rate", value, sizeof value), 0);
        assert_string_equal(value, "4");
        for (i = 0; i < 11; ++i)
            assert_true(u.arrival_us[i] == 2500000 + 250000 * (int64_t)i);
        assert_memory_equal(t.sample, u.sample, t.count * sizeof *t.sample);
        sn_trace_free(&u);
        sn_trace_free(&t);
        /* absolute: the first becomes 0, then --scale 0.5 (half speed) */
        p.time_relative = 0;
        p.rate_mqps = 0;
        p.scale_ppm = 500000;
        t = log_import(&p, even);
        assert_true(t.arrival_us[0] == 0 && t.arrival_us[10] == 20000000);
        sn_trace_free(&t);
    }
    /* max_count, as for the Azure formats */
    p = log_params(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_S, 0);
    p.max_count = 2;
    expect_log_error(&p, "{\"t\": 1}\n{\"t\": 2}\n{\"t\": 3}\n",
                     "3: more than 2 arrivals (import a sub-range)");
}

static void test_import_log_csv_quoting(void **state)
{
    sn_trace_import_params p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_US, 1);
    sn_trace t;
    /* RFC 4180: quoted header names and fields, embedded commas, quotes written twice,
     * a line break inside quotes, CRLF, a byte order mark */
    static const char good[] = "\xEF\xBB\xBF\"id\",\"t\",\"note, or size\"\r\n"
                               "a,1,\"hello, world\"\r\n"
                               "\"b\"\"x\",\"2\",\"two\r\nlines\"\r\n"
                               "c,3,\"\"\"quoted\"\"\"\r\n"
                               "\"d\",4,\r\n"
                               ",5,\"\"";
    (void)state;
    p.ceiling_field = "note, or size";
    p.ceiling_map = SN_TRACE_FIELD_MAP_HASH;
    p.constraints.attach = SN_TRACE_ATTACH_CEILING;
    t = log_import(&p, good);
    assert_int_equal(t.count, 5);
    assert_true(t.arrival_us[0] == 1 && t.arrival_us[4] == 5);
    assert_true(sn_trace_has_ceiling(&t, 2) && !sn_trace_has_ceiling(&t, 3) &&
                !sn_trace_has_ceiling(&t, 4)); /* "" is empty, as an unquoted empty field */
    sn_trace_free(&t);
    /* the line after a quoted line break is counted: the bad row is line 8 */
    {
        char bad[sizeof good + 16];
        snprintf(bad, sizeof bad, "%s\r\nx,y,z\r\n", good + 3);
        expect_log_error(&p, bad,
                         "8: time 'y' in field 't' is not a non-negative decimal number (us)");
    }
    p.ceiling_field = NULL;
    p.constraints.attach = SN_TRACE_ATTACH_NONE;
    expect_log_error(&p, "t,x\n1,\"a\n2,b\n", "2: field 2: a quoted field is not closed");
    expect_log_error(&p, "t,x\n1,a\"b\n",
                     "2: field 2: a quote inside an unquoted field (quote the whole field and "
                     "write the quote twice)");
    expect_log_error(&p, "t,x\n1,\"a\"b\n",
                     "2: field 2: 'b' after the closing quote (a comma or the line end must "
                     "follow it)");
    expect_log_error(&p, "t,x\n1,\"a\" \n",
                     "2: field 2: byte 0x20 after the closing quote (a comma or the line end "
                     "must follow it)");
    expect_log_error(&p, "t,x\n\"1,5\",a\n",
                     "2: time '1,5' in field 't' is not a non-negative decimal number (us)");
    expect_log_error(&p, "t,x\n\"1\n5\",a\n",
                     "2: time '1?5' in field 't' is not a non-negative decimal number (us)");
}

static void test_import_log_rejects_malformed_lines(void **state)
{
    sn_trace_import_params p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_S, 0);
    char err[512];
    sn_trace t;
    (void)state;
    /* csv */
    expect_log_error(&p, "", "1: empty file");
    expect_log_error(&p, "\n1\n", "1: empty header line");
    expect_log_error(&p, "x,y\n1,2\n", "1: no column 't' in the header 'x,y'");
    expect_log_error(&p, "t,x,t\n1,2,3\n",
                     "1: column 't' appears twice in the header (columns 1 and 3)");
    expect_log_error(&p, "t,x\n1,a\n2\n", "3: expected 2 fields (as the header), found 1");
    expect_log_error(&p, "t,x\n1,a\n2,b,c\n", "3: expected 2 fields (as the header), found 3");
    expect_log_error(&p, "t,x\n1,a\n\n2,b\n", "3: empty line");
    expect_log_error(&p, "t,x\n1,a\r\n\r\n", "3: empty line");
    {
        static const char nul[] = "t\n1\n2\0\n";
        assert_int_equal(sn_trace_import_buffer(&p, "log.csv", nul, sizeof nul - 1, &t, err,
                                                sizeof err),
                         SN_TRACE_ERR_FORMAT);
        assert_string_equal(err, "log.csv:3: NUL byte (not a text file)");
    }
    expect_log_error(&p, "t,x\n,a\n", "2: no time: field 't' is empty or missing");
    expect_log_error(&p, "t\n1\nabc\n",
                     "3: time 'abc' in field 't' is not a non-negative decimal number (s)");
    expect_log_error(&p, "t\n1e3\n",
                     "2: time '1e3' in field 't' is not a non-negative decimal number (s)");
    expect_log_error(&p, "t\n 1\n",
                     "2: time ' 1' in field 't' is not a non-negative decimal number (s)");
    expect_log_error(&p, "t\n1.\n",
                     "2: time '1.' in field 't' is not a non-negative decimal number (s)");
    expect_log_error(&p, "t\n-1.5\n", "2: negative time '-1.5' in field 't'");
    expect_log_error(&p, "t\n9223372036.854775808\n",
                     "2: time '9223372036.854775808' s in field 't' is 2^63 ns (292 years) or "
                     "more");
    expect_log_error(&p, "t\n", " no arrivals");
    p.time_unit = SN_TRACE_TIME_UNIT_DATETIME;
    expect_log_error(&p, "t\n2023-11-14 22:13:20\n2023-13-14 22:13:20\n",
                     "3: time '2023-13-14 22:13:20' in field 't' is not 'YYYY-MM-DD "
                     "HH:MM:SS[.fffffffff]' (UTC, 1970..2262)");
    expect_log_error(&p, "t\n2023-11-14 22:13:20+01:00\n",
                     "2: time '2023-11-14 22:13:20+01:00' in field 't' is not 'YYYY-MM-DD "
                     "HH:MM:SS[.fffffffff]' (UTC, 1970..2262)");
    p.time_unit = SN_TRACE_TIME_UNIT_S;
    p.floor_field = "f";
    p.constraints.attach = SN_TRACE_ATTACH_FLOOR;
    expect_log_error(&p, "t,f\n1,2\n2,abc\n",
                     "3: floor field 'f': 'abc' is not a number (quantile map)");
    expect_log_error(&p, "t,f\n1,1e99\n",
                     "2: floor field 'f': 1e99 is outside 1e-64..1e64 (quantile map)");
    expect_log_error(&p, "t,f\n1,0x10\n",
                     "2: floor field 'f': '0x10' is not a number (quantile map)");
    p.floor_map = SN_TRACE_FIELD_MAP_LEVEL;
    expect_log_error(&p, "t,f\n1,4\n2,5\n",
                     "3: floor field 'f': '5' is not a level in 0..4 (level map)");
    expect_log_error(&p, "t,f\n1,-1\n",
                     "2: floor field 'f': '-1' is not a level in 0..4 (level map)");

    /* jsonl */
    p = log_params(SN_TRACE_FORMAT_JSONL, SN_TRACE_TIME_UNIT_NS, 0);
    expect_log_error(&p, "", "1: empty file");
    expect_log_error(&p, "{\"t\": 1}\n{\"t\": 2,}\n", "2: not valid JSON (at column 10)");
    expect_log_error(&p, "{\"t\": 1} x\n", "1: not valid JSON (at column 10)");
    expect_log_error(&p, "{\"t\": 1}\n[1]\n", "2: expected a JSON object, found an array");
    expect_log_error(&p, "\"t\"\n", "1: expected a JSON object, found a string");
    expect_log_error(&p, "{\"t\": 1}\n\n{\"t\": 2}\n", "2: empty line");
    expect_log_error(&p, "{\"u\": 1}\n", "1: no time: field 't' is empty or missing");
    expect_log_error(&p, "{\"t\": null}\n", "1: no time: field 't' is empty or missing");
    expect_log_error(&p, "{\"T\": 1}\n", "1: no time: field 't' is empty or missing");
    expect_log_error(&p, "{\"t\": true}\n",
                     "1: time field 't' is a boolean, not a number or a string");
    expect_log_error(&p, "{\"t\": -1}\n", "1: negative time -1 in field 't'");
    expect_log_error(&p, "{\"t\": 1700000000000000000}\n",
                     "1: time 1.7e+18 in field 't' is 2^53 or more: not exact as a JSON number "
                     "(write it as a string)");
    expect_log_error(&p, "{\"t\": 1e999}\n",
                     "1: time inf in field 't' is 2^53 or more: not exact as a JSON number "
                     "(write it as a string)");
    p.time_unit = SN_TRACE_TIME_UNIT_DATETIME;
    expect_log_error(&p, "{\"t\": 1}\n",
                     "1: time field 't' is a number: datetime times are strings");
    p.time_unit = SN_TRACE_TIME_UNIT_S;
    p.floor_field = "f";
    p.constraints.attach = SN_TRACE_ATTACH_FLOOR;
    expect_log_error(&p, "{\"t\": 1, \"f\": [1]}\n",
                     "1: floor field 'f' is an array, not a number or a string");
    {
        static const char misspelt[] = "{\"t\": 1, \"F\": 2}\n";
        static const char null[] = "{\"t\": 1, \"f\": null}\n";
        assert_int_equal(sn_trace_import_buffer(&p, "log.jsonl", misspelt, strlen(misspelt), &t,
                                                err, sizeof err),
                         SN_TRACE_ERR_FORMAT);
        assert_string_equal(err, "log.jsonl: no object has the floor field 'f'");
        assert_int_equal(sn_trace_import_buffer(&p, "log.jsonl", null, strlen(null), &t, err,
                                                sizeof err),
                         SN_TRACE_OK); /* the key is there: a request without a floor */
    }
    assert_false(sn_trace_has_floor(&t, 0));
    sn_trace_free(&t);
}

/* The real LLM trace through the csv path, and as JSON Lines made from it: the same
 * queries as the azure-llm importer's (whose mapping the options spell out). */
static void test_import_log_real_llm(void **state)
{
    sn_trace_import_params p = log_params(SN_TRACE_FORMAT_CSV, SN_TRACE_TIME_UNIT_DATETIME, 0);
    sn_trace want, got;
    char err[512], *line, *save = NULL, *jsonl, *src;
    size_t size, used = 0;
    void *raw;
    (void)state;
    want = import(SN_TRACE_FORMAT_AZURE_LLM, LLM, 0, 0, 0);
    p.time_field = "TIMESTAMP";
    p.floor_field = "ContextTokens";
    p.ceiling_field = "GeneratedTokens";
    p.constraints.attach = SN_TRACE_ATTACH_BOTH;
    assert_int_equal(sn_trace_import(&p, LLM, &got, err, sizeof err), SN_TRACE_OK);
    assert_same_trace_rows(&want, &got);
    sn_trace_free(&got);

    assert_int_equal(sn_read_file(LLM, &raw, &size), 0);
    src = raw;
    jsonl = malloc(size * 4 + 64); /* a 34-byte row becomes an 84-byte object */
    assert_non_null(jsonl);
    for (line = strtok_r(src, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        if (!strncmp(line, "TIMESTAMP", 9))
            continue;
        *c1 = *c2 = '\0';
        used += (size_t)sprintf(jsonl + used,
                                "{\"TIMESTAMP\":\"%s\",\"ContextTokens\":%s,"
                                "\"GeneratedTokens\":%s}\n",
                                line, c1 + 1, c2 + 1);
    }
    free(raw);
    p.format = SN_TRACE_FORMAT_JSONL;
    assert_int_equal(sn_trace_import_buffer(&p, "llm.jsonl", jsonl, used, &got, err, sizeof err),
                     SN_TRACE_OK);
    free(jsonl);
    assert_same_trace_rows(&want, &got);
    sn_trace_free(&got);
    sn_trace_free(&want);
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
        cmocka_unit_test(test_import_log_times),
        cmocka_unit_test(test_import_log_fields),
        cmocka_unit_test(test_import_log_order_and_rate),
        cmocka_unit_test(test_import_log_csv_quoting),
        cmocka_unit_test(test_import_log_rejects_malformed_lines),
        cmocka_unit_test(test_import_log_real_llm),
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
