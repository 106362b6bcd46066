/* Fuzz target: a sweep directory's manifest (DIR/sweep.json, harness/sn_sweep.c), as
 * `supernav sweep run|status|collect DIR` read it. Entry: sn_sweep_load_buffer (behind
 * sn_sweep_load), for the directory "." (only its real path is taken). */
#include <stdlib.h>

#include "sn_fuzz.h"
#include "sn_sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_sweep sw;
    char err[1024];
    size_t i, a;
    if (sn_sweep_load_buffer(".", (const char *)data, size, &sw, err, sizeof err) == 0) {
        for (i = 0; i < sw.job_count; ++i)
            for (a = 0; a < sw.axis_count; ++a)
                (void)sn_sweep_value(&sw, &sw.jobs[i], a);
        for (i = 0; i < sw.job_count && i < 64; ++i)
            free(sn_sweep_shell_line(sw.supernav, sw.jobs[i].argv, sw.jobs[i].argc));
    }
    sn_sweep_free(&sw);
    return 0;
}
