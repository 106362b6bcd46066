#include <stdio.h>
#include <string.h>

#include "sn_cli.h"

#ifndef SN_VERSION
#define SN_VERSION "0.0.0"
#endif
#ifndef SN_GIT_REV
#define SN_GIT_REV "unknown"
#endif
#ifndef SN_BUILD_FLAGS
#define SN_BUILD_FLAGS "unknown"
#endif

int sn_cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        sn_cli_error("takes no arguments");
        return 2;
    }
    printf("supernav %s (git %s)\ncompiler: %s\nflags: %s\n", SN_VERSION, SN_GIT_REV,
#ifdef __VERSION__
           "gcc-compatible " __VERSION__,
#else
           "unknown",
#endif
           SN_BUILD_FLAGS);
    return 0;
}
