/* supernav harness: the SUT registry and the null SUT (harness/sn_sut.h). */
#include "sn_sut.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include "sn_energy.h"

/* one line per platform: platforms/<p>/sn_<p>_sut.c */
extern const sn_sut_ops sn_sut_cpu;
extern const sn_sut_ops sn_sut_opencl;
extern const sn_sut_ops sn_sut_fpga;
extern const sn_sut_ops sn_sut_mcu;

static const sn_sut_ops *const registry[] = {
    &sn_sut_cpu, &sn_sut_opencl, &sn_sut_fpga, &sn_sut_mcu, &sn_sut_null, &sn_sut_reference,
};

const sn_sut_ops *sn_sut_find(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof registry / sizeof registry[0]; ++i)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

void sn_sut_list(char *buf, size_t n)
{
    size_t i, k = 0;
    if (n)
        buf[0] = '\0';
    for (i = 0; i < sizeof registry / sizeof registry[0] && k < n; ++i) {
        int w = snprintf(buf + k, n - k, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

sn_status sn_sut_fail(sn_status status, char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return status;
}

sn_status sn_sut_check_options(const sn_sut_ops *ops, const sn_sut_options *o, char *err, size_t n)
{
    static const struct { unsigned flag; const char *name; } flags[] = {
        {SN_SUT_TAKES_ISA, "--isa"}, {SN_SUT_TAKES_DEVICE, "--device"},
        {SN_SUT_TAKES_BOARD, "--board"}, {SN_SUT_TAKES_PORT, "--port"}, {SN_SUT_TAKES_PE, "--pe"},
        {SN_SUT_TAKES_THREADS, "--threads"}, {SN_SUT_TAKES_NULL_SERVICE, "--null-service-us"},
        {SN_SUT_TAKES_LAYER_TIMES, "--layer-times"},
    };
    size_t i;
    for (i = 0; i < sizeof flags / sizeof flags[0]; ++i) {
        unsigned f = flags[i].flag;
        int given = f == SN_SUT_TAKES_ISA ? o->isa != NULL : f == SN_SUT_TAKES_DEVICE ? o->device != NULL
                  : f == SN_SUT_TAKES_BOARD ? o->board != NULL : f == SN_SUT_TAKES_PORT ? o->port != NULL
                  : f == SN_SUT_TAKES_PE ? o->pe_rows != 0 || o->pe_cols != 0
                  : f == SN_SUT_TAKES_THREADS ? o->threads > 1
                  : f == SN_SUT_TAKES_LAYER_TIMES ? o->layer_times != 0 : o->null_service_us != 0;
        if (given && !(ops->takes & f)) {
            size_t j, k = 0;
            char list[128] = "";
            for (j = 0; j < sizeof registry / sizeof registry[0]; ++j)
                if (registry[j]->takes & f)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k++ ? " and " : "",
                             registry[j]->name);
            return sn_sut_fail(SN_ERR_INVALID_ARGUMENT, err, n, "%s applies to --platform %s only, not %s",
                               flags[i].name, k ? list : "(none)", ops->name);
        }
    }
    return SN_OK;
}

int32_t sn_sut_argmax(const float *logits, uint32_t count)
{
    uint32_t k, best = 0;
    for (k = 1; k < count; ++k)
        if (logits[k] > logits[best])
            best = k;
    return (int32_t)best;
}

/* ---- the null SUT ------------------------------------------------------------------- */
/* the busy-waits a run's account lists, in inference order (its count and maximum cover all) */
#define NULL_WAITS_KEPT 4096

typedef struct null_sut {
    sn_sut base;
    size_t budget;
    int64_t service_ns;          /* the planted busy-wait per inference (0: none) */
    char variant[32];
    sn_run_property property;
    /* the account since account_reset: each busy-wait as the SUT itself timed it, ns */
    size_t waits;
    int64_t wait_max_ns, wait_sum_ns, wait_ns[NULL_WAITS_KEPT];
} null_sut;

static sn_status null_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                           char *err, size_t n)
{
    null_sut *s;
    uint32_t i;
    sn_status st = sn_sut_check_options(&sn_sut_null, o, err, n);
    if (st != SN_OK)
        return st;
    if (o->null_service_us < 0 || o->null_service_us > 10000000)
        return sn_sut_fail(SN_ERR_INVALID_ARGUMENT, err, n, "--null-service-us must be in [0, 10000000], not %lld",
                           (long long)o->null_service_us);
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_null;
    s->budget = o->near_budget_bytes;
    s->service_ns = o->null_service_us * 1000;
    if (s->service_ns)
        snprintf(s->variant, sizeof s->variant, "wait-%lldus", (long long)o->null_service_us);
    else
        snprintf(s->variant, sizeof s->variant, "none");
    s->property = (sn_run_property){"null_service_us", NULL, (double)o->null_service_us};
    for (i = 0; i < set->n; ++i)
        keep[i] = 1;
    *out = &s->base;
    return SN_OK;
}

static void null_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const null_sut *s = (const null_sut *)sut;
    memset(d, 0, sizeof *d);
    d->name = "null";
    d->variant = s->variant;
    d->clock = SN_SUT_CLOCK_NONE;
    d->precision = SN_FP32;
    d->near_budget_bytes = s->budget;
    d->near_memory = "none";
    d->far_memory = "none";
    d->device_key = "isa";
    d->device_value = "none";
    d->latency_source = "measured:clock_gettime(CLOCK_MONOTONIC), p50, single thread";
    d->energy = &sn_energy_model_cpu_fp32;
    if (s->service_ns) { /* recorded in the run's context: its times hold a planted wait */
        d->properties = &s->property;
        d->property_count = 1;
    }
}

