/* test_redact.c - unit tests for worker/redact.c.
 *
 * tests/fixtures/secrets/planted.txt holds one fake, well-formed secret of
 * every kind (and a few forms of the generic rule); planted.expect lists
 * each planted value with the line and kind it must be reported at. Both are
 * written by tests/fixtures/secrets/gen.py. negatives.txt holds lines that
 * must not be reported. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/udiff.h"
#include "worker/redact.h"

#include "tests/unit/fixture.h"
#include "tests/unit/redact_inputs.h"

#define FIXTURE_DIR "tests/fixtures/secrets/"
#define EXPECT_MAX 128
#define BIG_LEN ((size_t)1024 * 1024)
#define SUBSTR_LEN 8
/* Bytes of the header diff_of writes before a hunk's lines, at most. */
#define DIFF_HEAD_MAX 128

struct planted {
    int line;                /* 0: no finding of its own (PEM body line) */
    char kind[48];
    char *value;             /* owns */
};

struct manifest {
    struct planted v[EXPECT_MAX];
    size_t n;
};

/* Parses planted.expect: "<line>\t<kind>\t<value>" or "-\t-\t<value>". */
static void manifest_load(struct manifest *m)
{
    size_t len;
    char *buf = fixture_read(FIXTURE_DIR, "planted.expect", &len), *p = buf, *nl, *t1, *t2, *end;
    long line;

    m->n = 0;
    for (; *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        t1 = strchr(p, '\t');
        assert_non_null(t1);
        t2 = strchr(t1 + 1, '\t');
        assert_non_null(t2);
        *t1 = '\0';
        *t2 = '\0';
        assert_true(m->n < EXPECT_MAX);
        if (strcmp(p, "-") == 0) {
            line = 0;
        } else {
            line = strtol(p, &end, 10);
            assert_true(*end == '\0' && line >= 1 && line < 100000);
        }
        m->v[m->n].line = (int)line;
        assert_true(strlen(t1 + 1) < sizeof(m->v[m->n].kind));
        strncpy(m->v[m->n].kind, t1 + 1, sizeof(m->v[m->n].kind) - 1);
        m->v[m->n].kind[sizeof(m->v[m->n].kind) - 1] = '\0';
        m->v[m->n].value = strdup(t2 + 1);
        assert_non_null(m->v[m->n].value);
        assert_true(strlen(m->v[m->n].value) >= SUBSTR_LEN);
        m->n++;
    }
    free(buf);
    assert_true(m->n > 0);
}

static void manifest_free(struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        free(m->v[i].value);
    m->n = 0;
}

static size_t count_lines(const char *t, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        n += t[i] == '\n';
    return n;
}

/* Start of line `line` (1-based) of t, its length (without '\n') in *n;
 * NULL past the end. */
static const char *line_at(const char *t, size_t len, int line, size_t *n)
{
    const char *p = t, *end = t + len, *nl;
    int i;

    for (i = 1; i < line; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return NULL;
        p = nl + 1;
    }
    nl = memchr(p, '\n', (size_t)(end - p));
    *n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    return p;
}

static int int_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsNumber(item));
    return item->valueint;
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

/* Fails when s holds value or any SUBSTR_LEN-byte piece of it. */
static void assert_no_piece(const char *s, size_t len, const char *value, const char *what)
{
    size_t vn = strlen(value), i;

    for (i = 0; i + SUBSTR_LEN <= vn; i++)
        if (memmem(s, len, value + i, SUBSTR_LEN) != NULL)
            fail_msg("%s keeps \"%.*s\", a piece of a planted secret", what, SUBSTR_LEN,
                     value + i);
}

static void redact_ok(const char *text, size_t len, struct redact_result *res)
{
    assert_int_equal(redact_text(text, len, res), 0);
    assert_non_null(res->text);
    assert_true(cJSON_IsArray(res->findings));
    assert_int_equal(res->text[res->len], '\0');
}

static void test_planted_found_at_their_lines(void **state)
{
    struct manifest m;
    struct redact_result res;
    size_t len, i, vn, n;
    char *text = fixture_read(FIXTURE_DIR, "planted.txt", &len);
    int used[EXPECT_MAX] = {0}, expected = 0, found, k, nf, last;
    char rule[64];
    const cJSON *f;
    const char *ln, *end;

    (void)state;
    manifest_load(&m);
    redact_ok(text, len, &res);
    nf = cJSON_GetArraySize(res.findings);
    for (i = 0; i < m.n; i++) {
        if (m.v[i].line == 0)
            continue;
        expected++;
        snprintf(rule, sizeof(rule), "secret:%s", m.v[i].kind);
        found = 0;
        for (k = 0; k < nf && !found; k++) {
            f = cJSON_GetArrayItem(res.findings, k);
            if (!used[k] && int_of(f, "line") == m.v[i].line &&
                strcmp(str_of(f, "rule_id"), rule) == 0) {
                used[k] = 1;
                found = 1;
            }
        }
        if (!found)
            fail_msg("no %s finding at line %d", rule, m.v[i].line);
        /* The fixture holds the value inside the lines the finding names
         * (a PEM block's first body line is below its BEGIN line). */
        f = cJSON_GetArrayItem(res.findings, k - 1);
        last = cJSON_GetObjectItemCaseSensitive(f, "end_line") != NULL ? int_of(f, "end_line")
                                                                       : m.v[i].line;
        ln = line_at(text, len, m.v[i].line, &n);
        end = line_at(text, len, last, &n);
        assert_non_null(ln);
        assert_non_null(end);
        vn = strlen(m.v[i].value);
        if (memmem(ln, (size_t)(end + n - ln), m.v[i].value, vn) == NULL)
            fail_msg("planted.txt lines %d-%d lack %s's value", m.v[i].line, last,
                     m.v[i].kind);
    }
    assert_int_equal(nf, expected);
    assert_int_equal(res.count, expected);
    for (k = 0; k < nf; k++) {
        f = cJSON_GetArrayItem(res.findings, k);
        assert_string_equal(str_of(f, "severity"), "critical");
        assert_string_equal(str_of(f, "category"), "security");
        assert_string_equal(str_of(f, "source"), "secrets");
        assert_true(int_of(f, "column") >= 1);
        assert_non_null(strstr(str_of(f, "message"), "Hard-coded "));
        assert_non_null(strstr(str_of(f, "message"), "(redacted before review)"));
    }
    redact_result_cleanup(&res);
    manifest_free(&m);
    free(text);
}

