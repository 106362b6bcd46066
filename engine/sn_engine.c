#include "sn_engine.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sn_quant.h"
#include "sn_text.h"

const sn_platform sn_platform_reference = {"reference", NULL, NULL};

/* ---- small freestanding string building (no stdio on this path) ----------------------- */
typedef struct name_buf {
    char text[SN_IMAGE_NAME_BYTES + 8];
    size_t len;
} name_buf;

static void nb_str(name_buf *b, const char *s)
{
    while (*s && b->len + 1 < sizeof b->text)
        b->text[b->len++] = *s++;
    b->text[b->len] = '\0';
}

static void nb_u32(name_buf *b, uint32_t v)
{
    char d[11];
    d[sn_u32_digits(v, d)] = '\0';
    nb_str(b, d);
}

static void block_name(name_buf *b, uint32_t stage, uint32_t block, const char *leaf)
{
    b->len = 0;
    nb_str(b, "stages.");
    nb_u32(b, stage);
    nb_str(b, ".");
    nb_u32(b, block);
    nb_str(b, ".");
    nb_str(b, leaf);
}

/* ---- the plan builder: one walk serves both sizing (dry) and preparing ---------------- */
typedef struct builder {
    const sn_model *model;
    const sn_config *config;
    sn_plan *plan;          /* NULL: dry run, only sizes */
    float *vectors;         /* where folded BN vectors go (prepare only) */
    size_t vector_floats;   /* used so far */
    uint32_t max_activation;
    uint32_t max_tile;      /* ARAC: largest region activation, in values */
    uint32_t max_gate;      /* ARAC: the gate's largest map, in floats (fp32 in int8 plans too) */
    uint32_t calibration_id;
    uint32_t num_layers;
    int64_t macs;
    const char *why;
    int too_big;             /* an activation beyond SN_MAX_ACTIVATION_FLOATS */
    const char *calib_level; /* NULL, or the "level{pct}" tag of ARAC prefix statistics */
    sn_layer *layers;        /* where add_conv writes (plan->layers or an ARAC prefix) */
    uint32_t *layer_count;
    uint32_t layer_max;
    sn_layer scratch;
    int precision;           /* enum sn_precision */
    size_t q8_words;         /* int32/float words of int8 vectors (sizing and allocation) */
    int32_t *q8_vectors;     /* where they go (prepare only) */
    size_t q8_used;
    /* int8: the config's vectors precomputed in the image (q8.req.{id}, sn_engine.h), or
     * NULL; with them no batch norm is folded and no vector computed */
    const int32_t *q8_pre;
    uint64_t q8_pre_words;
    size_t q8_pre_need;      /* the words q8.req.{id} must hold for this plan */
    size_t q8_pre_used;      /* where the next convolution's vectors start in it */
    /* ARAC: the geometry of the prefix level being built (recorded by add_conv while
     * GEO_ON), for sizing the tile buffers and bounding the MACs in the dry run too */
    int geo_on;
    uint32_t geo_count;
    struct geo_layer {
        sn_conv2d_params params;
        uint8_t kind;
    } geo[SN_PLAN_MAX_PREFIX];
} builder;

static sn_status refuse(builder *b, sn_status st, const char *why)
{
    b->why = why;
    return st;
}

static sn_status find_f32(builder *b, const char *name, uint32_t min_elems, sn_tensor *t)
{
    uint64_t elems;
    if (sn_model_find(b->model, name, t) != SN_OK)
        return refuse(b, SN_ERR_FORMAT, "a tensor the architecture needs is missing");
    elems = t->bytes / 4;
    if (t->dtype != SN_DTYPE_F32 || elems < min_elems)
        return refuse(b, SN_ERR_FORMAT, "a tensor is smaller than the architecture needs");
    return SN_OK;
}

static void calib_name(const builder *b, name_buf *n, const char *layer, const char *leaf)
{
    n->len = 0;
    nb_str(n, "calib.");
    nb_u32(n, b->calibration_id);
    nb_str(n, ".");
    if (b->calib_level) {
        nb_str(n, b->calib_level);
        nb_str(n, ".");
    }
    nb_str(n, layer);
    nb_str(n, leaf);
}

/* A convolution's fp32 weights. An int8 plan also accepts an elided tensor (SN_DTYPE_F32_ELIDED,
 * an int8-only image): T then gets the shape and the size the values would have, and the
 * data pointer of the image's DATA section, so that a layer's fp32 view is only an offset
 * that bind_q8 carries over to the q8 twin; an int8 plan never reads through it. */
static sn_status find_weights(builder *b, const char *name, uint32_t min_elems, sn_tensor *t)
{
    uint64_t elems = 1;
    uint32_t j;
    if (b->precision != SN_INT8 || sn_model_find(b->model, name, t) != SN_OK ||
        t->dtype != SN_DTYPE_F32_ELIDED)
        return find_f32(b, name, min_elems, t);
    for (j = 0; j < t->ndim; ++j)
        elems *= t->dims[j];
    if (elems < min_elems)
        return refuse(b, SN_ERR_FORMAT, "a tensor is smaller than the architecture needs");
    t->dtype = SN_DTYPE_F32;
    t->bytes = elems * 4u;
    return SN_OK;
}

/* Folds layer NAME's batch norm for CHANNELS channels: scale = gamma / sqrt(var + eps),
 * bias = beta - mean * scale, with the config's calibrated mean and var. */
static sn_status fold_bn(builder *b, const char *name, uint32_t channels, const float **scale,
                         const float **bias)
{
    sn_tensor gamma, beta, mean, var;
    name_buf n;
    sn_status st;
    uint32_t c;
    if (b->q8_pre) { /* int8 with precomputed vectors: the folded BN is never read */
        if (b->plan)
            *scale = *bias = NULL;
        return SN_OK;
    }
    n.len = 0;
    nb_str(&n, name);
    nb_str(&n, ".weight");
    if ((st = find_f32(b, n.text, channels, &gamma)) != SN_OK)
        return st;
    n.len = 0;
    nb_str(&n, name);
    nb_str(&n, ".bias");
    if ((st = find_f32(b, n.text, channels, &beta)) != SN_OK)
        return st;
    calib_name(b, &n, name, ".mean");
    if ((st = find_f32(b, n.text, channels, &mean)) != SN_OK)
        return st;
    calib_name(b, &n, name, ".var");
    if ((st = find_f32(b, n.text, channels, &var)) != SN_OK)
        return st;
    if (mean.bytes != (uint64_t)channels * 4 || var.bytes != (uint64_t)channels * 4)
        return refuse(b, SN_ERR_FORMAT, "calibrated statistics do not match the config's width");
    if (b->plan) {
        float *s = b->vectors + b->vector_floats, *o = s + channels;
        const float *g = gamma.data, *be = beta.data, *mu = mean.data, *v = var.data;
        for (c = 0; c < channels; ++c) {
            if (!(v[c] >= 0.0f))
                return refuse(b, SN_ERR_FORMAT, "negative or NaN calibrated variance");
            s[c] = g[c] / sqrtf(v[c] + b->model->bn_eps);
            o[c] = be[c] - mu[c] * s[c];
        }
        *scale = s;
        *bias = o;
    }
    b->vector_floats += 2u * channels;
    return SN_OK;
}

/* int8: the q8 view of layer L's fp32 weights (tensor T, named NAME) and the weight scales of
 * its CHANNELS output channels; reserves the layer's int32 vectors. */
static sn_status bind_q8(builder *b, sn_layer *l, const char *name, const sn_tensor *t,
                         uint32_t channels)
{
    sn_tensor q, qs;
    name_buf n;
    if (b->precision != SN_INT8)
        return SN_OK;
    n.len = 0;
    nb_str(&n, "q8.");
    nb_str(&n, name);
    if (sn_model_find(b->model, n.text, &q) != SN_OK || q.dtype != SN_DTYPE_S8 ||
        q.bytes * 4 != t->bytes || q.ndim != t->ndim)
        return refuse(b, SN_ERR_UNSUPPORTED, "the model holds no int8 weights (pack it again)");
    nb_str(&n, ".scale");
    if (sn_model_find(b->model, n.text, &qs) != SN_OK || qs.dtype != SN_DTYPE_F32 ||
        qs.bytes / 4 < channels)
        return refuse(b, SN_ERR_FORMAT, "int8 weight scales are missing or too short");
    if (b->plan) {
        size_t off = (size_t)((const float *)l->weights - (const float *)t->data);
        l->q8.weights = (const int8_t *)q.data + off;
        l->q8.w_scale = (const float *)qs.data + (l->kind == SN_LAYER_DWCONV ? off % t->dims[2] : 0);
    }
    b->q8_words += 3u * channels;
    b->q8_pre_need += 2u * channels + (channels + 3u) / 4u;
    return SN_OK;
}

/* Activation sizes are bounded (2^28 floats, 1 GiB) so that no size arithmetic overflows,
 * on a 32-bit MCU either; a larger plan is refused. */
#define SN_MAX_ACTIVATION_FLOATS (UINT32_C(1) << 28)

static void track(builder *b, uint32_t h, uint32_t w, uint32_t c)
{
    uint64_t n = (uint64_t)h * w * c;
    if (n > SN_MAX_ACTIVATION_FLOATS) {
        b->too_big = 1;
        return;
    }
    if (n > b->max_activation)
        b->max_activation = (uint32_t)n;
}

/* Adds one convolution to b->layers; fills geometry, checks it, counts MACs. */
static sn_status add_conv(builder *b, int depthwise, uint32_t in_h, uint32_t in_w, uint32_t in_c,
                          uint32_t out_c, uint32_t k, uint32_t stride, float act_max,
                          sn_layer **out)
{
    sn_layer *l;
    sn_conv2d_params *p;
    int32_t pad = (int32_t)k / 2;
    if (*b->layer_count >= b->layer_max)
        return refuse(b, SN_ERR_UNSUPPORTED, "too many layers for one plan");
    l = b->plan ? &b->layers[*b->layer_count] : &b->scratch;
    p = &l->params;
    memset(l, 0, sizeof *l);
    l->kind = depthwise ? SN_LAYER_DWCONV : SN_LAYER_CONV;
    l->residual_buffer = -1;
    l->tap = -1;
    p->in_h = (int32_t)in_h; p->in_w = (int32_t)in_w; p->in_c = (int32_t)in_c;
    p->out_c = (int32_t)out_c;
    p->kernel_h = p->kernel_w = (int32_t)k;
    p->stride_h = p->stride_w = (int32_t)stride;
    p->pad_top = p->pad_left = pad;
    p->out_h = sn_conv2d_out_size(p->in_h, p->kernel_h, p->stride_h, pad, pad);
    p->out_w = sn_conv2d_out_size(p->in_w, p->kernel_w, p->stride_w, pad, pad);
    p->act_min = act_max > 0.0f ? 0.0f : -INFINITY;
    p->act_max = act_max > 0.0f ? act_max : INFINITY;
    sn_conv2d_params_packed_strides(p, depthwise);
    if (sn_conv2d_check(p, depthwise) != SN_OK)
        return refuse(b, SN_ERR_UNSUPPORTED, "a layer's geometry is outside the kernels' limits");
    track(b, in_h, in_w, in_c);
    track(b, (uint32_t)p->out_h, (uint32_t)p->out_w, out_c);
    b->macs += sn_conv2d_macs(p, depthwise);
    if (b->geo_on) {
        if (b->geo_count >= SN_PLAN_MAX_PREFIX)
            return refuse(b, SN_ERR_UNSUPPORTED, "too many ARAC prefix layers for one plan");
        b->geo[b->geo_count].params = *p;
        b->geo[b->geo_count++].kind = l->kind;
    }
    ++*b->layer_count;
    *out = l;
    return SN_OK;
}

