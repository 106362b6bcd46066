/* supernav harness: SUSHI's SubGraph as weight slices (see sn_slices.h). */
#include "sn_slices.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
    const char *lo, *hi;
} range;

static int cmp_range(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

static uint64_t raw_bytes(int32_t o, int32_t i, int32_t k, int dw, uint32_t elem)
{
    if (k <= 0 || o <= 0)
        return 0;
    return (uint64_t)o * (uint64_t)(dw ? 1 : i) * (uint64_t)k * (uint64_t)k * elem;
}

uint64_t sn_slices_box_bytes(const sn_slices *x, uint32_t t, sn_slice_box b)
{
    return raw_bytes(b.o, b.i, b.k, x->t[t].dw, x->t[t].elem);
}

uint64_t sn_slices_overlap_bytes(const sn_slices *x, uint32_t t, sn_slice_box a, sn_slice_box b)
{
    if (a.k <= 0 || b.k <= 0)
        return 0;
    return raw_bytes(min32(a.o, b.o), min32(a.i, b.i), min32(a.k, b.k), x->t[t].dw, x->t[t].elem);
}

uint64_t sn_slices_serves_bytes(const sn_slices *x, uint32_t t, sn_slice_box u, sn_slice_box r)
{
    int32_t o, q = x->quantum > 0 ? x->quantum : 1;
    if (u.k <= 0 || r.k < u.k || (!x->t[t].dw && r.i < u.i))
        return 0;
    o = r.o >= u.o ? u.o : r.o / q * q;
    return raw_bytes(o, u.i, u.k, x->t[t].dw, x->t[t].elem);
}

static sn_slice_box box_union(sn_slice_box a, sn_slice_box b)
{
    if (a.k <= 0)
        return b;
    if (b.k <= 0)
        return a;
    return (sn_slice_box){max32(a.o, b.o), max32(a.i, b.i), max32(a.k, b.k)};
}

int sn_slices_build(sn_slices *x, const sn_model *model, sn_plan *const *plans, uint32_t n, char *err,
                    size_t err_bytes)
{
    range *r;
    const void **base;
    uint32_t nr = model->tensor_count, i, s, j;
    memset(x, 0, sizeof *x);
    if (n > SN_SLICES_MAX_SUBNETS) {
        snprintf(err, err_bytes, "slices: %u SubNets, at most %d", n, SN_SLICES_MAX_SUBNETS);
        return -1;
    }
    r = calloc(nr ? nr : 1, sizeof *r);
    base = calloc(SN_SLICES_MAX_TENSORS, sizeof *base);
    if (!r || !base) {
        free(r);
        free(base);
        snprintf(err, err_bytes, "out of memory");
        return -1;
    }
    for (i = 0; i < nr; ++i) {
        sn_tensor t;
        sn_model_tensor(model, i, &t);
        r[i].lo = t.data;
        r[i].hi = (const char *)t.data + t.bytes;
    }
    qsort(r, nr, sizeof *r, cmp_range);
    x->n = n;
    x->quantum = 1;
    for (s = 0; s < n; ++s) {
        const sn_plan *p = plans[s];
        int s8 = p->precision == SN_INT8;
        for (j = 0; j < p->num_layers; ++j) {
            const sn_layer *l = &p->layers[j];
            const char *w = s8 ? (const char *)l->q8.weights : (const char *)l->weights;
            int dw = l->kind == SN_LAYER_DWCONV;
            size_t lo = 0, hi = nr;
            const char *tb = NULL;
            int32_t k = max32(l->params.kernel_h, l->params.kernel_w);
            uint32_t t;
            if (!w)
                continue;
            while (lo < hi) { /* the tensor W points into */
                size_t mid = (lo + hi) / 2;
                if (w < r[mid].lo)
                    hi = mid;
                else if (w >= r[mid].hi)
                    lo = mid + 1;
                else {
                    tb = r[mid].lo;
                    break;
                }
            }
            if (!tb || k <= 0 || k >= SN_SLICES_MAX_K)
                continue; /* not in the image (nothing a platform can keep) */
            for (t = 0; t < x->nt && base[t] != tb; ++t)
                ;
            if (t == x->nt) {
                if (x->nt == SN_SLICES_MAX_TENSORS) {
                    free(r);
                    free(base);
                    snprintf(err, err_bytes, "slices: more than %d weight tensors", SN_SLICES_MAX_TENSORS);
                    return -1;
                }
                base[t] = tb;
                x->t[t].dw = (uint8_t)dw;
                x->t[t].s8 = (uint8_t)s8;
                x->t[t].elem = s8 ? 1u : 4u;
                x->t[t].kind = (uint8_t)(dw ? SN_SLICE_DEPTHWISE : k == 1 ? SN_SLICE_POINTWISE : SN_SLICE_DENSE);
                ++x->nt;
            }
            if (!x->t[t].w)
                x->t[t].w = w;
            x->use[s][t] = box_union(x->use[s][t], (sn_slice_box){l->params.out_c, dw ? 0 : l->params.in_c, k});
            if (x->order_n[s] < SN_SLICES_MAX_TENSORS)
                x->order[s][x->order_n[s]++] = (uint8_t)t;
        }
    }
    for (i = 0; i < x->nt; ++i) {
        sn_slice_box u = {0, 0, 0};
        for (s = 0; s < n; ++s)
            u = box_union(u, x->use[s][i]);
        x->total_bytes += sn_slices_box_bytes(x, i, u);
    }
    free(r);
    free(base);
    return 0;
}

uint64_t sn_slices_bytes(const sn_slices *x, const sn_subgraph *r)
{
    uint64_t b = 0;
    uint32_t t;
    for (t = 0; t < x->nt; ++t)
        b += sn_slices_box_bytes(x, t, r->b[t]);
    return b;
}

uint64_t sn_slices_near_bytes(const sn_slices *x, uint32_t s, const sn_subgraph *r)
{
    uint64_t b = 0;
    uint32_t t;
    for (t = 0; t < x->nt; ++t)
        b += sn_slices_serves_bytes(x, t, x->use[s][t], r->b[t]);
    return b;
}

uint64_t sn_slices_subnet_bytes(const sn_slices *x, uint32_t s)
{
    uint64_t b = 0;
    uint32_t t;
    for (t = 0; t < x->nt; ++t)
        b += sn_slices_box_bytes(x, t, x->use[s][t]);
    return b;
}

uint64_t sn_slices_diff_bytes(const sn_slices *x, const sn_subgraph *from, const sn_subgraph *to)
{
    uint64_t b = 0;
    uint32_t t;
    for (t = 0; t < x->nt; ++t)
        b += sn_slices_box_bytes(x, t, to->b[t]) - sn_slices_overlap_bytes(x, t, to->b[t], from->b[t]);
    return b;
}

void sn_slices_of_subnet(const sn_slices *x, uint32_t g, uint64_t budget, sn_subgraph *r)
{
    uint64_t used = 0;
    uint32_t j;
    memset(r, 0, sizeof *r);
    if (g >= x->n)
        return;
    /* plan order, as the platforms place a plan (platforms/common/sn_windex.c); a SubNet
     * reads each tensor once, so its union box is its box */
    for (j = 0; j < x->order_n[g]; ++j) {
        uint32_t t = x->order[g][j];
        sn_slice_box want = box_union(r->b[t], x->use[g][t]);
        uint64_t have = sn_slices_box_bytes(x, t, r->b[t]), need = sn_slices_box_bytes(x, t, want);
        if (used + (need - have) > budget)
            continue;
        used += need - have;
        r->b[t] = want;
    }
}

void sn_slices_fit(sn_slices *x, const double *lat, size_t stride, const double *switch_us,
                   const uint64_t *switch_bytes, uint64_t budget, const sn_subgraph *extra, uint32_t n_extra,
                   const double *extra_lat)
{
    const uint32_t n = x->n, nt = x->nt;
    const size_t rows_max = (size_t)n * (n + n_extra) + 1;
    double *feat = calloc(rows_max * (nt ? nt : 1), sizeof *feat);
    double *y = calloc(rows_max, sizeof *y);
    double *ata = calloc((size_t)(nt ? nt : 1) * (nt ? nt : 1), sizeof *ata);
    double *aty = calloc(nt ? nt : 1, sizeof *aty);
    sn_subgraph *rg = malloc(sizeof *rg);
    double sse = 0.0, mean = 0.0, sst = 0.0;
    uint32_t s, g, t, u, rows = 0, sweep;
    memset(x->beta, 0, sizeof x->beta);
    for (s = 0; s < n; ++s)
        x->lat_none_us[s] = lat[s * stride + n];
    if (!feat || !y || !ata || !aty || !rg)
        goto done;
    /* one row per profiled (SubNet s, SubGraph of SubNet g): the near bytes of s per tensor
     * under g's SubGraph, and the latency it saved against no SubGraph */
    for (g = 0; g < n + n_extra; ++g) {
        const sn_subgraph *rr = g < n ? rg : &extra[g - n];
        if (g < n)
            sn_slices_of_subnet(x, g, budget, rg);
        for (s = 0; s < n; ++s) {
            for (t = 0; t < nt; ++t)
                feat[(size_t)rows * nt + t] = (double)sn_slices_serves_bytes(x, t, x->use[s][t], rr->b[t]);
            y[rows] = lat[s * stride + n] - (g < n ? lat[s * stride + g] : extra_lat[(size_t)(g - n) * n + s]);
            mean += y[rows];
            ++rows;
        }
    }
    mean /= rows ? (double)rows : 1.0;
    /* non-negative least squares, one coefficient per tensor (us saved per near byte), by
     * coordinate descent on the normal equations */
    for (s = 0; s < rows; ++s)
        for (t = 0; t < nt; ++t) {
            double ft = feat[(size_t)s * nt + t];
            if (ft == 0.0)
                continue;
            aty[t] += ft * y[s];
            for (u = 0; u < nt; ++u)
                ata[t * nt + u] += ft * feat[(size_t)s * nt + u];
        }
    for (sweep = 0; sweep < 2000; ++sweep) {
        double change = 0.0;
        for (t = 0; t < nt; ++t) {
            double grad = -aty[t], nb;
            if (ata[t * nt + t] <= 0.0)
                continue;
            for (u = 0; u < nt; ++u)
                grad += ata[t * nt + u] * x->beta_t[u];
            nb = x->beta_t[t] - grad / ata[t * nt + t];
            if (nb < 0.0)
                nb = 0.0;
            change += fabs(nb - x->beta_t[t]) * sqrt(ata[t * nt + t]);
            x->beta_t[t] = nb;
        }
        if (change < 1e-9)
            break;
    }
    for (s = 0; s < rows; ++s) {
        double e = y[s];
        for (t = 0; t < nt; ++t)
            e -= x->beta_t[t] * feat[(size_t)s * nt + t];
        sse += e * e;
        sst += (y[s] - mean) * (y[s] - mean);
    }
    /* the per-kind figures reported: the byte-weighted mean coefficient of each kind */
    {
        double num[SN_SLICE_KINDS] = {0}, den[SN_SLICE_KINDS] = {0};
        for (t = 0; t < nt; ++t) {
            double b = (double)sn_slices_box_bytes(x, t, x->use[n - 1][t]);
            num[x->t[t].kind] += x->beta_t[t] * b;
            den[x->t[t].kind] += b;
        }
        for (u = 0; u < SN_SLICE_KINDS; ++u)
            x->beta[u] = den[u] > 0.0 ? num[u] / den[u] : 0.0;
    }
    /* each SubNet's saving anchored to its own SubGraph's measured one (sn_slices.h) */
    for (s = 0; s < n; ++s) {
        double m = 0.0, own = lat[s * stride + s];
        sn_slices_of_subnet(x, s, budget, rg);
        for (t = 0; t < nt; ++t)
            m += x->beta_t[t] * (double)sn_slices_serves_bytes(x, t, x->use[s][t], rg->b[t]);
        x->own_fit_us[s] = m;
        x->own_measured_us[s] = x->lat_none_us[s] > own ? x->lat_none_us[s] - own : 0.0;
    }
    x->fit_rows = rows;
    x->fit_rmse_us = rows ? sqrt(sse / rows) : 0.0;
    x->fit_r2 = sst > 0.0 ? 1.0 - sse / sst : 0.0;
    /* switching: a + b * bytes, least squares over the profile's switches (both >= 0) */
    {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        uint32_t m = 0;
        for (g = 0; g < n; ++g)
            if (switch_bytes[g] > 0) {
                double bx = (double)switch_bytes[g];
                sx += bx;
                sy += switch_us[g];
                sxx += bx * bx;
                sxy += bx * switch_us[g];
                ++m;
            }
        x->switch_a_us = x->switch_b_us = 0.0;
        if (m >= 2 && m * sxx - sx * sx > 0) {
            x->switch_b_us = (m * sxy - sx * sy) / (m * sxx - sx * sx);
            x->switch_a_us = (sy - x->switch_b_us * sx) / m;
        }
        if (x->switch_b_us < 0.0 || x->switch_a_us < 0.0) { /* through the origin */
            x->switch_a_us = 0.0;
            x->switch_b_us = sxx > 0 ? sxy / sxx : 0.0;
        }
    }
done:
    free(feat);
    free(y);
    free(ata);
    free(aty);
    free(rg);
}

double sn_slices_anchor(const sn_slices *x, uint32_t s)
{
    double fit = x->own_fit_us[s], r;
    /* only where the fit predicts a saving above its own error: a tiny fitted saving would turn
     * a measured one into a huge factor */
    if (!(fit > 0.0) || fit <= x->fit_rmse_us)
        return 1.0;
    r = x->own_measured_us[s] / fit;
    return r < SN_SLICES_ANCHOR_MIN ? SN_SLICES_ANCHOR_MIN : r > SN_SLICES_ANCHOR_MAX ? SN_SLICES_ANCHOR_MAX : r;
}

double sn_slices_predict_us(const sn_slices *x, uint32_t s, const sn_subgraph *r)
{
    double save = 0.0, l;
    uint32_t t;
    for (t = 0; t < x->nt; ++t)
        save += x->beta_t[t] * (double)sn_slices_serves_bytes(x, t, x->use[s][t], r->b[t]);
    save *= sn_slices_anchor(x, s);
    l = x->lat_none_us[s] - save;
    return l > 0.0 ? l : 0.0;
}

double sn_slices_switch_us(const sn_slices *x, uint64_t bytes)
{
    return bytes ? x->switch_a_us + x->switch_b_us * (double)bytes : 0.0;
}

/* The predicted saving of box B of tensor T over the demand. */
static double value_of(const sn_slices *x, const double *weight, uint32_t t, sn_slice_box b)
{
    double v = 0.0;
    uint32_t s;
    for (s = 0; s < x->n; ++s)
        if (weight[s] > 0.0) /* the saving as sn_slices_predict_us prices it */
            v += weight[s] * sn_slices_anchor(x, s) * (double)sn_slices_serves_bytes(x, t, x->use[s][t], b);
    return v * x->beta_t[t];
}

void sn_slices_knapsack(const sn_slices *x, const double *weight, uint64_t budget, sn_subgraph *r)
{
    uint64_t used = 0;
    memset(r, 0, sizeof *r);
    for (;;) {
        double best_ratio = 0.0;
        uint32_t bt = 0, t, s;
        sn_slice_box bb = {0, 0, 0};
        uint64_t bdelta = 0;
        int partial = 0;
        /* the upgrade (a tensor's box grown to cover one more demanded SubNet's box) with the
         * most predicted saving per added byte; one that does not fit whole is cut to the
         * leading output channels that do */
        for (t = 0; t < x->nt; ++t) {
            double v0 = value_of(x, weight, t, r->b[t]);
            uint64_t b0 = sn_slices_box_bytes(x, t, r->b[t]);
            for (s = 0; s < x->n; ++s) {
                sn_slice_box u;
                uint64_t b1;
                double ratio;
                int cut = 0;
                if (weight[s] <= 0.0 || x->use[s][t].k <= 0)
                    continue;
                u = box_union(r->b[t], x->use[s][t]);
                b1 = sn_slices_box_bytes(x, t, u);
                if (b1 <= b0)
                    continue;
                if (used + (b1 - b0) > budget) {
                    /* the leading output channels that fit, on top of the current box */
                    uint64_t per_o = raw_bytes(1, u.i, u.k, x->t[t].dw, x->t[t].elem);
                    int32_t o_fit = per_o ? (int32_t)((budget - used + b0) / per_o) : 0;
                    if (o_fit > u.o)
                        o_fit = u.o;
                    if (x->quantum > 1) /* whole units: a part of one serves nothing */
                        o_fit = o_fit / x->quantum * x->quantum;
                    if (o_fit <= 0)
                        continue;
                    u.o = o_fit;
                    b1 = sn_slices_box_bytes(x, t, u);
                    if (b1 <= b0 || used + (b1 - b0) > budget)
                        continue;
                    cut = 1;
                }
                ratio = (value_of(x, weight, t, u) - v0) / (double)(b1 - b0);
                if (ratio > best_ratio) {
                    best_ratio = ratio;
                    bt = t;
                    bb = u;
                    bdelta = b1 - b0;
                    partial = cut;
                }
            }
        }
        if (best_ratio <= 0.0)
            break;
        r->b[bt] = bb;
        used += bdelta;
        (void)partial;
    }
}
