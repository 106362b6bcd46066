/* supernav reports: the CI regression gate against a committed baseline.
 *
 *   sn_gate_write_baseline(runs, n, &thresholds, "ci/baselines/cpu.json", err, n)
 *   sn_gate_check("ci/baselines/cpu.json", runs, n, NULL, &result, err, n)
 *       -> result.failures > 0: exit 1 and print result.rows
 *
 * Experiments and repetitions. A run directory named NAME@K is repetition K of the
 * experiment NAME (ci/gate.sh writes sushi@1 ... sushi@5); any other name is an experiment
 * of one repetition. The baseline (JSON, schema 2) holds, per experiment: the platform,
 * ISA, policy and inputs (SHA-256 of model and trace), every deterministic figure of
 * sn_figures.h (EXACT and TIGHT values, digests), and per WALL figure the median of each
 * repetition; and the thresholds the gate applies.
 *
 * The rules, figure by figure:
 *   repetitions             must agree on every deterministic figure (else the set is not
 *                           deterministic: CHANGED)
 *   inputs, platform, ISA   must match the baseline (else not comparable: CHANGED)
 *   EXACT                   equal, or the run fails (REGRESSED when the figure moved the
 *                           bad way, CHANGED otherwise: a deterministic figure that moves
 *                           for the better also needs `make baseline`, on purpose)
 *   TIGHT                   |a - b| <= tight_rel * max(|a|, |b|), else as EXACT
 *   WALL                    over the repetitions' medians (or, with reference runs,
 *                           the reference's repetitions: sn_gate_check_reference): REGRESSED only when the
 *                           two-sided Mann-Whitney U test gives p < alpha AND the median of
 *                           the medians moved the bad way by more than wall_tolerance
 *                           (relative); IMPROVED (passes) the other way round; WITHIN
 *                           otherwise. Never one run's number against a threshold: with
 *                           fewer than 4 repetitions a side, no p can fall below 0.05.
 *   an experiment the baseline has and the runs lack: MISSING (fails); one the baseline
 *   lacks: NEW (noted, passes). Experiments pair by name, except that one experiment
 *   given against a baseline of one pairs whatever the names. */
#ifndef SN_GATE_H
#define SN_GATE_H

#include <stddef.h>

#include "sn_figures.h"

#define SN_GATE_SCHEMA_VERSION 2

typedef struct sn_gate_thresholds {
    double alpha;            /* significance for WALL figures (default 0.05) */
    double wall_tolerance;   /* relative median shift tolerated (default 0.25) */
    double tight_rel;        /* TIGHT figures' relative tolerance (default 1e-9) */
} sn_gate_thresholds;

typedef enum sn_gate_status {
    SN_GATE_SAME = 0,        /* equal (deterministic) */
    SN_GATE_WITHIN,          /* wall-clock: moved, not significantly or within tolerance */
    SN_GATE_IMPROVED,        /* wall-clock: significantly better beyond the tolerance */
    SN_GATE_NEW,             /* a run the baseline does not know */
    SN_GATE_REGRESSED,       /* fails: worse */
    SN_GATE_CHANGED,         /* fails: a deterministic figure or an input differs */
    SN_GATE_MISSING          /* fails: in the baseline, not in the run (or unreadable) */
} sn_gate_status;

typedef struct sn_gate_row {
    char run[96];
    char figure[48];
    sn_figure_kind kind;
    const char *unit;
    double base, cur;        /* WALL: medians of the repetitions' medians; NaN: absent */
    char base_text[72], cur_text[72];
    double p;                /* WALL: Mann-Whitney p over the repetitions; NaN otherwise */
    size_t reps_base, reps_cur; /* WALL: repetitions on each side */
    sn_gate_status status;
    char note[200];
} sn_gate_row;

typedef struct sn_gate_result {
    sn_gate_row *rows;
    size_t count;
    size_t failures;         /* rows with REGRESSED, CHANGED or MISSING */
    size_t regressions;      /* rows with REGRESSED */
    sn_gate_thresholds thresholds; /* those applied */
    char baseline_created[40], baseline_revision[48];
    int wall_reference;      /* wall-clock set against reference runs, not the baseline's medians */
} sn_gate_result;

/* alpha 0.05, wall_tolerance 0.25, tight_rel SN_FIGURE_TIGHT_REL. */
void sn_gate_thresholds_default(sn_gate_thresholds *t);

/* Writes the baseline of the N run directories RUNS (paths) to PATH, atomically.
 * Returns 0, or -1 with one line in ERR (also when repetitions of an experiment disagree
 * on a deterministic figure). */
int sn_gate_write_baseline(char *const *runs, size_t n, const sn_gate_thresholds *t,
                           const char *path, char *err, size_t err_bytes);

/* Checks the N run directories against the baseline at BASELINE_PATH. OVERRIDE (may be
 * NULL) replaces the baseline's thresholds where a field is > 0. Returns 0 (look at
 * RESULT->failures), or -1 with one line in ERR when the baseline cannot be read.
 * Free RESULT with sn_gate_result_free. */
int sn_gate_check(const char *baseline_path, char *const *runs, size_t n,
                  const sn_gate_thresholds *override, sn_gate_result *result, char *err,
                  size_t err_bytes);
/* The same, with the wall-clock figures set against REF_RUNS (N_REF run directories, named
 * NAME@K like the runs) instead of the medians the baseline recorded: a reference build
 * replayed on this machine in the same command, interleaved with the runs, so that a machine
 * slower or busier than the one that wrote the baseline moves both sides alike (ci/gate.sh
 * builds the baseline's own git revision). An experiment the reference runs lack: MISSING.
 * REF_RUNS NULL: as sn_gate_check. */
int sn_gate_check_reference(const char *baseline_path, char *const *runs, size_t n,
                            char *const *ref_runs, size_t n_ref, const sn_gate_thresholds *override,
                            sn_gate_result *result, char *err, size_t err_bytes);
/* The same with the baseline's bytes in memory (TEXT, SIZE bytes), reported as BASELINE_PATH. */
int sn_gate_check_buffer(const char *baseline_path, const char *text, size_t size,
                         char *const *runs, size_t n, const sn_gate_thresholds *override,
                         sn_gate_result *result, char *err, size_t err_bytes);

void sn_gate_result_free(sn_gate_result *result);

/* "same", "within", "improved", "new", "REGRESSED", "CHANGED", "MISSING". */
const char *sn_gate_status_str(sn_gate_status status);

#endif