static void test_planted_values_gone(void **state)
{
    struct manifest m;
    struct redact_result res;
    size_t len, i;
    char *text = fixture_read(FIXTURE_DIR, "planted.txt", &len);
    int k;

    (void)state;
    manifest_load(&m);
    redact_ok(text, len, &res);
    for (i = 0; i < m.n; i++) {
        assert_non_null(memmem(text, len, m.v[i].value, strlen(m.v[i].value)));
        assert_no_piece(res.text, res.len, m.v[i].value, "redacted text");
    }
    /* No message, rule or other string of a finding carries the secret. */
    for (k = 0; k < cJSON_GetArraySize(res.findings); k++) {
        char *json = cJSON_PrintUnformatted(cJSON_GetArrayItem(res.findings, k));

        assert_non_null(json);
        for (i = 0; i < m.n; i++)
            assert_no_piece(json, strlen(json), m.v[i].value, "a finding");
        free(json);
    }
    redact_result_cleanup(&res);
    manifest_free(&m);
    free(text);
}

/* Line count kept; lines outside every finding's [line, end_line] are
 * byte-identical; lines inside differ; a PEM block's inner lines are one
 * placeholder each. */
static void test_planted_lines_kept(void **state)
{
    struct redact_result res;
    size_t len, n0, n1, lines, l;
    char *text = fixture_read(FIXTURE_DIR, "planted.txt", &len);
    unsigned char *covered;
    const char *a, *b;
    const cJSON *f;
    int k, first, last, pem_blocks = 0;

    (void)state;
    redact_ok(text, len, &res);
    lines = count_lines(text, len);
    assert_true(lines > 50);
    assert_int_equal(count_lines(res.text, res.len), lines);
    covered = calloc(lines + 2, 1);
    assert_non_null(covered);
    for (k = 0; k < cJSON_GetArraySize(res.findings); k++) {
        f = cJSON_GetArrayItem(res.findings, k);
        first = int_of(f, "line");
        last = cJSON_GetObjectItemCaseSensitive(f, "end_line") != NULL ? int_of(f, "end_line")
                                                                       : first;
        assert_true(first >= 1 && last >= first && (size_t)last <= lines);
        for (l = (size_t)first; l <= (size_t)last; l++)
            covered[l] = 1;
        if (last > first) {
            pem_blocks++;
            assert_string_equal(str_of(f, "rule_id"), "secret:private_key");
            for (l = (size_t)first + 1; l < (size_t)last; l++) {
                b = line_at(res.text, res.len, (int)l, &n1);
                assert_non_null(b);
                assert_int_equal(n1, strlen("[REDACTED:private_key]"));
                assert_memory_equal(b, "[REDACTED:private_key]", n1);
            }
        }
    }
    assert_int_equal(pem_blocks, 5);
    for (l = 1; l <= lines; l++) {
        a = line_at(text, len, (int)l, &n0);
        b = line_at(res.text, res.len, (int)l, &n1);
        assert_non_null(a);
        assert_non_null(b);
        if (!covered[l]) {
            if (n0 != n1 || memcmp(a, b, n0) != 0)
                fail_msg("line %zu changed but holds no secret", l);
        } else {
            assert_true(n0 != n1 || memcmp(a, b, n0) != 0);
            assert_non_null(memmem(b, n1, "[REDACTED:", 10));
        }
    }
    free(covered);
    redact_result_cleanup(&res);
    free(text);
}

static void assert_clean(const char *text, size_t len, const char *what)
{
    struct redact_result res;

    redact_ok(text, len, &res);
    if (cJSON_GetArraySize(res.findings) != 0) {
        const cJSON *f = cJSON_GetArrayItem(res.findings, 0);

        fail_msg("%s: unexpected %s", what, str_of(f, "rule_id"));
    }
    assert_int_equal(res.count, 0);
    assert_int_equal(res.len, len);
    assert_memory_equal(res.text, text, len);
    redact_result_cleanup(&res);
}

static void test_false_positives(void **state)
{
    size_t len;
    char *text = fixture_read(FIXTURE_DIR, "negatives.txt", &len), *p, *nl;
    char what[256];
    int lines = 0;

    (void)state;
    assert_clean(text, len, "negatives.txt");
    for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        snprintf(what, sizeof(what), "negatives.txt: %.*s", (int)(nl - p), p);
        assert_clean(p, (size_t)(nl - p), what);
        lines++;
    }
    assert_true(lines > 40);
    free(text);
}

static void test_empty(void **state)
{
    struct redact_result res;

    (void)state;
    redact_ok("", 0, &res);
    assert_int_equal(res.len, 0);
    assert_string_equal(res.text, "");
    assert_int_equal(res.count, 0);
    assert_int_equal(cJSON_GetArraySize(res.findings), 0);
    redact_result_cleanup(&res);
    redact_ok(NULL, 0, &res);
    assert_int_equal(res.len, 0);
    redact_result_cleanup(&res);
    /* cleanup is safe twice and on a zeroed struct */
    redact_result_cleanup(&res);
    redact_result_cleanup(NULL);
}

/* 1 MiB of code-like text without secrets (the negatives repeated) comes
 * back unchanged. How long it takes is measured by `make bench`
 * (bench/redact.c), not here. */
static void test_big_clean(void **state)
{
    struct redact_result res;
    size_t len;
    char *unit = fixture_read(FIXTURE_DIR, "negatives.txt", &len), *big = malloc(BIG_LEN);

    (void)state;
    assert_non_null(big);
    redact_fill(big, BIG_LEN, unit, len);
    redact_ok(big, BIG_LEN, &res);
    assert_int_equal(res.count, 0);
    assert_int_equal(cJSON_GetArraySize(res.findings), 0);
    assert_int_equal(res.len, BIG_LEN);
    assert_memory_equal(res.text, big, BIG_LEN);
    redact_result_cleanup(&res);
    free(big);
    free(unit);
}

/* 1 MiB of each input built to make a matcher quadratic: the findings stay
 * capped and every line survives. (Its time, and that it grows linearly
 * with the size, is measured by `make bench`.) */
