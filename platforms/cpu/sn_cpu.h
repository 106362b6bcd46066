/* supernav CPU platform: SIMD kernels chosen at run time, and SubGraph residency.
 *
 *   sn_cpu *cpu;
 *   sn_cpu_create(&model, &options, &cpu, &why);      -- allocates everything up front
 *   sn_platform p; sn_cpu_platform(cpu, &p);
 *   sn_plan_invoke(&plan, &p, canvas, logits, NULL, NULL);
 *
 * Kernels: fp32 dense and depthwise convolutions with the fused scale, bias and clamp of
 * the reference (sn_kernels_ref.h), and int8 ones bit-exact with the reference's, written once
 * with GCC vector extensions and compiled five times: AVX-512F with VNNI (16 lanes, int8
 * multiply-adds on four bytes per lane), AVX-512F, AVX2+FMA with AVX-VNNI (8 lanes, the same
 * int8 multiply-adds), AVX2+FMA, and a portable build (4 lanes; SSE2 on x86-64, whatever the
 * compiler targets elsewhere); the builds without VNNI multiply int8 pairs as int16. sn_cpu_create
 * picks the widest the processor supports (__builtin_cpu_supports) unless options.isa names
 * one. The environment variable SN_CPU_MAX_ISA (one of those names) caps what counts as
 * supported, so the whole suite can run as on a CPU without VNNI, AVX-512 or AVX2
 * (make test CPU_ISA=avx2).
 *
 * Residency (SUSHI's SubGraph Stationary, made real on a CPU): kernels read weights in a
 * packed form (dense: [kh][kw][in][out padded to 16], output channels contiguous, int8 with
 * G inputs to a 4-byte word, G = 4 on the VNNI builds, else 2 as int16 halves; depthwise:
 * [k][k][channels padded to 16], int8 as bytes with each tap's row padded to a 64-byte
 * cache line; sn_cpu_kernels.h). sn_cpu_create packs every convolution tensor of
 * the model image once, whole (the store); a SubNet's narrower slice reads the wider copy
 * through its leading dimension, and a depthwise view its centred crop of the full kernel.
 * Near memory is a set of resident leading boxes, at most one per tensor (O x I, centred
 * K x K crop), within a budget counted in bytes of the weights as the model stores them (4
 * per fp32 weight, 1 per int8 weight; the packed copy is larger: padding, and int8 dense
 * weights as int16 halves on the builds without VNNI). Far memory is the rest of the store, read cold from DRAM: sn_cpu_flush_far writes
 * back and evicts (clflush) every cache line of a plan's weights outside the resident
 * boxes, as a larger model or another tenant would leave them; the SUT calls it before each
 * inference, outside its timed region. A layer reads the part of its slice inside the
 * tensor's resident box from near memory (a leading slice serves its part of a wider
 * layer) and the rest from far memory, and the bytes are counted so (sn_slices_overlap_bytes'
 * arithmetic). Making a box resident reads its lines once (the move into near memory).
 * Weights outside the model image (a caller's own) are packed into scratch per call and
 * count as far.
 *
 * Policies: SN_CPU_RESIDENT_ON_USE makes a layer's whole tensor resident the first time it
 * runs, while the budget lasts (the default, with an unlimited budget: best latency);
 * SN_CPU_RESIDENT_EXPLICIT keeps only what sn_cpu_make_resident() or
 * sn_cpu_set_resident() placed there (the scheduler's choice).
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
 * workers' tile buffers, which grow on the first invoke of a larger ARAC plan, and
 * sn_cpu_set_resident's working copy. */
#ifndef SN_CPU_H
#define SN_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_platform.h"

typedef struct sn_cpu sn_cpu;

enum sn_cpu_residency { SN_CPU_RESIDENT_ON_USE = 0, SN_CPU_RESIDENT_EXPLICIT = 1 };

typedef struct sn_cpu_options {
    const char *isa;             /* NULL or "auto": widest available; "avx512vnni",
                                    "avx512", "avxvnni", "avx2", "portable" */
    size_t near_budget_bytes;    /* resident weights, in bytes as the model stores them;
                                    SIZE_MAX: the whole model */
    int residency;               /* enum sn_cpu_residency */
    int threads;                 /* ARAC micro-flows spread over this many threads (the
                                    caller and threads - 1 workers, up to
                                    SN_CPU_MAX_THREADS); 0 or 1: none */
} sn_cpu_options;

