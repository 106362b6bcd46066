/* supernav query traces: the file format (load, write), names, shared helpers. */
#include "sn_trace.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_file.h"
#include "sn_trace_impl.h"

#define MAX_TIME_US (INT64_C(1) << 60) /* 36,000 years: larger is a typo or an overflow */

const char *sn_trace_status_str(sn_trace_status status)
{
    switch (status) {
    case SN_TRACE_OK: return "ok";
    case SN_TRACE_ERR_IO: return "cannot read or write the file";
    case SN_TRACE_ERR_FORMAT: return "malformed trace";
    case SN_TRACE_ERR_PARAM: return "parameter out of range";
    case SN_TRACE_ERR_NOMEM: return "out of memory";
    }
    return "unknown status";
}

void sn_trace_set_error(char *err, size_t err_bytes, const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_bytes)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_bytes, fmt, ap);
    va_end(ap);
}

/* ---- names -------------------------------------------------------------------------- */
static const char *const kind_names[] = {NULL, "single-stream", "server", "offline", "sushi",
                                         "bursty"};
static const char *const format_names[] = {NULL, "azure-llm", "azure-functions-2019",
                                           "azure-functions-2021", "csv", "jsonl"};
static const char *const time_unit_names[] = {NULL, "s", "ms", "us", "ns", "datetime"};
static const char *const field_map_names[] = {NULL, "quantile", "hash", "level"};
static const char *const attach_names[] = {"both", "floor", "ceiling", "either", "none"};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

sn_trace_kind sn_trace_kind_parse(const char *name)
{
    size_t i;
    for (i = 1; i < COUNT_OF(kind_names); ++i)
        if (!strcmp(name, kind_names[i]))
            return (sn_trace_kind)i;
    return (sn_trace_kind)0;
}

const char *sn_trace_kind_name(sn_trace_kind kind)
{
    return (size_t)kind >= 1 && (size_t)kind < COUNT_OF(kind_names) ? kind_names[kind] : "?";
}

sn_trace_format sn_trace_format_parse(const char *name)
{
    size_t i;
    for (i = 1; i < COUNT_OF(format_names); ++i)
        if (!strcmp(name, format_names[i]))
            return (sn_trace_format)i;
    return (sn_trace_format)0;
}

const char *sn_trace_format_name(sn_trace_format format)
{
    return (size_t)format >= 1 && (size_t)format < COUNT_OF(format_names) ? format_names[format]
                                                                          : "?";
}

sn_trace_time_unit sn_trace_time_unit_parse(const char *name)
{
    size_t i;
    for (i = 1; i < COUNT_OF(time_unit_names); ++i)
        if (!strcmp(name, time_unit_names[i]))
            return (sn_trace_time_unit)i;
    return (sn_trace_time_unit)0;
}

const char *sn_trace_time_unit_name(sn_trace_time_unit unit)
{
    return (size_t)unit >= 1 && (size_t)unit < COUNT_OF(time_unit_names) ? time_unit_names[unit]
                                                                          : "?";
}

sn_trace_field_map sn_trace_field_map_parse(const char *name)
{
    size_t i;
    for (i = 1; i < COUNT_OF(field_map_names); ++i)
        if (!strcmp(name, field_map_names[i]))
            return (sn_trace_field_map)i;
    return (sn_trace_field_map)0;
}

const char *sn_trace_field_map_name(sn_trace_field_map map)
{
    return (size_t)map >= 1 && (size_t)map < COUNT_OF(field_map_names) ? field_map_names[map]
                                                                       : "?";
}

int sn_trace_attach_parse(const char *name)
{
    size_t i;
    for (i = 0; i < COUNT_OF(attach_names); ++i)
        if (!strcmp(name, attach_names[i]))
            return (int)i;
    return -1;
}

const char *sn_trace_attach_name(sn_trace_attach attach)
{
    return (size_t)attach < COUNT_OF(attach_names) ? attach_names[attach] : "?";
}

