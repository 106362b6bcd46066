/* supernav reports: reading run directories (the schema is harness/README.md).
 *
 *   sn_rundir run;
 *   sn_rundir_load("results/bench/X/sushi-sushi", &run, err, sizeof err);
 *   ... run.q[i].latency_ns, sn_rundir_str(run.context, "run.policy") ...
 *   sn_rundir_free(&run);
 *
 * A run directory holds context.json, summary.json and queries.csv (policy.json and
 * counters.csv are optional). queries.csv is read by its header's column names, with
 * RFC 4180 quoting; a malformed row is an error naming the file and line. Host C11. */
#ifndef SN_RUNDIR_H
#define SN_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct sn_rundir_query {
    int64_t arrival_ns, start_ns, end_ns, latency_ns; /* the run's clock, ns */
    int32_t subnet;           /* index into names[]; -1: empty */
    int32_t subgraph;         /* index into names[]; -1: none resident */
    uint64_t near_bytes, far_bytes;
    int32_t prediction;       /* -1: not computed */
    int8_t correct;           /* 1, 0, or -1: unknown */
    int8_t slo_met;           /* 1 or 0 */
    double table_accuracy;    /* fraction; NaN: the table has none */
} sn_rundir_query;

typedef struct sn_rundir {
    char path[1024];
    char name[256];           /* the directory's base name, e.g. "sushi-sushi" */
    cJSON *context, *summary; /* owned; never NULL after a successful load */
    cJSON *policy;            /* policy.json; NULL when absent */
    size_t count;             /* rows of queries.csv */
    sn_rundir_query *q;
    char **names;             /* distinct SubNet / SubGraph configs, first-seen order */
    size_t name_count;
    char trace_name[256];     /* base name of run.trace without ".csv" ("?" if unknown) */
    char policy_label[160];   /* run.policy, "+arac" appended when ARAC configs served beside
                                 the SubNets (run.serving_set; replay --arac) */
} sn_rundir;

/* Loads the run directory at PATH. Returns 0, or -1 with one line in ERR (nothing to
 * free). */
int sn_rundir_load(const char *path, sn_rundir *run, char *err, size_t err_bytes);
void sn_rundir_free(sn_rundir *run);

/* The files of a run directory already in memory (for tests and fuzzing). */
typedef struct sn_rundir_files {
    const char *context, *summary, *policy, *queries; /* policy may be NULL (absent) */
    size_t context_bytes, summary_bytes, policy_bytes, queries_bytes;
} sn_rundir_files;

/* Loads a run from FILES as if read from the directory PATH (which is not touched).
 * Returns 0, or -1 with one line in ERR (nothing to free). */
int sn_rundir_parse(const char *path, const sn_rundir_files *files, sn_rundir *run, char *err,
                    size_t err_bytes);

/* A field of a JSON object by dotted path ("latency_us.p99", "platform.properties.isa"):
 * the number, or NaN when absent or not a number; the string, or NULL. */
double sn_rundir_num(const cJSON *object, const char *dotted_path);
const char *sn_rundir_str(const cJSON *object, const char *dotted_path);

/* The run's platform, policy and clock strings ("?" when absent; never NULL). The policy is
 * its label: "sushi+arac" for a run whose serving set held ARAC configs (replay --arac), so
 * that reports and comparisons keep it apart from the SubNets-only "sushi". */
const char *sn_rundir_platform(const sn_rundir *run);
const char *sn_rundir_policy(const sn_rundir *run);
/* The label of POLICY (run.policy) under SERVING_SET (run.serving_set; NULL: SubNets only):
 * "sushi+arac", "static-subnet+arac:CFG" when ARAC configs served too. */
void sn_rundir_policy_label(const char *policy, const char *serving_set, char *buf, size_t n);
const char *sn_rundir_clock(const sn_rundir *run);

/* The trace file the run replayed, if it can still be found: run.trace as recorded, else
 * <parent of the run>/traces/<base name> (make bench renames its temporary directory).
 * Returns 1 with the path in BUF, or 0. */
int sn_rundir_trace_path(const sn_rundir *run, char *buf, size_t buf_bytes);

/* The SHA-256 of the first file recorded under hashes.ROLE ("model", "trace"), or NULL. */
const char *sn_rundir_input_sha256(const sn_rundir *run, const char *role);

/* Is PATH a run directory (it holds summary.json)? */
int sn_rundir_is_run(const char *path);

/* Expands N paths: a run directory stays itself; any other directory gives the run
 * directories directly inside it, in name order (a `make bench` set). *OUT (malloc'ed
 * array of malloc'ed strings, freed with sn_rundir_free_list) holds *COUNT paths.
 * Returns 0, or -1 with one line in ERR (a path that is neither, or holds no run). */
int sn_rundir_expand(char *const *paths, size_t n, char ***out, size_t *count, char *err,
                     size_t err_bytes);
void sn_rundir_free_list(char **list, size_t count);

#endif
