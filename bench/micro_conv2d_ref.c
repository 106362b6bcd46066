/* Micro-benchmarks of the reference fp32 convolutions on layer shapes typical of the
 * CF-64 SuperNet (MobileNet blocks on 64x64 single-channel canvases). Items are MACs, so
 * items_per_second is MAC/s. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "micro.h"
#include "sn_bench.h"
#include "sn_kernels_ref.h"

typedef struct conv_case {
    const char *name;
    int depthwise;
    int32_t h, w, ci, co, k, s;
    sn_conv2d_params params;
    float *input, *weights, *bias, *output;
} conv_case;

static conv_case cases[] = {
    {"ref_f32/conv3x3_s2/64x64x1->16", 0, 64, 64, 1, 16, 3, 2, {0}, 0, 0, 0, 0},
    {"ref_f32/pointwise/16x16x24->96", 0, 16, 16, 24, 96, 1, 1, {0}, 0, 0, 0, 0},
    {"ref_f32/pointwise/16x16x96->24", 0, 16, 16, 96, 24, 1, 1, {0}, 0, 0, 0, 0},
    {"ref_f32/depthwise3x3/16x16x96", 1, 16, 16, 96, 96, 3, 1, {0}, 0, 0, 0, 0},
    {"ref_f32/depthwise5x5/16x16x96", 1, 16, 16, 96, 96, 5, 1, {0}, 0, 0, 0, 0},
};

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    size_t i;
    if (!p)
        return NULL;
    for (i = 0; i < n; ++i) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 16) & 0x7fff) / 32768.0f - 0.5f;
    }
    return p;
}

static size_t input_len(const conv_case *c) { return (size_t)c->h * c->w * c->ci; }
static size_t weight_len(const conv_case *c)
{
    return (size_t)c->k * c->k * (c->depthwise ? (size_t)c->co : (size_t)c->co * c->ci);
}
static size_t output_len(const conv_case *c)
{
    return (size_t)c->params.out_h * c->params.out_w * c->co;
}

static int setup(void *ctx)
{
    conv_case *c = ctx;
    sn_conv2d_params *p = &c->params;
    int32_t pad = c->k / 2;
    p->in_h = c->h; p->in_w = c->w; p->in_c = c->ci; p->out_c = c->co;
    p->kernel_h = p->kernel_w = c->k;
    p->stride_h = p->stride_w = c->s;
    p->pad_top = p->pad_left = pad;
    p->out_h = sn_conv2d_out_size(c->h, c->k, c->s, pad, pad);
    p->out_w = sn_conv2d_out_size(c->w, c->k, c->s, pad, pad);
    p->act_min = 0.0f;
    p->act_max = 6.0f;
    sn_conv2d_params_packed_strides(p, c->depthwise);
    if (!c->input) {
        c->input = filled(input_len(c), 1);
        c->weights = filled(weight_len(c), 2);
        c->bias = filled((size_t)c->co, 3);
        c->output = malloc(output_len(c) * sizeof(float));
    }
    if (!c->input || !c->weights || !c->bias || !c->output)
        return -1;
    return sn_conv2d_check(p, c->depthwise) == SN_OK ? 0 : -1;
}

static double run(void *ctx)
{
    conv_case *c = ctx;
    if (c->depthwise)
        sn_depthwise_conv2d_ref_f32(&c->params, c->input, c->weights, NULL, c->bias, c->output);
    else
        sn_conv2d_ref_f32(&c->params, c->input, c->weights, NULL, c->bias, c->output);
    return 0.0;
}

int sn_micro_register_conv2d_ref(void)
{
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        conv_case *c = &cases[i];
        sn_bench_case b = {0};
        if (setup(c) != 0)
            return -1;
        b.name = c->name;
        b.context = c;
        b.setup = setup;
        b.run = run;
        b.items_per_iteration = sn_conv2d_macs(&c->params, c->depthwise);
        b.bytes_per_iteration =
            (int64_t)(input_len(c) + weight_len(c) + output_len(c)) * (int64_t)sizeof(float);
        if (sn_bench_register(&b) != 0)
            return -1;
    }
    return 0;
}