/* ---- numbers ------------------------------------------------------------------------ */
int sn_trace_parse_fixed(const char *text, unsigned decimals, uint64_t max, uint64_t *value)
{
    uint64_t v = 0;
    unsigned frac = 0;
    int digits = 0, point = 0;
    const char *p;
    for (p = text; *p; ++p) {
        unsigned d;
        if (*p == '.' && !point && digits) {
            point = 1;
            continue;
        }
        if (*p < '0' || *p > '9')
            return -1;
        if (point && ++frac > decimals)
            return -1;
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        ++digits;
    }
    if (!digits || (point && !frac))
        return -1;
    for (; frac < decimals; ++frac) {
        if (v > UINT64_MAX / 10)
            return -1;
        v *= 10;
    }
    if (v > max)
        return -1;
    *value = v;
    return 0;
}

void sn_trace_format_fixed(char *out, size_t out_bytes, uint64_t value, unsigned decimals)
{
    uint64_t scale = 1, frac;
    unsigned i, width = decimals;
    for (i = 0; i < decimals; ++i)
        scale *= 10;
    frac = value % scale;
    while (width > 0 && frac % 10 == 0 && frac) {
        frac /= 10;
        --width;
    }
    if (!frac)
        snprintf(out, out_bytes, "%" PRIu64, value / scale);
    else
        snprintf(out, out_bytes, "%" PRIu64 ".%0*" PRIu64, value / scale, (int)width, frac);
}

/* The 128-bit product A * B as *HI:*LO, from 32-bit halves. */
static void mul_128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    *lo = (p00 & 0xFFFFFFFFu) | (mid << 32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

uint64_t sn_trace_mul_hi(uint64_t a, uint64_t b)
{
    uint64_t hi, lo;
    mul_128(a, b, &hi, &lo);
    return hi;
}

int sn_trace_mul_div(uint64_t a, uint64_t b, uint64_t c, int round, uint64_t *out)
{
    uint64_t hi, lo;
    uint64_t q = 0, rem;
    int i;
    assert(c >= 1);
    mul_128(a, b, &hi, &lo);
    if (round) {
        uint64_t half = c / 2;
        lo += half;
        hi += lo < half;
    }
    if (hi >= c)
        return -1;
    rem = hi; /* long division, one bit at a time */
    for (i = 63; i >= 0; --i) {
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        if (carry || rem >= c) {
            rem -= c;
            q |= 1;
        }
    }
    *out = q;
    return 0;
}

/* ---- the trace object --------------------------------------------------------------- */
void sn_trace_free(sn_trace *trace)
{
    free(trace->arrival_us);
    free(trace->sample);
    free(trace->acc_floor);
    free(trace->lat_ceiling_us);
    free(trace->metadata);
    memset(trace, 0, sizeof *trace);
}

/* Grows the four arrays to CAP entries; on failure they stay as they were. */
static sn_trace_status reserve(sn_trace *t, size_t cap)
{
    void *p;
    if (!(p = realloc(t->arrival_us, cap * sizeof *t->arrival_us)))
        return SN_TRACE_ERR_NOMEM;
    t->arrival_us = p;
    if (!(p = realloc(t->sample, cap * sizeof *t->sample)))
        return SN_TRACE_ERR_NOMEM;
    t->sample = p;
    if (!(p = realloc(t->acc_floor, cap * sizeof *t->acc_floor)))
        return SN_TRACE_ERR_NOMEM;
    t->acc_floor = p;
    if (!(p = realloc(t->lat_ceiling_us, cap * sizeof *t->lat_ceiling_us)))
        return SN_TRACE_ERR_NOMEM;
    t->lat_ceiling_us = p;
    return SN_TRACE_OK;
}

sn_trace_status sn_trace_alloc(sn_trace *trace, size_t count)
{
    memset(trace, 0, sizeof *trace);
    trace->metadata = calloc(1, 1);
    if (!trace->metadata || reserve(trace, count ? count : 1) != SN_TRACE_OK) {
        sn_trace_free(trace);
        return SN_TRACE_ERR_NOMEM;
    }
    trace->count = count;
    trace->mode = SN_TRACE_MODE_OPEN;
    return SN_TRACE_OK;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* A metadata value: printable ASCII (and UTF-8 bytes), no control characters. */
static int valid_value(const char *v)
{
    for (; *v; ++v)
        if ((unsigned char)*v < 0x20 || *v == 0x7F)
            return 0;
    return 1;
}

static sn_trace_status meta_append(sn_trace *t, const char *key, size_t key_len,
                                   const char *value)
{
    size_t old = t->metadata ? strlen(t->metadata) : 0, vlen = strlen(value);
    char *m = realloc(t->metadata, old + key_len + vlen + 4);
    if (!m)
        return SN_TRACE_ERR_NOMEM;
    memcpy(m + old, key, key_len);
    memcpy(m + old + key_len, ": ", 2);
    memcpy(m + old + key_len + 2, value, vlen);
    m[old + key_len + 2 + vlen] = '\n';
    m[old + key_len + 3 + vlen] = '\0';
    t->metadata = m;
    return SN_TRACE_OK;
}

sn_trace_status sn_trace_meta_add(sn_trace *trace, const char *key, const char *fmt, ...)
{
    char value[1024], *v;
    va_list ap;
    const char *k;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    for (k = key; *k; ++k)
        assert(is_key_char(*k));
    for (v = value; *v; ++v) /* e.g. a line break in a file name */
        if ((unsigned char)*v < 0x20 || *v == 0x7F)
            *v = '?';
    return meta_append(trace, key, strlen(key), value);
}

int sn_trace_meta_get(const sn_trace *trace, const char *key, char *value, size_t value_bytes)
{
    const char *line = trace->metadata;
    size_t klen = strlen(key);
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= klen + 2 && !memcmp(line, key, klen) && line[klen] == ':' &&
            line[klen + 1] == ' ') {
            size_t vlen = len - klen - 2;
            if (value_bytes) {
                if (vlen > value_bytes - 1)
                    vlen = value_bytes - 1;
                memcpy(value, line + klen + 2, vlen);
                value[vlen] = '\0';
            }
            return 0;
        }
        line = nl ? nl + 1 : line + len;
    }
    return -1;
}

