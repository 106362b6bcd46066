#define _DEFAULT_SOURCE /* syscall(), gethostname() */
#include "sn_run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sn_file.h"
#include "sn_sha256.h"

#define NOT_A_NUMBER ((double)NAN) /* NAN is a float */

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0) /* <linux/fs.h> */
#endif

struct sn_run_writer {
    char *dir;          /* the final run directory */
    char *temp;         /* where it is written until finish */
    FILE *queries;      /* temp/queries.csv, open for the whole run */
    sn_run_stats stats;
    bool context_written, counters_written;
    char error[768];
};

const char *sn_run_status_str(sn_run_status status)
{
    switch (status) {
    case SN_RUN_OK: return "ok";
    case SN_RUN_EXISTS: return "the run directory already exists";
    case SN_RUN_IO: return "a run file could not be written";
    case SN_RUN_BAD_INPUT: return "invalid run data";
    case SN_RUN_NO_MEMORY: return "out of memory";
    }
    return "unknown status";
}

static sn_run_status fail(sn_run_writer *w, sn_run_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sn_run_status fail(sn_run_writer *w, sn_run_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    return st;
}

/* ---- statistics ---------------------------------------------------------------------- */

void sn_run_stats_init(sn_run_stats *s)
{
    memset(s, 0, sizeof *s);
}

void sn_run_stats_free(sn_run_stats *s)
{
    free(s->latencies_ns);
    memset(s, 0, sizeof *s);
}

static sn_run_status check_query(const sn_run_query *q)
{
    if (q->start_ns < q->arrival_ns || q->end_ns < q->start_ns)
        return SN_RUN_BAD_INPUT;
    if (q->correct < -1 || q->correct > 1 || q->prediction < -1)
        return SN_RUN_BAD_INPUT;
    if (!isnan(q->table_accuracy) && !(q->table_accuracy >= 0.0 && q->table_accuracy <= 1.0))
        return SN_RUN_BAD_INPUT;
    if (!q->subnet || !q->subnet[0])
        return SN_RUN_BAD_INPUT;
    return SN_RUN_OK;
}

sn_run_status sn_run_stats_add(sn_run_stats *s, const sn_run_query *q)
{
    if (check_query(q) != SN_RUN_OK)
        return SN_RUN_BAD_INPUT;
    if (s->queries == s->capacity) {
        size_t cap = s->capacity ? s->capacity * 2 : 1024;
        int64_t *p = realloc(s->latencies_ns, cap * sizeof *p);
        if (!p)
            return SN_RUN_NO_MEMORY;
        s->latencies_ns = p;
        s->capacity = cap;
    }
    if (s->queries == 0 || q->arrival_ns < s->first_arrival_ns)
        s->first_arrival_ns = q->arrival_ns;
    if (s->queries == 0 || q->end_ns > s->last_end_ns)
        s->last_end_ns = q->end_ns;
    s->latencies_ns[s->queries++] = q->end_ns - q->arrival_ns;
    s->slo_met += q->slo_met;
    if (q->correct >= 0) {
        ++s->measured;
        s->correct += (size_t)q->correct;
    }
    s->late += q->late;
    if (!isnan(q->table_accuracy)) {
        ++s->with_table_accuracy;
        s->table_accuracy_sum += q->table_accuracy;
        if (!q->late)
            s->effective_accuracy_sum += q->table_accuracy;
    }
    s->near_bytes += q->near_bytes;
    s->far_bytes += q->far_bytes;
    return SN_RUN_OK;
}

int64_t sn_run_percentile_nearest_rank(const int64_t *sorted, size_t n, unsigned permille)
{
    uint64_t rank = ((uint64_t)permille * n + 999) / 1000; /* ceil(permille * n / 1000) */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double ratio(double a, double b)
{
    return b > 0.0 ? a / b : NOT_A_NUMBER;
}

/* The regularized incomplete beta function I_x(a, b) by its continued fraction (modified
 * Lentz), on the side where it converges fast. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;
    int m;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    h = d;
    for (m = 1; m <= 10000; ++m) {
        double m2 = 2.0 * m, num, del;
        num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = fabs(d) < tiny ? tiny : d;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = fabs(d) < tiny ? tiny : d;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15)
            break;
    }
    return h;
}

static double beta_reg(double a, double b, double x)
{
    double front;
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double sn_run_binomial_cdf(size_t n, double q, size_t t)
{
    if (t >= n)
        return 1.0;
    return beta_reg((double)(n - t), (double)t + 1.0, 1.0 - q);
}

long sn_run_early_stopping_index(size_t n, double p, double c, size_t *t_out)
{
    size_t lo = 1, hi = n, t;
    /* P(Bin(n, 1 - p) <= t) grows with t: the largest t with it <= 1 - c, by bisection */
    if (n < 2 || sn_run_binomial_cdf(n, 1.0 - p, 1) > 1.0 - c)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (sn_run_binomial_cdf(n, 1.0 - p, mid) <= 1.0 - c)
            lo = mid;
        else
            hi = mid - 1;
    }
    t = lo;
    if (t_out)
        *t_out = t;
    return (long)(n - t); /* the t-th largest of the ascending latencies */
}

