/* Fuzz target: run directories (reports/sn_rundir.c), as `supernav report`, `compare` and
 * `gate` read them. The input holds the directory's files separated by NUL bytes:
 *   context.json \0 summary.json \0 queries.csv [\0 policy.json]
 * A run that loads is read as the reports read it: its platform, policy, clock and input
 * hashes, a few dotted paths, and its figures (sn_figures_of_run) compared with themselves.
 * The run's recorded trace path is pointed at a directory that does not exist first, so
 * that no input makes the figures read a file. Entry: sn_rundir_parse (the parsing behind
 * sn_rundir_load). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_compare.h"
#include "sn_figures.h"
#include "sn_fuzz.h"
#include "sn_rundir.h"

/* run.trace -> /nonexistent/fuzz/<its base name> */
static void detach_trace(sn_rundir *run)
{
    cJSON *r = cJSON_GetObjectItemCaseSensitive(run->context, "run");
    cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "trace");
    if (cJSON_IsString(t)) {
        const char *slash = strrchr(t->valuestring, '/');
        char path[300];
        snprintf(path, sizeof path, "/nonexistent/fuzz/%.200s", slash ? slash + 1 : t->valuestring);
        cJSON_ReplaceItemInObjectCaseSensitive(r, "trace", cJSON_CreateString(path));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[4];
    size_t len[4], n = sn_fuzz_split(data, size, part, len, 4);
    sn_rundir_files files;
    sn_rundir run;
    sn_figure_set fs;
    char err[1600], buf[1200];
    if (n < 3)
        return 0;
    memset(&files, 0, sizeof files);
    files.context = (const char *)part[0];
    files.context_bytes = len[0];
    files.summary = (const char *)part[1];
    files.summary_bytes = len[1];
    files.queries = (const char *)part[2];
    files.queries_bytes = len[2];
    if (n == 4) {
        files.policy = (const char *)part[3];
        files.policy_bytes = len[3];
    }
    if (sn_rundir_parse("/nonexistent/fuzz/runs/run@1", &files, &run, err, sizeof err) != 0)
        return 0;
    detach_trace(&run);
    (void)sn_rundir_platform(&run);
    (void)sn_rundir_policy(&run);
    (void)sn_rundir_clock(&run);
    (void)sn_rundir_input_sha256(&run, "model");
    (void)sn_rundir_num(run.summary, "latency_us.p99.9");
    (void)sn_rundir_num(run.summary, "slo.met_fraction");
    (void)sn_rundir_str(run.context, "platform.properties.isa");
    (void)sn_rundir_trace_path(&run, buf, sizeof buf);
    memset(&fs, 0, sizeof fs);
    if (sn_figures_of_run(&run, &fs) == 0) {
        sn_compare_row *rows = calloc(fs.count ? fs.count : 1, sizeof *rows);
        if (rows)
            (void)sn_compare_figures(&fs, &fs, 0.05, rows);
        free(rows);
    }
    sn_figures_free(&fs);
    sn_rundir_free(&run);
    return 0;
}
