/* supernav harness: trace replay (sn_serve_replay, harness/sn_serve.h) in three steps --
 * the run's context, the serving loop, the records -- over the platform's SUT
 * (harness/sn_sut.h) and the policy's table of functions (harness/sn_policy.h). */
#include "sn_serve.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sn_counters.h"
#include "sn_energy.h"
#include "sn_file.h"
#include "sn_run.h"

#ifndef SN_SERVE_VERSION
#define SN_SERVE_VERSION "0.1.0"
#endif

/* One replay's state: its inputs, the policy, the run writer and what it has counted. */
typedef struct replay {
    sn_serve *sv;
    const sn_replay_options *o;
    sn_trace tr;
    size_t count;                /* queries served */
    sn_lookahead la;             /* accuracy mode's look-ahead for the query being served */
    double speed;
    sn_policy pol;
    uint32_t g_cur;              /* the resident SubGraph (sv->n: none) */
    sn_run_writer *w;
    sn_counters *cs;
    sn_counter_value *cv;
    sn_energy_meter *em;
    sn_energy_work work;
    sn_run_query *records;       /* real time: rows kept until the timed loop ends */
    int64_t *overhead;           /* per query: the harness's own time */
    uint64_t switches, switch_bytes, replans;
    int64_t switch_ns, replan_ns;
    int64_t origin, vclock, prev_end, first_arrival, last_end;
    size_t slow;                 /* served over 1.5x their profiled time (measured runs) */
    size_t stepped, steps;       /* ARAC level controller: queries it stepped down, its steps */
    double eff_table;            /* effective accuracy: a late answer is a wrong answer */
    size_t eff_correct, measured;
} replay;

