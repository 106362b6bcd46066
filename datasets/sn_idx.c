#include "sn_idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sn_file.h"

const char *sn_idx_status_str(sn_idx_status status)
{
    switch (status) {
    case SN_IDX_OK: return "ok";
    case SN_IDX_ERR_IO: return "cannot read or write the file";
    case SN_IDX_ERR_MAGIC: return "not an IDX file (bad magic number)";
    case SN_IDX_ERR_TYPE: return "unsupported IDX element type (only unsigned byte, 0x08)";
    case SN_IDX_ERR_DIMS: return "invalid IDX dimensions";
    case SN_IDX_ERR_TRUNCATED: return "truncated IDX file";
    case SN_IDX_ERR_TRAILING: return "IDX file longer than its header announces";
    case SN_IDX_ERR_SHAPE: return "unexpected IDX shape";
    case SN_IDX_ERR_NOMEM: return "out of memory";
    }
    return "unknown IDX status";
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sn_idx_status sn_idx_parse_header(const uint8_t *buf, size_t size, sn_idx *idx)
{
    int d;
    uint64_t count = 1;
    idx->ndims = 0;
    idx->count = 0;
    idx->data = NULL;
    idx->header_bytes = 0;
    if (size < 4)
        return size >= 2 && (buf[0] || buf[1]) ? SN_IDX_ERR_MAGIC : SN_IDX_ERR_TRUNCATED;
    if (buf[0] != 0 || buf[1] != 0)
        return SN_IDX_ERR_MAGIC;
    if (buf[2] != SN_IDX_TYPE_U8)
        return SN_IDX_ERR_TYPE;
    if (buf[3] == 0 || buf[3] > SN_IDX_MAX_DIMS)
        return SN_IDX_ERR_DIMS;
    idx->ndims = buf[3];
    idx->header_bytes = 4 + 4 * (uint64_t)idx->ndims;
    if (size < idx->header_bytes)
        return SN_IDX_ERR_TRUNCATED;
    for (d = 0; d < idx->ndims; ++d) {
        idx->dims[d] = load_be32(buf + 4 + 4 * d);
        if (idx->dims[d] == 0)
            return SN_IDX_ERR_DIMS;
        /* count <= 2^36 and dims[d] < 2^32, so the product cannot overflow 64 bits */
        count *= idx->dims[d];
        if (count > SN_IDX_MAX_BYTES)
            return SN_IDX_ERR_DIMS;
    }
    idx->count = count;
    return SN_IDX_OK;
}

sn_idx_status sn_idx_read(const char *path, sn_idx *idx)
{
    uint8_t header[4 + 4 * SN_IDX_MAX_DIMS];
    struct stat st;
    size_t got;
    sn_idx_status status;
    FILE *fp;

    memset(idx, 0, sizeof *idx);
    fp = fopen(path, "rb");
    if (!fp || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        idx->sys_errno = !fp ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        if (fp)
            fclose(fp);
        return SN_IDX_ERR_IO;
    }
    idx->file_bytes = (uint64_t)st.st_size;
    got = fread(header, 1, sizeof header, fp);
    if (ferror(fp)) {
        idx->sys_errno = errno ? errno : EIO;
        fclose(fp);
        return SN_IDX_ERR_IO;
    }
    status = sn_idx_parse_header(header, got, idx);
    if (status != SN_IDX_OK) {
        fclose(fp);
        return status;
    }
    if (idx->file_bytes < idx->header_bytes + idx->count) {
        fclose(fp);
        return SN_IDX_ERR_TRUNCATED;
    }
    if (idx->file_bytes > idx->header_bytes + idx->count) {
        fclose(fp);
        return SN_IDX_ERR_TRAILING;
    }
    idx->data = malloc((size_t)idx->count);
    if (!idx->data) {
        fclose(fp);
        return SN_IDX_ERR_NOMEM;
    }
    if (fseek(fp, (long)idx->header_bytes, SEEK_SET) != 0 ||
        fread(idx->data, 1, (size_t)idx->count, fp) != idx->count) {
        /* the file shrank under us, or a read error */
        status = ferror(fp) ? SN_IDX_ERR_IO : SN_IDX_ERR_TRUNCATED;
        idx->sys_errno = errno ? errno : EIO;
        free(idx->data);
        idx->data = NULL;
        fclose(fp);
        return status;
    }
    fclose(fp);
    return SN_IDX_OK;
}

sn_idx_status sn_idx_expect(const sn_idx *idx, int ndims, const uint32_t *dims)
{
    int d;
    if (idx->ndims != ndims)
        return SN_IDX_ERR_SHAPE;
    for (d = 0; d < ndims; ++d)
        if (dims[d] != 0 && idx->dims[d] != dims[d])
            return SN_IDX_ERR_SHAPE;
    return SN_IDX_OK;
}

void sn_idx_free(sn_idx *idx)
{
    free(idx->data);
    idx->data = NULL;
}

static int valid_dims(int ndims, const uint32_t *dims, uint64_t *count)
{
    int d;
    *count = 1;
    if (ndims < 1 || ndims > SN_IDX_MAX_DIMS)
        return 0;
    for (d = 0; d < ndims; ++d) {
        if (dims[d] == 0)
            return 0;
        *count *= dims[d];
        if (*count > SN_IDX_MAX_BYTES)
            return 0;
    }
    return 1;
}

sn_idx_status sn_idx_write_header(FILE *fp, int ndims, const uint32_t *dims)
{
    uint8_t header[4 + 4 * SN_IDX_MAX_DIMS];
    uint64_t count;
    int d;
    if (!valid_dims(ndims, dims, &count))
        return SN_IDX_ERR_DIMS;
    header[0] = 0;
    header[1] = 0;
    header[2] = SN_IDX_TYPE_U8;
    header[3] = (uint8_t)ndims;
    for (d = 0; d < ndims; ++d) {
        header[4 + 4 * d] = (uint8_t)(dims[d] >> 24);
        header[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        header[6 + 4 * d] = (uint8_t)(dims[d] >> 8);
        header[7 + 4 * d] = (uint8_t)dims[d];
    }
    if (fwrite(header, 1, 4 + 4 * (size_t)ndims, fp) != 4 + 4 * (size_t)ndims)
        return SN_IDX_ERR_IO;
    return SN_IDX_OK;
}

sn_idx_status sn_idx_write(const char *path, int ndims, const uint32_t *dims,
                           const uint8_t *data)
{
    sn_atomic_file file;
    sn_idx_status status;
    uint64_t count;
    if (!valid_dims(ndims, dims, &count))
        return SN_IDX_ERR_DIMS;
    if (sn_atomic_open(&file, path) != 0)
        return SN_IDX_ERR_IO;
    status = sn_idx_write_header(file.fp, ndims, dims);
    if (status == SN_IDX_OK && fwrite(data, 1, (size_t)count, file.fp) != count)
        status = SN_IDX_ERR_IO;
    if (status != SN_IDX_OK) {
        int e = errno ? errno : EIO;
        sn_atomic_abort(&file);
        errno = e;
        return status;
    }
    return sn_atomic_commit(&file) == 0 ? SN_IDX_OK : SN_IDX_ERR_IO;
}

static void format_dims(char *buf, size_t n, int ndims, const uint32_t *dims)
{
    size_t used = 0;
    int d;
    buf[0] = '\0';
    for (d = 0; d < ndims && used < n; ++d) {
        int w = dims[d] ? snprintf(buf + used, n - used, "%s%lu", d ? "x" : "",
                                   (unsigned long)dims[d])
                        : snprintf(buf + used, n - used, "%s*", d ? "x" : "");
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

char *sn_idx_format_error(char *buf, size_t n, const char *path, sn_idx_status status,
                          const sn_idx *idx, int expected_ndims,
                          const uint32_t *expected_dims)
{
    char got[128], want[128];
    if (n == 0)
        return buf;
    switch (status) {
    case SN_IDX_ERR_IO:
        snprintf(buf, n, "%s: %s", path, strerror(idx->sys_errno ? idx->sys_errno : EIO));
        break;
    case SN_IDX_ERR_TRUNCATED:
    case SN_IDX_ERR_TRAILING:
        if (idx->count)
            snprintf(buf, n, "%s: %s: header announces %llu bytes, file has %llu", path,
                     sn_idx_status_str(status),
                     (unsigned long long)(idx->header_bytes + idx->count),
                     (unsigned long long)idx->file_bytes);
        else
            snprintf(buf, n, "%s: %s: the header alone needs %llu bytes, file has %llu",
                     path, sn_idx_status_str(status),
                     (unsigned long long)(idx->header_bytes ? idx->header_bytes : 4),
                     (unsigned long long)idx->file_bytes);
        break;
    case SN_IDX_ERR_SHAPE:
        format_dims(got, sizeof got, idx->ndims, idx->dims);
        format_dims(want, sizeof want, expected_ndims, expected_dims);
        snprintf(buf, n, "%s: %s: %s, expected %s", path, sn_idx_status_str(status), got,
                 want);
        break;
    default:
        snprintf(buf, n, "%s: %s", path, sn_idx_status_str(status));
        break;
    }
    return buf;
}
