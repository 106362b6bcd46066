/* The timing wrapper of sn_timed.h. */
#define _POSIX_C_SOURCE 200809L
#include "sn_timed.h"

#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void add(sn_timed *t, int kind, double t0, double macs)
{
    t->kind[kind].ns += now_ns() - t0;
    t->kind[kind].macs += macs;
    ++t->kind[kind].calls;
}

static double dense_macs(const sn_conv2d_params *p)
{
    return (double)p->out_h * p->out_w * p->out_c * p->kernel_h * p->kernel_w * p->in_c;
}

static double depthwise_macs(const sn_conv2d_params *p)
{
    return (double)p->out_h * p->out_w * p->out_c * p->kernel_h * p->kernel_w;
}

static int dense_kind(const sn_conv2d_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 ? SN_TIMED_POINTWISE : SN_TIMED_STEM;
}

#define INNER(t) ((t)->inner->ops)
#define CTX(t) ((t)->inner->context)

static sn_status conv2d_f32(void *c, const sn_conv2d_params *p, const float *in, const float *w,
                            const float *scale, const float *bias, float *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->conv2d_f32(CTX(t), p, in, w, scale, bias, out);
    add(t, dense_kind(p), t0, dense_macs(p));
    return st;
}

static sn_status depthwise_f32(void *c, const sn_conv2d_params *p, const float *in, const float *w,
                               const float *scale, const float *bias, float *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->depthwise_conv2d_f32(CTX(t), p, in, w, scale, bias, out);
    add(t, SN_TIMED_DEPTHWISE, t0, depthwise_macs(p));
    return st;
}

static sn_status conv2d_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                           const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->conv2d_s8(CTX(t), p, q, in, w, bias, out);
    add(t, dense_kind(p), t0, dense_macs(p));
    return st;
}

static sn_status depthwise_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                              const int8_t *w, const int32_t *bias, int8_t *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->depthwise_conv2d_s8(CTX(t), p, q, in, w, bias, out);
    add(t, SN_TIMED_DEPTHWISE, t0, depthwise_macs(p));
    return st;
}

static sn_status add_f32(void *c, float *out, const float *in, uint32_t n)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->add_f32(CTX(t), out, in, n);
    add(t, SN_TIMED_OTHER, t0, 0.0);
    return st;
}

static sn_status add_s8(void *c, const sn_add_quant_params *q, int8_t *out, const int8_t *in, uint32_t n)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->add_s8(CTX(t), q, out, in, n);
    add(t, SN_TIMED_OTHER, t0, 0.0);
    return st;
}

static sn_status resize(void *c, const uint8_t *canvas, uint32_t src, float *out, uint32_t dst)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->resize_canvas_f32(CTX(t), canvas, src, out, dst);
    add(t, SN_TIMED_OTHER, t0, 0.0);
    return st;
}

static sn_status pool_f32(void *c, const sn_pool_params *p, const float *in, float *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->avgpool_f32(CTX(t), p, in, out);
    add(t, SN_TIMED_OTHER, t0, 0.0);
    return st;
}

static sn_status pool_s8(void *c, const sn_pool_params *p, const int8_t *in, int8_t *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->avgpool_s8(CTX(t), p, in, out);
    add(t, SN_TIMED_OTHER, t0, 0.0);
    return st;
}

static sn_status fc_f32(void *c, const sn_fc_params *p, const float *in, const float *w, const float *bias,
                        float *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->fully_connected_f32(CTX(t), p, in, w, bias, out);
    add(t, SN_TIMED_CLASSIFIER, t0, (double)p->in_c * p->out_c);
    return st;
}

static sn_status fc_s8(void *c, const sn_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                       const float *out_scale, float *out)
{
    sn_timed *t = c;
    double t0 = now_ns();
    sn_status st = INNER(t)->fully_connected_s8(CTX(t), p, in, w, bias, out_scale, out);
    add(t, SN_TIMED_CLASSIFIER, t0, (double)p->in_c * p->out_c);
    return st;
}

void sn_timed_reset(sn_timed *t)
{
    memset(t->kind, 0, sizeof t->kind);
}

void sn_timed_wrap(sn_timed *t, const sn_platform *inner, sn_platform *out)
{
    const sn_platform_ops *o = inner->ops;
    memset(t, 0, sizeof *t);
    t->inner = inner;
    if (o) {
        t->ops.conv2d_f32 = o->conv2d_f32 ? conv2d_f32 : NULL;
        t->ops.depthwise_conv2d_f32 = o->depthwise_conv2d_f32 ? depthwise_f32 : NULL;
        t->ops.conv2d_s8 = o->conv2d_s8 ? conv2d_s8 : NULL;
        t->ops.depthwise_conv2d_s8 = o->depthwise_conv2d_s8 ? depthwise_s8 : NULL;
        t->ops.arac_micro_flows = NULL;
        t->ops.add_f32 = o->add_f32 ? add_f32 : NULL;
        t->ops.resize_canvas_f32 = o->resize_canvas_f32 ? resize : NULL;
        t->ops.add_s8 = o->add_s8 ? add_s8 : NULL;
        t->ops.avgpool_f32 = o->avgpool_f32 ? pool_f32 : NULL;
        t->ops.avgpool_s8 = o->avgpool_s8 ? pool_s8 : NULL;
        t->ops.fully_connected_f32 = o->fully_connected_f32 ? fc_f32 : NULL;
        t->ops.fully_connected_s8 = o->fully_connected_s8 ? fc_s8 : NULL;
    }
    out->name = inner->name;
    out->ops = &t->ops;
    out->context = t;
}

const char *sn_timed_kind_name(int kind)
{
    static const char *const names[SN_TIMED_KINDS] = {"stem", "pointwise", "depthwise", "classifier", "other"};
    return kind >= 0 && kind < SN_TIMED_KINDS ? names[kind] : "?";
}
