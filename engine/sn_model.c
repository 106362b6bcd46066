#include "sn_model.h"

#include <string.h>

uint32_t sn_crc32(const void *data, size_t size)
{
    /* Nibble-table CRC-32: small enough for an MCU's flash, fast enough for a model. */
    static const uint32_t table[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    size_t i;
    for (i = 0; i < size; ++i) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15u];
        crc = (crc >> 4) ^ table[crc & 15u];
    }
    return crc ^ 0xffffffffu;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static sn_status fail(sn_model_error *e, sn_status st, const char *what, uint64_t offset)
{
    if (e) {
        e->what = what;
        e->offset = offset;
    }
    return st;
}

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* A NUL-terminated printable name inside N bytes. */
static int valid_text(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n && p[i]; ++i)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    return i > 0 && i < n;
}

static uint64_t dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case SN_DTYPE_F32: case SN_DTYPE_S32: return 4;
    case SN_DTYPE_S8: case SN_DTYPE_U8: return 1;
    default: return 0;
    }
}

static sn_status check_arch(const sn_image_arch *a, uint32_t version, sn_model_error *e, uint64_t off)
{
    uint32_t i;
    const uint32_t max_c = 4096;
    if (a->canvas < 8 || a->canvas > 1024 || a->num_classes < 2 || a->num_classes > 1000 ||
        a->stem_c == 0 || a->stem_c > max_c || a->head_c == 0 || a->head_c > max_c ||
        a->k_max == 0 || a->k_max > 15 || a->k_max % 2 == 0)
        return fail(e, SN_ERR_FORMAT, "absurd architecture sizes", off);
    if (a->num_stages == 0 || a->num_stages > SN_IMAGE_MAX_STAGES ||
        a->num_resolutions == 0 || a->num_resolutions > SN_IMAGE_MAX_CHOICES ||
        a->num_expands == 0 || a->num_expands > SN_IMAGE_MAX_CHOICES ||
        a->num_kernels == 0 || a->num_kernels > SN_IMAGE_MAX_CHOICES ||
        a->num_grids > SN_IMAGE_MAX_CHOICES || a->num_levels > SN_IMAGE_MAX_CHOICES ||
        a->num_splits > SN_IMAGE_MAX_CHOICES || a->arac_prefix_stages > a->num_stages)
        return fail(e, SN_ERR_FORMAT, "absurd architecture counts", off);
    for (i = 0; i < a->num_stages; ++i)
        if (a->stage_out_c[i] == 0 || a->stage_out_c[i] > max_c || a->stage_min_depth[i] == 0 ||
            a->stage_min_depth[i] > a->stage_max_depth[i] || a->stage_max_depth[i] > 16 ||
            a->stage_stride[i] == 0 || a->stage_stride[i] > 2)
            return fail(e, SN_ERR_FORMAT, "absurd stage description", off);
    for (i = 0; i < a->num_resolutions; ++i)
        if (a->resolutions[i] < 8 || a->resolutions[i] > a->canvas)
            return fail(e, SN_ERR_FORMAT, "absurd input resolution", off);
    for (i = 0; i < a->num_expands; ++i)
        if (a->expands[i] == 0 || a->expands[i] > 16)
            return fail(e, SN_ERR_FORMAT, "absurd expand ratio", off);
    for (i = 0; i < a->num_kernels; ++i)
        if (a->kernels[i] == 0 || a->kernels[i] > a->k_max || a->kernels[i] % 2 == 0)
            return fail(e, SN_ERR_FORMAT, "absurd kernel size", off);
    for (i = 0; i < a->num_grids; ++i)
        if (a->grids[i] == 0 || a->grids[i] > 16)
            return fail(e, SN_ERR_FORMAT, "absurd ARAC grid", off);
    /* level 0 (SKIP: the tile is not computed) only in version 2, and only as the last */
    for (i = 0; i < a->num_levels; ++i)
        if (a->levels_pct[i] > 100 ||
            (a->levels_pct[i] == 0 && (version < 2 || i + 1 != a->num_levels)))
            return fail(e, SN_ERR_FORMAT, "absurd ARAC level", off);
    for (i = 0; i < a->num_splits; ++i)
        if (a->splits[i] == 0 || a->splits[i] > a->num_stages)
            return fail(e, SN_ERR_FORMAT, "absurd ARAC split point", off);
    if (a->num_grids && (a->gate_c == 0 || a->gate_c > 256 || a->gate_pool == 0 ||
                         a->canvas % a->gate_pool != 0 ||
                         (a->num_splits == 0 && a->arac_prefix_stages == 0) ||
                         a->region_modes == 0 || a->region_modes > (SN_REGION_MODE_HALO | SN_REGION_MODE_TILE) ||
                         (a->gate_out != 1 && a->gate_out != a->num_levels)))
        return fail(e, SN_ERR_FORMAT, "absurd ARAC gate, prefix or region modes", off);
    return SN_OK;
}