static void use_layers(builder *b, sn_layer *layers, uint32_t *count, uint32_t max)
{
    b->layers = layers;
    b->layer_count = count;
    b->layer_max = max;
}

/* Leading slice of C channels at a level, as supernet.py's level_channels(). */
static uint32_t level_channels(uint32_t c, uint32_t pct)
{
    uint32_t n = (c * pct + 99u) / 100u;
    return n ? n : 1u;
}

typedef struct walk {
    uint32_t h, w, c;       /* current activation */
    uint32_t cur, other;    /* plan buffers: block input/output ping-pong */
    uint32_t block;         /* global block index */
} walk;

/* Stem and the blocks of stages [first, last) at a level (100 = full width). */
static sn_status build_stages(builder *b, walk *wk, uint32_t first, uint32_t last, uint32_t pct)
{
    const sn_image_arch *a = &b->model->arch;
    const sn_subnet_config *sc = &b->config->subnet;
    uint32_t s, blk, j, e_max = 0;
    sn_tensor t;
    sn_layer *l;
    sn_status st;
    name_buf n;

    for (j = 0; j < a->num_expands; ++j)
        if (a->expands[j] > e_max)
            e_max = a->expands[j];
    if (first == 0) {
        /* stem: conv 3x3 stride 2, 1 -> stem_c, BN, ReLU6; input in buffer 2 */
        uint32_t c = level_channels(a->stem_c, pct);
        track(b, wk->h, wk->w, 1);
        if ((st = find_weights(b, "stem", a->stem_c * 9u, &t)) != SN_OK)
            return st;
        if (t.ndim != 4 || t.dims[0] != a->stem_c || t.dims[1] != 3 || t.dims[2] != 3 || t.dims[3] != 1)
            return refuse(b, SN_ERR_FORMAT, "stem weights have an unexpected shape");
        if ((st = add_conv(b, 0, wk->h, wk->w, 1, c, 3, 2, 6.0f, &l)) != SN_OK)
            return st;
        l->weights = t.data;
        l->input_buffer = 2;
        l->output_buffer = (uint8_t)wk->cur;
        l->tap = 0;
        sn_conv2d_params_packed_strides(&l->params, 0);
        if ((st = fold_bn(b, "stem_bn", c, &l->scale, &l->bias)) != SN_OK ||
            (st = bind_q8(b, l, "stem", &t, c)) != SN_OK)
            return st;
        wk->h = (uint32_t)l->params.out_h;
        wk->w = (uint32_t)l->params.out_w;
        wk->c = c;
    }
    for (s = first; s < last; ++s) {
        for (blk = 0; blk < sc->depths[s]; ++blk, ++wk->block) {
            uint32_t gi = wk->block;
            uint32_t in_full = blk == 0 ? (s == 0 ? a->stem_c : a->stage_out_c[s - 1]) : a->stage_out_c[s];
            uint32_t in_c = wk->c, out_full = a->stage_out_c[s], out_c = level_channels(out_full, pct);
            uint32_t stride = blk == 0 ? a->stage_stride[s] : 1;
            uint32_t hid_max = in_full * e_max, hid = level_channels(in_full * sc->expands[gi], pct);
            uint32_t k = sc->kernels[gi], off;

            /* expand 1x1: leading hid rows, leading in_c inputs of [hid_max][1][1][in_full] */
            block_name(&n, s, blk, "expand");
            if ((st = find_weights(b, n.text, hid_max * in_full, &t)) != SN_OK)
                return st;
            if (t.ndim != 4 || t.dims[0] != hid_max || t.dims[1] != 1 || t.dims[2] != 1 ||
                t.dims[3] != in_full)
                return refuse(b, SN_ERR_FORMAT, "expand weights have an unexpected shape");
            if ((st = add_conv(b, 0, wk->h, wk->w, in_c, hid, 1, 1, 6.0f, &l)) != SN_OK)
                return st;
            l->weights = t.data;
            l->params.w_stride_out = l->params.w_stride_kh = l->params.w_stride_kw = (int32_t)in_full;
            l->input_buffer = (uint8_t)wk->cur;
            l->output_buffer = (uint8_t)wk->other;
            block_name(&n, s, blk, "expand");
            if ((st = bind_q8(b, l, n.text, &t, hid)) != SN_OK)
                return st;
            block_name(&n, s, blk, "bn1");
            if ((st = fold_bn(b, n.text, hid, &l->scale, &l->bias)) != SN_OK)
                return st;

            /* depthwise kxk: centred crop of [k_max][k_max][hid_max], leading hid channels */
            block_name(&n, s, blk, "dw");
            if ((st = find_weights(b, n.text, a->k_max * a->k_max * hid_max, &t)) != SN_OK)
                return st;
            if (t.ndim != 3 || t.dims[0] != a->k_max || t.dims[1] != a->k_max || t.dims[2] != hid_max)
                return refuse(b, SN_ERR_FORMAT, "depthwise weights have an unexpected shape");
            if ((st = add_conv(b, 1, wk->h, wk->w, hid, hid, k, stride, 6.0f, &l)) != SN_OK)
                return st;
            off = (a->k_max - k) / 2;
            l->weights = (const float *)t.data + (off * a->k_max + off) * hid_max;
            l->params.w_stride_kw = (int32_t)hid_max;
            l->params.w_stride_kh = (int32_t)(a->k_max * hid_max);
            l->params.w_stride_out = 0;
            l->input_buffer = (uint8_t)wk->other;
            l->output_buffer = 2;
            block_name(&n, s, blk, "dw");
            if ((st = bind_q8(b, l, n.text, &t, hid)) != SN_OK)
                return st;
            block_name(&n, s, blk, "bn2");
            if ((st = fold_bn(b, n.text, hid, &l->scale, &l->bias)) != SN_OK)
                return st;
            wk->h = (uint32_t)l->params.out_h;
            wk->w = (uint32_t)l->params.out_w;

            /* project 1x1: leading out_c rows, leading hid inputs of [out_full][1][1][hid_max] */
            block_name(&n, s, blk, "project");
            if ((st = find_weights(b, n.text, out_full * hid_max, &t)) != SN_OK)
                return st;
            if (t.ndim != 4 || t.dims[0] != out_full || t.dims[1] != 1 || t.dims[2] != 1 ||
                t.dims[3] != hid_max)
                return refuse(b, SN_ERR_FORMAT, "project weights have an unexpected shape");
            if ((st = add_conv(b, 0, wk->h, wk->w, hid, out_c, 1, 1, 0.0f, &l)) != SN_OK)
                return st;
            l->weights = t.data;
            l->params.w_stride_out = l->params.w_stride_kh = l->params.w_stride_kw = (int32_t)hid_max;
            l->input_buffer = 2;
            l->output_buffer = (uint8_t)wk->other;
            l->residual_buffer =
                (int8_t)(stride == 1 && in_c == out_c && in_full == out_full ? (int)wk->cur : -1);
            l->tap = (int16_t)(1 + gi);
            block_name(&n, s, blk, "project");
            if ((st = bind_q8(b, l, n.text, &t, out_c)) != SN_OK)
                return st;
            block_name(&n, s, blk, "bn3");
            if ((st = fold_bn(b, n.text, out_c, &l->scale, &l->bias)) != SN_OK)
                return st;
            wk->c = out_c;
            j = wk->cur;
            wk->cur = wk->other;
            wk->other = j;
        }
    }
    return SN_OK;
}

static sn_status build_head(builder *b, walk *wk)
{
    const sn_image_arch *a = &b->model->arch;
    sn_tensor t;
    sn_layer *l;
    sn_status st;
    /* head 1x1 -> head_c, BN, ReLU6 */
    if ((st = find_weights(b, "head", a->head_c * wk->c, &t)) != SN_OK)
        return st;
    if (t.ndim != 4 || t.dims[0] != a->head_c || t.dims[1] != 1 || t.dims[2] != 1 ||
        t.dims[3] != wk->c)
        return refuse(b, SN_ERR_FORMAT, "head weights have an unexpected shape");
    if ((st = add_conv(b, 0, wk->h, wk->w, wk->c, a->head_c, 1, 1, 6.0f, &l)) != SN_OK)
        return st;
    l->weights = t.data;
    l->input_buffer = (uint8_t)wk->cur;
    l->output_buffer = (uint8_t)wk->other;
    l->tap = (int16_t)(1 + wk->block);
    sn_conv2d_params_packed_strides(&l->params, 0);
    if ((st = fold_bn(b, "head_bn", a->head_c, &l->scale, &l->bias)) != SN_OK ||
        (st = bind_q8(b, l, "head", &t, a->head_c)) != SN_OK)
        return st;
    /* classifier */
    if ((st = find_f32(b, "fc.weight", a->num_classes * a->head_c, &t)) != SN_OK)
        return st;
    if (t.ndim != 2 || t.dims[0] != a->num_classes || t.dims[1] != a->head_c)
        return refuse(b, SN_ERR_FORMAT, "classifier weights have an unexpected shape");
    if (b->plan) {
        b->plan->fc_weights = t.data;
        b->plan->head_buffer = wk->other;
        b->plan->head_h = wk->h;
        b->plan->head_w = wk->w;
    }
    if ((st = find_f32(b, "fc.bias", a->num_classes, &t)) != SN_OK)
        return st;
    if (b->plan)
        b->plan->fc_bias = t.data;
    if (b->precision == SN_INT8) {
        sn_tensor q;
        if (sn_model_find(b->model, "q8.fc.weight", &q) != SN_OK || q.dtype != SN_DTYPE_S8 ||
            q.bytes != (uint64_t)a->num_classes * a->head_c)
            return refuse(b, SN_ERR_UNSUPPORTED, "the model holds no int8 classifier (pack it again)");
        if (b->plan)
            b->plan->fc_q8 = q.data;
        if (sn_model_find(b->model, "q8.fc.weight.scale", &q) != SN_OK || q.dtype != SN_DTYPE_F32 ||
            q.bytes != (uint64_t)a->num_classes * 4)
            return refuse(b, SN_ERR_FORMAT, "int8 classifier scales are missing");
        b->q8_words += 2u * a->num_classes;
    }
    b->macs += (int64_t)a->head_c * a->num_classes;
    if (a->head_c > b->max_activation)
        b->max_activation = a->head_c; /* the pooled vector */
    return SN_OK;
}

/* ---- ARAC region geometry ------------------------------------------------------------ */
typedef sn_region region;

/* A prefix level's layers, wherever their geometry lies: COUNT records STRIDE bytes apart
 * from BASE, each holding an sn_conv2d_params at PARAMS_OFF and a layer kind at KIND_OFF
 * (the plan's sn_layer array, or the builder's record of the level it just built). */
