/* Fuzz target: the regression gate's baseline (reports/sn_gate.c), as `supernav gate
 * --baseline FILE RUNS...` (make gate) reads it: the input is the baseline JSON, checked
 * against three real run directories (two repetitions of one experiment and a second
 * experiment, recorded by `supernav replay` on the committed model: fuzz/fixtures/gate/),
 * copied once into a private directory under /dev/shm (or $TMPDIR) at start-up. Entry:
 * sn_gate_check_buffer (behind sn_gate_check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_file.h"
#include "sn_fuzz.h"
#include "sn_gate.h"

static const char *const run_names[] = {"sushi@1", "sushi@2", "nocache"};
static const char *const file_names[] = {"context.json", "summary.json", "queries.csv", "policy.json"};
static char dir[256];
static char *runs[3];

static void remove_dir(void)
{
    sn_remove_tree(dir);
}

static void setup(void)
{
    size_t r, f;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(dir, sizeof dir, "%s/sn-fuzz-gate.XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    atexit(remove_dir);
    for (r = 0; r < 3; ++r) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, run_names[r]);
        if (mkdir(path, 0755) != 0) {
            perror(path);
            exit(1);
        }
        runs[r] = strdup(path);
        for (f = 0; f < 4; ++f) {
            char rel[256], dst[768];
            size_t size;
            void *text;
            snprintf(rel, sizeof rel, "fuzz/fixtures/gate/runs/%s/%s", run_names[r], file_names[f]);
            text = sn_fuzz_read_fixture(rel, &size);
            snprintf(dst, sizeof dst, "%s/%s", path, file_names[f]);
            if (sn_write_file_atomic(dst, text, size) != 0) {
                perror(dst);
                exit(1);
            }
            free(text);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_gate_result res;
    sn_gate_thresholds over;
    char err[512];
    size_t i;
    if (!dir[0])
        setup();
    memset(&over, 0, sizeof over);
    if (sn_gate_check_buffer("fuzz-baseline.json", (const char *)data, size, runs, 3, size % 2 ? &over : NULL,
                             &res, err, sizeof err) == 0) {
        for (i = 0; i < res.count; ++i)
            (void)sn_gate_status_str(res.rows[i].status);
        sn_gate_result_free(&res);
    }
    return 0;
}
