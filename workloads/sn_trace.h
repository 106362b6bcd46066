/* supernav query traces: a stream of queries, each an arrival time, a sample and an
 * optional accuracy floor and/or latency ceiling. The file format, every generator's model
 * and every importer's mapping are documented in workloads/traces/README.md.
 *
 * A trace file is CSV (LF or CRLF line ends):
 *
 *   # supernav-trace 1                       magic and format version (first line)
 *   # mode: open                             metadata: "# key: value" lines
 *   # source: generator                        (mode is open or closed; the others are
 *   # seed: 7                                   free-form provenance)
 *   arrival_us,sample,acc_floor,lat_ceiling_us
 *   0,4711,0.8800,6000                       one row per query
 *   1520,93,,4000                            an empty field: no such constraint
 *
 * arrival_us: integer microseconds >= 0, non-decreasing; sample: an index in
 * [0, sample_count) of the sample library (the CF-64 test split: 10,000 canvases);
 * acc_floor: top-1 fraction in [0, 1] with at most 4 decimals; lat_ceiling_us: integer
 * microseconds > 0. In an open trace query i is issued at arrival_us[i]; in a closed one
 * (MLPerf SingleStream) at max(arrival_us[i], completion of query i-1).
 *
 * Everything here is deterministic: generators and importers use sn_rng and integer
 * arithmetic only, so the same parameters give the same bytes on every machine.
 * Host-only (malloc, stdio). */
#ifndef SN_TRACE_H
#define SN_TRACE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define SN_TRACE_MAGIC "supernav-trace 1"
#define SN_TRACE_HEADER "arrival_us,sample,acc_floor,lat_ceiling_us"
#define SN_TRACE_MAX_COUNT 10000000u /* queries in one trace (240 MB in memory) */
#define SN_TRACE_MAX_LEVELS 16u      /* constraint levels of a generator or importer */
#define SN_TRACE_CF64_TEST_SAMPLES 10000u

typedef enum sn_trace_status {
    SN_TRACE_OK = 0,
    SN_TRACE_ERR_IO,     /* cannot read or write a file (errno's message in ERR) */
    SN_TRACE_ERR_FORMAT, /* a malformed trace or source file (file:line: reason in ERR) */
    SN_TRACE_ERR_PARAM,  /* a parameter out of range (which one in ERR) */
    SN_TRACE_ERR_NOMEM
} sn_trace_status;

typedef enum sn_trace_mode {
    SN_TRACE_MODE_OPEN = 0,  /* issue at arrival_us: queueing counts (Server, Offline) */
    SN_TRACE_MODE_CLOSED = 1 /* issue at max(arrival_us, previous completion) */
} sn_trace_mode;

/* A loaded or generated trace; the caller frees it with sn_trace_free(). Arrays have
 * COUNT entries. A query without an accuracy floor has acc_floor NaN; one without a
 * latency ceiling has lat_ceiling_us 0 (see the two helpers below). */
typedef struct sn_trace {
    size_t count;
    int64_t *arrival_us;     /* >= 0, non-decreasing */
    uint32_t *sample;        /* < the sample count it was loaded or generated for */
    float *acc_floor;        /* in [0, 1], a multiple of 0.0001, or NaN: none */
    int64_t *lat_ceiling_us; /* > 0, or 0: none */
    sn_trace_mode mode;
    char *metadata; /* "key: value\n" lines in file order, without "# " and without the
                     * magic and mode lines; NUL-terminated, never NULL after success */
} sn_trace;

static inline int sn_trace_has_floor(const sn_trace *t, size_t i)
{
    return !isnan(t->acc_floor[i]);
}
static inline int sn_trace_has_ceiling(const sn_trace *t, size_t i)
{
    return t->lat_ceiling_us[i] > 0;
}

/* A message for each status ("ok", "malformed trace", ...). */
const char *sn_trace_status_str(sn_trace_status status);

