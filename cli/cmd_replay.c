/* supernav profile | replay | summary: SUSHI-style serving of query traces (harness/sn_serve.h).
 *
 *   supernav profile [--platform cpu|opencl|null] [--near-kib K] [--reps N] [--force]
 *   supernav replay --trace FILE --policy POLICY [--platform cpu|opencl|null] [--limit N]
 *                   [--speed X] [--virtual] [--out DIR] [--near-kib K] [--window W]
 *                   [--period Q] [--profile FILE] [--null-service-us N]
 *   supernav summary RUN...      one table row per run directory */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sn_cli.h"
#include "sn_fpga.h"
#include "sn_file.h"
#include "sn_rundir.h"
#include "sn_serve.h"
#include "sn_validity.h"

#define DEFAULT_NEAR_KIB 768

typedef struct common_opts {
    sn_serve_options serve;
    long near_kib;
    int reps, force;
    const char *pinned_profile;  /* replay --profile FILE: load it, never measure */
} common_opts;

static int parse_long(const char *name, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(text, &end, 10);
    if (errno || *end || *out < lo || *out > hi) {
        sn_cli_error("--%s must be an integer in [%ld, %ld]", name, lo, hi);
        return -1;
    }
    return 0;
}

static int parse_platform(const char *text, const char **platform)
{
    char names[128];
    if (!sn_sut_find(text)) {
        sn_sut_list(names, sizeof names);
        sn_cli_error("platform '%s' cannot serve traces yet (%s)", text, names);
        return -1;
    }
    *platform = text;
    return 0;
}

/* --arac-quantile */
static int parse_quantile(const char *text, int *out)
{
    if (!strcmp(text, "excess"))
        *out = SN_ARAC_EXCESS;
    else if (!strcmp(text, "50") || !strcmp(text, "p50"))
        *out = 50;
    else if (!strcmp(text, "95") || !strcmp(text, "p95"))
        *out = 95;
    else {
        sn_cli_error("--arac-quantile must be excess, 50 or 95, not '%s'", text);
        return -1;
    }
    return 0;
}

/* --arac-controller: 1 on, -1 off (0: not given; --arac turns it on) */
static int parse_controller(const char *text, int *out)
{
    if (strcmp(text, "on") && strcmp(text, "off")) {
        sn_cli_error("--arac-controller must be on or off, not '%s'", text);
        return -1;
    }
    *out = strcmp(text, "on") ? -1 : 1;
    return 0;
}

static int is_fpga(const common_opts *c)
{
    return c->serve.platform && !strcmp(c->serve.platform, "fpga");
}

/* replay's progress on a terminal */
static void show_progress(void *user, size_t done, size_t total)
{
    (void)user;
    if (done < total)
        fprintf(stderr, "\r  %zu / %zu queries", done, total);
    else
        fprintf(stderr, "\r%*s\r", 40, "");
}

