/* The run directory: nearest-rank percentiles on known data, the summary's ratios, atomic
 * creation (temporary directory renamed into place), refusal to overwrite, interrupted
 * runs, and files that parse back (cJSON, CSV). */
#include "sn_test.h"
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "sn_file.h"
#include "sn_run.h"

static char base[] = "/tmp/sn_test_run_dir_XXXXXX";

static void path_in_base(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", base, name);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Entries of DIR whose name starts with PREFIX. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static sn_run_query query(int64_t arrival, int64_t start, int64_t end)
{
    sn_run_query q;
    memset(&q, 0, sizeof q);
    q.arrival_ns = arrival;
    q.start_ns = start;
    q.end_ns = end;
    q.subnet = "r64-d2.2.2.2";
    q.prediction = 3;
    q.correct = 1;
    q.slo_met = true;
    q.table_accuracy = 0.9;
    return q;
}

static void test_percentiles_known_data(void **state)
{
    int64_t v[1000], ten[10], one[1] = {42}, three[3] = {1, 2, 3};
    size_t i;
    (void)state;
    for (i = 0; i < 1000; ++i)
        v[i] = (int64_t)i + 1;
    for (i = 0; i < 10; ++i)
        ten[i] = 10 * ((int64_t)i + 1);
    /* 1..1000: the p-th percentile is p * 10 exactly */
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 500), 500);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 900), 900);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 950), 950);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 990), 990);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 999), 999);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 1000), 1000);
    assert_int_equal(sn_run_percentile_nearest_rank(v, 1000, 0), 1);
    /* 10 values: ranks ceil(5) = 5, ceil(9) = 9 (not 10 from a floating-point
     * 9.000000000000002), ceil(9.5) = 10 */
    assert_int_equal(sn_run_percentile_nearest_rank(ten, 10, 500), 50);
    assert_int_equal(sn_run_percentile_nearest_rank(ten, 10, 900), 90);
    assert_int_equal(sn_run_percentile_nearest_rank(ten, 10, 950), 100);
    assert_int_equal(sn_run_percentile_nearest_rank(ten, 10, 990), 100);
    assert_int_equal(sn_run_percentile_nearest_rank(ten, 10, 999), 100);
    assert_int_equal(sn_run_percentile_nearest_rank(one, 1, 500), 42);
    assert_int_equal(sn_run_percentile_nearest_rank(one, 1, 999), 42);
    assert_int_equal(sn_run_percentile_nearest_rank(three, 3, 500), 2); /* rank ceil(1.5) */
    assert_int_equal(sn_run_percentile_nearest_rank(three, 3, 900), 3); /* rank ceil(2.7) */
    assert_int_equal(sn_run_percentile_nearest_rank(three, 3, 333), 1); /* rank ceil(0.999) */
}

