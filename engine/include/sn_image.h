/* supernav deployment image (.snm), format versions 1 and 2.
 *
 * A flat little-endian file read in place (no parsing beyond validation, no copies), so
 * the MCU can link it into flash. Everything is 64-byte aligned.
 *
 *   offset 0   header (64 bytes, sn_image_header)
 *   offset 64  section table: section_count entries of 32 bytes (sn_image_section)
 *   ...        sections, each at a 64-byte aligned offset, each with its CRC-32
 *
 * Sections (one of each kind, any order):
 *   ARCH     sn_image_arch: the SuperNet's architecture (all u32 except bn_eps); version 1
 *            holds its fields up to bn_eps_bits (SN_IMAGE_ARCH_V1_WORDS words), version 2
 *            all of them (the ARAC split points, region modes and multi-level gate)
 *   TENSORS  a directory of sn_image_tensor entries (96 bytes each)
 *   DATA     tensor bytes; each tensor at a 64-byte aligned offset inside DATA
 *   CONFIGS  sn_image_config entries (256 bytes each): the calibrated configs
 *   TABLE    optional: the accuracy table (accuracy.csv) as printable ASCII text
 *
 * Tensors are named as in the interchange file, with weights re-laid out for the engine:
 * dense convolution weights OHWI, depthwise HWC, linear [out][in]. Per-config BN
 * statistics are named calib.{id}.{layer}.{mean,var} (ARAC prefix statistics
 * calib.{id}.level{pct}.{layer}.{mean,var}), where id is the config's index in CONFIGS.
 * Version 2 adds the SKIP level's learned features skip.{P} (F32 [stage_out_c[P-1]], one
 * vector per split point P).
 * Version 2's ARCH also records the canvas task the SuperNet was trained on (task), so that
 * a tool can default to that task's test split; version 1 has no room for it.
 *
 * A packer writes version 1 whenever the architecture has none of version 2's ARAC fields
 * (a task alone does not make it version 2), so an image of a version-1 model is
 * byte-identical whichever packer wrote it.
 *
 * CRC-32 is the IEEE 802.3 polynomial (as zlib's crc32). The header CRC covers its
 * first 60 bytes; the table CRC covers the section table; each section's CRC its bytes.
 * All multi-byte fields are little-endian; the engine reads them byte by byte, so the
 * host's endianness and the image's alignment in memory do not matter for the header,
 * and tensors are only used in place on little-endian hosts (checked at load). */
#ifndef SN_IMAGE_H
#define SN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define SN_IMAGE_MAGIC "SNMODEL1"
#define SN_IMAGE_VERSION 2u          /* the newest version this build reads and writes */
#define SN_IMAGE_VERSION_MIN 1u      /* the oldest it reads */
#define SN_IMAGE_ALIGN 64u
#define SN_IMAGE_HEADER_BYTES 64u
#define SN_IMAGE_SECTION_BYTES 32u
#define SN_IMAGE_TENSOR_BYTES 96u
#define SN_IMAGE_CONFIG_BYTES 256u
#define SN_IMAGE_NAME_BYTES 56u
#define SN_IMAGE_CONFIG_TEXT_BYTES 248u

enum sn_image_section_kind {
    SN_SECTION_ARCH = 1,
    SN_SECTION_TENSORS = 2,
    SN_SECTION_DATA = 3,
    SN_SECTION_CONFIGS = 4,
    SN_SECTION_TABLE = 5
};

#define SN_IMAGE_TABLE_MAX_BYTES (1u << 20)

enum sn_image_dtype { SN_DTYPE_F32 = 1, SN_DTYPE_S8 = 2, SN_DTYPE_S32 = 3, SN_DTYPE_U8 = 4,
                      SN_DTYPE_F32_ELIDED = 5 };

/* SN_DTYPE_F32_ELIDED: an fp32 convolution weight tensor whose values were left out of an
 * int8-only image (e.g. one linked into a microcontroller's flash): its entry keeps the name
 * and shape, with offset 0 and bytes 0. Only int8 plans accept it (they read the tensor's
 * q8.* twin); an fp32 plan refuses the image. */

