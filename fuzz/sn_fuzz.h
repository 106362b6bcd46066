/* supernav fuzzing: what the targets share (fuzz/README.md). Host C11, clang/libFuzzer.
 *
 * Fixtures (the tiny SuperNet, the gate's run directories) are committed under fuzz/ and
 * read once, at start-up, from SN_FUZZ_ROOT (the repository, baked in by fuzz/fuzz.mk;
 * the environment variable SN_FUZZ_ROOT overrides it). Nothing is read or written per
 * input. */
#ifndef SN_FUZZ_H
#define SN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "sn_model.h"

/* The repository root (SN_FUZZ_ROOT). */
const char *sn_fuzz_root(void);

/* A committed file, REL relative to the root, read whole (malloc'ed, 64-byte aligned,
 * NUL-terminated); exits with a message when it cannot be read. */
void *sn_fuzz_read_fixture(const char *rel, size_t *size);

/* The tiny SuperNet (fuzz/corpus/model/tiny.snm), loaded once. */
const sn_model *sn_fuzz_tiny_model(void);

/* DATA copied into a fresh exact-size heap buffer aligned to 16 bytes (ASan sees any
 * over-read past SIZE); free() it. */
uint8_t *sn_fuzz_copy_aligned(const uint8_t *data, size_t size);

/* Splits DATA at NUL bytes into at most MAX parts (the last part takes the rest); returns
 * the count. PART[i] points into DATA, LEN[i] its bytes. */
size_t sn_fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len,
                     size_t max);

/* A NUL-terminated malloc'ed copy of DATA. */
char *sn_fuzz_strndup(const uint8_t *data, size_t size);

#endif
