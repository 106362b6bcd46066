/* supernav host utilities: a small, documented, integer-only pseudo-random generator.
 *
 * Everything that must give the same bytes on every machine (the canvas generator, later
 * the trace generators) draws from this and nothing else. It is SplitMix64 (Steele, Lea,
 * Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), the seeder of
 * xoshiro; exact 64-bit unsigned arithmetic only, so results do not depend on the
 * compiler, the libc or the floating-point unit.
 *
 *   mix(z):   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *             z = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *             return z ^ (z >> 31)                           (all mod 2^64)
 *   next():   state += 0x9E3779B97F4A7C15; return mix(state)
 *   derive(seed, stream, index):
 *             state = mix(mix(mix(seed) ^ stream) ^ index)
 *   below(n): threshold = (2^64 - n) mod n; draw r = next() until r >= threshold;
 *             return r mod n                                 (exactly uniform)
 *
 * derive() gives every (seed, stream, index) its own independent-looking state, so item i
 * of a generated set is a pure function of (seed, stream, i). */
#ifndef SN_RNG_H
#define SN_RNG_H

#include <stdint.h>

typedef struct sn_rng {
    uint64_t state;
} sn_rng;

/* The SplitMix64 finalizer: a bijection on 64-bit integers. */
uint64_t sn_rng_mix64(uint64_t z);

/* A generator whose state is mix(mix(mix(seed) ^ stream) ^ index). */
sn_rng sn_rng_derive(uint64_t seed, uint64_t stream, uint64_t index);

/* The next 64 uniformly distributed bits. */
uint64_t sn_rng_next(sn_rng *rng);

/* A uniform integer in [0, n), by rejection (no modulo bias). n must be >= 1. */
uint64_t sn_rng_below(sn_rng *rng, uint64_t n);

#endif