void sn_run_stats_summarize(sn_run_stats *s, sn_run_summary *out)
{
    sn_run_latency *l = &out->latency;
    size_t i, n = s->queries;
    memset(out, 0, sizeof *out);
    out->queries = n;
    out->slo_attainment = ratio((double)s->slo_met, (double)n);
    out->served_accuracy = ratio(s->table_accuracy_sum, (double)s->with_table_accuracy);
    out->effective_accuracy = ratio(s->effective_accuracy_sum, (double)s->with_table_accuracy);
    out->late_queries = s->late;
    out->measured_queries = s->measured;
    out->measured_accuracy = ratio((double)s->correct, (double)s->measured);
    out->near_bytes = s->near_bytes;
    out->far_bytes = s->far_bytes;
    out->subgraph_hit_ratio =
        ratio((double)s->near_bytes, (double)s->near_bytes + (double)s->far_bytes);
    out->duration_s = n ? (double)(s->last_end_ns - s->first_arrival_ns) / 1e9 : NOT_A_NUMBER;
    out->throughput_qps = n ? ratio((double)n, out->duration_s) : NOT_A_NUMBER;
    if (n == 0) {
        l->p50_us = l->p90_us = l->p95_us = l->p99_us = l->p999_us = NOT_A_NUMBER;
        l->mean_us = l->min_us = l->max_us = NOT_A_NUMBER;
        out->validity.es_p90_us = out->validity.es_p99_us = NOT_A_NUMBER;
        snprintf(out->validity.reason, sizeof out->validity.reason, "no query");
        return;
    }
    qsort(s->latencies_ns, n, sizeof *s->latencies_ns, compare_i64);
    l->p50_us = (double)sn_run_percentile_nearest_rank(s->latencies_ns, n, 500) / 1000.0;
    l->p90_us = (double)sn_run_percentile_nearest_rank(s->latencies_ns, n, 900) / 1000.0;
    l->p95_us = (double)sn_run_percentile_nearest_rank(s->latencies_ns, n, 950) / 1000.0;
    l->p99_us = (double)sn_run_percentile_nearest_rank(s->latencies_ns, n, 990) / 1000.0;
    l->p999_us = (double)sn_run_percentile_nearest_rank(s->latencies_ns, n, 999) / 1000.0;
    l->min_us = (double)s->latencies_ns[0] / 1000.0;
    l->max_us = (double)s->latencies_ns[n - 1] / 1000.0;
    l->mean_us = 0.0;
    for (i = 0; i < n; ++i)
        l->mean_us += (double)s->latencies_ns[i];
    l->mean_us /= (double)n * 1000.0;
    {
        sn_run_validity *v = &out->validity;
        size_t t = 0;
        long k90 = sn_run_early_stopping_index(n, 0.90, SN_RUN_ES_CONFIDENCE, NULL);
        long k99 = sn_run_early_stopping_index(n, 0.99, SN_RUN_ES_CONFIDENCE, &t);
        v->es_p90_us = k90 >= 0 ? (double)s->latencies_ns[k90] / 1000.0 : NOT_A_NUMBER;
        v->es_p99_us = k99 >= 0 ? (double)s->latencies_ns[k99] / 1000.0 : NOT_A_NUMBER;
        v->es_p99_discarded = k99 >= 0 ? t - 1 : 0;
        v->valid = n >= SN_RUN_MIN_QUERIES && k99 >= 0;
        if (n < SN_RUN_MIN_QUERIES)
            snprintf(v->reason, sizeof v->reason, "%zu queries, fewer than the minimum %d", n, SN_RUN_MIN_QUERIES);
        else if (k99 < 0)
            snprintf(v->reason, sizeof v->reason, "too few queries for an early-stopping p99 estimate");
    }
}

