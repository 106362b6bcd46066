/* supernav query traces: importers for the real public traces and for any request log in
 * CSV or JSON Lines (mappings documented in workloads/traces/README.md). Integer
 * arithmetic only (a JSON number, a double, is printed exactly and read as a decimal). */
#include <cjson/cJSON.h>
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
    if (format == SN_TRACE_FORMAT_CSV || format == SN_TRACE_FORMAT_JSONL) {
        p->constraints.attach = SN_TRACE_ATTACH_NONE;
        p->floor_map = p->ceiling_map = SN_TRACE_FIELD_MAP_QUANTILE;
    }
}

static int is_log_format(sn_trace_format format)
{
    return format == SN_TRACE_FORMAT_CSV || format == SN_TRACE_FORMAT_JSONL;
}

/* One arrival of the source, before sorting. Levels come either straight from the row
 * (a hash level) or from a feature's quantile (KEY_*), resolved once all rows are read. */
typedef struct arrival {
    int64_t t_ns;   /* in the source's own time origin */
    uint64_t order; /* position in the source: ties keep it */
    uint64_t floor_key, ceiling_key;
    unsigned char no_floor, no_ceiling; /* csv, jsonl: the row's field is empty or absent */
} arrival;

typedef struct source {
    const char *path;
    size_t line;
    char *err;
    size_t err_bytes;
    arrival *rows;
    size_t count, cap, max;      /* max: the most arrivals accepted */
    int floor_by_quantile, ceiling_by_quantile; /* else the key is the level itself */
    /* csv, jsonl */
    size_t out_of_order;         /* rows earlier than the row before them */
    size_t floor_values, ceiling_values; /* rows whose field has a value */
    int floor_seen, ceiling_seen;        /* jsonl: some row has the key */
    size_t last_line;                    /* the previous row's line and time text */
    char last_text[48];
} source;

static sn_trace_status fail(source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static sn_trace_status fail(source *s, const char *fmt, ...)
{
    char msg[512], *p;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (p = msg; *p; ++p) /* one line: a quoted CSV field may hold line breaks */
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
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
    a->no_floor = a->no_ceiling = 0;
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

/* "YYYY-MM-DD HH:MM:SS[.f{1,9}]" -> ns since 1970 (UTC, no leap seconds); -1 outside
 * 1970-01-01 .. 2262-04-11, where the count would not fit 64 bits. ISO also accepts 'T'
 * for the space and a final 'Z'. */
static int parse_timestamp_ns(const char *s, int iso, int64_t *ns)
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
        } else if (s[i] != shape[i] && !(iso && i == 10 && s[i] == 'T')) {
            return -1;
        } else {
            ++field;
        }
    }
    s += i;
    if (*s == '.') {
        for (++s, i = 0; s[i] && !(iso && s[i] == 'Z' && !s[i + 1]); ++i) {
            if (i == 9 || s[i] < '0' || s[i] > '9')
                return -1;
            frac += (s[i] - '0') * scale;
            scale /= 10;
        }
        if (!i)
            return -1;
        s += i;
    }
    if (iso && *s == 'Z')
        ++s;
    if (*s)
        return -1;
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
    if (parse_timestamp_ns(f[0], 0, &t) != 0)
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

/* ---- csv and jsonl: any request log ------------------------------------------------- */
#define EXACT_DOUBLE_LIMIT 9007199254740992.0 /* 2^53: every integer below is a double */
#define FEATURE_DIGITS 16                     /* significant digits a quantile compares */
#define POW10_16 UINT64_C(10000000000000000)

/* One field of a row as read: absent (an empty CSV field, a JSON null, a key the object
 * does not have, an empty string), text (a CSV field, a JSON string), a JSON number, or a
 * JSON value of another type (TYPE: "an object", ...). */
typedef enum { VALUE_ABSENT, VALUE_TEXT, VALUE_NUMBER, VALUE_OTHER } value_kind;
typedef struct log_value {
    value_kind kind;
    const char *text; /* VALUE_TEXT */
    double number;    /* VALUE_NUMBER */
    const char *type; /* VALUE_OTHER */
} log_value;

static const unsigned unit_decimals[] = {0, 9, 6, 3, 0, 0}; /* by sn_trace_time_unit */

