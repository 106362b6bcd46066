#define _GNU_SOURCE /* realpath(), gethostname(), F_OFD_SETLK */
/* supernav harness: sweeps (see sn_sweep.h). */
#include "sn_sweep.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sn_file.h"

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_s(const char *s)
{
    return dup_n(s, strlen(s));
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the spec -------------------------------------------------------------------------- */

static const char *const builtin_names[] = {"out", "job", "index", "rep", "dir"};

static int is_builtin(const char *name, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof builtin_names / sizeof builtin_names[0]; ++i)
        if (strlen(builtin_names[i]) == n && !strncmp(builtin_names[i], name, n))
            return 1;
    return 0;
}

static int valid_name(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (i = 1; i < n; ++i)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

static int find_axis(const sn_sweep *sw, const char *name, size_t n)
{
    size_t a;
    for (a = 0; a < sw->axis_count; ++a)
        if (strlen(sw->axes[a].name) == n && !strncmp(sw->axes[a].name, name, n))
            return (int)a;
    return -1;
}

/* Checks every {placeholder} of TEMPLATE: known, and (for the command, SETUP = 0) marks the
 * axes it uses in USED. Setup lines may use {dir} only. */
static int check_template(const sn_sweep *sw, const char *template, int setup, int *used, int *has_out,
                          const char *where, char *err, size_t n)
{
    const char *p = template;
    while ((p = strchr(p, '{'))) {
        const char *close = strchr(p, '}');
        size_t len;
        int a;
        if (!close)
            return fail(err, n, "%s: '{' without '}'", where);
        len = (size_t)(close - p - 1);
        if (len > 4 && !strncmp(p + 1, "env:", 4) && valid_name(p + 5, len - 4)) {
            p = close + 1; /* {env:NAME}: the runner's environment, when the job starts */
            continue;
        }
        if (!valid_name(p + 1, len))
            return fail(err, n, "%s: bad placeholder '%.*s' (a name in braces, e.g. {policy})", where,
                        (int)(len + 2 > 80 ? 80 : len + 2), p);
        if (setup) {
            if (!(len == 3 && !strncmp(p + 1, "dir", 3)))
                return fail(err, n, "%s: a setup line may use {dir} only, not {%.*s}", where, (int)len, p + 1);
        } else if (is_builtin(p + 1, len)) {
            if (len == 3 && !strncmp(p + 1, "out", 3))
                *has_out = 1;
        } else if ((a = find_axis(sw, p + 1, len)) >= 0) {
            used[a] = 1;
        } else {
            return fail(err, n, "%s: unknown placeholder {%.*s} (no axis of that name; built-ins: {out} "
                        "{job} {index} {rep} {dir})", where, (int)len, p + 1);
        }
        p = close + 1;
    }
    return 0;
}

static int is_number(const char *s)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    return *s && !*end && !errno && isfinite(v);
}

/* Splits TEXT on whitespace into a malloc'ed array of malloc'ed words. */
static int split_words(const char *text, char ***out, size_t *count)
{
    char **w = NULL;
    size_t n = 0, cap = 0;
    const char *p = text;
    *out = NULL;
    *count = 0;
    for (;;) {
        const char *s;
        while (*p && isspace((unsigned char)*p))
            ++p;
        if (!*p)
            break;
        s = p;
        while (*p && !isspace((unsigned char)*p))
            ++p;
        if (n == cap) {
            char **g = realloc(w, (cap = cap ? 2 * cap : 8) * sizeof *w);
            if (!g)
                goto nomem;
            w = g;
        }
        if (!(w[n] = dup_n(s, (size_t)(p - s))))
            goto nomem;
        ++n;
    }
    *out = w;
    *count = n;
    return 0;
nomem:
    while (n)
        free(w[--n]);
    free(w);
    return -1;
}

