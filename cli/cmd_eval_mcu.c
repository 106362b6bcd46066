/* supernav eval --platform mcu: a SubNet or ARAC config in int8 on a board profile's
 * serving firmware (platforms/mcu/), under qemu-system-arm or on a real board (--port).
 * Top-1 over the canvases, the firmware's emulated instruction count, the board's modelled
 * cycles and ms, peak SRAM, flash, near/far weight bytes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_cli.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_mcu_host.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav eval --platform mcu --board B (--subnet CFG | --arac CFG) [--int8]\n"
            "                     [--model M] [--data PREFIX] [--limit N] [--warmup N]\n"
            "                     [--port DEV] [--cache] [--json]\n"
            "  --board    a board profile: %s (platforms/mcu/README.md)\n"
            "  --limit    the first N canvases (default 100: QEMU runs about 10 inferences a second)\n"
            "  --warmup   untimed inferences before the first timed one (default 1)\n"
            "  --port     a real board's serial port running the firmware (untested here);\n"
            "             default: the board's firmware under qemu-system-arm\n"
            "  --cache    the config's SubGraph resident in the SRAM the arena leaves (near memory)\n"
            "  int8 only: the MCU serves the int8 path (an int8-only image in the board's flash)\n",
            sn_mcu_board_names());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sn_cmd_eval_mcu(int argc, char **argv)
{
    static const struct option opts[] = {
        {"subnet", required_argument, 0, 's'}, {"arac", required_argument, 0, 'a'},
        {"model", required_argument, 0, 'm'},  {"data", required_argument, 0, 'd'},
        {"platform", required_argument, 0, 'p'}, {"limit", required_argument, 0, 'n'},
        {"warmup", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
        {"int8", no_argument, 0, 'i'},          {"help", no_argument, 0, 'h'},
        {"board", required_argument, 0, 'b'},   {"port", required_argument, 0, 'P'},
        {"cache", no_argument, 0, 'c'},          {0, 0, 0, 0}};
    const char *model_path = "build/supernet.snm", *data = "data/canvas/cf64-test";
    const char *config_text = NULL, *port = NULL, *build = getenv("BUILD") ? getenv("BUILD") : "build";
    const sn_mcu_board *board = NULL;
    long limit = 100, warmup = 1;
    int json = 0, cache = 0, c, rc = 1;
    char path[1024], image_path[1024] = "", idx_path[1024], elf[1024], err[512], reply[1024], model_line[400];
    sn_idx images = {0}, labels = {0};
    void *image_bytes = NULL;
    unsigned char *img = NULL;
    size_t img_bytes = 0, i, n, correct = 0;
    uint64_t *instr = NULL, arena = 0, code_bytes = 0, near = 0, far = 0, far_read = 0, sram_peak = 0;
    uint64_t resident = 0, region = 0;
    sn_model model, sm;
    sn_config config;
    sn_mcu_link *link = NULL;
    sn_mcu_infer_result r;
    double cycles;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': case 'a': config_text = optarg; break;
        case 'm': model_path = optarg; break;
        case 'd': data = optarg; break;
        case 'p': break; /* mcu: how we got here */
        case 'b':
            if (!(board = sn_mcu_board_find(optarg))) {
                sn_cli_error("unknown board '%s' (boards: %s)", optarg, sn_mcu_board_names());
                return 2;
            }
            break;
        case 'P': port = optarg; break;
        case 'c': cache = 1; break;
        case 'j': json = 1; break;
        case 'i': break;
        case 'n':
        case 'w':
            errno = 0;
            if (c == 'n')
                limit = strtol(optarg, &end, 10);
            else
                warmup = strtol(optarg, &end, 10);
            if (errno || *end || (c == 'n' ? limit < 1 : warmup < 0)) {
                sn_cli_error("--%s must be a %s integer", c == 'n' ? "limit" : "warmup",
                             c == 'n' ? "positive" : "non-negative");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!board) {
        sn_cli_error("--platform mcu needs --board (%s)", sn_mcu_board_names());
        return 2;
    }
    if (!config_text) {
        sn_cli_error("--subnet or --arac is required");
        return 2;
    }
    if (sn_config_parse(config_text, &config) != SN_OK) {
        sn_cli_error("'%s' is not a config", config_text);
        return 2;
    }
    if (sn_cli_load_model(model_path, &image_bytes, &model) != 0)
        return 1;
    snprintf(idx_path, sizeof idx_path, "%s-images-idx3-ubyte", data);
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", data);
    if (sn_idx_read(idx_path, &images) != SN_IDX_OK || images.ndims != 3 ||
        images.dims[1] != model.arch.canvas || images.dims[2] != model.arch.canvas ||
        sn_idx_read(path, &labels) != SN_IDX_OK || labels.ndims != 1 ||
        labels.dims[0] != images.dims[0]) {
        sn_cli_error("%s: cannot read %ux%u canvases and their labels", data, model.arch.canvas,
                     model.arch.canvas);
        goto done;
    }
    n = (size_t)limit < images.dims[0] ? (size_t)limit : images.dims[0];
    {
        const char *one[1];
        one[0] = config_text;
        if (sn_mcu_image_strip(&model, one, 1, &img, &img_bytes, err, sizeof err) != 0) {
            sn_cli_error("%s", err);
            goto done;
        }
    }
    snprintf(elf, sizeof elf, "%s/mcu", build);
    snprintf(path, sizeof path, "%s/mcu/eval-%s-%ld.snm", build, board->name, (long)getpid());
    if (sn_mkdir_p(elf) != 0 || sn_write_file_atomic(path, img, img_bytes) != 0) {
        sn_cli_error("cannot write %s", path);
        goto done;
    }
    snprintf(image_path, sizeof image_path, "%s", path);
    if (port) {
        if (sn_mcu_open_port(&link, port, err, sizeof err) != 0) {
            sn_cli_error("board %s on %s: %s", board->name, port, err);
            goto done;
        }
    } else {
        snprintf(elf, sizeof elf, "%s/mcu/supernav-mcu-%s.elf", build, board->name);
        if (sn_mcu_open_qemu(&link, board, elf, path, err, sizeof err) != 0) {
            sn_cli_error("board %s: %s", board->name, err);
            goto done;
        }
    }
    if (sn_mcu_command(link, "info", reply, sizeof reply, err, sizeof err) != 0 ||
        sn_mcu_field_u64(reply, "code_bytes", &code_bytes) != 0 ||
        sn_mcu_field_u64(reply, "arena_region_bytes", &region) != 0) {
        sn_cli_error("board %s: %s", board->name, err);
        goto done;
    }
    if (cache) {
        size_t need = 0;
        char cmd[64];
        if (sn_plan_arena_bytes_p(&model, &config, SN_INT8, &need) != SN_OK || need > region) {
            sn_cli_error("board %s: no SRAM left for a weight cache", board->name);
            goto done;
        }
        snprintf(cmd, sizeof cmd, "cache %llu", (unsigned long long)((region - need) / 64 * 64));
        if (sn_mcu_command(link, cmd, reply, sizeof reply, err, sizeof err) != 0) {
            sn_cli_error("board %s: %s", board->name, err);
            goto done;
        }
    }
    c = sn_mcu_prepare(link, config_text, &arena, err, sizeof err);
    if (c != 0) {
        sn_cli_error("board %s: %s", board->name, c == 1 ? err + (strncmp(err, "device: ", 8) ? 0 : 8) : err);
        goto done;
    }
    if (cache) {
        static uint64_t ranges[256][2];
        sn_plan *sp = malloc(sizeof *sp);
        void *sa = aligned_alloc(64, (arena + 63) / 64 * 64 + 64);
        uint32_t nr = 0;
        if (sp && sa && sn_model_load(&sm, img, img_bytes, NULL) == SN_OK &&
            sn_plan_prepare_p(sp, &sm, &config, SN_INT8, sa, (arena + 63) / 64 * 64 + 64, NULL) == SN_OK)
            nr = sn_mcu_subgraph_ranges(sp, img, ranges, 256);
        free(sp);
        free(sa);
        if (nr == 0 || sn_mcu_make_resident(link, (const uint64_t(*)[2])ranges, nr, &resident, err, sizeof err) != 0) {
            sn_cli_error("board %s: cannot make the SubGraph resident: %s", board->name, err);
            goto done;
        }
    }
    if (!(instr = malloc(n * sizeof *instr))) {
        sn_cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < n; ++i) {
        const uint8_t *canvas = images.data + i * model.arch.canvas * model.arch.canvas;
        uint32_t k, best = 0;
        if (sn_mcu_load(link, canvas, model.arch.canvas, idx_path,
                        images.header_bytes + (uint64_t)i * model.arch.canvas * model.arch.canvas,
                        err, sizeof err) != 0 ||
            sn_mcu_infer(link, 1, i == 0 ? (uint32_t)warmup : 0, &r, err, sizeof err) != 0) {
            sn_cli_error("board %s: %s", board->name, err);
            goto done;
        }
        for (k = 1; k < r.classes; ++k)
            if (r.logits[k] > r.logits[best])
                best = k;
        correct += best == labels.data[i];
        instr[i] = r.instructions;
        near += r.near_bytes;
        far += r.far_bytes;
        far_read += r.far_read_bytes;
        if (sn_mcu_sram_peak(&r, resident) > sram_peak)
            sram_peak = sn_mcu_sram_peak(&r, resident);
    }
    qsort(instr, n, sizeof *instr, cmp_u64);
    cycles = sn_mcu_cycles(board, instr[n / 2], far_read / n);
    sn_mcu_model_text(board, model_line, sizeof model_line);
    if (json) {
        /* the schema of every platform's eval (top1 in percent, n, correct, p50_us), then the
         * board's own figures */
        printf("{\"config\":\"%s\",\"kind\":\"%s\",\"platform\":\"mcu\",\"isa\":\"none\",\"threads\":1,"
               "\"precision\":\"int8\",\"data\":\"%s\",\"n\":%zu,\"correct\":%zu,\"top1\":%.2f,"
               "\"top1_unit\":\"percent\",\"p50_us\":%.1f,\"latency_source\":\"%s\",\"arena_bytes\":%llu,"
               "\"near_weight_bytes\":%llu,\"far_weight_bytes\":%llu,"
               "\"board\":\"%s\",\"instructions_p50\":%llu,\"instructions_source\":\"emulated:qemu-icount\","
               "\"cycles_p50\":%.0f,\"ms_p50\":%.4f,\"cycles_source\":\"%s\","
               "\"sram_peak_bytes\":%llu,\"flash_bytes\":%llu,\"near_bytes\":%llu,\"far_bytes\":%llu}\n",
               config_text, config.is_arac ? "arac" : "subnet", data, n, correct,
               100.0 * (double)correct / (double)n, cycles / board->clock_hz * 1e6, model_line,
               (unsigned long long)arena, (unsigned long long)(near / n), (unsigned long long)(far / n),
               board->name, (unsigned long long)instr[n / 2], cycles, cycles / board->clock_hz * 1e3, model_line,
               (unsigned long long)sram_peak, (unsigned long long)(code_bytes + img_bytes),
               (unsigned long long)(near / n), (unsigned long long)(far / n));
    } else {
        printf("config    %s\nplatform  mcu, board %s: %s%s%s\nprecision int8 (int8-only image in flash)\n"
               "data      %s (%zu canvases)\ntop-1     %.2f %%\n"
               "instructions  p50 %llu, min %llu, max %llu per inference (emulated:qemu-icount)\n"
               "cycles    %.0f, %.3f ms p50 (%s)\n"
               "memory    arena %llu B, peak SRAM %llu B of %u (measured on the emulated board: static + heap + arena + cache + stack high-water mark); flash %llu B of %u (code %llu + image %zu)\n"
               "weights   per inference: near %llu B (SRAM cache, %llu B resident), far %llu B (flash)\n",
               config_text, board->name, board->part, port ? ", port " : " on QEMU ",
               port ? port : board->qemu_machine, data, n, 100.0 * (double)correct / (double)n,
               (unsigned long long)instr[n / 2], (unsigned long long)instr[0],
               (unsigned long long)instr[n - 1], cycles, cycles / board->clock_hz * 1e3, model_line,
               (unsigned long long)arena, (unsigned long long)sram_peak, board->sram_bytes,
               (unsigned long long)(code_bytes + img_bytes), board->flash_bytes,
               (unsigned long long)code_bytes, img_bytes, (unsigned long long)(near / n),
               (unsigned long long)resident, (unsigned long long)(far / n));
    }
    rc = 0;
done:
    sn_mcu_close(link);
    if (image_path[0])
        unlink(image_path);
    free(instr);
    free(img);
    free(image_bytes);
    sn_idx_free(&images);
    sn_idx_free(&labels);
    return rc;
}
