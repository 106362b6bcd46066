/* supernav query traces: importers for the real public traces (mappings documented in
 * workloads/traces/README.md). Integer arithmetic only. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_file.h"
#include "sn_trace.h"
#include "sn_trace_impl.h"

#define MAX_SCALE_PPM UINT64_C(1000000000000) /* a speed-up of 10^6 */
#define MAX_RATE_MQPS UINT64_C(1000000000)
#define F2019_MINUTES 1440u
#define F2019_MINUTE_US INT64_C(60000000)

void sn_trace_import_params_default(sn_trace_import_params *p, sn_trace_format format)
{
    memset(p, 0, sizeof *p);
    p->format = format;
    p->seed = 1;
    p->sample_count = SN_TRACE_CF64_TEST_SAMPLES;
    p->scale_ppm = 1000000;
    sn_trace_constraints_default(&p->constraints);
}

/* One arrival of the source, before sorting. Levels come either straight from the row
 * (a hash level) or from a feature's quantile (KEY_*), resolved once all rows are read. */
typedef struct arrival {
    int64_t t_ns;   /* in the source's own time origin */
    uint64_t order; /* position in the source: ties keep it */
    uint64_t floor_key, ceiling_key;
} arrival;

typedef struct source {
    const char *path;
    size_t line;
    char *err;
    size_t err_bytes;
    arrival *rows;
    size_t count, cap, max;      /* max: the most arrivals accepted */
    int floor_by_quantile, ceiling_by_quantile; /* else the key is the level itself */
} source;

static sn_trace_status fail(source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static sn_trace_status fail(source *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sn_trace_set_error(s->err, s->err_bytes, "%s:%zu: %s", s->path, s->line, msg);
    return SN_TRACE_ERR_FORMAT;
}

static sn_trace_status push(source *s, int64_t t_ns, uint64_t floor_key, uint64_t ceiling_key)
{
    arrival *a;
    if (s->count == s->max)
        return fail(s, "more than %zu arrivals (import a sub-range)", s->max);
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        arrival *rows = realloc(s->rows, cap * sizeof *rows);
        if (!rows) {
            sn_trace_set_error(s->err, s->err_bytes, "%s: out of memory", s->path);
            return SN_TRACE_ERR_NOMEM;
        }
        s->rows = rows;
        s->cap = cap;
    }
    a = &s->rows[s->count];
    a->t_ns = t_ns;
    a->order = s->count++;
    a->floor_key = floor_key;
    a->ceiling_key = ceiling_key;
    return SN_TRACE_OK;
}

/* Splits LINE at commas in place into at most MAX fields; returns the field count (which
 * exceeds MAX when there are more). */
static size_t split(char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (n < max)
            field[n] = p;
        ++n;
        if (!comma)
            return n;
        *comma = '\0';
        p = comma + 1;
    }
}

static int parse_uint(const char *text, uint64_t max, uint64_t *value)
{
    return strchr(text, '.') ? -1 : sn_trace_parse_fixed(text, 0, max, value);
}

/* A non-negative decimal in seconds (at most 12 integer digits, below 2^63 ns) -> ns;
 * digits past the 9th decimal are dropped. */
static int parse_seconds_ns(const char *text, int64_t *ns)
{
    static const char digits[] = "0123456789";
    int64_t sec = 0, frac = 0, scale = 100000000;
    size_t n = strspn(text, digits), i;
    if (!n || n > 12)
        return -1;
    for (i = 0; i < n; ++i)
        sec = sec * 10 + (text[i] - '0');
    if (sec > INT64_MAX / 1000000000 - 1)
        return -1; /* its ns would not fit an int64_t (292 years) */
    text += n;
    if (*text == '.') {
        n = strspn(++text, digits);
        if (!n || text[n])
            return -1;
        for (i = 0; i < n && i < 9; ++i, scale /= 10)
            frac += (text[i] - '0') * scale;
    } else if (*text) {
        return -1;
    }
    *ns = sec * 1000000000 + frac;
    return 0;
}

