/* static-subgraph: the SubNet choice (sn_serve.h) with one SubGraph resident for the whole
 * run, the one with the lowest mean predicted latency over every Pareto SubNet (the floors'
 * reference residency). SUSHI's own static baseline. */
#include "sn_policy.h"
#include "sn_serve.h"

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

const sn_policy_ops sn_policy_static_subgraph = {
    "static-subgraph", 0, "the SubNet choice, one SubGraph resident all run (lowest mean latency)",
    NULL, NULL, initial, choose, NULL, NULL};