/* A non-negative decimal number of UNIT -> ns, digits past the ns dropped. Returns 0, -1
 * when TEXT is not such a decimal, -2 when the value is 2^63 ns (292 years) or more. */
static int parse_time_decimal(const char *text, sn_trace_time_unit unit, int64_t *ns)
{
    static const char digits[] = "0123456789";
    unsigned decimals = unit_decimals[unit], frac = 0;
    uint64_t v = 0;
    int over = 0;
    size_t n = strspn(text, digits), i;
    if (!n)
        return -1;
    for (i = 0; i < n; ++i) {
        unsigned d = (unsigned)(text[i] - '0');
        over |= v > (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    text += n;
    if (*text == '.') {
        n = strspn(++text, digits);
        if (!n || text[n])
            return -1;
        for (i = 0; i < n && frac < decimals; ++i, ++frac) {
            unsigned d = (unsigned)(text[i] - '0');
            over |= v > (UINT64_MAX - d) / 10;
            v = v * 10 + d;
        }
    } else if (*text) {
        return -1;
    }
    for (; frac < decimals; ++frac) {
        over |= v > UINT64_MAX / 10;
        v *= 10;
    }
    if (over || v > (uint64_t)INT64_MAX)
        return -2;
    *ns = (int64_t)v;
    return 0;
}

/* A decimal number ("-12.5", "3e-4": JSON's number syntax) -> a key whose unsigned order
 * is the numbers' order, from its first FEATURE_DIGITS significant digits (later digits
 * are dropped: such values tie). Returns 0, -1 when TEXT is not a number, -2 outside
 * 1e-64 .. 1e64 in magnitude (zero excepted). Integer arithmetic: no strtod, no locale. */
static int feature_key(const char *text, uint64_t *key)
{
    const char *p = text;
    int negative = *p == '-', point_seen = 0;
    int64_t exponent = 0, e10;
    int64_t int_digits = 0, leading_zeros = 0;
    uint64_t mantissa = 0;
    unsigned kept = 0;
    int nonzero = 0;
    p += negative;
    if (*p < '0' || *p > '9')
        return -1;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !point_seen); ++p) {
        if (*p == '.') {
            point_seen = 1;
            if (p[1] < '0' || p[1] > '9')
                return -1;
            continue;
        }
        if (!point_seen)
            ++int_digits;
        if (!nonzero && *p == '0') {
            ++leading_zeros;
            continue;
        }
        nonzero = 1;
        if (kept < FEATURE_DIGITS) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            ++kept;
        }
    }
    if (*p == 'e' || *p == 'E') {
        int eneg;
        size_t n;
        ++p;
        eneg = *p == '-';
        p += *p == '+' || *p == '-';
        n = strspn(p, "0123456789");
        if (!n)
            return -1;
        for (; n; --n, ++p) /* capped far beyond any digit count that fits in memory */
            if (exponent < INT64_C(1000000000000000))
                exponent = exponent * 10 + (*p - '0');
        exponent = eneg ? -exponent : exponent;
    }
    if (*p)
        return -1;
    if (!nonzero) {
        *key = UINT64_C(1) << 63;
        return 0;
    }
    for (; kept < FEATURE_DIGITS; ++kept)
        mantissa *= 10;
    /* the value is d.ddd x 10^e10 with d the first significant digit */
    e10 = int_digits - leading_zeros - 1 + exponent;
    if (e10 < -64 || e10 > 63)
        return -2;
    mantissa += (uint64_t)(e10 + 64) * POW10_16; /* mantissa in [10^15, 10^16) */
    *key = negative ? (UINT64_C(1) << 63) - mantissa : (UINT64_C(1) << 63) + mantissa;
    return 0;
}

/* FNV-1a, 32 bits. */
static uint32_t fnv1a32(const char *text)
{
    uint32_t h = 2166136261u;
    for (; *text; ++text)
        h = (h ^ (unsigned char)*text) * 16777619u;
    return h;
}

/* A JSON number as the text a CSV field would hold: an integer below 2^53 in decimal,
 * anything else with 17 significant digits (which identify a double). */
