/* supernav CPU platform: the AVX-512F build of the kernels (16 lanes; compiled with
 * -mavx512f -mavx512bw -mfma, run only when the processor has them). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SN_VW 16
#define SN_PX 6
#define SN_KERNELS sn_cpu_kernels_avx512
#define SN_ISA_NAME "avx512"
#include "sn_cpu_kernels.inc"
#else
typedef int sn_cpu_avx512_unused;
#endif