typedef struct geo_view {
    const char *base;
    size_t stride, params_off, kind_off;
    uint32_t count;
} geo_view;

static const sn_conv2d_params *geo_params(const geo_view *g, uint32_t i)
{
    return (const sn_conv2d_params *)(const void *)(g->base + (size_t)i * g->stride + g->params_off);
}

static int geo_depthwise(const geo_view *g, uint32_t i)
{
    return *(const uint8_t *)(g->base + (size_t)i * g->stride + g->kind_off) == SN_LAYER_DWCONV;
}

static geo_view plan_view(const sn_arac_plan *ar, uint32_t level)
{
    geo_view g;
    g.base = (const char *)sn_arac_prefix(ar, level);
    g.stride = sizeof(sn_layer);
    g.params_off = offsetof(sn_layer, params);
    g.kind_off = offsetof(sn_layer, kind);
    g.count = ar->prefix_count;
    return g;
}

static geo_view builder_view(const builder *b)
{
    geo_view g;
    g.base = (const char *)b->geo;
    g.stride = sizeof b->geo[0];
    g.params_off = offsetof(struct geo_layer, params);
    g.kind_off = offsetof(struct geo_layer, kind);
    g.count = b->geo_count;
    return g;
}

/* The regions of one micro-flow over tiles [ty0, ty1) x [tx0, tx1) of a GRID: OUT[l] is what
 * layer l computes, *CANVAS the canvas pixels it reads (the input region of layer l is the
 * output region of the layer before it). MODE h: backwards from the tiles' part of the last
 * layer's output, each layer's input is the receptive field of its output, clipped to the
 * map (zero padding only at the canvas border). MODE z: every layer's region is the tiles'
 * share of its map (every map side a multiple of the grid, checked when planning), so a
 * layer's padding falls at the tiles' border. */
static void region_walk(const geo_view *g, uint32_t mode, uint32_t grid, uint32_t ty0, uint32_t tx0,
                        uint32_t ty1, uint32_t tx1, region *out, region *canvas)
{
    const sn_conv2d_params *last = geo_params(g, g->count - 1);
    int32_t t = last->out_h / (int32_t)grid;
    region r;
    uint32_t i;
    if (mode == SN_REGION_MODE_TILE) {
        for (i = 0; i < g->count; ++i) {
            const sn_conv2d_params *p = geo_params(g, i);
            int32_t th = p->out_h / (int32_t)grid, tw = p->out_w / (int32_t)grid;
            out[i].r0 = (int32_t)ty0 * th;
            out[i].r1 = (int32_t)ty1 * th;
            out[i].c0 = (int32_t)tx0 * tw;
            out[i].c1 = (int32_t)tx1 * tw;
        }
        t = geo_params(g, 0)->in_h / (int32_t)grid;
        canvas->r0 = (int32_t)ty0 * t;
        canvas->r1 = (int32_t)ty1 * t;
        t = geo_params(g, 0)->in_w / (int32_t)grid;
        canvas->c0 = (int32_t)tx0 * t;
        canvas->c1 = (int32_t)tx1 * t;
        return;
    }
    r.r0 = (int32_t)ty0 * t;
    r.r1 = (int32_t)ty1 * t;
    r.c0 = (int32_t)tx0 * t;
    r.c1 = (int32_t)tx1 * t;
    for (i = g->count; i-- > 0;) {
        const sn_conv2d_params *p = geo_params(g, i);
        region in;
        out[i] = r;
        in.r0 = r.r0 * p->stride_h - p->pad_top;
        in.r1 = (r.r1 - 1) * p->stride_h - p->pad_top + p->kernel_h;
        in.c0 = r.c0 * p->stride_w - p->pad_left;
        in.c1 = (r.c1 - 1) * p->stride_w - p->pad_left + p->kernel_w;
        if (in.r0 < 0) in.r0 = 0;
        if (in.c0 < 0) in.c0 = 0;
        if (in.r1 > p->in_h) in.r1 = p->in_h;
        if (in.c1 > p->in_w) in.c1 = p->in_w;
        r = in;
    }
    *canvas = r;
}

/* MACs of one micro-flow whose layers compute regions OUT. */
static int64_t region_macs(const geo_view *g, const region *out)
{
    int64_t macs = 0;
    uint32_t l;
    for (l = 0; l < g->count; ++l) {
        const sn_conv2d_params *p = geo_params(g, l);
        int64_t area = (int64_t)(out[l].r1 - out[l].r0) * (out[l].c1 - out[l].c0);
        macs += area * p->out_c * p->kernel_h * p->kernel_w * (geo_depthwise(g, l) ? 1 : p->in_c);
    }
    return macs;
}

sn_status sn_plan_region_geometry(const sn_plan *plan, uint32_t index, sn_region out[SN_PLAN_MAX_PREFIX],
                                  sn_region *canvas)
{
    const sn_arac_plan *ar;
    const sn_arac_region *r;
    geo_view g;
    if (!plan || !plan->is_arac || !out || !canvas)
        return SN_ERR_INVALID_ARGUMENT;
    ar = &plan->arac;
    if (index >= ar->num_regions || ar->prefix_count == 0)
        return SN_ERR_INVALID_ARGUMENT;
    r = &ar->regions[index];
    if (r->level >= ar->computed_levels || r->ty0 >= r->ty1 || r->tx0 >= r->tx1 || r->ty1 > ar->grid ||
        r->tx1 > ar->grid)
        return SN_ERR_INVALID_ARGUMENT;
    g = plan_view(ar, r->level);
    region_walk(&g, ar->mode, ar->grid, r->ty0, r->tx0, r->ty1, r->tx1, out, canvas);
    return SN_OK;
}

void sn_tile_conv_params(const sn_conv2d_params *g, const sn_region *in, const sn_region *out,
                         sn_conv2d_params *p)
{
    *p = *g;
    p->in_h = in->r1 - in->r0;
    p->in_w = in->c1 - in->c0;
    p->out_h = out->r1 - out->r0;
    p->out_w = out->c1 - out->c0;
    p->pad_top = g->pad_top + in->r0 - out->r0 * g->stride_h;
    p->pad_left = g->pad_left + in->c0 - out->c0 * g->stride_w;
}

/* The level just built (b->geo): its largest region activation (a merged region spans at
 * most MERGE tiles per side: in mode h no larger than a MERGE x MERGE block's receptive field
 * without clipping, clipped to each map; in mode z one tile's share of each map) into
 * b->max_tile, and its MACs with every tile its own micro-flow into *ALL_TILES. In mode z,
 * refuses a prefix whose maps do not split evenly into the grid. */
static sn_status size_level(builder *b, uint32_t mode, uint32_t grid, uint32_t merge, int64_t *all_tiles)
{
    geo_view g = builder_view(b);
    region reg[SN_PLAN_MAX_PREFIX], cv;
    uint32_t l, ty, tx;
    uint64_t most = 0;
    int32_t span;
    *all_tiles = 0;
    if (g.count == 0)
        return refuse(b, SN_ERR_UNSUPPORTED, "an ARAC prefix without layers");
    if (mode == SN_REGION_MODE_TILE) {
        for (l = 0; l < g.count; ++l) {
            const sn_conv2d_params *p = geo_params(&g, l);
            sn_conv2d_params tile = *p;
            if (p->in_h % (int32_t)grid || p->in_w % (int32_t)grid || p->out_h % (int32_t)grid ||
                p->out_w % (int32_t)grid)
                return refuse(b, SN_ERR_UNSUPPORTED, "a tile-local (z) prefix needs every map side a multiple of the grid");
            tile.in_h /= (int32_t)grid;
            tile.in_w /= (int32_t)grid;
            tile.out_h /= (int32_t)grid;
            tile.out_w /= (int32_t)grid;
            if (sn_conv2d_out_size(tile.in_h, tile.kernel_h, tile.stride_h, tile.pad_top, tile.pad_top) != tile.out_h ||
                sn_conv2d_check(&tile, geo_depthwise(&g, l)) != SN_OK)
                return refuse(b, SN_ERR_UNSUPPORTED, "a tile-local (z) prefix layer does not map a tile onto its tile");
            if ((uint64_t)tile.out_h * (uint64_t)tile.out_w * (uint64_t)tile.out_c > most)
                most = (uint64_t)tile.out_h * (uint64_t)tile.out_w * (uint64_t)tile.out_c;
        }
        span = geo_params(&g, 0)->in_h / (int32_t)grid;
        if ((uint64_t)span * (uint64_t)(geo_params(&g, 0)->in_w / (int32_t)grid) > most)
            most = (uint64_t)span * (uint64_t)(geo_params(&g, 0)->in_w / (int32_t)grid);
    } else {
        span = (int32_t)merge * (geo_params(&g, g.count - 1)->out_h / (int32_t)grid);
        for (l = g.count; l-- > 0;) {
            const sn_conv2d_params *p = geo_params(&g, l);
            uint64_t h = (uint64_t)(span < p->out_h ? span : p->out_h), w = (uint64_t)(span < p->out_w ? span : p->out_w);
            if (h * w * (uint64_t)p->out_c > most)
                most = h * w * (uint64_t)p->out_c;
            span = (span - 1) * p->stride_h + p->kernel_h;
        }
        {
            const sn_conv2d_params *p = geo_params(&g, 0);
            uint64_t h = (uint64_t)(span < p->in_h ? span : p->in_h), w = (uint64_t)(span < p->in_w ? span : p->in_w);
            if (h * w > most)
                most = h * w;
        }
    }
    if (most > SN_MAX_ACTIVATION_FLOATS)
        return refuse(b, SN_ERR_UNSUPPORTED, "an activation larger than 2^28 values");
    if (most > b->max_tile)
        b->max_tile = (uint32_t)most;
    for (ty = 0; ty < grid; ++ty)
        for (tx = 0; tx < grid; ++tx) {
            region_walk(&g, mode, grid, ty, tx, ty + 1, tx + 1, reg, &cv);
            *all_tiles += region_macs(&g, reg);
        }
    return SN_OK;
}

