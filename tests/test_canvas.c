/* The cluttered-canvas generator, on synthetic items built here: determinism, canvas i
 * independent of the batch it is made in, item coverage, boxes, clutter outside the box,
 * and a pinned hash that catches drift across machines and compilers. */
#include "sn_test.h"
#include <inttypes.h>
#include <string.h>
#include "sn_canvas.h"
#include "sn_test_items.h"

#define N_ITEMS 37

static sn_dataset_items items;

static int setup(void **state)
{
    (void)state;
    items = sn_test_items(N_ITEMS, 20, 250);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_dataset_items_free(&items);
    return 0;
}

static void assert_info_equal(const sn_canvas_info *a, const sn_canvas_info *b)
{
    assert_int_equal(a->item, b->item);
    assert_int_equal(a->label, b->label);
    assert_int_equal(a->side, b->side);
    assert_int_equal(a->x, b->x);
    assert_int_equal(a->y, b->y);
    assert_int_equal(a->box.x, b->box.x);
    assert_int_equal(a->box.y, b->box.y);
    assert_int_equal(a->box.width, b->box.width);
    assert_int_equal(a->box.height, b->box.height);
    assert_int_equal(a->clutter_count, b->clutter_count);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        h ^= p[i];
        h *= UINT64_C(0x100000001B3);
    }
    return h;
}

static void test_resample_identity_and_constant(void **state)
{
    uint8_t item[SN_DATASET_ITEM_BYTES], out[SN_CANVAS_OBJECT_MAX_SIDE * SN_CANVAS_OBJECT_MAX_SIDE];
    int side, i;
    (void)state;
    sn_test_item(3, 1, 255, item);
    sn_canvas_resample(item, 28, out); /* side 28 samples the pixel centres exactly */
    assert_memory_equal(out, item, SN_DATASET_ITEM_BYTES);
    memset(item, 173, sizeof item); /* weights sum exactly: a constant stays constant */
    for (side = SN_CANVAS_OBJECT_MIN_SIDE; side <= SN_CANVAS_OBJECT_MAX_SIDE; ++side) {
        sn_canvas_resample(item, side, out);
        for (i = 0; i < side * side; ++i)
            assert_int_equal(out[i], 173);
    }
}

static void test_same_seed_same_bytes(void **state)
{
    sn_canvas_generator a, b, c;
    uint8_t ca[SN_CANVAS_BYTES], cb[SN_CANVAS_BYTES], cc[SN_CANVAS_BYTES];
    sn_canvas_info ia, ib, ic;
    int differ = 0;
    uint64_t i;
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&a, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 42), 0);
    assert_int_equal(
        sn_canvas_generator_init(&b, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 42), 0);
    assert_int_equal(
        sn_canvas_generator_init(&c, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 43), 0);
    for (i = 0; i < 50; ++i) {
        sn_canvas_generate(&a, i, ca, &ia);
        sn_canvas_generate(&b, i, cb, &ib);
        sn_canvas_generate(&c, i, cc, &ic);
        assert_memory_equal(ca, cb, SN_CANVAS_BYTES);
        assert_info_equal(&ia, &ib);
        differ += memcmp(ca, cc, SN_CANVAS_BYTES) != 0;
    }
    assert_int_equal(differ, 50); /* another seed: every canvas differs */
    sn_canvas_generator_free(&a);
    sn_canvas_generator_free(&b);
    sn_canvas_generator_free(&c);
}

static void test_task_and_split_change_the_stream(void **state)
{
    sn_canvas_generator a, b, c;
    uint8_t ca[SN_CANVAS_BYTES], cb[SN_CANVAS_BYTES], cc[SN_CANVAS_BYTES];
    sn_canvas_info info;
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&a, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 5), 0);
    assert_int_equal(
        sn_canvas_generator_init(&b, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TEST, 5), 0);
    assert_int_equal(
        sn_canvas_generator_init(&c, &items, SN_CANVAS_TASK_CM64, SN_DATASET_SPLIT_TRAIN, 5), 0);
    sn_canvas_generate(&a, 0, ca, &info);
    sn_canvas_generate(&b, 0, cb, &info);
    sn_canvas_generate(&c, 0, cc, &info);
    assert_memory_not_equal(ca, cb, SN_CANVAS_BYTES);
    assert_memory_not_equal(ca, cc, SN_CANVAS_BYTES);
    sn_canvas_generator_free(&a);
    sn_canvas_generator_free(&b);
    sn_canvas_generator_free(&c);
}

