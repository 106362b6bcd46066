/* supernav datasets: the cluttered-canvas generator (CF-64 on Fashion-MNIST, CM-64 on
 * MNIST, and CF-128S, the region-sparse 128x128 task on Fashion-MNIST), deterministic
 * from a seed and identical on every machine.
 *
 * A CF-64/CM-64 canvas is 64x64 uint8, black, holding one item of a split scaled to a
 * random side and placed at a random position, plus 4..8 clutter fragments (8x8 crops of
 * the central region of other items of the same split) that never overlap the object's
 * bounding box. A CF-128S canvas is 128x128 with a smaller object (side 20..32) and the
 * same 4..8 fragments, so most of its area is background (see sn_canvas_geometry).
 * Canvas i is a pure function of (task, split, seed, i) and the split's items; only
 * integer arithmetic is used (common/sn_rng.h). datasets/README.md gives the exact
 * recipe; the constants below are part of it. Not thread-safe per generator (it caches
 * one permutation); use one generator per thread. */
#ifndef SN_CANVAS_H
#define SN_CANVAS_H

#include <stdint.h>

#include "sn_dataset.h"

/* CF-64 and CM-64 (the 64x64 tasks) */
#define SN_CANVAS_SIDE 64
#define SN_CANVAS_BYTES (SN_CANVAS_SIDE * SN_CANVAS_SIDE)
#define SN_CANVAS_OBJECT_MIN_SIDE 24 /* object side: uniform in [24, 40] */
#define SN_CANVAS_OBJECT_MAX_SIDE 40
#define SN_CANVAS_CLUTTER_MIN 4      /* fragments: uniform in [4, 8] */
#define SN_CANVAS_CLUTTER_MAX 8
/* CF-128S, the region-sparse task: a 128x128 canvas, object side uniform in [20, 32],
 * 4..8 fragments as above; the object's box covers 2-6 % of the canvas */
#define SN_CANVAS_SPARSE_SIDE 128
#define SN_CANVAS_SPARSE_OBJECT_MIN_SIDE 20
#define SN_CANVAS_SPARSE_OBJECT_MAX_SIDE 32
/* the largest canvas of any task (buffers) */
#define SN_CANVAS_MAX_SIDE SN_CANVAS_SPARSE_SIDE
#define SN_CANVAS_MAX_BYTES (SN_CANVAS_MAX_SIDE * SN_CANVAS_MAX_SIDE)
#define SN_CANVAS_FRAGMENT_SIDE 8
#define SN_CANVAS_CROP_MIN 6         /* crop corner: uniform in [6, 14], so the crop */
#define SN_CANVAS_CROP_MAX 14        /* lies in the item's central 16x16 (rows 6..21) */
#define SN_CANVAS_FRAGMENT_MIN_INK 1024 /* a crop with less total ink is redrawn... */
#define SN_CANVAS_FRAGMENT_TRIES 8      /* ...at most this many draws in all */

typedef enum sn_canvas_task {
    SN_CANVAS_TASK_CF64 = 1,  /* "cf64": Fashion-MNIST items, 64x64 */
    SN_CANVAS_TASK_CM64 = 2,  /* "cm64": MNIST items, 64x64 */
    SN_CANVAS_TASK_CF128S = 3 /* "cf128s": Fashion-MNIST items, 128x128, region-sparse */
} sn_canvas_task;

/* A task's canvas geometry: the constants of its recipe. */
typedef struct sn_canvas_geometry {
    int side;                       /* canvas side */
    int object_min, object_max;     /* object side: uniform in [min, max] */
    int clutter_min, clutter_max;   /* fragments: uniform in [min, max] */
} sn_canvas_geometry;

/* The object's bounding box in canvas pixels: the tightest box around the non-zero
 * pixels of the scaled object (its whole placement square if it has none). */
typedef struct sn_canvas_box {
    uint8_t x, y, width, height;
} sn_canvas_box;

/* How canvas i was made (for tests and tools). */
typedef struct sn_canvas_info {
    uint32_t item;           /* index of the object among the split's items */
    uint8_t label;           /* its label, 0..9 */
    uint8_t side, x, y;      /* the object's placement square */
    sn_canvas_box box;
    uint8_t clutter_count;
} sn_canvas_info;

typedef struct sn_canvas_generator {
    const sn_dataset_items *items; /* borrowed; must outlive the generator */
    uint64_t seed;
    uint64_t stream;      /* 16 * task + split */
    sn_canvas_geometry geo; /* the task's */
    uint32_t *permutation; /* of the items, for epoch perm_epoch */
    uint64_t perm_epoch;
    int perm_valid;
} sn_canvas_generator;

/* "cf64" / "cm64" / "cf128s"; 0 if unknown */
sn_canvas_task sn_canvas_task_parse(const char *name);
const char *sn_canvas_task_name(sn_canvas_task task);
/* The dataset folder a task reads under the data dir: "fashion-mnist" or "mnist". */
const char *sn_canvas_task_dataset(sn_canvas_task task);
/* The task's geometry; NULL for an unknown task. */
const sn_canvas_geometry *sn_canvas_task_geometry(sn_canvas_task task);
/* The standard test split of the task a deployment image names (sn_image_arch.task), as
 * `make datasets` writes it: "data/canvas/<task>-test". TASK 0 (an image that names no
 * task: every version 1 image, CF-64's among them) gives CF-64's, "data/canvas/cf64-test".
 * NULL for a task this build does not know. */
const char *sn_canvas_test_prefix(uint32_t task);

/* Prepares a generator over ITEMS (the items of SPLIT; at least 2). Returns 0, or -1
 * with errno EINVAL (bad task/split, fewer than 2 items) or ENOMEM. */
int sn_canvas_generator_init(sn_canvas_generator *gen, const sn_dataset_items *items,
                             sn_canvas_task task, sn_dataset_split split, uint64_t seed);
void sn_canvas_generator_free(sn_canvas_generator *gen);

/* Draws canvas INDEX into CANVAS (side*side bytes of the task's geometry, row-major:
 * 64*64 for cf64/cm64, 128*128 for cf128s) and describes it in INFO.
 * The same (task, split, seed, index, items) always give the same bytes. */
void sn_canvas_generate(sn_canvas_generator *gen, uint64_t index, uint8_t *canvas,
                        sn_canvas_info *info);

/* Resamples a 28x28 item to SIDE x SIDE (1..255) with integer bilinear interpolation,
 * pixel centres aligned; the exact formula is in datasets/README.md. */
void sn_canvas_resample(const uint8_t *item, int side, uint8_t *out);

#endif
