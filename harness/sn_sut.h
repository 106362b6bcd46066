/* supernav harness: the system under test (SUT), the one interface a serving platform
 * implements (as MLPerf LoadGen's SUT and ggml's backends are). The harness -- profile,
 * replay, eval -- knows platforms only through it: no platform header is included under
 * harness/.
 *
 *   const sn_sut_ops *ops = sn_sut_find("cpu");            -- the registry (sn_sut.c)
 *   ops->open(&sut, &set, &options, keep, err, n);          -- each adapter checks its options
 *   ops->describe(sut, &desc);                              -- name, clock, near and far memory
 *   ops->resident(sut, i, plan, charge, &moved, err, n);    -- make weight set I resident
 *   ops->infer(sut, i, plan, &sample, &result, err, n);     -- one sample, one plan
 *   ops->account(sut, json, span_us);                       -- its own record of a run
 *   ops->close(sut);
 *
 * A serving set is the plans of the SubNets a harness serves (index i, ascending MACs), all
 * of the precision the adapter serves (desc.precision). A weight set is the weights of one
 * of them (SUSHI's SubGraph): making it resident moves them into the platform's near memory
 * as far as its budget holds; an inference reads what is resident from near memory and the
 * rest from far memory.
 *
 * Adding a platform: platforms/<p>/sn_<p>_sut.c defining `const sn_sut_ops sn_sut_<p>`, one
 * line in the registry (harness/sn_sut.c) and its object in the Makefile.
 *
 * Errors: every operation that can fail returns an sn_status and writes one line (no
 * newline) into the caller's ERR buffer; nothing here prints. Host-only. */
#ifndef SN_SUT_H
#define SN_SUT_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_run.h"

struct cJSON;
struct sn_energy_model;

typedef struct sn_sut sn_sut;        /* an adapter's state; sn_sut_ops first */

/* Where the times an adapter reports come from. */
typedef enum sn_sut_clock {
    SN_SUT_CLOCK_NONE = 0,           /* runs nothing (the null SUT): no time of its own */
    SN_SUT_CLOCK_MEASURED,           /* measured: the caller's wall clock around the call
                                        (opencl), or the adapter's own around the inference
                                        when it prepares untimed first (cpu: result.us) */
    SN_SUT_CLOCK_EMULATED,           /* counted by an emulator through a cycle model (mcu) */
    SN_SUT_CLOCK_MODEL               /* a model's cycles (fpga); deterministic */
} sn_sut_clock;

/* The options a harness passes; each adapter refuses those it does not take (one line
 * naming the command-line flag). NULL / 0: not given. */
typedef struct sn_sut_options {
    const char *isa;                 /* --isa: cpu (and fpga's compute kernels: never given) */
    const char *device;              /* --device: opencl */
    const char *board;               /* --board: fpga (a board file), mcu (a board profile) */
    const char *port;                /* --port: mcu (a real board's serial port) */
    int32_t pe_rows, pe_cols;        /* --pe: fpga */
    size_t near_budget_bytes;        /* --near-kib; SIZE_MAX: the platform's own (fpga: the
                                        board's buffer; mcu: the SRAM the largest arena of the
                                        set leaves, eval's --cache) */
    int explicit_residency;          /* 1: only what resident() asks for is near (serving);
                                        0: the platform's own residency (eval; mcu: none, every
                                        weight read from flash in place) */
    const char *build_dir;           /* mcu: where the firmware lives (NULL: "build") */
    int threads;                     /* --threads: cpu (ARAC micro-flows over N threads); 0: 1 */
    int64_t null_service_us;         /* --null-service-us: null (each inference busy-waits this
                                        long on CLOCK_MONOTONIC: a planted, known service time
                                        for testing real-time replay); 0: none */
    int layer_times;                 /* --layer-times: cpu (each kernel call timed by layer kind,
                                        platforms/common/sn_timed.h; its report says how long
                                        each kind took and at what FLOP rate) */
    double fma_peak_gflops;          /* --fma-peak: with layer_times, each kind's share of it */
} sn_sut_options;

/* What a harness serves: the plans of N SubNets, their configs, and the model. */
typedef struct sn_sut_set {
    const sn_model *model;
    int precision;                   /* SN_FP32 or SN_INT8: how the plans were prepared */
    uint32_t n;
    const char *const *configs;
    sn_plan *const *plans;
} sn_sut_set;

