/* The FPGA platform (platforms/fpga): outputs bit-exact with the reference int8 kernels on the
 * golden inputs for every SubNet and ARAC config of the image (computing with the reference
 * and with the CPU platform's kernels, with and without a resident SubGraph); every layer's
 * modelled cycles at or above its roofline bounds (MACs / PEs, DDR bytes / DDR bytes per
 * cycle) on both boards and several PE shapes and buffer sizes; a persistent buffer holding
 * the whole SubNet makes its off-chip weight traffic zero after the load; the board parser
 * names the file and line of what is wrong. Model: $SN_MODEL; inputs: $SN_GOLDEN. */
#include "sn_test.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sn_cpu.h"
#include "sn_engine.h"
#include "sn_file.h"
#include "sn_fpga.h"
#include "sn_safetensors.h"

static void *model_bytes, *golden_bytes;
static size_t model_size, golden_size;
static sn_model model;
static sn_safetensors golden;
static sn_fpga_board zcu104, u250;

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int setup(void **state)
{
    char err[512];
    (void)state;
    if (sn_read_file(env_or("SN_MODEL", "build/supernet.snm"), &model_bytes, &model_size) != 0 ||
        sn_model_load(&model, model_bytes, model_size, NULL) != SN_OK ||
        sn_read_file(env_or("SN_GOLDEN", "workloads/supernet/golden.safetensors"), &golden_bytes, &golden_size) != 0 ||
        sn_safetensors_parse(golden_bytes, golden_size, &golden, err, sizeof err) != 0)
        return -1;
    if (sn_fpga_board_load("platforms/fpga/boards/zcu104.board", &zcu104, err, sizeof err) != 0 ||
        sn_fpga_board_load("platforms/fpga/boards/u250.board", &u250, err, sizeof err) != 0) {
        fprintf(stderr, "# %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sn_safetensors_free(&golden);
    free(model_bytes);
    free(golden_bytes);
    return 0;
}

typedef struct planned {
    sn_plan plan;
    void *arena;
} planned;

static void prepare(planned *pl, const char *text)
{
    sn_config cfg;
    size_t need;
    const char *why = "";
    assert_int_equal(sn_config_parse(text, &cfg), SN_OK);
    assert_int_equal(sn_plan_arena_bytes_p(&model, &cfg, SN_INT8, &need), SN_OK);
    assert_int_equal(posix_memalign(&pl->arena, 64, need), 0);
    if (sn_plan_prepare_p(&pl->plan, &model, &cfg, SN_INT8, pl->arena, need, &why) != SN_OK)
        fail_msg("%s: %s", text, why);
}

static sn_fpga *make(const sn_fpga_board *b, size_t persist, int32_t rows, int32_t cols, const sn_platform *compute)
{
    sn_fpga_options o;
    sn_fpga *f = NULL;
    char err[512];
    sn_fpga_options_default(&o);
    o.persist_bytes = persist;
    o.pe_rows = rows;
    o.pe_cols = cols;
    o.compute = compute;
    if (sn_fpga_create(&model, b, &o, &f, err, sizeof err) != 0)
        fail_msg("sn_fpga_create: %s", err);
    return f;
}

/* The int8 weight bytes of a plan's convolutions (what the accelerator runs). */
static uint64_t conv_weight_bytes(const sn_plan *p)
{
    uint64_t b = 0;
    uint32_t i, l;
    for (i = 0; i < p->num_layers; ++i)
        b += (uint64_t)sn_conv2d_macs(&p->layers[i].params, p->layers[i].kind == SN_LAYER_DWCONV) /
             ((uint64_t)p->layers[i].params.out_h * (uint64_t)p->layers[i].params.out_w);
    if (p->is_arac)
        for (l = 0; l < p->arac.computed_levels; ++l)
            for (i = 0; i < p->arac.prefix_count; ++i) {
                const sn_layer *x = &sn_arac_prefix(&p->arac, l)[i];
                b += (uint64_t)sn_conv2d_macs(&x->params, x->kind == SN_LAYER_DWCONV) /
                     ((uint64_t)x->params.out_h * (uint64_t)x->params.out_w);
            }
    return b;
}

static void test_outputs_bit_exact(void **state)
{
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    uint32_t c, i, configs = 0, arac = 0, inputs;
    sn_cpu *cpu;
    sn_platform cpu_p;
    (void)state;
    assert_non_null(input);
    inputs = (uint32_t)input->dims[0];
#if defined(__SANITIZE_ADDRESS__)
    /* a sanitizer build checks the memory of every config's and variant's path on 2 inputs; the
     * plain build checks every input's bits */
    if (inputs > 2)
        inputs = 2;
#endif
    assert_int_equal(sn_cpu_create(&model, NULL, &cpu, NULL), SN_OK);
    sn_cpu_platform(cpu, &cpu_p);
    for (c = 0; c < model.config_count; ++c) {
        uint32_t kind, v;
        const char *text;
        planned q;
        sn_model_config(&model, c, &kind, &text);
        prepare(&q, text);
        /* variants: reference kernels, nothing resident | CPU kernels, SubGraph resident |
         * CPU kernels, a small buffer on the U250 with another PE shape */
        for (v = 0; v < 3; ++v) {
            sn_fpga *f = v == 0 ? make(&zcu104, 0, 0, 0, NULL)
                       : v == 1 ? make(&zcu104, SIZE_MAX, 0, 0, &cpu_p)
                                : make(&u250, 64 * 1024, 8, 48, &cpu_p);
            sn_platform p;
            sn_fpga_platform(f, &p);
            if (v > 0)
                assert_int_equal(sn_fpga_make_resident(f, &q.plan, NULL), SN_OK);
            for (i = 0; i < inputs; ++i) {
                const uint8_t *canvas = input->data + (size_t)i * 64 * 64;
                float want[16], got[16];
                sn_fpga_stats st;
                assert_int_equal(sn_plan_invoke(&q.plan, NULL, canvas, want, NULL, NULL), SN_OK);
                sn_fpga_stats_reset(f);
                assert_int_equal(sn_plan_invoke(&q.plan, &p, canvas, got, NULL, NULL), SN_OK);
                if (memcmp(want, got, sizeof(float) * model.arch.num_classes) != 0)
                    fail_msg("%s input %u variant %u: fpga int8 logits differ from the reference int8", text, i, v);
                sn_fpga_stats_get(f, &st);
                assert_true(st.layers > 0 && st.cycles > 0 && st.macs > 0);
            }
            sn_fpga_destroy(f);
        }
        free(q.arena);
        ++configs;
        arac += q.plan.is_arac;
    }
    sn_cpu_destroy(cpu);
    printf("# %u configs (%u ARAC) x %u golden inputs x 3 platform variants: fpga int8 == reference int8 "
           "bit for bit\n", configs, arac, inputs);
    assert_true(configs >= 30 && arac >= 1);
}

static void test_cycles_never_below_roofline(void **state)
{
    static const struct { int board; size_t persist; int32_t r, c; } setups[] = {
        {0, SIZE_MAX, 0, 0}, {0, 0, 0, 0}, {0, 96 * 1024, 16, 64}, {0, SIZE_MAX, 4, 4},
        {1, SIZE_MAX, 0, 0}, {1, 0, 128, 32}, {0, 0, 1, 1},
    };
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    uint32_t c, checked = 0;
    size_t s;
    (void)state;
    for (s = 0; s < sizeof setups / sizeof *setups; ++s) {
        const sn_fpga_board *b = setups[s].board ? &u250 : &zcu104;
        for (c = 0; c < model.config_count; ++c) {
            uint32_t kind;
            const char *text;
            planned q;
            sn_fpga *f;
            sn_platform p;
            const sn_fpga_layer_record *rec;
            const sn_fpga_board *eb;
            size_t k, nrec;
            float logits[16];
            double pes, bpc;
            uint64_t sum = 0;
            sn_fpga_stats st;
            sn_model_config(&model, c, &kind, &text);
            if (c % 3 != s % 3) /* a third of the configs per setup keeps the test short */
                continue;
            prepare(&q, text);
            f = make(b, setups[s].persist, setups[s].r, setups[s].c, NULL);
            eb = sn_fpga_board_of(f);
            pes = (double)eb->pe_rows * eb->pe_cols;
            bpc = sn_fpga_ddr_bytes_per_cycle(eb);
            sn_fpga_platform(f, &p);
            sn_fpga_make_resident(f, &q.plan, NULL);
            sn_fpga_stats_reset(f);
            assert_int_equal(sn_plan_invoke(&q.plan, &p, input->data, logits, NULL, NULL), SN_OK);
            nrec = sn_fpga_layer_records(f, &rec);
            sn_fpga_stats_get(f, &st);
            assert_int_equal(nrec, st.layers); /* no record dropped */
            for (k = 0; k < nrec; ++k) {
                if ((double)rec[k].cycles < (double)rec[k].macs / pes)
                    fail_msg("%s layer %zu: %llu cycles < MACs / PEs = %.1f", text, k,
                             (unsigned long long)rec[k].cycles, (double)rec[k].macs / pes);
                if ((double)rec[k].cycles < (double)rec[k].ddr_bytes / bpc)
                    fail_msg("%s layer %zu: %llu cycles < DDR bytes / bandwidth = %.1f", text, k,
                             (unsigned long long)rec[k].cycles, (double)rec[k].ddr_bytes / bpc);
                assert_true(rec[k].cycles >= rec[k].compute_cycles); /* loads only add */
                sum += rec[k].cycles;
                ++checked;
            }
            assert_int_equal(sum, st.cycles);
            assert_true((double)st.cycles >= (double)st.macs / pes);
            assert_true((double)st.cycles >= (double)(st.ddr_weight_bytes + st.ddr_act_bytes) / bpc);
            sn_fpga_destroy(f);
            free(q.arena);
        }
    }
    printf("# %u layer executions on %zu board/PE/buffer setups: cycles >= MACs/PEs and >= DDR bytes/bandwidth\n",
           checked, sizeof setups / sizeof *setups);
    assert_true(checked > 1000);
}

static void test_whole_subnet_resident_no_weight_traffic(void **state)
{
    const sn_st_tensor *input = sn_safetensors_find(&golden, "input");
    uint32_t c, subnets = 0;
    (void)state;
    for (c = 0; c < model.config_count; ++c) {
        uint32_t kind;
        const char *text;
        planned q;
        sn_fpga *big, *none, *half;
        sn_platform pb, pn, ph;
        sn_fpga_stats sb, sn, sh, load;
        float logits[16];
        size_t loaded = 0;
        uint64_t wbytes;
        sn_model_config(&model, c, &kind, &text);
        prepare(&q, text);
        wbytes = conv_weight_bytes(&q.plan);
        big = make(&zcu104, 4u << 20, 0, 0, NULL);
        none = make(&zcu104, 0, 0, 0, NULL);
        half = make(&zcu104, (size_t)(wbytes / 2), 0, 0, NULL);
        sn_fpga_platform(big, &pb);
        sn_fpga_platform(none, &pn);
        sn_fpga_platform(half, &ph);
        /* the load: every weight of the SubNet (ARAC: both levels) once from DDR */
        assert_int_equal(sn_fpga_make_resident(big, &q.plan, &loaded), SN_OK);
        sn_fpga_stats_get(big, &load);
        assert_int_equal(loaded, load.persist_write_bytes);
        assert_true(load.load_cycles > 0);
        sn_fpga_make_resident(half, &q.plan, NULL);
        sn_fpga_stats_reset(big);
        sn_fpga_stats_reset(half);
        /* then queries: zero off-chip weight bytes, every weight from the persistent buffer */
        assert_int_equal(sn_plan_invoke(&q.plan, &pb, input->data, logits, NULL, NULL), SN_OK);
        assert_int_equal(sn_plan_invoke(&q.plan, &pb, input->data, logits, NULL, NULL), SN_OK);
        assert_int_equal(sn_plan_invoke(&q.plan, &pn, input->data, logits, NULL, NULL), SN_OK);
        assert_int_equal(sn_plan_invoke(&q.plan, &ph, input->data, logits, NULL, NULL), SN_OK);
        sn_fpga_stats_get(big, &sb);
        sn_fpga_stats_get(none, &sn);
        sn_fpga_stats_get(half, &sh);
        if (sb.ddr_weight_bytes != 0)
            fail_msg("%s: %llu off-chip weight bytes with the whole SubNet resident", text,
                     (unsigned long long)sb.ddr_weight_bytes);
        assert_true(sb.persist_read_bytes > 0);
        assert_int_equal(sn.persist_read_bytes, 0);
        assert_true(sn.ddr_weight_bytes > 0);
        /* one inference moves what a resident copy serves twice */
        assert_int_equal(sb.persist_read_bytes, 2 * sn.ddr_weight_bytes);
        /* half a buffer: in between, never slower than nothing resident */
        assert_true(sh.ddr_weight_bytes > 0 && sh.ddr_weight_bytes < sn.ddr_weight_bytes);
        assert_true(sh.cycles <= sn.cycles);
        assert_true(sb.cycles / 2 <= sh.cycles);
        if (!q.plan.is_arac) {
            assert_int_equal(loaded, wbytes);
            assert_int_equal(sn.ddr_weight_bytes, wbytes);
            ++subnets;
        }
        sn_fpga_destroy(big);
        sn_fpga_destroy(none);
        sn_fpga_destroy(half);
        free(q.arena);
    }
    printf("# %u SubNets (and the ARAC configs): whole SubNet resident -> 0 off-chip weight bytes per query\n", subnets);
    assert_true(subnets >= 20);
}

static void expect_error(const char *text, const char *want)
{
    sn_fpga_board b;
    char err[512];
    err[0] = '\0';
    if (sn_fpga_board_parse(text, strlen(text), "bad.board", &b, err, sizeof err) == 0)
        fail_msg("parsed a bad board: %s", text);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    assert_null(strchr(err, '\n'));
}

static void test_board_files(void **state)
{
    char *good, err[512], *line, *p;
    size_t n;
    void *text;
    sn_fpga_board b;
    int32_t r, c;
    (void)state;
    /* the shipped boards: every key with a source, and buffers and PEs that fit the device */
    assert_int_equal(sn_fpga_board_check(&zcu104, (size_t)(zcu104.persist_buffer_kib * 1024), err, sizeof err), SN_OK);
    assert_int_equal(sn_fpga_board_check(&u250, (size_t)(u250.persist_buffer_kib * 1024), err, sizeof err), SN_OK);
    assert_string_equal(zcu104.name, "zcu104");
    assert_true(zcu104.entry_count >= 20);
    for (n = 0; n < zcu104.entry_count; ++n)
        assert_true(!strncmp(zcu104.entries[n].source, "source:", 7) ||
                    !strncmp(zcu104.entries[n].source, "assumption:", 11));
    /* errors name the file and the line */
    assert_int_equal(sn_read_file("platforms/fpga/boards/zcu104.board", &text, &n), 0);
    good = malloc(n + 1);
    memcpy(good, text, n);
    good[n] = '\0';
    free(text);
    assert_int_equal(sn_fpga_board_parse(good, n, "ok.board", &b, err, sizeof err), SN_OK);
    expect_error("name = x\n", "bad.board:1: 'name' has no source");
    expect_error("# c\nname = x ; because\n", "bad.board:2: the source of 'name' must start with");
    expect_error("clock = 3 ; source: x y z w\n", "bad.board:1: unknown key 'clock'");
    expect_error("clock_mhz = fast ; assumption: a guess\n", "bad.board:1: 'clock_mhz' must be a number");
    expect_error("pe_rows = 2.5 ; assumption: a guess\n", "bad.board:1: 'pe_rows' must be an integer");
    expect_error("name = a ; source: the board\nname = b ; source: the board\n", "bad.board:2: 'name' given twice");
    expect_error("name = a ; source: the board\n", "missing key 'device'");
    expect_error("just words\n", "bad.board:1: expected 'key = value");
    /* the good file minus one line: names the missing key */
    line = strstr(good, "\nddr_efficiency");
    assert_non_null(line);
    p = strchr(line + 1, '\n');
    memmove(line, p, strlen(p) + 1);
    assert_int_equal(sn_fpga_board_parse(good, strlen(good), "cut.board", &b, err, sizeof err), SN_ERR_FORMAT);
    assert_non_null(strstr(err, "missing key 'ddr_efficiency'"));
    free(good);
    /* a PE array larger than the DSPs give, buffers larger than the device */
    b = zcu104;
    b.pe_rows = 64;
    b.pe_cols = 64;
    assert_int_equal(sn_fpga_board_check(&b, 0, err, sizeof err), SN_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "PE array"));
    assert_int_equal(sn_fpga_board_check(&zcu104, 8u << 20, err, sizeof err), SN_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "exceed"));
    assert_int_equal(sn_fpga_parse_pe("16x32", &r, &c), 0);
    assert_true(r == 16 && c == 32);
    assert_int_equal(sn_fpga_parse_pe("16", &r, &c), -1);
    assert_int_equal(sn_fpga_parse_pe("0x4", &r, &c), -1);
    assert_int_equal(sn_fpga_parse_pe("4x4x", &r, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_board_files),
        cmocka_unit_test(test_outputs_bit_exact),
        cmocka_unit_test(test_cycles_never_below_roofline),
        cmocka_unit_test(test_whole_subnet_resident_no_weight_traffic),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("fpga_platform", tests, setup, teardown);
}
