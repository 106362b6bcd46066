/* Fuzz target: the deployment image loader (engine/sn_model.c) and what the project does
 * with an image that loads: every tensor and config entry read back, the accuracy table
 * split as `supernav subnets` and the serving harness split it, each calibrated config
 * parsed, planned in fp32 and int8 and run once on the reference platform, the weight
 * index of the platforms built, and the MCU's int8-only image stripped from it and loaded
 * again. Entry: sn_model_load(model, image, size, &error), as cli/cli_model.c calls it
 * after reading the file.
 *
 * Checksums: a mutated image almost never keeps its CRC-32s, so each input is loaded
 * twice: as it is (the checksum paths), and with its file size, section CRCs, table CRC
 * and header CRC recomputed where the header lets them be found (everything behind them).
 * Each copy is an exact-size heap buffer, so ASan sees a read past the image. */
#include <stdlib.h>
#include <string.h>

#include "sn_csv.h"
#include "sn_engine.h"
#include "sn_fuzz.h"
#include "sn_mcu_host.h"
#include "sn_model.h"
#include "sn_pack.h"
#include "sn_windex.h"

#define MAX_ARENA_BYTES (64u << 20)
#define MAX_INVOKE_MACS 4000000 /* a larger plan is prepared, not run (time, not safety) */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void fix_checksums(uint8_t *p, size_t size)
{
    uint32_t count, table_off, i;
    if (size < SN_IMAGE_HEADER_BYTES)
        return;
    sn_image_wr64(p + 16, (uint64_t)size);
    count = rd32(p + 24);
    table_off = rd32(p + 28);
    if (count <= 64 && (uint64_t)table_off + (uint64_t)count * SN_IMAGE_SECTION_BYTES <= size) {
        for (i = 0; i < count; ++i) {
            uint8_t *s = p + table_off + (size_t)i * SN_IMAGE_SECTION_BYTES;
            uint64_t off = rd64(s + 8), bytes = rd64(s + 16);
            if (off <= size && bytes <= size - off)
                sn_image_wr32(s + 4, sn_crc32(p + off, (size_t)bytes));
        }
        sn_image_wr32(p + 32, sn_crc32(p + table_off, (size_t)count * SN_IMAGE_SECTION_BYTES));
    }
    sn_image_wr32(p + 60, sn_crc32(p, 60));
}

static volatile uint8_t sink;

static void touch(const void *data, uint64_t bytes)
{
    if (bytes) {
        sink ^= ((const uint8_t *)data)[0];
        sink ^= ((const uint8_t *)data)[bytes - 1];
    }
}

/* The accuracy table as cmd_subnets.c and sn_serve.c read it: lines, CSV fields, the
 * config column parsed. */
static void read_table(const sn_model *m)
{
    char *text, *line, *save = NULL;
    int row = 0, col_cfg = -1;
    if (!m->table)
        return;
    text = sn_fuzz_strndup((const uint8_t *)m->table, m->table_bytes);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++row) {
        char *f[16];
        int n = sn_csv_split(line, f, 16), i;
        sn_config cfg;
        if (row == 0) {
            for (i = 0; i < n; ++i)
                if (!strcmp(f[i], "config"))
                    col_cfg = i;
            continue;
        }
        if (col_cfg >= 0 && n > col_cfg)
            (void)sn_config_parse(f[col_cfg], &cfg);
    }
    free(text);
}

static void run_plan(const sn_model *m, const sn_config *cfg, int precision)
{
    size_t need = 0;
    void *arena = NULL;
    sn_plan *plan;
    const char *why = NULL;
    if (sn_plan_arena_bytes_p(m, cfg, precision, &need) != SN_OK || need > MAX_ARENA_BYTES)
        return;
    if (posix_memalign(&arena, 64, need ? need : 64) != 0)
        return;
    plan = malloc(sizeof *plan);
    if (plan && sn_plan_prepare_p(plan, m, cfg, precision, arena, need, &why) == SN_OK) {
        int64_t macs = plan->is_arac ? plan->arac.max_macs : plan->macs;
        if (macs <= MAX_INVOKE_MACS) {
            size_t side = m->arch.canvas, k;
            uint8_t *canvas = malloc(side * side);
            float *logits = malloc(sizeof *logits * m->arch.num_classes);
            if (canvas && logits) {
                for (k = 0; k < side * side; ++k)
                    canvas[k] = (uint8_t)(k * 37u + (k >> 4));
                (void)sn_plan_invoke(plan, NULL, canvas, logits, NULL, NULL);
            }
            free(canvas);
            free(logits);
        }
    }
    free(plan);
    free(arena);
}

static void exercise(const sn_model *m)
{
    uint32_t i, kind;
    sn_tensor t;
    const char *text;
    sn_windex index;
    for (i = 0; i < m->tensor_count; ++i)
        if (sn_model_tensor(m, i, &t) == SN_OK && t.dtype != SN_DTYPE_F32_ELIDED)
            touch(t.data, t.bytes);
    (void)sn_model_find(m, "stem", &t);
    (void)sn_model_dtype_bytes(m, SN_DTYPE_F32);
    read_table(m);
    if (sn_windex_init(&index, m) == 0) {
        for (i = 0; i < m->tensor_count; ++i)
            if (sn_model_tensor(m, i, &t) == SN_OK && t.bytes)
                (void)sn_windex_tensor_of(&index, t.data);
        sn_windex_free(&index);
    }
    for (i = 0; i < m->config_count && i < 8; ++i) {
        sn_config cfg;
        if (sn_model_config(m, i, &kind, &text) != SN_OK || sn_config_parse(text, &cfg) != SN_OK)
            continue;
        run_plan(m, &cfg, SN_FP32);
        run_plan(m, &cfg, SN_INT8);
    }
    if (m->image_bytes <= (256u << 10)) {
        unsigned char *strip = NULL;
        size_t strip_bytes = 0;
        char err[256];
        if (sn_mcu_image_strip(m, NULL, 0, &strip, &strip_bytes, err, sizeof err) == 0) {
            sn_model stripped;
            sn_model_error e;
            uint8_t *copy = sn_fuzz_copy_aligned(strip, strip_bytes);
            /* what the packer's own writer makes of a valid image must load */
            if (sn_model_load(&stripped, copy, strip_bytes, &e) != SN_OK)
                abort();
            free(copy);
        }
        free(strip);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_model m;
    sn_model_error e;
    uint8_t *img = sn_fuzz_copy_aligned(data, size);
    if (sn_model_load(&m, img, size, &e) == SN_OK)
        exercise(&m);
    fix_checksums(img, size);
    if (sn_model_load(&m, img, size, &e) == SN_OK)
        exercise(&m);
    free(img);
    return 0;
}
