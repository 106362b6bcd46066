/* supernav trace: generate, import and describe query traces (workloads/sn_trace.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_trace.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav trace gen KIND --count N --seed S -o FILE [options]\n"
            "       supernav trace import --format FORMAT SRC -o FILE [options]\n"
            "       supernav trace info FILE [--samples N]\n\n"
            "KIND     single-stream (MLPerf SingleStream: closed loop), server (Poisson\n"
            "         arrivals), offline (every query at time 0), sushi (Poisson arrivals,\n"
            "         constraints that dwell and drift), bursty (on/off modulated Poisson)\n"
            "FORMAT   azure-llm, azure-functions-2019, azure-functions-2021\n"
            "         (the real traces are in workloads/traces/real/); csv, jsonl: any\n"
            "         request log with a time field (RFC 4180 CSV with a header row, or\n"
            "         JSON Lines: one object per line)\n\n"
            "gen options:\n"
            "  --rate QPS              server, sushi: mean arrival rate (default 10)\n"
            "  --rate-on QPS           bursty: rate while on (default 40)\n"
            "  --rate-off QPS          bursty: rate while off (default 2; 0 allowed)\n"
            "  --on-ms MS, --off-ms MS bursty: mean on and off durations (default 2000, 8000)\n"
            "  --dwell N               mean queries spent at a constraint level (default 1;\n"
            "                          sushi 50)\n"
            "  --jump P                when a level is left, probability of a uniform jump\n"
            "                          rather than a step to a neighbour (default 1; sushi 0.1)\n"
            "import options:\n"
            "  --seed S                picks the samples (and 2019 arrival offsets); default 1\n"
            "  --scale X               speed-up: arrivals X times faster (default 1)\n"
            "  --rate QPS              the speed-up that gives this mean rate (overrides\n"
            "                          --scale; the factor used is recorded)\n"
            "  --minutes A-B           azure-functions-2019: minutes A..B of 1..1440\n"
            "csv and jsonl options (the column of a CSV header, the key of a JSON object):\n"
            "  --time-field NAME       each request's arrival time (required)\n"
            "  --time-unit UNIT        s, ms, us, ns (a non-negative decimal number) or\n"
            "                          datetime ('YYYY-MM-DD HH:MM:SS[.f]', UTC) (required)\n"
            "  --timestamps KIND       absolute: the first arrival becomes 0 (default);\n"
            "                          relative: offsets from the log's start, kept\n"
            "  --unsorted WHAT         sort: rows out of time order are sorted, ties in\n"
            "                          file order, and counted in the metadata (default);\n"
            "                          refuse: such a row is an error naming its line\n"
            "  --floor-field NAME      the field that sets each query's floor level (an\n"
            "                          empty, null or absent value: no floor)\n"
            "  --floor-map MAP         quantile (of a number, among the rows; default),\n"
            "                          hash (of any text), level (the level, 0..L-1)\n"
            "  --ceiling-field NAME    the same for the ceiling level\n"
            "  --ceiling-map MAP\n"
            "common options:\n"
            "  --samples N             sample indices in [0, N) (default 10000: CF-64 test)\n"
            "  --constraint WHICH      both, floor, ceiling, either, none (default both;\n"
            "                          csv, jsonl: as the fields given)\n"
            "  --floors LIST           accuracy floor per level (default\n"
            "                          0.86,0.87,0.88,0.89,0.90)\n"
            "  --ceiling-us US         latency ceiling base (default 10000)\n"
            "  --ceiling-factors LIST  ceiling per level, times the base (default\n"
            "                          0.2,0.4,0.6,0.8,1); as many as floors\n\n"
            "Output is written atomically. Format, models and mappings:\n"
            "workloads/traces/README.md.\n");
}

enum { GEN = 1, IMPORT = 2, INFO = 4 };

typedef struct options {
    const char *output, *seed, *count, *samples, *rate, *rate_on, *rate_off, *on_ms, *off_ms;
    const char *constraint, *floors, *ceiling_us, *ceiling_factors, *dwell, *jump, *format;
    const char *scale, *minutes;
    const char *time_field, *time_unit, *timestamps, *unsorted, *floor_field, *floor_map;
    const char *ceiling_field, *ceiling_map;
    const char *positional;
} options;

/* Parses argv[first..] into O; 0, 2 (usage error, printed) or -1 (--help, printed). */
static int parse_options(int argc, char **argv, int first, int where, options *o)
{
    const struct {
        const char *name;
        const char **slot;
        int where;
    } specs[] = {
        {"-o", &o->output, GEN | IMPORT},
        {"--output", &o->output, GEN | IMPORT},
        {"--seed", &o->seed, GEN | IMPORT},
        {"--count", &o->count, GEN},
        {"--samples", &o->samples, GEN | IMPORT | INFO},
        {"--rate", &o->rate, GEN | IMPORT},
        {"--rate-on", &o->rate_on, GEN},
        {"--rate-off", &o->rate_off, GEN},
        {"--on-ms", &o->on_ms, GEN},
        {"--off-ms", &o->off_ms, GEN},
        {"--constraint", &o->constraint, GEN | IMPORT},
        {"--floors", &o->floors, GEN | IMPORT},
        {"--ceiling-us", &o->ceiling_us, GEN | IMPORT},
        {"--ceiling-factors", &o->ceiling_factors, GEN | IMPORT},
        {"--dwell", &o->dwell, GEN},
        {"--jump", &o->jump, GEN},
        {"--format", &o->format, IMPORT},
        {"--scale", &o->scale, IMPORT},
        {"--minutes", &o->minutes, IMPORT},
        {"--time-field", &o->time_field, IMPORT},
        {"--time-unit", &o->time_unit, IMPORT},
        {"--timestamps", &o->timestamps, IMPORT},
        {"--unsorted", &o->unsorted, IMPORT},
        {"--floor-field", &o->floor_field, IMPORT},
        {"--floor-map", &o->floor_map, IMPORT},
        {"--ceiling-field", &o->ceiling_field, IMPORT},
        {"--ceiling-map", &o->ceiling_map, IMPORT},
    };
    int i;
    size_t k;
    memset(o, 0, sizeof *o);
    for (i = first; i < argc; ++i) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        }
        for (k = 0; k < sizeof specs / sizeof specs[0]; ++k)
            if (!strcmp(argv[i], specs[k].name) && (specs[k].where & where))
                slot = specs[k].slot;
        if (!slot) {
            if (argv[i][0] == '-' && argv[i][1]) {
                sn_cli_error("unknown option '%s' (see 'supernav trace --help')", argv[i]);
                return 2;
            }
            if (o->positional) {
                sn_cli_error("unexpected argument '%s'", argv[i]);
                return 2;
            }
            o->positional = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            sn_cli_error("option '%s' needs a value", argv[i]);
            return 2;
        }
        *slot = argv[++i];
    }
    return 0;
}

