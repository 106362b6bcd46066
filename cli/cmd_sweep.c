#define _DEFAULT_SOURCE /* realpath() */
/* supernav sweep: a benchmark matrix as independent jobs, run locally or as a Slurm job
 * array (harness/sn_sweep.h; the spec format is in harness/README.md "Sweeps").
 *
 *   supernav sweep plan SPEC [-o DIR] [--no-setup]
 *   supernav sweep run DIR [-j N] [--task I]
 *   supernav sweep slurm DIR [--partition P] [--time T] [--gres G] [--cpus-per-task N]
 *                        [--mem M] [--max-running K] [--pending] [--sbatch-line TEXT]...
 *                        [--submit | --no-submit]
 *   supernav sweep status DIR
 *   supernav sweep collect DIR [-o OUT] [--x AXIS] [--series AXIS] [--metric M]...
 *                          [--partial] [--no-report] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sn_cli.h"
#include "sn_file.h"
#include "sn_sweep.h"
#include "sn_sweep_collect.h"

static int parse_count(const char *name, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(text, &end, 10);
    if (errno || *end || !*text || *out < lo || *out > hi) {
        sn_cli_error("%s must be an integer in [%ld, %ld]", name, lo, hi);
        return -1;
    }
    return 0;
}

static int load(const char *dir, sn_sweep *sw)
{
    char err[1400];
    if (sn_sweep_load(dir, sw, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return -1;
    }
    return 0;
}

/* ---- plan ------------------------------------------------------------------------------ */

static int cmd_plan(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"no-setup", no_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    sn_sweep sw;
    char err[1400], dir[PATH_MAX], real[PATH_MAX], self[PATH_MAX];
    const char *out = NULL;
    int ch, setup = 1, created = 0;
    size_t i;
    struct stat st;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'S': setup = 0; break;
        case 'h':
            printf("usage: supernav sweep plan SPEC [-o DIR] [--no-setup]\n"
                   "  Expands the spec (command template and axes; harness/README.md \"Sweeps\") into\n"
                   "  jobs, one run directory each: writes DIR/sweep.json (the manifest) and DIR/spec,\n"
                   "  then runs the spec's setup lines (--no-setup: not). DIR must not exist or be\n"
                   "  empty; default results/sweeps/<name>-<UTC>. Prints DIR.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        sn_cli_error(optind < argc ? "one SPEC only" : "no SPEC given (supernav sweep plan SPEC [-o DIR])");
        return 2;
    }
    if (sn_sweep_parse(argv[optind], &sw, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        sn_sweep_free(&sw);
        return 1;
    }
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tmv);
        snprintf(dir, sizeof dir, "results/sweeps/%s-%s", sw.name, stamp);
    }
    if (stat(dir, &st) != 0) {
        if (sn_mkdir_p(dir) != 0) {
            sn_cli_error("%s: %s", dir, strerror(errno));
            sn_sweep_free(&sw);
            return 1;
        }
        created = 1;
    }
    if (!realpath(dir, real) || !realpath("/proc/self/exe", self)) {
        sn_cli_error("%s: %s", dir, strerror(errno));
        sn_sweep_free(&sw);
        return 1;
    }
    if (sn_sweep_expand(&sw, real, err, sizeof err) != 0 ||
        sn_sweep_write(&sw, argv[optind], self, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        if (created)
            rmdir(real);
        sn_sweep_free(&sw);
        return 1;
    }
    fprintf(stderr, "sweep plan: %s: %zu jobs (", sw.name, sw.job_count);
    for (i = 0; i < sw.axis_count; ++i)
        fprintf(stderr, "%s%s %zu", i ? " x " : "", sw.axes[i].name, sw.axes[i].count);
    if (sw.repeat > 1)
        fprintf(stderr, "%srepeat %u", sw.axis_count ? " x " : "", sw.repeat);
    fprintf(stderr, ") in %s\n", real);
    if (setup && sw.setup_count) {
        fprintf(stderr, "sweep plan: running %zu setup command%s (log: %s/setup.log)\n", sw.setup_count,
                sw.setup_count == 1 ? "" : "s", real);
        if (sn_sweep_setup(&sw, err, sizeof err) != 0) {
            sn_cli_error("%s; fix it and run the setup again, or plan into a new DIR", err);
            sn_sweep_free(&sw);
            return 1;
        }
    }
    printf("%s\n", real);
    sn_sweep_free(&sw);
    return 0;
}