static const char *number_text(double d, char *buf, size_t bytes)
{
    if (d == 0)
        d = 0; /* no "-0" */
    if (d > -EXACT_DOUBLE_LIMIT && d < EXACT_DOUBLE_LIMIT && d == (double)(int64_t)d)
        snprintf(buf, bytes, "%" PRId64, (int64_t)d);
    else
        snprintf(buf, bytes, "%.17g", d);
    return buf;
}

/* The time of a row in ns; *TEXT: the time as written (or the JSON number printed). */
static sn_trace_status log_time(source *s, const sn_trace_import_params *p, const log_value *v,
                                int64_t *t_ns, const char **text, char *buf, size_t buf_bytes)
{
    const char *name = p->time_field;
    int rc;
    switch (v->kind) {
    case VALUE_ABSENT:
        return fail(s, "no time: field '%s' is empty or missing", name);
    case VALUE_OTHER:
        return fail(s, "time field '%s' is %s, not a number or a string", name, v->type);
    case VALUE_NUMBER:
        if (p->time_unit == SN_TRACE_TIME_UNIT_DATETIME)
            return fail(s, "time field '%s' is a number: datetime times are strings", name);
        if (v->number < 0)
            return fail(s, "negative time %.17g in field '%s'", v->number, name);
        if (!(v->number < EXACT_DOUBLE_LIMIT))
            return fail(s, "time %.17g in field '%s' is 2^53 or more: not exact as a JSON "
                           "number (write it as a string)",
                        v->number, name);
        /* the double's exact value, rounded to the nanosecond (below 2^53: no exponent;
         * + 0.0 turns -0 into 0) */
        snprintf(buf, buf_bytes, "%.*f", (int)unit_decimals[p->time_unit], v->number + 0.0);
        *text = buf;
        break;
    default:
        *text = v->text;
        break;
    }
    if (p->time_unit == SN_TRACE_TIME_UNIT_DATETIME) {
        if (parse_timestamp_ns(*text, 1, t_ns) != 0)
            return fail(s, "time '%.40s' in field '%s' is not 'YYYY-MM-DD HH:MM:SS[.fffffffff]' "
                           "(UTC, 1970..2262)",
                        *text, name);
        return SN_TRACE_OK;
    }
    if ((*text)[0] == '-' && parse_time_decimal(*text + 1, p->time_unit, t_ns) != -1)
        return fail(s, "negative time '%.40s' in field '%s'", *text, name);
    rc = parse_time_decimal(*text, p->time_unit, t_ns);
    if (rc == -1)
        return fail(s, "time '%.40s' in field '%s' is not a non-negative decimal number (%s)",
                    *text, name, sn_trace_time_unit_name(p->time_unit));
    if (rc == -2)
        return fail(s, "time '%.40s' %s in field '%s' is 2^63 ns (292 years) or more", *text,
                    sn_trace_time_unit_name(p->time_unit), name);
    return SN_TRACE_OK;
}

/* The level (or, for a quantile, the key) of a floor or ceiling field's value. */
static sn_trace_status log_level(source *s, const char *what, const char *name,
                                 sn_trace_field_map map, uint32_t levels, const log_value *v,
                                 uint64_t *key, unsigned char *absent)
{
    char buf[40];
    const char *text = v->text;
    int rc;
    *key = 0;
    *absent = v->kind == VALUE_ABSENT;
    if (*absent)
        return SN_TRACE_OK;
    if (v->kind == VALUE_OTHER)
        return fail(s, "%s field '%s' is %s, not a number or a string", what, name, v->type);
    if (v->kind == VALUE_NUMBER)
        text = number_text(v->number, buf, sizeof buf);
    switch (map) {
    case SN_TRACE_FIELD_MAP_QUANTILE:
        if ((rc = feature_key(text, key)) == -1)
            return fail(s, "%s field '%s': '%.40s' is not a number (quantile map)", what, name,
                        text);
        if (rc == -2)
            return fail(s, "%s field '%s': %.40s is outside 1e-64..1e64 (quantile map)", what,
                        name, text);
        return SN_TRACE_OK;
    case SN_TRACE_FIELD_MAP_HASH:
        *key = (uint64_t)fnv1a32(text) * levels >> 32;
        return SN_TRACE_OK;
    default:
        if (sn_trace_parse_fixed(text, 0, levels - 1, key) != 0)
            return fail(s, "%s field '%s': '%.40s' is not a level in 0..%" PRIu32 " (level map)",
                        what, name, text, levels - 1);
        return SN_TRACE_OK;
    }
}

