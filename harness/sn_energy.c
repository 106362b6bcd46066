#define _DEFAULT_SOURCE /* syscall() */
#include "sn_energy.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

const sn_energy_model sn_energy_model_cpu_fp32 = {"horowitz45-fp32", 4.6, 160.0, 1.25};
const sn_energy_model sn_energy_model_cpu_int8 = {"horowitz45-int8", 0.23, 160.0, 1.25};

#define PATH_BYTES 512

typedef struct zone {
    char name[32];           /* reported domain name */
    char energy_path[PATH_BYTES]; /* powercap: .../energy_uj */
    uint64_t max_range_uj;   /* powercap: the counter wraps after this value */
    int fd;                  /* perf power: the event */
    double scale_uj;         /* perf power: microjoules per count */
    uint64_t last;           /* the counter at the last start/poll */
    double accumulated_uj;
} zone;

struct sn_energy_meter {
    sn_energy_kind kind;
    sn_energy_model model;
    char source[SN_ENERGY_SOURCE_BYTES];
    char note[SN_ENERGY_NOTE_BYTES];
    size_t zone_count;
    zone zones[SN_ENERGY_MAX_DOMAINS];
};

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

/* snprintf for paths: a path that does not fit becomes "" (which then fails to open). */
static void make_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void make_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        buf[0] = '\0';
}

const char *sn_energy_status_str(sn_energy_status status)
{
    switch (status) {
    case SN_ENERGY_OK: return "ok";
    case SN_ENERGY_NO_MEMORY: return "out of memory";
    case SN_ENERGY_READ_FAILED: return "an energy counter could not be read";
    }
    return "unknown status";
}

/* ---- the model ----------------------------------------------------------------------- */

double sn_energy_model_pj(const sn_energy_model *m, const sn_energy_work *w)
{
    return m->mac_pj * (double)w->macs + m->far_byte_pj * (double)w->far_bytes +
           m->near_byte_pj * (double)w->near_bytes;
}

char *sn_energy_model_source(const sn_energy_model *m, char *buf, size_t size)
{
    snprintf(buf, size, "model:%s(mac=%gpJ,far=%gpJ/B,near=%gpJ/B)", m->name, m->mac_pj,
             m->far_byte_pj, m->near_byte_pj);
    return buf;
}

