/* oracle: the SubNet choice (sn_serve.h) with every SubNet's own-SubGraph latency, and the
 * chosen SubNet's SubGraph made resident before each query outside the timed region (no
 * switching cost, a perfect cache of own SubGraphs). An offline reference for what that
 * cache buys under the same choice rule -- not a bound on every policy: a policy with
 * another SubGraph (where a SubNet runs faster under another SubNet's SubGraph than under
 * its own) or another choice rule (smallest, where the rule's accurate choices build a
 * queue) can meet more SLOs. tests/test_sushi_guards.c plants all three properties. */
#include "sn_policy.h"
#include "sn_serve.h"

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sv->n;
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    uint32_t own[SN_SERVE_MAX_SUBNETS], i;
    (void)p, (void)g;
    for (i = 0; i < sv->n; ++i)
        own[i] = i;
    return sn_serve_choose(sv, own, q->floor, q->ceiling_us, q->waited_us, q->la);
}

static uint32_t resident(sn_policy *p, sn_serve *sv, uint32_t g, const sn_policy_query *q,
                         uint32_t subnet, int *free_switch)
{
    (void)p, (void)sv, (void)g, (void)q;
    *free_switch = 1;
    return subnet;
}

const sn_policy_ops sn_policy_oracle = {
    "oracle", 0, "offline: the choice with each SubNet's own SubGraph, made resident at no cost",
    NULL, NULL, initial, choose, resident, NULL};