static void test_canvas_alone_equals_canvas_in_batch(void **state)
{
    enum { COUNT = 3 * N_ITEMS + 4 }; /* crosses two epoch boundaries */
    static uint8_t batch[COUNT][SN_CANVAS_BYTES];
    sn_canvas_info batch_info[COUNT], info;
    sn_canvas_generator gen;
    uint8_t canvas[SN_CANVAS_BYTES];
    int i;
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CM64, SN_DATASET_SPLIT_TEST, 9), 0);
    for (i = 0; i < COUNT; ++i)
        sn_canvas_generate(&gen, (uint64_t)i, batch[i], &batch_info[i]);
    sn_canvas_generator_free(&gen);
    /* each canvas alone, from a fresh generator, in reverse and scattered orders */
    for (i = COUNT - 1; i >= 0; i -= 3) {
        assert_int_equal(
            sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CM64, SN_DATASET_SPLIT_TEST, 9),
            0);
        sn_canvas_generate(&gen, (uint64_t)i, canvas, &info);
        assert_memory_equal(canvas, batch[i], SN_CANVAS_BYTES);
        assert_info_equal(&info, &batch_info[i]);
        sn_canvas_generator_free(&gen);
    }
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CM64, SN_DATASET_SPLIT_TEST, 9), 0);
    for (i = 0; i < COUNT; i += 5) {
        int j = COUNT - 1 - i;
        sn_canvas_generate(&gen, (uint64_t)j, canvas, &info);
        assert_memory_equal(canvas, batch[j], SN_CANVAS_BYTES);
        sn_canvas_generate(&gen, (uint64_t)i, canvas, &info);
        assert_memory_equal(canvas, batch[i], SN_CANVAS_BYTES);
    }
    sn_canvas_generator_free(&gen);
}

static void test_each_epoch_uses_every_item_once(void **state)
{
    sn_canvas_generator gen;
    uint8_t canvas[SN_CANVAS_BYTES];
    sn_canvas_info info;
    int used[2][N_ITEMS] = {{0}}, same_order = 1, i;
    uint32_t first_epoch[N_ITEMS];
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 1), 0);
    for (i = 0; i < 2 * N_ITEMS; ++i) {
        sn_canvas_generate(&gen, (uint64_t)i, canvas, &info);
        assert_true(info.item < N_ITEMS);
        assert_int_equal(info.label, items.labels[info.item]);
        ++used[i / N_ITEMS][info.item];
        if (i < N_ITEMS)
            first_epoch[i] = info.item;
        else if (first_epoch[i - N_ITEMS] != info.item)
            same_order = 0;
    }
    for (i = 0; i < N_ITEMS; ++i) {
        assert_int_equal(used[0][i], 1);
        assert_int_equal(used[1][i], 1);
    }
    assert_false(same_order); /* each epoch has its own permutation */
    sn_canvas_generator_free(&gen);
}

/* The box lies in the canvas and is the tight box of the object's non-zero pixels; inside
 * it the canvas is the object alone (clutter never overlaps it); outside the object's
 * placement square every non-zero pixel comes from clutter. */
static void check_canvas(const uint8_t *canvas, const sn_canvas_info *info)
{
    uint8_t object[SN_CANVAS_OBJECT_MAX_SIDE * SN_CANVAS_OBJECT_MAX_SIDE];
    const sn_canvas_box *b = &info->box;
    int r, c, top = 0, bottom = 0, left = 0, right = 0;
    assert_in_range(info->side, SN_CANVAS_OBJECT_MIN_SIDE, SN_CANVAS_OBJECT_MAX_SIDE);
    assert_in_range(info->clutter_count, SN_CANVAS_CLUTTER_MIN, SN_CANVAS_CLUTTER_MAX);
    assert_true(info->x + info->side <= SN_CANVAS_SIDE && info->y + info->side <= SN_CANVAS_SIDE);
    assert_true(b->width >= 1 && b->height >= 1);
    assert_true(b->x + b->width <= SN_CANVAS_SIDE && b->y + b->height <= SN_CANVAS_SIDE);
    assert_true(b->x >= info->x && b->x + b->width <= info->x + info->side);
    assert_true(b->y >= info->y && b->y + b->height <= info->y + info->side);
    sn_canvas_resample(items.images + (size_t)info->item * SN_DATASET_ITEM_BYTES, info->side,
                       object);
    for (r = 0; r < info->side; ++r) {
        for (c = 0; c < info->side; ++c) {
            int x = info->x + c, y = info->y + r;
            int inside = x >= b->x && x < b->x + b->width && y >= b->y && y < b->y + b->height;
            uint8_t v = object[r * info->side + c];
            if (v) {
                assert_true(inside); /* the box covers every non-zero object pixel */
                top |= y == b->y;
                bottom |= y == b->y + b->height - 1;
                left |= x == b->x;
                right |= x == b->x + b->width - 1;
            }
            if (inside)
                assert_int_equal(canvas[y * SN_CANVAS_SIDE + x], v);
            else
                assert_true(canvas[y * SN_CANVAS_SIDE + x] >= v);
        }
    }
    assert_true(top && bottom && left && right); /* and is tight */
}

