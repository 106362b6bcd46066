/* supernav OpenCL platform: the engine's convolutions as OpenCL 1.2 kernels, SubGraph
 * residency in device buffers, and latency from OpenCL profiling events.
 *
 *   sn_opencl *cl;
 *   sn_opencl_create(&model, &options, &cl, why, sizeof why);  -- picks a device, builds the kernels
 *   sn_platform p; sn_opencl_platform(cl, &p);
 *   sn_plan_invoke(&plan, &p, canvas, logits, NULL, NULL);
 *
 * Devices: every device of every OpenCL platform the ICD loader (libOpenCL) finds, in
 * loader order, numbered from 0 ("platform name / device name"; `sn_opencl_list`).
 * options.device (or, when that is NULL, $SUPERNAV_OPENCL_DEVICE) picks one: a number is an
 * index, anything else a case-insensitive substring of the name. Neither: the first GPU,
 * else the first device. No platform or no matching device: SN_ERR_NO_DEVICE and a reason.
 * The kernels (sn_opencl_kernels.cl, embedded at build time) are compiled for the device
 * at creation without fast-math options and with FP_CONTRACT off.
 *
 * Kernel slots: the engine calls them per layer with host buffers, so each call writes the
 * input activation and the per-channel vectors to the device, runs the kernel and reads
 * the output back; those are *activation transfers*. Commands go to an out-of-order queue
 * (when the device has one) with an event per command: the writes of one call overlap and
 * the kernel waits on its own writes only.
 *
 * Residency (SUSHI's SubGraph Stationary): weights are packed into the device layout
 * (dense [tap][input][output], depthwise [tap][channel], outputs zero-padded to a multiple
 * of 8: a work-item computes 8 output channels as one vector). "Near" memory is one device buffer
 * of near_budget_bytes; a layer whose weights are resident there (a leading slice at least
 * as wide as the request, keyed by the weight view's host pointer and geometry, as on the
 * CPU platform) reads them in place and counts as near. Any other layer's weights are
 * packed and written to the device for that call (*weight transfers*) and count as far.
 * Policies as on the CPU platform: SN_OPENCL_RESIDENT_ON_USE makes a tensor resident the
 * first time it runs, while the budget lasts; SN_OPENCL_RESIDENT_EXPLICIT keeps only what
 * sn_opencl_make_resident() placed there.
 *
 * ARAC micro-flows (sn_platform_ops.arac_micro_flows): the tiles of one invoke run as
 * independent command chains on the device (canvas region -> prefix layers with their
 * residual adds -> stitch into a device-side stitched map), each tile on its own device
 * buffers, issued together to the out-of-order queue (or round-robin over several in-order
 * queues when the device has no out-of-order queue) with event dependencies inside a tile
 * only; the host waits once, for the stitched map. A prefix layer's weights and vectors
 * are resolved (near or written once) per level and invoke and shared by its tiles.
 *
 * Times come from the events' profiling counters (CL_PROFILING_COMMAND_QUEUED, _SUBMIT,
 * _START, _END; nanoseconds of the device clock) beside the host wall clock
 * (CLOCK_MONOTONIC). Host C11; OpenCL 1.2 API through the ICD loader. */
#ifndef SN_OPENCL_H
#define SN_OPENCL_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_platform.h"

typedef struct sn_opencl sn_opencl;

enum sn_opencl_residency { SN_OPENCL_RESIDENT_ON_USE = 0, SN_OPENCL_RESIDENT_EXPLICIT = 1 };

typedef struct sn_opencl_options {
    const char *device;          /* NULL: $SUPERNAV_OPENCL_DEVICE, else the first GPU, else
                                    the first device; "N": index; else a name substring */
    size_t near_budget_bytes;    /* device buffer for resident weights; SIZE_MAX: whole model */
    int residency;               /* enum sn_opencl_residency */
    int flow_queues;             /* micro-flows: 0 = the out-of-order queue where the device
                                    has one, else 4 in-order queues; N >= 1: N in-order queues */
} sn_opencl_options;

/* Counted since creation or the last sn_opencl_stats_reset. Times in nanoseconds; *_ns
 * from profiling events (device clock) unless named wall. */
