/* help.h - the --help texts of codeinsight and its commands. */
#ifndef CI_CLI_HELP_H
#define CI_CLI_HELP_H

#include <stdio.h>

#include "cli/args.h"

/* Version printed by --version. */
#define CLI_VERSION "0.1.0"

/* Writes the help of cmd (CMD_NONE: the overview) to out. */
void help_print(FILE *out, enum cli_cmd cmd);

#endif