static void test_boxes_cover_the_object_and_clutter_stays_out(void **state)
{
    sn_canvas_generator gen;
    uint8_t canvas[SN_CANVAS_BYTES];
    sn_canvas_info info;
    uint64_t i;
    int clutter_pixels = 0, p;
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 77), 0);
    for (i = 0; i < 400; ++i) {
        sn_canvas_generate(&gen, i, canvas, &info);
        check_canvas(canvas, &info);
        for (p = 0; p < SN_CANVAS_BYTES; ++p) {
            int x = p % SN_CANVAS_SIDE, y = p / SN_CANVAS_SIDE;
            if (canvas[p] &&
                (x < info.x || x >= info.x + info.side || y < info.y || y >= info.y + info.side))
                ++clutter_pixels;
        }
    }
    assert_true(clutter_pixels > 400 * 64); /* clutter is really there */
    sn_canvas_generator_free(&gen);
}

static void test_empty_items_get_the_placement_square(void **state)
{
    sn_dataset_items blank = sn_test_items(4, 1, 1);
    sn_canvas_generator gen;
    uint8_t canvas[SN_CANVAS_BYTES];
    sn_canvas_info info;
    (void)state;
    memset(blank.images, 0, 4 * SN_DATASET_ITEM_BYTES);
    assert_int_equal(
        sn_canvas_generator_init(&gen, &blank, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 3), 0);
    sn_canvas_generate(&gen, 2, canvas, &info);
    assert_int_equal(info.box.x, info.x);
    assert_int_equal(info.box.y, info.y);
    assert_int_equal(info.box.width, info.side);
    assert_int_equal(info.box.height, info.side);
    sn_canvas_generator_free(&gen);
    sn_dataset_items_free(&blank);
}

static void test_rejects_bad_arguments(void **state)
{
    sn_dataset_items one = sn_test_items(1, 1, 9);
    sn_canvas_generator gen;
    (void)state;
    assert_int_equal(
        sn_canvas_generator_init(&gen, &one, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 1), -1);
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, (sn_canvas_task)7, SN_DATASET_SPLIT_TRAIN, 1), -1);
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF64, (sn_dataset_split)0, 1), -1);
    sn_dataset_items_free(&one);
    assert_int_equal(sn_canvas_task_parse("cf64"), SN_CANVAS_TASK_CF64);
    assert_int_equal(sn_canvas_task_parse("cm64"), SN_CANVAS_TASK_CM64);
    assert_int_equal(sn_canvas_task_parse("CF64"), 0);
}

/* Pinned: FNV-1a 64 over canvases 0..15 (images, labels, boxes) of each task and split.
 * A change here means every machine's canvases changed: update datasets/SHA256SUMS and
 * datasets/README.md with it, on purpose, or fix the drift. */