static sn_status build_gate(builder *b)
{
    const sn_image_arch *a = &b->model->arch;
    static const char *const names[3] = {"gate.c1", "gate.c2", "gate.out"};
    uint32_t side = a->canvas / a->gate_pool, i, count = 0;
    sn_layer *l, scratch[3];
    sn_tensor t;
    sn_status st;
    name_buf n;
    if (side < b->config->grid || side % b->config->grid != 0)
        return refuse(b, SN_ERR_UNSUPPORTED, "the gate's pooled map does not split into the grid");
    use_layers(b, b->plan ? b->plan->arac.gate : scratch, &count, 3);
    for (i = 0; i < 3; ++i) {
        uint32_t k = i < 2 ? 3u : 1u, in_c = i == 0 ? 1u : a->gate_c, out_c = i < 2 ? a->gate_c : a->gate_out;
        uint32_t h = i < 2 ? side : b->config->grid;
        n.len = 0;
        nb_str(&n, names[i]);
        nb_str(&n, ".weight");
        if ((st = find_f32(b, n.text, out_c * k * k * in_c, &t)) != SN_OK)
            return st;
        if (t.dims[0] != out_c || t.dims[1] != k || t.dims[2] != k || t.dims[3] != in_c)
            return refuse(b, SN_ERR_FORMAT, "gate weights have an unexpected shape");
        /* ReLU after the 3x3 convolutions, none after the output: act_max 0 = no clamp */
        if ((st = add_conv(b, 0, h, h, in_c, out_c, k, 1, 0.0f, &l)) != SN_OK)
            return st;
        if (i < 2)
            l->params.act_min = 0.0f;
        l->weights = t.data;
        sn_conv2d_params_packed_strides(&l->params, 0);
        n.len = 0;
        nb_str(&n, names[i]);
        nb_str(&n, ".bias");
        if ((st = find_f32(b, n.text, out_c, &t)) != SN_OK)
            return st;
        l->bias = t.data;
    }
    if (side * side * a->gate_c > b->max_gate)
        b->max_gate = side * side * a->gate_c;
    if (b->config->grid * b->config->grid * a->gate_c > b->max_gate)
        b->max_gate = b->config->grid * b->config->grid * a->gate_c;
    if (b->config->grid * b->config->grid * a->gate_out > b->max_gate)
        b->max_gate = b->config->grid * b->config->grid * a->gate_out;
    if (b->plan)
        b->plan->arac.gate_side = side;
    return SN_OK;
}

static uint32_t index_of(uint32_t v, const uint32_t *list, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n && list[i] != v; ++i)
        ;
    return i;
}

/* ARAC: the gate, the prefix at every computed level, the SKIP features; WK then describes
 * the stitched map the tail reads. */
static sn_status build_arac(builder *b, walk *wk)
{
    const sn_image_arch *a = &b->model->arch;
    const sn_config *cfg = b->config;
    sn_arac_plan *ar = b->plan ? &b->plan->arac : NULL;
    uint32_t split = cfg->split ? cfg->split : a->arac_prefix_stages;
    uint32_t computed = 0, count = 0, lv, full_c, merge, saved_max;
    int64_t saved_macs, most_macs = 0;
    walk pw = *wk;
    sn_status st;

    if (cfg->grid > 16 || cfg->grid * cfg->grid > SN_PLAN_MAX_TILES)
        return refuse(b, SN_ERR_UNSUPPORTED, "ARAC grid too fine for one plan");
    if (split == 0 || split > a->num_stages)
        return refuse(b, SN_ERR_UNSUPPORTED, "ARAC split point outside the model's stages");
    if ((st = build_gate(b)) != SN_OK)
        return st;
    saved_max = b->max_activation; /* the prefix's own figures are its regions' */
    saved_macs = b->macs;
    while (computed < cfg->num_levels && cfg->levels_pct[computed] > 0)
        ++computed;
    if (computed == 0 || computed > SN_ARAC_MAX_COMPUTED)
        return refuse(b, SN_ERR_UNSUPPORTED, "an ARAC config without a computed level or with too many");
    /* merged regions: only mode h in the split-point form (CF-64's configs keep their one
     * micro-flow per tile, so their figures stay as they were) */
    merge = cfg->split && cfg->mode == SN_REGION_MODE_HALO ? (cfg->grid / 2 > 1 ? cfg->grid / 2 : 1) : 1;
    for (lv = 0; lv < computed; ++lv) {
        name_buf tag;
        int64_t all_tiles;
        uint32_t before = count;
        tag.len = 0;
        nb_str(&tag, "level");
        nb_u32(&tag, cfg->levels_pct[lv]);
        b->calib_level = tag.text;
        pw = *wk;
        use_layers(b, ar ? ar->prefix : NULL, &count, SN_PLAN_MAX_PREFIX_LAYERS);
        b->geo_on = 1;
        b->geo_count = 0;
        /* the prefix never runs on the whole canvas: its regions size the tile buffers */
        if ((st = build_stages(b, &pw, 0, split, cfg->levels_pct[lv])) != SN_OK)
            return st;
        b->geo_on = 0;
        b->calib_level = NULL;
        b->max_activation = saved_max;
        b->macs = saved_macs;
        if (lv > 0 && count - before != before / lv)
            return refuse(b, SN_ERR_UNSUPPORTED, "ARAC prefix levels with different layer counts");
        if (pw.h % cfg->grid != 0 || pw.w % cfg->grid != 0)
            return refuse(b, SN_ERR_UNSUPPORTED, "ARAC prefix does not split evenly into tiles");
        if ((st = size_level(b, cfg->mode, cfg->grid, merge, &all_tiles)) != SN_OK)
            return st;
        if (all_tiles > most_macs)
            most_macs = all_tiles;
    }
    /* the stitched map is the tail's input: full prefix width at the prefix's size */
    full_c = a->stage_out_c[split - 1];
    track(b, pw.h, pw.w, full_c);
    if (computed < cfg->num_levels) { /* a SKIP level: its learned features */
        sn_tensor t;
        name_buf n;
        n.len = 0;
        nb_str(&n, "skip.");
        nb_u32(&n, split);
        if ((st = find_f32(b, n.text, full_c, &t)) != SN_OK)
            return st;
        if (t.bytes != (uint64_t)full_c * 4u)
            return refuse(b, SN_ERR_FORMAT, "the SKIP features do not match the prefix's channels");
        if (ar)
            ar->skip = t.data;
        if (b->precision == SN_INT8)
            b->q8_words += (full_c + 3u) / 4u;
    }
    if (ar) {
        ar->split = split;
        ar->grid = cfg->grid;
        ar->mode = cfg->mode;
        ar->threshold_pct = cfg->threshold_pct;
        ar->num_levels = cfg->num_levels;
        memcpy(ar->level_pct, cfg->levels_pct, sizeof ar->level_pct);
        ar->computed_levels = computed;
        ar->gate_logits = a->gate_out;
        ar->gate_rule = a->gate_out == 1 ? SN_GATE_SIGMOID : SN_GATE_SOFTMAX;
        for (lv = 0; lv < cfg->num_levels; ++lv)
            ar->gate_index[lv] = (uint8_t)index_of(cfg->levels_pct[lv], a->levels_pct, a->num_levels);
        ar->prefix_count = count / computed;
        ar->feature_side = pw.h;
        ar->feature_c = full_c;
        ar->stitched_buffer = wk->cur;
        ar->merge_max = merge;
        ar->max_macs = b->macs + most_macs; /* the tail's MACs are added by the caller's walk */
    }
    wk->h = pw.h;
    wk->w = pw.w;
    wk->c = full_c;
    wk->block = pw.block;
    return SN_OK;
}

static sn_status build(builder *b)
{
    const sn_model *m = b->model;
    const sn_image_arch *a = &m->arch;
    const sn_config *cfg = b->config;
    char canonical[SN_CONFIG_TEXT_MAX];
    uint32_t i;
    walk wk;
    sn_status st;

    if ((st = sn_config_check(m, cfg, &b->why)) != SN_OK)
        return st;
    if (sn_config_format(cfg, canonical, sizeof canonical) != SN_OK)
        return refuse(b, SN_ERR_FORMAT, "config text too long");
    b->calibration_id = UINT32_MAX;
    for (i = 0; i < m->config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(m, i, &kind, &text);
        if (kind == (cfg->is_arac ? 1u : 0u) && !strcmp(text, canonical))
            b->calibration_id = i;
    }
    if (b->calibration_id == UINT32_MAX)
        return refuse(b, SN_ERR_UNSUPPORTED, "the model holds no calibrated BN statistics for this config");
    if (b->precision == SN_INT8) {
        sn_tensor pre;
        name_buf n;
        n.len = 0;
        nb_str(&n, "q8.req.");
        nb_u32(&n, b->calibration_id);
        if (sn_model_find(m, n.text, &pre) == SN_OK) {
            if (pre.dtype != SN_DTYPE_S32)
                return refuse(b, SN_ERR_FORMAT, "the config's precomputed int8 vectors are not int32");
            b->q8_pre = pre.data;
            b->q8_pre_words = pre.bytes / 4u;
        }
    }

    memset(&wk, 0, sizeof wk);
    if (cfg->input_res) {
        if (cfg->is_arac)
            return refuse(b, SN_ERR_UNSUPPORTED, "an input resolution override applies to SubNets only");
        for (i = 0; i < a->num_resolutions && a->resolutions[i] != cfg->input_res; ++i)
            ;
        if (i == a->num_resolutions)
            return refuse(b, SN_ERR_UNSUPPORTED, "the input resolution is not one the model was built for");
    }
    wk.h = wk.w = cfg->input_res ? cfg->input_res : cfg->subnet.res;
    wk.cur = 0;
    wk.other = 1;
    if (!cfg->is_arac) {
        use_layers(b, b->plan ? b->plan->layers : NULL, &b->num_layers, SN_PLAN_MAX_LAYERS);
        if ((st = build_stages(b, &wk, 0, a->num_stages, 100)) != SN_OK)
            return st;
        return build_head(b, &wk);
    }
    if ((st = build_arac(b, &wk)) != SN_OK)
        return st;
    {
        int64_t before = b->macs;
        use_layers(b, b->plan ? b->plan->layers : NULL, &b->num_layers, SN_PLAN_MAX_LAYERS);
        if ((st = build_stages(b, &wk, cfg->split ? cfg->split : a->arac_prefix_stages, a->num_stages, 100)) !=
                SN_OK ||
            (st = build_head(b, &wk)) != SN_OK)
            return st;
        if (b->plan)
            b->plan->arac.max_macs += b->macs - before;
    }
    return SN_OK;
}

static sn_status build_checked(builder *b)
{
    sn_status st = build(b);
    if (st == SN_OK && b->too_big)
        return refuse(b, SN_ERR_UNSUPPORTED, "an activation larger than 2^28 values");
    if (st == SN_OK && b->q8_pre && b->q8_pre_words != b->q8_pre_need)
        return refuse(b, SN_ERR_FORMAT, "the config's precomputed int8 vectors do not match its plan");
    return st;
}

static size_t round16(size_t v) { return (v + 15u) & ~(size_t)15u; }

/* Each activation buffer's capacity in floats. An int8 plan's activations are bytes: its
 * buffers hold max_activation bytes, except that an untiled plan resizes its input in fp32
 * into buffer 0 first (input_s8: resolution^2 floats). */
static uint32_t buffer_floats(const builder *b)
{
    uint64_t bytes, r;
    if (b->precision != SN_INT8)
        return b->max_activation;
    r = b->config->input_res ? b->config->input_res : b->config->subnet.res;
    bytes = b->max_activation;
    if (!b->config->is_arac && 4u * r * r > bytes)
        bytes = 4u * r * r;
    return (uint32_t)((bytes + 3u) / 4u);
}

/* Each ARAC tile buffer's capacity in floats: the largest region (int8: bytes) or the gate's
 * maps (fp32 in both precisions), whichever is larger. */
static uint32_t tile_floats(const builder *b)
{
    uint32_t reg_floats = b->precision == SN_INT8 ? (b->max_tile + 3u) / 4u : b->max_tile;
    return reg_floats > b->max_gate ? reg_floats : b->max_gate;
}

