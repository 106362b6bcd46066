/* supernav on a microcontroller: run the engine on a job of configs and canvases and check
 * its logits against the expected ones the host wrote (sn-mcu-job), reporting the board's
 * clock for model load, prepare and every invoke.
 *
 *   supernav-mcu MODEL JOB
 *
 * JOB is a text file (platforms/mcu/README.md has the format): the canvases, then runs;
 * each run names a precision (fp32, int8) and a config, and lists the expected logits per
 * canvas with a tolerance: `exact` (bit for bit), a relative error bound (max |diff| over
 * max |expected|, as tests/test_engine_golden.c), or `info` (reported, never failing).
 * Output: one line per step, `key=value` fields, then `end checks=N failed=F`.
 * Exit status: 0 every check passed, 1 a check failed, 2 the model, the job or the engine
 * failed. Portable: the board supplies stdio and sn_mcu_port.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_mcu_text.h"
#include "sn_engine.h"
#include "sn_mcu_port.h"
#include "sn_mcu_sizes.h" /* SN_MCU_ARENA_BYTES: the image's largest arena (sn-mcu-job sizes) */

#define MAX_CANVASES 8
#define MAX_SIDE 128             /* CF-128S canvases */
#define MAX_CLASSES 16
#define LINE_BYTES (2 * MAX_SIDE * MAX_SIDE + 64)

static uint8_t canvases[MAX_CANVASES][MAX_SIDE * MAX_SIDE];
static sn_plan plan;
static uint8_t arena[SN_MCU_ARENA_BYTES] __attribute__((aligned(64)));
static char line[LINE_BYTES];

typedef struct job_state {
    sn_model model;
    uint32_t side, count;       /* canvases */
    int have_plan;
    char run_name[32];
    int run_precision;
    int invoked_canvas;         /* canvas whose logits are in LOGITS, or -1 */
    float logits[MAX_CLASSES];
    uint32_t checks, failed;
} job_state;

static int report_error(const char *what, const char *detail)
{
    printf("error %s: %s\n", what, detail);
    return 2;
}

