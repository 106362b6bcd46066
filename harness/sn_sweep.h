/* supernav harness: sweeps -- a command template and axes expanded into independent jobs,
 * one run directory each, run locally (in parallel) or as the tasks of a Slurm job array.
 *
 * The spec (a text file; harness/README.md "Sweeps" documents it):
 *
 *   # comment                      blank lines and '#' comments are ignored
 *   name = fpga-buffer-policy      optional; default: the spec's base name
 *   command = replay --virtual --trace {dir}/traces/t.csv --policy {policy}
 *             ... --near-kib {buf} --out {out} --quiet      (one line; required, once)
 *   axis policy = sushi nocache static-subgraph             (values: whitespace-separated)
 *   axis buf = 256 512 1024
 *   setup = trace gen sushi --count 1000 --seed 11 -o {dir}/traces/t.csv   (0 or more)
 *   repeat = 1                     repetitions of every job (1..1000): ids end in @K
 *   workdir = /path                where commands run; default: the directory plan ran in
 *
 * The command and setup lines are supernav subcommands without "supernav", split on
 * whitespace into arguments before substitution (so a substituted path may hold spaces).
 * Placeholders: {AXIS} (an axis's value), {out} (the job's run directory DIR/runs/ID,
 * required in the command), {job} (the job id), {index} (0-based), {rep} (1-based), {dir}
 * (the sweep directory, absolute); {env:NAME} is left in the manifest and replaced, when the
 * job starts, by $NAME of the runner (e.g. the serial port of the MCU board a Slurm task
 * was given; an unset NAME stops the run with an error). Jobs are the Cartesian product of the axes in the order
 * written, the last axis varying fastest, each repeated REPEAT times: job index i is stable
 * for a given spec. A job id is the values joined by '_' (characters outside
 * [A-Za-z0-9.+-] become '_'), with "@K" when repeat > 1.
 *
 * The sweep directory:
 *   DIR/sweep.json          the manifest: spec fields, absolute paths of supernav, workdir
 *                           and DIR, and per job its index, id, values, rep and argv
 *   DIR/spec                a copy of the spec
 *   DIR/setup.log           the setup commands' output
 *   DIR/runs/ID/            the job's run directory (what {out} names)
 *   DIR/jobs/ID/stdout, stderr    the last attempt's output; earlier failed attempts keep
 *                           theirs as attempt-K.stdout/.stderr (and attempt-K.run, a run
 *                           directory left by an attempt that then failed)
 *   DIR/jobs/ID/done        written atomically, last, when the command exited 0 and its run
 *                           directory exists: the job is finished and is never run again
 *   DIR/jobs/ID/failed      the last failed attempt (exit status, attempt number); the next
 *                           `sweep run` retries the job
 *   DIR/jobs/ID/lock        an fcntl lock held while a runner runs the job (two runners --
 *                           local and Slurm, or a requeued task -- never run one job at once)
 *
 * Library code: nothing is printed (progress goes through a callback). Host C11 (POSIX). */
#ifndef SN_SWEEP_H
#define SN_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SN_SWEEP_SCHEMA_VERSION 1
#define SN_SWEEP_MAX_AXES 16
#define SN_SWEEP_MAX_JOBS 100000

typedef struct sn_sweep_axis {
    char *name;
    char **values;
    size_t count;
    bool numeric;          /* every value is a finite number */
    unsigned line;         /* where the spec defines it (0: loaded from a manifest) */
} sn_sweep_axis;

typedef struct sn_sweep_job {
    size_t index;
    char *id;
    size_t *value_index;   /* per axis, the index of this job's value */
    unsigned rep;          /* 1-based */
    char **argv;           /* substituted arguments, without the supernav binary */
    size_t argc;
} sn_sweep_job;

typedef struct sn_sweep {
    char *name;
    char *command;         /* the template as written */
    char **setup;          /* setup templates */
    size_t setup_count;
    sn_sweep_axis axes[SN_SWEEP_MAX_AXES];
    size_t axis_count;
    unsigned repeat;
    char *workdir;         /* absolute */
    char *dir;             /* absolute sweep directory; NULL until planned or loaded */
    char *supernav;        /* absolute path of the supernav binary that planned it */
    sn_sweep_job *jobs;
    size_t job_count;
} sn_sweep;

/* Parses the spec file at PATH into SWEEP (jobs not expanded yet). Returns 0, or -1 with
 * one line in ERR naming the file and line ("spec.txt:7: unknown placeholder {bufr}"). */
int sn_sweep_parse(const char *path, sn_sweep *sweep, char *err, size_t err_bytes);

/* The same from an open stream (read to its end and closed, e.g. an fmemopen'ed buffer),
 * reported as PATH. */
