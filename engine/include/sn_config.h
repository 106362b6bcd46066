/* supernav engine: SubNet and ARAC configs (the strings of accuracy.csv).
 *
 *   SubNet: r{res}-d{d0}.{d1}...-e{e per active block}-k{k per active block}
 *           e.g. r64-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5
 *   ARAC:   arac-p{P}-g{grid}-{h|z}-t{threshold %}-l{L1}.{L2}...{0}:{SubNet at full resolution}
 *           split point P, region mode h (exact halo) or z (tile-local micro-flows), at
 *           least three levels in %, strictly decreasing, the last 0 (SKIP); for models of
 *           image format version 2, e.g. arac-p2-g8-z-t50-l100.50.0:r128-d2.3.3.3-e4...-k5...
 *   ARAC, CF-64's form: arac-g{grid}-t{threshold %}-l{high %}.{low %}:{SubNet}
 *           the model's one split, mode h, two levels (version 1 models)
 *
 * Parsing checks the syntax and the list lengths (one e and one k per active block);
 * sn_config_check() checks a config against a model's elastic space. Formatting gives the
 * canonical text back (parse -> format is the identity on canonical text).
 * Portable C99, no allocation, no stdio. */
#ifndef SN_CONFIG_H
#define SN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sn_image.h"
#include "sn_model.h"
#include "sn_status.h"

#define SN_MAX_BLOCKS 32
#define SN_CONFIG_TEXT_MAX SN_IMAGE_CONFIG_TEXT_BYTES
#define SN_CONFIG_MAX_LEVELS 5      /* ARAC levels of one config, SKIP included */

typedef struct sn_subnet_config {
    uint32_t res;
    uint32_t num_stages;
    uint32_t depths[SN_IMAGE_MAX_STAGES];
    uint32_t num_blocks;                 /* sum of depths */
    uint32_t expands[SN_MAX_BLOCKS];
    uint32_t kernels[SN_MAX_BLOCKS];
} sn_subnet_config;

typedef struct sn_config {
    int is_arac;
    sn_subnet_config subnet;
    /* ARAC only */
    uint32_t split;                      /* P; 0: CF-64's form (the model's one split) */
    uint32_t grid;
    uint32_t mode;                       /* SN_REGION_MODE_HALO or SN_REGION_MODE_TILE */
    uint32_t threshold_pct;
    uint32_t num_levels;                 /* 2 in CF-64's form; else 3.. */
    uint32_t levels_pct[SN_CONFIG_MAX_LEVELS]; /* high to low; 0 = SKIP */
    uint32_t input_res;                  /* 0: the SubNet's own resolution. Otherwise the
                                            SubNet (its weights and its calibrated BN
                                            statistics) runs on inputs resized to this
                                            resolution instead: "the same SubNet on a
                                            uniformly downsampled input" (NeuLens's
                                            baseline). Not part of the text; SubNets only. */
} sn_config;

/* SN_ERR_FORMAT on bad syntax or inconsistent list lengths. */
sn_status sn_config_parse(const char *text, sn_config *config);

/* Writes the canonical text (NUL-terminated) into BUF; SN_ERR_NO_MEMORY if it does not fit. */
sn_status sn_config_format(const sn_config *config, char *buf, size_t buf_bytes);

/* SN_ERR_UNSUPPORTED when the config is outside the model's elastic space (a resolution,
 * depth, expand ratio, kernel, grid or level the model was not built for); WHY (may be
 * NULL) gets a static description. */
sn_status sn_config_check(const sn_model *model, const sn_config *config, const char **why);

#endif