/* Reads and validates the trace file at PATH. SAMPLE_COUNT (>= 1) bounds the sample
 * indices. On failure *TRACE is empty (nothing to free) and ERR holds one line, for a
 * malformed file "PATH:LINE: reason" (bad magic or header, malformed or out-of-range
 * field, decreasing or negative arrival, unknown sample, floor outside [0, 1], ceiling
 * <= 0, no queries). */
sn_trace_status sn_trace_load(const char *path, uint32_t sample_count, sn_trace *trace,
                              char *err, size_t err_bytes);

/* The same for a trace already in memory (DATA, SIZE bytes; copied), reported as NAME. */
sn_trace_status sn_trace_load_buffer(const char *name, const void *data, size_t size,
                                     uint32_t sample_count, sn_trace *trace, char *err,
                                     size_t err_bytes);

/* Writes TRACE to PATH atomically (temporary file + rename; PATH is untouched on
 * failure). The output is canonical: loading it and writing again gives the same bytes. */
sn_trace_status sn_trace_write_atomic(const char *path, const sn_trace *trace, char *err,
                                      size_t err_bytes);

/* Frees the arrays and the metadata; *TRACE becomes empty. Safe on an empty trace. */
void sn_trace_free(sn_trace *trace);

/* Copies the value of metadata KEY into VALUE (truncated to VALUE_BYTES - 1 characters).
 * Returns 0, or -1 when the key is absent. */
int sn_trace_meta_get(const sn_trace *trace, const char *key, char *value, size_t value_bytes);

/* ---- constraints --------------------------------------------------------------------
 * Generators and importers place each query at a level j in [0, levels): level j stands
 * for one point of the SuperNet's accuracy-latency front, with accuracy floor
 * floor_bp[j] / 10000 and latency ceiling ceiling_base_us * ceiling_permille[j] / 1000
 * (both usually ascending in j: a query that wants more accuracy tolerates more latency).
 * ATTACH says which of the two a query carries. */
typedef enum sn_trace_attach {
    SN_TRACE_ATTACH_BOTH = 0, /* floor and ceiling */
    SN_TRACE_ATTACH_FLOOR,
    SN_TRACE_ATTACH_CEILING,
    SN_TRACE_ATTACH_EITHER, /* one of the two, by a fair per-query coin */
    SN_TRACE_ATTACH_NONE
} sn_trace_attach;

typedef struct sn_trace_constraints {
    sn_trace_attach attach;
    uint32_t levels;                                /* 1..SN_TRACE_MAX_LEVELS */
    uint32_t floor_bp[SN_TRACE_MAX_LEVELS];         /* 0..10000 (8600 = top-1 0.86) */
    int64_t ceiling_base_us;                        /* > 0 */
    uint32_t ceiling_permille[SN_TRACE_MAX_LEVELS]; /* > 0 (1000 = the base) */
} sn_trace_constraints;

/* The defaults: attach both; 5 levels; floors 0.86, 0.87, 0.88, 0.89, 0.90 (the Pareto
 * SubNets span 86.2-90.2 % top-1); ceilings 0.2, 0.4, 0.6, 0.8, 1.0 x 10,000 us. */
void sn_trace_constraints_default(sn_trace_constraints *c);

/* ---- generators --------------------------------------------------------------------- */
typedef enum sn_trace_kind {
    SN_TRACE_KIND_SINGLE_STREAM = 1, /* MLPerf SingleStream: closed loop, arrivals 0 */
    SN_TRACE_KIND_SERVER,            /* MLPerf Server: Poisson arrivals at rate */
    SN_TRACE_KIND_OFFLINE,           /* MLPerf Offline: every query at time 0 */
    SN_TRACE_KIND_SUSHI,             /* Poisson arrivals, constraints that dwell and drift */
    SN_TRACE_KIND_BURSTY             /* on/off Markov-modulated Poisson process */
} sn_trace_kind;

