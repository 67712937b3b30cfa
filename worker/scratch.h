/* scratch.h - private scratch directories for the child processes a worker
 * runs (linters, the sandbox launcher): created 0700 under $TMPDIR, filled
 * without ever following a link, removed with everything in them. Each is
 * named after the process that made it, so that one left behind by a
 * process killed outright can be told from one in use and swept.
 */
#ifndef WK_SCRATCH_H
#define WK_SCRATCH_H

#include <stddef.h>

/* The directories' prefixes: a linter run's, a Debug Doctor sandbox run's,
 * the launcher probe's. */
#define SCRATCH_LINT "codeinsight-lint"
#define SCRATCH_SANDBOX "codeinsight-sandbox"
#define SCRATCH_PROBE "codeinsight-probe"

/* Creates "<$TMPDIR or /tmp>/<prefix>-<pid>-XXXXXX" (0700) into dir (cap
 * bytes). Returns 0, or -1 with errno set and dir "". */
int scratch_create(const char *prefix, char *dir, size_t cap);

/* Removes the directories scratch_create(prefix) made under $TMPDIR (or
 * /tmp) for processes that are gone: a worker killed outright (SIGKILL, the
 * OOM killer) cannot remove its own. Only a directory (never a link) of this
 * user whose name is exactly prefix-<pid>-XXXXXX, pid not this process and
 * not running, is removed. Returns how many were. */
int scratch_sweep(const char *prefix);

/* Writes content[0..len) to dir/rel (0600), creating rel's parent
 * directories; "" and "." segments are skipped. Every component is created
 * here, in a directory only we can write, and opened with O_NOFOLLOW; the
 * file must not exist yet. Returns 0, or -1 with why (cap bytes) set. */
int scratch_write(const char *dir, const char *rel, const char *content, size_t len, char *why,
                  size_t cap);

/* Removes dir and everything below it (never following links), then sets
 * dir to "". Accepts "". */
void scratch_remove(char *dir);

/* The last non-empty line of s[0..len), at most max bytes of it (its end,
 * from a character's start), control characters as spaces and bytes that
 * are not UTF-8 as '?', into out (cap bytes). */
void scratch_last_line(const char *s, size_t len, size_t max, char *out, size_t cap);

#endif
