/* prompt.c - loads prompts/ once and renders a task's prompt.
 *
 * A template is compiled at load into segments (text, value, section
 * start, section end) pointing into its own text, so rendering is one pass
 * that copies values verbatim: a value holding "{{code}}" stays as it is.
 * Each task's system part (role blocks + the template's fixed
 * instructions) is composed once at load: it is the same bytes on every
 * call, which is what provider-side prompt caching keys on.
 */
#include "worker/prompt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/plans.h"
#include "common/utf8.h"

/* Bytes of prompts/system_brain.json, at most. */
#define PROMPT_BRAIN_MAX (64 * 1024)
/* Bytes of one template, at most. */
#define PROMPT_TEMPLATE_MAX (32 * 1024)
/* Bytes of the brain's version string; [A-Za-z0-9._-] only. */
#define PROMPT_BRAIN_VERSION_MAX 24
/* Largest template version. */
#define PROMPT_TEMPLATE_VERSION_MAX 999999L
/* Nesting of {{#x}} / {{^x}} sections, at most. */
#define PROMPT_SECTION_DEPTH 8
/* Hex digits of a content digest in a prompt version. */
#define PROMPT_DIGEST_HEX 6
/* The line between a template's fixed instructions and its task part. */
#define PROMPT_USER_MARK "# --- user ---"

enum var {
    VAR_FILE_PATH,
    VAR_LANGUAGE,
    VAR_CODE,
    VAR_LINT_SUMMARY,
    VAR_DIFF,
    VAR_ERROR_LOG,
    VAR_RANGES_NOTE,
    VAR_FRAMES,
    VAR_WINDOWS,
    VAR_FILES,
    VAR_REPRODUCTION,
    VAR_PREVIOUS_FIX,
    VAR_PREVIOUS_FAILURE,
    VAR_USER_REQUEST,
    VAR_STACK,
    VAR_SCALE,
    VAR_DB,
    VAR_FILE_TREE,
    VAR_STRESS_REPORT,
    VAR__COUNT
};

static const char *const var_names[VAR__COUNT] = {
    [VAR_FILE_PATH] = "file_path",
    [VAR_LANGUAGE] = "language",
    [VAR_CODE] = "code",
    [VAR_LINT_SUMMARY] = "lint_summary",
    [VAR_DIFF] = "diff",
    [VAR_ERROR_LOG] = "error_log",
    [VAR_RANGES_NOTE] = "ranges_note",
    [VAR_FRAMES] = "frames",
    [VAR_WINDOWS] = "windows",
    [VAR_FILES] = "files",
    [VAR_REPRODUCTION] = "reproduction",
    [VAR_PREVIOUS_FIX] = "previous_fix",
    [VAR_PREVIOUS_FAILURE] = "previous_failure",
    [VAR_USER_REQUEST] = "user_request",
    [VAR_STACK] = "stack",
    [VAR_SCALE] = "scale",
    [VAR_DB] = "db",
    [VAR_FILE_TREE] = "file_tree",
    [VAR_STRESS_REPORT] = "stress_report",
};

/* The roles every brain must define. */
static const char *const brain_roles[] = {"review", "security", "debug", "architecture",
                                          "stress"};

/* Which role blocks each task loads, in order. */
static const struct task_def {
    const char *task;
    const char *roles[3];       /* NULL-terminated */
} task_defs[] = {
    {"review", {"review", NULL}},
    {"debug", {"debug", NULL}},
    {"architecture", {"architecture", NULL}},
    {"stress", {"stress", NULL}},
};

#define TASK_COUNT (sizeof(task_defs) / sizeof(task_defs[0]))

enum seg_kind { SEG_TEXT, SEG_VAR, SEG_IF, SEG_IF_NOT, SEG_END };

struct seg {
    enum seg_kind kind;
    enum var var;               /* SEG_VAR, SEG_IF, SEG_IF_NOT, SEG_END */
    size_t off;                 /* SEG_TEXT: bytes into the template text */
    size_t len;
};

struct template {
    char *text;                 /* owns: the whole file, NUL-terminated */
    long version;
    char digest[PROMPT_DIGEST_HEX + 1];     /* of the whole file, as sha256sum prints it */
    struct seg *segs;           /* owns */
    size_t nsegs;
};

