/* supernav FPGA platform: a cycle-level model of a SUSHI-style int8 CNN accelerator with a
 * persistent SubGraph buffer (SubGraph Stationary), run on the host. MODELLED, not measured.
 *
 *   sn_fpga_board board;  sn_fpga_board_load("platforms/fpga/boards/zcu104.board", &board, err, n);
 *   sn_fpga *f;           sn_fpga_create(&model, &board, &options, &f, err, n);
 *   sn_platform p;        sn_fpga_platform(f, &p);
 *   sn_fpga_make_resident(f, &plan, &bytes);           -- the SubGraph into the persistent buffer
 *   sn_plan_invoke(&plan, &p, canvas, logits, NULL, NULL);   -- int8 plans
 *   sn_fpga_stats st; sn_fpga_stats_get(f, &st);       -- cycles, on-chip and off-chip bytes
 *
 * Outputs: the int8 slots compute with an inner platform (options.compute: the CPU
 * platform's int8 kernels, or NULL for the reference kernels), both bit-exact with the
 * reference int8 kernels, and count every convolution on the accelerator model:
 *
 *   PE array R x C (int8 MACs per cycle R*C). Dense convolution, weight stationary:
 *     input channels on rows, output channels on columns; a tile is one block of C output
 *     channels (split along input channels when its weights exceed half the weight buffer);
 *     compute(tile) = out_h*out_w * kh*kw * ceil(in_c_tile / R) + R + C (fill and drain).
 *   Depthwise: channels on columns, kernel taps on rows:
 *     compute(tile) = out_h*out_w * ceil(kh*kw / R) + R + C, tiles of C channels.
 *   Loads: a tile's weights come from the persistent SubGraph buffer when they lie inside
 *     the tensor's resident leading slice (so a slice narrower than the layer serves its
 *     leading tiles and only the rest is streamed; the whole layer when it covers it)
 *     (ceil(bytes / onchip_bytes_per_cycle) cycles) or from DDR (latency + bytes / DDR bytes
 *     per cycle); double buffering overlaps the next tile's load with this tile's compute:
 *     cycles = load(0) + sum_t max(compute(t), load(t+1)) + store of a spilled output.
 *   Activations: the layer's input is on chip when it is the previous layer's output and that
 *     stayed on chip; the output stays on chip when (on-chip input) + output fit in the
 *     activation buffer; otherwise the input is read from DDR once per tile and the output
 *     written to DDR (spill), on the same DDR channel as weight loads.
 * So every layer's cycles are >= its MACs / (R*C) and >= its DDR bytes / DDR bytes per cycle
 * (the roofline; tests/test_fpga_platform.c checks it per layer).
 *
 * Not on the accelerator (run by the engine on the host processor, not counted): the input
 * resize, the ARAC gate (fp32), residual adds, global pooling and the classifier; int32 bias
 * and requantization vectors (a few KiB) are not counted as weight traffic.
 *
 * The persistent buffer holds, per weight tensor of the model, one leading slice (output x
 * input channels, centred kernel crop): with make_resident the largest any resident SubNet
 * uses, with set_resident the union of the SubGraph's slices of it; a tile's weights are
 * near when they fit inside (see Loads). Capacity: options.persist_bytes (the --near-kib of
 * the CLI), else the board's persist_buffer_kib. Host C11; library code never prints. */
#ifndef SN_FPGA_H
#define SN_FPGA_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_platform.h"

#define SN_FPGA_MAX_ENTRIES 48
#define SN_FPGA_LAYER_RECORDS 4096

/* One constant of a board file: its key, value as written, and its source
 * ("source: ..." or "assumption: ..."). */
typedef struct sn_fpga_entry {
    char key[40];
    char value[64];
    char source[240];
} sn_fpga_entry;

typedef struct sn_fpga_board {
    char path[512];
    char name[64], device[64];
    double clock_mhz;
    int32_t pe_rows, pe_cols;
    double dsp_count, macs_per_dsp;
    double bram_kib, uram_kib;
    double weight_buffer_kib, act_buffer_kib, persist_buffer_kib;
    double onchip_bytes_per_cycle;
    double ddr_peak_gbps, ddr_efficiency, ddr_latency_ns;
    double static_power_w;
    double e_mac_pj, e_buffer_pj_per_byte, e_persist_pj_per_byte, e_ddr_pj_per_byte;
    uint32_t entry_count;
    sn_fpga_entry entries[SN_FPGA_MAX_ENTRIES];
    uint32_t text_hash;          /* FNV-1a of the file's bytes (profile cache keys) */
} sn_fpga_board;

/* Parses a board file: lines "key = value ; source: ..." or "key = value ; assumption: ...",
 * '#' comments, blank lines. Every key is required once, every value needs a source.
 * Returns SN_OK, or an error (SN_ERR_IO: the file cannot be read; SN_ERR_FORMAT: its text)
 * with one line "FILE:LINE: what is wrong" in ERR. */
sn_status sn_fpga_board_load(const char *path, sn_fpga_board *board, char *err, size_t err_bytes);
sn_status sn_fpga_board_parse(const char *text, size_t size, const char *path, sn_fpga_board *board,
                              char *err, size_t err_bytes);

/* "RxC" (e.g. "16x32") into ROWS and COLS (1..1024 each). Returns 0 or -1. */
int sn_fpga_parse_pe(const char *text, int32_t *rows, int32_t *cols);