/* Header: magic[8], version u32, header_bytes u32, file_bytes u64, section_count u32,
 * section_table_offset u32, table_crc32 u32, reserved[24], header_crc32 u32 (at 60). */
/* Section entry: kind u32, crc32 u32, offset u64, bytes u64, reserved u64. */
/* Tensor entry: name[56] (NUL-terminated), dtype u32, ndim u32, dims u32[4],
 * offset u64 (inside DATA), bytes u64. */
/* Config entry: kind u32 (0 SubNet, 1 ARAC), id u32, text[248] (NUL-terminated). */

#define SN_IMAGE_MAX_STAGES 8
#define SN_IMAGE_MAX_CHOICES 8

/* ARCH section: this struct's fields in order, each a little-endian u32 (bn_eps: the
 * IEEE-754 bits of an f32). */
typedef struct sn_image_arch {
    uint32_t canvas;             /* input canvas side (64) */
    uint32_t num_classes;
    uint32_t stem_c;
    uint32_t head_c;
    uint32_t k_max;              /* stored depthwise kernel side */
    uint32_t num_stages;
    uint32_t stage_out_c[SN_IMAGE_MAX_STAGES];
    uint32_t stage_max_depth[SN_IMAGE_MAX_STAGES];
    uint32_t stage_min_depth[SN_IMAGE_MAX_STAGES];
    uint32_t stage_stride[SN_IMAGE_MAX_STAGES];
    uint32_t num_resolutions;
    uint32_t resolutions[SN_IMAGE_MAX_CHOICES];
    uint32_t num_expands;
    uint32_t expands[SN_IMAGE_MAX_CHOICES];
    uint32_t num_kernels;
    uint32_t kernels[SN_IMAGE_MAX_CHOICES];
    uint32_t arac_prefix_stages;
    uint32_t num_grids;
    uint32_t grids[SN_IMAGE_MAX_CHOICES];
    uint32_t num_levels;
    uint32_t levels_pct[SN_IMAGE_MAX_CHOICES];
    uint32_t gate_c;
    uint32_t gate_pool;
    uint32_t bn_eps_bits;
    /* format version 2 (a version 1 image loads with the defaults in brackets) */
    uint32_t num_splits;                  /* ARAC split points P (prefix = stem + stages
                                             0..P-1) [0: the one split arac_prefix_stages] */
    uint32_t splits[SN_IMAGE_MAX_CHOICES];
    uint32_t region_modes;                /* SN_REGION_MODE_* bits served [halo only] */
    uint32_t gate_out;                    /* gate logits per tile: 1, a sigmoid read
                                             against the threshold [1]; num_levels, a
                                             softmax over levels_pct (SN_GATE_* in
                                             sn_engine.h) */
    uint32_t task;                        /* the canvas task the SuperNet was trained on,
                                             numbered as the canvas generator numbers them
                                             (datasets/sn_canvas.h: 1 cf64, 2 cm64,
                                             3 cf128s); 0: none named [0: a version 1
                                             image, CF-64's among them, names none] */
} sn_image_arch;

/* Region modes (sn_config.h): h, the exact receptive-field halo; z, tile-local micro-flows. */
#define SN_REGION_MODE_HALO 1u
#define SN_REGION_MODE_TILE 2u

#define SN_IMAGE_ARCH_WORDS (sizeof(sn_image_arch) / sizeof(uint32_t))
#define SN_IMAGE_ARCH_V1_WORDS (offsetof(sn_image_arch, num_splits) / sizeof(uint32_t)) /* 87: up to bn_eps_bits */
/* The ARCH section's size in an image of format VERSION. */
#define SN_IMAGE_ARCH_BYTES(version) (4u * ((version) == 1u ? SN_IMAGE_ARCH_V1_WORDS : SN_IMAGE_ARCH_WORDS))

#endif