static void add_domain(sn_energy_reading *r, const char *name, double uj)
{
    sn_energy_domain *d;
    if (r->domain_count == SN_ENERGY_MAX_DOMAINS)
        return;
    d = &r->domains[r->domain_count++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->energy_uj = uj;
    r->total_uj += uj;
}

void sn_energy_model_reading(const sn_energy_model *m, const sn_energy_work *w,
                             sn_energy_reading *out)
{
    memset(out, 0, sizeof *out);
    sn_energy_model_source(m, out->source, sizeof out->source);
    add_domain(out, "compute", m->mac_pj * (double)w->macs * 1e-6);
    add_domain(out, "far", m->far_byte_pj * (double)w->far_bytes * 1e-6);
    add_domain(out, "near", m->near_byte_pj * (double)w->near_bytes * 1e-6);
}

/* ---- sysfs --------------------------------------------------------------------------- */

/* The first line of a small file, without its newline. Returns 0, or -1 with errno set. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "r");
    size_t n;
    if (!fp)
        return -1;
    if (!fgets(buf, (int)size, fp)) {
        int e = ferror(fp) ? (errno ? errno : EIO) : ENODATA;
        fclose(fp);
        errno = e;
        return -1;
    }
    fclose(fp);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int read_u64(const char *path, uint64_t *value)
{
    char buf[64], *end;
    if (read_line(path, buf, sizeof buf) != 0)
        return -1;
    errno = 0;
    *value = strtoull(buf, &end, 10);
    if (errno || end == buf || *end) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the package-N and dram zones of SYSFS/class/powercap; on failure says why in NOTE. */
static int open_powercap(sn_energy_meter *m, const char *root)
{
    char dir[PATH_BYTES], path[PATH_BYTES], zone_name[64];
    char *names[64];
    size_t count = 0, i;
    struct dirent *e;
    DIR *d;
    int ok = -1;
    make_path(dir, sizeof dir, "%s/class/powercap", root);
    d = opendir(dir);
    if (!d) {
        append(m->note, sizeof m->note, "no RAPL powercap zones (%s: %s)", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL && count < 64) {
        if (strncmp(e->d_name, "intel-rapl:", 11) != 0) /* also AMD's RAPL, same driver */
            continue;
        names[count] = malloc(strlen(e->d_name) + 1);
        if (!names[count])
            break;
        strcpy(names[count++], e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);
    m->zone_count = 0;
    for (i = 0; i < count; ++i) {
        zone *z = &m->zones[m->zone_count];
        unsigned package = 0;
        make_path(path, sizeof path, "%s/%s/name", dir, names[i]);
        if (read_line(path, zone_name, sizeof zone_name) != 0)
            continue;
        /* package-N and dram hold disjoint energy; core/uncore are inside the package,
         * psys covers everything: leaving those out avoids double counting */
        if (strncmp(zone_name, "package-", 8) != 0 && strcmp(zone_name, "dram") != 0)
            continue;
        if (m->zone_count == SN_ENERGY_MAX_DOMAINS)
            break;
        memset(z, 0, sizeof *z);
        z->fd = -1;
        if (!strcmp(zone_name, "dram")) {
            (void)sscanf(names[i], "intel-rapl:%u", &package);
            snprintf(z->name, sizeof z->name, "dram-%u", package);
        } else {
            snprintf(z->name, sizeof z->name, "%.31s", zone_name);
        }
        make_path(z->energy_path, sizeof z->energy_path, "%s/%s/energy_uj", dir, names[i]);
        make_path(path, sizeof path, "%s/%s/max_energy_range_uj", dir, names[i]);
        if (read_u64(path, &z->max_range_uj) != 0 || z->max_range_uj == 0) {
            append(m->note, sizeof m->note, "RAPL powercap: %s: %s", path,
                   z->max_range_uj == 0 ? "missing or zero range" : strerror(errno));
            goto done;
        }
        if (read_u64(z->energy_path, &z->last) != 0) {
            append(m->note, sizeof m->note, "RAPL powercap: %s: %s%s", z->energy_path,
                   strerror(errno), errno == EACCES ? " (energy_uj is readable by root only "
                                                      "since Linux 5.10)" : "");
            goto done;
        }
        ++m->zone_count;
    }
    if (m->zone_count == 0) {
        append(m->note, sizeof m->note, "no RAPL package or dram zone under %s", dir);
        goto done;
    }
    ok = 0;
    snprintf(m->source, sizeof m->source, "measured:rapl-powercap");
    for (i = 0; i < m->zone_count; ++i)
        append(m->note, sizeof m->note, "%s%s", i ? ", " : "RAPL powercap zones: ",
               m->zones[i].name);
done:
    if (ok != 0)
        m->zone_count = 0;
    for (i = 0; i < count; ++i)
        free(names[i]);
    return ok;
}

/* "event=0x02" (the only form the power PMU uses) into CONFIG. */
static int parse_event_config(const char *text, uint64_t *config)
{
    char *end;
    if (strncmp(text, "event=", 6) != 0)
        return -1;
    errno = 0;
    *config = strtoull(text + 6, &end, 0);
    return errno || end == text + 6 || *end ? -1 : 0;
}

/* "0", "0,24" or "0-1" into CPUS. */
static int parse_cpumask(const char *text, int *cpus, size_t *count)
{
    const char *p = text;
    *count = 0;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0)
            return -1;
        b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        for (; a <= b && *count < SN_ENERGY_MAX_CPUS; ++a)
            cpus[(*count)++] = (int)a;
        if (*p == ',')
            ++p;
        else if (*p)
            return -1;
    }
    return *count > 0 ? 0 : -1;
}

/* Reads events/NAME and events/NAME.scale (and checks events/NAME.unit when present). */
static int read_power_event(const char *pmu, const char *name, uint64_t *config, double *scale,
                            char *why, size_t why_bytes)
{
    char path[PATH_BYTES], text[128], *end;
    make_path(path, sizeof path, "%s/events/%s", pmu, name);
    if (read_line(path, text, sizeof text) != 0) {
        snprintf(why, why_bytes, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (parse_event_config(text, config) != 0) {
        snprintf(why, why_bytes, "%s: cannot parse '%s' (expected event=0xNN)", path, text);
        return -1;
    }
    make_path(path, sizeof path, "%s/events/%s.scale", pmu, name);
    if (read_line(path, text, sizeof text) != 0) {
        snprintf(why, why_bytes, "%s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    *scale = strtod(text, &end);
    if (errno || end == text || *end || !(*scale > 0.0)) {
        snprintf(why, why_bytes, "%s: not a positive number: '%s'", path, text);
        return -1;
    }
    make_path(path, sizeof path, "%s/events/%s.unit", pmu, name);
    if (read_line(path, text, sizeof text) == 0 && strcmp(text, "Joules") != 0) {
        snprintf(why, why_bytes, "%s: unit '%s', expected Joules", path, text);
        return -1;
    }
    return 0;
}

int sn_energy_perf_power_describe(const char *root, sn_energy_perf_power *out, char *why,
                                  size_t why_bytes)
{
    char pmu[PATH_BYTES], path[PATH_BYTES], text[256], *end;
    unsigned long type;
    memset(out, 0, sizeof *out);
    if (why && why_bytes)
        why[0] = '\0';
    make_path(pmu, sizeof pmu, "%s/bus/event_source/devices/power", root ? root : "/sys");
    make_path(path, sizeof path, "%s/type", pmu);
    if (read_line(path, text, sizeof text) != 0) {
        snprintf(why, why_bytes, "no perf power PMU (%s: %s)", path, strerror(errno));
        return -1;
    }
    errno = 0;
    type = strtoul(text, &end, 10);
    if (errno || end == text || *end || type > UINT32_MAX) {
        snprintf(why, why_bytes, "%s: not a PMU type: '%s'", path, text);
        return -1;
    }
    out->type = (uint32_t)type;
    if (read_power_event(pmu, "energy-pkg", &out->pkg_config, &out->pkg_scale_j, why,
                         why_bytes) != 0)
        return -1;
    out->has_dram = read_power_event(pmu, "energy-dram", &out->dram_config,
                                     &out->dram_scale_j, text, sizeof text) == 0;
    make_path(path, sizeof path, "%s/cpumask", pmu);
    if (read_line(path, text, sizeof text) != 0) {
        snprintf(why, why_bytes, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (parse_cpumask(text, out->cpus, &out->cpu_count) != 0) {
        snprintf(why, why_bytes, "%s: cannot parse '%s'", path, text);
        return -1;
    }
    return 0;
}

static int perf_read_u64(int fd, uint64_t *value)
{
    return read(fd, value, sizeof *value) == (ssize_t)sizeof *value ? 0 : -1;
}

static int open_power_event(sn_energy_meter *m, uint32_t type, uint64_t config, double scale_j,
                            int cpu, const char *name)
{
    struct perf_event_attr attr;
    zone *z;
    long fd;
    if (m->zone_count == SN_ENERGY_MAX_DOMAINS)
        return 0;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    fd = syscall(SYS_perf_event_open, &attr, -1 /* all tasks */, cpu, -1, 0UL);
    if (fd < 0) {
        int e = errno;
        append(m->note, sizeof m->note,
               "perf power PMU: perf_event_open(type %u, config 0x%llx, cpu %d): %s%s", type,
               (unsigned long long)config, cpu, strerror(e),
               e == EACCES || e == EPERM ? " (system-wide counting needs root or CAP_PERFMON)"
                                         : "");
        return -1;
    }
    z = &m->zones[m->zone_count++];
    memset(z, 0, sizeof *z);
    z->fd = (int)fd;
    z->scale_uj = scale_j * 1e6;
    snprintf(z->name, sizeof z->name, "%s", name);
    return 0;
}

static int open_perf_power(sn_energy_meter *m, const char *root)
{
    sn_energy_perf_power pp;
    char why[SN_ENERGY_NOTE_BYTES];
    size_t i;
    if (sn_energy_perf_power_describe(root, &pp, why, sizeof why) != 0) {
        append(m->note, sizeof m->note, "%s%s", m->note[0] ? "; " : "", why);
        return -1;
    }
    if (m->note[0])
        append(m->note, sizeof m->note, "; ");
    m->zone_count = 0;
    for (i = 0; i < pp.cpu_count; ++i) {
        char name[32];
        snprintf(name, sizeof name, "package-%zu", i);
        if (open_power_event(m, pp.type, pp.pkg_config, pp.pkg_scale_j, pp.cpus[i], name) != 0)
            goto fail;
        if (pp.has_dram) {
            snprintf(name, sizeof name, "dram-%zu", i);
            if (open_power_event(m, pp.type, pp.dram_config, pp.dram_scale_j, pp.cpus[i],
                                 name) != 0)
                goto fail;
        }
    }
    m->note[0] = '\0';
    snprintf(m->source, sizeof m->source, "measured:perf-power");
    for (i = 0; i < m->zone_count; ++i)
        append(m->note, sizeof m->note, "%s%s", i ? ", " : "perf power PMU events: ",
               m->zones[i].name);
    return 0;
fail:
    for (i = 0; i < m->zone_count; ++i)
        close(m->zones[i].fd);
    m->zone_count = 0;
    return -1;
}

/* ---- the meter ----------------------------------------------------------------------- */

sn_energy_status sn_energy_open(const sn_energy_options *options, sn_energy_meter **meter)
{
    static const sn_energy_options defaults = {NULL, NULL, false};
    const sn_energy_options *o = options ? options : &defaults;
    const char *root = o->sysfs_root ? o->sysfs_root : "/sys";
    sn_energy_meter *m = calloc(1, sizeof *m);
    *meter = NULL;
    if (!m)
        return SN_ENERGY_NO_MEMORY;
    m->model = o->model ? *o->model : sn_energy_model_cpu_fp32;
    if (!o->model_only && open_powercap(m, root) == 0) {
        m->kind = SN_ENERGY_RAPL_POWERCAP;
    } else if (!o->model_only && open_perf_power(m, root) == 0) {
        m->kind = SN_ENERGY_PERF_POWER;
    } else {
        m->kind = SN_ENERGY_MODEL;
        sn_energy_model_source(&m->model, m->source, sizeof m->source);
        if (o->model_only)
            snprintf(m->note, sizeof m->note, "model only (measured sources not tried)");
    }
    *meter = m;
    return SN_ENERGY_OK;
}

void sn_energy_close(sn_energy_meter *m)
{
    size_t i;
    if (!m)
        return;
    if (m->kind == SN_ENERGY_PERF_POWER)
        for (i = 0; i < m->zone_count; ++i)
            close(m->zones[i].fd);
    free(m);
}

sn_energy_kind sn_energy_kind_of(const sn_energy_meter *m)
{
    return m->kind;
}

const char *sn_energy_source(const sn_energy_meter *m)
{
    return m->source;
}

const char *sn_energy_note(const sn_energy_meter *m)
{
    return m->note;
}

static int read_zone(const sn_energy_meter *m, const zone *z, uint64_t *value)
{
    return m->kind == SN_ENERGY_RAPL_POWERCAP ? read_u64(z->energy_path, value)
                                              : perf_read_u64(z->fd, value);
}

sn_energy_status sn_energy_start(sn_energy_meter *m)
{
    size_t i;
    for (i = 0; i < m->zone_count; ++i) {
        m->zones[i].accumulated_uj = 0.0;
        if (read_zone(m, &m->zones[i], &m->zones[i].last) != 0)
            return SN_ENERGY_READ_FAILED;
    }
    return SN_ENERGY_OK;
}

sn_energy_status sn_energy_poll(sn_energy_meter *m)
{
    size_t i;
    for (i = 0; i < m->zone_count; ++i) {
        zone *z = &m->zones[i];
        uint64_t now;
        if (read_zone(m, z, &now) != 0)
            return SN_ENERGY_READ_FAILED;
        if (m->kind == SN_ENERGY_RAPL_POWERCAP) {
            /* energy_uj counts up to max_energy_range_uj and restarts from 0 */
            uint64_t delta = now >= z->last ? now - z->last : (z->max_range_uj - z->last) + now;
            z->accumulated_uj += (double)delta;
        } else {
            z->accumulated_uj += (double)(now - z->last) * z->scale_uj; /* 64-bit: no wrap */
        }
        z->last = now;
    }
    return SN_ENERGY_OK;
}

sn_energy_status sn_energy_stop(sn_energy_meter *m, const sn_energy_work *work,
                                sn_energy_reading *out)
{
    sn_energy_status st;
    size_t i;
    if (m->kind == SN_ENERGY_MODEL) {
        static const sn_energy_work none = {0, 0, 0};
        sn_energy_model_reading(&m->model, work ? work : &none, out);
        return SN_ENERGY_OK;
    }
    st = sn_energy_poll(m);
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", m->source);
    for (i = 0; i < m->zone_count; ++i)
        add_domain(out, m->zones[i].name, m->zones[i].accumulated_uj);
    return st;
}
