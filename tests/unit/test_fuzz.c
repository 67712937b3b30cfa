/* test_fuzz.c - mutation fuzzing of the parsers that read what callers and
 * the model send: a request body (review_parse, fix_request_parse), a
 * model's answer (answer_parse, answer_validate) and the provider's body
 * around it (llm_reply_parse), a unified diff
 * (udiff_parse, patch_apply), a bearer token (jwt_peek, jwt_verify), the
 * identity provider's key set (jwks_load_json), an
 * error log (traceback_parse), the linters' output, which quotes the
 * caller's code (each linter's parse, from the real outputs in
 * tests/fixtures/lint/), and the caller's code itself on its way to the
 * model (redact_text, then context_build with a mutated diff, redacted by
 * redact_diff, and cursor).
 *
 * Each starts from valid inputs and applies FUZZ_ROUNDS rounds of 1-4
 * random edits (a byte replaced, a letter or digit swapped, a JSON or diff
 * token inserted, a range deleted or repeated, the end cut off) with a
 * fixed seed, so a failure repeats. Every input is copied into a heap buffer of exactly its length,
 * and the unit tests run under ASan and UBSan: a read past the end, a leak
 * or undefined behaviour fails the run. Beyond not crashing, each round
 * asserts the contract: a refusal is a 4xx with a code and a message,
 * never a 5xx; what is accepted can be released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/json.h"
#include "common/jwks.h"
#include "common/jwt.h"
#include "common/log.h"
#include "common/config.h"
#include "common/target_policy.h"
#include "common/llm_reply.h"
#include "common/patch.h"
#include "common/udiff.h"
#include "gateway/fix_request.h"
#include "gateway/validate.h"
#include "tests/unit/fixture.h"
#include "tests/unit/ranges.h"
#include "worker/answer.h"
#include "worker/context.h"
#include "worker/linters.h"
#include "worker/redact.h"
#include "worker/traceback.h"

#define FUZZ_ROUNDS 20000       /* per parser, unless CODEINSIGHT_FUZZ_ROUNDS says */
#define FUZZ_ROUNDS_MAX 10000000
#define FUZZ_MAX 8192           /* a mutant never grows past this */

/* The run `make test` makes is fixed; a longer search by hand:
 *   CODEINSIGHT_FUZZ_SEED=7 CODEINSIGHT_FUZZ_ROUNDS=500000 build/asan/tests/test_fuzz
 * (a failure prints the seed, so that it repeats). */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int fuzz_rounds = FUZZ_ROUNDS;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t below(size_t n)
{
    return n == 0 ? 0 : (size_t)(next() % n);
}

static const char special_bytes[] = "\"\\{}[],:0-e.u\n\t /@+ ";
static const char *const tokens[] = {
    "\\u0000", "\\ud800", "\\udc00\\ud800", "\\u00e9", "\\", "\"", "null", "true", "1e999",
    "-0", "[]", "{}", "\"\"", "[[[[[[[[", "}}}}", "\xc3", "\xff\xfe", "\xf0\x9f\x98",
    "\x7f", "\x01", "@@ -1,2 +1,2 @@\n", "@@ -0,0 +99999999999 @@\n", "\n+", "\n-", "\n ",
    "--- a/x\n+++ b/x\n", "\\ No newline at end of file\n", "Traceback (most recent call last):\n",
    "  File \"", "\", line ", "99999999999999999999", ".", "eyJ", "==", "%00", "../"};