/* A decimal with at most DECIMALS fractional digits, as value x 10^DECIMALS in
 * [MIN, MAX]; prints WHAT in the error. 0, or 2. */
static int fixed_arg(const char *option, const char *text, unsigned decimals, uint64_t min,
                     uint64_t max, const char *what, uint64_t *value)
{
    if (!text)
        return 0;
    if (sn_trace_parse_fixed(text, decimals, max, value) != 0 || *value < min) {
        sn_cli_error("%s must be %s, not '%s'", option, what, text);
        return 2;
    }
    return 0;
}

/* A comma-separated list of fixed decimals into V (at most SN_TRACE_MAX_LEVELS). */
static int list_arg(const char *option, const char *text, unsigned decimals, uint64_t min,
                    uint64_t max, const char *what, uint32_t *v, uint32_t *n)
{
    char buf[512], *item, *save = NULL;
    if (!text)
        return 0;
    if (strlen(text) >= sizeof buf) {
        sn_cli_error("%s: list too long", option);
        return 2;
    }
    strcpy(buf, text);
    *n = 0;
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        uint64_t value;
        if (*n == SN_TRACE_MAX_LEVELS) {
            sn_cli_error("%s: at most %u levels", option, SN_TRACE_MAX_LEVELS);
            return 2;
        }
        if (sn_trace_parse_fixed(item, decimals, max, &value) != 0 || value < min) {
            sn_cli_error("%s: each item must be %s, not '%s'", option, what, item);
            return 2;
        }
        v[(*n)++] = (uint32_t)value;
    }
    if (!*n || text[strlen(text) - 1] == ',' || text[0] == ',' || strstr(text, ",,")) {
        sn_cli_error("%s must be a comma-separated list, not '%s'", option, text);
        return 2;
    }
    return 0;
}