static void free_words(char **w, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i)
        free(w[i]);
    free(w);
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        ++s;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Parses the spec from F (read to its end, closed here) as the file PATH. */
static int parse_stream(FILE *f, const char *path, sn_sweep *sw, char *err, size_t n)
{
    char line[8192], where[1200], cwd[PATH_MAX];
    unsigned lineno = 0, command_line = 0;
    int used[SN_SWEEP_MAX_AXES] = {0}, has_out = 0;
    size_t a;
    while (fgets(line, sizeof line, f)) {
        char *p, *eq, *key, *value;
        ++lineno;
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            fclose(f);
            return fail(err, n, "%s: line longer than %zu bytes", where, sizeof line - 2);
        }
        p = trim(line);
        if (!*p || *p == '#')
            continue;
        if (!(eq = strchr(p, '='))) {
            fclose(f);
            return fail(err, n, "%s: expected 'key = value' (keys: name, command, axis NAME, setup, "
                        "repeat, workdir)", where);
        }
        *eq = '\0';
        key = trim(p);
        value = trim(eq + 1);
        if (!strncmp(key, "axis", 4) && (isspace((unsigned char)key[4]) || !key[4])) {
            char *aname = trim(key + 4);
            sn_sweep_axis *ax;
            size_t i, j;
            if (!valid_name(aname, strlen(aname)) || is_builtin(aname, strlen(aname))) {
                fclose(f);
                return fail(err, n, "%s: bad axis name '%s' (letters, digits, '_'; not out, job, index, "
                            "rep or dir)", where, aname);
            }
            if (find_axis(sw, aname, strlen(aname)) >= 0) {
                fclose(f);
                return fail(err, n, "%s: axis '%s' is defined twice", where, aname);
            }
            if (sw->axis_count == SN_SWEEP_MAX_AXES) {
                fclose(f);
                return fail(err, n, "%s: more than %d axes", where, SN_SWEEP_MAX_AXES);
            }
            ax = &sw->axes[sw->axis_count];
            if (!(ax->name = dup_s(aname)) || split_words(value, &ax->values, &ax->count) != 0) {
                fclose(f);
                return fail(err, n, "out of memory");
            }
            ++sw->axis_count;
            ax->line = lineno;
            if (!ax->count) {
                fclose(f);
                return fail(err, n, "%s: axis '%s' has no values", where, aname);
            }
            ax->numeric = true;
            for (i = 0; i < ax->count; ++i) {
                if (strchr(ax->values[i], '{') || strchr(ax->values[i], '}')) {
                    fclose(f);
                    return fail(err, n, "%s: axis '%s': value '%s' holds a brace", where, aname, ax->values[i]);
                }
                for (j = 0; j < i; ++j)
                    if (!strcmp(ax->values[i], ax->values[j])) {
                        fclose(f);
                        return fail(err, n, "%s: axis '%s' lists '%s' twice", where, aname, ax->values[i]);
                    }
                if (!is_number(ax->values[i]))
                    ax->numeric = false;
            }
        } else if (!strcmp(key, "name")) {
            if (sw->name || !*value || strpbrk(value, " \t/'\"")) {
                fclose(f);
                return fail(err, n, "%s: name must be given once, one word without '/' or quotes", where);
            }
            if (!(sw->name = dup_s(value))) {
                fclose(f);
                return fail(err, n, "out of memory");
            }
        } else if (!strcmp(key, "command")) {
            if (sw->command) {
                fclose(f);
                return fail(err, n, "%s: command is given twice (first on line %u)", where, command_line);
            }
            if (!*value) {
                fclose(f);
                return fail(err, n, "%s: command is empty", where);
            }
            if (!strncmp(value, "supernav ", 9) || !strncmp(value, "sweep ", 6)) {
                fclose(f);
                return fail(err, n, "%s: command is a supernav subcommand without 'supernav' (and not "
                            "'sweep'), e.g. 'replay --trace ...'", where);
            }
            if (!(sw->command = dup_s(value))) {
                fclose(f);
                return fail(err, n, "out of memory");
            }
            command_line = lineno;
        } else if (!strcmp(key, "setup")) {
            char **g;
            int dummy[SN_SWEEP_MAX_AXES], o = 0;
            if (!*value || check_template(sw, value, 1, dummy, &o, where, err, n) != 0) {
                fclose(f);
                return *value ? -1 : fail(err, n, "%s: setup is empty", where);
            }
            if (!(g = realloc(sw->setup, (sw->setup_count + 1) * sizeof *g)) ||
                !(g[sw->setup_count] = dup_s(value))) {
                if (g)
                    sw->setup = g;
                fclose(f);
                return fail(err, n, "out of memory");
            }
            sw->setup = g;
            ++sw->setup_count;
        } else if (!strcmp(key, "repeat")) {
            char *end;
            long r;
            errno = 0;
            r = strtol(value, &end, 10);
            if (errno || *end || !*value || r < 1 || r > 1000) {
                fclose(f);
                return fail(err, n, "%s: repeat must be an integer in [1, 1000]", where);
            }
            sw->repeat = (unsigned)r;
        } else if (!strcmp(key, "workdir")) {
            if (sw->workdir || !*value) {
                fclose(f);
                return fail(err, n, "%s: workdir must be given once, non-empty", where);
            }
            if (!(sw->workdir = realpath(value, NULL))) {
                fclose(f);
                return fail(err, n, "%s: workdir %s: %s", where, value, strerror(errno));
            }
        } else {
            fclose(f);
            return fail(err, n, "%s: unknown key '%s' (name, command, axis NAME, setup, repeat, workdir)",
                        where, key);
        }
    }
    if (ferror(f)) {
        fclose(f);
        return fail(err, n, "%s: read error", path);
    }
    fclose(f);
    if (!sw->command)
        return fail(err, n, "%s: no 'command = ...' line", path);
    snprintf(where, sizeof where, "%s:%u", path, command_line);
    if (check_template(sw, sw->command, 0, used, &has_out, where, err, n) != 0)
        return -1;
    if (!has_out)
        return fail(err, n, "%s: the command must write its run directory to {out} (e.g. --out {out})", where);
    for (a = 0; a < sw->axis_count; ++a)
        if (!used[a])
            return fail(err, n, "%s:%u: axis '%s' is not used in the command ({%s})", path, sw->axes[a].line,
                        sw->axes[a].name, sw->axes[a].name);
    if (!sw->name) {
        const char *base = strrchr(path, '/');
        char *dot;
        if (!(sw->name = dup_s(base ? base + 1 : path)))
            return fail(err, n, "out of memory");
        if ((dot = strrchr(sw->name, '.')) && dot != sw->name)
            *dot = '\0';
        for (dot = sw->name; *dot; ++dot)
            if (!isalnum((unsigned char)*dot) && *dot != '-' && *dot != '_' && *dot != '.')
                *dot = '_';
    }
    if (!sw->workdir) {
        if (!getcwd(cwd, sizeof cwd) || !(sw->workdir = dup_s(cwd)))
            return fail(err, n, "cannot determine the working directory: %s", strerror(errno));
    }
    return 0;
}

int sn_sweep_parse(const char *path, sn_sweep *sw, char *err, size_t n)
{
    FILE *f;
    memset(sw, 0, sizeof *sw);
    sw->repeat = 1;
    if (!(f = fopen(path, "r")))
        return fail(err, n, "%s: %s", path, strerror(errno));
    return parse_stream(f, path, sw, err, n);
}

int sn_sweep_parse_stream(FILE *f, const char *path, sn_sweep *sw, char *err, size_t n)
{
    memset(sw, 0, sizeof *sw);
    sw->repeat = 1;
    return parse_stream(f, path, sw, err, n);
}

/* ---- expansion ------------------------------------------------------------------------- */

typedef struct subst_ctx {
    const sn_sweep *sw;
    const sn_sweep_job *job;   /* NULL: setup ({dir} only) */
    const char *out;
} subst_ctx;

/* TEMPLATE with every placeholder replaced (the template was checked by the parser). */
static char *substitute(const subst_ctx *c, const char *template)
{
    size_t cap = strlen(template) + 64, len = 0;
    char *o = malloc(cap), num[32];
    const char *p = template;
    if (!o)
        return NULL;
    while (*p) {
        const char *rep = NULL, *close;
        size_t rlen;
        int a;
        if (*p == '{' && (close = strchr(p, '}'))) {
            size_t k = (size_t)(close - p - 1);
            const char *name = p + 1;
#define IS(lit) (k == sizeof lit - 1 && !strncmp(name, lit, k))
            if (IS("dir"))
                rep = c->sw->dir;
            else if (IS("out"))
                rep = c->out;
            else if (IS("job"))
                rep = c->job->id;
            else if (IS("index")) {
                snprintf(num, sizeof num, "%zu", c->job->index);
                rep = num;
            } else if (IS("rep")) {
                snprintf(num, sizeof num, "%u", c->job->rep);
                rep = num;
            } else if (c->job && (a = find_axis(c->sw, name, k)) >= 0)
                rep = c->sw->axes[a].values[c->job->value_index[a]];
#undef IS
            if (rep) {
                rlen = strlen(rep);
                p = close + 1;
            }
        }
        if (!rep) {
            rep = p++;
            rlen = 1;
        }
        if (len + rlen + 1 > cap) {
            char *g = realloc(o, cap = 2 * (len + rlen + 1));
            if (!g) {
                free(o);
                return NULL;
            }
            o = g;
        }
        memcpy(o + len, rep, rlen);
        len += rlen;
    }
    o[len] = '\0';
    return o;
}