/* One request of a log: its time and constraint fields, as read. */
static sn_trace_status log_row(source *s, const sn_trace_import_params *p, const log_value *time,
                               const log_value *floor_value, const log_value *ceiling_value)
{
    char buf[64];
    const char *text = "";
    int64_t t;
    uint64_t floor_key = 0, ceiling_key = 0;
    unsigned char no_floor = 1, no_ceiling = 1;
    sn_trace_status st;
    uint32_t levels = p->constraints.levels;
    if ((st = log_time(s, p, time, &t, &text, buf, sizeof buf)) != SN_TRACE_OK)
        return st;
    if (s->count && t < s->rows[s->count - 1].t_ns) {
        if (p->refuse_unsorted)
            return fail(s, "time '%.40s' is earlier than '%s' on line %zu (the rows must be "
                           "sorted by time)",
                        text, s->last_text, s->last_line);
        ++s->out_of_order;
    }
    if (p->floor_field &&
        (st = log_level(s, "floor", p->floor_field, p->floor_map, levels, floor_value,
                        &floor_key, &no_floor)) != SN_TRACE_OK)
        return st;
    if (p->ceiling_field &&
        (st = log_level(s, "ceiling", p->ceiling_field, p->ceiling_map, levels, ceiling_value,
                        &ceiling_key, &no_ceiling)) != SN_TRACE_OK)
        return st;
    if ((st = push(s, t, floor_key, ceiling_key)) != SN_TRACE_OK)
        return st;
    s->rows[s->count - 1].no_floor = no_floor;
    s->rows[s->count - 1].no_ceiling = no_ceiling;
    s->floor_values += !no_floor;
    s->ceiling_values += !no_ceiling;
    s->last_line = s->line;
    snprintf(s->last_text, sizeof s->last_text, "%.40s", text);
    return SN_TRACE_OK;
}

/* The line of the first NUL byte in DATA, or 0 when there is none. */
static size_t nul_line(const char *data, size_t size)
{
    const char *nul = memchr(data, '\0', size), *p;
    size_t line = 1;
    if (!nul)
        return 0;
    for (p = data; p < nul; ++p)
        line += *p == '\n';
    return line;
}

/* A line end at P: LF, CRLF, or a CR that ends the data. Returns its length, or 0. */
static size_t line_end(const char *p, const char *end)
{
    if (p == end)
        return 0;
    if (*p == '\n')
        return 1;
    if (*p == '\r' && (p + 1 == end || p[1] == '\n'))
        return p + 1 == end ? 1 : 2;
    return 0;
}

typedef struct csv_fields {
    char **field;
    size_t count, cap;
} csv_fields;

/* Reads the CSV record at *POS (RFC 4180: fields separated by commas; a field in double
 * quotes may hold commas, line breaks and quotes written twice), unquoting it in place
 * (each field NUL-terminated; END[0] must be writable) into F, and moves *POS past its
 * line end. s->line counts the line breaks read, inside quotes too. */
static sn_trace_status csv_record(source *s, char **pos, char *end, csv_fields *f)
{
    char *r = *pos, *w = *pos;
    size_t brk;
    f->count = 0;
    for (;;) {
        if (f->count == f->cap) {
            size_t cap = f->cap ? 2 * f->cap : 16;
            char **field = realloc(f->field, cap * sizeof *field);
            if (!field)
                return SN_TRACE_ERR_NOMEM;
            f->field = field;
            f->cap = cap;
        }
        f->field[f->count++] = w;
        if (r < end && *r == '"') {
            size_t opened = s->line;
            for (++r;; ++r) {
                if (r == end) {
                    s->line = opened;
                    return fail(s, "field %zu: a quoted field is not closed", f->count);
                }
                if (*r == '"') {
                    if (r + 1 < end && r[1] == '"') {
                        *w++ = *r++;
                        continue;
                    }
                    ++r;
                    break;
                }
                s->line += *r == '\n';
                *w++ = *r;
            }
            if (r < end && *r != ',' && !line_end(r, end)) {
                unsigned char c = (unsigned char)*r;
                return fail(s, c > 0x20 && c < 0x7F ? "field %zu: '%c' after the closing quote "
                                                      "(a comma or the line end must follow it)"
                                                    : "field %zu: byte 0x%02X after the closing "
                                                      "quote (a comma or the line end must "
                                                      "follow it)",
                            f->count, c);
            }
        } else {
            for (; r < end && *r != ',' && !line_end(r, end); ++r) {
                if (*r == '"')
                    return fail(s, "field %zu: a quote inside an unquoted field (quote the "
                                   "whole field and write the quote twice)",
                                f->count);
                *w++ = *r;
            }
        }
        /* r is at a comma, a line end or the end; w <= r */
        if (r < end && *r == ',') {
            *w++ = '\0';
            ++r;
            continue;
        }
        brk = line_end(r, end);
        *w = '\0';
        *pos = r + brk;
        s->line += brk != 0;
        return SN_TRACE_OK;
    }
}

