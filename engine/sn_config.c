#include "sn_config.h"

#include <string.h>

#include "sn_text.h"

/* Reads a decimal number of at most 6 digits. */
static const char *parse_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 6)
            return NULL;
        v = v * 10u + (uint32_t)(*s - '0');
        ++s;
    }
    if (n == 0)
        return NULL;
    *out = v;
    return s;
}

/* Reads "v0.v1.v2..." (at least one value) into OUT. */
static const char *parse_list(const char *s, uint32_t *out, uint32_t max, uint32_t *count)
{
    uint32_t n = 0;
    for (;;) {
        if (n >= max)
            return NULL;
        s = parse_u32(s, &out[n++]);
        if (!s)
            return NULL;
        if (*s != '.')
            break;
        ++s;
    }
    *count = n;
    return s;
}

static sn_status parse_subnet(const char *s, sn_subnet_config *c)
{
    uint32_t i, n_e, n_k;
    memset(c, 0, sizeof *c);
    if (*s++ != 'r' || !(s = parse_u32(s, &c->res)) || *s++ != '-' || *s++ != 'd' ||
        !(s = parse_list(s, c->depths, SN_IMAGE_MAX_STAGES, &c->num_stages)) || *s++ != '-' ||
        *s++ != 'e' || !(s = parse_list(s, c->expands, SN_MAX_BLOCKS, &n_e)) || *s++ != '-' ||
        *s++ != 'k' || !(s = parse_list(s, c->kernels, SN_MAX_BLOCKS, &n_k)) || *s != '\0')
        return SN_ERR_FORMAT;
    for (i = 0; i < c->num_stages; ++i) {
        c->num_blocks += c->depths[i];
        if (c->num_blocks > SN_MAX_BLOCKS)
            return SN_ERR_FORMAT;
    }
    if (n_e != c->num_blocks || n_k != c->num_blocks)
        return SN_ERR_FORMAT;
    return SN_OK;
}

/* arac-[p{P}-]g{G}-[{h|z}-]t{T}-l{levels}: -- the P and mode fields together or neither */
static const char *parse_arac(const char *s, sn_config *c)
{
    uint32_t i;
    c->is_arac = 1;
    c->mode = SN_REGION_MODE_HALO;
    if (*s == 'p' && (!(s = parse_u32(s + 1, &c->split)) || c->split == 0 || *s++ != '-'))
        return NULL;
    if (*s++ != 'g' || !(s = parse_u32(s, &c->grid)) || *s++ != '-')
        return NULL;
    if (c->split) {
        if (*s != 'h' && *s != 'z')
            return NULL;
        c->mode = *s == 'h' ? SN_REGION_MODE_HALO : SN_REGION_MODE_TILE;
        if (*++s != '-')
            return NULL;
        ++s;
    }
    if (*s++ != 't' || !(s = parse_u32(s, &c->threshold_pct)) || *s++ != '-' || *s++ != 'l' ||
        !(s = parse_list(s, c->levels_pct, SN_CONFIG_MAX_LEVELS, &c->num_levels)) || *s++ != ':')
        return NULL;
    if (!c->split) /* CF-64's form: a high and a low level */
        return c->num_levels == 2 ? s : NULL;
    /* at least three levels, strictly decreasing, the last SKIP */
    if (c->num_levels < 3 || c->levels_pct[c->num_levels - 1] != 0)
        return NULL;
    for (i = 1; i < c->num_levels; ++i)
        if (c->levels_pct[i] >= c->levels_pct[i - 1])
            return NULL;
    return s;
}

sn_status sn_config_parse(const char *text, sn_config *c)
{
    const char *s = text;
    memset(c, 0, sizeof *c);
    if (!text || strlen(text) >= SN_CONFIG_TEXT_MAX)
        return SN_ERR_FORMAT;
    if (!strncmp(s, "arac-", 5) && !(s = parse_arac(s + 5, c)))
        return SN_ERR_FORMAT;
    return parse_subnet(s, &c->subnet);
}

typedef struct text_out {
    char *p;
    size_t left;
    int overflow;
} text_out;

static void put_char(text_out *o, char ch)
{
    if (o->left > 1) {
        *o->p++ = ch;
        --o->left;
    } else {
        o->overflow = 1;
    }
}