static int constraint_args(const options *o, sn_trace_constraints *c)
{
    uint64_t v;
    uint32_t nf = c->levels, nc = c->levels;
    int rc;
    if (o->constraint) {
        int a = sn_trace_attach_parse(o->constraint);
        if (a < 0) {
            sn_cli_error("unknown --constraint '%s' (both, floor, ceiling, either, none)",
                         o->constraint);
            return 2;
        }
        c->attach = (sn_trace_attach)a;
    }
    if ((rc = list_arg("--floors", o->floors, 4, 0, 10000, "a decimal in [0, 1] with at most 4 "
                       "decimals", c->floor_bp, &nf)) ||
        (rc = list_arg("--ceiling-factors", o->ceiling_factors, 3, 1, 1000000,
                       "a decimal in [0.001, 1000] with at most 3 decimals",
                       c->ceiling_permille, &nc)))
        return rc;
    if (nf != nc) {
        sn_cli_error("--floors gives %u levels and --ceiling-factors %u: give both, with as "
                     "many items",
                     nf, nc);
        return 2;
    }
    c->levels = nf;
    if (o->ceiling_us) {
        if ((rc = fixed_arg("--ceiling-us", o->ceiling_us, 0, 1, UINT64_C(1000000000000),
                            "an integer in 1..10^12 (microseconds)", &v)))
            return rc;
        c->ceiling_base_us = (int64_t)v;
    }
    return 0;
}

static int samples_arg(const options *o, uint32_t *samples)
{
    uint64_t v = *samples;
    int rc = fixed_arg("--samples", o->samples, 0, 1, UINT32_MAX, "an integer in 1..4294967295",
                       &v);
    *samples = (uint32_t)v;
    return rc;
}

static int write_trace(const sn_trace *t, const char *path)
{
    char err[1024];
    if (sn_trace_write_atomic(path, t, err, sizeof err) != SN_TRACE_OK) {
        sn_cli_error("%s", err);
        return 1;
    }
    return 0;
}

static int no_option(const char *value, const char *option, const char *context)
{
    if (!value)
        return 0;
    sn_cli_error("%s does not apply to %s", option, context);
    return 2;
}

