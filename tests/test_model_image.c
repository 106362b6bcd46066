/* The deployment image: pack a small interchange file, load it, and check that every kind
 * of damage (truncation, flipped bytes, a wrong version, an absurd shape) is refused with
 * an error status and no out-of-bounds read (each damaged copy is an exact-size heap
 * buffer, so ASan sees any over-read). */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include "sn_model.h"
#include "sn_pack.h"

static const char spec[] =
    "{\\\"format\\\":\\\"supernav-supernet\\\",\\\"version\\\":1,\\\"canvas\\\":64,"
    "\\\"num_classes\\\":10,\\\"stem_c\\\":4,\\\"head_c\\\":8,\\\"k_max\\\":5,"
    "\\\"resolutions\\\":[40,64],\\\"expands\\\":[2,4],\\\"kernels\\\":[3,5],"
    "\\\"stages\\\":[{\\\"out_c\\\":6,\\\"max_depth\\\":2,\\\"min_depth\\\":1,\\\"stride\\\":2}],"
    "\\\"arac\\\":{\\\"prefix_stages\\\":1,\\\"grids\\\":[1,2],\\\"levels_pct\\\":[100,50],"
    "\\\"gate_c\\\":4,\\\"gate_pool\\\":4},\\\"bn_eps\\\":1e-5,"
    "\\\"calibrations\\\":[{\\\"id\\\":0,\\\"kind\\\":\\\"subnet\\\",\\\"config\\\":\\\"r64-d1-e2-k3\\\"}]}";

/* A safetensors file with a dense [2,3,1,2] conv, a depthwise [3,1,5,5] and a vector. */
static unsigned char *make_safetensors(size_t *size)
{
    char header[2048];
    unsigned char *buf;
    size_t hlen, i, nfloat = 12 + 75 + 3;
    int n = snprintf(header, sizeof header,
                     "{\"__metadata__\":{\"supernav_spec\":\"%s\"},"
                     "\"conv\":{\"dtype\":\"F32\",\"shape\":[2,3,1,2],\"data_offsets\":[0,48]},"
                     "\"blk.dw\":{\"dtype\":\"F32\",\"shape\":[3,1,5,5],\"data_offsets\":[48,348]},"
                     "\"calib.0.bn.mean\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[348,360]}}",
                     spec);
    assert_true(n > 0 && (size_t)n < sizeof header);
    hlen = (size_t)n;
    *size = 8 + hlen + nfloat * 4;
    buf = malloc(*size);
    assert_non_null(buf);
    for (i = 0; i < 8; ++i)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    for (i = 0; i < nfloat; ++i) {
        float v = (float)i;
        memcpy(buf + 8 + hlen + 4 * i, &v, 4);
    }
    return buf;
}

static unsigned char *image;
static size_t image_size;

