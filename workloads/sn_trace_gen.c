/* supernav query traces: the generators (models in workloads/traces/README.md). Integer
 * arithmetic only: arrival times are kept in nanoseconds and written in microseconds. */
#include <inttypes.h>
#include <string.h>

#include "sn_trace.h"
#include "sn_trace_impl.h"

#define MAX_RATE_MQPS UINT64_C(1000000000)          /* 10^6 queries per second */
#define MAX_STATE_MEAN_US UINT64_C(1000000000000)   /* 11.6 days */
#define MAX_TIME_NS (INT64_C(1) << 62)              /* 146 years */

void sn_trace_gen_params_default(sn_trace_gen_params *p, sn_trace_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->count = 1000;
    p->sample_count = SN_TRACE_CF64_TEST_SAMPLES;
    p->rate_mqps = 10000;
    p->on_rate_mqps = 40000;
    p->off_rate_mqps = 2000;
    p->on_mean_us = 2000000;
    p->off_mean_us = 8000000;
    sn_trace_constraints_default(&p->constraints);
    p->dwell = kind == SN_TRACE_KIND_SUSHI ? 50 : 1;
    p->jump_ppm = kind == SN_TRACE_KIND_SUSHI ? 100000 : 1000000;
}

/* An exponential variate with mean MEAN_NS, in ns (rounded down), by von Neumann's
 * comparison method (Knuth, TAOCP vol. 2, 3.4.1): draw uniforms U1 > U2 > ... while they
 * decrease; if the run's length is odd, return K + U1, else K += 1 and start again. The
 * run length is odd with probability e^-U1, so the result is exactly Exp(1): no
 * logarithm, only comparisons of 64-bit integers. */
static uint64_t exponential_ns(sn_rng *rng, uint64_t mean_ns)
{
    uint64_t k = 0;
    for (;;) {
        uint64_t first = sn_rng_next(rng), prev = first, next;
        unsigned run = 1;
        while ((next = sn_rng_next(rng)) < prev) {
            prev = next;
            ++run;
        }
        if (run & 1)
            return k * mean_ns + sn_trace_mul_hi(mean_ns, first); /* (K + U1 / 2^64) mean */
        ++k;
    }
}

/* Mean inter-arrival time in ns of RATE_MQPS / 1000 queries per second. */
static uint64_t mean_ns_of(uint64_t rate_mqps)
{
    return (UINT64_C(1000000000000) + rate_mqps / 2) / rate_mqps;
}

static int check(const sn_trace_gen_params *p, char *err, size_t err_bytes)
{
    if (!p->kind || (unsigned)p->kind > SN_TRACE_KIND_BURSTY) {
        sn_trace_set_error(err, err_bytes, "unknown generator kind %d", (int)p->kind);
        return -1;
    }
    if (p->count < 1 || p->count > SN_TRACE_MAX_COUNT) {
        sn_trace_set_error(err, err_bytes, "count must be 1..%u, not %" PRIu32,
                           SN_TRACE_MAX_COUNT, p->count);
        return -1;
    }
    if (p->sample_count < 1) {
        sn_trace_set_error(err, err_bytes, "the sample count must be at least 1");
        return -1;
    }
    if ((p->kind == SN_TRACE_KIND_SERVER || p->kind == SN_TRACE_KIND_SUSHI) &&
        (p->rate_mqps < 1 || p->rate_mqps > MAX_RATE_MQPS)) {
        sn_trace_set_error(err, err_bytes, "rate must be 0.001..1000000 queries/s");
        return -1;
    }
    if (p->kind == SN_TRACE_KIND_BURSTY &&
        (p->on_rate_mqps < 1 || p->on_rate_mqps > MAX_RATE_MQPS ||
         p->off_rate_mqps > MAX_RATE_MQPS || p->on_mean_us < 1 ||
         p->on_mean_us > MAX_STATE_MEAN_US || p->off_mean_us < 1 ||
         p->off_mean_us > MAX_STATE_MEAN_US)) {
        sn_trace_set_error(err, err_bytes,
                           "bursty: the on rate must be 0.001..1000000 queries/s, the off rate "
                           "0..1000000, the mean state durations 0.001 ms..11.6 days");
        return -1;
    }
    if (p->dwell < 1 || p->jump_ppm > 1000000) {
        sn_trace_set_error(err, err_bytes, "dwell must be >= 1 and jump in [0, 1]");
        return -1;
    }
    return sn_trace_constraints_check(&p->constraints, err, err_bytes);
}

static sn_trace_status record(sn_trace *t, const sn_trace_gen_params *p)
{
    char a[32], b[32], c[32], d[32];
    sn_trace_status st;
    if ((st = sn_trace_meta_add(t, "source", "generator")) ||
        (st = sn_trace_meta_add(t, "generator", "%s", sn_trace_kind_name(p->kind))) ||
        (st = sn_trace_meta_add(t, "seed", "%" PRIu64, p->seed)) ||
        (st = sn_trace_meta_add(t, "count", "%" PRIu32, p->count)) ||
        (st = sn_trace_meta_add(t, "samples", "%" PRIu32, p->sample_count)))
        return st;
    if (p->kind == SN_TRACE_KIND_SERVER || p->kind == SN_TRACE_KIND_SUSHI) {
        sn_trace_format_fixed(a, sizeof a, p->rate_mqps, 3);
        if ((st = sn_trace_meta_add(t, "rate", "%s", a)))
            return st;
    }
    if (p->kind == SN_TRACE_KIND_BURSTY) {
        sn_trace_format_fixed(a, sizeof a, p->on_rate_mqps, 3);
        sn_trace_format_fixed(b, sizeof b, p->off_rate_mqps, 3);
        sn_trace_format_fixed(c, sizeof c, p->on_mean_us, 3);
        sn_trace_format_fixed(d, sizeof d, p->off_mean_us, 3);
        if ((st = sn_trace_meta_add(t, "rate_on", "%s", a)) ||
            (st = sn_trace_meta_add(t, "rate_off", "%s", b)) ||
            (st = sn_trace_meta_add(t, "on_ms", "%s", c)) ||
            (st = sn_trace_meta_add(t, "off_ms", "%s", d)))
            return st;
    }
    sn_trace_format_fixed(a, sizeof a, p->jump_ppm, 6);
    if ((st = sn_trace_meta_add_constraints(t, &p->constraints)) ||
        (st = sn_trace_meta_add(t, "dwell", "%" PRIu32, p->dwell)) ||
        (st = sn_trace_meta_add(t, "jump", "%s", a)))
        return st;
    return SN_TRACE_OK;
}

