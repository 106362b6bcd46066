#define _DEFAULT_SOURCE /* syscall() */
#include "sn_counters.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h> /* before libpfm4's header, which then uses the kernel's */
#include <papi.h>
#include <perfmon/pfmlib_perf_event.h>

typedef struct counter {
    sn_counter_info info;
    int fd;             /* pfm/perf: the perf_event file descriptor, -1 when none */
    int papi_code;
    int papi_slot;      /* index in the set's PAPI event set, -1 when not in it */
    sn_counter_value last;
} counter;

struct sn_counters {
    size_t count;
    counter events[SN_COUNTERS_MAX];
    int papi_set;       /* PAPI_NULL when no PAPI event is counted */
    int papi_count;
    bool running;
    int hardware_pmu;   /* -2 not probed, 1 present, 0 absent, -1 unknown */
    int hardware_pmu_errno;
};

/* ---- messages ------------------------------------------------------------------------ */


/* An event's unit follows from its name alone, never from whether it opened: the perf
 * software clocks (perf:task-clock, perf:cpu-clock, and perf::TASK-CLOCK /
 * perf::CPU-CLOCK as PAPI and libpfm4 spell them, modifiers allowed) count nanoseconds,
 * every other event counts occurrences. */
static bool clock_base(const char *base)
{
    static const char *const clocks[] = {"task-clock", "cpu-clock"};
    size_t i, n = strcspn(base, ":");
    for (i = 0; i < sizeof clocks / sizeof clocks[0]; ++i)
        if (n == strlen(clocks[i]) && !strncasecmp(base, clocks[i], n))
            return true;
    return false;
}

static const char *unit_of_name(const char *name)
{
    if (!strncmp(name, "pfm:", 4))
        name += 4;
    if (!strncasecmp(name, "perf::", 6))
        return clock_base(name + 6) ? "ns" : "count";
    if (!strncmp(name, "perf:", 5))
        return clock_base(name + 5) ? "ns" : "count";
    return "count";
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    if (used + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENODEV: return "ENODEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EMFILE: return "EMFILE";
    case EBUSY: return "EBUSY";
    case E2BIG: return "E2BIG";
    case ENOSPC: return "ENOSPC";
    default: return "errno";
    }
}

static const char *papi_error_name(int rc)
{
    switch (rc) {
    case PAPI_EINVAL: return "PAPI_EINVAL";
    case PAPI_ENOMEM: return "PAPI_ENOMEM";
    case PAPI_ESYS: return "PAPI_ESYS";
    case PAPI_ECMP: return "PAPI_ECMP";
    case PAPI_ECLOST: return "PAPI_ECLOST";
    case PAPI_EBUG: return "PAPI_EBUG";
    case PAPI_ENOEVNT: return "PAPI_ENOEVNT";
    case PAPI_ECNFLCT: return "PAPI_ECNFLCT";
    case PAPI_ENOTRUN: return "PAPI_ENOTRUN";
    case PAPI_EISRUN: return "PAPI_EISRUN";
    case PAPI_ENOEVST: return "PAPI_ENOEVST";
    case PAPI_ENOTPRESET: return "PAPI_ENOTPRESET";
    case PAPI_ENOCNTR: return "PAPI_ENOCNTR";
    case PAPI_EMISC: return "PAPI_EMISC";
    case PAPI_EPERM: return "PAPI_EPERM";
    case PAPI_ENOINIT: return "PAPI_ENOINIT";
    case PAPI_ENOCMP: return "PAPI_ENOCMP";
    case PAPI_ENOSUPP: return "PAPI_ENOSUPP";
    case PAPI_ENOIMPL: return "PAPI_ENOIMPL";
    case PAPI_EBUF: return "PAPI_EBUF";
    case PAPI_EINVAL_DOM: return "PAPI_EINVAL_DOM";
    case PAPI_EATTR: return "PAPI_EATTR";
    case PAPI_ECOUNT: return "PAPI_ECOUNT";
    case PAPI_ECOMBO: return "PAPI_ECOMBO";
    case PAPI_ECMP_DISABLED: return "PAPI_ECMP_DISABLED";
    case PAPI_EDELAY_INIT: return "PAPI_EDELAY_INIT";
    case PAPI_EMULPASS: return "PAPI_EMULPASS";
    default: return "PAPI error";
    }
}