/* What an adapter is, after open. Strings are the adapter's, valid until close. */
typedef struct sn_sut_desc {
    const char *name;                /* "cpu", as --platform takes it */
    const char *variant;             /* a file-name word: the ISA, the device, the board */
    sn_sut_clock clock;
    int precision;                   /* SN_FP32 or SN_INT8: the plans it serves */
    size_t near_budget_bytes;        /* the near memory a weight set may fill */
    const char *near_memory;         /* what near and far memory are on it, in words */
    const char *far_memory;
    const char *device_key;          /* the run context's device property: "isa", "device", */
    const char *device_value;        /* "board" and its value */
    const char *latency_source;      /* the profile's latency_source */
    const char *instructions_source; /* the profile's instructions_source, or NULL */
    const char *profile_device;      /* the profile's "device" (opencl), or NULL */
    const char *profile_board;       /* the profile's "board" (mcu: the part), or NULL */
    const char *model_clock;         /* the run's clock when its own time is always used
                                        (fpga: every replay is modelled), or NULL */
    const char *virtual_clock;       /* the run's clock in --virtual replay when it has its
                                        own (mcu), or NULL: the measured service times */
    const char *real_time_refusal;   /* NULL: it replays in real time; else why not */
    const struct sn_energy_model *energy; /* per-access energies for the run's account */
    const sn_run_property *properties;    /* more run-context properties (fpga's board) */
    size_t property_count;
    int replans;                     /* 1: an inference may re-plan first (sn_sut_result.plan_us) */
    int32_t slice_quantum;           /* resident_slices: output channels per near/far unit (a
                                        leading slice serves whole units of a wider layer: fpga,
                                        its PE columns; mcu, its kernels' channel groups); 0: any channel */
    int resident_on_use;             /* 1: without explicit_residency it keeps weights near after
                                        their first use (cpu, opencl); 0: only resident() does */
    int near_packed_once;            /* 1: every weight is packed once, so a SubNet with all of
                                        its weights near reads the same bytes under every
                                        SubGraph that holds them (cpu): its measured profile
                                        rows there may be pooled (sn_serve_pool_near); 0: a
                                        SubGraph's near copy has its own layout (opencl) */
} sn_sut_desc;

/* A weight set moved into near memory. */
typedef struct sn_sut_moved {
    uint64_t bytes;
    double us;                       /* its own clock's time; < 0: the caller times the call */
} sn_sut_moved;

/* One sample: the canvas, and where it lies in its file (a board that reads it itself). */
typedef struct sn_sut_sample {
    const uint8_t *canvas;           /* side x side bytes */
    uint32_t side;
    const char *file;                /* the IDX file it is in, or NULL */
    uint64_t file_offset;
} sn_sut_sample;

typedef struct sn_sut_result {
    int32_t prediction;              /* the arg-max class; -1: nothing computed (null) */
    const float *logits;             /* its CLASSES logits, the adapter's: valid until its next
                                        infer or close; NULL, 0: nothing computed (null) */
    uint32_t classes;
    uint64_t near_bytes, far_bytes;  /* weight bytes read from near and far memory */
    double us;                       /* its own clock's latency; < 0: the caller times it. A
                                        measured adapter that prepares untimed first (cpu:
                                        flushing far memory) times the inference itself: the
                                        caller's clock then also ran through the preparation */
    double plan_us;                  /* the re-plan before it (desc.replans), else 0 */
    uint64_t cycles;                 /* model / emulated cycles when it has them, else 0 */
    uint64_t macs;                   /* the MACs it counted (an ARAC config's depend on the
                                        canvas), or 0: the caller's plan computed them */
    double device_us;                /* the device's own time of it (opencl: profiling events);
                                        < 0: none */
} sn_sut_result;

/* One weight slice of a SubGraph (engine/include/sn_platform.h: a leading box and kernel
 * crop of a model-image tensor), as the platforms take it. */
typedef sn_weight_slice sn_sut_slice;

enum { SN_SUT_TAKES_ISA = 1, SN_SUT_TAKES_DEVICE = 2, SN_SUT_TAKES_BOARD = 4,
       SN_SUT_TAKES_PORT = 8, SN_SUT_TAKES_PE = 16, SN_SUT_TAKES_THREADS = 32,
       SN_SUT_TAKES_NULL_SERVICE = 64, SN_SUT_TAKES_LAYER_TIMES = 128 };

