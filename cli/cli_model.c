/* Loading a deployment image for a subcommand: one place for the read, the validation and
 * the one-line error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sn_cli.h"
#include "sn_file.h"

int sn_cli_load_model(const char *path, void **image, sn_model *model)
{
    size_t size;
    sn_model_error e;
    sn_status st;
    *image = NULL;
    if (sn_read_file(path, image, &size) != 0) {
        sn_cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    st = sn_model_load(model, *image, size, &e);
    if (st != SN_OK) {
        sn_cli_error("%s: %s: %s (at byte %llu)", path, sn_status_str(st), e.what,
                     (unsigned long long)e.offset);
        free(*image);
        *image = NULL;
        return -1;
    }
    return 0;
}

int sn_cli_model_arg(int argc, char **argv, const char **path)
{
    *path = "build/supernet.snm";
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return 1;
    if (argc == 3 && !strcmp(argv[1], "--model"))
        *path = argv[2];
    else if (argc == 2 && argv[1][0] != '-')
        *path = argv[1];
    else if (argc != 1)
        return 2;
    return 0;
}
