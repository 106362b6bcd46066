/* SHA-256: the FIPS 180-2 Appendix B vectors, the padding boundaries, chunked input and
 * whole files. */
#include "sn_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_sha256.h"

static void test_fips_180_2_vectors(void **state)
{
    char hex[SN_SHA256_HEX_BYTES];
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char *million = malloc(1000000);
    (void)state;
    assert_non_null(million);
    /* B.1: one block */
    assert_string_equal(sn_sha256_hex_of("abc", 3, hex),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* B.2: 448 bits, the padding spills into a second block */
    assert_string_equal(sn_sha256_hex_of(two_blocks, strlen(two_blocks), hex),
                        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* B.3: one million 'a' */
    memset(million, 'a', 1000000);
    assert_string_equal(sn_sha256_hex_of(million, 1000000, hex),
                        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
    /* the empty message (NIST's published value) */
    assert_string_equal(sn_sha256_hex_of(NULL, 0, hex),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Lengths around the 56- and 64-byte padding boundaries (reference: Python's hashlib). */
static void test_padding_boundaries(void **state)
{
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char a[128], hex[SN_SHA256_HEX_BYTES];
    size_t i;
    (void)state;
    memset(a, 'a', sizeof a);
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        assert_string_equal(sn_sha256_hex_of(a, cases[i].n, hex), cases[i].hex);
}

/* Feeding a message in uneven pieces gives the same digest as one call. */
static void test_chunked_updates(void **state)
{
    uint8_t msg[300], digest[SN_SHA256_DIGEST_BYTES];
    char whole[SN_SHA256_HEX_BYTES], pieces[SN_SHA256_HEX_BYTES];
    size_t n, step, off;
    (void)state;
    for (n = 0; n < sizeof msg; ++n)
        msg[n] = (uint8_t)(n * 31 + 7);
    for (n = 0; n <= sizeof msg; n += 37) {
        sn_sha256_hex_of(msg, n, whole);
        for (step = 1; step <= 70; step += 23) {
            sn_sha256 h;
            sn_sha256_init(&h);
            for (off = 0; off < n; off += step)
                sn_sha256_update(&h, msg + off, n - off < step ? n - off : step);
            sn_sha256_final(&h, digest);
            assert_string_equal(sn_sha256_hex(digest, pieces), whole);
        }
    }
}

static void test_file(void **state)
{
    char path[] = "/tmp/sn_test_sha256_XXXXXX", hex[SN_SHA256_HEX_BYTES];
    uint8_t *data = malloc(200000);
    FILE *fp;
    int fd, i;
    (void)state;
    assert_non_null(data);
    for (i = 0; i < 200000; ++i)
        data[i] = (uint8_t)(i * 7 % 251);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, 200000, fp), 200000); /* more than one read chunk */
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(sn_sha256_file(path, hex), 0);
    assert_string_equal(hex, "ff41b7e9cc397e9de1484b9ba8bd73b47c1bdfbc363d738bde401789cca5ef56");
    unlink(path);
    free(data);
    assert_int_equal(sn_sha256_file(path, hex), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(hex, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_180_2_vectors),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_chunked_updates),
        cmocka_unit_test(test_file),
    };
    return sn_test_run("sha256", tests);
}
