/* supernav reports: gnuplot as a subprocess, SVG inlining (see sn_gnuplot.h). */
#include "sn_gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sn_file.h"

extern char **environ;

static void reserve(sn_text *t, size_t more)
{
    char *g;
    size_t cap;
    if (t->failed || t->len + more + 1 <= t->cap)
        return;
    cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    if (!(g = realloc(t->s, cap))) {
        t->failed = 1;
        return;
    }
    t->s = g;
    t->cap = cap;
}

void sn_text_append(sn_text *t, const char *s, size_t n)
{
    reserve(t, n);
    if (t->failed)
        return;
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

void sn_text_printf(sn_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    reserve(t, (size_t)n);
    if (t->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void sn_text_free(sn_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

static void last_line(const char *path, char *buf, size_t n)
{
    void *text;
    size_t size;
    char *s, *end, *start;
    buf[0] = '\0';
    if (sn_read_file(path, &text, &size) != 0)
        return;
    s = text;
    end = s + size;
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        --end;
    *end = '\0';
    start = end;
    while (start > s && start[-1] != '\n')
        --start;
    snprintf(buf, n, "%s", start);
    free(text);
}

void sn_gnuplot_output(sn_text *script, const char *svg_path)
{
    sn_text_printf(script, "if (!exists(\"sn_stdout\")) set output \"");
    for (; *svg_path; ++svg_path) {
        if (*svg_path == '"' || *svg_path == '\\')
            sn_text_append(script, "\\", 1);
        sn_text_append(script, svg_path, 1);
    }
    sn_text_printf(script, "\"\n");
}

/* True when SVG ends with its closing tag (and white space): gnuplot was not cut short. */
static int svg_complete(const sn_text *svg)
{
    size_t len = svg->len;
    while (len > 0 && (svg->s[len - 1] == '\n' || svg->s[len - 1] == '\r' || svg->s[len - 1] == ' '))
        --len;
    return len >= 6 && !memcmp(svg->s + len - 6, "</svg>", 6);
}

int sn_gnuplot_plot(const char *gnuplot, const char *script, const char *svg_path, const char *log_path,
                    char *err, size_t n)
{
    posix_spawn_file_actions_t fa;
    const char *prog = gnuplot ? gnuplot : getenv("SN_GNUPLOT");
    char *argv[5], msg[300], buf[65536];
    sn_text svg = {0};
    pid_t pid;
    int status, rc, out[2];
    ssize_t got;
    if (!prog || !*prog)
        prog = "gnuplot";
    argv[0] = (char *)prog;
    argv[1] = (char *)"-e";
    argv[2] = (char *)"sn_stdout = 1";
    argv[3] = (char *)script;
    argv[4] = NULL;
    if (pipe(out) != 0) {
        snprintf(err, n, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        snprintf(err, n, "cannot run %s: %s (install gnuplot-nox: make deps)", prog, strerror(rc));
        return -1;
    }
    while ((got = read(out[0], buf, sizeof buf)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        sn_text_append(&svg, buf, (size_t)got);
    }
    close(out[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, n, "waitpid: %s", strerror(errno));
            sn_text_free(&svg);
            return -1;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(err, n, "cannot run %s (install gnuplot-nox: make deps)", prog);
        sn_text_free(&svg);
        return -1;
    }
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        last_line(log_path, msg, sizeof msg);
        snprintf(err, n, "%s %s failed: %s", prog, script, msg[0] ? msg : "no message");
        sn_text_free(&svg);
        return -1;
    }
    if (svg.failed || !svg_complete(&svg)) {
        snprintf(err, n, "%s %s: %s", prog, script, svg.failed ? "out of memory" : "no complete SVG on its output");
        sn_text_free(&svg);
        return -1;
    }
    rc = sn_write_file_atomic(svg_path, svg.s, svg.len);
    if (rc != 0)
        snprintf(err, n, "%s: %s", svg_path, strerror(errno));
    sn_text_free(&svg);
    return rc;
}

int sn_svg_inline(sn_text *out, const char *svg, const char *prefix, const char *name)
{
    static const char *const refs[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
    const char *p = strstr(svg, "<svg");
    if (!p)
        return -1;
    sn_text_printf(out, "<svg class=\"plot\" data-plot=\"%s\" role=\"img\"", name);
    p += 4;
    while (*p) {
        size_t k, best_len = 0;
        const char *best = NULL;
        for (k = 0; k < sizeof refs / sizeof *refs; ++k) {
            const char *q = strstr(p, refs[k]);
            if (q && (!best || q < best)) {
                best = q;
                best_len = strlen(refs[k]);
            }
        }
        if (!best) {
            sn_text_append(out, p, strlen(p));
            break;
        }
        sn_text_append(out, p, (size_t)(best - p) + best_len);
        sn_text_printf(out, "%s-", prefix);
        p = best + best_len;
    }
    return out->failed ? -1 : 0;
}