/* One random edit of buf[0..*len) in place (cap bytes of room). */
static void mutate_once(char *buf, size_t *len, size_t cap)
{
    size_t n = *len, at = below(n + 1), k;

    switch (next() % 6) {
    case 5: {                   /* swap a letter or digit for another, or for
                                 * what a path or a number may hold: mostly
                                 * still JSON, so the checks behind the
                                 * syntax get their share */
        static const char gentle[] = "az09Z/._- \n";
        if (n > 0) {
            at = below(n);
            if ((buf[at] >= 'a' && buf[at] <= 'z') || (buf[at] >= '0' && buf[at] <= '9'))
                buf[at] = gentle[below(sizeof gentle - 1)];
        }
        break;
    }
    case 0:                     /* replace a byte */
        if (n > 0)
            buf[below(n)] = (next() & 1) ? (char)next()
                                         : special_bytes[below(sizeof special_bytes - 1)];
        break;
    case 1: {                   /* insert a token */
        const char *t = tokens[below(sizeof tokens / sizeof tokens[0])];
        k = strlen(t);
        if (n + k <= cap) {
            memmove(buf + at + k, buf + at, n - at);
            memcpy(buf + at, t, k);
            *len = n + k;
        }
        break;
    }
    case 2:                     /* delete a range */
        k = below(n - at + 1);
        if (k > 16)
            k = 1 + below(16);
        memmove(buf + at, buf + at + k, n - at - k);
        *len = n - k;
        break;
    case 3:                     /* repeat a range */
        k = below(n - at + 1);
        if (k > 64)
            k = 1 + below(64);
        if (n + k <= cap) {
            memmove(buf + at + k, buf + at, n - at);    /* the range now sits twice */
            *len = n + k;
        }
        break;
    default:                    /* cut the end off */
        *len = at;
        break;
    }
}

/* A mutant of one of seeds (heap, exactly *len bytes, no NUL after it). */
static char *mutant(const char *const *seeds, size_t nseeds, size_t *len)
{
    static char work[FUZZ_MAX];
    const char *s = seeds[below(nseeds)];
    size_t n = strlen(s), edits = 1 + below(4);

    assert_true(n <= sizeof work);
    memcpy(work, s, n);
    while (edits-- > 0)
        mutate_once(work, &n, sizeof work);
    *len = n;
    return fixture_exact_copy(work, n);
}

/* A refusal is the caller's fault: a 4xx with a code and a message. */
static void assert_refusal(int rc, const struct err *e)
{
    int status = err_http_status((enum err_code)rc);

    assert_int_equal(e->code, rc);
    assert_true(status >= 400 && status < 500);
    assert_true(e->msg[0] != '\0');
}

#define NSEEDS(a) (sizeof(a) / sizeof((a)[0]))

/* Both outcomes must occur, or the edits are too weak (all accepted) or
 * the seeds broken (all refused). */
static void assert_both(const char *what, int accepted)
{
    print_message("%s: %d of %d mutants accepted\n", what, accepted, fuzz_rounds);
    assert_true(accepted > 0);
    assert_true(accepted < fuzz_rounds);
}

static const char *const review_seeds[] = {
    "{\"file_path\":\"src/app.py\",\"file_content\":\"import os\\nprint(os.getcwd())\\n\"}",
    "{\"request_type\":\"debug\",\"file_path\":\"src/app/main.py\",\"file_content\":"
    "\"print('hi')\",\"repo_id\":\"acme/shop\",\"language\":\"Python\",\"cursor_context\":"
    "{\"line\":3,\"end_line\":7},\"diff\":\"--- a/m.py\\n+++ b/m.py\\n@@ -1 +1 @@\\n"
    "-print(1)\\n+print('hi')\\n\",\"error_log\":\"Traceback (most recent call last)\"}",
    "{\"request_type\":\"review\",\"file_path\":\"lib/a.c\",\"file_content\":\"int f(void)\\n"
    "{\\n\\treturn 2;\\n}\\n\",\"diff\":\"--- a/lib/a.c\\n+++ b/lib/a.c\\n@@ -1,4 +1,4 @@\\n"
    " int f(void)\\n {\\n-\\treturn 1;\\n+\\treturn 2;\\n }\\n\"}",
    "{\"request_type\":\"review\",\"file_path\":\"w.js\",\"file_content\":\"let x = 1;\\n\","
    "\"cursor_context\":{\"line\":1},\"language\":null}",
    "{\"request_type\":\"debug\",\"file_path\":\"app/main.py\",\"file_content\":\"print(1/0)\\n\","
    "\"error_log\":\"E\",\"files\":[{\"path\":\"app/util.py\",\"content\":\"x = 1\\n\"}],"
    "\"run\":{\"runner\":\"cc\",\"args\":[\"-v\",\"x y\"]}}",
    "{\"request_type\":\"architecture\",\"user_request\":\"A URL shortener\",\"stack\":\"C\","
    "\"scale\":\"10k rps\",\"db\":\"postgres\",\"file_tree\":\"src/\\n  main.c\\n\"}",
    "{\"request_type\":\"stress\",\"base_url\":\"http://127.0.0.1:8081\",\"requests\":"
    "[{\"method\":\"GET\",\"path\":\"/items\",\"weight\":3}],\"rate\":20,\"duration_s\":2}",
};

