/* supernav harness: energy of a measured region, measured when the machine lets us and
 * modelled otherwise. Every figure carries its source string:
 *
 *   measured:rapl-powercap  RAPL through powercap sysfs: the package-N and dram zones under
 *                           SYSFS/class/powercap/intel-rapl:*, energy_uj (microjoules),
 *                           wrapping at max_energy_range_uj
 *   measured:perf-power     RAPL through the perf "power" PMU: SYSFS/bus/event_source/
 *                           devices/power/{type,cpumask,events/energy-pkg[.scale]} (and
 *                           energy-dram), counted system-wide on one CPU per package
 *   model:<name>(mac=..pJ,far=..pJ/B,near=..pJ/B)
 *                           E = e_mac * MACs + e_far * far bytes + e_near * near bytes
 *
 * sn_energy_open() tries them in that order and keeps the first that works; why the
 * measured ones were not used is in sn_energy_note(). The sysfs root is a parameter so
 * that tests can point it at a fake tree. Measured energy is whole-package (or DRAM)
 * energy: everything the machine did during the region, not only this process.
 *
 * Default model coefficients, for a CPU (45 nm figures; scale them for other nodes):
 *   M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
 *   pp. 10-14, table of operation energies at 45 nm: 32-bit float multiply 3.7 pJ + add 0.9 pJ
 *   = 4.6 pJ per fp32 multiply-accumulate; 8-bit integer multiply 0.2 pJ + add 0.03 pJ
 *   = 0.23 pJ per int8 MAC; 64-bit read of an 8 KB SRAM 10 pJ; DRAM 1.3-2.6 nJ per 64-bit
 *   access.
 *   S. Han, J. Pool, J. Tran, W. Dally, "Learning both weights and connections for
 *   efficient neural networks", NeurIPS 2015, Table 1 (from Horowitz): 32-bit DRAM read
 *   640 pJ, 32-bit SRAM read 5 pJ.
 *   => far (DRAM) 640 pJ / 4 B = 160 pJ per byte; near (small SRAM/L1) 5 pJ / 4 B =
 *      1.25 pJ per byte. These are order-of-magnitude figures, labelled as a model. */
#ifndef SN_ENERGY_H
#define SN_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_ENERGY_SOURCE_BYTES 160
#define SN_ENERGY_NOTE_BYTES 512
#define SN_ENERGY_MAX_DOMAINS 16
#define SN_ENERGY_MAX_CPUS 16 /* perf power: packages counted */

typedef struct sn_energy_model {
    const char *name;     /* short, no spaces or parentheses, e.g. "horowitz45-fp32" */
    double mac_pj;        /* one multiply-accumulate */
    double far_byte_pj;   /* one byte moved from far memory (DRAM, flash, host memory) */
    double near_byte_pj;  /* one byte read from near memory (SRAM, cache, device buffer) */
} sn_energy_model;

/* horowitz45-fp32: mac 4.6 pJ, far 160 pJ/B, near 1.25 pJ/B (see above). */
extern const sn_energy_model sn_energy_model_cpu_fp32;
/* horowitz45-int8: mac 0.23 pJ, far 160 pJ/B, near 1.25 pJ/B. */
extern const sn_energy_model sn_energy_model_cpu_int8;

/* The work of a region, for the model. */
typedef struct sn_energy_work {
    uint64_t macs;
    uint64_t far_bytes;
    uint64_t near_bytes;
} sn_energy_work;

typedef struct sn_energy_domain {
    char name[32];        /* measured: "package-0", "dram-0"; model: "compute", "far", "near" */
    double energy_uj;
} sn_energy_domain;

typedef struct sn_energy_reading {
    char source[SN_ENERGY_SOURCE_BYTES];
    double total_uj;      /* the sum of the domains */
    size_t domain_count;
    sn_energy_domain domains[SN_ENERGY_MAX_DOMAINS];
} sn_energy_reading;

typedef enum sn_energy_kind {
    SN_ENERGY_RAPL_POWERCAP,
    SN_ENERGY_PERF_POWER,
    SN_ENERGY_MODEL
} sn_energy_kind;

typedef enum sn_energy_status {
    SN_ENERGY_OK = 0,
    SN_ENERGY_NO_MEMORY,
    SN_ENERGY_READ_FAILED  /* a measured counter that opened could not be read */
} sn_energy_status;

typedef struct sn_energy_options {
    const char *sysfs_root;         /* NULL: "/sys" */
    const sn_energy_model *model;   /* NULL: &sn_energy_model_cpu_fp32 */
    bool model_only;                /* do not look for measured sources */
} sn_energy_options;

/* What the perf power PMU under a sysfs root declares (sn_energy_perf_power_describe). */
typedef struct sn_energy_perf_power {
    uint32_t type;                  /* perf_event_attr.type */
    uint64_t pkg_config, dram_config;
    double pkg_scale_j, dram_scale_j; /* joules per count */
    bool has_dram;
    int cpus[SN_ENERGY_MAX_CPUS];   /* from cpumask: one CPU per package */
    size_t cpu_count;
} sn_energy_perf_power;

typedef struct sn_energy_meter sn_energy_meter;

const char *sn_energy_status_str(sn_energy_status status);

/* E in picojoules: mac_pj * macs + far_byte_pj * far_bytes + near_byte_pj * near_bytes. */
double sn_energy_model_pj(const sn_energy_model *model, const sn_energy_work *work);

/* "model:<name>(mac=<g>pJ,far=<g>pJ/B,near=<g>pJ/B)" into BUF. Returns BUF. */
char *sn_energy_model_source(const sn_energy_model *model, char *buf, size_t size);

/* The model's reading of WORK: domains compute, far and near, in microjoules. */
void sn_energy_model_reading(const sn_energy_model *model, const sn_energy_work *work,
                             sn_energy_reading *out);

/* Parses the perf power PMU's sysfs description under SYSFS_ROOT (NULL: "/sys"): type,
 * energy-pkg (required, unit Joules) and energy-dram events with their scales, cpumask.
 * Returns 0, or -1 with a one-line reason in WHY. Opens nothing. */
int sn_energy_perf_power_describe(const char *sysfs_root, sn_energy_perf_power *out,
                                  char *why, size_t why_bytes);

/* Picks the energy source (see above). Fails only for lack of memory; *METER is then
 * NULL. OPTIONS may be NULL (all defaults). */
sn_energy_status sn_energy_open(const sn_energy_options *options, sn_energy_meter **meter);

void sn_energy_close(sn_energy_meter *meter);

sn_energy_kind sn_energy_kind_of(const sn_energy_meter *meter);

/* "measured:rapl-powercap", "measured:perf-power" or the model's source string. */
const char *sn_energy_source(const sn_energy_meter *meter);

/* One line: which zones or events are measured, or why the measured sources were not
 * used ("no .../class/powercap; no perf power PMU (...)"). */
const char *sn_energy_note(const sn_energy_meter *meter);

/* Starts a region: remembers the counters (measured) and zeroes the accumulated energy. */
sn_energy_status sn_energy_start(sn_energy_meter *meter);

/* Adds the energy since the last start/poll. RAPL counters wrap (powercap: every
 * max_energy_range_uj, minutes to hours); call this at least once per wrap period in
 * long regions. One wrap between two reads is accounted for, more cannot be seen. */
sn_energy_status sn_energy_poll(sn_energy_meter *meter);

/* Ends the region and writes its energy to OUT. For the model, WORK is the region's work
 * (NULL counts as none); measured sources ignore it. */
sn_energy_status sn_energy_stop(sn_energy_meter *meter, const sn_energy_work *work,
                                sn_energy_reading *out);

#endif