typedef struct sn_trace_gen_params {
    sn_trace_kind kind;
    uint64_t seed;
    uint32_t count;        /* queries, 1..SN_TRACE_MAX_COUNT */
    uint32_t sample_count; /* samples drawn uniformly from [0, sample_count) */
    /* server, sushi: mean rate in 1/1000 queries per second (1..10^9) */
    uint64_t rate_mqps;
    /* bursty: rates in the on and off states (on >= 1, off may be 0) and mean state
     * durations in us (>= 1), exponentially distributed */
    uint64_t on_rate_mqps, off_rate_mqps;
    uint64_t on_mean_us, off_mean_us;
    sn_trace_constraints constraints;
    /* level walk: after each query, leave the level with probability 1/dwell; when
     * leaving, jump to a uniform level with probability jump_ppm / 10^6, else step to a
     * neighbour. dwell 1 and jump 10^6 give independent uniform levels. */
    uint32_t dwell;    /* >= 1 */
    uint32_t jump_ppm; /* 0..10^6 */
} sn_trace_gen_params;

/* The documented defaults for KIND (seed 0, count 1000, 10,000 samples, rate 10 qps;
 * bursty 40 qps on for 2 s, 2 qps off for 8 s; sushi dwell 50 and jump 0.1, the others
 * dwell 1 and jump 1). */
void sn_trace_gen_params_default(sn_trace_gen_params *params, sn_trace_kind kind);

/* Generates a trace; its metadata records the kind and every parameter. */
sn_trace_status sn_trace_generate(const sn_trace_gen_params *params, sn_trace *trace,
                                  char *err, size_t err_bytes);

/* ---- importers ---------------------------------------------------------------------- */
typedef enum sn_trace_format {
    SN_TRACE_FORMAT_AZURE_LLM = 1,        /* Azure LLM inference 2023 (Splitwise) */
    SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019, /* per-minute invocation counts per function */
    SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021, /* one row per invocation */
    SN_TRACE_FORMAT_CSV,  /* any request log: RFC 4180 CSV with a header, one row a request */
    SN_TRACE_FORMAT_JSONL /* any request log: JSON Lines, one object a request */
} sn_trace_format;

/* csv, jsonl: how the time field is written. A number of seconds, milliseconds,
 * microseconds or nanoseconds (a non-negative decimal; digits past the nanosecond are
 * dropped), or a UTC date and time "YYYY-MM-DD HH:MM:SS[.fffffffff]" ('T' for the space
 * and a final 'Z' allowed; always absolute). */
typedef enum sn_trace_time_unit {
    SN_TRACE_TIME_UNIT_S = 1,
    SN_TRACE_TIME_UNIT_MS,
    SN_TRACE_TIME_UNIT_US,
    SN_TRACE_TIME_UNIT_NS,
    SN_TRACE_TIME_UNIT_DATETIME
} sn_trace_time_unit;

/* csv, jsonl: how a field's value becomes a constraint level in [0, levels) (the names
 * and rules of the Azure importers' mappings, workloads/traces/README.md). */
typedef enum sn_trace_field_map {
    SN_TRACE_FIELD_MAP_QUANTILE = 1, /* a number: floor(levels x (rows with a smaller
                                      * value) / rows with a value) */
    SN_TRACE_FIELD_MAP_HASH,         /* any text: floor(FNV-1a-32(text) x levels / 2^32) */
    SN_TRACE_FIELD_MAP_LEVEL         /* the level itself: an integer in [0, levels) */
} sn_trace_field_map;

