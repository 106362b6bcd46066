/* supernav counters: which counters this machine offers. Opens each event, runs a small
 * busy loop (integer work, fresh memory, a short sleep) and prints every event's value,
 * or why it is unavailable, and the energy source a run would use. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sn_cli.h"
#include "sn_counters.h"
#include "sn_energy.h"

#define TOUCHED_BYTES (8u << 20)
#define SLEEP_NS 1000000L

static volatile uint64_t sink;

/* The measured region: ITERATIONS xorshift steps, one write per page of fresh memory
 * (page faults), a 1 ms sleep (a context switch). */
static void busy_loop(unsigned long iterations)
{
    struct timespec pause = {0, SLEEP_NS};
    uint64_t x = 88172645463325252u;
    unsigned char *p;
    unsigned long i;
    for (i = 0; i < iterations; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    p = mmap(NULL, TOUCHED_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        for (i = 0; i < TOUCHED_BYTES; i += 4096)
            p[i] = (unsigned char)i;
        munmap(p, TOUCHED_BYTES);
    }
    nanosleep(&pause, NULL);
    sink = x;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supernav counters [--events LIST] [--iterations N] [--json]\n"
            "  --events      comma-separated events (default %s)\n"
            "                PAPI_* presets and PAPI native names go through PAPI, pfm:NAME\n"
            "                through libpfm4, perf:NAME is a perf software event (task-clock,\n"
            "                cpu-clock, page-faults, context-switches, cpu-migrations, ...)\n"
            "  --iterations  integer steps of the busy loop (default 20000000)\n"
            "  --json        one JSON object: events, energy source, perf_event_paranoid\n",
            SN_COUNTERS_DEFAULT_LIST);
}

static int print_json(const sn_counters *set, const sn_counter_value *values,
                      const sn_energy_meter *meter, const sn_energy_reading *energy,
                      unsigned long iterations, int paranoid)
{
    cJSON *root = cJSON_CreateObject(), *events, *obj;
    char *text;
    size_t i;
    bool ok = root != NULL;
    if (ok) {
        ok &= cJSON_AddNumberToObject(root, "perf_event_paranoid", paranoid) != NULL;
        obj = cJSON_AddObjectToObject(root, "workload");
        ok &= obj && cJSON_AddNumberToObject(obj, "iterations", (double)iterations) &&
              cJSON_AddNumberToObject(obj, "touched_bytes", TOUCHED_BYTES) &&
              cJSON_AddNumberToObject(obj, "sleep_ns", SLEEP_NS);
        events = cJSON_AddArrayToObject(root, "events");
        ok &= events != NULL;
        for (i = 0; ok && i < sn_counters_count(set); ++i) {
            const sn_counter_info *info = sn_counters_info(set, i);
            obj = cJSON_CreateObject();
            ok &= obj && cJSON_AddItemToArray(events, obj);
            if (!ok) {
                cJSON_Delete(obj);
                break;
            }
            ok &= cJSON_AddStringToObject(obj, "name", info->name) &&
                  cJSON_AddStringToObject(obj, "source", sn_counter_source_str(info->source)) &&
                  cJSON_AddBoolToObject(obj, "available", info->available) &&
                  (values[i].valid ? cJSON_AddNumberToObject(obj, "value", (double)values[i].value)
                                   : cJSON_AddNullToObject(obj, "value")) &&
                  cJSON_AddBoolToObject(obj, "scaled", values[i].scaled) &&
                  cJSON_AddStringToObject(obj, "unit", info->unit) &&
                  (info->available ? cJSON_AddNullToObject(obj, "reason")
                                   : cJSON_AddStringToObject(obj, "reason", info->reason)) &&
                  cJSON_AddStringToObject(obj, "note", info->note);
        }
        obj = ok ? cJSON_AddObjectToObject(root, "energy") : NULL;
        ok &= obj && cJSON_AddStringToObject(obj, "source", sn_energy_source(meter)) &&
              (sn_energy_kind_of(meter) == SN_ENERGY_MODEL
                   ? cJSON_AddNullToObject(obj, "loop_uj") /* nothing measured */
                   : cJSON_AddNumberToObject(obj, "loop_uj", energy->total_uj)) &&
              cJSON_AddStringToObject(obj, "note", sn_energy_note(meter));
    }
    text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        sn_cli_error("out of memory");
        return 1;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}