static size_t arena_need(const builder *b)
{
    return round16(b->vector_floats * sizeof(float)) + round16(b->q8_words * sizeof(int32_t)) +
           3u * round16((size_t)buffer_floats(b) * sizeof(float)) +
           3u * round16((size_t)tile_floats(b) * sizeof(float));
}

/* ---- int8: activation quantization from the calibrated ranges --------------------- */
static int32_t round_clamp(double v, double lo, double hi)
{
    if (!(v >= lo))
        v = lo;
    if (v > hi)
        v = hi;
    return (int32_t)(v < 0.0 ? v - 0.5 : v + 0.5);
}

/* TFLite's asymmetric int8 quantization of [lo, hi] (widened to include 0). */
static sn_qtensor qtensor_of(float lo, float hi)
{
    sn_qtensor q;
    double l = lo < 0.0f ? (double)lo : 0.0, h = hi > 0.0f ? (double)hi : 0.0, scale;
    if (h - l < 1e-6)
        h = l + 1e-6;
    scale = (h - l) / 255.0;
    q.scale = (float)scale;
    q.zero_point = round_clamp(-128.0 - l / scale, -128.0, 127.0);
    return q;
}

uint32_t sn_plan_act_rows(const sn_plan *plan)
{
    return 1u + plan->num_layers + (plan->is_arac ? plan->arac.computed_levels * plan->arac.prefix_count : 0u);
}

static int32_t *q8_take(builder *b, uint32_t words)
{
    int32_t *p = b->q8_vectors + b->q8_used;
    b->q8_used += words;
    return p;
}

/* The convolution's int8 vectors and clamp from its input/output quantization. */
static sn_status quantize_conv(builder *b, sn_layer *l)
{
    sn_layer_q8 *q = &l->q8;
    uint32_t o, n = (uint32_t)l->params.out_c;
    double s_in = (double)q->in.scale, s_out = (double)q->out.scale;
    q->bias = q8_take(b, n);
    q->multiplier = q8_take(b, n);
    q->shift = q8_take(b, n);
    if (b->q8_pre) { /* precomputed (q8.req.{id}): bias, multiplier, then the shifts as bytes */
        const int32_t *src = b->q8_pre + b->q8_pre_used;
        const int8_t *sh = (const int8_t *)(const void *)(src + 2u * n);
        memcpy(q->bias, src, (size_t)n * sizeof *src);
        memcpy(q->multiplier, src + n, (size_t)n * sizeof *src);
        for (o = 0; o < n; ++o)
            q->shift[o] = sh[o];
        b->q8_pre_used += 2u * n + (n + 3u) / 4u;
    }
    for (o = 0; !b->q8_pre && o < n; ++o) {
        double denom = s_in * (double)q->w_scale[o] * (double)l->scale[o];
        if (sn_quantize_multiplier(denom / s_out, &q->multiplier[o], &q->shift[o]) != 0)
            return refuse(b, SN_ERR_UNSUPPORTED, "an int8 requantization multiplier is out of range");
        q->bias[o] = denom != 0.0 ? round_clamp((double)l->bias[o] / denom, -1073741824.0, 1073741824.0) : 0;
    }
    q->quant.input_offset = -q->in.zero_point;
    q->quant.output_offset = q->out.zero_point;
    q->quant.multiplier = q->multiplier;
    q->quant.shift = q->shift;
    q->quant.act_min = l->params.act_min > -INFINITY
                           ? round_clamp((double)q->out.zero_point + (double)l->params.act_min / s_out, -128.0, 127.0)
                           : -128;
    q->quant.act_max = l->params.act_max < INFINITY
                           ? round_clamp((double)q->out.zero_point + (double)l->params.act_max / s_out, -128.0, 127.0)
                           : 127;
    return SN_OK;
}

static sn_status quantize_add(builder *b, sn_layer *l, sn_qtensor residual)
{
    sn_layer_q8 *q = &l->q8;
    double s1 = (double)q->out.scale, s2 = (double)residual.scale, so = (double)q->post.scale;
    double twice = 2.0 * (s1 > s2 ? s1 : s2);
    if (sn_quantize_multiplier(s1 / twice, &q->add.multiplier[0], &q->add.shift[0]) != 0 ||
        sn_quantize_multiplier(s2 / twice, &q->add.multiplier[1], &q->add.shift[1]) != 0 ||
        sn_quantize_multiplier(twice / (1048576.0 * so), &q->add.multiplier[2], &q->add.shift[2]) != 0)
        return refuse(b, SN_ERR_UNSUPPORTED, "an int8 residual multiplier is out of range");
    q->add.offset[0] = -q->out.zero_point;
    q->add.offset[1] = -residual.zero_point;
    q->add.offset[2] = q->post.zero_point;
    return SN_OK;
}

/* Quantizes LAYERS[0..n) whose calibration rows start at ROW; FIRST_IN is the first layer's
 * input. LAST_POST (may be NULL) forces the last layer's final output quantization. */
static sn_status quantize_layers(builder *b, sn_layer *layers, uint32_t n, const float *rows,
                                 sn_qtensor first_in, const sn_qtensor *last_post)
{
    uint32_t i;
    sn_status st;
    for (i = 0; i < n; ++i) {
        sn_layer *l = &layers[i];
        const float *r = rows + (size_t)i * SN_Q8_ACT_COLUMNS;
        l->q8.in = i == 0 ? first_in : layers[i - 1].q8.post;
        l->q8.out = qtensor_of(r[0], r[1]);
        l->q8.post = l->residual_buffer >= 0 ? qtensor_of(r[2], r[3]) : l->q8.out;
        if (i + 1 == n && last_post) {
            l->q8.post = *last_post;
            if (l->residual_buffer < 0)
                l->q8.out = *last_post;
        }
        if ((st = quantize_conv(b, l)) != SN_OK)
            return st;
        if (l->residual_buffer >= 0 &&
            (st = quantize_add(b, l, i >= 3 ? layers[i - 3].q8.post : first_in)) != SN_OK)
            return st;
    }
    return SN_OK;
}

static sn_status quantize_plan(builder *b)
{
    sn_plan *plan = b->plan;
    const sn_image_arch *a = &plan->model->arch;
    uint32_t rows = sn_plan_act_rows(plan), k;
    sn_tensor act, fcs;
    name_buf n;
    const float *r;
    sn_qtensor first;
    sn_status st;
    n.len = 0;
    nb_str(&n, "q8.act.");
    nb_u32(&n, plan->calibration_id);
    if (sn_model_find(plan->model, n.text, &act) != SN_OK)
        return refuse(b, SN_ERR_UNSUPPORTED, "the model holds no int8 calibration for this config");
    if (act.dtype != SN_DTYPE_F32 || act.bytes != (uint64_t)rows * SN_Q8_ACT_COLUMNS * 4)
        return refuse(b, SN_ERR_FORMAT, "the config's int8 calibration does not match its plan");
    r = act.data;
    for (k = 0; k < rows * SN_Q8_ACT_COLUMNS; ++k)
        if (!(r[k] > -1e30f && r[k] < 1e30f))
            return refuse(b, SN_ERR_FORMAT, "an int8 calibration range is not finite");
    plan->input_q.scale = 1.0f / 255.0f;
    plan->input_q.zero_point = -128;
    first = plan->input_q;
    if (plan->is_arac) {
        sn_arac_plan *ar = &plan->arac;
        uint32_t pc = ar->prefix_count, lv, c;
        const float *r0 = r + (size_t)(1 + plan->num_layers) * SN_Q8_ACT_COLUMNS;
        const float *last = r0 + (size_t)(pc - 1) * SN_Q8_ACT_COLUMNS;
        float lo = last[2], hi = last[3];
        /* one quantization for the stitched map: the union of every computed level's output
         * and the SKIP features */
        for (lv = 1; lv < ar->computed_levels; ++lv) {
            last = r0 + ((size_t)lv * pc + pc - 1) * SN_Q8_ACT_COLUMNS;
            lo = last[2] < lo ? last[2] : lo;
            hi = last[3] > hi ? last[3] : hi;
        }
        for (c = 0; ar->skip && c < ar->feature_c; ++c) {
            lo = ar->skip[c] < lo ? ar->skip[c] : lo;
            hi = ar->skip[c] > hi ? ar->skip[c] : hi;
        }
        if (!(lo > -1e30f && hi < 1e30f))
            return refuse(b, SN_ERR_FORMAT, "the SKIP features are not finite");
        ar->stitched_q = qtensor_of(lo, hi);
        for (lv = 0; lv < ar->computed_levels; ++lv)
            if ((st = quantize_layers(b, sn_arac_prefix(ar, lv), pc, r0 + (size_t)lv * pc * SN_Q8_ACT_COLUMNS,
                                      plan->input_q, &ar->stitched_q)) != SN_OK)
                return st;
        if (ar->skip) { /* an activation value: quantized as the stitched map */
            int8_t *q = (int8_t *)(void *)q8_take(b, (ar->feature_c + 3u) / 4u);
            for (c = 0; c < ar->feature_c; ++c)
                q[c] = (int8_t)round_clamp((double)ar->stitched_q.zero_point +
                                               (double)ar->skip[c] / (double)ar->stitched_q.scale,
                                           -128.0, 127.0);
            ar->skip_q8 = q;
        }
        first = ar->stitched_q;
    }
    if ((st = quantize_layers(b, plan->layers, plan->num_layers, r + SN_Q8_ACT_COLUMNS, first, NULL)) != SN_OK)
        return st;
    plan->head_q = plan->layers[plan->num_layers - 1].q8.post;
    sn_model_find(plan->model, "q8.fc.weight.scale", &fcs);
    plan->fc_bias_q = q8_take(b, a->num_classes);
    plan->fc_dequant = (float *)(void *)q8_take(b, a->num_classes);
    for (k = 0; k < a->num_classes; ++k) {
        double d = (double)plan->head_q.scale * (double)((const float *)fcs.data)[k];
        plan->fc_dequant[k] = (float)d;
        plan->fc_bias_q[k] = d != 0.0 ? round_clamp((double)plan->fc_bias[k] / d, -1073741824.0, 1073741824.0) : 0;
    }
    return SN_OK;
}

sn_status sn_plan_arena_bytes_p(const sn_model *model, const sn_config *config, int precision,
                                size_t *bytes)
{
    builder b;
    sn_status st;
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    b.precision = precision;
    if (precision != SN_FP32 && precision != SN_INT8)
        return SN_ERR_INVALID_ARGUMENT;
    st = build_checked(&b);
    if (st == SN_OK)
        *bytes = arena_need(&b);
    return st;
}

sn_status sn_plan_arena_bytes(const sn_model *model, const sn_config *config, size_t *bytes)
{
    return sn_plan_arena_bytes_p(model, config, SN_FP32, bytes);
}

