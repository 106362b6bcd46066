/* The FPGA accelerator model as a system under test (harness/sn_sut.h): int8 plans whose
 * outputs the CPU platform's int8 kernels compute (bit-exact with the reference) inside
 * the model's slots; times are the model's cycles, near memory its persistent on-chip
 * SubGraph buffer, far memory modelled DDR. Nothing here is measured. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cpu.h"
#include "sn_energy.h"
#include "sn_fpga.h"
#include "sn_sut.h"

#define FPGA_PROPS 9

typedef struct fpga_sut {
    sn_sut base;
    sn_fpga_board board;
    sn_cpu *cpu;                 /* the compute kernels */
    sn_platform compute, platform;
    sn_fpga *fpga;
    uint32_t classes;
    float *logits;
    size_t budget;
    char slug[64];
    char pe_text[32], model_text[256], energy_name[48];
    sn_energy_model energy;
    sn_run_property props[FPGA_PROPS];
    sn_fpga_stats total;         /* the inferences and charged moves since account_reset */
    size_t loaded;               /* the last resident(): bytes loaded, and its DDR cycles */
    uint64_t load_cycles;
} fpga_sut;

extern const sn_sut_ops sn_sut_fpga;

static void fpga_close(sn_sut *sut)
{
    fpga_sut *s = (fpga_sut *)sut;
    if (!s)
        return;
    sn_fpga_destroy(s->fpga);
    sn_cpu_destroy(s->cpu);
    free(s->logits);
    free(s);
}

static sn_status fpga_open(sn_sut **out, const sn_sut_set *set, const sn_sut_options *o, uint8_t *keep,
                           char *err, size_t n)
{
    sn_fpga_options fo;
    sn_cpu_options co;
    const char *why = "";
    const sn_fpga_board *b;
    fpga_sut *s;
    uint32_t i;
    char ferr[1024];
    sn_status st = sn_sut_check_options(&sn_sut_fpga, o, err, n);
    if (st != SN_OK)
        return st;
    if (set->precision != SN_INT8)
        return sn_sut_fail(SN_ERR_UNSUPPORTED, err, n, "platform fpga serves int8 plans only");
    s = calloc(1, sizeof *s);
    if (!s)
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    s->base.ops = &sn_sut_fpga;
    s->classes = set->model->arch.num_classes;
    s->logits = malloc((s->classes ? s->classes : 1) * sizeof *s->logits);
    if (!s->logits) {
        fpga_close(&s->base);
        return sn_sut_fail(SN_ERR_NO_MEMORY, err, n, "out of memory");
    }
    st = sn_fpga_board_load(o->board ? o->board : "platforms/fpga/boards/zcu104.board", &s->board, ferr,
                            sizeof ferr);
    if (st != SN_OK) {
        fpga_close(&s->base);
        return sn_sut_fail(st, err, n, "%s", ferr);
    }
    sn_cpu_options_default(&co);
    st = sn_cpu_create(set->model, &co, &s->cpu, &why);
    if (st != SN_OK) {
        fpga_close(&s->base);
        return sn_sut_fail(st, err, n, "platform fpga: its cpu compute kernels: %s", why);
    }
    sn_cpu_platform(s->cpu, &s->compute);
    sn_fpga_options_default(&fo);
    fo.compute = &s->compute;
    fo.persist_bytes = o->near_budget_bytes;
    fo.pe_rows = o->pe_rows;
    fo.pe_cols = o->pe_cols;
    st = sn_fpga_create(set->model, &s->board, &fo, &s->fpga, ferr, sizeof ferr);
    if (st != SN_OK) {
        fpga_close(&s->base);
        return sn_sut_fail(st, err, n, "platform fpga: %s", ferr);
    }
    sn_fpga_platform(s->fpga, &s->platform);
    s->budget = sn_fpga_persist_capacity(s->fpga);
    b = sn_fpga_board_of(s->fpga);
    /* the variant names the board, the PE array and the board file's contents */
    snprintf(s->slug, sizeof s->slug, "%.24s-%dx%d-%08x", s->board.name, b->pe_rows, b->pe_cols,
             (unsigned)s->board.text_hash);
    /* the flags and the board's constants that the figures depend on */
    snprintf(s->pe_text, sizeof s->pe_text, "%dx%d", b->pe_rows, b->pe_cols);
    snprintf(s->model_text, sizeof s->model_text, "model:fpga-cycle-model(%s, %s PEs, %g MHz, DDR %g GB/s x %g, "
             "persistent buffer %.0f KiB); platforms/fpga/README.md", b->name, s->pe_text, b->clock_mhz,
             b->ddr_peak_gbps, b->ddr_efficiency, b->persist_buffer_kib);
    s->props[0] = (sn_run_property){"board", b->path, 0};
    s->props[1] = (sn_run_property){"board_name", b->name, 0};
    s->props[2] = (sn_run_property){"pe", s->pe_text, 0};
    s->props[3] = (sn_run_property){"pe_rows", NULL, (double)b->pe_rows};
    s->props[4] = (sn_run_property){"pe_cols", NULL, (double)b->pe_cols};
    s->props[5] = (sn_run_property){"near_kib", NULL, (double)s->budget / 1024.0};
    s->props[6] = (sn_run_property){"clock_mhz", NULL, b->clock_mhz};
    s->props[7] = (sn_run_property){"ddr_bytes_per_cycle", NULL, sn_fpga_ddr_bytes_per_cycle(b)};
    s->props[8] = (sn_run_property){"latency_source", s->model_text, 0};
    /* the board's per-access energies, weights only (account() holds the full account:
     * activations, tile buffers, static power) */
    snprintf(s->energy_name, sizeof s->energy_name, "fpga-%.24s-weights", b->name);
    s->energy = (sn_energy_model){s->energy_name, b->e_mac_pj, b->e_ddr_pj_per_byte, b->e_persist_pj_per_byte};
    for (i = 0; i < set->n; ++i)
        keep[i] = 1;
    *out = &s->base;
    return SN_OK;
}

