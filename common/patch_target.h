/* patch_target.h - which of a job's files a debug fix (a unified diff) is
 * for. One reading for everything that applies or shows that fix: the
 * worker verifying it (worker/debug_task.c, which records the answer as the
 * job's fix_file), POST /apply-fix (gateway/apply_fix.c) and, through
 * fix_file, the exports (gateway/finding_view.c).
 *
 *     int t = patch_target(fix, files, nfiles, path_of);   // files[t], or -1
 */
#ifndef CI_PATCH_TARGET_H
#define CI_PATCH_TARGET_H

/* The path of files' i-th file (0 <= i < n; borrowed), or NULL for none. */
typedef const char *patch_path_fn(const void *files, int i);

/* Index of the file among files[0..n) that diff is for, files[0] being the
 * job's main file: the file its "+++ " header names exactly, else the one
 * it names as "b/" + path (patch_names_path; an exact name wins, so with
 * "stats.py" and "b/stats.py" both submitted "+++ b/stats.py" is the
 * second); 0 when diff has no such header (it is for the file it was made
 * against). -1 when it names none of them, or n < 1. Borrows everything. */
int patch_target(const char *diff, const void *files, int n, patch_path_fn *path_of);

#endif
