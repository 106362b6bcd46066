/* Micro-benchmarks of the CPU platform's convolutions, fp32 and int8, on each ISA build this
 * processor runs (sn_cpu_isa_available), on layer shapes of the CF-64 SuperNet: the stem, an
 * expanding and a projecting pointwise layer, depthwise 3x3 and 5x5 at strides 1 and 2.
 * Weights resident (the platform's default), as in serving. Items are MACs, so
 * items_per_second is MAC/s; the int8 and fp32 rows of a shape and ISA compare directly.
 * Needs the model image build/supernet.snm (the platform sizes its buffers from it); without
 * it nothing is registered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "sn_bench.h"
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_quant.h"

typedef struct cpu_shape {
    const char *name;
    int depthwise;
    int32_t h, w, ci, co, k, s;
} cpu_shape;

static const cpu_shape shapes[] = {
    {"stem3x3_s2/64x64x1->16", 0, 64, 64, 1, 16, 3, 2},
    {"pointwise/16x16x24->96", 0, 16, 16, 24, 96, 1, 1},
    {"pointwise/16x16x96->24", 0, 16, 16, 96, 24, 1, 1},
    {"pointwise/4x4x96->384", 0, 4, 4, 96, 384, 1, 1},
    {"depthwise3x3/16x16x96", 1, 16, 16, 96, 96, 3, 1},
    {"depthwise3x3_s2/32x32x64", 1, 32, 32, 64, 64, 3, 2},
    {"depthwise5x5/16x16x96", 1, 16, 16, 96, 96, 5, 1},
    {"depthwise5x5_s2/32x32x64", 1, 32, 32, 64, 64, 5, 2},
};

static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};
#define NSHAPES (sizeof shapes / sizeof *shapes)
#define NISAS (sizeof isas / sizeof *isas)

typedef struct cpu_case {
    char name[96];
    const cpu_shape *shape;
    int s8;
    sn_platform platform;
    sn_conv2d_params params;
    sn_quant_params quant;
    void *input, *weights, *output;
    float *scale, *bias;
    int32_t *ibias, *mult, *shift;
} cpu_case;

static void *model_bytes;
static sn_model model;
static sn_cpu *cpus[NISAS];
static cpu_case cases[NISAS * NSHAPES * 2];

static void fill(void *p, size_t n, int s8, unsigned seed)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        seed = seed * 1103515245u + 12345u;
        if (s8)
            ((int8_t *)p)[i] = (int8_t)(seed >> 24);
        else
            ((float *)p)[i] = (float)((seed >> 16) & 0x7fff) / 32768.0f - 0.5f;
    }
}

static int prepare(cpu_case *c)
{
    const cpu_shape *d = c->shape;
    sn_conv2d_params *p = &c->params;
    const size_t esz = c->s8 ? 1 : sizeof(float);
    size_t n_in, n_w, n_out;
    int32_t pad = d->k / 2, j;
    p->in_h = d->h; p->in_w = d->w; p->in_c = d->ci; p->out_c = d->co;
    p->kernel_h = p->kernel_w = d->k;
    p->stride_h = p->stride_w = d->s;
    p->pad_top = p->pad_left = pad;
    p->out_h = sn_conv2d_out_size(d->h, d->k, d->s, pad, pad);
    p->out_w = sn_conv2d_out_size(d->w, d->k, d->s, pad, pad);
    p->act_min = 0.0f;
    p->act_max = 6.0f;
    sn_conv2d_params_packed_strides(p, d->depthwise);
    n_in = (size_t)d->h * d->w * d->ci;
    n_w = (size_t)d->k * d->k * (d->depthwise ? (size_t)d->co : (size_t)d->co * d->ci);
    n_out = (size_t)p->out_h * p->out_w * d->co;
    c->input = malloc(n_in * esz);
    c->weights = malloc(n_w * esz);
    c->output = malloc(n_out * esz);
    c->scale = malloc((size_t)d->co * sizeof(float));
    c->bias = malloc((size_t)d->co * sizeof(float));
    c->ibias = malloc((size_t)d->co * sizeof(int32_t));
    c->mult = malloc((size_t)d->co * sizeof(int32_t));
    c->shift = malloc((size_t)d->co * sizeof(int32_t));
    if (!c->input || !c->weights || !c->output || !c->scale || !c->bias || !c->ibias || !c->mult || !c->shift)
        return -1;
    fill(c->input, n_in, c->s8, 1);
    fill(c->weights, n_w, c->s8, 2);
    fill(c->bias, (size_t)d->co, 0, 3);
    for (j = 0; j < d->co; ++j) { /* an int8 layer after a ReLU, as the model's */
        c->scale[j] = 1.0f;
        c->ibias[j] = j * 37 - 1000;
        if (sn_quantize_multiplier(0.0007 + 1e-5 * j, &c->mult[j], &c->shift[j]) != 0)
            return -1;
    }
    c->quant.input_offset = 128;
    c->quant.output_offset = -128;
    c->quant.multiplier = c->mult;
    c->quant.shift = c->shift;
    c->quant.act_min = -128;
    c->quant.act_max = 127;
    return sn_conv2d_check(p, d->depthwise) == SN_OK ? 0 : -1;
}

static double run(void *ctx)
{
    cpu_case *c = ctx;
    const sn_platform_ops *ops = c->platform.ops;
    void *pc = c->platform.context;
    if (c->s8) {
        if (c->shape->depthwise)
            ops->depthwise_conv2d_s8(pc, &c->params, &c->quant, c->input, c->weights, c->ibias, c->output);
        else
            ops->conv2d_s8(pc, &c->params, &c->quant, c->input, c->weights, c->ibias, c->output);
    } else {
        if (c->shape->depthwise)
            ops->depthwise_conv2d_f32(pc, &c->params, c->input, c->weights, c->scale, c->bias, c->output);
        else
            ops->conv2d_f32(pc, &c->params, c->input, c->weights, c->scale, c->bias, c->output);
    }
    return 0.0;
}

int sn_micro_register_conv2d_cpu(void)
{
    size_t size, i, s, n = 0;
    int p;
    if (sn_read_file("build/supernet.snm", &model_bytes, &size) != 0 ||
        sn_model_load(&model, model_bytes, size, NULL) != SN_OK) {
        fprintf(stderr, "supernav-micro: build/supernet.snm missing; CPU platform benchmarks not registered\n");
        return 0;
    }
    for (i = 0; i < NISAS; ++i) {
        sn_cpu_options opt;
        if (!sn_cpu_isa_available(isas[i]))
            continue;
        sn_cpu_options_default(&opt);
        opt.isa = isas[i];
        if (sn_cpu_create(&model, &opt, &cpus[i], NULL) != SN_OK)
            return -1;
        for (s = 0; s < NSHAPES; ++s)
            for (p = 1; p >= 0; --p) {
                cpu_case *c = &cases[n++];
                sn_bench_case b = {0};
                c->shape = &shapes[s];
                c->s8 = p;
                sn_cpu_platform(cpus[i], &c->platform);
                snprintf(c->name, sizeof c->name, "cpu_%s_%s/%s", isas[i], p ? "s8" : "f32", shapes[s].name);
                if (prepare(c) != 0)
                    return -1;
                b.name = c->name;
                b.context = c;
                b.run = run;
                b.items_per_iteration = sn_conv2d_macs(&c->params, c->shape->depthwise);
                if (sn_bench_register(&b) != 0)
                    return -1;
            }
    }
    return 0;
}