/* The level of a hex hash: its first 8 hex digits as h, level = floor(h * levels / 2^32). */
static int hash_level(const char *hash, uint32_t levels, uint64_t *level)
{
    uint64_t h = 0;
    int i;
    for (i = 0; i < 8; ++i) {
        char c = hash[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        h = h << 4 | d;
    }
    *level = (h * levels) >> 32;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS[.f{1,7}]" -> ns since 1970 (UTC, no leap seconds); -1 outside
 * 1970-01-01 .. 2262-04-11, where the count would not fit 64 bits. */
static int parse_timestamp_ns(const char *s, int64_t *ns)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    int64_t v[6] = {0};
    unsigned field = 0, i;
    int64_t frac = 0, scale = 100000000;
    for (i = 0; shape[i]; ++i) {
        if (shape[i] == 'd') {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v[field] = v[field] * 10 + (s[i] - '0');
        } else if (s[i] != shape[i]) {
            return -1;
        } else {
            ++field;
        }
    }
    s += i;
    if (*s == '.') {
        for (++s, i = 0; s[i]; ++i) {
            if (i == 9 || s[i] < '0' || s[i] > '9')
                return -1;
            frac += (s[i] - '0') * scale;
            scale /= 10;
        }
        if (!i)
            return -1;
    } else if (*s) {
        return -1;
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    v[0] = days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    /* ns since 1970 in an int64_t, differences included: 1970 to early 2262 */
    if (v[0] < 0 || v[0] > INT64_MAX / INT64_C(1000000000) - 1)
        return -1;
    *ns = v[0] * INT64_C(1000000000) + frac;
    return 0;
}

/* Calls ROW for each line after the header; checks the header against WANT (a prefix
 * when PREFIX). Lines end in LF or CRLF; a last line without a line end counts. */
typedef sn_trace_status (*row_fn)(source *s, char *line, const sn_trace_import_params *p);

static sn_trace_status each_row(source *s, char *data, size_t size, const char *want, int prefix,
                                row_fn row, const sn_trace_import_params *p)
{
    char *q = data, *end = data + size;
    sn_trace_status st = SN_TRACE_OK;
    s->line = 0;
    while (q < end && st == SN_TRACE_OK) {
        char *nl = memchr(q, '\n', (size_t)(end - q)), *line = q;
        size_t len = (size_t)((nl ? nl : end) - q);
        q = nl ? nl + 1 : end;
        ++s->line;
        if (memchr(line, '\0', len))
            return fail(s, "NUL byte (not a text file)");
        if (len && line[len - 1] == '\r')
            --len;
        line[len] = '\0';
        if (s->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
            line += 3, len -= 3; /* a UTF-8 byte order mark */
        if (s->line == 1) {
            if (prefix ? strncmp(line, want, strlen(want)) != 0 : strcmp(line, want) != 0)
                return fail(s, "bad header '%.60s' (expected '%s%s')", line, want,
                            prefix ? "..." : "");
            continue;
        }
        if (!len)
            return fail(s, "empty line");
        st = row(s, line, p);
    }
    if (st == SN_TRACE_OK && s->line == 0) {
        s->line = 1;
        return fail(s, "empty file");
    }
    return st;
}

/* ---- the three formats -------------------------------------------------------------- */
static sn_trace_status llm_row(source *s, char *line, const sn_trace_import_params *p)
{
    char *f[3];
    int64_t t;
    uint64_t context, generated;
    (void)p;
    if (split(line, f, 3) != 3)
        return fail(s, "expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens)");
    if (parse_timestamp_ns(f[0], &t) != 0)
        return fail(s, "TIMESTAMP '%.40s' is not 'YYYY-MM-DD HH:MM:SS.fffffff'", f[0]);
    if (parse_uint(f[1], UINT32_MAX, &context) != 0 ||
        parse_uint(f[2], UINT32_MAX, &generated) != 0)
        return fail(s, "token counts must be non-negative integers");
    return push(s, t, context, generated);
}

static sn_trace_status f2019_row(source *s, char *line, const sn_trace_import_params *p)
{
    char *f[3 + F2019_MINUTES];
    size_t n = split(line, f, 3 + F2019_MINUTES);
    uint64_t level, function = s->line - 2; /* 0-based data row */
    uint32_t m;
    sn_trace_status st;
    if (n != 3 + F2019_MINUTES)
        return fail(s, "expected %u fields (HashFunction,HashOwner,HashApp and 1440 "
                       "per-minute counts), found %zu",
                    3 + F2019_MINUTES, n);
    if (hash_level(f[0], p->constraints.levels, &level) != 0)
        return fail(s, "HashFunction '%.20s' does not start with 8 hex digits", f[0]);
    for (m = 1; m <= F2019_MINUTES; ++m) {
        uint64_t c, k;
        sn_rng rng;
        if (parse_uint(f[2 + m], 1000000000, &c) != 0)
            return fail(s, "minute %" PRIu32 ": '%.20s' is not an invocation count", m,
                        f[2 + m]);
        if (m < p->minute_first || m > p->minute_last || !c)
            continue;
        /* the c invocations of this function in this minute: c independent uniform
         * offsets in the minute (a Poisson process conditioned on its count) */
        rng = sn_rng_derive(p->seed, SN_TRACE_STREAM_SPREAD, function * F2019_MINUTES + m - 1);
        for (k = 0; k < c; ++k) {
            int64_t t_us = (int64_t)(m - p->minute_first) * F2019_MINUTE_US +
                           (int64_t)sn_rng_below(&rng, (uint64_t)F2019_MINUTE_US);
            if ((st = push(s, t_us * 1000, level, level)) != SN_TRACE_OK)
                return st;
        }
    }
    return SN_TRACE_OK;
}

static sn_trace_status f2021_row(source *s, char *line, const sn_trace_import_params *p)
{
    char *f[4];
    int64_t end_ns, duration_ns;
    uint64_t level;
    if (split(line, f, 4) != 4)
        return fail(s, "expected 4 fields (app,func,end_timestamp,duration)");
    if (hash_level(f[1], p->constraints.levels, &level) != 0)
        return fail(s, "func '%.20s' does not start with 8 hex digits", f[1]);
    if (parse_seconds_ns(f[2], &end_ns) != 0 || parse_seconds_ns(f[3], &duration_ns) != 0)
        return fail(s, "end_timestamp and duration must be non-negative decimals (seconds)");
    if (duration_ns > end_ns)
        return fail(s, "arrival end_timestamp - duration is negative");
    return push(s, end_ns - duration_ns, level, (uint64_t)duration_ns);
}

/* ---- from arrivals to a trace ------------------------------------------------------- */
static int by_time(const void *a, const void *b)
{
    const arrival *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Replaces each row's key (floor or ceiling) by its quantile level: floor(levels * (rows
 * with a smaller key) / rows). Equal keys share a level. */
static sn_trace_status quantile_levels(source *s, int ceiling, uint32_t levels)
{
    uint64_t *sorted = malloc(s->count * sizeof *sorted);
    size_t i;
    if (!sorted)
        return SN_TRACE_ERR_NOMEM;
    for (i = 0; i < s->count; ++i)
        sorted[i] = ceiling ? s->rows[i].ceiling_key : s->rows[i].floor_key;
    qsort(sorted, s->count, sizeof *sorted, by_value);
    for (i = 0; i < s->count; ++i) {
        uint64_t *key = ceiling ? &s->rows[i].ceiling_key : &s->rows[i].floor_key;
        size_t lo = 0, hi = s->count; /* the first sorted position with a value >= key */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] < *key)
                lo = mid + 1;
            else
                hi = mid;
        }
        *key = (uint64_t)levels * lo / s->count;
    }
    free(sorted);
    return SN_TRACE_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static sn_trace_status record(sn_trace *t, const sn_trace_import_params *p, const char *src,
                              size_t arrivals, uint64_t scale_ppm)
{
    static const char *const mapping[] = {
        NULL,
        "floor level = quantile of ContextTokens, ceiling level = quantile of GeneratedTokens",
        "level = first 8 hex digits of HashFunction x levels / 2^32 (floor and ceiling); "
        "arrivals uniform within their minute",
        "floor level = first 8 hex digits of func x levels / 2^32, ceiling level = quantile "
        "of duration; arrival = end_timestamp - duration"};
    static const char *const citation[] = {
        NULL,
        "Patel et al., Splitwise: Efficient generative LLM inference using phase splitting, "
        "ISCA 2024",
        "Shahrad et al., Serverless in the Wild, USENIX ATC 2020",
        "Zhang et al., Faster and Cheaper Serverless Computing on Harvested Resources, SOSP "
        "2021"};
    char text[32];
    sn_trace_status st;
    if ((st = sn_trace_meta_add(t, "source", "import")) ||
        (st = sn_trace_meta_add(t, "format", "%s", sn_trace_format_name(p->format))) ||
        (st = sn_trace_meta_add(t, "file", "%s", base_name(src))) ||
        (st = sn_trace_meta_add(t, "license", "CC-BY-4.0, Azure Public Dataset")) ||
        (st = sn_trace_meta_add(t, "citation", "%s", citation[p->format])) ||
        (st = sn_trace_meta_add(t, "mapping", "%s", mapping[p->format])) ||
        (st = sn_trace_meta_add(t, "arrivals", "%zu", arrivals)) ||
        (st = sn_trace_meta_add(t, "seed", "%" PRIu64, p->seed)) ||
        (st = sn_trace_meta_add(t, "samples", "%" PRIu32, p->sample_count)))
        return st;
    if (p->format == SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019 &&
        (st = sn_trace_meta_add(t, "minutes", "%" PRIu32 "-%" PRIu32, p->minute_first,
                                p->minute_last)))
        return st;
    if (p->rate_mqps) {
        sn_trace_format_fixed(text, sizeof text, p->rate_mqps, 3);
        if ((st = sn_trace_meta_add(t, "rate", "%s", text)))
            return st;
    }
    sn_trace_format_fixed(text, sizeof text, scale_ppm, 6);
    if ((st = sn_trace_meta_add(t, "scale", "%s", text)))
        return st;
    return sn_trace_meta_add_constraints(t, &p->constraints);
}