/* A body parser: ERR_OK (what it produced checked and released) or the
 * refusal's code with e filled. */
typedef int (*body_parser)(const char *body, size_t len, struct err *e);

/* FUZZ_ROUNDS mutants of seeds through parse: each accepted or refused as
 * the caller's fault. */
static void fuzz_bodies(const char *what, const char *const *seeds, size_t nseeds,
                        body_parser parse)
{
    int accepted = 0;

    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len;
        char *body = mutant(seeds, nseeds, &len);
        struct err e;
        int rc;

        err_clear(&e);
        rc = parse(body, len, &e);
        if (rc == ERR_OK)
            accepted++;
        else
            assert_refusal(rc, &e);
        free(body);
    }
    assert_both(what, accepted);
}

/* What review_parse checks stress against: the operator's caps and a
 * target allow-list of loopback (test_validate_task.c's). */
static struct config stress_cfg = {.stress_max_rps = 200, .stress_max_concurrency = 50,
                                   .stress_max_duration_s = 60, .stress_max_requests = 10000};
static struct target_policy *stress_policy;

static int parse_review(const char *body, size_t len, struct err *e)
{
    struct review_request r;
    int rc = review_parse(body, len, &stress_cfg, stress_policy, &r, e);

    if (rc == ERR_OK) {
        /* Reviews and debug jobs carry the file; the others a spec. */
        if (r.type == JOB_REVIEW || r.type == JOB_DEBUG)
            assert_true(r.file_path != NULL && r.file_content != NULL);
        else
            assert_non_null(r.spec);
        review_request_cleanup(&r);
    }
    return rc;
}

static void test_review_bodies(void **state)
{
    struct err e;
    (void)state;

    assert_int_equal(target_policy_new("127.0.0.1", &stress_policy, &e), ERR_OK);
    fuzz_bodies("review bodies", review_seeds, NSEEDS(review_seeds), parse_review);
    target_policy_free(stress_policy);
}

static const char *const fix_seeds[] = {
    "{\"job_id\":\"0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69\",\"finding_id\":\"f3\","
    "\"base_sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"approve\":true}",
    "{\"job_id\":\"0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69\",\"finding_id\":\"fix\","
    "\"base_sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    "\"approve\":true}",
};

static int parse_fix(const char *body, size_t len, struct err *e)
{
    struct fix_request r;

    return fix_request_parse(body, len, &r, e);
}

static void test_fix_bodies(void **state)
{
    (void)state;
    fuzz_bodies("fix bodies", fix_seeds, NSEEDS(fix_seeds), parse_fix);
}

#define ANSWER_FILE "def f(x):\n    return x / 0\n\nprint(f(1))\n"

static const char *const answer_seeds[] = {
    "{\"findings\":[{\"line\":2,\"end_line\":2,\"severity\":\"major\",\"category\":"
    "\"correctness\",\"message\":\"Division by zero.\",\"fix\":\"--- a/a.py\\n+++ b/a.py\\n"
    "@@ -1,2 +1,2 @@\\n def f(x):\\n-    return x / 0\\n+    return x\\n\",\"confidence\":0.9}],"
    "\"summary\":\"One defect.\"}",
    "{\"findings\":[],\"summary\":\"Nothing to report.\"}",
    "{\"findings\":[{\"line\":4,\"severity\":\"high\",\"category\":\"bug\",\"message\":\"m\"},"
    "{\"line\":1,\"end_line\":9,\"severity\":\"note\",\"category\":\"perf\",\"message\":\"n\","
    "\"confidence\":null,\"fix\":null}],\"summary\":\"s\"}",
    "{\"findings\":[{\"line\":2,\"severity\":\"major\",\"category\":\"correctness\","
    "\"message\":\"Division by zero.\",\"fix\":\"    return x / 1\\n\"},{\"line\":1,"
    "\"end_line\":2,\"severity\":\"minor\",\"category\":\"correctness\",\"message\":\"m\","
    "\"fix\":\"1\\tdef f(x, y):\\n2\\t    return x / y\"}],\"summary\":\"Two.\"}",
};