static void test_summary_of_known_queries(void **state)
{
    sn_run_stats stats;
    sn_run_summary s;
    int i;
    (void)state;
    sn_run_stats_init(&stats);
    /* 20 queries arriving every 1 ms; latency (end - arrival) = (k + 1) * 100 us with k a
     * permutation of 0..19, so the latencies are 100, 200, ..., 2000 us */
    for (i = 0; i < 20; ++i) {
        int k = (i * 7) % 20;
        int64_t arrival = (int64_t)i * 1000000;
        sn_run_query q = query(arrival, arrival + 50000, arrival + (int64_t)(k + 1) * 100000);
        q.slo_met = i % 4 != 0;                    /* 15 of 20 */
        q.correct = (int8_t)(i < 10 ? i % 2 : -1); /* 10 known, 5 right */
        q.table_accuracy = i < 16 ? 0.8 : (double)NAN; /* 16 known */
        q.late = i % 4 == 1;                       /* 5 late: 4 of them with a table accuracy */
        q.near_bytes = 300;
        q.far_bytes = 100;
        assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_OK);
    }
    sn_run_stats_summarize(&stats, &s);
    assert_int_equal(s.queries, 20);
    assert_true(s.slo_attainment == 0.75);
    assert_true(sn_test_close_rel(s.served_accuracy, 0.8, 1e-12));
    /* effective accuracy: a late answer counts wrong, over the 16 with a table accuracy */
    assert_int_equal(s.late_queries, 5);
    assert_true(sn_test_close_rel(s.effective_accuracy, 0.8 * 12.0 / 16.0, 1e-12));
    assert_int_equal(s.measured_queries, 10);
    assert_true(s.measured_accuracy == 0.5);
    assert_true(s.near_bytes == 6000 && s.far_bytes == 2000);
    assert_true(s.subgraph_hit_ratio == 0.75);
    assert_true(s.latency.p50_us == 1000.0); /* rank 10 */
    assert_true(s.latency.p90_us == 1800.0); /* rank 18 */
    assert_true(s.latency.p95_us == 1900.0); /* rank 19 */
    assert_true(s.latency.p99_us == 2000.0);
    assert_true(s.latency.p999_us == 2000.0);
    assert_true(s.latency.min_us == 100.0 && s.latency.max_us == 2000.0);
    assert_true(sn_test_close_rel(s.latency.mean_us, 1050.0, 1e-12));
    /* first arrival 0, last end: query 19 (k = 13) at 19 ms + 1.4 ms; query 17 (k = 19)
     * ends at 17 ms + 2 ms = 19 ms; so 20.4 ms */
    assert_true(sn_test_close_rel(s.duration_s, 0.0204, 1e-12));
    assert_true(sn_test_close_rel(s.throughput_qps, 20 / 0.0204, 1e-12));
    sn_run_stats_free(&stats);

    /* nothing to divide by: NAN, never 0 */
    sn_run_stats_init(&stats);
    sn_run_stats_summarize(&stats, &s);
    assert_int_equal(s.queries, 0);
    assert_true(isnan(s.slo_attainment) && isnan(s.served_accuracy) && isnan(s.effective_accuracy));
    assert_true(isnan(s.measured_accuracy) && isnan(s.subgraph_hit_ratio));
    assert_true(isnan(s.latency.p50_us) && isnan(s.throughput_qps));
    sn_run_stats_free(&stats);
}

static void test_bad_queries_are_refused(void **state)
{
    sn_run_stats stats;
    sn_run_query q;
    (void)state;
    sn_run_stats_init(&stats);
    q = query(10, 5, 20); /* starts before it arrives */
    assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_BAD_INPUT);
    q = query(10, 20, 15); /* ends before it starts */
    assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_BAD_INPUT);
    q = query(0, 1, 2);
    q.correct = 2;
    assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_BAD_INPUT);
    q = query(0, 1, 2);
    q.table_accuracy = 90.0; /* a percentage, not a fraction */
    assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_BAD_INPUT);
    q = query(0, 1, 2);
    q.subnet = NULL;
    assert_int_equal(sn_run_stats_add(&stats, &q), SN_RUN_BAD_INPUT);
    assert_int_equal(stats.queries, 0);
    sn_run_stats_free(&stats);
}

static cJSON *parse_file(const char *dir, const char *name)
{
    char path[512];
    void *text;
    size_t size;
    cJSON *json;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sn_read_file(path, &text, &size) != 0)
        return NULL;
    json = cJSON_Parse(text);
    free(text);
    return json;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_non_null(v);
    return v;
}

/* The lines of DIR/NAME, split in place; returns the count. */
static size_t read_lines(const char *dir, const char *name, char **text, char **lines, size_t max)
{
    char path[512], *save = NULL, *line;
    size_t size, n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(sn_read_file(path, (void **)text, &size), 0);
    assert_true(size > 0 && (*text)[size - 1] == '\n');
    for (line = strtok_r(*text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save))
        lines[n++] = line;
    return n;
}

static void write_context(sn_run_writer *w, const char *model_path)
{
    const sn_run_property platform[] = {{"near_capacity_bytes", NULL, 1048576.0},
                                        {"near", "L2 cache", 0.0}};
    const sn_run_property run[] = {{"policy", "sushi", 0.0}, {"repetition", NULL, 1.0}};
    const sn_run_file files[] = {{"model", model_path}, {"data", model_path}};
    sn_run_context c;
    memset(&c, 0, sizeof c);
    c.supernav_version = "0.1.0";
    c.git_revision = "abc1234";
    c.compiler_flags = "-O2";
    c.platform = "cpu";
    c.platform_properties = platform;
    c.platform_property_count = 2;
    c.clock = "wall:CLOCK_MONOTONIC";
    c.run_properties = run;
    c.run_property_count = 2;
    c.files = files;
    c.file_count = 2;
    assert_int_equal(sn_run_write_context(w, &c), SN_RUN_OK);
}

