/* source.h - local files read for a review, and the POST /review bodies
 * built from them.
 *
 * Every size is checked before anything is sent: a file that is missing,
 * unreadable, too large or not text (a NUL byte, not UTF-8) is a usage
 * error (exit 2) with nothing submitted.
 */
#ifndef CI_CLI_SOURCE_H
#define CI_CLI_SOURCE_H

#include <stddef.h>

/* Largest POST /review body sent, bytes: the service's default body limit
 * (CODEINSIGHT_BODY_MAX), which counts the file JSON-escaped and the other
 * fields. */
#define SOURCE_BODY_MAX (1024 * 1024)
/* Largest file read, bytes (its body, source_body_check, is checked too). */
#define SOURCE_FILE_MAX SOURCE_BODY_MAX
/* Largest --error-log, bytes (the service's error_log limit). */
#define SOURCE_ERROR_LOG_MAX (256 * 1024)
/* Largest diff read from --diff, bytes. */
#define SOURCE_DIFF_MAX (8 * 1024 * 1024)
/* Longest architecture --request, bytes. */
#define SOURCE_REQUEST_MAX 8192
/* Largest architecture file_tree, bytes. */
#define SOURCE_FILE_TREE_MAX 32768
/* Most neighbouring files of a debug job (the service's limit). */
#define SOURCE_NEIGHBOURS_MAX 16
/* Longest path sent, bytes including the NUL. */
#define SOURCE_PATH_MAX 1025

/* A file's text. */
struct source_file {
    char *data;                 /* owns; NUL-terminated */
    size_t len;                 /* bytes, excluding the NUL */
};

/* Reads path ("-": stdin) into f, refusing more than max bytes, any NUL
 * byte and text that is not UTF-8 (msg gives the first bad byte's offset,
 * from 1). Returns 0, or -1 with msg naming path. */
int source_read(const char *path, size_t max, struct source_file *f, char *msg, size_t cap);

/* What source_read_tree returns for a file it will not read. */
#define SOURCE_REFUSED (-2)

/* Reads path, a file a diff named, as source_read does, but only a regular
 * file reached from the working directory without a symbolic link: path
 * must be relative without a ".." segment or control characters
 * (relpath_valid), and every segment is opened with O_NOFOLLOW from the
 * one before (openat), so nothing outside the working directory is read,
 * whatever links the tree holds. Returns 0; -1 with msg
 * naming path as source_read (missing, unreadable, too large, not text);
 * or SOURCE_REFUSED with msg saying why (a path that is absolute or holds
 * "..", a symbolic link, a FIFO or device or directory). */
int source_read_tree(const char *path, size_t max, struct source_file *f, char *msg,
                     size_t cap);

/* Reads path, a file walk_dir found under dir (path is dir as given, '/'
 * and the rest), as source_read_tree does from dir: dir itself is opened
 * as named (a link the user named is theirs to follow), and below it every
 * segment with O_NOFOLLOW, so a file or directory swapped for a symbolic
 * link after the walk saw it is refused, not followed out of the tree.
 * Returns as source_read_tree. */
int source_read_walked(const char *dir, const char *path, size_t max, struct source_file *f,
                       char *msg, size_t cap);

void source_file_free(struct source_file *f);

/* The relative path the service gets for a local path: "./" dropped; an
 * absolute path, or one with "..", is made relative to the working
 * directory when the file is under it, else reduced to its base name.
 * Returns 0, or -1 with msg when it does not fit in out (cap bytes) or is
 * not a path the service takes (relpath_valid: not UTF-8, a control
 * character). */
int source_wire_path(const char *local, char *out, size_t cap, char *msg, size_t msgcap);

/* The wire path of local, a file found under directory dir (local starts
 * with dir, as walk.h gives it): as source_wire_path when dir lies in the
 * working directory; else dir's own name, then the rest ("../lib/a/u.py"
 * under "../lib" -> "lib/a/u.py"), so that the files of one directory keep
 * apart instead of all being reduced to their base names. */
int source_wire_path_in(const char *local, const char *dir, char *out, size_t cap, char *msg,
                        size_t msgcap);

/* What a review request holds; NULL members are left out. */
struct source_review {
    const char *path;           /* wire path */
    const struct source_file *file;
    const char *language;
    const char *diff;           /* this file's section of the diff */
    size_t diff_len;
    const char *filter;
};

/* POST /review bodies (owns: free), or NULL when out of memory. */
char *source_review_body(const struct source_review *r);

/* Returns 0 when body (NUL-terminated) is within SOURCE_BODY_MAX, else -1
 * with msg giving its size and the limit. */
int source_body_check(const char *body, char *msg, size_t cap);

/* How a debug job is to be reproduced: runner NULL for no run; else its
 * args (nargs of them), the entry being the failing file. */
struct source_run {
    const char *runner;
    const char *const *args;
    size_t nargs;
};

/* A debug job: path/file the failing one, neighbours (n of them, with their
 * wire paths) its context, error_log the trace (NULL: none), run how to
 * reproduce it. */
char *source_debug_body(const char *path, const struct source_file *file,
                        const char *const *npaths, const struct source_file *neighbours,
                        size_t n, const struct source_file *error_log,
                        const struct source_run *run, const char *language);

/* An architecture job: request the text, file_tree (may be NULL) one path
 * per line. */
char *source_arch_body(const char *request, const char *file_tree);

#endif
