/* The MCU platform as a system under test (harness/sn_sut.h): a board profile's serving
 * firmware under QEMU (or a real board on --port), int8; near memory is the board's SRAM
 * weight cache, far memory the int8-only image in its flash, read in place; times are the
 * emulated instruction counts through the board's cycle model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_energy.h"
#include "sn_mcu_host.h"
#include "sn_sut.h"

typedef struct mcu_sut {
    sn_sut base;
    sn_mcu_session *session;
    size_t budget;
    char latency_source[400];
} mcu_sut;

extern const sn_sut_ops sn_sut_mcu;

static void mcu_close(sn_sut *sut)
{
    mcu_sut *s = (mcu_sut *)sut;
    if (!s)
        return;
    sn_mcu_session_close(s->session);
    free(s);
}

static sn_status mcu_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                          char *err, size_t n)
{
    mcu_sut *s;
    sn_status st = sn_sut_check_options(&sn_sut_mcu, o, err, n);
    if (st != SN_OK)
        return st;
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_mcu;
    s->budget = o->near_budget_bytes;
    if (sn_mcu_session_open(&s->session, o->board, o->port, o->build_dir, set->model, set->configs, set->n,
                            o->near_budget_bytes / 64 * 64, keep, err, n) != 0) {
        mcu_close(&s->base);
        return SN_ERR_NO_DEVICE;
    }
    sn_mcu_model_text(sn_mcu_session_board(s->session), s->latency_source, sizeof s->latency_source);
    *out = &s->base;
    return SN_OK;
}

static void mcu_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const mcu_sut *s = (const mcu_sut *)sut;
    const sn_mcu_board *b = sn_mcu_session_board(s->session);
    memset(d, 0, sizeof *d);
    d->name = "mcu";
    d->variant = b->name;
    d->clock = SN_SUT_CLOCK_EMULATED;
    d->precision = SN_INT8;
    d->near_budget_bytes = s->budget;
    d->near_memory = "int8 weights copied into the board's SRAM weight cache (near_budget_bytes)";
    d->far_memory = "the int8-only image in the board's flash, read in place";
    d->device_key = "board";
    d->device_value = b->part;
    d->profile_board = b->part;
    d->latency_source = s->latency_source;
    d->instructions_source = "emulated:qemu-icount";
    d->virtual_clock = "virtual:mcu-cycle-model(service times: instructions counted by QEMU x CPI + flash "
                       "wait states, the board's model; platforms/mcu)";
    d->real_time_refusal = "(each query's emulated instructions through the board's cycle model)";
    d->energy = &sn_energy_model_cpu_int8;
    d->replans = 1;
}

static sn_status mcu_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                              char *err, size_t n)
{
    mcu_sut *s = (mcu_sut *)sut;
    uint64_t copied = 0;
    double us = 0.0;
    (void)plan;
    (void)charge;
    if (sn_mcu_session_subgraph(s->session, i, &copied, &us, err, n) != 0)
        return SN_ERR_IO;
    m->bytes = copied;
    m->us = us;
    return SN_OK;
}

static sn_status mcu_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                           sn_sut_result *r, char *err, size_t n)
{
    mcu_sut *s = (mcu_sut *)sut;
    sn_mcu_infer_result mr;
    double us = 0.0;
    (void)plan;
    memset(r, 0, sizeof *r);
    r->device_us = -1.0;
    if (sn_mcu_session_infer(s->session, i, smp->canvas, smp->file, smp->file_offset, &mr, &us, err, n) != 0)
        return SN_ERR_IO;
    r->us = us;
    r->plan_us = sn_mcu_session_plan_us(s->session);
    r->near_bytes = mr.near_bytes;
    r->far_bytes = mr.far_bytes;
    r->prediction = sn_sut_argmax(mr.logits, mr.classes < 16 ? mr.classes : 16);
    return SN_OK;
}

const sn_sut_ops sn_sut_mcu = {
    "mcu", "a microcontroller board's firmware under QEMU or on --port, int8 (--board l4r5|f746|h743|m55)",
    SN_INT8, SN_SUT_TAKES_BOARD | SN_SUT_TAKES_PORT,
    mcu_open, mcu_describe, mcu_resident, mcu_infer, NULL, NULL, NULL, mcu_close, NULL, NULL};