/* The column of the header H named NAME: its index, or fail() (absent, or twice). */
static sn_trace_status csv_column(source *s, const csv_fields *h, const char *name, size_t *col)
{
    size_t i, found = h->count;
    char list[160];
    for (i = 0; i < h->count; ++i) {
        if (strcmp(h->field[i], name) != 0)
            continue;
        if (found < h->count)
            return fail(s, "column '%s' appears twice in the header (columns %zu and %zu)", name,
                        found + 1, i + 1);
        found = i;
    }
    if (found == h->count) {
        size_t used = 0;
        list[0] = '\0';
        for (i = 0; i < h->count && used + 4 < sizeof list; ++i) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "", h->field[i]);
            used += n > 0 ? (size_t)n : 0;
        }
        if (used >= sizeof list)
            strcpy(list + sizeof list - 4, "...");
        return fail(s, "no column '%s' in the header '%s'", name, list);
    }
    *col = found;
    return SN_TRACE_OK;
}

static log_value csv_value(const char *text)
{
    log_value v;
    memset(&v, 0, sizeof v);
    v.kind = text[0] ? VALUE_TEXT : VALUE_ABSENT;
    v.text = text;
    return v;
}

static sn_trace_status import_csv(source *s, char *data, size_t size,
                                  const sn_trace_import_params *p)
{
    char *pos = data, *end = data + size;
    csv_fields h = {0}, f = {0};
    size_t time_col, floor_col = 0, ceiling_col = 0, columns, first, after_header;
    sn_trace_status st;
    if ((s->line = nul_line(data, size)) != 0)
        return fail(s, "NUL byte (not a text file)");
    s->line = 1;
    if (!size)
        return fail(s, "empty file");
    if (size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        pos += 3; /* a UTF-8 byte order mark */
    if (line_end(pos, end) || pos == end)
        return fail(s, "empty header line");
    if ((st = csv_record(s, &pos, end, &h)) != SN_TRACE_OK)
        goto done;
    after_header = s->line;
    s->line = 1;
    if ((st = csv_column(s, &h, p->time_field, &time_col)) != SN_TRACE_OK ||
        (p->floor_field && (st = csv_column(s, &h, p->floor_field, &floor_col)) != SN_TRACE_OK) ||
        (p->ceiling_field &&
         (st = csv_column(s, &h, p->ceiling_field, &ceiling_col)) != SN_TRACE_OK))
        goto done;
    columns = h.count;
    s->line = after_header;
    while (pos < end) {
        log_value t, fl, ce;
        first = s->line;
        if (line_end(pos, end)) {
            st = fail(s, "empty line");
            goto done;
        }
        if ((st = csv_record(s, &pos, end, &f)) != SN_TRACE_OK)
            goto done;
        if (f.count != columns) {
            s->line = first;
            st = fail(s, "expected %zu fields (as the header), found %zu", columns, f.count);
            goto done;
        }
        {
            size_t next = s->line;
            s->line = first;
            t = csv_value(f.field[time_col]);
            fl = csv_value(p->floor_field ? f.field[floor_col] : "");
            ce = csv_value(p->ceiling_field ? f.field[ceiling_col] : "");
            if ((st = log_row(s, p, &t, &fl, &ce)) != SN_TRACE_OK)
                goto done;
            s->line = next;
        }
    }
    st = SN_TRACE_OK;
done:
    free(h.field);
    free(f.field);
    return st;
}

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    return "null";
}

