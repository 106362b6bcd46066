#include "sn_safetensors.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t dtype_bytes(const char *d)
{
    if (!strcmp(d, "F32") || !strcmp(d, "I32") || !strcmp(d, "U32"))
        return 4;
    if (!strcmp(d, "F64") || !strcmp(d, "I64") || !strcmp(d, "U64"))
        return 8;
    if (!strcmp(d, "F16") || !strcmp(d, "BF16") || !strcmp(d, "I16") || !strcmp(d, "U16"))
        return 2;
    if (!strcmp(d, "U8") || !strcmp(d, "I8") || !strcmp(d, "BOOL"))
        return 1;
    return 0;
}

static int is_uint(const cJSON *v, double max)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max &&
           v->valuedouble == (double)(uint64_t)v->valuedouble;
}

int sn_safetensors_parse(const unsigned char *buf, size_t size, sn_safetensors *st, char *err,
                         size_t err_bytes)
{
    uint64_t hlen = 0, blob;
    cJSON *root, *item;
    size_t n = 0;
    int i;
    memset(st, 0, sizeof *st);
    if (size < 8) {
        snprintf(err, err_bytes, "not a safetensors file (shorter than 8 bytes)");
        return -1;
    }
    for (i = 7; i >= 0; --i)
        hlen = hlen << 8 | buf[i];
    if (hlen < 2 || hlen > size - 8 || hlen > (UINT64_C(1) << 26)) {
        snprintf(err, err_bytes, "not a safetensors file (header length %llu, file %zu bytes)",
                 (unsigned long long)hlen, size);
        return -1;
    }
    blob = size - 8 - hlen;
    root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, err_bytes, "safetensors header is not a JSON object");
        return -1;
    }
    st->json = root;
    st->tensors = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *st->tensors);
    if (!st->tensors) {
        snprintf(err, err_bytes, "out of memory");
        goto fail;
    }
    cJSON_ArrayForEach(item, root) {
        const cJSON *dtype, *shape, *offs, *v;
        sn_st_tensor *t = &st->tensors[n];
        uint64_t begin, end;
        if (!strcmp(item->string, "__metadata__"))
            continue;
        dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
        shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
        offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
        if (!cJSON_IsString(dtype) || strlen(dtype->valuestring) >= sizeof t->dtype ||
            !dtype_bytes(dtype->valuestring) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
            cJSON_GetArraySize(offs) != 2 || !is_uint(cJSON_GetArrayItem(offs, 0), 1e15) ||
            !is_uint(cJSON_GetArrayItem(offs, 1), 1e15)) {
            snprintf(err, err_bytes, "tensor '%s': malformed dtype, shape or data_offsets", item->string);
            goto fail;
        }
        t->name = item->string;
        strcpy(t->dtype, dtype->valuestring);
        t->elems = 1;
        cJSON_ArrayForEach(v, shape) {
            if (t->ndim >= 8 || !is_uint(v, (double)(1u << 30))) {
                snprintf(err, err_bytes, "tensor '%s': absurd shape", item->string);
                goto fail;
            }
            t->dims[t->ndim++] = (uint64_t)v->valuedouble;
            if (v->valuedouble > 0 && t->elems > (UINT64_C(1) << 34) / (uint64_t)v->valuedouble) {
                snprintf(err, err_bytes, "tensor '%s': absurd shape", item->string);
                goto fail;
            }
            t->elems *= (uint64_t)v->valuedouble;
            if (t->elems > (UINT64_C(1) << 34)) {
                snprintf(err, err_bytes, "tensor '%s': absurd shape", item->string);
                goto fail;
            }
        }
        t->bytes = t->elems * dtype_bytes(t->dtype);
        begin = (uint64_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
        end = (uint64_t)cJSON_GetArrayItem(offs, 1)->valuedouble;
        if (begin > end || end > blob || end - begin != t->bytes) {
            snprintf(err, err_bytes, "tensor '%s': data offsets outside the file or not matching the shape",
                     item->string);
            goto fail;
        }
        t->data = buf + 8 + hlen + begin;
        {
            size_t j;
            for (j = 0; j < n; ++j)
                if (!strcmp(st->tensors[j].name, t->name)) {
                    snprintf(err, err_bytes, "tensor '%s' appears twice", t->name);
                    goto fail;
                }
        }
        ++n;
    }
    st->count = n;
    return 0;
fail:
    sn_safetensors_free(st);
    return -1;
}

const char *sn_safetensors_metadata(const sn_safetensors *st, const char *key)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive((const cJSON *)st->json, "__metadata__");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const sn_st_tensor *sn_safetensors_find(const sn_safetensors *st, const char *name)
{
    size_t i;
    for (i = 0; i < st->count; ++i)
        if (!strcmp(st->tensors[i].name, name))
            return &st->tensors[i];
    return NULL;
}

void sn_safetensors_free(sn_safetensors *st)
{
    free(st->tensors);
    cJSON_Delete(st->json);
    memset(st, 0, sizeof *st);
}
