/* supernav eval: top-1 accuracy, MACs and latency of one SubNet or ARAC config on a canvas
 * set (default: the test split of the image's task), on any platform of the SUT registry
 * (harness/sn_sut.h): measured on the host, modelled on the FPGA and the MCU. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sn_canvas.h" /* sn_canvas_test_prefix */
#include "sn_cli.h"
#include "sn_cpu.h" /* SN_CPU_MAX_THREADS */
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_fpga.h" /* sn_fpga_parse_pe */
#include "sn_idx.h"
#include "sn_opencl.h"
#include "sn_sut.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Nearest-rank percentile of sorted values. */
static double percentile_us(const uint64_t *sorted_ns, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted_ns[rank - 1] / 1000.0;
}

static int load_idx(const char *path, int ndims, const uint32_t *dims, sn_idx *idx)
{
    char msg[512];
    sn_idx_status st = sn_idx_read(path, idx);
    if (st == SN_IDX_OK)
        st = sn_idx_expect(idx, ndims, dims);
    if (st != SN_IDX_OK) {
        sn_cli_error("%s", sn_idx_format_error(msg, sizeof msg, path, st, idx, ndims, dims));
        sn_idx_free(idx);
        return -1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav eval (--subnet CFG | --arac CFG) [--model M] [--data PREFIX]\n"
            "                     [--platform reference|cpu|opencl|fpga|mcu] [--isa ISA] [--device D]\n"
            "                     [--board B] [--pe RxC] [--port DEV] [--cache]\n"
            "                     [--near-kib K] [--int8] [--input-res R] [--limit N] [--warmup N]\n"
            "                     [--json] [--predictions FILE] [--logits FILE]\n"
            "                     [--layer-times [--fma-peak GFLOPS]]\n"
            "  --model    deployment image (default build/supernet.snm)\n"
            "  --data     canvas set prefix from `supernav canvas` (default: the test split of the\n"
            "             task the image names, data/canvas/<task>-test; data/canvas/cf64-test for\n"
            "             an image that names none, CF-64's)\n"
            "  --platform reference (the plain-C oracle), cpu (SIMD kernels, default), opencl,\n"
            "             fpga (int8 only: the cycle-level accelerator model, latency and energy\n"
            "             modelled; platforms/fpga/README.md), or mcu (int8 only: a board's firmware\n"
            "             under qemu-system-arm, latency modelled from emulated instructions;\n"
            "             platforms/mcu/README.md)\n"
            "  --board    fpga: board file (default platforms/fpga/boards/zcu104.board);\n"
            "             mcu (required): a board profile, l4r5, f746, h743 or m55\n"
            "  --pe       fpga only: PE array rows x columns, e.g. 16x32 (default: the board's)\n"
            "  --port     mcu only: a real board's serial port running the firmware (untested here);\n"
            "             default: the board's firmware under qemu-system-arm\n"
            "  --cache    mcu only: the config's SubGraph resident in the SRAM its arena leaves (near\n"
            "             memory; default: every weight read from flash)\n"
            "  --isa      cpu only: auto (default), avx512vnni, avx512, avxvnni, avx2 or portable\n"
            "  --threads N  cpu only: ARAC micro-flows spread over N threads (default 1)\n"
            "  --layer-times  cpu only: each kernel call of the timed inferences timed by layer\n"
            "             kind (stem, pointwise, depthwise, classifier, other): time per inference,\n"
            "             share, GFLOP/s (2 FLOPs per MAC), and with --fma-peak GFLOPS (make\n"
            "             peak-fma measures it) the share of that peak; two clock reads per layer,\n"
            "             included in this run's latencies\n"
            "  --device   opencl only: a device index or a name substring (default\n"
            "             $SUPERNAV_OPENCL_DEVICE, else the first GPU, else the first device);\n"
            "             --device list prints the devices\n"
            "  --near-kib cpu and opencl: near memory for resident weights (default unlimited;\n"
            "             0: every weight moves from far memory on every call); fpga: the\n"
            "             persistent SubGraph buffer (default: the board's); mcu: the SRAM weight\n"
            "             cache, the SubGraph resident as far as it holds\n"
            "  --input-res R  run the SubNet (its weights and BN statistics) on inputs\n"
            "             downsampled to R instead of its own resolution (NeuLens's baseline)\n"
            "  --int8     the int8 path (TFLite semantics; needs a calibrated image)\n"
            "  --limit    evaluate the first N canvases only (mcu default 100: QEMU runs about 10\n"
            "             inferences a second)\n"
            "  --warmup   untimed inferences before timing (default 10; mcu 1)\n"
            "  --json     one JSON object, the same common keys on every platform: config, kind,\n"
            "             platform, isa, threads, precision, data, n, correct, top1 (a percentage,\n"
            "             top1_unit), p50_us, latency_source, arena_bytes, near_weight_bytes,\n"
            "             far_weight_bytes; then the platform's own (opencl: events; fpga, mcu:\n"
            "             their models' cycles, bytes and energy; mcu: p50_us and p99_us modelled, its\n"
            "             instructions, SRAM and flash)\n"
            "  --predictions FILE  each canvas's predicted class as CSV (sample,prediction,label),\n"
            "             written atomically (an accuracy run to check a replay's responses against)\n"
            "  --logits FILE  each canvas's logits as CSV (sample,label,logit0,...), written\n"
            "             atomically; reference, cpu, opencl and fpga (fp32 or the int8 path's\n"
            "             dequantized classifier output)\n");
}

