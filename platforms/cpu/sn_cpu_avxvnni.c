/* supernav CPU platform: the AVX2 build with AVX-VNNI (8 lanes; compiled with -mavx2 -mfma
 * -mavxvnni, run only when the processor has them): the AVX2 fp32 kernels, and int8
 * multiply-adds on four bytes per lane (the VEX vpdpbusd). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SN_VW 8
#define SN_PX 4
#define SN_S8_GROUP 4
#define SN_KERNELS sn_cpu_kernels_avxvnni
#define SN_ISA_NAME "avxvnni"
#include "sn_cpu_kernels.inc"
#else
typedef int sn_cpu_avxvnni_unused;
#endif