/* The value of key NAME in OBJECT (*SEEN set when the key is there). */
static log_value json_value(const cJSON *object, const char *name, int *seen)
{
    const cJSON *item = name ? cJSON_GetObjectItemCaseSensitive(object, name) : NULL;
    log_value v;
    memset(&v, 0, sizeof v);
    v.kind = VALUE_ABSENT;
    if (!item)
        return v;
    *seen = 1;
    if (cJSON_IsString(item)) {
        v.text = item->valuestring;
        v.kind = v.text && v.text[0] ? VALUE_TEXT : VALUE_ABSENT;
    } else if (cJSON_IsNumber(item)) {
        v.kind = VALUE_NUMBER;
        v.number = item->valuedouble;
    } else if (!cJSON_IsNull(item)) {
        v.kind = VALUE_OTHER;
        v.type = json_type(item);
    }
    return v;
}

/* JSON Lines: one JSON object per line (LF or CRLF), parsed by cJSON. */
static sn_trace_status import_jsonl(source *s, char *data, size_t size,
                                    const sn_trace_import_params *p)
{
    char *q = data, *end = data + size;
    sn_trace_status st = SN_TRACE_OK;
    int time_seen = 0;
    if ((s->line = nul_line(data, size)) != 0)
        return fail(s, "NUL byte (not a text file)");
    s->line = 0;
    while (q < end && st == SN_TRACE_OK) {
        char *nl = memchr(q, '\n', (size_t)(end - q)), *line = q;
        size_t len = (size_t)((nl ? nl : end) - q);
        const char *stop = NULL;
        cJSON *object;
        log_value t, fl, ce;
        q = nl ? nl + 1 : end;
        ++s->line;
        if (len && line[len - 1] == '\r')
            --len;
        line[len] = '\0';
        if (s->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
            line += 3, len -= 3; /* a UTF-8 byte order mark */
        if (!len)
            return fail(s, "empty line");
        /* the length includes the NUL: nothing but white space may follow the value */
        object = cJSON_ParseWithLengthOpts(line, len + 1, &stop, 1);
        if (!object)
            return fail(s, "not valid JSON (at column %zu)",
                        stop && stop >= line && stop <= line + len ? (size_t)(stop - line) + 1
                                                                   : len);
        if (!cJSON_IsObject(object)) {
            st = fail(s, "expected a JSON object, found %s", json_type(object));
            cJSON_Delete(object);
            return st;
        }
        t = json_value(object, p->time_field, &time_seen);
        fl = json_value(object, p->floor_field, &s->floor_seen);
        ce = json_value(object, p->ceiling_field, &s->ceiling_seen);
        st = log_row(s, p, &t, &fl, &ce);
        cJSON_Delete(object);
    }
    if (st == SN_TRACE_OK && s->line == 0) {
        s->line = 1;
        return fail(s, "empty file");
    }
    return st;
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
 * with a smaller key) / rows with a key). Equal keys share a level; a row without a value
 * (csv, jsonl) neither counts nor gets one. */
static sn_trace_status quantile_levels(source *s, int ceiling, uint32_t levels)
{
    uint64_t *sorted = malloc(s->count * sizeof *sorted);
    size_t i, n = 0;
    if (!sorted)
        return SN_TRACE_ERR_NOMEM;
    for (i = 0; i < s->count; ++i)
        if (!(ceiling ? s->rows[i].no_ceiling : s->rows[i].no_floor))
            sorted[n++] = ceiling ? s->rows[i].ceiling_key : s->rows[i].floor_key;
    qsort(sorted, n, sizeof *sorted, by_value);
    for (i = 0; i < s->count; ++i) {
        uint64_t *key = ceiling ? &s->rows[i].ceiling_key : &s->rows[i].floor_key;
        size_t lo = 0, hi = n; /* the first sorted position with a value >= key */
        if (ceiling ? s->rows[i].no_ceiling : s->rows[i].no_floor)
            continue;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] < *key)
                lo = mid + 1;
            else
                hi = mid;
        }
        *key = (uint64_t)levels * lo / n;
    }
    free(sorted);
    return SN_TRACE_OK;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* csv, jsonl: what was read, and how (before "arrivals"). */