typedef struct sn_opencl_stats {
    uint64_t near_bytes;         /* weight bytes the kernels read from resident buffers */
    uint64_t far_bytes;          /* weight bytes written to the device for the call */
    uint64_t layers_near, layers_far;
    uint64_t weight_write_bytes; /* bytes those writes moved (the packed device layout: output
                                    channels padded to a multiple of 8) */
    uint64_t weight_write_ns;    /* START..END of those weight writes */
    uint64_t act_write_bytes;    /* inputs, canvases and per-channel vectors written */
    uint64_t act_read_bytes;     /* outputs read back */
    uint64_t act_transfer_ns;    /* START..END of those writes and reads */
    uint64_t kernel_ns;          /* START..END of every kernel */
    uint64_t kernels;            /* kernels enqueued */
    uint64_t queued_ns;          /* QUEUED..SUBMIT summed over commands (host-side queueing) */
    uint64_t submit_ns;          /* SUBMIT..START summed over commands (waiting on the device) */
    uint64_t device_ns;          /* per call (slot or micro-flow batch): first QUEUED .. last
                                    END, summed: the latency the events see */
    uint64_t wall_ns;            /* host wall clock inside the platform's calls */
    uint64_t calls;              /* slot calls and micro-flow batches */
    uint64_t resident_write_bytes, resident_write_ns; /* sn_opencl_make_resident / on-use */
    uint64_t flow_batches;       /* arac_micro_flows calls */
    uint64_t flow_commands_ns;   /* micro-flows: START..END of their commands, summed */
    uint64_t flow_span_ns;       /* micro-flows: first START .. last END per batch, summed;
                                    flow_commands_ns > flow_span_ns means tiles overlapped */
    uint64_t near_copy_bytes;    /* slice residency: bytes copied on the device from resident
                                    slices into a layer assembled for the call (padded layout) */
    uint64_t near_copy_ns;       /* START..END of those copies */
} sn_opencl_stats;

/* Defaults: device from the environment or the first GPU/device, unlimited budget,
 * on-use residency, micro-flows on the out-of-order queue. */
void sn_opencl_options_default(sn_opencl_options *options);

/* Writes one line per device ("N: platform / device (type)") into BUF (NUL-terminated,
 * truncated to BUF_BYTES). Returns the number of devices; 0 when there is no platform. */
int sn_opencl_list(char *buf, size_t buf_bytes);

/* Picks the device, creates its context and queues, builds the kernels, sizes the device
 * buffers from MODEL (which must outlive the platform). SN_ERR_NO_DEVICE when no OpenCL
 * platform or no matching device exists; other errors for a device that fails to build or
 * allocate, with one line in the caller's WHY (may be NULL). */
sn_status sn_opencl_create(const sn_model *model, const sn_opencl_options *options,
                           sn_opencl **cl, char *why, size_t why_bytes);
void sn_opencl_destroy(sn_opencl *cl);

void sn_opencl_platform(sn_opencl *cl, sn_platform *platform);
const char *sn_opencl_device_name(const sn_opencl *cl);   /* "platform / device" */
int sn_opencl_out_of_order(const sn_opencl *cl);          /* 1: micro-flows share an OOO queue */
/* The last device error (an OpenCL error name and the call), "" when none. */
const char *sn_opencl_last_error(const sn_opencl *cl);

/* Packs every layer of PLAN into near memory (its SubGraph); layers that do not fit in what
 * is left of the budget stay far. *RESIDENT_BYTES (may be NULL): the plan's weight bytes now
 * resident. */
sn_status sn_opencl_make_resident(sn_opencl *cl, const sn_plan *plan, size_t *resident_bytes);
/* SUSHI's SubGraph as weight slices (sn_weight_slice: a leading O x I box, depthwise O, and a
 * centred K x K crop of a model tensor): makes exactly SLICES[N] resident, evicting what
 * they do not cover (and every entry sn_opencl_make_resident or on-use residency placed) and
 * keeping what the previous set shares with them, in order while the budget holds
 * (options.near_budget_bytes, in the model's bytes: 4 per fp32 weight, 1 per int8 weight, as
 * the harness and the CPU platform count); PLACED[i] = 1 when slice i is resident after the
 * call. *MOVED_BYTES (may be NULL): the bytes written to the device that were not resident
 * before (a switch moves only the difference).
 *
 * Near memory for slices is one device buffer (the slab, allocated on first use) holding
 * every convolution tensor at a fixed place in the device layout of the whole tensor; only a
 * tensor's resident box is valid there, so a box grows or shrinks in place. A layer whose
 * view the box serves (the box's crop holds the view's crop and, dense, its inputs every
 * input of the view: harness/sn_slices.c sn_slices_serves_bytes) reads the box's part from
 * the device: in place when every output channel is served and the kernels can stride
 * through the crop, else assembled for the call in the far buffer (served outputs copied on
 * the device, clEnqueueCopyBufferRect; the remaining outputs written from host memory,
 * clEnqueueWriteBufferRect). Near bytes are the served part, far bytes the rest.
 * SN_ERR_INVALID_ARGUMENT (nothing changes) for a slice that is not a box of a convolution
 * tensor of the model (its kind, precision or extent), with one line in sn_opencl_last_error. */
sn_status sn_opencl_set_resident(sn_opencl *cl, const sn_weight_slice *slices, uint32_t n, uint8_t *placed,
                                 size_t *moved_bytes);
/* Drops every resident entry and slice (the device buffers stay allocated). */
void sn_opencl_evict_all(sn_opencl *cl);
size_t sn_opencl_near_used(const sn_opencl *cl);
size_t sn_opencl_near_budget(const sn_opencl *cl);

void sn_opencl_stats_get(const sn_opencl *cl, sn_opencl_stats *stats);
void sn_opencl_stats_reset(sn_opencl *cl);

#endif