sn_status sn_plan_prepare_p(sn_plan *plan, const sn_model *model, const sn_config *config,
                            int precision, void *arena, size_t arena_bytes, const char **why)
{
    builder b;
    sn_status st;
    size_t need, vec_bytes, q8_bytes, buf_bytes, tile_bytes;
    uint32_t i, buf_floats, tl_floats;
    char *base;
    if (precision != SN_FP32 && precision != SN_INT8) {
        if (why)
            *why = "unknown precision";
        return SN_ERR_INVALID_ARGUMENT;
    }
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    b.precision = precision;
    st = build_checked(&b); /* dry run first: nothing is written unless everything fits */
    if (st != SN_OK) {
        if (why)
            *why = b.why;
        return st;
    }
    need = arena_need(&b);
    if (!arena || arena_bytes < need || ((uintptr_t)arena & 15u) != 0) {
        if (why)
            *why = "arena smaller than sn_plan_arena_bytes() or not 16-byte aligned";
        return SN_ERR_NO_MEMORY;
    }
    memset(plan, 0, sizeof *plan);
    vec_bytes = round16(b.vector_floats * sizeof(float));
    q8_bytes = round16(b.q8_words * sizeof(int32_t));
    buf_bytes = round16((size_t)buffer_floats(&b) * sizeof(float));
    tile_bytes = round16((size_t)tile_floats(&b) * sizeof(float));
    buf_floats = buffer_floats(&b);
    tl_floats = tile_floats(&b);
    base = (char *)arena;
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    b.precision = precision;
    b.plan = plan;
    b.vectors = arena;
    b.q8_vectors = (int32_t *)(void *)(base + vec_bytes);
    st = build_checked(&b);
    if (st != SN_OK) {
        if (why)
            *why = b.why;
        return st;
    }
    plan->model = model;
    plan->config = *config;
    plan->is_arac = config->is_arac;
    plan->precision = precision;
    plan->calibration_id = b.calibration_id;
    plan->num_layers = b.num_layers;
    plan->macs = b.macs;
    plan->buffer_floats = buf_floats;
    for (i = 0; i < 3; ++i)
        plan->buffers[i] = (float *)(void *)(base + vec_bytes + q8_bytes + i * buf_bytes);
    for (i = 0; i < 3; ++i)
        plan->arac.tile_buffers[i] =
            tl_floats ? (float *)(void *)(base + vec_bytes + q8_bytes + 3 * buf_bytes + i * tile_bytes)
                      : NULL;
    plan->arac.tile_buffer_floats = tl_floats;
    plan->arac.force_level = -1;
    plan->arena_bytes = need;
    plan->q8_precomputed_words = b.q8_pre ? (uint32_t)b.q8_pre_words : 0u;
    if (precision == SN_INT8 && (st = quantize_plan(&b)) != SN_OK) {
        if (why)
            *why = b.why;
        return st;
    }
    return SN_OK;
}

sn_status sn_plan_prepare(sn_plan *plan, const sn_model *model, const sn_config *config,
                          void *arena, size_t arena_bytes, const char **why)
{
    return sn_plan_prepare_p(plan, model, config, SN_FP32, arena, arena_bytes, why);
}

/* One convolution's vectors as q8.req.{id} holds them; returns the words. */
static size_t export_layer(const sn_layer *l, int32_t *out)
{
    size_t n = (size_t)l->params.out_c, o;
    if (out) {
        int8_t *sh = (int8_t *)(void *)(out + 2u * n);
        memcpy(out, l->q8.bias, n * sizeof *out);
        memcpy(out + n, l->q8.multiplier, n * sizeof *out);
        memset(sh, 0, (n + 3u) / 4u * sizeof *out);
        for (o = 0; o < n; ++o)
            sh[o] = (int8_t)l->q8.shift[o];
    }
    return 2u * n + (n + 3u) / 4u;
}

sn_status sn_plan_q8_export(const sn_plan *plan, int32_t *out, size_t *words)
{
    size_t w = 0;
    uint32_t i, lv;
    if (!plan || !words || plan->precision != SN_INT8)
        return SN_ERR_INVALID_ARGUMENT;
    /* the order quantize_plan quantizes the layers in */
    if (plan->is_arac)
        for (lv = 0; lv < plan->arac.computed_levels; ++lv)
            for (i = 0; i < plan->arac.prefix_count; ++i)
                w += export_layer(&sn_arac_prefix(&plan->arac, lv)[i], out ? out + w : NULL);
    for (i = 0; i < plan->num_layers; ++i)
        w += export_layer(&plan->layers[i], out ? out + w : NULL);
    *words = w;
    return SN_OK;
}

/* Bilinear resize with half-pixel centres (PyTorch align_corners=False, no antialias) of a
 * SRC x SRC canvas to DST x DST, scaled to [0, 1]. The column taps are computed once and
 * each source row is scaled once; the arithmetic per output is the same expression as the
 * per-pixel form (bit-identical results). */
#define SN_RESIZE_MAX 256
void sn_resize_canvas_f32(const uint8_t *canvas, uint32_t src, float *out, uint32_t dst)
{
    const float inv255 = 1.0f / 255.0f;
    const float scale = (float)src / (float)dst;
    uint32_t y, x, x0s[SN_RESIZE_MAX], x1s[SN_RESIZE_MAX], row0 = UINT32_MAX, row1 = UINT32_MAX;
    float lxs[SN_RESIZE_MAX], f0[SN_RESIZE_MAX], f1[SN_RESIZE_MAX];
    if (src == dst) {
        for (y = 0; y < src * src; ++y)
            out[y] = (float)canvas[y] * inv255;
        return;
    }
    if (src > SN_RESIZE_MAX || dst > SN_RESIZE_MAX) {
        for (y = 0; y < dst; ++y) {
            float sy = ((float)y + 0.5f) * scale - 0.5f;
            uint32_t y0, y1;
            float ly;
            if (sy < 0.0f)
                sy = 0.0f;
            y0 = (uint32_t)sy;
            y1 = y0 + 1 < src ? y0 + 1 : src - 1;
            ly = sy - (float)y0;
            for (x = 0; x < dst; ++x) {
                float sx = ((float)x + 0.5f) * scale - 0.5f;
                uint32_t x0, x1;
                float lx, top, bottom;
                if (sx < 0.0f)
                    sx = 0.0f;
                x0 = (uint32_t)sx;
                x1 = x0 + 1 < src ? x0 + 1 : src - 1;
                lx = sx - (float)x0;
                top = (1.0f - lx) * ((float)canvas[y0 * src + x0] * inv255) +
                      lx * ((float)canvas[y0 * src + x1] * inv255);
                bottom = (1.0f - lx) * ((float)canvas[y1 * src + x0] * inv255) +
                         lx * ((float)canvas[y1 * src + x1] * inv255);
                out[y * dst + x] = (1.0f - ly) * top + ly * bottom;
            }
        }
        return;
    }
    for (x = 0; x < dst; ++x) {
        float sx = ((float)x + 0.5f) * scale - 0.5f;
        if (sx < 0.0f)
            sx = 0.0f;
        x0s[x] = (uint32_t)sx;
        x1s[x] = x0s[x] + 1 < src ? x0s[x] + 1 : src - 1;
        lxs[x] = sx - (float)x0s[x];
    }
    for (y = 0; y < dst; ++y) {
        float sy = ((float)y + 0.5f) * scale - 0.5f;
        uint32_t y0, y1;
        float ly;
        if (sy < 0.0f)
            sy = 0.0f;
        y0 = (uint32_t)sy;
        y1 = y0 + 1 < src ? y0 + 1 : src - 1;
        ly = sy - (float)y0;
        if (y0 != row0) { /* consecutive output rows often share source rows */
            if (y0 == row1) {
                for (x = 0; x < src; ++x)
                    f0[x] = f1[x];
            } else {
                for (x = 0; x < src; ++x)
                    f0[x] = (float)canvas[y0 * src + x] * inv255;
            }
            row0 = y0;
        }
        if (y1 != row1) {
            for (x = 0; x < src; ++x)
                f1[x] = (float)canvas[y1 * src + x] * inv255;
            row1 = y1;
        }
        for (x = 0; x < dst; ++x) {
            const float lx = lxs[x];
            const float top = (1.0f - lx) * f0[x0s[x]] + lx * f0[x1s[x]];
            const float bottom = (1.0f - lx) * f1[x0s[x]] + lx * f1[x1s[x]];
            out[y * dst + x] = (1.0f - ly) * top + ly * bottom;
        }
    }
}

/* The canvas resize through the platform's slot when it has one (the same bits). */
static void resize_canvas(const sn_platform *platform, const uint8_t *canvas, uint32_t src, float *out,
                          uint32_t dst)
{
    if (platform && platform->ops && platform->ops->resize_canvas_f32 &&
        platform->ops->resize_canvas_f32(platform->context, canvas, src, out, dst) == SN_OK)
        return;
    sn_resize_canvas_f32(canvas, src, out, dst);
}

static void tap_name(name_buf *n, const sn_plan *plan, int16_t tap)
{
    uint32_t s, gi = 0;
    n->len = 0;
    if (tap == 0) {
        nb_str(n, "stem");
        return;
    }
    for (s = 0; s < plan->config.subnet.num_stages; ++s) {
        if ((uint32_t)tap - 1 < gi + plan->config.subnet.depths[s]) {
            nb_str(n, "stage");
            nb_u32(n, s);
            nb_str(n, ".block");
            nb_u32(n, (uint32_t)tap - 1 - gi);
            return;
        }
        gi += plan->config.subnet.depths[s];
    }
    nb_str(n, "head");
}

/* ---- inference: one set of loops over an fp32 and an int8 instance -------------------- */

/* What differs between an fp32 and an int8 plan. The loops below are written once over it;
 * activation buffers are untyped there (ELEM bytes a value). Each op runs the platform's slot
 * when it has one, else the reference kernel (the oracle). */
typedef struct numeric {
    size_t elem;
    sn_status (*conv)(const sn_platform *pf, const sn_layer *l, const sn_conv2d_params *p,
                      const void *in, void *out);
    /* layer L's residual add: OUT[i] (its output) with IN[i], i < N */
    sn_status (*add)(const sn_platform *pf, const sn_layer *l, void *out, const void *in, uint32_t n);
    sn_status (*pool)(const sn_platform *pf, const sn_pool_params *p, const void *in, void *out);
    /* the classifier FC on the pooled head */
    sn_status (*classify)(const sn_plan *plan, const sn_platform *pf, const sn_fc_params *fc,
                          const void *pooled, float *logits);
    /* canvas pixels of region R (canvas side SIDE) as the stem reads them, into OUT */
    void (*tile_input)(const uint8_t *canvas, uint32_t side, const sn_region *r, void *out);
    /* a SubNet's whole input (the canvas resized to its resolution) into buffer 2 */
    void (*input)(const sn_plan *plan, const sn_platform *pf, const uint8_t *canvas);
} numeric;

static const sn_platform_ops *ops_of(const sn_platform *pf)
{
    return pf && pf->ops ? pf->ops : NULL;
}

static uint32_t input_side(const sn_plan *plan)
{
    return plan->config.input_res ? plan->config.input_res : plan->config.subnet.res;
}

