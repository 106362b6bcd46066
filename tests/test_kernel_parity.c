/* One kernel parity test for every platform (as ggml's test-backend-ops): every non-NULL
 * kernel slot of sn_platform_ops, on every platform available here, against the reference
 * kernel (the oracle) on odd shapes: channel tails, strides, padding, sliced and cropped
 * weight views, partial vectors. fp32 convolutions, pools and the classifier within 1e-5
 * relative; int8, the residual add and the canvas resize bit for bit; nothing written past
 * the output; a geometry the reference refuses gets the reference's status. Each call is
 * made twice, so a platform that makes weights resident on first use is checked near too.
 *
 * Platforms: cpu, every ISA this process may use (sn_cpu_isa_available; SN_CPU_MAX_ISA
 * caps them), with no near memory (far) and on-use residency (near) -- the test's weights
 * lie outside the model image, so the platform packs them per call either way (its packed
 * copy of the model's own tensors, read near and far and through narrower slices, is
 * checked by whole plans: tests/test_cpu_platform, test_engine_int8, the golden vectors);
 * opencl on its default device (PoCL here), far and near; the fpga model computing with the
 * reference and with the CPU kernels; and, first, the reference kernels through every slot
 * (the self-check: each check runs, even for slots no platform has yet). A platform not
 * available here is a TAP skip with the
 * reason; a NULL slot (the engine runs the reference) is named in a comment line. The mcu
 * platform's int8 kernels run here built for this host (the loops the firmware runs, with the
 * DSP instructions written in C); the firmware's own builds run under QEMU
 * (tests/test_mcu_kernels.sh, tests/test_mcu_boards.sh); arac_micro_flows runs whole plans
 * (each platform's own test checks it against the engine's tile loop). Model: $SN_MODEL (default build/supernet.snm),
 * which the platforms are created for. */
#include "sn_test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_cpu_kernels.h"
#ifdef SN_CPU_HAVE_X86
#include <cpuid.h>
#endif
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_fpga.h"
#include "sn_mcu_kernels.h"
#include "sn_opencl.h"
#include "sn_quant.h"
#include "sn_rng.h"

static void *model_bytes;
static size_t model_size;
static sn_model model;

/* ---- the ops ---------------------------------------------------------------------------- */
enum {
    OP_CONV2D_F32, OP_DEPTHWISE_CONV2D_F32, OP_CONV2D_S8, OP_DEPTHWISE_CONV2D_S8, OP_ADD_F32,
    OP_ADD_S8, OP_AVGPOOL_F32, OP_AVGPOOL_S8, OP_FULLY_CONNECTED_F32, OP_FULLY_CONNECTED_S8,
    OP_RESIZE_CANVAS_F32, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "conv2d_f32", "depthwise_conv2d_f32", "conv2d_s8", "depthwise_conv2d_s8", "add_f32", "add_s8",
    "avgpool_f32", "avgpool_s8", "fully_connected_f32", "fully_connected_s8", "resize_canvas_f32",
};

static int has_slot(const sn_platform_ops *o, int op)
{
    switch (op) {
    case OP_CONV2D_F32: return o->conv2d_f32 != NULL;
    case OP_DEPTHWISE_CONV2D_F32: return o->depthwise_conv2d_f32 != NULL;
    case OP_CONV2D_S8: return o->conv2d_s8 != NULL;
    case OP_DEPTHWISE_CONV2D_S8: return o->depthwise_conv2d_s8 != NULL;
    case OP_ADD_F32: return o->add_f32 != NULL;
    case OP_ADD_S8: return o->add_s8 != NULL;
    case OP_AVGPOOL_F32: return o->avgpool_f32 != NULL;
    case OP_AVGPOOL_S8: return o->avgpool_s8 != NULL;
    case OP_FULLY_CONNECTED_F32: return o->fully_connected_f32 != NULL;
    case OP_FULLY_CONNECTED_S8: return o->fully_connected_s8 != NULL;
    case OP_RESIZE_CANVAS_F32: return o->resize_canvas_f32 != NULL;
    default: return 0;
    }
}

/* ---- the platforms ---------------------------------------------------------------------- */
/* The self-check: a platform whose every kernel slot is the reference kernel, so every check
 * below runs here even for slots no platform implements yet (a template for a new one). */
static sn_status ref_conv2d_f32(void *c, const sn_conv2d_params *p, const float *in, const float *w,
                                const float *scale, const float *bias, float *out)
{
    (void)c;
    return sn_conv2d_ref_f32(p, in, w, scale, bias, out);
}

static sn_status ref_depthwise_conv2d_f32(void *c, const sn_conv2d_params *p, const float *in, const float *w,
                                          const float *scale, const float *bias, float *out)
{
    (void)c;
    return sn_depthwise_conv2d_ref_f32(p, in, w, scale, bias, out);
}

static sn_status ref_conv2d_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                               const int8_t *w, const int32_t *bias, int8_t *out)
{
    (void)c;
    return sn_conv2d_ref_s8(p, q, in, w, bias, out);
}

static sn_status ref_depthwise_conv2d_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q,
                                         const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    (void)c;
    return sn_depthwise_conv2d_ref_s8(p, q, in, w, bias, out);
}

static sn_status ref_add_f32(void *c, float *out, const float *in, uint32_t n)
{
    (void)c;
    return sn_add_ref_f32(out, in, n);
}

static sn_status ref_resize(void *c, const uint8_t *canvas, uint32_t src, float *out, uint32_t dst)
{
    (void)c;
    sn_resize_canvas_f32(canvas, src, out, dst);
    return SN_OK;
}

static sn_status ref_add_s8(void *c, const sn_add_quant_params *q, int8_t *out, const int8_t *in, uint32_t n)
{
    (void)c;
    return sn_add_ref_s8(q, out, in, n);
}

