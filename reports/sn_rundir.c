/* supernav reports: reading run directories (see sn_rundir.h). */
#include "sn_rundir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_file.h"

#define MAX_FIELDS 32

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- JSON helpers ----------------------------------------------------------------------- */
static const cJSON *walk(const cJSON *o, const char *dotted)
{
    char key[128];
    const char *p = dotted;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof key)
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        p += len + (dot ? 1 : 0);
        /* "p99.9" is one key: try the rest whole when a dotted prefix is not an object */
        if (o && dot && !cJSON_IsObject(o))
            return NULL;
    }
    return o;
}

double sn_rundir_num(const cJSON *object, const char *dotted_path)
{
    const cJSON *v = walk(object, dotted_path);
    if (!v && strchr(dotted_path, '.')) { /* keys with a dot, e.g. latency_us.p99.9 */
        const char *dot = strchr(dotted_path, '.');
        char head[128];
        if ((size_t)(dot - dotted_path) < sizeof head) {
            memcpy(head, dotted_path, (size_t)(dot - dotted_path));
            head[dot - dotted_path] = '\0';
            v = cJSON_GetObjectItemCaseSensitive(walk(object, head), dot + 1);
        }
    }
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

const char *sn_rundir_str(const cJSON *object, const char *dotted_path)
{
    const cJSON *v = walk(object, dotted_path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *or_unknown(const char *s)
{
    return s && *s ? s : "?";
}

const char *sn_rundir_platform(const sn_rundir *run)
{
    return or_unknown(sn_rundir_str(run->context, "platform.name"));
}

const char *sn_rundir_policy(const sn_rundir *run)
{
    return run->policy_label[0] ? run->policy_label : or_unknown(sn_rundir_str(run->context, "run.policy"));
}

/* run.policy, with "+arac" after its name (before any ":ARG") when ARAC configs served too. */
void sn_rundir_policy_label(const char *policy, const char *serving_set, char *buf, size_t n)
{
    const char *colon = strchr(policy, ':');
    int name_len = colon ? (int)(colon - policy) : (int)strlen(policy);
    if (serving_set && !strncmp(serving_set, "subnets+arac", 12))
        snprintf(buf, n, "%.*s+arac%s", name_len, policy, colon ? colon : "");
    else
        snprintf(buf, n, "%s", policy);
}

static void set_policy_label(sn_rundir *run)
{
    sn_rundir_policy_label(or_unknown(sn_rundir_str(run->context, "run.policy")),
                           sn_rundir_str(run->context, "run.serving_set"), run->policy_label,
                           sizeof run->policy_label);
}

const char *sn_rundir_clock(const sn_rundir *run)
{
    return or_unknown(sn_rundir_str(run->context, "clock"));
}

const char *sn_rundir_input_sha256(const sn_rundir *run, const char *role)
{
    const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(run->context, "hashes");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(hashes, role);
    const cJSON *first = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, 0) : NULL;
    return sn_rundir_str(first, "sha256");
}

static cJSON *read_json(const char *dir, const char *name, int required, char *err, size_t n)
{
    char path[1200];
    void *text;
    size_t size;
    cJSON *j;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sn_read_file(path, &text, &size) != 0) {
        if (required)
            fail(err, n, "%s: %s (not a run directory?)", path, strerror(errno));
        return NULL;
    }
    j = cJSON_ParseWithLength(text, size);
    free(text);
    if (!j && required)
        fail(err, n, "%s: not valid JSON", path);
    return j;
}

/* ---- a small CSV reader (RFC 4180: quoted fields, doubled quotes, LF or CRLF) ------------ */
/* Splits the record at *CURSOR in place into FIELDS; advances *CURSOR past it. Returns the
 * field count, 0 at the end, -1 on a malformed record (an unterminated quote, too many
 * fields, text after a closing quote). */
static int csv_record(char **cursor, char *end, char **fields, int max)
{
    char *p = *cursor, *w;
    int n = 0;
    if (p >= end)
        return 0;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            fields[n++] = w = ++p;
            for (;;) {
                if (p >= end)
                    return -1;
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    ++p;
                    break;
                }
                *w++ = *p++;
            }
            *w = '\0'; /* w < p: the closing quote's place is free */
            if (p < end && *p != ',' && *p != '\n' && *p != '\r')
                return -1;
        } else {
            fields[n++] = p;
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                ++p;
        }
        if (p >= end) { /* sn_read_file NUL-terminates the buffer at END */
            *cursor = end;
            return n;
        }
        if (*p == ',') {
            *p++ = '\0';
            continue;
        }
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            *p++ = '\0';
        *p++ = '\0';
        *cursor = p;
        return n;
    }
}

