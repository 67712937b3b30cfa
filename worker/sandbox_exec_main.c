/* sandbox_exec_main.c - codeinsight-sandbox-exec: the sandbox launcher
 * (worker/sandbox_exec.h) as a program of its own. The worker runs it, when
 * it is installed beside the worker binary, instead of re-executing itself:
 * it loads one library (libseccomp) where the worker loads over forty, which
 * saves about 10 ms of every sandbox's start (a linter run's, mostly). */
#include "worker/sandbox_exec.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], SANDBOX_EXEC_FLAG) == 0)
        return sandbox_exec_main(argc, argv);
    fprintf(stderr, "codeinsight-sandbox-exec: started by codeinsight-worker only (%s ...)\n",
            SANDBOX_EXEC_FLAG);
    return SANDBOX_EXEC_FAILED;
}
