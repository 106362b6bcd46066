/* supernav subnets [[--model] MODEL]: the model's Pareto table (from its embedded accuracy table),
 * with the engine's own MAC count and arena sizes (fp32, and int8 where the image has the
 * config's int8 calibration) for each config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_engine.h"
#include "sn_csv.h"
#include "sn_file.h"

int sn_cmd_subnets(int argc, char **argv)
{
    const char *path;
    void *image;
    sn_model m;
    char *text, *line, *save = NULL;
    int row = 0, rc = sn_cli_model_arg(argc, argv, &path), col_kind = -1, col_cfg = -1, col_macs = -1, col_top1 = -1;
    if (rc != 0) {
        fprintf(rc == 1 ? stdout : stderr, "usage: supernav subnets [[--model] MODEL]   (default build/supernet.snm)\n");
        return rc == 1 ? 0 : 2;
    }
    if (sn_cli_load_model(path, &image, &m) != 0)
        return 1;
    if (!m.table) {
        sn_cli_error("%s: the image holds no accuracy table (pack --table)", path);
        free(image);
        return 1;
    }
    text = malloc(m.table_bytes + 1);
    if (!text) {
        free(image);
        sn_cli_error("out of memory");
        return 1;
    }
    memcpy(text, m.table, m.table_bytes);
    text[m.table_bytes] = '\0';
    printf("%-7s %12s %12s %7s %12s %12s  %s\n", "kind", "MACs", "engine MACs", "top-1", "arena B",
           "int8 arena B", "config");
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++row) {
        char *f[16];
        int n = sn_csv_split(line, f, 16), i;
        if (row == 0) {
            for (i = 0; i < n; ++i) {
                if (!strcmp(f[i], "kind")) col_kind = i;
                if (!strcmp(f[i], "config")) col_cfg = i;
                if (!strcmp(f[i], "macs")) col_macs = i;
                if (!strcmp(f[i], "top1")) col_top1 = i;
            }
            if (col_kind < 0 || col_cfg < 0 || col_macs < 0 || col_top1 < 0) {
                sn_cli_error("accuracy table lacks a kind, config, macs or top1 column");
                rc = 1;
                break;
            }
            continue;
        }
        if (n <= col_kind || n <= col_cfg || n <= col_macs || n <= col_top1) {
            sn_cli_error("accuracy table line %d has too few fields", row + 1);
            rc = 1;
            break;
        }
        {
            sn_config cfg;
            sn_plan *plan = malloc(sizeof *plan);
            size_t need = 0;
            void *arena = NULL;
            char engine_macs[32] = "-", arena_s[32] = "-", arena8_s[32] = "-";
            size_t need8 = 0;
            if (plan && sn_config_parse(f[col_cfg], &cfg) == SN_OK &&
                sn_plan_arena_bytes(&m, &cfg, &need) == SN_OK && posix_memalign(&arena, 64, need) == 0 &&
                sn_plan_prepare(plan, &m, &cfg, arena, need, NULL) == SN_OK) {
                /* ARAC MACs depend on the gate's choices: the table holds the test-split mean */
                if (!plan->is_arac)
                    snprintf(engine_macs, sizeof engine_macs, "%lld", (long long)plan->macs);
                else
                    snprintf(engine_macs, sizeof engine_macs, "(per input)");
                snprintf(arena_s, sizeof arena_s, "%zu", need);
                if (sn_plan_arena_bytes_p(&m, &cfg, SN_INT8, &need8) == SN_OK)
                    snprintf(arena8_s, sizeof arena8_s, "%zu", need8);
            } else {
                snprintf(engine_macs, sizeof engine_macs, "not servable");
            }
            printf("%-7s %12s %12s %7s %12s %12s  %s\n", f[col_kind], f[col_macs], engine_macs, f[col_top1],
                   arena_s, arena8_s, f[col_cfg]);
            free(arena);
            free(plan);
        }
    }
    free(text);
    free(image);
    return rc;
}
