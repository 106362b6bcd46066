/* supernav reports: can an experiment tell its policies apart? One rule for `supernav
 * summary` and `supernav report`. A trace's experiment is DEGENERATE when every policy meets
 * under SN_VALIDITY_LOW_PCT % of the SLOs, or every one over SN_VALIDITY_HIGH_PCT %, or all
 * policies are within SN_VALIDITY_NOISE_POINTS of each other; the reasons come from the
 * trace's constraints against the serving set (policy.json "feasibility": floors above the
 * best SubNet, ceilings below the fastest, the offered load). Host-only. */
#ifndef SN_VALIDITY_H
#define SN_VALIDITY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define SN_VALIDITY_LOW_PCT 5.0
#define SN_VALIDITY_HIGH_PCT 95.0
#define SN_VALIDITY_NOISE_POINTS 1.0

/* SLO_PCT: each policy's SLO attainment in percent (N of them). Returns 1 and the rule that
 * failed in WHY when degenerate, else 0 (WHY empty). */
int sn_validity_judge(const double *slo_pct, size_t n, char *why, size_t why_bytes);

/* The reasons a trace gives, from a run's policy.json "feasibility" object (NULL: a run of a
 * supernav before the record), into BUF as "; "-separated clauses. */
void sn_validity_reasons(const cJSON *feasibility, char *buf, size_t buf_bytes);

#endif