/* Splits TEMPLATE into words, then substitutes each. */
static int expand_argv(const subst_ctx *c, const char *template, char ***argv, size_t *argc)
{
    size_t i;
    if (split_words(template, argv, argc) != 0)
        return -1;
    for (i = 0; i < *argc; ++i) {
        char *s = substitute(c, (*argv)[i]);
        if (!s) {
            free_words(*argv, *argc);
            return -1;
        }
        free((*argv)[i]);
        (*argv)[i] = s;
    }
    return 0;
}

static void slug_append(char *id, size_t cap, const char *value)
{
    size_t len = strlen(id);
    for (; *value && len + 1 < cap; ++value)
        id[len++] = (isalnum((unsigned char)*value) || *value == '.' || *value == '+' || *value == '-')
                        ? *value : '_';
    id[len] = '\0';
}

typedef struct id_ref {
    const char *id;
    size_t index;
} id_ref;

static int cmp_id_ref(const void *a, const void *b)
{
    const id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Two jobs with one id would share a run directory: the first job (in index order) that
 * repeats an earlier job's id is reported with that job. Sorted, not pairwise: a spec of a
 * few hundred bytes can expand to 100,000 jobs. */
static int check_unique_ids(const sn_sweep *sw, char *err, size_t n)
{
    id_ref *r = malloc((sw->job_count ? sw->job_count : 1) * sizeof *r);
    size_t i, j = 0, dup = SIZE_MAX;
    if (!r)
        return fail(err, n, "out of memory");
    for (i = 0; i < sw->job_count; ++i) {
        r[i].id = sw->jobs[i].id;
        r[i].index = i;
    }
    qsort(r, sw->job_count, sizeof *r, cmp_id_ref);
    for (i = 1; i < sw->job_count; ++i)
        if (!strcmp(r[i - 1].id, r[i].id) && r[i].index < dup &&
            (i == 1 || strcmp(r[i - 2].id, r[i].id) != 0)) {
            dup = r[i].index; /* the second of its group: the first repeat */
            j = r[i - 1].index;
        }
    free(r);
    if (dup != SIZE_MAX)
        return fail(err, n, "jobs %zu and %zu get the same id '%s' (values that differ only in "
                    "characters outside [A-Za-z0-9.+-])", j, dup, sw->jobs[dup].id);
    return 0;
}

int sn_sweep_expand(sn_sweep *sw, const char *dir, char *err, size_t n)
{
    size_t total = sw->repeat, a, i;
    for (a = 0; a < sw->axis_count; ++a) {
        if (total > SN_SWEEP_MAX_JOBS / sw->axes[a].count + 1)
            return fail(err, n, "the sweep has more than %d jobs", SN_SWEEP_MAX_JOBS);
        total *= sw->axes[a].count;
    }
    if (total > SN_SWEEP_MAX_JOBS)
        return fail(err, n, "the sweep has %zu jobs, more than %d", total, SN_SWEEP_MAX_JOBS);
    free(sw->dir);
    if (!(sw->dir = dup_s(dir)) || !(sw->jobs = calloc(total, sizeof *sw->jobs)))
        return fail(err, n, "out of memory");
    sw->job_count = total;
    for (i = 0; i < total; ++i) {
        sn_sweep_job *job = &sw->jobs[i];
        size_t rest = i / sw->repeat;
        char id[512] = "", *out, *rel;
        subst_ctx c;
        job->index = i;
        job->rep = (unsigned)(i % sw->repeat) + 1;
        if (!(job->value_index = calloc(sw->axis_count ? sw->axis_count : 1, sizeof *job->value_index)))
            return fail(err, n, "out of memory");
        for (a = sw->axis_count; a-- > 0;) {
            job->value_index[a] = rest % sw->axes[a].count;
            rest /= sw->axes[a].count;
        }
        for (a = 0; a < sw->axis_count; ++a) {
            if (a)
                slug_append(id, sizeof id, "_");
            slug_append(id, sizeof id, sw->axes[a].values[job->value_index[a]]);
        }
        if (!sw->axis_count)
            snprintf(id, sizeof id, "job");
        if (sw->repeat > 1)
            snprintf(id + strlen(id), sizeof id - strlen(id), "@%u", job->rep);
        if (strlen(id) > 200)
            return fail(err, n, "job %zu: id '%.40s...' is longer than 200 characters", i, id);
        if (!(job->id = dup_s(id)))
            return fail(err, n, "out of memory");
        if (!(rel = path_join("runs", job->id)) || !(out = path_join(dir, rel))) {
            free(rel);
            return fail(err, n, "out of memory");
        }
        free(rel);
        c.sw = sw;
        c.job = job;
        c.out = out;
        if (expand_argv(&c, sw->command, &job->argv, &job->argc) != 0) {
            free(out);
            return fail(err, n, "out of memory");
        }
        free(out);
    }
    return check_unique_ids(sw, err, n);
}

const char *sn_sweep_value(const sn_sweep *sw, const sn_sweep_job *job, size_t a)
{
    return sw->axes[a].values[job->value_index[a]];
}

/* ---- shell quoting --------------------------------------------------------------------- */

char *sn_sweep_shell_quote(const char *s)
{
    size_t n = 3, i, k = 0;
    char *o;
    int plain = *s != '\0';
    for (i = 0; s[i]; ++i) {
        n += s[i] == '\'' ? 4 : 1;
        if (!(isalnum((unsigned char)s[i]) || strchr("@%_+=:,./-", s[i])))
            plain = 0;
    }
    if (plain)
        return dup_s(s);
    if (!(o = malloc(n)))
        return NULL;
    o[k++] = '\'';
    for (i = 0; s[i]; ++i) {
        if (s[i] == '\'') {
            memcpy(o + k, "'\\''", 4);
            k += 4;
        } else
            o[k++] = s[i];
    }
    o[k++] = '\'';
    o[k] = '\0';
    return o;
}

char *sn_sweep_shell_line(const char *supernav, char *const *argv, size_t argc)
{
    size_t i, len = 0, cap = 256;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    o[0] = '\0';
    for (i = supernav ? 0 : 1; i <= argc; ++i) {
        char *q = sn_sweep_shell_quote(i == 0 ? supernav : argv[i - 1]);
        size_t ql;
        if (!q) {
            free(o);
            return NULL;
        }
        ql = strlen(q);
        if (len + ql + 2 > cap) {
            char *g = realloc(o, cap = 2 * (len + ql + 2));
            if (!g) {
                free(q);
                free(o);
                return NULL;
            }
            o = g;
        }
        if (len)
            o[len++] = ' ';
        memcpy(o + len, q, ql + 1);
        len += ql;
        free(q);
    }
    return o;
}

/* ---- the manifest ---------------------------------------------------------------------- */

static int dir_is_empty_or_missing(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int empty = 1;
    if (!d)
        return errno == ENOENT;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

int sn_sweep_write(sn_sweep *sw, const char *spec_path, const char *supernav, char *err, size_t n)
{
    cJSON *root = cJSON_CreateObject(), *jobs, *setup;
    char *text = NULL, *p;
    void *spec = NULL;
    size_t spec_size, i, a;
    int rc = -1;
    if (!root)
        return fail(err, n, "out of memory");
    if (!dir_is_empty_or_missing(sw->dir)) {
        cJSON_Delete(root);
        return fail(err, n, "%s already exists and is not empty (a planned sweep resumes with 'sweep run')",
                    sw->dir);
    }
    free(sw->supernav);
    if (!(sw->supernav = dup_s(supernav))) {
        cJSON_Delete(root);
        return fail(err, n, "out of memory");
    }
    if (sn_read_file(spec_path, &spec, &spec_size) != 0) {
        cJSON_Delete(root);
        return fail(err, n, "%s: %s", spec_path, strerror(errno));
    }
    cJSON_AddNumberToObject(root, "schema_version", SN_SWEEP_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "name", sw->name);
    cJSON_AddStringToObject(root, "spec", spec_path);
    cJSON_AddStringToObject(root, "command", sw->command);
    setup = cJSON_AddArrayToObject(root, "setup");
    for (i = 0; i < sw->setup_count; ++i)
        cJSON_AddItemToArray(setup, cJSON_CreateString(sw->setup[i]));
    cJSON_AddNumberToObject(root, "repeat", sw->repeat);
    cJSON_AddStringToObject(root, "supernav", sw->supernav);
    cJSON_AddStringToObject(root, "workdir", sw->workdir);
    cJSON_AddStringToObject(root, "dir", sw->dir);
    sn_sweep_axes_json(sw, root);
    jobs = cJSON_AddArrayToObject(root, "jobs");
    for (i = 0; i < sw->job_count; ++i) {
        const sn_sweep_job *job = &sw->jobs[i];
        cJSON *j = cJSON_CreateObject(), *vals, *argv;
        char *line, *rel;
        cJSON_AddItemToArray(jobs, j);
        cJSON_AddNumberToObject(j, "index", (double)job->index);
        cJSON_AddStringToObject(j, "id", job->id);
        cJSON_AddNumberToObject(j, "rep", job->rep);
        vals = cJSON_AddObjectToObject(j, "values");
        for (a = 0; a < sw->axis_count; ++a)
            cJSON_AddStringToObject(vals, sw->axes[a].name, sn_sweep_value(sw, job, a));
        argv = cJSON_AddArrayToObject(j, "argv");
        for (a = 0; a < job->argc; ++a)
            cJSON_AddItemToArray(argv, cJSON_CreateString(job->argv[a]));
        line = sn_sweep_shell_line(sw->supernav, job->argv, job->argc);
        rel = path_join("runs", job->id);
        cJSON_AddStringToObject(j, "command_line", line ? line : "");
        cJSON_AddStringToObject(j, "run", rel ? rel : "");
        free(line);
        free(rel);
    }
    if (!(text = cJSON_Print(root))) {
        fail(err, n, "out of memory");
        goto done;
    }
    if (sn_mkdir_p(sw->dir) != 0) {
        fail(err, n, "%s: %s", sw->dir, strerror(errno));
        goto done;
    }
    p = path_join(sw->dir, "spec");
    if (!p || sn_write_file_atomic(p, spec, spec_size) != 0) {
        fail(err, n, "%s: %s", p ? p : "spec", strerror(errno));
        free(p);
        goto done;
    }
    free(p);
    {
        size_t len = strlen(text);
        text[len] = '\n';   /* cJSON_Print's buffer holds len + 1 bytes */
        p = path_join(sw->dir, "sweep.json");
        if (!p || sn_write_file_atomic(p, text, len + 1) != 0) {
            fail(err, n, "%s: %s", p ? p : "sweep.json", strerror(errno));
            free(p);
            goto done;
        }
        free(p);
    }
    rc = 0;
done:
    free(text);
    free(spec);
    cJSON_Delete(root);
    return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char **jstrings(const cJSON *arr, size_t *count)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    char **w = calloc(n ? n : 1, sizeof *w);
    const cJSON *it;
    *count = 0;
    if (!w)
        return NULL;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it) || !(w[i] = dup_s(it->valuestring))) {
            free_words(w, i);
            return NULL;
        }
        ++i;
    }
    *count = n;
    return w;
}