/* Every fix answer_validate keeps applies to the file. Returns how many. */
static int assert_fixes_apply(const cJSON *findings, const char *file)
{
    const cJSON *f;
    int n = 0;

    cJSON_ArrayForEach(f, findings) {
        const char *fix = json_str(f, "fix");
        if (fix != NULL) {
            assert_int_equal(patch_apply(file, strlen(file), fix, strlen(fix), NULL, NULL), 0);
            n++;
        }
    }
    return n;
}

static void test_model_answers(void **state)
{
    int accepted = 0, fixes = 0;
    (void)state;
    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len;
        char *text = mutant(answer_seeds, NSEEDS(answer_seeds), &len);
        cJSON *findings = NULL;
        char *summary = NULL, why[256];
        int dropped = 0;

        why[0] = '\0';
        if (answer_parse(text, len, &findings, &summary, &dropped, why, sizeof why) == 0) {
            assert_true(cJSON_IsArray(findings));
            assert_non_null(summary);
            assert_true(dropped >= 0);
            assert_true(answer_validate(findings, &(struct answer_file){
                            "a.py", ANSWER_FILE, strlen(ANSWER_FILE), NULL, 0}) >= 0);
            fixes += assert_fixes_apply(findings, ANSWER_FILE);
            cJSON_Delete(findings);
            free(summary);
            accepted++;
        } else {
            assert_null(findings);
            assert_null(summary);
            assert_true(why[0] != '\0');        /* said, for the repair attempt */
        }
        free(text);
    }
    assert_both("model answers", accepted);
    print_message("model answers: %d fixes kept, each applies\n", fixes);
    assert_true(fixes > 0);
}

static const char *const reply_seeds[] = {
    "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"findings\\\":[]}\"}],\"usage\":"
    "{\"input_tokens\":10,\"output_tokens\":5,\"cache_creation_input_tokens\":3,"
    "\"cache_read_input_tokens\":2}}",
    "{\"choices\":[{\"message\":{\"content\":\"ok\"}}],\"usage\":{\"prompt_tokens\":100,"
    "\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":40},\"cost\":0.5}}",
};

static void assert_sane_usage(const struct llm_usage *u)
{
    const int64_t kinds[] = {u->input_tokens, u->output_tokens, u->cache_read_tokens,
                             u->cache_write_tokens};

    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        assert_true(kinds[k] >= 0 && kinds[k] <= LLM_REPLY_TOKENS_MAX);
    assert_true(u->cost_usd >= 0 && u->cost_usd <= LLM_REPLY_COST_MAX);
}

static void test_provider_replies(void **state)
{
    int accepted = 0;
    (void)state;
    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len;
        char *body = mutant(reply_seeds, NSEEDS(reply_seeds), &len), *text = NULL;
        struct llm_usage u = {0};
        enum llm_provider p = (i & 1) ? LLM_ANTHROPIC : LLM_OPENAI;
        int cut = -1;

        if (llm_reply_parse(p, body, len, &text, &cut, &u) == 0) {
            assert_non_null(text);
            accepted++;
        } else {
            assert_null(text);
        }
        assert_true(cut == 0 || cut == 1);
        assert_sane_usage(&u);
        free(text);
        free(body);
    }
    assert_both("provider replies", accepted);
}

static size_t count_byte(const char *s, size_t n, char c)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

#define DIFF_BASE "one\ntwo\nthree\nfour\n"

static const char *const diff_seeds[] = {
    "--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n one\n-two\n+TWO\n three\n four\n",
    "--- a/x\n+++ b/x\n@@ -2,2 +2,3 @@\n two\n three\n+three and a half\n"
    "@@ -4 +5 @@\n-four\n+four\n\\ No newline at end of file\n",
    "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+zero\n",
    "--- a/k\n+++ b/k\n@@ -1,2 +1,4 @@ t = \"ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F\"\n"
    " one\n-two\n\\ No newline at end of file\n+-----BEGIN RSA PRIVATE KEY-----\n"
    "+MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7\n"
    "+-----END RSA PRIVATE KEY-----\n",
};

/* diff[0..len) through redact_diff: as many lines, and when the diff
 * parses, a redacted diff that parses with the same hunks and lines. */
