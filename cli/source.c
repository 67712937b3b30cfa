/* source.c - reading local files and building POST /review bodies. */
#include "cli/source.h"

#include "common/json.h"
#include "common/relpath.h"
#include "common/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads fd (named name in messages) into f: at most max bytes of UTF-8, no
 * NUL.
 * Does not close fd. Returns 0, or -1 with msg. */
static int read_fd(int fd, const char *name, size_t max, struct source_file *f, char *msg,
                   size_t cap)
{
    size_t size = 4096, bad;
    struct stat st;

    f->data = NULL;
    f->len = 0;
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(msg, cap, "%s: is a directory", name);
            return -1;
        }
        if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
            snprintf(msg, cap, "%s: larger than %zu bytes", name, max);
            return -1;
        }
        if (S_ISREG(st.st_mode))
            size = (size_t)st.st_size + 1;
    }
    if ((f->data = malloc(size)) == NULL)
        goto oom;
    for (;;) {
        ssize_t got;

        if (f->len + 1 >= size) {
            char *grown;

            if (size > max + 1) {
                snprintf(msg, cap, "%s: larger than %zu bytes", name, max);
                goto fail;
            }
            size = size * 2 > max + 2 ? max + 2 : size * 2;
            if ((grown = realloc(f->data, size)) == NULL)
                goto oom;
            f->data = grown;
        }
        got = read(fd, f->data + f->len, size - 1 - f->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(msg, cap, "%s: %s", name, strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        f->len += (size_t)got;
        if (f->len > max) {
            snprintf(msg, cap, "%s: larger than %zu bytes", name, max);
            goto fail;
        }
    }
    f->data[f->len] = '\0';
    if (memchr(f->data, '\0', f->len) != NULL) {
        snprintf(msg, cap, "%s: not a text file (holds a NUL byte)", name);
        goto fail;
    }
    /* The service refuses a string that is not UTF-8: say where, here. */
    if (!utf8_valid(f->data, f->len, &bad)) {
        snprintf(msg, cap, "%s: not UTF-8 text (byte %zu)", name, bad + 1);
        goto fail;
    }
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
fail:
    source_file_free(f);
    return -1;
}

int source_read(const char *path, size_t max, struct source_file *f, char *msg, size_t cap)
{
    int fd, rc;

    f->data = NULL;
    f->len = 0;
    if (strcmp(path, "-") == 0)
        return read_fd(STDIN_FILENO, "stdin", max, f, msg, cap);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(msg, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = read_fd(fd, path, max, f, msg, cap);
    close(fd);
    return rc;
}

/* openat(dir, name, flags) without following a link; when that fails
 * because name is a symbolic link (ELOOP, or ENOTDIR with O_DIRECTORY),
 * *is_link is set to link. */
static int open_nofollow(int dir, const char *name, int flags, int *is_link, int link)
{
    int fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY), saved;
    struct stat st;

    if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR))
        return fd;
    saved = errno;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        *is_link = link;
    errno = saved;
    return -1;
}

/* Opens the relative path under the directory top (AT_FDCWD: the working
 * one) one segment at a time, following no symbolic link. Returns the
 * descriptor, or -1 with errno (and *is_link 1 when the file is a link, 2
 * when a directory on the way is). */
