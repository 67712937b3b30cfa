/* scratch.c - private scratch directories. */
#include "worker/scratch.h"

#include "common/utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tmp_dir(void)
{
    const char *tmp = getenv("TMPDIR");

    return tmp != NULL && tmp[0] == '/' ? tmp : "/tmp";
}

int scratch_create(const char *prefix, char *dir, size_t cap)
{
    const char *tmp = tmp_dir();

    if (snprintf(dir, cap, "%s/%s-%ld-XXXXXX", tmp, prefix, (long)getpid()) >= (int)cap) {
        dir[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        dir[0] = '\0';
        return -1;
    }
    return 0;
}

int scratch_write(const char *dir, const char *rel, const char *content, size_t len, char *why,
                  size_t cap)
{
    char part[NAME_MAX + 1];
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
    const char *p = rel;
    size_t off = 0;

    if (dfd < 0) {
        snprintf(why, cap, "open the directory: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n >= sizeof part) {
            close(dfd);
            snprintf(why, cap, "path component too long");
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (p[n] == '\0')
            break;
        p += n + 1;
        if (n == 0 || strcmp(part, ".") == 0)
            continue;
        if (mkdirat(dfd, part, 0700) != 0 && errno != EEXIST) {
            snprintf(why, cap, "mkdir: %s", strerror(errno));
            close(dfd);
            return -1;
        }
        fd = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dfd);
        if (fd < 0) {
            snprintf(why, cap, "open directory: %s", strerror(errno));
            return -1;
        }
        dfd = fd;
    }
    fd = openat(dfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    close(dfd);
    if (fd < 0) {
        snprintf(why, cap, "create file: %s", strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, content + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(why, cap, "write: %s", strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void scratch_remove(char *dir)
{
    if (dir[0] != '\0')
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* The pid in name when it is exactly prefix-<pid>-XXXXXX, else 0. */
static pid_t scratch_owner(const char *prefix, const char *name)
{
    size_t n = strlen(prefix);
    const char *p = name + n + 1;
    char *end;
    long pid;

    if (strncmp(name, prefix, n) != 0 || name[n] != '-' || *p < '1' || *p > '9')
        return 0;
    errno = 0;
    pid = strtol(p, &end, 10);
    if (errno != 0 || pid <= 0 || pid > INT_MAX || *end != '-' || strlen(end + 1) != 6)
        return 0;
    return (pid_t)pid;
}

int scratch_sweep(const char *prefix)
{
    char path[PATH_MAX];
    const char *tmp = tmp_dir();
    DIR *d = opendir(tmp);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        pid_t pid = scratch_owner(prefix, de->d_name);
        struct stat st;

        if (pid == 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        if (snprintf(path, sizeof path, "%s/%s", tmp, de->d_name) >= (int)sizeof path)
            continue;
        scratch_remove(path);
        n++;
    }
    closedir(d);
    return n;
}

void scratch_last_line(const char *s, size_t len, size_t max, char *out, size_t cap)
{
    size_t end = len, start;

    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    start = end;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    if (max >= cap)
        max = cap - 1;
    /* A tail from a character's start: a lint note is stored as JSON. */
    start += utf8_tail(s + start, end - start, max);
    snprintf(out, cap, "%.*s", (int)(end - start), s + start);
    for (char *p = out; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    utf8_sanitize(out);
}