static void check_redact_diff(const char *diff, size_t len, const struct udiff *d)
{
    struct redact_result red;
    struct udiff *r = NULL;

    assert_int_equal(redact_diff(diff, len, &red), 0);
    assert_int_equal(red.text[red.len], '\0');     /* a NUL in a mutant stays */
    assert_int_equal(count_byte(red.text, red.len, '\n'), count_byte(diff, len, '\n'));
    if (d != NULL) {
        assert_int_equal(udiff_parse(red.text, red.len, &r, NULL), 0);
        assert_int_equal(r->nfiles, d->nfiles);
        for (size_t f = 0; f < d->nfiles; f++) {
            assert_int_equal(r->files[f].nhunks, d->files[f].nhunks);
            for (size_t h = 0; h < d->files[f].nhunks; h++)
                assert_int_equal(r->files[f].hunks[h].nlines, d->files[f].hunks[h].nlines);
        }
        udiff_free(r);
    }
    redact_result_cleanup(&red);
}

static void test_diffs(void **state)
{
    int parsed = 0, applied = 0;
    (void)state;
    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len, out_len = 0;
        char *diff = mutant(diff_seeds, NSEEDS(diff_seeds), &len), *out = NULL;
        struct udiff *d = NULL;
        struct udiff_err err;

        err.msg[0] = '\0';
        if (udiff_parse(diff, len, &d, &err) == 0) {
            assert_non_null(d);
            parsed++;
        } else {
            assert_null(d);
            assert_true(err.msg[0] != '\0');
        }
        check_redact_diff(diff, len, d);
        udiff_free(d);
        if (patch_apply(DIFF_BASE, strlen(DIFF_BASE), diff, len, &out, &out_len) == 0) {
            assert_non_null(out);
            assert_int_equal(strlen(out), out_len);
            free(out);
            applied++;
        } else {
            assert_null(out);
        }
        free(diff);
    }
    assert_both("diffs parsed", parsed);
    assert_both("diffs applied", applied);
}

static void test_tokens(void **state)
{
    static const unsigned char secret[] = "fuzz-secret-of-thirty-two-bytes!";
    struct jwt_verifier v = {.hs_secret = secret, .hs_secret_len = sizeof secret - 1,
                             .issuer = "codeinsight", .leeway_s = 30};
    struct jwt_claims c;
    struct err e;
    char token[1024];
    const char *seeds[1];
    int unchanged = 0, peeked = 0;
    (void)state;

    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", "0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69");
    snprintf(c.iss, sizeof c.iss, "%s", "codeinsight");
    snprintf(c.plan, sizeof c.plan, "%s", "pro");
    c.iat = 1700000000;
    c.exp = 1700003600;
    c.has_iat = c.has_exp = 1;
    assert_int_equal(jwt_sign_hs256(&c, secret, sizeof secret - 1, token, sizeof token, &e),
                     ERR_OK);
    seeds[0] = token;
    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len;
        char *t = mutant(seeds, 1, &len);
        struct jwt_claims out;
        int rc;

        err_clear(&e);
        rc = jwt_peek(t, len, &out, &e);
        if (rc != ERR_OK)
            assert_refusal(rc, &e);
        else
            peeked++;
        err_clear(&e);
        rc = jwt_verify(&v, t, len, 1700000100, &out, &e);
        if (len == strlen(token) && memcmp(t, token, len) == 0) {
            assert_int_equal(rc, ERR_OK);       /* every edit undone or void */
            unchanged++;
        } else {
            /* Any other byte, anywhere, breaks the signature or the strict
             * encoding. */
            assert_int_not_equal(rc, ERR_OK);
            assert_refusal(rc, &e);
        }
        free(t);
    }
    assert_both("tokens peeked", peeked);
    assert_true(unchanged < fuzz_rounds / 10);
}

/* A key set from the identity provider: refused as a whole (the previous
 * set kept) or loaded with at least one key. */
