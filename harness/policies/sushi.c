/* sushi: SUSHI's SubGraph Stationary scheduler (Behnam, Tong et al., MLSys 2023) as this
 * harness implements it. The SubNet choice of sn_serve.h with the resident SubGraph's
 * latencies; every Q queries the SubGraph is re-chosen from the last W queries.
 *
 * Candidates: the current SubGraph, static-subgraph's and the SubGraph of every SubNet
 * served in the window; on a platform with slice residency (and a cost model that fits, or
 * exact pricing: sn_serve_slices_priced) also the knapsack SubGraph for the
 * window's demand (harness/sn_slices.h: per tensor, the leading boxes with the most predicted
 * latency saved per byte, weighted by how often the window served each SubNet, until the
 * budget is full), whose latencies the cost model predicts and whose switch moves only the
 * difference with what is resident. Each candidate G is scored by serving the window's queries again
 * on paper: the same arrivals through a one-server queue whose service times are the
 * profile's with G resident (a switch to G delays the first query by G's switching time),
 * the choice rule per query; the candidate meeting the most SLOs wins (ties: lowest summed
 * latency). It is switched to when it meets more SLOs than the current one by over
 * SUSHI_HYSTERESIS_PCT % of the window, or else when its predicted saving over the next Q
 * queries exceeds SUSHI_SAVING_FACTOR times its switching cost -- and only when it is no
 * worse than the current one on the window's last Q queries (SLOs met and summed latency),
 * so that a window straddling a change of constraints does not switch to the SubGraph of
 * the phase that has just ended. The query that triggers a switch pays it (time and far
 * bytes). Each guard and the candidate set: tests/test_sushi_guards.c. */
#include "sn_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sn_serve.h"

/* A SubGraph that meets more SLOs on paper must meet over this percentage of the window
 * more; one that only saves time must save, over the next Q queries, this many times its
 * switching cost. A switch bets that the next Q queries resemble the window; on a
 * stationary trace they regress to the mean. Chosen on modelled replays of ten 3000-query
 * traces (the three of make bench and seven of other seeds and kinds): with 1 % and 1x,
 * sushi met fewer SLOs than static-subgraph on four of them (by 1 to 14); with 2 % and 4x
 * on none, and more on every SUSHI-style stream. The profile is measured, so this moves:
 * on a later profile of the same kernels sushi lost 4 and 7 SLOs of 3000 on two of the
 * seven other traces (bursty, SUSHI stream seed 11) and met at least as many on the other
 * eight, the standard three included. */
#define SUSHI_HYSTERESIS_PCT 2
#define SUSHI_SAVING_FACTOR 4.0

/* One query of the window: its constraints, its scheduled arrival, the SubNet it got. */
typedef struct slot {
    float floor;
    int64_t ceiling_us;
    double arrival_us;
    uint32_t subnet;
} slot;

typedef struct sushi_state {
    slot *window;                /* p->window slots, a ring */
    uint32_t fill, pos;
    uint32_t g_static;           /* static-subgraph's SubGraph: always a candidate */
    uint32_t decisions;          /* re-choices so far (names the slice SubGraphs) */
} sushi_state;

static int start(sn_policy *p, sn_serve *sv, char *err, size_t n)
{
    sushi_state *s = calloc(1, sizeof *s);
    if (s)
        s->window = calloc(p->window ? p->window : 1, sizeof *s->window);
    if (!s || !s->window) {
        free(s);
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->g_static = sn_serve_best_static_subgraph(sv);
    p->state = s;
    return 0;
}

static void finish(sn_policy *p)
{
    sushi_state *s = p->state;
    if (s)
        free(s->window);
    free(s);
    p->state = NULL;
}

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sn_serve_best_static_subgraph(sv);
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)p;
    return sn_serve_choose_under(sv, g, q);
}

/* The window's queries served again on paper with G resident: the same arrivals through a
 * one-server queue, empty at the window's first arrival, whose service times are the
 * profile's with G (a switch to G delays the first one by its cost), so a faster SubGraph
 * also shortens the queue behind it. MET/LAT
 * over the window, MET_R/LAT_R over its last Q queries. */