int sn_u32_digits(uint32_t v, char out[10])
{
    char rev[10];
    int n = 0, i;
    do {
        rev[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    for (i = 0; i < n; ++i)
        out[i] = rev[n - 1 - i];
    return n;
}

static void put_u32(text_out *o, uint32_t v)
{
    char digits[10];
    int n = sn_u32_digits(v, digits), i;
    for (i = 0; i < n; ++i)
        put_char(o, digits[i]);
}

static void put_list(text_out *o, char tag, const uint32_t *v, uint32_t n)
{
    uint32_t i;
    put_char(o, tag);
    for (i = 0; i < n; ++i) {
        if (i)
            put_char(o, '.');
        put_u32(o, v[i]);
    }
}

sn_status sn_config_format(const sn_config *c, char *buf, size_t n)
{
    text_out o;
    if (!buf || n == 0)
        return SN_ERR_NO_MEMORY;
    o.p = buf;
    o.left = n;
    o.overflow = 0;
    if (c->is_arac) {
        put_char(&o, 'a'); put_char(&o, 'r'); put_char(&o, 'a'); put_char(&o, 'c'); put_char(&o, '-');
        if (c->split) {
            put_char(&o, 'p'); put_u32(&o, c->split); put_char(&o, '-');
        }
        put_char(&o, 'g'); put_u32(&o, c->grid); put_char(&o, '-');
        if (c->split) {
            put_char(&o, c->mode == SN_REGION_MODE_TILE ? 'z' : 'h'); put_char(&o, '-');
        }
        put_char(&o, 't'); put_u32(&o, c->threshold_pct);
        put_char(&o, '-');
        put_list(&o, 'l', c->levels_pct, c->num_levels);
        put_char(&o, ':');
    }
    put_char(&o, 'r');
    put_u32(&o, c->subnet.res);
    put_char(&o, '-');
    put_list(&o, 'd', c->subnet.depths, c->subnet.num_stages);
    put_char(&o, '-');
    put_list(&o, 'e', c->subnet.expands, c->subnet.num_blocks);
    put_char(&o, '-');
    put_list(&o, 'k', c->subnet.kernels, c->subnet.num_blocks);
    *o.p = '\0';
    return o.overflow ? SN_ERR_NO_MEMORY : SN_OK;
}

static int in_list(uint32_t v, const uint32_t *list, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; ++i)
        if (list[i] == v)
            return 1;
    return 0;
}

static sn_status unsupported(const char **why, const char *text)
{
    if (why)
        *why = text;
    return SN_ERR_UNSUPPORTED;
}

sn_status sn_config_check(const sn_model *m, const sn_config *c, const char **why)
{
    const sn_image_arch *a = &m->arch;
    const sn_subnet_config *s = &c->subnet;
    uint32_t i;
    if (!in_list(s->res, a->resolutions, a->num_resolutions))
        return unsupported(why, "input resolution not served by this model");
    if (s->num_stages != a->num_stages)
        return unsupported(why, "number of stage depths differs from the model's stages");
    for (i = 0; i < s->num_stages; ++i)
        if (s->depths[i] < a->stage_min_depth[i] || s->depths[i] > a->stage_max_depth[i])
            return unsupported(why, "stage depth outside the model's range");
    for (i = 0; i < s->num_blocks; ++i) {
        if (!in_list(s->expands[i], a->expands, a->num_expands))
            return unsupported(why, "expand ratio not served by this model");
        if (!in_list(s->kernels[i], a->kernels, a->num_kernels))
            return unsupported(why, "kernel size not served by this model");
    }
    if (c->is_arac) {
        if (!in_list(c->grid, a->grids, a->num_grids))
            return unsupported(why, "ARAC grid not served by this model");
        if (c->num_levels < 2 || c->num_levels > SN_CONFIG_MAX_LEVELS)
            return unsupported(why, "ARAC config with fewer than two or too many levels");
        for (i = 0; i < c->num_levels; ++i)
            if (!in_list(c->levels_pct[i], a->levels_pct, a->num_levels))
                return unsupported(why, "ARAC level not served by this model");
        if (!c->split && a->num_splits)
            return unsupported(why, "this model's ARAC configs name their split point and region "
                                    "mode (arac-p{P}-g{G}-{h|z}-...)");
        if (c->split && !in_list(c->split, a->splits, a->num_splits))
            return unsupported(why, "ARAC split point not served by this model");
        if (c->split && (!(c->mode & a->region_modes) ||
                         (c->mode != SN_REGION_MODE_HALO && c->mode != SN_REGION_MODE_TILE)))
            return unsupported(why, "ARAC region mode not served by this model");
        if (c->threshold_pct > 100)
            return unsupported(why, "ARAC gate threshold above 100 %");
        if (s->res != a->canvas)
            return unsupported(why, "ARAC runs at the canvas resolution");
    }
    return SN_OK;
}