static void test_key_sets(void **state)
{
    size_t flen;
    char *seed = fixture_read("tests/fixtures/jwt/", "jwks.json", &flen);
    const char *seeds[1] = {seed};
    struct jwks *k = jwks_new("http://127.0.0.1:9/jwks.json", 0, 0);
    struct err e;
    int loaded = 0;
    (void)state;

    assert_non_null(k);
    log_init("unit_fuzz", LOG_ERROR);   /* no jwks_key_ignored line per mutant */
    assert_int_equal(jwks_load_json(k, seed, flen, &e), ERR_OK);
    for (int i = 0; i < fuzz_rounds / 4; i++) {
        size_t len, before = jwks_key_count(k);
        char *doc = mutant(seeds, 1, &len);
        int rc;

        err_clear(&e);
        rc = jwks_load_json(k, doc, len, &e);
        if (rc == ERR_OK) {
            assert_true(jwks_key_count(k) >= 1);
            loaded++;
        } else {
            assert_int_equal(rc, ERR_PROTOCOL);
            assert_int_equal(jwks_key_count(k), before);
        }
        free(doc);
    }
    print_message("key sets: %d of %d mutants loaded\n", loaded, fuzz_rounds / 4);
    assert_true(loaded > 0 && loaded < fuzz_rounds / 4);
    jwks_free(k);
    free(seed);
}

static const char *const log_seeds[] = {
    "Traceback (most recent call last):\n  File \"app/main.py\", line 12, in <module>\n"
    "    main()\n  File \"app/main.py\", line 8, in main\n    return 1 / 0\n"
    "ZeroDivisionError: division by zero\n",
    "TypeError: Cannot read properties of undefined (reading 'x')\n    at f (/srv/app.js:3:9)\n"
    "    at Object.<anonymous> (/srv/app.js:7:1)\n",
    "thread 'main' panicked at src/main.rs:4:5:\nindex out of bounds\n",
};

static void test_error_logs(void **state)
{
    (void)state;
    for (int i = 0; i < fuzz_rounds; i++) {
        size_t len;
        char *log = mutant(log_seeds, NSEEDS(log_seeds), &len);
        cJSON *tb = traceback_parse(log, len);

        assert_true(cJSON_IsObject(tb));
        cJSON_Delete(tb);
        free(log);
    }
}

/* What a linter's parse appended: findings of the documented shape. */
static void assert_lint_findings(const cJSON *findings, int n, const char *tool)
{
    const cJSON *f;
    char source[64];

    assert_int_equal(cJSON_GetArraySize(findings), n);
    snprintf(source, sizeof source, "lint:%s", tool);
    cJSON_ArrayForEach(f, findings) {
        const char *msg = json_str(f, "message");
        const cJSON *line = json_item(f, "line");
        assert_true(cJSON_IsNumber(line) && line->valuedouble >= 1);
        assert_non_null(msg);
        assert_true(msg[0] != '\0' && strlen(msg) <= LINTERS_MESSAGE_MAX);
        assert_string_equal(json_str(f, "source"), source);
    }
}

static void test_linter_outputs(void **state)
{
    static const struct {
        const char *language, *tool, *fixture;
    } outputs[] = {
        {"python", "flake8", "bad.py.flake8.out"},   {"python", "pylint", "bad.py.pylint.out"},
        {"shell", "shellcheck", "bad.sh.shellcheck.out"},
        {"c", "cppcheck", "bad.c.cppcheck.err"},     {"javascript", "eslint", "bad.js.eslint.out"},
    };
    (void)state;

    for (size_t o = 0; o < sizeof outputs / sizeof outputs[0]; o++) {
        const struct linter *const *l = linters_for(outputs[o].language);
        size_t flen;
        char *seed = fixture_read("tests/fixtures/lint/", outputs[o].fixture, &flen);
        const char *seeds[1] = {seed};
        int parsed = 0;

        while (*l != NULL && strcmp((*l)->tool, outputs[o].tool) != 0)
            l++;
        assert_non_null(*l);
        for (int i = 0; i < fuzz_rounds / 4; i++) {
            size_t len;
            char *out = mutant(seeds, 1, &len);
            cJSON *findings = cJSON_CreateArray();
            int n;

            assert_non_null(findings);
            n = (*l)->parse(out, len, findings);
            if (n >= 0) {
                assert_true(n <= LINTERS_FINDINGS_MAX);
                assert_lint_findings(findings, n, outputs[o].tool);
                parsed++;
            }
            cJSON_Delete(findings);
            free(out);
        }
        /* Text formats take nearly anything; JSON ones refuse most edits. */
        print_message("%s output: %d of %d mutants parsed\n", outputs[o].tool, parsed,
                      fuzz_rounds / 4);
        assert_true(parsed > 0);
        free(seed);
    }
}

