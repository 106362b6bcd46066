/* The CPU platform as a system under test (harness/sn_sut.h): every weight is packed once
 * at open; near memory is the resident leading boxes of that copy (within the budget), far
 * memory the rest of it, flushed from the caches before each inference so that it is read
 * cold from DRAM. The flush is not timed: the adapter times the plan's invoke itself
 * (result.us, measured). Slices (SUSHI's SubGraph) are resident per tensor, a leading box
 * serving its part of a wider layer, and a switch moves only the difference. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <stdio.h>

#include "sn_cpu.h"
#include "sn_energy.h"
#include "sn_sut.h"
#include "sn_timed.h"

typedef struct cpu_sut {
    sn_sut base;
    sn_cpu *cpu;
    sn_platform platform;        /* the CPU's, or the timing wrapper around it */
    sn_platform cpu_platform;
    sn_timed *timed;             /* --layer-times: the wrapper; NULL otherwise */
    double fma_peak_gflops;
    double *kind_ns;             /* --layer-times: per inference, each kind's time
                                    ([inference * SN_TIMED_KINDS + kind]) */
    size_t kind_n, kind_cap;
    double kind_macs[SN_TIMED_KINDS], kind_calls[SN_TIMED_KINDS]; /* summed over the inferences */
    uint32_t classes;
    float *logits;
    size_t budget;
} cpu_sut;

extern const sn_sut_ops sn_sut_cpu;

static void cpu_close(sn_sut *sut)
{
    cpu_sut *s = (cpu_sut *)sut;
    if (!s)
        return;
    sn_cpu_destroy(s->cpu);
    free(s->timed);
    free(s->kind_ns);
    free(s->logits);
    free(s);
}

static sn_status cpu_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                          char *err, size_t n)
{
    sn_cpu_options co;
    const char *why = "";
    cpu_sut *s;
    uint32_t i;
    sn_status st = sn_sut_check_options(&sn_sut_cpu, o, err, n);
    if (st != SN_OK)
        return st;
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_cpu;
    s->classes = set->model->arch.num_classes;
    s->logits = malloc((s->classes ? s->classes : 1) * sizeof *s->logits);
    if (!s->logits) {
        cpu_close(&s->base);
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    sn_cpu_options_default(&co);
    co.isa = o->isa;
    co.near_budget_bytes = o->near_budget_bytes;
    co.residency = o->explicit_residency ? SN_CPU_RESIDENT_EXPLICIT : SN_CPU_RESIDENT_ON_USE;
    co.threads = o->threads;
    st = sn_cpu_create(set->model, &co, &s->cpu, &why);
    if (st != SN_OK) {
        cpu_close(&s->base);
        return sn_sut_fail(st, err, n, "platform cpu: %s", why);
    }
    sn_cpu_platform(s->cpu, &s->platform);
    if (o->layer_times) {
        s->cpu_platform = s->platform;
        if (!(s->timed = malloc(sizeof *s->timed))) {
            cpu_close(&s->base);
            return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
        }
        sn_timed_wrap(s->timed, &s->cpu_platform, &s->platform);
        s->fma_peak_gflops = o->fma_peak_gflops;
    }
    s->budget = o->near_budget_bytes;
    for (i = 0; i < set->n; ++i)
        keep[i] = 1;
    *out = &s->base;
    return SN_OK;
}

static void cpu_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const cpu_sut *s = (const cpu_sut *)sut;
    memset(d, 0, sizeof *d);
    d->name = "cpu";
    d->variant = sn_cpu_isa(s->cpu);
    d->clock = SN_SUT_CLOCK_MEASURED;
    d->precision = SN_FP32;
    d->near_budget_bytes = s->budget;
    d->near_memory = "the resident leading boxes of the weights packed once at open, never flushed "
                     "(near_budget_bytes, counted as the model stores the weights)";
    d->far_memory = strcmp(sn_cpu_flush_method(), "none")
                        ? "the rest of the packed weights, flushed from the caches (clflush) before each "
                          "inference: read cold from DRAM"
                        : "the rest of the packed weights, not flushed (this build has no cache-line "
                          "flush): may be read warm";
    d->device_key = "isa";
    d->device_value = sn_cpu_isa(s->cpu);
    d->near_packed_once = 1;
    d->latency_source = "measured:clock_gettime(CLOCK_MONOTONIC) around the plan's invoke, far weights "
                        "flushed before it (untimed), p50, single thread";
    d->energy = &sn_energy_model_cpu_fp32;
    d->resident_on_use = 1;
}