static void test_pinned_hash(void **state)
{
    static const uint64_t expected[4] = {
        UINT64_C(0xAB6E4271BEA5D947), UINT64_C(0x543E796CE9986C00), /* cf64 train, test */
        UINT64_C(0x61BD846DA133B074), UINT64_C(0x592C8BC42EEA5882), /* cm64 train, test */
    };
    const sn_canvas_task tasks[2] = {SN_CANVAS_TASK_CF64, SN_CANVAS_TASK_CM64};
    const sn_dataset_split splits[2] = {SN_DATASET_SPLIT_TRAIN, SN_DATASET_SPLIT_TEST};
    int t, s, mismatches = 0;
    (void)state;
    for (t = 0; t < 2; ++t) {
        for (s = 0; s < 2; ++s) {
            sn_canvas_generator gen;
            uint8_t canvas[SN_CANVAS_BYTES];
            sn_canvas_info info;
            uint64_t h = UINT64_C(0xCBF29CE484222325), i;
            assert_int_equal(sn_canvas_generator_init(&gen, &items, tasks[t], splits[s], 2024), 0);
            for (i = 0; i < 16; ++i) {
                uint8_t box[4];
                sn_canvas_generate(&gen, i, canvas, &info);
                box[0] = info.box.x;
                box[1] = info.box.y;
                box[2] = info.box.width;
                box[3] = info.box.height;
                h = fnv1a(h, canvas, sizeof canvas);
                h = fnv1a(h, &info.label, 1);
                h = fnv1a(h, box, 4);
            }
            sn_canvas_generator_free(&gen);
            if (h != expected[2 * t + s]) {
                printf("# %s %s: FNV-1a 0x%016" PRIX64 ", pinned 0x%016" PRIX64 "\n",
                       sn_canvas_task_name(tasks[t]), sn_dataset_split_name(splits[s]), h,
                       expected[2 * t + s]);
                ++mismatches;
            }
        }
    }
    assert_int_equal(mismatches, 0);
}

/* CF-128S, the region-sparse task: 128x128 canvases, object side 20..32, the same clutter
 * rules; its own stream (task 3), so its canvases differ from CF-64's. */
static void test_sparse_task(void **state)
{
    enum { SIDE = SN_CANVAS_SPARSE_SIDE, BYTES = SIDE * SIDE };
    static uint8_t canvas[BYTES], again[BYTES];
    uint8_t object[SN_CANVAS_SPARSE_OBJECT_MAX_SIDE * SN_CANVAS_SPARSE_OBJECT_MAX_SIDE];
    const sn_canvas_geometry *geo = sn_canvas_task_geometry(SN_CANVAS_TASK_CF128S);
    sn_canvas_generator gen, gen2;
    sn_canvas_info info, info2;
    long background = 0, clutter_pixels = 0;
    int sides[SN_CANVAS_SPARSE_OBJECT_MAX_SIDE + 1] = {0};
    uint64_t i;
    int r, c, p;
    (void)state;
    assert_int_equal(sn_canvas_task_parse("cf128s"), SN_CANVAS_TASK_CF128S);
    assert_string_equal(sn_canvas_task_name(SN_CANVAS_TASK_CF128S), "cf128s");
    assert_string_equal(sn_canvas_task_dataset(SN_CANVAS_TASK_CF128S), "fashion-mnist");
    assert_non_null(geo);
    assert_int_equal(geo->side, 128);
    assert_int_equal(geo->object_min, 20);
    assert_int_equal(geo->object_max, 32);
    assert_null(sn_canvas_task_geometry((sn_canvas_task)9));
    assert_int_equal(sn_canvas_task_geometry(SN_CANVAS_TASK_CF64)->side, SN_CANVAS_SIDE);
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF128S, SN_DATASET_SPLIT_TRAIN, 77), 0);
    assert_int_equal(
        sn_canvas_generator_init(&gen2, &items, SN_CANVAS_TASK_CF128S, SN_DATASET_SPLIT_TRAIN, 77), 0);
    for (i = 0; i < 300; ++i) {
        const sn_canvas_box *b = &info.box;
        int top = 0, bottom = 0, left = 0, right = 0;
        sn_canvas_generate(&gen, i, canvas, &info);
        sn_canvas_generate(&gen2, 299 - i, again, &info2); /* another order, same bytes */
        sn_canvas_generate(&gen2, i, again, &info2);
        assert_memory_equal(canvas, again, BYTES);
        assert_info_equal(&info, &info2);
        assert_in_range(info.side, 20, 32);
        ++sides[info.side];
        assert_in_range(info.clutter_count, SN_CANVAS_CLUTTER_MIN, SN_CANVAS_CLUTTER_MAX);
        assert_true(info.x + info.side <= SIDE && info.y + info.side <= SIDE);
        assert_true(b->x >= info.x && b->x + b->width <= info.x + info.side);
        assert_true(b->y >= info.y && b->y + b->height <= info.y + info.side);
        sn_canvas_resample(items.images + (size_t)info.item * SN_DATASET_ITEM_BYTES, info.side,
                           object);
        for (r = 0; r < info.side; ++r) {
            for (c = 0; c < info.side; ++c) {
                int x = info.x + c, y = info.y + r;
                int inside = x >= b->x && x < b->x + b->width && y >= b->y && y < b->y + b->height;
                uint8_t v = object[r * info.side + c];
                if (v) {
                    assert_true(inside);
                    top |= y == b->y;
                    bottom |= y == b->y + b->height - 1;
                    left |= x == b->x;
                    right |= x == b->x + b->width - 1;
                }
                if (inside)
                    assert_int_equal(canvas[y * SIDE + x], v); /* clutter stays out of the box */
                else
                    assert_true(canvas[y * SIDE + x] >= v);
            }
        }
        assert_true(top && bottom && left && right);
        for (p = 0; p < BYTES; ++p) {
            int x = p % SIDE, y = p / SIDE;
            int in_square = x >= info.x && x < info.x + info.side && y >= info.y &&
                            y < info.y + info.side;
            background += canvas[p] == 0;
            clutter_pixels += canvas[p] && !in_square;
        }
    }
    /* region-sparse: most of the canvas is background, and clutter is really there */
    assert_true(background > 300L * BYTES * 9 / 10);
    assert_true(clutter_pixels > 300L * 64);
    assert_true(sides[20] > 0 && sides[32] > 0);
    sn_canvas_generator_free(&gen);
    sn_canvas_generator_free(&gen2);
    /* its own stream: canvas 0 is not CF-64's canvas 0 of the same seed */
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF64, SN_DATASET_SPLIT_TRAIN, 77), 0);
    sn_canvas_generate(&gen, 0, again, &info2);
    sn_canvas_generator_free(&gen);
    assert_int_equal(
        sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF128S, SN_DATASET_SPLIT_TRAIN, 77), 0);
    sn_canvas_generate(&gen, 0, canvas, &info);
    sn_canvas_generator_free(&gen);
    assert_true(info.item != info2.item || info.x != info2.x || info.y != info2.y ||
                info.side != info2.side);
}