const char *sn_counter_source_str(sn_counter_source source)
{
    switch (source) {
    case SN_COUNTER_SOURCE_PAPI: return "papi";
    case SN_COUNTER_SOURCE_PFM: return "pfm";
    case SN_COUNTER_SOURCE_PERF: return "perf";
    }
    return "unknown";
}

const char *sn_counters_status_str(sn_counters_status status)
{
    switch (status) {
    case SN_COUNTERS_OK: return "ok";
    case SN_COUNTERS_BAD_LIST: return "malformed event list";
    case SN_COUNTERS_NO_MEMORY: return "out of memory";
    case SN_COUNTERS_SYSTEM_ERROR: return "a counter could not be started or read";
    }
    return "unknown status";
}

int sn_counters_perf_event_paranoid(int *value)
{
    FILE *fp = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int ok;
    if (!fp)
        return -1;
    ok = fscanf(fp, "%d", value) == 1;
    fclose(fp);
    return ok ? 0 : -1;
}

/* ---- perf_event_open ----------------------------------------------------------------- */

static int open_for_this_thread(struct perf_event_attr *attr)
{
    long fd = syscall(SYS_perf_event_open, attr, 0 /* this thread */, -1 /* any cpu */,
                      -1 /* no group */, 0UL);
    return (int)fd;
}

/* Does the kernel expose a hardware PMU? Probed once per set by opening user-space cycles
 * (allowed at every paranoid level below 3). */
static void probe_hardware_pmu(sn_counters *s)
{
    struct perf_event_attr attr;
    int fd;
    if (s->hardware_pmu != -2)
        return;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    fd = open_for_this_thread(&attr);
    if (fd >= 0) {
        close(fd);
        s->hardware_pmu = 1;
        return;
    }
    s->hardware_pmu_errno = errno;
    s->hardware_pmu = (errno == ENOENT || errno == ENODEV || errno == EOPNOTSUPP) ? 0 : -1;
}

static void append_no_hardware_pmu(sn_counters *s, char *reason, size_t size)
{
    probe_hardware_pmu(s);
    if (s->hardware_pmu == 0)
        append(reason, size, "; no hardware PMU on this machine (perf_event_open of hardware "
                             "cycles fails with %s)", errno_name(s->hardware_pmu_errno));
}

static void append_paranoid(char *reason, size_t size)
{
    int paranoid;
    if (sn_counters_perf_event_paranoid(&paranoid) == 0)
        append(reason, size, "not permitted at perf_event_paranoid=%d (run as root, grant "
                             "CAP_PERFMON, or lower /proc/sys/kernel/perf_event_paranoid)",
               paranoid);
    else
        append(reason, size, "not permitted");
}

/* Why perf_event_open failed with E, for an event of TYPE. */
static void perf_failure_reason(sn_counters *s, counter *c, uint32_t type, int e)
{
    char *r = c->info.reason;
    size_t n = sizeof c->info.reason;
    bool hardware = type == PERF_TYPE_HARDWARE || type == PERF_TYPE_HW_CACHE ||
                    type == PERF_TYPE_RAW || type >= PERF_TYPE_MAX;
    append(r, n, "perf_event_open: %s: ", errno_name(e));
    switch (e) {
    case EACCES:
    case EPERM:
        append_paranoid(r, n);
        break;
    case ENOENT:
    case ENODEV:
    case EOPNOTSUPP:
        if (hardware) {
            probe_hardware_pmu(s);
            append(r, n, "%s", s->hardware_pmu == 0 ? "no hardware PMU on this machine (a VM "
                                                      "without a virtual PMU?)"
                                                    : "no PMU here supports this event");
        } else {
            append(r, n, "this kernel does not support the event");
        }
        break;
    case ENOSYS:
        append(r, n, "this kernel has no perf events");
        break;
    case EBUSY:
        append(r, n, "the PMU is in use by someone else");
        break;
    default:
        append(r, n, "%s", strerror(e));
        break;
    }
}

