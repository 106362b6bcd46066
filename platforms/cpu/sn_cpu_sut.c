/* The CPU platform as a system under test (harness/sn_sut.h): near memory is a budget of
 * packed weights kept resident; far memory is the model image, packed per call. */
#include <stdlib.h>
#include <string.h>

#include "sn_cpu.h"
#include "sn_energy.h"
#include "sn_sut.h"

typedef struct cpu_sut {
    sn_sut base;
    sn_cpu *cpu;
    sn_platform platform;
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
    d->near_memory = "packed weights kept resident (near_budget_bytes)";
    d->far_memory = "the model image in DRAM, packed per call";
    d->device_key = "isa";
    d->device_value = sn_cpu_isa(s->cpu);
    d->latency_source = "measured:clock_gettime(CLOCK_MONOTONIC), p50, single thread";
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

static sn_status cpu_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    cpu_sut *s = (cpu_sut *)sut;
    sn_cpu_stats cs;
    sn_status st;
    (void)i;
    memset(r, 0, sizeof *r);
    r->us = -1.0;
    r->device_us = -1.0;
    sn_cpu_stats_reset(s->cpu);
    st = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    if (st != SN_OK)
        return sn_sut_fail(st, err, n, "platform cpu: %s", sn_status_str(st));
    sn_cpu_stats_get(s->cpu, &cs);
    r->near_bytes = cs.near_bytes;
    r->far_bytes = cs.far_bytes;
    r->prediction = sn_sut_argmax(s->logits, s->classes);
    r->logits = s->logits;
    r->num_logits = s->classes;
    return SN_OK;
}

const sn_sut_ops sn_sut_cpu = {
    "cpu", "the host CPU, measured (--isa avx512|avx2|portable, --threads N)", SN_FP32,
    SN_SUT_TAKES_ISA | SN_SUT_TAKES_THREADS,
    cpu_open, cpu_describe, cpu_resident, cpu_infer, NULL, NULL, NULL, cpu_close};
