/* sn-mcu: the host side of supernav's MCU board profiles (the serving firmware
 * supernav-mcu-BOARD.elf under QEMU, or a real board on a serial port).
 *
 *   sn-mcu strip MODEL -o OUT [--config CFG]...
 *       the int8-only flash image (sn_mcu_image_strip): without fp32 weight values, and
 *       with only the configs CFG when given
 *   sn-mcu check --board B [--port DEV] [--canvases N] [--data PREFIX] [--cache] MODEL CFG...
 *       int8 logits of the device, bit for bit, against this host engine's reference int8
 *       logits for the first N test canvases (default 100; --data, default the test split
 *       of the image's task, data/canvas/<task>-test) and every CFG; TAP lines, exit
 *       status 0 all equal, 1 a difference, 2 an error. --cache: the SRAM the largest CFG's
 *       arena leaves is the weight cache, and each CFG runs with its own SubGraph resident
 *       (its weights copied from flash into SRAM and read from there). --device-model M2:
 *       the device runs the int8-only image of M2 instead (e.g. packed with another
 *       calibration), still checked against MODEL on the host
 *   sn-mcu table --board B [-o OUT.md] [--arac [--canvases K]] MODEL
 *       per Pareto SubNet (the image's accuracy table, kind subnet): the image of that
 *       SubNet alone in the board's flash, one warm-up and one timed inference: emulated
 *       instructions, modelled cycles and ms, peak SRAM, flash, whether it fits. --arac: also
 *       every ARAC config (kind arac) over the first K test canvases (default 8; its cost
 *       depends on the image), each against its untiled peer: the fitting Pareto SubNet of
 *       at least its top-1 with the fewest instructions
 *   sn-mcu kernels --board B [-o OUT.md] [--shape SHAPE]... [--tflite] MODEL
 *       emulated instructions of the platform's int8 kernels (sn_mcu_kernels.h) beside the
 *       reference kernels' for every distinct layer shape of the Pareto SubNets (or each
 *       SHAPE: "dense|dw H W C OC K S [KF CF OCF]", the firmware's kernel command), whether
 *       their outputs are equal bit for bit (exit status 1 if any differ), and per kind the
 *       geometric mean, min and max of instructions per MAC. --tflite: positive multipliers only
 *       (for a firmware whose kernels follow TFLite, platforms/mcu/cmsis-nn.sh)
 * --port DEV drives a real board that already runs the firmware (not tested here); without
 * it the board's ELF runs under qemu-system-arm (-icount shift=0). Results are written to a
 * temporary file and renamed. Figures: instructions emulated:qemu-icount; cycles and ms
 * model:mcu-BOARD (sn_mcu_host.h); bytes counted by the firmware. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_canvas.h" /* sn_canvas_test_prefix */
#include "sn_csv.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_idx.h"
#include "sn_mcu_host.h"


/* the image at PATH, or one line "PROG: ..." on stderr */
static int read_model(const char *prog, const char *path, void **bytes, sn_model *model)
{
    char why[512];
    if (sn_mcu_read_model(path, bytes, model, why, sizeof why) != 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return -1;
    }
    return 0;
}

#define MAX_CONFIGS 64

typedef struct tool_opts {
    const sn_mcu_board *board;
    const char *port, *out, *data, *build;
    const char *model_path;
    const char *device_model;   /* check: the image the device runs (default: MODEL) */
    const char *configs[MAX_CONFIGS];
    uint32_t nconfigs;
    const char *shapes[MAX_CONFIGS];   /* kernels: --shape */
    uint32_t nshapes;
    uint32_t canvases;
    int cache;                  /* check: each config's SubGraph resident in the SRAM cache */
    int tflite;                 /* kernels: positive multipliers only */
    int arac;                   /* table: the ARAC configs too, against their untiled peers */
    int canvases_set;           /* --canvases given */
} tool_opts;

static int usage(void)
{
    fprintf(stderr,
            "usage: sn-mcu strip MODEL -o OUT [--config CFG]...\n"
            "       sn-mcu check --board B [--port DEV] [--canvases N] [--data PREFIX] [--cache]\n"
            "                    [--device-model M2] MODEL CFG...\n"
            "       sn-mcu table --board B [-o OUT.md] [--arac [--canvases K]] MODEL\n"
            "       sn-mcu kernels --board B [-o OUT.md] [--shape SHAPE]... [--tflite] MODEL\n"
            "boards: %s\n", sn_mcu_board_names());
    return 2;
}

static int die(const char *what)
{
    fprintf(stderr, "sn-mcu: %s\n", what);
    return 2;
}

