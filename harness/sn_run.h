/* supernav harness: the run directory, the one place a run's results are written.
 *
 *   DIR/context.json   what ran where: schema version, supernav version, git revision,
 *                      compiler and flags, machine, platform and its properties, clock
 *                      kind, run properties, SHA-256 of the model, data and trace files
 *   DIR/queries.csv    one row per query (columns: SN_RUN_QUERIES_HEADER)
 *   DIR/summary.json   queries, SLO attainment, served and measured accuracy, bytes,
 *                      SubGraph hit ratio, latency percentiles, throughput, energy
 *   DIR/counters.csv   one row per counter (columns: SN_RUN_COUNTERS_HEADER)
 *
 * Every field is described in harness/README.md. The directory appears whole or not at
 * all: sn_run_begin() writes into DIR.tmp-<pid>-XXXXXX beside DIR and sn_run_finish()
 * renames it into place with RENAME_NOREPLACE, so an interrupted run leaves at most a
 * DIR.tmp-* directory (safe to delete), never a half-written DIR, and an existing DIR is
 * never overwritten or modified.
 *
 * Latency percentiles use the nearest-rank method: the p-th percentile of n sorted
 * values is the value of rank ceil(p/100 * n) (1-based), always one of the measurements.
 * Times are integers in nanoseconds of the run's clock (context.json "clock" says which:
 * wall clock or a platform's virtual time). Host-only. */
#ifndef SN_RUN_H
#define SN_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sn_counters.h"
#include "sn_energy.h"

#define SN_RUN_SCHEMA_VERSION 1

#define SN_RUN_QUERIES_HEADER                                                              \
    "query,sample,arrival_ns,start_ns,end_ns,latency_ns,subnet,subgraph,near_bytes,"       \
    "far_bytes,prediction,correct,slo_met,table_accuracy"
#define SN_RUN_COUNTERS_HEADER "name,source,available,value,unit,reason,note"

typedef enum sn_run_status {
    SN_RUN_OK = 0,
    SN_RUN_EXISTS,        /* the run directory already exists */
    SN_RUN_IO,            /* a file could not be created, written, hashed or renamed */
    SN_RUN_BAD_INPUT,     /* a query or context field is out of range, or missing */
    SN_RUN_NO_MEMORY
} sn_run_status;

/* One served query. Times are ns since the run's origin, arrival <= start <= end. */
typedef struct sn_run_query {
    uint64_t sample;          /* the dataset sample it asked about */
    int64_t arrival_ns;       /* when it arrived */
    int64_t start_ns;         /* when the platform began serving it */
    int64_t end_ns;           /* when its result was ready; latency = end - arrival */
    const char *subnet;       /* the SubNet or ARAC config that served it */
    const char *subgraph;     /* the SubGraph resident in near memory; NULL or "": none */
    uint64_t near_bytes;      /* weight bytes read from near memory */
    uint64_t far_bytes;       /* weight bytes moved from far memory */
    int32_t prediction;       /* predicted class; -1 when not computed (simulated runs) */
    int8_t correct;           /* 1 right, 0 wrong, -1 unknown */
    bool slo_met;             /* met its accuracy floor and latency ceiling */
    double table_accuracy;    /* the accuracy table's top-1 for SUBNET in [0, 1]; NAN if
                                 the table has none */
    bool late;                /* answered after its latency ceiling (false: in time, or no
                                 ceiling): counted wrong by effective accuracy */
} sn_run_query;

/* Latency percentiles (nearest rank) and moments, in microseconds. */
typedef struct sn_run_latency {
    double p50_us, p90_us, p95_us, p99_us, p999_us;
    double mean_us, min_us, max_us;
} sn_run_latency;

/* MLPerf LoadGen's validity rules, as supernav applies them to every run (summary.json
 * "validity"): at least SN_RUN_MIN_QUERIES queries (LoadGen's SingleStream minimum in
 * mlperf.conf; its Server minimum, 270,336, is out of reach of the traces here and is not
 * applied, nor is LoadGen's minimum duration, which virtual-time replays compress), and
 * enough queries for an early-stopping estimate of the reported percentile (p99) at
 * confidence SN_RUN_ES_CONFIDENCE: the latency that, with that confidence, the run's
 * true p99 does not exceed -- the largest t such that P(Binomial(n, 1 - p) <= t) <= 1 - c,
 * then the t-th largest latency (LoadGen's rule, tolerance 0). NAN where n is too small. */
#define SN_RUN_MIN_QUERIES 1024
#define SN_RUN_ES_CONFIDENCE 0.99

typedef struct sn_run_validity {
    int valid;                   /* 1: VALID */
    char reason[160];            /* why not, one line ("" when valid) */
    double es_p90_us, es_p99_us; /* early-stopping estimates; NAN: too few queries */
    size_t es_p99_discarded;     /* highest latencies the p99 estimate discards (t - 1) */
} sn_run_validity;

/* The early-stopping estimate for percentile P (0 < P < 1) at confidence C over N sorted
 * latencies (ascending): its index into SORTED and *T, or -1 when N is too small. */
long sn_run_early_stopping_index(size_t n, double p, double c, size_t *t);
/* P(X <= T) for X ~ Binomial(N, Q). */
double sn_run_binomial_cdf(size_t n, double q, size_t t);