static int check(const sn_trace_import_params *p, char *err, size_t err_bytes)
{
    if (!p->format || (unsigned)p->format > SN_TRACE_FORMAT_AZURE_FUNCTIONS_2021) {
        sn_trace_set_error(err, err_bytes, "unknown trace format %d", (int)p->format);
        return -1;
    }
    if (p->sample_count < 1) {
        sn_trace_set_error(err, err_bytes, "the sample count must be at least 1");
        return -1;
    }
    if (p->rate_mqps > MAX_RATE_MQPS || p->scale_ppm < 1 || p->scale_ppm > MAX_SCALE_PPM) {
        sn_trace_set_error(err, err_bytes,
                           "the scale must be 0.000001..1000000 and the rate 0.001..1000000 "
                           "queries/s");
        return -1;
    }
    if (p->minute_first > p->minute_last || p->minute_last > F2019_MINUTES ||
        (p->minute_last && !p->minute_first)) {
        sn_trace_set_error(err, err_bytes, "the minutes must be a range within 1-1440");
        return -1;
    }
    return sn_trace_constraints_check(&p->constraints, err, err_bytes);
}

/* Imports RAW (SIZE bytes, modified in place; RAW[SIZE] must be writable) as the source
 * file SRC_PATH; P is checked. */
static sn_trace_status import_text(const sn_trace_import_params *params, const char *src_path,
                                   char *raw, size_t size, sn_trace *trace, char *err,
                                   size_t err_bytes)
{
    sn_trace_import_params p = *params;
    source s;
    size_t i;
    uint64_t scale_ppm = p.scale_ppm, span_us;
    int64_t t0;
    sn_trace_status st;

    if (!p.minute_last) {
        p.minute_first = 1;
        p.minute_last = F2019_MINUTES;
    }
    memset(&s, 0, sizeof s);
    s.path = src_path;
    s.max = p.max_count && p.max_count < SN_TRACE_MAX_COUNT ? p.max_count : SN_TRACE_MAX_COUNT;
    s.err = err;
    s.err_bytes = err_bytes;
    switch (p.format) {
    case SN_TRACE_FORMAT_AZURE_LLM:
        s.floor_by_quantile = s.ceiling_by_quantile = 1;
        st = each_row(&s, raw, size, "TIMESTAMP,ContextTokens,GeneratedTokens", 0, llm_row, &p);
        break;
    case SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019:
        st = each_row(&s, raw, size, "HashFunction,HashOwner,HashApp,", 1, f2019_row, &p);
        break;
    default:
        s.ceiling_by_quantile = 1;
        st = each_row(&s, raw, size, "app,func,end_timestamp,duration", 0, f2021_row, &p);
        break;
    }
    if (st == SN_TRACE_OK && !s.count) {
        sn_trace_set_error(err, err_bytes, "%s: no arrivals%s", src_path,
                           p.format == SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019
                               ? " in the chosen minutes"
                               : "");
        st = SN_TRACE_ERR_FORMAT;
    }
    if (st == SN_TRACE_OK && s.floor_by_quantile)
        st = quantile_levels(&s, 0, p.constraints.levels);
    if (st == SN_TRACE_OK && s.ceiling_by_quantile)
        st = quantile_levels(&s, 1, p.constraints.levels);
    if (st != SN_TRACE_OK) {
        if (st == SN_TRACE_ERR_NOMEM)
            sn_trace_set_error(err, err_bytes, "%s: out of memory", src_path);
        free(s.rows);
        return st;
    }
    qsort(s.rows, s.count, sizeof *s.rows, by_time);

    /* times relative to the first arrival, in us (half up); then the speed-up */
    t0 = s.rows[0].t_ns;
    span_us = (uint64_t)(s.rows[s.count - 1].t_ns - t0 + 500) / 1000;
    if (p.rate_mqps) {
        /* speed-up = target rate / native rate, native = (n - 1) / span */
        if (s.count < 2 || !span_us ||
            sn_trace_mul_div(p.rate_mqps, span_us, 1000 * (uint64_t)(s.count - 1), 1,
                             &scale_ppm) != 0 ||
            scale_ppm < 1 || scale_ppm > MAX_SCALE_PPM) {
            sn_trace_set_error(err, err_bytes,
                               "%s: cannot scale %zu arrivals over %" PRIu64
                               " us to that rate (the speed-up must be 0.000001..1000000)",
                               src_path, s.count, span_us);
            free(s.rows);
            return SN_TRACE_ERR_PARAM;
        }
    }
    if ((st = sn_trace_alloc(trace, s.count)) != SN_TRACE_OK ||
        (st = record(trace, &p, src_path, s.count, scale_ppm)) != SN_TRACE_OK) {
        sn_trace_free(trace);
        free(s.rows);
        sn_trace_set_error(err, err_bytes, "out of memory");
        return st;
    }
    for (i = 0; i < s.count; ++i) {
        uint64_t rel_us = (uint64_t)(s.rows[i].t_ns - t0 + 500) / 1000, scaled;
        if (sn_trace_mul_div(rel_us, 1000000, scale_ppm, 1, &scaled) != 0 ||
            scaled > (UINT64_C(1) << 60)) {
            sn_trace_set_error(err, err_bytes, "%s: a scaled arrival exceeds 2^60 us",
                               src_path);
            sn_trace_free(trace);
            free(s.rows);
            return SN_TRACE_ERR_PARAM;
        }
        trace->arrival_us[i] = (int64_t)scaled;
        trace->sample[i] = sn_trace_sample_of(p.seed, i, p.sample_count);
        sn_trace_set_constraints(trace, i, &p.constraints, p.seed,
                                 (uint32_t)s.rows[i].floor_key, (uint32_t)s.rows[i].ceiling_key);
    }
    free(s.rows);
    return SN_TRACE_OK;
}