/* ---- constraints -------------------------------------------------------------------- */
void sn_trace_constraints_default(sn_trace_constraints *c)
{
    uint32_t j;
    memset(c, 0, sizeof *c);
    c->attach = SN_TRACE_ATTACH_BOTH;
    c->levels = 5;
    c->ceiling_base_us = 10000;
    for (j = 0; j < 5; ++j) {
        c->floor_bp[j] = 8600 + 100 * j;
        c->ceiling_permille[j] = 200 * (j + 1);
    }
}

#define MAX_CEILING_BASE_US INT64_C(1000000000000) /* 11.6 days */
#define MAX_CEILING_PERMILLE 1000000u              /* 1000 x the base */

static int64_t ceiling_of(const sn_trace_constraints *c, uint32_t level)
{
    return (c->ceiling_base_us * (int64_t)c->ceiling_permille[level] + 500) / 1000;
}

int sn_trace_constraints_check(const sn_trace_constraints *c, char *err, size_t err_bytes)
{
    uint32_t j;
    if ((unsigned)c->attach > SN_TRACE_ATTACH_NONE) {
        sn_trace_set_error(err, err_bytes, "unknown constraint attachment %d", (int)c->attach);
        return -1;
    }
    if (c->levels < 1 || c->levels > SN_TRACE_MAX_LEVELS) {
        sn_trace_set_error(err, err_bytes, "constraint levels must be 1..%u, not %u",
                           SN_TRACE_MAX_LEVELS, c->levels);
        return -1;
    }
    if (c->ceiling_base_us < 1 || c->ceiling_base_us > MAX_CEILING_BASE_US) {
        sn_trace_set_error(err, err_bytes, "ceiling base must be 1..%" PRId64 " us, not %" PRId64,
                           MAX_CEILING_BASE_US, c->ceiling_base_us);
        return -1;
    }
    for (j = 0; j < c->levels; ++j) {
        if (c->floor_bp[j] > 10000) {
            sn_trace_set_error(err, err_bytes, "accuracy floor of level %u is above 1", j);
            return -1;
        }
        if (c->ceiling_permille[j] < 1 || c->ceiling_permille[j] > MAX_CEILING_PERMILLE ||
            ceiling_of(c, j) < 1) {
            sn_trace_set_error(err, err_bytes,
                               "ceiling of level %u must be 1 us to 1000 x the base (factor "
                               "0.001..1000)",
                               j);
            return -1;
        }
    }
    return 0;
}