/* ---- machine ------------------------------------------------------------------------- */

const char *sn_run_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

/* "KEY<spaces>: VALUE" lines of /proc/cpuinfo: the first VALUE for one of KEYS. */
static int cpuinfo_value(const char *const *keys, size_t key_count, char *out, size_t size)
{
    FILE *fp = fopen("/proc/cpuinfo", "r");
    char line[512];
    size_t k;
    if (!fp)
        return -1;
    for (k = 0; k < key_count; ++k) {
        rewind(fp);
        while (fgets(line, sizeof line, fp)) {
            size_t n = strlen(keys[k]);
            char *colon, *v;
            if (strncmp(line, keys[k], n) != 0 || (line[n] != ' ' && line[n] != '\t' &&
                                                   line[n] != ':'))
                continue;
            colon = strchr(line, ':');
            if (!colon)
                continue;
            for (v = colon + 1; *v == ' ' || *v == '\t'; ++v)
                ;
            v[strcspn(v, "\n")] = '\0';
            if (!*v)
                continue;
            snprintf(out, size, "%s", v);
            fclose(fp);
            return 0;
        }
    }
    fclose(fp);
    return -1;
}

void sn_run_machine_gather(sn_run_machine *m)
{
    static const char *const model_keys[] = {"model name", "Hardware", "Model", "cpu model",
                                             "cpu"};
    struct utsname u;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    memset(m, 0, sizeof *m);
    if (gethostname(m->hostname, sizeof m->hostname - 1) != 0 || !m->hostname[0])
        snprintf(m->hostname, sizeof m->hostname, "unknown");
    if (uname(&u) == 0)
        snprintf(m->os, sizeof m->os, "%.64s %.200s %.64s", u.sysname, u.release, u.machine);
    else
        snprintf(m->os, sizeof m->os, "unknown");
    if (cpuinfo_value(model_keys, sizeof model_keys / sizeof model_keys[0], m->cpu_model,
                      sizeof m->cpu_model) != 0)
        snprintf(m->cpu_model, sizeof m->cpu_model, "unknown");
    m->cores = cores > 0 ? (int)cores : 0;
    if (sn_counters_perf_event_paranoid(&m->perf_event_paranoid) != 0)
        m->perf_event_paranoid = -100;
}

/* ---- files --------------------------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* Flushes FP to the disk and closes it. Returns 0, or -1 with errno set. */
static int close_synced(FILE *fp)
{
    int e = 0;
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0)
        e = errno ? errno : EIO;
    if (fclose(fp) != 0 && !e)
        e = errno;
    errno = e;
    return e ? -1 : 0;
}

static int sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static sn_run_status write_text_file(sn_run_writer *w, const char *name, const char *text)
{
    char *path = join(w->temp, name);
    FILE *fp;
    if (!path)
        return fail(w, SN_RUN_NO_MEMORY, "out of memory");
    fp = fopen(path, "w");
    free(path);
    /* a text file ends with a line break */
    if (fp && (fputs(text, fp) < 0 ||
               (text[0] && text[strlen(text) - 1] != '\n' && fputc('\n', fp) == EOF))) {
        int e = errno;
        fclose(fp);
        fp = NULL;
        errno = e;
    }
    if (!fp || close_synced(fp) != 0)
        return fail(w, SN_RUN_IO, "cannot write %s/%s: %s", w->dir, name, strerror(errno));
    return SN_RUN_OK;
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *fp, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; ++s) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