sn_trace_status sn_trace_import(const sn_trace_import_params *params, const char *src_path,
                                sn_trace *trace, char *err, size_t err_bytes)
{
    void *raw;
    size_t size;
    sn_trace_status st;

    memset(trace, 0, sizeof *trace);
    if (check(params, err, err_bytes) != 0)
        return SN_TRACE_ERR_PARAM;
    if (sn_read_file(src_path, &raw, &size) != 0) {
        sn_trace_set_error(err, err_bytes, "%s: %s", src_path, strerror(errno));
        return errno == ENOMEM ? SN_TRACE_ERR_NOMEM : SN_TRACE_ERR_IO;
    }
    st = import_text(params, src_path, raw, size, trace, err, err_bytes); /* NUL at raw[size] */
    free(raw);
    return st;
}

sn_trace_status sn_trace_import_buffer(const sn_trace_import_params *params, const char *name,
                                       const void *data, size_t size, sn_trace *trace, char *err,
                                       size_t err_bytes)
{
    char *copy;
    sn_trace_status st;

    memset(trace, 0, sizeof *trace);
    if (check(params, err, err_bytes) != 0)
        return SN_TRACE_ERR_PARAM;
    if (size == SIZE_MAX || !(copy = malloc(size + 1))) {
        sn_trace_set_error(err, err_bytes, "%s: out of memory", name);
        return SN_TRACE_ERR_NOMEM;
    }
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\0';
    st = import_text(params, name, copy, size, trace, err, err_bytes);
    free(copy);
    return st;
}
