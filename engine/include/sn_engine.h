/* supernav engine: plan and run one SubNet of the SuperNet (fp32).
 *
 *   size_t need;
 *   sn_plan_arena_bytes(&model, &config, &need);           -- peak arena, before anything
 *   sn_plan_prepare(&plan, &model, &config, arena, need);  -- validates, resolves weights,
 *                                                             folds the SubNet's BN into
 *                                                             per-channel vectors in the arena
 *   sn_plan_invoke(&plan, &platform, canvas, logits);      -- allocates nothing
 *
 * The caller owns the arena and the plan (a fixed-size struct; no allocation anywhere).
 * Weights are read in place from the model image through strided views: a SubNet uses
 * leading channel slices and centred kernel crops of the shared tensors, never copies.
 *
 * ARAC (NeuLens): the gate scores each tile of a G x G grid and picks its level; the
 * prefix (the stem and stages 0..P-1 for the config's split point P; CF-64's form: the
 * model's one split) then runs as independent micro-flows at each tile's level (a leading
 * channel slice of every prefix layer), and the tail runs once on the stitched map
 * (channels beyond a tile's slice are zero). A tile at the SKIP level (0 %) is not
 * computed: its part of the stitched map is the learned vector skip.{P}. Region modes:
 * h, each micro-flow computes only what its output needs, reading the receptive-field halo
 * (zero padding only at the canvas border), so the stitched map equals the untiled prefix;
 * adjacent tiles at the same level run as one merged region sharing its halo (up to
 * arac.merge_max tiles per side; identical outputs); z, every tile's prefix sees only its
 * own canvas pixels, zero-padded at the tile's borders at every layer (no halo, no merging).
 * Portable C99, no stdio. */
#ifndef SN_ENGINE_H
#define SN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "sn_config.h"
#include "sn_model.h"
#include "sn_platform.h"

#define SN_PLAN_MAX_LAYERS (2 + 3 * SN_MAX_BLOCKS + 1)
#define SN_PLAN_MAX_PREFIX (1 + 3 * 16)     /* prefix layers of one level */
#define SN_PLAN_MAX_PREFIX_LAYERS 112        /* prefix layers of all computed levels */
#define SN_PLAN_MAX_TILES 256
#define SN_ARAC_MAX_COMPUTED (SN_CONFIG_MAX_LEVELS - 1) /* levels with a prefix (SKIP has none) */

enum sn_layer_kind { SN_LAYER_CONV = 1, SN_LAYER_DWCONV = 2 };

/* Numeric precision of a plan. int8 follows TFLite / CMSIS-NN (sn_quant.h): per-channel
 * symmetric int8 weights (the image's q8.* tensors, shared by every SubNet like the fp32
 * ones), per-tensor asymmetric int8 activations whose ranges were calibrated per config
 * on training canvases (q8.act.{config}), int32 bias, fixed-point requantization, TFLite's
 * int8 ADD for residuals. The input is pixel - 128 (scale 1/255, zero point -128) after
 * the fp32 resize; the ARAC gate stays fp32; logits are dequantized. */
enum sn_precision { SN_FP32 = 0, SN_INT8 = 1 };

/* One int8 tensor's quantization: real = scale * (q - zero_point). */
typedef struct sn_qtensor {
    float scale;
    int32_t zero_point;
} sn_qtensor;

typedef struct sn_layer_q8 {
    const int8_t *weights;                  /* same view as the fp32 weights, in q8.* */
    const float *w_scale;                   /* per output channel of the view */
    int32_t *bias, *multiplier, *shift;     /* per output channel, in the arena */
    sn_quant_params quant;                  /* offsets and clamp for the convolution */
    sn_qtensor in, out, post;               /* input, convolution output, after the add */
    /* residual add (TFLite int8 ADD, sn_add_ref_s8): [0] the convolution's output, [1] the
     * residual, [2] the sum */
    sn_add_quant_params add;
} sn_layer_q8;