static int open_and_profile(sn_serve *sv, common_opts *c, int verbose)
{
    char err[1024], path[1024];
    int64_t t0 = (int64_t)time(NULL);
    memset(sv, 0, sizeof *sv); /* the caller closes it whatever fails below */
    /* no --near-kib: the default budget; on the FPGA model, the board's persistent buffer */
    if (c->near_kib < 0)
        c->serve.sut.near_budget_bytes = is_fpga(c) ? SIZE_MAX : (size_t)DEFAULT_NEAR_KIB * 1024u;
    else
        c->serve.sut.near_budget_bytes = (size_t)c->near_kib * 1024u;
    c->serve.sut.build_dir = getenv("BUILD");
    if (c->serve.arac_controller && !c->serve.arac) {
        sn_cli_error("--arac-controller goes with --arac");
        return -1;
    }
    /* --arac: the level controller on unless --arac-controller off */
    c->serve.arac_controller = c->serve.arac && c->serve.arac_controller >= 0;
    if (sn_serve_open(sv, &c->serve, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return -1;
    }
    if (c->pinned_profile) {
        if (sn_serve_profile_load(sv, c->pinned_profile, err, sizeof err) != 0) {
            sn_cli_error("%s", err);
            return -1;
        }
        if (verbose)
            fprintf(stderr, "profile: pinned (%s)\n", c->pinned_profile);
        return 0;
    }
    sn_serve_profile_path(sv, path, sizeof path);
    if (verbose)
        fprintf(stderr, "profile: %u SubNets x %u SubGraph states, near budget %zu KiB (%s)\n",
                sv->n, sv->n + 1, sv->near_budget_bytes / 1024u,
                sv->desc.clock == SN_SUT_CLOCK_MODEL ? "modelled: fpga cycle model" : c->force ? "measuring" : path);
    if (sn_serve_profile(sv, path, c->force, c->reps, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return -1;
    }
    if (verbose)
        fprintf(stderr, "profile: ready in %lld s (%s)\n", (long long)((int64_t)time(NULL) - t0), path);
    return 0;
}

int sn_cmd_profile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"platform", required_argument, 0, 'p'}, {"near-kib", required_argument, 0, 'k'},
        {"reps", required_argument, 0, 'r'},     {"force", no_argument, 0, 'f'},
        {"model", required_argument, 0, 'm'},    {"data", required_argument, 0, 'd'},
        {"isa", required_argument, 0, 'I'},      {"json", no_argument, 0, 'j'},
        {"device", required_argument, 0, 'D'},   {"help", no_argument, 0, 'h'},
        {"board", required_argument, 0, 'B'},    {"pe", required_argument, 0, 'E'},
        {"port", required_argument, 0, 'T'},     {"out", required_argument, 0, 'o'},
        {"arac", no_argument, 0, 'A'},           {"arac-quantile", required_argument, 0, 'U'},
        {"arac-controller", required_argument, 0, 'K'},
        {0, 0, 0, 0}};
    common_opts c;
    sn_serve *sv;
    const char *copy_to = NULL;
    int ch, json = 0;
    uint32_t i, g;
    long v;
    memset(&c, 0, sizeof c);
    c.near_kib = -1;
    c.reps = 15;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': if (parse_platform(optarg, &c.serve.platform) != 0) return 2; break;
        case 'T': c.serve.sut.port = optarg; break;  /* mcu */
        case 'A': c.serve.arac = 1; break;
        case 'K': if (parse_controller(optarg, &c.serve.arac_controller) != 0) return 2; break;
        case 'U': if (parse_quantile(optarg, &c.serve.arac_quantile) != 0) return 2; break;
        case 'k': if (parse_long("near-kib", optarg, 0, 1L << 22, &c.near_kib) != 0) return 2; break;
        case 'r': if (parse_long("reps", optarg, 1, 10000, &v) != 0) return 2; c.reps = (int)v; break;
        case 'f': c.force = 1; break;
        case 'm': c.serve.model_path = optarg; break;
        case 'd': c.serve.data_prefix = optarg; break;
        case 'I': c.serve.sut.isa = optarg; break;
        case 'D': c.serve.sut.device = optarg; break;
        case 'B': c.serve.sut.board = optarg; break;
        case 'E':
            if (sn_fpga_parse_pe(optarg, &c.serve.sut.pe_rows, &c.serve.sut.pe_cols) != 0) {
                sn_cli_error("--pe must be ROWSxCOLS, each 1..1024 (e.g. 16x32), not '%s'", optarg);
                return 2;
            }
            break;
        case 'j': json = 1; break;
        case 'o': copy_to = optarg; break;
        case 'h':
            printf("usage: supernav profile [--platform cpu|opencl|fpga|mcu|null] [--near-kib K] [--reps N] [--force]\n"
                   "                        [--model M] [--data PREFIX] [--isa ISA] [--device D] [--json]\n"
                   "                        [--board FILE] [--pe RxC]   (fpga)\n"
                   "                        [--board B [--port DEV]]    (mcu: platforms/mcu/README.md)\n"
                   "                        [--arac [--arac-quantile excess|50|95]] [--out FILE]\n"
                   "  --out    also a copy of the profile at FILE (written atomically; replay\n"
                   "           --profile FILE pins it, e.g. for a sweep on the null platform)\n"
                   "  --arac   the table's ARAC configs that no other row dominates (table MACs, top-1)\n"
                   "           join the serving set; their p95 is recorded beside the p50\n"
                   "  p50 latency of every Pareto SubNet with every SubGraph (and none) resident,\n"
                   "  near/far weight bytes and switching costs; cached under build/profile/\n"
                   "  (--force measures again). Default near budget %d KiB. A measured platform\n"
                   "  runs --reps rounds, each over every SubGraph and SubNet once, so that a slow\n"
                   "  phase of the machine spreads over every row (default 15). --near-kib 0 keeps\n"
                   "  nothing: no SubGraph is measured once and stands for every SubGraph's rows.\n"
                   "  A platform that keeps slices records them (precision, quantum): the null\n"
                   "  platform simulating the profile keeps the same slices.\n"
                   "  --model  deployment image (default build/supernet.snm); --data: its canvases\n"
                   "           (default data/canvas/<task>-test of the image's task; cf64 if it names none)\n",
                   DEFAULT_NEAR_KIB);
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        sn_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    sv = malloc(sizeof *sv);
    if (!sv) {
        sn_cli_error("out of memory");
        return 1;
    }
    if (open_and_profile(sv, &c, 1) != 0) {
        sn_serve_close(sv);
        free(sv);
        return 1;
    }
    if (copy_to) {
        void *text;
        size_t size;
        if (sn_read_file(sv->profile_path, &text, &size) != 0 || sn_write_file_atomic(copy_to, text, size) != 0) {
            sn_cli_error("--out %s: %s", copy_to, strerror(errno));
            sn_serve_close(sv);
            free(sv);
            return 1;
        }
        free(text);
    }
    if (json) {
        char path[1024];
        sn_serve_profile_path(sv, path, sizeof path);
        printf("{\"profile\":\"%s\",\"subnets\":%u,\"largest_nocache_us\":%.1f,\"smallest_nocache_us\":%.1f,"
               "\"median_nocache_us\":%.1f",
               path, sv->n, sv->lat_us[sv->n - 1][sv->n], sv->lat_us[0][sv->n], sv->lat_us[sv->n / 2][sv->n]);
        if (sv->desc.profile_device)
            printf(",\"device\":\"%s\"", sv->desc.profile_device); /* no quotes in CL names */
        /* the served set's table top-1, in serving order (what floors can ask of it) */
        printf(",\"top1\":[");
        for (i = 0; i < sv->n; ++i)
            printf("%s%.6f", i ? "," : "", sv->s[i].top1);
        printf("]}\n");
    } else {
        printf("%-3s %7s %10s %10s %10s %10s %12s  %s\n", "#", "top-1", "no-cache", "p95-nc", "own-SG", "best-SG",
               "switch-us", sv->desc.clock == SN_SUT_CLOCK_MODEL ? "SubNet (latencies: us, modelled: fpga cycle model)"
                            : sv->desc.clock == SN_SUT_CLOCK_EMULATED ? "SubNet (latencies: us, model:mcu cycles from emulated instructions)"
                                      : "SubNet (latencies: p50 us, measured)");
        for (i = 0; i < sv->n; ++i) {
            double best = INFINITY;
            for (g = 0; g < sv->n; ++g)
                if (sv->lat_us[i][g] < best)
                    best = sv->lat_us[i][g];
            printf("%-3u %6.2f%% %10.1f %10.1f %10.1f %10.1f %12.1f  %s\n", i, 100.0 * sv->s[i].top1,
                   sv->lat_us[i][sv->n], sv->lat_p95_us[i][sv->n], sv->lat_us[i][i], best, sv->switch_us[i],
                   sv->s[i].config);
        }
        if (sv->pooled_rows)
            printf("# own-SG and best-SG: %u rows where a SubNet has all of its weights near under several\n"
                   "# SubGraphs are their median (the same placement measured again; the profile file keeps\n"
                   "# each as measured: harness/sn_serve.h, sn_serve_pool_near)\n", sv->pooled_rows);
    }
    sn_serve_close(sv);
    free(sv);
    return 0;
}