static void fpga_describe(const sn_sut *sut, sn_sut_desc *d)
{
    const fpga_sut *s = (const fpga_sut *)sut;
    memset(d, 0, sizeof *d);
    d->name = "fpga";
    d->variant = s->slug;
    d->clock = SN_SUT_CLOCK_MODEL;
    d->precision = SN_INT8;
    d->near_budget_bytes = s->budget;
    d->near_memory = "modelled persistent SubGraph buffer on chip (near_budget_bytes)";
    d->far_memory = "modelled DDR";
    d->device_key = "isa";
    d->device_value = s->slug;
    d->latency_source = "model:fpga cycle model (platforms/fpga), cycles / clock, one inference";
    d->model_clock = "virtual:fpga-cycle-model(modelled cycles per SubNet and SubGraph)";
    d->real_time_refusal = "the accelerator model has only modelled time (--modelled)";
    d->slice_quantum = sn_fpga_board_of(s->fpga)->pe_cols; /* a tile is C output channels */
    d->energy = &s->energy;
    d->properties = s->props;
    d->property_count = FPGA_PROPS;
}

static sn_status fpga_resident(sn_sut *sut, int32_t i, const sn_plan *plan, int charge, sn_sut_moved *m,
                               char *err, size_t n)
{
    fpga_sut *s = (fpga_sut *)sut;
    size_t bytes = 0;
    sn_fpga_stats st;
    const double us = sn_fpga_us_per_cycle(sn_fpga_board_of(s->fpga));
    sn_fpga_stats_reset(s->fpga);
    sn_fpga_evict_all(s->fpga);
    if (i >= 0 && plan) {
        sn_status rc = sn_fpga_make_resident(s->fpga, plan, &bytes);
        if (rc != SN_OK)
            return sn_sut_fail(rc, err, n, "platform fpga: cannot make the weights resident: %s",
                               sn_status_str(rc));
    }
    sn_fpga_stats_get(s->fpga, &st);
    s->loaded = bytes;
    s->load_cycles = st.load_cycles;
    m->bytes = bytes;
    m->us = (double)st.load_cycles * us;
    if (charge && i >= 0) { /* the switch's DDR load, in the run's account */
        s->total.ddr_weight_bytes += bytes;
        s->total.persist_write_bytes += bytes;
        s->total.load_cycles += st.load_cycles;
    }
    return SN_OK;
}