static int parse(int argc, char **argv, tool_opts *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->canvases = 100;
    o->data = NULL; /* the test split of the image's task (data_of) */
    o->build = getenv("BUILD") ? getenv("BUILD") : "build";
    for (i = 0; i < argc; ++i) {
        if (!strcmp(argv[i], "--board") && i + 1 < argc) {
            if (!(o->board = sn_mcu_board_find(argv[++i]))) {
                fprintf(stderr, "sn-mcu: unknown board '%s' (boards: %s)\n", argv[i],
                        sn_mcu_board_names());
                return -2;
            }
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            o->port = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            o->out = argv[++i];
        } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            o->data = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc && o->nconfigs < MAX_CONFIGS) {
            o->configs[o->nconfigs++] = argv[++i];
        } else if (!strcmp(argv[i], "--shape") && i + 1 < argc && o->nshapes < MAX_CONFIGS) {
            o->shapes[o->nshapes++] = argv[++i];
        } else if (!strcmp(argv[i], "--device-model") && i + 1 < argc) {
            o->device_model = argv[++i];
        } else if (!strcmp(argv[i], "--tflite")) {
            o->tflite = 1;
        } else if (!strcmp(argv[i], "--arac")) {
            o->arac = 1;
        } else if (!strcmp(argv[i], "--cache")) {
            o->cache = 1;
        } else if (!strcmp(argv[i], "--canvases") && i + 1 < argc) {
            o->canvases = (uint32_t)strtoul(argv[++i], NULL, 10);
            o->canvases_set = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "sn-mcu: unknown option '%s'\n", argv[i]);
            return -2;
        } else if (!o->model_path) {
            o->model_path = argv[i];
        } else if (o->nconfigs < MAX_CONFIGS) {
            o->configs[o->nconfigs++] = argv[i];
        } else {
            return -1;
        }
    }
    return o->model_path ? 0 : -1;
}

/* Writes the int8-only image of MODEL with CONFIGS to PATH. */
static int write_stripped(const sn_model *m, const char *const *configs, uint32_t n, const char *path,
                          size_t *bytes)
{
    unsigned char *img;
    char err[256];
    if (sn_mcu_image_strip(m, configs, n, &img, bytes, err, sizeof err) != 0) {
        fprintf(stderr, "sn-mcu: %s\n", err);
        return -1;
    }
    if (sn_write_file_atomic(path, img, *bytes) != 0) {
        fprintf(stderr, "sn-mcu: cannot write %s\n", path);
        free(img);
        return -1;
    }
    free(img);
    return 0;
}

/* Starts the board (QEMU with IMAGE, or the port). */
static int open_board(const tool_opts *o, const char *image, sn_mcu_link **link)
{
    char elf[512], err[512];
    int rc;
    if (o->port)
        rc = sn_mcu_open_port(link, o->port, err, sizeof err);
    else {
        snprintf(elf, sizeof elf, "%s/mcu/supernav-mcu-%s.elf", o->build, o->board->name);
        rc = sn_mcu_open_qemu(link, o->board, elf, image, err, sizeof err);
    }
    if (rc != 0)
        fprintf(stderr, "sn-mcu: board %s: %s\n", o->board->name, err);
    return rc;
}

/* --data, or the test split of the task MODEL names (data/canvas/<task>-test); NULL and a
 * message when the task is one this build does not know. */
static const char *data_of(tool_opts *o, const sn_model *m)
{
    if (!o->data && !(o->data = sn_canvas_test_prefix(m->arch.task)))
        fprintf(stderr, "sn-mcu: %s names canvas task %u, which this build does not know: pass --data\n",
                o->model_path, m->arch.task);
    return o->data;
}

static int cmd_strip(tool_opts *o)
{
    void *bytes;
    sn_model m;
    size_t n;
    int rc;
    if (!o->out)
        return usage();
    if (read_model("sn-mcu", o->model_path, &bytes, &m) != 0)
        return 2;
    rc = write_stripped(&m, o->configs, o->nconfigs, o->out, &n) == 0 ? 0 : 2;
    if (rc == 0)
        fprintf(stderr, "sn-mcu: %s: %zu bytes (int8-only, %u configs)\n", o->out, n,
                o->nconfigs ? o->nconfigs : m.config_count);
    free(bytes);
    return rc;
}

