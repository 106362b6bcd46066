/* supernav OpenCL platform: device choice, kernels, residency, profiling (see sn_opencl.h). */
#include "sn_opencl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CL/cl.h>

#include "sn_windex.h"

#define MAX_DEVICES 64
#define MAX_FLOW_QUEUES 8
#define DEFAULT_FLOW_QUEUES 4
#define ALIGN 64u                  /* bytes: every resident entry and device sub-range */
#define LANES 8                    /* output channels per work-item (the kernels' vectors) */
#define SLACK 64u                  /* bytes past an activation a vector load may touch */

/* the kernels' source, embedded at build time from sn_opencl_kernels.cl */
static const char kernel_source[] =
#include "sn_opencl_kernels.inc"
    ;

enum kernel_id {
    K_CONV_F32, K_DW_F32, K_CONV_S8, K_DW_S8,
    K_INPUT_F32, K_INPUT_S8, K_ADD_F32, K_ADD_S8, K_STITCH_F32, K_STITCH_S8,
    K_COUNT
};
static const char *const kernel_names[K_COUNT] = {
    "conv2d_f32", "depthwise_conv2d_f32", "conv2d_s8", "depthwise_conv2d_s8",
    "tile_input_f32", "tile_input_s8", "tile_add_f32", "tile_add_s8",
    "tile_stitch_f32", "tile_stitch_s8",
};

/* what an event measured */
enum { EV_KERNEL = 1, EV_WEIGHT = 2, EV_ACT = 3, EV_RESIDENT = 4, EV_COPY = 5, EV_KIND = 7, EV_FLOW = 8 };

/* Resident entries (platforms/common/sn_windex.h) keep their copy at an offset into the near
 * device buffer; int8 stays int8. */
typedef sn_wentry entry;

/* Where a call's weights are on the device. */
typedef struct wview {
    cl_mem buf;
    int32_t off, ld, tap;          /* elements: first, between inputs (dense) or taps
                                      (depthwise: ld), between taps (dense) */
    int dep;                       /* event index of the write the kernel waits on, or -1 */
} wview;

/* Slice residency (sn_opencl_set_resident): every convolution tensor of the model has a fixed
 * place in the slab, in the device layout of the whole tensor ([ky][kx][input][output padded
 * to LANES]; depthwise [ky][kx][channel]); only its resident box (leading ro x ri, centred
 * rk x rk crop) holds its weights, so a box grows or shrinks in place and a switch writes
 * only what the old box did not hold. */
typedef struct slab_tensor {
    size_t off;                    /* bytes into the slab */
    int32_t k, o, i, ld;           /* kernel side, outputs, inputs (depthwise 0), outputs padded;
                                      k 0: not a convolution kernel (never resident) */
    uint8_t dw, s8;
    int32_t ro, ri, rk;            /* the resident box; rk 0: none */
} slab_tensor;

struct sn_opencl {
    const sn_model *model;
    cl_context ctx;
    cl_device_id dev;
    cl_command_queue q;            /* out-of-order when the device has it */
    cl_command_queue fq[MAX_FLOW_QUEUES];
    int nfq, ooo;
    cl_program prog;
    cl_kernel k[K_COUNT];
    size_t k_wg[K_COUNT];          /* CL_KERNEL_WORK_GROUP_SIZE */
    char name[320], err[320];
    int residency;
    size_t budget, used;
    cl_mem near;                   /* the budget, a bump allocator */
    cl_mem far;                    /* one layer's packed weights */
    size_t far_cap;
    void *stage;                   /* host: one tensor's packed weights */
    size_t stage_cap;
    cl_mem in, out;                /* slot calls: input and vectors in one buffer, output */
    size_t in_cap, out_cap;
    void *io_stage;                /* host: a slot call's input and vectors, written at once */
    size_t io_stage_cap;
    sn_windex index;               /* resident copies and the model's tensor map */
    slab_tensor *slab_t;           /* per tensor of index.tensors */
    cl_mem slab;                   /* slice residency's near memory (allocated on first use) */
    size_t slab_bytes, slice_budget, slice_used;
    /* micro-flows */
    cl_mem canvas, stitched, flow_w, flow_v;
    size_t canvas_cap, stitched_cap, flow_w_cap, flow_v_cap;
    void *flow_wstage, *flow_vstage;
    size_t flow_wstage_cap, flow_vstage_cap;
    cl_mem tile[SN_PLAN_MAX_TILES][3];
    size_t tile_cap[SN_PLAN_MAX_TILES];
    /* the events of the current call */
    cl_event *ev;
    uint8_t *ev_kind;
    uint32_t nev, ev_cap;
    sn_opencl_stats stats;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }
static int32_t lanes_up(int32_t v) { return (v + LANES - 1) / LANES * LANES; }

static const char *cl_error_name(cl_int e)
{
    switch (e) {
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_QUEUE_PROPERTIES: return "CL_INVALID_QUEUE_PROPERTIES";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_EVENT_WAIT_LIST: return "CL_INVALID_EVENT_WAIT_LIST";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL error";
    }
}

/* Records a device error; returns the status a user sees. */
static sn_status fail_cl(sn_opencl *c, const char *what, cl_int e)
{
    snprintf(c->err, sizeof c->err, "%s: %s (%d)", what, cl_error_name(e), (int)e);
    return e == CL_OUT_OF_HOST_MEMORY || e == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                   e == CL_OUT_OF_RESOURCES
               ? SN_ERR_NO_MEMORY
               : SN_ERR_IO;
}

/* ---- devices ------------------------------------------------------------------------- */
typedef struct dev_ref {
    cl_platform_id platform;
    cl_device_id device;
    cl_device_type type;
    char name[320];
} dev_ref;

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

static int enumerate(dev_ref *out, int max)
{
    cl_platform_id plats[16];
    cl_uint np = 0, i;
    int n = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS)
        return 0;
    if (np > 16)
        np = 16;
    for (i = 0; i < np; ++i) {
        cl_device_id devs[32];
        cl_uint nd = 0, j;
        char pname[128] = "";
        clGetPlatformInfo(plats[i], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        trim(pname);
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 32, devs, &nd) != CL_SUCCESS)
            continue;
        if (nd > 32)
            nd = 32;
        for (j = 0; j < nd && n < max; ++j) {
            char dname[160] = "";
            clGetDeviceInfo(devs[j], CL_DEVICE_NAME, sizeof dname - 1, dname, NULL);
            trim(dname);
            out[n].platform = plats[i];
            out[n].device = devs[j];
            out[n].type = 0;
            clGetDeviceInfo(devs[j], CL_DEVICE_TYPE, sizeof out[n].type, &out[n].type, NULL);
            snprintf(out[n].name, sizeof out[n].name, "%s / %s", pname, dname);
            ++n;
        }
    }
    return n;
}

static const char *type_name(cl_device_type t)
{
    return (t & CL_DEVICE_TYPE_GPU) ? "GPU" : (t & CL_DEVICE_TYPE_CPU) ? "CPU"
         : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator" : "other";
}