/* SUSHI's SubGraph as slices: only the difference with what is resident is loaded. */
static sn_status fpga_resident_slices(sn_sut *sut, const sn_sut_slice *sl, uint32_t count, int charge,
                                      uint8_t *placed, sn_sut_moved *m, char *err, size_t n)
{
    fpga_sut *s = (fpga_sut *)sut;
    size_t bytes = 0;
    sn_fpga_stats st;
    sn_status rc;
    sn_fpga_stats_reset(s->fpga);
    rc = sn_fpga_set_resident(s->fpga, sl, count, placed, &bytes);
    if (rc != SN_OK)
        return sn_sut_fail(rc, err, n, "platform fpga: cannot make the slices resident: %s", sn_status_str(rc));
    sn_fpga_stats_get(s->fpga, &st);
    s->loaded = bytes;
    s->load_cycles = st.load_cycles;
    m->bytes = bytes;
    m->us = (double)st.load_cycles * sn_fpga_us_per_cycle(sn_fpga_board_of(s->fpga));
    if (charge) {
        s->total.ddr_weight_bytes += bytes;
        s->total.persist_write_bytes += bytes;
        s->total.load_cycles += st.load_cycles;
    }
    return SN_OK;
}

static void add_stats(sn_fpga_stats *t, const sn_fpga_stats *s)
{
    t->cycles += s->cycles;
    t->compute_cycles += s->compute_cycles;
    t->macs += s->macs;
    t->layers += s->layers;
    t->ddr_weight_bytes += s->ddr_weight_bytes;
    t->ddr_act_bytes += s->ddr_act_bytes;
    t->persist_read_bytes += s->persist_read_bytes;
    t->buffer_bytes += s->buffer_bytes;
    t->persist_write_bytes += s->persist_write_bytes;
    t->load_cycles += s->load_cycles;
}

static sn_status fpga_infer(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp,
                            sn_sut_result *r, char *err, size_t n)
{
    fpga_sut *s = (fpga_sut *)sut;
    sn_fpga_stats st;
    sn_status rc;
    (void)i;
    memset(r, 0, sizeof *r);
    r->device_us = -1.0;
    sn_fpga_stats_reset(s->fpga);
    rc = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    if (rc != SN_OK)
        return sn_sut_fail(rc, err, n, "platform fpga: %s", sn_status_str(rc));
    sn_fpga_stats_get(s->fpga, &st);
    r->near_bytes = st.persist_read_bytes;
    r->far_bytes = st.ddr_weight_bytes;
    r->cycles = st.cycles;
    r->us = (double)st.cycles * sn_fpga_us_per_cycle(sn_fpga_board_of(s->fpga));
    add_stats(&s->total, &st);
    r->logits = s->logits;
    r->classes = s->classes;
    r->prediction = sn_sut_argmax(s->logits, s->classes);
    return SN_OK;
}

static sn_status fpga_estimate(sn_sut *sut, uint32_t i, sn_plan *plan, const sn_sut_sample *smp, double *us,
                               char *err, size_t n)
{
    fpga_sut *s = (fpga_sut *)sut;
    sn_fpga_stats st;
    sn_status rc;
    (void)i;
    sn_fpga_stats_reset(s->fpga);
    rc = sn_plan_invoke(plan, &s->platform, smp->canvas, s->logits, NULL, NULL);
    if (rc != SN_OK)
        return sn_sut_fail(rc, err, n, "platform fpga: %s", sn_status_str(rc));
    sn_fpga_stats_get(s->fpga, &st);
    *us = (double)st.cycles * sn_fpga_us_per_cycle(sn_fpga_board_of(s->fpga));
    return SN_OK;
}

static void fpga_account_reset(sn_sut *sut)
{
    memset(&((fpga_sut *)sut)->total, 0, sizeof ((fpga_sut *)sut)->total);
}

/* the accelerator model's account of the run: every query's convolutions and the SubGraph
 * switches' DDR loads; static power over the run's span (first arrival to last end, idle
 * time included) and over the busy time */
