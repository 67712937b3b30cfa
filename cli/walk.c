/* walk.c - the files under a directory to review (walk.h). */
#include "cli/walk.h"

#include "cli/termtext.h"
#include "common/language.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
    struct walk_list *out;
    size_t first;               /* out->n when the walk began */
    size_t max;                 /* files this walk may add */
    enum walk_what what;
    const char *top;            /* the directory named */
    char *msg;
    size_t cap;
};

static int skipped_dir(const char *name)
{
    return strcmp(name, "node_modules") == 0 || strcmp(name, "__pycache__") == 0;
}

static int add(struct walk *w, const char *path)
{
    struct walk_list *l = w->out;

    if (l->n - w->first >= w->max) {
        snprintf(w->msg, w->cap, "%s holds more than %zu files to review: name fewer",
                 w->top, w->max);
        return -1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **grown = realloc(l->paths, cap * sizeof *grown);
        if (grown == NULL)
            goto oom;
        l->paths = grown;
        l->cap = cap;
    }
    if ((l->paths[l->n] = strdup(path)) == NULL)
        goto oom;
    l->n++;
    return 0;
oom:
    snprintf(w->msg, w->cap, "out of memory listing %s", w->top);
    return -1;
}

static void note_unreadable(const char *path, int err)
{
    fputs("codeinsight: note: ", stderr);
    termtext_put(stderr, path, TERMTEXT_FLAT);
    fprintf(stderr, ": cannot read the directory (%s), skipped\n", strerror(err));
}

/* Opens the directory to walk: the top as named, one below it as the
 * entry name of the directory at, never through a symbolic link (one
 * swapped in since its entry was read is refused: ELOOP or ENOTDIR). */
static DIR *dir_open(int at, const char *name, const char *path, int depth)
{
    int fd = depth == 0 ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                        : openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    if ((d = fdopendir(fd)) == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return d;
}

/* The entries of path (depth below the top; the entry name of the
 * directory at, below the top), recursively. */
static int walk_in(struct walk *w, int at, const char *name, const char *path, int depth)
{
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (depth > WALK_DEPTH_MAX) {
        snprintf(w->msg, w->cap, "%s: directories deeper than %d below %s", path,
                 WALK_DEPTH_MAX, w->top);
        return -1;
    }
    if ((d = dir_open(at, name, path, depth)) == NULL) {
        if (depth == 0) {
            snprintf(w->msg, w->cap, "%s: %s", path, strerror(errno));
            return -1;
        }
        note_unreadable(path, errno);
        return 0;
    }
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        char sub[PATH_MAX];
        struct stat st;
        size_t plen = strlen(path);
        const char *sep = plen > 0 && path[plen - 1] == '/' ? "" : "/";

        if (de->d_name[0] == '.')
            continue;               /* ".", "..", and hidden entries */
        if (snprintf(sub, sizeof sub, "%s%s%s", path, sep, de->d_name) >= (int)sizeof sub) {
            snprintf(w->msg, w->cap, "a path under %s is longer than %d bytes", w->top,
                     PATH_MAX - 1);
            rc = -1;
            break;
        }
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;               /* gone meanwhile */
        if (S_ISDIR(st.st_mode)) {
            if (!skipped_dir(de->d_name))
                rc = walk_in(w, dirfd(d), de->d_name, sub, depth + 1);
        } else if (S_ISREG(st.st_mode) &&
                   (w->what == WALK_ALL || language_from_path(de->d_name) != NULL)) {
            rc = add(w, sub);
        }
    }
    if (rc == 0 && errno != 0) {
        if (depth == 0) {
            snprintf(w->msg, w->cap, "%s: %s", path, strerror(errno));
            rc = -1;
        } else {
            note_unreadable(path, errno);
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int walk_dir(const char *dir, enum walk_what what, size_t max, struct walk_list *out,
             char *msg, size_t cap)
{
    struct walk w = {out, out->n, max, what, dir, msg, cap};

    if (walk_in(&w, AT_FDCWD, dir, dir, 0) != 0) {
        while (out->n > w.first)
            free(out->paths[--out->n]);
        return -1;
    }
    if (out->n > w.first)           /* paths is NULL while nothing was found */
        qsort(out->paths + w.first, out->n - w.first, sizeof *out->paths, by_path);
    return 0;
}

void walk_list_free(struct walk_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->n = l->cap = 0;
}
