/* supernav host utilities: reading safetensors files (the training interchange format).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON (tensor name ->
 * {dtype, shape, data_offsets}, plus an optional "__metadata__" map of strings), then the
 * raw little-endian tensor bytes. sn_safetensors_parse() validates the header length, the
 * JSON, every dtype, shape and offset range before anything is returned. Host-only. */
#ifndef SN_SAFETENSORS_H
#define SN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sn_st_tensor {
    const char *name;          /* owned by the parsed file */
    char dtype[8];             /* "F32", "I32", "U8", ... */
    uint32_t ndim;
    uint64_t dims[8];
    uint64_t elems;
    uint64_t bytes;
    const unsigned char *data; /* points into the caller's buffer; may be unaligned */
} sn_st_tensor;

typedef struct sn_safetensors {
    sn_st_tensor *tensors;
    size_t count;
    void *json;                /* the parsed header (cJSON), owned */
} sn_safetensors;

/* Parses BUF (which must outlive the result). Returns 0, or -1 with a reason in ERR. */
int sn_safetensors_parse(const unsigned char *buf, size_t size, sn_safetensors *st, char *err,
                         size_t err_bytes);

/* A metadata string, or NULL. */
const char *sn_safetensors_metadata(const sn_safetensors *st, const char *key);

/* A tensor by name, or NULL. */
const sn_st_tensor *sn_safetensors_find(const sn_safetensors *st, const char *name);

void sn_safetensors_free(sn_safetensors *st);

#endif