/* Each op, fp32 and int8: the platform's slot when it has one, else the reference kernel. */
static sn_status conv_f32(const sn_platform *pf, const sn_layer *l, const sn_conv2d_params *p,
                          const void *in, void *out)
{
    const sn_platform_ops *ops = ops_of(pf);
    if (l->kind == SN_LAYER_DWCONV)
        return ops && ops->depthwise_conv2d_f32
                   ? ops->depthwise_conv2d_f32(pf->context, p, in, l->weights, l->scale, l->bias, out)
                   : sn_depthwise_conv2d_ref_f32(p, in, l->weights, l->scale, l->bias, out);
    return ops && ops->conv2d_f32 ? ops->conv2d_f32(pf->context, p, in, l->weights, l->scale, l->bias, out)
                                  : sn_conv2d_ref_f32(p, in, l->weights, l->scale, l->bias, out);
}

static sn_status conv_s8(const sn_platform *pf, const sn_layer *l, const sn_conv2d_params *p,
                         const void *in, void *out)
{
    const sn_platform_ops *ops = ops_of(pf);
    const sn_layer_q8 *q = &l->q8;
    if (l->kind == SN_LAYER_DWCONV)
        return ops && ops->depthwise_conv2d_s8
                   ? ops->depthwise_conv2d_s8(pf->context, p, &q->quant, in, q->weights, q->bias, out)
                   : sn_depthwise_conv2d_ref_s8(p, &q->quant, in, q->weights, q->bias, out);
    return ops && ops->conv2d_s8 ? ops->conv2d_s8(pf->context, p, &q->quant, in, q->weights, q->bias, out)
                                 : sn_conv2d_ref_s8(p, &q->quant, in, q->weights, q->bias, out);
}

static sn_status add_f32(const sn_platform *pf, const sn_layer *l, void *out, const void *in, uint32_t n)
{
    const sn_platform_ops *ops = ops_of(pf);
    (void)l;
    return ops && ops->add_f32 ? ops->add_f32(pf->context, out, in, n) : sn_add_ref_f32(out, in, n);
}

static sn_status add_s8(const sn_platform *pf, const sn_layer *l, void *out, const void *in, uint32_t n)
{
    const sn_platform_ops *ops = ops_of(pf);
    return ops && ops->add_s8 ? ops->add_s8(pf->context, &l->q8.add, out, in, n)
                              : sn_add_ref_s8(&l->q8.add, out, in, n);
}

static sn_status pool_f32(const sn_platform *pf, const sn_pool_params *p, const void *in, void *out)
{
    const sn_platform_ops *ops = ops_of(pf);
    return ops && ops->avgpool_f32 ? ops->avgpool_f32(pf->context, p, in, out) : sn_avgpool_ref_f32(p, in, out);
}

static sn_status pool_s8(const sn_platform *pf, const sn_pool_params *p, const void *in, void *out)
{
    const sn_platform_ops *ops = ops_of(pf);
    return ops && ops->avgpool_s8 ? ops->avgpool_s8(pf->context, p, in, out) : sn_avgpool_ref_s8(p, in, out);
}

static sn_status classify_f32(const sn_plan *plan, const sn_platform *pf, const sn_fc_params *fc,
                              const void *pooled, float *logits)
{
    const sn_platform_ops *ops = ops_of(pf);
    return ops && ops->fully_connected_f32
               ? ops->fully_connected_f32(pf->context, fc, pooled, plan->fc_weights, plan->fc_bias, logits)
               : sn_fully_connected_ref_f32(fc, pooled, plan->fc_weights, plan->fc_bias, logits);
}

static sn_status classify_s8(const sn_plan *plan, const sn_platform *pf, const sn_fc_params *fc,
                             const void *pooled, float *logits)
{
    const sn_platform_ops *ops = ops_of(pf);
    return ops && ops->fully_connected_s8
               ? ops->fully_connected_s8(pf->context, fc, pooled, plan->fc_q8, plan->fc_bias_q, plan->fc_dequant,
                                         logits)
               : sn_fully_connected_ref_s8(fc, pooled, plan->fc_q8, plan->fc_bias_q, plan->fc_dequant, logits);
}

/* The input, as the stem reads it (int8: scale 1/255, zero point -128). */
static void tile_input_f32(const uint8_t *canvas, uint32_t side, const sn_region *r, void *out)
{
    float *o = out;
    int32_t y, x, w = r->c1 - r->c0;
    for (y = r->r0; y < r->r1; ++y)
        for (x = r->c0; x < r->c1; ++x)
            o[(y - r->r0) * w + (x - r->c0)] = (float)canvas[(uint32_t)y * side + (uint32_t)x] * (1.0f / 255.0f);
}

static void tile_input_s8(const uint8_t *canvas, uint32_t side, const sn_region *r, void *out)
{
    int8_t *o = out;
    int32_t y, x, w = r->c1 - r->c0;
    for (y = r->r0; y < r->r1; ++y)
        for (x = r->c0; x < r->c1; ++x)
            o[(y - r->r0) * w + (x - r->c0)] = (int8_t)((int32_t)canvas[(uint32_t)y * side + (uint32_t)x] - 128);
}

static void input_f32(const sn_plan *plan, const sn_platform *pf, const uint8_t *canvas)
{
    resize_canvas(pf, canvas, plan->model->arch.canvas, plan->buffers[2], input_side(plan));
}

/* IN[i] = TMP[i] (in [0, 1]) as the int8 input, i < N: whole sixteens first (distinct
 * buffers and a multiple of 16 iterations: GCC's cheap vectorizer at -O2 takes that loop),
 * then the rest. */
static void quantize_input(const float *restrict tmp, int8_t *restrict in, uint32_t n)
{
    uint32_t i, n16 = n & ~15u;
    for (i = 0; i < n16; ++i)
        in[i] = (int8_t)((int32_t)(tmp[i] * 255.0f + 0.5f) - 128);
    for (; i < n; ++i)
        in[i] = (int8_t)((int32_t)(tmp[i] * 255.0f + 0.5f) - 128);
}

static void input_s8(const sn_plan *plan, const sn_platform *pf, const uint8_t *canvas)
{
    uint32_t r = input_side(plan);
    float *tmp = plan->buffers[0];
    int8_t *in = (int8_t *)(void *)plan->buffers[2];
    resize_canvas(pf, canvas, plan->model->arch.canvas, tmp, r);
    quantize_input(tmp, in, r * r);
}

static const numeric numeric_f32 = {
    sizeof(float), conv_f32, add_f32, pool_f32, classify_f32, tile_input_f32, input_f32,
};

static const numeric numeric_s8 = {
    sizeof(int8_t), conv_s8, add_s8, pool_s8, classify_s8, tile_input_s8, input_s8,
};

static const numeric *numeric_of(const sn_plan *plan)
{
    return plan->precision == SN_INT8 ? &numeric_s8 : &numeric_f32;
}

/* The calibration observer (fp32 plans only). */
static void observe(const sn_plan *plan, uint32_t section, uint32_t layer, uint32_t stage, const void *data,
                    size_t n)
{
    if (plan->observe && plan->precision == SN_FP32)
        plan->observe(plan->observe_user, section, layer, stage, data, n);
}

/* Layer L's residual add, L's output of geometry P in OUT, the residual in RES: whole maps
 * (OUT_REG NULL) in one call; in a micro-flow, row by row, RES holding region RES_REG around
 * the output's region OUT_REG. */
static sn_status add_residual(const sn_platform *pf, const numeric *num, const sn_layer *l,
                              const sn_conv2d_params *p, char *out, const char *res,
                              const sn_region *out_reg, const sn_region *res_reg)
{
    const size_t row = (size_t)p->out_w * (size_t)p->out_c; /* values per output row */
    int32_t y;
    sn_status st;
    if (!out_reg)
        return num->add(pf, l, out, res, (uint32_t)(row * (size_t)p->out_h));
    for (y = 0; y < p->out_h; ++y) {
        size_t at = ((size_t)(y + out_reg->r0 - res_reg->r0) * (size_t)(res_reg->c1 - res_reg->c0) +
                     (size_t)(out_reg->c0 - res_reg->c0)) * (size_t)p->out_c;
        if ((st = num->add(pf, l, out + (size_t)y * row * num->elem, res + at * num->elem, (uint32_t)row)) != SN_OK)
            return st;
    }
    return SN_OK;
}

/* Runs LAYERS[0..count) over the buffer triple BUFS in NUM's precision: convolution, residual
 * add, observer (SECTION), taps (fp32). REG NULL: whole maps. REG given: one micro-flow,
 * layer l computing region REG[l] from the regions IN_REG[b] its buffers hold (updated as
 * layers write them). */