int sn_sweep_load(const char *dir, sn_sweep *sw, char *err, size_t n)
{
    char *path = path_join(dir, "sweep.json");
    void *text = NULL;
    size_t size;
    int rc;
    memset(sw, 0, sizeof *sw);
    if (!path)
        return fail(err, n, "out of memory");
    if (sn_read_file(path, &text, &size) != 0) {
        fail(err, n, "%s: %s (not a sweep directory: 'supernav sweep plan SPEC -o DIR' makes one)", path,
             strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    rc = sn_sweep_load_buffer(dir, text, size, sw, err, n);
    free(text);
    return rc;
}

int sn_sweep_load_buffer(const char *dir, const char *text, size_t size, sn_sweep *sw, char *err, size_t n)
{
    char *path = path_join(dir, "sweep.json");
    size_t i = 0, a;
    cJSON *root = NULL, *it;
    const cJSON *axes, *jobs, *setup;
    const char *name, *command, *supernav, *workdir;
    memset(sw, 0, sizeof *sw);
    if (!path)
        return fail(err, n, "out of memory");
    root = cJSON_ParseWithLength(text, size);
    name = jstr(root, "name");
    command = jstr(root, "command");
    supernav = jstr(root, "supernav");
    workdir = jstr(root, "workdir");
    axes = cJSON_GetObjectItemCaseSensitive(root, "axes");
    jobs = cJSON_GetObjectItemCaseSensitive(root, "jobs");
    setup = cJSON_GetObjectItemCaseSensitive(root, "setup");
    if (!root || !name || !command || !supernav || !workdir || !cJSON_IsArray(axes) || !cJSON_IsArray(jobs) ||
        cJSON_GetArraySize(axes) > SN_SWEEP_MAX_AXES ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "schema_version")) ||
        cJSON_GetObjectItemCaseSensitive(root, "schema_version")->valuedouble != SN_SWEEP_SCHEMA_VERSION) {
        fail(err, n, "%s: not a sweep manifest of schema %d", path, SN_SWEEP_SCHEMA_VERSION);
        goto bad;
    }
    {
        char real[PATH_MAX];
        if (!realpath(dir, real) || !(sw->dir = dup_s(real))) {
            fail(err, n, "%s: %s", dir, strerror(errno));
            goto bad;
        }
    }
    if (!(sw->name = dup_s(name)) || !(sw->command = dup_s(command)) || !(sw->supernav = dup_s(supernav)) ||
        !(sw->workdir = dup_s(workdir)))
        goto nomem;
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "repeat");
        if (r && !(cJSON_IsNumber(r) && r->valuedouble >= 1 && r->valuedouble <= 1000)) {
            fail(err, n, "%s: repeat is not a number in [1, 1000]", path);
            goto bad;
        }
        sw->repeat = r ? (unsigned)r->valuedouble : 1;
    }
    if (cJSON_IsArray(setup) && !(sw->setup = jstrings(setup, &sw->setup_count)))
        goto nomem;
    cJSON_ArrayForEach(it, axes) {
        sn_sweep_axis *ax = &sw->axes[sw->axis_count];
        const char *an = jstr(it, "name");
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
        if (!an || !cJSON_IsArray(vals)) {
            fail(err, n, "%s: malformed axis", path);
            goto bad;
        }
        if (!(ax->name = dup_s(an)))
            goto nomem;
        ++sw->axis_count; /* sn_sweep_free frees its name from here on */
        if (!(ax->values = jstrings(vals, &ax->count)))
            goto nomem;
        ax->numeric = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "numeric"));
    }
    sw->job_count = (size_t)cJSON_GetArraySize(jobs);
    if (!(sw->jobs = calloc(sw->job_count ? sw->job_count : 1, sizeof *sw->jobs)))
        goto nomem;
    cJSON_ArrayForEach(it, jobs) {
        sn_sweep_job *job = &sw->jobs[i];
        const char *id = jstr(it, "id");
        const cJSON *argv = cJSON_GetObjectItemCaseSensitive(it, "argv");
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(it, "rep");
        if (!id || !*id || strchr(id, '/') || !strcmp(id, "..") || !cJSON_IsArray(argv) || !cJSON_IsObject(vals)) {
            fail(err, n, "%s: job %zu is malformed", path, i);
            goto bad;
        }
        job->index = i;
        if (rep && !(cJSON_IsNumber(rep) && rep->valuedouble >= 1 && rep->valuedouble <= 1000)) {
            fail(err, n, "%s: job %zu: rep is not a number in [1, 1000]", path, i);
            goto bad;
        }
        job->rep = rep ? (unsigned)rep->valuedouble : 1;
        if (!(job->id = dup_s(id)) || !(job->argv = jstrings(argv, &job->argc)) ||
            !(job->value_index = calloc(sw->axis_count ? sw->axis_count : 1, sizeof *job->value_index)))
            goto nomem;
        for (a = 0; a < sw->axis_count; ++a) {
            const char *v = jstr(vals, sw->axes[a].name);
            size_t k;
            for (k = 0; v && k < sw->axes[a].count; ++k)
                if (!strcmp(sw->axes[a].values[k], v))
                    break;
            if (!v || k == sw->axes[a].count) {
                fail(err, n, "%s: job %s has no value of axis %s", path, id, sw->axes[a].name);
                goto bad;
            }
            job->value_index[a] = k;
        }
        ++i;
    }
    cJSON_Delete(root);
    free(path);
    return 0;