static void score(const sn_policy *p, const sn_serve *sv, const sushi_state *s, uint32_t g,
                  uint32_t g_cur, long *met, double *lat, long *met_r, double *lat_r)
{
    uint32_t gg[SN_SERVE_MAX_SUBNETS], memo_choice[8], n_memo = 0, i, k;
    float memo_floor[8];
    uint32_t first = (s->pos + p->window - s->fill) % p->window;
    /* the paper queue starts empty at the window's first arrival: SUSHI's choice depends on the
     * trace and the profile only, never on measured service times (a --virtual or real-time
     * replay on a loaded machine makes the same decisions as on an idle one) */
    double t = s->window[first].arrival_us + sn_serve_switch_us(sv, g_cur, g);
    *met = *met_r = 0;
    *lat = *lat_r = 0.0;
    for (k = 0; k < sv->n; ++k)
        gg[k] = g;
    for (i = 0; i < s->fill; ++i) {
        const slot *w8 = &s->window[(first + i) % p->window];
        double st = w8->arrival_us > t ? w8->arrival_us : t, l;
        uint32_t c = UINT32_MAX, m;
        int ok;
        /* a floor query's choice depends only on its floor: memoized (floor-level mode, no
         * ceiling or --late level; otherwise it depends on its wait, and in accuracy mode on
         * the queue too) */
        int memo = !isnan(w8->floor) && sv->choice != SN_CHOICE_ACCURACY &&
                   (w8->ceiling_us <= 0 || sv->late == SN_LATE_LEVEL);
        if (memo)
            for (m = 0; m < n_memo && c == UINT32_MAX; ++m)
                if (memo_floor[m] == w8->floor)
                    c = memo_choice[m];
        if (c == UINT32_MAX && sv->choice == SN_CHOICE_ACCURACY) {
            /* accuracy mode: the choice depends on the queue and the recent arrivals too
             * (the window's later queries that have arrived by ST, its earlier ones), as the
             * replay's (sn_serve_lookahead_from_trace); never memoized */
            sn_lookahead la;
            double arr[SN_SERVE_RECENT];
            int64_t ceil[SN_SERVE_RECENT];
            uint32_t j, j0 = i + 1 > SN_SERVE_RECENT ? i + 1 - SN_SERVE_RECENT : 0;
            la.n_queued = 0;
            for (j = i + 1; j < s->fill; ++j) {
                const slot *wj = &s->window[(first + j) % p->window];
                if (!sn_serve_lookahead_queue(&la, wj->arrival_us, wj->floor, wj->ceiling_us, st))
                    break;
            }
            for (j = j0; j <= i; ++j) {
                arr[j - j0] = s->window[(first + j) % p->window].arrival_us;
                ceil[j - j0] = s->window[(first + j) % p->window].ceiling_us;
            }
            sn_serve_lookahead_recent(&la, arr, ceil, i + 1 - j0);
            c = sn_serve_choose(sv, gg, w8->floor, w8->ceiling_us, st - w8->arrival_us, &la);
        } else if (c == UINT32_MAX) {
            c = sn_serve_choose(sv, gg, w8->floor, w8->ceiling_us, st - w8->arrival_us, NULL);
            if (memo && n_memo < 8) {
                memo_floor[n_memo] = w8->floor;
                memo_choice[n_memo++] = c;
            }
        }
        l = sv->lat_us[c][g];
        t = st + l;
        *lat += t - w8->arrival_us;
        ok = sn_meets_floor(sv->s[c].top1, w8->floor) &&
             (w8->ceiling_us <= 0 || t - w8->arrival_us <= (double)w8->ceiling_us);
        *met += ok;
        if (i + p->period >= s->fill) {
            *met_r += ok;
            *lat_r += t - w8->arrival_us;
        }
    }
}

/* The knapsack SubGraph (harness/sn_slices.h) for the window's mix of served SubNets, in a
 * slice slot other than the current SubGraph's. */
static uint32_t knapsack_candidate(sn_serve *sv, const sushi_state *s, uint32_t g_cur)
{
    double weight[SN_SERVE_MAX_SUBNETS] = {0};
    uint32_t i;
    char name[48];
    for (i = 0; i < s->fill; ++i)
        weight[s->window[i].subnet] += 1.0;
    snprintf(name, sizeof name, "slices:sushi@%u", s->decisions);
    return sn_serve_subgraph_knapsack(sv, weight, g_cur == sv->n + 1 ? 1u : 0u, name, g_cur);
}

static uint32_t resident(sn_policy *p, sn_serve *sv, uint32_t g_cur, const sn_policy_query *q,
                         uint32_t subnet, int *free_switch)
{
    sushi_state *s = p->state;
    uint32_t best = g_cur, g, i;
    uint8_t cand[SN_SERVE_MAX_SUBGRAPHS] = {0};
    long best_met = -1, cur_met = 0, best_met_r = 0, cur_met_r = 0;
    double best_lat = INFINITY, cur_lat = 0.0, best_lat_r = 0.0, cur_lat_r = 0.0;
    (void)free_switch;
    if (!p->window)
        return g_cur;
    s->window[s->pos] = (slot){q->floor, q->ceiling_us, q->arrival_us, subnet};
    s->pos = (s->pos + 1) % p->window;
    if (s->fill < p->window)
        ++s->fill;
    if (!p->period || (q->index + 1) % p->period != 0)
        return g_cur;
    ++s->decisions;
    /* candidates: the current SubGraph, the best static one, those of the SubNets served lately */
    cand[g_cur] = 1;
    cand[s->g_static] = 1;
    for (i = 0; i < s->fill; ++i)
        cand[s->window[i].subnet] = 1;
    /* and the slices that serve the window's demand best within the budget, where their
     * prices can be trusted (sn_serve_slices_priced) */
    if (sn_serve_slices_priced(sv))
        cand[knapsack_candidate(sv, s, g_cur)] = 1;
    for (g = 0; g < sv->n + 1 + SN_SERVE_DYN; ++g) {
        long met, met_r;
        double lat, lat_r;
        if (!cand[g])
            continue;
        score(p, sv, s, g, g_cur, &met, &lat, &met_r, &lat_r);
        if (g == g_cur) {
            cur_met = met;
            cur_lat = lat;
            cur_met_r = met_r;
            cur_lat_r = lat_r;
        }
        if (met > best_met || (met == best_met && lat < best_lat)) {
            best_met = met;
            best_lat = lat;
            best_met_r = met_r;
            best_lat_r = lat_r;
            best = g;
        }
    }
    if (best != g_cur && best != sv->n && best_met_r >= cur_met_r && best_lat_r <= cur_lat_r &&
        ((best_met - cur_met) * 100 > (long)s->fill * SUSHI_HYSTERESIS_PCT ||
         (cur_lat - best_lat) * (double)p->period / (double)s->fill >
             sn_serve_switch_us(sv, g_cur, best) * SUSHI_SAVING_FACTOR))
        return best;
    return g_cur;
}

const sn_policy_ops sn_policy_sushi = {
    "sushi", 0, "SUSHI: the SubNet choice with a SubGraph re-chosen every Q queries from the last W",
    NULL, start, initial, choose, resident, finish};
