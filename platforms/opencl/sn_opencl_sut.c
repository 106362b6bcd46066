/* The OpenCL platform as a system under test (harness/sn_sut.h): near memory is a device
 * buffer of resident packed weights; far memory is the model image in host memory, packed
 * and written to the device per call. Its account of a run: the profiling events. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_energy.h"
#include "sn_opencl.h"
#include "sn_sut.h"

typedef struct opencl_sut {
    sn_sut base;
    sn_opencl *ocl;
    sn_platform platform;
    uint32_t classes;
    float *logits;
    size_t budget;
    char slug[64];               /* the device name as a file-name word */
    sn_opencl_stats total;       /* summed over the inferences since account_reset */
} opencl_sut;

extern const sn_sut_ops sn_sut_opencl;

static void ocl_close(sn_sut *sut)
{
    opencl_sut *s = (opencl_sut *)sut;
    if (!s)
        return;
    sn_opencl_destroy(s->ocl);
    free(s->logits);
    free(s);
}

/* letters and digits of the device's name (after "platform /"), '-' for the rest */
static void make_slug(const char *name, char *slug, size_t size)
{
    const char *d = strchr(name, '/');
    size_t k = 0;
    for (d = d ? d + 1 : name; *d && k + 1 < size; ++d) {
        char ch = *d;
        int word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (word)
            slug[k++] = ch;
        else if (k && slug[k - 1] != '-')
            slug[k++] = '-';
    }
    while (k && slug[k - 1] == '-')
        --k;
    slug[k] = '\0';
}

static sn_status ocl_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                          char *err, size_t n)
{
    sn_opencl_options oo;
    char why[512] = "";
    opencl_sut *s;
    uint32_t i;
    sn_status st = sn_sut_check_options(&sn_sut_opencl, o, err, n);
    if (st != SN_OK)
        return st;
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_opencl;
    s->classes = set->model->arch.num_classes;
    s->logits = malloc((s->classes ? s->classes : 1) * sizeof *s->logits);
    if (!s->logits) {
        ocl_close(&s->base);
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    sn_opencl_options_default(&oo);
    oo.device = o->device;
    oo.near_budget_bytes = o->near_budget_bytes;
    oo.residency = o->explicit_residency ? SN_OPENCL_RESIDENT_EXPLICIT : SN_OPENCL_RESIDENT_ON_USE;
    st = sn_opencl_create(set->model, &oo, &s->ocl, why, sizeof why);
    if (st != SN_OK) {
        ocl_close(&s->base);
        return sn_sut_fail(st, err, n, "platform opencl: %s", why);
    }
    sn_opencl_platform(s->ocl, &s->platform);
    make_slug(sn_opencl_device_name(s->ocl), s->slug, sizeof s->slug);
    s->budget = o->near_budget_bytes;
    for (i = 0; i < set->n; ++i)
        keep[i] = 1;
    *out = &s->base;
    return SN_OK;
}

static void ocl_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const opencl_sut *s = (const opencl_sut *)sut;
    memset(d, 0, sizeof *d);
    d->name = "opencl";
    d->variant = s->slug;
    d->clock = SN_SUT_CLOCK_MEASURED;
    d->precision = SN_FP32;
    d->near_budget_bytes = s->budget;
    d->near_memory = "packed weights in device buffers (near_budget_bytes in the model's bytes): a SubNet's "
                     "weight set, or weight slices (a resident slice serves its part of a wider layer)";
    d->far_memory = "the model image in host memory, packed and written to the device per call";
    d->device_key = "device";
    d->device_value = sn_opencl_device_name(s->ocl);
    d->profile_device = sn_opencl_device_name(s->ocl);
    d->latency_source = "measured:clock_gettime(CLOCK_MONOTONIC), p50, host wall clock around each inference";
    d->energy = &sn_energy_model_cpu_fp32;
    d->resident_on_use = 1;
    d->slice_quantum = 0;      /* any output channel: a layer's served part is copied on the
                                  device, the rest written from host memory */
    d->near_packed_once = 0;   /* a weight set's near copy (resident) has its own layout */
}