static sn_status run_layers(const sn_plan *plan, const sn_platform *pf, const numeric *num,
                            const sn_layer *layers, uint32_t count, char *const *bufs,
                            const sn_region *reg, sn_region *in_reg, uint32_t section, sn_tap_fn tap,
                            void *tap_user)
{
    uint32_t i;
    sn_status st;
    for (i = 0; i < count; ++i) {
        const sn_layer *l = &layers[i];
        const sn_conv2d_params *p = &l->params;
        sn_conv2d_params tile;
        char *out = bufs[l->output_buffer];
        size_t n;
        if (reg) {
            sn_tile_conv_params(&l->params, &in_reg[l->input_buffer], &reg[i], &tile);
            p = &tile;
        }
        if ((st = num->conv(pf, l, p, bufs[l->input_buffer], out)) != SN_OK)
            return st;
        n = (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
        observe(plan, section, i, 0, out, n);
        if (l->residual_buffer >= 0 &&
            (st = add_residual(pf, num, l, p, out, bufs[l->residual_buffer], reg ? &reg[i] : NULL,
                               reg ? &in_reg[l->residual_buffer] : NULL)) != SN_OK)
            return st;
        observe(plan, section, i, 1, out, n);
        if (tap && l->tap >= 0 && plan->precision == SN_FP32) {
            name_buf nm;
            tap_name(&nm, plan, l->tap);
            tap(tap_user, nm.text, (const float *)(const void *)out, (uint32_t)p->out_h, (uint32_t)p->out_w,
                (uint32_t)p->out_c);
        }
        if (reg)
            in_reg[l->output_buffer] = reg[i];
    }
    return SN_OK;
}

/* The gate (fp32 in both precisions): pooled canvas -> conv3x3+ReLU -> conv3x3+ReLU ->
 * average pool to G x G -> conv1x1 -> the tile's logits -> its level (enum sn_gate_rule). */
static sn_status run_gate(sn_plan *plan, const sn_platform *platform, const uint8_t *canvas)
{
    sn_arac_plan *ar = &plan->arac;
    const sn_image_arch *a = &plan->model->arch;
    uint32_t side = ar->gate_side, pool = a->gate_pool, g = ar->grid, n = ar->gate_logits;
    uint32_t y, x, dy, dx, k;
    float *t0 = ar->tile_buffers[0], *t1 = ar->tile_buffers[1], *t2 = ar->tile_buffers[2];
    const float threshold = (float)ar->threshold_pct / 100.0f;
    sn_pool_params cells;
    sn_status st;
    /* the canvas pooled by gate_pool (pixel/255): the gate's input stage */
    for (y = 0; y < side; ++y)
        for (x = 0; x < side; ++x) {
            float acc = 0.0f;
            for (dy = 0; dy < pool; ++dy)
                for (dx = 0; dx < pool; ++dx)
                    acc += (float)canvas[(y * pool + dy) * a->canvas + x * pool + dx] / 255.0f;
            t0[y * side + x] = acc / (float)(pool * pool);
        }
    cells.in_h = cells.in_w = (int32_t)side;
    cells.channels = (int32_t)a->gate_c;
    cells.window_h = cells.window_w = (int32_t)(side / g);
    cells.zero_point = 0;
    if ((st = conv_f32(platform, &ar->gate[0], &ar->gate[0].params, t0, t1)) != SN_OK ||
        (st = conv_f32(platform, &ar->gate[1], &ar->gate[1].params, t1, t2)) != SN_OK ||
        (st = pool_f32(platform, &cells, t2, t0)) != SN_OK ||
        (st = conv_f32(platform, &ar->gate[2], &ar->gate[2].params, t0, t1)) != SN_OK)
        return st;
    for (y = 0; y < g * g; ++y) {
        const float *logit = t1 + (size_t)y * n;
        if (ar->gate_rule == SN_GATE_SIGMOID) {
            float p = 1.0f / (1.0f + expf(-logit[0]));
            ar->tile_level[y] = (uint8_t)(p >= threshold ? 0 : ar->num_levels - 1);
        } else {
            /* softmax over the trained levels; from the config's highest level down, a
             * lower level replaces the choice when the mass at or below it reaches T */
            float p[SN_IMAGE_MAX_CHOICES], top = logit[0], sum = 0.0f;
            for (k = 1; k < n; ++k)
                if (logit[k] > top)
                    top = logit[k];
            for (k = 0; k < n; ++k) {
                p[k] = expf(logit[k] - top);
                sum += p[k];
            }
            for (k = 0; k < n; ++k)
                p[k] /= sum;
            ar->tile_level[y] = 0;
            for (x = 1; x < ar->num_levels; ++x) {
                float mass = 0.0f;
                for (k = ar->gate_index[x]; k < n; ++k)
                    mass += p[k];
                if (mass >= threshold)
                    ar->tile_level[y] = (uint8_t)x;
            }
        }
    }
    return SN_OK;
}

/* The last invoke's micro-flows from the tiles' levels: SKIP tiles none; in mode h, adjacent
 * tiles at the same level merged into rectangles of at most merge_max tiles per side
 * (row-major greedy: the widest run of equal tiles from the first free one, then as many rows
 * below it as match it whole); otherwise one per tile, row-major. */
static void plan_regions(sn_arac_plan *ar)
{
    uint8_t taken[SN_PLAN_MAX_TILES];
    uint32_t g = ar->grid, m = ar->merge_max, ty, tx, w, h, i;
    memset(taken, 0, sizeof taken);
    ar->num_regions = 0;
    for (ty = 0; ty < g; ++ty)
        for (tx = 0; tx < g; ++tx) {
            uint32_t t = ty * g + tx, lv = ar->tile_level[t];
            sn_arac_region *r;
            int whole = 1;
            if (taken[t] || lv >= ar->computed_levels)
                continue;
            for (w = 1; w < m && tx + w < g && !taken[t + w] && ar->tile_level[t + w] == lv; ++w)
                ;
            for (h = 1; h < m && ty + h < g && whole; h += whole ? 1u : 0u)
                for (i = 0; i < w; ++i)
                    if (taken[t + h * g + i] || ar->tile_level[t + h * g + i] != lv) {
                        whole = 0;
                        break;
                    }
            for (i = 0; i < h * g; i += g)
                memset(&taken[t + i], 1, w);
            r = &ar->regions[ar->num_regions++];
            r->level = (uint8_t)lv;
            r->ty0 = (uint8_t)ty;
            r->tx0 = (uint8_t)tx;
            r->ty1 = (uint8_t)(ty + h);
            r->tx1 = (uint8_t)(tx + w);
        }
}

/* One micro-flow: region INDEX at its level through PLATFORM's slots in TILE_BUFFERS; its
 * output goes into its part of the stitched map (its channels; the rest stays as the invoke
 * set it). */
static sn_status run_region(const sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                            uint32_t index, float *const *tile_buffers)
{
    const numeric *num = numeric_of(plan);
    const sn_arac_plan *ar = &plan->arac;
    uint32_t lv = ar->regions[index].level, n = ar->prefix_count, b;
    const sn_layer *layers = sn_arac_prefix(ar, lv), *last = &layers[n - 1];
    sn_region reg[SN_PLAN_MAX_PREFIX], in_reg[3], cv, out;
    char *tb[3], *stitched = (char *)plan->buffers[ar->stitched_buffer];
    const char *src;
    size_t px, map_px;
    int32_t y, x, ow;
    sn_status st;
    for (b = 0; b < 3; ++b)
        tb[b] = (char *)tile_buffers[b];
    if ((st = sn_plan_region_geometry(plan, index, reg, &cv)) != SN_OK)
        return st;
    num->tile_input(canvas, plan->model->arch.canvas, &cv, tb[2]); /* where the stem reads */
    in_reg[0] = in_reg[1] = in_reg[2] = cv;
    if ((st = run_layers(plan, platform, num, layers, n, tb, reg, in_reg, 1 + lv, NULL, NULL)) != SN_OK)
        return st;
    out = reg[n - 1];
    ow = out.c1 - out.c0;
    src = tb[last->output_buffer];
    px = (size_t)last->params.out_c * num->elem;
    map_px = (size_t)ar->feature_c * num->elem;
    for (y = out.r0; y < out.r1; ++y)
        for (x = out.c0; x < out.c1; ++x)
            memcpy(stitched + ((size_t)y * ar->feature_side + (size_t)x) * map_px,
                   src + ((size_t)(y - out.r0) * (size_t)ow + (size_t)(x - out.c0)) * px, px);
    return SN_OK;
}

/* The stitched map before the micro-flows: zeros (0.0f or the zero point), and every SKIP
 * tile's pixels the SKIP features. */
static void stitch_background(sn_plan *plan)
{
    sn_arac_plan *ar = &plan->arac;
    const numeric *num = numeric_of(plan);
    uint32_t side = ar->feature_side, g = ar->grid, ts = side / g, t, y, x;
    size_t px = (size_t)ar->feature_c * num->elem;
    char *map = (char *)plan->buffers[ar->stitched_buffer];
    const char *skip = plan->precision == SN_INT8 ? (const char *)ar->skip_q8 : (const char *)ar->skip;
    memset(map, plan->precision == SN_INT8 ? ar->stitched_q.zero_point : 0, (size_t)side * side * px);
    for (t = 0; t < g * g; ++t) {
        if (ar->tile_level[t] < ar->computed_levels || !skip)
            continue;
        for (y = (t / g) * ts; y < (t / g + 1) * ts; ++y)
            for (x = (t % g) * ts; x < (t % g + 1) * ts; ++x)
                memcpy(map + ((size_t)y * side + x) * px, skip, px);
    }
}

/* Every micro-flow at its level (levels forced first when asked), their MACs counted:
 * through the platform's micro-flow slot when it has one, else one region after another. */
static sn_status run_regions(sn_plan *plan, const sn_platform *platform, const uint8_t *canvas)
{
    sn_arac_plan *ar = &plan->arac;
    const sn_platform_ops *ops = ops_of(platform);
    uint32_t t, g = ar->grid;
    sn_status st;
    for (t = 0; t < g * g; ++t)
        if (ar->force_level >= 0)
            ar->tile_level[t] = (uint8_t)ar->force_level;
    ar->steps_down = 0;
    for (;;) {
        uint32_t hi = ar->computed_levels;
        plan_regions(ar);
        ar->last_macs = plan->macs;
        for (t = 0; t < ar->num_regions; ++t) {
            sn_region reg[SN_PLAN_MAX_PREFIX], cv;
            geo_view gv = plan_view(ar, ar->regions[t].level);
            sn_plan_region_geometry(plan, t, reg, &cv);
            ar->last_macs += region_macs(&gv, reg);
        }
        /* the level controller: over budget, the highest computed level in use steps down */
        if (ar->mac_budget <= 0 || ar->force_level >= 0 || ar->last_macs <= ar->mac_budget)
            break;
        for (t = 0; t < g * g; ++t)
            if (ar->tile_level[t] < hi)
                hi = ar->tile_level[t];
        if (hi + 1 >= ar->computed_levels)
            break; /* every computed tile at the lowest computed level already */
        for (t = 0; t < g * g; ++t)
            if (ar->tile_level[t] == hi)
                ar->tile_level[t] = (uint8_t)(hi + 1);
        ++ar->steps_down;
    }
    stitch_background(plan);
    if (ops && ops->arac_micro_flows && !plan->observe)
        return ops->arac_micro_flows(platform->context, plan, canvas);
    for (t = 0; t < ar->num_regions; ++t)
        if ((st = run_region(plan, platform, canvas, t, ar->tile_buffers)) != SN_OK)
            return st;
    return SN_OK;
}

sn_status sn_plan_run_region(const sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                             uint32_t index, float *const tile_buffers[3])
{
    if (!plan || !plan->is_arac || index >= plan->arac.num_regions || !tile_buffers[0] || !tile_buffers[1] ||
        !tile_buffers[2])
        return SN_ERR_INVALID_ARGUMENT;
    return run_region(plan, platform, canvas, index, tile_buffers);
}

sn_status sn_plan_invoke(sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                         float *logits, sn_tap_fn tap, void *tap_user)
{
    const numeric *num;
    char *bufs[3];
    sn_pool_params head;
    sn_fc_params fc;
    uint32_t i;
    sn_status st;
    if (!plan || !plan->model || !canvas || !logits)
        return SN_ERR_INVALID_ARGUMENT;
    num = numeric_of(plan);
    for (i = 0; i < 3; ++i)
        bufs[i] = (char *)plan->buffers[i];
    if (plan->is_arac) {
        sn_arac_plan *ar = &plan->arac;
        if (ar->force_level >= (int)ar->num_levels)
            return SN_ERR_INVALID_ARGUMENT;
        if ((st = run_gate(plan, platform, canvas)) != SN_OK) /* its cost counts even when forced */
            return st;
        if ((st = run_regions(plan, platform, canvas)) != SN_OK)
            return st;
        if (tap && plan->precision == SN_FP32)
            tap(tap_user, "stitched", plan->buffers[ar->stitched_buffer], ar->feature_side, ar->feature_side,
                ar->feature_c);
    } else {
        num->input(plan, platform, canvas);
    }
    if ((st = run_layers(plan, platform, num, plan->layers, plan->num_layers, bufs, NULL, NULL, 0, tap,
                         tap_user)) != SN_OK)
        return st;
    /* the global average pool into a free buffer, then the classifier */
    head.in_h = head.window_h = (int32_t)plan->head_h;
    head.in_w = head.window_w = (int32_t)plan->head_w;
    head.channels = fc.in_c = (int32_t)plan->model->arch.head_c;
    head.zero_point = plan->precision == SN_INT8 ? plan->head_q.zero_point : 0;
    fc.out_c = (int32_t)plan->model->arch.num_classes;
    fc.input_offset = -head.zero_point;
    i = plan->head_buffer == 0 ? 1 : 0;
    if ((st = num->pool(platform, &head, bufs[plan->head_buffer], bufs[i])) != SN_OK)
        return st;
    return num->classify(plan, platform, &fc, bufs[i], logits);
}
