/* supernav pack [IN.safetensors] [-o OUT.snm]: interchange file -> deployment image. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "sn_cli.h"
#include "sn_pack.h"

int sn_cmd_pack(int argc, char **argv)
{
    const char *in = "workloads/supernet/supernet.safetensors", *out = "build/supernet.snm";
    const char *table = NULL, *calib = NULL;
    unsigned long calib_count = 512;
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"table", required_argument, 0, 't'},
                                         {"calib", required_argument, 0, 'c'},
                                         {"calib-count", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *end;
    char err[512];
    int c;
    while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': table = optarg; break;
        case 'c': calib = optarg; break;
        case 'n':
            errno = 0;
            calib_count = strtoul(optarg, &end, 10);
            if (errno || *end || calib_count < 1 || calib_count > 100000) {
                sn_cli_error("--calib-count must be an integer in [1, 100000]");
                return 2;
            }
            break;
        case 'h':
            printf("usage: supernav pack [IN.safetensors] [--table accuracy.csv]\n"
                   "                     [--calib PREFIX [--calib-count N]] [-o OUT.snm]\n"
                   "  defaults: %s -> %s; --table embeds the accuracy table;\n"
                   "  int8 weights are always added; --calib runs every config in fp32 on the\n"
                   "  first N canvases of PREFIX (default 512; use training canvases) and stores\n"
                   "  the int8 activation ranges\n", in, out);
            return 0;
        default: return 2;
        }
    }
    if (optind < argc)
        in = argv[optind++];
    if (optind < argc) {
        sn_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (sn_pack_file(in, table, calib, (uint32_t)calib_count, out, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    return 0;
}