static void fpga_account(sn_sut *sut, cJSON *root, double span_us)
{
    const fpga_sut *s = (const fpga_sut *)sut;
    const sn_fpga_board *b = sn_fpga_board_of(s->fpga);
    const sn_fpga_stats *t = &s->total;
    double us = sn_fpga_us_per_cycle(b);
    uint64_t span = (uint64_t)(span_us / us);
    sn_fpga_energy e;
    cJSON *fc = cJSON_AddObjectToObject(root, "fpga");
    sn_fpga_energy_of(b, t, span, &e);
    cJSON_AddStringToObject(fc, "source", "model:fpga cycle model and per-access energy model "
                                          "(platforms/fpga/README.md); nothing here is measured");
    cJSON_AddStringToObject(fc, "board", b->path);
    cJSON_AddStringToObject(fc, "board_name", b->name);
    cJSON_AddNumberToObject(fc, "pe_rows", b->pe_rows);
    cJSON_AddNumberToObject(fc, "pe_cols", b->pe_cols);
    cJSON_AddNumberToObject(fc, "clock_mhz", b->clock_mhz);
    cJSON_AddNumberToObject(fc, "persist_buffer_bytes", (double)sn_fpga_persist_capacity(s->fpga));
    cJSON_AddNumberToObject(fc, "cycles", (double)t->cycles);
    cJSON_AddNumberToObject(fc, "compute_cycles", (double)t->compute_cycles);
    cJSON_AddNumberToObject(fc, "switch_load_cycles", (double)t->load_cycles);
    cJSON_AddNumberToObject(fc, "macs", (double)t->macs);
    cJSON_AddNumberToObject(fc, "ddr_weight_bytes", (double)t->ddr_weight_bytes);
    cJSON_AddNumberToObject(fc, "ddr_act_bytes", (double)t->ddr_act_bytes);
    cJSON_AddNumberToObject(fc, "persist_read_bytes", (double)t->persist_read_bytes);
    cJSON_AddNumberToObject(fc, "persist_write_bytes", (double)t->persist_write_bytes);
    cJSON_AddNumberToObject(fc, "buffer_bytes", (double)t->buffer_bytes);
    cJSON_AddNumberToObject(fc, "span_us", (double)span * us);
    cJSON_AddNumberToObject(fc, "energy_mac_uj", e.mac_pj / 1e6);
    cJSON_AddNumberToObject(fc, "energy_buffer_uj", e.buffer_pj / 1e6);
    cJSON_AddNumberToObject(fc, "energy_persist_uj", e.persist_pj / 1e6);
    cJSON_AddNumberToObject(fc, "energy_offchip_uj", e.offchip_pj / 1e6);
    cJSON_AddNumberToObject(fc, "energy_static_span_uj", e.static_pj / 1e6);
    cJSON_AddNumberToObject(fc, "energy_static_busy_uj",
                            b->static_power_w * (double)(t->cycles + t->load_cycles) * us);
    cJSON_AddNumberToObject(fc, "energy_dynamic_uj", (e.total_pj - e.static_pj) / 1e6);
    cJSON_AddNumberToObject(fc, "energy_total_uj", e.total_pj / 1e6);
}

