#include "sn_canvas.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sn_rng.h"

#define ITEM SN_DATASET_ITEM_SIDE
#define FRAG SN_CANVAS_FRAGMENT_SIDE
#define PERMUTATION_STREAM 256 /* added to the stream for the item permutations */

static const sn_canvas_geometry geometry_64 = {
    SN_CANVAS_SIDE, SN_CANVAS_OBJECT_MIN_SIDE, SN_CANVAS_OBJECT_MAX_SIDE,
    SN_CANVAS_CLUTTER_MIN, SN_CANVAS_CLUTTER_MAX};
static const sn_canvas_geometry geometry_sparse = {
    SN_CANVAS_SPARSE_SIDE, SN_CANVAS_SPARSE_OBJECT_MIN_SIDE, SN_CANVAS_SPARSE_OBJECT_MAX_SIDE,
    SN_CANVAS_CLUTTER_MIN, SN_CANVAS_CLUTTER_MAX};

sn_canvas_task sn_canvas_task_parse(const char *name)
{
    if (!strcmp(name, "cf64"))
        return SN_CANVAS_TASK_CF64;
    if (!strcmp(name, "cm64"))
        return SN_CANVAS_TASK_CM64;
    if (!strcmp(name, "cf128s"))
        return SN_CANVAS_TASK_CF128S;
    return (sn_canvas_task)0;
}

const char *sn_canvas_task_name(sn_canvas_task task)
{
    return task == SN_CANVAS_TASK_CF64     ? "cf64"
           : task == SN_CANVAS_TASK_CM64   ? "cm64"
           : task == SN_CANVAS_TASK_CF128S ? "cf128s"
                                           : "?";
}

const char *sn_canvas_task_dataset(sn_canvas_task task)
{
    return task == SN_CANVAS_TASK_CF64 || task == SN_CANVAS_TASK_CF128S ? "fashion-mnist"
           : task == SN_CANVAS_TASK_CM64                                ? "mnist"
                                                                        : "?";
}

const sn_canvas_geometry *sn_canvas_task_geometry(sn_canvas_task task)
{
    return task == SN_CANVAS_TASK_CF64 || task == SN_CANVAS_TASK_CM64 ? &geometry_64
           : task == SN_CANVAS_TASK_CF128S                          ? &geometry_sparse
                                                                    : NULL;
}

const char *sn_canvas_test_prefix(uint32_t task)
{
    return task == 0 || task == SN_CANVAS_TASK_CF64 ? "data/canvas/cf64-test"
           : task == SN_CANVAS_TASK_CM64           ? "data/canvas/cm64-test"
           : task == SN_CANVAS_TASK_CF128S         ? "data/canvas/cf128s-test"
                                                   : NULL;
}

int sn_canvas_generator_init(sn_canvas_generator *gen, const sn_dataset_items *items,
                             sn_canvas_task task, sn_dataset_split split, uint64_t seed)
{
    memset(gen, 0, sizeof *gen);
    if (!sn_canvas_task_geometry(task) ||
        (split != SN_DATASET_SPLIT_TRAIN && split != SN_DATASET_SPLIT_TEST) ||
        items->count < 2) {
        errno = EINVAL;
        return -1;
    }
    gen->permutation = malloc((size_t)items->count * sizeof *gen->permutation);
    if (!gen->permutation) {
        errno = ENOMEM;
        return -1;
    }
    gen->items = items;
    gen->seed = seed;
    gen->stream = 16 * (uint64_t)task + (uint64_t)split;
    gen->geo = *sn_canvas_task_geometry(task);
    return 0;
}

void sn_canvas_generator_free(sn_canvas_generator *gen)
{
    free(gen->permutation);
    memset(gen, 0, sizeof *gen);
}