static int cmd_gen(int argc, char **argv)
{
    options o;
    sn_trace_gen_params p;
    sn_trace_kind kind;
    sn_trace t;
    char err[1024];
    uint64_t v;
    int rc, poisson, bursty;
    if ((rc = parse_options(argc, argv, 2, GEN, &o)))
        return rc < 0 ? 0 : rc;
    if (!o.positional) {
        sn_cli_error("missing KIND (single-stream, server, offline, sushi, bursty)");
        return 2;
    }
    kind = sn_trace_kind_parse(o.positional);
    if (!kind) {
        sn_cli_error("unknown KIND '%s' (single-stream, server, offline, sushi, bursty)",
                     o.positional);
        return 2;
    }
    if (!o.count || !o.seed || !o.output) {
        sn_cli_error("missing %s (see 'supernav trace --help')",
                     !o.count ? "--count" : !o.seed ? "--seed" : "-o FILE");
        return 2;
    }
    poisson = kind == SN_TRACE_KIND_SERVER || kind == SN_TRACE_KIND_SUSHI;
    bursty = kind == SN_TRACE_KIND_BURSTY;
    if ((rc = no_option(poisson ? NULL : o.rate, "--rate", o.positional)) ||
        (rc = no_option(bursty ? NULL : o.rate_on, "--rate-on", o.positional)) ||
        (rc = no_option(bursty ? NULL : o.rate_off, "--rate-off", o.positional)) ||
        (rc = no_option(bursty ? NULL : o.on_ms, "--on-ms", o.positional)) ||
        (rc = no_option(bursty ? NULL : o.off_ms, "--off-ms", o.positional)))
        return rc;
    sn_trace_gen_params_default(&p, kind);
    if (sn_trace_parse_fixed(o.seed, 0, UINT64_MAX, &p.seed) != 0) {
        sn_cli_error("--seed must be an unsigned 64-bit decimal integer, not '%s'", o.seed);
        return 2;
    }
    if ((rc = fixed_arg("--count", o.count, 0, 1, SN_TRACE_MAX_COUNT, "an integer in 1..10000000",
                        &v)))
        return rc;
    p.count = (uint32_t)v;
    if ((rc = samples_arg(&o, &p.sample_count)) ||
        (rc = fixed_arg("--rate", o.rate, 3, 1, 1000000000,
                        "a rate in 0.001..1000000 queries/s (at most 3 decimals)", &p.rate_mqps)) ||
        (rc = fixed_arg("--rate-on", o.rate_on, 3, 1, 1000000000,
                        "a rate in 0.001..1000000 queries/s (at most 3 decimals)",
                        &p.on_rate_mqps)) ||
        (rc = fixed_arg("--rate-off", o.rate_off, 3, 0, 1000000000,
                        "a rate in 0..1000000 queries/s (at most 3 decimals)", &p.off_rate_mqps)) ||
        (rc = fixed_arg("--on-ms", o.on_ms, 3, 1, UINT64_C(1000000000000),
                        "a duration in 0.001..10^9 ms (at most 3 decimals)", &p.on_mean_us)) ||
        (rc = fixed_arg("--off-ms", o.off_ms, 3, 1, UINT64_C(1000000000000),
                        "a duration in 0.001..10^9 ms (at most 3 decimals)", &p.off_mean_us)) ||
        (rc = constraint_args(&o, &p.constraints)))
        return rc;
    v = p.dwell;
    if ((rc = fixed_arg("--dwell", o.dwell, 0, 1, UINT32_MAX, "an integer >= 1 (queries)", &v)))
        return rc;
    p.dwell = (uint32_t)v;
    v = p.jump_ppm;
    if ((rc = fixed_arg("--jump", o.jump, 6, 0, 1000000,
                        "a probability in [0, 1] (at most 6 decimals)", &v)))
        return rc;
    p.jump_ppm = (uint32_t)v;
    if (sn_trace_generate(&p, &t, err, sizeof err) != SN_TRACE_OK) {
        sn_cli_error("%s", err);
        return 1;
    }
    rc = write_trace(&t, o.output);
    sn_trace_free(&t);
    return rc;
}