/* eval: the model's figures per inference, its energy, and the board's constants */
static void fpga_report(sn_sut *sut, size_t n, cJSON *j, char *text, size_t text_bytes)
{
    const fpga_sut *s = (const fpga_sut *)sut;
    const sn_fpga_board *b = sn_fpga_board_of(s->fpga);
    const sn_fpga_stats *t = &s->total;
    double dn = n ? (double)n : 1.0, cyc = (double)t->cycles / dn, us = sn_fpga_us_per_cycle(b);
    double util = t->cycles ? (double)t->macs / ((double)t->cycles * b->pe_rows * b->pe_cols) : 0.0;
    char pe[32], src[256];
    sn_fpga_energy e;
    size_t k, w;
    sn_fpga_energy_of(b, t, t->cycles, &e);
    snprintf(pe, sizeof pe, "%dx%d", b->pe_rows, b->pe_cols);
    snprintf(src, sizeof src, "model:fpga-cycle-model(%s, %dx%d PEs, %g MHz); energy model:horowitz45 per-access "
             "+ static power x modelled time", b->name, b->pe_rows, b->pe_cols, b->clock_mhz);
    cJSON_AddStringToObject(j, "board", b->path);
    cJSON_AddStringToObject(j, "board_name", b->name);
    cJSON_AddStringToObject(j, "pe", pe);
    cJSON_AddNumberToObject(j, "clock_mhz", b->clock_mhz);
    cJSON_AddNumberToObject(j, "persist_kib", round(b->persist_buffer_kib * 10.0) / 10.0);
    cJSON_AddNumberToObject(j, "modelled_us", round(cyc * us * 1e3) / 1e3);
    cJSON_AddNumberToObject(j, "cycles", round(cyc));
    cJSON_AddNumberToObject(j, "compute_cycles", round((double)t->compute_cycles / dn));
    cJSON_AddNumberToObject(j, "pe_utilisation", round(util * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "ddr_weight_bytes", round((double)t->ddr_weight_bytes / dn));
    cJSON_AddNumberToObject(j, "ddr_act_bytes", round((double)t->ddr_act_bytes / dn));
    cJSON_AddNumberToObject(j, "persist_read_bytes", round((double)t->persist_read_bytes / dn));
    cJSON_AddNumberToObject(j, "buffer_bytes", round((double)t->buffer_bytes / dn));
    cJSON_AddNumberToObject(j, "subgraph_load_bytes", (double)s->loaded);
    cJSON_AddNumberToObject(j, "subgraph_load_us", round((double)s->load_cycles * us * 1e3) / 1e3);
    cJSON_AddNumberToObject(j, "energy_uj", round(e.total_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "energy_mac_uj", round(e.mac_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "energy_buffer_uj", round(e.buffer_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "energy_persist_uj", round(e.persist_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "energy_offchip_uj", round(e.offchip_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddNumberToObject(j, "energy_static_uj", round(e.static_pj / 1e6 / dn * 1e4) / 1e4);
    cJSON_AddStringToObject(j, "model_source", src);
    w = (size_t)snprintf(text, text_bytes,
        "fpga      MODELLED: %s (%s), %dx%d PEs at %g MHz, persistent SubGraph buffer %.0f KiB "
        "(%zu bytes of this SubNet's weights loaded in %.1f us before the first query)\n"
        "modelled  %.3f us per inference (%.0f cycles; PE array busy %.0f, utilisation %.1f %%)\n"
        "bytes     per inference: off-chip weights %.0f, off-chip activations %.0f, persistent-buffer "
        "reads %.0f, tile-buffer accesses %.0f\n"
        "energy    %.3f uJ per inference (model): MACs %.3f, tile buffers %.3f, persistent buffer %.3f, "
        "off-chip %.3f, static %.3f\n"
        "outputs   computed by the cpu platform's int8 kernels (bit-exact with the reference int8)\n"
        "board     %s\n",
        b->name, b->device, b->pe_rows, b->pe_cols, b->clock_mhz, b->persist_buffer_kib, s->loaded,
        (double)s->load_cycles * us, cyc * us, cyc, (double)t->compute_cycles / dn, 100.0 * util,
        (double)t->ddr_weight_bytes / dn, (double)t->ddr_act_bytes / dn, (double)t->persist_read_bytes / dn,
        (double)t->buffer_bytes / dn, e.total_pj / 1e6 / dn, e.mac_pj / 1e6 / dn, e.buffer_pj / 1e6 / dn,
        e.persist_pj / 1e6 / dn, e.offchip_pj / 1e6 / dn, e.static_pj / 1e6 / dn, b->path);
    for (k = 0; k < b->entry_count && w < text_bytes; ++k)
        w += (size_t)snprintf(text + w, text_bytes - w, "  %-24s %-20s %s\n", b->entries[k].key,
                              b->entries[k].value, b->entries[k].source);
}

const sn_sut_ops sn_sut_fpga = {
    "fpga", "an FPGA accelerator's cycle model, int8 (--board FILE, --pe ROWSxCOLS)", SN_INT8,
    SN_SUT_TAKES_BOARD | SN_SUT_TAKES_PE,
    fpga_open, fpga_describe, fpga_resident, fpga_infer, fpga_account_reset, fpga_account, fpga_report,
    fpga_close, fpga_resident_slices, fpga_estimate};