static sn_status cpu_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                              char *err, size_t n)
{
    cpu_sut *s = (cpu_sut *)sut;
    size_t bytes = 0;
    (void)charge;
    sn_cpu_evict_all(s->cpu);
    if (i >= 0 && plan) {
        sn_status st = sn_cpu_make_resident(s->cpu, plan, &bytes);
        if (st != SN_OK)
            return sn_sut_fail(st, err, n, "platform cpu: cannot make the weights resident: %s",
                               sn_status_str(st));
    }
    m->bytes = bytes;
    m->us = -1.0;
    return SN_OK;
}

/* SUSHI's SubGraph as slices: only the difference with what is resident moves. */
static sn_status cpu_resident_slices(sn_sut *sut, const sn_sut_slice *sl, uint32_t count, int charge,
                                     uint8_t *placed, sn_sut_moved *m, char *err, size_t n)
{
    cpu_sut *s = (cpu_sut *)sut;
    size_t bytes = 0;
    sn_status rc;
    (void)charge;
    rc = sn_cpu_set_resident(s->cpu, sl, count, placed, &bytes);
    if (rc != SN_OK)
        return sn_sut_fail(rc, err, n, "platform cpu: cannot make the slices resident: %s", sn_status_str(rc));
    m->bytes = bytes;
    m->us = -1.0;
    return SN_OK;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sn_status cpu_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    cpu_sut *s = (cpu_sut *)sut;
    sn_cpu_stats cs;
    sn_status st;
    int64_t t0;
    (void)i;
    memset(r, 0, sizeof *r);
    r->device_us = -1.0;
    sn_cpu_stats_reset(s->cpu);
    sn_cpu_flush_far(s->cpu, plan); /* far memory cold, outside the timed region */
    if (s->timed)
        sn_timed_reset(s->timed);
    t0 = now_ns();
    st = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    r->us = (double)(now_ns() - t0) / 1e3;
    if (s->timed && st == SN_OK) { /* this inference's time per kind (a median is reported) */
        int k;
        if (s->kind_n == s->kind_cap) {
            size_t cap = s->kind_cap ? 2 * s->kind_cap : 1024;
            double *g = realloc(s->kind_ns, cap * SN_TIMED_KINDS * sizeof *g);
            if (!g)
                return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
            s->kind_ns = g;
            s->kind_cap = cap;
        }
        for (k = 0; k < SN_TIMED_KINDS; ++k)
            s->kind_ns[s->kind_n * SN_TIMED_KINDS + (size_t)k] = s->timed->kind[k].ns;
        for (k = 0; k < SN_TIMED_KINDS; ++k) {
            s->kind_macs[k] += s->timed->kind[k].macs;
            s->kind_calls[k] += (double)s->timed->kind[k].calls;
        }
        ++s->kind_n;
    }
    if (st != SN_OK)
        return sn_sut_fail(st, err, n, "platform cpu: %s", sn_status_str(st));
    sn_cpu_stats_get(s->cpu, &cs);
    r->near_bytes = cs.near_bytes;
    r->far_bytes = cs.far_bytes;
    r->logits = s->logits;
    r->classes = s->classes;
    r->prediction = sn_sut_argmax(s->logits, s->classes);
    return SN_OK;
}