static sn_status null_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                               char *err, size_t n)
{
    (void)sut; (void)i; (void)plan; (void)charge; (void)err; (void)n;
    m->bytes = 0;
    m->us = -1.0;
    return SN_OK;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sn_status null_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                            sn_sut_result *r, char *err, size_t n)
{
    null_sut *s = (null_sut *)sut;
    (void)i; (void)plan; (void)smp; (void)err; (void)n;
    if (s->service_ns) { /* a busy-wait, not a sleep: at least this long, never woken early */
        int64_t t0 = monotonic_ns(), until = t0 + s->service_ns, t;
        while ((t = monotonic_ns()) < until)
            ;
        /* its own time, from its first clock reading to its last: what the machine gave the
         * wait (preempted, it runs over); the rest of a query's service is the caller's */
        if (s->waits < NULL_WAITS_KEPT)
            s->wait_ns[s->waits] = t - t0;
        ++s->waits;
        s->wait_sum_ns += t - t0;
        if (t - t0 > s->wait_max_ns)
            s->wait_max_ns = t - t0;
    }
    memset(r, 0, sizeof *r);
    r->prediction = -1;
    r->us = -1.0;
    r->device_us = -1.0;
    return SN_OK;
}

static void null_account_reset(sn_sut *sut)
{
    null_sut *s = (null_sut *)sut;
    s->waits = 0;
    s->wait_max_ns = s->wait_sum_ns = 0;
}

/* policy.json "null_service" (a planted service time only): the busy-waits as timed by the
 * SUT itself, against which a test tells the harness's time in a query's service (served
 * time minus this) from the machine's (a preempted wait runs over) */
static void null_account(sn_sut *sut, cJSON *root, double span_us)
{
    const null_sut *s = (const null_sut *)sut;
    cJSON *o, *a;
    size_t k;
    (void)span_us;
    if (!s->service_ns)
        return;
    o = cJSON_AddObjectToObject(root, "null_service");
    cJSON_AddNumberToObject(o, "planted_us", (double)s->service_ns / 1e3);
    cJSON_AddNumberToObject(o, "inferences", (double)s->waits);
    cJSON_AddNumberToObject(o, "waited_mean_us", s->waits ? (double)s->wait_sum_ns / 1e3 / (double)s->waits : 0.0);
    cJSON_AddNumberToObject(o, "waited_max_us", (double)s->wait_max_ns / 1e3);
    a = cJSON_AddArrayToObject(o, "waited_us");
    for (k = 0; k < s->waits && k < NULL_WAITS_KEPT; ++k)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->wait_ns[k] / 1e3));
    cJSON_AddStringToObject(o, "source", "measured: the null SUT's own CLOCK_MONOTONIC around each busy-wait, in "
                                         "inference order (the first 4096 listed)");
}

static void null_close(sn_sut *sut)
{
    free(sut);
}

const sn_sut_ops sn_sut_null = {
    "null", "runs no inference: its runs measure the harness's own overhead (--null-service-us N: plus a planted "
    "N us busy-wait per inference)", SN_FP32, SN_SUT_TAKES_NULL_SERVICE,
    null_open, null_describe, null_resident, null_infer, null_account_reset, null_account, NULL, null_close, NULL,
    NULL};

/* ---- the reference SUT: the engine's reference kernels -------------------------------- */
typedef struct ref_sut {
    sn_sut base;
    sn_platform platform;
    uint32_t classes;
    float *logits;
    int precision;
} ref_sut;

static void ref_close(sn_sut *sut)
{
    ref_sut *s = (ref_sut *)sut;
    if (s)
        free(s->logits);
    free(s);
}

static sn_status ref_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                          char *err, size_t n)
{
    ref_sut *s;
    uint32_t i;
    sn_status st = sn_sut_check_options(&sn_sut_reference, o, err, n);
    if (st != SN_OK)
        return st;
    s = calloc(1, sizeof *s);
    if (!s || !(s->logits = malloc((set->model->arch.num_classes + 1) * sizeof *s->logits))) {
        free(s);
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    s->base.ops = &sn_sut_reference;
    s->platform = sn_platform_reference;
    s->classes = set->model->arch.num_classes;
    s->precision = set->precision;
    for (i = 0; i < set->n; ++i)
        keep[i] = 1;
    *out = &s->base;
    return SN_OK;
}

static void ref_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const ref_sut *s = (const ref_sut *)sut;
    memset(d, 0, sizeof *d);
    d->name = "reference";
    d->variant = "none";
    d->clock = SN_SUT_CLOCK_MEASURED;
    d->precision = s->precision;
    d->near_memory = "none";
    d->far_memory = "the model image, read in place";
    d->device_key = "isa";
    d->device_value = "none";
    d->latency_source = "measured:clock_gettime(CLOCK_MONOTONIC), p50, single thread";
    d->energy = s->precision == SN_INT8 ? &sn_energy_model_cpu_int8 : &sn_energy_model_cpu_fp32;
}

static sn_status ref_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    ref_sut *s = (ref_sut *)sut;
    sn_status st;
    (void)i;
    memset(r, 0, sizeof *r);
    r->us = -1.0;
    r->device_us = -1.0;
    st = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    if (st != SN_OK)
        return sn_sut_fail(st, err, n, "platform reference: %s", sn_status_str(st));
    r->logits = s->logits;
    r->classes = s->classes;
    r->prediction = sn_sut_argmax(s->logits, s->classes);
    return SN_OK;
}

const sn_sut_ops sn_sut_reference = {
    "reference", "the engine's plain-C reference kernels (the oracle), measured", SN_FP32, 0,
    ref_open, ref_describe, null_resident, ref_infer, NULL, NULL, NULL, ref_close, NULL, NULL};