typedef struct sn_trace_import_params {
    sn_trace_format format;
    uint64_t seed;         /* picks the samples (and the 2019 within-minute offsets) */
    uint32_t sample_count; /* samples drawn uniformly from [0, sample_count) */
    /* speed-up: arrival times (relative to the first) are divided by scale_ppm / 10^6,
     * rounded to the nearest us. When rate_mqps is not 0 it overrides scale_ppm with the
     * factor (rounded to 10^-6) that makes the mean rate rate_mqps / 1000 queries/s. */
    uint64_t scale_ppm;
    uint64_t rate_mqps;
    uint32_t minute_first, minute_last; /* 2019: 1-based inclusive range; 0 0 = all */
    sn_trace_constraints constraints;
    uint32_t max_count;    /* the most arrivals accepted (more: an error); 0 or over
                              SN_TRACE_MAX_COUNT: SN_TRACE_MAX_COUNT */
    /* csv, jsonl only (NULL / 0 for the Azure formats). Field names are the caller's
     * strings, matched exactly (a CSV header's column, a JSON object's key). */
    const char *time_field;        /* required: each request's arrival time */
    sn_trace_time_unit time_unit;  /* required (0: unset) */
    int time_relative;             /* 0: absolute, the first arrival becomes 0; 1: offsets
                                    * from the log's start, kept (datetime: never) */
    int refuse_unsorted;           /* 0: rows sorted by time, ties in file order (the
                                    * count out of order is recorded); 1: a row earlier
                                    * than the row before it is an error */
    const char *floor_field;       /* NULL: none; needed when constraints.attach puts
                                    * floors on queries (both, floor, either), refused
                                    * otherwise */
    sn_trace_field_map floor_map;  /* default quantile */
    const char *ceiling_field;     /* the same for ceilings */
    sn_trace_field_map ceiling_map;
} sn_trace_import_params;

/* Defaults: seed 1, 10,000 samples, scale 1 (real time), all minutes, default
 * constraints; for csv and jsonl constraint none (no field given yet), both maps
 * quantile, the time field and unit unset. A csv or jsonl row whose floor (ceiling)
 * field is empty, null or absent carries no floor (ceiling). */
void sn_trace_import_params_default(sn_trace_import_params *params, sn_trace_format format);

/* Checks PARAMS as the importers do first: 0, or -1 with the reason in ERR (a parameter
 * out of range; for csv and jsonl a missing time field or unit, or a floor or ceiling
 * field that the constraint does not use, or a constraint without its field). */
int sn_trace_import_check(const sn_trace_import_params *params, char *err, size_t err_bytes);

/* Imports the source file SRC_PATH; errors in it are reported as "SRC_PATH:LINE: reason".
 * The metadata records the format, the source's file name and every parameter. */
sn_trace_status sn_trace_import(const sn_trace_import_params *params, const char *src_path,
                                sn_trace *trace, char *err, size_t err_bytes);

/* The same for a source already in memory (DATA, SIZE bytes; copied), reported as NAME. */
sn_trace_status sn_trace_import_buffer(const sn_trace_import_params *params, const char *name,
                                       const void *data, size_t size, sn_trace *trace, char *err,
                                       size_t err_bytes);

/* ---- names and numbers -------------------------------------------------------------- */
/* Parse a name (e.g. "single-stream", "azure-llm", "either"); 0 (or -1 for attach) if
 * unknown. The _name functions return the same spelling. */
sn_trace_kind sn_trace_kind_parse(const char *name);
const char *sn_trace_kind_name(sn_trace_kind kind);
sn_trace_format sn_trace_format_parse(const char *name);
const char *sn_trace_format_name(sn_trace_format format);
sn_trace_time_unit sn_trace_time_unit_parse(const char *name); /* "s" ... "datetime" */
const char *sn_trace_time_unit_name(sn_trace_time_unit unit);
sn_trace_field_map sn_trace_field_map_parse(const char *name); /* "quantile", ... */
const char *sn_trace_field_map_name(sn_trace_field_map map);
int sn_trace_attach_parse(const char *name); /* an sn_trace_attach, or -1 */
const char *sn_trace_attach_name(sn_trace_attach attach);

/* Parses a non-negative decimal ("12", "0.25"; digits on both sides of a point) with at
 * most DECIMALS fractional digits into *VALUE = the number x 10^DECIMALS, exactly.
 * Returns 0, or -1 when the text is not such a number or the value exceeds MAX. */
int sn_trace_parse_fixed(const char *text, unsigned decimals, uint64_t max, uint64_t *value);

#endif
