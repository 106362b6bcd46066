/* supernav engine: the platform interface (in the spirit of ggml's backend interface).
 *
 * A platform is a table of kernel slots plus a context. Every slot may be NULL: the engine
 * then runs the reference kernel (the oracle), so a new platform starts with the slots it
 * accelerates and grows. Kernels see the same parameters and the same strided weight views
 * as the reference (sn_kernels_ref.h) and must produce the same results (fp32 within
 * rounding; int8 bit-exact); a slot's error status is the invoke's (the reference's status
 * for parameters the reference refuses). tests/test_kernel_parity.c runs every slot of every
 * platform against the reference. */
#ifndef SN_PLATFORM_H
#define SN_PLATFORM_H

#include "sn_kernels_ref.h"
#include "sn_status.h"

/* One weight slice (a piece of SUSHI's SubGraph, for platforms with slice residency): the
 * leading O x I box (depthwise: O channels, I ignored) and the centred K x K kernel crop of
 * the model-image tensor W points into (fp32, or int8 with S8). */
typedef struct sn_weight_slice {
    const void *w;
    int dw, s8;
    int32_t o, i, k;
} sn_weight_slice;

struct sn_plan;

typedef struct sn_platform_ops {
    /* dense convolution with a per-channel scale and bias and a clamp */
    sn_status (*conv2d_f32)(void *context, const sn_conv2d_params *params, const float *input,
                            const float *weights, const float *scale, const float *bias,
                            float *output);
    /* depthwise convolution, same contract */
    sn_status (*depthwise_conv2d_f32)(void *context, const sn_conv2d_params *params,
                                      const float *input, const float *weights,
                                      const float *scale, const float *bias, float *output);
    /* int8 dense and depthwise convolutions (sn_conv2d_ref_s8's contract: bit-exact) */
    sn_status (*conv2d_s8)(void *context, const sn_conv2d_params *params,
                           const sn_quant_params *quant, const int8_t *input,
                           const int8_t *weights, const int32_t *bias, int8_t *output);
    sn_status (*depthwise_conv2d_s8)(void *context, const sn_conv2d_params *params,
                                     const sn_quant_params *quant, const int8_t *input,
                                     const int8_t *weights, const int32_t *bias, int8_t *output);
    /* Optional: every ARAC micro-flow of one invoke (plan->arac.regions: a tile, or tiles
     * merged into one region), issued as independent work (a platform with queues runs them
     * concurrently). The engine calls it after the gate, with plan->arac.tile_level[] and the
     * regions final and the stitched map (plan->buffers[arac.stitched_buffer]) already holding
     * its background (zeros, and the SKIP features on SKIP tiles); it must leave the stitched
     * map exactly as the engine's own region loop would (that loop runs each region's layers
     * through the slots above; the geometry of a region is sn_plan_region_geometry(),
     * sn_engine.h), for plan->precision fp32 or int8. NULL: the engine runs the regions one
     * after another through the kernel slots. Not used while a calibration observer is set. */
    sn_status (*arac_micro_flows)(void *context, const struct sn_plan *plan, const uint8_t *canvas);
    /* Optional: OUT[i] += IN[i] for i < N (a residual connection, fp32; sn_add_ref_f32). One
     * IEEE addition per element, so any implementation gives the reference's bits. */
    sn_status (*add_f32)(void *context, float *out, const float *in, uint32_t n);
    /* Optional: sn_resize_canvas_f32 (sn_engine.h) with the same bits (the same IEEE
     * operations in the same order, none fused). Anything but SN_OK (e.g. a size it does not
     * take): the engine runs its own. NULL: the engine's own. */
    sn_status (*resize_canvas_f32)(void *context, const uint8_t *canvas, uint32_t src_side, float *out,
                                   uint32_t dst_side);
    /* Optional: the int8 residual add (sn_add_ref_s8: bit-exact). */
    sn_status (*add_s8)(void *context, const sn_add_quant_params *quant, int8_t *out, const int8_t *in,
                        uint32_t n);
    /* Optional: average pooling (sn_avgpool_ref_f32, fp32 within rounding; sn_avgpool_ref_s8,
     * bit-exact): the global pool before the classifier and the ARAC gate's pool to the grid. */
    sn_status (*avgpool_f32)(void *context, const sn_pool_params *params, const float *input,
                             float *output);
    sn_status (*avgpool_s8)(void *context, const sn_pool_params *params, const int8_t *input,
                            int8_t *output);
    /* Optional: the classifier (sn_fully_connected_ref_f32, fp32 within rounding;
     * sn_fully_connected_ref_s8, bit-exact). */
    sn_status (*fully_connected_f32)(void *context, const sn_fc_params *params, const float *input,
                                     const float *weights, const float *bias, float *output);
    sn_status (*fully_connected_s8)(void *context, const sn_fc_params *params, const int8_t *input,
                                    const int8_t *weights, const int32_t *bias, const float *out_scale,
                                    float *output);
} sn_platform_ops;

typedef struct sn_platform {
    const char *name;
    const sn_platform_ops *ops;   /* may be NULL: everything runs on the reference */
    void *context;
} sn_platform;

/* The reference platform: every slot NULL. */
extern const sn_platform sn_platform_reference;

#endif
