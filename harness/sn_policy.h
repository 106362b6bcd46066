/* supernav harness: a serving policy is a small table of functions (as ggml's backends and
 * MLPerf LoadGen's SUT are), registered by name. The serving loop (harness/sn_serve.c)
 * knows no policy: per query it asks the policy for a SubNet, then whether the resident
 * SubGraph should change before the query is served, and serves.
 *
 *   const sn_policy_ops *ops = sn_policy_find("sushi");   -- or "static-subnet:CFG"
 *   sn_policy p = {ops, window, period, arg};
 *   ops->start(&p, sv, err, n);  g = ops->initial_subgraph(&p, sv);
 *   per query: s = ops->choose(&p, sv, g, &q);
 *              g2 = ops->resident ? ops->resident(&p, sv, g, &q, s, &free) : g;
 *   ops->finish(&p);
 *
 * Adding a policy: one file under harness/policies/ defining its sn_policy_ops, and one
 * line in the registry (harness/sn_policy.c). The profile a policy predicts with is the
 * serving set's (sv->lat_us[SubNet][SubGraph], SubGraph sv->n = none resident), and the
 * shared SubNet choice rule is sn_serve_choose (harness/sn_serve.h). Host-only. */
#ifndef SN_POLICY_H
#define SN_POLICY_H

#include <stddef.h>
#include <stdint.h>

typedef struct sn_serve sn_serve;

/* One query as a policy sees it, when it is about to be served. */
typedef struct sn_policy_query {
    size_t index;              /* its position in the trace, from 0 */
    float floor;               /* accuracy floor, a fraction; NaN: none */
    int64_t ceiling_us;        /* latency ceiling; <= 0: none */
    double arrival_us;         /* scheduled arrival, us since the run's origin */
    double start_us;           /* when the server is free to start it */
    double waited_us;          /* start - arrival: its queueing delay so far */
    /* What the server knows of the queries around it (accuracy mode's look-ahead,
     * sn_serve_choose in harness/sn_serve.h): NULL none. */
    const struct sn_lookahead *la;
} sn_policy_query;

typedef struct sn_policy sn_policy;

typedef struct sn_policy_ops {
    const char *name;          /* as --policy takes it */
    int takes_arg;             /* 1: written NAME:ARG (static-subnet:CFG) */
    const char *summary;       /* one line: what it does */
    /* Optional: checks ARG against the serving set and keeps what it needs in P->arg.
     * Returns 0, or -1 with one line in ERR. */
    int (*parse)(sn_policy *p, const sn_serve *sv, const char *arg, char *err, size_t err_bytes);
    /* Optional: allocates per-replay state (P->state) and may set slice SubGraphs of its own
     * (sn_serve_subgraph_set: static-hindsight's). Returns 0, or -1 with one line. */
    int (*start)(sn_policy *p, sn_serve *sv, char *err, size_t err_bytes);
    /* The SubGraph resident when the replay starts (sv->n: none). */
    uint32_t (*initial_subgraph)(const sn_policy *p, const sn_serve *sv);
    /* The SubNet that serves Q while SubGraph G is resident. */
    uint32_t (*choose)(sn_policy *p, const sn_serve *sv, uint32_t g, const sn_policy_query *q);
    /* Optional: after the choice of SUBNET, the SubGraph to serve Q with (G: keep; a slice
     * SubGraph of its own through sn_serve_subgraph_set where SV has slices). A switch
     * is paid by Q in time and far bytes, unless *FREE is set: then it is made resident
     * outside the timed region at no cost (oracle's perfect cache: an offline reference, no
     * bound on other policies). */
    uint32_t (*resident)(sn_policy *p, sn_serve *sv, uint32_t g, const sn_policy_query *q,
                         uint32_t subnet, int *free_switch);
    /* Optional: frees P->state. */
    void (*finish)(sn_policy *p);
} sn_policy_ops;

struct sn_policy {
    const sn_policy_ops *ops;
    uint32_t window, period;   /* replay options for policies that look back (sushi: W, Q) */
    uint32_t arg;              /* what parse kept (static-subnet: the SubNet's index) */
    void *state;               /* the policy's own, between start and finish */
    /* the whole trace and its arrival compression, for offline policies that know the future
     * (static-hindsight); online policies must not read them */
    const struct sn_trace *trace;
    size_t trace_count;        /* the queries the replay serves (its --limit) */
    double speed;
};

/* The policy TEXT names ("sushi", "static-subnet:CFG": the part before ':'), or NULL. */
const sn_policy_ops *sn_policy_find(const char *text);
/* The registered policies, in the order --help lists them. */
size_t sn_policy_count(void);
const sn_policy_ops *sn_policy_at(size_t i);
/* "sushi, nocache, ..., static-subnet:CFG" into BUF. */
void sn_policy_list(char *buf, size_t size);

/* Every registered policy (harness/policies/). */
extern const sn_policy_ops sn_policy_sushi, sn_policy_nocache, sn_policy_static_subgraph,
    sn_policy_static_subnet, sn_policy_largest, sn_policy_smallest, sn_policy_oracle,
    sn_policy_static_hindsight, sn_policy_lru, sn_policy_slackfit;

#endif