static int setup(void **state)
{
    size_t st_size;
    unsigned char *st = make_safetensors(&st_size);
    char err[256];
    (void)state;
    if (sn_pack_buffer(st, st_size, "kind,config\nsubnet,r64-d1-e2-k3\n", 32, NULL, &image, &image_size, err, sizeof err) != 0) {
        fprintf(stderr, "# pack failed: %s\n", err);
        free(st);
        return -1;
    }
    free(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(image);
    return 0;
}

static sn_status load_copy(const unsigned char *src, size_t n, sn_model_error *e)
{
    sn_model m;
    unsigned char *copy = malloc(n ? n : 1);
    sn_status st;
    assert_non_null(copy);
    memcpy(copy, src, n);
    st = sn_model_load(&m, copy, n, e);
    free(copy);
    return st;
}

static void test_pack_and_load(void **state)
{
    sn_model m;
    sn_tensor t;
    uint32_t kind;
    const char *text;
    const float *f;
    (void)state;
    assert_int_equal(sn_model_load(&m, image, image_size, NULL), SN_OK);
    /* 3 tensors + int8 copies (and scales) of the two convolution weights */
    assert_int_equal(m.tensor_count, 7);
    {
        sn_tensor q, qs;
        uint32_t o, j, per;
        assert_int_equal(sn_model_find(&m, "q8.conv", &q), SN_OK);
        assert_int_equal(sn_model_find(&m, "q8.conv.scale", &qs), SN_OK);
        assert_int_equal(q.dtype, SN_DTYPE_S8);
        assert_int_equal(qs.dtype, SN_DTYPE_F32);
        assert_int_equal(qs.dims[0], 2);
        per = (uint32_t)(q.bytes / 2);
        for (o = 0; o < 2; ++o) { /* symmetric per channel: the largest magnitude maps to 127 */
            int m8 = 0;
            for (j = 0; j < per; ++j) {
                int v = ((const int8_t *)q.data)[o * per + j];
                if (v < 0) v = -v;
                if (v > m8) m8 = v;
            }
            assert_int_equal(m8, 127);
        }
    }
    assert_int_equal(m.arch.stem_c, 4);
    assert_int_equal(m.arch.num_stages, 1);
    assert_true(m.bn_eps > 0.9e-5f && m.bn_eps < 1.1e-5f);
    /* dense OIHW [2,3,1,2] -> OHWI [2,1,2,3]: out[o][0][x][i] = in[o][i][0][x] */
    assert_int_equal(sn_model_find(&m, "conv", &t), SN_OK);
    assert_int_equal(t.dims[0], 2); assert_int_equal(t.dims[1], 1);
    assert_int_equal(t.dims[2], 2); assert_int_equal(t.dims[3], 3);
    f = t.data;
    assert_float_equal(f[(1 * 2 + 1) * 3 + 2], (float)((1 * 3 + 2) * 2 + 1), 0);
    /* depthwise [3,1,5,5] -> HWC [5,5,3]: out[y][x][c] = 12 + in[c][y][x] */
    assert_int_equal(sn_model_find(&m, "blk.dw", &t), SN_OK);
    assert_int_equal(t.ndim, 3); assert_int_equal(t.dims[2], 3);
    f = t.data;
    assert_float_equal(f[(4 * 5 + 1) * 3 + 2], 12.0f + (float)(2 * 25 + 4 * 5 + 1), 0);
    assert_int_equal((uintptr_t)((const unsigned char *)t.data - image) % 64, 0);
    assert_int_equal(sn_model_find(&m, "missing", &t), SN_ERR_UNSUPPORTED);
    assert_int_equal(sn_model_config(&m, 0, &kind, &text), SN_OK);
    assert_int_equal(kind, 0);
    assert_string_equal(text, "r64-d1-e2-k3");
    assert_int_equal(sn_model_config(&m, 1, &kind, &text), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(m.table_bytes, 32);
    assert_memory_equal(m.table, "kind,config\nsubnet,r64-d1-e2-k3\n", 32);
}

static void test_every_truncation_refused(void **state)
{
    size_t n;
    sn_model_error e;
    (void)state;
    for (n = 0; n < image_size; ++n) {
        sn_status st = load_copy(image, n, &e);
        if (st == SN_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte image loaded", n, image_size);
    }
    assert_int_equal(load_copy(image, 100, &e), SN_ERR_TRUNCATED);
}

static void test_every_flipped_byte_refused(void **state)
{
    size_t i;
    unsigned char *copy = malloc(image_size);
    sn_model m;
    (void)state;
    assert_non_null(copy);
    for (i = 0; i < image_size; ++i) {
        memcpy(copy, image, image_size);
        copy[i] ^= 0x10;
        if (sn_model_load(&m, copy, image_size, NULL) == SN_OK) {
            /* Only padding bytes between sections may change without notice. */
            uint32_t s;
            int inside = i < 64 + 5 * 32;
            for (s = 0; s < 5 && !inside; ++s) {
                const unsigned char *t = image + 64 + 32 * s;
                uint64_t off = 0, bytes = 0;
                int k;
                for (k = 7; k >= 0; --k) {
                    off = off << 8 | t[8 + k];
                    bytes = bytes << 8 | t[16 + k];
                }
                inside = i >= off && i < off + bytes;
            }
            if (inside)
                fail_msg("flipping byte %zu went unnoticed", i);
        }
    }
    free(copy);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Rewrites every checksum so that only the semantic check can catch the change. */
static void reseal(unsigned char *img)
{
    uint32_t s, count = get32(img + 24);
    for (s = 0; s < count; ++s) {
        unsigned char *t = img + 64 + 32 * s;
        put32(t + 4, sn_crc32(img + get32(t + 8), get32(t + 16)));
    }
    put32(img + 32, sn_crc32(img + 64, 32 * count));
    put32(img + 60, sn_crc32(img, 60));
}

static unsigned char *section(unsigned char *img, uint32_t kind)
{
    uint32_t s;
    for (s = 0; s < get32(img + 24); ++s)
        if (get32(img + 64 + 32 * s) == kind)
            return img + get32(img + 64 + 32 * s + 8);
    fail_msg("section %u not found", kind);
    return NULL;
}

static void test_semantic_damage_refused(void **state)
{
    unsigned char *copy = malloc(image_size);
    sn_model m;
    sn_model_error e;
    (void)state;
    assert_non_null(copy);

    memcpy(copy, image, image_size);
    put32(copy + 8, SN_IMAGE_VERSION + 1);
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_VERSION);

    memcpy(copy, image, image_size); /* a version 1 ARCH section in a version 2 image */
    put32(copy + 8, 2);
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);
    assert_string_equal(e.what, "architecture section has the wrong size");

    memcpy(copy, image, image_size);
    put32(section(copy, SN_SECTION_TENSORS) + 64, 0x7fffffffu); /* first tensor's dim 0 */
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);
    assert_string_equal(e.what, "absurd tensor shape");

    memcpy(copy, image, image_size);
    put32(section(copy, SN_SECTION_TENSORS) + 80, 0x40000000u); /* data offset far away */
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);

    memcpy(copy, image, image_size);
    put32(section(copy, SN_SECTION_ARCH) + 4 * 5, 1000); /* num_stages */
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);

    memcpy(copy, image, image_size);
    memset(section(copy, SN_SECTION_TENSORS), 'x', 56); /* unterminated name */
    reseal(copy);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);

    memcpy(copy, image, image_size);
    memcpy(copy, "SNMODEL0", 8);
    assert_int_equal(sn_model_load(&m, copy, image_size, &e), SN_ERR_FORMAT);
    free(copy);
}

static void test_pack_rejects_bad_interchange(void **state)
{
    size_t size, cut;
    unsigned char *st = make_safetensors(&size), *out;
    size_t out_size;
    char err[256];
    (void)state;
    for (cut = 0; cut < size; cut += 7) {
        unsigned char *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, st, cut);
        if (sn_pack_buffer(copy, cut, NULL, 0, NULL, &out, &out_size, err, sizeof err) == 0)
            fail_msg("a %zu-byte prefix of the interchange file was packed", cut);
        assert_true(strlen(err) > 0);
        free(copy);
    }
    memcpy(st + 8 + 30, "XXXXXXXXXXXXXXXXXX", 18); /* break the spec string */
    assert_int_equal(sn_pack_buffer(st, size, NULL, 0, NULL, &out, &out_size, err, sizeof err), -1);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_and_load),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_every_flipped_byte_refused),
        cmocka_unit_test(test_semantic_damage_refused),
        cmocka_unit_test(test_pack_rejects_bad_interchange),
    };
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("model_image", tests, setup, teardown);
}
