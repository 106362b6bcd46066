/* IDX files: round trips, and clear rejection of truncated, trailing, wrong-magic,
 * wrong-type and absurd-dimension files. */
#include "sn_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_file.h"
#include "sn_idx.h"

static char dir[] = "/tmp/sn_test_idx_XXXXXX";
static char path[256];

static void write_raw(const void *bytes, size_t n)
{
    assert_int_equal(sn_write_file_atomic(path, bytes, n), 0);
}

static sn_idx_status read_status(sn_idx *idx)
{
    sn_idx_status st = sn_idx_read(path, idx);
    if (st != SN_IDX_OK)
        assert_null(idx->data);
    return st;
}

static void test_round_trip(void **state)
{
    const uint32_t dims3[3] = {3, 2, 5}, dims1[1] = {7}, dims2[2] = {2, 4};
    uint8_t data[30];
    static const uint8_t header3[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 5};
    void *raw;
    size_t size;
    sn_idx idx;
    int i;
    (void)state;
    for (i = 0; i < 30; ++i)
        data[i] = (uint8_t)(i * 9);
    assert_int_equal(sn_idx_write(path, 3, dims3, data), SN_IDX_OK);
    /* the exact MNIST byte layout: magic 0x00000803, big-endian dims, then the payload */
    assert_int_equal(sn_read_file(path, &raw, &size), 0);
    assert_int_equal(size, 16 + 30);
    assert_memory_equal(raw, header3, 16);
    assert_memory_equal((uint8_t *)raw + 16, data, 30);
    free(raw);
    assert_int_equal(sn_idx_read(path, &idx), SN_IDX_OK);
    assert_int_equal(idx.ndims, 3);
    assert_int_equal(idx.dims[0], 3);
    assert_int_equal(idx.dims[1], 2);
    assert_int_equal(idx.dims[2], 5);
    assert_int_equal(idx.count, 30);
    assert_memory_equal(idx.data, data, 30);
    assert_int_equal(sn_idx_expect(&idx, 3, (const uint32_t[3]){0, 2, 5}), SN_IDX_OK);
    sn_idx_free(&idx);

    assert_int_equal(sn_idx_write(path, 1, dims1, data), SN_IDX_OK); /* labels: 0x801 */
    assert_int_equal(sn_idx_read(path, &idx), SN_IDX_OK);
    assert_int_equal(idx.ndims, 1);
    assert_int_equal(idx.dims[0], 7);
    assert_memory_equal(idx.data, data, 7);
    sn_idx_free(&idx);

    assert_int_equal(sn_idx_write(path, 2, dims2, data), SN_IDX_OK);
    assert_int_equal(sn_idx_read(path, &idx), SN_IDX_OK);
    assert_int_equal(idx.count, 8);
    sn_idx_free(&idx);
}

static void test_rejects_truncated(void **state)
{
    static const uint8_t full[16 + 6] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0,
                                         2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
    sn_idx idx;
    char msg[512];
    (void)state;
    write_raw(full, sizeof full - 1); /* one payload byte short */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TRUNCATED);
    sn_idx_format_error(msg, sizeof msg, "f", SN_IDX_ERR_TRUNCATED, &idx, 0, NULL);
    assert_string_equal(msg, "f: truncated IDX file: header announces 22 bytes, file has 21");
    write_raw(full, 10); /* inside the dims */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TRUNCATED);
    write_raw(full, 3); /* inside the magic */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TRUNCATED);
    write_raw(full, 0); /* empty */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TRUNCATED);
    /* a plausible header for 60000 images, with 100 bytes of payload */
    {
        uint8_t big[16 + 100] = {0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
        write_raw(big, sizeof big);
        assert_int_equal(read_status(&idx), SN_IDX_ERR_TRUNCATED);
        sn_idx_format_error(msg, sizeof msg, "f", SN_IDX_ERR_TRUNCATED, &idx, 0, NULL);
        assert_string_equal(msg, "f: truncated IDX file: header announces 47040016 bytes, "
                                 "file has 116");
    }
}

static void test_rejects_trailing(void **state)
{
    static const uint8_t bytes[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 2, 7, 8, 9};
    sn_idx idx;
    (void)state;
    write_raw(bytes, sizeof bytes);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TRAILING);
}