static void test_round_trip(void **state)
{
    const sn_energy_work work = {1000000, 1000, 3000};
    char dir[256], model[256], err[512], *text, *lines[16], parent[256];
    sn_counter_value values[2];
    sn_energy_reading energy;
    sn_counters *counters;
    sn_run_summary summary;
    sn_run_writer *w;
    sn_run_query q;
    cJSON *context, *sum;
    const cJSON *hashes, *latency;
    size_t n;
    (void)state;
    path_in_base(model, sizeof model, "model.bin");
    assert_int_equal(sn_write_file_atomic(model, "abc", 3), 0);
    path_in_base(dir, sizeof dir, "runs/deep/r1/"); /* parents created, slash ignored */
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_OK);
    path_in_base(dir, sizeof dir, "runs/deep/r1");
    path_in_base(parent, sizeof parent, "runs/deep");
    assert_true(exists(sn_run_temp_dir(w)));
    assert_non_null(strstr(sn_run_temp_dir(w), "/runs/deep/r1.tmp-"));
    assert_false(exists(dir)); /* nothing at DIR until finish */
    write_context(w, model);
    q = query(0, 10, 1000);
    q.subgraph = "sg-3";
    q.near_bytes = 3000;
    q.far_bytes = 1000;
    assert_int_equal(sn_run_add_query(w, &q), SN_RUN_OK);
    q = query(500, 1000, 2500);
    q.subnet = "odd,\"name\""; /* quoted in CSV */
    q.prediction = -1;
    q.correct = -1;
    q.slo_met = false;
    q.table_accuracy = (double)NAN;
    assert_int_equal(sn_run_add_query(w, &q), SN_RUN_OK);
    q = query(600, 500, 700);
    assert_int_equal(sn_run_add_query(w, &q), SN_RUN_BAD_INPUT);
    assert_non_null(strstr(sn_run_error(w), "query 2"));
    assert_int_equal(sn_counters_open("perf:task-clock,pfm:no_such_event_x", &counters, NULL, 0),
                     SN_COUNTERS_OK);
    assert_int_equal(sn_counters_start(counters), SN_COUNTERS_OK);
    assert_int_equal(sn_counters_stop(counters, values), SN_COUNTERS_OK);
    assert_int_equal(sn_run_write_counters(w, counters, values), SN_RUN_OK);
    sn_energy_model_reading(&sn_energy_model_cpu_fp32, &work, &energy);
    assert_int_equal(sn_run_finish(w, &energy, &summary, err, sizeof err), SN_RUN_OK);
    assert_true(exists(dir));
    assert_int_equal(count_prefixed(parent, "r1.tmp-"), 0);
    assert_int_equal(summary.queries, 2);

    context = parse_file(dir, "context.json");
    assert_non_null(context);
    assert_int_equal(get(context, "schema_version")->valueint, SN_RUN_SCHEMA_VERSION);
    assert_string_equal(get(context, "git_revision")->valuestring, "abc1234");
    assert_string_equal(get(context, "compiler_flags")->valuestring, "-O2");
    assert_true(strncmp(get(context, "compiler")->valuestring, "gcc ", 4) == 0 ||
                strncmp(get(context, "compiler")->valuestring, "clang ", 6) == 0);
    assert_true(get(get(context, "machine"), "cores")->valueint >= 1);
    assert_true(strlen(get(get(context, "machine"), "cpu_model")->valuestring) > 0);
    assert_string_equal(get(get(context, "platform"), "name")->valuestring, "cpu");
    assert_true(get(get(get(context, "platform"), "properties"), "near_capacity_bytes")
                    ->valuedouble == 1048576.0);
    assert_string_equal(get(get(get(context, "platform"), "properties"), "near")->valuestring,
                        "L2 cache");
    assert_string_equal(get(context, "clock")->valuestring, "wall:CLOCK_MONOTONIC");
    assert_string_equal(get(get(context, "run"), "policy")->valuestring, "sushi");
    hashes = get(context, "hashes");
    assert_int_equal(cJSON_GetArraySize(get(hashes, "model")), 1);
    assert_string_equal(get(cJSON_GetArrayItem(get(hashes, "model"), 0), "sha256")->valuestring,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(get(cJSON_GetArrayItem(get(hashes, "model"), 0), "bytes")->valueint, 3);
    assert_int_equal(cJSON_GetArraySize(get(hashes, "data")), 1);
    assert_true(cJSON_IsArray(get(hashes, "trace")));
    assert_int_equal(cJSON_GetArraySize(get(hashes, "trace")), 0);
    cJSON_Delete(context);

    sum = parse_file(dir, "summary.json");
    assert_non_null(sum);
    assert_int_equal(get(sum, "queries")->valueint, 2);
    assert_true(get(sum, "slo_attainment")->valuedouble == 0.5);
    assert_true(sn_test_close_rel(get(sum, "served_accuracy")->valuedouble, 0.9, 1e-12));
    assert_non_null(get(sum, "effective_accuracy"));
    assert_int_equal(get(sum, "late_queries")->valueint, 0);
    assert_true(get(sum, "measured_accuracy")->valuedouble == 1.0);
    assert_int_equal(get(sum, "measured_queries")->valueint, 1);
    assert_true(get(sum, "far_bytes")->valuedouble == 1000.0);
    assert_true(get(sum, "subgraph_hit_ratio")->valuedouble == 0.75);
    assert_true(sn_test_close_rel(get(sum, "throughput_qps")->valuedouble, 2 / 2.5e-6, 1e-12));
    latency = get(sum, "latency_us");
    assert_string_equal(get(latency, "method")->valuestring, "nearest-rank");
    assert_true(get(latency, "p50")->valuedouble == 1.0);  /* latencies 1.0 and 2.0 us */
    assert_true(get(latency, "p90")->valuedouble == 2.0);
    assert_true(get(latency, "p95")->valuedouble == 2.0);
    assert_true(get(latency, "p99")->valuedouble == 2.0);
    assert_true(get(latency, "p99.9")->valuedouble == 2.0);
    assert_string_equal(get(get(sum, "energy"), "source")->valuestring, energy.source);
    assert_true(sn_test_close_rel(get(get(sum, "energy"), "total_uj")->valuedouble,
                                  4.6 + 0.16 + 0.00375, 1e-12));
    assert_true(get(get(get(sum, "energy"), "domains_uj"), "far")->valuedouble == 0.16);
    cJSON_Delete(sum);

    n = read_lines(dir, "queries.csv", &text, lines, 16);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], SN_RUN_QUERIES_HEADER);
    assert_string_equal(lines[1], "0,0,0,10,1000,1000,r64-d2.2.2.2,sg-3,3000,1000,3,1,1,0.9");
    assert_string_equal(lines[2], "1,0,500,1000,2500,2000,\"odd,\"\"name\"\"\",,0,0,,,0,");
    free(text);

    n = read_lines(dir, "counters.csv", &text, lines, 16);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], SN_RUN_COUNTERS_HEADER);
    assert_true(strncmp(lines[1], "perf:task-clock,perf,1,", 23) == 0);
    assert_true(lines[1][23] >= '0' && lines[1][23] <= '9'); /* a value */
    assert_true(strncmp(lines[2], "pfm:no_such_event_x,pfm,0,,count,", 33) == 0);
    assert_true(strlen(lines[2]) > 40); /* the reason */
    free(text);
    sn_counters_close(counters);
}

