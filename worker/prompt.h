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

/* The variable parts of a prompt, each the {{name}} of the same name in the
 * templates; NULL members render as empty. Which template uses which:
 * review: file_path, language, code, lint_summary, diff, ranges_note;
 * debug: those and error_log, frames, windows, files, reproduction,
 * previous_fix, previous_failure; architecture: user_request, stack, scale,
 * db, file_tree; stress: stress_report. */
struct prompt_vars {
    const char *file_path;
    const char *language;
    const char *code;           /* numbered excerpt (context.h) */
    const char *lint_summary;
    const char *diff;
    const char *error_log;      /* already redacted */
    const char *ranges_note;    /* "only lines 1-400 of 2000 are shown" or "" */
    /* debug */
    const char *frames;         /* parsed stack frames, "file:line in function" a line */
    const char *windows;        /* numbered code windows around the frames; replaces code */
    const char *files;          /* neighbouring files (names, signatures), text */
    const char *reproduction;   /* sandbox run: argv, exit status, stderr tail */
    const char *previous_fix;   /* second round: the fix that was tried (a diff) */
    const char *previous_failure;   /* second round: how its verification failed */
    /* architecture */
    const char *user_request;   /* what to build, the user's words */
    const char *stack;          /* languages and frameworks */
    const char *scale;          /* e.g. "10k users, 200 req/s peak" */
    const char *db;             /* database(s) */
    const char *file_tree;      /* existing code's tree, one path a line; may be NULL */
    /* stress */
    const char *stress_report;  /* per-endpoint table of a load test */
};

/* Bytes of a prompt version and its NUL, at most: "architecture@999999.
 * 1a2b3c+brain@" and a brain version of 24 characters ".4d5e6f" take 65. */
#define PROMPT_VERSION_LEN 80

struct prompt {
    char *system;               /* owns: role block + fixed instructions */
    char *user;                 /* owns: the rendered task part */
    /* "<task>@<template version>.<digest>+brain@<brain version>.<digest>",
     * e.g. "review@4.1a2b3c+brain@9.4d5e6f", for cache keys: each digest is
     * the first 6 hex digits of the SHA-256 of the template file, and of
     * the role blocks the task loads, so an edit without a bump is a new
     * version too. */
    char version[PROMPT_VERSION_LEN];
    int64_t max_tokens;         /* output budget of the task */
};

/* Loads prompts from dir (borrowed). Returns a set (owns; prompt_set_free)
 * or NULL with e set naming the file and problem. */
struct prompt_set *prompt_set_load(const char *dir, struct err *e);
void prompt_set_free(struct prompt_set *ps);

/* The version a prompt of task ("review", ...) built now carries (struct
 * prompt's version) into out (cap bytes, PROMPT_VERSION_LEN is enough). Returns 0, or -1 with e set
 * (unknown task, or cap too small). */
int prompt_set_version(const struct prompt_set *ps, const char *task, char *out, size_t cap,
                       struct err *e);

/* Renders task ("review", "debug", "architecture", "stress"). Returns 0, or
 * -1 with e set (unknown task, out of memory). out must be freed with
 * prompt_cleanup. */
int prompt_build(const struct prompt_set *ps, const char *task, const struct prompt_vars *v,
                 struct prompt *out, struct err *e);
void prompt_cleanup(struct prompt *p);

#endif
