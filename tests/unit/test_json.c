/* test_json.c - unit tests for common/json.c, linked against it alone.
 *
 * Texts are copied into heap buffers of exactly their length (no NUL), so
 * ASan catches a read past len.
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

/* json_find_nul_escape on text[0..len) copied to the heap; key gets cap bytes
 * of a 64-byte buffer pre-filled with '#'. */
static int find_n(const char *text, size_t len, char key[64], size_t cap)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(key, '#', 64);
    rc = json_find_nul_escape(copy, len, key, cap);
    free(copy);
    return rc;
}

static int find(const char *text, char key[64])
{
    return find_n(text, strlen(text), key, 64);
}

static void test_top_level_member(void **state)
{
    char key[64];
    (void)state;

    assert_int_equal(find("{\"file_path\":\"a\\u0000b\"}", key), 1);
    assert_string_equal(key, "file_path");
    assert_int_equal(find("{\"a\":\"x\",\"file_content\":\"\\u0000\"}", key), 1);
    assert_string_equal(key, "file_content");
    assert_int_equal(find(" { \"language\" : \"py\\u0000\" } ", key), 1);
    assert_string_equal(key, "language");
}

static void test_nested_value_names_top_key(void **state)
{
    char key[64];
    (void)state;

    assert_int_equal(find("{\"cursor_context\":{\"x\":\"\\u0000\"}}", key), 1);
    assert_string_equal(key, "cursor_context");
    assert_int_equal(find("{\"cursor_context\":{\"\\u0000\":1}}", key), 1);
    assert_string_equal(key, "cursor_context");
    assert_int_equal(find("{\"a\":[1,{\"b\":[\"c\"]}],\"diff\":[\"x\",\"\\u0000\"]}", key), 1);
    assert_string_equal(key, "diff");
    /* Commas inside nested containers do not start a new top-level key. */
    assert_int_equal(find("{\"repo_id\":{\"a\":1,\"b\":\"\\u0000\"}}", key), 1);
    assert_string_equal(key, "repo_id");
}

static void test_not_in_member_value(void **state)
{
    char key[64];
    (void)state;

    /* In a top-level name, or a top-level array: no member holds it. */
    assert_int_equal(find("{\"a\\u0000\":1}", key), 1);
    assert_string_equal(key, "");
    assert_int_equal(find("[\"\\u0000\"]", key), 1);
    assert_string_equal(key, "");
    assert_int_equal(find("\"\\u0000\"", key), 1);
    assert_string_equal(key, "");
}

static void test_escaped_backslash_ignored(void **state)
{
    char key[64];
    (void)state;

    /* JSON text "a\\u0000": a backslash, then the letters u0000. */
    assert_int_equal(find("{\"file_path\":\"a\\\\u0000\"}", key), 0);
    assert_int_equal(find("{\"k\":\"\\\\\\\\u0000\"}", key), 0);
    /* Three backslashes: an escaped backslash, then a real \u0000. */
    assert_int_equal(find("{\"k\":\"\\\\\\u0000\"}", key), 1);
    assert_string_equal(key, "k");
    /* An escaped quote does not end the string. */
    assert_int_equal(find("{\"k\":\"\\\"\\u0000\"}", key), 1);
    assert_string_equal(key, "k");
    assert_int_equal(find("{\"k\":\"\\\",\\\"x\\\":\\\"\",\"y\":\"\\u0000\"}", key), 1);
    assert_string_equal(key, "y");
}

static void test_after_many_escapes(void **state)
{
    /* Escapes of every kind before it; or cut short: a backslash as the
     * last byte, an escape without room for its digits. */
    static const struct {
        const char *text;
        int found;
        const char *key;
    } cases[] = {
        {"{\"a\":\"x\\n\\t\\\"\\u00e9\\\\\\/\",\"b\":\"\\n\\u0000\"}", 1, "b"},
        {"{\"a\":\"x\\n\\t\\\"\\u00e9\\\\\\/\",\"b\":\"\\n\\u0001\"}", 0, NULL},
        {"\"\\", 0, NULL},
        {"\"\\u000", 0, NULL},
        {"\"\\u0000", 1, ""},
    };
    char key[64];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(find(cases[i].text, key), cases[i].found);
        if (cases[i].key != NULL)
            assert_string_equal(key, cases[i].key);
    }
}

