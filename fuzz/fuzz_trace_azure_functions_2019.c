/* Fuzz target: the azure_functions_2019 trace importer (workloads/sn_trace_import.c). Entry:
 * sn_trace_import_buffer, the parser behind sn_trace_import (`supernav trace import
 * azure-functions-2019`), with the default parameters; an imported trace is checked
 * against the trace contract. */
#include "fuzz_trace_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_fuzz_trace_import(SN_TRACE_FORMAT_AZURE_FUNCTIONS_2019, data, size);
    return 0;
}
