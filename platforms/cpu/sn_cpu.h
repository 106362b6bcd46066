/* supernav CPU platform: SIMD kernels chosen at run time, and SubGraph residency.
 *
 *   sn_cpu *cpu;
 *   sn_cpu_create(&model, &options, &cpu, &why);      -- allocates everything up front
 *   sn_platform p; sn_cpu_platform(cpu, &p);
 *   sn_plan_invoke(&plan, &p, canvas, logits, NULL, NULL);
 *
 * Kernels: fp32 dense and depthwise convolutions with the fused scale, bias and clamp of
 * the reference (sn_kernels_ref.h), written once with GCC vector extensions and compiled
 * three times: AVX-512F (16 lanes), AVX2+FMA (8 lanes) and a portable build (4 lanes; SSE2
 * on x86-64, whatever the compiler targets elsewhere). sn_cpu_create picks the widest the
 * processor supports (__builtin_cpu_supports) unless options.isa names one. The
 * environment variable SN_CPU_MAX_ISA (avx512, avx2, portable) caps what counts as
 * supported, so the whole suite can run as on a CPU without AVX-512 or AVX2
 * (make test CPU_ISA=avx2).
 *
 * Residency (SUSHI's SubGraph Stationary, made real on a CPU): kernels read weights in a
 * packed form (dense: [kh][kw][in][out padded to 16], output channels contiguous;
 * depthwise: the centred crop as [kh][kw][channels padded to 16]). "Near" memory is a
 * fixed budget of packed weights kept warm between inferences; a layer whose weights are
 * resident (a leading slice at least as wide as the request) reads them there, and the
 * platform counts those bytes as near. Any other layer is packed from the model image into
 * a scratch buffer for that call, and its bytes count as far: the slower, far-memory
 * path. A resident entry serves every SubNet whose slice of that tensor fits inside it,
 * which is what makes one cached SubGraph useful to many SubNets.
 *
 * Policies: SN_CPU_RESIDENT_ON_USE packs a layer's weights into near memory the first time
 * it runs, while the budget lasts (the default, with an unlimited budget: best latency);
 * SN_CPU_RESIDENT_EXPLICIT keeps only what sn_cpu_make_resident() placed there (the
 * scheduler's choice).
 *
 * Threads (options.threads > 1): ARAC micro-flows are independent work, so the platform
 * takes the engine's micro-flow slot and spreads one invoke's regions (a tile, or merged
 * tiles) over a pool (the calling thread and threads - 1 workers, each with its own scratch
 * and tile buffers, via sn_plan_run_region). With on-use residency the first region of each
 * level in use runs alone first, so residency and the near/far counts are the ones-by-one loop's; the workers only
 * read the resident index. Outputs equal the one-thread platform's bit for bit (the same
 * kernels on the same tiles). SubNets without ARAC run on the calling thread.
 *
 * Host C11 with POSIX threads; nothing is allocated after sn_cpu_create except the
 * workers' tile buffers, which grow on the first invoke of a larger ARAC plan. */
#ifndef SN_CPU_H
#define SN_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_platform.h"

typedef struct sn_cpu sn_cpu;

enum sn_cpu_residency { SN_CPU_RESIDENT_ON_USE = 0, SN_CPU_RESIDENT_EXPLICIT = 1 };

typedef struct sn_cpu_options {
    const char *isa;             /* NULL or "auto": widest available; "avx512", "avx2",
                                    "portable" */
    size_t near_budget_bytes;    /* packed weights kept resident; SIZE_MAX: the whole model */
    int residency;               /* enum sn_cpu_residency */
    int threads;                 /* ARAC micro-flows spread over this many threads (the
                                    caller and threads - 1 workers, up to
                                    SN_CPU_MAX_THREADS); 0 or 1: none */
} sn_cpu_options;

#define SN_CPU_MAX_THREADS 64

/* Counted since creation or the last sn_cpu_stats_reset (weights only; activations live in
 * the plan's arena on every platform). */
typedef struct sn_cpu_stats {
    uint64_t near_bytes;         /* weight bytes read from resident packed entries */
    uint64_t far_bytes;          /* weight bytes read from the model image */
    uint64_t packed_bytes;       /* bytes written when packing (resident or scratch) */
    uint64_t layers_near, layers_far;
} sn_cpu_stats;

/* Defaults: auto ISA, unlimited budget, on-use residency. */
void sn_cpu_options_default(sn_cpu_options *options);

/* Sizes the scratch from MODEL's largest tensor and allocates the near-memory budget
 * (capped at the packed size of the whole model). SN_ERR_UNSUPPORTED when options.isa names
 * an ISA this processor or build lacks; WHY says which. */
sn_status sn_cpu_create(const sn_model *model, const sn_cpu_options *options, sn_cpu **cpu,
                        const char **why);
void sn_cpu_destroy(sn_cpu *cpu);

void sn_cpu_platform(sn_cpu *cpu, sn_platform *platform);
const char *sn_cpu_isa(const sn_cpu *cpu);     /* "avx512", "avx2" or "portable" */
int sn_cpu_threads(const sn_cpu *cpu);         /* the micro-flow threads (1: none) */
int sn_cpu_isa_available(const char *isa);     /* 1 when this processor and build run it
                                                  (and SN_CPU_MAX_ISA allows it) */

/* Packs every layer of PLAN into near memory (the SubGraph the plan uses); layers that do
 * not fit in what is left of the budget stay far. Returns the bytes now resident for the
 * plan in *resident_bytes (may be NULL). */
sn_status sn_cpu_make_resident(sn_cpu *cpu, const sn_plan *plan, size_t *resident_bytes);
/* Drops every resident entry. */
void sn_cpu_evict_all(sn_cpu *cpu);
size_t sn_cpu_near_used(const sn_cpu *cpu);
size_t sn_cpu_near_budget(const sn_cpu *cpu);

void sn_cpu_stats_get(const sn_cpu *cpu, sn_cpu_stats *stats);
void sn_cpu_stats_reset(sn_cpu *cpu);

#endif
