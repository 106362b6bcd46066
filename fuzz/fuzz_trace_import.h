/* The three importer targets' shared body (fuzz_trace_azure_*.c). */
#ifndef FUZZ_TRACE_IMPORT_H
#define FUZZ_TRACE_IMPORT_H

#include <stdint.h>
#include <stdlib.h>

#include "sn_trace.h"

static inline void sn_fuzz_trace_import(sn_trace_format format, const uint8_t *data, size_t size)
{
    sn_trace_import_params p;
    sn_trace t;
    char err[512];
    size_t i;
    sn_trace_import_params_default(&p, format);
    /* a 3 KB azure-functions-2019 row may ask for millions of invocations (counts up to 10^9
     * per minute): a valid import that takes 25 s under the sanitizers, a fuzzer timeout;
     * the bound is the importer's own, exercised at a size that keeps the fuzzer fast */
    p.max_count = 100000;
    if (sn_trace_import_buffer(&p, "fuzz.csv", data, size, &t, err, sizeof err) != SN_TRACE_OK)
        return;
    for (i = 0; i < t.count; ++i)
        if (t.arrival_us[i] < 0 || (i && t.arrival_us[i] < t.arrival_us[i - 1]) ||
            t.sample[i] >= p.sample_count || t.lat_ceiling_us[i] < 0)
            abort(); /* the importer made a trace that breaks the documented contract */
    sn_trace_free(&t);
}

#endif
