/* settings.c - the CLI's config file: path, parse, load, atomic write. */
#include "cli/settings.h"

#include "common/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int settings_path(const char *xdg, const char *home, char *out, size_t cap)
{
    int n;

    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/codeinsight/config", xdg);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, cap, "%s/.config/codeinsight/config", home);
    else
        return -1;
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static const char *trim(const char *s, const char *end, const char **tend)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *tend = end;
    return s;
}

/* Copies [v, vend) into out (cap bytes), refusing control characters. */
static int take_value(const char *v, const char *vend, char *out, size_t cap, const char *name,
                      long line, char *msg, size_t msgcap)
{
    size_t n = (size_t)(vend - v);

    if (n >= cap)
        return fail(msg, msgcap, "line %ld: %s is longer than %zu bytes", line, name, cap - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return fail(msg, msgcap, "line %ld: %s holds a control character", line, name);
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

int settings_parse(const char *text, size_t len, struct cli_config *c, char *msg, size_t cap)
{
    const char *p = text, *end = text + len;
    long line = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lend = nl ? nl : end, *s, *send, *eq, *k, *kend, *v, *vend;

        line++;
        s = trim(p, lend, &send);
        p = nl ? nl + 1 : end;
        if (s == send || *s == '#')
            continue;
        if ((eq = memchr(s, '=', (size_t)(send - s))) == NULL)
            return fail(msg, cap, "line %ld: expected name = value", line);
        k = trim(s, eq, &kend);
        v = trim(eq + 1, send, &vend);
        if ((size_t)(kend - k) == 3 && memcmp(k, "url", 3) == 0) {
            if (take_value(v, vend, c->url, sizeof c->url, "url", line, msg, cap) != 0)
                return -1;
        } else if ((size_t)(kend - k) == 7 && memcmp(k, "api_key", 7) == 0) {
            if (take_value(v, vend, c->api_key, sizeof c->api_key, "api_key", line, msg,
                           cap) != 0)
                return -1;
        }
    }
    return 0;
}

int settings_load(const char *path, struct cli_config *c, int *found, char *msg, size_t cap)
{
    struct stat st;
    char *buf = NULL;
    ssize_t got;
    size_t len = 0;
    int fd, rc = -1;

    *found = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        *found = 1;
        /* Where it points may be someone else's file, or change. */
        return fail(msg, cap, "%s is a symbolic link; not used (replace it with the file "
                    "itself, mode 600, or run codeinsight login again)", path);
    }
    if (fd < 0)
        return errno == ENOENT ? 0 : fail(msg, cap, "%s: %s", path, strerror(errno));
    *found = 1;
    if (fstat(fd, &st) != 0) {
        fail(msg, cap, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        fail(msg, cap, "%s is not a regular file", path);
        goto out;
    }
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        fail(msg, cap, "%s can be changed by other users; not used (chmod 600 it, or run "
             "codeinsight login again)", path);
        goto out;
    }
    /* The key may already be someone else's: as ssh does with a private
     * key, it is not used until the file is private again. */
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        fail(msg, cap, "%s is readable by other users; not used (chmod 600 %s)", path, path);
        goto out;
    }
    if (st.st_size > SETTINGS_FILE_MAX) {
        fail(msg, cap, "%s is larger than %d bytes", path, SETTINGS_FILE_MAX);
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        fail(msg, cap, "out of memory");
        goto out;
    }
    while (len < (size_t)st.st_size &&
           (got = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fail(msg, cap, "%s: %s", path, strerror(errno));
            goto out;
        }
        len += (size_t)got;
    }
    if (settings_parse(buf, len, c, msg, cap) != 0) {
        char why[256];

        snprintf(why, sizeof why, "%s", msg);
        fail(msg, cap, "%s: %s", path, why);
        goto out;
    }
    rc = 0;
out:
    if (buf != NULL) {
        crypto_wipe(buf, len);
        free(buf);
    }
    close(fd);
    return rc;
}

/* mkdir -p of path's directory, each created directory mode 0700. */
static int make_dirs(const char *path, char *msg, size_t cap)
{
    char dir[SETTINGS_PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s", path);
    char *slash;

    if (n < 0 || (size_t)n >= sizeof dir)
        return fail(msg, cap, "config path too long");
    if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return fail(msg, cap, "mkdir %s: %s", dir, strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int settings_write(const char *path, const struct cli_config *c, char *msg, size_t cap)
{
    char tmp[SETTINGS_PATH_MAX], text[SETTINGS_URL_MAX + SETTINGS_KEY_MAX + 128];
    int n, fd, rc = -1;

    if (make_dirs(path, msg, cap) != 0)
        return -1;
    n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return fail(msg, cap, "config path too long");
    n = snprintf(text, sizeof text, "# written by codeinsight login\nurl = %s\napi_key = %s\n",
                 c->url, c->api_key);
    if (n < 0 || (size_t)n >= sizeof text) {
        crypto_wipe(text, sizeof text);
        return fail(msg, cap, "url or key too long");
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fail(msg, cap, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    /* The umask cannot widen 0600, but an inherited ACL default could. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)n) != 0 || fsync(fd) != 0) {
        fail(msg, cap, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        fail(msg, cap, "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    crypto_wipe(text, sizeof text);
    return rc;
}

static void put(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

void settings_resolve(struct cli_config *c, const char *flag_url, const char *env_url,
                    const char *env_key, const struct cli_config *file)
{
    memset(c, 0, sizeof *c);
    if (flag_url != NULL && flag_url[0] != '\0') {
        put(c->url, sizeof c->url, flag_url);
        c->url_from = "--url";
    } else if (env_url != NULL && env_url[0] != '\0') {
        put(c->url, sizeof c->url, env_url);
        c->url_from = "CODEINSIGHT_URL";
    } else if (file != NULL && file->url[0] != '\0') {
        put(c->url, sizeof c->url, file->url);
        c->url_from = "config file";
    } else {
        put(c->url, sizeof c->url, SETTINGS_DEFAULT_URL);
        c->url_from = "default";
    }
    if (env_key != NULL && env_key[0] != '\0') {
        put(c->api_key, sizeof c->api_key, env_key);
        c->key_from = "CODEINSIGHT_API_KEY";
    } else if (file != NULL && file->api_key[0] != '\0' &&
               strcmp(file->url[0] != '\0' ? file->url : SETTINGS_DEFAULT_URL, c->url) == 0) {
        /* The file's key goes only to the file's server (the default one
         * when it names none): a key must not follow CODEINSIGHT_URL or
         * --url to another host. */
        put(c->api_key, sizeof c->api_key, file->api_key);
        c->key_from = "config file";
    }
}

void settings_wipe(struct cli_config *c)
{
    if (c != NULL)
        crypto_wipe(c->api_key, sizeof c->api_key);
}
