/* prompt.h - prompts are data: prompts/system_brain.json (role blocks by
 * name) and prompts/templates/<task>.txt, each with a version, loaded once
 * at start. A prompt puts the stable part first (the role block, then the
 * template's fixed instructions) so provider-side prompt caching works, and
 * loads only the role block its task needs.
 */
#ifndef WK_PROMPT_H
#define WK_PROMPT_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct prompt_set;

/* The variable parts of a prompt; NULL members render as empty. */
struct prompt_vars {
    const char *file_path;
    const char *language;
    const char *code;           /* numbered excerpt (context.h) */
    const char *lint_summary;
    const char *diff;
    const char *error_log;      /* already redacted */
    const char *ranges_note;    /* e.g. "lines 1-400 of 2000 shown" */
};

struct prompt {
    char *system;               /* owns: role block + fixed instructions */
    char *user;                 /* owns: the rendered task part */
    char version[64];           /* "<template>@<version>+brain@<version>", for cache keys */
    int64_t max_tokens;         /* output budget of the task */
};

/* Loads prompts from dir (borrowed). Returns a set (owns; prompt_set_free)
 * or NULL with e set naming the file and problem. */
struct prompt_set *prompt_set_load(const char *dir, struct err *e);
void prompt_set_free(struct prompt_set *ps);

/* Renders task ("review", "debug", "architecture"). Returns 0, or -1 with e
 * set (unknown task, out of memory). out must be freed with prompt_cleanup. */
int prompt_build(const struct prompt_set *ps, const char *task, const struct prompt_vars *v,
                 struct prompt *out, struct err *e);
void prompt_cleanup(struct prompt *p);

#endif