/* ---- JSON helpers: any failed allocation is remembered in *OK ----------------------- */

static void json_number(cJSON *obj, const char *key, double v, bool *ok)
{
    if (!(isnan(v) ? cJSON_AddNullToObject(obj, key) : cJSON_AddNumberToObject(obj, key, v)))
        *ok = false;
}

static void json_string(cJSON *obj, const char *key, const char *v, bool *ok)
{
    if (!(v ? cJSON_AddStringToObject(obj, key, v) : cJSON_AddNullToObject(obj, key)))
        *ok = false;
}

static cJSON *json_object(cJSON *obj, const char *key, bool *ok)
{
    cJSON *child = cJSON_AddObjectToObject(obj, key);
    if (!child)
        *ok = false;
    return child ? child : obj; /* keep going; the result is discarded */
}

static void json_properties(cJSON *obj, const sn_run_property *p, size_t n, bool *ok)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        if (p[i].text)
            json_string(obj, p[i].key, p[i].text, ok);
        else
            json_number(obj, p[i].key, p[i].number, ok);
    }
}

static sn_run_status write_json(sn_run_writer *w, const char *name, cJSON *root, bool ok)
{
    char *text = ok ? cJSON_Print(root) : NULL;
    sn_run_status st;
    cJSON_Delete(root);
    if (!text)
        return fail(w, SN_RUN_NO_MEMORY, "out of memory while writing %s", name);
    st = write_text_file(w, name, text);
    cJSON_free(text);
    return st;
}

/* ---- the writer ---------------------------------------------------------------------- */

static void free_writer(sn_run_writer *w)
{
    if (w->queries)
        fclose(w->queries);
    sn_run_stats_free(&w->stats);
    free(w->dir);
    free(w->temp);
    free(w);
}

void sn_run_abort(sn_run_writer *w)
{
    if (!w)
        return;
    if (w->queries) {
        fclose(w->queries);
        w->queries = NULL;
    }
    if (w->temp)
        (void)sn_remove_tree(w->temp);
    free_writer(w);
}

static sn_run_status begin_error(sn_run_writer *w, char *err, size_t err_bytes,
                                 sn_run_status st)
{
    if (err && err_bytes)
        snprintf(err, err_bytes, "%s", w->error);
    sn_run_abort(w);
    return st;
}

