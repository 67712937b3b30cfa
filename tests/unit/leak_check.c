/* leak_check.c - the redaction tables' checks (leak_check.h). */
#include "tests/unit/leak_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/redact.h"

/* Bytes of the report of failing cases. */
#define REPORT_MAX 8192
/* Bytes of the lines joined by leak_assert_lines_clean. */
#define JOINED_MAX 4096

static size_t count_lines(const char *t, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += t[i] == '\n';
    return n;
}

/* NULL when the redacted text keeps no piece of secret, else the first
 * piece found (borrowed from secret). */
static const char *kept_piece(const char *red, size_t len, const char *secret, size_t *pn)
{
    size_t sn = strlen(secret), i, k = sn < LEAK_PIECE_LEN ? sn : LEAK_PIECE_LEN;

    for (i = 0; i + k <= sn; i++)
        if (memmem(red, len, secret + i, k) != NULL) {
            *pn = k;
            return secret + i;
        }
    return NULL;
}

void leak_check_cases(const struct leak_case *c, size_t n, int diff)
{
    char report[REPORT_MAX];
    size_t i, used = 0, pn = 0;
    int bad = 0, lost;

    report[0] = '\0';
    for (i = 0; i < n; i++) {
        struct redact_result r;
        size_t len = strlen(c[i].text);
        const char *piece;

        assert_int_equal(diff ? redact_diff(c[i].text, len, &r) : redact_text(c[i].text, len, &r),
                         0);
        assert_non_null(r.text);
        piece = kept_piece(r.text, r.len, c[i].secret, &pn);
        lost = c[i].kept != NULL && memmem(r.text, r.len, c[i].kept, strlen(c[i].kept)) == NULL;
        if (piece != NULL || lost || count_lines(r.text, r.len) != count_lines(c[i].text, len)) {
            int k = snprintf(report + used, sizeof(report) - used,
                             "\n  %s: %s; redacted text:\n    %.300s", c[i].what,
                             piece != NULL ? "secret kept"
                             : lost        ? "code around it lost"
                                           : "line count changed",
                             r.text);
            if (k > 0 && (size_t)k < sizeof(report) - used)
                used += (size_t)k;
            bad++;
        }
        redact_result_cleanup(&r);
    }
    if (bad > 0)
        fail_msg("%d of %zu cases leak a secret:%s", bad, n, report);
}

void leak_assert_clean(const char *text, size_t len, const char *what)
{
    struct redact_result res;

    assert_int_equal(redact_text(text, len, &res), 0);
    assert_non_null(res.text);
    if (cJSON_GetArraySize(res.findings) != 0) {
        const cJSON *f = cJSON_GetArrayItem(res.findings, 0);
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(f, "rule_id");

        fail_msg("%s: unexpected %s", what, cJSON_IsString(rule) ? rule->valuestring : "?");
    }
    assert_int_equal(res.count, 0);
    assert_int_equal(res.len, len);
    assert_memory_equal(res.text, text, len);
    redact_result_cleanup(&res);
}

void leak_assert_lines_clean(const char *const *lines, size_t n)
{
    char all[JOINED_MAX];
    size_t i, used = 0, len;

    for (i = 0; i < n; i++) {
        len = strlen(lines[i]);
        leak_assert_clean(lines[i], len, lines[i]);
        assert_true(used + len < sizeof(all));
        memcpy(all + used, lines[i], len);
        used += len;
    }
    leak_assert_clean(all, used, "all lines");
}
