/* static-subnet:CFG: every query served by the named Pareto SubNet, its own SubGraph
 * resident; the constraints are ignored. A fixed point a scheduler is judged against. */
#include "sn_policy.h"

#include <stdio.h>
#include <string.h>

#include "sn_serve.h"

static int parse(sn_policy *p, const sn_serve *sv, const char *arg, char *err, size_t n)
{
    sn_config cfg;
    char canonical[SN_CONFIG_TEXT_MAX];
    uint32_t k;
    if (sn_config_parse(arg, &cfg) != SN_OK || cfg.is_arac ||
        sn_config_format(&cfg, canonical, sizeof canonical) != SN_OK) {
        snprintf(err, n, "static-subnet: '%s' is not a SubNet config", arg);
        return -1;
    }
    for (k = 0; k < sv->n; ++k)
        if (!strcmp(sv->s[k].config, canonical)) {
            p->arg = k;
            return 0;
        }
    snprintf(err, n, "static-subnet: '%s' is not one of the model's Pareto SubNets", arg);
    return -1;
}

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)sv;
    return p->arg;
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)sv, (void)g, (void)q;
    return p->arg;
}

const sn_policy_ops sn_policy_static_subnet = {
    "static-subnet", 1, "every query served by SubNet CFG, its SubGraph resident",
    parse, NULL, initial, choose, NULL, NULL};