/* csv, jsonl: the time and field options into P (constraints already parsed). */
static int log_args(const options *o, sn_trace_import_params *p)
{
    if (!o->time_field || !o->time_unit) {
        sn_cli_error("missing %s (see 'supernav trace --help')",
                     !o->time_field ? "--time-field NAME"
                                    : "--time-unit (s, ms, us, ns, datetime)");
        return 2;
    }
    p->time_field = o->time_field;
    if (!(p->time_unit = sn_trace_time_unit_parse(o->time_unit))) {
        sn_cli_error("unknown --time-unit '%s' (s, ms, us, ns, datetime)", o->time_unit);
        return 2;
    }
    if (o->timestamps && strcmp(o->timestamps, "absolute") != 0 &&
        strcmp(o->timestamps, "relative") != 0) {
        sn_cli_error("unknown --timestamps '%s' (absolute, relative)", o->timestamps);
        return 2;
    }
    p->time_relative = o->timestamps && !strcmp(o->timestamps, "relative");
    if (o->unsorted && strcmp(o->unsorted, "sort") != 0 && strcmp(o->unsorted, "refuse") != 0) {
        sn_cli_error("unknown --unsorted '%s' (sort, refuse)", o->unsorted);
        return 2;
    }
    p->refuse_unsorted = o->unsorted && !strcmp(o->unsorted, "refuse");
    if (o->floor_map && !o->floor_field) {
        sn_cli_error("--floor-map needs --floor-field");
        return 2;
    }
    if (o->ceiling_map && !o->ceiling_field) {
        sn_cli_error("--ceiling-map needs --ceiling-field");
        return 2;
    }
    p->floor_field = o->floor_field;
    p->ceiling_field = o->ceiling_field;
    if ((o->floor_map && !(p->floor_map = sn_trace_field_map_parse(o->floor_map))) ||
        (o->ceiling_map && !(p->ceiling_map = sn_trace_field_map_parse(o->ceiling_map)))) {
        sn_cli_error("unknown %s '%s' (quantile, hash, level)",
                     !p->floor_map ? "--floor-map" : "--ceiling-map",
                     !p->floor_map ? o->floor_map : o->ceiling_map);
        return 2;
    }
    /* without --constraint, the fields given say which constraints the queries carry */
    if (!o->constraint)
        p->constraints.attach = o->floor_field && o->ceiling_field ? SN_TRACE_ATTACH_BOTH
                                : o->floor_field                  ? SN_TRACE_ATTACH_FLOOR
                                : o->ceiling_field                ? SN_TRACE_ATTACH_CEILING
                                                                  : SN_TRACE_ATTACH_NONE;
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    options o;
    sn_trace_import_params p;
    sn_trace_format format;
    sn_trace t;
    char err[1024];
    int rc;
    if ((rc = parse_options(argc, argv, 2, IMPORT, &o)))
        return rc < 0 ? 0 : rc;
    if (!o.format || !o.positional || !o.output) {
        sn_cli_error("missing %s (see 'supernav trace --help')",
                     !o.format ? "--format" : !o.positional ? "SRC" : "-o FILE");
        return 2;
    }
    format = sn_trace_format_parse(o.format);
    if (!format) {
        sn_cli_error("unknown --format '%s' (azure-llm, azure-functions-2019, "
                     "azure-functions-2021, csv, jsonl)",
                     o.format);
        return 2;
    }
    if (format != SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019 &&
        (rc = no_option(o.minutes, "--minutes", o.format)))
        return rc;
    if (format != SN_TRACE_FORMAT_CSV && format != SN_TRACE_FORMAT_JSONL &&
        ((rc = no_option(o.time_field, "--time-field", o.format)) ||
         (rc = no_option(o.time_unit, "--time-unit", o.format)) ||
         (rc = no_option(o.timestamps, "--timestamps", o.format)) ||
         (rc = no_option(o.unsorted, "--unsorted", o.format)) ||
         (rc = no_option(o.floor_field, "--floor-field", o.format)) ||
         (rc = no_option(o.floor_map, "--floor-map", o.format)) ||
         (rc = no_option(o.ceiling_field, "--ceiling-field", o.format)) ||
         (rc = no_option(o.ceiling_map, "--ceiling-map", o.format))))
        return rc;
    if (o.rate && o.scale) {
        sn_cli_error("give --scale or --rate, not both");
        return 2;
    }
    sn_trace_import_params_default(&p, format);
    if (o.seed && sn_trace_parse_fixed(o.seed, 0, UINT64_MAX, &p.seed) != 0) {
        sn_cli_error("--seed must be an unsigned 64-bit decimal integer, not '%s'", o.seed);
        return 2;
    }
    if ((rc = samples_arg(&o, &p.sample_count)) ||
        (rc = fixed_arg("--scale", o.scale, 6, 1, UINT64_C(1000000000000),
                        "a speed-up in 0.000001..1000000 (at most 6 decimals)", &p.scale_ppm)) ||
        (rc = fixed_arg("--rate", o.rate, 3, 1, 1000000000,
                        "a rate in 0.001..1000000 queries/s (at most 3 decimals)", &p.rate_mqps)) ||
        (rc = constraint_args(&o, &p.constraints)))
        return rc;
    if ((format == SN_TRACE_FORMAT_CSV || format == SN_TRACE_FORMAT_JSONL) &&
        (rc = log_args(&o, &p)))
        return rc;
    if (o.minutes) {
        unsigned first, last;
        int used = 0;
        if (sscanf(o.minutes, "%u-%u%n", &first, &last, &used) != 2 ||
            (size_t)used != strlen(o.minutes) || o.minutes[0] < '0' || o.minutes[0] > '9' ||
            first < 1 || first > last || last > 1440) {
            sn_cli_error("--minutes must be a range A-B with 1 <= A <= B <= 1440, not '%s'",
                         o.minutes);
            return 2;
        }
        p.minute_first = first;
        p.minute_last = last;
    }
    if (sn_trace_import_check(&p, err, sizeof err) != 0) { /* e.g. a field without its
                                                               * constraint: usage */
        sn_cli_error("%s", err);
        return 2;
    }
    if (sn_trace_import(&p, o.positional, &t, err, sizeof err) != SN_TRACE_OK) {
        sn_cli_error("%s", err);
        return 1;
    }
    rc = write_trace(&t, o.output);
    sn_trace_free(&t);
    return rc;
}

