/* supernav CLI: one binary, one function per subcommand (cli/cmd_<name>.c).
 *
 * A subcommand returns the process exit status: 0 on success, 1 for a failure the user
 * caused or can fix (bad input, missing file), 2 for bad usage. Errors are one line on
 * stderr, printed with sn_cli_error(). */
#ifndef SN_CLI_H
#define SN_CLI_H

#include <stdio.h>

#include "sn_model.h"

typedef int (*sn_cli_fn)(int argc, char **argv);

typedef struct sn_cli_command {
    const char *name;
    const char *summary;
    sn_cli_fn run;
} sn_cli_command;

/* "supernav <cmd>: error: <message>\n" on stderr. */
void sn_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A number option: TEXT whole as a number strictly between LO and HI into *OUT. Returns 0, or
 * -1 (nothing printed: the caller names what the option takes). */
int sn_cli_parse_double(const char *text, double lo, double hi, double *out);

/* Reads and validates the deployment image at PATH into *IMAGE (malloc'ed; the caller
 * frees it) and MODEL. On failure prints one error line and returns -1. */
int sn_cli_load_model(const char *path, void **image, sn_model *model);

/* The image argument of a command that reads one model and nothing else (info, subnets):
 * none, MODEL or --model MODEL; *PATH defaults to build/supernet.snm. Returns 0, 1 for -h
 * or --help, 2 for anything else (the caller prints its usage). */
int sn_cli_model_arg(int argc, char **argv, const char **path);

/* The subcommand being run, for messages ("supernav" before dispatch). */
extern const char *sn_cli_command_name;

int sn_cmd_version(int argc, char **argv);
int sn_cmd_canvas(int argc, char **argv);
int sn_cmd_pack(int argc, char **argv);
int sn_cmd_info(int argc, char **argv);
int sn_cmd_eval(int argc, char **argv);
int sn_cmd_subnets(int argc, char **argv);
int sn_cmd_dataset(int argc, char **argv);
int sn_cmd_counters(int argc, char **argv);
int sn_cmd_trace(int argc, char **argv);
int sn_cmd_profile(int argc, char **argv);
int sn_cmd_replay(int argc, char **argv);
int sn_cmd_summary(int argc, char **argv);
int sn_cmd_report(int argc, char **argv);
int sn_cmd_compare(int argc, char **argv);
int sn_cmd_gate(int argc, char **argv);
int sn_cmd_sweep(int argc, char **argv);

#endif
