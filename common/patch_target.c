/* patch_target.c - which of a job's files a debug fix is for; see
 * patch_target.h. */
#include "common/patch_target.h"

#include "common/patch.h"

int patch_target(const char *diff, const void *files, int n, patch_path_fn *path_of)
{
    if (n < 1 || diff == NULL)
        return -1;
    /* -1 means no "+++ " header at all, whatever the path asked about. */
    if (patch_names_path(diff, "") < 0)
        return 0;
    for (int want = 2; want >= 1; want--) {
        for (int i = 0; i < n; i++) {
            const char *p = path_of(files, i);
            if (p != NULL && patch_names_path(diff, p) == want)
                return i;
        }
    }
    return -1;
}
