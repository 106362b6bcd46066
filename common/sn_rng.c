#include "sn_rng.h"

#include <assert.h>

uint64_t sn_rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

sn_rng sn_rng_derive(uint64_t seed, uint64_t stream, uint64_t index)
{
    sn_rng rng;
    rng.state = sn_rng_mix64(sn_rng_mix64(sn_rng_mix64(seed) ^ stream) ^ index);
    return rng;
}

uint64_t sn_rng_next(sn_rng *rng)
{
    rng->state += UINT64_C(0x9E3779B97F4A7C15);
    return sn_rng_mix64(rng->state);
}

uint64_t sn_rng_below(sn_rng *rng, uint64_t n)
{
    uint64_t threshold, r;
    assert(n >= 1);
    threshold = (0 - n) % n; /* 2^64 mod n: the draws below it would bias the result */
    do
        r = sn_rng_next(rng);
    while (r < threshold);
    return r % n;
}