static void wait_until(int64_t t)
{
    int64_t left = t - sn_serve_now_ns();
    if (left > 2000000) {
        struct timespec ts;
        left -= 1000000;
        ts.tv_sec = left / 1000000000;
        ts.tv_nsec = left % 1000000000;
        nanosleep(&ts, NULL);
    }
    while (sn_serve_now_ns() < t)
        ;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- 1. the context: trace, policy, run directory, counters, energy ------------------- */
static int write_context(replay *rp, char *err, size_t n)
{
    const sn_serve *sv = rp->sv;
    const sn_replay_options *o = rp->o;
    const sn_sut_desc *d = &sv->desc;
    sn_run_property pp[4 + 16], rq[16];
    size_t npp = 4, k;
    sn_run_file files[3];
    sn_run_context ctx;
    memset(&ctx, 0, sizeof ctx);
    pp[0] = (sn_run_property){d->device_key, d->device_value, 0};
    pp[1] = (sn_run_property){"near_memory", d->near_memory, 0};
    pp[2] = (sn_run_property){"far_memory", d->far_memory, 0};
    pp[3] = (sn_run_property){"near_budget_bytes", NULL, (double)sv->near_budget_bytes};
    for (k = 0; k < d->property_count && npp < sizeof pp / sizeof pp[0]; ++k)
        pp[npp++] = d->properties[k];
    rq[0] = (sn_run_property){"policy", o->policy_text ? o->policy_text : rp->pol.ops->name, 0};
    rq[1] = (sn_run_property){"trace", o->trace_path, 0};
    rq[2] = (sn_run_property){"trace_mode", rp->tr.mode == SN_TRACE_MODE_CLOSED ? "closed" : "open", 0};
    rq[3] = (sn_run_property){"queries", NULL, (double)rp->count};
    rq[4] = (sn_run_property){"speed", NULL, rp->speed};
    rq[5] = (sn_run_property){"replay", o->modelled ? "virtual-time, modelled service times" :
                                        o->virtual_time ? "virtual-time" : "real-time", 0};
    rq[6] = (sn_run_property){"sushi_window", NULL, (double)o->window};
    rq[7] = (sn_run_property){"sushi_period", NULL, (double)o->period};
    rq[8] = (sn_run_property){"subnets", NULL, (double)sv->n};
    rq[9] = (sn_run_property){"precision", d->precision == SN_INT8 ? "int8" : "fp32", 0};
    rq[10] = (sn_run_property){"profile", sv->profile_path, 0};
    rq[11] = (sn_run_property){"choice", o->choice == SN_CHOICE_ACCURACY ? "accuracy" : "floor-level", 0};
    rq[12] = (sn_run_property){"subgraphs", sv->slices ? "slices (per-tensor leading boxes; switches move the difference)"
                                                       : "SubNet weight sets (whole layers near or far)", 0};
    rq[13] = (sn_run_property){"serving_set", sv->opt.arac ? "subnets+arac (the table's undominated ARAC configs)"
                                                           : "subnets", 0};
    rq[14] = (sn_run_property){"arac_quantile", sv->opt.arac ? (sv->opt.arac_quantile == 50 ? "p50" : sv->opt.arac_quantile == 95 ? "p95" : "excess") : "-", 0};
    rq[15] = (sn_run_property){"late", o->choice == SN_CHOICE_ACCURACY ? "fastest (accuracy mode)"
                                      : o->late == SN_LATE_LEVEL ? "level" : "fastest", 0};
    files[0] = (sn_run_file){"model", sv->opt.model_path};
    files[1] = (sn_run_file){"data", sv->images_path};
    files[2] = (sn_run_file){"trace", o->trace_path};
    ctx.supernav_version = SN_SERVE_VERSION;
#ifdef SN_GIT_REV
    ctx.git_revision = SN_GIT_REV;
#else
    ctx.git_revision = "unknown";
#endif
#ifdef SN_BUILD_FLAGS
    ctx.compiler_flags = SN_BUILD_FLAGS;
#else
    ctx.compiler_flags = "unknown";
#endif
    ctx.platform = d->name;
    ctx.platform_properties = pp;
    ctx.platform_property_count = npp;
    ctx.clock = d->model_clock ? d->model_clock
              : o->modelled ? "virtual:modelled-service-times(profile p50 per SubNet and SubGraph)"
              : o->virtual_time && d->virtual_clock ? d->virtual_clock
              : o->virtual_time ? "virtual:measured-service-times(CLOCK_MONOTONIC)" : "wall:CLOCK_MONOTONIC";
    ctx.run_properties = rq;
    ctx.run_property_count = sizeof rq / sizeof rq[0];
    ctx.files = files;
    ctx.file_count = 3;
    if (sn_run_write_context(rp->w, &ctx) != SN_RUN_OK)
        return sn_serve_fail(err, n, "%s", sn_run_error(rp->w));
    return 0;
}

static int replay_begin(replay *rp, char *err, size_t n)
{
    sn_serve *sv = rp->sv;
    const sn_replay_options *o = rp->o;
    sn_energy_options eo;
    sn_sut_moved mv;
    char terr[512];
    uint32_t g_static, i;
    if (!sv->profiled)
        return sn_serve_fail(err, n, "internal error: replay before profile");
    if (!o->virtual_time && sv->desc.real_time_refusal)
        return sn_serve_fail(err, n, "platform %s replays in virtual time: --virtual %s or --modelled", sv->desc.name,
                    sv->desc.real_time_refusal);
    if (!o->policy)
        return sn_serve_fail(err, n, "internal error: replay without a policy");
    if (sn_trace_load(o->trace_path, sv->images.dims[0], &rp->tr, terr, sizeof terr) != SN_TRACE_OK)
        return sn_serve_fail(err, n, "%s", terr);
    rp->count = o->limit && o->limit < rp->tr.count ? o->limit : rp->tr.count;
    if (rp->count == 0)
        return sn_serve_fail(err, n, "%s: the trace holds no query", o->trace_path);
    rp->overhead = malloc(rp->count * sizeof *rp->overhead);
    /* real time: rows are logged after the timed loop, as LoadGen does; virtual time: each
     * row is written as it is served, so a long trace's rows are never held in memory */
    if (!o->virtual_time)
        rp->records = malloc(rp->count * sizeof *rp->records);
    if (!rp->overhead || (!o->virtual_time && !rp->records))
        return sn_serve_fail(err, n, "out of memory");

    sv->choice = o->choice;
    sv->late = o->late;
    /* the floors' reference residency (sn_serve_choose), then the policy and its SubGraph */
    g_static = sn_serve_best_static_subgraph(sv);
    for (i = 0; i < sv->n; ++i)
        sv->g_ref_of[i] = g_static;
    rp->pol.ops = o->policy;
    rp->pol.window = o->window;
    rp->pol.period = o->period;
    rp->pol.arg = o->policy_arg;
    rp->pol.trace = &rp->tr;
    rp->pol.trace_count = rp->count;
    rp->pol.speed = rp->speed;
    if (rp->pol.ops->start && rp->pol.ops->start(&rp->pol, sv, err, n) != 0)
        return -1;
    rp->g_cur = rp->pol.ops->initial_subgraph(&rp->pol, sv);
    if (sn_serve_resident(sv, rp->g_cur, 0, &mv, terr, sizeof terr) != 0)
        return sn_serve_fail(err, n, "%s", terr);

    if (sn_run_begin(o->out_dir, &rp->w, err, n) != SN_RUN_OK)
        return -1;
    if (write_context(rp, err, n) != 0)
        return -1;
    if (sn_counters_open(o->counters, &rp->cs, terr, sizeof terr) != SN_COUNTERS_OK)
        return sn_serve_fail(err, n, "counters: %s", terr);
    rp->cv = calloc(sn_counters_count(rp->cs) + 1, sizeof *rp->cv);
    memset(&eo, 0, sizeof eo);
    eo.model = sv->desc.energy;
    if (!rp->cv || sn_energy_open(&eo, &rp->em) != SN_ENERGY_OK)
        return sn_serve_fail(err, n, "out of memory");
    return 0;
}

/* ---- 2. the serving loop ---------------------------------------------------------------- */

/* The SubGraph the policy wants for query PQ served by SubNet S: made resident for free
 * (outside the timed region) or paid by the query. Returns the far bytes it moved and adds
 * its time to *START (virtual time). */
static int switch_subgraph(replay *rp, const sn_policy_query *pq, uint32_t s, int64_t *start,
                           uint64_t *extra_far, char *err, size_t n)
{
    sn_serve *sv = rp->sv;
    const sn_replay_options *o = rp->o;
    int free_switch = 0;
    uint32_t g_new, g_old;
    sn_sut_moved mv;
    int64_t a;
    *extra_far = 0;
    if (!rp->pol.ops->resident)
        return 0;
    g_new = rp->pol.ops->resident(&rp->pol, sv, rp->g_cur, pq, s, &free_switch);
    if (g_new == rp->g_cur || (!free_switch && g_new == sv->n))
        return 0;
    a = sn_serve_now_ns();
    if (sn_serve_resident(sv, g_new, !free_switch, &mv, err, n) != 0)
        return -1;
    g_old = rp->g_cur;
    rp->g_cur = g_new;
    if (free_switch) { /* a perfect cache: no switching time is paid */
        if (!o->virtual_time)
            rp->origin += sn_serve_now_ns() - a;
        return 0;
    }
    *extra_far = mv.bytes;
    if (!sn_serve_computes(sv) && o->modelled)
        *extra_far = sn_serve_switch_bytes(sv, g_old, g_new); /* simulating the profile's platform */
    a = sn_serve_now_ns() - a;
    if (mv.us >= 0.0) /* the platform's own clock */
        a = (int64_t)(mv.us * 1e3);
    /* modelled: the profile's switch (with slices: the cost model's, of the difference) --
     * unless the platform is itself a model (fpga): its own cycles for what it moved */
    if (o->modelled && !(sv->desc.clock == SN_SUT_CLOCK_MODEL && mv.us >= 0.0))
        a = (int64_t)(sn_serve_switch_us(sv, g_old, g_new) * 1e3);
    rp->switch_ns += a;
    if (o->virtual_time)
        *start += a;
    ++rp->switches;
    rp->switch_bytes += *extra_far;
    return 0;
}

/* Serves query Q: the policy's choice, its SubGraph, the inference, its record. */
static int serve_query(replay *rp, size_t q, char *err, size_t n)
{
    sn_serve *sv = rp->sv;
    const sn_replay_options *o = rp->o;
    const sn_trace *tr = &rp->tr;
    int64_t arrival = (int64_t)((double)tr->arrival_us[q] * 1000.0 / rp->speed), start, end, t_h0, t_inf, t_wall;
    float floor = tr->acc_floor[q];
    int64_t ceiling = tr->lat_ceiling_us[q];
    uint32_t s, sample = tr->sample[q], prev_subnet;
    sn_sut_result r;
    sn_policy_query pq;
    sn_run_query rq;
    uint64_t extra_far;
    char why[512];
    if (tr->mode == SN_TRACE_MODE_CLOSED && rp->prev_end > arrival)
        arrival = rp->prev_end;
    if (o->virtual_time) {
        start = arrival > rp->vclock ? arrival : rp->vclock;
    } else {
        if (sn_serve_now_ns() - rp->origin < arrival)
            wait_until(rp->origin + arrival);
        start = sn_serve_now_ns() - rp->origin;
    }
    t_h0 = sn_serve_now_ns();
    pq.index = q;
    pq.floor = floor;
    pq.ceiling_us = ceiling;
    pq.arrival_us = (double)arrival / 1e3;
    pq.start_us = (double)start / 1e3;
    pq.waited_us = (double)(start - arrival) / 1e3;
    /* accuracy mode's look-ahead: the queue by this one's start, the recent arrivals */
    pq.la = NULL;
    if (sv->choice == SN_CHOICE_ACCURACY) {
        sn_serve_lookahead_from_trace(tr, q, rp->count, rp->speed, pq.start_us, &rp->la);
        pq.la = &rp->la;
    }
    s = rp->pol.ops->choose(&rp->pol, sv, rp->g_cur, &pq);
    if (switch_subgraph(rp, &pq, s, &start, &extra_far, why, sizeof why) != 0)
        return sn_serve_fail(err, n, "%s: %s", sv->s[s].config, why);

    /* the ARAC level controller (NeuLens): a query whose ceiling leaves less than the config's
     * p95 gets a MAC budget, what is left at the config's profiled MACs per us (table mean MACs
     * over its p50); after the gate, the engine steps levels down until the invoke fits */
    if (sv->s[s].arac && sv->s[s].plan) {
        double left = pq.ceiling_us > 0 ? (double)pq.ceiling_us - (double)(start - arrival) / 1e3 : (double)INFINITY;
        double p50 = sv->lat_us[s][rp->g_cur], p95 = sv->lat_p95_us[s][rp->g_cur];
        int64_t budget = 0;
        if (sv->opt.arac_controller && left < p95 && p50 > 0.0) {
            double b = left * (double)sv->s[s].macs / p50;
            budget = b < 1.0 ? 1 : (int64_t)b;
        }
        sv->s[s].plan->arac.mac_budget = budget;
    }
    prev_subnet = sv->last_subnet;
    t_wall = sn_serve_now_ns();
    if (sn_serve_infer(sv, s, sample, &r, why, sizeof why) != 0)
        return sn_serve_fail(err, n, "%s: inference failed: %s", sv->s[s].config, why);
    if (sv->s[s].arac && sv->s[s].plan && sv->s[s].plan->arac.steps_down) {
        ++rp->stepped;
        rp->steps += sv->s[s].plan->arac.steps_down;
    }
    t_inf = t_wall = sn_serve_now_ns() - t_wall;
    if (r.us >= 0.0) /* the platform's own clock (emulated, modelled; measured around the inference) */
        t_inf = (int64_t)(r.us * 1e3);
    if (!o->virtual_time && r.us >= 0.0 && sv->desc.clock == SN_SUT_CLOCK_MEASURED && t_wall > t_inf)
        rp->origin += t_wall - t_inf; /* its untimed preparation (cpu: the flush) stops the clock */
    if (!o->modelled && sv->desc.clock == SN_SUT_CLOCK_MEASURED && (double)t_inf > 1.5e3 * sv->lat_us[s][rp->g_cur])
        ++rp->slow;
    /* modelled: the profile's p50 with the resident SubGraph, not this run's time -- unless the
     * platform is itself a deterministic model (fpga), whose own cycles are the profile's for a
     * profiled SubGraph and exact for a slice SubGraph the profile never saw */
    if (o->modelled && !(sv->desc.clock == SN_SUT_CLOCK_MODEL && r.us >= 0.0))
        t_inf = (int64_t)(sv->lat_us[s][rp->g_cur] * 1e3);
    if (o->modelled && !sn_serve_computes(sv)) {
        /* the null platform simulating the pinned profile's platform: its bytes too */
        r.near_bytes = sv->near_bytes[s][rp->g_cur];
        r.far_bytes = sv->far_bytes[s][rp->g_cur];
        /* and its re-plans (a profile of a platform that holds one plan: mcu) */
        if (s != prev_subnet)
            r.plan_us = sv->replan_us[s];
    }
    /* a platform that holds one plan (mcu): a query for another SubNet pays its re-plan */
    t_inf += (int64_t)(r.plan_us * 1e3);
    rp->replans += r.plan_us > 0.0;
    rp->replan_ns += (int64_t)(r.plan_us * 1e3);

    if (o->virtual_time)
        rp->vclock = end = start + t_inf;
    else
        end = sn_serve_now_ns() - rp->origin;
    rp->prev_end = end;
    if (q == 0)
        rp->first_arrival = arrival;
    rp->last_end = end;
    memset(&rq, 0, sizeof rq);
    rq.sample = sample;
    rq.arrival_ns = arrival;
    rq.start_ns = start;
    rq.end_ns = end;
    rq.subnet = sv->s[s].config;
    rq.subgraph = sn_serve_subgraph_name(sv, rp->g_cur);
    rq.near_bytes = r.near_bytes;
    rq.far_bytes = r.far_bytes + extra_far;
    rq.prediction = r.prediction;
    rq.correct = r.prediction < 0 ? -1 : (int8_t)(r.prediction == (int32_t)sv->labels.data[sample]);
    rq.late = ceiling > 0 && end - arrival > ceiling * 1000;
    rq.slo_met = sn_meets_floor(sv->s[s].top1, floor) && !rq.late;
    rq.table_accuracy = sv->s[s].top1;
    rp->eff_table += rq.late ? 0.0 : sv->s[s].top1;
    rp->measured += rq.correct >= 0;
    rp->eff_correct += !rq.late && rq.correct == 1;
    rp->work.macs += (uint64_t)sv->s[s].macs;
    rp->work.near_bytes += rq.near_bytes;
    rp->work.far_bytes += rq.far_bytes;
    /* the inference's wall time is excluded even when modelled; logging the row is not counted */
    rp->overhead[q] = sn_serve_now_ns() - t_h0 - t_wall;
    if (!o->virtual_time)
        rp->records[q] = rq;
    else if (sn_run_add_query(rp->w, &rq) != SN_RUN_OK)
        return sn_serve_fail(err, n, "%s", sn_run_error(rp->w));
    return 0;
}

static int replay_loop(replay *rp, char *err, size_t n)
{
    const sn_replay_options *o = rp->o;
    size_t q;
    if (rp->sv->sut->ops->account_reset)
        rp->sv->sut->ops->account_reset(rp->sv->sut);
    sn_counters_start(rp->cs);
    sn_energy_start(rp->em);
    rp->origin = sn_serve_now_ns() + 5000000; /* 5 ms lead */
    for (q = 0; q < rp->count; ++q) {
        if (serve_query(rp, q, err, n) != 0)
            return -1;
        if (o->progress && (q + 1) % 1000 == 0)
            o->progress(o->progress_user, q + 1, rp->count);
    }
    if (o->progress)
        o->progress(o->progress_user, rp->count, rp->count);
    return 0;
}

/* ---- 3. the records: rows, counters, policy.json, summary ------------------------------ */

/* What the trace asks against what the serving set can give (policy.json "feasibility"),
 * the same for every policy: floors above the best SubNet's top-1, ceilings below the
 * fastest predicted latency of any SubNet with any SubGraph (or none) resident, and the
 * offered load at that fastest service time (open traces: queries x fastest / span of
 * arrivals; over 1 no policy can keep up). supernav summary reads it to say why an
 * experiment cannot tell policies apart (DEGENERATE). */
static void add_feasibility(cJSON *root, const sn_serve *sv, const sn_trace *tr, size_t count,
                            double speed, size_t slow)
{
    cJSON *f = cJSON_AddObjectToObject(root, "feasibility");
    double best = 0.0, fastest = INFINITY, span_us;
    size_t q, floors = 0, ceilings = 0, floor_out = 0, ceiling_out = 0;
    uint32_t i, g;
    for (i = 0; i < sv->n; ++i) {
        if (sv->s[i].top1 > best)
            best = sv->s[i].top1;
        for (g = 0; g <= sv->n; ++g)
            if (sv->lat_us[i][g] > 0.0 && sv->lat_us[i][g] < fastest)
                fastest = sv->lat_us[i][g];
    }
    for (q = 0; q < count; ++q) {
        if (!isnan(tr->acc_floor[q])) {
            ++floors;
            floor_out += !sn_meets_floor(best, tr->acc_floor[q]);
        }
        if (tr->lat_ceiling_us[q] > 0) {
            ++ceilings;
            ceiling_out += (double)tr->lat_ceiling_us[q] < fastest;
        }
    }
    cJSON_AddStringToObject(f, "source", "model: the trace's constraints against the profile");
    cJSON_AddNumberToObject(f, "best_top1", best);
    cJSON_AddNumberToObject(f, "fastest_us", isfinite(fastest) ? fastest : 0.0);
    cJSON_AddNumberToObject(f, "queries", (double)count);
    cJSON_AddNumberToObject(f, "with_floor", (double)floors);
    cJSON_AddNumberToObject(f, "floor_unreachable", (double)floor_out);
    cJSON_AddNumberToObject(f, "with_ceiling", (double)ceilings);
    cJSON_AddNumberToObject(f, "ceiling_below_fastest", (double)ceiling_out);
    span_us = count > 1 ? (double)(tr->arrival_us[count - 1] - tr->arrival_us[0]) / speed : 0.0;
    if (tr->mode == SN_TRACE_MODE_CLOSED || !isfinite(fastest))
        cJSON_AddNullToObject(f, "offered_load_at_fastest");
    else if (span_us <= 0.0)
        cJSON_AddNumberToObject(f, "offered_load_at_fastest", count > 1 ? 1e9 : 0.0);
    else
        cJSON_AddNumberToObject(f, "offered_load_at_fastest", (double)count * fastest / span_us);
    /* queries whose service took over 1.5x the profile's time for their SubNet and SubGraph
     * (measured runs only: a machine busier than when it was profiled) */
    cJSON_AddNumberToObject(f, "slower_than_profile", (double)slow);
}

/* policy.json: what the scheduler did and what the harness cost, beside summary.json */
static int write_policy_json(replay *rp, char *err, size_t n)
{
    const sn_serve *sv = rp->sv;
    const sn_replay_options *o = rp->o;
    char path[1200], *text;
    cJSON *root = cJSON_CreateObject();
    double mean = 0.0;
    struct rusage ru;
    size_t q;
    qsort(rp->overhead, rp->count, sizeof *rp->overhead, cmp_i64);
    for (q = 0; q < rp->count; ++q)
        mean += (double)rp->overhead[q];
    mean /= (double)rp->count;
    cJSON_AddStringToObject(root, "policy", o->policy_text ? o->policy_text : rp->pol.ops->name);
    cJSON_AddNumberToObject(root, "subgraph_switches", (double)rp->switches);
    cJSON_AddNumberToObject(root, "switch_time_us", (double)rp->switch_ns / 1e3);
    cJSON_AddNumberToObject(root, "switch_far_bytes", (double)rp->switch_bytes);
    if (sv->desc.replans || rp->replans) {
        cJSON_AddNumberToObject(root, "replans", (double)rp->replans);
        cJSON_AddNumberToObject(root, "replan_time_us", (double)rp->replan_ns / 1e3);
    }
    cJSON_AddStringToObject(root, "final_subgraph", sn_serve_subgraph_name(sv, rp->g_cur));
    if (sv->slices) { /* SubGraphs as slices: the cost model the policies predicted with */
        const sn_slices *x = sv->slices;
        cJSON *c = cJSON_AddObjectToObject(root, "slice_cost_model");
        cJSON_AddStringToObject(c, "source", "model: least squares over the profile (harness/sn_slices.h)");
        cJSON_AddStringToObject(c, "slice_subgraph_latencies",
                                sv->slices_exact ? "the platform model's own cycles (SUT estimate), exact"
                                                 : "predicted by this cost model");
        cJSON_AddNumberToObject(c, "tensors", (double)x->nt);
        cJSON_AddNumberToObject(c, "serving_set_weight_bytes", (double)x->total_bytes);
        cJSON_AddNumberToObject(c, "us_per_near_byte_pointwise", x->beta[SN_SLICE_POINTWISE]);
        cJSON_AddNumberToObject(c, "us_per_near_byte_depthwise", x->beta[SN_SLICE_DEPTHWISE]);
        cJSON_AddNumberToObject(c, "us_per_near_byte_dense", x->beta[SN_SLICE_DENSE]);
        cJSON_AddNumberToObject(c, "fit_rows", (double)x->fit_rows);
        cJSON_AddNumberToObject(c, "fit_rmse_us", x->fit_rmse_us);
        cJSON_AddNumberToObject(c, "fit_r2", x->fit_r2);
        cJSON_AddNumberToObject(c, "switch_fixed_us", x->switch_a_us);
        cJSON_AddNumberToObject(c, "switch_us_per_byte", x->switch_b_us);
    }
    add_feasibility(root, sv, &rp->tr, rp->count, rp->speed, rp->slow);
    if (sv->opt.arac) {
        cJSON *c = cJSON_AddObjectToObject(root, "arac_controller");
        cJSON_AddBoolToObject(c, "on", sv->opt.arac_controller != 0);
        cJSON_AddNumberToObject(c, "queries_stepped_down", (double)rp->stepped);
        cJSON_AddNumberToObject(c, "steps", (double)rp->steps);
        cJSON_AddStringToObject(c, "rule", "a query whose ceiling leaves less than its ARAC config's profiled p95 "
                                           "gets a MAC budget (what is left x the config's table MACs / p50); "
                                           "after the gate, every tile at the highest computed level in use steps "
                                           "down one level until the invoke fits (never to SKIP); platforms that "
                                           "plan on the device (mcu) ignore it");
    }
    {
        cJSON *e = cJSON_AddObjectToObject(root, "effective_accuracy");
        cJSON_AddStringToObject(e, "choice", o->choice == SN_CHOICE_ACCURACY ? "accuracy" : "floor-level");
        cJSON_AddNumberToObject(e, "table", rp->eff_table / (double)rp->count);
        if (rp->measured == rp->count)
            cJSON_AddNumberToObject(e, "measured", (double)rp->eff_correct / (double)rp->count);
        else
            cJSON_AddNullToObject(e, "measured");
        cJSON_AddStringToObject(e, "source", "an answer after its latency ceiling counts as wrong; table: the served "
                                             "SubNet's top-1 from the accuracy table; measured: this run's predictions");
    }
    cJSON_AddNumberToObject(root, "harness_overhead_mean_us", mean / 1e3);
    cJSON_AddNumberToObject(root, "harness_overhead_p99_us",
                            (double)sn_run_percentile_nearest_rank(rp->overhead, rp->count, 990) / 1e3);
    cJSON_AddStringToObject(root, "harness_overhead_source",
                            "measured: per query, wall time of choice and bookkeeping, inference excluded");
    if (getrusage(RUSAGE_SELF, &ru) == 0) /* Linux: kilobytes */
        cJSON_AddNumberToObject(root, "process_peak_rss_kib", (double)ru.ru_maxrss);
    /* the platform's own account of the run (opencl: profiling events; fpga: its model) */
    if (sv->sut->ops->account)
        sv->sut->ops->account(sv->sut, root, (double)(rp->last_end - rp->first_arrival) / 1e3);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    snprintf(path, sizeof path, "%s/policy.json", sn_run_temp_dir(rp->w));
    if (!text || sn_write_file_atomic(path, text, strlen(text)) != 0) {
        int e = text ? errno : ENOMEM;
        free(text);
        return sn_serve_fail(err, n, "cannot write %s/policy.json: %s", o->out_dir, strerror(e));
    }
    free(text);
    return 0;
}

static int replay_records(replay *rp, char *err, size_t n)
{
    sn_energy_reading energy;
    sn_run_summary sum;
    sn_sut_moved mv;
    char why[512];
    size_t q;
    for (q = 0; rp->records && q < rp->count; ++q)
        if (sn_run_add_query(rp->w, &rp->records[q]) != SN_RUN_OK)
            return sn_serve_fail(err, n, "%s", sn_run_error(rp->w));
    if (!sn_serve_computes(rp->sv))
        rp->work.macs = 0; /* the null platform computes nothing */
    sn_energy_stop(rp->em, &rp->work, &energy);
    sn_counters_stop(rp->cs, rp->cv);
    if (sn_serve_resident(rp->sv, rp->sv->n, 0, &mv, why, sizeof why) != 0)
        return sn_serve_fail(err, n, "%s", why);
    if (sn_run_write_counters(rp->w, rp->cs, rp->cv) != SN_RUN_OK)
        return sn_serve_fail(err, n, "%s", sn_run_error(rp->w));
    if (write_policy_json(rp, err, n) != 0)
        return -1;
    if (sn_run_finish(rp->w, &energy, &sum, err, n) != SN_RUN_OK) {
        rp->w = NULL;
        return -1;
    }
    rp->w = NULL;
    return 0;
}

int sn_serve_replay(sn_serve *sv, const sn_replay_options *o, char *err, size_t n)
{
    replay *rp = calloc(1, sizeof *rp);
    int rc;
    if (!rp)
        return sn_serve_fail(err, n, "out of memory");
    rp->sv = sv;
    rp->o = o;
    rp->speed = o->speed > 0 ? o->speed : 1.0;
    rc = replay_begin(rp, err, n) == 0 && replay_loop(rp, err, n) == 0 && replay_records(rp, err, n) == 0
       ? 0 : -1;
    sn_run_abort(rp->w);
    sn_counters_close(rp->cs);
    sn_energy_close(rp->em);
    free(rp->cv);
    if (rp->pol.ops && rp->pol.ops->finish)
        rp->pol.ops->finish(&rp->pol);
    free(rp->overhead);
    free(rp->records);
    sn_trace_free(&rp->tr);
    free(rp);
    return rc;
}