static int cmd_check(tool_opts *o)
{
    void *bytes;
    sn_model m;
    sn_idx images;
    char path[512], err[512], idx_path[512];
    sn_mcu_link *link = NULL;
    size_t nbytes, need;
    uint32_t c, i, t = 0, failed = 0, side;
    sn_plan *plans[MAX_CONFIGS] = {0};
    void *arenas[MAX_CONFIGS] = {0};
    void *sbytes = NULL;
    sn_model sm;
    size_t largest = 0;
    int rc = 0;
    if (!o->board || o->nconfigs == 0 || o->canvases == 0)
        return usage();
    if (read_model("sn-mcu", o->model_path, &bytes, &m) != 0)
        return 2;
    side = m.arch.canvas;
    if (!data_of(o, &m)) {
        free(bytes);
        return 2;
    }
    snprintf(idx_path, sizeof idx_path, "%s-images-idx3-ubyte", o->data);
    if (sn_idx_read(idx_path, &images) != SN_IDX_OK || images.ndims != 3 ||
        images.dims[1] != side || images.dims[2] != side || images.dims[0] < o->canvases) {
        fprintf(stderr, "sn-mcu: %s: cannot read %u canvases of %ux%u\n", idx_path, o->canvases, side, side);
        free(bytes);
        return 2;
    }
    /* the host reference: the full image, reference kernels, int8 */
    for (c = 0; c < o->nconfigs && rc == 0; ++c) {
        sn_config cfg;
        const char *why = "";
        sn_status st = sn_config_parse(o->configs[c], &cfg);
        if (st == SN_OK)
            st = sn_plan_arena_bytes_p(&m, &cfg, SN_INT8, &need);
        if (st == SN_OK && need > largest)
            largest = need;
        plans[c] = malloc(sizeof(sn_plan));
        arenas[c] = st == SN_OK ? aligned_alloc(64, (need + 63) / 64 * 64) : NULL;
        if (st == SN_OK && (!plans[c] || !arenas[c]))
            st = SN_ERR_NO_MEMORY;
        if (st == SN_OK)
            st = sn_plan_prepare_p(plans[c], &m, &cfg, SN_INT8, arenas[c], need, &why);
        if (st != SN_OK) {
            fprintf(stderr, "sn-mcu: %s: %s (%s)\n", o->configs[c], sn_status_str(st), why ? why : "");
            rc = 2;
        }
    }
    snprintf(path, sizeof path, "%s/mcu/check-%s-%ld.snm", o->build, o->board->name, (long)getpid());
    if (rc == 0 && o->device_model) {
        void *dbytes;
        sn_model dm;
        if (read_model("sn-mcu", o->device_model, &dbytes, &dm) != 0)
            rc = 2;
        else {
            if (write_stripped(&dm, o->configs, o->nconfigs, path, &nbytes) != 0)
                rc = 2;
            free(dbytes);
        }
    } else if (rc == 0 && write_stripped(&m, o->configs, o->nconfigs, path, &nbytes) != 0)
        rc = 2;
    if (rc == 0 && o->cache && read_model("sn-mcu", path, &sbytes, &sm) != 0)
        rc = 2;
    if (rc == 0 && open_board(o, path, &link) != 0)
        rc = 2;
    if (rc == 0 && o->cache) {
        char reply[512], cmd[64];
        uint64_t region = 0;
        if (sn_mcu_command(link, "info", reply, sizeof reply, err, sizeof err) != 0 ||
            sn_mcu_field_u64(reply, "arena_region_bytes", &region) != 0 || region < largest) {
            fprintf(stderr, "sn-mcu: board %s: no SRAM left for a weight cache\n", o->board->name);
            rc = 2;
        } else {
            snprintf(cmd, sizeof cmd, "cache %llu", (unsigned long long)((region - largest) / 64 * 64));
            if (sn_mcu_command(link, cmd, reply, sizeof reply, err, sizeof err) != 0) {
                fprintf(stderr, "sn-mcu: board %s: %s\n", o->board->name, err);
                rc = 2;
            }
        }
    }
    if (rc == 0)
        printf("1..%u\n# board %s: %s; image %s (%zu bytes, int8-only); %u canvases of %s\n",
               o->nconfigs, o->board->name, o->board->part, path, nbytes, o->canvases, o->data);
    for (c = 0; c < o->nconfigs && rc == 0; ++c) {
        uint64_t arena, instr_sum = 0, near = 0, far = 0, resident = 0;
        uint32_t differ = 0, first_bad = 0;
        int p = sn_mcu_prepare(link, o->configs[c], &arena, err, sizeof err);
        if (p != 0) {
            printf("not ok %u - %s: %s\n", ++t, o->configs[c], err);
            ++failed;
            continue;
        }
        if (o->cache) {
            static uint64_t ranges[256][2];
            sn_config cfg;
            sn_plan *sp = malloc(sizeof *sp);
            void *sa = aligned_alloc(64, (largest + 63) / 64 * 64);
            uint32_t nr = 0;
            if (sp && sa && sn_config_parse(o->configs[c], &cfg) == SN_OK &&
                sn_plan_prepare_p(sp, &sm, &cfg, SN_INT8, sa, largest, NULL) == SN_OK)
                nr = sn_mcu_subgraph_ranges(sp, sm.image, ranges, 256);
            free(sp);
            free(sa);
            if (nr == 0 || sn_mcu_make_resident(link, (const uint64_t(*)[2])ranges, nr, &resident, err,
                                                sizeof err) != 0) {
                fprintf(stderr, "sn-mcu: %s: cannot make its SubGraph resident: %s\n", o->configs[c], err);
                rc = 2;
                break;
            }
        }
        for (i = 0; i < o->canvases && rc == 0; ++i) {
            const uint8_t *canvas = images.data + (size_t)i * side * side;
            float want[16];
            sn_mcu_infer_result r;
            if (sn_plan_invoke(plans[c], NULL, canvas, want, NULL, NULL) != SN_OK) {
                fprintf(stderr, "sn-mcu: host invoke failed\n");
                rc = 2;
                break;
            }
            if (sn_mcu_load(link, canvas, side, idx_path, images.header_bytes + (uint64_t)i * side * side,
                            err, sizeof err) != 0 ||
                sn_mcu_infer(link, 1, 0, &r, err, sizeof err) != 0) {
                fprintf(stderr, "sn-mcu: board %s: %s\n", o->board->name, err);
                rc = 2;
                break;
            }
            instr_sum += r.instructions;
            near += r.near_bytes;
            far += r.far_bytes;
            if (r.classes != m.arch.num_classes ||
                memcmp(r.logits, want, m.arch.num_classes * sizeof(float)) != 0) {
                if (!differ++)
                    first_bad = i;
            }
        }
        if (rc != 0)
            break;
        if (differ) {
            printf("not ok %u - %s: int8 logits differ from the host's on %u of %u canvases "
                   "(first: canvas %u)\n", ++t, o->configs[c], differ, o->canvases, first_bad);
            ++failed;
        } else {
            printf("ok %u - %s: int8 logits bit for bit equal to the host engine's on %u canvases "
                   "(arena %llu B, mean %.0f instructions per inference, emulated:qemu-icount; "
                   "weight bytes per inference near %llu far %llu; resident %llu B)\n",
                   ++t, o->configs[c], o->canvases, (unsigned long long)arena,
                   (double)instr_sum / o->canvases, (unsigned long long)(near / o->canvases),
                   (unsigned long long)(far / o->canvases), (unsigned long long)resident);
        }
        fflush(stdout);
    }
    sn_mcu_close(link);
    unlink(path);
    for (c = 0; c < o->nconfigs; ++c) {
        free(plans[c]);
        free(arenas[c]);
    }
    sn_idx_free(&images);
    free(bytes);
    free(sbytes);
    return rc ? rc : failed ? 1 : 0;
}