int sn_cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"platform", required_argument, 0, 'p'}, {"near-kib", required_argument, 0, 'k'},
        {"trace", required_argument, 0, 't'},    {"policy", required_argument, 0, 'P'},
        {"limit", required_argument, 0, 'n'},    {"speed", required_argument, 0, 's'},
        {"virtual", no_argument, 0, 'v'},        {"out", required_argument, 0, 'o'},
        {"modelled", no_argument, 0, 'M'},
        {"window", required_argument, 0, 'W'},   {"period", required_argument, 0, 'Q'},
        {"choice", required_argument, 0, 'C'},   {"late", required_argument, 0, 'L'},
        {"model", required_argument, 0, 'm'},    {"data", required_argument, 0, 'd'},
        {"isa", required_argument, 0, 'I'},      {"counters", required_argument, 0, 'c'},
        {"reps", required_argument, 0, 'r'},     {"quiet", no_argument, 0, 'q'},
        {"profile", required_argument, 0, 'F'},  {"device", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},
        {"board", required_argument, 0, 'B'},    {"pe", required_argument, 0, 'E'},
        {"port", required_argument, 0, 'T'},     {"null-service-us", required_argument, 0, 'S'},
        {"arac", no_argument, 0, 'A'},           {"arac-quantile", required_argument, 0, 'U'},
        {"arac-controller", required_argument, 0, 'K'},
        {0, 0, 0, 0}};
    common_opts c;
    sn_replay_options ro;
    sn_serve *sv;
    const char *policy = NULL;
    char out[1024], err[1024];
    int ch, rc = 1, quiet = 0;
    long v;
    memset(&c, 0, sizeof c);
    memset(&ro, 0, sizeof ro);
    c.near_kib = -1;
    c.reps = 15;
    ro.speed = 1.0;
    ro.window = 200;
    ro.period = 50;
    out[0] = '\0';
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': if (parse_platform(optarg, &c.serve.platform) != 0) return 2; break;
        case 'T': c.serve.sut.port = optarg; break;  /* mcu */
        case 'A': c.serve.arac = 1; break;
        case 'K': if (parse_controller(optarg, &c.serve.arac_controller) != 0) return 2; break;
        case 'U': if (parse_quantile(optarg, &c.serve.arac_quantile) != 0) return 2; break;
        case 'k': if (parse_long("near-kib", optarg, 0, 1L << 22, &c.near_kib) != 0) return 2; break;
        case 't': ro.trace_path = optarg; break;
        case 'P': policy = optarg; break;
        case 'n': if (parse_long("limit", optarg, 1, 1L << 30, &v) != 0) return 2; ro.limit = (size_t)v; break;
        case 's':
            if (sn_cli_parse_double(optarg, 0.0, 1e9 + 1.0, &ro.speed) != 0) { /* 1e9 included */
                sn_cli_error("--speed must be a positive number");
                return 2;
            }
            break;
        case 'v': ro.virtual_time = 1; break;
        case 'M': ro.modelled = ro.virtual_time = 1; break;
        case 'o': snprintf(out, sizeof out, "%s", optarg); break;
        case 'W': if (parse_long("window", optarg, 1, 1000000, &v) != 0) return 2; ro.window = (uint32_t)v; break;
        case 'C':
            if (!strcmp(optarg, "accuracy"))
                ro.choice = SN_CHOICE_ACCURACY;
            else if (!strcmp(optarg, "floor-level"))
                ro.choice = SN_CHOICE_FLOOR_LEVEL;
            else {
                sn_cli_error("--choice must be accuracy or floor-level, not '%s'", optarg);
                return 2;
            }
            break;
        case 'L':
            if (!strcmp(optarg, "fastest"))
                ro.late = SN_LATE_FASTEST;
            else if (!strcmp(optarg, "level"))
                ro.late = SN_LATE_LEVEL;
            else {
                sn_cli_error("--late must be fastest or level, not '%s'", optarg);
                return 2;
            }
            break;
        case 'Q': if (parse_long("period", optarg, 1, 1000000, &v) != 0) return 2; ro.period = (uint32_t)v; break;
        case 'm': c.serve.model_path = optarg; break;
        case 'd': c.serve.data_prefix = optarg; break;
        case 'I': c.serve.sut.isa = optarg; break;
        case 'D': c.serve.sut.device = optarg; break;
        case 'B': c.serve.sut.board = optarg; break;
        case 'E':
            if (sn_fpga_parse_pe(optarg, &c.serve.sut.pe_rows, &c.serve.sut.pe_cols) != 0) {
                sn_cli_error("--pe must be ROWSxCOLS, each 1..1024 (e.g. 16x32), not '%s'", optarg);
                return 2;
            }
            break;
        case 'c': ro.counters = optarg; break;
        case 'r': if (parse_long("reps", optarg, 1, 10000, &v) != 0) return 2; c.reps = (int)v; break;
        case 'q': quiet = 1; break;
        case 'F': c.pinned_profile = optarg; break;
        case 'S':
            if (parse_long("null-service-us", optarg, 0, 10000000, &v) != 0)
                return 2;
            c.serve.sut.null_service_us = v;
            break;
        case 'h':
            printf("usage: supernav replay --trace FILE --policy POLICY [--platform cpu|opencl|fpga|mcu|null]\n"
                   "                       [--board FILE] [--pe RxC]   (fpga: modelled virtual time only)\n"
                   "                       [--board B [--port DEV]]    (mcu: virtual time only)\n"
                   "                       [--limit N] [--speed X] [--virtual] [--out DIR]\n"
                   "                       [--near-kib K] [--window W] [--period Q] [--counters LIST]\n"
                   "                       [--model M] [--data PREFIX] [--isa ISA] [--device D]\n"
                   "                       [--profile FILE] [--quiet] [--null-service-us N]   (null)\n"
                   "                       [--choice floor-level|accuracy] [--late fastest|level]\n"
                   "                       [--modelled]\n"
                   "                       [--arac [--arac-quantile excess|50|95] [--arac-controller on|off]]\n"
                   "  POLICY   sushi, nocache, static-subgraph, static-subnet:CFG, largest, smallest, oracle,\n"
                   "           static-hindsight, lru, slackfit\n"
                   "  --speed  arrivals X times faster; --virtual: virtual-time replay (no waiting)\n"
                   "  --modelled  virtual time with the profile's service and switching times\n"
                   "  --out    the run directory (default results/runs/<UTC>-<policy>-<trace>)\n"
                   "  --model  deployment image (default build/supernet.snm); --data: its canvases\n"
                   "           (default data/canvas/<task>-test of the image's task; cf64 if it names none)\n"
                   "  --window, --period  sushi: SubGraph re-chosen every Q queries from the last W\n"
                   "  --choice floor-level (default): a floor query gets the fastest SubNet at its\n"
                   "           floor's level; accuracy: a query with a ceiling gets the most accurate\n"
                   "           SubNet that fits what is left of it (at or above its floor), leaving\n"
                   "           the queries waiting behind room for theirs and weighing the next\n"
                   "           arrival's expected loss\n"
                   "  --late   floor-level mode, a query that no SubNet at or above its floor can\n"
                   "           serve within what is left of its ceiling: fastest (default) serves it\n"
                   "           the fastest SubNet (it is late either way; the queue behind loses the\n"
                   "           least), level at its floor's level (the rule before 2026-12-07)\n"
                   "  --arac   ARAC configs serve too: the table's undominated ones join the\n"
                   "           SubNets; their latency depends on the image: the choice charges a\n"
                   "           config its p50 times its p95/p50 beyond the SubNets' median (excess,\n"
                   "           the default; --arac-quantile 50|95: that quantile); a query whose\n"
                   "           ceiling leaves less than its p95 gets a MAC budget, and after the gate\n"
                   "           the engine steps tile levels down to fit it (--arac-controller off:\n"
                   "           not)\n"
                   "  --profile  a pinned profile (never measured): the same predicted latencies,\n"
                   "             so the same SubNet choices, on every machine (the CI gate)\n"
                   "  --null-service-us  the null platform busy-waits N us per inference: a known\n"
                   "             service time on the measured clock (tests/test_replay_realtime.sh)\n"
                   "  (rules: harness/sn_serve.h and bench/serve/README.md)\n");
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        sn_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (ro.choice == SN_CHOICE_ACCURACY && ro.late == SN_LATE_LEVEL) {
        sn_cli_error("--late level applies to --choice floor-level only (accuracy mode serves a query certain "
                     "to be late the fastest SubNet)");
        return 2;
    }
    if (!ro.trace_path || !policy) {
        sn_cli_error("--trace FILE and --policy POLICY are required");
        return 2;
    }
    if (access(ro.trace_path, R_OK) != 0) {
        sn_cli_error("%s: %s", ro.trace_path, strerror(errno));
        return 1;
    }
    sv = malloc(sizeof *sv);
    if (!sv) {
        sn_cli_error("out of memory");
        return 1;
    }
    if (is_fpga(&c)) /* the accelerator model has only modelled time */
        ro.modelled = ro.virtual_time = 1;
    if (open_and_profile(sv, &c, !quiet) != 0)
        goto done;
    if (sn_serve_parse_policy(sv, policy, &ro, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        goto done;
    }
    if (!out[0]) {
        char stamp[32], base[256], *dot, *p;
        time_t t = time(NULL);
        struct tm tmv;
        const char *slash = strrchr(ro.trace_path, '/');
        gmtime_r(&t, &tmv);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tmv);
        snprintf(base, sizeof base, "%s", slash ? slash + 1 : ro.trace_path);
        if ((dot = strrchr(base, '.')))
            *dot = '\0';
        snprintf(out, sizeof out, "results/runs/%s-%s-%s", stamp, policy, base);
        for (p = out + strlen("results/runs/"); *p; ++p)
            if (*p == ':' || *p == '/')
                *p = '_';
    }
    ro.out_dir = out;
    ro.progress = !quiet && isatty(2) ? show_progress : NULL;
    if (sn_serve_replay(sv, &ro, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "replay: wrote %s\n", out);
    printf("%s\n", out);
    rc = 0;
done:
    sn_serve_close(sv);
    free(sv);
    return rc;
}

