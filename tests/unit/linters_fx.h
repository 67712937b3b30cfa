/* linters_fx.h - test support for the linters' parsers: a linter by tool
 * name, the members of a finding, and the shape every finding must have
 * (worker/linters.h). Static helpers for test_linters_parse.c and
 * test_linter_output.c; include after cmocka.h. */
#ifndef TEST_LINTERS_FX_H
#define TEST_LINTERS_FX_H

#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "worker/linters.h"

/* Real outputs of each linter (tests/fixtures/lint/README). */
#define FIXTURE_DIR "tests/fixtures/lint/"

static inline const struct linter *linter_named(const char *language, const char *tool)
{
    const struct linter *const *l;

    for (l = linters_for(language); *l != NULL; l++)
        if (strcmp((*l)->tool, tool) == 0)
            return *l;
    fail_msg("no linter %s for %s", tool, language);
    return NULL;
}

static inline int int_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsNumber(item));
    return item->valueint;
}

static inline const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

static inline int in_set(const char *s, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* Checks one finding has exactly the documented keys and value ranges. */
static inline void check_shape(const cJSON *f, const char *tool)
{
    static const char *const keys[] = {
        "line", "end_line", "column", "severity", "category", "rule_id",
        "message", "source", NULL,
    };
    static const char *const severities[] = {
        "critical", "major", "minor", "info", NULL,
    };
    static const char *const categories[] = {
        "syntax", "correctness", "security", "performance",
        "maintainability", "style", "documentation", NULL,
    };
    char source[64];
    const cJSON *item;

    assert_true(cJSON_IsObject(f));
    cJSON_ArrayForEach(item, f) assert_true(in_set(item->string, keys));
    assert_true(int_of(f, "line") >= 1);
    if (cJSON_HasObjectItem(f, "end_line"))
        assert_true(int_of(f, "end_line") >= int_of(f, "line"));
    if (cJSON_HasObjectItem(f, "column"))
        assert_true(int_of(f, "column") >= 1);
    assert_true(in_set(str_of(f, "severity"), severities));
    assert_true(in_set(str_of(f, "category"), categories));
    assert_true(strlen(str_of(f, "rule_id")) > 0);
    assert_true(strlen(str_of(f, "message")) > 0);
    assert_true(strlen(str_of(f, "message")) <= LINTERS_MESSAGE_MAX);
    snprintf(source, sizeof(source), "lint:%s", tool);
    assert_string_equal(str_of(f, "source"), source);
}

static inline const char *message_at(const cJSON *findings, int i)
{
    return str_of(cJSON_GetArrayItem(findings, i), "message");
}

/* Runs parse on a NUL-terminated string with a fresh array. */
static inline int parse_str(const struct linter *l, const char *s, cJSON **out)
{
    cJSON *findings = cJSON_CreateArray();
    int rc;

    assert_non_null(findings);
    rc = l->parse(s, strlen(s), findings);
    if (out != NULL)
        *out = findings;
    else
        cJSON_Delete(findings);
    return rc;
}

#endif
