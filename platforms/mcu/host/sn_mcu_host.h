/* supernav's MCU platform, host side: board profiles, the int8-only flash image, the link
 * to the serving firmware (platforms/mcu/sn_mcu_serve.c: QEMU or a real board's serial
 * port) and the cycle model. Host C; nothing here runs on the device.
 *
 * Latency on the MCU is never measured here: QEMU's -icount clock counts instructions
 * (emulated), and sn_mcu_cycles() turns them into a cycle estimate with the board's
 * documented constants (model). */
#ifndef SN_MCU_HOST_H
#define SN_MCU_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_model.h"

/* A board profile: a part's memory (its linker script, platforms/mcu/qemu/board_NAME.ld,
 * enforces the same sizes), the QEMU machine that runs its code, and the cycle model's
 * constants (assumptions, printed with every estimate). */
typedef struct sn_mcu_board {
    const char *name;               /* "l4r5", "f746", "h743", "m55" */
    const char *part;               /* in words */
    const char *qemu_machine, *qemu_cpu;
    uint32_t flash_bytes, sram_bytes;
    double clock_hz;                /* the part's maximum core clock */
    double cpi;                     /* model: cycles per instruction (assumption) */
    uint32_t flash_line_bytes;      /* model: bytes per flash read (the flash word) */
    uint32_t flash_line_cycles;     /* model: cycles per flash read from far memory */
} sn_mcu_board;

/* The profile NAME, or NULL. sn_mcu_board_names(): "l4r5, f746, h743, m55". */
const sn_mcu_board *sn_mcu_board_find(const char *name);
const char *sn_mcu_board_names(void);

/* model: cycles = instructions x cpi + ceil(far_read_bytes / flash_line_bytes) x
 * flash_line_cycles, where far_read_bytes are the weight bytes the kernels read from flash
 * (one per MAC of a layer whose weights are not in the SRAM cache: no data cache assumed). */
double sn_mcu_cycles(const sn_mcu_board *board, uint64_t instructions, uint64_t far_read_bytes);

/* One line describing the model's constants for BOARD, for reports. */
void sn_mcu_model_text(const sn_mcu_board *board, char *buf, size_t buf_bytes);

/* An int8-only image for a flash: MODEL's tensors without the fp32 values of every weight
 * tensor that has an int8 twin (SN_DTYPE_F32_ELIDED entries; the fp32 classifier and gate
 * stay), and, when COUNT > 0, only the calibrated configs CONFIGS (canonical text; their
 * calibration renumbered). Each kept config with an int8 plan gets its int8 vectors
 * computed here (q8.req.{id}, sn_engine.h) in place of its BN statistics
 * (calib.{id}.*.mean/var), so that a prepare on the part copies them; the directory is
 * written in name order (found by halving). *OUT is malloc'ed. Returns 0, or -1 with one
 * line in ERR. */
int sn_mcu_image_strip(const sn_model *model, const char *const *configs, uint32_t count,
                       unsigned char **out, size_t *out_bytes, char *err, size_t err_bytes);

/* The link to a serving firmware. */
typedef struct sn_mcu_link sn_mcu_link;

/* Starts qemu-system-arm with ELF (the board's supernav-mcu-NAME.elf) and IMAGE (a path
 * relative to the current directory, no spaces or commas), UART0 on a pipe, and waits for
 * the firmware's boot reply. */
int sn_mcu_open_qemu(sn_mcu_link **link, const sn_mcu_board *board, const char *elf,
                     const char *image, char *err, size_t err_bytes);

/* Opens a real board's serial port (115200 8N1, raw; the firmware already flashed and
 * running) and checks that it answers `name`. Untested on hardware here. */
int sn_mcu_open_port(sn_mcu_link **link, const char *port, char *err, size_t err_bytes);

/* A link over two open descriptors: replies are read from IN_FD, commands written to OUT_FD
 * (both closed by sn_mcu_close), replies awaited TIMEOUT_MS; no boot reply is awaited. For
 * tests and fuzzing (a pipe holding canned replies). */
