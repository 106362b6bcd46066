/* Registration functions of the micro-benchmark groups (bench/micro_<area>.c). */
#ifndef SN_MICRO_H
#define SN_MICRO_H

int sn_micro_register_conv2d_ref(void); /* reference fp32 conv kernels */
int sn_micro_register_conv2d_cpu(void); /* CPU platform fp32 and int8, per ISA build */

#endif