/* ---- supernav summary RUN... ---------------------------------------------------------- */
static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static cJSON *read_json(const char *dir, const char *name)
{
    char path[1200];
    void *text;
    size_t size;
    cJSON *j;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sn_read_file(path, &text, &size) != 0)
        return NULL;
    j = cJSON_ParseWithLength(text, size);
    free(text);
    return j;
}

typedef struct summary_row {
    char trace[128], policy[64];
    double queries, slo, served, effective, measured, p99, far_mb, hit;
    cJSON *feasibility;          /* policy.json "feasibility" (owned; NULL if absent) */
    char invalid[200];           /* summary.json validity: why the run is INVALID ("" VALID) */
    const char *dir;
} summary_row;

static double median_of(const summary_row *rows, int n, const summary_row *r, size_t offset, int *count);

/* One line per trace: VALID, or DEGENERATE with the rule that failed (reports/sn_validity.h),
 * each with the trace's reasons. */
static void print_validity(const summary_row *rows, int n)
{
    int i, j, m, k;
    for (i = 0; i < n; ++i) {
        double slo[256], lo = INFINITY, hi = -INFINITY;
        size_t np = 0;
        int seen = 0;
        char why[256], reasons[640];
        for (j = 0; j < i; ++j)
            if (!strcmp(rows[j].trace, rows[i].trace))
                seen = 1;
        if (seen)
            continue;
        for (j = 0; j < n && np < 256; ++j) {
            int dup = 0;
            if (strcmp(rows[j].trace, rows[i].trace))
                continue;
            for (m = 0; m < j; ++m)
                if (!strcmp(rows[m].trace, rows[j].trace) && !strcmp(rows[m].policy, rows[j].policy))
                    dup = 1;
            if (dup)
                continue;
            slo[np] = median_of(rows, n, &rows[j], offsetof(summary_row, slo), &k);
            if (!isnan(slo[np])) {
                lo = slo[np] < lo ? slo[np] : lo;
                hi = slo[np] > hi ? slo[np] : hi;
                ++np;
            }
        }
        if (np == 0)
            continue;
        sn_validity_reasons(rows[i].feasibility, reasons, sizeof reasons);
        if (sn_validity_judge(slo, np, why, sizeof why))
            printf("# DEGENERATE %s: %s (SLO attainment %.1f-%.1f %% over %zu policies); %s\n", rows[i].trace,
                   why, lo, hi, np, reasons);
        else
            printf("# VALID %s: SLO attainment %.1f-%.1f %% over %zu policies; %s\n", rows[i].trace, lo, hi,
                   np, reasons);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) /* NaN (no value) sorts last */
        return isnan(x) - isnan(y);
    return x < y ? -1 : x > y;
}