/* Pinned like test_pinned_hash, for CF-128S (canvases 0..15, seed 2024). */
static void test_pinned_hash_sparse(void **state)
{
    static const uint64_t expected[2] = {UINT64_C(0x983C90DBF1337804),
                                         UINT64_C(0xEE7C1E66C6DF30F3)}; /* train, test */
    const sn_dataset_split splits[2] = {SN_DATASET_SPLIT_TRAIN, SN_DATASET_SPLIT_TEST};
    static uint8_t canvas[SN_CANVAS_SPARSE_SIDE * SN_CANVAS_SPARSE_SIDE];
    int s, mismatches = 0;
    (void)state;
    for (s = 0; s < 2; ++s) {
        sn_canvas_generator gen;
        sn_canvas_info info;
        uint64_t h = UINT64_C(0xCBF29CE484222325), i;
        assert_int_equal(
            sn_canvas_generator_init(&gen, &items, SN_CANVAS_TASK_CF128S, splits[s], 2024), 0);
        for (i = 0; i < 16; ++i) {
            uint8_t box[4];
            sn_canvas_generate(&gen, i, canvas, &info);
            box[0] = info.box.x;
            box[1] = info.box.y;
            box[2] = info.box.width;
            box[3] = info.box.height;
            h = fnv1a(h, canvas, sizeof canvas);
            h = fnv1a(h, &info.label, 1);
            h = fnv1a(h, box, 4);
        }
        sn_canvas_generator_free(&gen);
        if (h != expected[s]) {
            printf("# cf128s %s: FNV-1a 0x%016" PRIX64 ", pinned 0x%016" PRIX64 "\n",
                   sn_dataset_split_name(splits[s]), h, expected[s]);
            ++mismatches;
        }
    }
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resample_identity_and_constant),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_task_and_split_change_the_stream),
        cmocka_unit_test(test_canvas_alone_equals_canvas_in_batch),
        cmocka_unit_test(test_each_epoch_uses_every_item_once),
        cmocka_unit_test(test_boxes_cover_the_object_and_clutter_stays_out),
        cmocka_unit_test(test_empty_items_get_the_placement_square),
        cmocka_unit_test(test_rejects_bad_arguments),
        cmocka_unit_test(test_pinned_hash),
        cmocka_unit_test(test_sparse_task),
        cmocka_unit_test(test_pinned_hash_sparse),
    };
    int failed;
    setup(NULL);
    failed = sn_test_run("canvas", tests);
    teardown(NULL);
    return failed;
}