nomem:
    fail(err, n, "out of memory");
bad:
    cJSON_Delete(root);
    free(path);
    sn_sweep_free(sw);
    return -1;
}

void sn_sweep_free(sn_sweep *sw)
{
    size_t i;
    if (!sw)
        return;
    for (i = 0; i < sw->axis_count; ++i) {
        free(sw->axes[i].name);
        free_words(sw->axes[i].values, sw->axes[i].count);
    }
    for (i = 0; i < sw->job_count && sw->jobs; ++i) {
        free(sw->jobs[i].id);
        free(sw->jobs[i].value_index);
        free_words(sw->jobs[i].argv, sw->jobs[i].argc);
    }
    free(sw->jobs);
    free_words(sw->setup, sw->setup_count);
    free(sw->name);
    free(sw->command);
    free(sw->workdir);
    free(sw->dir);
    free(sw->supernav);
    memset(sw, 0, sizeof *sw);
}

/* ---- running --------------------------------------------------------------------------- */

/* ARG with every {env:NAME} replaced by $NAME: ARG itself when it has none, else a malloc'ed
 * string; NULL with ERR when a variable is unset (or out of memory). */
static char *expand_env(char *arg, char *err, size_t n)
{
    const char *p = arg, *open;
    char *o = NULL;
    size_t len = 0;
    if (!strstr(arg, "{env:"))
        return arg;
    while ((open = strstr(p, "{env:"))) {
        const char *close = strchr(open, '}'), *value;
        char name[72];
        size_t k, vl;
        char *g;
        if (!close || (size_t)(close - open - 5) >= sizeof name) {
            free(o);
            fail(err, n, "bad {env:NAME} in '%s'", arg);
            return NULL;
        }
        k = (size_t)(close - open - 5);
        memcpy(name, open + 5, k);
        name[k] = '\0';
        if (!(value = getenv(name))) {
            free(o);
            fail(err, n, "%s is not set in the environment (the command uses {env:%s})", name, name);
            return NULL;
        }
        vl = strlen(value);
        if (!(g = realloc(o, len + (size_t)(open - p) + vl + 1))) {
            free(o);
            fail(err, n, "out of memory");
            return NULL;
        }
        o = g;
        memcpy(o + len, p, (size_t)(open - p));
        len += (size_t)(open - p);
        memcpy(o + len, value, vl);
        len += vl;
        p = close + 1;
    }
    {
        size_t rest = strlen(p);
        char *g = realloc(o, len + rest + 1);
        if (!g) {
            free(o);
            fail(err, n, "out of memory");
            return NULL;
        }
        o = g;
        memcpy(o + len, p, rest + 1);
    }
    return o;
}