/* The median of the rows' field at OFFSET whose trace and policy equal R's. */
static double median_of(const summary_row *rows, int n, const summary_row *r, size_t offset, int *count)
{
    double v[256];
    int i, k = 0;
    for (i = 0; i < n && k < 256; ++i)
        if (!strcmp(rows[i].trace, r->trace) && !strcmp(rows[i].policy, r->policy))
            v[k++] = *(const double *)(const void *)((const char *)&rows[i] + offset);
    qsort(v, (size_t)k, sizeof *v, cmp_d);
    *count = k;
    return k ? (k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2])) : (double)NAN;
}

int sn_cmd_summary(int argc, char **argv)
{
    int i, j, rc = 0, n = 0, first = 1;
    summary_row *rows;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: supernav summary RUN...\n  one row per trace and policy: SLO attainment, served, effective (a\n"
               "  late answer counted wrong) and measured accuracy, p99 latency, far bytes, SubGraph hit\n"
               "  ratio; repeated runs of the same trace and policy are folded into their medians (column\n"
               "  runs); then one line per trace, VALID or DEGENERATE (every policy under 5 %% or over\n"
               "  95 %% of SLOs, or all within 1 point)\n"
               "  with the trace's infeasible constraints and offered load; then a line per INVALID run\n"
               "  (MLPerf LoadGen's rules, summary.json validity: fewer than 1024 queries, or too few for\n"
               "  an early-stopping p99 estimate at 99 %% confidence)\n");
        return argc < 2 ? 2 : 0;
    }
    rows = calloc((size_t)argc, sizeof *rows);
    if (!rows) {
        sn_cli_error("out of memory");
        return 1;
    }
    for (i = 1; i < argc; ++i) {
        cJSON *s = read_json(argv[i], "summary.json"), *c = read_json(argv[i], "context.json");
        const cJSON *run = c ? cJSON_GetObjectItemCaseSensitive(c, "run") : NULL;
        const cJSON *pol = run ? cJSON_GetObjectItemCaseSensitive(run, "policy") : NULL;
        const cJSON *trc = run ? cJSON_GetObjectItemCaseSensitive(run, "trace") : NULL;
        const cJSON *lat = s ? cJSON_GetObjectItemCaseSensitive(s, "latency_us") : NULL;
        const char *tname = cJSON_IsString(trc) ? trc->valuestring : "?", *sl = strrchr(tname, '/');
        if (!s || !c) {
            sn_cli_error("%s: not a run directory (summary.json and context.json)", argv[i]);
            rc = 1;
        } else {
            summary_row *r = &rows[n++];
            snprintf(r->trace, sizeof r->trace, "%s", sl ? sl + 1 : tname);
            const cJSON *set = run ? cJSON_GetObjectItemCaseSensitive(run, "serving_set") : NULL;
            sn_rundir_policy_label(cJSON_IsString(pol) ? pol->valuestring : "?",
                                   cJSON_IsString(set) ? set->valuestring : NULL, r->policy, sizeof r->policy);
            r->queries = num(s, "queries");
            r->slo = 100.0 * num(s, "slo_attainment");
            r->served = 100.0 * num(s, "served_accuracy");
            r->effective = 100.0 * num(s, "effective_accuracy");
            r->measured = 100.0 * num(s, "measured_accuracy");
            r->p99 = num(lat, "p99");
            r->far_mb = num(s, "far_bytes") / 1e6;
            r->hit = num(s, "subgraph_hit_ratio");
            r->dir = argv[i];
            {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "validity");
                const cJSON *res = v ? cJSON_GetObjectItemCaseSensitive(v, "result") : NULL;
                const cJSON *why = v ? cJSON_GetObjectItemCaseSensitive(v, "reason") : NULL;
                if (cJSON_IsString(res) && strcmp(res->valuestring, "VALID") != 0)
                    snprintf(r->invalid, sizeof r->invalid, "%s", cJSON_IsString(why) ? why->valuestring : "?");
            }
            {
                cJSON *pj = read_json(argv[i], "policy.json");
                r->feasibility = pj ? cJSON_DetachItemFromObjectCaseSensitive(pj, "feasibility") : NULL;
                cJSON_Delete(pj);
            }
        }
        cJSON_Delete(s);
        cJSON_Delete(c);
    }
    for (i = 0; i < n; ++i) {
        int seen = 0, k;
        for (j = 0; j < i; ++j)
            if (!strcmp(rows[j].trace, rows[i].trace) && !strcmp(rows[j].policy, rows[i].policy))
                seen = 1;
        if (seen)
            continue;
        if (first) {
            printf("%-24s %-22s %5s %8s %9s %9s %9s %9s %12s %9s %7s\n", "trace", "policy", "runs", "queries",
                   "SLO-att", "served", "effective", "measured", "p99 us", "far MB", "hit");
            first = 0;
        }
        {
            double q = median_of(rows, n, &rows[i], offsetof(summary_row, queries), &k);
            double meas = median_of(rows, n, &rows[i], offsetof(summary_row, measured), &k);
            char mcol[16];
            /* no prediction computed (a simulated platform): unknown, not a number */
            if (isnan(meas))
                snprintf(mcol, sizeof mcol, "%9s", "-");
            else
                snprintf(mcol, sizeof mcol, "%8.2f%%", meas);
            printf("%-24s %-22.22s %5d %8.0f %8.1f%% %8.2f%% %8.2f%% %s %12.1f %9.2f %7.3f\n", rows[i].trace,
                   rows[i].policy, k, q, median_of(rows, n, &rows[i], offsetof(summary_row, slo), &k),
                   median_of(rows, n, &rows[i], offsetof(summary_row, served), &k),
                   median_of(rows, n, &rows[i], offsetof(summary_row, effective), &k), mcol,
                   median_of(rows, n, &rows[i], offsetof(summary_row, p99), &k),
                   median_of(rows, n, &rows[i], offsetof(summary_row, far_mb), &k),
                   median_of(rows, n, &rows[i], offsetof(summary_row, hit), &k));
        }
    }
    if (n > 0)
        print_validity(rows, n);
    for (i = 0; i < n; ++i) /* LoadGen's per-run rules (summary.json validity) */
        if (rows[i].invalid[0])
            printf("# INVALID run %s: %s\n", rows[i].dir, rows[i].invalid);
    for (i = 0; i < n; ++i)
        cJSON_Delete(rows[i].feasibility);
    free(rows);
    return rc;
}