/* Opens ATTR for this thread, kernel and user space; when the paranoid level forbids the
 * kernel part, user space only (unless KERNEL_ONLY: the event never happens in user
 * space). On failure fills the reason. */
static void perf_open_counter(sn_counters *s, counter *c, struct perf_event_attr *attr,
                              bool kernel_only)
{
    int e;
    attr->size = sizeof *attr;
    attr->disabled = 1;
    attr->inherit = 0;
    attr->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    c->fd = open_for_this_thread(attr);
    if (c->fd >= 0) {
        c->info.available = true;
        if (attr->exclude_kernel)
            append(c->info.note, sizeof c->info.note, "user space only (as requested)");
        return;
    }
    e = errno;
    if ((e == EACCES || e == EPERM) && !attr->exclude_kernel && !kernel_only) {
        attr->exclude_kernel = 1;
        attr->exclude_hv = 1;
        c->fd = open_for_this_thread(attr);
        if (c->fd >= 0) {
            int paranoid = -1;
            c->info.available = true;
            (void)sn_counters_perf_event_paranoid(&paranoid);
            snprintf(c->info.note, sizeof c->info.note,
                     "user space only: perf_event_paranoid=%d forbids counting the kernel",
                     paranoid);
            return;
        }
        e = errno;
    }
    perf_failure_reason(s, c, attr->type, e);
    if ((e == EACCES || e == EPERM) && kernel_only)
        append(c->info.reason, sizeof c->info.reason,
               "; the event happens only in the kernel, so user-space counting cannot stand in");
}