static void cpu_account_reset(sn_sut *sut)
{
    cpu_sut *s = (cpu_sut *)sut;
    s->kind_n = 0;
    memset(s->kind_macs, 0, sizeof s->kind_macs);
    memset(s->kind_calls, 0, sizeof s->kind_calls);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --layer-times: per layer kind, the median over the inferences of its time, its share of the
 * kinds' medians, GFLOP/s (2 FLOPs per MAC, the mean MACs over that median) and, with
 * --fma-peak, its share of that peak. */
static void cpu_report(sn_sut *sut, size_t n, cJSON *json, char *text, size_t text_bytes)
{
    cpu_sut *s = (cpu_sut *)sut;
    cJSON *kinds;
    double med[SN_TIMED_KINDS], all = 0.0, *v;
    size_t len = 0, i;
    int k;
    (void)n;
    if (!s->timed || s->kind_n == 0 || !(v = malloc(s->kind_n * sizeof *v)))
        return;
    for (k = 0; k < SN_TIMED_KINDS; ++k) {
        for (i = 0; i < s->kind_n; ++i)
            v[i] = s->kind_ns[i * SN_TIMED_KINDS + (size_t)k];
        qsort(v, s->kind_n, sizeof *v, cmp_dbl);
        med[k] = v[(s->kind_n - 1) / 2];
        all += med[k];
    }
    free(v);
    kinds = cJSON_AddObjectToObject(json, "layer_kinds");
    cJSON_AddStringToObject(kinds, "source", "measured:clock_gettime(CLOCK_MONOTONIC) around each kernel call "
                                             "of the timed inferences (two clock reads per layer: this run's "
                                             "latencies include them); per kind the median over the inferences; "
                                             "GFLOP/s = 2 x mean MACs / median time");
    if (s->fma_peak_gflops > 0.0)
        cJSON_AddNumberToObject(kinds, "fma_peak_gflops", s->fma_peak_gflops);
    len += (size_t)snprintf(text + len, text_bytes - len,
                            "layer kinds (median per inference, measured%s)\n",
                            s->fma_peak_gflops > 0.0 ? "; share of the given FMA peak" : "; no --fma-peak given");
    for (k = 0; k < SN_TIMED_KINDS && len < text_bytes; ++k) {
        double calls = s->kind_calls[k] / (double)s->kind_n, macs = s->kind_macs[k] / (double)s->kind_n;
        double gf = med[k] > 0.0 ? 2.0 * macs / med[k] : 0.0;
        cJSON *o;
        if (calls <= 0.0)
            continue;
        o = cJSON_AddObjectToObject(kinds, sn_timed_kind_name(k));
        cJSON_AddNumberToObject(o, "calls_per_inference", calls);
        cJSON_AddNumberToObject(o, "us_per_inference", med[k] / 1e3);
        cJSON_AddNumberToObject(o, "share_of_timed", all > 0.0 ? med[k] / all : 0.0);
        cJSON_AddNumberToObject(o, "macs_per_inference", macs);
        if (macs > 0.0) {
            cJSON_AddNumberToObject(o, "gflops", gf);
            if (s->fma_peak_gflops > 0.0)
                cJSON_AddNumberToObject(o, "share_of_fma_peak", gf / s->fma_peak_gflops);
        }
        len += (size_t)snprintf(text + len, text_bytes - len, "  %-10s %8.1f us  %5.1f %%", sn_timed_kind_name(k),
                                med[k] / 1e3, all > 0.0 ? 100.0 * med[k] / all : 0.0);
        if (len < text_bytes && macs > 0.0)
            len += (size_t)snprintf(text + len, text_bytes - len, "  %7.1f GFLOP/s", gf);
        if (len < text_bytes && macs > 0.0 && s->fma_peak_gflops > 0.0)
            len += (size_t)snprintf(text + len, text_bytes - len, "  %5.1f %% of peak", 100.0 * gf / s->fma_peak_gflops);
        if (len < text_bytes)
            len += (size_t)snprintf(text + len, text_bytes - len, "\n");
    }
}

const sn_sut_ops sn_sut_cpu = {
    "cpu", "the host CPU, measured (--isa avx512vnni|avx512|avxvnni|avx2|portable, --threads N)", SN_FP32,
    SN_SUT_TAKES_ISA | SN_SUT_TAKES_THREADS | SN_SUT_TAKES_LAYER_TIMES,
    cpu_open, cpu_describe, cpu_resident, cpu_infer, cpu_account_reset, NULL, cpu_report, cpu_close,
    cpu_resident_slices, NULL};