sn_run_status sn_run_begin(const char *dir, sn_run_writer **writer, char *err, size_t err_bytes)
{
    sn_run_writer *w;
    struct stat st;
    size_t n = strlen(dir);
    char *slash, *queries_path;
    *writer = NULL;
    if (err && err_bytes)
        err[0] = '\0';
    w = calloc(1, sizeof *w);
    if (!w || !(w->dir = malloc(n + 1)) || !(w->temp = malloc(n + 48))) {
        if (err && err_bytes)
            snprintf(err, err_bytes, "out of memory");
        if (w)
            free_writer(w);
        return SN_RUN_NO_MEMORY;
    }
    sn_run_stats_init(&w->stats);
    memcpy(w->dir, dir, n + 1);
    while (n > 1 && w->dir[n - 1] == '/')
        w->dir[--n] = '\0';
    if (n == 0) {
        fail(w, SN_RUN_BAD_INPUT, "empty run directory name");
        free(w->temp), w->temp = NULL;
        return begin_error(w, err, err_bytes, SN_RUN_BAD_INPUT);
    }
    if (lstat(w->dir, &st) == 0) {
        fail(w, SN_RUN_EXISTS, "run directory '%s' already exists; refusing to overwrite it",
             w->dir);
        free(w->temp), w->temp = NULL;
        return begin_error(w, err, err_bytes, SN_RUN_EXISTS);
    }
    slash = strrchr(w->dir, '/');
    if (slash && slash != w->dir) {
        *slash = '\0';
        if (sn_mkdir_p(w->dir) != 0) {
            int e = errno;
            fail(w, SN_RUN_IO, "cannot create '%s': %s", w->dir, strerror(e));
            free(w->temp), w->temp = NULL;
            return begin_error(w, err, err_bytes, SN_RUN_IO);
        }
        *slash = '/';
    }
    snprintf(w->temp, n + 48, "%s.tmp-%ld-XXXXXX", w->dir, (long)getpid());
    if (!mkdtemp(w->temp)) {
        int e = errno;
        fail(w, SN_RUN_IO, "cannot create a temporary directory beside '%s': %s", w->dir,
             strerror(e));
        free(w->temp), w->temp = NULL;
        return begin_error(w, err, err_bytes, SN_RUN_IO);
    }
    (void)chmod(w->temp, 0755); /* mkdtemp makes it 0700; results are ordinary files */
    queries_path = join(w->temp, "queries.csv");
    w->queries = queries_path ? fopen(queries_path, "w") : NULL;
    free(queries_path);
    if (!w->queries || fputs(SN_RUN_QUERIES_HEADER "\n", w->queries) < 0) {
        int e = errno;
        fail(w, SN_RUN_IO, "cannot write %s/queries.csv: %s", w->dir, strerror(e));
        return begin_error(w, err, err_bytes, SN_RUN_IO);
    }
    *writer = w;
    return SN_RUN_OK;
}

const char *sn_run_temp_dir(const sn_run_writer *w)
{
    return w->temp;
}

const char *sn_run_error(const sn_run_writer *w)
{
    return w->error;
}

sn_run_status sn_run_add_query(sn_run_writer *w, const sn_run_query *q)
{
    sn_run_status st = sn_run_stats_add(&w->stats, q);
    FILE *fp = w->queries;
    if (st == SN_RUN_BAD_INPUT)
        return fail(w, st, "query %zu: times must satisfy arrival <= start <= end, correct "
                           "be -1/0/1, prediction >= -1, table_accuracy in [0,1] or NOT_A_NUMBER, "
                           "subnet non-empty", w->stats.queries);
    if (st != SN_RUN_OK)
        return fail(w, st, "out of memory");
    fprintf(fp, "%zu,%llu,%lld,%lld,%lld,%lld,", w->stats.queries - 1,
            (unsigned long long)q->sample, (long long)q->arrival_ns, (long long)q->start_ns,
            (long long)q->end_ns, (long long)(q->end_ns - q->arrival_ns));
    csv_field(fp, q->subnet);
    fputc(',', fp);
    csv_field(fp, q->subgraph);
    fprintf(fp, ",%llu,%llu,", (unsigned long long)q->near_bytes,
            (unsigned long long)q->far_bytes);
    if (q->prediction >= 0)
        fprintf(fp, "%ld", (long)q->prediction);
    fputc(',', fp);
    if (q->correct >= 0)
        fprintf(fp, "%d", q->correct);
    fprintf(fp, ",%d,", q->slo_met ? 1 : 0);
    if (!isnan(q->table_accuracy))
        fprintf(fp, "%.10g", q->table_accuracy);
    if (fputc('\n', fp) == EOF || ferror(fp))
        return fail(w, SN_RUN_IO, "cannot write %s/queries.csv: %s", w->dir, strerror(errno));
    return SN_RUN_OK;
}

