/* config_ini.c - INI configuration for the metrics collector.
 *
 *   [section]
 *   key = value            ; comment
 *   path = ${HOME}/data    # ${NAME} is taken from the environment
 *   include = other.ini    # relative to the including file, at most 4 deep
 *
 * Keys are case-insensitive; a later value of the same key wins. Values
 * are read as strings and converted on access (ini_get_int, ini_get_bool,
 * ini_get_duration_ms, ini_get_size). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INI_LINE_MAX 1024
#define INI_NAME_MAX 64
#define INI_INCLUDE_DEPTH 4
#define INI_ERR_MAX 256

struct ini_entry {
    char section[INI_NAME_MAX];
    char key[INI_NAME_MAX];
    char *value;
    int line;
    const char *file;
    struct ini_entry *next;
};

struct ini {
    struct ini_entry *head;
    struct ini_entry *tail;
    char **files;         /* every file read, for messages */
    int nfiles;
    char err[INI_ERR_MAX];
};

static void ini_error(struct ini *ini, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    n = snprintf(ini->err, sizeof ini->err, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vsnprintf(ini->err + n, sizeof ini->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static char *strip(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Cuts a trailing comment that starts with ';' or '#' outside quotes. */
static void cut_comment(char *s)
{
    int quoted = 0;

    for (char *p = s; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

/* Expands ${NAME} from the environment into a new string. */
static char *expand(struct ini *ini, const char *file, int line, const char *v)
{
    size_t cap = strlen(v) + 1, len = 0;
    char *out = malloc(cap);

    if (out == NULL)
        return NULL;
    while (*v) {
        if (v[0] == '$' && v[1] == '{') {
            const char *close = strchr(v + 2, '}');
            char name[INI_NAME_MAX];
            const char *val;
            size_t n, vn;

            if (close == NULL) {
                ini_error(ini, file, line, "unterminated ${");
                free(out);
                return NULL;
            }
            n = (size_t)(close - v - 2);
            if (n == 0 || n >= sizeof name) {
                ini_error(ini, file, line, "bad variable name");
                free(out);
                return NULL;
            }
            memcpy(name, v + 2, n);
            name[n] = '\0';
            val = getenv(name);
            if (val == NULL)
                val = "";
            vn = strlen(val);
            if (len + vn + 1 > cap) {
                cap = (len + vn + 1) * 2;
                out = realloc(out, cap);
            }
            memcpy(out + len, val, vn);
            len += vn;
            v = close + 1;
            continue;
        }
        if (len + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        out[len++] = *v++;
    }
    out[len] = '\0';
    return out;
}

static int unquote(char *v)
{
    size_t n = strlen(v);

    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        memmove(v, v + 1, n - 2);
        v[n - 2] = '\0';
        return 1;
    }
    return 0;
}

static int ini_add(struct ini *ini, const char *file, int line, const char *section,
                   const char *key, char *value)
{
    struct ini_entry *e = calloc(1, sizeof *e);

    if (e == NULL) {
        free(value);
        ini_error(ini, file, line, "out of memory");
        return -1;
    }
    snprintf(e->section, sizeof e->section, "%s", section);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->value = value;
    e->line = line;
    e->file = file;
    if (ini->tail)
        ini->tail->next = e;
    else
        ini->head = e;
    ini->tail = e;
    return 0;
}

static const char *remember_file(struct ini *ini, const char *path)
{
    char **files = realloc(ini->files, sizeof *files * (size_t)(ini->nfiles + 1));

    if (files == NULL)
        return NULL;
    ini->files = files;
    files[ini->nfiles] = strdup(path);
    return files[ini->nfiles++];
}

static int parse_file(struct ini *ini, const char *path, int depth);

static int include(struct ini *ini, const char *from, int line, const char *name, int depth)
{
    char path[PATH_MAX];
    const char *slash = strrchr(from, '/');

    if (depth >= INI_INCLUDE_DEPTH) {
        ini_error(ini, from, line, "includes nested more than %d deep", INI_INCLUDE_DEPTH);
        return -1;
    }
    if (name[0] == '/' || slash == NULL)
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - from), from, name);
    return parse_file(ini, path, depth + 1);
}

static int parse_file(struct ini *ini, const char *path, int depth)
{
    char buf[INI_LINE_MAX], section[INI_NAME_MAX] = "";
    const char *file;
    FILE *fp;
    int line = 0, rc = 0;

    fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(ini->err, sizeof ini->err, "%s: %s", path, strerror(errno));
        return -1;
    }
    file = remember_file(ini, path);
    while (fgets(buf, sizeof buf, fp) != NULL) {
        char *s, *eq, *key, *val, *expanded;

        line++;
        if (strchr(buf, '\n') == NULL && !feof(fp)) {
            ini_error(ini, file, line, "line longer than %d bytes", INI_LINE_MAX - 2);
            rc = -1;
            break;
        }
        cut_comment(buf);
        s = strip(buf);
        if (*s == '\0')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close == NULL || close[1] != '\0') {
                ini_error(ini, file, line, "bad section header");
                rc = -1;
                break;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", strip(s + 1));
            lower(section);
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            ini_error(ini, file, line, "expected key = value");
            rc = -1;
            break;
        }
        *eq = '\0';
        key = strip(s);
        val = strip(eq + 1);
        if (*key == '\0' || strlen(key) >= INI_NAME_MAX) {
            ini_error(ini, file, line, "bad key");
            rc = -1;
            break;
        }
        lower(key);
        if (strcmp(key, "include") == 0 && section[0] == '\0') {
            if (include(ini, file, line, val, depth) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        if (!unquote(val)) {
            expanded = expand(ini, file, line, val);
        } else {
            expanded = strdup(val);  /* quoted values are taken literally */
        }
        if (expanded == NULL || ini_add(ini, file, line, section, key, expanded) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(fp);
    return rc;
}

void ini_free(struct ini *ini);

struct ini *ini_load(const char *path, char *err, size_t errcap)
{
    struct ini *ini = calloc(1, sizeof *ini);

    if (ini == NULL)
        return NULL;
    if (parse_file(ini, path, 0) != 0) {
        snprintf(err, errcap, "%s", ini->err);
        ini_free(ini);
        return NULL;
    }
    return ini;
}

void ini_free(struct ini *ini)
{
    struct ini_entry *e, *next;

    if (ini == NULL)
        return;
    for (e = ini->head; e; e = next) {
        next = e->next;
        free(e->value);
        free(e);
    }
    for (int i = 0; i < ini->nfiles; i++)
        free(ini->files[i]);
    free(ini->files);
    free(ini);
}

static const struct ini_entry *find(const struct ini *ini, const char *section, const char *key)
{
    const struct ini_entry *found = NULL;

    for (const struct ini_entry *e = ini->head; e; e = e->next)
        if (strcasecmp(e->section, section) == 0 && strcasecmp(e->key, key) == 0)
            found = e;  /* the last one wins */
    return found;
}

const char *ini_get(const struct ini *ini, const char *section, const char *key,
                    const char *def)
{
    const struct ini_entry *e = find(ini, section, key);
    return e ? e->value : def;
}

int ini_get_int(const struct ini *ini, const char *section, const char *key, int def, int *out)
{
    const char *v = ini_get(ini, section, key, NULL);
    char *end;
    long n;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtol(v, &end, 0);
    if (errno != 0 || end == v || *end != '\0' || n < INT_MIN || n > INT_MAX)
        return -1;
    *out = (int)n;
    return 0;
}

int ini_get_bool(const struct ini *ini, const char *section, const char *key, int def)
{
    const char *v = ini_get(ini, section, key, NULL);

    if (v == NULL)
        return def;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
        !strcasecmp(v, "on"))
        return 1;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
        !strcasecmp(v, "off"))
        return 0;
    return def;
}

/* "250ms", "5s", "2m", "1h"; a bare number is milliseconds. */
int ini_get_duration_ms(const struct ini *ini, const char *section, const char *key,
                        long def, long *out)
{
    const char *v = ini_get(ini, section, key, NULL);
    char *end;
    double n;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    n = strtod(v, &end);
    if (end == v || n < 0)
        return -1;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        *out = (long)n;
    else if (strcmp(end, "s") == 0)
        *out = (long)(n * 1000);
    else if (strcmp(end, "m") == 0)
        *out = (long)(n * 60 * 1000);
    else if (strcmp(end, "h") == 0)
        *out = (long)(n * 3600 * 1000);
    else
        return -1;
    return 0;
}

/* "512", "64k", "10M", "2G" (powers of 1024). */
int ini_get_size(const struct ini *ini, const char *section, const char *key,
                 unsigned long long def, unsigned long long *out)
{
    const char *v = ini_get(ini, section, key, NULL);
    unsigned long long n, mult = 1;
    char *end;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || end == v)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': mult = 1ULL << 10; break;
    case 'M': mult = 1ULL << 20; break;
    case 'G': mult = 1ULL << 30; break;
    default: return -1;
    }
    if (*end != '\0' && end[1] != '\0' && strcasecmp(end + 1, "b") != 0)
        return -1;
    *out = n * mult;
    return 0;
}

/* Calls fn for every key of a section, in file order (duplicates included). */
void ini_each(const struct ini *ini, const char *section,
              void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
    for (const struct ini_entry *e = ini->head; e; e = e->next)
        if (strcasecmp(e->section, section) == 0)
            fn(e->key, e->value, arg);
}

/* Writes "file:line" of a key into out (for messages about bad values). */
void ini_where(const struct ini *ini, const char *section, const char *key, char *out,
               size_t cap)
{
    const struct ini_entry *e = find(ini, section, key);

    if (e == NULL)
        snprintf(out, cap, "(default)");
    else
        snprintf(out, cap, "%s:%d", e->file, e->line);
}
