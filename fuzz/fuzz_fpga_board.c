/* Fuzz target: FPGA board files (platforms/fpga/sn_fpga.c), as `supernav eval|replay
 * --platform fpga --board FILE` read them: parsed, checked against its own DSPs and
 * memories, then used: the accelerator model is created for the tiny SuperNet, each of its
 * SubNets planned in int8, made resident in the persistent buffer and run once through the
 * cycle model, and the energy of the counted traffic computed. Entry: sn_fpga_board_parse
 * (behind sn_fpga_board_load). */
#include <stdlib.h>

#include "sn_engine.h"
#include "sn_fpga.h"
#include "sn_fuzz.h"

static void run(const sn_model *m, const sn_fpga_board *board)
{
    sn_fpga *f;
    sn_platform plat;
    char err[512];
    uint32_t i, kind;
    if (sn_fpga_create(m, board, NULL, &f, err, sizeof err) != 0)
        return;
    sn_fpga_platform(f, &plat);
    for (i = 0; i < m->config_count; ++i) {
        const char *text, *why = NULL;
        sn_config cfg;
        size_t need = 0, loaded = 0;
        void *arena = NULL;
        sn_plan *plan = malloc(sizeof *plan);
        if (plan && sn_model_config(m, i, &kind, &text) == SN_OK && sn_config_parse(text, &cfg) == SN_OK &&
            sn_plan_arena_bytes_p(m, &cfg, SN_INT8, &need) == SN_OK && posix_memalign(&arena, 64, need) == 0 &&
            sn_plan_prepare_p(plan, m, &cfg, SN_INT8, arena, need, &why) == SN_OK) {
            uint8_t canvas[16 * 16];
            float logits[16];
            sn_fpga_stats st;
            sn_fpga_energy e;
            size_t k;
            for (k = 0; k < sizeof canvas; ++k)
                canvas[k] = (uint8_t)(k * 29u);
            (void)sn_fpga_make_resident(f, plan, &loaded);
            sn_fpga_begin_inference(f);
            (void)sn_plan_invoke(plan, &plat, canvas, logits, NULL, NULL);
            sn_fpga_stats_get(f, &st);
            sn_fpga_energy_of(sn_fpga_board_of(f), &st, st.cycles, &e);
            if (i == 1)
                sn_fpga_evict_all(f);
        }
        free(arena);
        free(plan);
    }
    sn_fpga_destroy(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const sn_model *m = sn_fuzz_tiny_model();
    sn_fpga_board *board = malloc(sizeof *board);
    char err[512];
    if (board && sn_fpga_board_parse((const char *)data, size, "fuzz.board", board, err, sizeof err) == 0 &&
        sn_fpga_board_check(board, (size_t)(board->persist_buffer_kib * 1024.0), err, sizeof err) == 0) {
        (void)sn_fpga_ddr_bytes_per_cycle(board);
        (void)sn_fpga_us_per_cycle(board);
        run(m, board);
    }
    free(board);
    return 0;
}
