/* peak_fma: the measured single-core fp32 FMA peak of this machine, for "% of peak" figures.
 *
 *   build/bench/peak_fma [--json] [--seconds S]
 *
 * Each variant runs chains of independent fused multiply-adds on registers only (no memory
 * traffic): 12 or 16 accumulators (as many as the registers hold), more than FMA latency x
 * FMA ports on current x86 cores (4 x 2), so the FMA units, not the dependency chains, are
 * the limit. The instruction set is chosen
 * at run time (__builtin_cpu_supports): AVX-512F (16 lanes) and AVX2+FMA (8 lanes) where the
 * CPU has them, and always a scalar multiply-add loop as the portable fallback.
 * GFLOP/s = 2 x FMAs / s (one FMA = one multiply + one add). Each variant reports the best
 * of 5 timed repetitions (clock_gettime(CLOCK_MONOTONIC)); the peak is the best variant.
 * Single thread; run it on an idle core for a meaningful figure. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PEAK_X86 1
#else
#define PEAK_X86 0
#endif

#define PEAK_REPETITIONS 5

typedef float (*peak_kernel_fn)(uint64_t iterations, float a, float b);

typedef struct peak_variant {
    const char *name;
    unsigned lanes;             /* fp32 lanes per FMA */
    unsigned chains;            /* independent accumulators */
    peak_kernel_fn kernel;
    int available;
    double gflops;
} peak_variant;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* acc = acc * a + b converges to b / (1 - a): no overflow, no denormals, for any length.
 * 12 chains where the ISA has 16 vector registers (AVX2, SSE: 12 + a + b fit, no spills),
 * 16 where it has 32 (AVX-512). */
#define PEAK_CHAINS12(STEP)                                                                 \
    STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) \
    STEP(11)
#define PEAK_CHAINS16(STEP) PEAK_CHAINS12(STEP) STEP(12) STEP(13) STEP(14) STEP(15)

/* Scalar fallback: separate multiply and add (2 flops, counted as one "FMA" pair). */
static float peak_scalar(uint64_t iterations, float a, float b)
{
    volatile float seed = 1.0f;
    float acc[12], sum = 0.0f;
    uint64_t i;
    int k;
    for (k = 0; k < 12; ++k)
        acc[k] = seed + (float)k * 1e-3f;
    for (i = 0; i < iterations; ++i) {
#define STEP(k) acc[k] = acc[k] * a + b;
        PEAK_CHAINS12(STEP)
#undef STEP
    }
    for (k = 0; k < 12; ++k)
        sum += acc[k];
    return sum;
}

#if PEAK_X86
__attribute__((target("avx2,fma"))) static float peak_avx2(uint64_t iterations, float a, float b)
{
    volatile float seed = 1.0f;
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    __m256 acc[12], sum = _mm256_setzero_ps();
    float lanes[8], total = 0.0f;
    uint64_t i;
    int k;
    for (k = 0; k < 12; ++k)
        acc[k] = _mm256_set1_ps(seed + (float)k * 1e-3f);
    for (i = 0; i < iterations; ++i) {
#define STEP(k) acc[k] = _mm256_fmadd_ps(acc[k], va, vb);
        PEAK_CHAINS12(STEP)
#undef STEP
    }
    for (k = 0; k < 12; ++k)
        sum = _mm256_add_ps(sum, acc[k]);
    _mm256_storeu_ps(lanes, sum);
    for (k = 0; k < 8; ++k)
        total += lanes[k];
    return total;
}

__attribute__((target("avx512f"))) static float peak_avx512(uint64_t iterations, float a, float b)
{
    volatile float seed = 1.0f;
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    __m512 acc[16], sum = _mm512_setzero_ps();
    uint64_t i;
    int k;
    for (k = 0; k < 16; ++k)
        acc[k] = _mm512_set1_ps(seed + (float)k * 1e-3f);
    for (i = 0; i < iterations; ++i) {
#define STEP(k) acc[k] = _mm512_fmadd_ps(acc[k], va, vb);
        PEAK_CHAINS16(STEP)
#undef STEP
    }
    for (k = 0; k < 16; ++k)
        sum = _mm512_add_ps(sum, acc[k]);
    return _mm512_reduce_add_ps(sum);
}
#endif

/* Best GFLOP/s of PEAK_REPETITIONS runs of about SECONDS / PEAK_REPETITIONS each. */
static double peak_measure(const peak_variant *v, double seconds, float *sink)
{
    uint64_t iterations = 1u << 12;
    double best = 0.0, t;
    int r;
    /* grow the iteration count until one run takes a tenth of a repetition */
    for (;;) {
        t = now_s();
        *sink += v->kernel(iterations, 0.999999f, 1e-6f);
        t = now_s() - t;
        if (t >= 0.1 * seconds / PEAK_REPETITIONS || iterations > (UINT64_C(1) << 40))
            break;
        iterations *= 2;
    }
    iterations = (uint64_t)((double)iterations * (seconds / PEAK_REPETITIONS) / (t > 0.0 ? t : 1e-9)) + 1;
    for (r = 0; r < PEAK_REPETITIONS; ++r) {
        double gflops;
        t = now_s();
        *sink += v->kernel(iterations, 0.999999f, 1e-6f);
        t = now_s() - t;
        gflops = 2.0 * (double)iterations * v->chains * v->lanes / t / 1e9;
        if (gflops > best)
            best = gflops;
    }
    return best;
}

int main(int argc, char **argv)
{
    peak_variant variants[] = {
#if PEAK_X86
        {"avx512f", 16, 16, peak_avx512, 0, 0.0},
        {"avx2+fma", 8, 12, peak_avx2, 0, 0.0},
#endif
        {"scalar", 1, 12, peak_scalar, 1, 0.0},
    };
    const size_t count = sizeof variants / sizeof variants[0];
    double seconds = 1.0;
    int json = 0, i;
    size_t v, best = 0;
    float sink = 0.0f;

    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            char *end;
            errno = 0;
            seconds = strtod(argv[++i], &end);
            if (errno || *end || !(seconds > 0.0 && seconds <= 60.0)) {
                fprintf(stderr, "peak_fma: error: --seconds must be a number in (0, 60]\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: peak_fma [--json] [--seconds S]   (S per variant, default 1)\n");
            return 2;
        }
    }
#if PEAK_X86
    __builtin_cpu_init();
    variants[0].available = __builtin_cpu_supports("avx512f");
    variants[1].available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    for (v = 0; v < count; ++v) {
        if (!variants[v].available)
            continue;
        variants[v].gflops = peak_measure(&variants[v], seconds, &sink);
        if (variants[v].gflops > variants[best].gflops || !variants[best].available)
            best = v;
    }
    if (json) {
        printf("{\"peak_gflops\":%.2f,\"isa\":\"%s\",\"flops_per_fma\":2,\"accumulators\":%u,\"variants\":{",
               variants[best].gflops, variants[best].name, variants[best].chains);
        for (v = 0, i = 0; v < count; ++v) {
            if (!variants[v].available)
                continue;
            printf("%s\"%s\":%.2f", i++ ? "," : "", variants[v].name, variants[v].gflops);
        }
        printf("},\"checksum\":%.3f}\n", (double)sink);
    } else {
        for (v = 0; v < count; ++v)
            if (variants[v].available)
                printf("%-9s %8.2f GFLOP/s\n", variants[v].name, variants[v].gflops);
        printf("peak      %8.2f GFLOP/s fp32, single core (%s; 2 flops per FMA)\n", variants[best].gflops,
               variants[best].name);
    }
    return 0;
}