/* ---- run ------------------------------------------------------------------------------- */

typedef struct progress_ctx {
    const sn_sweep *sw;
    size_t total, seen;
} progress_ctx;

static void on_progress(const sn_sweep_event *ev, void *user)
{
    progress_ctx *p = user;
    if (ev->started)
        return;
    ++p->seen;
    switch (ev->outcome) {
    case SN_SWEEP_RAN_OK:
        fprintf(stderr, "sweep: [%zu/%zu] ok      %s (%.1f s%s)\n", p->seen, p->total, ev->job->id,
                ev->elapsed_s, ev->attempt > 1 ? ", a retry" : "");
        break;
    case SN_SWEEP_RAN_FAILED:
        fprintf(stderr, "sweep: [%zu/%zu] FAILED  %s: %s (attempt %u; see %s/jobs/%s/stderr)\n", p->seen,
                p->total, ev->job->id, ev->note, ev->attempt, p->sw->dir, ev->job->id);
        break;
    case SN_SWEEP_SKIPPED_DONE:
        fprintf(stderr, "sweep: [%zu/%zu] skip    %s (done)\n", p->seen, p->total, ev->job->id);
        break;
    case SN_SWEEP_SKIPPED_BUSY:
        fprintf(stderr, "sweep: [%zu/%zu] busy    %s (another runner holds it)\n", p->seen, p->total,
                ev->job->id);
        break;
    }
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"jobs", required_argument, 0, 'j'},
                                         {"task", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    sn_sweep sw;
    sn_sweep_totals tot;
    progress_ctx pc;
    char err[1400];
    long jobs = sysconf(_SC_NPROCESSORS_ONLN), task = -1;
    size_t only;
    int ch;
    if (jobs < 1)
        jobs = 1;
    while ((ch = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': if (parse_count("-j", optarg, 1, 1024, &jobs) != 0) return 2; break;
        case 't': if (parse_count("--task", optarg, 0, SN_SWEEP_MAX_JOBS - 1, &task) != 0) return 2; break;
        case 'h':
            printf("usage: supernav sweep run DIR [-j N] [--task I]\n"
                   "  Runs the planned sweep's jobs, N at a time (default: the online cores), each in\n"
                   "  the sweep's workdir with stdout/stderr in DIR/jobs/ID/. A finished job (DIR/jobs/\n"
                   "  ID/done) is skipped; a failed or interrupted one is run again (its earlier output\n"
                   "  kept as attempt-K.*). --task I: job I only (what a Slurm array task runs).\n"
                   "  Exit 1 when a job failed.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        sn_cli_error("give one sweep DIR (supernav sweep run DIR [-j N] [--task I])");
        return 2;
    }
    if (load(argv[optind], &sw) != 0)
        return 1;
    if (task >= 0 && (size_t)task >= sw.job_count) {
        sn_cli_error("--task %ld: the sweep has %zu jobs (0 to %zu)", task, sw.job_count,
                     sw.job_count ? sw.job_count - 1 : 0);
        sn_sweep_free(&sw);
        return 2;
    }
    only = (size_t)task;
    pc.sw = &sw;
    pc.total = task >= 0 ? 1 : sw.job_count;
    pc.seen = 0;
    if (task < 0)
        fprintf(stderr, "sweep: %s: %zu jobs, up to %ld at a time (%s)\n", sw.name, sw.job_count, jobs, sw.dir);
    if (sn_sweep_run(&sw, task >= 0 ? &only : NULL, task >= 0 ? 1 : 0, (unsigned)jobs, on_progress, &pc, &tot,
                     err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        sn_sweep_free(&sw);
        return 1;
    }
    fprintf(stderr, "sweep: %zu ran ok, %zu failed, %zu already done, %zu busy elsewhere\n", tot.ran_ok,
            tot.ran_failed, tot.skipped_done, tot.skipped_busy);
    sn_sweep_free(&sw);
    return tot.ran_failed ? 1 : 0;
}

/* ---- status ---------------------------------------------------------------------------- */

static int cmd_status(int argc, char **argv)
{
    sn_sweep sw;
    size_t i, counts[3] = {0, 0, 0};
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            printf("usage: supernav sweep status DIR\n  one line per job (index, state, attempts, id) and "
                   "the totals\n");
            return 0;
        }
        sn_cli_error("give one sweep DIR (supernav sweep status DIR)");
        return 2;
    }
    if (load(argv[1], &sw) != 0)
        return 1;
    for (i = 0; i < sw.job_count; ++i) {
        unsigned attempts;
        sn_sweep_state s = sn_sweep_job_state(&sw, &sw.jobs[i], &attempts);
        ++counts[s];
        printf("%5zu  %-8s %3u  %s\n", i, sn_sweep_state_str(s), attempts, sw.jobs[i].id);
    }
    fprintf(stderr, "sweep: %s: %zu jobs: %zu done, %zu failed, %zu pending\n", sw.name, sw.job_count,
            counts[SN_SWEEP_DONE], counts[SN_SWEEP_FAILED], counts[SN_SWEEP_PENDING]);
    sn_sweep_free(&sw);
    return 0;
}

/* ---- slurm ----------------------------------------------------------------------------- */

/* The first executable NAME on PATH, into BUF. */
static int find_on_path(const char *name, char *buf, size_t n)
{
    const char *path = getenv("PATH"), *p;
    if (!path)
        return -1;
    for (p = path;; ) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(buf, n, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name);
        if (access(buf, X_OK) == 0)
            return 0;
        if (!colon)
            return -1;
        p = colon + 1;
    }
}