static sn_trace_status record_log(sn_trace *t, const sn_trace_import_params *p, const source *s)
{
    char floor_text[400] = "", ceiling_text[400] = "";
    sn_trace_status st;
    if (p->floor_field)
        snprintf(floor_text, sizeof floor_text, "; floor level = %s of '%.300s'",
                 sn_trace_field_map_name(p->floor_map), p->floor_field);
    if (p->ceiling_field)
        snprintf(ceiling_text, sizeof ceiling_text, "; ceiling level = %s of '%.300s'",
                 sn_trace_field_map_name(p->ceiling_map), p->ceiling_field);
    if ((st = sn_trace_meta_add(t, "mapping", "arrival = '%.200s' (%s, %s)%s%s", p->time_field,
                                sn_trace_time_unit_name(p->time_unit),
                                p->time_relative ? "relative: kept"
                                                 : "absolute: the first arrival is 0",
                                floor_text, ceiling_text)) ||
        (st = sn_trace_meta_add(t, "time_field", "%s", p->time_field)) ||
        (st = sn_trace_meta_add(t, "time_unit", "%s", sn_trace_time_unit_name(p->time_unit))) ||
        (st = sn_trace_meta_add(t, "timestamps", "%s",
                                p->time_relative ? "relative" : "absolute")) ||
        (st = sn_trace_meta_add(t, "unsorted", "%s", p->refuse_unsorted ? "refuse" : "sort")) ||
        (st = sn_trace_meta_add(t, "out_of_order", "%zu", s->out_of_order)))
        return st;
    if (p->floor_field &&
        ((st = sn_trace_meta_add(t, "floor_field", "%s", p->floor_field)) ||
         (st = sn_trace_meta_add(t, "floor_map", "%s", sn_trace_field_map_name(p->floor_map))) ||
         (st = sn_trace_meta_add(t, "floor_values", "%zu", s->floor_values))))
        return st;
    if (p->ceiling_field &&
        ((st = sn_trace_meta_add(t, "ceiling_field", "%s", p->ceiling_field)) ||
         (st = sn_trace_meta_add(t, "ceiling_map", "%s",
                                 sn_trace_field_map_name(p->ceiling_map))) ||
         (st = sn_trace_meta_add(t, "ceiling_values", "%zu", s->ceiling_values))))
        return st;
    return SN_TRACE_OK;
}

