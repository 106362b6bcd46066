/* supernav-micro: kernel micro-benchmarks (make micro). Each micro_<area>.c registers
 * its cases; this file only calls them and hands over to Google Benchmark. */
#include <stdio.h>

#include "micro.h"
#include "sn_bench.h"

int main(int argc, char **argv)
{
    if (sn_micro_register_conv2d_ref() != 0 || sn_micro_register_conv2d_cpu() != 0) {
        fprintf(stderr, "supernav-micro: error: could not register benchmarks\n");
        return 1;
    }
    return sn_bench_main(argc, argv);
}