/* The file the gateway accepted (no NUL: a NUL is refused there) through
 * redaction, then the excerpt: line numbers survive redaction, the excerpt
 * stays within its budget, and its ranges cover the file exactly. */
static void test_code_to_prompt(void **state)
{
    size_t flen;
    char *planted = fixture_read("tests/fixtures/secrets/", "planted.txt", &flen);
    const char *code_seeds[] = {planted, "int f(void)\r\n{\r\n\treturn 1;\r\n}", "", "\n\n\n"};
    (void)state;

    for (int i = 0; i < fuzz_rounds / 4; i++) {
        size_t len, dlen, n = 0;
        char *code = mutant(code_seeds, NSEEDS(code_seeds), &len);
        char *diff = mutant(diff_seeds, NSEEDS(diff_seeds), &dlen), *dz;
        struct redact_result red, red_diff;
        struct context_result ctx;
        struct context_input in = {0};

        for (size_t k = 0; k < len; k++)        /* drop the NULs */
            if (code[k] != '\0')
                code[n++] = code[k];
        assert_int_equal(redact_text(code, n, &red), 0);
        assert_int_equal(count_byte(red.text, red.len, '\n'), count_byte(code, n, '\n'));
        assert_int_equal(strlen(red.text), red.len);
        assert_int_equal(cJSON_GetArraySize(red.findings),
                         red.count < REDACT_FINDINGS_MAX ? red.count : REDACT_FINDINGS_MAX);

        dz = calloc(dlen + 1, 1);               /* the diff as the job carries it */
        assert_non_null(dz);
        memcpy(dz, diff, dlen);
        assert_int_equal(redact_diff(dz, strlen(dz), &red_diff), 0);
        in.text = red.text;
        in.len = red.len;
        in.diff = (next() & 1) ? red_diff.text : NULL;
        in.has_cursor = (int)(next() & 1);
        in.cursor_line = (long)below(200) - 5;
        in.cursor_end_line = in.cursor_line + (long)below(50) - 10;
        in.lint_findings = red.findings;
        in.budget_bytes = below(6000);
        assert_int_equal(context_build(&in, &ctx), 0);
        assert_true(ctx.code_len <= in.budget_bytes);
        assert_int_equal(strlen(ctx.code), ctx.code_len);
        assert_ranges_cover(ctx.reviewed_ranges, ctx.skipped_ranges, ctx.total_lines);
        context_result_cleanup(&ctx);
        redact_result_cleanup(&red);
        redact_result_cleanup(&red_diff);
        free(dz);
        free(diff);
        free(code);
    }
    free(planted);
}

/* CODEINSIGHT_FUZZ_SEED and CODEINSIGHT_FUZZ_ROUNDS (see the top), when
 * set: a number each, else the fixed run. */
static void fuzz_settings(void)
{
    const char *seed = getenv("CODEINSIGHT_FUZZ_SEED"), *rounds = getenv("CODEINSIGHT_FUZZ_ROUNDS");
    char *end;

    if (seed != NULL && *seed != '\0') {
        unsigned long long v = strtoull(seed, &end, 0);
        if (*end != '\0') {
            fprintf(stderr, "CODEINSIGHT_FUZZ_SEED: not a number\n");
            exit(2);
        }
        /* xorshift must not start from 0. */
        rng = v != 0 ? (uint64_t)v * 0x9e3779b97f4a7c15ULL : rng;
        printf("fuzz seed %s\n", seed);
    }
    if (rounds != NULL && *rounds != '\0') {
        long v = strtol(rounds, &end, 10);
        if (*end != '\0' || v < 100 || v > FUZZ_ROUNDS_MAX) {
            fprintf(stderr, "CODEINSIGHT_FUZZ_ROUNDS: 100..%d\n", FUZZ_ROUNDS_MAX);
            exit(2);
        }
        fuzz_rounds = (int)v;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_bodies), cmocka_unit_test(test_fix_bodies),
        cmocka_unit_test(test_model_answers), cmocka_unit_test(test_diffs),
        cmocka_unit_test(test_tokens),        cmocka_unit_test(test_error_logs),
        cmocka_unit_test(test_linter_outputs), cmocka_unit_test(test_provider_replies),
        cmocka_unit_test(test_key_sets),       cmocka_unit_test(test_code_to_prompt),
    };

    fuzz_settings();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