/* The rows of KIND ("subnet": the Pareto SubNets; "arac": the ARAC configs) of the image's
 * accuracy table. */
static int rows_of_kind(const sn_model *m, const char *kind, char configs[][SN_CONFIG_TEXT_MAX], double *top1,
                        uint32_t max)
{
    char *text, *line, *save = NULL;
    int row = 0, ck = -1, cc = -1, ct = -1, i;
    uint32_t n = 0;
    if (!m->table || !(text = malloc(m->table_bytes + 1)))
        return -1;
    memcpy(text, m->table, m->table_bytes);
    text[m->table_bytes] = 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ++row) {
        char *f[16];
        int nf = sn_csv_split(line, f, 16);
        if (row == 0) {
            for (i = 0; i < nf; ++i) {
                if (!strcmp(f[i], "kind")) ck = i;
                if (!strcmp(f[i], "config")) cc = i;
                if (!strcmp(f[i], "top1")) ct = i;
            }
            continue;
        }
        if (ck < 0 || cc < 0 || ct < 0 || nf <= ck || nf <= cc || nf <= ct)
            break;
        if (strcmp(f[ck], kind) || n == max)
            continue;
        snprintf(configs[n], SN_CONFIG_TEXT_MAX, "%s", f[cc]);
        top1[n++] = atof(f[ct]);
    }
    free(text);
    return (int)n;
}

static int write_out(const char *path, const char *text)
{
    if (!path) {
        fputs(text, stdout);
        return 0;
    }
    if (sn_write_file_atomic(path, text, strlen(text)) != 0) {
        fprintf(stderr, "sn-mcu: cannot write %s\n", path);
        return 2;
    }
    fputs(text, stdout);
    return 0;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len)
            break;
        *cap = *cap * 2 + (size_t)n;
        *buf = realloc(*buf, *cap);
        if (!*buf)
            abort();
    }
    *len += (size_t)n;
}

/* One config on the board: the image of it alone in flash, prepared, and one inference on
 * each of the first CANVASES test canvases (one warm-up before the first). */
typedef struct row_result {
    int fits;                   /* 1 yes; 0 no: flash; -1 no: SRAM */
    size_t image_bytes;
    uint64_t arena, flash, stack;
    uint64_t sram_peak;         /* the largest over the canvases */
    uint64_t instr_min, instr_max;
    double instr_mean, macs_mean, cycles_mean;
    uint32_t n;
} row_result;

static int measure_config(tool_opts *o, const sn_model *m, const char *config, const sn_idx *images,
                          const char *idx_path, uint32_t canvases, uint64_t *code_bytes, uint64_t *image_capacity,
                          row_result *rr)
{
    const char *one[1];
    char path[512], err[512], reply[2048];
    sn_mcu_link *link = NULL;
    size_t side2 = (size_t)m->arch.canvas * m->arch.canvas;
    uint32_t c;
    int p, rc = 0;
    memset(rr, 0, sizeof *rr);
    one[0] = config;
    snprintf(path, sizeof path, "%s/mcu/table-%s-%ld.snm", o->build, o->board->name, (long)getpid());
    if (write_stripped(m, one, 1, path, &rr->image_bytes) != 0)
        return 2;
    rr->flash = *code_bytes + rr->image_bytes;
    if (*image_capacity && rr->image_bytes > *image_capacity) {
        rr->fits = 0;
        unlink(path);
        return 0;
    }
    if (open_board(o, path, &link) != 0) {
        unlink(path);
        return 2;
    }
    if (sn_mcu_command(link, "info", reply, sizeof reply, err, sizeof err) != 0 ||
        sn_mcu_field_u64(reply, "code_bytes", code_bytes) != 0 ||
        sn_mcu_field_u64(reply, "image_capacity", image_capacity) != 0) {
        fprintf(stderr, "sn-mcu: info: %s\n", err);
        rc = 2;
    }
    rr->flash = *code_bytes + rr->image_bytes;
    p = rc ? -1 : sn_mcu_prepare(link, config, &rr->arena, err, sizeof err);
    if (p == 1) {
        rr->fits = -1;
    } else if (p == 0) {
        rr->fits = 1;
        for (c = 0; c < canvases && c < images->dims[0] && rc == 0; ++c) {
            sn_mcu_infer_result r;
            if (sn_mcu_load(link, images->data + c * side2, m->arch.canvas, idx_path,
                            images->header_bytes + c * side2, err, sizeof err) != 0 ||
                sn_mcu_infer(link, 1, c == 0 ? 1 : 0, &r, err, sizeof err) != 0) {
                fprintf(stderr, "sn-mcu: %s: %s\n", config, err);
                rc = 2;
                break;
            }
            rr->instr_mean += (double)r.instructions;
            rr->macs_mean += (double)r.macs;
            rr->cycles_mean += sn_mcu_cycles(o->board, r.instructions, r.far_read_bytes);
            rr->instr_min = c == 0 || r.instructions < rr->instr_min ? r.instructions : rr->instr_min;
            rr->instr_max = r.instructions > rr->instr_max ? r.instructions : rr->instr_max;
            rr->arena = r.arena_bytes;
            rr->stack = r.stack_peak > rr->stack ? r.stack_peak : rr->stack;
            if (sn_mcu_sram_peak(&r, 0) > rr->sram_peak)
                rr->sram_peak = sn_mcu_sram_peak(&r, 0);
            ++rr->n;
        }
        if (rr->n) {
            rr->instr_mean /= rr->n;
            rr->macs_mean /= rr->n;
            rr->cycles_mean /= rr->n;
        }
    } else {
        fprintf(stderr, "sn-mcu: %s: %s\n", config, err);
        rc = 2;
    }
    sn_mcu_close(link);
    unlink(path);
    return rc;
}