int sn_mcu_open_fds(sn_mcu_link **link, int in_fd, int out_fd, int timeout_ms, char *err,
                    size_t err_bytes);

/* Sends COMMAND and reads the reply up to `m-ready`: its m- lines, joined by '\n', into
 * REPLY. Returns 0; -1 when the firmware answered e-error (its text in ERR), the link
 * closed or it did not answer within the timeout (ERR says which). */
int sn_mcu_command(sn_mcu_link *link, const char *command, char *reply, size_t reply_bytes,
                   char *err, size_t err_bytes);

/* Stops the firmware (quit; QEMU is waited for) and frees LINK; NULL is a no-op. */
void sn_mcu_close(sn_mcu_link *link);

/* The value of KEY=... in REPLY (the first one): 0, or -1 when absent. */
int sn_mcu_field_u64(const char *reply, const char *key, uint64_t *value);
int sn_mcu_field_text(const char *reply, const char *key, char *buf, size_t buf_bytes);

/* One inference's figures as the firmware reports them (infer N W): instructions are QEMU's
 * -icount clock (emulated), bytes are counted by the firmware's kernel slots. */
typedef struct sn_mcu_infer_result {
    uint32_t classes;
    float logits[16];
    uint64_t instructions;      /* per inference: the minimum over the N timed ones */
    uint64_t instructions_max;
    uint64_t macs;
    uint64_t near_bytes, far_bytes;             /* weight bytes of the views, per inference */
    uint64_t near_read_bytes, far_read_bytes;   /* weight bytes the kernels read */
    uint64_t stack_peak, arena_bytes, static_bytes, heap_used;
} sn_mcu_infer_result;

/* prepare CONFIG: 0 planned (*ARENA_BYTES its arena), 1 the SubNet does not fit the SRAM the
 * board leaves (ERR says by how much), -1 an error. */
int sn_mcu_prepare(sn_mcu_link *link, const char *config, uint64_t *arena_bytes, char *err,
                   size_t err_bytes);

/* Loads the input canvas (SIDE x SIDE pixels). Over QEMU's link, when FILE is not NULL, the
 * firmware reads it from FILE at byte OFFSET through semihosting (QEMU's UART carries only
 * about 10-20 KB/s); otherwise it goes over the link as hex (load). Returns 0 or -1. */
int sn_mcu_load(sn_mcu_link *link, const uint8_t *canvas, uint32_t side, const char *file,
                uint64_t offset, char *err, size_t err_bytes);

/* infer N W on the loaded canvas. Returns 0 or -1. */
int sn_mcu_infer(sn_mcu_link *link, uint32_t n, uint32_t w, sn_mcu_infer_result *result,
                 char *err, size_t err_bytes);

/* SubGraph residency: the int8 weight views of PLAN (planned on the same image bytes the
 * device holds, IMAGE) as byte ranges of the image, through sn_windex_place_plan's walk
 * (layers, ARAC prefix at both levels; the fp32 gate stays in flash); a range inside
 * another is dropped. Returns the number of ranges (at most MAX). */
uint32_t sn_mcu_subgraph_ranges(const sn_plan *plan, const void *image, uint64_t ranges[][2],
                                uint32_t max);

/* Empties the device's weight cache, then copies RANGES into it, in order, as far as the
 * cache holds them. *NEAR_BYTES: the bytes made resident. Returns 0 or -1. */
int sn_mcu_make_resident(sn_mcu_link *link, const uint64_t ranges[][2], uint32_t count,
                         uint64_t *near_bytes, char *err, size_t err_bytes);

/* A serving session (the harness's MCU platform, harness/sn_serve.c): the board's firmware
 * with an int8-only image of the serving set in its flash, a weight cache of CACHE_BYTES,
 * one plan on the device at a time (re-planned when the served SubNet changes; prepare is
 * not charged to the query: a documented limitation). */
typedef struct sn_mcu_session sn_mcu_session;