static void test_pathological(void **state)
{
    struct redact_result res;
    size_t u;
    char *big = malloc(BIG_LEN);

    (void)state;
    assert_non_null(big);
    for (u = 0; u < REDACT_PATHOLOGICAL_N; u++) {
        redact_fill(big, BIG_LEN, REDACT_PATHOLOGICAL[u], strlen(REDACT_PATHOLOGICAL[u]));
        redact_ok(big, BIG_LEN, &res);
        assert_true(cJSON_GetArraySize(res.findings) <= REDACT_FINDINGS_MAX);
        assert_int_equal(count_lines(res.text, res.len), count_lines(big, BIG_LEN));
        redact_result_cleanup(&res);
    }
    free(big);
}

/* A JWT as a connection string's password: one span, one finding. */
static void test_overlap_jwt_in_connection_string(void **state)
{
    static const char jwt[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtMSJ9."
        "Qm9ndXNTaWduYXR1cmVGb3JUZXN0aW5nT25seTEy";
    static const char token_line[] = "GITHUB_TOKEN=ghp_Zx8Kq2Lm9Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Q\n";
    struct redact_result res;
    char text[512];
    int n;

    (void)state;
    n = snprintf(text, sizeof(text), "url = \"postgres://svc:%s@db:5432/app\"\n", jwt);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    redact_ok(text, (size_t)n, &res);
    assert_int_equal(res.count, 1);
    assert_int_equal(cJSON_GetArraySize(res.findings), 1);
    assert_string_equal(str_of(cJSON_GetArrayItem(res.findings, 0), "rule_id"), "secret:jwt");
    assert_string_equal(res.text, "url = \"postgres://svc:[REDACTED:jwt]@db:5432/app\"\n");
    redact_result_cleanup(&res);

    /* A token assigned to a secret name: the specific kind wins. */
    redact_ok(token_line, strlen(token_line), &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(str_of(cJSON_GetArrayItem(res.findings, 0), "rule_id"),
                        "secret:github_token");
    assert_string_equal(res.text, "GITHUB_TOKEN=[REDACTED:github_token]\n");
    redact_result_cleanup(&res);
}

/* CRLF line ends inside a PEM block are kept, one placeholder a line. */
static void test_pem_crlf_and_unterminated(void **state)
{
    static const char crlf[] =
        "x\r\n-----BEGIN EC PRIVATE KEY-----\r\n"
        "MHcCAQEEIBq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2oAoGCCqGSM49\r\n"
        "AwEHoUQDQgAEq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1W\r\n"
        "-----END EC PRIVATE KEY-----\r\ny\r\n";
    static const char cut[] =
        "key = \"\"\"-----BEGIN PRIVATE KEY-----\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zk9Lm2Np4Rs7\n"
        "Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4\n"
        "\"\"\"\nprint(key)\n";
    struct redact_result res;

    (void)state;
    redact_ok(crlf, sizeof(crlf) - 1, &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.text, "x\r\n[REDACTED:private_key]\r\n[REDACTED:private_key]\r\n"
                                  "[REDACTED:private_key]\r\n[REDACTED:private_key]\r\ny\r\n");
    assert_int_equal(int_of(cJSON_GetArrayItem(res.findings, 0), "line"), 2);
    assert_int_equal(int_of(cJSON_GetArrayItem(res.findings, 0), "end_line"), 5);
    redact_result_cleanup(&res);

    redact_ok(cut, sizeof(cut) - 1, &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.text, "key = \"\"\"[REDACTED:private_key]\n[REDACTED:private_key]\n"
                                  "[REDACTED:private_key]\n\"\"\"\nprint(key)\n");
    redact_result_cleanup(&res);
}

/* The tail of a long output, cut inside a key: its END line and the lines
 * of material above it are the key (the line before them is not), also
 * when the lines are a string literal's; a lone END line, or one inside
 * a line, is nothing. */
static void test_pem_without_begin(void **state)
{
    static const char tail[] =
        "Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4\n"
        "AwEHoUQDQgAEq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1W\n"
        "-----END PRIVATE KEY-----\nTraceback (most recent call last):\n";
    static const char quoted[] =
        "print the key: done\n"
        "  \"AwEHoUQDQgAEq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1W\\n\"\n"
        "  \"-----END RSA PRIVATE KEY-----\\n\"\n";
    static const char lone[] = "see\n-----END PRIVATE KEY-----\n";
    static const char inline_end[] =
        "AwEHoUQDQgAEq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1W\n"
        "x = 1; y = '-----END PRIVATE KEY-----'\n";
    struct redact_result res;

    (void)state;
    redact_ok(tail, sizeof(tail) - 1, &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.text, "[REDACTED:private_key]\n[REDACTED:private_key]\n"
                                  "[REDACTED:private_key]\nTraceback (most recent call last):\n");
    redact_result_cleanup(&res);

    redact_ok(quoted, sizeof(quoted) - 1, &res);
    assert_int_equal(res.count, 1);
    assert_non_null(strstr(res.text, "print the key: done\n"));
    assert_null(strstr(res.text, "AwEHoUQDQgAE"));
    redact_result_cleanup(&res);

    redact_ok(lone, sizeof(lone) - 1, &res);
    assert_int_equal(res.count, 0);
    redact_result_cleanup(&res);
    /* Not at the start of its line: not the end of a key's lines. */
    redact_ok(inline_end, sizeof(inline_end) - 1, &res);
    assert_int_equal(res.count, 0);
    redact_result_cleanup(&res);
}

/* A linter's findings quote the code: their messages are redacted, the
 * rest of each finding kept. */
static void test_findings_messages(void **state)
{
    cJSON *findings = cJSON_Parse(
        "[{\"line\":3,\"message\":\"undefined name 'ghp_0123456789abcdefghijABCDEFGHIJ012345'\"},"
        "{\"line\":4,\"message\":\"line too long\"},{\"line\":5}]");

    (void)state;
    assert_non_null(findings);
    redact_findings(findings);
    assert_string_equal(json_str(cJSON_GetArrayItem(findings, 0), "message"),
                        "undefined name '[REDACTED:github_token]'");
    assert_string_equal(json_str(cJSON_GetArrayItem(findings, 1), "message"), "line too long");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(findings, 2), "message"));
    cJSON_Delete(findings);
    redact_findings(NULL);
}