static sn_status load_impl(sn_model *m, const void *image, size_t size, sn_model_error *e)
{
    const uint8_t *p = image;
    uint32_t count, table_off, i, j, version;
    const uint8_t *sec[SN_SECTION_TABLE + 1] = {0};
    uint64_t sec_bytes[SN_SECTION_TABLE + 1] = {0}, sec_off[SN_SECTION_TABLE + 1] = {0};
    sn_status st;

    memset(m, 0, sizeof *m);
    if (!image)
        return fail(e, SN_ERR_INVALID_ARGUMENT, "no image", 0);
    if (((uintptr_t)image & (SN_IMAGE_MEMORY_ALIGN - 1u)) != 0)
        return fail(e, SN_ERR_INVALID_ARGUMENT, "image not 16-byte aligned in memory", 0);
    if (size < SN_IMAGE_HEADER_BYTES)
        return fail(e, SN_ERR_TRUNCATED, "shorter than the header", size);
    if (memcmp(p, SN_IMAGE_MAGIC, 8) != 0)
        return fail(e, SN_ERR_FORMAT, "not a supernav model image (bad magic)", 0);
    version = rd32(p + 8);
    if (version < SN_IMAGE_VERSION_MIN || version > SN_IMAGE_VERSION)
        return fail(e, SN_ERR_VERSION, "image format version is not 1 or 2", 8);
    if (rd32(p + 60) != sn_crc32(p, 60))
        return fail(e, SN_ERR_CHECKSUM, "header CRC-32 mismatch", 60);
    if (rd32(p + 12) != SN_IMAGE_HEADER_BYTES)
        return fail(e, SN_ERR_FORMAT, "unexpected header size", 12);
    if (rd64(p + 16) != (uint64_t)size)
        return fail(e, rd64(p + 16) > (uint64_t)size ? SN_ERR_TRUNCATED : SN_ERR_FORMAT,
                    rd64(p + 16) > (uint64_t)size ? "file shorter than its header says"
                                                 : "file longer than its header says",
                    size);
    count = rd32(p + 24);
    table_off = rd32(p + 28);
    if (count == 0 || count > 64 || table_off % SN_IMAGE_ALIGN != 0 || table_off < 64 ||
        (uint64_t)table_off + (uint64_t)count * SN_IMAGE_SECTION_BYTES > size)
        return fail(e, SN_ERR_FORMAT, "section table outside the file", 24);
    if (rd32(p + 32) != sn_crc32(p + table_off, (size_t)count * SN_IMAGE_SECTION_BYTES))
        return fail(e, SN_ERR_CHECKSUM, "section table CRC-32 mismatch", table_off);
    for (i = 0; i < count; ++i) {
        const uint8_t *s = p + table_off + (size_t)i * SN_IMAGE_SECTION_BYTES;
        uint32_t kind = rd32(s);
        uint64_t off = rd64(s + 8), bytes = rd64(s + 16);
        if (off % SN_IMAGE_ALIGN != 0 || off > size || bytes > size - off)
            return fail(e, SN_ERR_FORMAT, "section outside the file", table_off + 32u * i);
        if (rd32(s + 4) != sn_crc32(p + off, (size_t)bytes))
            return fail(e, SN_ERR_CHECKSUM, "section CRC-32 mismatch", off);
        if (kind < SN_SECTION_ARCH || kind > SN_SECTION_TABLE)
            continue; /* unknown kinds are skipped: later minor additions stay readable */
        if (sec[kind])
            return fail(e, SN_ERR_FORMAT, "duplicate section", table_off + 32u * i);
        sec[kind] = p + off;
        sec_bytes[kind] = bytes;
        sec_off[kind] = off;
    }
    for (i = SN_SECTION_ARCH; i <= SN_SECTION_CONFIGS; ++i)
        if (!sec[i])
            return fail(e, SN_ERR_FORMAT, "a required section is missing", table_off);

    if (sec_bytes[SN_SECTION_ARCH] != SN_IMAGE_ARCH_BYTES(version))
        return fail(e, SN_ERR_FORMAT, "architecture section has the wrong size",
                    sec_off[SN_SECTION_ARCH]);
    {
        uint32_t words[SN_IMAGE_ARCH_WORDS];
        memset(words, 0, sizeof words);
        for (i = 0; i < SN_IMAGE_ARCH_BYTES(version) / 4u; ++i)
            words[i] = rd32(sec[SN_SECTION_ARCH] + 4u * i);
        memcpy(&m->arch, words, sizeof words);
        memcpy(&m->bn_eps, &m->arch.bn_eps_bits, sizeof m->bn_eps);
        if (version == 1) { /* the defaults of the fields version 1 does not hold */
            m->arch.region_modes = SN_REGION_MODE_HALO;
            m->arch.gate_out = 1;
        }
    }
    st = check_arch(&m->arch, version, e, sec_off[SN_SECTION_ARCH]);
    if (st != SN_OK)
        return st;
    if (!(m->bn_eps > 0.0f && m->bn_eps < 1.0f))
        return fail(e, SN_ERR_FORMAT, "absurd batch-norm epsilon", sec_off[SN_SECTION_ARCH]);

    if (sec_bytes[SN_SECTION_TENSORS] % SN_IMAGE_TENSOR_BYTES != 0 ||
        sec_bytes[SN_SECTION_TENSORS] / SN_IMAGE_TENSOR_BYTES > 16384u)
        return fail(e, SN_ERR_FORMAT, "tensor directory has a partial entry or over 16384 tensors",
                    sec_off[SN_SECTION_TENSORS]);
    m->tensor_dir = sec[SN_SECTION_TENSORS];
    m->tensor_count = (uint32_t)(sec_bytes[SN_SECTION_TENSORS] / SN_IMAGE_TENSOR_BYTES);
    m->data = sec[SN_SECTION_DATA];
    m->data_bytes = sec_bytes[SN_SECTION_DATA];
    for (i = 0; i < m->tensor_count; ++i) {
        const uint8_t *t = m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES;
        uint64_t where = sec_off[SN_SECTION_TENSORS] + (uint64_t)i * SN_IMAGE_TENSOR_BYTES;
        uint32_t dtype = rd32(t + 56), ndim = rd32(t + 60);
        uint64_t off = rd64(t + 80), bytes = rd64(t + 88), elems = 1;
        if (!valid_text(t, SN_IMAGE_NAME_BYTES))
            return fail(e, SN_ERR_FORMAT, "tensor name is not terminated text", where);
        if (!dtype_size(dtype) && dtype != SN_DTYPE_F32_ELIDED)
            return fail(e, SN_ERR_FORMAT, "unknown tensor dtype", where + 56);
        if (ndim == 0 || ndim > 4)
            return fail(e, SN_ERR_FORMAT, "absurd tensor rank", where + 60);
        for (j = 0; j < 4; ++j) {
            uint32_t d = rd32(t + 64 + 4 * j);
            if (d == 0 || d > (1u << 24) || (j >= ndim && d != 1))
                return fail(e, SN_ERR_FORMAT, "absurd tensor shape", where + 64 + 4 * j);
            elems *= d;
            if (elems > (UINT64_C(1) << 32))
                return fail(e, SN_ERR_FORMAT, "absurd tensor shape", where + 64);
        }
        if (dtype == SN_DTYPE_F32_ELIDED ? bytes != 0 || off != 0 : elems * dtype_size(dtype) != bytes)
            return fail(e, SN_ERR_FORMAT, "tensor size does not match its shape", where + 88);
        if (off % SN_IMAGE_ALIGN != 0 || off > m->data_bytes || bytes > m->data_bytes - off)
            return fail(e, SN_ERR_FORMAT, "tensor data outside the data section", where + 80);
    }
    /* names in strictly ascending order are distinct: one pass; any other order is checked
     * pair by pair for a duplicate */
    m->names_sorted = 1;
    for (i = 1; i < m->tensor_count && m->names_sorted; ++i)
        if (strncmp((const char *)(m->tensor_dir + (size_t)(i - 1) * SN_IMAGE_TENSOR_BYTES),
                    (const char *)(m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES), SN_IMAGE_NAME_BYTES) >= 0)
            m->names_sorted = 0;
    for (i = 0; i < m->tensor_count && !m->names_sorted; ++i) {
        const uint8_t *t = m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES;
        for (j = 0; j < i; ++j)
            if (!strcmp((const char *)t, (const char *)(m->tensor_dir + (size_t)j * SN_IMAGE_TENSOR_BYTES)))
                return fail(e, SN_ERR_FORMAT, "duplicate tensor name",
                            sec_off[SN_SECTION_TENSORS] + (uint64_t)i * SN_IMAGE_TENSOR_BYTES);
    }

    if (sec_bytes[SN_SECTION_CONFIGS] % SN_IMAGE_CONFIG_BYTES != 0)
        return fail(e, SN_ERR_FORMAT, "config list has a partial entry", sec_off[SN_SECTION_CONFIGS]);
    m->config_dir = sec[SN_SECTION_CONFIGS];
    m->config_count = (uint32_t)(sec_bytes[SN_SECTION_CONFIGS] / SN_IMAGE_CONFIG_BYTES);
    for (i = 0; i < m->config_count; ++i) {
        const uint8_t *c = m->config_dir + (size_t)i * SN_IMAGE_CONFIG_BYTES;
        if (rd32(c) > 1 || rd32(c + 4) != i || !valid_text(c + 8, SN_IMAGE_CONFIG_TEXT_BYTES))
            return fail(e, SN_ERR_FORMAT, "malformed config entry",
                        sec_off[SN_SECTION_CONFIGS] + (uint64_t)i * SN_IMAGE_CONFIG_BYTES);
    }
    if (sec[SN_SECTION_TABLE]) {
        uint64_t k;
        if (sec_bytes[SN_SECTION_TABLE] > SN_IMAGE_TABLE_MAX_BYTES)
            return fail(e, SN_ERR_FORMAT, "accuracy table larger than 1 MiB", sec_off[SN_SECTION_TABLE]);
        for (k = 0; k < sec_bytes[SN_SECTION_TABLE]; ++k) {
            uint8_t ch = sec[SN_SECTION_TABLE][k];
            if (ch != '\n' && (ch < 0x20 || ch > 0x7e))
                return fail(e, SN_ERR_FORMAT, "accuracy table is not printable text",
                            sec_off[SN_SECTION_TABLE] + k);
        }
        m->table = (const char *)sec[SN_SECTION_TABLE];
        m->table_bytes = (uint32_t)sec_bytes[SN_SECTION_TABLE];
    }
    if (!host_is_little_endian())
        return fail(e, SN_ERR_UNSUPPORTED, "tensors are little-endian; this host is not", 0);
    m->image = p;
    m->image_bytes = size;
    m->version = version;
    return SN_OK;
}