static void test_rejects_wrong_magic_and_type(void **state)
{
    static const uint8_t gzip[12] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2};
    static const uint8_t float32[12] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    static const uint8_t text[4] = {'{', '"', 'a', '"'};
    sn_idx idx;
    char msg[512];
    (void)state;
    write_raw(gzip, sizeof gzip);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_MAGIC);
    sn_idx_format_error(msg, sizeof msg, "x.gz", SN_IDX_ERR_MAGIC, &idx, 0, NULL);
    assert_string_equal(msg, "x.gz: not an IDX file (bad magic number)");
    write_raw(text, sizeof text);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_MAGIC);
    write_raw(text, 2);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_MAGIC);
    write_raw(float32, sizeof float32);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_TYPE);
}

static void test_rejects_absurd_dims(void **state)
{
    static const uint8_t no_dims[4] = {0, 0, 8, 0};
    static const uint8_t nine_dims[4 + 36] = {0, 0, 8, 9};
    static const uint8_t zero_dim[12 + 4] = {0, 0, 8, 2, 0, 0, 0, 4, 0, 0, 0, 0};
    static const uint8_t huge[12] = {0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t big4[20] = {0, 0, 8, 4, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
    const uint32_t bad_dims[2] = {3, 0};
    uint8_t data[4] = {0};
    sn_idx idx;
    (void)state;
    write_raw(no_dims, sizeof no_dims);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_DIMS);
    write_raw(nine_dims, sizeof nine_dims);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_DIMS);
    write_raw(zero_dim, sizeof zero_dim);
    assert_int_equal(read_status(&idx), SN_IDX_ERR_DIMS);
    write_raw(huge, sizeof huge); /* 2^64 bytes: must not overflow into something small */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_DIMS);
    write_raw(big4, sizeof big4); /* 2^64 again, through four dims */
    assert_int_equal(read_status(&idx), SN_IDX_ERR_DIMS);
    /* the writer refuses them too, and leaves nothing behind */
    unlink(path);
    assert_int_equal(sn_idx_write(path, 2, bad_dims, data), SN_IDX_ERR_DIMS);
    assert_int_equal(sn_idx_write(path, 0, bad_dims, data), SN_IDX_ERR_DIMS);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_rejects_missing_and_directory(void **state)
{
    sn_idx idx;
    char msg[512];
    (void)state;
    assert_int_equal(sn_idx_read("/nonexistent/x-idx3-ubyte", &idx), SN_IDX_ERR_IO);
    assert_int_equal(idx.sys_errno, ENOENT);
    sn_idx_format_error(msg, sizeof msg, "/nonexistent/x-idx3-ubyte", SN_IDX_ERR_IO, &idx, 0, NULL);
    assert_string_equal(msg, "/nonexistent/x-idx3-ubyte: No such file or directory");
    assert_int_equal(sn_idx_read(dir, &idx), SN_IDX_ERR_IO);
    assert_int_equal(idx.sys_errno, EISDIR);
}

static void test_shape_mismatch_message(void **state)
{
    const uint32_t dims[3] = {2, 28, 27}, want[3] = {0, 28, 28};
    uint8_t data[2 * 28 * 27] = {0};
    sn_idx idx;
    char msg[512];
    (void)state;
    assert_int_equal(sn_idx_write(path, 3, dims, data), SN_IDX_OK);
    assert_int_equal(sn_idx_read(path, &idx), SN_IDX_OK);
    assert_int_equal(sn_idx_expect(&idx, 3, want), SN_IDX_ERR_SHAPE);
    assert_int_equal(sn_idx_expect(&idx, 2, want), SN_IDX_ERR_SHAPE);
    sn_idx_format_error(msg, sizeof msg, "f", SN_IDX_ERR_SHAPE, &idx, 3, want);
    assert_string_equal(msg, "f: unexpected IDX shape: 2x28x27, expected *x28x28");
    sn_idx_free(&idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejects_truncated),
        cmocka_unit_test(test_rejects_trailing),
        cmocka_unit_test(test_rejects_wrong_magic_and_type),
        cmocka_unit_test(test_rejects_absurd_dims),
        cmocka_unit_test(test_rejects_missing_and_directory),
        cmocka_unit_test(test_shape_mismatch_message),
    };
    int failed;
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    snprintf(path, sizeof path, "%s/f-idx-ubyte", dir);
    failed = sn_test_run("idx", tests);
    unlink(path);
    rmdir(dir);
    return failed;
}