/* A key pasted into comments, and a PGP key with armor headers, are found
 * whole: every line of the block is a placeholder, the comment leader of
 * the first line aside. */
static void test_pem_in_comments(void **state)
{
    static const char *const texts[] = {
        "# -----BEGIN RSA PRIVATE KEY-----\n"
        "# MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7\n"
        "# Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np=\n"
        "# -----END RSA PRIVATE KEY-----\n",
        "/*\n * -----BEGIN PRIVATE KEY-----\n"
        " * MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zk9Lm2Np4Rs7\n"
        " * Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4\n"
        " * -----END PRIVATE KEY-----\n */\n",
        "; -----BEGIN EC PRIVATE KEY-----\n"
        ";   MHcCAQEEIBq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2oAoGCCqGSM49\n"
        ";   -----END EC PRIVATE KEY-----\n",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"
        "Comment: Alice <alice@example.org>\n"
        "Version: GnuPG v2\n\n"
        "lQOYBF3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef\n"
        "=Ab6C\n"
        "-----END PGP PRIVATE KEY BLOCK-----\n",
    };
    struct redact_result res;

    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        redact_ok(texts[i], strlen(texts[i]), &res);
        assert_int_equal(res.count, 1);
        assert_string_equal(str_of(cJSON_GetArrayItem(res.findings, 0), "rule_id"),
                            "secret:private_key");
        assert_null(strstr(res.text, "MI"));
        assert_null(strstr(res.text, "lQOY"));
        assert_null(strstr(res.text, "alice@"));
        assert_null(strstr(res.text, "-----END"));
        redact_result_cleanup(&res);
    }
}

static void redact_diff_ok(const char *diff, size_t len, struct redact_result *res)
{
    assert_int_equal(redact_diff(diff, len, res), 0);
    assert_non_null(res->text);
    assert_true(cJSON_IsArray(res->findings));
    assert_int_equal(res->text[res->len], '\0');
}

/* Parses a diff the test built or redacted, failing with the reason. */
static struct udiff *diff_parse_ok(const char *text, size_t len, const char *what)
{
    struct udiff *d = NULL;
    struct udiff_err e;

    if (udiff_parse(text, len, &d, &e) != 0)
        fail_msg("%s does not parse: line %ld: %s\n%s", what, e.line, e.msg, text);
    return d;
}

/* The redacted diff red[0..rlen) parses, with the lines of diff[0..len):
 * as many, the same files, hunks (headers) and hunk lines, each of the
 * same kind, with its "\ No newline" mark. */
static void assert_same_diff(const char *diff, size_t len, const char *red, size_t rlen)
{
    struct udiff *a = diff_parse_ok(diff, len, "the diff");
    struct udiff *b = diff_parse_ok(red, rlen, "the redacted diff");
    size_t i, j, k;

    assert_int_equal(count_lines(red, rlen), count_lines(diff, len));
    assert_int_equal(b->nfiles, a->nfiles);
    for (i = 0; i < a->nfiles; i++) {
        assert_int_equal(b->files[i].nhunks, a->files[i].nhunks);
        for (j = 0; j < a->files[i].nhunks; j++) {
            const struct udiff_hunk *ha = &a->files[i].hunks[j], *hb = &b->files[i].hunks[j];

            assert_int_equal(hb->old_start, ha->old_start);
            assert_int_equal(hb->old_count, ha->old_count);
            assert_int_equal(hb->new_start, ha->new_start);
            assert_int_equal(hb->new_count, ha->new_count);
            assert_int_equal(hb->nlines, ha->nlines);
            for (k = 0; k < ha->nlines; k++) {
                assert_int_equal(hb->lines[k].kind, ha->lines[k].kind);
                assert_int_equal(hb->lines[k].no_newline, ha->lines[k].no_newline);
            }
        }
    }
    udiff_free(a);
    udiff_free(b);
}

/* The diff is redacted too (worker/pipeline.c), and the redacted diff is
 * what worker/context.c parses to show the model the hunks. A key added by
 * the diff sits on '+' lines: the placeholders must keep each line's '+',
 * or the hunk no longer parses and the model is shown the whole file. */
static void test_pem_in_diff_keeps_prefixes(void **state)
{
    static const char diff[] =
        "--- a/k.py\n"
        "+++ b/k.py\n"
        "@@ -0,0 +1,5 @@\n"
        "+-----BEGIN RSA PRIVATE KEY-----\n"
        "+MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7\n"
        "+Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np=\n"
        "+-----END RSA PRIVATE KEY-----\n"
        "+x = 1\n";
    struct redact_result res;
    struct udiff *d = NULL;
    struct udiff_err e;
    int rc;

    (void)state;
    redact_diff_ok(diff, strlen(diff), &res);
    assert_int_equal(res.count, 1);
    assert_null(strstr(res.text, "MIIE"));
    rc = udiff_parse(res.text, res.len, &d, &e);
    if (rc != 0)
        fail_msg("the redacted diff does not parse: line %ld: %s\n%s", e.line, e.msg, res.text);
    assert_int_equal(d->files[0].hunks[0].nlines, 5);
    udiff_free(d);
    assert_string_equal(res.text,
                        "--- a/k.py\n"
                        "+++ b/k.py\n"
                        "@@ -0,0 +1,5 @@\n"
                        "+[REDACTED:private_key]\n"
                        "+[REDACTED:private_key]\n"
                        "+[REDACTED:private_key]\n"
                        "+[REDACTED:private_key]\n"
                        "+x = 1\n");
    redact_result_cleanup(&res);
}

/* text[0..len) (whole lines) as the one hunk of a diff, each line behind
 * prefix: added ('+'), removed ('-') or kept (' '). Owns; *out_len set. */
