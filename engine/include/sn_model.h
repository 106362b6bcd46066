/* supernav engine: a loaded deployment image (see sn_image.h for the format).
 *
 * sn_model_load() validates every offset, size, shape, name and checksum before anything
 * is used, and never reads outside [image, image + size): a truncated file, a flipped
 * byte, a wrong version or an absurd shape is an error status, never a crash. The model
 * is a view: it points into the caller's image bytes, which must outlive it.
 * Portable C99, no allocation, no stdio. */
#ifndef SN_MODEL_H
#define SN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sn_image.h"
#include "sn_status.h"

typedef struct sn_tensor {
    const char *name;        /* points into the image */
    uint32_t dtype;          /* enum sn_image_dtype */
    uint32_t ndim;           /* 1..4 */
    uint32_t dims[4];        /* unused dims are 1 */
    uint64_t bytes;
    const void *data;        /* 64-byte aligned relative to the image start */
} sn_tensor;

typedef struct sn_model {
    const uint8_t *image;
    size_t image_bytes;
    uint32_t version;            /* the image's format version (SN_IMAGE_VERSION_MIN..) */
    sn_image_arch arch;          /* a version 1 image's version 2 fields at their defaults */
    float bn_eps;
    const uint8_t *tensor_dir;   /* TENSORS section */
    uint32_t tensor_count;
    uint32_t names_sorted;       /* 1: the directory's names are in strictly ascending order
                                    (strncmp; sn-mcu strip writes them so): sn_model_find
                                    halves the directory instead of scanning it */
    const uint8_t *data;         /* DATA section */
    uint64_t data_bytes;
    const uint8_t *config_dir;   /* CONFIGS section */
    uint32_t config_count;
    const char *table;           /* TABLE section (not NUL-terminated), or NULL */
    uint32_t table_bytes;
} sn_model;

/* Where validation failed, for a precise message (offset in bytes into the image). */
typedef struct sn_model_error {
    const char *what;            /* static text, e.g. "section CRC-32 mismatch" */
    uint64_t offset;
} sn_model_error;

/* Tensors are used in place, so the image must start at a 16-byte aligned address (malloc
 * on 64-bit hosts; a linker-placed array with __attribute__((aligned(64))) on an MCU). */
#define SN_IMAGE_MEMORY_ALIGN 16u

/* Validates IMAGE and fills MODEL (zeroed on failure). ERROR (may be NULL) says what failed. */
sn_status sn_model_load(sn_model *model, const void *image, size_t size, sn_model_error *error);

/* The I-th tensor (0 <= i < tensor_count); SN_ERR_INVALID_ARGUMENT when out of range. */
sn_status sn_model_tensor(const sn_model *model, uint32_t i, sn_tensor *tensor);

/* Finds a tensor by exact name; SN_ERR_UNSUPPORTED when absent. A directory in name order
 * is searched by halving (about log2(tensor_count) name comparisons), any other order
 * entry by entry. */
sn_status sn_model_find(const sn_model *model, const char *name, sn_tensor *tensor);

/* The I-th calibrated config: kind (0 SubNet, 1 ARAC) and its text. */
sn_status sn_model_config(const sn_model *model, uint32_t i, uint32_t *kind, const char **text);

/* Total bytes of all tensors of a dtype (for `supernav info`). */
uint64_t sn_model_dtype_bytes(const sn_model *model, uint32_t dtype);

/* CRC-32 (IEEE 802.3, as zlib's crc32(0, data, size)). */
uint32_t sn_crc32(const void *data, size_t size);

#endif