static sn_trace_status record(sn_trace *t, const sn_trace_import_params *p, const char *src,
                              const source *s, uint64_t scale_ppm)
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
        (st = sn_trace_meta_add(t, "file", "%s", base_name(src))))
        return st;
    if (is_log_format(p->format)) {
        if ((st = record_log(t, p, s)))
            return st;
    } else if ((st = sn_trace_meta_add(t, "license", "CC-BY-4.0, Azure Public Dataset")) ||
               (st = sn_trace_meta_add(t, "citation", "%s", citation[p->format])) ||
               (st = sn_trace_meta_add(t, "mapping", "%s", mapping[p->format]))) {
        return st;
    }
    if ((st = sn_trace_meta_add(t, "arrivals", "%zu", s->count)) ||
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

/* csv, jsonl: the time and field parameters, and the constraint they allow. */
static int check_log(const sn_trace_import_params *p, char *err, size_t err_bytes)
{
    sn_trace_attach a = p->constraints.attach;
    int floors = a == SN_TRACE_ATTACH_BOTH || a == SN_TRACE_ATTACH_FLOOR ||
                 a == SN_TRACE_ATTACH_EITHER;
    int ceilings = a == SN_TRACE_ATTACH_BOTH || a == SN_TRACE_ATTACH_CEILING ||
                   a == SN_TRACE_ATTACH_EITHER;
    const char *why = NULL;
    if (!is_log_format(p->format)) {
        if (p->time_field || p->time_unit || p->time_relative || p->refuse_unsorted ||
            p->floor_field || p->ceiling_field)
            why = "the time and field parameters apply to csv and jsonl only";
    } else if (!p->time_field || !p->time_field[0]) {
        why = "a csv or jsonl import needs the time field's name";
    } else if (!p->time_unit || (unsigned)p->time_unit > SN_TRACE_TIME_UNIT_DATETIME) {
        why = "a csv or jsonl import needs the time unit (s, ms, us, ns or datetime)";
    } else if (p->time_relative && p->time_unit == SN_TRACE_TIME_UNIT_DATETIME) {
        why = "datetime timestamps are absolute, not relative";
    } else if ((p->floor_field && !p->floor_field[0]) ||
               (p->ceiling_field && !p->ceiling_field[0])) {
        why = "a floor or ceiling field's name is empty";
    } else if ((p->floor_field &&
                (!p->floor_map || (unsigned)p->floor_map > SN_TRACE_FIELD_MAP_LEVEL)) ||
               (p->ceiling_field &&
                (!p->ceiling_map || (unsigned)p->ceiling_map > SN_TRACE_FIELD_MAP_LEVEL))) {
        why = "unknown field map (quantile, hash, level)";
    }
    if (why) {
        sn_trace_set_error(err, err_bytes, "%s", why);
        return -1;
    }
    if (!is_log_format(p->format))
        return 0;
    if (floors != !!p->floor_field || ceilings != !!p->ceiling_field) {
        int floor_wrong = floors != !!p->floor_field;
        sn_trace_set_error(err, err_bytes,
                           floor_wrong ? (floors ? "constraint '%s' attaches floors: it needs a "
                                                   "floor field"
                                                 : "a floor field is given, but constraint '%s' "
                                                   "attaches no floors")
                           : ceilings ? "constraint '%s' attaches ceilings: it needs a ceiling "
                                        "field"
                                      : "a ceiling field is given, but constraint '%s' attaches "
                                        "no ceilings",
                           sn_trace_attach_name(a));
        return -1;
    }
    return 0;
}

int sn_trace_import_check(const sn_trace_import_params *p, char *err, size_t err_bytes)
{
    if (!p->format || (unsigned)p->format > SN_TRACE_FORMAT_JSONL) {
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
    if (check_log(p, err, err_bytes) != 0)
        return -1;
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
    case SN_TRACE_FORMAT_CSV:
    case SN_TRACE_FORMAT_JSONL:
        s.floor_by_quantile = p.floor_field && p.floor_map == SN_TRACE_FIELD_MAP_QUANTILE;
        s.ceiling_by_quantile = p.ceiling_field && p.ceiling_map == SN_TRACE_FIELD_MAP_QUANTILE;
        if (p.format == SN_TRACE_FORMAT_CSV) {
            st = import_csv(&s, raw, size, &p);
        } else {
            st = import_jsonl(&s, raw, size, &p);
            /* a key no object has is a misspelt name (a CSV header would have said so) */
            if (st == SN_TRACE_OK && s.count && ((p.floor_field && !s.floor_seen) ||
                                                 (p.ceiling_field && !s.ceiling_seen))) {
                int floor_missing = p.floor_field && !s.floor_seen;
                sn_trace_set_error(err, err_bytes, "%s: no object has the %s field '%s'",
                                   src_path, floor_missing ? "floor" : "ceiling",
                                   floor_missing ? p.floor_field : p.ceiling_field);
                st = SN_TRACE_ERR_FORMAT;
            }
        }
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

    /* times relative to the first arrival (relative timestamps: to 0), in us (half up);
     * then the speed-up */
    t0 = p.time_relative ? 0 : s.rows[0].t_ns;
    span_us = ((uint64_t)(s.rows[s.count - 1].t_ns - s.rows[0].t_ns) + 500) / 1000;
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
        (st = record(trace, &p, src_path, &s, scale_ppm)) != SN_TRACE_OK) {
        sn_trace_free(trace);
        free(s.rows);
        sn_trace_set_error(err, err_bytes, "out of memory");
        return st;
    }
    for (i = 0; i < s.count; ++i) {
        uint64_t rel_us = ((uint64_t)(s.rows[i].t_ns - t0) + 500) / 1000, scaled;
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
        if (s.rows[i].no_floor)
            trace->acc_floor[i] = NAN;
        if (s.rows[i].no_ceiling)
            trace->lat_ceiling_us[i] = 0;
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
    if (sn_trace_import_check(params, err, err_bytes) != 0)
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
    if (sn_trace_import_check(params, err, err_bytes) != 0)
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