static char *diff_of(const char *text, size_t len, char prefix, size_t *out_len)
{
    size_t lines = count_lines(text, len), i, o;
    char *d = malloc(len + lines + DIFF_HEAD_MAX);
    long n = (long)lines;
    int w;

    assert_non_null(d);
    if (prefix == '+')
        w = snprintf(d, DIFF_HEAD_MAX, "--- /dev/null\n+++ b/p.txt\n@@ -0,0 +1,%ld @@\n", n);
    else if (prefix == '-')
        w = snprintf(d, DIFF_HEAD_MAX, "--- a/p.txt\n+++ /dev/null\n@@ -1,%ld +0,0 @@\n", n);
    else
        w = snprintf(d, DIFF_HEAD_MAX, "--- a/p.txt\n+++ b/p.txt\n@@ -1,%ld +1,%ld @@\n", n, n);
    assert_true(w > 0 && w < DIFF_HEAD_MAX);
    o = (size_t)w;
    for (i = 0; i < len; i++) {
        if (i == 0 || text[i - 1] == '\n')
            d[o++] = prefix;
        d[o++] = text[i];
    }
    d[o] = '\0';
    *out_len = o;
    return d;
}

/* Every planted secret, added, removed or kept by a diff, is gone from the
 * redacted diff, and the diff parses with the same lines: the prefixes
 * survive a key spread over several lines, and nothing of the key does. */
static void test_planted_in_diff(void **state)
{
    static const char prefixes[] = {'+', '-', ' '};
    struct manifest m;
    struct redact_result res;
    size_t len, dlen, i, p;
    char *text = fixture_read(FIXTURE_DIR, "planted.txt", &len), *diff;

    (void)state;
    manifest_load(&m);
    for (p = 0; p < sizeof prefixes; p++) {
        diff = diff_of(text, len, prefixes[p], &dlen);
        redact_diff_ok(diff, dlen, &res);
        for (i = 0; i < m.n; i++)
            assert_no_piece(res.text, res.len, m.v[i].value, "redacted diff");
        assert_same_diff(diff, dlen, res.text, res.len);
        assert_null(strstr(res.text, "-----END"));
        redact_result_cleanup(&res);
        free(diff);
    }
    manifest_free(&m);
    free(text);
}

/* A key replaced by another: the old one removed (its last line without a
 * newline), the new one added, between context lines. Both are redacted
 * whole, the "\ No newline" mark and every prefix stay. */
static void test_pem_replaced_in_diff(void **state)
{
    static const char diff[] =
        "diff --git a/id_rsa b/id_rsa\n"
        "index 3594e94..e5e29bb 100644\n"
        "--- a/id_rsa\n"
        "+++ b/id_rsa\n"
        "@@ -1,4 +1,5 @@\n"
        " # deploy key\n"
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "-MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7\n"
        "------END RSA PRIVATE KEY-----\n"
        "\\ No newline at end of file\n"
        "+-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "+b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2\n"
        "+gtZWQyNTUxOQAAACDx5Qc8K9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7\n"
        "+-----END OPENSSH PRIVATE KEY-----\n";
    static const char *const pieces[] = {
        "MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2",
        "gtZWQyNTUxOQAAACDx5Qc8K9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7",
    };
    struct redact_result res;

    (void)state;
    redact_diff_ok(diff, sizeof diff - 1, &res);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        assert_no_piece(res.text, res.len, pieces[i], "redacted diff");
    assert_null(strstr(res.text, "-----END"));
    assert_null(strstr(res.text, "BEGIN"));
    assert_same_diff(diff, sizeof diff - 1, res.text, res.len);
    assert_non_null(strstr(res.text, "\n\\"));
    assert_non_null(strstr(res.text, "index 3594e94..e5e29bb 100644\n--- a/id_rsa\n"
                                     "+++ b/id_rsa\n@@ -1,4 +1,5 @@\n # deploy key\n-[REDACTED:"));
    redact_result_cleanup(&res);
}

/* Header lines: a secret in a hunk header's section (a line of the file) or
 * in a name is replaced there; a key that runs on into a file's header
 * leaves each header line its keyword. */
static void test_secrets_in_diff_headers(void **state)
{
    static const char section[] =
        "--- a/s.py\n"
        "+++ b/s.py\n"
        "@@ -10,2 +10,2 @@ GITHUB_TOKEN = \"ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F\"\n"
        " a = 1\n"
        "-b = 2\n"
        "+b = 3\n";
    static const char names[] =
        "--- a/ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F.txt\n"
        "+++ b/ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F.txt\n"
        "@@ -1 +1 @@\n"
        "-a\n"
        "+b\n";
    static const char preamble[] =
        "Add the key\n"
        "-----BEGIN PRIVATE KEY-----\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zk9Lm2Np4Rs7\n"
        "diff --git a/Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7.txt "
        "b/Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7.txt\n"
        "index 3594e94..e5e29bb 100644\n"
        "--- a/Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7.txt\n"
        "+++ b/Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7.txt\n"
        "@@ -1 +1 @@\n"
        "-a\n"
        "+b\n";
    static const char binary[] =
        "--- a/k\n"
        "+++ b/k\n"
        "@@ -0,0 +1,2 @@\n"
        "+-----BEGIN PRIVATE KEY-----\n"
        "+MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zk9Lm2Np4Rs7\n"
        "diff --git a/img/LogoLargeVersionTwoFinal.png b/img/LogoLargeVersionTwoFinal.png\n"
        "index 3594e94..e5e29bb 100644\n"
        "Binary files a/img/LogoLargeVersionTwoFinal.png and "
        "b/img/LogoLargeVersionTwoFinal.png differ\n";
    struct redact_result res;

    (void)state;
    redact_diff_ok(section, sizeof section - 1, &res);
    assert_int_equal(res.count, 1);
    assert_null(strstr(res.text, "ghp_"));
    assert_non_null(strstr(res.text, "@@ -10,2 +10,2 @@ GITHUB_TOKEN = \"[REDACTED:"));
    assert_same_diff(section, sizeof section - 1, res.text, res.len);
    redact_result_cleanup(&res);

    redact_diff_ok(names, sizeof names - 1, &res);
    assert_null(strstr(res.text, "ghp_"));
    assert_same_diff(names, sizeof names - 1, res.text, res.len);
    redact_result_cleanup(&res);

    redact_diff_ok(preamble, sizeof preamble - 1, &res);
    assert_null(strstr(res.text, "MIIE"));
    assert_null(strstr(res.text, "Tv1Wy3"));
    assert_same_diff(preamble, sizeof preamble - 1, res.text, res.len);
    assert_non_null(strstr(res.text, "\ndiff --git [REDACTED:private_key]\n"
                                     "index [REDACTED:private_key]\n"
                                     "--- [REDACTED:private_key]\n"));
    redact_result_cleanup(&res);

    /* An unterminated key runs on into the next file's "Binary files"
     * line: its " and " and " differ" stay, so it still parses. */
    redact_diff_ok(binary, sizeof binary - 1, &res);
    assert_null(strstr(res.text, "MIIE"));
    assert_non_null(strstr(res.text, "\nBinary files [REDACTED:private_key] and "));
    assert_same_diff(binary, sizeof binary - 1, res.text, res.len);
    redact_result_cleanup(&res);
}