/* ---- info --------------------------------------------------------------------------- */
static void print_seconds(const char *label, int64_t us)
{
    printf("%-16s %" PRId64 ".%06" PRId64 " s\n", label, us / 1000000, us % 1000000);
}

static int by_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

#define MAX_LISTED 12

static int cmd_info(int argc, char **argv)
{
    options o;
    sn_trace t;
    char err[1024];
    uint32_t samples = SN_TRACE_CF64_TEST_SAMPLES, min_sample = UINT32_MAX, max_sample = 0;
    uint32_t *floor_count = NULL, distinct = 0;
    uint8_t *seen = NULL;
    int64_t span, *ceilings = NULL;
    size_t i, with_floor = 0, with_ceiling = 0, both = 0, n;
    int rc;
    if ((rc = parse_options(argc, argv, 2, INFO, &o)))
        return rc < 0 ? 0 : rc;
    if (!o.positional) {
        sn_cli_error("missing FILE (see 'supernav trace --help')");
        return 2;
    }
    if ((rc = samples_arg(&o, &samples)))
        return rc;
    if (sn_trace_load(o.positional, samples, &t, err, sizeof err) != SN_TRACE_OK) {
        sn_cli_error("%s", err);
        return 1;
    }
    floor_count = calloc(10001, sizeof *floor_count);
    seen = calloc(samples, 1);
    ceilings = malloc(t.count * sizeof *ceilings);
    if (!floor_count || !seen || !ceilings) {
        sn_cli_error("out of memory");
        rc = 1;
        goto done;
    }
    n = t.count;
    span = t.arrival_us[n - 1] - t.arrival_us[0];
    printf("%-16s %s (%s, mode %s)\n", "trace", o.positional, SN_TRACE_MAGIC,
           t.mode == SN_TRACE_MODE_CLOSED ? "closed" : "open");
    printf("%-16s %zu\n", "queries", n);
    print_seconds("first arrival", t.arrival_us[0]);
    print_seconds("span", span);
    if (n > 1 && span > 0) {
        double mean = (double)span / (double)(n - 1), var = 0.0;
        for (i = 1; i < n; ++i) {
            double d = (double)(t.arrival_us[i] - t.arrival_us[i - 1]) - mean;
            var += d * d;
        }
        var /= (double)(n - 1);
        printf("%-16s %.4f queries/s (inter-arrival mean %.1f us, CV %.3f)\n", "mean rate",
               1e6 / mean, mean, var > 0.0 ? sqrt(var) / mean : 0.0);
    } else {
        printf("%-16s n/a (all arrivals at the same time)\n", "mean rate");
    }
    for (i = 0; i < n; ++i) {
        uint32_t s = t.sample[i];
        distinct += !seen[s];
        seen[s] = 1;
        min_sample = s < min_sample ? s : min_sample;
        max_sample = s > max_sample ? s : max_sample;
        if (sn_trace_has_floor(&t, i)) {
            ++with_floor;
            ++floor_count[(uint32_t)((double)t.acc_floor[i] * 10000.0 + 0.5)];
        }
        if (sn_trace_has_ceiling(&t, i))
            ceilings[with_ceiling++] = t.lat_ceiling_us[i];
        both += sn_trace_has_floor(&t, i) && sn_trace_has_ceiling(&t, i);
    }
    printf("%-16s %" PRIu32 "..%" PRIu32 " of [0, %" PRIu32 "), %" PRIu32 " distinct\n",
           "samples", min_sample, max_sample, samples, distinct);
    printf("%-16s %zu with a floor, %zu with a ceiling, %zu with both, %zu with neither\n",
           "constraints", with_floor, with_ceiling, both, n - with_floor - with_ceiling + both);
    {
        uint32_t bp, listed = 0, more = 0;
        for (bp = 0; bp <= 10000; ++bp) {
            if (!floor_count[bp])
                continue;
            if (listed++ == MAX_LISTED) {
                ++more;
                continue;
            }
            printf("%-16s %u.%04u: %" PRIu32 " (%.1f %%)\n", listed == 1 ? "accuracy floors" : "",
                   bp / 10000, bp % 10000, floor_count[bp],
                   100.0 * floor_count[bp] / (double)n);
        }
        if (listed > MAX_LISTED)
            printf("%-16s ... and %" PRIu32 " more values\n", "", listed - MAX_LISTED);
    }
    qsort(ceilings, with_ceiling, sizeof *ceilings, by_int64);
    {
        size_t j = 0, listed = 0;
        while (j < with_ceiling) {
            size_t k = j;
            while (k < with_ceiling && ceilings[k] == ceilings[j])
                ++k;
            if (listed++ < MAX_LISTED)
                printf("%-16s %" PRId64 " us: %zu (%.1f %%)\n",
                       listed == 1 ? "latency ceilings" : "", ceilings[j], k - j,
                       100.0 * (double)(k - j) / (double)n);
            j = k;
        }
        if (listed > MAX_LISTED)
            printf("%-16s ... and %zu more values\n", "", listed - MAX_LISTED);
    }
    {
        const char *m = t.metadata;
        int first = 1;
        while (*m) {
            const char *nl = strchr(m, '\n');
            printf("%-16s %.*s\n", first ? "metadata" : "", (int)(nl - m), m);
            first = 0;
            m = nl + 1;
        }
    }
    rc = 0;
done:
    free(floor_count);
    free(seen);
    free(ceilings);
    sn_trace_free(&t);
    return rc;
}

int sn_cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "gen"))
        return cmd_gen(argc, argv);
    if (!strcmp(argv[1], "import"))
        return cmd_import(argc, argv);
    if (!strcmp(argv[1], "info"))
        return cmd_info(argc, argv);
    sn_cli_error("unknown subcommand '%s' (gen, import, info)", argv[1]);
    return 2;
}
