/* supernav CPU platform: the AVX-512 build with VNNI (16 lanes; compiled with -mavx512f
 * -mavx512bw -mavx512vnni -mfma, run only when the processor has them): the AVX-512 fp32
 * kernels, and int8 multiply-adds on four bytes per lane (vpdpbusd). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SN_VW 16
#define SN_PX 6
#define SN_S8_GROUP 4
#define SN_KERNELS sn_cpu_kernels_avx512vnni
#define SN_ISA_NAME "avx512vnni"
#include "sn_cpu_kernels.inc"
#else
typedef int sn_cpu_avx512vnni_unused;
#endif
