/* supernav fuzzing: the targets' shared helpers (sn_fuzz.h). */
#include "sn_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_file.h"

#ifndef SN_FUZZ_ROOT
#define SN_FUZZ_ROOT "."
#endif

const char *sn_fuzz_root(void)
{
    const char *r = getenv("SN_FUZZ_ROOT");
    return r && *r ? r : SN_FUZZ_ROOT;
}

void *sn_fuzz_read_fixture(const char *rel, size_t *size)
{
    char path[4096];
    void *raw, *copy;
    snprintf(path, sizeof path, "%s/%s", sn_fuzz_root(), rel);
    if (sn_read_file(path, &raw, size) != 0) {
        fprintf(stderr, "fuzz: cannot read the fixture %s (set SN_FUZZ_ROOT to the repository)\n", path);
        exit(1);
    }
    if (posix_memalign(&copy, 64, *size + 1) != 0) {
        fprintf(stderr, "fuzz: out of memory\n");
        exit(1);
    }
    memcpy(copy, raw, *size + 1);
    free(raw);
    return copy;
}

const sn_model *sn_fuzz_tiny_model(void)
{
    static sn_model model;
    static void *image;
    if (!image) {
        size_t size;
        sn_model_error e;
        image = sn_fuzz_read_fixture("fuzz/corpus/model/tiny.snm", &size);
        if (sn_model_load(&model, image, size, &e) != SN_OK) {
            fprintf(stderr, "fuzz: the tiny model does not load: %s\n", e.what);
            exit(1);
        }
    }
    return &model;
}

uint8_t *sn_fuzz_copy_aligned(const uint8_t *data, size_t size)
{
    /* malloc aligns to 16 on x86-64 glibc and under ASan */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

size_t sn_fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, size_t max)
{
    size_t n = 0, start = 0, i;
    if (!max)
        return 0;
    for (i = 0; i < size && n + 1 < max; ++i)
        if (data[i] == 0) {
            part[n] = data + start;
            len[n++] = i - start;
            start = i + 1;
        }
    part[n] = data + start;
    len[n++] = size - start;
    return n;
}

char *sn_fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