sn_trace_status sn_trace_meta_add_constraints(sn_trace *trace, const sn_trace_constraints *c)
{
    char floors[16 * 8], factors[16 * 12], ceilings[16 * 24], item[32];
    uint32_t j;
    sn_trace_status st;
    floors[0] = factors[0] = ceilings[0] = '\0';
    for (j = 0; j < c->levels; ++j) {
        const char *sep = j ? "," : "";
        sn_trace_format_fixed(item, sizeof item, c->floor_bp[j], 4);
        strcat(strcat(floors, sep), item);
        sn_trace_format_fixed(item, sizeof item, c->ceiling_permille[j], 3);
        strcat(strcat(factors, sep), item);
        snprintf(item, sizeof item, "%" PRId64, ceiling_of(c, j));
        strcat(strcat(ceilings, sep), item);
    }
    if ((st = sn_trace_meta_add(trace, "constraint", "%s", sn_trace_attach_name(c->attach))) ||
        (st = sn_trace_meta_add(trace, "floors", "%s", floors)) ||
        (st = sn_trace_meta_add(trace, "ceiling_us", "%" PRId64, c->ceiling_base_us)) ||
        (st = sn_trace_meta_add(trace, "ceiling_factors", "%s", factors)) ||
        (st = sn_trace_meta_add(trace, "ceilings_us", "%s", ceilings)))
        return st;
    return SN_TRACE_OK;
}

uint32_t sn_trace_sample_of(uint64_t seed, uint64_t i, uint32_t n)
{
    sn_rng rng = sn_rng_derive(seed, SN_TRACE_STREAM_SAMPLE, i);
    return (uint32_t)sn_rng_below(&rng, n);
}

void sn_trace_set_constraints(sn_trace *trace, size_t i, const sn_trace_constraints *c,
                              uint64_t seed, uint32_t floor_level, uint32_t ceiling_level)
{
    int floor_on = c->attach == SN_TRACE_ATTACH_BOTH || c->attach == SN_TRACE_ATTACH_FLOOR;
    int ceiling_on = c->attach == SN_TRACE_ATTACH_BOTH || c->attach == SN_TRACE_ATTACH_CEILING;
    if (c->attach == SN_TRACE_ATTACH_EITHER) {
        sn_rng rng = sn_rng_derive(seed, SN_TRACE_STREAM_ATTACH, i);
        ceiling_on = (int)(sn_rng_next(&rng) & 1);
        floor_on = !ceiling_on;
    }
    assert(floor_level < c->levels && ceiling_level < c->levels);
    trace->acc_floor[i] = floor_on ? (float)c->floor_bp[floor_level] / 10000.0f : NAN;
    trace->lat_ceiling_us[i] = ceiling_on ? ceiling_of(c, ceiling_level) : 0;
}

/* ---- loading ------------------------------------------------------------------------ */
typedef struct loader {
    const char *path;
    size_t line;
    char *err;
    size_t err_bytes;
} loader;