static void open_perf_software(sn_counters *s, counter *c)
{
    static const struct {
        const char *name;
        uint64_t config;
        bool nanoseconds;
        bool kernel_only;
    } events[] = {
        {"task-clock", PERF_COUNT_SW_TASK_CLOCK, true, false},
        {"cpu-clock", PERF_COUNT_SW_CPU_CLOCK, true, false},
        {"page-faults", PERF_COUNT_SW_PAGE_FAULTS, false, false},
        {"minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN, false, false},
        {"major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ, false, false},
        {"context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES, false, true},
        {"cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS, false, true},
        {"alignment-faults", PERF_COUNT_SW_ALIGNMENT_FAULTS, false, false},
        {"emulation-faults", PERF_COUNT_SW_EMULATION_FAULTS, false, false},
    };
    const char *name = c->info.name + strlen("perf:");
    struct perf_event_attr attr;
    size_t i;
    for (i = 0; i < sizeof events / sizeof events[0]; ++i)
        if (!strcmp(name, events[i].name))
            break;
    if (i == sizeof events / sizeof events[0]) {
        snprintf(c->info.reason, sizeof c->info.reason,
                 "unknown perf software event (known: task-clock, cpu-clock, page-faults, "
                 "minor-faults, major-faults, context-switches, cpu-migrations, "
                 "alignment-faults, emulation-faults)");
        return;
    }
    c->info.unit = events[i].nanoseconds ? "ns" : "count";
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = events[i].config;
    perf_open_counter(s, c, &attr, events[i].kernel_only);
}

static void open_pfm(sn_counters *s, counter *c)
{
    const char *name = c->info.name + strlen("pfm:");
    struct perf_event_attr attr;
    pfm_perf_encode_arg_t arg;
    int rc = pfm_initialize(); /* idempotent; PAPI may also have initialised it */
    if (rc != PFM_SUCCESS) {
        snprintf(c->info.reason, sizeof c->info.reason, "libpfm4: pfm_initialize: %s",
                 pfm_strerror(rc));
        return;
    }
    memset(&attr, 0, sizeof attr);
    memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.size = sizeof arg;
    /* kernel and user space unless the name's modifiers say otherwise (e.g. cycles:u) */
    rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (rc != PFM_SUCCESS) {
        snprintf(c->info.reason, sizeof c->info.reason,
                 "libpfm4 cannot encode it (pfm_get_os_event_encoding: %s)", pfm_strerror(rc));
        if (rc == PFM_ERR_NOTFOUND)
            append_no_hardware_pmu(s, c->info.reason, sizeof c->info.reason);
        return;
    }
    c->info.unit = attr.type == PERF_TYPE_SOFTWARE && (attr.config == PERF_COUNT_SW_TASK_CLOCK ||
                                                       attr.config == PERF_COUNT_SW_CPU_CLOCK)
                       ? "ns"
                       : "count";
    perf_open_counter(s, c, &attr,
                      attr.type == PERF_TYPE_SOFTWARE &&
                          (attr.config == PERF_COUNT_SW_CONTEXT_SWITCHES ||
                           attr.config == PERF_COUNT_SW_CPU_MIGRATIONS));
}

static int perf_read_value(int fd, sn_counter_value *v)
{
    uint64_t buf[3]; /* value, time enabled, time running */
    ssize_t got = read(fd, buf, sizeof buf);
    memset(v, 0, sizeof *v);
    if (got != (ssize_t)sizeof buf)
        return -1;
    if (buf[2] < buf[1]) { /* multiplexed: the kernel ran it part of the time */
        double scaled;
        if (buf[2] == 0)
            return 0; /* never scheduled: no value */
        scaled = (double)buf[0] * ((double)buf[1] / (double)buf[2]);
        v->value = scaled >= 9.2e18 ? INT64_MAX : (int64_t)scaled;
        v->scaled = true;
    } else {
        v->value = buf[0] > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)buf[0];
    }
    v->valid = true;
    return 0;
}

/* ---- PAPI ---------------------------------------------------------------------------- */

/* SN_PAPI_DISABLE_COMPONENTS=perf_event[,...]: PAPI comes up without those components, as
 * on a machine where they are missing or disabled (make test PAPI_DISABLE=perf_event runs
 * the suite that way). Names PAPI does not know are ignored; PAPI's own reason for each
 * disabled component then appears in the events' reasons. */
static void disable_papi_components(void)
{
    const char *list = getenv("SN_PAPI_DISABLE_COMPONENTS");
    char name[64];
    while (list && *list) {
        size_t len = strcspn(list, ",");
        if (len > 0 && len < sizeof name) {
            memcpy(name, list, len);
            name[len] = '\0';
            (void)PAPI_disable_component_by_name(name);
        }
        list += len + (list[len] == ',');
    }
}

/* PAPI is initialised once per process, on the first set that needs it, and stays up: its
 * state is PAPI's own (PAPI_is_initialized), so this file keeps none (issue 18: no library
 * code keeps process-wide mutable state). Each set creates and destroys its own event set. */
static int papi_acquire(void)
{
    if (PAPI_is_initialized() == PAPI_NOT_INITED) {
        int rc;
        disable_papi_components();
        rc = PAPI_library_init(PAPI_VER_CURRENT);
        if (rc != PAPI_VER_CURRENT)
            return rc < 0 ? rc : PAPI_EMISC;
    }
    return PAPI_OK;
}

static void papi_failure_reason(sn_counters *s, counter *c, const char *call, int rc)
{
    char *r = c->info.reason;
    size_t n = sizeof c->info.reason;
    int component = PAPI_get_event_component(c->papi_code);
    snprintf(r, n, "%s: %s (%s)", call, papi_error_name(rc), PAPI_strerror(rc));
    if (component >= 0) {
        const PAPI_component_info_t *ci = PAPI_get_component_info(component);
        if (ci && ci->disabled)
            append(r, n, "; PAPI component %s is disabled: %s", ci->name, ci->disabled_reason);
    }
    if (strncmp(c->info.name, "perf::", 6) != 0) /* PAPI's own software events need no PMU */
        append_no_hardware_pmu(s, r, n);
}

static const char *papi_unit(const char *name, const PAPI_event_info_t *info)
{
    if (info && !strcmp(info->units, "ns"))
        return "ns";
    return unit_of_name(name); /* PAPI leaves the units of the perf software clocks empty */
}

/* Adds C alone to a scratch event set and starts and stops it: available on its own? */
static void papi_probe(sn_counters *s, counter *c)
{
    PAPI_event_info_t info;
    int set = PAPI_NULL, rc;
    long long value;
    rc = PAPI_event_name_to_code(c->info.name, &c->papi_code);
    if (rc != PAPI_OK) {
        snprintf(c->info.reason, sizeof c->info.reason,
                 "PAPI does not know this event name (PAPI_event_name_to_code: %s, %s)",
                 papi_error_name(rc), PAPI_strerror(rc));
        return;
    }
    if (PAPI_get_event_info(c->papi_code, &info) == PAPI_OK) {
        c->info.unit = papi_unit(c->info.name, &info);
        if (IS_PRESET(c->papi_code) && info.count == 0) {
            snprintf(c->info.reason, sizeof c->info.reason,
                     "PAPI preset maps to no native event on this machine");
            append_no_hardware_pmu(s, c->info.reason, sizeof c->info.reason);
            return;
        }
    }
    if ((rc = PAPI_create_eventset(&set)) != PAPI_OK) {
        papi_failure_reason(s, c, "PAPI_create_eventset", rc);
        return;
    }
    if ((rc = PAPI_add_event(set, c->papi_code)) != PAPI_OK)
        papi_failure_reason(s, c, "PAPI_add_event", rc);
    else if ((rc = PAPI_start(set)) != PAPI_OK)
        papi_failure_reason(s, c, "PAPI_start", rc);
    else if ((rc = PAPI_stop(set, &value)) != PAPI_OK)
        papi_failure_reason(s, c, "PAPI_stop", rc);
    else
        c->info.available = true;
    (void)PAPI_cleanup_eventset(set);
    (void)PAPI_destroy_eventset(&set);
}

static void papi_mark_all_unavailable(sn_counters *s, const char *call, int rc)
{
    size_t i;
    for (i = 0; i < s->count; ++i) {
        counter *c = &s->events[i];
        if (c->info.source != SN_COUNTER_SOURCE_PAPI || !c->info.available)
            continue;
        c->info.available = false;
        c->papi_slot = -1;
        c->info.note[0] = '\0';
        snprintf(c->info.reason, sizeof c->info.reason,
                 "%s of the set's PAPI events together: %s (%s)", call, papi_error_name(rc),
                 PAPI_strerror(rc));
    }
}

/* Probes every PAPI event alone, then builds the one event set that counts them all. */
static void open_papi(sn_counters *s)
{
    long long values[SN_COUNTERS_MAX];
    size_t i;
    int rc;
    bool any = false;
    for (i = 0; i < s->count; ++i)
        any |= s->events[i].info.source == SN_COUNTER_SOURCE_PAPI;
    if (!any)
        return;
    if ((rc = papi_acquire()) != PAPI_OK) {
        for (i = 0; i < s->count; ++i)
            if (s->events[i].info.source == SN_COUNTER_SOURCE_PAPI)
                snprintf(s->events[i].info.reason, sizeof s->events[i].info.reason,
                         "PAPI_library_init: %s (%s)", papi_error_name(rc), PAPI_strerror(rc));
        return;
    }
    for (i = 0; i < s->count; ++i)
        if (s->events[i].info.source == SN_COUNTER_SOURCE_PAPI)
            papi_probe(s, &s->events[i]);
    if ((rc = PAPI_create_eventset(&s->papi_set)) != PAPI_OK) {
        s->papi_set = PAPI_NULL;
        papi_mark_all_unavailable(s, "PAPI_create_eventset", rc);
        return;
    }
    for (i = 0; i < s->count; ++i) {
        counter *c = &s->events[i];
        if (c->info.source != SN_COUNTER_SOURCE_PAPI || !c->info.available)
            continue;
        if ((rc = PAPI_add_event(s->papi_set, c->papi_code)) != PAPI_OK) {
            c->info.available = false;
            snprintf(c->info.reason, sizeof c->info.reason,
                     "cannot be counted together with the PAPI events listed before it "
                     "(PAPI_add_event: %s, %s)", papi_error_name(rc), PAPI_strerror(rc));
            continue;
        }
        c->papi_slot = s->papi_count++;
        snprintf(c->info.note, sizeof c->info.note, "user space only (PAPI's default domain)");
    }
    /* the combination must start, too */
    if (s->papi_count > 0 && ((rc = PAPI_start(s->papi_set)) != PAPI_OK ||
                              (rc = PAPI_stop(s->papi_set, values)) != PAPI_OK)) {
        papi_mark_all_unavailable(s, "PAPI_start", rc);
        s->papi_count = 0;
    }
    if (s->papi_count == 0) {
        (void)PAPI_cleanup_eventset(s->papi_set);
        (void)PAPI_destroy_eventset(&s->papi_set);
        s->papi_set = PAPI_NULL;
    }
}

/* ---- the set ------------------------------------------------------------------------- */

static sn_counters_status list_error(char *err, size_t err_bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sn_counters_status list_error(char *err, size_t err_bytes, const char *fmt, ...)
{
    va_list ap;
    if (err && err_bytes) {
        va_start(ap, fmt);
        vsnprintf(err, err_bytes, fmt, ap);
        va_end(ap);
    }
    return SN_COUNTERS_BAD_LIST;
}

static sn_counters_status parse_list(sn_counters *s, const char *list, char *err, size_t err_bytes)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ','), *a = p, *b;
        size_t len, i;
        counter *c;
        if (!end)
            end = p + strlen(p);
        b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            ++a;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            --b;
        len = (size_t)(b - a);
        if (len == 0)
            return list_error(err, err_bytes, "empty event name in the list '%s'", list);
        if (len >= SN_COUNTER_NAME_BYTES)
            return list_error(err, err_bytes, "event name longer than %d bytes: '%.40s...'",
                              SN_COUNTER_NAME_BYTES - 1, a);
        if (s->count == SN_COUNTERS_MAX)
            return list_error(err, err_bytes, "more than %d events in the list",
                              SN_COUNTERS_MAX);
        c = &s->events[s->count];
        memcpy(c->info.name, a, len);
        c->info.name[len] = '\0';
        for (i = 0; i < s->count; ++i)
            if (!strcmp(s->events[i].info.name, c->info.name))
                return list_error(err, err_bytes, "event '%s' is listed twice", c->info.name);
        c->info.unit = unit_of_name(c->info.name); /* whether or not it opens */
        c->fd = -1;
        c->papi_slot = -1;
        if (!strncmp(c->info.name, "pfm:", 4))
            c->info.source = SN_COUNTER_SOURCE_PFM;
        else if (!strncmp(c->info.name, "perf:", 5) && c->info.name[5] != ':')
            c->info.source = SN_COUNTER_SOURCE_PERF; /* perf::NAME is a PAPI native name */
        else
            c->info.source = SN_COUNTER_SOURCE_PAPI;
        ++s->count;
        if (*end == '\0')
            return SN_COUNTERS_OK;
        p = end + 1;
    }
}

sn_counters_status sn_counters_open(const char *list, sn_counters **set, char *err,
                                    size_t err_bytes)
{
    sn_counters *s;
    sn_counters_status st;
    size_t i;
    *set = NULL;
    if (err && err_bytes)
        err[0] = '\0';
    s = calloc(1, sizeof *s);
    if (!s) {
        if (err && err_bytes)
            snprintf(err, err_bytes, "out of memory");
        return SN_COUNTERS_NO_MEMORY;
    }
    s->papi_set = PAPI_NULL;
    s->hardware_pmu = -2;
    st = parse_list(s, list ? list : SN_COUNTERS_DEFAULT_LIST, err, err_bytes);
    if (st != SN_COUNTERS_OK) {
        free(s);
        return st;
    }
    for (i = 0; i < s->count; ++i) {
        if (s->events[i].info.source == SN_COUNTER_SOURCE_PFM)
            open_pfm(s, &s->events[i]);
        else if (s->events[i].info.source == SN_COUNTER_SOURCE_PERF)
            open_perf_software(s, &s->events[i]);
    }
    open_papi(s);
    for (i = 0; i < s->count; ++i) /* the contract: unavailable always says why */
        if (!s->events[i].info.available && s->events[i].info.reason[0] == '\0')
            snprintf(s->events[i].info.reason, sizeof s->events[i].info.reason,
                     "could not be opened");
    *set = s;
    return SN_COUNTERS_OK;
}

void sn_counters_close(sn_counters *s)
{
    size_t i;
    if (!s)
        return;
    if (s->papi_set != PAPI_NULL) {
        if (s->running) {
            long long values[SN_COUNTERS_MAX];
            (void)PAPI_stop(s->papi_set, values);
        }
        (void)PAPI_cleanup_eventset(s->papi_set);
        (void)PAPI_destroy_eventset(&s->papi_set);
    }
    for (i = 0; i < s->count; ++i)
        if (s->events[i].fd >= 0)
            close(s->events[i].fd);
    free(s);
}

size_t sn_counters_count(const sn_counters *s)
{
    return s->count;
}

const sn_counter_info *sn_counters_info(const sn_counters *s, size_t i)
{
    assert(i < s->count);
    return &s->events[i].info;
}

sn_counters_status sn_counters_start(sn_counters *s)
{
    size_t i;
    assert(!s->running);
    for (i = 0; i < s->count; ++i)
        memset(&s->events[i].last, 0, sizeof s->events[i].last);
    if (s->papi_count > 0 && PAPI_start(s->papi_set) != PAPI_OK)
        return SN_COUNTERS_SYSTEM_ERROR;
    for (i = 0; i < s->count; ++i) {
        int fd = s->events[i].fd;
        if (fd >= 0 && (ioctl(fd, PERF_EVENT_IOC_RESET, 0) != 0 ||
                        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0)) {
            size_t j;
            for (j = 0; j < i; ++j)
                if (s->events[j].fd >= 0)
                    (void)ioctl(s->events[j].fd, PERF_EVENT_IOC_DISABLE, 0);
            if (s->papi_count > 0) {
                long long values[SN_COUNTERS_MAX];
                (void)PAPI_stop(s->papi_set, values);
            }
            return SN_COUNTERS_SYSTEM_ERROR;
        }
    }
    s->running = true;
    return SN_COUNTERS_OK;
}

/* Reads every event into its LAST slot; STOPPING disables the perf events and stops PAPI. */
static sn_counters_status collect(sn_counters *s, bool stopping)
{
    long long papi_values[SN_COUNTERS_MAX];
    sn_counters_status st = SN_COUNTERS_OK;
    size_t i;
    if (stopping)
        for (i = 0; i < s->count; ++i)
            if (s->events[i].fd >= 0 && ioctl(s->events[i].fd, PERF_EVENT_IOC_DISABLE, 0) != 0)
                st = SN_COUNTERS_SYSTEM_ERROR;
    if (s->papi_count > 0) {
        int rc = stopping ? PAPI_stop(s->papi_set, papi_values)
                          : PAPI_read(s->papi_set, papi_values);
        if (rc != PAPI_OK)
            st = SN_COUNTERS_SYSTEM_ERROR;
        for (i = 0; i < s->count; ++i) {
            counter *c = &s->events[i];
            if (c->papi_slot < 0)
                continue;
            memset(&c->last, 0, sizeof c->last);
            if (rc == PAPI_OK && papi_values[c->papi_slot] >= 0) {
                c->last.value = (int64_t)papi_values[c->papi_slot];
                c->last.valid = true;
            }
        }
    }
    for (i = 0; i < s->count; ++i)
        if (s->events[i].fd >= 0 && perf_read_value(s->events[i].fd, &s->events[i].last) != 0)
            st = SN_COUNTERS_SYSTEM_ERROR;
    if (stopping)
        s->running = false;
    return st;
}

static void copy_values(const sn_counters *s, sn_counter_value *values)
{
    size_t i;
    if (values)
        for (i = 0; i < s->count; ++i)
            values[i] = s->events[i].last;
}

sn_counters_status sn_counters_stop(sn_counters *s, sn_counter_value *values)
{
    sn_counters_status st;
    assert(s->running);
    st = collect(s, true);
    copy_values(s, values);
    return st;
}

sn_counters_status sn_counters_read(sn_counters *s, sn_counter_value *values)
{
    sn_counters_status st = s->running ? collect(s, false) : SN_COUNTERS_OK;
    copy_values(s, values);
    return st;
}
