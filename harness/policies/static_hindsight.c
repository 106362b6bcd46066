/* static-hindsight: the SubNet choice (sn_serve.h) with one SubGraph resident for the whole
 * run, chosen knowing the whole trace: every SubGraph (and none) is tried on paper -- the
 * replay's arrivals through a one-server queue whose service times are the profile's with
 * that SubGraph resident -- and the one meeting the most SLOs (ties: the lower total latency,
 * then the lower index) is kept. The offline bound of any static choice (issue 19); an
 * offline policy, it reads the trace before the replay starts.
 *
 * The SubGraphs tried: every SubNet's own, and on a platform with slice residency whose
 * slice prices can be trusted (sn_serve_slices_priced) also slice SubGraphs fitted to the
 * whole trace's demand -- the knapsack (harness/sn_slices.h) over the mix of SubNets the
 * trace is served with on paper under no SubGraph, and under the best SubGraph found so far,
 * each refined once (the knapsack again over the mix served under its own result): a
 * SubGraph that holds parts of several SubNets is a static choice too. They are named
 * "slices:static-hindsight". Tested: test_sushi_guards (test_hindsight_*). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sn_policy.h"
#include "sn_serve.h"
#include "sn_trace.h"

/* The whole trace served on paper with G resident: SLOs met into *MET, latency summed; the
 * queries each SubNet served added to MIX (NULL: not counted). */
static double paper(const sn_policy *p, const sn_serve *sv, uint32_t g, size_t *met, double *mix)
{
    const sn_trace *tr = p->trace;
    double t = 0.0, total = 0.0, speed = p->speed > 0.0 ? p->speed : 1.0;
    size_t q;
    sn_lookahead la; /* accuracy mode's look-ahead */
    *met = 0;
    for (q = 0; q < p->trace_count; ++q) {
        double arrival = (double)tr->arrival_us[q] / speed, start, end;
        sn_policy_query pq;
        uint32_t c;
        if (tr->mode == SN_TRACE_MODE_CLOSED && t > arrival)
            arrival = t; /* a closed trace issues a query when the previous one ends */
        start = arrival > t ? arrival : t;
        pq.index = q;
        pq.floor = tr->acc_floor[q];
        pq.ceiling_us = tr->lat_ceiling_us[q];
        pq.arrival_us = arrival;
        pq.start_us = start;
        pq.waited_us = start - arrival;
        pq.la = NULL;
        if (sv->choice == SN_CHOICE_ACCURACY) {
            sn_serve_lookahead_from_trace(tr, q, p->trace_count, speed, start, &la);
            pq.la = &la;
        }
        c = sn_serve_choose_under(sv, g, &pq);
        if (mix)
            mix[c] += 1.0;
        end = start + sv->lat_us[c][g];
        t = end;
        total += end - arrival;
        *met += sn_meets_floor(sv->s[c].top1, pq.floor) &&
                (pq.ceiling_us <= 0 || end - arrival <= (double)pq.ceiling_us);
    }
    return total;
}

static int start(sn_policy *p, sn_serve *sv, char *err, size_t n)
{
    uint32_t g, best = sv->n, slot = 0;
    size_t best_met = 0;
    double best_total = INFINITY;
    const int slices = p->trace && sn_serve_slices_priced(sv);
    /* the mixes served on paper under no SubGraph and under the best so far: the seeds below */
    double mix_none[SN_SERVE_MAX_SUBNETS] = {0}, mix_best[SN_SERVE_MAX_SUBNETS] = {0}, mix[SN_SERVE_MAX_SUBNETS];
    (void)err;
    (void)n;
    for (g = 0; g <= sv->n; ++g) {
        size_t met = 0;
        double total;
        memset(mix, 0, sizeof mix);
        total = p->trace ? paper(p, sv, g, &met, slices ? mix : NULL) : 0.0;
        if (g == sv->n)
            memcpy(mix_none, mix, sizeof mix);
        if (g == 0 || met > best_met || (met == best_met && total < best_total)) {
            best = g;
            best_met = met;
            best_total = total;
            memcpy(mix_best, mix, sizeof mix);
        }
    }
    /* slice SubGraphs for the whole trace's demand: the knapsack over the mix served under
     * no SubGraph and under the best so far, each refined once (the knapsack over the mix its
     * own result serves); each in a slot of its own (SN_SERVE_DYN >= 4), so the one kept stays */
    if (slices) {
        const double *seeds[2] = {mix_none, mix_best};
        uint32_t i, step;
        for (i = 0; i < 2 && slot + 2 <= SN_SERVE_DYN; ++i) {
            memcpy(mix, seeds[i], sizeof mix);
            for (step = 0; step < 2; ++step, ++slot) {
                size_t met = 0;
                double total;
                g = sn_serve_subgraph_knapsack(sv, mix, slot, "slices:static-hindsight", best);
                memset(mix, 0, sizeof mix);
                total = paper(p, sv, g, &met, mix);
                if (met > best_met || (met == best_met && total < best_total)) {
                    best = g;
                    best_met = met;
                    best_total = total;
                }
            }
        }
    }
    p->arg = best;
    return 0;
}

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    return p->arg < sv->n + 1 + SN_SERVE_DYN ? p->arg : sv->n;
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)p;
    return sn_serve_choose_under(sv, g, q);
}

const sn_policy_ops sn_policy_static_hindsight = {
    "static-hindsight", 0, "the SubNet choice, the one SubGraph best for the whole trace (offline bound)",
    NULL, start, initial, choose, NULL, NULL};