static void test_refuses_to_overwrite(void **state)
{
    char dir[256], file[300], err[512], model[256];
    sn_run_writer *w = (sn_run_writer *)&err; /* must be reset to NULL */
    void *data;
    size_t size;
    (void)state;
    path_in_base(model, sizeof model, "model.bin");
    assert_int_equal(sn_write_file_atomic(model, "abc", 3), 0);
    /* an existing directory, empty or not, is never touched */
    path_in_base(dir, sizeof dir, "earlier");
    assert_int_equal(sn_mkdir_p(dir), 0);
    path_in_base(file, sizeof file, "earlier/summary.json");
    assert_int_equal(sn_write_file_atomic(file, "{}", 2), 0);
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_EXISTS);
    assert_null(w);
    assert_non_null(strstr(err, "already exists; refusing to overwrite"));
    assert_int_equal(sn_read_file(file, &data, &size), 0);
    assert_int_equal(size, 2);
    free(data);
    assert_int_equal(count_prefixed(base, "earlier.tmp-"), 0);

    /* a directory that appears during the run wins; the run is dropped */
    path_in_base(dir, sizeof dir, "race");
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_OK);
    write_context(w, model);
    assert_int_equal(sn_mkdir_p(dir), 0); /* empty: plain rename(2) would replace it */
    assert_int_equal(sn_run_finish(w, NULL, NULL, err, sizeof err), SN_RUN_EXISTS);
    assert_non_null(strstr(err, "appeared during the run"));
    assert_int_equal(count_prefixed(dir, ""), 2); /* still empty: only . and .. */
    assert_int_equal(count_prefixed(base, "race.tmp-"), 0);
}