/* Forks and execs SUPERNAV ARGV in the workdir with stdout and stderr to the two files
 * (appended when APPEND). Returns the child's pid, or -1 with ERR. */
static pid_t spawn(const sn_sweep *sw, char *const *argv, size_t argc, const char *out_path,
                   const char *err_path, int append, const char *job_id, int keep_fd, char *err,
                   size_t n)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int fo, fe;
    char **args;
    size_t i;
    pid_t pid;
    if (!(args = calloc(argc + 2, sizeof *args)))
        return fail(err, n, "out of memory");
    args[0] = sw->supernav;
    for (i = 0; i < argc; ++i) {
        char *e = expand_env(argv[i], err, n);
        if (!e) {
            while (i-- > 0)
                if (args[i + 1] != argv[i])
                    free(args[i + 1]);
            free(args);
            return -1;
        }
        args[i + 1] = e;
    }
    fo = open(out_path, flags, 0644);
    fe = fo < 0 ? -1 : strcmp(out_path, err_path) ? open(err_path, flags, 0644) : dup(fo);
    if (fo < 0 || fe < 0) {
        fail(err, n, "%s: %s", fo < 0 ? out_path : err_path, strerror(errno));
        pid = -1;
        goto done;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        if (chdir(sw->workdir) != 0) {
            dprintf(2, "supernav sweep: cannot enter %s: %s\n", sw->workdir, strerror(errno));
            _exit(127);
        }
        if (keep_fd >= 0) { /* the job holds its lock too (take_lock); supernav closes it on
                               exec in the job (SN_SWEEP_LOCK_FD), so what the job starts
                               (qemu) does not hold it after the job */
            char num[16];
            fcntl(keep_fd, F_SETFD, 0);
            snprintf(num, sizeof num, "%d", keep_fd);
            setenv("SN_SWEEP_LOCK_FD", num, 1);
        }
        setenv("SN_SWEEP_DIR", sw->dir, 1);
        if (job_id)
            setenv("SN_SWEEP_JOB", job_id, 1);
        execv(sw->supernav, args);
        dprintf(2, "supernav sweep: cannot run %s: %s\n", sw->supernav, strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        fail(err, n, "fork: %s", strerror(errno));
done:
    for (i = 0; i < argc; ++i)
        if (args[i + 1] != argv[i])
            free(args[i + 1]);
    free(args);
    if (fo >= 0)
        close(fo);
    if (fe >= 0)
        close(fe);
    return pid;
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int sn_sweep_setup(const sn_sweep *sw, char *err, size_t n)
{
    size_t i;
    char *log = path_join(sw->dir, "setup.log");
    subst_ctx c = {sw, NULL, NULL};
    if (!log)
        return fail(err, n, "out of memory");
    for (i = 0; i < sw->setup_count; ++i) {
        char **argv;
        size_t argc;
        pid_t pid;
        int status;
        if (expand_argv(&c, sw->setup[i], &argv, &argc) != 0) {
            free(log);
            return fail(err, n, "out of memory");
        }
        pid = spawn(sw, argv, argc, log, log, 1, NULL, -1, err, n);
        free_words(argv, argc);
        if (pid < 0) {
            free(log);
            return -1;
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (exit_code(status) != 0) {
            fail(err, n, "setup '%.200s' exited %d (see %s)", sw->setup[i], exit_code(status), log);
            free(log);
            return -1;
        }
    }
    free(log);
    return 0;
}

static char *job_path(const sn_sweep *sw, const sn_sweep_job *job, const char *file)
{
    size_t n = strlen(sw->dir) + strlen(job->id) + (file ? strlen(file) : 0) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/jobs/%s%s%s", sw->dir, job->id, file ? "/" : "", file ? file : "");
    return p;
}

static char *run_path(const sn_sweep *sw, const sn_sweep_job *job)
{
    size_t n = strlen(sw->dir) + strlen(job->id) + 8;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/runs/%s", sw->dir, job->id);
    return p;
}

static int exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0;
}

const char *sn_sweep_state_str(sn_sweep_state s)
{
    switch (s) {
    case SN_SWEEP_PENDING: return "pending";
    case SN_SWEEP_DONE: return "done";
    case SN_SWEEP_FAILED: return "failed";
    }
    return "?";
}

static unsigned marker_attempt(const char *path)
{
    void *text;
    size_t size;
    cJSON *j;
    unsigned a = 0;
    if (sn_read_file(path, &text, &size) != 0)
        return 0;
    j = cJSON_ParseWithLength(text, size);
    free(text);
    if (j) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "attempt");
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e6)
            a = (unsigned)v->valuedouble;
    }
    cJSON_Delete(j);
    return a;
}

sn_sweep_state sn_sweep_job_state(const sn_sweep *sw, const sn_sweep_job *job, unsigned *attempts)
{
    char *done = job_path(sw, job, "done"), *failed = job_path(sw, job, "failed");
    sn_sweep_state s = SN_SWEEP_PENDING;
    unsigned a = 0;
    if (exists(done)) {
        s = SN_SWEEP_DONE;
        a = marker_attempt(done);
    } else if (exists(failed)) {
        s = SN_SWEEP_FAILED;
        a = marker_attempt(failed);
    }
    if (attempts)
        *attempts = a;
    free(done);
    free(failed);
    return s;
}