/* Boots the board (PORT: a real board, else QEMU with BUILD/mcu/supernav-mcu-NAME.elf),
 * keeps the CONFIGS (int8) whose arena fits the SRAM the cache leaves and whose image
 * fits the flash (KEEP[i] = 1; when the flash is short, the last configs go first: the
 * largest, in the harness's order). CACHE_BYTES: a multiple of 64, or SIZE_MAX: the SRAM
 * the largest kept config's arena leaves (in 64-byte lines). Returns 0, or -1 with one line
 * in ERR (no config fits, the cache leaves no SRAM, no qemu, ...). */
int sn_mcu_session_open(sn_mcu_session **session, const char *board, const char *port,
                        const char *build, const sn_model *model, const char *const *configs,
                        uint32_t count, size_t cache_bytes, uint8_t *keep, char *err,
                        size_t err_bytes);
void sn_mcu_session_close(sn_mcu_session *session);

/* Makes config I's SubGraph resident (I < 0: none). *BYTES: the bytes copied into SRAM;
 * *MODEL_US: the copy's modelled time (emulated instructions through the board's model). */
int sn_mcu_session_subgraph(sn_mcu_session *session, int i, uint64_t *bytes, double *model_us,
                            char *err, size_t err_bytes);

/* SUSHI's SubGraph as weight slices: a leading box of an int8 conv tensor of the session's
 * image (OFFSET: where its data starts in the image; O output channels x I input channels,
 * depthwise: O channels and I 0; the centred K x K crop). */
typedef struct sn_mcu_box {
    uint64_t offset;
    int32_t o, i, k;
} sn_mcu_box;

/* Makes exactly BOXES resident (the firmware's `slices`: the boxes resident before are cut
 * to what these keep and only the rest is read from flash). *FLASH_BYTES: the bytes read
 * from flash; *CACHE_USED: the boxes' bytes; *MODEL_US: the copy's modelled time (its
 * emulated instructions, the moves within SRAM among them, and its flash reads through the
 * board's model). Returns 0 or -1. */
int sn_mcu_session_slices(sn_mcu_session *session, const sn_mcu_box *boxes, uint32_t count,
                          uint64_t *flash_bytes, uint64_t *cache_used, double *model_us, char *err,
                          size_t err_bytes);

/* The tensor NAME of the session's image and where its data starts in it: 0, or -1. */
int sn_mcu_session_tensor(const sn_mcu_session *session, const char *name, uint64_t *offset,
                          sn_tensor *tensor);

/* Output channels per near/far unit of the firmware's split views (m-info slice_quantum). */
uint32_t sn_mcu_session_slice_quantum(const sn_mcu_session *session);

/* One inference of config I on a canvas (FILE at OFFSET over QEMU, else CANVAS over the
 * link): logits and counts in *R, *MODEL_US its modelled latency (sn_mcu_cycles). */
int sn_mcu_session_infer(sn_mcu_session *session, uint32_t i, const uint8_t *canvas,
                         const char *file, uint64_t offset, sn_mcu_infer_result *r,
                         double *model_us, char *err, size_t err_bytes);

/* Reads and validates a deployment image (PATH) into *BYTES (malloc'd) and MODEL. Returns
 * 0, or -1 with one line in ERR. For the host tools. */
int sn_mcu_read_model(const char *path, void **bytes, sn_model *model, char *err, size_t err_bytes);

/* The modelled time of the re-plan the last sn_mcu_session_infer did (the firmware holds one
 * plan, so a query for another SubNet than the previous one plans it first: the prepare's
 * emulated instructions through the board's model), or 0 when it served the same SubNet. */
double sn_mcu_session_plan_us(const sn_mcu_session *session);

/* The board profile and a description of the session, for run contexts. */
const sn_mcu_board *sn_mcu_session_board(const sn_mcu_session *session);

/* What the session takes: the firmware's code and the image in flash, and the SRAM weight
 * cache it reserved (bytes). */
void sn_mcu_session_memory(const sn_mcu_session *session, uint64_t *code_bytes, uint64_t *image_bytes,
                           uint64_t *cache_bytes);

/* Peak SRAM of the last inference: static + heap + arena + weight cache in use + stack
 * high-water mark. */
uint64_t sn_mcu_sram_peak(const sn_mcu_infer_result *r, uint64_t cache_used);

#endif
