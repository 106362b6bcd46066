/* slackfit: SuperServe's SlackFit (Khare et al., NSDI 2025) at batch 1, reimplemented from
 * the paper's description as issue 19 states it -- the SubNets are bucketed by profiled
 * latency, and each query is served the most accurate SubNet of the slowest bucket that fits
 * its slack (what is left of its latency ceiling after its queueing delay).
 *
 * What this file assumes and could not confirm from the paper (only its abstract was
 * reachable when this was written): SLACKFIT_BUCKETS buckets of equal width over the range of
 * the serving set's predicted latencies; a bucket fits when its slowest SubNet does; when no
 * bucket fits, the fastest bucket's most accurate SubNet; queries with an accuracy floor and
 * no ceiling get the shared choice rule (sn_serve.h), since SlackFit schedules latency SLOs
 * only, and with both, the bucket choice among SubNets that meet the floor. SuperServe keeps
 * the whole SuperNet resident (no SubGraph scheduling): here the static-subgraph residency
 * (the one SubGraph with the lowest mean latency), whose latencies are the profile's. */
#include "sn_policy.h"

#include <math.h>

#include "sn_serve.h"

#define SLACKFIT_BUCKETS 8

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sn_serve_best_static_subgraph(sv);
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    double lo = INFINITY, hi = 0.0, width, slack;
    uint32_t i, best = UINT32_MAX;
    int b, bucket_of[SN_SERVE_MAX_SUBNETS];
    (void)p;
    if (q->ceiling_us <= 0)
        return sn_serve_choose_under(sv, g, q);
    for (i = 0; i < sv->n; ++i) {
        double l = sn_serve_lat_us(sv, i, g);
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
    }
    width = (hi - lo) / SLACKFIT_BUCKETS;
    for (i = 0; i < sv->n; ++i) {
        int k = width > 0.0 ? (int)((sn_serve_lat_us(sv, i, g) - lo) / width) : 0;
        bucket_of[i] = k >= SLACKFIT_BUCKETS ? SLACKFIT_BUCKETS - 1 : k;
    }
    slack = (double)q->ceiling_us - q->waited_us;
    /* the slowest bucket whose slowest eligible SubNet fits the slack */
    for (b = SLACKFIT_BUCKETS - 1; b >= 0 && best == UINT32_MAX; --b) {
        double slowest = 0.0;
        uint32_t acc = UINT32_MAX;
        for (i = 0; i < sv->n; ++i) {
            if (bucket_of[i] != b || !sn_meets_floor(sv->s[i].top1, q->floor))
                continue;
            slowest = sn_serve_lat_us(sv, i, g) > slowest ? sn_serve_lat_us(sv, i, g) : slowest;
            if (acc == UINT32_MAX || sv->s[i].top1 > sv->s[acc].top1)
                acc = i;
        }
        if (acc != UINT32_MAX && slowest <= slack)
            best = acc;
    }
    if (best != UINT32_MAX)
        return best;
    for (b = 0; b < SLACKFIT_BUCKETS && best == UINT32_MAX; ++b) /* none fits: the fastest bucket */
        for (i = 0; i < sv->n; ++i)
            if (bucket_of[i] == b && (best == UINT32_MAX || sv->s[i].top1 > sv->s[best].top1))
                best = i;
    return best;
}

const sn_policy_ops sn_policy_slackfit = {
    "slackfit", 0, "SuperServe's SlackFit at batch 1: the most accurate SubNet of the slowest latency bucket that fits the slack",
    NULL, NULL, initial, choose, NULL, NULL};
