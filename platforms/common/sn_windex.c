#include "sn_windex.h"

#include <stdlib.h>
#include <string.h>

static int cmp_range(const void *a, const void *b)
{
    const sn_wtensor *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int sn_windex_init(sn_windex *x, const sn_model *model)
{
    uint32_t i;
    memset(x, 0, sizeof *x);
    x->tensor_count = model->tensor_count;
    x->tensors = calloc(model->tensor_count ? model->tensor_count : 1, sizeof *x->tensors);
    x->slots = calloc(SN_WINDEX_SLOTS, sizeof *x->slots);
    if (!x->tensors || !x->slots) {
        sn_windex_free(x);
        return -1;
    }
    for (i = 0; i < model->tensor_count; ++i) {
        sn_tensor t;
        sn_model_tensor(model, i, &t);
        x->tensors[i].lo = t.data;
        x->tensors[i].hi = (const char *)t.data + t.bytes;
        x->tensors[i].dtype = t.dtype;
        x->tensors[i].ndim = t.ndim;
        memcpy(x->tensors[i].dims, t.dims, sizeof t.dims);
    }
    qsort(x->tensors, x->tensor_count, sizeof *x->tensors, cmp_range);
    return 0;
}

void sn_windex_free(sn_windex *x)
{
    free(x->slots);
    free(x->tensors);
    memset(x, 0, sizeof *x);
}

void sn_windex_clear(sn_windex *x)
{
    memset(x->slots, 0, SN_WINDEX_SLOTS * sizeof *x->slots);
}

int sn_wtensor_conv_shape(const sn_wtensor *t, int32_t *k, int32_t *o, int32_t *i, uint8_t *dw)
{
    int32_t kk, oo, ii = 0;
    uint8_t d = 0;
    if (t->dtype != SN_DTYPE_F32 && t->dtype != SN_DTYPE_S8)
        return 0;
    if (t->ndim == 4 && t->dims[1] == t->dims[2]) { /* dense OHWI */
        kk = (int32_t)t->dims[1];
        oo = (int32_t)t->dims[0];
        ii = (int32_t)t->dims[3];
    } else if (t->ndim == 3 && t->dims[0] == t->dims[1]) { /* depthwise [K][K][C] */
        d = 1;
        kk = (int32_t)t->dims[0];
        oo = (int32_t)t->dims[2];
    } else {
        return 0;
    }
    if (kk <= 0 || oo <= 0 || (!d && ii <= 0))
        return 0;
    *k = kk;
    *o = oo;
    *i = ii;
    *dw = d;
    return 1;
}

const sn_wtensor *sn_windex_tensor_of(const sn_windex *x, const void *p)
{
    size_t lo = 0, hi = x->tensor_count;
    const char *q = (const char *)p;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q < x->tensors[mid].lo)
            hi = mid;
        else if (q >= x->tensors[mid].hi)
            lo = mid + 1;
        else
            return &x->tensors[mid];
    }
    return NULL;
}

sn_wentry *sn_windex_slot(sn_windex *x, const void *key, int dw, const sn_conv2d_params *p)
{
    uintptr_t h = ((uintptr_t)key >> 6) * 2654435761u;
    uint32_t i;
    for (i = 0; i < SN_WINDEX_SLOTS; ++i) {
        sn_wentry *e = &x->slots[(uint32_t)(h + i) & (SN_WINDEX_SLOTS - 1u)];
        if (!e->key)
            return e;
        if (e->key == key && e->depthwise == dw && e->kh == p->kernel_h && e->kw == p->kernel_w &&
            e->s_out == p->w_stride_out && e->s_kh == p->w_stride_kh && e->s_kw == p->w_stride_kw)
            return e;
    }
    return NULL;
}

int sn_wentry_covers(const sn_wentry *e, int32_t o_n, int32_t i_n)
{
    return e && e->key && e->o_res >= o_n && e->i_res >= i_n;
}

void sn_wentry_set(sn_wentry *e, const void *key, int dw, int s8, const sn_conv2d_params *p,
                   int32_t o_n, int32_t i_n)
{
    e->key = key;
    e->depthwise = (uint8_t)dw;
    e->s8 = (uint8_t)s8;
    e->kh = p->kernel_h;
    e->kw = p->kernel_w;
    e->s_out = p->w_stride_out;
    e->s_kh = p->w_stride_kh;
    e->s_kw = p->w_stride_kw;
    e->o_res = o_n;
    e->i_res = dw ? 0 : i_n;
}

void sn_windex_on_use_extent(const sn_windex *x, const void *w, int dw, const sn_conv2d_params *p,
                             int32_t *o_n, int32_t *i_n)
{
    const sn_wtensor *t = sn_windex_tensor_of(x, w);
    int32_t of = 0, inf = 0;
    if (t && dw && t->ndim == 3) {
        of = (int32_t)t->dims[2];
    } else if (t && !dw && t->ndim == 4) {
        of = (int32_t)t->dims[0];
        inf = (int32_t)t->dims[3];
    } else if (t && !dw && t->ndim == 2) {
        of = (int32_t)t->dims[0];
        inf = (int32_t)t->dims[1];
    }
    *o_n = p->out_c;
    *i_n = dw ? 0 : p->in_c;
    if (of >= p->out_c && (dw || inf >= p->in_c) && (dw ? p->w_stride_kw == of : p->w_stride_kw == inf)) {
        *o_n = of;
        *i_n = dw ? 0 : inf;
    }
}

static size_t place_layers(const sn_layer *layers, uint32_t n, int s8, sn_windex_place_fn place,
                           void *platform)
{
    size_t bytes = 0;
    uint32_t i;
    for (i = 0; i < n; ++i) {
        const sn_conv2d_params *p = &layers[i].params;
        int dw = layers[i].kind == SN_LAYER_DWCONV;
        const void *w = s8 ? (const void *)layers[i].q8.weights : (const void *)layers[i].weights;
        if (w && place(platform, w, dw, s8, p))
            bytes += (size_t)p->kernel_h * (size_t)p->kernel_w * (size_t)p->out_c *
                     (size_t)(dw ? 1 : p->in_c) * (s8 ? 1u : 4u);
    }
    return bytes;
}

size_t sn_windex_place_plan(const sn_plan *plan, sn_windex_place_fn place, void *platform)
{
    int s8 = plan->precision == SN_INT8;
    size_t bytes = place_layers(plan->layers, plan->num_layers, s8, place, platform);
    if (plan->is_arac) {
        uint32_t lv;
        bytes += place_layers(plan->arac.gate, 3, 0, place, platform); /* the gate is fp32 */
        for (lv = 0; lv < plan->arac.computed_levels; ++lv)
            bytes += place_layers(sn_arac_prefix(&plan->arac, lv), plan->arac.prefix_count, s8, place, platform);
    }
    return bytes;
}