static int write_marker(const char *path, const sn_sweep_job *job, int code, unsigned attempt,
                        double elapsed, const char *note)
{
    cJSON *j = cJSON_CreateObject();
    char host[256] = "unknown", stamp[32], *text;
    time_t t = time(NULL);
    struct tm tmv;
    const char *slurm_job = getenv("SLURM_JOB_ID"), *slurm_array = getenv("SLURM_ARRAY_JOB_ID");
    const char *slurm_task = getenv("SLURM_ARRAY_TASK_ID");
    int rc;
    if (!j)
        return -1;
    gethostname(host, sizeof host - 1);
    gmtime_r(&t, &tmv);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    cJSON_AddStringToObject(j, "job", job->id);
    cJSON_AddNumberToObject(j, "exit_status", code);
    cJSON_AddNumberToObject(j, "attempt", attempt);
    cJSON_AddNumberToObject(j, "elapsed_s", elapsed);
    cJSON_AddStringToObject(j, "finished", stamp);
    cJSON_AddStringToObject(j, "host", host);
    if (slurm_job)
        cJSON_AddStringToObject(j, "slurm_job_id", slurm_job);
    if (slurm_array)
        cJSON_AddStringToObject(j, "slurm_array_job_id", slurm_array);
    if (slurm_task)
        cJSON_AddStringToObject(j, "slurm_array_task_id", slurm_task);
    if (note && *note)
        cJSON_AddStringToObject(j, "note", note);
    text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return -1;
    rc = sn_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

/* A job being run. */
typedef struct slot {
    const sn_sweep_job *job;
    pid_t pid;
    int lock_fd;
    unsigned attempt;
    double t0;
} slot;

/* Takes the job's lock. Returns the fd, -2 when another runner holds it, -1 on error. The lock
 * is an open-file-description lock (F_OFD_SETLK, Linux >= 3.15) where the kernel has them: the
 * job's process inherits the descriptor (spawn's KEEP_FD), so the lock lives until the runner
 * and the job have both ended, and a runner killed alone leaves its job busy, never run
 * twice at once by the next runner. Elsewhere (EINVAL) a process lock, which dies with the
 * runner. */
static int take_lock(const sn_sweep *sw, const sn_sweep_job *job, char *err, size_t n)
{
    char *dir = job_path(sw, job, NULL), *path = job_path(sw, job, "lock");
    struct flock fl;
    int fd, rc;
    if (!dir || !path || sn_mkdir_p(dir) != 0) {
        fail(err, n, "%s: %s", dir ? dir : "jobs", strerror(errno));
        free(dir);
        free(path);
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && fd < 3) { /* a runner started with a standard stream closed: keep the lock
                                off 0-2, which the job's set-up replaces */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = hi;
    }
    if (fd < 0) {
        fail(err, n, "%s: %s", path, strerror(errno));
        free(dir);
        free(path);
        return -1;
    }
    free(dir);
    free(path);
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
    rc = fcntl(fd, F_OFD_SETLK, &fl);
    if (rc != 0 && errno == EINVAL) {
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        rc = fcntl(fd, F_SETLK, &fl);
    }
#else
    rc = fcntl(fd, F_SETLK, &fl);
#endif
    if (rc != 0) {
        int busy = errno == EACCES || errno == EAGAIN;
        close(fd);
        return busy ? -2 : fail(err, n, "lock %s: %s", job->id, strerror(errno));
    }
    return fd;
}

/* Moves an earlier attempt's output and run directory aside as attempt-K.* so nothing is
 * lost: K is the first from FIRST none of whose three names is taken (a runner killed
 * between two of these renames leaves some of attempt-FIRST.* behind). */
static int set_aside(const sn_sweep *sw, const sn_sweep_job *job, unsigned first, char *err, size_t n)
{
    static const char *const kinds[] = {"stdout", "stderr", "run"};
    char name[64], *from, *to, *run = run_path(sw, job);
    unsigned k;
    size_t i;
    if (!run)
        return fail(err, n, "out of memory");
    for (k = first;; ++k) {
        int taken = 0;
        for (i = 0; i < 3 && !taken; ++i) {
            snprintf(name, sizeof name, "attempt-%u.%s", k, kinds[i]);
            if (!(to = job_path(sw, job, name))) {
                free(run);
                return fail(err, n, "out of memory");
            }
            taken = exists(to);
            free(to);
        }
        if (!taken)
            break;
    }
    for (i = 0; i < 3; ++i) {
        from = i < 2 ? job_path(sw, job, kinds[i]) : strdup(run);
        snprintf(name, sizeof name, "attempt-%u.%s", k, kinds[i]);
        to = job_path(sw, job, name);
        if (!from || !to) {
            free(from);
            free(to);
            free(run);
            return fail(err, n, "out of memory");
        }
        if (exists(from) && rename(from, to) != 0) {
            fail(err, n, "rename %s: %s", from, strerror(errno));
            free(from);
            free(to);
            free(run);
            return -1;
        }
        free(from);
        free(to);
    }
    free(run);
    return 0;
}

static int start_job(const sn_sweep *sw, const sn_sweep_job *job, slot *s, sn_sweep_outcome *skipped,
                     char *err, size_t n)
{
    unsigned attempts = 0;
    sn_sweep_state st;
    char *out, *er, *failed;
    s->job = job;
    s->pid = -1;
    if (sn_sweep_job_state(sw, job, NULL) == SN_SWEEP_DONE) {
        *skipped = SN_SWEEP_SKIPPED_DONE;
        return 1;
    }
    if ((s->lock_fd = take_lock(sw, job, err, n)) == -2) {
        *skipped = SN_SWEEP_SKIPPED_BUSY;
        return 1;
    }
    if (s->lock_fd < 0)
        return -1;
    st = sn_sweep_job_state(sw, job, &attempts); /* again, under the lock */
    if (st == SN_SWEEP_DONE) {
        close(s->lock_fd);
        *skipped = SN_SWEEP_SKIPPED_DONE;
        return 1;
    }
    {
        /* earlier attempts: attempt-1 ... attempt-M set aside, and the last one's stdout */
        char *probe = job_path(sw, job, "stdout"), *run = run_path(sw, job);
        unsigned m = 0;
        int last = exists(probe);
        for (;;) {
            char name[48], *p;
            snprintf(name, sizeof name, "attempt-%u.stdout", m + 1);
            p = job_path(sw, job, name);
            if (!exists(p)) {
                free(p);
                break;
            }
            free(p);
            ++m;
        }
        attempts = m + (last ? 1u : 0u);
        if ((last || exists(run)) && set_aside(sw, job, m + 1, err, n) != 0) {
            free(probe);
            free(run);
            close(s->lock_fd);
            return -1;
        }
        free(probe);
        free(run);
    }
    {
        char *run = run_path(sw, job);
        if (exists(run)) { /* left by an interrupted attempt after set_aside could not move it */
            free(run);
            close(s->lock_fd);
            return fail(err, n, "%s/runs/%s exists but the job is not done; move it away", sw->dir, job->id);
        }
        free(run);
    }
    s->attempt = attempts + 1;
    out = job_path(sw, job, "stdout");
    er = job_path(sw, job, "stderr");
    failed = job_path(sw, job, "failed");
    if (!out || !er || !failed) {
        free(out);
        free(er);
        free(failed);
        close(s->lock_fd);
        return fail(err, n, "out of memory");
    }
    if (exists(failed))
        unlink(failed);
    s->t0 = now_s();
    s->pid = spawn(sw, job->argv, job->argc, out, er, 0, job->id, s->lock_fd, err, n);
    free(out);
    free(er);
    free(failed);
    if (s->pid < 0) {
        close(s->lock_fd);
        return -1;
    }
    return 0;
}

/* Records the end of S's job (exit STATUS) and fills EV. */
static void finish_job(const sn_sweep *sw, slot *s, int status, sn_sweep_event *ev)
{
    char *run = run_path(sw, s->job), *marker;
    int code = exit_code(status);
    memset(ev, 0, sizeof *ev);
    ev->job = s->job;
    ev->exit_status = code;
    ev->attempt = s->attempt;
    ev->elapsed_s = now_s() - s->t0;
    if (code == 0 && exists(run)) {
        marker = job_path(sw, s->job, "done");
        if (marker && write_marker(marker, s->job, code, s->attempt, ev->elapsed_s, NULL) == 0)
            ev->outcome = SN_SWEEP_RAN_OK;
        else {
            ev->outcome = SN_SWEEP_RAN_FAILED;
            snprintf(ev->note, sizeof ev->note, "cannot write the done marker: %s", strerror(errno));
        }
    } else {
        ev->outcome = SN_SWEEP_RAN_FAILED;
        if (code == 0)
            snprintf(ev->note, sizeof ev->note, "exited 0 but wrote no run directory at %s", run ? run : "?");
        else if (WIFSIGNALED(status))
            snprintf(ev->note, sizeof ev->note, "killed by signal %d", WTERMSIG(status));
        else
            snprintf(ev->note, sizeof ev->note, "exited %d", code);
        marker = job_path(sw, s->job, "failed");
        if (marker)
            write_marker(marker, s->job, code, s->attempt, ev->elapsed_s, ev->note);
    }
    free(marker);
    free(run);
    close(s->lock_fd);
    s->job = NULL;
    s->pid = -1;
}

int sn_sweep_run(const sn_sweep *sw, const size_t *only, size_t only_count, unsigned parallel,
                 sn_sweep_progress_fn progress, void *user, sn_sweep_totals *totals, char *err,
                 size_t n)
{
    size_t todo = only ? only_count : sw->job_count, next = 0, running = 0, i;
    slot *slots;
    char *jobs_dir = path_join(sw->dir, "jobs"), *runs_dir = path_join(sw->dir, "runs");
    int rc = 0;
    memset(totals, 0, sizeof *totals);
    if (!jobs_dir || !runs_dir || sn_mkdir_p(jobs_dir) != 0 || sn_mkdir_p(runs_dir) != 0) {
        fail(err, n, "%s: %s", jobs_dir ? jobs_dir : "jobs", strerror(errno));
        free(jobs_dir);
        free(runs_dir);
        return -1;
    }
    free(jobs_dir);
    free(runs_dir);
    if (parallel < 1)
        parallel = 1;
    if (!(slots = calloc(parallel, sizeof *slots)))
        return fail(err, n, "out of memory");
    for (;;) {
        while (rc == 0 && running < parallel && next < todo) {
            size_t idx = only ? only[next] : next;
            slot *s = NULL;
            sn_sweep_outcome skipped = SN_SWEEP_SKIPPED_DONE;
            int r;
            ++next;
            for (i = 0; i < parallel; ++i)
                if (!slots[i].job) {
                    s = &slots[i];
                    break;
                }
            r = start_job(sw, &sw->jobs[idx], s, &skipped, err, n);
            if (r < 0) {
                s->job = NULL;
                rc = -1;
                break;
            }
            if (r > 0) {
                sn_sweep_event ev;
                memset(&ev, 0, sizeof ev);
                ev.job = &sw->jobs[idx];
                ev.outcome = skipped;
                ev.exit_status = -1;
                if (skipped == SN_SWEEP_SKIPPED_DONE)
                    ++totals->skipped_done;
                else
                    ++totals->skipped_busy;
                s->job = NULL;
                if (progress)
                    progress(&ev, user);
                continue;
            }
            ++running;
            if (progress) {
                sn_sweep_event ev;
                memset(&ev, 0, sizeof ev);
                ev.job = s->job;
                ev.started = true;
                ev.attempt = s->attempt;
                ev.exit_status = -1;
                progress(&ev, user);
            }
        }
        if (!running)
            break;
        {
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0) {
                if (errno == EINTR)
                    continue;
                fail(err, n, "waitpid: %s", strerror(errno));
                rc = -1;
                break;
            }
            for (i = 0; i < parallel; ++i) {
                if (slots[i].job && slots[i].pid == pid) {
                    sn_sweep_event ev;
                    finish_job(sw, &slots[i], status, &ev);
                    --running;
                    if (ev.outcome == SN_SWEEP_RAN_OK)
                        ++totals->ran_ok;
                    else
                        ++totals->ran_failed;
                    if (progress)
                        progress(&ev, user);
                    break;
                }
            }
        }
    }
    free(slots);
    return rc;
}

void sn_sweep_axes_json(const sn_sweep *sw, void *root)
{
    cJSON *axes = cJSON_AddArrayToObject(root, "axes");
    size_t a, i;
    for (a = 0; a < sw->axis_count; ++a) {
        cJSON *ax = cJSON_CreateObject(), *vals;
        cJSON_AddItemToArray(axes, ax);
        cJSON_AddStringToObject(ax, "name", sw->axes[a].name);
        cJSON_AddBoolToObject(ax, "numeric", sw->axes[a].numeric);
        vals = cJSON_AddArrayToObject(ax, "values");
        for (i = 0; i < sw->axes[a].count; ++i)
            cJSON_AddItemToArray(vals, cJSON_CreateString(sw->axes[a].values[i]));
    }
}