int sn_sweep_parse_stream(FILE *stream, const char *path, sn_sweep *sweep, char *err,
                          size_t err_bytes);

/* Expands SWEEP's jobs for the sweep directory DIR (absolute paths substituted). Returns
 * 0, or -1 with one line in ERR (too many jobs, two jobs with the same id). */
int sn_sweep_expand(sn_sweep *sweep, const char *dir, char *err, size_t err_bytes);

/* Writes a planned sweep: creates DIR (it must not exist, or be empty), DIR/spec (copied
 * from SPEC_PATH) and DIR/sweep.json (atomically). SUPERNAV: the binary's absolute path. */
int sn_sweep_write(sn_sweep *sweep, const char *spec_path, const char *supernav, char *err,
                   size_t err_bytes);

/* Loads DIR/sweep.json. Returns 0, or -1 with one line in ERR. */
int sn_sweep_load(const char *dir, sn_sweep *sweep, char *err, size_t err_bytes);

/* The same with DIR/sweep.json's bytes already in memory (TEXT, SIZE bytes). */
int sn_sweep_load_buffer(const char *dir, const char *text, size_t size, sn_sweep *sweep, char *err,
                         size_t err_bytes);
void sn_sweep_free(sn_sweep *sweep);

/* The job's value of axis A. */
const char *sn_sweep_value(const sn_sweep *sweep, const sn_sweep_job *job, size_t a);

/* Substitutes {dir} in the setup templates and runs each (SUPERNAV, argv) in order in the
 * workdir, output appended to DIR/setup.log. Returns 0, or -1 with one line in ERR. */
int sn_sweep_setup(const sn_sweep *sweep, char *err, size_t err_bytes);

typedef enum sn_sweep_state {
    SN_SWEEP_PENDING = 0,  /* never run, or interrupted */
    SN_SWEEP_DONE,         /* the done marker exists */
    SN_SWEEP_FAILED        /* the failed marker exists (retried by the next run) */
} sn_sweep_state;

const char *sn_sweep_state_str(sn_sweep_state state);

/* The job's state, and (when ATTEMPTS is not NULL) how many attempts it has had. */
sn_sweep_state sn_sweep_job_state(const sn_sweep *sweep, const sn_sweep_job *job, unsigned *attempts);

/* What happened to one job in sn_sweep_run. */
typedef enum sn_sweep_outcome {
    SN_SWEEP_RAN_OK = 0,
    SN_SWEEP_RAN_FAILED,
    SN_SWEEP_SKIPPED_DONE,
    SN_SWEEP_SKIPPED_BUSY  /* another runner holds its lock */
} sn_sweep_outcome;

typedef struct sn_sweep_event {
    const sn_sweep_job *job;
    sn_sweep_outcome outcome;
    bool started;          /* true: the job has just been started (outcome not yet known) */
    int exit_status;       /* the command's exit status; 128+N killed by signal N; -1 none */
    unsigned attempt;      /* 1-based */
    double elapsed_s;
    char note[300];        /* why it failed, in one line */
} sn_sweep_event;

typedef void (*sn_sweep_progress_fn)(const sn_sweep_event *event, void *user);

typedef struct sn_sweep_totals {
    size_t ran_ok, ran_failed, skipped_done, skipped_busy;
} sn_sweep_totals;

/* Runs the jobs whose indices are listed (ONLY NULL: every job), up to PARALLEL at once
 * (fork/exec of the sweep's supernav in its workdir), skipping finished and busy jobs and
 * retrying failed ones; PROGRESS (may be NULL) hears each start and end. Returns 0 when
 * it could run what it had to (look at TOTALS), -1 with one line in ERR when it could not
 * (a directory unwritable, fork failing). */
int sn_sweep_run(const sn_sweep *sweep, const size_t *only, size_t only_count, unsigned parallel,
                 sn_sweep_progress_fn progress, void *user, sn_sweep_totals *totals, char *err,
                 size_t err_bytes);

/* The command line of ARGV as a POSIX shell would need it (quoted where needed), with
 * SUPERNAV first when not NULL. Returns a malloc'ed string, or NULL (out of memory). */
char *sn_sweep_shell_line(const char *supernav, char *const *argv, size_t argc);

/* Adds the sweep's axes to ROOT (a cJSON object) as "axes": [{name, numeric, values}], as
 * the manifest (sweep.json) and the collected sweep.json record them. */
void sn_sweep_axes_json(const sn_sweep *sweep, void *root);

/* PATH quoted for a POSIX shell ('...'), malloc'ed, or NULL. */
char *sn_sweep_shell_quote(const char *text);

#endif