sn_status sn_model_load(sn_model *m, const void *image, size_t size, sn_model_error *e)
{
    sn_status st = load_impl(m, image, size, e);
    if (st != SN_OK)
        memset(m, 0, sizeof *m); /* a failed load leaves nothing usable behind */
    return st;
}

sn_status sn_model_tensor(const sn_model *m, uint32_t i, sn_tensor *t)
{
    const uint8_t *d;
    uint32_t j;
    if (!m->image || i >= m->tensor_count)
        return SN_ERR_INVALID_ARGUMENT;
    d = m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES;
    t->name = (const char *)d;
    t->dtype = rd32(d + 56);
    t->ndim = rd32(d + 60);
    for (j = 0; j < 4; ++j)
        t->dims[j] = rd32(d + 64 + 4 * j);
    t->bytes = rd64(d + 88);
    t->data = m->data + rd64(d + 80);
    return SN_OK;
}

sn_status sn_model_find(const sn_model *m, const char *name, sn_tensor *t)
{
    uint32_t i;
    if (m->names_sorted) {
        uint32_t lo = 0, hi = m->tensor_count; /* the name, if present, is in [lo, hi) */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int c = strncmp((const char *)(m->tensor_dir + (size_t)mid * SN_IMAGE_TENSOR_BYTES), name,
                            SN_IMAGE_NAME_BYTES);
            if (c == 0)
                return sn_model_tensor(m, mid, t);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return SN_ERR_UNSUPPORTED;
    }
    for (i = 0; i < m->tensor_count; ++i)
        if (!strncmp((const char *)(m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES), name,
                     SN_IMAGE_NAME_BYTES))
            return sn_model_tensor(m, i, t);
    return SN_ERR_UNSUPPORTED;
}

sn_status sn_model_config(const sn_model *m, uint32_t i, uint32_t *kind, const char **text)
{
    const uint8_t *c;
    if (!m->image || i >= m->config_count)
        return SN_ERR_INVALID_ARGUMENT;
    c = m->config_dir + (size_t)i * SN_IMAGE_CONFIG_BYTES;
    *kind = rd32(c);
    *text = (const char *)(c + 8);
    return SN_OK;
}

uint64_t sn_model_dtype_bytes(const sn_model *m, uint32_t dtype)
{
    uint64_t total = 0;
    uint32_t i;
    for (i = 0; i < m->tensor_count; ++i)
        if (rd32(m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES + 56) == dtype)
            total += rd64(m->tensor_dir + (size_t)i * SN_IMAGE_TENSOR_BYTES + 88);
    return total;
}