/* hashes: {"model": [{"path", "bytes", "sha256"}], "data": [...], "trace": [...], ...} */
static sn_run_status add_hashes(sn_run_writer *w, cJSON *root, const sn_run_context *c, bool *ok)
{
    static const char *const roles[] = {"model", "data", "trace"};
    cJSON *hashes = json_object(root, "hashes", ok);
    size_t i;
    for (i = 0; i < 3; ++i)
        if (!cJSON_AddArrayToObject(hashes, roles[i]))
            *ok = false;
    for (i = 0; i < c->file_count; ++i) {
        const sn_run_file *f = &c->files[i];
        char hex[SN_SHA256_HEX_BYTES];
        struct stat st;
        cJSON *list, *entry;
        if (!f->role || !f->role[0] || !f->path)
            return fail(w, SN_RUN_BAD_INPUT, "context file %zu has no role or path", i);
        if (stat(f->path, &st) != 0 || sn_sha256_file(f->path, hex) != 0)
            return fail(w, SN_RUN_IO, "cannot hash the %s file '%s': %s", f->role, f->path,
                        strerror(errno));
        list = cJSON_GetObjectItemCaseSensitive(hashes, f->role);
        if (!list && !(list = cJSON_AddArrayToObject(hashes, f->role))) {
            *ok = false;
            continue;
        }
        entry = cJSON_CreateObject();
        if (!entry || !cJSON_AddItemToArray(list, entry)) {
            cJSON_Delete(entry);
            *ok = false;
            continue;
        }
        json_string(entry, "path", f->path, ok);
        json_number(entry, "bytes", (double)st.st_size, ok);
        json_string(entry, "sha256", hex, ok);
    }
    return SN_RUN_OK;
}