typedef struct sn_layer {
    uint8_t kind;
    uint8_t input_buffer, output_buffer;   /* indices into the plan's activation buffers */
    int8_t residual_buffer;                 /* add this buffer after the layer, or -1 */
    int16_t tap;                            /* block index for taps: -1 none */
    sn_conv2d_params params;
    const float *weights;                   /* strided view into the model image */
    const float *scale, *bias;              /* folded BN, in the arena */
    sn_layer_q8 q8;                         /* int8 plans only */
} sn_layer;

/* One micro-flow of an invoke: tiles [ty0, ty1) x [tx0, tx1) of the grid at config level
 * LEVEL (index into sn_arac_plan.level_pct, never SKIP), run as one region. */
typedef struct sn_arac_region {
    uint8_t level;
    uint8_t ty0, tx0, ty1, tx1;
} sn_arac_region;

/* The gate's rule (sn_image_arch.gate_out): SN_GATE_SIGMOID, one logit per tile, critical
 * (the config's highest level) when sigmoid(logit) >= T/100, else the lowest; SN_GATE_SOFTMAX,
 * one logit per trained level (the model's levels_pct, high to low), p = softmax: the tile
 * runs at the lowest config level l whose cumulative mass (p of l and of every trained level
 * below it) is >= T/100, else at the config's highest. Both in fp32, in int8 plans too. */
enum sn_gate_rule { SN_GATE_SIGMOID = 1, SN_GATE_SOFTMAX = 2 };

typedef struct sn_arac_plan {
    uint32_t split, grid, mode, threshold_pct;  /* mode: SN_REGION_MODE_* */
    uint32_t num_levels;                    /* the config's levels, high to low */
    uint32_t level_pct[SN_CONFIG_MAX_LEVELS];
    uint32_t computed_levels;               /* the leading levels with a prefix (all but SKIP) */
    uint32_t gate_rule;                     /* enum sn_gate_rule */
    uint32_t gate_logits;                   /* gate outputs per tile */
    uint8_t gate_index[SN_CONFIG_MAX_LEVELS];/* softmax: each config level's trained level */
    sn_layer gate[3];                       /* conv 3x3, conv 3x3, conv 1x1 (on pooled) */
    uint32_t gate_side;                     /* pooled canvas side (canvas / gate_pool) */
    uint32_t prefix_count;                  /* layers per computed level */
    sn_layer prefix[SN_PLAN_MAX_PREFIX_LAYERS]; /* level l's layers at l * prefix_count
                                               (sn_arac_prefix); full-canvas geometry,
                                               regions are cut from it */
    uint32_t feature_side, feature_c;       /* the stitched map: side x side x channels */
    uint32_t stitched_buffer;               /* plan buffer holding the stitched map */
    const float *skip;                      /* SKIP's features [feature_c], or NULL */
    const int8_t *skip_q8;                  /* int8: the same, quantized with stitched_q */
    uint32_t merge_max;                     /* tiles per side of a merged region (1: none) */
    float *tile_buffers[3];                 /* sized by the largest region */
    uint32_t tile_buffer_floats;
    uint8_t tile_level[SN_PLAN_MAX_TILES];  /* last invoke: index into level_pct, row-major */
    int8_t force_level;                     /* -1: the gate decides (default); else every
                                               tile runs at that index of level_pct
                                               (experiments, tests, calibration) */
    uint32_t num_regions;                   /* last invoke's micro-flows */
    sn_arac_region regions[SN_PLAN_MAX_TILES];
    int64_t last_macs;                      /* last invoke: gate + regions + tail */
    int64_t mac_budget;                     /* the level controller (NeuLens): 0 none (default);
                                               else, after the gate, while the invoke would cost
                                               more MACs than this, every tile at the highest
                                               computed level in use steps down one computed
                                               level (never to SKIP); not with force_level */
    uint32_t steps_down;                    /* last invoke: the controller's steps */
    int64_t max_macs;                       /* the most an invoke can cost: every tile at
                                               the highest level, each its own region */
    sn_qtensor stitched_q;                  /* int8: the stitched map's quantization */
} sn_arac_plan;