/* Only a diff's prefixes are its syntax: redact_text, and redact_diff on
 * text udiff does not parse, replace a key's line whole, '+' (a base64
 * byte) and all. */
static void test_plus_kept_in_diffs_only(void **state)
{
    static const char key[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "+IIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zk9Lm2Np4Rs7\n"
        "-----END PRIVATE KEY-----\n";
    static const char want[] =
        "[REDACTED:private_key]\n[REDACTED:private_key]\n[REDACTED:private_key]\n";
    struct redact_result res;

    (void)state;
    redact_ok(key, sizeof key - 1, &res);
    assert_string_equal(res.text, want);
    redact_result_cleanup(&res);
    redact_diff_ok(key, sizeof key - 1, &res);
    assert_string_equal(res.text, want);
    redact_result_cleanup(&res);
    redact_diff_ok(NULL, 0, &res);
    assert_int_equal(res.len, 0);
    redact_result_cleanup(&res);
}

/* Columns count characters, not bytes. */
static void test_column_utf8(void **state)
{
    static const char text[] = "one\n  caf\xc3\xa9 AKIAQ7ZK2LM9NP4RS7TV\n";
    struct redact_result res;
    const cJSON *f;

    (void)state;
    redact_ok(text, sizeof(text) - 1, &res);
    assert_int_equal(res.count, 1);
    f = cJSON_GetArrayItem(res.findings, 0);
    assert_int_equal(int_of(f, "line"), 2);
    assert_int_equal(int_of(f, "column"), 8);
    assert_null(cJSON_GetObjectItemCaseSensitive(f, "end_line"));
    assert_string_equal(res.text, "one\n  caf\xc3\xa9 [REDACTED:aws_access_key_id]\n");
    redact_result_cleanup(&res);
}

/* More secrets than REDACT_FINDINGS_MAX: all replaced, the report capped. */
static void test_findings_capped(void **state)
{
    enum { SECRETS = REDACT_FINDINGS_MAX + 50 };
    struct redact_result res;
    size_t cap = (size_t)SECRETS * 64, o = 0;
    char *text = malloc(cap);
    int i, n;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < SECRETS; i++) {
        n = snprintf(text + o, cap - o, "k%d = \"glpat-Zx8Kq2Lm9Np4Rs7T%06d\"\n", i, i);
        assert_true(n > 0 && (size_t)n < cap - o);
        o += (size_t)n;
    }
    redact_ok(text, o, &res);
    assert_int_equal(res.count, SECRETS);
    assert_int_equal(cJSON_GetArraySize(res.findings), REDACT_FINDINGS_MAX);
    assert_null(memmem(res.text, res.len, "glpat-", 6));
    assert_int_equal(count_lines(res.text, res.len), SECRETS);
    redact_result_cleanup(&res);
    free(text);
}

/* A diff that adds a placeholder line would write it into the code; one
 * that only keeps or removes such a line would not. */
static void test_diff_adds_mark(void **state)
{
    (void)state;
    assert_true(redact_diff_adds_mark("@@ -1 +1 @@\n-a\n+k = \"[REDACTED:aws]\"\n"));
    assert_true(redact_diff_adds_mark("@@ -1 +1 @@\n-a\n+[REDACTED:x]"));
    assert_false(redact_diff_adds_mark("--- a/x\n+++ b/[REDACTED:x]\n@@ -1,2 +1,2 @@\n"
                                       " k = [REDACTED:aws]\n-a\n+b\n"));
    assert_false(redact_diff_adds_mark("@@ -1 +0,0 @@\n-k = [REDACTED:aws]\n"));
    assert_false(redact_diff_adds_mark(""));
}

/* A YAML block scalar under a secret name: each of its lines is replaced,
 * the keys after it (a dedent ends the block) and the line count kept. */
static void test_yaml_block_scalar_ends_at_dedent(void **state)
{
    static const char text[] =
        "smtp:\n  password: |-\n    Pl9oK7iJ5uH3yG1t\n\n    Xk9mP2vQ7rT4wL8n\n"
        "  port: 587\nuser: alerts\n";
    struct redact_result res;

    (void)state;
    redact_ok(text, sizeof(text) - 1, &res);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.text, "smtp:\n  password: |-\n    [REDACTED:generic_secret]\n\n"
                                  "    [REDACTED:generic_secret]\n  port: 587\nuser: alerts\n");
    redact_result_cleanup(&res);
}

/* Each of lines[0..n) comes back unchanged, alone and joined. */
static void assert_lines_clean(const char *const *lines, size_t n)
{
    char all[4096];
    size_t i, used = 0, len;

    for (i = 0; i < n; i++) {
        len = strlen(lines[i]);
        assert_clean(lines[i], len, lines[i]);
        assert_true(used + len < sizeof(all));
        memcpy(all + used, lines[i], len);
        used += len;
    }
    assert_clean(all, used, "all lines");
}

/* Ruby's ENV.fetch block: a default that is no secret (a number, an error,
 * an empty or a worded literal) or under a name that says none stays. */