static sn_trace_status fail(const loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sn_trace_status fail(const loader *ld, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sn_trace_set_error(ld->err, ld->err_bytes, "%s:%zu: %s", ld->path, ld->line, msg);
    return SN_TRACE_ERR_FORMAT;
}

/* A field of decimal digits only, at most MAX; 0 on success. */
static int parse_uint(const char *s, uint64_t max, uint64_t *value)
{
    return sn_trace_parse_fixed(s, 0, max, value) || strchr(s, '.') ? -1 : 0;
}

/* Digits, optionally a point and more digits. */
static int is_decimal_text(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (!n)
        return 0;
    if (s[n] == '\0')
        return 1;
    if (s[n] != '.')
        return 0;
    s += n + 1;
    n = strspn(s, "0123456789");
    return n > 0 && s[n] == '\0';
}

/* For a decimal text: is the number above 1? */
static int above_one(const char *s)
{
    const char *dot = strchr(s, '.'), *p;
    size_t int_len = dot ? (size_t)(dot - s) : strlen(s);
    while (int_len > 1 && *s == '0') {
        ++s;
        --int_len;
    }
    if (int_len > 1 || *s > '1')
        return 1;
    if (*s == '1' && dot)
        for (p = dot + 1; *p; ++p)
            if (*p != '0')
                return 1;
    return 0;
}

static sn_trace_status parse_row(const loader *ld, char *line, uint32_t sample_count,
                                 sn_trace *t, size_t i, size_t *prev_line)
{
    char *field[4];
    int n = 1;
    char *p;
    uint64_t v;
    field[0] = line;
    for (p = line; *p; ++p) {
        if (*p != ',')
            continue;
        if (n == 4)
            return fail(ld, "expected 4 fields (%s), found more", SN_TRACE_HEADER);
        *p = '\0';
        field[n++] = p + 1;
    }
    if (n != 4)
        return fail(ld, "expected 4 fields (%s), found %d", SN_TRACE_HEADER, n);

    /* arrival_us */
    if (field[0][0] == '-' && parse_uint(field[0] + 1, UINT64_MAX, &v) == 0)
        return fail(ld, "negative arrival time %.40s us", field[0]);
    if (parse_uint(field[0], (uint64_t)MAX_TIME_US, &v) != 0)
        return fail(ld, "arrival_us '%.40s' is not an integer in 0..2^60 (microseconds)",
                    field[0]);
    t->arrival_us[i] = (int64_t)v;
    if (i > 0 && t->arrival_us[i] < t->arrival_us[i - 1])
        return fail(ld,
                    "arrival times go backwards: %" PRId64 " us after %" PRId64 " us (line %zu)",
                    t->arrival_us[i], t->arrival_us[i - 1], *prev_line);
    *prev_line = ld->line;

    /* sample */
    if ((field[1][0] == '-' && parse_uint(field[1] + 1, UINT64_MAX, &v) == 0) ||
        (parse_uint(field[1], UINT64_MAX, &v) == 0 && v >= sample_count))
        return fail(ld, "unknown sample %.40s (the sample library has %" PRIu32 ": 0..%" PRIu32 ")",
                    field[1], sample_count, sample_count - 1);
    if (parse_uint(field[1], UINT64_MAX, &v) != 0)
        return fail(ld, "sample '%.40s' is not an integer", field[1]);
    t->sample[i] = (uint32_t)v;

    /* acc_floor */
    if (!field[2][0]) {
        t->acc_floor[i] = NAN;
    } else {
        int negative = field[2][0] == '-';
        if (!is_decimal_text(field[2] + negative))
            return fail(ld, "acc_floor '%.40s' is not a decimal number", field[2]);
        if (negative || above_one(field[2]))
            return fail(ld, "impossible accuracy floor %.40s (must be in [0, 1])", field[2]);
        if (sn_trace_parse_fixed(field[2], 4, 10000, &v) != 0)
            return fail(ld, "accuracy floor %.40s has more than 4 decimals", field[2]);
        t->acc_floor[i] = (float)v / 10000.0f;
    }

    /* lat_ceiling_us */
    if (!field[3][0]) {
        t->lat_ceiling_us[i] = 0;
    } else {
        int negative = field[3][0] == '-';
        if (parse_uint(field[3] + negative, UINT64_MAX, &v) != 0)
            return fail(ld, "lat_ceiling_us '%.40s' is not an integer (microseconds)", field[3]);
        if (negative || v == 0)
            return fail(ld, "impossible latency ceiling %.40s us (must be > 0, or empty for none)",
                        field[3]);
        if (v > (uint64_t)MAX_TIME_US)
            return fail(ld, "latency ceiling %.40s us is above 2^60", field[3]);
        t->lat_ceiling_us[i] = (int64_t)v;
    }
    return SN_TRACE_OK;
}

static sn_trace_status parse_meta(const loader *ld, const char *line, sn_trace *t)
{
    const char *k = line + 2, *v;
    size_t klen;
    if (line[1] != ' ')
        return fail(ld, "metadata lines read '# key: value'");
    for (klen = 0; is_key_char(k[klen]); ++klen)
        ;
    if (!klen || k[klen] != ':' || (k[klen + 1] && k[klen + 1] != ' '))
        return fail(ld, "metadata lines read '# key: value' (key: a-z, 0-9, _)");
    v = k[klen + 1] ? k + klen + 2 : k + klen + 1;
    if (!valid_value(v))
        return fail(ld, "control character in a metadata value");
    if (klen == 4 && !memcmp(k, "mode", 4)) {
        if (!strcmp(v, "open"))
            t->mode = SN_TRACE_MODE_OPEN;
        else if (!strcmp(v, "closed"))
            t->mode = SN_TRACE_MODE_CLOSED;
        else
            return fail(ld, "mode must be 'open' or 'closed', not '%.40s'", v);
        return SN_TRACE_OK;
    }
    return meta_append(t, k, klen, v);
}

/* Parses DATA (SIZE bytes, modified in place; DATA[SIZE] must be writable) as the trace
 * file PATH. */
static sn_trace_status load_text(const char *path, char *data, size_t size, uint32_t sample_count,
                                 sn_trace *trace, char *err, size_t err_bytes)
{
    loader ld;
    char *p, *end;
    size_t cap = 0, prev_line = 0, header_line = 0;
    sn_trace t;
    sn_trace_status st = SN_TRACE_OK;

    ld.path = path;
    ld.line = 0;
    ld.err = err;
    ld.err_bytes = err_bytes;
    memset(&t, 0, sizeof t);
    if (!(t.metadata = calloc(1, 1)))
        return SN_TRACE_ERR_NOMEM;

    for (p = data, end = data + size; p < end && st == SN_TRACE_OK;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line = p;
        size_t len = (size_t)((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
        ++ld.line;
        if (memchr(line, '\0', len)) {
            st = fail(&ld, "NUL byte (not a text file)");
            break;
        }
        if (len && line[len - 1] == '\r')
            --len;
        line[len] = '\0';
        if (ld.line == 1) {
            if (!strncmp(line, "# supernav-trace ", 17) && strcmp(line + 17, "1") != 0)
                st = fail(&ld, "unsupported trace format version '%.20s' (this build reads 1)",
                          line + 17);
            else if (strcmp(line, "# " SN_TRACE_MAGIC) != 0)
                st = fail(&ld, "not a supernav trace (the first line must be '# %s')",
                          SN_TRACE_MAGIC);
        } else if (!header_line) {
            if (line[0] == '#')
                st = parse_meta(&ld, line, &t);
            else if (strcmp(line, SN_TRACE_HEADER) != 0)
                st = fail(&ld, "bad header '%.60s' (expected '%s')", line, SN_TRACE_HEADER);
            else
                header_line = ld.line;
        } else if (!len) {
            st = fail(&ld, "empty line");
        } else if (line[0] == '#') {
            st = fail(&ld, "metadata line after the header");
        } else if (t.count == SN_TRACE_MAX_COUNT) {
            st = fail(&ld, "more than %u queries", SN_TRACE_MAX_COUNT);
        } else {
            if (t.count == cap) {
                cap = cap ? 2 * cap : 1024;
                if ((st = reserve(&t, cap)) != SN_TRACE_OK) {
                    sn_trace_set_error(err, err_bytes, "%s: out of memory", path);
                    break;
                }
            }
            st = parse_row(&ld, line, sample_count, &t, t.count, &prev_line);
            ++t.count;
        }
    }
    if (st == SN_TRACE_OK && ld.line == 0) {
        ld.line = 1;
        st = fail(&ld, "not a supernav trace (the file is empty)");
    } else if (st == SN_TRACE_OK && !header_line) {
        st = fail(&ld, "no header line (expected '%s')", SN_TRACE_HEADER);
    } else if (st == SN_TRACE_OK && !t.count) {
        ld.line = header_line;
        st = fail(&ld, "no queries after the header");
    }
    if (st != SN_TRACE_OK) {
        sn_trace_free(&t);
        return st;
    }
    *trace = t;
    return SN_TRACE_OK;
}

sn_trace_status sn_trace_load(const char *path, uint32_t sample_count, sn_trace *trace,
                              char *err, size_t err_bytes)
{
    void *raw;
    size_t size;
    sn_trace_status st;

    memset(trace, 0, sizeof *trace);
    if (sample_count < 1) {
        sn_trace_set_error(err, err_bytes, "%s: the sample count must be at least 1", path);
        return SN_TRACE_ERR_PARAM;
    }
    if (sn_read_file(path, &raw, &size) != 0) {
        sn_trace_set_error(err, err_bytes, "%s: %s", path, strerror(errno));
        return errno == ENOMEM ? SN_TRACE_ERR_NOMEM : SN_TRACE_ERR_IO;
    }
    st = load_text(path, raw, size, sample_count, trace, err, err_bytes); /* NUL at raw[size] */
    free(raw);
    return st;
}

sn_trace_status sn_trace_load_buffer(const char *name, const void *data, size_t size,
                                     uint32_t sample_count, sn_trace *trace, char *err,
                                     size_t err_bytes)
{
    char *copy;
    sn_trace_status st;

    memset(trace, 0, sizeof *trace);
    if (sample_count < 1) {
        sn_trace_set_error(err, err_bytes, "%s: the sample count must be at least 1", name);
        return SN_TRACE_ERR_PARAM;
    }
    if (size == SIZE_MAX || !(copy = malloc(size + 1))) {
        sn_trace_set_error(err, err_bytes, "%s: out of memory", name);
        return SN_TRACE_ERR_NOMEM;
    }
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\0';
    st = load_text(name, copy, size, sample_count, trace, err, err_bytes);
    free(copy);
    return st;
}

/* ---- writing ------------------------------------------------------------------------ */
static int check_for_write(const sn_trace *t, char *err, size_t err_bytes)
{
    size_t i;
    const char *m;
    if (t->count < 1 || t->count > SN_TRACE_MAX_COUNT) {
        sn_trace_set_error(err, err_bytes, "a trace holds 1..%u queries, not %zu",
                           SN_TRACE_MAX_COUNT, t->count);
        return -1;
    }
    for (i = 0; i < t->count; ++i) {
        float f = t->acc_floor[i];
        if (t->arrival_us[i] < 0 || t->arrival_us[i] > MAX_TIME_US ||
            (i && t->arrival_us[i] < t->arrival_us[i - 1])) {
            sn_trace_set_error(err, err_bytes,
                               "query %zu: arrival %" PRId64 " us is negative, above 2^60 "
                               "or earlier than the previous one",
                               i, t->arrival_us[i]);
            return -1;
        }
        if (!isnan(f) && !(f >= 0.0f && f <= 1.0f)) {
            sn_trace_set_error(err, err_bytes, "query %zu: accuracy floor outside [0, 1]", i);
            return -1;
        }
        if (t->lat_ceiling_us[i] < 0 || t->lat_ceiling_us[i] > MAX_TIME_US) {
            sn_trace_set_error(err, err_bytes, "query %zu: latency ceiling %" PRId64 " us",
                               i, t->lat_ceiling_us[i]);
            return -1;
        }
    }
    for (m = t->metadata ? t->metadata : ""; *m;) { /* "key: value\n" lines */
        const char *nl = strchr(m, '\n'), *k;
        for (k = m; is_key_char(*k); ++k)
            ;
        if (!nl || k == m || k[0] != ':' || (k[1] != ' ' && k[1] != '\n') ||
            (k - m == 4 && !memcmp(m, "mode", 4))) {
            sn_trace_set_error(err, err_bytes, "malformed metadata line '%.*s'",
                               (int)(nl ? nl - m : 40), m);
            return -1;
        }
        for (k += 1; k < nl; ++k)
            if ((unsigned char)*k < 0x20 || *k == 0x7F) {
                sn_trace_set_error(err, err_bytes, "control character in the metadata");
                return -1;
            }
        m = nl + 1;
    }
    return 0;
}

static int write_rows(FILE *fp, const sn_trace *t)
{
    size_t i;
    const char *m = t->metadata ? t->metadata : "";
    if (fprintf(fp, "# %s\n# mode: %s\n", SN_TRACE_MAGIC,
                t->mode == SN_TRACE_MODE_CLOSED ? "closed" : "open") < 0)
        return -1;
    while (*m) {
        const char *nl = strchr(m, '\n');
        if (fprintf(fp, "# %.*s\n", (int)(nl - m), m) < 0)
            return -1;
        m = nl + 1;
    }
    if (fprintf(fp, "%s\n", SN_TRACE_HEADER) < 0)
        return -1;
    for (i = 0; i < t->count; ++i) {
        char floor_text[16] = "", ceiling_text[24] = "";
        if (sn_trace_has_floor(t, i)) {
            uint32_t bp = (uint32_t)((double)t->acc_floor[i] * 10000.0 + 0.5);
            snprintf(floor_text, sizeof floor_text, "%u.%04u", bp / 10000, bp % 10000);
        }
        if (sn_trace_has_ceiling(t, i))
            snprintf(ceiling_text, sizeof ceiling_text, "%" PRId64, t->lat_ceiling_us[i]);
        if (fprintf(fp, "%" PRId64 ",%" PRIu32 ",%s,%s\n", t->arrival_us[i], t->sample[i],
                    floor_text, ceiling_text) < 0)
            return -1;
    }
    return 0;
}

sn_trace_status sn_trace_write_atomic(const char *path, const sn_trace *trace, char *err,
                                      size_t err_bytes)
{
    sn_atomic_file f;
    if (check_for_write(trace, err, err_bytes) != 0)
        return SN_TRACE_ERR_PARAM;
    if (sn_atomic_open(&f, path) != 0) {
        sn_trace_set_error(err, err_bytes, "cannot write %s: %s", path, strerror(errno));
        return SN_TRACE_ERR_IO;
    }
    if (write_rows(f.fp, trace) != 0) {
        int e = errno ? errno : EIO;
        sn_atomic_abort(&f);
        sn_trace_set_error(err, err_bytes, "cannot write %s: %s", path, strerror(e));
        return SN_TRACE_ERR_IO;
    }
    if (sn_atomic_commit(&f) != 0) {
        sn_trace_set_error(err, err_bytes, "cannot write %s: %s", path, strerror(errno));
        return SN_TRACE_ERR_IO;
    }
    return SN_TRACE_OK;
}
