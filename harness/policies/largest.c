/* largest: every query served by the most accurate Pareto SubNet, its own SubGraph resident;
 * the constraints are ignored. The accuracy end of the front. */
#include "sn_policy.h"
#include "sn_serve.h"

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sn_serve_most_accurate(sv);
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)p, (void)g, (void)q;
    return sn_serve_most_accurate(sv);
}

const sn_policy_ops sn_policy_largest = {
    "largest", 0, "every query served by the most accurate SubNet, its SubGraph resident",
    NULL, NULL, initial, choose, NULL, NULL};
