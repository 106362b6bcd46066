#include "sn_engine.h"

#include <math.h>
#include <string.h>

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
    char d[10];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n && b->len + 1 < sizeof b->text)
        b->text[b->len++] = d[--n];
    b->text[b->len] = '\0';
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
    uint32_t calibration_id;
    uint32_t num_layers;
    int64_t macs;
    const char *why;
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

/* Folds layer NAME's batch norm for CHANNELS channels: scale = gamma / sqrt(var + eps),
 * bias = beta - mean * scale, with the SubNet's calibrated mean and var. */
static sn_status fold_bn(builder *b, const char *name, uint32_t channels, const float **scale,
                         const float **bias)
{
    sn_tensor gamma, beta, mean, var;
    name_buf n;
    sn_status st;
    uint32_t c;
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
    n.len = 0;
    nb_str(&n, "calib.");
    nb_u32(&n, b->calibration_id);
    nb_str(&n, ".");
    nb_str(&n, name);
    nb_str(&n, ".mean");
    if ((st = find_f32(b, n.text, channels, &mean)) != SN_OK)
        return st;
    n.text[n.len - 4] = 'v'; /* ".mean" -> ".var" */
    n.text[n.len - 3] = 'a';
    n.text[n.len - 2] = 'r';
    n.text[--n.len] = '\0';
    if ((st = find_f32(b, n.text, channels, &var)) != SN_OK)
        return st;
    if (mean.bytes != (uint64_t)channels * 4 || var.bytes != (uint64_t)channels * 4)
        return refuse(b, SN_ERR_FORMAT, "calibrated statistics do not match the SubNet's width");
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

static void track(builder *b, uint32_t h, uint32_t w, uint32_t c)
{
    uint32_t n = h * w * c;
    if (n > b->max_activation)
        b->max_activation = n;
}

/* Adds one convolution; fills geometry, checks it, counts MACs. */
static sn_status add_conv(builder *b, int depthwise, uint32_t in_h, uint32_t in_w, uint32_t in_c,
                          uint32_t out_c, uint32_t k, uint32_t stride, float act_max,
                          sn_layer **out)
{
    sn_layer tmp, *l = b->plan ? &b->plan->layers[b->num_layers] : &tmp;
    sn_conv2d_params *p = &l->params;
    int32_t pad = (int32_t)k / 2;
    if (b->num_layers >= SN_PLAN_MAX_LAYERS)
        return refuse(b, SN_ERR_UNSUPPORTED, "too many layers for one plan");
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
    track(b, in_h, in_w, in_c);
    track(b, (uint32_t)p->out_h, (uint32_t)p->out_w, out_c);
    b->macs += sn_conv2d_macs(p, depthwise);
    ++b->num_layers;
    *out = l;
    return SN_OK;
}

static sn_status build(builder *b)
{
    const sn_model *m = b->model;
    const sn_image_arch *a = &m->arch;
    const sn_subnet_config *sc = &b->config->subnet;
    char canonical[SN_CONFIG_TEXT_MAX];
    uint32_t i, s, blk, gi = 0, h, w, c, cur = 0, other = 1;
    sn_tensor t;
    sn_layer *l;
    sn_status st;
    name_buf n;

    if ((st = sn_config_check(m, b->config, &b->why)) != SN_OK)
        return st;
    if (b->config->is_arac)
        return refuse(b, SN_ERR_UNSUPPORTED, "ARAC plans are not implemented yet");
    if (sn_config_format(b->config, canonical, sizeof canonical) != SN_OK)
        return refuse(b, SN_ERR_FORMAT, "config text too long");
    b->calibration_id = UINT32_MAX;
    for (i = 0; i < m->config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(m, i, &kind, &text);
        if (kind == 0 && !strcmp(text, canonical))
            b->calibration_id = i;
    }
    if (b->calibration_id == UINT32_MAX)
        return refuse(b, SN_ERR_UNSUPPORTED, "the model holds no calibrated BN statistics for this SubNet");

    /* stem: conv 3x3 stride 2, 1 -> stem_c, BN, ReLU6; input in buffer 2 */
    h = w = sc->res;
    track(b, h, w, 1);
    if ((st = find_f32(b, "stem", a->stem_c * 9u, &t)) != SN_OK)
        return st;
    if ((st = add_conv(b, 0, h, w, 1, a->stem_c, 3, 2, 6.0f, &l)) != SN_OK)
        return st;
    if (t.ndim != 4 || t.dims[0] != a->stem_c || t.dims[1] != 3 || t.dims[2] != 3 || t.dims[3] != 1)
        return refuse(b, SN_ERR_FORMAT, "stem weights have an unexpected shape");
    l->weights = t.data;
    l->input_buffer = 2;
    l->output_buffer = (uint8_t)cur;
    l->tap = 0;
    sn_conv2d_params_packed_strides(&l->params, 0);
    if ((st = fold_bn(b, "stem_bn", a->stem_c, &l->scale, &l->bias)) != SN_OK)
        return st;
    h = (uint32_t)l->params.out_h;
    w = (uint32_t)l->params.out_w;
    c = a->stem_c;

    for (s = 0; s < sc->num_stages; ++s) {
        for (blk = 0; blk < sc->depths[s]; ++blk, ++gi) {
            uint32_t in_c = c, out_c = a->stage_out_c[s];
            uint32_t stride = blk == 0 ? a->stage_stride[s] : 1;
            uint32_t e_max = 0, hid_max, hid = in_c * sc->expands[gi], k = sc->kernels[gi], j;
            uint32_t off;
            for (j = 0; j < a->num_expands; ++j)
                if (a->expands[j] > e_max)
                    e_max = a->expands[j];
            hid_max = in_c * e_max;

            /* expand 1x1: leading hid rows of [hid_max][1][1][in_c] */
            block_name(&n, s, blk, "expand");
            if ((st = find_f32(b, n.text, hid_max * in_c, &t)) != SN_OK)
                return st;
            if (t.dims[0] != hid_max || t.dims[3] != in_c)
                return refuse(b, SN_ERR_FORMAT, "expand weights have an unexpected shape");
            if ((st = add_conv(b, 0, h, w, in_c, hid, 1, 1, 6.0f, &l)) != SN_OK)
                return st;
            l->weights = t.data;
            l->input_buffer = (uint8_t)cur;
            l->output_buffer = (uint8_t)other;
            sn_conv2d_params_packed_strides(&l->params, 0);
            block_name(&n, s, blk, "bn1");
            if ((st = fold_bn(b, n.text, hid, &l->scale, &l->bias)) != SN_OK)
                return st;

            /* depthwise kxk: centred crop of [k_max][k_max][hid_max], leading hid channels */
            block_name(&n, s, blk, "dw");
            if ((st = find_f32(b, n.text, a->k_max * a->k_max * hid_max, &t)) != SN_OK)
                return st;
            if (t.ndim != 3 || t.dims[0] != a->k_max || t.dims[1] != a->k_max || t.dims[2] != hid_max)
                return refuse(b, SN_ERR_FORMAT, "depthwise weights have an unexpected shape");
            if ((st = add_conv(b, 1, h, w, hid, hid, k, stride, 6.0f, &l)) != SN_OK)
                return st;
            off = (a->k_max - k) / 2;
            l->weights = (const float *)t.data + (off * a->k_max + off) * hid_max;
            l->params.w_stride_kw = (int32_t)hid_max;
            l->params.w_stride_kh = (int32_t)(a->k_max * hid_max);
            l->params.w_stride_out = 0;
            l->input_buffer = (uint8_t)other;
            l->output_buffer = 2;
            block_name(&n, s, blk, "bn2");
            if ((st = fold_bn(b, n.text, hid, &l->scale, &l->bias)) != SN_OK)
                return st;
            h = (uint32_t)l->params.out_h;
            w = (uint32_t)l->params.out_w;

            /* project 1x1: [out_c][1][1][hid_max], leading hid inputs */
            block_name(&n, s, blk, "project");
            if ((st = find_f32(b, n.text, out_c * hid_max, &t)) != SN_OK)
                return st;
            if (t.dims[0] != out_c || t.dims[3] != hid_max)
                return refuse(b, SN_ERR_FORMAT, "project weights have an unexpected shape");
            if ((st = add_conv(b, 0, h, w, hid, out_c, 1, 1, 0.0f, &l)) != SN_OK)
                return st;
            l->weights = t.data;
            l->params.w_stride_out = (int32_t)hid_max;
            l->params.w_stride_kh = l->params.w_stride_kw = (int32_t)hid_max;
            l->input_buffer = 2;
            l->output_buffer = (uint8_t)other;
            l->residual_buffer = (int8_t)(stride == 1 && in_c == out_c ? (int)cur : -1);
            l->tap = (int16_t)(1 + gi);
            block_name(&n, s, blk, "bn3");
            if ((st = fold_bn(b, n.text, out_c, &l->scale, &l->bias)) != SN_OK)
                return st;
            c = out_c;
            j = cur;
            cur = other;
            other = j;
        }
    }

    /* head 1x1 -> head_c, BN, ReLU6 */
    if ((st = find_f32(b, "head", a->head_c * c, &t)) != SN_OK)
        return st;
    if (t.dims[0] != a->head_c || t.dims[3] != c)
        return refuse(b, SN_ERR_FORMAT, "head weights have an unexpected shape");
    if ((st = add_conv(b, 0, h, w, c, a->head_c, 1, 1, 6.0f, &l)) != SN_OK)
        return st;
    l->weights = t.data;
    l->input_buffer = (uint8_t)cur;
    l->output_buffer = (uint8_t)other;
    l->tap = (int16_t)(1 + gi);
    sn_conv2d_params_packed_strides(&l->params, 0);
    if ((st = fold_bn(b, "head_bn", a->head_c, &l->scale, &l->bias)) != SN_OK)
        return st;

    /* classifier */
    if ((st = find_f32(b, "fc.weight", a->num_classes * a->head_c, &t)) != SN_OK)
        return st;
    if (b->plan) {
        b->plan->fc_weights = t.data;
        b->plan->head_buffer = other;
        b->plan->head_h = h;
        b->plan->head_w = w;
    }
    if ((st = find_f32(b, "fc.bias", a->num_classes, &t)) != SN_OK)
        return st;
    if (b->plan)
        b->plan->fc_bias = t.data;
    b->macs += (int64_t)a->head_c * a->num_classes;
    if (a->head_c > b->max_activation)
        b->max_activation = a->head_c; /* the pooled vector */
    return SN_OK;
}

static size_t round16(size_t v) { return (v + 15u) & ~(size_t)15u; }

static size_t arena_need(const builder *b)
{
    return round16(b->vector_floats * sizeof(float)) +
           3u * round16((size_t)b->max_activation * sizeof(float));
}

sn_status sn_plan_arena_bytes(const sn_model *model, const sn_config *config, size_t *bytes)
{
    builder b;
    sn_status st;
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    st = build(&b);
    if (st == SN_OK)
        *bytes = arena_need(&b);
    return st;
}

sn_status sn_plan_prepare(sn_plan *plan, const sn_model *model, const sn_config *config,
                          void *arena, size_t arena_bytes, const char **why)
{
    builder b;
    sn_status st;
    size_t need, vec_bytes, buf_bytes;
    uint32_t i;
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    st = build(&b); /* dry run first: nothing is written unless everything fits */
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
    buf_bytes = round16((size_t)b.max_activation * sizeof(float));
    memset(&b, 0, sizeof b);
    b.model = model;
    b.config = config;
    b.plan = plan;
    b.vectors = arena;
    st = build(&b);
    if (st != SN_OK) {
        if (why)
            *why = b.why;
        return st;
    }
    plan->model = model;
    plan->config = *config;
    plan->calibration_id = b.calibration_id;
    plan->num_layers = b.num_layers;
    plan->macs = b.macs;
    plan->buffer_floats = b.max_activation;
    for (i = 0; i < 3; ++i)
        plan->buffers[i] = (float *)(void *)((char *)arena + vec_bytes + i * buf_bytes);
    plan->arena_bytes = need;
    return SN_OK;
}

void sn_resize_canvas_f32(const uint8_t *canvas, uint32_t src, float *out, uint32_t dst)
{
    const float inv255 = 1.0f / 255.0f;
    const float scale = (float)src / (float)dst;
    uint32_t y, x;
    if (src == dst) {
        for (y = 0; y < src * src; ++y)
            out[y] = (float)canvas[y] * inv255;
        return;
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

sn_status sn_plan_invoke(sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                         float *logits, sn_tap_fn tap, void *tap_user)
{
    const sn_platform_ops *ops = platform && platform->ops ? platform->ops : NULL;
    void *ctx = platform ? platform->context : NULL;
    const sn_image_arch *a;
    uint32_t i, j, k, n;
    float *pooled, *head;
    if (!plan || !plan->model || !canvas || !logits)
        return SN_ERR_INVALID_ARGUMENT;
    a = &plan->model->arch;
    sn_resize_canvas_f32(canvas, a->canvas, plan->buffers[2], plan->config.subnet.res);
    for (i = 0; i < plan->num_layers; ++i) {
        const sn_layer *l = &plan->layers[i];
        const float *in = plan->buffers[l->input_buffer];
        float *out = plan->buffers[l->output_buffer];
        sn_status st;
        if (l->kind == SN_LAYER_DWCONV)
            st = ops && ops->depthwise_conv2d_f32
                     ? ops->depthwise_conv2d_f32(ctx, &l->params, in, l->weights, l->scale, l->bias, out)
                     : sn_depthwise_conv2d_ref_f32(&l->params, in, l->weights, l->scale, l->bias, out);
        else
            st = ops && ops->conv2d_f32
                     ? ops->conv2d_f32(ctx, &l->params, in, l->weights, l->scale, l->bias, out)
                     : sn_conv2d_ref_f32(&l->params, in, l->weights, l->scale, l->bias, out);
        if (st != SN_OK)
            return st;
        n = (uint32_t)(l->params.out_h * l->params.out_w * l->params.out_c);
        if (l->residual_buffer >= 0) {
            const float *r = plan->buffers[l->residual_buffer];
            for (j = 0; j < n; ++j)
                out[j] += r[j];
        }
        if (tap && l->tap >= 0) {
            name_buf nm;
            tap_name(&nm, plan, l->tap);
            tap(tap_user, nm.text, out, (uint32_t)l->params.out_h, (uint32_t)l->params.out_w,
                (uint32_t)l->params.out_c);
        }
    }
    /* global average pool into a free buffer, then the classifier */
    head = plan->buffers[plan->head_buffer];
    pooled = plan->buffers[plan->head_buffer == 0 ? 1 : 0];
    n = plan->head_h * plan->head_w;
    for (k = 0; k < a->head_c; ++k)
        pooled[k] = 0.0f;
    for (j = 0; j < n; ++j)
        for (k = 0; k < a->head_c; ++k)
            pooled[k] += head[j * a->head_c + k];
    for (k = 0; k < a->head_c; ++k)
        pooled[k] /= (float)n;
    for (i = 0; i < a->num_classes; ++i) {
        const float *w = plan->fc_weights + (size_t)i * a->head_c;
        float acc = plan->fc_bias[i];
        for (k = 0; k < a->head_c; ++k)
            acc += w[k] * pooled[k];
        logits[i] = acc;
    }
    return SN_OK;
}