static sn_status ocl_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                              char *err, size_t n)
{
    opencl_sut *s = (opencl_sut *)sut;
    size_t bytes = 0;
    (void)charge;
    sn_opencl_evict_all(s->ocl);
    if (i >= 0 && plan && sn_opencl_make_resident(s->ocl, plan, &bytes) != SN_OK)
        return sn_sut_fail(SN_ERR_IO, err, n, "platform opencl: cannot make the weights resident: %s",
                           sn_opencl_last_error(s->ocl));
    m->bytes = bytes;
    m->us = -1.0;
    return SN_OK;
}

/* SUSHI's SubGraph as slices: only the difference with what is resident moves. */
static sn_status ocl_resident_slices(sn_sut *sut, const sn_sut_slice *sl, uint32_t count, int charge,
                                     uint8_t *placed, sn_sut_moved *m, char *err, size_t n)
{
    opencl_sut *s = (opencl_sut *)sut;
    size_t bytes = 0;
    sn_status st;
    (void)charge;
    st = sn_opencl_set_resident(s->ocl, sl, count, placed, &bytes);
    if (st != SN_OK)
        return sn_sut_fail(st, err, n, "platform opencl: cannot make the slices resident: %s",
                           sn_opencl_last_error(s->ocl)[0] ? sn_opencl_last_error(s->ocl) : sn_status_str(st));
    m->bytes = bytes;
    m->us = -1.0;
    return SN_OK;
}

static void add_stats(sn_opencl_stats *t, const sn_opencl_stats *s)
{
    t->kernel_ns += s->kernel_ns;
    t->kernels += s->kernels;
    t->weight_write_ns += s->weight_write_ns;
    t->weight_write_bytes += s->weight_write_bytes;
    t->act_transfer_ns += s->act_transfer_ns;
    t->act_write_bytes += s->act_write_bytes;
    t->act_read_bytes += s->act_read_bytes;
    t->device_ns += s->device_ns;
    t->wall_ns += s->wall_ns;
    t->calls += s->calls;
    t->near_bytes += s->near_bytes;
    t->far_bytes += s->far_bytes;
    t->queued_ns += s->queued_ns;
    t->submit_ns += s->submit_ns;
    t->flow_commands_ns += s->flow_commands_ns;
    t->flow_span_ns += s->flow_span_ns;
    t->near_copy_bytes += s->near_copy_bytes;
    t->near_copy_ns += s->near_copy_ns;
}

static sn_status ocl_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    opencl_sut *s = (opencl_sut *)sut;
    sn_opencl_stats os;
    sn_status st;
    (void)i;
    memset(r, 0, sizeof *r);
    r->us = -1.0;
    sn_opencl_stats_reset(s->ocl);
    st = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    if (st != SN_OK)
        return sn_sut_fail(st, err, n, "platform opencl: %s%s%s", sn_status_str(st),
                           sn_opencl_last_error(s->ocl)[0] ? ": " : "", sn_opencl_last_error(s->ocl));
    sn_opencl_stats_get(s->ocl, &os);
    r->near_bytes = os.near_bytes;
    r->far_bytes = os.far_bytes;
    r->device_us = (double)os.device_ns / 1e3;
    add_stats(&s->total, &os);
    r->logits = s->logits;
    r->classes = s->classes;
    r->prediction = sn_sut_argmax(s->logits, s->classes);
    return SN_OK;
}

static void ocl_account_reset(sn_sut *sut)
{
    memset(&((opencl_sut *)sut)->total, 0, sizeof ((opencl_sut *)sut)->total);
}

