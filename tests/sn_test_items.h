/* Synthetic 28x28 items for the dataset and canvas tests: deterministic, distinct, each a
 * textured rectangle covering the centre, every non-zero pixel within [lo, hi]. */
#ifndef SN_TEST_ITEMS_H
#define SN_TEST_ITEMS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sn_dataset.h"

static inline void sn_test_item(uint32_t i, int lo, int hi, uint8_t *image)
{
    int r, c;
    int r0 = 2 + (int)(i % 5), c0 = 3 + (int)(i % 7);
    int r1 = 25 - (int)(i % 4), c1 = 24 - (int)(i % 6);
    memset(image, 0, SN_DATASET_ITEM_BYTES);
    for (r = r0; r <= r1; ++r)
        for (c = c0; c <= c1; ++c)
            image[r * SN_DATASET_ITEM_SIDE + c] =
                (uint8_t)(lo + (int)((uint32_t)(r * 7 + c * 3) + i * 11) % (hi - lo + 1));
}

/* COUNT items, labels i % 10; the caller frees with sn_dataset_items_free(). */
static inline sn_dataset_items sn_test_items(uint32_t count, int lo, int hi)
{
    sn_dataset_items items;
    uint32_t i;
    items.count = count;
    items.images = malloc((size_t)count * SN_DATASET_ITEM_BYTES);
    items.labels = malloc(count);
    for (i = 0; i < count; ++i) {
        sn_test_item(i, lo, hi, items.images + (size_t)i * SN_DATASET_ITEM_BYTES);
        items.labels[i] = (uint8_t)(i % 10);
    }
    return items;
}

#endif