/* Arrival times in ns into T->arrival_us (converted at the end); -1 on overflow. */
static int arrivals(const sn_trace_gen_params *p, sn_trace *t)
{
    sn_rng rng = sn_rng_derive(p->seed, SN_TRACE_STREAM_ARRIVAL, 0);
    uint64_t now = 0;
    size_t i;
    if (p->kind == SN_TRACE_KIND_SINGLE_STREAM || p->kind == SN_TRACE_KIND_OFFLINE) {
        memset(t->arrival_us, 0, t->count * sizeof *t->arrival_us);
        return 0;
    }
    if (p->kind == SN_TRACE_KIND_SERVER || p->kind == SN_TRACE_KIND_SUSHI) {
        uint64_t mean = mean_ns_of(p->rate_mqps);
        for (i = 0; i < t->count; ++i) {
            now += exponential_ns(&rng, mean);
            if (now > (uint64_t)MAX_TIME_NS)
                return -1;
            t->arrival_us[i] = (int64_t)(now / 1000);
        }
        return 0;
    }
    {
        /* bursty: a two-state Markov-modulated Poisson process. The first state is drawn
         * from the stationary distribution (on with probability on / (on + off)); each
         * visit lasts an exponential time; within a state arrivals are Poisson at its
         * rate, restarted at each switch (memorylessness makes that exact). */
        const uint64_t rate[2] = {p->off_rate_mqps, p->on_rate_mqps};
        const uint64_t dwell_ns[2] = {p->off_mean_us * 1000, p->on_mean_us * 1000};
        int on = sn_rng_below(&rng, p->on_mean_us + p->off_mean_us) < p->on_mean_us;
        uint64_t state_end = exponential_ns(&rng, dwell_ns[on]);
        uint64_t switches = 0, max_switches = 100 * (uint64_t)t->count + 10000000;
        for (i = 0; i < t->count; ++i) {
            for (;;) {
                if (rate[on]) {
                    uint64_t next = now + exponential_ns(&rng, mean_ns_of(rate[on]));
                    if (next < state_end) {
                        now = next;
                        break;
                    }
                }
                now = state_end;
                on = !on;
                state_end = now + exponential_ns(&rng, dwell_ns[on]);
                if (state_end > (uint64_t)MAX_TIME_NS || ++switches > max_switches)
                    return -1;
            }
            t->arrival_us[i] = (int64_t)(now / 1000);
        }
        return 0;
    }
}

/* The level walk: a Markov chain on [0, levels) (see sn_trace_gen_params). */
static void levels(const sn_trace_gen_params *p, sn_trace *t)
{
    const sn_trace_constraints *c = &p->constraints;
    sn_rng rng = sn_rng_derive(p->seed, SN_TRACE_STREAM_LEVEL, 0);
    uint32_t level = (uint32_t)sn_rng_below(&rng, c->levels);
    size_t i;
    for (i = 0; i < t->count; ++i) {
        if (i > 0 && sn_rng_below(&rng, p->dwell) == 0) {
            if (sn_rng_below(&rng, 1000000) < p->jump_ppm)
                level = (uint32_t)sn_rng_below(&rng, c->levels);
            else if (sn_rng_next(&rng) & 1) /* a neighbour; a step off an end stays */
                level += level + 1 < c->levels;
            else
                level -= level > 0;
        }
        sn_trace_set_constraints(t, i, c, p->seed, level, level);
    }
}

sn_trace_status sn_trace_generate(const sn_trace_gen_params *params, sn_trace *trace,
                                  char *err, size_t err_bytes)
{
    sn_trace_status st;
    size_t i;
    memset(trace, 0, sizeof *trace);
    if (check(params, err, err_bytes) != 0)
        return SN_TRACE_ERR_PARAM;
    if ((st = sn_trace_alloc(trace, params->count)) != SN_TRACE_OK ||
        (st = record(trace, params)) != SN_TRACE_OK) {
        sn_trace_free(trace);
        sn_trace_set_error(err, err_bytes, "out of memory");
        return st;
    }
    trace->mode =
        params->kind == SN_TRACE_KIND_SINGLE_STREAM ? SN_TRACE_MODE_CLOSED : SN_TRACE_MODE_OPEN;
    if (arrivals(params, trace) != 0) {
        sn_trace_free(trace);
        sn_trace_set_error(err, err_bytes,
                           "the trace would span more than 146 years, or switch bursty "
                           "states more than 100 times per query: check the rates and "
                           "durations");
        return SN_TRACE_ERR_PARAM;
    }
    for (i = 0; i < trace->count; ++i)
        trace->sample[i] = sn_trace_sample_of(params->seed, i, params->sample_count);
    levels(params, trace);
    return SN_TRACE_OK;
}
