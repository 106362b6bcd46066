/* supernav canvas: write a set of cluttered canvases (datasets/sn_canvas.h) as IDX files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sn_canvas.h"
#include "sn_cli.h"
#include "sn_file.h"
#include "sn_idx.h"

#define MAX_COUNT 1000000 /* 4 GB of images; more is a typo */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav canvas --task cf64|cm64|cf128s --split train|test --seed S --count N\n"
            "                       -o PREFIX [--first I] [--data DIR]\n\n"
            "Generates N cluttered canvases, 64x64 (cf64, cm64) or 128x128 (cf128s, the\n"
            "region-sparse task), canvases I..I+N-1 (default I = 0; canvas i depends only on\n"
            "task, split, seed and i) from the split's items under DIR (default data/idx, see\n"
            "'make datasets'), and writes, each atomically:\n"
            "  PREFIX-images-idx3-ubyte  N x S x S uint8 (S = 64, or 128 for cf128s)\n"
            "  PREFIX-labels-idx1-ubyte  N uint8 (0..9)\n"
            "  PREFIX-boxes-idx2-ubyte   N x 4 uint8: x, y, width, height of the object\n"
            "See datasets/README.md for the exact recipe.\n");
}

/* A decimal unsigned integer, nothing else; 0 on success. */
static int parse_u64(const char *s, unsigned long long *value)
{
    char *end;
    if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    *value = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

static int write_canvases(sn_canvas_generator *gen, uint64_t first, uint32_t count,
                          const char *prefix)
{
    static const char *const suffix[3] = {"-images-idx3-ubyte", "-labels-idx1-ubyte",
                                          "-boxes-idx2-ubyte"};
    const uint32_t side = (uint32_t)gen->geo.side;
    const size_t canvas_bytes = (size_t)side * side;
    const uint32_t dims[3][3] = {{count, side, side}, {count, 0, 0}, {count, 4, 0}};
    const int ndims[3] = {3, 1, 2};
    sn_atomic_file files[3];
    static uint8_t canvas[SN_CANVAS_MAX_BYTES];
    sn_canvas_info info;
    char path[3][4096];
    int f, opened = 0, failed = 0;
    uint32_t i;

    for (f = 0; f < 3; ++f) {
        if ((size_t)snprintf(path[f], sizeof path[f], "%s%s", prefix, suffix[f]) >=
            sizeof path[f]) {
            sn_cli_error("output prefix too long");
            failed = 1;
            break;
        }
        if (sn_atomic_open(&files[f], path[f]) != 0) {
            sn_cli_error("cannot write %s: %s", path[f], strerror(errno));
            failed = 1;
            break;
        }
        ++opened;
        if (sn_idx_write_header(files[f].fp, ndims[f], dims[f]) != SN_IDX_OK) {
            sn_cli_error("cannot write %s: %s", path[f], strerror(errno));
            failed = 1;
            break;
        }
    }
    for (i = 0; i < count && !failed; ++i) {
        uint8_t box[4];
        sn_canvas_generate(gen, first + i, canvas, &info);
        box[0] = info.box.x;
        box[1] = info.box.y;
        box[2] = info.box.width;
        box[3] = info.box.height;
        if (fwrite(canvas, 1, canvas_bytes, files[0].fp) != canvas_bytes ||
            fputc(info.label, files[1].fp) == EOF ||
            fwrite(box, 1, sizeof box, files[2].fp) != sizeof box) {
            sn_cli_error("cannot write %s: %s", prefix, strerror(errno));
            failed = 1;
        }
    }
    for (f = 0; f < opened; ++f) {
        if (failed) {
            sn_atomic_abort(&files[f]);
        } else if (sn_atomic_commit(&files[f]) != 0) {
            sn_cli_error("cannot write %s: %s", path[f], strerror(errno));
            failed = 1;
        }
    }
    return failed ? 1 : 0;
}

int sn_cmd_canvas(int argc, char **argv)
{
    const char *task_name = NULL, *split_name = NULL, *seed_text = NULL, *count_text = NULL;
    const char *prefix = NULL, *data_dir = "data/idx", *first_text = NULL;
    unsigned long long seed, count, first = 0;
    sn_canvas_task task;
    sn_dataset_split split;
    sn_dataset_items items;
    sn_canvas_generator gen;
    char dir[4096], detail[4400];
    struct stat st;
    int i, status;

    for (i = 1; i < argc; ++i) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--task")) slot = &task_name;
        else if (!strcmp(argv[i], "--split")) slot = &split_name;
        else if (!strcmp(argv[i], "--seed")) slot = &seed_text;
        else if (!strcmp(argv[i], "--count")) slot = &count_text;
        else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) slot = &prefix;
        else if (!strcmp(argv[i], "--data")) slot = &data_dir;
        else if (!strcmp(argv[i], "--first")) slot = &first_text;
        if (!slot) {
            sn_cli_error("unknown option '%s' (see 'supernav canvas --help')", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            sn_cli_error("option '%s' needs a value", argv[i]);
            return 2;
        }
        *slot = argv[++i];
    }
    if (!task_name || !split_name || !seed_text || !count_text || !prefix) {
        sn_cli_error("missing %s (see 'supernav canvas --help')",
                     !task_name ? "--task" : !split_name ? "--split" : !seed_text ? "--seed"
                     : !count_text ? "--count" : "-o PREFIX");
        return 2;
    }
    task = sn_canvas_task_parse(task_name);
    if (!task) {
        sn_cli_error("unknown task '%s' (cf64, cm64 or cf128s)", task_name);
        return 2;
    }
    split = sn_dataset_split_parse(split_name);
    if (!split) {
        sn_cli_error("unknown split '%s' (train or test)", split_name);
        return 2;
    }
    if (parse_u64(seed_text, &seed) != 0) {
        sn_cli_error("--seed must be an unsigned 64-bit decimal integer, not '%s'", seed_text);
        return 2;
    }
    if (parse_u64(count_text, &count) != 0 || count < 1 || count > MAX_COUNT) {
        sn_cli_error("--count must be an integer in 1..%d, not '%s'", MAX_COUNT, count_text);
        return 2;
    }
    if (first_text && (parse_u64(first_text, &first) != 0 || first > UINT64_MAX - count)) {
        sn_cli_error("--first must be an unsigned integer with --first + --count < 2^64, not '%s'",
                     first_text);
        return 2;
    }
    if (!prefix[0]) {
        sn_cli_error("-o needs a non-empty prefix");
        return 2;
    }
    if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sn_cli_error("data directory '%s' not found (run 'make datasets', or pass --data DIR)",
                     data_dir);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/%s", data_dir, sn_canvas_task_dataset(task));
    if (sn_dataset_items_read(dir, split, &items, detail, sizeof detail) != SN_DATASET_OK) {
        sn_cli_error("%s", detail);
        return 1;
    }
    if (sn_canvas_generator_init(&gen, &items, task, split, (uint64_t)seed) != 0) {
        sn_cli_error("%s/%s: %s", dir, sn_dataset_split_name(split),
                     errno == ENOMEM ? "out of memory" : "needs at least 2 items");
        sn_dataset_items_free(&items);
        return 1;
    }
    status = write_canvases(&gen, (uint64_t)first, (uint32_t)count, prefix);
    sn_canvas_generator_free(&gen);
    sn_dataset_items_free(&items);
    return status;
}
