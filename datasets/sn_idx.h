/* supernav datasets: IDX files, the MNIST byte format.
 *
 * Layout (all integers big-endian): two zero bytes, a type byte (0x08 = unsigned byte),
 * a byte with the number of dimensions D, D 32-bit sizes, then the elements in row-major
 * order. So images are magic 0x00000803 with dims N, rows, cols; labels are 0x00000801
 * with dims N. Only unsigned-byte files are read and written: every file supernav uses
 * (dataset items, canvases, labels, boxes) is uint8.
 *
 * Reading validates everything before trusting it: the magic, the type, 1..SN_IDX_MAX_DIMS
 * dimensions, no zero dimension, a payload no larger than SN_IDX_MAX_BYTES, and a file
 * size exactly equal to header + payload. Library code never prints; a caller turns a
 * status into a message with sn_idx_format_error(). Host-only (stdio); not for engine/. */
#ifndef SN_IDX_H
#define SN_IDX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SN_IDX_TYPE_U8 0x08
#define SN_IDX_MAX_DIMS 8
/* Payloads above this are refused as absurd (a corrupt header, not a real data set). */
#define SN_IDX_MAX_BYTES (UINT64_C(1) << 36)

typedef enum sn_idx_status {
    SN_IDX_OK = 0,
    SN_IDX_ERR_IO,        /* cannot open, read or write the file; errno says why */
    SN_IDX_ERR_MAGIC,     /* first two bytes not zero, or shorter than a magic number */
    SN_IDX_ERR_TYPE,      /* an element type other than unsigned byte */
    SN_IDX_ERR_DIMS,      /* 0 or > SN_IDX_MAX_DIMS dims, a zero dim, or an absurd size */
    SN_IDX_ERR_TRUNCATED, /* the file ends before its header or its payload does */
    SN_IDX_ERR_TRAILING,  /* bytes after the payload its header announces */
    SN_IDX_ERR_SHAPE,     /* a valid file, but not the shape the caller expects */
    SN_IDX_ERR_NOMEM
} sn_idx_status;

typedef struct sn_idx {
    int ndims;
    uint32_t dims[SN_IDX_MAX_DIMS];
    uint64_t count;        /* elements: the product of dims */
    uint8_t *data;         /* count bytes, owned; NULL until a successful read */
    uint64_t header_bytes; /* 4 + 4 * ndims, once the header is read */
    uint64_t file_bytes;   /* the file's size, for messages */
    int sys_errno;         /* errno behind an SN_IDX_ERR_IO from sn_idx_read */
} sn_idx;

const char *sn_idx_status_str(sn_idx_status status);

/* Parses and validates a header from the first SIZE bytes of a file. On SN_IDX_OK, sets
 * ndims, dims, count and header_bytes; data stays NULL. Returns SN_IDX_ERR_TRUNCATED when
 * SIZE is shorter than the header. Does not look at the payload. */
sn_idx_status sn_idx_parse_header(const uint8_t *buf, size_t size, sn_idx *idx);

/* Reads a whole unsigned-byte IDX file. On SN_IDX_OK the caller owns idx->data and frees
 * it with sn_idx_free(). On error, idx->data is NULL and the fields read so far (and
 * file_bytes) are set for sn_idx_format_error(). */
sn_idx_status sn_idx_read(const char *path, sn_idx *idx);

/* Checks the shape: NDIMS dims equal to DIMS, where a 0 in DIMS accepts any size.
 * Returns SN_IDX_OK or SN_IDX_ERR_SHAPE. */
sn_idx_status sn_idx_expect(const sn_idx *idx, int ndims, const uint32_t *dims);

void sn_idx_free(sn_idx *idx);

/* Writes the header of an unsigned-byte file with NDIMS dims to FP (for streaming a large
 * payload into an sn_atomic_file). Returns SN_IDX_OK, SN_IDX_ERR_DIMS, or SN_IDX_ERR_IO. */
sn_idx_status sn_idx_write_header(FILE *fp, int ndims, const uint32_t *dims);

/* Writes a whole unsigned-byte file atomically (temporary file renamed into place): DATA
 * holds the product of DIMS bytes. Returns SN_IDX_OK, SN_IDX_ERR_DIMS, or SN_IDX_ERR_IO
 * (errno set; PATH untouched). */
sn_idx_status sn_idx_write(const char *path, int ndims, const uint32_t *dims,
                           const uint8_t *data);

/* "PATH: <what is wrong>" in BUF (always NUL-terminated), with the sizes or dims that
 * explain it, e.g. "x-idx3-ubyte: truncated: header announces 47040016 bytes, file has
 * 1000". For SN_IDX_ERR_SHAPE pass the expected shape (ndims, dims as for
 * sn_idx_expect); otherwise they may be 0/NULL. Returns BUF. */
char *sn_idx_format_error(char *buf, size_t n, const char *path, sn_idx_status status,
                          const sn_idx *idx, int expected_ndims,
                          const uint32_t *expected_dims);

#endif
