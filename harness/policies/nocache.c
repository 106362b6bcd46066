/* nocache: the SubNet choice (sn_serve.h), nothing ever resident: every weight moves from
 * far memory on every query. The baseline of a platform without a SubGraph. */
#include "sn_policy.h"
#include "sn_serve.h"

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sv->n;
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)p;
    return sn_serve_choose_under(sv, g, q);
}

const sn_policy_ops sn_policy_nocache = {
    "nocache", 0, "the SubNet choice, nothing resident (every weight from far memory)",
    NULL, NULL, initial, choose, NULL, NULL};