static int cmd_table(tool_opts *o)
{
    static char configs[48][SN_CONFIG_TEXT_MAX], acfg[64][SN_CONFIG_TEXT_MAX];
    static row_result rs[48];
    double top1[48], atop1[64];
    void *bytes;
    sn_model m;
    sn_idx images;
    char idx_path[512], model_line[400];
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    int n, na = 0, i, j, rc = 0, fit_count = 0;
    uint64_t code_bytes = 0, image_capacity = 0;
    if (!o->board || !buf)
        return usage();
    if (read_model("sn-mcu", o->model_path, &bytes, &m) != 0)
        return 2;
    n = rows_of_kind(&m, "subnet", configs, top1, 48);
    if (n <= 0) {
        free(bytes);
        return die("the model's accuracy table lists no SubNet");
    }
    if (o->arac && (na = rows_of_kind(&m, "arac", acfg, atop1, 64)) <= 0) {
        free(bytes);
        return die("--arac: the model's accuracy table lists no ARAC config");
    }
    if (!data_of(o, &m)) {
        free(bytes);
        return 2;
    }
    snprintf(idx_path, sizeof idx_path, "%s-images-idx3-ubyte", o->data);
    if (sn_idx_read(idx_path, &images) != SN_IDX_OK || images.ndims != 3 ||
        images.dims[1] != m.arch.canvas || images.dims[2] != m.arch.canvas) {
        free(bytes);
        return die("cannot read the test canvases (--data)");
    }
    sn_mcu_model_text(o->board, model_line, sizeof model_line);
    append(&buf, &len, &cap,
           "### Board %s: %s\n\n"
           "Firmware `supernav-mcu-%s.elf` on QEMU `%s` (`-cpu %s`, `-icount shift=0`). Per Pareto "
           "SubNet, an int8-only image holding that SubNet alone is placed in the board's flash; one "
           "warm-up and one timed inference on test canvas 0, no weight cache. *instructions*: "
           "emulated:qemu-icount; *cycles*, *ms*: %s; *peak SRAM*: static + heap + arena + stack "
           "high-water mark (stack painting), measured on the emulated board; *flash*: code + the "
           "image. Written by `sn-mcu table --board %s`.\n\n"
           "| SubNet | top-1 %% | MACs | instructions | est. cycles | est. ms | arena B | stack B | peak SRAM B | flash B | fits |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
           o->board->name, o->board->part, o->board->name, o->board->qemu_machine,
           o->board->qemu_cpu, model_line, o->board->name);
    for (i = 0; i < n && rc == 0; ++i) {
        row_result *r = &rs[i];
        if ((rc = measure_config(o, &m, configs[i], &images, idx_path, 1, &code_bytes, &image_capacity, r)) != 0)
            break;
        if (r->fits == 0)
            append(&buf, &len, &cap, "| `%s` | %.2f | | | | | | | | %llu | no: flash (%zu B image, %llu B free) |\n",
                   configs[i], top1[i], (unsigned long long)r->flash, r->image_bytes,
                   (unsigned long long)image_capacity);
        else if (r->fits < 0)
            append(&buf, &len, &cap, "| `%s` | %.2f | | | | | %llu | | | %llu | no: SRAM (arena %llu B) |\n",
                   configs[i], top1[i], (unsigned long long)r->arena, (unsigned long long)r->flash,
                   (unsigned long long)r->arena);
        else {
            append(&buf, &len, &cap,
                   "| `%s` | %.2f | %.0f | %llu | %.0f | %.2f | %llu | %llu | %llu | %llu | yes |\n",
                   configs[i], top1[i], r->macs_mean, (unsigned long long)r->instr_min, r->cycles_mean,
                   r->cycles_mean / o->board->clock_hz * 1e3, (unsigned long long)r->arena,
                   (unsigned long long)r->stack, (unsigned long long)r->sram_peak, (unsigned long long)r->flash);
            ++fit_count;
        }
        fprintf(stderr, "sn-mcu: table %s: %d/%d\n", o->board->name, i + 1, n + na);
    }
    if (rc == 0)
        append(&buf, &len, &cap, "\n%d of %d Pareto SubNets fit board %s (flash %u B, SRAM %u B; "
               "code %llu B).\n", fit_count, n, o->board->name, o->board->flash_bytes,
               o->board->sram_bytes, (unsigned long long)code_bytes);
    if (rc == 0 && o->arac) {
        uint32_t k = o->canvases_set && o->canvases ? o->canvases : 8;
        int afit = 0, alone = 0, fewer = 0;
        append(&buf, &len, &cap,
               "\n#### ARAC configs on board %s\n\n"
               "Per ARAC config of the table, the image of it alone in flash; one inference on each of "
               "the first %u test canvases (one warm-up before the first): its MACs and instructions "
               "depend on the image (the gate's tiles), so *MACs* and *instructions* are the mean "
               "(instructions min-max beside it), *peak SRAM* the largest. *untiled peer*: the Pareto "
               "SubNet of at least the config's top-1 with the fewest instructions among those that fit "
               "this board (table above; \"none fits\" when no SubNet that accurate fits); *instr. vs "
               "peer*: the config's mean over the peer's. Written by `sn-mcu table --arac --board %s`.\n\n"
               "| ARAC config | top-1 %% | MACs (mean) | instructions mean (min - max) | est. ms | arena B | peak SRAM B | flash B | fits | untiled peer | peer instr. | peer peak SRAM B | instr. vs peer |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n",
               o->board->name, k, o->board->name);
        for (i = 0; i < na && rc == 0; ++i) {
            row_result r;
            int peer = -1;
            char fits[96];
            if ((rc = measure_config(o, &m, acfg[i], &images, idx_path, k, &code_bytes, &image_capacity, &r)) != 0)
                break;
            for (j = 0; j < n; ++j) /* the cheapest fitting SubNet at least as accurate */
                if (rs[j].fits == 1 && top1[j] + 1e-9 >= atop1[i] &&
                    (peer < 0 || rs[j].instr_min < rs[peer].instr_min))
                    peer = j;
            if (r.fits == 0)
                snprintf(fits, sizeof fits, "no: flash (%zu B image)", r.image_bytes);
            else if (r.fits < 0)
                snprintf(fits, sizeof fits, "no: SRAM (arena %llu B)", (unsigned long long)r.arena);
            else
                snprintf(fits, sizeof fits, "yes");
            if (r.fits == 1) {
                ++afit;
                alone += peer < 0;
                fewer += peer >= 0 && r.instr_mean < (double)rs[peer].instr_min;
                append(&buf, &len, &cap, "| `%s` | %.2f | %.0f | %.0f (%llu - %llu) | %.2f | %llu | %llu | %llu | %s | ",
                       acfg[i], atop1[i], r.macs_mean, r.instr_mean, (unsigned long long)r.instr_min,
                       (unsigned long long)r.instr_max, r.cycles_mean / o->board->clock_hz * 1e3,
                       (unsigned long long)r.arena, (unsigned long long)r.sram_peak, (unsigned long long)r.flash, fits);
            } else {
                append(&buf, &len, &cap, "| `%s` | %.2f | | | | %llu | | %llu | %s | ", acfg[i], atop1[i],
                       (unsigned long long)r.arena, (unsigned long long)r.flash, fits);
            }
            if (peer < 0)
                append(&buf, &len, &cap, "none fits | | | |\n");
            else if (r.fits == 1)
                append(&buf, &len, &cap, "`%s` (%.2f) | %llu | %llu | %.2fx |\n", configs[peer], top1[peer],
                       (unsigned long long)rs[peer].instr_min, (unsigned long long)rs[peer].sram_peak,
                       r.instr_mean / (double)rs[peer].instr_min);
            else
                append(&buf, &len, &cap, "`%s` (%.2f) | %llu | %llu | |\n", configs[peer], top1[peer],
                       (unsigned long long)rs[peer].instr_min, (unsigned long long)rs[peer].sram_peak);
            fprintf(stderr, "sn-mcu: table %s: %d/%d\n", o->board->name, n + i + 1, n + na);
        }
        if (rc == 0)
            append(&buf, &len, &cap,
                   "\n%d of %d ARAC configs fit board %s; %d of them where no Pareto SubNet of at least "
                   "their top-1 fits; %d with fewer instructions (mean) than their untiled peer.\n",
                   afit, na, o->board->name, alone, fewer);
    }
    if (rc == 0)
        rc = write_out(o->out, buf);
    free(buf);
    sn_idx_free(&images);
    free(bytes);
    return rc;
}