typedef struct sn_sut_ops {
    const char *name;
    const char *summary;             /* one line: what it is and the options it takes */
    int precision;                   /* what its serving set must be planned as */
    unsigned takes;                  /* the options it takes (SN_SUT_TAKES_*) */
    /* Creates the SUT for SET. KEEP (SET->n entries) is set to 1 for each SubNet it can
     * serve, 0 for one it cannot (an MCU board's SRAM); at least one is kept. */
    sn_status (*open)(sn_sut **sut, const sn_sut_set *set, const sn_sut_options *options,
                      uint8_t *keep, char *err, size_t err_bytes);
    void (*describe)(const sn_sut *sut, sn_sut_desc *desc);
    /* Makes weight set I (of PLAN) resident, evicting the previous one; I < 0: none.
     * CHARGE: count the move in the run's account (a switch a query pays). */
    sn_status (*resident)(sn_sut *sut, int32_t i, const sn_plan *plan, int charge,
                          sn_sut_moved *moved, char *err, size_t err_bytes);
    /* One inference of SubNet I (PLAN) on SAMPLE. */
    sn_status (*infer)(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *sample,
                       sn_sut_result *result, char *err, size_t err_bytes);
    /* Optional: forgets the account of the inferences and charged moves so far. */
    void (*account_reset)(sn_sut *sut);
    /* Optional: adds its own record of the run since account_reset to JSON (an object);
     * SPAN_US: the run's span, first arrival to last end. */
    void (*account)(sn_sut *sut, struct cJSON *json, double span_us);
    /* Optional, for eval: its own figures per inference over the N inferences since
     * account_reset, as keys of JSON (an object) and as text lines ("name  value...\n")
     * into TEXT. A common key it has its own figure for (the MCU's p50_us, p99_us and
     * latency_source: modelled from emulated instructions) it replaces in place. */
    void (*report)(sn_sut *sut, size_t n, struct cJSON *json, char *text, size_t text_bytes);
    void (*close)(sn_sut *sut);
    /* Optional (a platform with slice residency): makes exactly SLICES[N] resident, evicting
     * what they do not cover and keeping what the previous set shares with them, in order
     * while the near budget holds; PLACED[i] = 1 when slice i is resident after the call.
     * MOVED: only the bytes that were not resident before (a switch moves the difference). An
     * inference then reads from near memory every part of a layer inside a resident slice
     * (a leading slice serves its part of a wider layer) and the rest from far memory. */
    sn_status (*resident_slices)(sn_sut *sut, const sn_sut_slice *slices, uint32_t n, int charge,
                                 uint8_t *placed, sn_sut_moved *moved, char *err, size_t err_bytes);
    /* Optional (a platform whose clock is a deterministic model): the latency, in its own
     * clock, of SubNet I on SAMPLE with what is resident now, left out of the run's account --
     * so that a harness can price a SubGraph the profile never saw exactly. */
    sn_status (*estimate)(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *sample, double *us,
                          char *err, size_t err_bytes);
} sn_sut_ops;

struct sn_sut {
    const sn_sut_ops *ops;
};

/* The registry: the adapter named NAME, or NULL. */
const sn_sut_ops *sn_sut_find(const char *name);
/* The names, comma-separated, into BUF. */
void sn_sut_list(char *buf, size_t buf_bytes);

/* For adapters: refuses every option in O that is set and not in OPS->takes, naming the
 * flag and the platforms that take it. Returns SN_OK or SN_ERR_INVALID_ARGUMENT with one
 * line in ERR. */
sn_status sn_sut_check_options(const sn_sut_ops *ops, const sn_sut_options *o, char *err,
                               size_t err_bytes);

/* printf into ERR; returns STATUS. */
sn_status sn_sut_fail(sn_status status, char *err, size_t err_bytes, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The arg-max of LOGITS[COUNT]: the first of equal maxima. */
int32_t sn_sut_argmax(const float *logits, uint32_t count);

/* The null SUT: runs nothing (prediction -1, no bytes); its runs measure the harness. With
 * options.null_service_us = N each inference busy-waits N us on CLOCK_MONOTONIC (still no
 * prediction, no bytes; times left to the caller): a known service time, so that a real-time
 * replay's latencies and queueing can be checked against what the arrivals imply
 * (tests/test_replay_realtime.sh). Its variant ("wait-<N>us") keeps the profile caches of
 * different N apart, and its run context records null_service_us; its account (policy.json
 * "null_service") lists each busy-wait as it timed it itself, so that the harness's own time
 * within a query's service (served time minus the wait) is told apart from the machine's (a
 * wait preempted by other work runs over). */
extern const sn_sut_ops sn_sut_null;
/* The reference SUT: the engine's plain-C reference kernels (the oracle), measured. */
extern const sn_sut_ops sn_sut_reference;

#endif
