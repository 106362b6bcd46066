/* supernav CPU platform: the AVX2+FMA build of the kernels (8 lanes; compiled with
 * -mavx2 -mfma, run only when the processor has them). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SN_VW 8
#define SN_PX 6
/* int8 micro-tiles of up to 6 pixels x 2 vectors (12 accumulators; measured on Zen 3: about 5 %
 * less int8 p50 on the r40 and r56 SubNets than 4 pixels) */
#define SN_S8_PX 6
/* fp32 depthwise 3x3 / 5x5 rows 8 pixels at a time (8 accumulators of one channel vector) */
#define SN_DW_PX 8
/* fp32 pointwise layers with an odd number of output vectors: the first three in tiles of 4
 * pixels x 3 vectors */
#define SN_PW_TRIPLE 1
/* fp32 depthwise 3x3 / 5x5: the rows' last 1 to 4 pixels and rows narrower than 8 as 4 x 2, 3 x 3,
 * 2 x 4 or 1 x 4 pixels x channel vectors (dw_small_any) */
#define SN_DW_SMALL 1
/* fp32 depthwise 5x5, strides 1 and 2, output rows of 6 pixels or more: one
 * channel vector at a time from a zero-padded contiguous copy of its input map (dwconv_pad) */
#define SN_DW_PAD 1
#define SN_KERNELS sn_cpu_kernels_avx2
#define SN_ISA_NAME "avx2"
#include "sn_cpu_kernels.inc"
#else
typedef int sn_cpu_avx2_unused;
#endif