/* What summary.json holds. A ratio with nothing to divide by is NAN (JSON null). */
typedef struct sn_run_summary {
    size_t queries;
    double slo_attainment;       /* queries with slo_met / queries */
    double served_accuracy;      /* mean table_accuracy of the queries that have one */
    double effective_accuracy;   /* the same with a late answer counted wrong (0) */
    size_t late_queries;         /* queries answered after their latency ceiling */
    size_t measured_queries;     /* queries whose correctness is known */
    double measured_accuracy;    /* correct / measured_queries */
    uint64_t near_bytes, far_bytes;
    double subgraph_hit_ratio;   /* near_bytes / (near_bytes + far_bytes): the share of
                                    weight bytes served from the resident SubGraph */
    double duration_s;           /* first arrival to last end */
    double throughput_qps;       /* queries / duration_s */
    sn_run_latency latency;      /* all NAN when there are no queries */
    sn_run_validity validity;
} sn_run_summary;

/* The accumulator behind summary.json; usable on its own. */
typedef struct sn_run_stats {
    size_t queries, slo_met, measured, correct, with_table_accuracy, late;
    double table_accuracy_sum, effective_accuracy_sum;
    uint64_t near_bytes, far_bytes;
    int64_t first_arrival_ns, last_end_ns;
    int64_t *latencies_ns;       /* owned; one per query, in arrival order until summarized */
    size_t capacity;
} sn_run_stats;

void sn_run_stats_init(sn_run_stats *stats);
void sn_run_stats_free(sn_run_stats *stats);

/* Checks Q (times ordered, correct in {-1,0,1}, table_accuracy in [0,1] or NAN) and adds
 * it. Returns SN_RUN_OK, SN_RUN_BAD_INPUT or SN_RUN_NO_MEMORY. */
sn_run_status sn_run_stats_add(sn_run_stats *stats, const sn_run_query *q);

/* Fills OUT; sorts the stored latencies. */
void sn_run_stats_summarize(sn_run_stats *stats, sn_run_summary *out);

/* The nearest-rank percentile of SORTED (ascending, N >= 1): SORTED[ceil(PERMILLE * N /
 * 1000) - 1], with the rank at least 1. PERMILLE in [0, 1000]: 500 = p50, 999 = p99.9.
 * Exact integer arithmetic. */
int64_t sn_run_percentile_nearest_rank(const int64_t *sorted, size_t n, unsigned permille);

/* ---- context ------------------------------------------------------------------------- */

typedef struct sn_run_machine {
    char hostname[256];
    char os[512];            /* "Linux 6.1.0-18-amd64 x86_64" (uname) */
    char cpu_model[256];     /* /proc/cpuinfo "model name" (or the ARM equivalents) */
    int cores;               /* online CPUs */
    int perf_event_paranoid; /* -100 when unknown */
} sn_run_machine;

/* uname, hostname, /proc/cpuinfo, online cores, perf_event_paranoid. Never fails;
 * unknown fields read "unknown". */
void sn_run_machine_gather(sn_run_machine *machine);

/* The compiler that built supernav: "gcc 12.2.0", "clang 14.0.6", from __VERSION__. */
const char *sn_run_compiler(void);

/* A key with a text value, or a number when TEXT is NULL. */
typedef struct sn_run_property {
    const char *key;
    const char *text;
    double number;
} sn_run_property;

/* An input file to fingerprint; ROLE is "model", "data" or "trace" (others allowed). */
typedef struct sn_run_file {
    const char *role;
    const char *path;
} sn_run_file;

typedef struct sn_run_context {
    const char *supernav_version;
    const char *git_revision;                 /* passed in: the build knows it */
    const char *compiler;                     /* NULL: sn_run_compiler() */
    const char *compiler_flags;
    const sn_run_machine *machine;            /* NULL: gathered now */
    const char *platform;                     /* "cpu", "opencl", "mcu", "fpga", ... */
    const sn_run_property *platform_properties;
    size_t platform_property_count;
    const char *clock;                        /* what the times mean, e.g.
                                                 "wall:CLOCK_MONOTONIC", "virtual:cycles" */
    const sn_run_property *run_properties;    /* policy, trace, scenario, ... */
    size_t run_property_count;
    const sn_run_file *files;                 /* hashed with SHA-256 when written */
    size_t file_count;
} sn_run_context;

/* ---- the writer ---------------------------------------------------------------------- */

typedef struct sn_run_writer sn_run_writer;

const char *sn_run_status_str(sn_run_status status);

/* Starts a run directory at DIR (its parents are created). SN_RUN_EXISTS when DIR exists.
 * On failure *WRITER is NULL and ERR holds one line (ERR may be NULL). */
sn_run_status sn_run_begin(const char *dir, sn_run_writer **writer, char *err, size_t err_bytes);

/* The temporary directory being written (for tests and messages). */
const char *sn_run_temp_dir(const sn_run_writer *writer);

/* The last error of WRITER, one line ("" when none). */
const char *sn_run_error(const sn_run_writer *writer);

/* Writes context.json, hashing CONTEXT's files. Required before sn_run_finish. */
sn_run_status sn_run_write_context(sn_run_writer *writer, const sn_run_context *context);

/* Appends one row to queries.csv and adds the query to the summary. */
sn_run_status sn_run_add_query(sn_run_writer *writer, const sn_run_query *query);

/* Writes counters.csv: one row per event of SET with VALUES (sn_counters_stop's). Without
 * this call, counters.csv has the header only. */
sn_run_status sn_run_write_counters(sn_run_writer *writer, const sn_counters *set,
                                    const sn_counter_value *values);

/* Writes summary.json (ENERGY may be NULL: "energy": null), syncs every file and renames
 * the directory into place. Frees WRITER whatever happens; on failure the temporary
 * directory is removed, DIR is untouched and ERR holds one line. SUMMARY (may be NULL)
 * receives what summary.json holds. */
sn_run_status sn_run_finish(sn_run_writer *writer, const sn_energy_reading *energy,
                            sn_run_summary *summary, char *err, size_t err_bytes);

/* Removes the temporary directory and frees WRITER. NULL is fine. */
void sn_run_abort(sn_run_writer *writer);

#endif