/* A value for an #SBATCH line: no whitespace, quotes or newlines (sbatch does not unquote). */
static int sbatch_safe(const char *what, const char *text)
{
    if (!*text || strpbrk(text, " \t\n\r'\"\\")) {
        sn_cli_error("%s '%s' cannot go on an #SBATCH line (no spaces, quotes or backslashes)", what, text);
        return 0;
    }
    return 1;
}

static int cmd_slurm(int argc, char **argv)
{
    enum { O_PART = 1000, O_TIME, O_GRES, O_CPUS, O_MEM, O_MAXRUN, O_PENDING, O_LINE, O_SUBMIT, O_NOSUBMIT,
           O_ACCOUNT, O_QOS };
    static const struct option opts[] = {
        {"partition", required_argument, 0, O_PART}, {"time", required_argument, 0, O_TIME},
        {"gres", required_argument, 0, O_GRES},      {"cpus-per-task", required_argument, 0, O_CPUS},
        {"mem", required_argument, 0, O_MEM},        {"max-running", required_argument, 0, O_MAXRUN},
        {"pending", no_argument, 0, O_PENDING},      {"sbatch-line", required_argument, 0, O_LINE},
        {"submit", no_argument, 0, O_SUBMIT},        {"no-submit", no_argument, 0, O_NOSUBMIT},
        {"account", required_argument, 0, O_ACCOUNT}, {"qos", required_argument, 0, O_QOS},
        {"help", no_argument, 0, 'h'},               {0, 0, 0, 0}};
    const char *partition = NULL, *tlimit = NULL, *gres = NULL, *mem = NULL, *account = NULL, *qos = NULL;
    const char *lines[32];
    size_t nlines = 0, i, ntasks = 0;
    long cpus = 1, maxrun = 0;
    int ch, submit = 1, pending = 0, rc = 1;
    sn_sweep sw;
    char script[PATH_MAX + 32], slurm_dir[PATH_MAX], sbatch[PATH_MAX];
    sn_atomic_file af;
    char *array = NULL;
    size_t alen = 0, acap = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case O_PART: partition = optarg; break;
        case O_TIME: tlimit = optarg; break;
        case O_GRES: gres = optarg; break;
        case O_MEM: mem = optarg; break;
        case O_ACCOUNT: account = optarg; break;
        case O_QOS: qos = optarg; break;
        case O_CPUS: if (parse_count("--cpus-per-task", optarg, 1, 4096, &cpus) != 0) return 2; break;
        case O_MAXRUN: if (parse_count("--max-running", optarg, 1, 1000000, &maxrun) != 0) return 2; break;
        case O_PENDING: pending = 1; break;
        case O_LINE:
            if (nlines == sizeof lines / sizeof lines[0]) {
                sn_cli_error("at most %zu --sbatch-line options", sizeof lines / sizeof lines[0]);
                return 2;
            }
            if (strchr(optarg, '\n')) {
                sn_cli_error("--sbatch-line must be one line");
                return 2;
            }
            lines[nlines++] = optarg;
            break;
        case O_SUBMIT: submit = 1; break;
        case O_NOSUBMIT: submit = 0; break;
        case 'h':
            printf("usage: supernav sweep slurm DIR [--partition P] [--time T] [--gres G] [--cpus-per-task N]\n"
                   "                            [--mem M] [--account A] [--qos Q] [--max-running K] [--pending]\n"
                   "                            [--sbatch-line 'OPTION']... [--submit | --no-submit]\n"
                   "  Writes DIR/slurm/array.sbatch, an sbatch --array=0-(N-1) script whose task I runs\n"
                   "  'supernav sweep run DIR --task I' in the sweep's workdir (finished jobs are skipped,\n"
                   "  failed ones retried), and submits it with sbatch (default; --no-submit: only write\n"
                   "  it), printing the Slurm job id. Task logs: DIR/slurm/<jobid>_<task>.out. DIR, the\n"
                   "  workdir and supernav must be on a filesystem every node sees.\n"
                   "  --time: Slurm's time limit per task (e.g. 00:10:00); --gres: e.g. mcu:1 (a board per\n"
                   "  task); --max-running K: at most K tasks at once (--array=...%%K); --pending: only\n"
                   "  the jobs not done yet; --sbatch-line: one more '#SBATCH OPTION' line.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        sn_cli_error("give one sweep DIR (supernav sweep slurm DIR [options])");
        return 2;
    }
    if ((partition && !sbatch_safe("--partition", partition)) || (tlimit && !sbatch_safe("--time", tlimit)) ||
        (gres && !sbatch_safe("--gres", gres)) || (mem && !sbatch_safe("--mem", mem)) ||
        (account && !sbatch_safe("--account", account)) || (qos && !sbatch_safe("--qos", qos)))
        return 2;
    if (load(argv[optind], &sw) != 0)
        return 1;
    if (!sbatch_safe("the sweep directory", sw.dir) || !sbatch_safe("the workdir", sw.workdir) ||
        !sbatch_safe("the sweep name", sw.name))
        goto done;
    if (submit && find_on_path("sbatch", sbatch, sizeof sbatch) != 0) {
        sn_cli_error("sbatch is not on PATH (not a Slurm submit host?); --no-submit writes the script only");
        goto done;
    }
    /* the array's indices: every job, or (--pending) those not done, as ranges */
    for (i = 0; i < sw.job_count; ++i) {
        size_t j = i;
        char piece[48];
        if (pending && sn_sweep_job_state(&sw, &sw.jobs[i], NULL) == SN_SWEEP_DONE)
            continue;
        while (j + 1 < sw.job_count &&
               !(pending && sn_sweep_job_state(&sw, &sw.jobs[j + 1], NULL) == SN_SWEEP_DONE))
            ++j;
        ntasks += j - i + 1;
        if (j > i)
            snprintf(piece, sizeof piece, "%s%zu-%zu", alen ? "," : "", i, j);
        else
            snprintf(piece, sizeof piece, "%s%zu", alen ? "," : "", i);
        if (alen + strlen(piece) + 1 > acap) {
            char *g = realloc(array, acap = 2 * (alen + strlen(piece) + 1));
            if (!g) {
                sn_cli_error("out of memory");
                goto done;
            }
            array = g;
        }
        memcpy(array + alen, piece, strlen(piece) + 1);
        alen += strlen(piece);
        i = j;
    }
    if (!ntasks) {
        fprintf(stderr, "sweep slurm: every job of %s is done; nothing to submit\n", sw.dir);
        rc = 0;
        goto done;
    }
    snprintf(slurm_dir, sizeof slurm_dir, "%s/slurm", sw.dir);
    snprintf(script, sizeof script, "%s/array.sbatch", slurm_dir);
    if (sn_mkdir_p(slurm_dir) != 0 || sn_atomic_open(&af, script) != 0) {
        sn_cli_error("%s: %s", script, strerror(errno));
        goto done;
    }
    {
        char *qself = sn_sweep_shell_quote(sw.supernav), *qdir = sn_sweep_shell_quote(sw.dir);
        fprintf(af.fp, "#!/bin/sh\n"
                       "# supernav sweep %s: %zu of its %zu jobs as a Slurm job array, written by\n"
                       "# 'supernav sweep slurm'. Task I runs job I of %s/sweep.json; a finished job\n"
                       "# is skipped, a failed one retried (sbatch this file again to resume).\n",
                sw.name, ntasks, sw.job_count, sw.dir);
        fprintf(af.fp, "#SBATCH --job-name=sn-%s\n#SBATCH --array=%s", sw.name, array);
        if (maxrun)
            fprintf(af.fp, "%%%ld", maxrun);
        fprintf(af.fp, "\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%ld\n#SBATCH --chdir=%s\n"
                       "#SBATCH --output=%s/%%A_%%a.out\n",
                cpus, sw.workdir, slurm_dir);
        if (partition)
            fprintf(af.fp, "#SBATCH --partition=%s\n", partition);
        if (tlimit)
            fprintf(af.fp, "#SBATCH --time=%s\n", tlimit);
        if (gres)
            fprintf(af.fp, "#SBATCH --gres=%s\n", gres);
        if (mem)
            fprintf(af.fp, "#SBATCH --mem=%s\n", mem);
        if (account)
            fprintf(af.fp, "#SBATCH --account=%s\n", account);
        if (qos)
            fprintf(af.fp, "#SBATCH --qos=%s\n", qos);
        for (i = 0; i < nlines; ++i)
            fprintf(af.fp, "#SBATCH %s\n", lines[i]);
        fprintf(af.fp, "exec %s sweep run %s --task \"$SLURM_ARRAY_TASK_ID\"\n", qself ? qself : sw.supernav,
                qdir ? qdir : sw.dir);
        free(qself);
        free(qdir);
    }
    if (sn_atomic_commit(&af) != 0) {
        sn_cli_error("%s: %s", script, strerror(errno));
        goto done;
    }
    chmod(script, 0755);
    fprintf(stderr, "sweep slurm: wrote %s (%zu tasks: --array=%s%s)\n", script, ntasks, array,
            maxrun ? " with a limit on running tasks" : "");
    if (!submit) {
        printf("%s\n", script);
        rc = 0;
        goto done;
    }
    {
        int fd[2], status;
        char out[512];
        ssize_t got;
        size_t len = 0;
        pid_t pid;
        if (pipe(fd) != 0) {
            sn_cli_error("pipe: %s", strerror(errno));
            goto done;
        }
        fflush(NULL);
        if ((pid = fork()) == 0) {
            close(fd[0]);
            dup2(fd[1], 1);
            execl(sbatch, "sbatch", "--parsable", script, (char *)NULL);
            dprintf(2, "supernav sweep slurm: cannot run %s: %s\n", sbatch, strerror(errno));
            _exit(127);
        }
        close(fd[1]);
        if (pid < 0) {
            close(fd[0]);
            sn_cli_error("fork: %s", strerror(errno));
            goto done;
        }
        while (len + 1 < sizeof out && ((got = read(fd[0], out + len, sizeof out - 1 - len)) > 0 ||
                                        (got < 0 && errno == EINTR)))
            if (got > 0)
                len += (size_t)got;
        out[len] = '\0';
        close(fd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        out[strcspn(out, ";\r\n")] = '\0';
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out[0]) {
            sn_cli_error("sbatch %s failed (exit %d; its message is above)", script,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            goto done;
        }
        {
            char log[PATH_MAX + 16];
            FILE *f;
            time_t t = time(NULL);
            snprintf(log, sizeof log, "%s/submitted", slurm_dir);
            if ((f = fopen(log, "a"))) {
                fprintf(f, "%s %lld %s\n", out, (long long)t, array);
                fclose(f);
            }
        }
        fprintf(stderr, "sweep slurm: submitted job array %s (%zu tasks); 'supernav sweep status %s' follows it\n",
                out, ntasks, sw.dir);
        printf("%s\n", out);
        rc = 0;
    }
done:
    free(array);
    sn_sweep_free(&sw);
    return rc;
}

/* ---- collect --------------------------------------------------------------------------- */

static int cmd_collect(int argc, char **argv)
{
    enum { O_X = 1000, O_SERIES, O_METRIC, O_PARTIAL, O_NOREPORT };
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"x", required_argument, 0, O_X},
        {"series", required_argument, 0, O_SERIES}, {"metric", required_argument, 0, O_METRIC},
        {"partial", no_argument, 0, O_PARTIAL},    {"no-report", no_argument, 0, O_NOREPORT},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    sn_sweep_collect_options o;
    sn_sweep_collect_summary sum;
    const char *metrics[32];
    char err[1400], out[PATH_MAX];
    sn_sweep sw;
    int ch, rc;
    memset(&o, 0, sizeof o);
    o.report = 1;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.out_dir = optarg; break;
        case O_X: o.x_axis = optarg; break;
        case O_SERIES: o.series_axis = optarg; break;
        case O_METRIC:
            if (o.metric_count == sizeof metrics / sizeof metrics[0]) {
                sn_cli_error("at most %zu --metric options", sizeof metrics / sizeof metrics[0]);
                return 2;
            }
            metrics[o.metric_count++] = optarg;
            break;
        case O_PARTIAL: o.partial = 1; break;
        case O_NOREPORT: o.report = 0; break;
        case 'h':
            printf("usage: supernav sweep collect DIR [-o OUT] [--x AXIS] [--series AXIS] [--metric M]...\n"
                   "                              [--partial] [--no-report]\n"
                   "  Merges the sweep's run directories (default OUT: DIR/collect):\n"
                   "    OUT/sweep.csv, OUT/sweep.json  one row per job: its axis values, state and every\n"
                   "                                   figure of its run (supernav compare's figures)\n"
                   "    OUT/sweep.md                   the surface tables: METRIC per SERIES x X value\n"
                   "    OUT/plots/surface-*.gp, .svg   the same as gnuplot lines, one per series value\n"
                   "    OUT/baseline.json              a gate baseline of the sweep's deterministic figures\n"
                   "                                   (supernav gate --baseline OUT/baseline.json RUNS)\n"
                   "    OUT/report/                    supernav report of DIR/runs (--no-report: not)\n"
                   "  X: a numeric axis (default the first with two or more values); SERIES: another axis\n"
                   "  (default the first other one with two or more values); further axes with several\n"
                   "  values give one plot each. M: a figure name (served_accuracy, far_bytes, energy_uj,\n"
                   "  latency_mean_us, ...) or a summary.json path (latency_us.p99); default a set of them.\n"
                   "  An unfinished sweep is an error unless --partial.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        sn_cli_error("give one sweep DIR (supernav sweep collect DIR [-o OUT])");
        return 2;
    }
    if (load(argv[optind], &sw) != 0)
        return 1;
    if (!o.out_dir) {
        snprintf(out, sizeof out, "%s/collect", sw.dir);
        o.out_dir = out;
    }
    o.metrics = metrics;
    rc = sn_sweep_collect(&sw, &o, &sum, err, sizeof err);
    sn_sweep_free(&sw);
    if (rc != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    fprintf(stderr, "sweep collect: %zu of %zu jobs done; %zu surface plot%s; %s\n", sum.done, sum.jobs, sum.plots,
            sum.plots == 1 ? "" : "s", sum.note[0] ? sum.note : "gate baseline written");
    printf("%s\n%s\n%s\n", sum.csv_path, sum.json_path, sum.md_path);
    return 0;
}

int sn_cmd_sweep(int argc, char **argv)
{
    if (argc >= 2) {
        if (!strcmp(argv[1], "plan"))
            return cmd_plan(argc - 1, argv + 1);
        if (!strcmp(argv[1], "run"))
            return cmd_run(argc - 1, argv + 1);
        if (!strcmp(argv[1], "slurm"))
            return cmd_slurm(argc - 1, argv + 1);
        if (!strcmp(argv[1], "status"))
            return cmd_status(argc - 1, argv + 1);
        if (!strcmp(argv[1], "collect"))
            return cmd_collect(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
        sn_cli_error("unknown sweep command '%s' (plan, run, slurm, status, collect)", argv[1]);
        return 2;
    }
    fprintf(argc >= 2 ? stdout : stderr,
            "usage: supernav sweep plan SPEC [-o DIR]      expand a spec into jobs (DIR/sweep.json)\n"
            "       supernav sweep run DIR [-j N]          run them here, N at a time (resumable)\n"
            "       supernav sweep slurm DIR [...]         as a Slurm job array (sbatch --array)\n"
            "       supernav sweep status DIR              each job's state\n"
            "       supernav sweep collect DIR [-o OUT]    merged table, surface plots, gate baseline\n"
            "  (supernav sweep <command> --help; the spec format: harness/README.md \"Sweeps\")\n");
    return argc >= 2 ? 0 : 2;
}