/* the OpenCL platform's own account of the run's inferences (profiling events) */
static void ocl_account(sn_sut *sut, cJSON *root, double span_us)
{
    const opencl_sut *s = (const opencl_sut *)sut;
    const sn_opencl_stats *t = &s->total;
    cJSON *oc = cJSON_AddObjectToObject(root, "opencl");
    (void)span_us;
    cJSON_AddStringToObject(oc, "device", sn_opencl_device_name(s->ocl));
    cJSON_AddStringToObject(oc, "source", "measured: OpenCL profiling events (START..END per command; "
                                          "device = first QUEUED to last END per platform call)");
    cJSON_AddNumberToObject(oc, "kernel_us", (double)t->kernel_ns / 1e3);
    cJSON_AddNumberToObject(oc, "kernels", (double)t->kernels);
    cJSON_AddNumberToObject(oc, "weight_transfer_us", (double)t->weight_write_ns / 1e3);
    cJSON_AddNumberToObject(oc, "weight_transfer_bytes", (double)t->weight_write_bytes);
    cJSON_AddNumberToObject(oc, "near_copy_us", (double)t->near_copy_ns / 1e3);
    cJSON_AddNumberToObject(oc, "near_copy_bytes", (double)t->near_copy_bytes);
    cJSON_AddNumberToObject(oc, "act_transfer_us", (double)t->act_transfer_ns / 1e3);
    cJSON_AddNumberToObject(oc, "act_transfer_bytes", (double)(t->act_write_bytes + t->act_read_bytes));
    cJSON_AddNumberToObject(oc, "device_us", (double)t->device_ns / 1e3);
    cJSON_AddNumberToObject(oc, "platform_wall_us", (double)t->wall_ns / 1e3);
}

static double r1(double x)
{
    return round(x * 10.0) / 10.0;
}

/* eval: the profiling events' split of an inference, per inference */
static void ocl_report(sn_sut *sut, size_t n, cJSON *j, char *text, size_t text_bytes)
{
    const opencl_sut *s = (const opencl_sut *)sut;
    const sn_opencl_stats *t = &s->total;
    double dn = n ? (double)n : 1.0;
    int w;
    cJSON_AddStringToObject(j, "device", sn_opencl_device_name(s->ocl));
    cJSON_AddStringToObject(j, "event_source", "measured:OpenCL profiling events, per platform call first "
                                               "QUEUED to last END, summed");
    cJSON_AddNumberToObject(j, "kernel_us", r1((double)t->kernel_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "weight_transfer_us", r1((double)t->weight_write_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "act_transfer_us", r1((double)t->act_transfer_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "queued_us", r1((double)t->queued_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "submit_us", r1((double)t->submit_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "platform_wall_us", r1((double)t->wall_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "weight_transfer_bytes", round((double)t->far_bytes / dn));
    cJSON_AddNumberToObject(j, "act_write_bytes", round((double)t->act_write_bytes / dn));
    cJSON_AddNumberToObject(j, "act_read_bytes", round((double)t->act_read_bytes / dn));
    cJSON_AddNumberToObject(j, "kernels", r1((double)t->kernels / dn));
    cJSON_AddNumberToObject(j, "flow_commands_us", r1((double)t->flow_commands_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "flow_span_us", r1((double)t->flow_span_ns / 1e3 / dn));
    cJSON_AddNumberToObject(j, "out_of_order", sn_opencl_out_of_order(s->ocl));
    w = snprintf(text, text_bytes,
                 "split     per inference: kernels %.1f us (%.1f launches), weight transfers %.1f us "
                 "(%.0f B), activation transfers %.1f us (%.0f B written, %.0f B read); queued %.1f us, "
                 "submitted-to-start %.1f us\n",
                 (double)t->kernel_ns / 1e3 / dn, (double)t->kernels / dn, (double)t->weight_write_ns / 1e3 / dn,
                 (double)t->far_bytes / dn, (double)t->act_transfer_ns / 1e3 / dn, (double)t->act_write_bytes / dn,
                 (double)t->act_read_bytes / dn, (double)t->queued_ns / 1e3 / dn, (double)t->submit_ns / 1e3 / dn);
    if (t->flow_span_ns && w > 0 && (size_t)w < text_bytes)
        snprintf(text + w, text_bytes - (size_t)w,
                 "flows     ARAC micro-flows: %.1f us of commands in a %.1f us device span per inference (%s)\n",
                 (double)t->flow_commands_ns / 1e3 / dn, (double)t->flow_span_ns / 1e3 / dn,
                 sn_opencl_out_of_order(s->ocl) ? "one out-of-order queue" : "in-order queues");
}

const sn_sut_ops sn_sut_opencl = {
    "opencl", "an OpenCL device, measured (--device N|NAME)", SN_FP32, SN_SUT_TAKES_DEVICE,
    ocl_open, ocl_describe, ocl_resident, ocl_infer, ocl_account_reset, ocl_account, ocl_report, ocl_close, ocl_resident_slices, NULL};