struct prompt_set {
    char brain_version[PROMPT_BRAIN_VERSION_MAX + 1];
    char *system[TASK_COUNT];   /* owns: role blocks + fixed instructions */
    char roles_digest[TASK_COUNT][PROMPT_DIGEST_HEX + 1];  /* of the task's role blocks */
    struct template tpl[TASK_COUNT];
};

/* Fills e like err_set() and returns -1, for the loaders' many exits. */
static int load_fail(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int load_fail(struct err *e, enum err_code code, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(e, code, "%s", msg);
    return -1;
}

/* ---- files ---- */

/* Reads path whole (at most cap bytes). Returns 0 with *out (owns,
 * NUL-terminated) and *len, or -1 with e set naming path. */
static int read_file(const char *path, size_t cap, char **out, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL)
        return load_fail(e, ERR_IO, "%s: %s", path, strerror(errno));
    buf = malloc(cap + 2);
    if (buf == NULL) {
        fclose(f);
        return load_fail(e, ERR_INTERNAL, "%s: out of memory", path);
    }
    n = fread(buf, 1, cap + 1, f);
    if (ferror(f)) {
        int saved = errno;
        fclose(f);
        free(buf);
        return load_fail(e, ERR_IO, "%s: read: %s", path, strerror(saved));
    }
    fclose(f);
    if (n > cap) {
        free(buf);
        return load_fail(e, ERR_CONFIG, "%s: larger than %zu bytes", path, cap);
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        return load_fail(e, ERR_CONFIG, "%s: contains a NUL byte", path);
    }
    if (!utf8_valid(buf, n, NULL)) {
        free(buf);
        return load_fail(e, ERR_CONFIG, "%s: not valid UTF-8", path);
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- the brain ---- */

static int has_duplicate_key(const cJSON *obj, const char **dup)
{
    const cJSON *a, *b;

    cJSON_ArrayForEach(a, obj) {
        for (b = obj->child; b != a; b = b->next) {
            if (strcmp(a->string, b->string) == 0) {
                *dup = a->string;
                return 1;
            }
        }
    }
    return 0;
}

static int version_ok(const char *v)
{
    size_t n = strlen(v);

    if (n == 0 || n > PROMPT_BRAIN_VERSION_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Parses the brain strictly. Returns the document (owns) or NULL with e
 * set naming path. */
static cJSON *brain_load(const char *path, struct err *e)
{
    const char *end = NULL, *dup = NULL, *v;
    cJSON *doc = NULL, *roles, *m;
    char *text = NULL;
    size_t len, at;

    if (read_file(path, PROMPT_BRAIN_MAX, &text, &len, e) < 0)
        return NULL;
    if (json_raw_control(text, len, &at)) {
        err_set(e, ERR_CONFIG, "%s: raw control character inside a string at byte %zu", path,
                at);
        goto fail;
    }
    doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (doc == NULL) {
        at = (end != NULL && end >= text) ? (size_t)(end - text) : 0;
        err_set(e, ERR_CONFIG, "%s: malformed JSON near byte %zu", path, at);
        goto fail;
    }
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != text + len) {
        err_set(e, ERR_CONFIG, "%s: unexpected data after the JSON value at byte %zu", path,
                (size_t)(end - text));
        goto fail;
    }
    if (!cJSON_IsObject(doc)) {
        err_set(e, ERR_CONFIG, "%s: not a JSON object", path);
        goto fail;
    }
    if (has_duplicate_key(doc, &dup)) {
        err_set(e, ERR_CONFIG, "%s: member \"%s\" appears twice", path, dup);
        goto fail;
    }
    cJSON_ArrayForEach(m, doc) {
        if (strcmp(m->string, "version") != 0 && strcmp(m->string, "roles") != 0) {
            err_set(e, ERR_CONFIG, "%s: unknown member \"%.64s\"", path, m->string);
            goto fail;
        }
    }
    v = json_str(doc, "version");
    if (v == NULL || !version_ok(v)) {
        err_set(e, ERR_CONFIG,
                "%s: \"version\" must be a string of 1..%d characters [A-Za-z0-9._-]", path,
                PROMPT_BRAIN_VERSION_MAX);
        goto fail;
    }
    roles = cJSON_GetObjectItemCaseSensitive(doc, "roles");
    if (!cJSON_IsObject(roles)) {
        err_set(e, ERR_CONFIG, "%s: \"roles\" must be an object", path);
        goto fail;
    }
    if (has_duplicate_key(roles, &dup)) {
        err_set(e, ERR_CONFIG, "%s: role \"%.64s\" appears twice", path, dup);
        goto fail;
    }
    for (size_t i = 0; i < sizeof(brain_roles) / sizeof(brain_roles[0]); i++) {
        const char *r = json_str(roles, brain_roles[i]);
        if (r == NULL || r[0] == '\0') {
            err_set(e, ERR_CONFIG, "%s: role \"%s\" is missing, empty or not a string", path,
                    brain_roles[i]);
            goto fail;
        }
    }
    cJSON_ArrayForEach(m, roles) {
        if (!cJSON_IsString(m)) {
            err_set(e, ERR_CONFIG, "%s: role \"%.64s\" is not a string", path, m->string);
            goto fail;
        }
        if (strstr(m->valuestring, "{{") != NULL) {
            err_set(e, ERR_CONFIG, "%s: role \"%.64s\" holds a placeholder; only templates may",
                    path, m->string);
            goto fail;
        }
    }
    free(text);
    return doc;
fail:
    cJSON_Delete(doc);
    free(text);
    return NULL;
}

/* ---- templates ---- */

/* The first PROMPT_DIGEST_HEX hex digits of the SHA-256 of s[0..n), into out. */
static void digest_short(const char *s, size_t n, char out[PROMPT_DIGEST_HEX + 1])
{
    char hex[65];

    crypto_sha256_hex(s, n, hex);
    memcpy(out, hex, PROMPT_DIGEST_HEX);
    out[PROMPT_DIGEST_HEX] = '\0';
}

static long line_of(const char *text, size_t off)
{
    long line = 1;

    for (size_t i = 0; i < off; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

static int segs_add(struct template *t, size_t *cap, enum seg_kind kind, enum var var,
                    size_t off, size_t len)
{
    if (t->nsegs == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        struct seg *s = realloc(t->segs, n * sizeof *s);
        if (s == NULL)
            return -1;
        t->segs = s;
        *cap = n;
    }
    t->segs[t->nsegs].kind = kind;
    t->segs[t->nsegs].var = var;
    t->segs[t->nsegs].off = off;
    t->segs[t->nsegs].len = len;
    t->nsegs++;
    return 0;
}

/* Compiles text[from..len) into segments. Returns 0, or -1 with e set
 * naming path and line. */
static int template_compile(struct template *t, size_t from, size_t len, const char *path,
                            struct err *e)
{
    const char *text = t->text;
    enum var stack[PROMPT_SECTION_DEPTH];
    size_t cap = 0, depth = 0, i = from, lit = from;

    while (i < len) {
        const char *open = strstr(text + i, "{{");
        const char *close, *name;
        size_t name_len, at;
        enum seg_kind kind = SEG_VAR;
        int var = -1;

        if (open == NULL)
            break;
        at = (size_t)(open - text);
        close = strstr(open + 2, "}}");
        if (close == NULL)
            return load_fail(e, ERR_CONFIG, "%s:%ld: \"{{\" without \"}}\"", path,
                             line_of(text, at));
        name = open + 2;
        if (*name == '#' || *name == '^' || *name == '/') {
            kind = *name == '#' ? SEG_IF : *name == '^' ? SEG_IF_NOT : SEG_END;
            name++;
        }
        name_len = (size_t)(close - name);
        for (int k = 0; k < VAR__COUNT; k++)
            if (strlen(var_names[k]) == name_len && memcmp(var_names[k], name, name_len) == 0)
                var = k;
        if (var < 0)
            return load_fail(e, ERR_CONFIG, "%s:%ld: unknown placeholder {{%.*s}}", path,
                             line_of(text, at), (int)(name_len > 40 ? 40 : name_len), name);
        if (at > lit && segs_add(t, &cap, SEG_TEXT, 0, lit, at - lit) < 0)
            goto oom;
        if (kind == SEG_IF || kind == SEG_IF_NOT) {
            if (depth == PROMPT_SECTION_DEPTH)
                return load_fail(e, ERR_CONFIG, "%s:%ld: sections nested deeper than %d", path,
                                 line_of(text, at), PROMPT_SECTION_DEPTH);
            stack[depth++] = (enum var)var;
        } else if (kind == SEG_END) {
            if (depth == 0 || stack[depth - 1] != (enum var)var)
                return load_fail(e, ERR_CONFIG, "%s:%ld: {{/%s}} does not close the open section",
                                 path, line_of(text, at), var_names[var]);
            depth--;
        }
        if (segs_add(t, &cap, kind, (enum var)var, 0, 0) < 0)
            goto oom;
        i = lit = (size_t)(close - text) + 2;
    }
    if (depth > 0)
        return load_fail(e, ERR_CONFIG, "%s: section {{#%s}} is not closed", path,
                         var_names[stack[depth - 1]]);
    if (len > lit && segs_add(t, &cap, SEG_TEXT, 0, lit, len - lit) < 0)
        goto oom;
    return 0;
oom:
    return load_fail(e, ERR_INTERNAL, "%s: out of memory", path);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The "\n" before the first line from p on (p points at a "\n") that is
 * exactly PROMPT_USER_MARK, or NULL. */
static const char *find_mark(const char *p)
{
    const char *m = p;

    while ((m = strstr(m, "\n" PROMPT_USER_MARK)) != NULL) {
        const char *after = m + 1 + strlen(PROMPT_USER_MARK);
        after += *after == '\r';
        if (*after == '\n' || *after == '\0')
            return m;
        m = after;
    }
    return NULL;
}

/* Loads one template. On success the fixed instructions are
 * text[*fixed_off .. *fixed_off + *fixed_len) (trimmed). Returns 0, or -1
 * with e set naming path. */
static int template_load(struct template *t, const char *path, size_t *fixed_off,
                         size_t *fixed_len, struct err *e)
{
    static const char vprefix[] = "# version: ";
    const char *nl, *mark, *user, *num_end;
    size_t len, a, b;
    char *endp;
    long v;

    memset(t, 0, sizeof *t);
    if (read_file(path, PROMPT_TEMPLATE_MAX, &t->text, &len, e) < 0)
        return -1;
    digest_short(t->text, len, t->digest);
    nl = strchr(t->text, '\n');
    num_end = nl != NULL ? nl : t->text + len;
    if (num_end > t->text && num_end[-1] == '\r')
        num_end--;
    if (strncmp(t->text, vprefix, sizeof(vprefix) - 1) != 0)
        return load_fail(e, ERR_CONFIG, "%s:1: must start with \"# version: N\"", path);
    errno = 0;
    v = strtol(t->text + sizeof(vprefix) - 1, &endp, 10);
    if (errno != 0 || endp == t->text + sizeof(vprefix) - 1 || endp != num_end ||
        t->text[sizeof(vprefix) - 1] < '0' || t->text[sizeof(vprefix) - 1] > '9' || v < 1 ||
        v > PROMPT_TEMPLATE_VERSION_MAX)
        return load_fail(e, ERR_CONFIG, "%s:1: version must be an integer 1..%ld", path,
                         PROMPT_TEMPLATE_VERSION_MAX);
    t->version = v;
    if (nl == NULL)
        return load_fail(e, ERR_CONFIG, "%s: no \"%s\" line", path, PROMPT_USER_MARK);

    mark = find_mark(nl);
    if (mark == NULL)
        return load_fail(e, ERR_CONFIG, "%s: no \"%s\" line", path, PROMPT_USER_MARK);
    user = mark + 1 + strlen(PROMPT_USER_MARK);
    user += *user == '\r';
    user += *user == '\n';

    a = (size_t)(nl + 1 - t->text);
    b = (size_t)(mark + 1 - t->text);
    while (a < b && is_blank(t->text[a]))
        a++;
    while (b > a && is_blank(t->text[b - 1]))
        b--;
    if (memmem(t->text + a, b - a, "{{", 2) != NULL)
        return load_fail(e, ERR_CONFIG,
                         "%s: placeholder before \"%s\": the fixed instructions must not vary",
                         path, PROMPT_USER_MARK);
    if (find_mark(user - 1) != NULL)
        return load_fail(e, ERR_CONFIG, "%s: \"%s\" appears twice", path, PROMPT_USER_MARK);
    *fixed_off = a;
    *fixed_len = b - a;
    return template_compile(t, (size_t)(user - t->text), len, path, e);
}

static void template_cleanup(struct template *t)
{
    free(t->text);
    free(t->segs);
    memset(t, 0, sizeof *t);
}

/* The system part of task i: its role blocks, then the fixed instructions,
 * separated by blank lines. Returns it (owns) or NULL; roles_digest gets
 * the digest of the role blocks as the system part holds them (one role:
 * its text exactly). */
static char *system_compose(const cJSON *roles, const struct task_def *def, const char *fixed,
                            size_t fixed_len, char roles_digest[PROMPT_DIGEST_HEX + 1])
{
    size_t n = fixed_len + 1, o = 0;
    char *s;

    for (int k = 0; def->roles[k] != NULL; k++)
        n += strlen(json_str(roles, def->roles[k])) + 2;
    s = malloc(n);
    if (s == NULL)
        return NULL;
    for (int k = 0; def->roles[k] != NULL; k++) {
        const char *r = json_str(roles, def->roles[k]);
        size_t rl = strlen(r);
        memcpy(s + o, r, rl);
        o += rl;
        memcpy(s + o, "\n\n", 2);
        o += 2;
    }
    digest_short(s, o >= 2 ? o - 2 : 0, roles_digest);
    memcpy(s + o, fixed, fixed_len);
    o += fixed_len;
    if (fixed_len == 0 && o >= 2)
        o -= 2;             /* no instructions: no trailing blank line */
    s[o] = '\0';
    return s;
}

struct prompt_set *prompt_set_load(const char *dir, struct err *e)
{
    struct prompt_set *ps;
    const cJSON *roles;
    char path[4096];
    cJSON *brain;
    int n;

    n = snprintf(path, sizeof(path), "%s/system_brain.json", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        err_set(e, ERR_CONFIG, "prompt directory path too long");
        return NULL;
    }
    brain = brain_load(path, e);
    if (brain == NULL)
        return NULL;
    ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        cJSON_Delete(brain);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    snprintf(ps->brain_version, sizeof(ps->brain_version), "%s", json_str(brain, "version"));
    roles = cJSON_GetObjectItemCaseSensitive(brain, "roles");
    for (size_t i = 0; i < TASK_COUNT; i++) {
        size_t off = 0, len = 0;
        n = snprintf(path, sizeof(path), "%s/templates/%s.txt", dir, task_defs[i].task);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            err_set(e, ERR_CONFIG, "prompt directory path too long");
            goto fail;
        }
        if (template_load(&ps->tpl[i], path, &off, &len, e) < 0)
            goto fail;
        ps->system[i] = system_compose(roles, &task_defs[i], ps->tpl[i].text + off, len,
                                       ps->roles_digest[i]);
        if (ps->system[i] == NULL) {
            err_set(e, ERR_INTERNAL, "%s: out of memory", path);
            goto fail;
        }
    }
    cJSON_Delete(brain);
    return ps;
fail:
    cJSON_Delete(brain);
    prompt_set_free(ps);
    return NULL;
}

void prompt_set_free(struct prompt_set *ps)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < TASK_COUNT; i++) {
        free(ps->system[i]);
        template_cleanup(&ps->tpl[i]);
    }
    free(ps);
}

/* ---- rendering ---- */

static const char *var_value(const struct prompt_vars *v, enum var k)
{
    const char *s = NULL;

    if (v == NULL)
        return "";
    switch (k) {
    case VAR_FILE_PATH: s = v->file_path; break;
    case VAR_LANGUAGE: s = v->language; break;
    case VAR_CODE: s = v->code; break;
    case VAR_LINT_SUMMARY: s = v->lint_summary; break;
    case VAR_DIFF: s = v->diff; break;
    case VAR_ERROR_LOG: s = v->error_log; break;
    case VAR_RANGES_NOTE: s = v->ranges_note; break;
    case VAR_FRAMES: s = v->frames; break;
    case VAR_WINDOWS: s = v->windows; break;
    case VAR_FILES: s = v->files; break;
    case VAR_REPRODUCTION: s = v->reproduction; break;
    case VAR_PREVIOUS_FIX: s = v->previous_fix; break;
    case VAR_PREVIOUS_FAILURE: s = v->previous_failure; break;
    case VAR_USER_REQUEST: s = v->user_request; break;
    case VAR_STACK: s = v->stack; break;
    case VAR_SCALE: s = v->scale; break;
    case VAR_DB: s = v->db; break;
    case VAR_FILE_TREE: s = v->file_tree; break;
    case VAR_STRESS_REPORT: s = v->stress_report; break;
    case VAR__COUNT: break;
    }
    return s != NULL ? s : "";
}

/* Renders t into out (when not NULL) and returns the length. Values are
 * copied verbatim; {{#x}}..{{/x}} shows only when x is non-empty,
 * {{^x}}..{{/x}} only when it is empty. */
static size_t template_render(const struct template *t, const struct prompt_vars *v, char *out)
{
    size_t n = 0, depth = 0, skip_at = 0;   /* skip_at: depth of the skipped section, 0 = none */

    for (size_t i = 0; i < t->nsegs; i++) {
        const struct seg *s = &t->segs[i];
        const char *src = NULL;
        size_t len = 0;

        switch (s->kind) {
        case SEG_IF:
        case SEG_IF_NOT:
            depth++;
            if (skip_at == 0 && ((*var_value(v, s->var) == '\0') == (s->kind == SEG_IF)))
                skip_at = depth;
            continue;
        case SEG_END:
            if (skip_at == depth)
                skip_at = 0;
            depth--;
            continue;
        case SEG_TEXT:
            src = t->text + s->off;
            len = s->len;
            break;
        case SEG_VAR:
            src = var_value(v, s->var);
            len = strlen(src);
            break;
        }
        if (skip_at != 0)
            continue;
        if (out != NULL)
            memcpy(out + n, src, len);
        n += len;
    }
    return n;
}

/* The index of task in task_defs, or TASK_COUNT when there is none. */
static size_t task_index(const char *task)
{
    size_t i;

    for (i = 0; i < TASK_COUNT; i++)
        if (task != NULL && strcmp(task, task_defs[i].task) == 0)
            break;
    return i;
}

/* "<task>@<template version>.<digest>+brain@<brain version>.<digest>" of
 * task i: the hand versions name deliberate changes, the digests of the
 * template and of the role blocks the task loads make an edit without a
 * bump a new version all the same. */
static int version_of(const struct prompt_set *ps, size_t i, char *out, size_t cap,
                      struct err *e)
{
    int n = snprintf(out, cap, "%s@%ld.%s+brain@%s.%s", task_defs[i].task, ps->tpl[i].version,
                     ps->tpl[i].digest, ps->brain_version, ps->roles_digest[i]);

    if (n < 0 || (size_t)n >= cap)
        return load_fail(e, ERR_INTERNAL, "prompt version too long");
    return 0;
}

int prompt_set_version(const struct prompt_set *ps, const char *task, char *out, size_t cap,
                       struct err *e)
{
    size_t i = task_index(task);

    if (ps == NULL || i == TASK_COUNT)
        return load_fail(e, ERR_INVALID_REQUEST_TYPE, "no prompt for task \"%.32s\"",
                         task != NULL ? task : "(null)");
    return version_of(ps, i, out, cap, e);
}

int prompt_build(const struct prompt_set *ps, const char *task, const struct prompt_vars *v,
                 struct prompt *out, struct err *e)
{
    size_t i = task_index(task), len;

    memset(out, 0, sizeof *out);
    if (ps == NULL || i == TASK_COUNT)
        return load_fail(e, ERR_INVALID_REQUEST_TYPE, "no prompt for task \"%.32s\"",
                         task != NULL ? task : "(null)");
    if (version_of(ps, i, out->version, sizeof(out->version), e) != 0)
        return -1;
    out->max_tokens = plans_task_max_tokens(task_defs[i].task);
    out->system = strdup(ps->system[i]);
    len = template_render(&ps->tpl[i], v, NULL);
    out->user = len < SIZE_MAX ? malloc(len + 1) : NULL;
    if (out->system == NULL || out->user == NULL) {
        prompt_cleanup(out);
        return load_fail(e, ERR_INTERNAL, "out of memory rendering the %s prompt",
                         task_defs[i].task);
    }
    template_render(&ps->tpl[i], v, out->user);
    out->user[len] = '\0';
    return 0;
}

void prompt_cleanup(struct prompt *p)
{
    if (p == NULL)
        return;
    free(p->system);
    free(p->user);
    memset(p, 0, sizeof *p);
}