/* The prefix layers of computed level LEVEL (index into level_pct). */
#define sn_arac_prefix(arac, level) (&(arac)->prefix[(size_t)(level) * (arac)->prefix_count])

/* Observer of every layer's output, for calibration. SECTION: 0 the main layers, 1 + l the
 * ARAC prefix at computed level l; STAGE: 0 the convolution's output, 1 after
 * the residual add (the same data when the layer has none). fp32 plans only. */
typedef void (*sn_observe_fn)(void *user, uint32_t section, uint32_t layer, uint32_t stage,
                              const float *data, size_t n);

typedef struct sn_plan {
    const sn_model *model;
    sn_config config;
    uint32_t calibration_id;
    uint32_t num_layers;
    sn_layer layers[SN_PLAN_MAX_LAYERS];
    float *buffers[3];                      /* activation buffers in the arena */
    uint32_t buffer_floats;                 /* each buffer's capacity */
    const float *fc_weights, *fc_bias;      /* [classes][head_c], [classes] */
    uint32_t head_buffer;                   /* where the head's output lands */
    uint32_t head_h, head_w;
    int64_t macs;                           /* per inference (ARAC: tail + gate only;
                                               see arac.last_macs) */
    int is_arac;
    int precision;                          /* enum sn_precision */
    sn_arac_plan arac;
    size_t arena_bytes;                     /* used by this plan */
    sn_qtensor input_q, head_q;             /* int8: the input and the head's output */
    const int8_t *fc_q8;                    /* int8 classifier weights */
    int32_t *fc_bias_q;                     /* int8: classifier bias in accumulator units */
    float *fc_dequant;                      /* int8: head scale x weight scale, per class */
    uint32_t q8_precomputed_words;          /* int8: the words of per-channel vectors copied
                                               from the image's q8.req.{id} (0: computed) */
    sn_observe_fn observe;                  /* optional (fp32), set after prepare */
    void *observe_user;
} sn_plan;

/* Precomputed int8 vectors (optional, int8 plans only). An image may hold, per config, the
 * tensor q8.req.{id} (S32, 1-D): per convolution, in the order a prepare quantizes them (an
 * ARAC plan's prefix levels, then its main layers), its int32 bias and multiplier per output
 * channel and its shift per output channel as int8 (zero-padded to a whole word), exactly as
 * sn_plan_prepare_p computes them from the config's calibrated batch norm and ranges. With
 * it an int8 prepare copies them instead of folding the batch norm and computing them
 * channel by channel (in double precision: soft-float on a part without a double FPU), and
 * needs neither the config's calib.{id}.*.mean/var nor arena for folded BN vectors. A
 * tensor of another size is refused (SN_ERR_FORMAT). sn-mcu strip writes them
 * (platforms/mcu/README.md); sn_plan_q8_export gives them for a prepared int8 plan (OUT
 * NULL: only *WORDS). */
sn_status sn_plan_q8_export(const sn_plan *plan, int32_t *out, size_t *words);


/* Rows of a config's q8.act tensor: 1 (the input) + the main layers + the prefix layers at
 * each computed level; each row holds min and max of the convolution output and of the
 * output after the residual add. */
#define SN_Q8_ACT_COLUMNS 4

/* Optional observer of intermediate tensors (NHWC), for golden tests and debugging. NAME is
 * "stem", "stage{s}.block{b}" or "head"; ARAC plans tap "stitched" and the tail's blocks. */
typedef void (*sn_tap_fn)(void *user, const char *name, const float *data, uint32_t h,
                          uint32_t w, uint32_t c);

/* Peak arena bytes for CONFIG, without touching any arena. */
sn_status sn_plan_arena_bytes(const sn_model *model, const sn_config *config, size_t *bytes);