static void test_interrupted_and_aborted_runs(void **state)
{
    char dir[256], err[512], model[256];
    sn_run_writer *w;
    sn_run_query q = query(0, 1, 2);
    pid_t pid;
    int status;
    (void)state;
    path_in_base(model, sizeof model, "model.bin");
    assert_int_equal(sn_write_file_atomic(model, "abc", 3), 0);
    /* killed mid-run: no DIR, only a temporary directory named after the process */
    path_in_base(dir, sizeof dir, "killed");
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (sn_run_begin(dir, &w, err, sizeof err) != SN_RUN_OK)
            _exit(1);
        write_context(w, model);
        (void)sn_run_add_query(w, &q);
        _exit(0); /* as if killed before sn_run_finish */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(exists(dir));
    assert_int_equal(count_prefixed(base, "killed.tmp-"), 1);
    /* the next run at DIR is not disturbed by the leftover */
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_OK);
    write_context(w, model);
    assert_int_equal(sn_run_finish(w, NULL, NULL, err, sizeof err), SN_RUN_OK);
    assert_true(exists(dir));

    /* abort removes everything */
    path_in_base(dir, sizeof dir, "aborted");
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_OK);
    assert_int_equal(sn_run_add_query(w, &q), SN_RUN_OK);
    sn_run_abort(w);
    assert_false(exists(dir));
    assert_int_equal(count_prefixed(base, "aborted.tmp-"), 0);

    /* finish without a context, or with a file that cannot be hashed: refused, nothing left */
    path_in_base(dir, sizeof dir, "incomplete");
    assert_int_equal(sn_run_begin(dir, &w, err, sizeof err), SN_RUN_OK);
    {
        const sn_run_file missing[] = {{"trace", "/nonexistent/trace.csv"}};
        sn_run_context c;
        memset(&c, 0, sizeof c);
        c.platform = "cpu";
        c.clock = "wall:CLOCK_MONOTONIC";
        c.files = missing;
        c.file_count = 1;
        assert_int_equal(sn_run_write_context(w, &c), SN_RUN_IO);
        assert_non_null(strstr(sn_run_error(w), "/nonexistent/trace.csv"));
    }
    assert_int_equal(sn_run_finish(w, NULL, NULL, err, sizeof err), SN_RUN_BAD_INPUT);
    assert_non_null(strstr(err, "context.json"));
    assert_false(exists(dir));
    assert_int_equal(count_prefixed(base, "incomplete.tmp-"), 0);
}

/* LoadGen's validity rules: the binomial CDF against direct summation, the query counts at
 * which an early-stopping estimate first exists (LoadGen reports 64 for p90 and 662 for p99 at
 * 99 % confidence), the estimate's index on known data, and VALID/INVALID by count. */
