/* supernav pack [IN.safetensors] [-o OUT.snm]: interchange file -> deployment image. */
#include <getopt.h>
#include <stdio.h>

#include "sn_cli.h"
#include "sn_pack.h"

int sn_cmd_pack(int argc, char **argv)
{
    const char *in = "workloads/supernet/supernet.safetensors", *out = "build/supernet.snm";
    const char *table = NULL;
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"table", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char err[512];
    int c;
    while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': table = optarg; break;
        case 'h':
            printf("usage: supernav pack [IN.safetensors] [--table accuracy.csv] [-o OUT.snm]\n"
                   "  defaults: %s -> %s; --table embeds the accuracy table\n", in, out);
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
    if (sn_pack_file(in, table, out, err, sizeof err) != 0) {
        sn_cli_error("%s", err);
        return 1;
    }
    return 0;
}