/* Plans CONFIG into PLAN using ARENA (at least sn_plan_arena_bytes bytes, 16-byte
 * aligned). SN_ERR_UNSUPPORTED when the config is outside the model's space or the model
 * holds no calibrated BN statistics for it; WHY (may be NULL) says which. */
sn_status sn_plan_prepare(sn_plan *plan, const sn_model *model, const sn_config *config,
                          void *arena, size_t arena_bytes, const char **why);

/* The same for a precision (enum sn_precision); the plain calls above are fp32. int8 needs
 * the image's q8 tensors and the config's calibrated ranges (else SN_ERR_UNSUPPORTED). */
sn_status sn_plan_arena_bytes_p(const sn_model *model, const sn_config *config, int precision,
                                size_t *bytes);
sn_status sn_plan_prepare_p(sn_plan *plan, const sn_model *model, const sn_config *config,
                            int precision, void *arena, size_t arena_bytes, const char **why);

/* Rows of the calibration table a prepared plan uses (see SN_Q8_ACT_COLUMNS). */
uint32_t sn_plan_act_rows(const sn_plan *plan);

/* One ARAC micro-flow's geometry, as the engine's region loop uses it, for platforms that run
 * micro-flows themselves (sn_platform_ops.arac_micro_flows). Regions are rows [r0, r1)
 * and columns [c0, c1) of a layer's full-canvas output (the canvas for *CANVAS).
 * sn_plan_region_geometry: for the last invoke's region REGION (index into arac.regions),
 * OUT[l] is the region prefix layer l (of the region's level) computes and *CANVAS the
 * canvas pixels it needs (held in buffer 2 before the first layer). The region a layer reads
 * (and a residual it adds) is the one its input (residual) buffer holds: the OUT[] of the
 * layer that last wrote that buffer, or *CANVAS. The last layer's region lands at the same
 * rows and columns of the stitched map, channels [0, its out_c). SN_ERR_INVALID_ARGUMENT
 * for a plan that is not ARAC or a region index outside the last invoke's.
 * sn_tile_conv_params: the convolution a micro-flow runs for a layer of full-canvas geometry
 * LAYER reading region IN and writing region OUT (sizes of the regions, the padding that
 * is left at the canvas border, or at the tile's border in mode z). */
typedef struct sn_region {
    int32_t r0, r1, c0, c1;
} sn_region;

sn_status sn_plan_region_geometry(const sn_plan *plan, uint32_t region, sn_region out[SN_PLAN_MAX_PREFIX],
                                  sn_region *canvas);
void sn_tile_conv_params(const sn_conv2d_params *layer, const sn_region *in, const sn_region *out,
                         sn_conv2d_params *tile);

/* One ARAC micro-flow as the engine's own region loop runs it: region REGION of the last
 * invoke (plan->arac.regions) through PLATFORM's kernel slots, using TILE_BUFFERS (three
 * buffers of plan->arac.tile_buffer_floats floats, 16-byte aligned) instead of the plan's,
 * writing its part of the stitched map. For platforms that run micro-flows concurrently
 * (each worker with its own tile buffers; regions write disjoint parts of the stitched map).
 * SN_ERR_INVALID_ARGUMENT for a plan that is not ARAC or a region outside the last
 * invoke's. */
sn_status sn_plan_run_region(const sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                             uint32_t region, float *const tile_buffers[3]);

/* Runs the plan on a canvas (canvas x canvas uint8 pixels, row-major) and writes
 * num_classes logits. TAP may be NULL. PLATFORM may be NULL (reference). */
sn_status sn_plan_invoke(sn_plan *plan, const sn_platform *platform, const uint8_t *canvas,
                         float *logits, sn_tap_fn tap, void *tap_user);

/* The input pipeline alone: pixel/255, then bilinear resize with half-pixel centres
 * (PyTorch align_corners=False, no antialias) from SRC_SIDE to DST_SIDE. */
void sn_resize_canvas_f32(const uint8_t *canvas, uint32_t src_side, float *out,
                          uint32_t dst_side);

#endif
