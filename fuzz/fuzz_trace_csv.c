/* Fuzz target: the csv request-log importer (workloads/sn_trace_import.c). Entry:
 * sn_trace_import_buffer, the parser behind sn_trace_import (`supernav trace import
 * --format csv`); the first two bytes choose the time unit, the timestamps, the sort rule,
 * rate scaling and the floor and ceiling maps (fuzz_trace_log.h); an imported trace is
 * checked against the trace contract. */
#include "fuzz_trace_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_fuzz_trace_log(SN_TRACE_FORMAT_CSV, data, size);
    return 0;
}