static int open_under(int top, const char *path, int *is_link)
{
    char seg[NAME_MAX + 1];
    int dir = top, fd, saved;

    for (const char *p = path;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);

        if (n > NAME_MAX) {
            fd = -1;
            errno = ENAMETOOLONG;
            break;
        }
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (slash == NULL) {
            /* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
            fd = open_nofollow(dir, seg, O_RDONLY | O_NONBLOCK, is_link, 1);
            break;
        }
        p = slash + 1;
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        fd = open_nofollow(dir, seg, O_RDONLY | O_DIRECTORY, is_link, 2);
        if (dir != top)
            close(dir);
        if (fd < 0)
            return -1;
        dir = fd;
    }
    saved = errno;
    if (dir != top)
        close(dir);
    errno = saved;
    return fd;
}

/* Reads the regular file at path below top (open_under); name is what
 * messages call it. */
static int read_under(int top, const char *path, const char *name, size_t max,
                      struct source_file *f, char *msg, size_t cap)
{
    int fd, rc, is_link = 0;
    struct stat st;

    if ((fd = open_under(top, path, &is_link)) < 0) {
        if (is_link) {
            snprintf(msg, cap, "%s symbolic link in the %s tree",
                     is_link == 1 ? "a" : "under a", top == AT_FDCWD ? "working" : "walked");
            return SOURCE_REFUSED;
        }
        snprintf(msg, cap, "%s: %s", name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(msg, cap, "not a regular file in the %s tree",
                 top == AT_FDCWD ? "working" : "walked");
        return SOURCE_REFUSED;
    }
    rc = read_fd(fd, name, max, f, msg, cap);
    close(fd);
    return rc;
}

int source_read_tree(const char *path, size_t max, struct source_file *f, char *msg,
                     size_t cap)
{
    f->data = NULL;
    f->len = 0;
    if (!relpath_valid(path, strlen(path))) {
        snprintf(msg, cap, "not a plain relative path (absolute, '..' or control characters)");
        return SOURCE_REFUSED;
    }
    return read_under(AT_FDCWD, path, path, max, f, msg, cap);
}

int source_read_walked(const char *dir, const char *path, size_t max, struct source_file *f,
                       char *msg, size_t cap)
{
    size_t dlen = strlen(dir);
    const char *rest = path + dlen;
    int top, rc;

    f->data = NULL;
    f->len = 0;
    if (strncmp(path, dir, dlen) != 0 || (*rest != '/' && (dlen == 0 || dir[dlen - 1] != '/'))) {
        snprintf(msg, cap, "not under %s", dir);
        return SOURCE_REFUSED;
    }
    while (*rest == '/')
        rest++;
    if ((top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(msg, cap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    rc = read_under(top, rest, path, max, f, msg, cap);
    close(top);
    return rc;
}

void source_file_free(struct source_file *f)
{
    free(f->data);
    f->data = NULL;
    f->len = 0;
}

static int has_dotdot(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return 1;
    return 0;
}

/* out = p, when it fits and is a path the service takes (relpath_valid:
 * UTF-8, no control character...). */
static int put_path(char *out, size_t cap, const char *p, char *msg, size_t msgcap)
{
    int n = snprintf(out, cap, "%s", p);

    if (n < 0 || (size_t)n >= cap) {
        snprintf(msg, msgcap, "path too long: %.64s...", p);
        return -1;
    }
    if (!relpath_valid(out, (size_t)n)) {
        snprintf(msg, msgcap, "%s: not a file name the service takes (not UTF-8, or a "
                 "control character)", p);
        return -1;
    }
    return 0;
}

static const char *skip_dot_slash(const char *local)
{
    while (local[0] == '.' && local[1] == '/') {
        local += 2;
        while (*local == '/')
            local++;
    }
    return local;
}

/* Writes into out (cap bytes) local relative to the working directory and
 * returns 1, when it lies there; else 0. */
static int under_cwd(const char *local, char *out, size_t cap)
{
    char real[PATH_MAX], cwd[PATH_MAX];
    size_t n;

    local = skip_dot_slash(local);
    if (local[0] != '/' && !has_dotdot(local))
        return snprintf(out, cap, "%s", local) < (int)cap;
    if (realpath(local, real) != NULL && getcwd(cwd, sizeof cwd) != NULL) {
        n = strlen(cwd);
        if (strncmp(real, cwd, n) == 0 && real[n] == '/' && real[n + 1] != '\0')
            return snprintf(out, cap, "%s", real + n + 1) < (int)cap;
    }
    return 0;
}

int source_wire_path_in(const char *local, const char *dir, char *out, size_t cap, char *msg,
                        size_t msgcap)
{
    char rel[PATH_MAX], real[PATH_MAX], joined[2 * PATH_MAX];
    const char *name, *rest = local + strlen(dir);

    if (under_cwd(dir, rel, sizeof rel) || strncmp(local, dir, strlen(dir)) != 0 ||
        realpath(dir, real) == NULL || (name = strrchr(real, '/')) == NULL || name[1] == '\0')
        return source_wire_path(local, out, cap, msg, msgcap);
    while (*rest == '/')
        rest++;
    snprintf(joined, sizeof joined, "%s/%s", name + 1, rest);
    return put_path(out, cap, joined, msg, msgcap);
}

int source_wire_path(const char *local, char *out, size_t cap, char *msg, size_t msgcap)
{
    char rel[PATH_MAX];
    const char *base;

    local = skip_dot_slash(local);
    if (under_cwd(local, rel, sizeof rel))
        return put_path(out, cap, rel, msg, msgcap);
    base = strrchr(local, '/');
    base = base != NULL ? base + 1 : local;
    if (base[0] == '\0' || strcmp(base, "..") == 0 || strcmp(base, ".") == 0) {
        snprintf(msg, msgcap, "%s: not a file name", local);
        return -1;
    }
    return put_path(out, cap, base, msg, msgcap);
}

static char *print_and_free(cJSON *o)
{
    char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    return s;
}

/* Adds name: text[0..len) as a string (text need not be NUL-terminated);
 * returns 0 or -1. */
static int add_text(cJSON *o, const char *name, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    cJSON *s;

    if (copy == NULL)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    s = cJSON_AddStringToObject(o, name, copy);
    free(copy);
    return s != NULL ? 0 : -1;
}

char *source_review_body(const struct source_review *r)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || !cJSON_AddStringToObject(o, "request_type", "review") ||
        !cJSON_AddStringToObject(o, "file_path", r->path) ||
        !cJSON_AddStringToObject(o, "file_content", r->file->data) ||
        (r->language != NULL && !cJSON_AddStringToObject(o, "language", r->language)) ||
        (r->diff != NULL && add_text(o, "diff", r->diff, r->diff_len) != 0) ||
        (r->filter != NULL && !cJSON_AddStringToObject(o, "filter", r->filter))) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}

int source_body_check(const char *body, char *msg, size_t cap)
{
    size_t n = strlen(body);

    if (n <= SOURCE_BODY_MAX)
        return 0;
    snprintf(msg, cap, "the request would be %zu bytes, over the service's limit of %d bytes",
             n, SOURCE_BODY_MAX);
    return -1;
}

char *source_debug_body(const char *path, const struct source_file *file,
                        const char *const *npaths, const struct source_file *neighbours,
                        size_t n, const struct source_file *error_log,
                        const struct source_run *run, const char *language)
{
    cJSON *o = cJSON_CreateObject(), *files, *r, *args;

    if (o == NULL || !cJSON_AddStringToObject(o, "request_type", "debug") ||
        !cJSON_AddStringToObject(o, "file_path", path) ||
        !cJSON_AddStringToObject(o, "file_content", file->data) ||
        (error_log != NULL && !cJSON_AddStringToObject(o, "error_log", error_log->data)) ||
        (language != NULL && !cJSON_AddStringToObject(o, "language", language)))
        goto fail;
    if (run != NULL && run->runner != NULL) {
        if ((r = cJSON_AddObjectToObject(o, "run")) == NULL ||
            !cJSON_AddStringToObject(r, "runner", run->runner) ||
            (args = cJSON_AddArrayToObject(r, "args")) == NULL)
            goto fail;
        for (size_t i = 0; i < run->nargs; i++) {
            cJSON *a = cJSON_CreateString(run->args[i]);
            if (a == NULL || !cJSON_AddItemToArray(args, a)) {
                cJSON_Delete(a);
                goto fail;
            }
        }
    }
    if (n > 0) {
        if ((files = cJSON_AddArrayToObject(o, "files")) == NULL)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            cJSON *f = cJSON_CreateObject();

            if (f == NULL || !cJSON_AddItemToArray(files, f)) {
                cJSON_Delete(f);
                goto fail;
            }
            if (!cJSON_AddStringToObject(f, "path", npaths[i]) ||
                !cJSON_AddStringToObject(f, "content", neighbours[i].data))
                goto fail;
        }
    }
    return print_and_free(o);
fail:
    cJSON_Delete(o);
    return NULL;
}

char *source_arch_body(const char *request, const char *file_tree)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || !cJSON_AddStringToObject(o, "request_type", "architecture") ||
        !cJSON_AddStringToObject(o, "user_request", request) ||
        (file_tree != NULL && file_tree[0] != '\0' &&
         !cJSON_AddStringToObject(o, "file_tree", file_tree))) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_and_free(o);
}