static sn_status ref_avgpool_f32(void *c, const sn_pool_params *p, const float *in, float *out)
{
    (void)c;
    return sn_avgpool_ref_f32(p, in, out);
}

static sn_status ref_avgpool_s8(void *c, const sn_pool_params *p, const int8_t *in, int8_t *out)
{
    (void)c;
    return sn_avgpool_ref_s8(p, in, out);
}

static sn_status ref_fully_connected_f32(void *c, const sn_fc_params *p, const float *in, const float *w,
                                         const float *bias, float *out)
{
    (void)c;
    return sn_fully_connected_ref_f32(p, in, w, bias, out);
}

static sn_status ref_fully_connected_s8(void *c, const sn_fc_params *p, const int8_t *in, const int8_t *w,
                                        const int32_t *bias, const float *scale, float *out)
{
    (void)c;
    return sn_fully_connected_ref_s8(p, in, w, bias, scale, out);
}

static const sn_platform_ops reference_slots = {
    /* .conv2d_f32 = */ ref_conv2d_f32,
    /* .depthwise_conv2d_f32 = */ ref_depthwise_conv2d_f32,
    /* .conv2d_s8 = */ ref_conv2d_s8,
    /* .depthwise_conv2d_s8 = */ ref_depthwise_conv2d_s8,
    /* .arac_micro_flows = */ NULL,
    /* .add_f32 = */ ref_add_f32,
    /* .resize_canvas_f32 = */ ref_resize,
    /* .add_s8 = */ ref_add_s8,
    /* .avgpool_f32 = */ ref_avgpool_f32,
    /* .avgpool_s8 = */ ref_avgpool_s8,
    /* .fully_connected_f32 = */ ref_fully_connected_f32,
    /* .fully_connected_s8 = */ ref_fully_connected_s8,
};

/* The MCU platform's own int8 kernels (platforms/mcu/sn_mcu_kernels.c) built for this host:
 * the loops the Cortex-M firmware runs, with the DSP instructions written in C (the path a
 * core without the DSP extension takes; on the cores QEMU emulates, tests/test_mcu_kernels.sh
 * checks the same shapes with the instructions themselves). */
static sn_status mcu_conv2d_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q, const int8_t *in,
                               const int8_t *w, const int32_t *bias, int8_t *out)
{
    (void)c;
    return sn_mcu_conv2d_s8(p, q, in, w, bias, out);
}

static sn_status mcu_depthwise_conv2d_s8(void *c, const sn_conv2d_params *p, const sn_quant_params *q,
                                         const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    (void)c;
    return sn_mcu_depthwise_conv2d_s8(p, q, in, w, bias, out);
}

static const sn_platform_ops mcu_slots = {
    /* .conv2d_f32 = */ NULL,
    /* .depthwise_conv2d_f32 = */ NULL,
    /* .conv2d_s8 = */ mcu_conv2d_s8,
    /* .depthwise_conv2d_s8 = */ mcu_depthwise_conv2d_s8,
    /* .arac_micro_flows = */ NULL,
    /* .add_f32 = */ NULL,
    /* .resize_canvas_f32 = */ NULL,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};

typedef struct target {
    char name[48];
    char skip[256];                /* non-empty: not available here, and why */
    sn_platform platform;
    sn_cpu *cpu;                   /* what to destroy and evict (one of these) */
    sn_opencl *cl;
    sn_fpga *fpga;
    sn_cpu *inner;                 /* the fpga model's compute platform */
    sn_platform inner_platform;
} target;

#define MAX_TARGETS 32
static target targets[MAX_TARGETS];
static int target_count;

