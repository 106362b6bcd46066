/* lru: a weight cache without a scheduler. The SubNet choice (sn_serve.h) with the resident
 * SubGraph's latencies; before each query the chosen SubNet's weights become resident on use,
 * and when they do not fit, the least recently used slices are evicted first:
 *   - with slice residency (sv->slices; harness/sn_slices.h): at slice granularity -- each
 *     tensor's box grows to cover the SubNet's, the missing bytes are moved (paid by the
 *     query), and whole tensor boxes are evicted, least recently used first, until the
 *     budget holds (the SubNet's own boxes last, latest layers first);
 *   - without it: at SubNet granularity -- the served SubNet's SubGraph replaces the resident
 *     one (a cache of one entry, which is what LRU is when the budget holds one SubNet).
 * The query that misses pays the load. SUSHI's "no scheduler" baseline. */
#include "sn_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_serve.h"

typedef struct lru_state {
    uint64_t clock;
    uint64_t last_use[SN_SLICES_MAX_TENSORS];
    sn_subgraph cur;
} lru_state;

static int start(sn_policy *p, sn_serve *sv, char *err, size_t n)
{
    lru_state *s = calloc(1, sizeof *s);
    (void)sv;
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    p->state = s;
    return 0;
}

static void finish(sn_policy *p)
{
    free(p->state);
    p->state = NULL;
}

static uint32_t initial(const sn_policy *p, const sn_serve *sv)
{
    (void)p;
    return sv->n; /* a cold cache */
}

static uint32_t choose(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q)
{
    (void)p;
    return sn_serve_choose_under(sv, g, q);
}

static uint32_t resident(sn_policy *p, sn_serve *sv, uint32_t g_cur, const sn_policy_query *q,
                         uint32_t subnet, int *free_switch)
{
    lru_state *s = p->state;
    const sn_slices *x = sv->slices;
    uint64_t used;
    uint32_t t, j;
    int changed = 0;
    char name[48];
    (void)q, (void)free_switch;
    if (!x) /* SubNet granularity */
        return subnet;
    ++s->clock;
    s->cur = sv->sg[g_cur];
    for (t = 0; t < x->nt; ++t) {
        sn_slice_box u = x->use[subnet][t], b = s->cur.b[t];
        if (u.k <= 0)
            continue;
        s->last_use[t] = s->clock;
        if (b.k <= 0 || b.o < u.o || b.i < u.i || b.k < u.k) {
            s->cur.b[t] = b.k <= 0 ? u : (sn_slice_box){b.o > u.o ? b.o : u.o, b.i > u.i ? b.i : u.i,
                                                        b.k > u.k ? b.k : u.k};
            changed = 1;
        }
    }
    if (!changed)
        return g_cur;
    /* evict whole tensor boxes, least recently used first, until the budget holds */
    used = sn_slices_bytes(x, &s->cur);
    while (used > sv->near_budget_bytes) {
        uint32_t victim = UINT32_MAX;
        for (t = 0; t < x->nt; ++t)
            if (s->cur.b[t].k > 0 && s->last_use[t] < s->clock &&
                (victim == UINT32_MAX || s->last_use[t] < s->last_use[victim]))
                victim = t;
        if (victim == UINT32_MAX) /* only this SubNet's boxes are left: its latest layers go */
            for (j = x->order_n[subnet]; j-- > 0 && victim == UINT32_MAX;)
                if (s->cur.b[x->order[subnet][j]].k > 0)
                    victim = x->order[subnet][j];
        if (victim == UINT32_MAX)
            break;
        used -= sn_slices_box_bytes(x, victim, s->cur.b[victim]);
        s->cur.b[victim] = (sn_slice_box){0, 0, 0};
    }
    snprintf(name, sizeof name, "slices:lru@%zu", q->index);
    return sn_serve_subgraph_set(sv, g_cur == sv->n + 1 ? 1u : 0u, &s->cur, name, 0);
}

const sn_policy_ops sn_policy_lru = {
    "lru", 0, "a cache without a scheduler: the served SubNet's weights on use, least recently used evicted",
    NULL, start, initial, choose, resident, finish};