static void test_absent(void **state)
{
    char key[64];
    (void)state;

    assert_int_equal(find("{}", key), 0);
    assert_int_equal(find("{\"a\":\"\\u0001\",\"b\":\"u0000\"}", key), 0);
    assert_int_equal(find("{\"a\":\"\\u1000\",\"b\":\"\\ud800\\udc00\"}", key), 0);
    /* Outside strings the text is not an escape. */
    assert_int_equal(find("{\"a\":1} \\u0000", key), 0);
    assert_int_equal(find_n("", 0, key, sizeof key), 0);
}

static void test_never_reads_past_len(void **state)
{
    static const char full[] = "{\"file_path\":\"a\\u0000b\"}";
    char key[64];
    size_t at = (size_t)(strstr(full, "\\u0000") - full);
    (void)state;

    /* Every prefix that cuts the escape short finds nothing. */
    for (size_t len = 0; len < at + 6; len++)
        assert_int_equal(find_n(full, len, key, sizeof key), 0);
    for (size_t len = at + 6; len <= sizeof full - 1; len++) {
        assert_int_equal(find_n(full, len, key, sizeof key), 1);
        assert_string_equal(key, "file_path");
    }
    /* Texts ending in the middle of a string, after a backslash. */
    assert_int_equal(find_n("{\"a\":\"\\", 7, key, sizeof key), 0);
    assert_int_equal(find_n("{\"a\":\"\\u", 8, key, sizeof key), 0);
    assert_int_equal(find_n("{\"abc", 5, key, sizeof key), 0);
}

/* The escape is six characters; what follows it does not matter. */
static void test_escape_then_digits(void **state)
{
    char key[64];
    (void)state;

    assert_int_equal(find("{\"a\":\"\\u0001\",\"b\":\"\\u00000\"}", key), 1);
    assert_string_equal(key, "b");
    assert_int_equal(find("{\"a\":\"\\u00001\"}", key), 1);
    assert_string_equal(key, "a");
}

static void test_key_cap(void **state)
{
    static const char text[] = "{\"file_content\":\"\\u0000\"}";
    char key[64];
    (void)state;

    assert_int_equal(find_n(text, sizeof text - 1, key, 5), 1);
    assert_string_equal(key, "file");
    assert_int_equal(key[5], '#');      /* nothing written past cap */
    assert_int_equal(find_n(text, sizeof text - 1, key, 1), 1);
    assert_string_equal(key, "");
    assert_int_equal(key[1], '#');
    assert_int_equal(find_n(text, sizeof text - 1, key, 0), 1);
    assert_int_equal(key[0], '#');      /* cap 0: key untouched */
    assert_int_equal(find_n(text, sizeof text - 1, key, 13), 1);
    assert_string_equal(key, "file_content");
}

static void test_json_str(void **state)
{
    cJSON *doc = cJSON_Parse("{\"s\":\"v\",\"n\":1,\"z\":null,\"o\":{},\"e\":\"\",\"S\":\"upper\"}");
    (void)state;

    assert_non_null(doc);
    assert_string_equal(json_str(doc, "s"), "v");
    assert_string_equal(json_str(doc, "e"), "");
    assert_null(json_str(doc, "n"));
    assert_null(json_str(doc, "z"));
    assert_null(json_str(doc, "o"));
    assert_null(json_str(doc, "missing"));
    assert_string_equal(json_str(doc, "S"), "upper");   /* case-sensitive lookup */
    assert_null(json_str(NULL, "s"));
    cJSON_Delete(doc);
}

/* json_raw_control on a heap copy of exactly strlen(text) bytes. */
static int ctl(const char *text, size_t *at)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    *at = 12345;
    rc = json_raw_control(copy, len, at);
    free(copy);
    return rc;
}