#define SN_CPU_MAX_THREADS 64

/* Counted since creation or the last sn_cpu_stats_reset (weights only; activations live in
 * the plan's arena on every platform). */
typedef struct sn_cpu_stats {
    uint64_t near_bytes;         /* weight bytes read inside resident boxes */
    uint64_t far_bytes;          /* the rest (and weights outside the model image) */
    uint64_t packed_bytes;       /* bytes packed into scratch by calls (weights outside the
                                    model image; the store is packed at create) */
    uint64_t layers_near;        /* layers read wholly from near memory */
    uint64_t layers_far;         /* layers with a byte from far memory */
} sn_cpu_stats;

/* Defaults: auto ISA, unlimited budget, on-use residency. */
void sn_cpu_options_default(sn_cpu_options *options);

/* Packs every convolution tensor of MODEL once (the store) and sizes the scratch from its
 * largest tensor; the budget is capped at the bytes of every stored tensor. MODEL must
 * outlive the platform. SN_ERR_UNSUPPORTED when options.isa names an ISA this processor or
 * build lacks; WHY says which. */
sn_status sn_cpu_create(const sn_model *model, const sn_cpu_options *options, sn_cpu **cpu,
                        const char **why);
void sn_cpu_destroy(sn_cpu *cpu);

void sn_cpu_platform(sn_cpu *cpu, sn_platform *platform);
const char *sn_cpu_isa(const sn_cpu *cpu);     /* one of options.isa's names */
int sn_cpu_threads(const sn_cpu *cpu);         /* the micro-flow threads (1: none) */
int sn_cpu_isa_available(const char *isa);     /* 1 when this processor and build run it
                                                  (and SN_CPU_MAX_ISA allows it) */

/* Adds every layer of PLAN to near memory (the SubGraph the plan uses: each layer's slice
 * joins its tensor's resident box), in plan order; a layer whose slice does not fit in what
 * is left of the budget stays far. Returns in *resident_bytes (may be NULL) the bytes of the
 * plan's layers now resident (sn_windex_place_plan's count). */
sn_status sn_cpu_make_resident(sn_cpu *cpu, const sn_plan *plan, size_t *resident_bytes);

/* Makes exactly SLICES[N] (sn_platform.h) resident (per tensor, the union box of its slices), in order while
 * the budget holds; PLACED[k] = 1 when slice k is (a slice outside the model image never
 * is). Only the bytes the previous boxes do not hold are moved (read into the caches): a
 * switch moves the difference; *MOVED_BYTES gets them (may be NULL). SN_ERR_NO_MEMORY. */
sn_status sn_cpu_set_resident(sn_cpu *cpu, const sn_weight_slice *slices, uint32_t n, uint8_t *placed,
                              size_t *moved_bytes);

/* Drops every resident box. */
void sn_cpu_evict_all(sn_cpu *cpu);
size_t sn_cpu_near_used(const sn_cpu *cpu);    /* bytes of the resident boxes */
size_t sn_cpu_near_budget(const sn_cpu *cpu);
size_t sn_cpu_store_bytes(const sn_cpu *cpu);  /* the packed copy of every tensor */

/* Far memory made cold: writes back and evicts from every cache level each line of PLAN's
 * packed weights outside the resident boxes (not the resident lines, activations or
 * anything else), then fences. Returns the lines flushed (64 bytes each); 0 where
 * sn_cpu_flush_method() is "none". Call before an inference, outside its timed region. */
size_t sn_cpu_flush_far(sn_cpu *cpu, const sn_plan *plan);
/* How lines are flushed: "clflush" (x86-64), or "none" (other architectures: this build
 * has no cache-line flush, and far weights may be read warm). */
const char *sn_cpu_flush_method(void);
/* The flush itself, on any BYTES at P (every line they touch). */
void sn_cpu_flush_lines(const void *p, size_t bytes);

void sn_cpu_stats_get(const sn_cpu *cpu, sn_cpu_stats *stats);
void sn_cpu_stats_reset(sn_cpu *cpu);

#endif
