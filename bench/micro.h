/* Registration functions of the micro-benchmark groups (bench/micro_<area>.c). */
#ifndef SN_MICRO_H
#define SN_MICRO_H

int sn_micro_register_conv2d_ref(void); /* reference fp32 conv kernels */

#endif