static target *add_target(const char *name)
{
    target *t = &targets[target_count++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

/* Resident copies are keyed by the weights' address, and every test allocates its own: none
 * survives into the next test. */
static void evict(const target *t)
{
    if (t->cpu)
        sn_cpu_evict_all(t->cpu);
    if (t->cl)
        sn_opencl_evict_all(t->cl);
    if (t->fpga)
        sn_fpga_evict_all(t->fpga);
}

/* Why sn_cpu_isa_available(ISA) is 0, as sn_cpu.c decides it: SN_CPU_MAX_ISA below it, a
 * build without the x86 kernels, or a CPU without the features (named; the VNNI bits read with
 * CPUID, as sn_cpu.c does: not every compiler's __builtin_cpu_supports names them). */
static const char *isa_missing_why(const char *isa, char *buf, size_t n)
{
    static const char *const ranks[] = {"portable", "avx2", "avxvnni", "avx512", "avx512vnni"};
    const int nr = (int)(sizeof ranks / sizeof *ranks);
    const char *cap = getenv("SN_CPU_MAX_ISA");
    int r = 0, c = nr - 1, k;
    for (k = 0; k < nr; ++k) {
        if (!strcmp(isa, ranks[k]))
            r = k;
        if (cap && *cap && !strcmp(cap, ranks[k]))
            c = k;
    }
    if (cap && *cap && r > c) {
        snprintf(buf, n, "capped by SN_CPU_MAX_ISA=%s", cap);
        return buf;
    }
#ifndef SN_CPU_HAVE_X86
    snprintf(buf, n, "this build has no x86 SIMD kernels (not an x86-64 GCC-compatible build)");
#else
    {
        const int wide = !strncmp(isa, "avx512", 6), vnni = strstr(isa, "vnni") != NULL;
        unsigned a = 0, b = 0, cx = 0, d = 0;
        int has_vnni = 0;
        if (vnni && __get_cpuid_max(0, NULL) >= 7) {
            __cpuid_count(7, wide ? 0 : 1, a, b, cx, d);
            has_vnni = wide ? (int)((cx >> 11) & 1u) : (int)((a >> 4) & 1u); /* 7.0 ECX 11; 7.1 EAX 4 */
        }
        __builtin_cpu_init();
        snprintf(buf, n, "this CPU lacks%s%s%s%s", !__builtin_cpu_supports("fma") ? " fma" : "",
                 !wide ? (!__builtin_cpu_supports("avx2") ? " avx2" : "")
                       : (!__builtin_cpu_supports("avx512f") ? " avx512f" : ""),
                 wide && !__builtin_cpu_supports("avx512bw") ? " avx512bw" : "",
                 vnni && !has_vnni ? (wide ? " avx512_vnni" : " avx_vnni") : "");
    }
#endif
    return buf;
}

/* Creates every platform; an error (not a missing device) is written to ERR, returns -1. */
static int make_targets(char *err, size_t err_size)
{
    static const char *const isas[] = {"avx512vnni", "avx512", "avxvnni", "avx2", "portable"};
    size_t i;
    int near;
    target *self = add_target("reference (self-check)");
    self->platform.name = "reference";
    self->platform.ops = &reference_slots;
    {
        target *t = add_target("mcu (C build)");
        t->platform.name = "mcu";
        t->platform.ops = &mcu_slots;
    }
    for (i = 0; i < sizeof isas / sizeof *isas; ++i)
        for (near = 0; near < 2; ++near) {
            char name[48];
            target *t;
            sn_cpu_options o;
            const char *why = "";
            snprintf(name, sizeof name, "cpu/%s (%s)", isas[i], near ? "near" : "far");
            t = add_target(name);
            if (!sn_cpu_isa_available(isas[i])) {
                char lack[128];
                snprintf(t->skip, sizeof t->skip, "ISA %s not available here (%s)", isas[i],
                         isa_missing_why(isas[i], lack, sizeof lack));
                continue;
            }
            sn_cpu_options_default(&o);
            o.isa = isas[i];
            o.near_budget_bytes = near ? SIZE_MAX : 0; /* far: every call packs its weights */
            o.residency = near ? SN_CPU_RESIDENT_ON_USE : SN_CPU_RESIDENT_EXPLICIT;
            if (sn_cpu_create(&model, &o, &t->cpu, &why) != SN_OK) {
                snprintf(err, err_size, "%s: sn_cpu_create: %s", name, why);
                return -1;
            }
            sn_cpu_platform(t->cpu, &t->platform);
        }
    for (near = 0; near < 2; ++near) {
        target *t = add_target(near ? "opencl (near)" : "opencl (far)");
        sn_opencl_options o;
        char why[512] = "";
        sn_status st;
        sn_opencl_options_default(&o);
        o.near_budget_bytes = near ? SIZE_MAX : 0;
        o.residency = near ? SN_OPENCL_RESIDENT_ON_USE : SN_OPENCL_RESIDENT_EXPLICIT;
        st = sn_opencl_create(&model, &o, &t->cl, why, sizeof why);
        if (st == SN_ERR_NO_DEVICE) {
            snprintf(t->skip, sizeof t->skip, "no OpenCL device: %.200s", why);
            continue;
        }
        if (st != SN_OK) {
            snprintf(err, err_size, "%s: sn_opencl_create: %.300s", t->name, why);
            return -1;
        }
        sn_opencl_platform(t->cl, &t->platform);
        printf("# %s: %s\n", t->name, sn_opencl_device_name(t->cl));
    }
    {
        static sn_fpga_board board;
        int inner;
        if (sn_fpga_board_load("platforms/fpga/boards/zcu104.board", &board, err, err_size) != 0)
            return -1;
        for (inner = 0; inner < 2; ++inner) {
            target *t = add_target(inner ? "fpga (cpu compute)" : "fpga (reference compute)");
            sn_fpga_options o;
            sn_fpga_options_default(&o);
            if (inner) {
                sn_cpu_options co;
                const char *why = "";
                sn_cpu_options_default(&co);
                co.near_budget_bytes = 0; /* packs per call: no copy outlives its weights */
                co.residency = SN_CPU_RESIDENT_EXPLICIT;
                if (sn_cpu_create(&model, &co, &t->inner, &why) != SN_OK) {
                    snprintf(err, err_size, "%s: sn_cpu_create: %s", t->name, why);
                    return -1;
                }
                sn_cpu_platform(t->inner, &t->inner_platform);
                o.compute = &t->inner_platform;
            }
            if (sn_fpga_create(&model, &board, &o, &t->fpga, err, err_size) != 0)
                return -1;
            sn_fpga_platform(t->fpga, &t->platform);
        }
    }
    return 0;
}

static void free_targets(void)
{
    int i;
    for (i = 0; i < target_count; ++i) {
        sn_cpu_destroy(targets[i].cpu);
        sn_opencl_destroy(targets[i].cl);
        sn_fpga_destroy(targets[i].fpga);
        sn_cpu_destroy(targets[i].inner);
    }
}

/* ---- buffers: every one lives until its test ends (see evict) ---------------------------- */
#define MAX_KEPT 4096
static void *kept[MAX_KEPT];
static int kept_count;

static void *keep(size_t bytes)
{
    void *p = NULL;
    assert_true(kept_count < MAX_KEPT);
    assert_int_equal(posix_memalign(&p, 64, bytes ? bytes : 1), 0);
    kept[kept_count++] = p;
    return p;
}

static void release_all(void)
{
    while (kept_count > 0)
        free(kept[--kept_count]);
}

static float frand(sn_rng *s) { return (float)((double)(sn_rng_next(s) >> 11) / 9007199254740992.0) * 2.0f - 1.0f; }
static int8_t s8rand(sn_rng *s) { return (int8_t)(sn_rng_next(s) >> 56); }

/* Outputs get this many bytes more, filled with a pattern that must survive. */
#define SLACK 16
#define PATTERN 0x5a

static int untouched(const void *p, size_t bytes)
{
    size_t i;
    for (i = 0; i < bytes; ++i)
        if (((const unsigned char *)p)[i] != PATTERN)
            return 0;
    return 1;
}

static void check_tail(const target *t, int op, size_t shape, const void *out, size_t bytes)
{
    if (!untouched((const char *)out + bytes, SLACK))
        fail_msg("%s %s case %zu: wrote past the output", t->name, op_names[op], shape);
}

/* max |got - want| over max(max |want|, 1), the golden tests' measure */
static double rel_error(const float *got, const float *want, size_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    size_t i;
    for (i = 0; i < n; ++i) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (fabs((double)want[i]) > max_ref)
            max_ref = fabs((double)want[i]);
        if (!(d <= max_diff)) /* a NaN counts as infinitely wrong */
            max_diff = d == d ? d : (double)INFINITY;
    }
    return max_diff / (max_ref > 1.0 ? max_ref : 1.0);
}

#define F32_TOLERANCE 1e-5

/* GOT (N values in BYTES, then the pattern) against WANT from call REP of case SHAPE: bit for
 * bit when EXACT, else within F32_TOLERANCE relative (floats); *WORST keeps the largest error. */
static void check_output(const target *t, int op, size_t shape, int rep, const void *want, const void *got,
                         size_t n, size_t bytes, int exact, double *worst)
{
    double rel;
    check_tail(t, op, shape, got, bytes);
    if (exact) {
        if (memcmp(want, got, bytes) != 0)
            fail_msg("%s %s case %zu (call %d): differs from the reference", t->name, op_names[op], shape, rep + 1);
        return;
    }
    rel = rel_error(got, want, n);
    if (rel > *worst)
        *worst = rel;
    if (rel > F32_TOLERANCE)
        fail_msg("%s %s case %zu (call %d): relative error %.3g > %g", t->name, op_names[op], shape, rep + 1, rel,
                 F32_TOLERANCE);
}

static void report(const target *t, int op, int calls, int exact, double worst)
{
    if (exact)
        printf("# %s %s: %d calls, bit for bit\n", t->name, op_names[op], calls);
    else
        printf("# %s %s: %d calls, worst relative error %.2g\n", t->name, op_names[op], calls, worst);
}

/* ---- convolutions ----------------------------------------------------------------------- */
/* in_h, in_w, in_c, out_c, k, stride, depthwise, w_in_full (slice), w_out_full, and the
 * stored kernel size when K is its centred crop (0: K) */
static const int32_t conv_shapes[][10] = {
    {9, 7, 5, 13, 3, 2, 0, 8, 16},   {8, 8, 24, 40, 1, 1, 0, 24, 48}, {6, 11, 17, 33, 1, 1, 0, 20, 35},
    {12, 12, 1, 16, 3, 2, 0, 1, 16}, {5, 5, 7, 3, 5, 1, 0, 7, 3},    {10, 9, 37, 37, 3, 1, 1, 40, 0},
    {11, 11, 72, 72, 5, 2, 1, 96, 0}, {4, 4, 12, 12, 5, 1, 1, 16, 0}, {7, 3, 130, 130, 3, 2, 1, 130, 0},
    /* partial micro-tiles of every width (9, 7, 8, 5, 11, 25 pixels; rows of 3, 2, 1) */
    {3, 3, 20, 24, 1, 1, 0, 20, 24}, {1, 7, 8, 17, 1, 1, 0, 8, 17},  {2, 4, 9, 33, 1, 1, 0, 9, 33},
    {1, 5, 6, 40, 1, 1, 0, 6, 40},   {1, 11, 10, 16, 1, 1, 0, 10, 16}, {5, 5, 16, 40, 1, 1, 0, 16, 40},
    {6, 6, 2, 8, 3, 2, 0, 2, 8},     {4, 2, 3, 16, 3, 1, 0, 3, 16},   {1, 1, 4, 20, 3, 1, 0, 4, 20},
    /* one input channel (the stem: weights in registers, 4 interior pixels at a time, borders
     * tap by tap): 3x3 and 5x5, strides 1 and 2, fewer than 16 outputs, a slice of wider
     * tensors, rows too narrow for a 4-pixel run */
    {17, 19, 1, 16, 3, 2, 0, 1, 16}, {13, 10, 1, 12, 5, 1, 0, 1, 16}, {9, 9, 1, 7, 3, 1, 0, 1, 7},
    {11, 14, 1, 16, 3, 2, 0, 2, 24}, {8, 3, 1, 16, 5, 2, 0, 1, 16},  {2, 2, 1, 5, 5, 1, 0, 1, 5},
    /* ... with outputs that fit the narrower ISAs' one vector (4 and 8 lanes) */
    {11, 13, 1, 3, 3, 2, 0, 1, 3},  {10, 12, 1, 4, 5, 1, 0, 1, 4},   {9, 12, 1, 8, 5, 1, 0, 1, 8},
    /* depthwise, four pixels at a time with the borders (zero columns, skipped rows): k3 and
     * k5, strides 1 and 2, half-vector and scalar channel tails, short maps */
    {9, 12, 45, 45, 3, 2, 1, 48, 0}, {8, 8, 24, 24, 5, 1, 1, 24, 0}, {3, 9, 16, 16, 5, 1, 1, 16, 0},
    {6, 13, 40, 40, 5, 2, 1, 40, 0}, {2, 5, 33, 33, 3, 1, 1, 33, 0}, {4, 4, 96, 96, 5, 1, 1, 96, 0},
    /* a SubNet's centred kernel crops of 5x5 (and 3x3) tensors; pointwise with stride 2 and
     * fewer outputs than a 4-pixel block */
    {12, 12, 1, 16, 3, 2, 0, 1, 16, 5}, {10, 9, 37, 37, 3, 1, 1, 40, 0, 5}, {5, 5, 80, 80, 3, 2, 1, 96, 0, 5},
    {3, 3, 128, 128, 3, 1, 1, 128, 0, 5}, {7, 6, 10, 6, 3, 2, 0, 12, 8, 5}, {6, 7, 20, 12, 1, 2, 0, 24, 16, 3},
    {3, 1, 13, 5, 1, 1, 0, 13, 5},
    /* pointwise with an odd number of 8-lane output vectors (72, 120: tiles of 3 vectors,
     * then pairs), and on maps of 9, 16, 12 and 18 pixels; depthwise rows whose last 1 to 4 pixels, or whole rows narrower than 8,
     * take several channel vectors at a time (widths 10, 7, 6, 3, 1; 9, 12, 20 vectors) */
    {5, 5, 24, 72, 1, 1, 0, 24, 96}, {3, 3, 40, 120, 1, 1, 0, 40, 160}, {3, 3, 72, 96, 1, 1, 0, 96, 128},
    {4, 4, 64, 96, 1, 1, 0, 64, 96},  {2, 6, 64, 64, 1, 1, 0, 64, 64},  {3, 6, 64, 64, 1, 1, 0, 64, 64},
    {10, 10, 96, 96, 5, 1, 1, 96, 0}, {7, 7, 72, 72, 3, 1, 1, 72, 0}, {12, 12, 160, 160, 5, 2, 1, 160, 0},
    {5, 5, 80, 80, 5, 2, 1, 80, 0},   {1, 1, 64, 64, 5, 1, 1, 64, 0},
    /* 5x5 depthwise from a padded copy of each channel vector's map (AVX2): stride 1 on rows
     * of 13 (7 + 6 pixels) and 6, stride 2 on rows of 11 (6 + 5) and 16 (8 + 8), with
     * half-vector and scalar channel tails, maps shorter than the kernel */
    {7, 13, 19, 19, 5, 1, 1, 24, 0}, {2, 6, 45, 45, 5, 1, 1, 48, 0}, {9, 21, 45, 45, 5, 2, 1, 48, 0},
    {32, 32, 16, 16, 5, 2, 1, 16, 0},
};

typedef struct conv_case {
    sn_conv2d_params p;
    int dw, s8;
    const float *in, *w, *scale, *bias;
    const int8_t *in8, *w8;
    const int32_t *ibias;
    sn_quant_params q;
} conv_case;

static sn_status conv_call(const sn_platform *pl, const conv_case *c, const sn_conv2d_params *p, void *out)
{
    const sn_platform_ops *o = pl ? pl->ops : NULL;
    void *ctx = pl ? pl->context : NULL;
    if (c->s8 && c->dw)
        return o ? o->depthwise_conv2d_s8(ctx, p, &c->q, c->in8, c->w8, c->ibias, out)
                 : sn_depthwise_conv2d_ref_s8(p, &c->q, c->in8, c->w8, c->ibias, out);
    if (c->s8)
        return o ? o->conv2d_s8(ctx, p, &c->q, c->in8, c->w8, c->ibias, out)
                 : sn_conv2d_ref_s8(p, &c->q, c->in8, c->w8, c->ibias, out);
    if (c->dw)
        return o ? o->depthwise_conv2d_f32(ctx, p, c->in, c->w, c->scale, c->bias, out)
                 : sn_depthwise_conv2d_ref_f32(p, c->in, c->w, c->scale, c->bias, out);
    return o ? o->conv2d_f32(ctx, p, c->in, c->w, c->scale, c->bias, out)
             : sn_conv2d_ref_f32(p, c->in, c->w, c->scale, c->bias, out);
}

static void make_conv_case(conv_case *c, const int32_t *d, size_t s, int s8, sn_rng *rng)
{
    size_t n_in, n_w, j, crop;
    int32_t *mult, *shift, kf;
    memset(c, 0, sizeof *c);
    c->dw = d[6];
    c->s8 = s8;
    c->p.in_h = d[0]; c->p.in_w = d[1]; c->p.in_c = d[2]; c->p.out_c = d[3];
    c->p.kernel_h = c->p.kernel_w = d[4];
    c->p.stride_h = c->p.stride_w = d[5];
    c->p.pad_top = c->p.pad_left = d[4] / 2;
    c->p.out_h = sn_conv2d_out_size(c->p.in_h, d[4], d[5], d[4] / 2, d[4] / 2);
    c->p.out_w = sn_conv2d_out_size(c->p.in_w, d[4], d[5], d[4] / 2, d[4] / 2);
    c->p.act_min = s % 2 ? 0.0f : -INFINITY;
    c->p.act_max = s % 3 ? 6.0f : INFINITY;
    kf = d[9] ? d[9] : d[4];
    c->p.w_stride_kw = d[7]; /* a leading slice of wider tensors */
    c->p.w_stride_kh = kf * d[7];
    c->p.w_stride_out = c->dw ? 0 : kf * kf * d[7];
    crop = (size_t)((kf - d[4]) / 2) * (size_t)(c->p.w_stride_kh + c->p.w_stride_kw);
    assert_int_equal(sn_conv2d_check(&c->p, c->dw), SN_OK);
    n_in = (size_t)c->p.in_h * c->p.in_w * c->p.in_c;
    n_w = c->dw ? (size_t)kf * kf * d[7] : (size_t)d[8] * kf * kf * d[7];
    if (!s8) {
        float *in = keep(n_in * 4), *w = keep(n_w * 4), *scale = keep((size_t)d[3] * 4), *bias = keep((size_t)d[3] * 4);
        for (j = 0; j < n_in; ++j) in[j] = frand(rng) * 3.0f;
        for (j = 0; j < n_w; ++j) w[j] = frand(rng);
        for (j = 0; j < (size_t)d[3]; ++j) { scale[j] = 1.0f + frand(rng) * 0.5f; bias[j] = frand(rng); }
        c->in = in; c->w = w + crop; c->scale = scale; c->bias = bias;
        return;
    }
    {
        int8_t *in8 = keep(n_in), *w8 = keep(n_w);
        int32_t *ibias = keep((size_t)d[3] * 4);
        mult = keep((size_t)d[3] * 4);
        shift = keep((size_t)d[3] * 4);
        for (j = 0; j < n_in; ++j) in8[j] = s8rand(rng);
        for (j = 0; j < n_w; ++j) w8[j] = (int8_t)((int)sn_rng_below(rng, 255) - 127);
        for (j = 0; j < (size_t)d[3]; ++j) {
            /* multipliers of both signs and shifts of both directions */
            double real = (double)(sn_rng_below(rng, 1000) + 1) * 1e-6 * (j % 5 == 0 ? -1.0 : 1.0) *
                          (j % 7 == 0 ? 300.0 : 1.0);
            assert_int_equal(sn_quantize_multiplier(real, &mult[j], &shift[j]), 0);
            ibias[j] = (int32_t)sn_rng_below(rng, 200001) - 100000;
        }
        c->in8 = in8; c->w8 = w8 + crop; c->ibias = ibias;
        c->q.input_offset = (int32_t)sn_rng_below(rng, 256) - 127;
        c->q.output_offset = (int32_t)sn_rng_below(rng, 256) - 128;
        c->q.multiplier = mult;
        c->q.shift = shift;
        c->q.act_min = s % 2 ? -128 : -20;
        c->q.act_max = s % 3 ? 127 : 90;
    }
}

static void check_conv(const target *t, int op)
{
    const int dw = op == OP_DEPTHWISE_CONV2D_F32 || op == OP_DEPTHWISE_CONV2D_S8;
    const int s8 = op == OP_CONV2D_S8 || op == OP_DEPTHWISE_CONV2D_S8;
    const size_t elem = s8 ? 1u : 4u;
    sn_rng rng = sn_rng_derive(42, (uint64_t)op, 0);
    double worst = 0.0;
    size_t s;
    int calls = 0, rep;
    for (s = 0; s < sizeof conv_shapes / sizeof *conv_shapes; ++s) {
        conv_case c;
        sn_conv2d_params bad;
        size_t n_out, bytes;
        void *want, *got;
        if (conv_shapes[s][6] != dw)
            continue;
        make_conv_case(&c, conv_shapes[s], s, s8, &rng);
        n_out = (size_t)c.p.out_h * c.p.out_w * c.p.out_c;
        bytes = n_out * elem;
        want = keep(bytes);
        got = keep(bytes + SLACK);
        assert_int_equal(conv_call(NULL, &c, &c.p, want), SN_OK);
        for (rep = 0; rep < 2; ++rep) { /* the second call finds on-use weights resident */
            memset(got, PATTERN, bytes + SLACK);
            assert_int_equal(conv_call(&t->platform, &c, &c.p, got), SN_OK);
            check_output(t, op, s, rep, want, got, n_out, bytes, s8, &worst);
            ++calls;
        }
        /* a geometry the reference refuses: the same status, nothing written */
        bad = c.p;
        bad.pad_top = bad.kernel_h;
        memset(got, PATTERN, bytes + SLACK);
        assert_int_equal(conv_call(&t->platform, &c, &bad, got), conv_call(NULL, &c, &bad, want));
        if (!untouched(got, bytes + SLACK))
            fail_msg("%s %s shape %zu: a refused call wrote its output", t->name, op_names[op], s);
    }
    report(t, op, calls, s8, worst);
}

/* ---- residual add ------------------------------------------------------------------------ */
static const uint32_t add_lengths[] = {1, 3, 15, 16, 17, 31, 64, 100, 997, 4101};

static void check_add(const target *t, int op)
{
    const int s8 = op == OP_ADD_S8;
    const size_t elem = s8 ? 1u : 4u;
    sn_rng rng = sn_rng_derive(43, (uint64_t)op, 0);
    size_t s, j;
    int calls = 0, rep;
    for (s = 0; s < sizeof add_lengths / sizeof *add_lengths; ++s) {
        const uint32_t n = add_lengths[s];
        void *start = keep(n * elem), *in = keep(n * elem), *want = keep(n * elem), *got = keep(n * elem + SLACK);
        sn_add_quant_params q;
        if (s8) {
            double s1 = 0.01 + 0.1 * fabs((double)frand(&rng)), s2 = 0.01 + 0.1 * fabs((double)frand(&rng));
            double so = 0.02 + 0.2 * fabs((double)frand(&rng)), twice = 2.0 * (s1 > s2 ? s1 : s2);
            for (j = 0; j < n; ++j) {
                ((int8_t *)start)[j] = s8rand(&rng);
                ((int8_t *)in)[j] = s8rand(&rng);
            }
            assert_int_equal(sn_quantize_multiplier(s1 / twice, &q.multiplier[0], &q.shift[0]), 0);
            assert_int_equal(sn_quantize_multiplier(s2 / twice, &q.multiplier[1], &q.shift[1]), 0);
            assert_int_equal(sn_quantize_multiplier(twice / (1048576.0 * so), &q.multiplier[2], &q.shift[2]), 0);
            q.offset[0] = (int32_t)sn_rng_below(&rng, 256) - 127;
            q.offset[1] = (int32_t)sn_rng_below(&rng, 256) - 127;
            q.offset[2] = (int32_t)sn_rng_below(&rng, 256) - 128;
        } else {
            for (j = 0; j < n; ++j) {
                ((float *)start)[j] = frand(&rng) * 7.0f;
                ((float *)in)[j] = frand(&rng);
            }
        }
        memcpy(want, start, n * elem);
        assert_int_equal(s8 ? sn_add_ref_s8(&q, want, in, n) : sn_add_ref_f32(want, in, n), SN_OK);
        for (rep = 0; rep < 2; ++rep) {
            memcpy(got, start, n * elem);
            memset((char *)got + n * elem, PATTERN, SLACK);
            assert_int_equal(s8 ? t->platform.ops->add_s8(t->platform.context, &q, got, in, n)
                                : t->platform.ops->add_f32(t->platform.context, got, in, n),
                             SN_OK);
            check_output(t, op, s, rep, want, got, n, n * elem, 1, NULL);
            ++calls;
        }
    }
    report(t, op, calls, 1, 0.0);
}

/* ---- average pooling ---------------------------------------------------------------------- */
/* in_h, in_w, channels, window_h, window_w: the global pool of head-like maps, the ARAC gate's
 * pool to its grid, odd channel counts */
static const int32_t pool_shapes[][5] = {
    {2, 2, 256, 2, 2}, {4, 4, 96, 4, 4}, {1, 1, 7, 1, 1},  {16, 16, 8, 4, 4}, {16, 16, 8, 8, 8},
    {3, 5, 33, 3, 5},  {6, 4, 17, 2, 2}, {8, 8, 1, 2, 4},  {5, 5, 130, 5, 5},
};

static void check_pool(const target *t, int op)
{
    const int s8 = op == OP_AVGPOOL_S8;
    const size_t elem = s8 ? 1u : 4u;
    sn_rng rng = sn_rng_derive(44, (uint64_t)op, 0);
    double worst = 0.0;
    size_t s, j;
    int calls = 0, rep;
    for (s = 0; s < sizeof pool_shapes / sizeof *pool_shapes; ++s) {
        const int32_t *d = pool_shapes[s];
        sn_pool_params p, bad;
        size_t n_in, n_out;
        void *in, *want, *got;
        p.in_h = d[0]; p.in_w = d[1]; p.channels = d[2]; p.window_h = d[3]; p.window_w = d[4];
        p.zero_point = s8 ? (int32_t)sn_rng_below(&rng, 256) - 128 : 0;
        n_in = (size_t)d[0] * d[1] * d[2];
        n_out = (size_t)(d[0] / d[3]) * (size_t)(d[1] / d[4]) * (size_t)d[2];
        in = keep(n_in * elem);
        want = keep(n_out * elem);
        got = keep(n_out * elem + SLACK);
        for (j = 0; j < n_in; ++j) {
            if (s8)
                ((int8_t *)in)[j] = s8rand(&rng);
            else
                ((float *)in)[j] = frand(&rng) * 6.0f;
        }
        assert_int_equal(s8 ? sn_avgpool_ref_s8(&p, in, want) : sn_avgpool_ref_f32(&p, in, want), SN_OK);
        for (rep = 0; rep < 2; ++rep) {
            memset(got, PATTERN, n_out * elem + SLACK);
            assert_int_equal(s8 ? t->platform.ops->avgpool_s8(t->platform.context, &p, in, got)
                                : t->platform.ops->avgpool_f32(t->platform.context, &p, in, got),
                             SN_OK);
            check_output(t, op, s, rep, want, got, n_out, n_out * elem, s8, &worst);
            ++calls;
        }
        bad = p;
        bad.window_w = d[1] + 1; /* does not divide the input */
        assert_int_equal(s8 ? t->platform.ops->avgpool_s8(t->platform.context, &bad, in, got)
                            : t->platform.ops->avgpool_f32(t->platform.context, &bad, in, got),
                         s8 ? sn_avgpool_ref_s8(&bad, in, want) : sn_avgpool_ref_f32(&bad, in, want));
    }
    report(t, op, calls, s8, worst);
}

/* ---- the classifier ---------------------------------------------------------------------- */
/* in_c, out_c */
static const int32_t fc_shapes[][2] = {{1280, 10}, {256, 10}, {1, 1}, {17, 33}, {64, 16}, {300, 7}, {4, 100}};

static void check_fc(const target *t, int op)
{
    const int s8 = op == OP_FULLY_CONNECTED_S8;
    sn_rng rng = sn_rng_derive(45, (uint64_t)op, 0);
    double worst = 0.0;
    size_t s, j;
    int calls = 0, rep;
    for (s = 0; s < sizeof fc_shapes / sizeof *fc_shapes; ++s) {
        const int32_t in_c = fc_shapes[s][0], out_c = fc_shapes[s][1];
        const size_t nw = (size_t)in_c * (size_t)out_c;
        const int with_bias = s % 3 != 2;
        sn_fc_params p = {in_c, out_c, 0}, bad;
        float *want = keep((size_t)out_c * 4), *got = keep((size_t)out_c * 4 + SLACK);
        float *x = keep((size_t)in_c * 4), *w = keep(nw * 4), *b = keep((size_t)out_c * 4), *scale = keep((size_t)out_c * 4);
        int8_t *x8 = keep((size_t)in_c), *w8 = keep(nw);
        int32_t *b8 = keep((size_t)out_c * 4);
        for (j = 0; j < (size_t)in_c; ++j) { x[j] = frand(&rng) * 6.0f; x8[j] = s8rand(&rng); }
        for (j = 0; j < nw; ++j) { w[j] = frand(&rng) * 0.2f; w8[j] = (int8_t)((int)sn_rng_below(&rng, 255) - 127); }
        for (j = 0; j < (size_t)out_c; ++j) {
            b[j] = frand(&rng);
            b8[j] = (int32_t)sn_rng_below(&rng, 200001) - 100000;
            scale[j] = 1e-4f * (1.0f + fabsf(frand(&rng)));
        }
        if (s8)
            p.input_offset = (int32_t)sn_rng_below(&rng, 256) - 127;
        assert_int_equal(s8 ? sn_fully_connected_ref_s8(&p, x8, w8, with_bias ? b8 : NULL, scale, want)
                            : sn_fully_connected_ref_f32(&p, x, w, with_bias ? b : NULL, want),
                         SN_OK);
        for (rep = 0; rep < 2; ++rep) {
            memset(got, PATTERN, (size_t)out_c * 4 + SLACK);
            assert_int_equal(s8 ? t->platform.ops->fully_connected_s8(t->platform.context, &p, x8, w8,
                                                                       with_bias ? b8 : NULL, scale, got)
                                : t->platform.ops->fully_connected_f32(t->platform.context, &p, x, w,
                                                                        with_bias ? b : NULL, got),
                             SN_OK);
            check_output(t, op, s, rep, want, got, (size_t)out_c, (size_t)out_c * 4, s8, &worst);
            ++calls;
        }
        bad = p;
        bad.in_c = 0;
        assert_int_equal(s8 ? t->platform.ops->fully_connected_s8(t->platform.context, &bad, x8, w8, b8, scale, got)
                            : t->platform.ops->fully_connected_f32(t->platform.context, &bad, x, w, b, got),
                         SN_ERR_INVALID_ARGUMENT);
    }
    report(t, op, calls, s8, worst);
}

/* ---- the canvas resize: the engine's bits, or a refusal (the engine then runs its own) ---- */
static void check_resize(const target *t, int op)
{
    static const uint32_t sizes[][2] = {{64, 40}, {64, 48}, {64, 56}, {64, 64}, {64, 17}, {37, 64},
                                        {100, 33}, {5, 3}, {1, 1}, {64, 1}, {300, 40}};
    sn_rng rng = sn_rng_derive(46, (uint64_t)op, 0);
    uint8_t *canvas = keep(300 * 300);
    size_t s, j;
    int calls = 0, refused = 0;
    for (j = 0; j < 300 * 300; ++j)
        canvas[j] = (uint8_t)(sn_rng_next(&rng) >> 56);
    for (s = 0; s < sizeof sizes / sizeof *sizes; ++s) {
        const uint32_t src = sizes[s][0], dst = sizes[s][1];
        const size_t bytes = (size_t)dst * dst * sizeof(float);
        float *want = keep(bytes), *got = keep(bytes + SLACK);
        sn_status st;
        memset(got, PATTERN, bytes + SLACK);
        sn_resize_canvas_f32(canvas, src, want, dst);
        st = t->platform.ops->resize_canvas_f32(t->platform.context, canvas, src, got, dst);
        check_tail(t, op, s, got, bytes);
        ++calls;
        if (st != SN_OK) {
            ++refused;
            continue;
        }
        if (memcmp(want, got, bytes) != 0)
            fail_msg("%s %s %u -> %u: differs from the engine's", t->name, op_names[op], (unsigned)src, (unsigned)dst);
    }
    printf("# %s %s: %d calls, %d bit for bit, %d refused (the engine resizes those)\n", t->name, op_names[op],
           calls, calls - refused, refused);
}

/* ---- the tests: one per (platform, slot) ----------------------------------------------- */
typedef struct job {
    const target *t;
    int op;                        /* -1: the platform is skipped */
} job;

static void run_job(void **state)
{
    const job *j = *state;
    if (j->op < 0)
        return; /* named "... # SKIP reason": TAP's skip */
    evict(j->t);
    switch (j->op) {
    case OP_ADD_F32:
    case OP_ADD_S8: check_add(j->t, j->op); break;
    case OP_AVGPOOL_F32:
    case OP_AVGPOOL_S8: check_pool(j->t, j->op); break;
    case OP_FULLY_CONNECTED_F32:
    case OP_FULLY_CONNECTED_S8: check_fc(j->t, j->op); break;
    case OP_RESIZE_CANVAS_F32: check_resize(j->t, j->op); break;
    default: check_conv(j->t, j->op); break;
    }
    release_all();
}

int main(void)
{
    static struct CMUnitTest tests[MAX_TARGETS * OP_COUNT];
    static job jobs[MAX_TARGETS * OP_COUNT];
    static char names[MAX_TARGETS * OP_COUNT][320];
    const char *mp = getenv("SN_MODEL");
    char err[512];
    size_t n = 0;
    int i, op, rc;
    if (!mp || !*mp)
        mp = "build/supernet.snm";
    if (sn_read_file(mp, &model_bytes, &model_size) != 0 ||
        sn_model_load(&model, model_bytes, model_size, NULL) != SN_OK) {
        printf("1..1\nnot ok 1 - cannot load the model image %s\n", mp);
        return 1;
    }
    if (make_targets(err, sizeof err) != 0) {
        printf("1..1\nnot ok 1 - %s\n", err);
        free_targets();
        return 1;
    }
    for (i = 0; i < target_count; ++i) {
        const target *t = &targets[i];
        char nulls[256] = "";
        if (t->skip[0]) {
            snprintf(names[n], sizeof names[n], "%s # SKIP %s", t->name, t->skip);
            jobs[n].t = t;
            jobs[n].op = -1;
            ++n;
            continue;
        }
        for (op = 0; op < OP_COUNT; ++op) {
            if (!has_slot(t->platform.ops, op)) {
                strncat(nulls, " ", sizeof nulls - strlen(nulls) - 1);
                strncat(nulls, op_names[op], sizeof nulls - strlen(nulls) - 1);
                continue;
            }
            snprintf(names[n], sizeof names[n], "%s %s", t->name, op_names[op]);
            jobs[n].t = t;
            jobs[n].op = op;
            ++n;
        }
        if (nulls[0])
            printf("# %s: NULL slots (the engine runs the reference):%s\n", t->name, nulls);
    }
    printf("# mcu: its int8 kernels here built for this host (%s); the firmware runs them under QEMU "
           "(tests/test_mcu_kernels.sh, tests/test_engine_qemu.sh, tests/test_mcu_boards.sh)\n",
           sn_mcu_kernels_isa());
    for (i = 0; i < (int)n; ++i) {
        memset(&tests[i], 0, sizeof tests[i]);
        tests[i].name = names[i];
        tests[i].test_func = run_job;
        tests[i].initial_state = &jobs[i];
    }
    cmocka_set_message_output(CM_OUTPUT_TAP);
    rc = _cmocka_run_group_tests("kernel_parity", tests, n, NULL, NULL);
    free_targets();
    free(model_bytes);
    return rc;
}
