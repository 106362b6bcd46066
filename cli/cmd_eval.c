/* supernav eval: top-1 accuracy, MACs and measured latency of one SubNet or ARAC config on
 * a canvas set (default: the CF-64 test split). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sn_cli.h"
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_fpga.h"
#include "sn_idx.h"
#include "sn_opencl.h"

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

/* DATA as a JSON string body (quotes, backslashes and control bytes escaped). */
static void print_json_string(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    for (; *p; ++p) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav eval (--subnet CFG | --arac CFG) [--model M] [--data PREFIX]\n"
            "                     [--platform reference|cpu|opencl|fpga] [--isa ISA] [--device D]\n"
            "                     [--board FILE] [--pe RxC]\n"
            "                     (--platform mcu --board B: supernav eval --platform mcu --help)\n"
            "                     [--near-kib K] [--int8] [--input-res R] [--limit N] [--warmup N]\n"
            "                     [--json] [--predictions FILE]\n"
            "  --model    deployment image (default build/supernet.snm)\n"
            "  --data     canvas set prefix from `supernav canvas` (default data/canvas/cf64-test)\n"
            "  --platform reference (the plain-C oracle), cpu (SIMD kernels, default), opencl, or\n"
            "             fpga (int8 only: the cycle-level accelerator model, latency and energy\n"
            "             modelled; platforms/fpga/README.md)\n"
            "  --board    fpga only: board file (default platforms/fpga/boards/zcu104.board)\n"
            "  --pe       fpga only: PE array rows x columns, e.g. 16x32 (default: the board's)\n"
            "  --isa      cpu only: auto (default), avx512, avx2 or portable\n"
            "  --threads N  cpu only: ARAC micro-flows spread over N threads (default 1)\n"
            "  --device   opencl only: a device index or a name substring (default\n"
            "             $SUPERNAV_OPENCL_DEVICE, else the first GPU, else the first device);\n"
            "             --device list prints the devices\n"
            "  --near-kib cpu and opencl: near memory for resident weights (default unlimited;\n"
            "             0: every weight moves from far memory on every call); fpga: the\n"
            "             persistent SubGraph buffer (default: the board's)\n"
            "  --input-res R  run the SubNet (its weights and BN statistics) on inputs\n"
            "             downsampled to R instead of its own resolution (NeuLens's baseline)\n"
            "  --int8     the int8 path (TFLite semantics; needs a calibrated image)\n"
            "  --limit    evaluate the first N canvases only\n"
            "  --warmup   untimed inferences before timing (default 10)\n"
            "  --json     one JSON object: config, platform, n, top1, macs, p50_us, p99_us, ...\n"
            "  --predictions FILE  each canvas's predicted class as CSV (sample,prediction,label),\n"
            "             written atomically (an accuracy run to check a replay's responses against)\n");
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
        {0, 0, 0, 0}};
    const char *model_path = "build/supernet.snm", *data = "data/canvas/cf64-test";
    const char *platform_name = "cpu", *isa = NULL, *config_text = NULL, *why = "", *device = NULL;
    const char *board_path = NULL;
    int32_t pe_rows = 0, pe_cols = 0;
    sn_fpga *fpga = NULL;
    sn_cpu *fpga_cpu = NULL;
    sn_platform fpga_compute;
    sn_fpga_stats fpga_stats;
    sn_fpga_board fpga_board;
    size_t fpga_loaded = 0;
    uint64_t fpga_load_cycles = 0;
    long limit = -1, warmup = 10, input_res = 0, near_kib = -1, threads = 1;
    int json = 0, int8 = 0, c, is_arac = 0, rc = 1;
    char path[1024], canonical[SN_CONFIG_TEXT_MAX];
    sn_idx images = {0}, labels = {0};
    uint32_t img_dims[3] = {0, 0, 0}, lbl_dims[1] = {0};
    void *image_bytes = NULL, *arena = NULL;
    size_t need, i, n, correct = 0;
    uint64_t *lat = NULL, *dev_lat = NULL;
    uint8_t *preds = NULL;
    const char *preds_path = NULL;
    float *logits = NULL;
    double macs_sum = 0.0;
    sn_model model;
    sn_config config;
    sn_plan *plan = NULL;
    sn_cpu *cpu = NULL;
    sn_cpu_stats cpu_stats;
    sn_opencl *ocl = NULL;
    sn_opencl_stats ocl_total, ocl_one;
    sn_platform platform = sn_platform_reference;
    sn_status st;

    for (c = 1; c + 1 < argc; ++c) /* the MCU platform has its own options (cmd_eval_mcu.c) */
        if (!strcmp(argv[c], "--platform") && !strcmp(argv[c + 1], "mcu"))
            return sn_cmd_eval_mcu(argc, argv);
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
    if (strcmp(platform_name, "reference") != 0 && strcmp(platform_name, "cpu") != 0 &&
        strcmp(platform_name, "opencl") != 0 && strcmp(platform_name, "fpga") != 0) {
        sn_cli_error("platform '%s' is not available to eval (built: reference, cpu, opencl, fpga)", platform_name);
        return 1;
    }
    if ((board_path || pe_rows) && strcmp(platform_name, "fpga") != 0) {
        sn_cli_error("--board and --pe apply to --platform fpga only");
        return 2;
    }
    if (!strcmp(platform_name, "fpga")) {
        char berr[1024];
        int8 = 1; /* the accelerator model is int8 */
        if (!board_path)
            board_path = "platforms/fpga/boards/zcu104.board";
        if (sn_fpga_board_load(board_path, &fpga_board, berr, sizeof berr) != 0) {
            sn_cli_error("%s", berr);
            return 1;
        }
    }
    if (isa && strcmp(platform_name, "cpu") != 0) {
        sn_cli_error("--isa applies to --platform cpu only");
        return 2;
    }
    if (device && strcmp(platform_name, "opencl") != 0) {
        sn_cli_error("--device applies to --platform opencl only");
        return 2;
    }
    if (threads > 1 && strcmp(platform_name, "cpu") != 0) {
        sn_cli_error("--threads applies to --platform cpu only");
        return 2;
    }
    if (near_kib >= 0 && !strcmp(platform_name, "reference")) {
        sn_cli_error("--near-kib applies to --platform cpu, opencl and fpga only");
        return 2;
    }
    if (sn_config_parse(config_text, &config) != SN_OK || config.is_arac != is_arac) {
        sn_cli_error("'%s' is not a valid %s config (see workloads/supernet/README.md)",
                     config_text, is_arac ? "ARAC" : "SubNet");
        return 2;
    }
    config.input_res = (uint32_t)input_res;
    if (sn_cli_load_model(model_path, &image_bytes, &model) != 0)
        return 1;
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
    if (!strcmp(platform_name, "cpu")) {
        sn_cpu_options opt;
        sn_cpu_options_default(&opt);
        opt.isa = isa;
        opt.threads = (int)threads;
        if (near_kib >= 0) {
            opt.near_budget_bytes = (size_t)near_kib * 1024u;
            opt.residency = SN_CPU_RESIDENT_EXPLICIT;
        }
        if (sn_cpu_create(&model, &opt, &cpu, &why) != SN_OK) {
            sn_cli_error("platform cpu%s%s: %s", isa ? " --isa " : "", isa ? isa : "", why);
            goto done;
        }
        sn_cpu_platform(cpu, &platform);
        if (near_kib >= 0 && sn_cpu_make_resident(cpu, plan, NULL) != SN_OK) {
            sn_cli_error("platform cpu: cannot make the SubGraph resident");
            goto done;
        }
    } else if (!strcmp(platform_name, "fpga")) {
        /* outputs from the CPU platform's int8 kernels (bit-exact with the reference, tested),
         * counted on the accelerator model; the plan's SubGraph loaded into the persistent buffer */
        sn_fpga_options fo;
        sn_cpu_options co;
        char ferr[1024];
        sn_cpu_options_default(&co);
        if (sn_cpu_create(&model, &co, &fpga_cpu, &why) != SN_OK) {
            sn_cli_error("platform fpga: its cpu compute kernels: %s", why);
            goto done;
        }
        sn_cpu_platform(fpga_cpu, &fpga_compute);
        sn_fpga_options_default(&fo);
        fo.compute = &fpga_compute;
        fo.pe_rows = pe_rows;
        fo.pe_cols = pe_cols;
        if (near_kib >= 0)
            fo.persist_bytes = (size_t)near_kib * 1024u;
        if (sn_fpga_create(&model, &fpga_board, &fo, &fpga, ferr, sizeof ferr) != 0) {
            sn_cli_error("platform fpga: %s", ferr);
            goto done;
        }
        sn_fpga_platform(fpga, &platform);
        sn_fpga_make_resident(fpga, plan, &fpga_loaded);
        sn_fpga_stats_get(fpga, &fpga_stats);
        fpga_load_cycles = fpga_stats.load_cycles;
    } else if (!strcmp(platform_name, "opencl")) {
        sn_opencl_options opt;
        char owhy[512] = "";
        sn_opencl_options_default(&opt);
        opt.device = device;
        if (near_kib >= 0) {
            opt.near_budget_bytes = (size_t)near_kib * 1024u;
            opt.residency = SN_OPENCL_RESIDENT_EXPLICIT;
        }
        if (sn_opencl_create(&model, &opt, &ocl, owhy, sizeof owhy) != SN_OK) {
            sn_cli_error("platform opencl: %s", owhy);
            goto done;
        }
        sn_opencl_platform(ocl, &platform);
        if (near_kib >= 0 && sn_opencl_make_resident(ocl, plan, NULL) != SN_OK) {
            sn_cli_error("platform opencl: cannot make the SubGraph resident: %s", sn_opencl_last_error(ocl));
            goto done;
        }
    }
    snprintf(path, sizeof path, "%s-images-idx3-ubyte", data);
    img_dims[1] = img_dims[2] = model.arch.canvas;
    if (load_idx(path, 3, img_dims, &images) != 0)
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
    if (!lat || !dev_lat || !preds) {
        sn_cli_error("out of memory");
        goto done;
    }
    logits = malloc(model.arch.num_classes * sizeof *logits);
    if (!logits) {
        sn_cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < (size_t)warmup && i < n; ++i)
        sn_plan_invoke(plan, &platform, images.data, logits, NULL, NULL);
    if (cpu)
        sn_cpu_stats_reset(cpu);
    if (fpga)
        sn_fpga_stats_reset(fpga);
    memset(&ocl_total, 0, sizeof ocl_total);
    for (i = 0; i < n; ++i) {
        const uint8_t *canvas = images.data + i * model.arch.canvas * model.arch.canvas;
        uint64_t t0;
        uint32_t k, best = 0;
        if (ocl)
            sn_opencl_stats_reset(ocl);
        if (fpga)
            sn_fpga_begin_inference(fpga);
        t0 = now_ns();
        st = sn_plan_invoke(plan, &platform, canvas, logits, NULL, NULL);
        lat[i] = now_ns() - t0;
        if (st != SN_OK) {
            sn_cli_error("inference failed: %s%s%s", sn_status_str(st), ocl ? ": " : "",
                         ocl ? sn_opencl_last_error(ocl) : "");
            goto done;
        }
        if (ocl) {
            sn_opencl_stats_get(ocl, &ocl_one);
            dev_lat[i] = ocl_one.device_ns;
            ocl_total.near_bytes += ocl_one.near_bytes;
            ocl_total.far_bytes += ocl_one.far_bytes;
            ocl_total.weight_write_ns += ocl_one.weight_write_ns;
            ocl_total.act_write_bytes += ocl_one.act_write_bytes;
            ocl_total.act_read_bytes += ocl_one.act_read_bytes;
            ocl_total.act_transfer_ns += ocl_one.act_transfer_ns;
            ocl_total.kernel_ns += ocl_one.kernel_ns;
            ocl_total.kernels += ocl_one.kernels;
            ocl_total.queued_ns += ocl_one.queued_ns;
            ocl_total.submit_ns += ocl_one.submit_ns;
            ocl_total.wall_ns += ocl_one.wall_ns;
            ocl_total.flow_commands_ns += ocl_one.flow_commands_ns;
            ocl_total.flow_span_ns += ocl_one.flow_span_ns;
        }
        for (k = 1; k < model.arch.num_classes; ++k)
            if (logits[k] > logits[best])
                best = k;
        correct += best == labels.data[i];
        preds[i] = (uint8_t)best;
        macs_sum += (double)(plan->is_arac ? plan->arac.last_macs : plan->macs);
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
    qsort(lat, n, sizeof *lat, cmp_u64);
    if (ocl)
        qsort(dev_lat, n, sizeof *dev_lat, cmp_u64);
    memset(&cpu_stats, 0, sizeof cpu_stats);
    if (cpu)
        sn_cpu_stats_get(cpu, &cpu_stats);
    if (ocl) {
        cpu_stats.near_bytes = ocl_total.near_bytes;
        cpu_stats.far_bytes = ocl_total.far_bytes;
    }
    if (fpga) {
        sn_fpga_stats_get(fpga, &fpga_stats);
        cpu_stats.near_bytes = fpga_stats.persist_read_bytes;
        cpu_stats.far_bytes = fpga_stats.ddr_weight_bytes;
    }
    sn_config_format(&config, canonical, sizeof canonical);
    if (json) {
        printf("{\"config\":\"%s\",\"kind\":\"%s\",\"platform\":\"%s\",\"isa\":\"%s\",\"threads\":%d,"
               "\"precision\":\"%s\",\"input_res\":%u,\"data\":\"", canonical, is_arac ? "arac" : "subnet",
               platform_name, cpu ? sn_cpu_isa(cpu) : "none", cpu ? sn_cpu_threads(cpu) : 1, int8 ? "int8" : "fp32",
               is_arac ? model.arch.canvas : (input_res ? (unsigned)input_res : config.subnet.res));
        print_json_string(data);
        printf("\",\"n\":%zu,\"correct\":%zu,\"top1\":%.2f,\"macs\":%.0f,"
               "\"p50_us\":%.1f,\"p99_us\":%.1f,\"latency_source\":\"measured:clock_gettime(CLOCK_MONOTONIC),"
               "%s\",\"arena_bytes\":%zu,\"near_weight_bytes\":%.0f,"
               "\"far_weight_bytes\":%.0f",
               n, correct,
               100.0 * (double)correct / (double)n, macs_sum / (double)n, percentile_us(lat, n, 0.50),
               percentile_us(lat, n, 0.99), ocl ? "host wall clock around each inference" : "single thread",
               plan->arena_bytes,
               (double)cpu_stats.near_bytes / (double)n, (double)cpu_stats.far_bytes / (double)n);
        if (ocl) {
            double dn = (double)n;
            printf(",\"device\":\"");
            print_json_string(sn_opencl_device_name(ocl));
            printf("\",\"event_p50_us\":%.1f,\"event_p99_us\":%.1f,\"event_source\":"
                   "\"measured:OpenCL profiling events, per platform call first QUEUED to last END, summed\","
                   "\"kernel_us\":%.1f,\"weight_transfer_us\":%.1f,\"act_transfer_us\":%.1f,"
                   "\"queued_us\":%.1f,\"submit_us\":%.1f,\"platform_wall_us\":%.1f,"
                   "\"weight_transfer_bytes\":%.0f,\"act_write_bytes\":%.0f,\"act_read_bytes\":%.0f,"
                   "\"kernels\":%.1f,\"flow_commands_us\":%.1f,\"flow_span_us\":%.1f,\"out_of_order\":%d",
                   percentile_us(dev_lat, n, 0.50), percentile_us(dev_lat, n, 0.99),
                   (double)ocl_total.kernel_ns / 1e3 / dn, (double)ocl_total.weight_write_ns / 1e3 / dn,
                   (double)ocl_total.act_transfer_ns / 1e3 / dn, (double)ocl_total.queued_ns / 1e3 / dn,
                   (double)ocl_total.submit_ns / 1e3 / dn, (double)ocl_total.wall_ns / 1e3 / dn,
                   (double)ocl_total.far_bytes / dn, (double)ocl_total.act_write_bytes / dn,
                   (double)ocl_total.act_read_bytes / dn, (double)ocl_total.kernels / dn,
                   (double)ocl_total.flow_commands_ns / 1e3 / dn, (double)ocl_total.flow_span_ns / 1e3 / dn,
                   sn_opencl_out_of_order(ocl));
        }
        if (fpga) {
            const sn_fpga_board *b = sn_fpga_board_of(fpga);
            double dn = (double)n, cyc = (double)fpga_stats.cycles / dn;
            sn_fpga_stats one = fpga_stats;
            sn_fpga_energy e;
            sn_fpga_energy_of(b, &one, fpga_stats.cycles, &e);
            printf(",\"board\":\"");
            print_json_string(b->path);
            printf("\",\"board_name\":\"%s\",\"pe\":\"%dx%d\",\"clock_mhz\":%g,\"persist_kib\":%.1f,"
                   "\"modelled_us\":%.3f,\"cycles\":%.0f,\"compute_cycles\":%.0f,\"pe_utilisation\":%.4f,"
                   "\"ddr_weight_bytes\":%.0f,\"ddr_act_bytes\":%.0f,\"persist_read_bytes\":%.0f,"
                   "\"buffer_bytes\":%.0f,\"subgraph_load_bytes\":%zu,\"subgraph_load_us\":%.3f,"
                   "\"energy_uj\":%.4f,\"energy_mac_uj\":%.4f,\"energy_buffer_uj\":%.4f,"
                   "\"energy_persist_uj\":%.4f,\"energy_offchip_uj\":%.4f,\"energy_static_uj\":%.4f,"
                   "\"model_source\":\"model:fpga-cycle-model(%s, %dx%d PEs, %g MHz); energy model:horowitz45 "
                   "per-access + static power x modelled time\"",
                   b->name, b->pe_rows, b->pe_cols, b->clock_mhz, b->persist_buffer_kib,
                   cyc * sn_fpga_us_per_cycle(b), cyc, (double)fpga_stats.compute_cycles / dn,
                   (double)fpga_stats.macs / ((double)fpga_stats.cycles * b->pe_rows * b->pe_cols),
                   (double)fpga_stats.ddr_weight_bytes / dn, (double)fpga_stats.ddr_act_bytes / dn,
                   (double)fpga_stats.persist_read_bytes / dn, (double)fpga_stats.buffer_bytes / dn,
                   fpga_loaded, (double)fpga_load_cycles * sn_fpga_us_per_cycle(b), e.total_pj / 1e6 / dn,
                   e.mac_pj / 1e6 / dn, e.buffer_pj / 1e6 / dn, e.persist_pj / 1e6 / dn, e.offchip_pj / 1e6 / dn,
                   e.static_pj / 1e6 / dn, b->name, b->pe_rows, b->pe_cols, b->clock_mhz);
        }
        printf("}\n");
    } else {
        printf("config    %s\nplatform  %s%s%s (%s)\ndata      %s (%zu canvases)\n", canonical,
               platform_name, cpu ? ", isa " : ocl ? ", device " : "",
               cpu ? sn_cpu_isa(cpu) : ocl ? sn_opencl_device_name(ocl) : "", int8 ? "int8" : "fp32", data, n);
        printf("top-1     %.2f %% (%zu / %zu)\nMACs      %.0f%s\n", 100.0 * (double)correct / (double)n,
               correct, n, macs_sum / (double)n, is_arac ? " (mean over the canvases)" : "");
        printf("latency   p50 %.1f us, p99 %.1f us (measured: wall clock, %s)\n",
               percentile_us(lat, n, 0.50), percentile_us(lat, n, 0.99),
               ocl ? "host, around each inference" : "single thread");
        printf("arena     %zu bytes\n", plan->arena_bytes);
        if (fpga) {
            const sn_fpga_board *b = sn_fpga_board_of(fpga);
            double dn = (double)n, cyc = (double)fpga_stats.cycles / dn;
            sn_fpga_energy e;
            uint32_t k;
            sn_fpga_energy_of(b, &fpga_stats, fpga_stats.cycles, &e);
            printf("fpga      MODELLED: %s (%s), %dx%d PEs at %g MHz, persistent SubGraph buffer %.0f KiB "
                   "(%zu bytes of this SubNet's weights loaded in %.1f us before the first query)\n",
                   b->name, b->device, b->pe_rows, b->pe_cols, b->clock_mhz, b->persist_buffer_kib, fpga_loaded,
                   (double)fpga_load_cycles * sn_fpga_us_per_cycle(b));
            printf("modelled  %.3f us per inference (%.0f cycles; PE array busy %.0f, utilisation %.1f %%)\n",
                   cyc * sn_fpga_us_per_cycle(b), cyc, (double)fpga_stats.compute_cycles / dn,
                   100.0 * (double)fpga_stats.macs / ((double)fpga_stats.cycles * b->pe_rows * b->pe_cols));
            printf("bytes     per inference: off-chip weights %.0f, off-chip activations %.0f, persistent-buffer "
                   "reads %.0f, tile-buffer accesses %.0f\n",
                   (double)fpga_stats.ddr_weight_bytes / dn, (double)fpga_stats.ddr_act_bytes / dn,
                   (double)fpga_stats.persist_read_bytes / dn, (double)fpga_stats.buffer_bytes / dn);
            printf("energy    %.3f uJ per inference (model): MACs %.3f, tile buffers %.3f, persistent buffer %.3f, "
                   "off-chip %.3f, static %.3f\n", e.total_pj / 1e6 / dn, e.mac_pj / 1e6 / dn, e.buffer_pj / 1e6 / dn,
                   e.persist_pj / 1e6 / dn, e.offchip_pj / 1e6 / dn, e.static_pj / 1e6 / dn);
            printf("outputs   computed by the cpu platform's int8 kernels (bit-exact with the reference int8)\n");
            printf("board     %s\n", b->path);
            for (k = 0; k < b->entry_count; ++k)
                printf("  %-24s %-20s %s\n", b->entries[k].key, b->entries[k].value, b->entries[k].source);
        }
        if (cpu || ocl)
            printf("weights   %.0f bytes near, %.0f far per inference (%s)\n",
                   (double)cpu_stats.near_bytes / (double)n, (double)cpu_stats.far_bytes / (double)n,
                   near_kib >= 0 ? "the SubGraph resident as far as --near-kib holds it"
                                 : "packed, resident after first use");
        if (ocl) {
            double dn = (double)n;
            printf("events    p50 %.1f us, p99 %.1f us (measured: OpenCL profiling events, first QUEUED to "
                   "last END of each platform call, summed)\n",
                   percentile_us(dev_lat, n, 0.50), percentile_us(dev_lat, n, 0.99));
            printf("split     per inference: kernels %.1f us (%.1f launches), weight transfers %.1f us "
                   "(%.0f B), activation transfers %.1f us (%.0f B written, %.0f B read); queued %.1f us, "
                   "submitted-to-start %.1f us\n",
                   (double)ocl_total.kernel_ns / 1e3 / dn, (double)ocl_total.kernels / dn,
                   (double)ocl_total.weight_write_ns / 1e3 / dn, (double)ocl_total.far_bytes / dn,
                   (double)ocl_total.act_transfer_ns / 1e3 / dn, (double)ocl_total.act_write_bytes / dn,
                   (double)ocl_total.act_read_bytes / dn, (double)ocl_total.queued_ns / 1e3 / dn,
                   (double)ocl_total.submit_ns / 1e3 / dn);
            if (ocl_total.flow_span_ns)
                printf("flows     ARAC micro-flows: %.1f us of commands in a %.1f us device span per "
                       "inference (%s)\n", (double)ocl_total.flow_commands_ns / 1e3 / dn,
                       (double)ocl_total.flow_span_ns / 1e3 / dn,
                       sn_opencl_out_of_order(ocl) ? "one out-of-order queue" : "in-order queues");
        }
    }
    rc = 0;
done:
    free(logits);
    free(preds);
    free(lat);
    free(dev_lat);
    sn_idx_free(&images);
    sn_idx_free(&labels);
    free(arena);
    free(plan);
    sn_cpu_destroy(cpu);
    sn_opencl_destroy(ocl);
    sn_fpga_destroy(fpga);
    sn_cpu_destroy(fpga_cpu);
    free(image_bytes);
    return rc;
}