/* Epoch e's order of the items: Fisher-Yates from the last position down. */
static void build_permutation(sn_canvas_generator *gen, uint64_t epoch)
{
    sn_rng rng = sn_rng_derive(gen->seed, gen->stream + PERMUTATION_STREAM, epoch);
    uint32_t n = gen->items->count, k;
    for (k = 0; k < n; ++k)
        gen->permutation[k] = k;
    for (k = n - 1; k >= 1; --k) {
        uint32_t j = (uint32_t)sn_rng_below(&rng, (uint64_t)k + 1);
        uint32_t t = gen->permutation[k];
        gen->permutation[k] = gen->permutation[j];
        gen->permutation[j] = t;
    }
    gen->perm_epoch = epoch;
    gen->perm_valid = 1;
}

void sn_canvas_resample(const uint8_t *item, int side, uint8_t *out)
{
    /* Output pixel o samples source coordinate (o + 1/2) * 28 / side - 1/2, i.e.
     * t / (2 side) with t = (2o + 1) * 28 - side: integer part i0, remainder f. */
    int i0[255], f[255], o, r, c;
    const uint32_t d = 2 * (uint32_t)side;
    assert(side >= 1 && side <= 255);
    for (o = 0; o < side; ++o) {
        int t = (2 * o + 1) * ITEM - side;
        if (t <= 0) {
            i0[o] = 0;
            f[o] = 0;
        } else {
            i0[o] = t / (int)d;
            f[o] = t % (int)d;
            if (i0[o] >= ITEM - 1) {
                i0[o] = ITEM - 1;
                f[o] = 0;
            }
        }
    }
    for (r = 0; r < side; ++r) {
        const uint8_t *row0 = item + i0[r] * ITEM;
        const uint8_t *row1 = f[r] ? row0 + ITEM : row0;
        uint32_t fy = (uint32_t)f[r];
        for (c = 0; c < side; ++c) {
            int x0 = i0[c], x1 = f[c] ? x0 + 1 : x0;
            uint32_t fx = (uint32_t)f[c];
            uint32_t top = (d - fx) * row0[x0] + fx * row0[x1];
            uint32_t bottom = (d - fx) * row1[x0] + fx * row1[x1];
            out[r * side + c] = (uint8_t)(((d - fy) * top + fy * bottom + d * d / 2) / (d * d));
        }
    }
}

/* The r-th (row-major) top-left corner of a fragment that does not overlap the box. */
static void fragment_position(sn_rng *rng, int side, const sn_canvas_box *box, int *px, int *py)
{
    const int span = side - FRAG + 1; /* corners 0..56 on each axis (0..120 for cf128s) */
    /* corners whose fragment overlaps the box: [x - 7, x + width - 1], clipped */
    int bad_x0 = box->x - (FRAG - 1), bad_x1 = box->x + box->width - 1;
    int bad_y0 = box->y - (FRAG - 1), bad_y1 = box->y + box->height - 1;
    int bad_w, bad_h, row;
    uint64_t r;
    if (bad_x0 < 0) bad_x0 = 0;
    if (bad_y0 < 0) bad_y0 = 0;
    if (bad_x1 > span - 1) bad_x1 = span - 1;
    if (bad_y1 > span - 1) bad_y1 = span - 1;
    bad_w = bad_x1 - bad_x0 + 1;
    bad_h = bad_y1 - bad_y0 + 1;
    /* the box is at most 40 wide, so bad_w <= 47 < 57: some corner is always free (cf128s:
     * at most 32 wide, bad_w <= 39 < 121) */
    r = sn_rng_below(rng, (uint64_t)(span * span - bad_w * bad_h));
    for (row = 0;; ++row) {
        int blocked = row >= bad_y0 && row <= bad_y1;
        uint64_t free_in_row = (uint64_t)(blocked ? span - bad_w : span);
        if (r < free_in_row) {
            *py = row;
            *px = (int)r;
            if (blocked && *px >= bad_x0)
                *px += bad_w;
            return;
        }
        r -= free_in_row;
    }
}

