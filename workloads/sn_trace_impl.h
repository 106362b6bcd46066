/* supernav query traces: what sn_trace.c, sn_trace_gen.c and sn_trace_import.c share.
 * Not part of the API. */
#ifndef SN_TRACE_IMPL_H
#define SN_TRACE_IMPL_H

#include <stdint.h>

#include "sn_rng.h"
#include "sn_trace.h"

/* sn_rng streams: each purpose draws from its own, so changing one parameter (say the
 * rate) leaves the samples and the constraints of every query as they were. */
#define SN_TRACE_STREAM_SAMPLE UINT64_C(0x73616d706c65)  /* "sample": per query index */
#define SN_TRACE_STREAM_ATTACH UINT64_C(0x617474616368)  /* "attach": the either-coin */
#define SN_TRACE_STREAM_ARRIVAL UINT64_C(0x617272697661) /* "arriva": arrival process */
#define SN_TRACE_STREAM_LEVEL UINT64_C(0x6c6576656c)     /* "level": the level walk */
#define SN_TRACE_STREAM_SPREAD UINT64_C(0x737072656164)  /* "spread": 2019 minute offsets */

/* One line into ERR (vsnprintf; always NUL-terminated when ERR_BYTES > 0). */
void sn_trace_set_error(char *err, size_t err_bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocates COUNT queries (contents undefined), mode open, empty metadata. */
sn_trace_status sn_trace_alloc(sn_trace *trace, size_t count);

/* Appends "KEY: VALUE\n" to the metadata (KEY: a-z, 0-9, _); control characters in the
 * value (a line break in a file name) become '?'. */
sn_trace_status sn_trace_meta_add(sn_trace *trace, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* VALUE / 10^DECIMALS in decimal, trailing zeros of the fraction removed ("2.5", "10"). */
void sn_trace_format_fixed(char *out, size_t out_bytes, uint64_t value, unsigned decimals);

/* Records the constraint parameters in the metadata. */
sn_trace_status sn_trace_meta_add_constraints(sn_trace *trace, const sn_trace_constraints *c);

/* Checks C; returns 0, or -1 with the reason in ERR. */
int sn_trace_constraints_check(const sn_trace_constraints *c, char *err, size_t err_bytes);

/* The sample of query I: uniform in [0, N) from sn_rng_derive(seed, STREAM_SAMPLE, I). */
uint32_t sn_trace_sample_of(uint64_t seed, uint64_t i, uint32_t n);

/* Sets query I's floor from level FLOOR_LEVEL and its ceiling from CEILING_LEVEL, as C's
 * attach says (for EITHER, bit 0 of sn_rng_derive(seed, STREAM_ATTACH, I) picks the
 * ceiling when set). */
void sn_trace_set_constraints(sn_trace *trace, size_t i, const sn_trace_constraints *c,
                              uint64_t seed, uint32_t floor_level, uint32_t ceiling_level);

/* floor(A * B / C) with a 128-bit intermediate; C >= 1. Returns -1 when the quotient
 * does not fit 64 bits. ROUND adds C / 2 first (round half up). */
int sn_trace_mul_div(uint64_t a, uint64_t b, uint64_t c, int round, uint64_t *out);

/* The high 64 bits of A * B: floor(A * B / 2^64). */
uint64_t sn_trace_mul_hi(uint64_t a, uint64_t b);

#endif