static void test_ruby_fetch_block_kept(void **state)
{
    static const char *const lines[] = {
        "port = ENV.fetch(\"PORT\") { 3000 }\n",
        "secret = ENV.fetch(\"SECRET_KEY_BASE\") { raise \"missing SECRET_KEY_BASE\" }\n",
        "api_token = ENV.fetch(\"API_TOKEN\") { \"\" }\n",
        "ENV.fetch(\"API_TOKEN\") { \"dev-token-not-secret\" }\n",
        "host = ENV.fetch(\"REDIS_HOST\") { \"redis-7.internal\" }\n",
        "level = ENV.fetch('LOG_LEVEL') { 'Debug42' }\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Shell parameter expansions that hold no secret: a default under a name
 * that says none, an empty, worded or referenced default, an error
 * message (:?) or an alternate value (:+), a nested expansion. */
static void test_shell_parameter_defaults_kept(void **state)
{
    static const char *const lines[] = {
        "cd \"${HOME:-/tmp}\"\n",
        "PORT=${PORT:-8080}\n",
        "LOG_DIR=\"${LOG_DIR:=/var/log/app-2024}\"\n",
        "DB_PASSWORD=\"${DB_PASSWORD:-}\"\n",
        "TOKEN=\"${API_TOKEN:-$(cat /run/secrets/api_token)}\"\n",
        ": \"${API_KEY:?API_KEY must be set to a Key123 value}\"\n",
        "exec app ${TOKEN:+--token=\"$TOKEN\"}\n",
        "PASSWORD=${DB_PASSWORD:-changeme}\n",
        "PASSWORD=${DB_PASSWORD:-${POSTGRES_PASSWORD}}\n",
        "image: ${REGISTRY:-ghcr.io}/acme/app:${TAG:-v1.2.3-Beta4}\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Defaults after a lookup in parentheses or a subscript that hold no
 * secret: a name that says none, an empty or worded literal, a variable, a
 * literal that is only the start of an expression. */
static void test_fallback_in_parentheses_kept(void **state)
{
    static const char *const lines[] = {
        "level = (os.getenv(\"LEVEL\") or \"info\")\n",
        "region = (os.getenv(\"AWS_REGION\") or \"eu-West-1b\")\n",
        "mode = ENV[\"MODE\"] || \"Production42\"\n",
        "token = (os.getenv(\"API_TOKEN\") or default_token)\n",
        "password = (input(\"Password: \") or \"\")\n",
        "const parts = (req.headers[\"authorization\"] || \"\").split(\" \");\n",
        "msg = (os.getenv(\"API_TOKEN\") or \"Please set API_TOKEN\")\n",
        "url = (os.getenv(\"API_TOKEN\") or \"Xk9mP2vQ7rT4\" + suffix)\n",
        "if (flags & MASK) || (mode == \"Strict42x\") { }\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Registry logins fed from a pipe that hold no secret: the value echoed
 * is a reference ($TOKEN, ${CI_JOB_TOKEN}, ${{ secrets.X }}, $(cmd)), a
 * command writes it, or the login does not read stdin. */
static void test_password_piped_to_login_kept(void **state)
{
    static const char *const lines[] = {
        "echo \"$TOKEN\" | docker login --password-stdin -u bot ghcr.io\n",
        "echo \"${CI_JOB_TOKEN}\" | docker login -u gitlab-ci-token --password-stdin $CI_REG\n",
        "echo ${{ secrets.GHCR_TOKEN }} | docker login ghcr.io -u x --password-stdin\n",
        "echo $CR_PAT | docker login ghcr.io -u USERNAME --password-stdin\n",
        "printf '%s' \"$(cat /run/secrets/reg)\" | podman login --password-stdin quay.io\n",
        "aws ecr get-login-password | docker login --username AWS --password-stdin 1.dkr.ecr\n",
        "echo \"Building Image42x\" | docker build -t app:Release9 -\n",
        "echo \"Xk9mP2vQ7rT4wL8n\" | docker login -u bot ghcr.io; cat --password-stdin\n",
        "x = flags | docker_login_mask | PASSWORD_STDIN_Flag42;\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* The word default in code and prose is no .netrc entry, and a default
 * entry whose password is a reference holds no secret. */
static void test_netrc_default_kept(void **state)
{
    static const char *const lines[] = {
        "switch (x) {\ndefault:\n    password = ask();\n}\n",
        "  default = \"Xk9mP2vQ7rT4wL8n\"\n",
        "The default password policy is Strict2024x.\n",
        "default password policy Strict2024x\n",
        "default login anonymous password $NETRC_PASSWORD\n",
        "default\n  login anonymous\n  password ${NETRC_PASSWORD}\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A docker command after long global options that is not login: its -p is
 * a port, whatever comes before it. */
static void test_docker_long_options_not_login(void **state)
{
    static const char *const lines[] = {
        "docker --config /home/ci/builds/acme/platform/.docker-config-for-this-pipeline "
        "--tlsverify --tlscacert /etc/ci/certs/registry-build-cluster-ca-bundle.pem "
        "--tlscert /etc/ci/certs/registry-build-cluster-client-certificate.pem "
        "--tlskey /etc/ci/certs/registry-build-cluster-client-private-key.pem "
        "-H tcp://docker-daemon.build.internal.acme.io:2376 run -p 127.0.0.1:8443:8443 app\n",
        "docker \\\n  --context build-Cluster7 \\\n  run -p 0.0.0.0:5432:5432 -d pg:16\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* A framework's signing key read from elsewhere, and names that end in key
 * base without saying secret: nothing to replace. */
static void test_framework_signing_keys_kept(void **state)
{
    static const char *const lines[] = {
        "production:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>\n",
        "  config.secret_key_base = ENV.fetch(\"SECRET_KEY_BASE\")\n",
        "  config.secret_key_base = Rails.application.credentials.secret_key_base\n",
        "SECRET_KEY_BASE=$(bin/rails secret)\n",
        "  secret_key_base: ${SECRET_KEY_BASE}\n",
        "SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]\n",
        "cache_key_base = \"Products2024-v3x\"\n",
        "@api_key ||= ENV[\"API_KEY\"]\n",
        "options[:token] ||= default_token\n",
        "process.env.API_TOKEN ?\?= process.env.FALLBACK_TOKEN;\n",
        "mask |= TOKEN_Flag42x;\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Logins whose password is no literal (a variable in a here-string or a
 * here-document, a file redirected), here-documents that feed no login,
 * a login's name in other code, and the -p of other subcommands of the
 * same CLIs (a template parameter, a path). */
static void test_login_stdin_kept(void **state)
{
    static const char *const lines[] = {
        "docker login -u bob --password-stdin <<< \"$REGISTRY_PASSWORD\"\n",
        "docker login -u bob --password-stdin <<< \"${{ secrets.GHCR_TOKEN }}\" ghcr.io\n",
        "docker login --password-stdin -u bob <<EOF\n$CI_REGISTRY_PASSWORD\nEOF\n",
        "oras login -u bot --password-stdin r.io <<'EOF'\n${ORAS_PASSWORD}\nEOF\n",
        "docker login -u bob --password-stdin < /run/secrets/registry_Pass42\n",
        "docker build -t app:Release9 - <<EOF\nFROM alpine:3.19\nEOF\n",
        "std::cout << \"oc login\" << \"Xk9mP2vQ7rT4wL8nZs4x\" << std::endl;\n",
        "crane auth login r.io -u bot -p \"$CRANE_PASSWORD\"\n",
        "echo \"$TOKEN\" | oras login -u x --password-stdin r.io\n",
        "oc process -f tmpl.yaml -p DB_NAME=App42xQ9z | oc apply -f -\n",
        "cf push acme-api -p ./build/libs/acme-api-1.2.3.jar\n",
        "skopeo login -u bot -p --tls-verify=false r.io\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Clients' password options with no literal password: a variable, a
 * prompt (-p or -W with no value, -p before another option, 7z -p with a
 * blank), a user without a password, keytool's and openssl's indirections
 * (-storepass:env, env:, file:), and the same letters as other options
 * of other commands. */
static void test_client_password_options_kept(void **state)
{
    static const char *const lines[] = {
        "redis-cli -h cache -a \"$REDIS_PASSWORD\" --no-auth-warning ping\n",
        "zip -r -P \"$ZIP_PASSWORD\" out.zip data/\n",
        "7z a -mhe=on -p backup.7z data/\n",
        "sqlcmd -S db -U sa -P \"${SA_PASSWORD}\" -i init.sql\n",
        "mongosh -u admin -p --authenticationDatabase admin\n",
        "ldapsearch -x -W -D cn=admin,dc=acme,dc=io -b dc=acme,dc=io\n",
        "smbclient -L //srv -U bob\n",
        "curl --user bob https://api.acme.io\n",
        "curl --user \"$API_USER:$API_PASS\" https://api.acme.io\n",
        "skopeo copy --src-creds \"$SRC_USER:$SRC_PASS\" docker://a docker://b\n",
        "keytool -list -keystore ks.jks -storepass:env STOREPASS\n",
        "openssl rsa -in k.pem -passin env:KEY_PASS -out p.pem\n",
        "openssl req -new -key k.pem -passout file:/run/secrets/Pass42x -out r.csr\n",
        "java -jar tool.jar -storetype PKCS12 -alias Upload42xQ\n",
        "find . -name Password42x -print\n",
        "tar -czf backup.tar.gz -P /var/lib/App42xQz\n",
        "ps -U root -p 4242 -o pid,cmd\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* PowerShell cmdlets assigned to a secret's name are code, not the value
 * (Read-Host, ConvertTo-SecureString of a variable, ConvertFrom-Json), and
 * a DSL call under a secret name whose argument is no literal secret (a
 * lookup, an interpolated string, a literal followed by more code). */
static void test_calls_without_parentheses_kept(void **state)
{
    static const char *const lines[] = {
        "$password = Read-Host -AsSecureString\n",
        "$securePassword = ConvertTo-SecureString $env:SVC_PASSWORD -AsPlainText -Force\n",
        "$secret = ConvertFrom-Json $raw\n",
        "$token = Get-Content ./token.txt\n",
        "    password System.getenv(\"REPO_PASSWORD\")\n",
        "    password \"${repoPassword}\"\n",
        "    password findProperty(\"repo.Password42\")\n",
        "    storePassword \"Prefix42xQ\" + suffix\n",
        "    print \"Password42xQz\"\n",
        "echo \"Xk9mP2vQ7rT4wL8nZs4x\"\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

/* Colon-separated lines that are no .pgpass entry (times, MAC addresses,
 * /etc/passwd, image references, a YAML mapping) or whose password is a
 * stand-in. */
static void test_pgpass_kept(void **state)
{
    static const char *const lines[] = {
        "12:30:45:123:Abc12345xyZ\n",
        "00:1a:2b:3c:4d:5e\n",
        "app:x:1000:1000:App User42,,,:/home/app:/bin/bash\n",
        "root:x:0:0:root:/root:/bin/bash\n",
        "image: registry.acme.io:5000/acme/app:v1.2.3-Beta4\n",
        "db.acme.io:5432:app:appuser:${PGPASSWORD}\n",
        "*:*:*:postgres:changeme\n",
        "localhost:5432:*:app:\n",
        "a:b:c:d:Xk9mP2vQ7rT4wL8nZs4x\n",
    };

    (void)state;
    assert_lines_clean(lines, sizeof(lines) / sizeof(lines[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_found_at_their_lines),
        cmocka_unit_test(test_planted_values_gone),
        cmocka_unit_test(test_planted_lines_kept),
        cmocka_unit_test(test_false_positives),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_big_clean),
        cmocka_unit_test(test_pathological),
        cmocka_unit_test(test_overlap_jwt_in_connection_string),
        cmocka_unit_test(test_pem_crlf_and_unterminated),
        cmocka_unit_test(test_pem_without_begin),
        cmocka_unit_test(test_findings_messages),
        cmocka_unit_test(test_pem_in_comments),
        cmocka_unit_test(test_pem_in_diff_keeps_prefixes),
        cmocka_unit_test(test_planted_in_diff),
        cmocka_unit_test(test_pem_replaced_in_diff),
        cmocka_unit_test(test_secrets_in_diff_headers),
        cmocka_unit_test(test_plus_kept_in_diffs_only),
        cmocka_unit_test(test_column_utf8),
        cmocka_unit_test(test_findings_capped),
        cmocka_unit_test(test_diff_adds_mark),
        cmocka_unit_test(test_yaml_block_scalar_ends_at_dedent),
        cmocka_unit_test(test_ruby_fetch_block_kept),
        cmocka_unit_test(test_shell_parameter_defaults_kept),
        cmocka_unit_test(test_fallback_in_parentheses_kept),
        cmocka_unit_test(test_password_piped_to_login_kept),
        cmocka_unit_test(test_netrc_default_kept),
        cmocka_unit_test(test_docker_long_options_not_login),
        cmocka_unit_test(test_framework_signing_keys_kept),
        cmocka_unit_test(test_login_stdin_kept),
        cmocka_unit_test(test_client_password_options_kept),
        cmocka_unit_test(test_calls_without_parentheses_kept),
        cmocka_unit_test(test_pgpass_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
