/* supernav CPU platform: the portable build of the kernels (4 lanes). */
#define SN_VW 4
#define SN_PX 4
#define SN_KERNELS sn_cpu_kernels_portable
#define SN_ISA_NAME "portable"
#include "sn_cpu_kernels.inc"