/* Checks that the board's PE array fits its DSPs and its buffers fit its BRAM + URAM with a
 * persistent buffer of PERSIST_BYTES. Returns SN_OK, or SN_ERR_UNSUPPORTED with one line in ERR. */
sn_status sn_fpga_board_check(const sn_fpga_board *board, size_t persist_bytes, char *err,
                              size_t err_bytes);

typedef struct sn_fpga_options {
    size_t persist_bytes;        /* persistent SubGraph buffer; SIZE_MAX: the board's */
    int32_t pe_rows, pe_cols;    /* 0: the board's */
    const sn_platform *compute;  /* int8 kernels that compute the outputs; NULL: reference */
} sn_fpga_options;

void sn_fpga_options_default(sn_fpga_options *options);

/* Counted since creation or the last sn_fpga_stats_reset. */
typedef struct sn_fpga_stats {
    uint64_t cycles;             /* accelerator cycles of the convolutions */
    uint64_t compute_cycles;     /* the PE array's busy cycles (sum over tiles) */
    uint64_t macs;
    uint64_t layers;
    uint64_t ddr_weight_bytes;   /* weights streamed from DDR (not resident) */
    uint64_t ddr_act_bytes;      /* activations read from / written to DDR (input, spills) */
    uint64_t persist_read_bytes; /* weights read from the persistent SubGraph buffer */
    uint64_t buffer_bytes;       /* weight/activation buffer reads and writes */
    uint64_t persist_write_bytes;/* written into the persistent buffer (make_resident) */
    uint64_t load_cycles;        /* make_resident: DDR cycles of loading the SubGraph */
} sn_fpga_stats;

/* One convolution as the model saw it (the first SN_FPGA_LAYER_RECORDS since a reset). */
typedef struct sn_fpga_layer_record {
    uint8_t depthwise, resident, in_onchip, out_onchip; /* resident: every tile's weights near */
    uint32_t tiles;
    uint64_t macs, cycles, compute_cycles, ddr_bytes, weight_bytes;
    uint64_t near_weight_bytes;  /* of weight_bytes, read from the persistent buffer */
} sn_fpga_layer_record;

/* Modelled energy, picojoules, split by where it goes. */
typedef struct sn_fpga_energy {
    double mac_pj, buffer_pj, persist_pj, ddr_pj, static_pj, total_pj;
    double offchip_pj;           /* = ddr_pj: off-chip (DDR) access energy */
} sn_fpga_energy;

typedef struct sn_fpga sn_fpga;

/* Allocates the platform (nothing is allocated afterwards). Returns SN_OK, or an error with
 * one line in ERR (SN_ERR_UNSUPPORTED: the board check; SN_ERR_NO_MEMORY). */
sn_status sn_fpga_create(const sn_model *model, const sn_fpga_board *board, const sn_fpga_options *options,
                         sn_fpga **fpga, char *err, size_t err_bytes);
void sn_fpga_destroy(sn_fpga *fpga);

void sn_fpga_platform(sn_fpga *fpga, sn_platform *platform);

/* The effective configuration (PE overrides and persistent capacity applied). */
const sn_fpga_board *sn_fpga_board_of(const sn_fpga *fpga);
size_t sn_fpga_persist_capacity(const sn_fpga *fpga);
size_t sn_fpga_persist_used(const sn_fpga *fpga);

/* Loads PLAN's int8 convolution weights into the persistent buffer as far as its capacity
 * holds (layers in plan order; a layer that does not fit stays in DDR). Adds the DDR bytes
 * and cycles of the load to the stats (persist_write_bytes, ddr_weight_bytes, load_cycles)
 * and returns the bytes loaded in *loaded_bytes (may be NULL). */
sn_status sn_fpga_make_resident(sn_fpga *fpga, const sn_plan *plan, size_t *loaded_bytes);
void sn_fpga_evict_all(sn_fpga *fpga);

/* Makes exactly SLICES[N] (sn_platform.h; fp32 ones, the host's, never) resident (per tensor, the union box of its slices), in order while
 * the capacity holds; PLACED[k] = 1 when slice k is. Loads from DDR only the bytes the
 * previous content does not hold (a switch moves the difference), counted in the stats like
 * make_resident; *MOVED_BYTES gets them (may be NULL). */
sn_status sn_fpga_set_resident(sn_fpga *fpga, const sn_weight_slice *slices, uint32_t n, uint8_t *placed,
                               size_t *moved_bytes);

/* Call before each sn_plan_invoke: nothing of a previous inference is left on chip but the
 * persistent buffer (stats_reset does it too). */
void sn_fpga_begin_inference(sn_fpga *fpga);

void sn_fpga_stats_get(const sn_fpga *fpga, sn_fpga_stats *stats);
void sn_fpga_stats_reset(sn_fpga *fpga);

/* Layer records since the last reset, in execution order; returns how many (at most
 * SN_FPGA_LAYER_RECORDS: later layers are counted in the stats but not recorded). */
size_t sn_fpga_layer_records(const sn_fpga *fpga, const sn_fpga_layer_record **records);

/* DDR bytes per accelerator cycle (peak x efficiency / clock) and microseconds per cycle. */
double sn_fpga_ddr_bytes_per_cycle(const sn_fpga_board *board);
double sn_fpga_us_per_cycle(const sn_fpga_board *board);

/* Energy of STATS over CYCLES of powered time (static power x time). */
void sn_fpga_energy_of(const sn_fpga_board *board, const sn_fpga_stats *stats, uint64_t cycles,
                       sn_fpga_energy *energy);

#endif