/* CMSIS-NN v7 (-Ofast) under QEMU -icount on the same shapes, instructions per MAC as issue 21
 * states them (not measured by this tool): per kind the range over the shapes (a single
 * figure: min = max). Cortex-M7, and the Cortex-M55 with Helium. */
typedef struct anchor { const char *kind; double lo, hi; } anchor;
static const anchor cmsis_m7[] = {{"pointwise", 1.7, 3.9}, {"depthwise", 7.4, 9.8}, {"stem", 10.2, 10.2}};
static const anchor cmsis_m55[] = {{"pointwise", 0.45, 0.45}, {"depthwise", 1.9, 1.9}, {"stem", 3.8, 3.8}};

static int cmd_kernels(tool_opts *o)
{
    static char configs[48][SN_CONFIG_TEXT_MAX];
    static const char *const kinds[3] = {"pointwise", "depthwise", "stem"};
    double top1[48];
    struct shape { int dw; int32_t h, w, c, oc, k, s; } shapes[512];
    char shape_cmds[512][96];
    uint32_t nshapes = 0, j;
    void *bytes;
    sn_model m;
    sn_mcu_link *link = NULL;
    char path[512], err[512], cmd[128], reply[1024], isa[16] = "?";
    size_t len = 0, cap = 8192, nbytes;
    char *buf = malloc(cap);
    int n, i, x, rc = 0, differ = 0, m55;
    /* per kind: count, sums of log instr/MAC (reference, platform), min, max */
    double cnt[3] = {0}, lref[3] = {0}, lnew[3] = {0}, mn[3][2], mx[3][2];
    if (!o->board || !buf)
        return usage();
    if (read_model("sn-mcu", o->model_path, &bytes, &m) != 0)
        return 2;
    m55 = !strcmp(o->board->qemu_cpu, "cortex-m55");
    n = rows_of_kind(&m, "subnet", configs, top1, 48);
    for (i = 0; i < n && !o->nshapes; ++i) {
        sn_config cfg;
        sn_plan *plan = malloc(sizeof *plan);
        size_t need;
        void *arena = NULL;
        if (plan && sn_config_parse(configs[i], &cfg) == SN_OK &&
            sn_plan_arena_bytes_p(&m, &cfg, SN_INT8, &need) == SN_OK &&
            (arena = aligned_alloc(64, (need + 63) / 64 * 64)) != NULL &&
            sn_plan_prepare_p(plan, &m, &cfg, SN_INT8, arena, need, NULL) == SN_OK) {
            uint32_t l;
            for (l = 0; l < plan->num_layers; ++l) {
                const sn_conv2d_params *p = &plan->layers[l].params;
                struct shape s;
                s.dw = plan->layers[l].kind == SN_LAYER_DWCONV;
                s.h = p->in_h; s.w = p->in_w; s.c = p->in_c; s.oc = p->out_c;
                s.k = p->kernel_h; s.s = p->stride_h;
                for (j = 0; j < nshapes; ++j)
                    if (!memcmp(&shapes[j], &s, sizeof s))
                        break;
                if (j == nshapes && nshapes < 512) {
                    snprintf(shape_cmds[nshapes], sizeof shape_cmds[nshapes], "%s %d %d %d %d %d %d",
                             s.dw ? "dw" : "dense", s.h, s.w, s.c, s.oc, s.k, s.s);
                    shapes[nshapes++] = s;
                }
            }
        }
        free(arena);
        free(plan);
    }
    for (j = 0; j < o->nshapes; ++j) {
        snprintf(shape_cmds[j], sizeof shape_cmds[j], "%.95s", o->shapes[j]);
        nshapes = j + 1;
    }
    /* the image of the smallest SubNet, only to boot */
    snprintf(path, sizeof path, "%s/mcu/kernels-%s-%ld.snm", o->build, o->board->name, (long)getpid());
    if (n <= 0 || write_stripped(&m, (const char *const *)&(const char *){configs[0]}, 1, path, &nbytes) != 0 ||
        open_board(o, path, &link) != 0) {
        unlink(path);
        free(buf);
        free(bytes);
        return 2;
    }
    for (j = 0; j < nshapes && rc == 0; ++j) {
        uint64_t clock, ref_clock, macs;
        int32_t h = 0, w = 0, c = 0, oc = 0, k = 0, s = 0;
        char kind[8] = "", kpath[16] = "", equal[8] = "";
        double r_ref, r_new;
        snprintf(cmd, sizeof cmd, "kernel %.96s%s", shape_cmds[j], o->tflite ? " tflite" : "");
        if (sn_mcu_command(link, cmd, reply, sizeof reply, err, sizeof err) != 0 ||
            sn_mcu_field_u64(reply, "clock", &clock) != 0 || sn_mcu_field_u64(reply, "macs", &macs) != 0 ||
            sn_mcu_field_u64(reply, "ref_clock", &ref_clock) != 0 || macs == 0 ||
            sn_mcu_field_text(reply, "path", kpath, sizeof kpath) != 0 ||
            sn_mcu_field_text(reply, "equal", equal, sizeof equal) != 0 ||
            sscanf(shape_cmds[j], "%7s %d %d %d %d %d %d", kind, &h, &w, &c, &oc, &k, &s) != 7) {
            fprintf(stderr, "sn-mcu: %s: %s%s\n", cmd, err[0] ? err : "unexpected reply: ", err[0] ? "" : reply);
            rc = 2;
            break;
        }
        if (j == 0) {
            sn_mcu_field_text(reply, "isa", isa, sizeof isa);
            append(&buf, &len, &cap,
                   "### int8 kernels per layer shape (board %s)\n\n"
                   "%s, run once each by the firmware's `kernel` command on synthetic data in SRAM "
                   "(weights packed; the `KF CF OCF` shapes cut a view from a larger tensor): first "
                   "the platform's own kernels (`platforms/mcu/sn_mcu_kernels.c`, instruction set "
                   "`%s`; *path*: which of its loops ran), then the engine's reference kernels "
                   "`sn_conv2d_ref_s8` / `sn_depthwise_conv2d_ref_s8`, both C99 -O2 built for %s and run "
                   "on QEMU's %s, machine %s; *bit-exact*: the two outputs compared byte for byte. "
                   "*instructions*: emulated:qemu-icount, deterministic. Written by `sn-mcu kernels "
                   "--board %s`.\n\n"
                   "| kind | path | input HxWxC | out C | k | stride | MACs | reference instr | "
                   "reference instr/MAC | platform instr | platform instr/MAC | reference / platform | bit-exact |\n"
                   "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                   o->board->name,
                   o->nshapes ? "The shapes given with --shape (input H x W x C, output channels, kernel, stride; padding k/2)"
                              : "Every distinct convolution shape of the Pareto SubNets (input H x W x C, output "
                                "channels, kernel, stride; padding k/2)",
                   isa, m55 ? "Cortex-M55 (-mcpu=cortex-m55)" : "Cortex-M4F (-mcpu=cortex-m4)",
                   o->board->qemu_cpu, o->board->qemu_machine, o->board->name);
        }
        if (strcmp(equal, "yes"))
            differ = 1;
        r_ref = (double)ref_clock / (double)macs;
        r_new = (double)clock / (double)macs;
        x = !strcmp(kind, "dw") ? 1 : (k == 1 ? 0 : 2);
        if (cnt[x] == 0) {
            mn[x][0] = mx[x][0] = r_ref;
            mn[x][1] = mx[x][1] = r_new;
        }
        cnt[x] += 1;
        lref[x] += log(r_ref);
        lnew[x] += log(r_new);
        mn[x][0] = r_ref < mn[x][0] ? r_ref : mn[x][0];
        mx[x][0] = r_ref > mx[x][0] ? r_ref : mx[x][0];
        mn[x][1] = r_new < mn[x][1] ? r_new : mn[x][1];
        mx[x][1] = r_new > mx[x][1] ? r_new : mx[x][1];
        append(&buf, &len, &cap, "| %s | %s | %dx%dx%d | %d | %d | %d | %llu | %llu | %.2f | %llu | %.2f | %.2fx | %s |\n",
               x == 1 ? "depthwise" : (x == 0 ? "pointwise" : "dense"), kpath, h, w, c, x == 1 ? c : oc, k, s,
               (unsigned long long)macs, (unsigned long long)ref_clock, r_ref, (unsigned long long)clock, r_new,
               r_ref / r_new, equal);
    }
    sn_mcu_close(link);
    unlink(path);
    if (rc == 0 && o->nshapes) {
        if (differ)
            append(&buf, &len, &cap, "\n**The platform's output differs from the reference's on at least one shape.**\n");
        rc = write_out(o->out, buf);
    } else if (rc == 0) {
        const anchor *a = m55 ? cmsis_m55 : cmsis_m7;
        append(&buf, &len, &cap,
               "\n#### Per kind: instructions per MAC, geometric mean (min - max)\n\n"
               "CMSIS-NN: v7 at -Ofast under QEMU -icount on the same shapes on a %s, as issue 21 states "
               "it (a range over the shapes; not measured by this tool). *vs CMSIS-NN*: the platform's "
               "geometric mean over CMSIS-NN's range (its smallest figure gives the larger ratio), and "
               "the platform's largest figure over CMSIS-NN's smallest (a bound on the worst shape's "
               "ratio).\n\n"
               "| kind | shapes | reference | platform | reference / platform | CMSIS-NN | vs CMSIS-NN (geomean) | worst shape vs CMSIS-NN (at most) |\n"
               "|---|---:|---|---|---:|---|---|---:|\n", m55 ? "Cortex-M55 with Helium" : "Cortex-M7");
        for (x = 0; x < 3; ++x) {
            double gr, gn;
            if (cnt[x] == 0)
                continue;
            gr = exp(lref[x] / cnt[x]);
            gn = exp(lnew[x] / cnt[x]);
            if (a[x].lo < a[x].hi)
                append(&buf, &len, &cap, "| %s | %.0f | %.2f (%.2f - %.2f) | %.2f (%.2f - %.2f) | %.2fx | %.2f - %.2f | %.2fx - %.2fx | %.2fx |\n",
                       kinds[x], cnt[x], gr, mn[x][0], mx[x][0], gn, mn[x][1], mx[x][1], gr / gn, a[x].lo, a[x].hi,
                       gn / a[x].hi, gn / a[x].lo, mx[x][1] / a[x].lo);
            else
                append(&buf, &len, &cap, "| %s | %.0f | %.2f (%.2f - %.2f) | %.2f (%.2f - %.2f) | %.2fx | %.2f | %.2fx | %.2fx |\n",
                       kinds[x], cnt[x], gr, mn[x][0], mx[x][0], gn, mn[x][1], mx[x][1], gr / gn, a[x].lo,
                       gn / a[x].lo, mx[x][1] / a[x].lo);
        }
        if (differ)
            append(&buf, &len, &cap, "\n**The platform's output differs from the reference's on at least one shape.**\n");
        rc = write_out(o->out, buf);
    }
    if (rc == 0 && differ) {
        fprintf(stderr, "sn-mcu: kernels: the platform's output differs from the reference's (see the bit-exact column)\n");
        rc = 1;
    }
    free(buf);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    tool_opts o;
    if (argc < 3)
        return usage();
    switch (parse(argc - 2, argv + 2, &o)) {
    case 0: break;
    case -2: return 2; /* said why */
    default: return usage();
    }
    if (!strcmp(argv[1], "strip"))
        return cmd_strip(&o);
    if (!o.board) { /* with --port too: the board names the cycle model */
        fprintf(stderr, "sn-mcu: --board is required (boards: %s)\n", sn_mcu_board_names());
        return 2;
    }
    if (!strcmp(argv[1], "check"))
        return cmd_check(&o);
    if (!strcmp(argv[1], "table"))
        return cmd_table(&o);
    if (!strcmp(argv[1], "kernels"))
        return cmd_kernels(&o);
    return usage();
}