sn_run_status sn_run_write_context(sn_run_writer *w, const sn_run_context *c)
{
    cJSON *root = cJSON_CreateObject(), *obj;
    sn_run_machine gathered;
    const sn_run_machine *m = c->machine;
    sn_run_status st;
    bool ok = root != NULL;
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    if (!root)
        return fail(w, SN_RUN_NO_MEMORY, "out of memory");
    if (!c->platform || !c->clock) {
        cJSON_Delete(root);
        return fail(w, SN_RUN_BAD_INPUT, "context: platform and clock are required");
    }
    if (!m) {
        sn_run_machine_gather(&gathered);
        m = &gathered;
    }
    if (!gmtime_r(&now, &tm) || !strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(created, sizeof created, "unknown");
    json_number(root, "schema_version", SN_RUN_SCHEMA_VERSION, &ok);
    json_string(root, "created_utc", created, &ok);
    json_string(root, "supernav_version", c->supernav_version, &ok);
    json_string(root, "git_revision", c->git_revision, &ok);
    json_string(root, "compiler", c->compiler ? c->compiler : sn_run_compiler(), &ok);
    json_string(root, "compiler_flags", c->compiler_flags, &ok);
    obj = json_object(root, "machine", &ok);
    json_string(obj, "hostname", m->hostname, &ok);
    json_string(obj, "os", m->os, &ok);
    json_string(obj, "cpu_model", m->cpu_model, &ok);
    json_number(obj, "cores", m->cores, &ok);
    json_number(obj, "perf_event_paranoid",
                m->perf_event_paranoid == -100 ? NOT_A_NUMBER : m->perf_event_paranoid, &ok);
    obj = json_object(root, "platform", &ok);
    json_string(obj, "name", c->platform, &ok);
    json_properties(json_object(obj, "properties", &ok), c->platform_properties,
                    c->platform_property_count, &ok);
    json_string(root, "clock", c->clock, &ok);
    json_properties(json_object(root, "run", &ok), c->run_properties, c->run_property_count,
                    &ok);
    st = add_hashes(w, root, c, &ok);
    if (st != SN_RUN_OK) {
        cJSON_Delete(root);
        return st;
    }
    st = write_json(w, "context.json", root, ok);
    if (st == SN_RUN_OK)
        w->context_written = true;
    return st;
}

sn_run_status sn_run_write_counters(sn_run_writer *w, const sn_counters *set,
                                    const sn_counter_value *values)
{
    char *path = join(w->temp, "counters.csv");
    FILE *fp = path ? fopen(path, "w") : NULL;
    size_t i, n = set ? sn_counters_count(set) : 0;
    free(path);
    if (!fp)
        return fail(w, SN_RUN_IO, "cannot write %s/counters.csv: %s", w->dir, strerror(errno));
    fputs(SN_RUN_COUNTERS_HEADER "\n", fp);
    for (i = 0; i < n; ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        const sn_counter_value *v = values ? &values[i] : NULL;
        char note[SN_COUNTER_NOTE_BYTES + 64];
        snprintf(note, sizeof note, "%s", info->note);
        if (info->available && v && v->scaled)
            snprintf(note + strlen(note), sizeof note - strlen(note), "%sscaled: multiplexed",
                     note[0] ? "; " : "");
        if (info->available && (!v || !v->valid))
            snprintf(note + strlen(note), sizeof note - strlen(note), "%sno value%s",
                     note[0] ? "; " : "", v ? ": never scheduled" : ": not read");
        csv_field(fp, info->name);
        fprintf(fp, ",%s,%d,", sn_counter_source_str(info->source), info->available ? 1 : 0);
        if (info->available && v && v->valid)
            fprintf(fp, "%lld", (long long)v->value);
        fputc(',', fp);
        csv_field(fp, info->unit);
        fputc(',', fp);
        csv_field(fp, info->reason);
        fputc(',', fp);
        csv_field(fp, note);
        fputc('\n', fp);
    }
    if (close_synced(fp) != 0)
        return fail(w, SN_RUN_IO, "cannot write %s/counters.csv: %s", w->dir, strerror(errno));
    w->counters_written = true;
    return SN_RUN_OK;
}

static sn_run_status write_summary(sn_run_writer *w, const sn_run_summary *s,
                                   const sn_energy_reading *energy)
{
    cJSON *root = cJSON_CreateObject(), *obj;
    bool ok = root != NULL;
    size_t i;
    if (!root)
        return fail(w, SN_RUN_NO_MEMORY, "out of memory");
    json_number(root, "schema_version", SN_RUN_SCHEMA_VERSION, &ok);
    json_number(root, "queries", (double)s->queries, &ok);
    json_number(root, "slo_attainment", s->slo_attainment, &ok);
    json_number(root, "served_accuracy", s->served_accuracy, &ok);
    json_number(root, "effective_accuracy", s->effective_accuracy, &ok);
    json_number(root, "late_queries", (double)s->late_queries, &ok);
    json_number(root, "measured_accuracy", s->measured_accuracy, &ok);
    json_number(root, "measured_queries", (double)s->measured_queries, &ok);
    json_number(root, "near_bytes", (double)s->near_bytes, &ok);
    json_number(root, "far_bytes", (double)s->far_bytes, &ok);
    json_number(root, "subgraph_hit_ratio", s->subgraph_hit_ratio, &ok);
    json_number(root, "duration_s", s->duration_s, &ok);
    json_number(root, "throughput_qps", s->throughput_qps, &ok);
    obj = json_object(root, "latency_us", &ok);
    json_string(obj, "method", "nearest-rank", &ok);
    json_number(obj, "p50", s->latency.p50_us, &ok);
    json_number(obj, "p90", s->latency.p90_us, &ok);
    json_number(obj, "p95", s->latency.p95_us, &ok);
    json_number(obj, "p99", s->latency.p99_us, &ok);
    json_number(obj, "p99.9", s->latency.p999_us, &ok);
    json_number(obj, "mean", s->latency.mean_us, &ok);
    json_number(obj, "min", s->latency.min_us, &ok);
    json_number(obj, "max", s->latency.max_us, &ok);
    obj = json_object(root, "validity", &ok);
    json_string(obj, "result", s->validity.valid ? "VALID" : "INVALID", &ok);
    json_string(obj, "reason", s->validity.reason, &ok);
    json_number(obj, "min_query_count", SN_RUN_MIN_QUERIES, &ok);
    json_string(obj, "rules", "MLPerf LoadGen: minimum query count; early stopping (tolerance 0) for p99", &ok);
    json_number(obj, "early_stopping_confidence", SN_RUN_ES_CONFIDENCE, &ok);
    json_number(obj, "early_stopping_p90_us", s->validity.es_p90_us, &ok);
    json_number(obj, "early_stopping_p99_us", s->validity.es_p99_us, &ok);
    json_number(obj, "early_stopping_p99_discarded", (double)s->validity.es_p99_discarded, &ok);
    if (!energy) {
        if (!cJSON_AddNullToObject(root, "energy"))
            ok = false;
    } else {
        cJSON *domains;
        obj = json_object(root, "energy", &ok);
        json_string(obj, "source", energy->source, &ok);
        json_number(obj, "total_uj", energy->total_uj, &ok);
        json_number(obj, "per_query_uj", ratio(energy->total_uj, (double)s->queries), &ok);
        domains = json_object(obj, "domains_uj", &ok);
        for (i = 0; i < energy->domain_count; ++i)
            json_number(domains, energy->domains[i].name, energy->domains[i].energy_uj, &ok);
    }
    return write_json(w, "summary.json", root, ok);
}

static sn_run_status finish_error(sn_run_writer *w, sn_run_status st, char *err, size_t err_bytes)
{
    if (err && err_bytes)
        snprintf(err, err_bytes, "%s", w->error);
    sn_run_abort(w);
    return st;
}

sn_run_status sn_run_finish(sn_run_writer *w, const sn_energy_reading *energy,
                            sn_run_summary *summary, char *err, size_t err_bytes)
{
    sn_run_summary s;
    sn_run_status st;
    FILE *queries = w->queries;
    char *parent, *slash;
    long rc;
    if (err && err_bytes)
        err[0] = '\0';
    if (!w->context_written)
        return finish_error(w, fail(w, SN_RUN_BAD_INPUT, "context.json was not written"),
                            err, err_bytes);
    if (!w->counters_written && (st = sn_run_write_counters(w, NULL, NULL)) != SN_RUN_OK)
        return finish_error(w, st, err, err_bytes);
    sn_run_stats_summarize(&w->stats, &s);
    if ((st = write_summary(w, &s, energy)) != SN_RUN_OK)
        return finish_error(w, st, err, err_bytes);
    w->queries = NULL;
    if (close_synced(queries) != 0)
        return finish_error(w, fail(w, SN_RUN_IO, "cannot write %s/queries.csv: %s", w->dir,
                                    strerror(errno)),
                            err, err_bytes);
    if (sync_dir(w->temp) != 0)
        return finish_error(w, fail(w, SN_RUN_IO, "cannot sync %s: %s", w->temp,
                                    strerror(errno)),
                            err, err_bytes);
    rc = syscall(SYS_renameat2, AT_FDCWD, w->temp, AT_FDCWD, w->dir, RENAME_NOREPLACE);
    if (rc != 0 && (errno == ENOSYS || errno == EINVAL)) {
        /* a file system without RENAME_NOREPLACE: check, then rename (a small race) */
        struct stat st_dir;
        if (lstat(w->dir, &st_dir) == 0)
            errno = EEXIST;
        else
            rc = rename(w->temp, w->dir);
    }
    if (rc != 0) {
        int e = errno;
        if (e == EEXIST || e == ENOTEMPTY)
            st = fail(w, SN_RUN_EXISTS, "run directory '%s' appeared during the run; refusing "
                                        "to overwrite it", w->dir);
        else
            st = fail(w, SN_RUN_IO, "cannot rename the run into '%s': %s", w->dir, strerror(e));
        return finish_error(w, st, err, err_bytes);
    }
    /* make the rename itself durable */
    parent = malloc(strlen(w->dir) + 2);
    if (parent) {
        strcpy(parent, w->dir);
        slash = strrchr(parent, '/');
        if (slash == parent)
            slash[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            strcpy(parent, ".");
        (void)sync_dir(parent);
        free(parent);
    }
    if (summary)
        *summary = s;
    free(w->temp);
    w->temp = NULL;
    free_writer(w);
    return SN_RUN_OK;
}
