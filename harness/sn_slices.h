/* supernav harness: SUSHI's SubGraph as weight slices (issue 19).
 *
 * The SuperNet's SubNets share weight tensors: a SubNet reads, of each tensor, a leading
 * box -- O output channels x I input channels (depthwise: O channels), centred K x K kernel
 * crop. A SubGraph is a set of such boxes, at most one per tensor, that fits the platform's
 * near-memory budget: not necessarily the weights of one SubNet. A SubNet served while a
 * SubGraph is resident reads from near memory the part of each of its boxes inside the
 * resident box of that tensor (a leading slice serves its part of a wider layer) and the
 * rest from far memory; a switch moves only what the new SubGraph holds and the old does
 * not.
 *
 * The cost model (fitted to the profile, so it is the platform's own): the latency of SubNet
 * S with SubGraph R resident is predicted as
 *     lat(S, R) = lat(S, none) - sum over tensors t of beta[t] * near_t(S, R)
 * where near_t(S, R) is the bytes of S's box of t that R serves (sn_slices_serves_bytes): one
 * coefficient per layer's
 * tensor (us saved per near byte, >= 0: a layer whose weight loads hide behind its compute
 * saves little), the non-negative least-squares fit over every profiled (SubNet,
 * SubGraph-of-a-SubNet) pair; its error is reported with every run (policy.json). Each SubNet's
 * predicted saving is then scaled so that its own SubGraph's prediction is its measured latency
 * (the profile's row): the fit shares a saving out among the tensors, the profile sets each
 * SubNet's total, so a SubGraph holding all of a SubNet's own weights is predicted at that
 * SubNet's measured latency with them resident (unscaled, a fit with R^2 0.84 put slice
 * SubGraphs 2 % below the measured full residency, which favoured the slice policies in
 * modelled replays). The factor is bounded to [SN_SLICES_ANCHOR_MIN, SN_SLICES_ANCHOR_MAX],
 * and 1 where the fitted own saving is within the fit's RMSE; the knapsack values slices with
 * the same factors. policy.json's fit error is the unscaled fit's. A switch's time is predicted as a + b * bytes moved, fitted to the
 * profile's switching times.
 *
 * The SubGraph for a demand (sn_slices_knapsack): given a weight per SubNet (how often the
 * recent window served it), the boxes with the most predicted latency saved per byte are
 * taken greedily until the budget is full; the last one that does not fit whole is taken
 * as a leading part (fewer output channels). Host-only. */
#ifndef SN_SLICES_H
#define SN_SLICES_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_model.h"

#define SN_SLICES_MAX_TENSORS 160
#define SN_SLICES_MAX_SUBNETS 48
#define SN_SLICES_MAX_K 8

enum sn_slice_kind { SN_SLICE_POINTWISE = 0, SN_SLICE_DEPTHWISE = 1, SN_SLICE_DENSE = 2, SN_SLICE_KINDS = 3 };

/* A leading box of one tensor; k == 0: nothing. */
typedef struct sn_slice_box {
    int32_t o, i, k;
} sn_slice_box;

/* One shared tensor the serving set reads. */
typedef struct sn_slice_tensor {
    const void *w;                           /* a view into it (platforms find the tensor) */
    uint8_t dw, s8, kind;
    uint32_t elem;                           /* bytes per weight: 1 int8, 4 fp32 */
} sn_slice_tensor;

/* A SubGraph: a box per tensor of the serving set (sn_slices.t order). */
typedef struct sn_subgraph {
    sn_slice_box b[SN_SLICES_MAX_TENSORS];
} sn_subgraph;

