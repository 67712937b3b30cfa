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
#include "tests/unit/leak_check.h"
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

static void test_false_positives(void **state)
{
    size_t len;
    char *text = fixture_read(FIXTURE_DIR, "negatives.txt", &len), *p, *nl;
    char what[256];
    int lines = 0;

    (void)state;
    leak_assert_clean(text, len, "negatives.txt");
    for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        snprintf(what, sizeof(what), "negatives.txt: %.*s", (int)(nl - p), p);
        leak_assert_clean(p, (size_t)(nl - p), what);
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
