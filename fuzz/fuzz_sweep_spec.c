/* Fuzz target: sweep specs (harness/sn_sweep.c), as `supernav sweep plan SPEC` reads
 * them: parsed from an fmemopen'ed buffer, then expanded into jobs for a sweep directory
 * (nothing is created), each job's command line quoted for a shell, the axes written as
 * JSON. Entries: sn_sweep_parse_stream (behind sn_sweep_parse) and sn_sweep_expand.
 * A spec of a few hundred bytes can describe 100,000 jobs (about 2 s under the
 * sanitizers): those between 5,000 and the limit are parsed, not expanded (time, not
 * safety: the fuzzer would spend its hour allocating them); over the limit, expansion's
 * refusal is cheap and runs. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "sn_fuzz.h"
#include "sn_sweep.h"

/* The jobs SW expands to, or 0 when over the limit (refused at once). */
static size_t jobs_of(const sn_sweep *sw)
{
    size_t total = sw->repeat, a;
    for (a = 0; a < sw->axis_count; ++a) {
        if (sw->axes[a].count && total > SN_SWEEP_MAX_JOBS / sw->axes[a].count)
            return 0;
        total *= sw->axes[a].count;
    }
    return total > SN_SWEEP_MAX_JOBS ? 0 : total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_sweep sw;
    char err[1024];
    FILE *f;
    size_t i;
    if (!size || !(f = fmemopen((void *)(uintptr_t)data, size, "r")))
        return 0;
    if (sn_sweep_parse_stream(f, "fuzz.spec", &sw, err, sizeof err) == 0 && jobs_of(&sw) <= 5000 &&
        sn_sweep_expand(&sw, "/nonexistent/fuzz-sweep", err, sizeof err) == 0) {
        cJSON *root = cJSON_CreateObject();
        for (i = 0; i < sw.job_count && i < 64; ++i) {
            char *line = sn_sweep_shell_line("/usr/bin/supernav", sw.jobs[i].argv, sw.jobs[i].argc);
            free(line);
        }
        sn_sweep_axes_json(&sw, root);
        cJSON_Delete(root);
    }
    sn_sweep_free(&sw);
    return 0;
}
