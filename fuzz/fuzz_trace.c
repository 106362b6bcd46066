/* Fuzz target: the trace reader (workloads/sn_trace.c). Entry: sn_trace_load_buffer, the
 * parser behind sn_trace_load (`supernav replay --trace`, `supernav trace info`), with the
 * CF-64 test split's 10,000 samples; a trace that loads is checked against its contract
 * and its metadata read back. */
#include <math.h>
#include <stdlib.h>

#include "sn_fuzz.h"
#include "sn_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_trace t;
    char err[512], value[64];
    size_t i;
    if (sn_trace_load_buffer("fuzz.csv", data, size, SN_TRACE_CF64_TEST_SAMPLES, &t, err, sizeof err) !=
        SN_TRACE_OK)
        return 0;
    for (i = 0; i < t.count; ++i)
        if (t.arrival_us[i] < 0 || (i && t.arrival_us[i] < t.arrival_us[i - 1]) ||
            t.sample[i] >= SN_TRACE_CF64_TEST_SAMPLES || t.lat_ceiling_us[i] < 0 ||
            (sn_trace_has_floor(&t, i) && !(t.acc_floor[i] >= 0.0f && t.acc_floor[i] <= 1.0f)))
            abort(); /* the loader let a query break the documented contract through */
    (void)sn_trace_meta_get(&t, "source", value, sizeof value);
    sn_trace_free(&t);
    return 0;
}