static int parse_i64(const char *s, int64_t *v)
{
    char *e;
    long long x;
    errno = 0;
    x = strtoll(s, &e, 10);
    if (errno || e == s || *e)
        return -1;
    *v = (int64_t)x;
    return 0;
}

static int intern(sn_rundir *run, const char *s, int32_t *idx)
{
    size_t i;
    char **grown;
    if (!*s) {
        *idx = -1;
        return 0;
    }
    /* recent names first: consecutive queries mostly repeat */
    for (i = run->name_count; i-- > 0;)
        if (!strcmp(run->names[i], s)) {
            *idx = (int32_t)i;
            return 0;
        }
    grown = realloc(run->names, (run->name_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    run->names = grown;
    if (!(run->names[run->name_count] = strdup(s)))
        return -1;
    *idx = (int32_t)run->name_count++;
    return 0;
}

enum { C_ARR, C_START, C_END, C_LAT, C_SUBNET, C_SUBGRAPH, C_NEAR, C_FAR, C_PRED, C_CORRECT,
       C_SLO, C_ACC, C_COUNT };
static const char *const column_names[C_COUNT] = {
    "arrival_ns", "start_ns", "end_ns", "latency_ns", "subnet", "subgraph", "near_bytes",
    "far_bytes", "prediction", "correct", "slo_met", "table_accuracy"};

/* Parses queries.csv's TEXT (SIZE bytes, modified in place; TEXT[SIZE] must be writable and
 * is set to NUL), freeing TEXT. */
static int parse_queries(sn_rundir *run, const char *path, char *text, size_t size, char *err,
                         size_t n)
{
    char *cur, *end, *f[MAX_FIELDS];
    size_t cap = 0, line = 1;
    int col[C_COUNT], k, i, nf, last_col = 0;
    text[size] = '\0';
    cur = text;
    end = text + size;
    nf = csv_record(&cur, end, f, MAX_FIELDS);
    for (k = 0; k < C_COUNT; ++k) {
        col[k] = -1;
        for (i = 0; i < nf; ++i)
            if (!strcmp(f[i], column_names[k]))
                col[k] = i;
        if (col[k] < 0) {
            free(text);
            return fail(err, n, "%s:1: no column '%s' in the header", path, column_names[k]);
        }
        if (col[k] > last_col)
            last_col = col[k];
    }
    while (cur < end) {
        sn_rundir_query *q;
        int64_t v;
        ++line;
        nf = csv_record(&cur, end, f, MAX_FIELDS);
        if (nf == 1 && !*f[0])
            continue; /* an empty line */
        if (nf < 0 || nf <= last_col) { /* a short row must not read the header's fields */
            free(text);
            return fail(err, n, "%s:%zu: malformed row", path, line);
        }
        if (run->count == cap) {
            sn_rundir_query *g;
            cap = cap ? 2 * cap : 1024;
            g = realloc(run->q, cap * sizeof *g);
            if (!g) {
                free(text);
                return fail(err, n, "out of memory");
            }
            run->q = g;
        }
        q = &run->q[run->count];
        memset(q, 0, sizeof *q);
        if (parse_i64(f[col[C_ARR]], &q->arrival_ns) || parse_i64(f[col[C_START]], &q->start_ns) ||
            parse_i64(f[col[C_END]], &q->end_ns) || parse_i64(f[col[C_LAT]], &q->latency_ns) ||
            parse_i64(f[col[C_NEAR]], &v) || v < 0 || (q->near_bytes = (uint64_t)v, 0) ||
            parse_i64(f[col[C_FAR]], &v) || v < 0 || (q->far_bytes = (uint64_t)v, 0)) {
            free(text);
            return fail(err, n, "%s:%zu: malformed number", path, line);
        }
        q->prediction = -1;
        if (*f[col[C_PRED]]) {
            if (parse_i64(f[col[C_PRED]], &v) || v < 0 || v > INT32_MAX) {
                free(text);
                return fail(err, n, "%s:%zu: malformed prediction", path, line);
            }
            q->prediction = (int32_t)v;
        }
        q->correct = -1;
        if (*f[col[C_CORRECT]])
            q->correct = (int8_t)(strcmp(f[col[C_CORRECT]], "1") == 0);
        q->slo_met = (int8_t)(strcmp(f[col[C_SLO]], "1") == 0);
        q->table_accuracy = *f[col[C_ACC]] ? strtod(f[col[C_ACC]], NULL) : (double)NAN;
        if (intern(run, f[col[C_SUBNET]], &q->subnet) || intern(run, f[col[C_SUBGRAPH]], &q->subgraph)) {
            free(text);
            return fail(err, n, "out of memory");
        }
        ++run->count;
    }
    free(text);
    return 0;
}

static int read_queries(sn_rundir *run, char *err, size_t n)
{
    char path[1200];
    size_t size;
    void *raw;
    snprintf(path, sizeof path, "%s/queries.csv", run->path);
    if (sn_read_file(path, &raw, &size) != 0)
        return fail(err, n, "%s: %s", path, strerror(errno));
    return parse_queries(run, path, raw, size, err, n);
}

/* ---- runs ------------------------------------------------------------------------------- */
/* RUN's path and name from PATH. */
static void set_path(sn_rundir *run, const char *path)
{
    const char *slash;
    size_t len;
    snprintf(run->path, sizeof run->path, "%s", path);
    len = strlen(run->path);
    while (len > 1 && run->path[len - 1] == '/')
        run->path[--len] = '\0';
    slash = strrchr(run->path, '/');
    snprintf(run->name, sizeof run->name, "%.255s", slash ? slash + 1 : run->path);
}

/* What a loaded run derives from its context. */
static void set_trace_name(sn_rundir *run)
{
    const char *slash, *trace;
    char *dot;
    trace = sn_rundir_str(run->context, "run.trace");
    slash = trace ? strrchr(trace, '/') : NULL;
    snprintf(run->trace_name, sizeof run->trace_name, "%s", trace ? (slash ? slash + 1 : trace) : "?");
    if ((dot = strrchr(run->trace_name, '.')) && !strcmp(dot, ".csv"))
        *dot = '\0';
}

int sn_rundir_load(const char *path, sn_rundir *run, char *err, size_t n)
{
    memset(run, 0, sizeof *run);
    set_path(run, path);
    if (!(run->context = read_json(run->path, "context.json", 1, err, n)) ||
        !(run->summary = read_json(run->path, "summary.json", 1, err, n))) {
        sn_rundir_free(run);
        return -1;
    }
    run->policy = read_json(run->path, "policy.json", 0, err, n);
    if (read_queries(run, err, n) != 0) {
        sn_rundir_free(run);
        return -1;
    }
    set_trace_name(run);
    set_policy_label(run);
    return 0;
}

int sn_rundir_parse(const char *path, const sn_rundir_files *files, sn_rundir *run, char *err,
                    size_t n)
{
    char where[1200], *queries;
    memset(run, 0, sizeof *run);
    set_path(run, path);
    snprintf(where, sizeof where, "%s/context.json", run->path);
    if (!(run->context = cJSON_ParseWithLength(files->context, files->context_bytes))) {
        fail(err, n, "%s: not valid JSON", where);
        sn_rundir_free(run);
        return -1;
    }
    snprintf(where, sizeof where, "%s/summary.json", run->path);
    if (!(run->summary = cJSON_ParseWithLength(files->summary, files->summary_bytes))) {
        fail(err, n, "%s: not valid JSON", where);
        sn_rundir_free(run);
        return -1;
    }
    if (files->policy)
        run->policy = cJSON_ParseWithLength(files->policy, files->policy_bytes);
    snprintf(where, sizeof where, "%s/queries.csv", run->path);
    if (files->queries_bytes == SIZE_MAX || !(queries = malloc(files->queries_bytes + 1))) {
        fail(err, n, "out of memory");
        sn_rundir_free(run);
        return -1;
    }
    if (files->queries_bytes)
        memcpy(queries, files->queries, files->queries_bytes);
    if (parse_queries(run, where, queries, files->queries_bytes, err, n) != 0) {
        sn_rundir_free(run);
        return -1;
    }
    set_trace_name(run);
    set_policy_label(run);
    return 0;
}

void sn_rundir_free(sn_rundir *run)
{
    size_t i;
    cJSON_Delete(run->context);
    cJSON_Delete(run->summary);
    cJSON_Delete(run->policy);
    for (i = 0; i < run->name_count; ++i)
        free(run->names[i]);
    free(run->names);
    free(run->q);
    memset(run, 0, sizeof *run);
}

int sn_rundir_trace_path(const sn_rundir *run, char *buf, size_t buf_bytes)
{
    const char *trace = sn_rundir_str(run->context, "run.trace"), *base;
    if (!trace)
        return 0;
    if (access(trace, R_OK) == 0) {
        snprintf(buf, buf_bytes, "%s", trace);
        return 1;
    }
    base = strrchr(trace, '/');
    snprintf(buf, buf_bytes, "%s/../traces/%s", run->path, base ? base + 1 : trace);
    return access(buf, R_OK) == 0;
}

int sn_rundir_is_run(const char *path)
{
    char p[1200];
    if ((size_t)snprintf(p, sizeof p, "%s/summary.json", path) >= sizeof p)
        return 0;
    return access(p, R_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***list, size_t *count, size_t *cap, const char *s)
{
    if (*count == *cap) {
        char **g;
        *cap = *cap ? 2 * *cap : 16;
        g = realloc(*list, *cap * sizeof *g);
        if (!g)
            return -1;
        *list = g;
    }
    if (!((*list)[*count] = strdup(s)))
        return -1;
    ++*count;
    return 0;
}

int sn_rundir_expand(char *const *paths, size_t n, char ***out, size_t *count, char *err,
                     size_t err_bytes)
{
    char **list = NULL;
    size_t cap = 0, i;
    *count = 0;
    for (i = 0; i < n; ++i) {
        struct stat st;
        DIR *d;
        struct dirent *e;
        size_t first = *count;
        errno = 0;
        if (stat(paths[i], &st) != 0) {
            int saved = errno;
            sn_rundir_free_list(list, *count);
            return fail(err, err_bytes, "%s: %s", paths[i], strerror(saved));
        }
        if (!S_ISDIR(st.st_mode)) {
            sn_rundir_free_list(list, *count);
            return fail(err, err_bytes, "%s: not a directory", paths[i]);
        }
        if (sn_rundir_is_run(paths[i])) {
            if (push(&list, count, &cap, paths[i]) != 0)
                goto nomem;
            continue;
        }
        if (!(d = opendir(paths[i]))) {
            sn_rundir_free_list(list, *count);
            return fail(err, err_bytes, "%s: %s", paths[i], strerror(errno));
        }
        while ((e = readdir(d))) {
            char p[1200];
            if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp-"))
                continue;
            snprintf(p, sizeof p, "%s%s%s", paths[i], paths[i][strlen(paths[i]) - 1] == '/' ? "" : "/",
                     e->d_name);
            if (sn_rundir_is_run(p) && push(&list, count, &cap, p) != 0) {
                closedir(d);
                goto nomem;
            }
        }
        closedir(d);
        if (*count == first) {
            sn_rundir_free_list(list, *count);
            return fail(err, err_bytes, "%s: neither a run directory (summary.json) nor a directory of runs",
                        paths[i]);
        }
        qsort(list + first, *count - first, sizeof *list, cmp_str);
    }
    *out = list;
    return 0;
nomem:
    sn_rundir_free_list(list, *count);
    return fail(err, err_bytes, "out of memory");
}

void sn_rundir_free_list(char **list, size_t count)
{
    size_t i;
    for (i = 0; i < count; ++i)
        free(list[i]);
    free(list);
}
