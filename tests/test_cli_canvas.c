/* `supernav canvas` end to end: bad input gives one error line and a non-zero exit with
 * nothing written; good input writes the three IDX files, equal to what the library
 * generates, from the requested split's items only. Runs the binary named by $SUPERNAV
 * (the Makefile sets it). */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sn_canvas.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_test_items.h"

static char dir[] = "/tmp/sn_test_cli_canvas_XXXXXX";
static const char *supernav;
static sn_dataset_items train_items, test_items; /* train pixels 101..200, test 1..100 */

/* Runs "supernav canvas ARGS"; returns the exit status, stderr in ERR. */
static int run_canvas(const char *args, char *err, size_t n)
{
    char cmd[2048], err_path[512];
    void *text;
    size_t size;
    int status;
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s canvas %s >/dev/null 2>%s", supernav, args, err_path);
    status = system(cmd);
    assert_true(status != -1 && WIFEXITED(status));
    assert_int_equal(sn_read_file(err_path, &text, &size), 0);
    snprintf(err, n, "%s", (char *)text);
    free(text);
    return WEXITSTATUS(status);
}

static int count_outputs(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "exit $(ls '%s/out' | wc -l)", dir);
    return WEXITSTATUS(system(cmd));
}

static void expect_error(const char *args, const char *fragment)
{
    char err[2048];
    int status, lines = 0;
    const char *p;
    status = run_canvas(args, err, sizeof err);
    if (status == 0)
        fail_msg("'supernav canvas %s' succeeded", args);
    for (p = err; *p; ++p)
        lines += *p == '\n';
    if (lines != 1 || strncmp(err, "supernav canvas: error: ", 24) != 0 || !strstr(err, fragment))
        fail_msg("'supernav canvas %s': expected one error line mentioning '%s', got: %s", args,
                 fragment, err);
    assert_int_equal(count_outputs(), 0); /* nothing written, no temporary left */
}

static void test_bad_input_is_refused(void **state)
{
    char args[1024];
    (void)state;
#define ARGS(opts)                                                                                 \
    (snprintf(args, sizeof args, "%s -o %s/out/x --data %s/data", opts, dir, dir), args)
    expect_error(ARGS("--task cf65 --split train --seed 1 --count 5"), "unknown task 'cf65'");
    expect_error(ARGS("--split train --seed 1 --count 5"), "missing --task");
    expect_error(ARGS("--task cf64 --split train --seed 1"), "missing --count");
    expect_error(ARGS("--task cf64 --split dev --seed 1 --count 5"), "unknown split 'dev'");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count 0"), "--count must be");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count 1000001"), "--count must be");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count 99999999999999999999999"),
                 "--count must be");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count -5"), "--count must be");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count 5x"), "--count must be");
    expect_error(ARGS("--task cf64 --split train --seed one --count 5"), "--seed must be");
    expect_error(ARGS("--task cf64 --split train --seed 1 --count 5 --bogus"),
                 "unknown option '--bogus'");
    snprintf(args, sizeof args, "-o %s/out/x --task cf64 --split train --seed 1 --count", dir);
    expect_error(args, "needs a value");
    /* a missing data directory, and one without this task's dataset */
    snprintf(args, sizeof args,
             "--task cf64 --split train --seed 1 --count 5 -o %s/out/x --data %s/nonexistent", dir,
             dir);
    expect_error(args, "data directory");
    expect_error(ARGS("--task cm64 --split train --seed 1 --count 5"),
                 "mnist/train-images-idx3-ubyte: No such file");
    /* an output folder that does not exist */
    snprintf(args, sizeof args,
             "--task cf64 --split train --seed 1 --count 5 -o %s/out/nodir/x --data %s/data", dir,
             dir);
    expect_error(args, "cannot write");
#undef ARGS
}