static void test_raw_control(void **state)
{
    char buf[80];
    size_t at;
    (void)state;

    /* None: compact, pretty-printed (controls outside strings), escapes, UTF-8. */
    assert_int_equal(ctl("{\"a\":\"x\\ny\"}", &at), 0);
    assert_int_equal(ctl("{\n\t\"a\": \"b\"\r\n}", &at), 0);
    assert_int_equal(ctl("{\"a\":\"h\xc3\xa9llo \xe2\x82\xac\"}", &at), 0);
    assert_int_equal(ctl("", &at), 0);
    /* A raw byte below 0x20 inside a string, at every offset of an 8-byte
     * word and past the last whole word: found, at its exact position. */
    for (size_t pos = 6; pos < 30; pos++) {
        memset(buf, 'x', sizeof buf);
        memcpy(buf, "{\"a\":\"", 6);
        memcpy(buf + 33, "\"}", 3);
        buf[pos] = pos % 2 ? '\t' : '\x01';
        assert_int_equal(ctl(buf, &at), 1);
        assert_int_equal(at, pos);
    }
    /* A control in the body but outside strings, then one inside. */
    assert_int_equal(ctl("{\n\"a\":\"b\x1f\"}", &at), 1);
    assert_int_equal(at, 8);
    /* NULL position is allowed. */
    assert_int_equal(json_raw_control("{\"a\":\"\n\"}", 10, NULL), 1);
}

/* json_duplicate_name on a parsed text: 1 and the name, or 0. */
static int dup_of(const char *text, char name[16])
{
    cJSON *doc = cJSON_Parse(text);
    int rc;

    assert_non_null(doc);
    memset(name, 0, 16);
    rc = json_duplicate_name(doc, name, 16);
    cJSON_Delete(doc);
    return rc;
}

static void test_duplicate_name(void **state)
{
    static const struct {
        const char *text, *name;        /* name: the duplicate, or NULL */
    } cases[] = {
        {"{\"a\":1,\"b\":2,\"a\":3}", "a"},
        {"{\"x\":{\"k\":1,\"k\":1}}", "k"},
        {"{\"x\":[{\"q\":1},{\"q\":2,\"r\":[1,{\"s\":0,\"s\":0}]}]}", "s"},
        /* Names are compared whole and case-sensitively; one per object. */
        {"{\"a\":1,\"A\":2,\"ab\":3,\"x\":{\"a\":1}}", NULL},
        {"[1,2,{\"a\":[{\"a\":{\"a\":0}}]}]", NULL},
        {"{}", NULL},
        {"7", NULL},
        /* A long name is cut to the buffer. */
        {"{\"abcdefghijklmnopqrstuvwxyz\":1,\"abcdefghijklmnopqrstuvwxyz\":2}", "abcdefghijklmno"},
    };
    char name[16];
    char *big;
    size_t o = 0;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = dup_of(cases[i].text, name);
        if (rc != (cases[i].name != NULL) || (rc == 1 && strcmp(name, cases[i].name) != 0))
            fail_msg("%s: %d '%s'", cases[i].text, rc, name);
    }
    assert_int_equal(json_duplicate_name(NULL, name, sizeof name), 0);
    /* 20,000 members, the first and the last alike: found (by sorting, not
     * by 200 million pairwise comparisons). */
    big = malloc(20000 * 16 + 16);
    assert_non_null(big);
    big[o++] = '{';
    for (int i = 0; i < 20000; i++)
        o += (size_t)snprintf(big + o, 32, "%s\"m%d\":0", i ? "," : "", i == 19999 ? 0 : i);
    big[o++] = '}';
    big[o] = '\0';
    assert_int_equal(dup_of(big, name), 1);
    assert_string_equal(name, "m0");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level_member),
        cmocka_unit_test(test_nested_value_names_top_key),
        cmocka_unit_test(test_not_in_member_value),
        cmocka_unit_test(test_escaped_backslash_ignored),
        cmocka_unit_test(test_after_many_escapes),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_never_reads_past_len),
        cmocka_unit_test(test_escape_then_digits),
        cmocka_unit_test(test_key_cap),
        cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_raw_control),
        cmocka_unit_test(test_duplicate_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