int sn_opencl_list(char *buf, size_t n)
{
    dev_ref d[MAX_DEVICES];
    int count = enumerate(d, MAX_DEVICES), i;
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (i = 0; i < count && used < n; ++i) {
        int w = snprintf(buf + used, n - used, "%d: %s (%s)\n", i, d[i].name, type_name(d[i].type));
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return count;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t i, j, n = strlen(needle);
    if (n == 0)
        return 1;
    for (i = 0; hay[i]; ++i) {
        for (j = 0; j < n && hay[i + j]; ++j)
            if (tolower((unsigned char)hay[i + j]) != tolower((unsigned char)needle[j]))
                break;
        if (j == n)
            return 1;
    }
    return 0;
}

/* ---- creation ------------------------------------------------------------------------ */
void sn_opencl_options_default(sn_opencl_options *o)
{
    o->device = NULL;
    o->near_budget_bytes = SIZE_MAX;
    o->residency = SN_OPENCL_RESIDENT_ON_USE;
    o->flow_queues = 0;
}

/* Packed bytes of every entry a tensor can give (dense: all of it; depthwise [k][k][C]:
 * every odd centred crop), outputs padded to LANES, each rounded to ALIGN. */
static size_t packed_tensor_bytes(const sn_wtensor *t, size_t elem)
{
    if (t->ndim == 4)
        return round_up((size_t)lanes_up((int32_t)t->dims[0]) * t->dims[1] * t->dims[2] * t->dims[3] * elem,
                        ALIGN);
    if (t->ndim == 3 && t->dims[0] == t->dims[1]) {
        size_t sum = 0, k;
        for (k = 1; k <= t->dims[0]; k += 2)
            sum += round_up(k * k * (size_t)lanes_up((int32_t)t->dims[2]) * elem, ALIGN);
        return sum;
    }
    return 0;
}

/* Each convolution tensor's shape and place in the slab (slab_tensor). Returns 0, or -1 out
 * of memory. */
static int slab_shapes(sn_opencl *c)
{
    uint32_t t, nt = c->index.tensor_count;
    c->slab_t = calloc(nt ? nt : 1, sizeof *c->slab_t);
    if (!c->slab_t)
        return -1;
    for (t = 0; t < nt; ++t) {
        const sn_wtensor *w = &c->index.tensors[t];
        slab_tensor *s = &c->slab_t[t];
        if (!sn_wtensor_conv_shape(w, &s->k, &s->o, &s->i, &s->dw))
            continue; /* k 0 (calloc): not a convolution kernel */
        s->s8 = w->dtype == SN_DTYPE_S8;
        s->ld = lanes_up(s->o);
        s->off = c->slab_bytes;
        c->slab_bytes += round_up((size_t)s->k * (size_t)s->k * (size_t)(s->dw ? 1 : s->i) * (size_t)s->ld *
                                      (s->s8 ? 1u : 4u),
                                  ALIGN);
    }
    return 0;
}

static cl_mem make_buffer(sn_opencl *c, size_t bytes, cl_mem_flags flags, cl_int *e)
{
    return clCreateBuffer(c->ctx, flags, bytes ? bytes : ALIGN, NULL, e);
}

/* Grows *BUF to at least NEED bytes (nothing may be in flight on it). */
static sn_status ensure(sn_opencl *c, cl_mem *buf, size_t *cap, size_t need, cl_mem_flags flags)
{
    cl_int e;
    size_t want;
    if (*buf && *cap >= need)
        return SN_OK;
    want = round_up(need > *cap * 2 ? need : *cap * 2, 4096);
    if (*buf)
        clReleaseMemObject(*buf);
    *buf = make_buffer(c, want, flags, &e);
    if (!*buf) {
        *cap = 0;
        return fail_cl(c, "clCreateBuffer", e);
    }
    *cap = want;
    return SN_OK;
}

static int ensure_host(void **p, size_t *cap, size_t need)
{
    void *q;
    if (*cap >= need && *p)
        return 0;
    need = round_up(need > *cap * 2 ? need : *cap * 2, 4096);
    q = realloc(*p, need);
    if (!q)
        return -1;
    *p = q;
    *cap = need;
    return 0;
}

/* The widest grid a launch may have (every grid here is far smaller). */
#define WARM_GRID ((size_t)1 << 20)

/* Launches every kernel once over WARM_GRID work-items that return at once, and waits. For
 * PoCL's CPU devices: PoCL caches one compiled work-group function per kernel, work-group
 * shape and largest grid seen so far, looks a command's function up with "grid no wider
 * than the cached one" but releases it by kernel and shape alone; when a wider grid arrives
 * while commands are in flight (micro-flows), a release can hit the wrong entry and PoCL
 * aborts (pocl_release_dlhandle_cache: `found->ref_count > 0`, seen with PoCL 3.1 and 5.0).
 * After one launch at the widest grid, every later launch shares that one entry. Cheap on
 * any device. */
static sn_status warm_kernels(sn_opencl *c)
{
    cl_int4 zero4 = {{0, 0, 0, 0}}, flat4 = {{0, 1, 1, 1}};
    cl_int2 zero2 = {{0, 0}};
    cl_int izero = 0;
    cl_float fzero = 0.0f;
    int k;
    cl_int e = CL_SUCCESS;
    for (k = 0; k < K_COUNT && e == CL_SUCCESS; ++k) {
        cl_kernel kk = c->k[k];
        size_t global[2], local[2];
        cl_uint dims = 1, a;
        cl_event ev = NULL;
        if (k <= K_DW_S8) {
            for (a = 0; a < 4; ++a)
                e |= clSetKernelArg(kk, a, sizeof c->far, &c->far);
            for (a = 4; a < 8; ++a) /* out_c 0: every work-item returns */
                e |= clSetKernelArg(kk, a, sizeof zero4, &zero4);
            e |= clSetKernelArg(kk, 8, sizeof izero, &izero);
            if (k == K_CONV_S8 || k == K_DW_S8) {
                e |= clSetKernelArg(kk, 9, sizeof zero4, &zero4);
            } else {
                e |= clSetKernelArg(kk, 9, sizeof izero, &izero);
                e |= clSetKernelArg(kk, 10, sizeof fzero, &fzero);
                e |= clSetKernelArg(kk, 11, sizeof fzero, &fzero);
            }
            local[0] = 1;
            local[1] = c->k_wg[k] < 64 ? c->k_wg[k] : 64;
            global[0] = 1;
            global[1] = WARM_GRID;
            dims = 2;
        } else {
            local[0] = c->k_wg[k] < 64 ? c->k_wg[k] : 64;
            global[0] = WARM_GRID;
            if (k == K_INPUT_F32 || k == K_INPUT_S8) { /* rows 0 */
                e |= clSetKernelArg(kk, 0, sizeof c->far, &c->far);
                e |= clSetKernelArg(kk, 1, sizeof izero, &izero);
                e |= clSetKernelArg(kk, 2, sizeof flat4, &flat4);
                e |= clSetKernelArg(kk, 3, sizeof c->far, &c->far);
            } else { /* OH 0 */
                e |= clSetKernelArg(kk, 0, sizeof c->far, &c->far);
                e |= clSetKernelArg(kk, 1, sizeof c->far, &c->far);
                e |= clSetKernelArg(kk, 2, sizeof flat4, &flat4);
                if (k == K_ADD_F32 || k == K_ADD_S8)
                    e |= clSetKernelArg(kk, 3, sizeof zero2, &zero2);
                else
                    e |= clSetKernelArg(kk, 3, sizeof zero4, &zero4);
                if (k == K_ADD_S8)
                    for (a = 4; a < 7; ++a)
                        e |= clSetKernelArg(kk, a, sizeof zero4, &zero4);
            }
        }
        if (e == CL_SUCCESS)
            e = clEnqueueNDRangeKernel(c->q, kk, dims, NULL, global, local, 0, NULL, &ev);
        if (e == CL_SUCCESS) {
            e = clWaitForEvents(1, &ev);
            clReleaseEvent(ev);
        }
        if (e != CL_SUCCESS)
            return fail_cl(c, kernel_names[k], e);
    }
    return SN_OK;
}

/* the caller's buffer for sn_opencl_create's one line */
typedef struct why_buf {
    char *text;
    size_t bytes;
} why_buf;

static sn_status refuse(sn_opencl *c, const why_buf *why, sn_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sn_status refuse(sn_opencl *c, const why_buf *why, sn_status st, const char *fmt, ...)
{
    va_list ap;
    if (why->text && why->bytes) {
        va_start(ap, fmt);
        vsnprintf(why->text, why->bytes, fmt, ap);
        va_end(ap);
    }
    sn_opencl_destroy(c);
    return st;
}

sn_status sn_opencl_create(const sn_model *model, const sn_opencl_options *options,
                           sn_opencl **out, char *why_text, size_t why_bytes)
{
    const why_buf why_store = {why_text, why_bytes}, *why = &why_store;
    sn_opencl_options def;
    sn_opencl *c;
    dev_ref d[MAX_DEVICES];
    int count, pick = -1, i;
    const char *want;
    cl_int e;
    cl_command_queue_properties qprops = 0;
    size_t whole = 0, biggest = 0;
    cl_ulong max_alloc = 0;
    uint32_t t;
    const char *src = kernel_source;

    *out = NULL;
    if (!options) {
        sn_opencl_options_default(&def);
        options = &def;
    }
    want = options->device;
    if (!want || !*want)
        want = getenv("SUPERNAV_OPENCL_DEVICE");
    count = enumerate(d, MAX_DEVICES);
    if (count == 0)
        return refuse(NULL, why, SN_ERR_NO_DEVICE,
                      "no OpenCL platform or device found (the ICD loader lists none; install "
                      "an ICD such as pocl-opencl-icd, or a GPU vendor's driver)");
    if (want && *want) {
        char *end;
        long idx = strtol(want, &end, 10);
        if (*end == '\0') {
            if (idx < 0 || idx >= count)
                return refuse(NULL, why, SN_ERR_NO_DEVICE, "OpenCL device %ld does not exist (%d device%s: 0..%d)",
                              idx, count, count == 1 ? "" : "s", count - 1);
            pick = (int)idx;
        } else {
            for (i = 0; i < count && pick < 0; ++i)
                if (contains_nocase(d[i].name, want))
                    pick = i;
            if (pick < 0)
                return refuse(NULL, why, SN_ERR_NO_DEVICE, "no OpenCL device matches '%s' (first: %s)",
                              want, d[0].name);
        }
    } else {
        for (i = 0; i < count && pick < 0; ++i)
            if (d[i].type & CL_DEVICE_TYPE_GPU)
                pick = i;
        if (pick < 0)
            pick = 0;
    }

    c = calloc(1, sizeof *c);
    if (!c)
        return refuse(NULL, why, SN_ERR_NO_MEMORY, "out of memory");
    c->model = model;
    c->dev = d[pick].device;
    c->residency = options->residency;
    snprintf(c->name, sizeof c->name, "%s", d[pick].name);
    {
        cl_context_properties props[3];
        props[0] = CL_CONTEXT_PLATFORM;
        props[1] = (cl_context_properties)d[pick].platform;
        props[2] = 0;
        c->ctx = clCreateContext(props, 1, &c->dev, NULL, NULL, &e);
        if (!c->ctx)
            return refuse(c, why, SN_ERR_NO_DEVICE, "%s: clCreateContext: %s", d[pick].name, cl_error_name(e));
    }
    clGetDeviceInfo(c->dev, CL_DEVICE_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) {
        c->q = clCreateCommandQueue(c->ctx, c->dev,
                                    CL_QUEUE_PROFILING_ENABLE | CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &e);
        c->ooo = c->q != NULL;
    }
    if (!c->q)
        c->q = clCreateCommandQueue(c->ctx, c->dev, CL_QUEUE_PROFILING_ENABLE, &e);
    if (!c->q)
        return refuse(c, why, SN_ERR_NO_DEVICE, "%s: clCreateCommandQueue: %s", c->name, cl_error_name(e));
    if (options->flow_queues > 0 || !c->ooo) {
        int want_q = options->flow_queues > 0 ? options->flow_queues : DEFAULT_FLOW_QUEUES;
        if (want_q > MAX_FLOW_QUEUES)
            want_q = MAX_FLOW_QUEUES;
        for (i = 0; i < want_q; ++i) {
            c->fq[i] = clCreateCommandQueue(c->ctx, c->dev, CL_QUEUE_PROFILING_ENABLE, &e);
            if (!c->fq[i])
                return refuse(c, why, SN_ERR_NO_DEVICE, "%s: clCreateCommandQueue: %s", c->name, cl_error_name(e));
            c->nfq = i + 1;
        }
    }
    c->prog = clCreateProgramWithSource(c->ctx, 1, &src, NULL, &e);
    if (!c->prog)
        return refuse(c, why, SN_ERR_IO, "%s: clCreateProgramWithSource: %s", c->name, cl_error_name(e));
    e = clBuildProgram(c->prog, 1, &c->dev, "-cl-std=CL1.2", NULL, NULL);
    if (e != CL_SUCCESS) {
        char log[384] = "";
        clGetProgramBuildInfo(c->prog, c->dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        for (i = 0; log[i]; ++i)
            if (log[i] == '\n')
                log[i] = ' ';
        return refuse(c, why, SN_ERR_UNSUPPORTED, "%s: the kernels do not build (%s): %s", c->name,
                      cl_error_name(e), log);
    }
    for (i = 0; i < K_COUNT; ++i) {
        c->k[i] = clCreateKernel(c->prog, kernel_names[i], &e);
        if (!c->k[i])
            return refuse(c, why, SN_ERR_IO, "%s: clCreateKernel %s: %s", c->name, kernel_names[i], cl_error_name(e));
        c->k_wg[i] = 1;
        clGetKernelWorkGroupInfo(c->k[i], c->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof c->k_wg[i], &c->k_wg[i], NULL);
        if (c->k_wg[i] < 1)
            c->k_wg[i] = 1;
    }

    /* the model's tensors: address ranges (for residency of whole tensors) and sizes */
    if (sn_windex_init(&c->index, model) != 0)
        return refuse(c, why, SN_ERR_NO_MEMORY, "out of memory");
    for (t = 0; t < c->index.tensor_count; ++t) {
        const sn_wtensor *ts = &c->index.tensors[t];
        size_t b;
        if (ts->dtype != SN_DTYPE_F32 && ts->dtype != SN_DTYPE_S8)
            continue;
        b = packed_tensor_bytes(ts, ts->dtype == SN_DTYPE_S8 ? 1 : 4);
        whole += b;
        if (b > biggest)
            biggest = b;
    }
    if (slab_shapes(c) != 0)
        return refuse(c, why, SN_ERR_NO_MEMORY, "out of memory");
    c->slice_budget = options->near_budget_bytes;
    clGetDeviceInfo(c->dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    c->budget = options->near_budget_bytes < whole ? options->near_budget_bytes : whole;
    if (max_alloc && c->budget > max_alloc)
        c->budget = (size_t)max_alloc;
    c->budget &= ~(size_t)(ALIGN - 1);
    if (c->budget) {
        c->near = make_buffer(c, c->budget, CL_MEM_READ_ONLY, &e);
        if (!c->near)
            return refuse(c, why, SN_ERR_NO_MEMORY, "%s: near memory of %zu bytes: %s", c->name, c->budget,
                          cl_error_name(e));
    }
    if (ensure(c, &c->far, &c->far_cap, biggest, CL_MEM_READ_ONLY) != SN_OK ||
        ensure_host(&c->stage, &c->stage_cap, biggest ? biggest : ALIGN) != 0)
        return refuse(c, why, SN_ERR_NO_MEMORY, "%s: out of memory (%s)", c->name, c->err);
    if (warm_kernels(c) != SN_OK)
        return refuse(c, why, SN_ERR_IO, "%s: %s", c->name, c->err);
    *out = c;
    return SN_OK;
}

void sn_opencl_destroy(sn_opencl *c)
{
    int i;
    uint32_t t;
    if (!c)
        return;
    if (c->q)
        clFinish(c->q);
    for (i = 0; i < c->nfq; ++i)
        if (c->fq[i]) {
            clFinish(c->fq[i]);
            clReleaseCommandQueue(c->fq[i]);
        }
    for (t = 0; t < c->nev; ++t)
        clReleaseEvent(c->ev[t]);
    for (t = 0; t < SN_PLAN_MAX_TILES; ++t)
        for (i = 0; i < 3; ++i)
            if (c->tile[t][i])
                clReleaseMemObject(c->tile[t][i]);
    {
        cl_mem *bufs[] = {&c->slab, &c->near, &c->far, &c->in, &c->out, &c->canvas, &c->stitched, &c->flow_w, &c->flow_v};
        size_t b;
        for (b = 0; b < sizeof bufs / sizeof *bufs; ++b)
            if (*bufs[b])
                clReleaseMemObject(*bufs[b]);
    }
    for (i = 0; i < K_COUNT; ++i)
        if (c->k[i])
            clReleaseKernel(c->k[i]);
    if (c->prog)
        clReleaseProgram(c->prog);
    if (c->q)
        clReleaseCommandQueue(c->q);
    if (c->ctx)
        clReleaseContext(c->ctx);
    free(c->ev);
    free(c->ev_kind);
    free(c->stage);
    free(c->io_stage);
    free(c->flow_wstage);
    free(c->flow_vstage);
    sn_windex_free(&c->index);
    free(c->slab_t);
    free(c);
}

const char *sn_opencl_device_name(const sn_opencl *c) { return c->name; }
int sn_opencl_out_of_order(const sn_opencl *c) { return c->ooo && c->nfq == 0; }
const char *sn_opencl_last_error(const sn_opencl *c) { return c->err; }
size_t sn_opencl_near_used(const sn_opencl *c) { return c->used + c->slice_used; }
size_t sn_opencl_near_budget(const sn_opencl *c) { return c->budget; }
void sn_opencl_stats_get(const sn_opencl *c, sn_opencl_stats *s) { *s = c->stats; }
void sn_opencl_stats_reset(sn_opencl *c) { memset(&c->stats, 0, sizeof c->stats); }

void sn_opencl_evict_all(sn_opencl *c)
{
    uint32_t t;
    sn_windex_clear(&c->index);
    c->used = 0;
    for (t = 0; c->slab_t && t < c->index.tensor_count; ++t)
        c->slab_t[t].ro = c->slab_t[t].ri = c->slab_t[t].rk = 0;
    c->slice_used = 0;
}

/* ---- events -------------------------------------------------------------------------- */
static int ev_reserve(sn_opencl *c, uint32_t more)
{
    uint32_t need = c->nev + more;
    cl_event *e;
    uint8_t *k;
    if (need <= c->ev_cap)
        return 0;
    need = need < 2 * c->ev_cap ? 2 * c->ev_cap : need;
    e = realloc(c->ev, need * sizeof *e);
    if (!e)
        return -1;
    c->ev = e;
    k = realloc(c->ev_kind, need);
    if (!k)
        return -1;
    c->ev_kind = k;
    c->ev_cap = need;
    return 0;
}

/* A slot for the next event (ev_reserve made room); returns its index. */
static uint32_t ev_push(sn_opencl *c, int kind)
{
    c->ev_kind[c->nev] = (uint8_t)kind;
    c->ev[c->nev] = NULL;
    return c->nev++;
}

/* Reads the profiling counters of every event of the call into the stats and releases the
 * events. CALL: count the call's device span (first QUEUED .. last END). */
static void harvest(sn_opencl *c, int call)
{
    cl_ulong first_q = ~(cl_ulong)0, last_end = 0, flow_first = ~(cl_ulong)0, flow_last = 0;
    uint32_t i;
    int flows = 0;
    for (i = 0; i < c->nev; ++i) {
        cl_ulong tq = 0, ts = 0, t0 = 0, t1 = 0, dur;
        if (!c->ev[i])
            continue;
        clGetEventProfilingInfo(c->ev[i], CL_PROFILING_COMMAND_QUEUED, sizeof tq, &tq, NULL);
        clGetEventProfilingInfo(c->ev[i], CL_PROFILING_COMMAND_SUBMIT, sizeof ts, &ts, NULL);
        clGetEventProfilingInfo(c->ev[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        clGetEventProfilingInfo(c->ev[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        clReleaseEvent(c->ev[i]);
        c->ev[i] = NULL;
        dur = t1 > t0 ? t1 - t0 : 0;
        switch (c->ev_kind[i] & EV_KIND) {
        case EV_KERNEL: c->stats.kernel_ns += dur; break;
        case EV_WEIGHT: c->stats.weight_write_ns += dur; break;
        case EV_ACT: c->stats.act_transfer_ns += dur; break;
        case EV_COPY: c->stats.near_copy_ns += dur; break;
        default: c->stats.resident_write_ns += dur; break;
        }
        if ((c->ev_kind[i] & EV_KIND) != EV_RESIDENT) {
            c->stats.queued_ns += ts > tq ? ts - tq : 0;
            c->stats.submit_ns += t0 > ts ? t0 - ts : 0;
            if (tq && tq < first_q)
                first_q = tq;
            if (t1 > last_end)
                last_end = t1;
        }
        if (c->ev_kind[i] & EV_FLOW) {
            flows = 1;
            c->stats.flow_commands_ns += dur;
            if (t0 && t0 < flow_first)
                flow_first = t0;
            if (t1 > flow_last)
                flow_last = t1;
        }
    }
    c->nev = 0;
    if (call && last_end > first_q && first_q != ~(cl_ulong)0)
        c->stats.device_ns += last_end - first_q;
    if (flows && flow_last > flow_first)
        c->stats.flow_span_ns += flow_last - flow_first;
}

/* Drops the call's events after an error (waits for what was enqueued). */
static void abandon(sn_opencl *c)
{
    int i;
    uint32_t k;
    clFinish(c->q);
    for (i = 0; i < c->nfq; ++i)
        clFinish(c->fq[i]);
    for (k = 0; k < c->nev; ++k)
        if (c->ev[k])
            clReleaseEvent(c->ev[k]);
    c->nev = 0;
}

/* Non-blocking write of BYTES at OFFSET, after WAIT (count NW); returns the event index or
 * -1 with c->err set. */
static int write_buf(sn_opencl *c, cl_command_queue q, cl_mem buf, size_t offset, size_t bytes,
                     const void *src, int kind, cl_uint nw, const cl_event *wait)
{
    uint32_t i = ev_push(c, kind);
    cl_int e = clEnqueueWriteBuffer(q, buf, CL_FALSE, offset, bytes, src, nw, nw ? wait : NULL, &c->ev[i]);
    if (e != CL_SUCCESS) {
        c->ev[i] = NULL;
        fail_cl(c, "clEnqueueWriteBuffer", e);
        return -1;
    }
    return (int)i;
}

static int run_kernel(sn_opencl *c, cl_command_queue q, int k, cl_uint dims, const size_t *global,
                      const size_t *local, int kind, cl_uint nw, const cl_event *wait)
{
    uint32_t i = ev_push(c, kind);
    cl_int e = clEnqueueNDRangeKernel(q, c->k[k], dims, NULL, global, local, nw, nw ? wait : NULL, &c->ev[i]);
    if (e != CL_SUCCESS) {
        c->ev[i] = NULL;
        fail_cl(c, kernel_names[k], e);
        return -1;
    }
    c->stats.kernels++;
    return (int)i;
}

/* ---- weights: packing and residency --------------------------------------------------- */
/* Weight bytes of a view as the model stores them (the near/far accounting, as on the CPU). */
static size_t view_bytes(const sn_conv2d_params *p, int dw, int s8, int32_t o_n, int32_t i_n)
{
    return (size_t)p->kernel_h * (size_t)p->kernel_w * (size_t)o_n * (size_t)(dw ? 1 : i_n) * (s8 ? 1u : 4u);
}

/* Bytes of the packed device layout (outputs padded to LANES). */
static size_t packed_bytes(const sn_conv2d_params *p, int dw, int s8, int32_t o_n, int32_t i_n)
{
    return view_bytes(p, dw, s8, lanes_up(o_n), i_n);
}

/* The (o_n, i_n) leading slice of a dense view as [tap][i][o] (o contiguous), or the o_n
 * channels of a depthwise view as [tap][c]; outputs zero-padded to a multiple of LANES; int8
 * stays int8. Returns the bytes written. */
static size_t pack(const sn_conv2d_params *p, const void *w, int dw, int s8, int32_t o_n, int32_t i_n,
                   void *dst)
{
    int32_t t, i, o, taps = p->kernel_h * p->kernel_w, ld = lanes_up(o_n), rows = dw ? 1 : i_n;
    size_t elem = s8 ? 1u : 4u, at = 0;
    for (t = 0; t < taps; ++t) {
        int32_t ky = t / p->kernel_w, kx = t % p->kernel_w;
        size_t base = (size_t)(ky * p->w_stride_kh) + (size_t)(kx * p->w_stride_kw);
        for (i = 0; i < rows; ++i, at += (size_t)ld) {
            if (dw) {
                memcpy((char *)dst + at * elem, (const char *)w + base * elem, (size_t)o_n * elem);
            } else if (s8) {
                for (o = 0; o < o_n; ++o)
                    ((int8_t *)dst)[at + (size_t)o] = ((const int8_t *)w)[(size_t)o * (size_t)p->w_stride_out + base + (size_t)i];
            } else {
                for (o = 0; o < o_n; ++o)
                    ((float *)dst)[at + (size_t)o] = ((const float *)w)[(size_t)o * (size_t)p->w_stride_out + base + (size_t)i];
            }
            memset((char *)dst + (at + (size_t)o_n) * elem, 0, (size_t)(ld - o_n) * elem);
        }
    }
    return at * elem;
}

/* Makes the (o_n, i_n) slice of a view resident (or widens it): packs it and writes it into
 * near memory, waiting for the write. NULL when the budget is exhausted or the write fails. */
static entry *make_entry(sn_opencl *c, const void *w, int dw, int s8, const sn_conv2d_params *p,
                         int32_t o_n, int32_t i_n)
{
    entry *e = sn_windex_slot(&c->index, w, dw, p);
    size_t bytes = packed_bytes(p, dw, s8, o_n, i_n), packed;
    int ix;
    if (!e)
        return NULL;
    if (sn_wentry_covers(e, o_n, i_n))
        return e;
    if (!c->near || c->used + round_up(bytes, ALIGN) > c->budget || bytes > c->stage_cap ||
        ev_reserve(c, 1) != 0)
        return NULL;
    packed = pack(p, w, dw, s8, o_n, dw ? 0 : i_n, c->stage);
    ix = write_buf(c, c->q, c->near, c->used, packed, c->stage, EV_RESIDENT, 0, NULL);
    if (ix < 0 || clWaitForEvents(1, &c->ev[ix]) != CL_SUCCESS)
        return NULL;
    sn_wentry_set(e, w, dw, s8, p, o_n, i_n);
    e->offset = c->used;
    c->used += round_up(bytes, ALIGN);
    c->stats.resident_write_bytes += packed;
    return e;
}

static void view_of(const entry *e, int dw, int s8, cl_mem near, wview *v)
{
    int32_t elem = s8 ? 1 : 4;
    v->buf = near;
    v->off = (int32_t)(e->offset / (size_t)elem);
    v->ld = lanes_up(e->o_res);
    v->tap = dw ? v->ld : v->ld * e->i_res;
    v->dep = -1;
}

static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

/* The slab tensor that view W (geometry P) reads and its crop's first tap (y0 * k + x0) in
 * *TAP0; returns the leading output channels of the view its resident box serves (the box's
 * crop must hold the view's crop and, dense, its inputs every input of the view: the rule of
 * harness/sn_slices.c sn_slices_serves_bytes), 0 when none. */
static int32_t slab_served(const sn_opencl *c, const void *w, int dw, int s8, const sn_conv2d_params *p,
                           const slab_tensor **tp, int32_t *tap0)
{
    const sn_wtensor *wt = sn_windex_tensor_of(&c->index, w);
    const slab_tensor *t;
    size_t elem = s8 ? 1u : 4u, off;
    int32_t y0, x0, r0;
    if (!wt || !c->slab_t)
        return 0;
    t = &c->slab_t[wt - c->index.tensors];
    if (!t->k || t->rk <= 0 || t->ro <= 0 || t->dw != dw || t->s8 != s8 ||
        (size_t)((const char *)w - wt->lo) % elem)
        return 0;
    off = (size_t)((const char *)w - wt->lo) / elem;
    if (p->out_c > t->o || off % (size_t)(dw ? t->o : t->i) || p->w_stride_kw != (dw ? t->o : t->i) ||
        p->w_stride_kh != t->k * p->w_stride_kw || (!dw && (p->in_c > t->i || p->w_stride_out != t->k * t->k * t->i)))
        return 0;
    off /= (size_t)(dw ? t->o : t->i);
    y0 = (int32_t)(off / (size_t)t->k);
    x0 = (int32_t)(off % (size_t)t->k);
    r0 = (t->k - t->rk) / 2;
    if (y0 < r0 || x0 < r0 || y0 + p->kernel_h > r0 + t->rk || x0 + p->kernel_w > r0 + t->rk ||
        (!dw && t->ri < p->in_c))
        return 0;
    *tp = t;
    *tap0 = y0 * t->k + x0;
    return min32(t->ro, p->out_c);
}

/* One rectangle copy from the slab into DST (elements of ELEM bytes): REGION[0] elements x
 * REGION[1] rows x REGION[2] slices, after the event PREV (-1: none). Returns its event. */
static int copy_rect(sn_opencl *c, cl_command_queue q, cl_mem dst, size_t src_at, size_t dst_at,
                     const size_t region[3], size_t src_row, size_t src_slice, size_t dst_row,
                     size_t dst_slice, int prev)
{
    size_t so[3] = {src_at, 0, 0}, d[3] = {dst_at, 0, 0};
    uint32_t i = ev_push(c, EV_COPY);
    cl_event w = prev >= 0 ? c->ev[prev] : NULL;
    cl_int e = clEnqueueCopyBufferRect(q, c->slab, dst, so, d, region, src_row, src_slice, dst_row, dst_slice,
                                       prev >= 0 ? 1 : 0, prev >= 0 ? &w : NULL, &c->ev[i]);
    if (e != CL_SUCCESS) {
        c->ev[i] = NULL;
        fail_cl(c, "clEnqueueCopyBufferRect", e);
        return -1;
    }
    c->stats.near_copy_bytes += region[0] * region[1] * region[2];
    return (int)i;
}

/* A view the slab serves O_NEAR leading output channels of: all of them with a crop the
 * kernels can stride through (the whole kernel width, or one tap) is read in place; else the
 * layer is assembled in FAR_BUF at FAR_OFF: its served part copied on the device from the
 * slab, the rest packed into STAGE and written from host memory. Near bytes: the served
 * part; far bytes: the rest. */
static sn_status slab_resolve(sn_opencl *c, const sn_conv2d_params *p, const void *w, int dw, int s8,
                              const slab_tensor *t, int32_t tap0, int32_t o_near, cl_command_queue q,
                              cl_mem far_buf, size_t far_off, void *stage, wview *v)
{
    const size_t elem = s8 ? 1u : 4u;
    const int32_t i_n = dw ? 0 : p->in_c, rows = dw ? 1 : p->in_c, rows_t = dw ? 1 : t->i;
    const int32_t ld = lanes_up(p->out_c), taps = p->kernel_h * p->kernel_w;
    const size_t src = t->off + (size_t)tap0 * (size_t)rows_t * (size_t)t->ld * elem;
    size_t all = view_bytes(p, dw, s8, p->out_c, i_n), near = view_bytes(p, dw, s8, o_near, i_n);
    int32_t ky;
    int prev = -1;
    c->stats.near_bytes += near;
    c->stats.far_bytes += all - near;
    if (o_near == p->out_c && (p->kernel_w == t->k || taps == 1)) {
        c->stats.layers_near++;
        v->buf = c->slab;
        v->off = (int32_t)(src / elem);
        v->ld = t->ld;
        v->tap = dw ? t->ld : t->ld * t->i;
        v->dep = -1;
        return SN_OK;
    }
    if (o_near == p->out_c)
        c->stats.layers_near++;
    else
        c->stats.layers_far++;
    /* the callers reserve room for these kernel_h + 1 commands (resolve_cmds) */
    if (ev_reserve(c, (uint32_t)p->kernel_h + 1u) != 0)
        return SN_ERR_NO_MEMORY;
    for (ky = 0; ky < p->kernel_h; ++ky) { /* one kernel row: its taps x inputs x served outputs */
        size_t region[3];
        region[0] = (size_t)(o_near == p->out_c ? ld : o_near) * elem;
        region[1] = (size_t)rows;
        region[2] = (size_t)p->kernel_w;
        prev = copy_rect(c, q, far_buf, src + (size_t)ky * (size_t)t->k * (size_t)rows_t * (size_t)t->ld * elem,
                         far_off + (size_t)ky * (size_t)p->kernel_w * (size_t)rows * (size_t)ld * elem, region,
                         (size_t)t->ld * elem, (size_t)rows_t * (size_t)t->ld * elem, (size_t)ld * elem,
                         (size_t)rows * (size_t)ld * elem, prev);
        if (prev < 0)
            return SN_ERR_IO;
    }
    if (o_near < p->out_c) { /* the outputs past the served ones (and the padding), from host memory */
        size_t bo[3] = {far_off + (size_t)o_near * elem, 0, 0}, ho[3] = {(size_t)o_near * elem, 0, 0}, region[3];
        uint32_t i = ev_push(c, EV_WEIGHT);
        cl_event wprev = c->ev[prev];
        cl_int e;
        region[0] = (size_t)(ld - o_near) * elem;
        region[1] = (size_t)taps * (size_t)rows;
        region[2] = 1;
        pack(p, w, dw, s8, p->out_c, i_n, stage);
        e = clEnqueueWriteBufferRect(q, far_buf, CL_FALSE, bo, ho, region, (size_t)ld * elem, 0, (size_t)ld * elem, 0,
                                     stage, 1, &wprev, &c->ev[i]);
        if (e != CL_SUCCESS) {
            c->ev[i] = NULL;
            fail_cl(c, "clEnqueueWriteBufferRect", e);
            return SN_ERR_IO;
        }
        c->stats.weight_write_bytes += region[0] * region[1];
        prev = (int)i;
    }
    v->buf = far_buf;
    v->off = (int32_t)(far_off / elem);
    v->ld = ld;
    v->tap = dw ? ld : ld * rows;
    v->dep = prev;
    return SN_OK;
}

/* The commands resolve may enqueue for a layer of geometry P (a slab copy per kernel row
 * and a write), which its callers reserve with ev_reserve beside their own. */
static uint32_t resolve_cmds(const sn_conv2d_params *p)
{
    return (uint32_t)p->kernel_h + 1u;
}

/* Near when resident (or made resident now by the on-use policy); else far: packed into
 * STAGE and written to FAR_BUF at FAR_OFF on queue Q. Counts the weight bytes. */
static sn_status resolve(sn_opencl *c, const sn_conv2d_params *p, const void *w, int dw, int s8,
                         cl_command_queue q, cl_mem far_buf, size_t far_off, void *stage, wview *v)
{
    int32_t o_n = p->out_c, i_n = dw ? 0 : p->in_c;
    size_t bytes = view_bytes(p, dw, s8, o_n, i_n);
    entry *e = sn_windex_slot(&c->index, w, dw, p);
    int ix;
    const slab_tensor *st = NULL;
    int32_t tap0 = 0, o_near;
    if (c->slice_used && (o_near = slab_served(c, w, dw, s8, p, &st, &tap0)) > 0)
        return slab_resolve(c, p, w, dw, s8, st, tap0, o_near, q, far_buf, far_off, stage, v);
    if (sn_wentry_covers(e, o_n, i_n)) {
        c->stats.near_bytes += bytes;
        c->stats.layers_near++;
        view_of(e, dw, s8, c->near, v);
        return SN_OK;
    }
    c->stats.far_bytes += bytes;
    c->stats.layers_far++;
    if (c->residency == SN_OPENCL_RESIDENT_ON_USE) {
        int32_t of, inf;
        sn_windex_on_use_extent(&c->index, w, dw, p, &of, &inf);
        e = make_entry(c, w, dw, s8, p, of, inf);
        if (e) {
            view_of(e, dw, s8, c->near, v);
            return SN_OK;
        }
    }
    bytes = pack(p, w, dw, s8, o_n, i_n, stage);
    ix = write_buf(c, q, far_buf, far_off, bytes, stage, EV_WEIGHT, 0, NULL);
    if (ix < 0)
        return SN_ERR_IO;
    c->stats.weight_write_bytes += bytes;
    v->buf = far_buf;
    v->off = (int32_t)(far_off / (s8 ? 1u : 4u));
    v->ld = lanes_up(o_n);
    v->tap = dw ? v->ld : v->ld * i_n;
    v->dep = ix;
    return SN_OK;
}

static size_t layer_vec_bytes(const sn_conv2d_params *p, int s8)
{
    return (size_t)p->out_c * (s8 ? 3u : 2u) * 4u;
}

/* The per-channel vectors of a call into DST: fp32 scale, bias; int8 bias, multiplier, shift. */
static void put_vectors(void *dst, int32_t n, int s8, const float *scale, const float *bias,
                        const int32_t *ibias, const sn_quant_params *q)
{
    int32_t i;
    if (s8) {
        int32_t *d = dst;
        for (i = 0; i < n; ++i) {
            d[i] = ibias ? ibias[i] : 0;
            d[n + i] = q->multiplier[i];
            d[2 * n + i] = q->shift[i];
        }
    } else {
        float *d = dst;
        for (i = 0; i < n; ++i) {
            d[i] = scale ? scale[i] : 1.0f;
            d[n + i] = bias ? bias[i] : 0.0f;
        }
    }
}

/* Sets a convolution kernel's arguments. */
static cl_int conv_args(sn_opencl *c, int k, int s8, cl_mem in, cl_mem out, const wview *w, cl_mem vec,
                        int32_t v_off, const sn_conv2d_params *p, int has_scale, int has_bias,
                        const sn_quant_params *q)
{
    cl_kernel kk = c->k[k];
    cl_int4 g0, g1, g2, wv;
    cl_int e = 0;
    g0.s[0] = p->in_h; g0.s[1] = p->in_w; g0.s[2] = p->in_c; g0.s[3] = p->out_h;
    g1.s[0] = p->out_w; g1.s[1] = p->out_c; g1.s[2] = p->kernel_h; g1.s[3] = p->kernel_w;
    g2.s[0] = p->stride_h; g2.s[1] = p->stride_w; g2.s[2] = p->pad_top; g2.s[3] = p->pad_left;
    wv.s[0] = w->off; wv.s[1] = w->ld; wv.s[2] = w->tap; wv.s[3] = v_off;
    e |= clSetKernelArg(kk, 0, sizeof in, &in);
    e |= clSetKernelArg(kk, 1, sizeof w->buf, &w->buf);
    e |= clSetKernelArg(kk, 2, sizeof vec, &vec);
    e |= clSetKernelArg(kk, 3, sizeof out, &out);
    e |= clSetKernelArg(kk, 4, sizeof g0, &g0);
    e |= clSetKernelArg(kk, 5, sizeof g1, &g1);
    e |= clSetKernelArg(kk, 6, sizeof g2, &g2);
    e |= clSetKernelArg(kk, 7, sizeof wv, &wv);
    if (s8) {
        cl_int4 qq;
        cl_int hb = has_bias;
        qq.s[0] = q->input_offset; qq.s[1] = q->output_offset; qq.s[2] = q->act_min; qq.s[3] = q->act_max;
        e |= clSetKernelArg(kk, 8, sizeof hb, &hb);
        e |= clSetKernelArg(kk, 9, sizeof qq, &qq);
    } else {
        cl_int hs = has_scale, hb = has_bias;
        cl_float lo = p->act_min, hi = p->act_max;
        e |= clSetKernelArg(kk, 8, sizeof hs, &hs);
        e |= clSetKernelArg(kk, 9, sizeof hb, &hb);
        e |= clSetKernelArg(kk, 10, sizeof lo, &lo);
        e |= clSetKernelArg(kk, 11, sizeof hi, &hi);
    }
    return e;
}

/* Work sizes of a convolution: channel groups of LANES x pixels; work-groups of 64 pixels
 * of one channel group. One fixed work-group shape per kernel: PoCL compiles a work-group
 * function per shape, and PoCL 3.1 aborts (pocl_release_dlhandle_cache) when many shapes
 * of commands in flight overflow its cache of them. */
static void conv_sizes(const sn_opencl *c, int k, const sn_conv2d_params *p, size_t *global, size_t *local)
{
    size_t l1 = c->k_wg[k] < 64 ? c->k_wg[k] : 64;
    local[0] = 1;
    local[1] = l1;
    global[0] = (size_t)lanes_up(p->out_c) / LANES;
    global[1] = round_up((size_t)p->out_h * (size_t)p->out_w, l1);
}

static void flat_sizes(const sn_opencl *c, int k, size_t n, size_t *global, size_t *local)
{
    size_t l = c->k_wg[k] < 64 ? c->k_wg[k] : 64;
    *local = l;
    *global = round_up(n ? n : 1, l);
}

/* ---- the kernel slots ---------------------------------------------------------------- */
/* One convolution through the device: the input and the vectors copied side by side and
 * written at once (one command fewer per call), weights near or written, the kernel, the
 * output read back. */
static sn_status slot_conv(sn_opencl *c, int dw, int s8, const sn_conv2d_params *p,
                           const sn_quant_params *q, const void *in, const void *w, const float *scale,
                           const float *bias, const int32_t *ibias, void *out)
{
    uint64_t t0 = now_ns();
    size_t elem = s8 ? 1u : 4u;
    size_t in_bytes = (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c * elem;
    size_t out_bytes = (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c * elem;
    size_t vbytes = layer_vec_bytes(p, s8), global[2], local[2];
    size_t v_at = round_up(in_bytes + SLACK, ALIGN), io_bytes = v_at + vbytes;
    int k = s8 ? (dw ? K_DW_S8 : K_CONV_S8) : (dw ? K_DW_F32 : K_CONV_F32), ix, ki, ri;
    cl_event wait[2];
    cl_uint nw = 0;
    wview v;
    cl_int e;
    sn_status st = sn_conv2d_check(p, dw);
    if (st == SN_OK && s8)
        st = sn_quant_params_check(q);
    if (st != SN_OK)
        return st;
    if (ev_reserve(c, 8 + resolve_cmds(p)) != 0)
        return SN_ERR_NO_MEMORY;
    if (ensure_host(&c->io_stage, &c->io_stage_cap, io_bytes) != 0)
        return SN_ERR_NO_MEMORY;
    if ((st = ensure(c, &c->in, &c->in_cap, io_bytes, CL_MEM_READ_ONLY)) != SN_OK ||
        (st = ensure(c, &c->out, &c->out_cap, out_bytes, CL_MEM_READ_WRITE)) != SN_OK)
        return st;
    if ((st = resolve(c, p, w, dw, s8, c->q, c->far, 0, c->stage, &v)) != SN_OK)
        goto fail;
    if (v.dep >= 0)
        wait[nw++] = c->ev[v.dep];
    memcpy(c->io_stage, in, in_bytes);
    memset((char *)c->io_stage + in_bytes, 0, v_at - in_bytes);
    put_vectors((char *)c->io_stage + v_at, p->out_c, s8, scale, bias, ibias, q);
    if ((ix = write_buf(c, c->q, c->in, 0, io_bytes, c->io_stage, EV_ACT, 0, NULL)) < 0)
        goto fail_io;
    wait[nw++] = c->ev[ix];
    e = conv_args(c, k, s8, c->in, c->out, &v, c->in, (int32_t)(v_at / 4u), p, scale != NULL,
                  s8 ? ibias != NULL : bias != NULL, q);
    if (e != CL_SUCCESS) {
        st = fail_cl(c, "clSetKernelArg", e);
        goto fail;
    }
    conv_sizes(c, k, p, global, local);
    if ((ki = run_kernel(c, c->q, k, 2, global, local, EV_KERNEL, nw, wait)) < 0)
        goto fail_io;
    ri = (int)ev_push(c, EV_ACT);
    e = clEnqueueReadBuffer(c->q, c->out, CL_FALSE, 0, out_bytes, out, 1, &c->ev[ki], &c->ev[ri]);
    if (e != CL_SUCCESS) {
        c->ev[ri] = NULL;
        st = fail_cl(c, "clEnqueueReadBuffer", e);
        goto fail;
    }
    if ((e = clWaitForEvents(1, &c->ev[ri])) != CL_SUCCESS) {
        st = fail_cl(c, "clWaitForEvents", e);
        goto fail;
    }
    c->stats.act_write_bytes += io_bytes;
    c->stats.act_read_bytes += out_bytes;
    c->stats.calls++;
    harvest(c, 1);
    c->stats.wall_ns += now_ns() - t0;
    return SN_OK;
fail_io:
    st = SN_ERR_IO;
fail:
    abandon(c);
    return st;
}

static sn_status cl_conv(void *ctx, const sn_conv2d_params *p, const float *in, const float *w,
                         const float *scale, const float *bias, float *out)
{
    return slot_conv(ctx, 0, 0, p, NULL, in, w, scale, bias, NULL, out);
}

static sn_status cl_dwconv(void *ctx, const sn_conv2d_params *p, const float *in, const float *w,
                           const float *scale, const float *bias, float *out)
{
    return slot_conv(ctx, 1, 0, p, NULL, in, w, scale, bias, NULL, out);
}

static sn_status cl_conv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                            const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    return slot_conv(ctx, 0, 1, p, q, in, w, NULL, NULL, bias, out);
}

static sn_status cl_dwconv_s8(void *ctx, const sn_conv2d_params *p, const sn_quant_params *q,
                              const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out)
{
    return slot_conv(ctx, 1, 1, p, q, in, w, NULL, NULL, bias, out);
}

/* ---- ARAC micro-flows ---------------------------------------------------------------- */
typedef struct flow_layer {
    wview w;
    int32_t v_off;                 /* elements into flow_v */
} flow_layer;

static sn_status cl_micro_flows(void *ctx, const sn_plan *plan, const uint8_t *canvas_px)
{
    sn_opencl *c = ctx;
    const sn_arac_plan *ar = &plan->arac;
    const sn_image_arch *a = &plan->model->arch;
    uint64_t t0 = now_ns();
    int s8 = plan->precision == SN_INT8;
    size_t elem = s8 ? 1u : 4u, wneed = 0, vneed = 0, woff = 0, voff = 0;
    uint32_t wcmds = 0;
    uint32_t tiles = ar->num_regions, n = ar->prefix_count, lv, l, t, side = ar->feature_side;
    size_t canvas_bytes = (size_t)a->canvas * a->canvas;
    size_t stitched_bytes = (size_t)side * side * ar->feature_c * elem;
    size_t tile_bytes = (size_t)ar->tile_buffer_floats * sizeof(float) + SLACK;
    int used[SN_ARAC_MAX_COMPUTED] = {0}, canvas_ev, fill_ev, vec_ev = -1, ri, skip = 0;
    flow_layer fl[SN_ARAC_MAX_COMPUTED][SN_PLAN_MAX_PREFIX];
    cl_event last[SN_PLAN_MAX_TILES];
    cl_int e;
    sn_status st;
    if (n == 0 || n > SN_PLAN_MAX_PREFIX || tiles > SN_PLAN_MAX_TILES || ar->computed_levels > SN_ARAC_MAX_COMPUTED)
        return SN_ERR_INVALID_ARGUMENT;
    for (t = 0; t < tiles; ++t)
        used[ar->regions[t].level] = 1;
    for (t = 0; t < ar->grid * ar->grid; ++t)
        skip |= ar->tile_level[t] >= ar->computed_levels;
    /* room: far weights and vectors of every prefix layer of the levels in use */
    for (lv = 0; lv < ar->computed_levels; ++lv)
        for (l = 0; used[lv] && l < n; ++l) {
            const sn_layer *L = &sn_arac_prefix(ar, lv)[l];
            const sn_conv2d_params *p = &L->params;
            int dw = L->kind == SN_LAYER_DWCONV;
            wneed += round_up(packed_bytes(p, dw, s8, p->out_c, p->in_c), ALIGN);
            vneed += round_up(layer_vec_bytes(p, s8), ALIGN);
            wcmds += resolve_cmds(p);
        }
    if (ev_reserve(c, 4 + 2 * ar->computed_levels * n + wcmds + tiles * (3 + 2 * n)) != 0 ||
        ensure_host(&c->flow_wstage, &c->flow_wstage_cap, wneed + ALIGN) != 0 ||
        ensure_host(&c->flow_vstage, &c->flow_vstage_cap, vneed + ALIGN) != 0)
        return SN_ERR_NO_MEMORY;
    if ((st = ensure(c, &c->flow_w, &c->flow_w_cap, wneed + ALIGN, CL_MEM_READ_ONLY)) != SN_OK ||
        (st = ensure(c, &c->flow_v, &c->flow_v_cap, vneed + ALIGN, CL_MEM_READ_ONLY)) != SN_OK ||
        (st = ensure(c, &c->canvas, &c->canvas_cap, canvas_bytes, CL_MEM_READ_ONLY)) != SN_OK ||
        (st = ensure(c, &c->stitched, &c->stitched_cap, stitched_bytes, CL_MEM_READ_WRITE)) != SN_OK)
        return st;
    for (t = 0; t < tiles; ++t) {
        int b;
        if (c->tile_cap[t] < tile_bytes) {
            for (b = 0; b < 3; ++b) {
                size_t cap = c->tile_cap[t];
                if ((st = ensure(c, &c->tile[t][b], &cap, tile_bytes, CL_MEM_READ_WRITE)) != SN_OK)
                    return st;
                if (b == 2)
                    c->tile_cap[t] = cap;
            }
        }
    }
    /* every layer's weights (near, or written once for all regions) and vectors */
    for (lv = 0; lv < ar->computed_levels; ++lv)
        for (l = 0; used[lv] && l < n; ++l) {
            const sn_layer *L = &sn_arac_prefix(ar, lv)[l];
            int dw = L->kind == SN_LAYER_DWCONV;
            const void *w = s8 ? (const void *)L->q8.weights : (const void *)L->weights;
            if ((st = resolve(c, &L->params, w, dw, s8, c->q, c->flow_w, woff,
                              (char *)c->flow_wstage + woff, &fl[lv][l].w)) != SN_OK)
                goto fail;
            if (fl[lv][l].w.dep >= 0)
                woff += round_up(packed_bytes(&L->params, dw, s8, L->params.out_c, L->params.in_c), ALIGN);
            put_vectors((char *)c->flow_vstage + voff, L->params.out_c, s8, L->scale, L->bias, L->q8.bias,
                        &L->q8.quant);
            fl[lv][l].v_off = (int32_t)(voff / 4u);
            voff += round_up(layer_vec_bytes(&L->params, s8), ALIGN);
        }
    if ((vec_ev = write_buf(c, c->q, c->flow_v, 0, voff, c->flow_vstage, EV_ACT, 0, NULL)) < 0 ||
        (canvas_ev = write_buf(c, c->q, c->canvas, 0, canvas_bytes, canvas_px, EV_ACT, 0, NULL)) < 0)
        goto fail_io;
    if (skip) {
        /* SKIP tiles: the engine's background (zeros and the SKIP features) as it stands */
        if ((fill_ev = write_buf(c, c->q, c->stitched, 0, stitched_bytes, plan->buffers[ar->stitched_buffer],
                                 EV_ACT, 0, NULL)) < 0)
            goto fail_io;
        c->stats.act_write_bytes += stitched_bytes;
    } else {
        uint32_t fi = ev_push(c, EV_ACT);
        cl_float zf = 0.0f;
        cl_char zq = (cl_char)ar->stitched_q.zero_point;
        e = clEnqueueFillBuffer(c->q, c->stitched, s8 ? (const void *)&zq : (const void *)&zf, elem, 0,
                                stitched_bytes, 0, NULL, &c->ev[fi]);
        if (e != CL_SUCCESS) {
            c->ev[fi] = NULL;
            st = fail_cl(c, "clEnqueueFillBuffer", e);
            goto fail;
        }
        fill_ev = (int)fi;
    }
    c->stats.act_write_bytes += voff + canvas_bytes;
    if (c->nfq)
        clFlush(c->q); /* the flow queues wait on these writes */

    /* the micro-flows (regions): independent chains */
    for (t = 0; t < tiles; ++t) {
        cl_command_queue q = c->nfq ? c->fq[t % (uint32_t)c->nfq] : c->q;
        uint32_t tl = ar->regions[t].level;
        const sn_layer *L = sn_arac_prefix(ar, tl);
        sn_region reg[SN_PLAN_MAX_PREFIX], in_reg[3], cv;
        cl_mem *tb = c->tile[t];
        cl_event wait[4];
        cl_int4 r4;
        cl_int side_arg = (cl_int)a->canvas;
        size_t gsz, lsz;
        int prev;
        if ((st = sn_plan_region_geometry(plan, t, reg, &cv)) != SN_OK)
            goto fail;
        in_reg[0] = in_reg[1] = in_reg[2] = cv;
        /* canvas region -> buffer 2 */
        r4.s[0] = cv.r0; r4.s[1] = cv.c0; r4.s[2] = cv.r1 - cv.r0; r4.s[3] = cv.c1 - cv.c0;
        {
            int k = s8 ? K_INPUT_S8 : K_INPUT_F32;
            e = clSetKernelArg(c->k[k], 0, sizeof c->canvas, &c->canvas);
            e |= clSetKernelArg(c->k[k], 1, sizeof side_arg, &side_arg);
            e |= clSetKernelArg(c->k[k], 2, sizeof r4, &r4);
            e |= clSetKernelArg(c->k[k], 3, sizeof tb[2], &tb[2]);
            if (e != CL_SUCCESS) {
                st = fail_cl(c, "clSetKernelArg", e);
                goto fail;
            }
            flat_sizes(c, k, (size_t)r4.s[2] * (size_t)r4.s[3], &gsz, &lsz);
            wait[0] = c->ev[canvas_ev];
            if ((prev = run_kernel(c, q, k, 1, &gsz, &lsz, EV_KERNEL | EV_FLOW, 1, wait)) < 0)
                goto fail_io;
        }
        for (l = 0; l < n; ++l) {
            const sn_layer *ly = &L[l];
            const flow_layer *f = &fl[tl][l];
            int dw = ly->kind == SN_LAYER_DWCONV;
            int k = s8 ? (dw ? K_DW_S8 : K_CONV_S8) : (dw ? K_DW_F32 : K_CONV_F32);
            sn_conv2d_params p;
            size_t global[2], local[2];
            cl_uint nw = 0;
            sn_tile_conv_params(&ly->params, &in_reg[ly->input_buffer], &reg[l], &p);
            if ((st = sn_conv2d_check(&p, dw)) != SN_OK)
                goto fail;
            e = conv_args(c, k, s8, tb[ly->input_buffer], tb[ly->output_buffer], &f->w, c->flow_v, f->v_off, &p,
                          ly->scale != NULL, s8 ? ly->q8.bias != NULL : ly->bias != NULL, &ly->q8.quant);
            if (e != CL_SUCCESS) {
                st = fail_cl(c, "clSetKernelArg", e);
                goto fail;
            }
            wait[nw++] = c->ev[prev];
            wait[nw++] = c->ev[vec_ev];
            if (f->w.dep >= 0)
                wait[nw++] = c->ev[f->w.dep];
            conv_sizes(c, k, &p, global, local);
            if ((prev = run_kernel(c, q, k, 2, global, local, EV_KERNEL | EV_FLOW, nw, wait)) < 0)
                goto fail_io;
            if (ly->residual_buffer >= 0) {
                const sn_region rr = in_reg[ly->residual_buffer];
                int ka = s8 ? K_ADD_S8 : K_ADD_F32;
                cl_int4 s4;
                cl_int2 d2;
                cl_mem o = tb[ly->output_buffer], res = tb[ly->residual_buffer];
                s4.s[0] = p.out_h; s4.s[1] = p.out_w; s4.s[2] = p.out_c; s4.s[3] = rr.c1 - rr.c0;
                d2.s[0] = reg[l].r0 - rr.r0;
                d2.s[1] = reg[l].c0 - rr.c0;
                e = clSetKernelArg(c->k[ka], 0, sizeof o, &o);
                e |= clSetKernelArg(c->k[ka], 1, sizeof res, &res);
                e |= clSetKernelArg(c->k[ka], 2, sizeof s4, &s4);
                e |= clSetKernelArg(c->k[ka], 3, sizeof d2, &d2);
                if (s8) {
                    cl_int4 ao, am, as;
                    int j;
                    for (j = 0; j < 3; ++j) {
                        ao.s[j] = ly->q8.add.offset[j];
                        am.s[j] = ly->q8.add.multiplier[j];
                        as.s[j] = ly->q8.add.shift[j];
                    }
                    ao.s[3] = am.s[3] = as.s[3] = 0;
                    e |= clSetKernelArg(c->k[ka], 4, sizeof ao, &ao);
                    e |= clSetKernelArg(c->k[ka], 5, sizeof am, &am);
                    e |= clSetKernelArg(c->k[ka], 6, sizeof as, &as);
                }
                if (e != CL_SUCCESS) {
                    st = fail_cl(c, "clSetKernelArg", e);
                    goto fail;
                }
                flat_sizes(c, ka, (size_t)p.out_h * (size_t)p.out_w * (size_t)p.out_c, &gsz, &lsz);
                wait[0] = c->ev[prev];
                if ((prev = run_kernel(c, q, ka, 1, &gsz, &lsz, EV_KERNEL | EV_FLOW, 1, wait)) < 0)
                    goto fail_io;
            }
            in_reg[ly->output_buffer] = reg[l];
        }
        /* stitch the tile's output into the map */
        {
            const sn_layer *lastl = &L[n - 1];
            const sn_region o = reg[n - 1];
            int ks = s8 ? K_STITCH_S8 : K_STITCH_F32;
            cl_int4 s4, p4;
            cl_mem src = tb[lastl->output_buffer];
            s4.s[0] = o.r1 - o.r0; s4.s[1] = o.c1 - o.c0; s4.s[2] = lastl->params.out_c;
            s4.s[3] = (cl_int)ar->feature_c;
            p4.s[0] = o.r0; p4.s[1] = o.c0; p4.s[2] = (cl_int)side; p4.s[3] = 0;
            e = clSetKernelArg(c->k[ks], 0, sizeof src, &src);
            e |= clSetKernelArg(c->k[ks], 1, sizeof c->stitched, &c->stitched);
            e |= clSetKernelArg(c->k[ks], 2, sizeof s4, &s4);
            e |= clSetKernelArg(c->k[ks], 3, sizeof p4, &p4);
            if (e != CL_SUCCESS) {
                st = fail_cl(c, "clSetKernelArg", e);
                goto fail;
            }
            flat_sizes(c, ks, (size_t)s4.s[0] * (size_t)s4.s[1] * (size_t)s4.s[2], &gsz, &lsz);
            wait[0] = c->ev[prev];
            wait[1] = c->ev[fill_ev];
            if ((prev = run_kernel(c, q, ks, 1, &gsz, &lsz, EV_KERNEL | EV_FLOW, 2, wait)) < 0)
                goto fail_io;
            last[t] = c->ev[prev];
        }
    }
    for (t = 0; t < (uint32_t)c->nfq; ++t)
        clFlush(c->fq[t]);
    ri = (int)ev_push(c, EV_ACT);
    if (tiles == 0) /* every tile SKIP: the background alone */
        last[tiles++] = c->ev[fill_ev];
    e = clEnqueueReadBuffer(c->q, c->stitched, CL_FALSE, 0, stitched_bytes, plan->buffers[ar->stitched_buffer],
                            tiles, last, &c->ev[ri]);
    if (e != CL_SUCCESS) {
        c->ev[ri] = NULL;
        st = fail_cl(c, "clEnqueueReadBuffer", e);
        goto fail;
    }
    if ((e = clWaitForEvents(1, &c->ev[ri])) != CL_SUCCESS) {
        st = fail_cl(c, "clWaitForEvents", e);
        goto fail;
    }
    c->stats.act_read_bytes += stitched_bytes;
    c->stats.calls++;
    c->stats.flow_batches++;
    harvest(c, 1);
    c->stats.wall_ns += now_ns() - t0;
    return SN_OK;
fail_io:
    st = SN_ERR_IO;
fail:
    abandon(c);
    return st;
}

static const sn_platform_ops opencl_ops = {
    /* .conv2d_f32 = */ cl_conv,
    /* .depthwise_conv2d_f32 = */ cl_dwconv,
    /* .conv2d_s8 = */ cl_conv_s8,
    /* .depthwise_conv2d_s8 = */ cl_dwconv_s8,
    /* .arac_micro_flows = */ cl_micro_flows,
    /* .add_f32 = */ NULL,
    /* .resize_canvas_f32 = */ NULL,
    /* .add_s8 = */ NULL,
    /* .avgpool_f32 = */ NULL,
    /* .avgpool_s8 = */ NULL,
    /* .fully_connected_f32 = */ NULL,
    /* .fully_connected_s8 = */ NULL,
};

void sn_opencl_platform(sn_opencl *c, sn_platform *platform)
{
    platform->name = "opencl";
    platform->ops = &opencl_ops;
    platform->context = c;
}

/* ---- explicit residency ---------------------------------------------------------------- */
static int place(void *ctx, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    return make_entry(ctx, w, dw, s8, p, p->out_c, dw ? 0 : p->in_c) != NULL;
}

sn_status sn_opencl_make_resident(sn_opencl *c, const sn_plan *plan, size_t *resident_bytes)
{
    size_t bytes;
    if (!c || !plan)
        return SN_ERR_INVALID_ARGUMENT;
    if (ev_reserve(c, 1) != 0)
        return SN_ERR_NO_MEMORY;
    bytes = sn_windex_place_plan(plan, place, c);
    harvest(c, 0);
    if (resident_bytes)
        *resident_bytes = bytes;
    return SN_OK;
}

/* ---- slice residency ------------------------------------------------------------------- */
/* Bytes as the model stores them of T's leading O x I box (depthwise: O), centred K x K. */
static uint64_t box_raw(const slab_tensor *t, int32_t o, int32_t i, int32_t k)
{
    if (o <= 0 || k <= 0)
        return 0;
    return (uint64_t)o * (uint64_t)(t->dw ? 1 : i) * (uint64_t)k * (uint64_t)k * (t->s8 ? 1u : 4u);
}

/* The slab, zero-filled, on first use. */
static sn_status ensure_slab(sn_opencl *c)
{
    cl_int e;
    cl_uchar zero = 0;
    int ix;
    if (c->slab)
        return SN_OK;
    c->slab = make_buffer(c, c->slab_bytes, CL_MEM_READ_ONLY, &e);
    if (!c->slab)
        return fail_cl(c, "clCreateBuffer (slices)", e);
    if (ev_reserve(c, 1) != 0)
        return SN_ERR_NO_MEMORY;
    ix = (int)ev_push(c, EV_RESIDENT);
    e = clEnqueueFillBuffer(c->q, c->slab, &zero, 1, 0, c->slab_bytes ? c->slab_bytes : ALIGN, 0, NULL, &c->ev[ix]);
    if (e == CL_SUCCESS)
        e = clWaitForEvents(1, &c->ev[ix]);
    else
        c->ev[ix] = NULL;
    harvest(c, 0);
    if (e != CL_SUCCESS) {
        clReleaseMemObject(c->slab);
        c->slab = NULL;
        return fail_cl(c, "clEnqueueFillBuffer (slices)", e);
    }
    return SN_OK;
}

/* Writes the part of tensor NB's box (its model tensor W) that box OB does not hold,
 * from its whole tensor packed into the stage; waits for the writes. */
static sn_status write_box_diff(sn_opencl *c, const slab_tensor *nb, const sn_wtensor *w, const slab_tensor *ob)
{
    const slab_tensor *t = nb;
    const size_t elem = t->s8 ? 1u : 4u;
    const int32_t rows_t = t->dw ? 1 : t->i, n_rows = t->dw ? 1 : nb->ri, o_rows = t->dw ? 1 : ob->ri;
    const int32_t n0 = (t->k - nb->rk) / 2, o0 = (t->k - ob->rk) / 2;
    const uint32_t first = c->nev;
    sn_conv2d_params q;
    int32_t y, x, part;
    cl_int e = CL_SUCCESS;
    memset(&q, 0, sizeof q);
    q.kernel_h = q.kernel_w = t->k;
    q.out_c = t->o;
    q.in_c = t->dw ? t->o : t->i;
    q.w_stride_kw = t->dw ? t->o : t->i;
    q.w_stride_kh = t->k * q.w_stride_kw;
    q.w_stride_out = t->dw ? 0 : t->k * q.w_stride_kh;
    if (ev_reserve(c, 2u * (uint32_t)(t->k * t->k)) != 0)
        return SN_ERR_NO_MEMORY;
    pack(&q, w->lo, t->dw, t->s8, t->o, t->dw ? 0 : t->i, c->stage);
    for (y = n0; y < n0 + nb->rk && e == CL_SUCCESS; ++y)
        for (x = n0; x < n0 + nb->rk && e == CL_SUCCESS; ++x) {
            int kept = ob->rk > 0 && y >= o0 && y < o0 + ob->rk && x >= o0 && x < o0 + ob->rk;
            /* part 0: rows the old box held, its outputs past the old ones; part 1: the rest */
            for (part = kept ? 0 : 1; part < 2 && e == CL_SUCCESS; ++part) {
                int32_t r_lo = part ? (kept ? min32(n_rows, o_rows) : 0) : 0;
                int32_t r_hi = part ? n_rows : min32(n_rows, o_rows);
                int32_t c_lo = part ? 0 : min32(nb->ro, ob->ro), c_hi = nb->ro;
                size_t at, bo[3], ho[3], region[3];
                uint32_t i;
                if (r_hi <= r_lo || c_hi <= c_lo)
                    continue;
                at = (((size_t)(y * t->k + x) * (size_t)rows_t + (size_t)r_lo) * (size_t)t->ld + (size_t)c_lo) * elem;
                bo[0] = t->off + at;
                ho[0] = at;
                bo[1] = bo[2] = ho[1] = ho[2] = 0;
                region[0] = (size_t)(c_hi - c_lo) * elem;
                region[1] = (size_t)(r_hi - r_lo);
                region[2] = 1;
                i = ev_push(c, EV_RESIDENT);
                e = clEnqueueWriteBufferRect(c->q, c->slab, CL_FALSE, bo, ho, region, (size_t)t->ld * elem, 0,
                                             (size_t)t->ld * elem, 0, c->stage, 0, NULL, &c->ev[i]);
                if (e != CL_SUCCESS)
                    c->ev[i] = NULL;
                else
                    c->stats.resident_write_bytes += region[0] * region[1];
            }
        }
    if (e != CL_SUCCESS) {
        abandon(c);
        return fail_cl(c, "clEnqueueWriteBufferRect (slices)", e);
    }
    if (c->nev > first && (e = clWaitForEvents(c->nev - first, &c->ev[first])) != CL_SUCCESS) {
        abandon(c);
        return fail_cl(c, "clWaitForEvents (slices)", e);
    }
    harvest(c, 0);
    return SN_OK;
}

sn_status sn_opencl_set_resident(sn_opencl *c, const sn_weight_slice *sl, uint32_t n, uint8_t *placed,
                                 size_t *moved_bytes)
{
    const uint32_t nt = c ? c->index.tensor_count : 0;
    slab_tensor *next;
    uint64_t used = 0, moved = 0;
    uint32_t k, t;
    sn_status st;
    if (!c || (n && (!sl || !placed)))
        return SN_ERR_INVALID_ARGUMENT;
    c->err[0] = '\0';
    for (k = 0; k < n; ++k) { /* every slice a box of a convolution tensor, or nothing changes */
        const sn_wtensor *wt = sn_windex_tensor_of(&c->index, sl[k].w);
        const slab_tensor *s = wt ? &c->slab_t[wt - c->index.tensors] : NULL;
        if (!s || !s->k) {
            snprintf(c->err, sizeof c->err, "slice %u: its weights are not a convolution tensor of the model", k);
            return SN_ERR_INVALID_ARGUMENT;
        }
        if (s->dw != !!sl[k].dw || s->s8 != !!sl[k].s8) {
            snprintf(c->err, sizeof c->err, "slice %u: a %s %s slice of a %s %s tensor", k,
                     sl[k].dw ? "depthwise" : "dense", sl[k].s8 ? "int8" : "fp32", s->dw ? "depthwise" : "dense",
                     s->s8 ? "int8" : "fp32");
            return SN_ERR_INVALID_ARGUMENT;
        }
        if (sl[k].o <= 0 || sl[k].o > s->o || sl[k].k <= 0 || sl[k].k > s->k || (s->k - sl[k].k) % 2 ||
            (!s->dw && (sl[k].i <= 0 || sl[k].i > s->i))) {
            snprintf(c->err, sizeof c->err,
                     "slice %u: box %d outputs x %d inputs, %dx%d crop outside its tensor (%d x %d, %dx%d)", k,
                     (int)sl[k].o, (int)(s->dw ? 0 : sl[k].i), (int)sl[k].k, (int)sl[k].k, (int)s->o, (int)s->i,
                     (int)s->k, (int)s->k);
            return SN_ERR_INVALID_ARGUMENT;
        }
    }
    if ((st = ensure_slab(c)) != SN_OK)
        return st;
    next = malloc((nt ? nt : 1) * sizeof *next);
    if (!next)
        return SN_ERR_NO_MEMORY;
    for (t = 0; t < nt; ++t) {
        next[t] = c->slab_t[t];
        next[t].ro = next[t].ri = next[t].rk = 0;
    }
    for (k = 0; k < n; ++k) { /* in order while the budget holds */
        slab_tensor *s = &next[sn_windex_tensor_of(&c->index, sl[k].w) - c->index.tensors];
        int32_t wo = max32(s->ro, sl[k].o), wi = s->dw ? 0 : max32(s->ri, sl[k].i), wk = max32(s->rk, sl[k].k);
        uint64_t have = box_raw(s, s->ro, s->ri, s->rk), need = box_raw(s, wo, wi, wk);
        placed[k] = 0;
        if (used + (need - have) > (uint64_t)c->slice_budget)
            continue;
        used += need - have;
        s->ro = wo;
        s->ri = wi;
        s->rk = wk;
        placed[k] = 1;
    }
    /* only what the old boxes do not hold moves */
    for (t = 0; t < nt; ++t) {
        slab_tensor *s = &next[t], *old = &c->slab_t[t];
        uint64_t keep;
        if (s->rk <= 0)
            continue;
        keep = old->rk > 0 ? box_raw(s, min32(s->ro, old->ro), min32(s->ri, old->ri), min32(s->rk, old->rk)) : 0;
        if (box_raw(s, s->ro, s->ri, s->rk) == keep)
            continue;
        if ((st = write_box_diff(c, s, &c->index.tensors[t], old)) != SN_OK) {
            free(next);
            sn_opencl_evict_all(c); /* what the slab holds is no longer known */
            return st;
        }
        moved += box_raw(s, s->ro, s->ri, s->rk) - keep;
    }
    memcpy(c->slab_t, next, (nt ? nt : 1) * sizeof *next);
    free(next);
    sn_windex_clear(&c->index); /* the whole-SubNet entries are evicted */
    c->used = 0;
    c->slice_used = (size_t)used;
    if (moved_bytes)
        *moved_bytes = (size_t)moved;
    return SN_OK;
}