typedef struct sn_slices {
    uint32_t nt, n;                          /* tensors, SubNets */
    sn_slice_tensor t[SN_SLICES_MAX_TENSORS];
    sn_slice_box use[SN_SLICES_MAX_SUBNETS][SN_SLICES_MAX_TENSORS]; /* what SubNet s reads */
    uint8_t order[SN_SLICES_MAX_SUBNETS][SN_SLICES_MAX_TENSORS]; /* SubNet s's tensors, plan order */
    uint32_t order_n[SN_SLICES_MAX_SUBNETS];
    uint64_t total_bytes;                    /* every box any SubNet reads, per tensor the union */
    int32_t quantum;                         /* output channels per near/far unit (>= 1) */
    /* the cost model */
    double lat_none_us[SN_SLICES_MAX_SUBNETS];
    double beta_t[SN_SLICES_MAX_TENSORS];    /* us saved per near byte of tensor t (>= 0) */
    /* per SubNet: the saving its own SubGraph was measured to give (lat none - lat own, >= 0)
     * and the fit's prediction of it; predictions are scaled by their ratio (own_fit_us 0:
     * not scaled) */
    double own_measured_us[SN_SLICES_MAX_SUBNETS], own_fit_us[SN_SLICES_MAX_SUBNETS];
    double beta[SN_SLICE_KINDS];             /* by kind, byte-weighted mean (for reports) */
    double switch_a_us, switch_b_us;         /* switch = a + b * bytes moved */
    uint32_t fit_rows;
    double fit_rmse_us, fit_r2;              /* of the latency savings' fit */
} sn_slices;

/* Collects the tensors and boxes of N SubNets' plans (one precision; ARAC plans' gate and
 * prefixes are not served and not included). Returns 0, or -1 with one line in ERR. */
int sn_slices_build(sn_slices *x, const sn_model *model, sn_plan *const *plans, uint32_t n, char *err,
                    size_t err_bytes);

/* Bytes of box B of tensor T, and of the part of A inside B (geometry: what a switch keeps). */
uint64_t sn_slices_box_bytes(const sn_slices *x, uint32_t t, sn_slice_box b);
uint64_t sn_slices_overlap_bytes(const sn_slices *x, uint32_t t, sn_slice_box a, sn_slice_box b);
/* The bytes of request U (a SubNet's box of tensor T) that resident box R serves from near
 * memory, as a platform with slice residency computes them: R must hold U's whole kernel crop
 * and, for a dense layer, all of U's input channels; then U's leading output channels inside
 * R, in whole units of x->quantum channels (all of them when R covers U). */
uint64_t sn_slices_serves_bytes(const sn_slices *x, uint32_t t, sn_slice_box u, sn_slice_box r);

/* The SubGraph's size, SubNet S's near bytes under R, and the bytes a switch A -> B moves. */
uint64_t sn_slices_bytes(const sn_slices *x, const sn_subgraph *r);
uint64_t sn_slices_near_bytes(const sn_slices *x, uint32_t s, const sn_subgraph *r);
uint64_t sn_slices_subnet_bytes(const sn_slices *x, uint32_t s);
uint64_t sn_slices_diff_bytes(const sn_slices *x, const sn_subgraph *from, const sn_subgraph *to);

/* SubNet G's own SubGraph as a platform makes it resident: its boxes in plan order, each
 * grown into the tensor's union box while BUDGET holds, a box that does not fit skipped. */
void sn_slices_of_subnet(const sn_slices *x, uint32_t g, uint64_t budget, sn_subgraph *r);

/* Fits the cost model: LAT[s][g] the profile's latency of SubNet s with SubNet g's SubGraph
 * (g < n, made by sn_slices_of_subnet with BUDGET) or none (g == n), row stride STRIDE;
 * SWITCH_US/SWITCH_BYTES[g] the profile's switch to g from none; and N_EXTRA more profiled
 * SubGraphs EXTRA[k] (slice sets) with EXTRA_LAT[k * n + s] (may be 0 / NULL). */
void sn_slices_fit(sn_slices *x, const double *lat, size_t stride, const double *switch_us,
                   const uint64_t *switch_bytes, uint64_t budget, const sn_subgraph *extra, uint32_t n_extra,
                   const double *extra_lat);

#define SN_SLICES_ANCHOR_MIN 0.5
#define SN_SLICES_ANCHOR_MAX 2.0
/* SubNet S's anchoring factor (see above). */
double sn_slices_anchor(const sn_slices *x, uint32_t s);
/* Predicted latency of SubNet S with R resident, and of a switch moving BYTES. */
double sn_slices_predict_us(const sn_slices *x, uint32_t s, const sn_subgraph *r);
double sn_slices_switch_us(const sn_slices *x, uint64_t bytes);

/* The SubGraph for a demand: WEIGHT[s] >= 0 per SubNet, within BUDGET bytes (greedy by
 * predicted latency saved per byte; see above). */
void sn_slices_knapsack(const sn_slices *x, const double *weight, uint64_t budget, sn_subgraph *r);

#endif
