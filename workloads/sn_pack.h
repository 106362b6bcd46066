/* supernav pack: the training interchange file (safetensors, architecture spec in its
 * metadata) -> the engine's deployment image (sn_image.h).
 *
 * Every tensor of the interchange file is carried over with the engine's layout: dense
 * 4-D convolution weights OIHW -> OHWI, depthwise weights (named *.dw, [C,1,K,K]) -> HWC,
 * everything else as it is. The interchange file is validated first (header length,
 * JSON, dtypes, shapes, offsets inside the file, the spec's fields); the image is written
 * atomically. Host-only. */
#ifndef SN_PACK_H
#define SN_PACK_H

#include <stddef.h>
#include <stdint.h>

/* int8 post-training calibration: canvases (count x side x side pixels) the packer runs
 * every config on, in fp32, to record each layer's activation range (q8.act.{config}). */
typedef struct sn_pack_calib {
    const uint8_t *canvases;
    uint32_t side, count;
} sn_pack_calib;

/* Packs IN_PATH (and, when TABLE_PATH is not NULL, the accuracy table accuracy.csv as the
 * image's TABLE section) into OUT_PATH, with int8 weights (q8.*) always and int8 activation
 * calibration when CALIB_PREFIX names a canvas set (its first CALIB_COUNT canvases).
 * Returns 0, or -1 with a one-line reason in ERR. */
int sn_pack_file(const char *in_path, const char *table_path, const char *calib_prefix,
                 uint32_t calib_count, const char *out_path, char *err, size_t err_bytes);

/* The same from memory to a malloc'ed image (*out, *out_bytes), for tests. TABLE and CALIB
 * may be NULL. */
int sn_pack_buffer(const unsigned char *in, size_t in_bytes, const char *table,
                   size_t table_bytes, const sn_pack_calib *calib, unsigned char **out,
                   size_t *out_bytes, char *err, size_t err_bytes);

/* The image format's writers, shared by the packer and the MCU's int8-only image
 * (sn_mcu_image_strip): little-endian words, the 64-byte alignment, and the header (format
 * VERSION) and section table with their CRCs for NSEC sections whose bytes are already in
 * IMG at OFF[i], BYTES[i] long, of kinds KINDS[i]; TOTAL is the image's size. */
void sn_image_wr32(unsigned char *p, uint32_t v);
void sn_image_wr64(unsigned char *p, uint64_t v);
uint64_t sn_image_align(uint64_t v);
void sn_image_finish(unsigned char *img, uint32_t version, uint64_t total, uint32_t nsec, const uint32_t *kinds,
                     const uint64_t *off, const uint64_t *bytes);

/* The section layout both writers use: NSEC sections (5: arch, tensors, configs, data, table
 * -- the kinds of SN_IMAGE_SECTION_KINDS; 4: no table) for format VERSION, N_TENSORS directory
 * entries, N_CONFIGS configs, DATA_BYTES of tensor data and TABLE_BYTES of table; each
 * section's offset (64-byte aligned, after the header and section table) and size into OFF
 * and BYTES. Returns the image's total size. */
#define SN_IMAGE_SECTION_KINDS {SN_SECTION_ARCH, SN_SECTION_TENSORS, SN_SECTION_CONFIGS, SN_SECTION_DATA, SN_SECTION_TABLE}
uint64_t sn_image_layout(uint32_t version, uint32_t nsec, uint64_t n_tensors, uint64_t n_configs,
                         uint64_t data_bytes, uint64_t table_bytes, uint64_t off[5], uint64_t bytes[5]);

#endif