static int read_canvas(job_state *js, uint32_t index, char *rest)
{
    char *hex = sn_mcu_token(&rest);
    uint32_t i, n = js->side * js->side;
    if (!hex || strlen(hex) != 2 * n)
        return -1;
    for (i = 0; i < n; ++i) {
        int hi = sn_mcu_hex_digit(hex[2 * i]), lo = sn_mcu_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        canvases[index][i] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

static int start_run(job_state *js, char *rest)
{
    char *name = sn_mcu_token(&rest), *precision = sn_mcu_token(&rest), *text = sn_mcu_token(&rest);
    sn_config config;
    sn_status st;
    size_t need = 0;
    const char *why = "";
    uint64_t t0, t1;
    if (!name || !precision || !text || strlen(name) >= sizeof js->run_name)
        return report_error("job", "a run line needs NAME PRECISION CONFIG");
    strcpy(js->run_name, name);
    if (strcmp(precision, "fp32") == 0)
        js->run_precision = SN_FP32;
    else if (strcmp(precision, "int8") == 0)
        js->run_precision = SN_INT8;
    else
        return report_error("job", "precision must be fp32 or int8");
    js->have_plan = 0;
    js->invoked_canvas = -1;
    st = sn_config_parse(text, &config);
    if (st == SN_OK)
        st = sn_plan_arena_bytes_p(&js->model, &config, js->run_precision, &need);
    if (st != SN_OK) {
        printf("error run=%s config=%s: %s\n", name, text, sn_status_str(st));
        return 2;
    }
    if (need > sizeof arena) {
        printf("error run=%s: arena needs %lu bytes, the static arena has %lu\n", name,
               (unsigned long)need, (unsigned long)sizeof arena);
        return 2;
    }
    t0 = sn_port_clock_now();
    st = sn_plan_prepare_p(&plan, &js->model, &config, js->run_precision, arena, need, &why);
    t1 = sn_port_clock_now();
    if (st != SN_OK) {
        printf("error run=%s prepare: %s (%s)\n", name, sn_status_str(st), why ? why : "");
        return 2;
    }
    js->have_plan = 1;
    printf("run name=%s precision=%s arena_bytes=%lu arena_capacity=%lu prepare_clock=%llu "
           "config=%s\n", name, precision, (unsigned long)need, (unsigned long)sizeof arena,
           (unsigned long long)(t1 - t0), text);
    return 0;
}

/* max |got - want| / max |want| (floor 1e-6), as tests/test_engine_golden.c */
static double relative_error(const float *got, const float *want, uint32_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    uint32_t i;
    for (i = 0; i < n; ++i) {
        double w = (double)want[i], d = (double)got[i] - w;
        if ((w < 0 ? -w : w) > max_ref)
            max_ref = w < 0 ? -w : w;
        if ((d < 0 ? -d : d) > max_diff)
            max_diff = d < 0 ? -d : d;
    }
    return max_diff / (max_ref > 1e-6 ? max_ref : 1e-6);
}

static int invoke(job_state *js, uint32_t canvas)
{
    uint32_t c, n = js->model.arch.num_classes;
    uint64_t t0, t1;
    sn_status st;
    t0 = sn_port_clock_now();
    st = sn_plan_invoke(&plan, NULL, canvases[canvas], js->logits, NULL, NULL);
    t1 = sn_port_clock_now();
    if (st != SN_OK) {
        printf("error run=%s canvas=%lu invoke: %s\n", js->run_name, (unsigned long)canvas,
               sn_status_str(st));
        return 2;
    }
    js->invoked_canvas = (int)canvas;
    printf("invoke run=%s canvas=%lu clock=%llu macs=%lld logits=", js->run_name,
           (unsigned long)canvas, (unsigned long long)(t1 - t0),
           (long long)(plan.is_arac ? plan.arac.last_macs : plan.macs));
    for (c = 0; c < n; ++c)
        printf("%s%.9g", c ? "," : "", (double)js->logits[c]);
    printf("\n");
    return 0;
}

static int check(job_state *js, char *rest)
{
    char *canvas_text = sn_mcu_token(&rest), *label = sn_mcu_token(&rest), *tolerance = sn_mcu_token(&rest), *end;
    float want[MAX_CLASSES];
    uint32_t c, n = js->model.arch.num_classes;
    unsigned long canvas;
    double err, bound = 0.0;
    int exact, info, pass;
    if (!js->have_plan || !canvas_text || !label || !tolerance)
        return report_error("job", "an expect line needs a run before it and CANVAS LABEL TOLERANCE");
    canvas = strtoul(canvas_text, &end, 10);
    if (*end || canvas >= js->count)
        return report_error("job", "expect names a canvas the job does not have");
    exact = strcmp(tolerance, "exact") == 0;
    info = strcmp(tolerance, "info") == 0;
    if (!exact && !info) {
        bound = strtod(tolerance, &end);
        if (*end || !(bound >= 0.0))
            return report_error("job", "tolerance must be exact, info or a relative bound");
    }
    for (c = 0; c < n; ++c) {
        char *word = sn_mcu_token(&rest);
        uint32_t bits;
        if (!word)
            return report_error("job", "expect has fewer logits than the model's classes");
        bits = (uint32_t)strtoul(word, &end, 16);
        if (*end)
            return report_error("job", "expected logits are IEEE-754 bits in hex");
        memcpy(&want[c], &bits, sizeof bits);
    }
    if (js->invoked_canvas != (int)canvas) {
        int st = invoke(js, (uint32_t)canvas);
        if (st)
            return st;
    }
    err = relative_error(js->logits, want, n);
    if (info)
        pass = 1;
    else if (exact)
        pass = memcmp(js->logits, want, n * sizeof(float)) == 0;
    else
        pass = err <= bound;
    if (!info) {
        ++js->checks;
        js->failed += !pass;
    }
    printf("check run=%s canvas=%lu against=%s tolerance=%s relative_error=%.3g bit_exact=%s "
           "verdict=%s\n", js->run_name, canvas, label, tolerance, err,
           memcmp(js->logits, want, n * sizeof(float)) == 0 ? "yes" : "no",
           info ? "info" : pass ? "ok" : "FAIL");
    return 0;
}

static int run_job(job_state *js, FILE *job)
{
    uint32_t read_canvases = 0;
    int st;
    if (!fgets(line, sizeof line, job) || strncmp(line, "supernav-mcu-job 1", 18) != 0)
        return report_error("job", "not a supernav-mcu-job version 1 file");
    while (fgets(line, sizeof line, job)) {
        char *rest = line, *word;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(job))
            return report_error("job", "line too long");
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        word = sn_mcu_token(&rest);
        if (!word || word[0] == '#')
            continue;
        if (strcmp(word, "canvas") == 0) {
            char *side = sn_mcu_token(&rest), *count = sn_mcu_token(&rest);
            js->side = side ? (uint32_t)strtoul(side, NULL, 10) : 0;
            js->count = count ? (uint32_t)strtoul(count, NULL, 10) : 0;
            if (js->side != js->model.arch.canvas || js->side > MAX_SIDE || js->count == 0 ||
                js->count > MAX_CANVASES)
                return report_error("job", "canvas side must be the model's, count 1..8");
        } else if (strcmp(word, "pixels") == 0) {
            if (read_canvases >= js->count || read_canvas(js, read_canvases, rest) != 0)
                return report_error("job", "bad pixels line");
            ++read_canvases;
        } else if (strcmp(word, "run") == 0) {
            if (read_canvases != js->count)
                return report_error("job", "runs must follow all the canvases");
            if ((st = start_run(js, rest)) != 0)
                return st;
        } else if (strcmp(word, "expect") == 0) {
            if ((st = check(js, rest)) != 0)
                return st;
        } else if (strcmp(word, "end") == 0) {
            return -1;
        } else {
            return report_error("job", "unknown line");
        }
    }
    return report_error("job", "no end line (truncated job?)");
}

int main(int argc, char **argv)
{
    static job_state js;
    const void *image;
    size_t image_bytes;
    const char *why = "";
    sn_model_error error;
    sn_status st;
    uint64_t t0, t1, t2, start = sn_port_clock_now();
    FILE *job;
    int rc;
    sn_port_describe();
    if (argc < 3)
        return report_error("usage", "supernav-mcu MODEL JOB");
    t0 = sn_port_clock_now();
    if (sn_port_model_image(argv[1], &image, &image_bytes, &why) != 0)
        return report_error(argv[1], why);
    t1 = sn_port_clock_now();
    st = sn_model_load(&js.model, image, image_bytes, &error);
    t2 = sn_port_clock_now();
    if (st != SN_OK) {
        printf("error model %s: %s: %s at byte %llu\n", argv[1], sn_status_str(st), error.what,
               (unsigned long long)error.offset);
        return 2;
    }
    printf("model path=%s bytes=%lu address=%p read_clock=%llu validate_clock=%llu\n", argv[1],
           (unsigned long)image_bytes, image, (unsigned long long)(t1 - t0),
           (unsigned long long)(t2 - t1));
    job = fopen(argv[2], "r");
    if (!job)
        return report_error(argv[2], "cannot open the job");
    rc = run_job(&js, job);
    fclose(job);
    if (rc >= 0)
        return rc;
    printf("end checks=%lu failed=%lu clock=%llu\n", (unsigned long)js.checks,
           (unsigned long)js.failed, (unsigned long long)(sn_port_clock_now() - start));
    return js.checks == 0 ? 2 : js.failed ? 1 : 0;
}
