/* proc_guard.c - see proc_guard.h. */
#include "common/proc_guard.h"

#include <sys/prctl.h>

int proc_guard_secrets(void)
{
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}
