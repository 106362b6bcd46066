/* supernav harness: hardware and software event counters around a measured region.
 *
 * A counter set is opened from a comma-separated list of event names; the prefix picks
 * the source:
 *
 *   PAPI_TOT_INS, perf::TASK-CLOCK, amd64_fam19h_zen4::...   PAPI (presets and PAPI native
 *                                                            names); everything that has
 *                                                            no prefix below
 *   pfm:NAME        libpfm4 encodes NAME (e.g. pfm:cycles, pfm:instructions:u) for
 *                   perf_event_open
 *   perf:NAME       a Linux perf software event opened directly: task-clock, cpu-clock
 *                   (both ns), page-faults, minor-faults, major-faults, context-switches,
 *                   cpu-migrations, alignment-faults, emulation-faults
 *
 * sn_counters_open() probes every event by actually opening it (PAPI: adding it to an
 * event set and starting it; pfm/perf: perf_event_open). An event that cannot be counted
 * on this machine is *unavailable*, with a one-line reason (no hardware PMU, forbidden by
 * perf_event_paranoid, unknown name, ...); its value is never reported, never 0. An
 * unknown event name is unavailable too; only a malformed list is an error.
 *
 * When perf_event_paranoid forbids kernel-side counting (unprivileged, paranoid >= 2),
 * pfm/perf events fall back to user-space-only counting and say so in their note;
 * events that only happen in the kernel (context-switches, cpu-migrations) are then
 * unavailable. Events are counted for the calling thread (and its later children are
 * not included).
 *
 * Not thread-safe: open, start, stop and close a set from one thread. PAPI allows one
 * running event set per thread, so start one set at a time. Host-only (Linux). */
#ifndef SN_COUNTERS_H
#define SN_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_COUNTERS_MAX 32           /* events in one set */
#define SN_COUNTER_NAME_BYTES 128    /* longest name + 1 */
#define SN_COUNTER_REASON_BYTES 320
#define SN_COUNTER_NOTE_BYTES 160

/* The list `supernav counters` and the harness use when none is given. */
#define SN_COUNTERS_DEFAULT_LIST                                                           \
    "PAPI_TOT_INS,PAPI_TOT_CYC,PAPI_L1_DCM,pfm:cycles,pfm:instructions,perf:task-clock,"  \
    "perf:page-faults,perf:context-switches"

typedef enum sn_counters_status {
    SN_COUNTERS_OK = 0,
    SN_COUNTERS_BAD_LIST,      /* empty name, name too long, duplicate, too many events */
    SN_COUNTERS_NO_MEMORY,
    SN_COUNTERS_SYSTEM_ERROR   /* an event that opened could not be started or read */
} sn_counters_status;

typedef enum sn_counter_source {
    SN_COUNTER_SOURCE_PAPI,
    SN_COUNTER_SOURCE_PFM,
    SN_COUNTER_SOURCE_PERF
} sn_counter_source;

typedef struct sn_counter_info {
    char name[SN_COUNTER_NAME_BYTES];   /* as listed, e.g. "pfm:cycles" */
    sn_counter_source source;
    bool available;
    const char *unit;                   /* "ns" for the clocks, "count" otherwise */
    char reason[SN_COUNTER_REASON_BYTES]; /* why unavailable: non-empty iff !available */
    char note[SN_COUNTER_NOTE_BYTES];   /* a qualification of an available event or "" */
} sn_counter_info;

/* One reading. VALID is false for an unavailable event, before the first start, and for a
 * hardware event the kernel never scheduled (multiplexing); VALUE is then 0 and must not
 * be reported. SCALED: the kernel multiplexed the event and VALUE was extrapolated as
 * raw * time_enabled / time_running. */
typedef struct sn_counter_value {
    int64_t value;
    bool valid;
    bool scaled;
} sn_counter_value;

typedef struct sn_counters sn_counters;

/* "papi", "pfm", "perf". */
const char *sn_counter_source_str(sn_counter_source source);

/* A one-line description of STATUS. */
const char *sn_counters_status_str(sn_counters_status status);

/* Opens a set from LIST (names separated by commas, spaces around a name ignored; NULL
 * means SN_COUNTERS_DEFAULT_LIST) and probes every event. On SN_COUNTERS_OK *SET is the
 * new set (free with sn_counters_close) and each event is available or unavailable with
 * a reason. Otherwise *SET is NULL and ERR holds a one-line message (ERR may be NULL). */
sn_counters_status sn_counters_open(const char *list, sn_counters **set, char *err,
                                    size_t err_bytes);

/* Closes every event and frees SET. NULL is fine. */
void sn_counters_close(sn_counters *set);

/* Number of events in SET (available or not), in list order. */
size_t sn_counters_count(const sn_counters *set);

/* Event I (< count): name, source, availability, unit, reason and note. */
const sn_counter_info *sn_counters_info(const sn_counters *set, size_t i);

/* Zeroes and starts every available event. SET must not be running. */
sn_counters_status sn_counters_start(sn_counters *set);

/* Stops the events and writes one reading per event to VALUES (sn_counters_count entries;
 * NULL to only keep them for sn_counters_read). SET must be running. */
sn_counters_status sn_counters_stop(sn_counters *set, sn_counter_value *values);

/* One reading per event: counts since start while running, the stopped values after
 * stop, all invalid before the first start. */
sn_counters_status sn_counters_read(sn_counters *set, sn_counter_value *values);

/* The value of /proc/sys/kernel/perf_event_paranoid in *VALUE. Returns 0, or -1 when it
 * cannot be read (no perf events in this kernel). */
int sn_counters_perf_event_paranoid(int *value);

#endif