static void check_outputs(const char *prefix, const sn_dataset_items *items, sn_dataset_split split,
                          uint64_t seed, uint32_t count, int lo, int hi)
{
    sn_canvas_generator gen;
    sn_idx images, labels, boxes;
    char path[600];
    uint32_t i;
    int p;
    snprintf(path, sizeof path, "%s-images-idx3-ubyte", prefix);
    assert_int_equal(sn_idx_read(path, &images), SN_IDX_OK);
    assert_int_equal(sn_idx_expect(&images, 3, (const uint32_t[3]){count, 64, 64}), SN_IDX_OK);
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", prefix);
    assert_int_equal(sn_idx_read(path, &labels), SN_IDX_OK);
    assert_int_equal(sn_idx_expect(&labels, 1, (const uint32_t[1]){count}), SN_IDX_OK);
    snprintf(path, sizeof path, "%s-boxes-idx2-ubyte", prefix);
    assert_int_equal(sn_idx_read(path, &boxes), SN_IDX_OK);
    assert_int_equal(sn_idx_expect(&boxes, 2, (const uint32_t[2]){count, 4}), SN_IDX_OK);
    assert_int_equal(sn_canvas_generator_init(&gen, items, SN_CANVAS_TASK_CF64, split, seed), 0);
    for (i = 0; i < count; ++i) {
        uint8_t canvas[SN_CANVAS_BYTES];
        const uint8_t *image = images.data + (size_t)i * SN_CANVAS_BYTES, *box = boxes.data + 4 * i;
        sn_canvas_info info;
        sn_canvas_generate(&gen, i, canvas, &info);
        assert_memory_equal(image, canvas, SN_CANVAS_BYTES);
        assert_int_equal(labels.data[i], info.label);
        assert_int_equal(box[0], info.box.x);
        assert_int_equal(box[1], info.box.y);
        assert_int_equal(box[2], info.box.width);
        assert_int_equal(box[3], info.box.height);
        /* outside the box every pixel is clutter, copied from an item: only the split's
         * own pixel range; inside, the object is interpolated from the same range */
        for (p = 0; p < SN_CANVAS_BYTES; ++p) {
            int x = p % 64, y = p / 64;
            int inside = x >= box[0] && x < box[0] + box[2] && y >= box[1] && y < box[1] + box[3];
            assert_true(image[p] <= hi);
            if (!inside && image[p])
                assert_true(image[p] >= lo);
        }
    }
    sn_canvas_generator_free(&gen);
    sn_idx_free(&images);
    sn_idx_free(&labels);
    sn_idx_free(&boxes);
}

static void test_writes_the_library_canvases_from_the_split(void **state)
{
    char args[1024], err[2048], prefix[600];
    (void)state;
    snprintf(args, sizeof args,
             "--task cf64 --split test --seed 77 --count 30 -o %s/out/t --data %s/data", dir, dir);
    assert_int_equal(run_canvas(args, err, sizeof err), 0);
    assert_string_equal(err, "");
    snprintf(prefix, sizeof prefix, "%s/out/t", dir);
    check_outputs(prefix, &test_items, SN_DATASET_SPLIT_TEST, 77, 30, 1, 100);
    snprintf(args, sizeof args,
             "--task cf64 --split train --seed 18446744073709551615 --count 45 -o %s/out/r --data "
             "%s/data",
             dir, dir);
    assert_int_equal(run_canvas(args, err, sizeof err), 0);
    snprintf(prefix, sizeof prefix, "%s/out/r", dir);
    check_outputs(prefix, &train_items, SN_DATASET_SPLIT_TRAIN, UINT64_MAX, 45, 101, 200);
    assert_int_equal(count_outputs(), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input_is_refused),
        cmocka_unit_test(test_writes_the_library_canvases_from_the_split),
    };
    char path[600], detail[1024];
    int failed;
    supernav = getenv("SUPERNAV");
    if (!supernav || access(supernav, X_OK) != 0)
        return sn_test_skip_all("$SUPERNAV does not name the supernav binary (run via make test)");
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    train_items = sn_test_items(23, 101, 200);
    test_items = sn_test_items(11, 1, 100);
    snprintf(path, sizeof path, "%s/out", dir);
    sn_mkdir_p(path);
    snprintf(path, sizeof path, "%s/data/fashion-mnist", dir);
    sn_mkdir_p(path);
    /* the input Fashion-MNIST files are the test's own (synthetic items, written here): a
     * failure to write them is a failure of sn_dataset_items_write (datasets/), not a missing
     * prerequisite */
    if (sn_dataset_items_write(&train_items, path, SN_DATASET_SPLIT_TRAIN, detail, sizeof detail) ||
        sn_dataset_items_write(&test_items, path, SN_DATASET_SPLIT_TEST, detail, sizeof detail)) {
        printf("1..1\nnot ok 1 - writing the input Fashion-MNIST files (sn_dataset_items_write) under %s: %s\n",
               path, detail);
        return 1;
    }
    failed = sn_test_run("cli_canvas", tests);
    sn_dataset_items_free(&train_items);
    sn_dataset_items_free(&test_items);
    if (!failed) {
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        if (system(path) != 0)
            return 1;
    }
    return failed;
}
