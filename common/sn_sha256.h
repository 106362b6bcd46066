/* supernav host utilities: SHA-256 (FIPS 180-4, identical to FIPS 180-2 for SHA-256).
 *
 * Used to fingerprint the model, data and trace files a run used (context.json). A small,
 * portable, byte-order-independent implementation; not constant-time, not for secrets.
 *
 *   sn_sha256 h; sn_sha256_init(&h); sn_sha256_update(&h, p, n) ...;
 *   sn_sha256_final(&h, digest);            32 bytes, big-endian words as the standard says
 *
 * sn_sha256_hex() and sn_sha256_file() give the usual 64 lowercase hex digits. */
#ifndef SN_SHA256_H
#define SN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SN_SHA256_DIGEST_BYTES 32
#define SN_SHA256_HEX_BYTES 65 /* 64 hex digits and a NUL */

typedef struct sn_sha256 {
    uint32_t state[8];
    uint64_t length_bytes;  /* message bytes so far */
    uint8_t block[64];      /* pending input, block_used bytes of it */
    size_t block_used;
} sn_sha256;

void sn_sha256_init(sn_sha256 *h);

/* Appends SIZE bytes (DATA may be NULL when SIZE is 0). */
void sn_sha256_update(sn_sha256 *h, const void *data, size_t size);

/* Pads, writes the 32-byte digest and leaves H to be re-initialised before reuse. */
void sn_sha256_final(sn_sha256 *h, uint8_t digest[SN_SHA256_DIGEST_BYTES]);

/* DIGEST as 64 lowercase hex digits and a NUL. Returns HEX. */
char *sn_sha256_hex(const uint8_t digest[SN_SHA256_DIGEST_BYTES], char hex[SN_SHA256_HEX_BYTES]);

/* SHA-256 of DATA in one call, as hex. Returns HEX. */
char *sn_sha256_hex_of(const void *data, size_t size, char hex[SN_SHA256_HEX_BYTES]);

/* SHA-256 of the file at PATH, as hex, read in chunks. Returns 0, or -1 with errno set
 * (HEX is then the empty string). */
int sn_sha256_file(const char *path, char hex[SN_SHA256_HEX_BYTES]);

#endif