void sn_canvas_generate(sn_canvas_generator *gen, uint64_t index, uint8_t *canvas,
                        sn_canvas_info *info)
{
    const sn_dataset_items *items = gen->items;
    const uint32_t n = items->count;
    const uint64_t epoch = index / n;
    const sn_canvas_geometry *geo = &gen->geo;
    const int canvas_side = geo->side;
    sn_rng rng = sn_rng_derive(gen->seed, gen->stream, index);
    uint8_t object[SN_CANVAS_OBJECT_MAX_SIDE * SN_CANVAS_OBJECT_MAX_SIDE];
    int side, x, y, r, c, k, clutter;
    int min_r = SN_CANVAS_OBJECT_MAX_SIDE, max_r = -1;
    int min_c = SN_CANVAS_OBJECT_MAX_SIDE, max_c = -1;
    uint32_t item;

    if (!gen->perm_valid || gen->perm_epoch != epoch)
        build_permutation(gen, epoch);
    item = gen->permutation[index % n];
    memset(canvas, 0, (size_t)canvas_side * (size_t)canvas_side);
    memset(info, 0, sizeof *info);

    /* 1. the object: side, position, bilinear resample, tight box */
    side = geo->object_min + (int)sn_rng_below(&rng, (uint64_t)(geo->object_max - geo->object_min + 1));
    x = (int)sn_rng_below(&rng, (uint64_t)(canvas_side - side + 1));
    y = (int)sn_rng_below(&rng, (uint64_t)(canvas_side - side + 1));
    sn_canvas_resample(items->images + (size_t)item * SN_DATASET_ITEM_BYTES, side, object);
    for (r = 0; r < side; ++r) {
        for (c = 0; c < side; ++c) {
            uint8_t v = object[r * side + c];
            canvas[(y + r) * canvas_side + x + c] = v;
            if (v) {
                if (r < min_r) min_r = r;
                if (r > max_r) max_r = r;
                if (c < min_c) min_c = c;
                if (c > max_c) max_c = c;
            }
        }
    }
    info->item = item;
    info->label = items->labels[item];
    info->side = (uint8_t)side;
    info->x = (uint8_t)x;
    info->y = (uint8_t)y;
    if (max_r < 0) { /* an empty item: the box is the placement square */
        min_r = min_c = 0;
        max_r = max_c = side - 1;
    }
    info->box.x = (uint8_t)(x + min_c);
    info->box.y = (uint8_t)(y + min_r);
    info->box.width = (uint8_t)(max_c - min_c + 1);
    info->box.height = (uint8_t)(max_r - min_r + 1);

    /* 2. clutter: 8x8 crops of other items' central region, outside the box, by max */
    clutter = geo->clutter_min +
              (int)sn_rng_below(&rng, (uint64_t)(geo->clutter_max - geo->clutter_min + 1));
    info->clutter_count = (uint8_t)clutter;
    for (k = 0; k < clutter; ++k) {
        const uint8_t *crop = NULL;
        int try, px, py;
        for (try = 0; try < SN_CANVAS_FRAGMENT_TRIES; ++try) {
            uint32_t other = (uint32_t)sn_rng_below(&rng, (uint64_t)n - 1);
            int cx, cy;
            uint32_t ink = 0;
            if (other >= item)
                ++other; /* any item but the object's */
            cx = SN_CANVAS_CROP_MIN +
                 (int)sn_rng_below(&rng, SN_CANVAS_CROP_MAX - SN_CANVAS_CROP_MIN + 1);
            cy = SN_CANVAS_CROP_MIN +
                 (int)sn_rng_below(&rng, SN_CANVAS_CROP_MAX - SN_CANVAS_CROP_MIN + 1);
            crop = items->images + (size_t)other * SN_DATASET_ITEM_BYTES + cy * ITEM + cx;
            for (r = 0; r < FRAG; ++r)
                for (c = 0; c < FRAG; ++c)
                    ink += crop[r * ITEM + c];
            if (ink >= SN_CANVAS_FRAGMENT_MIN_INK)
                break;
        }
        fragment_position(&rng, canvas_side, &info->box, &px, &py);
        for (r = 0; r < FRAG; ++r) {
            uint8_t *dst = canvas + (py + r) * canvas_side + px;
            for (c = 0; c < FRAG; ++c)
                if (crop[r * ITEM + c] > dst[c])
                    dst[c] = crop[r * ITEM + c];
        }
    }
}