int sn_cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"subnet", required_argument, 0, 's'}, {"arac", required_argument, 0, 'a'},
        {"model", required_argument, 0, 'm'},  {"data", required_argument, 0, 'd'},
        {"platform", required_argument, 0, 'p'}, {"limit", required_argument, 0, 'n'},
        {"warmup", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
        {"int8", no_argument, 0, 'i'},          {"help", no_argument, 0, 'h'},
        {"isa", required_argument, 0, 'I'},    {"input-res", required_argument, 0, 'r'},
        {"device", required_argument, 0, 'D'}, {"near-kib", required_argument, 0, 'k'},
        {"board", required_argument, 0, 'B'},  {"pe", required_argument, 0, 'E'},
        {"threads", required_argument, 0, 'T'}, {"predictions", required_argument, 0, 'P'},
        {"port", required_argument, 0, 'O'},   {"cache", no_argument, 0, 'C'},
        {"logits", required_argument, 0, 'L'},  {"layer-times", no_argument, 0, 'Y'},
        {"fma-peak", required_argument, 0, 'F'}, {0, 0, 0, 0}};
    const char *model_path = "build/supernet.snm", *data = NULL;
    const char *platform_name = "cpu", *isa = NULL, *config_text = NULL, *why = "", *device = NULL;
    const char *board_path = NULL, *port = NULL;
    int32_t pe_rows = 0, pe_cols = 0;
    const sn_sut_ops *ops = NULL;
    sn_sut *sut = NULL;
    sn_sut_desc desc;
    char err[1024];
    int has_device_time = 0;
    double near_sum = 0.0, far_sum = 0.0;
    long limit = -1, warmup = -1, input_res = 0, near_kib = -1, threads = 1;
    int layer_times = 0;
    double fma_peak = 0.0;
    int json = 0, int8 = 0, c, is_arac = 0, rc = 1, cache = 0, is_mcu;
    char path[1024], images_path[1024], canonical[SN_CONFIG_TEXT_MAX];
    sn_idx images = {0}, labels = {0};
    uint32_t img_dims[3] = {0, 0, 0}, lbl_dims[1] = {0};
    void *image_bytes = NULL, *arena = NULL;
    size_t need, i, n, correct = 0;
    uint64_t *lat = NULL, *dev_lat = NULL;
    uint8_t *preds = NULL;
    const char *preds_path = NULL, *logits_path = NULL;
    float *logits = NULL;
    uint32_t classes = 0;
    double macs_sum = 0.0;
    sn_model model;
    sn_config config;
    sn_plan *plan = NULL;
    sn_status st;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': config_text = optarg; is_arac = 0; break;
        case 'a': config_text = optarg; is_arac = 1; break;
        case 'm': model_path = optarg; break;
        case 'd': data = optarg; break;
        case 'p': platform_name = optarg; break;
        case 'I': isa = optarg; break;
        case 'D': device = optarg; break;
        case 'B': board_path = optarg; break;
        case 'O': port = optarg; break;
        case 'Y': layer_times = 1; break;
        case 'F':
            if (sn_cli_parse_double(optarg, 0.0, 1e6, &fma_peak) != 0) {
                sn_cli_error("--fma-peak must be a positive number of GFLOP/s");
                return 2;
            }
            break;
        case 'C': cache = 1; break;
        case 'E':
            if (sn_fpga_parse_pe(optarg, &pe_rows, &pe_cols) != 0) {
                sn_cli_error("--pe must be ROWSxCOLS, each 1..1024 (e.g. 16x32), not '%s'", optarg);
                return 2;
            }
            break;
        case 'k':
            errno = 0;
            near_kib = strtol(optarg, &end, 10);
            if (errno || *end || near_kib < 0 || near_kib > (1L << 30)) {
                sn_cli_error("--near-kib must be a size in KiB");
                return 2;
            }
            break;
        case 'r':
            errno = 0;
            input_res = strtol(optarg, &end, 10);
            if (errno || *end || input_res < 1 || input_res > 4096) {
                sn_cli_error("--input-res must be a resolution in pixels");
                return 2;
            }
            break;
        case 'j': json = 1; break;
        case 'T':
            errno = 0;
            threads = strtol(optarg, &end, 10);
            if (errno || *end || threads < 1 || threads > SN_CPU_MAX_THREADS) {
                sn_cli_error("--threads must be an integer from 1 to %d", SN_CPU_MAX_THREADS);
                return 2;
            }
            break;
        case 'i': int8 = 1; break;
        case 'P': preds_path = optarg; break;
        case 'L': logits_path = optarg; break;
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
    if (device && !strcmp(device, "list")) {
        char list[4096];
        int count = sn_opencl_list(list, sizeof list);
        if (count == 0) {
            sn_cli_error("no OpenCL platform or device found (install an ICD, e.g. pocl-opencl-icd)");
            return 1;
        }
        fputs(list, stdout);
        return 0;
    }
    if (optind < argc || !config_text) {
        sn_cli_error(optind < argc ? "unexpected argument" : "--subnet CFG or --arac CFG is required");
        return 2;
    }
    ops = sn_sut_find(platform_name);
    if (!ops || ops == &sn_sut_null) {
        sn_cli_error("platform '%s' is not available to eval (built: reference, cpu, opencl, fpga, mcu)", platform_name);
        return 1;
    }
    if (ops->precision == SN_INT8)
        int8 = 1; /* the accelerator model is int8 */
    if (near_kib >= 0 && ops == &sn_sut_reference) {
        sn_cli_error("--near-kib applies to --platform cpu, opencl, fpga and mcu only");
        return 2;
    }
    is_mcu = !strcmp(ops->name, "mcu");
    if (cache && (!is_mcu || near_kib >= 0)) {
        sn_cli_error(is_mcu ? "--cache and --near-kib: one or the other" : "--cache applies to --platform mcu "
                     "only (elsewhere --near-kib)");
        return 2;
    }
    if (is_mcu && input_res) { /* the board plans the config by its name */
        sn_cli_error("--input-res is not available on --platform mcu");
        return 2;
    }
    if (warmup < 0)
        warmup = is_mcu ? 1 : 10; /* an emulated board runs about 10 inferences a second */
    if (limit < 0 && is_mcu)
        limit = 100;
    if (sn_config_parse(config_text, &config) != SN_OK || config.is_arac != is_arac) {
        sn_cli_error("'%s' is not a valid %s config (see workloads/supernet/README.md)",
                     config_text, is_arac ? "ARAC" : "SubNet");
        return 2;
    }
    config.input_res = (uint32_t)input_res;
    if (sn_cli_load_model(model_path, &image_bytes, &model) != 0)
        return 1;
    if (!data && !(data = sn_canvas_test_prefix(model.arch.task))) {
        sn_cli_error("%s names canvas task %u, which this build does not know: pass --data", model_path,
                     model.arch.task);
        goto done;
    }
    st = sn_plan_arena_bytes_p(&model, &config, int8 ? SN_INT8 : SN_FP32, &need);
    plan = malloc(sizeof *plan);
    if (st == SN_OK && (!plan || posix_memalign(&arena, 64, need) != 0)) {
        sn_cli_error("out of memory");
        goto done;
    }
    if (st == SN_OK)
        st = sn_plan_prepare_p(plan, &model, &config, int8 ? SN_INT8 : SN_FP32, arena, need, &why);
    else
        sn_plan_prepare_p(plan, &model, &config, int8 ? SN_INT8 : SN_FP32, NULL, 0, &why);
    if (st != SN_OK) {
        sn_cli_error("%s: %s", config_text, why);
        goto done;
    }
    /* the platform, through the SUT registry (harness/sn_sut.h), serving this one plan */
    {
        sn_sut_options so;
        sn_sut_set set;
        sn_sut_moved mv;
        uint8_t keep = 0;
        memset(&so, 0, sizeof so);
        so.isa = isa;
        so.device = device;
        so.board = board_path;
        so.port = port;
        so.build_dir = getenv("BUILD");
        so.pe_rows = pe_rows;
        so.pe_cols = pe_cols;
        so.threads = (int)threads;
        so.layer_times = layer_times;
        so.fma_peak_gflops = fma_peak;
        /* --cache: the platform's own budget (SIZE_MAX), the SubGraph made resident */
        so.near_budget_bytes = near_kib >= 0 ? (size_t)near_kib * 1024u : SIZE_MAX;
        so.explicit_residency = near_kib >= 0 || cache;
        set.model = &model;
        set.precision = int8 ? SN_INT8 : SN_FP32;
        set.n = 1;
        set.configs = &config_text;
        set.plans = &plan;
        st = ops->open(&sut, &set, &so, &keep, err, sizeof err);
        if (st != SN_OK) {
            sut = NULL;
            sn_cli_error("%s", err);
            rc = st == SN_ERR_INVALID_ARGUMENT ? 2 : 1; /* an option it refuses */
            goto done;
        }
        ops->describe(sut, &desc);
        /* the plan's weights resident as far as --near-kib holds them (without it: resident
         * after first use where the platform does that, else now) */
        if ((so.explicit_residency || !desc.resident_on_use) &&
            ops->resident(sut, 0, plan, 0, &mv, err, sizeof err) != SN_OK) {
            sn_cli_error("platform %s: cannot make the SubGraph resident: %s", desc.name, err);
            goto done;
        }
    }
    snprintf(images_path, sizeof images_path, "%s-images-idx3-ubyte", data);
    img_dims[1] = img_dims[2] = model.arch.canvas;
    if (load_idx(images_path, 3, img_dims, &images) != 0)
        goto done;
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", data);
    lbl_dims[0] = images.dims[0];
    if (load_idx(path, 1, lbl_dims, &labels) != 0)
        goto done;
    n = images.dims[0];
    if (limit > 0 && (size_t)limit < n)
        n = (size_t)limit;
    lat = malloc(n * sizeof *lat);
    dev_lat = malloc(n * sizeof *dev_lat);
    preds = malloc(n ? n : 1);
    classes = model.arch.num_classes;
    if (logits_path)
        logits = malloc((n ? n : 1) * classes * sizeof *logits);
    if (!lat || !dev_lat || !preds || (logits_path && !logits)) {
        sn_cli_error("out of memory");
        goto done;
    }
    {
        sn_sut_sample smp;
        sn_sut_result r;
        smp.side = model.arch.canvas;
        smp.file = images_path; /* a board that reads the canvas itself (mcu over QEMU) */
        for (i = 0; i < (size_t)warmup && i < n; ++i) {
            smp.canvas = images.data;
            smp.file_offset = images.header_bytes;
            if (ops->infer(sut, 0, plan, &smp, &r, err, sizeof err) != SN_OK) {
                sn_cli_error("inference failed: %s", err);
                goto done;
            }
        }
        if (ops->account_reset)
            ops->account_reset(sut);
        for (i = 0; i < n; ++i) {
            uint64_t t0;
            smp.canvas = images.data + i * model.arch.canvas * model.arch.canvas;
            smp.file_offset = images.header_bytes + (uint64_t)i * model.arch.canvas * model.arch.canvas;
            t0 = now_ns();
            st = ops->infer(sut, 0, plan, &smp, &r, err, sizeof err);
            lat[i] = now_ns() - t0;
            if (st == SN_OK && desc.clock == SN_SUT_CLOCK_MEASURED && r.us >= 0.0)
                lat[i] = (uint64_t)llround(r.us * 1e3); /* its own time, without its untimed preparation */
            if (st != SN_OK) {
                sn_cli_error("inference failed: %s", err);
                goto done;
            }
            dev_lat[i] = r.device_us >= 0.0 ? (uint64_t)llround(r.device_us * 1e3) : 0;
            has_device_time |= r.device_us >= 0.0;
            near_sum += (double)r.near_bytes;
            far_sum += (double)r.far_bytes;
            correct += (uint32_t)r.prediction == labels.data[i];
            preds[i] = (uint8_t)r.prediction;
            if (logits) {
                if (!r.logits || r.classes != classes) {
                    sn_cli_error("--logits: platform %s reports no logits", desc.name);
                    goto done;
                }
                memcpy(logits + i * classes, r.logits, classes * sizeof *logits);
            }
            macs_sum += r.macs ? (double)r.macs : (double)(plan->is_arac ? plan->arac.last_macs : plan->macs);
        }
    }
    if (preds_path) {
        sn_atomic_file af;
        int werr = sn_atomic_open(&af, preds_path);
        if (werr == 0) {
            fprintf(af.fp, "sample,prediction,label\n");
            for (i = 0; i < n; ++i)
                fprintf(af.fp, "%zu,%u,%u\n", i, preds[i], labels.data[i]);
            werr = ferror(af.fp) ? (errno = EIO, -1) : sn_atomic_commit(&af);
            if (werr != 0)
                sn_atomic_abort(&af);
        }
        if (werr != 0) {
            sn_cli_error("cannot write %s: %s", preds_path, strerror(errno));
            goto done;
        }
    }
    if (logits_path) {
        sn_atomic_file af;
        int werr = sn_atomic_open(&af, logits_path);
        if (werr == 0) {
            uint32_t k;
            fprintf(af.fp, "sample,label");
            for (k = 0; k < classes; ++k)
                fprintf(af.fp, ",logit%u", k);
            fputc('\n', af.fp);
            for (i = 0; i < n; ++i) {
                fprintf(af.fp, "%zu,%u", i, labels.data[i]);
                for (k = 0; k < classes; ++k)
                    fprintf(af.fp, ",%.9g", (double)logits[i * classes + k]);
                fputc('\n', af.fp);
            }
            werr = ferror(af.fp) ? (errno = EIO, -1) : sn_atomic_commit(&af);
            if (werr != 0)
                sn_atomic_abort(&af);
        }
        if (werr != 0) {
            sn_cli_error("cannot write %s: %s", logits_path, strerror(errno));
            goto done;
        }
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    qsort(dev_lat, n, sizeof *dev_lat, cmp_u64);
    sn_config_format(&config, canonical, sizeof canonical);
    {
        /* one schema for every platform (usage: --json): the platform's own figures follow the
         * common ones, and its report replaces a common one it has its own figure for (the
         * MCU's modelled latency); the text says what the JSON says */
        const int is_cpu = !strcmp(desc.name, "cpu"), own_text = is_cpu || !strcmp(desc.name, "opencl");
        const char *lsrc = !strcmp(desc.name, "opencl") ? "measured:clock_gettime(CLOCK_MONOTONIC),host wall clock around each inference"
                           : is_cpu ? "measured:clock_gettime(CLOCK_MONOTONIC),single thread,around the plan's invoke "
                                      "(far weights flushed from the caches before it, untimed)"
                                    : "measured:clock_gettime(CLOCK_MONOTONIC),single thread";
        cJSON *j = cJSON_CreateObject();
        char *text = NULL, extra[4096] = "";
        const char *src;
        double dn = (double)n;
        cJSON_AddStringToObject(j, "config", canonical);
        cJSON_AddStringToObject(j, "kind", is_arac ? "arac" : "subnet");
        cJSON_AddStringToObject(j, "platform", desc.name);
        cJSON_AddStringToObject(j, "isa", is_cpu ? desc.variant : "none");
        cJSON_AddNumberToObject(j, "threads", is_cpu && threads > 1 ? (double)threads : 1.0);
        cJSON_AddStringToObject(j, "precision", int8 ? "int8" : "fp32");
        cJSON_AddNumberToObject(j, "input_res", is_arac ? model.arch.canvas : (input_res ? (unsigned)input_res : config.subnet.res));
        cJSON_AddStringToObject(j, "data", data);
        cJSON_AddNumberToObject(j, "n", (double)n);
        cJSON_AddNumberToObject(j, "correct", (double)correct);
        cJSON_AddNumberToObject(j, "top1", round(10000.0 * (double)correct / dn) / 100.0);
        cJSON_AddStringToObject(j, "top1_unit", "percent");
        cJSON_AddNumberToObject(j, "macs", round(macs_sum / dn));
        cJSON_AddNumberToObject(j, "p50_us", round(percentile_us(lat, n, 0.50) * 10.0) / 10.0);
        cJSON_AddNumberToObject(j, "p99_us", round(percentile_us(lat, n, 0.99) * 10.0) / 10.0);
        cJSON_AddStringToObject(j, "latency_source", lsrc);
        cJSON_AddNumberToObject(j, "arena_bytes", (double)plan->arena_bytes);
        cJSON_AddNumberToObject(j, "near_weight_bytes", round(near_sum / dn));
        cJSON_AddNumberToObject(j, "far_weight_bytes", round(far_sum / dn));
        if (has_device_time) {
            cJSON_AddNumberToObject(j, "event_p50_us", round(percentile_us(dev_lat, n, 0.50) * 10.0) / 10.0);
            cJSON_AddNumberToObject(j, "event_p99_us", round(percentile_us(dev_lat, n, 0.99) * 10.0) / 10.0);
        }
        if (ops->report)
            ops->report(sut, n, j, extra, sizeof extra);
        src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "latency_source"));
        if (json) {
            text = cJSON_PrintUnformatted(j);
            if (!text) {
                cJSON_Delete(j);
                sn_cli_error("out of memory");
                goto done;
            }
            printf("%s\n", text);
            free(text);
        } else {
            printf("config    %s\nplatform  %s%s%s (%s)\ndata      %s (%zu canvases)\n", canonical, desc.name,
                   is_cpu ? ", isa " : own_text ? ", device " : "", own_text ? desc.device_value : "",
                   int8 ? "int8" : "fp32", data, n);
            printf("top-1     %.2f %% (%zu / %zu)\nMACs      %.0f%s\n", 100.0 * (double)correct / dn,
                   correct, n, macs_sum / dn, is_arac ? " (mean over the canvases)" : "");
            if (src && strcmp(src, lsrc) != 0) /* the platform's own */
                printf("latency   p50 %.1f us, p99 %.1f us (%s)\n",
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "p50_us")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "p99_us")), src);
            else
                printf("latency   p50 %.1f us, p99 %.1f us (measured: wall clock, %s)\n",
                       percentile_us(lat, n, 0.50), percentile_us(lat, n, 0.99),
                       !strcmp(desc.name, "opencl") ? "host, around each inference"
                       : is_cpu ? "single thread, far weights flushed before each inference (untimed)"
                                : "single thread");
            printf("arena     %zu bytes\n", plan->arena_bytes);
            if (own_text)
                printf("weights   %.0f bytes near, %.0f far per inference (%s)\n", near_sum / dn, far_sum / dn,
                       near_kib >= 0 ? "the SubGraph resident as far as --near-kib holds it"
                                     : "resident after first use");
            if (has_device_time)
                printf("events    p50 %.1f us, p99 %.1f us (measured: OpenCL profiling events, first QUEUED to "
                       "last END of each platform call, summed)\n",
                       percentile_us(dev_lat, n, 0.50), percentile_us(dev_lat, n, 0.99));
            fputs(extra, stdout);
        }
        cJSON_Delete(j);
    }
    rc = 0;
done:
    if (sut)
        sut->ops->close(sut);
    free(preds);
    free(logits);
    free(lat);
    free(dev_lat);
    sn_idx_free(&images);
    sn_idx_free(&labels);
    free(arena);
    free(plan);
    free(image_bytes);
    return rc;
}
