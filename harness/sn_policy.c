/* supernav harness: the policy registry (sn_policy.h). Adding a policy: its file under
 * harness/policies/ and one line here. */
#include "sn_policy.h"

#include <stdio.h>
#include <string.h>

static const sn_policy_ops *const registry[] = {
    &sn_policy_sushi,    &sn_policy_nocache,  &sn_policy_static_subgraph, &sn_policy_static_subnet,
    &sn_policy_largest,  &sn_policy_smallest, &sn_policy_oracle,
    &sn_policy_static_hindsight, &sn_policy_lru, &sn_policy_slackfit,
};

size_t sn_policy_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const sn_policy_ops *sn_policy_at(size_t i)
{
    return i < sn_policy_count() ? registry[i] : NULL;
}

const sn_policy_ops *sn_policy_find(const char *text)
{
    size_t i, len;
    if (!text)
        return NULL;
    len = strcspn(text, ":");
    for (i = 0; i < sn_policy_count(); ++i)
        if (strlen(registry[i]->name) == len && !strncmp(registry[i]->name, text, len) &&
            (text[len] == ':') == (registry[i]->takes_arg != 0))
            return registry[i];
    return NULL;
}

void sn_policy_list(char *buf, size_t size)
{
    size_t i, used = 0;
    if (size)
        buf[0] = '\0';
    for (i = 0; i < sn_policy_count() && used < size; ++i) {
        int k = snprintf(buf + used, size - used, "%s%s%s", i ? ", " : "", registry[i]->name,
                         registry[i]->takes_arg ? ":CFG" : "");
        if (k < 0)
            break;
        used += (size_t)k;
    }
}