static void test_validity_rules(void **state)
{
    size_t n, t, k;
    long idx;
    (void)state;
    for (n = 1; n <= 60; n += 7)
        for (t = 0; t < n; ++t) {
            double q = 0.1, direct = 0.0, c = 1.0;
            for (k = 0; k <= t; ++k) { /* C(n, k) q^k (1-q)^(n-k), the coefficient built up */
                if (k)
                    c = c * (double)(n - k + 1) / (double)k;
                direct += c * pow(q, (double)k) * pow(1.0 - q, (double)(n - k));
            }
            assert_true(fabs(sn_run_binomial_cdf(n, q, t) - direct) < 1e-10);
        }
    for (n = 2; sn_run_early_stopping_index(n, 0.90, 0.99, NULL) < 0; ++n)
        ;
    assert_int_equal(n, 64);
    for (n = 2; sn_run_early_stopping_index(n, 0.99, 0.99, NULL) < 0; ++n)
        ;
    assert_int_equal(n, 662);
    /* at the threshold one overlatency query is tolerated: the estimate is the largest */
    idx = sn_run_early_stopping_index(64, 0.90, 0.99, &t);
    assert_int_equal(t, 1);
    assert_int_equal(idx, 63);
    /* 3000 queries at p99: t is the largest with P(Bin(3000, 0.01) <= t) <= 0.01 */
    idx = sn_run_early_stopping_index(3000, 0.99, 0.99, &t);
    assert_true(sn_run_binomial_cdf(3000, 0.01, t) <= 0.01);
    assert_true(sn_run_binomial_cdf(3000, 0.01, t + 1) > 0.01);
    assert_int_equal(idx, (long)(3000 - t));
    {
        sn_run_stats st;
        sn_run_summary sum;
        sn_run_query q;
        size_t i;
        sn_run_stats_init(&st);
        memset(&q, 0, sizeof q);
        q.subnet = "s";
        q.subgraph = "";
        q.correct = -1;
        q.table_accuracy = NAN;
        for (i = 0; i < 1023; ++i) {
            q.arrival_ns = (int64_t)i * 1000;
            q.start_ns = q.arrival_ns;
            q.end_ns = q.arrival_ns + 1000 + (int64_t)i; /* latencies 1000 + i ns */
            assert_int_equal(sn_run_stats_add(&st, &q), SN_RUN_OK);
        }
        sn_run_stats_summarize(&st, &sum);
        assert_false(sum.validity.valid);
        assert_non_null(strstr(sum.validity.reason, "fewer than the minimum"));
        q.arrival_ns = 1023 * 1000;
        q.start_ns = q.arrival_ns;
        q.end_ns = q.arrival_ns + 1000 + 1023;
        sn_run_stats_free(&st);
        sn_run_stats_init(&st);
        for (i = 0; i < 1024; ++i) {
            q.arrival_ns = (int64_t)i * 1000;
            q.start_ns = q.arrival_ns;
            q.end_ns = q.arrival_ns + 1000 + (int64_t)i;
            assert_int_equal(sn_run_stats_add(&st, &q), SN_RUN_OK);
        }
        sn_run_stats_summarize(&st, &sum);
        assert_true(sum.validity.valid);
        idx = sn_run_early_stopping_index(1024, 0.99, 0.99, &t);
        assert_true(fabs(sum.validity.es_p99_us - (1000.0 + (double)idx) / 1000.0) < 1e-9);
        assert_int_equal(sum.validity.es_p99_discarded, t - 1);
        sn_run_stats_free(&st);
    }
}

static void test_machine(void **state)
{
    sn_run_machine m;
    (void)state;
    sn_run_machine_gather(&m);
    assert_true(m.cores >= 1);
    assert_true(strlen(m.os) > 0 && strlen(m.hostname) > 0 && strlen(m.cpu_model) > 0);
    assert_true(strncmp(sn_run_compiler(), "gcc ", 4) == 0 ||
                strncmp(sn_run_compiler(), "clang ", 6) == 0);
    assert_string_equal(sn_run_status_str(SN_RUN_EXISTS), "the run directory already exists");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_known_data),
        cmocka_unit_test(test_summary_of_known_queries),
        cmocka_unit_test(test_bad_queries_are_refused),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refuses_to_overwrite),
        cmocka_unit_test(test_interrupted_and_aborted_runs),
        cmocka_unit_test(test_machine),
        cmocka_unit_test(test_validity_rules),
    };
    int failed;
    if (!mkdtemp(base))
        return sn_test_skip_all("cannot create a temporary directory");
    failed = sn_test_run("run_dir", tests);
    sn_remove_tree(base);
    return failed;
}