static void print_table(const sn_counters *set, const sn_counter_value *values,
                        const sn_energy_meter *meter, const sn_energy_reading *energy,
                        int paranoid)
{
    size_t i, n = sn_counters_count(set), available = 0;
    int width = 5;
    for (i = 0; i < n; ++i) {
        int len = (int)strlen(sn_counters_info(set, i)->name);
        width = len > width ? len : width;
        available += sn_counters_info(set, i)->available;
    }
    printf("%zu events, %zu available (perf_event_paranoid=%d)\n\n", n, available, paranoid);
    printf("%-*s  %-6s  %-14s  %-5s  %s\n", width, "event", "source", "value", "unit", "status");
    for (i = 0; i < n; ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        char value[32];
        if (values[i].valid)
            snprintf(value, sizeof value, "%lld%s", (long long)values[i].value,
                     values[i].scaled ? "*" : "");
        else
            snprintf(value, sizeof value, "-");
        printf("%-*s  %-6s  %-14s  %-5s  ", width, info->name,
               sn_counter_source_str(info->source), value, info->unit);
        if (!info->available)
            printf("unavailable: %s\n", info->reason);
        else if (info->note[0])
            printf("available (%s)\n", info->note);
        else
            printf("available\n");
    }
    if (sn_energy_kind_of(meter) == SN_ENERGY_MODEL)
        printf("\nenergy: %s\n        (%s)\n", sn_energy_source(meter), sn_energy_note(meter));
    else
        printf("\nenergy: %s, %.0f uJ during the loop (%s)\n", sn_energy_source(meter),
               energy->total_uj, sn_energy_note(meter));
}

int sn_cmd_counters(int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, 0, 'e'},
                                         {"iterations", required_argument, 0, 'n'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *list = NULL;
    unsigned long iterations = 20000000;
    int json = 0, c, paranoid = -1, rc = 1;
    sn_counter_value values[SN_COUNTERS_MAX];
    sn_counters *set = NULL;
    sn_energy_meter *meter = NULL;
    sn_energy_reading energy;
    char err[256];
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'e': list = optarg; break;
        case 'j': json = 1; break;
        case 'n':
            errno = 0;
            iterations = strtoul(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0]) {
                sn_cli_error("--iterations must be a non-negative integer");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        sn_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (sn_counters_open(list, &set, err, sizeof err) != SN_COUNTERS_OK) {
        sn_cli_error("--events: %s", err);
        return 1;
    }
    if (sn_energy_open(NULL, &meter) != SN_ENERGY_OK) {
        sn_cli_error("out of memory");
        goto done;
    }
    (void)sn_counters_perf_event_paranoid(&paranoid);
    if (sn_counters_start(set) != SN_COUNTERS_OK || sn_energy_start(meter) != SN_ENERGY_OK) {
        sn_cli_error("cannot start the counters");
        goto done;
    }
    busy_loop(iterations);
    if (sn_energy_stop(meter, NULL, &energy) != SN_ENERGY_OK ||
        sn_counters_stop(set, values) != SN_COUNTERS_OK) {
        sn_cli_error("cannot read the counters");
        goto done;
    }
    if (json) {
        rc = print_json(set, values, meter, &energy, iterations, paranoid);
    } else {
        print_table(set, values, meter, &energy, paranoid);
        rc = 0;
    }
done:
    sn_energy_close(meter);
    sn_counters_close(set);
    return rc;
}
