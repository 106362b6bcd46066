/* supernav micro-benchmarks in C, run by Google Benchmark through a small C++ shim.
 *
 * A benchmark is a C function that runs one iteration of the code under test. The shim
 * owns the timing loop, repetitions, statistics and reporters (console, JSON, CSV), so
 * the usual Google Benchmark flags work (--benchmark_filter, --benchmark_out=FILE,
 * --benchmark_out_format=json, --benchmark_repetitions, --benchmark_min_time).
 *
 * Manual time: for code timed by a device clock (OpenCL profiling events, an emulator's
 * instruction clock), set manual_time and return the iteration's duration in seconds
 * from run(); otherwise run()'s return value is ignored and wall time is used. */
#ifndef SN_BENCH_H
#define SN_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_bench_case {
    const char *name;                /* copied at registration */
    void *context;                   /* passed to every callback; owned by the caller */
    int (*setup)(void *context);     /* optional, untimed, once per run; non-zero = error */
    double (*run)(void *context);    /* one iteration; seconds when manual_time */
    void (*teardown)(void *context); /* optional, untimed */
    int64_t items_per_iteration;     /* e.g. MACs; reported as items_per_second */
    int64_t bytes_per_iteration;     /* bytes touched; reported as bytes_per_second */
    int manual_time;
} sn_bench_case;

/* Registers a copy of *bench_case. Returns 0, or -1 when name or run is missing. */
int sn_bench_register(const sn_bench_case *bench_case);

/* Parses Google Benchmark flags, runs every registered benchmark, and returns the exit
 * status: 0, or 1 when a flag is unknown or a setup() failed. */
int sn_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
