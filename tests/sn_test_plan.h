/* supernav tests: plans of a model's configs and inputs to run them on, for the tests that
 * run platforms (test_sut, test_cpu_platform, test_opencl). Include after sn_test.h. */
#ifndef SN_TEST_PLAN_H
#define SN_TEST_PLAN_H

#include <stdlib.h>

#include "sn_engine.h"
#include "sn_rng.h"

/* A plan and the arena it owns. */
typedef struct sn_test_plan {
    sn_plan *plan;
    void *arena;
} sn_test_plan;

/* TEXT (a config) of MODEL planned at PRECISION; a test failure when it cannot be. */
static inline sn_test_plan sn_test_plan_for(const sn_model *model, const char *text, int precision)
{
    sn_test_plan pl;
    sn_config cfg;
    size_t need = 0;
    const char *why = "";
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes_p(model, &cfg, precision, &need), SN_OK);
    pl.plan = malloc(sizeof *pl.plan);
    assert_non_null(pl.plan);
    assert_int_equal(posix_memalign(&pl.arena, 64, need), 0);
    if (sn_plan_prepare_p(pl.plan, model, &cfg, precision, pl.arena, need, &why) != SN_OK)
        fail_msg("%s: %s", text, why);
    return pl;
}

static inline void sn_test_plan_free(sn_test_plan *pl)
{
    free(pl->plan);
    free(pl->arena);
}

/* The smallest and the largest SubNet of MODEL's table (its first and last of kind 0). */
static inline void sn_test_subnet_ends(const sn_model *model, const char **smallest, const char **largest)
{
    uint32_t i;
    *smallest = *largest = NULL;
    for (i = 0; i < model->config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(model, i, &kind, &text);
        if (kind != 0)
            continue;
        if (!*smallest)
            *smallest = text;
        *largest = text;
    }
    assert_non_null(*smallest);
}

/* BYTES pseudo-random pixels from SEED (sn_rng, stream 0). */
static inline void sn_test_random_canvas(uint8_t *canvas, size_t bytes, uint64_t seed)
{
    sn_rng rng = sn_rng_derive(seed, 0, 0);
    size_t i;
    for (i = 0; i < bytes; ++i)
        canvas[i] = (uint8_t)(sn_rng_next(&rng) >> 56);
}

#endif
