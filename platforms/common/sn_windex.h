/* supernav platforms: the index of packed weight copies that a platform keeps resident
 * (SUSHI's SubGraph in near memory), shared by every platform that packs weights.
 *
 * A copy is keyed by the weight view it was packed from (base pointer into the model
 * image, kind, kernel size and strides) and records the leading slice it holds (o_res
 * outputs x i_res inputs; depthwise: o_res channels). It serves any request for the same
 * view whose slice fits inside it. Where the copy lives is the platform's business: a
 * host address and its packed geometry (CPU) or an offset into a device buffer (OpenCL).
 * The index also maps any pointer into the model image back to its tensor, so a platform
 * can pack a whole tensor on first use and let every SubNet's slice of it hit. Host C11;
 * allocates only in sn_windex_init. */
#ifndef SN_WINDEX_H
#define SN_WINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "sn_engine.h"
#include "sn_kernels_ref.h"
#include "sn_model.h"

typedef struct sn_wentry {
    const void *key;                /* the view's base pointer; NULL: empty slot */
    uint8_t depthwise, s8;
    int32_t kh, kw, s_out, s_kh, s_kw;
    int32_t o_res, i_res;           /* the resident slice (depthwise: channels in o_res) */
    /* where the copy lives (each platform uses its own fields) */
    void *packed;                   /* host address */
    int32_t rows, ld;               /* its packed geometry */
    size_t offset;                  /* bytes into a device buffer */
} sn_wentry;

typedef struct sn_wtensor {
    const char *lo, *hi;            /* its bytes in the model image */
    uint32_t dtype, ndim, dims[4];
} sn_wtensor;

typedef struct sn_windex {
    sn_wentry *slots;               /* open addressing, SN_WINDEX_SLOTS */
    sn_wtensor *tensors;            /* sorted by address */
    uint32_t tensor_count;
} sn_windex;

#define SN_WINDEX_SLOTS 4096u       /* far more than one model's views */

/* Builds the tensor map of MODEL and an empty slot table. Returns 0, or -1 out of memory. */
int sn_windex_init(sn_windex *index, const sn_model *model);
void sn_windex_free(sn_windex *index);

/* Drops every entry (what the entries point to is the platform's to release). */
void sn_windex_clear(sn_windex *index);

/* The tensor holding address P, or NULL when P is not inside the model image's tensors. */
const sn_wtensor *sn_windex_tensor_of(const sn_windex *index, const void *p);

/* The convolution kernel T holds (fp32 or int8): dense OHWI (H = W) -- *K the side, *O the
 * outputs, *I the inputs, *DW 0 -- or depthwise [K][K][C] -- *K, *O = C, *I = 0, *DW 1.
 * Returns 1, or 0 (the outputs untouched) when T is neither or a dimension is not positive. */
int sn_wtensor_conv_shape(const sn_wtensor *t, int32_t *k, int32_t *o, int32_t *i, uint8_t *dw);

/* The entry of view (KEY, DW, P's kernel and strides), or the empty slot where it would go;
 * NULL when the table is full. */
sn_wentry *sn_windex_slot(sn_windex *index, const void *key, int dw, const sn_conv2d_params *p);

/* 1 when E holds a copy at least O_N x I_N wide. */
int sn_wentry_covers(const sn_wentry *e, int32_t o_n, int32_t i_n);

/* Fills E's key and slice (the payload fields are left to the caller). */
void sn_wentry_set(sn_wentry *e, const void *key, int dw, int s8, const sn_conv2d_params *p,
                   int32_t o_n, int32_t i_n);

/* The slice to pack when view W is made resident on first use: its whole tensor when the
 * view is a leading slice of it (so that every SubNet's slice hits), else the request. */
void sn_windex_on_use_extent(const sn_windex *index, const void *w, int dw,
                             const sn_conv2d_params *p, int32_t *o_n, int32_t *i_n);

/* Makes one weight view resident on a platform: W (fp32 or, with S8, int8) as a DW or dense
 * convolution of geometry P, its whole (out_c, in_c) slice. Returns 1 when it is resident. */
typedef int (*sn_windex_place_fn)(void *platform, const void *w, int dw, int s8,
                                  const sn_conv2d_params *p);

/* Calls PLACE for every convolution of PLAN (the SubGraph it uses: its layers and, for ARAC,
 * the fp32 gate and the prefix at both levels) and returns the weight bytes made resident,
 * counted as the model stores them (4 per fp32 weight, 1 per int8 weight). */
size_t sn_windex_place_plan(const sn_plan *plan, sn_windex_place_fn place, void *platform);

#endif
